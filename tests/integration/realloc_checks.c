/*
 * realloc_checks: realloc looks its pointer up and checks it once, then
 * hands what it found down (liballoc/malloc.c: the in-class fast path in
 * realloc, ralloc_span, heap_free_live for the moved block). Every misuse
 * must still be caught on each of those paths, and the block a move leaves
 * must really be freed:
 *  - a freed small block resized within its class (the fast path): NULL,
 *    errno EINVAL, "realloc(): double free of <p>";
 *  - an interior pointer of a small block, same class: NULL, EINVAL,
 *    "realloc(): invalid pointer (not the start of a block): <p+16>", and
 *    the block itself stays intact and resizable in place;
 *  - a small block moved to a larger class: contents copied, and the old
 *    block is free afterwards (freeing it again is reported as a double
 *    free, so the move freed it with its free mark);
 *  - a large block: an interior pointer is refused and reported; a move to
 *    a small class frees it (a second free is reported as a double free);
 *  - sallocx, xallocx and malloc_usable_size of a freed small block: 0 and
 *    a report naming the function.
 * Messages are caught through malloc_message.
 */
#include "check.h"

static char msgs[8192];
static size_t msgs_len;

/* Runs inside the allocator: no allocation, only a copy. */
static void message_cb(void *cbopaque, const char *s)
{
    (void)cbopaque;
    size_t n = strlen(s);
    if (msgs_len + n >= sizeof(msgs))
        n = sizeof(msgs) - 1 - msgs_len;
    memcpy(msgs + msgs_len, s, n);
    msgs_len += n;
    msgs[msgs_len] = 0;
}

void (*malloc_message)(void *cbopaque, const char *s) = message_cb;

/* The messages since the last call must be exactly "<jemalloc>: FUNC(): WHAT ADDR\n". */
static void expect_report(int line, const char *func, const char *what, const void *addr)
{
    char want[256];
    snprintf(want, sizeof(want), "<jemalloc>: %s(): %s %p\n", func, what, addr);
    if (strcmp(msgs, want) != 0)
        tl_fail(__FILE__, line, "messages '%s', expected '%s'", msgs, want);
    msgs_len = 0;
    msgs[0] = 0;
}

/* The same with either of two wordings (a freed large block reads "double
 * free of" while a thread's large-block cache holds it, "double free or
 * invalid pointer" once its pages went back to the arena). */
static void expect_report2(int line, const char *func, const char *what1, const char *what2,
                           const void *addr)
{
    char want1[256], want2[256];
    snprintf(want1, sizeof(want1), "<jemalloc>: %s(): %s %p\n", func, what1, addr);
    snprintf(want2, sizeof(want2), "<jemalloc>: %s(): %s %p\n", func, what2, addr);
    if (strcmp(msgs, want1) != 0 && strcmp(msgs, want2) != 0)
        tl_fail(__FILE__, line, "messages '%s', expected '%s' or '%s'", msgs, want1, want2);
    msgs_len = 0;
    msgs[0] = 0;
}

static void expect_quiet(int line)
{
    if (msgs_len != 0)
        tl_fail(__FILE__, line, "unexpected messages '%s'", msgs);
}

int main(void)
{
    tl_require_liballoc();

    /* A freed small block, resized within its class. */
    unsigned char *p = malloc(64);
    CHECK(p != NULL);
    free(p);
    errno = 0;
    CHECK(realloc(tl_opaque(p), 60) == NULL);
    CHECK(errno == EINVAL);
    expect_report(__LINE__, "realloc", "double free of", p);

    /* An interior pointer, same class; the block stays usable. */
    p = malloc(64);
    CHECK(p != NULL);
    memset(p, 0x5a, 64);
    errno = 0;
    CHECK(realloc(p + 16, 40) == NULL);
    CHECK(errno == EINVAL);
    expect_report(__LINE__, "realloc", "invalid pointer (not the start of a block):", p + 16);
    CHECK(realloc(p, 60) == p); /* 60 and 64 share a class: in place */
    CHECK(p[0] == 0x5a && p[59] == 0x5a);
    expect_quiet(__LINE__);

    /* A move to a larger class frees the old block. */
    unsigned char *q = realloc(p, 600);
    CHECK(q != NULL && q != p);
    for (int i = 0; i < 60; i++)
        CHECK_MSG(q[i] == 0x5a, "byte %d: %#x", i, q[i]);
    expect_quiet(__LINE__);
    free(tl_opaque(p));
    expect_report(__LINE__, "free", "double free of", p);
    free(q);
    expect_quiet(__LINE__);

    /* A large block: interior pointer refused, a move frees it. */
    unsigned char *big = malloc(100000);
    CHECK(big != NULL);
    memset(big, 0x33, 100000);
    errno = 0;
    CHECK(realloc(big + 16, 100) == NULL);
    CHECK(errno == EINVAL);
    expect_report(__LINE__, "realloc", "invalid pointer (not the start of a block):", big + 16);
    q = realloc(big, 100);
    CHECK(q != NULL && q != big);
    CHECK(q[0] == 0x33 && q[99] == 0x33);
    expect_quiet(__LINE__);
    free(tl_opaque(big));
    expect_report2(__LINE__, "free", "double free of", "double free or invalid pointer", big);
    free(q);

    /* The size queries of a freed small block. */
    p = malloc(32);
    CHECK(p != NULL);
    free(p);
    CHECK(sallocx(tl_opaque(p), 0) == 0);
    expect_report(__LINE__, "sallocx", "double free of", p);
    CHECK(xallocx(tl_opaque(p), 48, 0, 0) == 0);
    expect_report(__LINE__, "xallocx", "double free of", p);
    CHECK(malloc_usable_size(tl_opaque(p)) == 0);
    expect_report(__LINE__, "malloc_usable_size", "double free of", p);

    puts("ok");
    return 0;
}
