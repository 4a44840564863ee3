/*
 * opt_junk: junk:true fills every new block with 0xa5 (not calloc's or
 * MALLOCX_ZERO's) and every freed block with 0x5a: small (thread-cached
 * and above tcache_max), large and huge blocks, realloc's grown part
 * (in place) and a moved block's old copy. junk:alloc / junk:free / false
 * are checked in children run with that MALLOC_CONF (re-exec of this
 * program). Reading a freed block is done while it is still mapped and
 * not yet reused: right after free, before any other allocation.
 */
#include "check.h"

#include <sys/wait.h>

static bool all_bytes(const void *p, size_t n, unsigned char v)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i] != v)
            return false;
    return true;
}

/* Bytes 8.. of a freed block (the first word may hold a free-list link). */
static bool freed_bytes(const void *p, size_t n, unsigned char v)
{
    return all_bytes((const char *)p + 16, n - 16, v);
}

static const size_t sizes[] = {24, 200, 3000, 20000, 100 << 10, 600 << 10, 3 << 20};

static void check_mode(bool want_alloc, bool want_free)
{
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size_t n = sizes[i];
        /* A block of this size that was written and freed first, so a
         * non-junk allocator could hand back non-0xa5 bytes. */
        unsigned char *w = malloc(n);
        CHECK_NONNULL(w);
        memset(w, 0x11, n);
        free(tl_opaque(w));
        unsigned char *p = malloc(n);
        CHECK_NONNULL(p);
        size_t u = malloc_usable_size(p);
        CHECK_MSG(all_bytes(p, u, 0xa5) == want_alloc, "malloc(%zu): junk-alloc pattern %s", n,
                  want_alloc ? "missing" : "present");
        memset(p, 0x33, u);
        free(tl_opaque(p));
        if (n < (3 << 20)) /* huge runs may be purged at once with dirty_decay_ms:0 */
            CHECK_MSG(freed_bytes(p, u, 0x5a) == want_free, "free(%zu): junk-free pattern %s", n,
                      want_free ? "missing" : "present");
        unsigned char *z = calloc(1, n);
        CHECK_NONNULL(z);
        CHECK_MSG(all_bytes(z, n, 0), "calloc(%zu) not zero", n);
        free(z);
        z = mallocx(n, MALLOCX_ZERO);
        CHECK_NONNULL(z);
        CHECK_MSG(all_bytes(z, n, 0), "mallocx(%zu, ZERO) not zero", n);
        dallocx(z, 0);
    }
    /* realloc: a grown large block's new bytes are junk, the old copy of a
     * moved small block is junk after the move. */
    unsigned char *r = malloc(100 << 10);
    memset(r, 0x44, 100 << 10);
    size_t grow = xallocx(r, 200 << 10, 0, 0);
    r = tl_opaque(r);
    if (grow >= (200 << 10)) {
        CHECK(all_bytes(r, 100 << 10, 0x44));
        CHECK_MSG(all_bytes(r + (100 << 10), grow - (100 << 10), 0xa5) == want_alloc,
                  "xallocx grown part");
    }
    free(r);
    unsigned char *s = malloc(40);
    memset(s, 0x55, 40);
    unsigned char *t = realloc(s, 4000);
    CHECK(t != s);
    CHECK(all_bytes(t, 40, 0x55));
    CHECK_MSG(all_bytes(t + 40, malloc_usable_size(t) - 40, 0xa5) == want_alloc, "realloc new tail");
    CHECK_MSG(freed_bytes(s, 48, 0x5a) == want_free, "realloc's old block");
    free(t);
}

int main(int argc, char **argv)
{
    tl_require_liballoc();
    const char *j = NULL;
    size_t sz = sizeof(j);
    CHECK(mallctl("opt.junk", &j, &sz, NULL, 0) == 0);
    bool a = strcmp(j, "true") == 0 || strcmp(j, "alloc") == 0;
    bool f = strcmp(j, "true") == 0 || strcmp(j, "free") == 0;
    check_mode(a, f);
    if (argc > 1)
        return 0;
    CHECK_MSG(a && f, "the parent runs with junk:true and decay off (opt_junk.conf), got %s", j);
    /* Freed blocks are read back: decay is off so no purge (frees drive
     * decay ticks) zeroes them before the check. */
    tl_run_child("junk:alloc,dirty_decay_ms:-1,muzzy_decay_ms:-1");
    tl_run_child("junk:free,dirty_decay_ms:-1,muzzy_decay_ms:-1");
    tl_run_child("junk:false,tcache_max:1024,dirty_decay_ms:-1,muzzy_decay_ms:-1");
    tl_run_child("junk:true,tcache_max:1024,dirty_decay_ms:-1,muzzy_decay_ms:-1");
    printf("opt_junk: ok\n");
    return 0;
}
