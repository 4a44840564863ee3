/*
 * api_realloc_counts: a realloc or rallocx that keeps the block in its
 * size class (the same usable size: small, large and huge) counts, as
 * jemalloc 5.3 counts it, a free and an allocation of that size in
 * thread.deallocated and thread.allocated (before, it counted nothing); and
 * xallocx(p, size, extra) on a block that cannot grow to size + extra but
 * already holds size keeps its usable size (jemalloc's large_ralloc_no_move;
 * before, it was shrunk to size's class).
 */
#include "check.h"

static uint64_t counter(const char *name)
{
    uint64_t v = 0;
    size_t len = sizeof(v);
    CHECK_I(mallctl(name, &v, &len, NULL, 0), ==, 0);
    return v;
}

/* p (usable u) resized to size by realloc or rallocx, staying in place:
 * both counters move by u. */
static void *same_class(void *p, size_t size, bool use_rallocx)
{
    size_t u = malloc_usable_size(p);
    uint64_t a = counter("thread.allocated"), d = counter("thread.deallocated");
    void *q = use_rallocx ? rallocx(p, size, 0) : realloc(p, size);
    uint64_t da = counter("thread.allocated") - a, dd = counter("thread.deallocated") - d;
    CHECK_NONNULL(q);
    CHECK_U(malloc_usable_size(q), ==, u);
    CHECK_MSG(da == u && dd == u, "%s(%zu-byte block to %zu): allocated +%llu, deallocated +%llu, want +%zu each",
              use_rallocx ? "rallocx" : "realloc", u, size, (unsigned long long)da,
              (unsigned long long)dd, u);
    return q;
}

int main(void)
{
    tl_require_liballoc();
    static const size_t sizes[][2] = {{20, 30}, {100, 110}, {3000, 3050}, {600000, 620000},
                                      {((size_t)5 << 20) - 5000, (size_t)5 << 20}};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        for (int r = 0; r < 2; r++) {
            void *p = malloc(sizes[i][0]);
            CHECK_NONNULL(p);
            memset(p, 0x5c, sizes[i][0]);
            /* Many times: the ones due a decay tick count the same. */
            for (int k = 0; k < 200; k++)
                p = same_class(p, sizes[i][k & 1], r);
            for (size_t j = 0; j < sizes[i][0]; j++)
                if (((unsigned char *)p)[j] != 0x5c)
                    CHECK_MSG(0, "byte %zu of a %zu-byte block lost", j, sizes[i][0]);
            free(p);
        }
    /* xallocx: growth to size + extra fails (a block right after it), the
     * block already holds size: it never comes back smaller. */
    for (int k = 0; k < 8; k++) {
        void *p = malloc(600000);
        void *after = malloc(600000);
        CHECK(p && after);
        size_t before = sallocx(p, 0);
        size_t got = xallocx(p, 300000, 1200000, 0);
        CHECK_MSG(got >= before, "xallocx(%zu-byte block, 300000, extra 1200000) shrank it to %zu", before,
                  got);
        CHECK_U(sallocx(p, 0), ==, got);
        free(after);
        free(p);
    }
    printf("api_realloc_counts: ok\n");
    return 0;
}
