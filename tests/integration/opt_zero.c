/*
 * opt_zero: zero:true (jemalloc's opt.zero) zeroes every allocation, from
 * every entry point: malloc, aligned_alloc, posix_memalign, memalign, valloc,
 * mallocx (plain, MALLOCX_TCACHE_NONE, an explicit tcache, an alignment),
 * and the part a realloc, rallocx or xallocx adds beyond the old usable
 * size (the old bytes are kept, as jemalloc documents); small, large and
 * huge blocks. Each size is first written with 0xab and freed, so reused
 * memory would show it (decay off: freed pages are not purged). Before,
 * only mallocx's slow path and calloc looked at opt.zero: malloc(100) gave
 * back the old bytes. Also with junk:true (zero wins) and tcache:false, in
 * children.
 */
#include "check.h"

#include <malloc.h>

static const size_t sizes[] = {1, 8, 24, 100, 1000, 4096, 20000, 32768, 40000, 100000, 1 << 20, 3 << 20,
                               9 << 20};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

/* Leave dirty blocks of n bytes in every cache and page list. */
static void dirty(size_t n)
{
    void *q[4];
    for (int i = 0; i < 4; i++) {
        q[i] = malloc(n);
        CHECK_NONNULL(q[i]);
        memset(q[i], 0xab, malloc_usable_size(q[i]));
    }
    for (int i = 0; i < 4; i++)
        free(q[i]);
}

/* p[from, to) all 0 (check.h's tl_first_nonzero), else fail naming the call. */
#define CHECK_ZERO_RANGE(p, from, to, what, n)                                                     \
    do {                                                                                           \
        size_t off_ = tl_first_nonzero((const char *)(p) + (from), (to) - (from));                 \
        CHECK_MSG(off_ == (size_t)-1, "%s(%zu): byte %zu of [%zu, %zu) not zero", what,           \
                  (size_t)(n), (size_t)(from) + off_, (size_t)(from), (size_t)(to));               \
    } while (0)

int main(int argc, char **argv)
{
    tl_require_liballoc();
    bool zero = false;
    size_t len = sizeof(zero);
    CHECK_I(mallctl("opt.zero", &zero, &len, NULL, 0), ==, 0);
    CHECK(zero);
    unsigned tc;
    len = sizeof(tc);
    CHECK_I(mallctl("tcache.create", &tc, &len, NULL, 0), ==, 0);
    for (size_t i = 0; i < NSIZES; i++) {
        size_t n = sizes[i];
        void *p;
        dirty(n);
        p = malloc(n);
        CHECK_NONNULL(p);
        CHECK_ZERO_RANGE(p, 0, malloc_usable_size(p), "malloc", n);
        free(p);
        dirty(n);
        p = aligned_alloc(64, n);
        CHECK_NONNULL(p);
        CHECK_ZERO_RANGE(p, 0, malloc_usable_size(p), "aligned_alloc", n);
        free(p);
        dirty(n);
        CHECK_I(posix_memalign(&p, 256, n), ==, 0);
        CHECK_ZERO_RANGE(p, 0, malloc_usable_size(p), "posix_memalign", n);
        free(p);
        dirty(n);
        p = memalign(4096, n);
        CHECK_NONNULL(p);
        CHECK_ZERO_RANGE(p, 0, malloc_usable_size(p), "memalign", n);
        free(p);
        dirty(n);
        p = valloc(n);
        CHECK_NONNULL(p);
        CHECK_ZERO_RANGE(p, 0, malloc_usable_size(p), "valloc", n);
        free(p);
        dirty(n);
        p = mallocx(n, 0);
        CHECK_NONNULL(p);
        CHECK_ZERO_RANGE(p, 0, sallocx(p, 0), "mallocx", n);
        memset(p, 0xab, sallocx(p, 0));
        dallocx(p, MALLOCX_TCACHE(tc));
        p = mallocx(n, MALLOCX_TCACHE(tc));
        CHECK_NONNULL(p);
        CHECK_ZERO_RANGE(p, 0, sallocx(p, 0), "mallocx(TCACHE)", n);
        dallocx(p, MALLOCX_TCACHE(tc));
        dirty(n);
        p = mallocx(n, MALLOCX_TCACHE_NONE | MALLOCX_ALIGN(128));
        CHECK_NONNULL(p);
        CHECK_ZERO_RANGE(p, 0, sallocx(p, 0), "mallocx(TCACHE_NONE, ALIGN)", n);
        dallocx(p, MALLOCX_TCACHE_NONE);
        /* Growth: only what lies beyond the old usable size is new. */
        for (size_t j = 0; j < NSIZES; j++) {
            size_t t = sizes[j];
            dirty(t);
            p = malloc(n);
            CHECK_NONNULL(p);
            size_t u = malloc_usable_size(p);
            memset(p, 0xcd, u);
            p = realloc(p, t);
            CHECK_NONNULL(p);
            size_t v = malloc_usable_size(p);
            if (v > u)
                CHECK_ZERO_RANGE(p, u, v, "realloc grown part", t);
            CHECK_MSG(tl_first_nonzero(p, u < v ? u : v) == 0, "realloc(%zu -> %zu) lost the old bytes", n,
                      t);
            memset(p, 0xcd, v);
            size_t w = xallocx(p, v * 2, 0, 0);
            if (w > v)
                CHECK_ZERO_RANGE(p, v, w, "xallocx grown part", v * 2);
            memset(p, 0xcd, w);
            dirty(t * 3);
            p = rallocx(p, t * 3, 0);
            CHECK_NONNULL(p);
            size_t x = sallocx(p, 0);
            if (x > w)
                CHECK_ZERO_RANGE(p, w, x, "rallocx grown part", t * 3);
            free(p);
        }
    }
    CHECK_I(mallctl("tcache.destroy", NULL, NULL, &tc, sizeof(tc)), ==, 0);
    if (argc > 1)
        return 0;
    /* With junk:true too, zero wins (the new bytes are 0, not 0xa5); and
     * with the thread caches off. */
    tl_run_child("zero:true,junk:true,dirty_decay_ms:-1,muzzy_decay_ms:-1");
    tl_run_child("zero:true,tcache:false,dirty_decay_ms:-1,muzzy_decay_ms:-1");
    printf("opt_zero: ok\n");
    return 0;
}
