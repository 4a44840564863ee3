/*
 * decay_run_covered: on schedule, a free page run is purged only once the
 * allowance has fallen by the whole run (decay.c, purge_dirty), as huge runs
 * go in whole 2 MiB units. Before, the oldest run went whole as soon as the
 * allowance fell one page below the dirty count: ticks come every
 * millisecond, so a churn of big runs (bench/realloc_growth: vectors up to
 * 4 MiB) purged ~240 MiB in a 1.3 s run and faulted it back (sys time
 * 0.12 -> 0.4 s, wall 0.87 -> 1.3-1.7 s) for ~4 MiB less peak RSS.
 * With dirty_decay_ms:2000 (decay_run_covered.conf), one 1 MiB block
 * (a 256-page run) freed:
 *  - 0.3 s later (15% of the decay time; the allowance is 85% of the run,
 *    an excess of ~38 pages) the run is still dirty, ticks and an explicit
 *    decay run notwithstanding: at least 768 KiB of it (the activity's
 *    slab pages may be carved from it: 960 KiB here; before: 0 KiB);
 *  - after the whole decay time it is purged (the curve allows none).
 * Read from stats.arenas.<ALL>.pdirty.
 */
#include "check.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

/* Light allocation activity (the ticks that drive decay) until t seconds
 * after t0, then an explicit decay run. */
static void activity_until(double t0, double t)
{
    while (tl_now() - t0 < t) {
        free(tl_opaque(malloc(tl_opaque_size(200))));
        usleep(5000);
    }
    char name[64];
    snprintf(name, sizeof(name), "arena.%u.decay", (unsigned)MALLCTL_ARENAS_ALL);
    CHECK_I(mallctl(name, NULL, NULL, NULL, 0), ==, 0);
}

int main(void)
{
    tl_require_liballoc();
    tl_require_dirty_decay_ms(2000, "decay_run_covered.conf");
    char name[64];
    snprintf(name, sizeof(name), "arena.%u.purge", (unsigned)MALLCTL_ARENAS_ALL);
    CHECK_I(mallctl(name, NULL, NULL, NULL, 0), ==, 0);
    size_t base = tl_pdirty_all_bytes();
    unsigned char *p = malloc(1 * MiB);
    CHECK_NONNULL(p);
    memset(p, 0x5c, 1 * MiB);
    free(p);
    double t0 = tl_now();
    size_t d0 = tl_pdirty_all_bytes() - base;
    activity_until(t0, 0.3);
    size_t d1 = tl_pdirty_all_bytes();
    d1 = d1 > base ? d1 - base : 0;
    activity_until(t0, 2.2);
    size_t d2 = tl_pdirty_all_bytes();
    printf("dirty after the free: at once %zu KiB, 0.3 s later %zu KiB, 2.2 s later %zu KiB "
           "(%zu KiB before it)\n",
           d0 / KiB, d1 / KiB, d2 / KiB, base / KiB);
    CHECK_MSG(d0 >= 1 * MiB, "right after the free only %zu KiB dirty", d0 / KiB);
    CHECK_MSG(d1 >= 768 * KiB,
              "0.3 s after the free (allowance 85%% of the run) only %zu KiB dirty: the run "
              "was purged for an excess smaller than itself",
              d1 / KiB);
    CHECK_MSG(d2 < 256 * KiB, "after the whole decay time still %zu KiB dirty", d2 / KiB);
    printf("ok\n");
    return 0;
}
