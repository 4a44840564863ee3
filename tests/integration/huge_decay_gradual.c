/*
 * huge_decay_gradual: a freed huge block follows the same linear decay curve
 * as freed pages (decay.h), purged in whole 2 MiB units as the allowance
 * falls. Before, a huge run stayed until the whole decay time had passed (in
 * the Redis expiry wave: 4 MiB of freed dict tables held while jemalloc had
 * given them back). With dirty_decay_ms:2000 (huge_decay_gradual.conf), one
 * 6 MiB block (three 2 MiB chunks) freed:
 *  - right after the free, all 6 MiB is dirty (no eager purge),
 *  - after 1 s of light activity (half the decay time) at most half is,
 *    rounded up to whole 2 MiB units (4 MiB),
 * read from stats.arenas.<ALL>.pdirty. Then the same after 64 MiB of page
 * runs (every other one of 128 MiB) were freed and allocated again (their
 * pages counted once as freed, then reused): the reused pages must not hold
 * the curve's limit up (decay_cap), so 1 s after a new 6 MiB free (decay run
 * explicitly) at most 4 MiB more is dirty than before it.
 */
#include "check.h"

#define MiB ((size_t)1 << 20)

/* Light allocation activity (the ticks that drive decay) until t seconds
 * after t0. */
static void activity_until(double t0, double t)
{
    while (tl_now() - t0 < t) {
        free(tl_opaque(malloc(tl_opaque_size(200))));
        usleep(10000);
    }
}

int main(void)
{
    tl_require_liballoc();
    tl_require_dirty_decay_ms(2000, "huge_decay_gradual.conf");
    /* Nothing dirty left from start-up. */
    unsigned all = MALLCTL_ARENAS_ALL;
    char name[64];
    snprintf(name, sizeof(name), "arena.%u.purge", all);
    CHECK_I(mallctl(name, NULL, NULL, NULL, 0), ==, 0);
    size_t base = tl_pdirty_all_bytes();
    unsigned char *p = malloc(6 * MiB);
    CHECK_NONNULL(p);
    memset(p, 0x6b, 6 * MiB);
    free(p);
    size_t d0 = tl_pdirty_all_bytes() - base;
    double t0 = tl_now();
    activity_until(t0, 1.0);
    size_t d1 = tl_pdirty_all_bytes() - base;
    printf("dirty after the free: at once %zu KiB, 1 s later %zu KiB\n", d0 >> 10, d1 >> 10);
    CHECK_MSG(d0 >= 6 * MiB, "right after the free only %zu KiB dirty: purged at once", d0 >> 10);
    /* The linear curve (decay.h) allows half of the 6 MiB at half the decay
     * time; huge runs go in whole 2 MiB units, so at most 4 MiB may still
     * be dirty (all 6 MiB: the run waits for the whole decay time). */
    CHECK_MSG(d1 <= 4 * MiB, "1 s after the free (half the decay time) still %zu KiB dirty",
              d1 >> 10);

    /* Freed pages taken again: every other 128 KiB run of 128 MiB (so no
     * chunk empties and none is purged at once), freed and reallocated. */
    enum { NRUNS = 1024 };
    static void *runs[NRUNS];
    for (int i = 0; i < NRUNS; i++) {
        runs[i] = malloc(128 << 10);
        CHECK_NONNULL(runs[i]);
        memset(runs[i], 0x21, 128 << 10);
    }
    for (int i = 1; i < NRUNS; i += 2)
        free(runs[i]);
    for (int i = 1; i < NRUNS; i += 2) {
        runs[i] = malloc(128 << 10);
        CHECK_NONNULL(runs[i]);
        memset(runs[i], 0x22, 128 << 10);
    }
    base = tl_pdirty_all_bytes();
    p = malloc(6 * MiB);
    CHECK_NONNULL(p);
    memset(p, 0x6c, 6 * MiB);
    free(p);
    t0 = tl_now();
    activity_until(t0, 1.0);
    /* Decay is run explicitly here: this part checks the curve's limit after
     * reuse (decay_cap), not when ticks run it. */
    snprintf(name, sizeof(name), "arena.%u.decay", all);
    CHECK_I(mallctl(name, NULL, NULL, NULL, 0), ==, 0);
    size_t d2 = tl_pdirty_all_bytes();
    printf("after reuse: dirty before the free %zu KiB, 1 s after it %zu KiB\n", base >> 10,
           d2 >> 10);
    /* As above: at most the curve's half of the new 6 MiB, in 2 MiB units
     * (all of it if the reused pages held the limit up). */
    CHECK_MSG(
        d2 <= base + 4 * MiB,
        "1 s after the free, %zu KiB dirty (%zu KiB before it): reused pages held the limit up",
        d2 >> 10, base >> 10);
    for (int i = 0; i < NRUNS; i++)
        free(runs[i]);
    printf("ok\n");
    return 0;
}
