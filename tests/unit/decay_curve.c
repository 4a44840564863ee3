/*
 * decay_curve: the decay rule of decay.h, to the page, and the driver
 * applying it alike to page runs and huge runs.
 *   - N pages freed at an epoch start t0 may stay unpurged up to
 *     floor(N * (1 - k/10)) pages at t0 + k*W/10 (W the decay time), 0 from
 *     t0 + W on, for decay times whose epochs divide exactly (640 ms,
 *     10 s) and odd page counts (floors, no rounding up);
 *   - pages freed mid-epoch count from the epoch's start;
 *   - frees at different times add up, each on its own line;
 *   - decay_forget drops the newest pages first;
 *   - (the schedule reads the clock forward: queries go in time order)
 *   - decay 0 allows nothing, -1 everything (SIZE_MAX), before and after
 *     frees; a clock read older than the epoch counts as its start (the
 *     allowance never exceeds the pages freed);
 *   - driver: with dirty_decay_ms 3000, 1.5 s after the frees a huge run of
 *     3 x 2 MiB keeps exactly two 2 MiB units dirty (excess ~768 pages; huge
 *     runs go in the whole units the excess covers) and of three separate
 *     512 KiB large runs exactly one stays dirty (page runs go whole): the
 *     same linear rule for both kinds, not an age cut-off (which would keep
 *     all of them until 3 s). Right after the frees the huge run is whole
 *     and at most one large run went.
 */
#include "check.h"

#include "decay.h"

#include <unistd.h>

#define MS ((uint64_t)1000000)

static size_t rd_size(const char *fmt, unsigned i)
{
    char name[96];
    snprintf(name, sizeof(name), fmt, i);
    size_t v = 0, sz = sizeof(v);
    CHECK_MSG(mallctl(name, &v, &sz, NULL, 0) == 0, "mallctl %s", name);
    return v;
}

static unsigned new_arena(ssize_t dirty_ms, ssize_t muzzy_ms)
{
    unsigned ar = 0;
    size_t sz = sizeof(ar);
    CHECK_I(mallctl("arenas.create", &ar, &sz, NULL, 0), ==, 0);
    char name[64];
    snprintf(name, sizeof(name), "arena.%u.dirty_decay_ms", ar);
    CHECK_I(mallctl(name, NULL, NULL, &dirty_ms, sizeof(dirty_ms)), ==, 0);
    snprintf(name, sizeof(name), "arena.%u.muzzy_decay_ms", ar);
    CHECK_I(mallctl(name, NULL, NULL, &muzzy_ms, sizeof(muzzy_ms)), ==, 0);
    return ar;
}

static void arena_decay_now(unsigned ar)
{
    char name[64];
    snprintf(name, sizeof(name), "arena.%u.decay", ar);
    CHECK_I(mallctl(name, NULL, NULL, NULL, 0), ==, 0);
    uint64_t e = 1;
    CHECK_I(mallctl("epoch", NULL, NULL, &e, sizeof(e)), ==, 0);
}

static void curve(void)
{
    const uint64_t t0 = (uint64_t)1 << 40;
    struct decay d;

    /* 640 ms: epochs of exactly 10 ms. */
    const uint64_t W = 640 * MS;
    decay_init(&d, 640, t0);
    decay_note(&d, 1000, t0);
    for (uint64_t k = 0; k <= 10; k++) {
        CHECK_U(decay_limit(&d, t0 + k * W / 10), ==, 1000 * (10 - k) / 10);
        if (k == 5) /* slides between tenths (1 ns past half: 499.99...), floor */
            CHECK_EQ(decay_limit(&d, t0 + W / 2 + 1), 499);
    }
    CHECK_EQ(decay_limit(&d, t0 + 2 * W), 0);
    CHECK_EQ(decay_limit(&d, t0 + 100 * W), 0);

    /* Odd count: floors, 7 * 0.7 = 4.9 -> 4. */
    decay_init(&d, 640, t0);
    decay_note(&d, 7, t0);
    CHECK_EQ(decay_limit(&d, t0), 7);
    CHECK_EQ(decay_limit(&d, t0 + W / 10), 6);
    CHECK_EQ(decay_limit(&d, t0 + 3 * W / 10), 4);
    CHECK_EQ(decay_limit(&d, t0 + 9 * W / 10), 0);

    /* 10 s (jemalloc's default): epochs of exactly 156.25 ms. */
    const uint64_t W10 = 10000 * MS;
    decay_init(&d, 10000, t0);
    decay_note(&d, 12345, t0);
    for (uint64_t k = 0; k <= 10; k++)
        CHECK_U(decay_limit(&d, t0 + k * W10 / 10), ==, 12345 * (10 - k) / 10);

    /* Freed mid-epoch (5 ms into a 10 ms epoch): counted from its start. */
    decay_init(&d, 640, t0);
    decay_note(&d, 1000, t0 + 5 * MS);
    CHECK_EQ(decay_limit(&d, t0 + W / 10), 900);

    /* Several frees add up: 1000 at t0, 500 at t0 + W/2.
     * t0 + 3W/4: 1000 * 1/4 + 500 * 3/4 = 625; t0 + W: 250; t0 + 3W/2: 0. */
    decay_init(&d, 640, t0);
    decay_note(&d, 1000, t0);
    decay_note(&d, 500, t0 + W / 2);
    CHECK_EQ(decay_limit(&d, t0 + W / 2), 1000);
    CHECK_EQ(decay_limit(&d, t0 + 3 * W / 4), 625);
    CHECK_EQ(decay_limit(&d, t0 + W), 250);
    CHECK_EQ(decay_limit(&d, t0 + 3 * W / 2), 0);

    /* Forget 600 ahead of schedule: the 500 newest go first, then 100 of
     * the older ones: 900 * 1/4 = 225 at t0 + 3W/4. */
    decay_init(&d, 640, t0);
    decay_note(&d, 1000, t0);
    decay_note(&d, 500, t0 + W / 2);
    decay_forget(&d, 600);
    CHECK_EQ(decay_limit(&d, t0 + 3 * W / 4), 225);

    /* A clock read from before the current epoch (another thread's stale
     * now) never allows more than was freed. */
    decay_init(&d, 640, t0);
    decay_note(&d, 1000, t0);
    CHECK_EQ(decay_limit(&d, t0 - MS), 1000);

    /* 0: purge at once; -1: never. */
    decay_init(&d, 0, t0);
    CHECK_EQ(decay_limit(&d, t0), 0);
    decay_note(&d, 1000, t0);
    CHECK_EQ(decay_limit(&d, t0), 0);
    CHECK_EQ(decay_limit(&d, t0 + W), 0);
    decay_init(&d, -1, t0);
    CHECK_EQ(decay_limit(&d, t0), SIZE_MAX);
    decay_note(&d, 1000, t0);
    CHECK_EQ(decay_limit(&d, t0 + 100 * W10), SIZE_MAX);
}

static void driver(void)
{
    const size_t MiB = (size_t)1 << 20, pg = (size_t)sysconf(_SC_PAGESIZE);
    unsigned ah = new_arena(3000, 0), al = new_arena(3000, 0);
    int fh = MALLOCX_ARENA(ah) | MALLOCX_TCACHE_NONE, fl = MALLOCX_ARENA(al) | MALLOCX_TCACHE_NONE;

    /* Huge: one 6 MiB block (under the 8 MiB eager threshold). */
    void *h = mallocx(6 * MiB, fh);
    CHECK_NONNULL(h);
    /* Large: six 512 KiB blocks; every other one freed, so the three free
     * runs cannot coalesce. */
    void *l[6];
    for (int i = 0; i < 6; i++) {
        l[i] = mallocx(512 * 1024, fl);
        CHECK_NONNULL(l[i]);
    }
    arena_decay_now(ah);
    arena_decay_now(al);
    size_t h0 = rd_size("stats.arenas.%u.pdirty", ah), l0 = rd_size("stats.arenas.%u.pdirty", al);
    dallocx(h, fh);
    for (int i = 0; i < 6; i += 2)
        dallocx(l[i], fl);
    arena_decay_now(ah);
    arena_decay_now(al);
    CHECK_EQ(rd_size("stats.arenas.%u.pdirty", ah), h0 + 6 * MiB / pg);
    size_t l1 = rd_size("stats.arenas.%u.pdirty", al);
    CHECK_U(l1, <=, l0 + 3 * 512 * 1024 / pg);
    CHECK_U(l1, >=, l0 + 2 * 512 * 1024 / pg);

    /* Halfway through the 3 s window (anywhere in (1 s, 2 s) gives the
     * same answer): about half the pages may stay. */
    usleep(1500000);
    arena_decay_now(ah);
    arena_decay_now(al);
    CHECK_EQ(rd_size("stats.arenas.%u.pdirty", ah), h0 + 4 * MiB / pg);
    CHECK_EQ(rd_size("stats.arenas.%u.pdirty", al), l0 + 512 * 1024 / pg);
    for (int i = 1; i < 6; i += 2)
        dallocx(l[i], fl);
}

int main(void)
{
    curve();
    driver();
    printf("decay_curve: ok\n");
    return 0;
}
