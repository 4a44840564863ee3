/*
 * large_reuse: a large block's freed pages stay a run of their own
 * (arena.c, span_free_delayed: delayed coalescing), so the next block of
 * its class takes the same pages back, and runs are merged when a request
 * needs them whole rather than mapping more. In an arena of its own, its
 * thread's cache off (every large malloc and free reaches the arena):
 *  - churn: 400 slots of 40-256 KiB blocks replaced at random, the first
 *    64 bytes of each written (a buffer sized for the worst case, mostly
 *    unused). Merging every freed run with its neighbours moved the next
 *    block's start onto pages never written: a page fault each time, and
 *    the resident set grew to 3 times the blocks' first pages. After a
 *    warm-up, 20000 replacements may fault at most 800 pages (about 330
 *    now, about 1450 merging at once).
 *  - merge before mapping: 40 blocks of 48 KiB freed (40 runs apart), then
 *    one of 1 MiB: served from those runs merged (arena_coalesce),
 *    stats.arenas.<i>.mapped unchanged.
 */
#include "check.h"

#include <sys/resource.h>

#define SLOTS 400
#define KiB ((size_t)1 << 10)

static size_t mapped(unsigned ar)
{
    uint64_t e = 1;
    size_t len = sizeof(e);
    CHECK_I(mallctl("epoch", &e, &len, &e, len), ==, 0);
    char name[64];
    snprintf(name, sizeof(name), "stats.arenas.%u.mapped", ar);
    size_t v = 0;
    len = sizeof(v);
    CHECK_I(mallctl(name, &v, &len, NULL, 0), ==, 0);
    return v;
}

static long minflt(void)
{
    struct rusage ru;
    CHECK_I(getrusage(RUSAGE_SELF, &ru), ==, 0);
    return ru.ru_minflt;
}

static void *slot[SLOTS];

static void churn(int flags, uint64_t *rng, long rounds)
{
    for (long i = 0; i < rounds; i++) {
        *rng ^= *rng << 13, *rng ^= *rng >> 7, *rng ^= *rng << 17;
        size_t k = *rng % SLOTS, size = 40 * KiB + (*rng >> 20) % (216 * KiB);
        if (slot[k])
            dallocx(slot[k], flags);
        slot[k] = mallocx(size, flags);
        CHECK_NONNULL(slot[k]);
        memset(slot[k], 1, 64);
    }
}

int main(void)
{
    tl_require_liballoc();
    bool off = false;
    CHECK_I(mallctl("thread.tcache.enabled", NULL, NULL, &off, sizeof(off)), ==, 0);

    unsigned ar = tl_arena_create();
    int flags = MALLOCX_ARENA(ar) | MALLOCX_TCACHE_NONE;
    uint64_t rng = 88172645463325252ull;
    churn(flags, &rng, 20000);
    long f0 = minflt();
    churn(flags, &rng, 20000);
    long faults = minflt() - f0;
    printf("churn: %ld page faults in 20000 replacements\n", faults);
    CHECK_MSG(faults <= 800, "%ld page faults in 20000 replacements of 40-256 KiB blocks", faults);
    for (int k = 0; k < SLOTS; k++)
        dallocx(slot[k], flags);

    unsigned ar2 = tl_arena_create();
    flags = MALLOCX_ARENA(ar2) | MALLOCX_TCACHE_NONE;
    void *b[40];
    for (int i = 0; i < 40; i++)
        CHECK_NONNULL(b[i] = mallocx(48 * KiB, flags));
    size_t m0 = mapped(ar2);
    for (int i = 0; i < 40; i++)
        dallocx(b[i], flags);
    void *big = mallocx(1024 * KiB, flags);
    CHECK_NONNULL(big);
    size_t m1 = mapped(ar2);
    printf("merge: mapped %zu KiB before the 1 MiB block, %zu KiB after\n", m0 >> 10, m1 >> 10);
    CHECK_MSG(m1 == m0, "the 1 MiB block mapped more (%zu -> %zu KiB) beside 40 free runs of 48 KiB",
              m0 >> 10, m1 >> 10);
    dallocx(big, flags);
    printf("large_reuse: ok\n");
    return 0;
}
