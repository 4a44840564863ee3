/*
 * misuse_errno: free leaves errno alone (POSIX.1-2024: "free() shall not
 * modify errno"), the reported-and-ignored misuses included. A report is
 * written to malloc_message or stderr, and either can fail or set errno:
 * a program's callback, or write(2) to a closed stderr (EBADF). The free
 * of a double-freed, interior or wild pointer must still leave the
 * caller's errno as it was, and so must sdallocx and the other calls that
 * report without failing (dallocx, malloc_usable_size, sallocx);
 * realloc (also realloc(p, 0), which frees a good p) and rallocx of a bad
 * pointer set EINVAL, their documented answer, and the report names
 * realloc (before, realloc(p, 0) of a freed p said "free()" and left errno
 * alone). Blocks of
 * every kind (small, large, huge) freed the normal way leave errno alone
 * too.
 */
#include "check.h"

/* volatile: glibc declares free and friends leaf functions (they never
 * call back into the program), so the compiler would assume a free leaves
 * a counter only the callback changes as it was. */
static volatile int reports;
/* The last report's text. */
static char last[256];

/* A callback that clobbers errno, as a program's logging may. */
static void message_cb(void *cbopaque, const char *s)
{
    (void)cbopaque;
    snprintf(last, sizeof(last), "%s", s);
    reports++;
    errno = EIO;
}

void (*malloc_message)(void *cbopaque, const char *s);

#define SENTINEL 4242

/* Call stmt with errno set to SENTINEL: errno must be SENTINEL after it
 * and want_reports more reports must have been made. */
#define KEEPS_ERRNO(stmt, want_reports)                                                            \
    do {                                                                                           \
        int before_ = reports;                                                                     \
        errno = SENTINEL;                                                                          \
        stmt;                                                                                      \
        CHECK_MSG(errno == SENTINEL, "%s: errno %d afterwards", #stmt, errno);                     \
        if (malloc_message)                                                                        \
            CHECK_MSG(reports - before_ == want_reports, "%s: %d reports, expected %d", #stmt,     \
                      reports - before_, want_reports);                                            \
    } while (0)

static void run(void)
{
    static const size_t sizes[] = {8, 48, 4096, 32768, 100000, 3 << 20};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char *p = malloc(sizes[i]);
        CHECK(p != NULL);
        memset(p, 1, sizes[i]);
        KEEPS_ERRNO(free(p), 0);
        if (sizes[i] <= 32768)
            KEEPS_ERRNO(free(p), 1); /* a double free: reported, ignored */
    }
    char *q = malloc(64);
    KEEPS_ERRNO(free(q + 16), 1);               /* interior */
    KEEPS_ERRNO(free((void *)(uintptr_t)8), 1); /* wild */
    int on_stack;
    KEEPS_ERRNO(free(&on_stack), 1);
    KEEPS_ERRNO(sdallocx(q, 4096, 0), 1); /* size larger than the block */
    KEEPS_ERRNO(dallocx(q + 8, 0), 1);
    size_t u = 1;
    KEEPS_ERRNO(u = malloc_usable_size(q + 8), 1);
    CHECK_U(u, ==, 0);
    KEEPS_ERRNO(u = sallocx(q + 8, 0), 1);
    CHECK_U(u, ==, 0);
    KEEPS_ERRNO(free(q), 0);
    KEEPS_ERRNO(free(NULL), 0);
    /* realloc's answer to a bad pointer is NULL with EINVAL. */
    errno = SENTINEL;
    CHECK(realloc(q, 100) == NULL);
    CHECK_I(errno, ==, EINVAL);
    last[0] = 0;
    errno = SENTINEL;
    CHECK(realloc(q, 0) == NULL);
    CHECK_I(errno, ==, EINVAL);
    if (malloc_message)
        CHECK_MSG(strstr(last, "realloc(): double free of") != NULL, "report: %s", last);
    errno = SENTINEL;
    void *volatile stack_p = &on_stack; /* hidden from gcc's -Wfree-nonheap-object */
    CHECK(reallocarray(stack_p, 0, 16) == NULL);
    CHECK_I(errno, ==, EINVAL);
    if (malloc_message)
        CHECK_MSG(strstr(last, "realloc(): invalid pointer") != NULL, "report: %s", last);
    errno = SENTINEL;
    CHECK(rallocx(q, 100, 0) == NULL);
    CHECK_I(errno, ==, EINVAL);
}

int main(void)
{
    tl_require_liballoc();
    /* Reports through a callback that sets errno. */
    malloc_message = message_cb;
    run();
    CHECK_I(reports, >, 0);
    /* Reports to a closed stderr: write(2) fails with EBADF. */
    malloc_message = NULL;
    int saved = dup(2);
    CHECK(saved >= 0);
    close(2);
    run();
    CHECK(dup2(saved, 2) == 2);
    close(saved);
    printf("ok\n");
    return 0;
}
