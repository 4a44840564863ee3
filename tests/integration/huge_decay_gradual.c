/*
 * huge_decay_gradual: a freed huge block below the 8 MiB eager-purge size
 * follows the same decay curve as freed pages (jemalloc purges every dirty
 * extent gradually over dirty_decay_ms, oldest first), not all at the end
 * of the decay time. With dirty_decay_ms:2000 (huge_decay_gradual.conf) and
 * light activity after freeing one 6 MiB block (three 2 MiB chunks):
 *  - 0.3 s later at least 4 MiB of it is still dirty (no eager purge),
 *  - 1.5 s later (75% of the decay time) at most 4 MiB is (a chunk or more
 *    went already; before, all 6 MiB stayed until the 2 s mark),
 *  - 2.6 s later none is.
 * Dirty pages are read from stats.arenas.<ALL>.pdirty.
 */
#include "check.h"

#define MiB ((size_t)1 << 20)

static size_t pdirty_bytes(void)
{
    uint64_t e = 1;
    size_t sz = sizeof(e);
    CHECK_I(mallctl("epoch", &e, &sz, &e, sizeof(e)), ==, 0);
    char name[64];
    snprintf(name, sizeof(name), "stats.arenas.%u.pdirty", (unsigned)MALLCTL_ARENAS_ALL);
    size_t v = 0;
    sz = sizeof(v);
    CHECK_I(mallctl(name, &v, &sz, NULL, 0), ==, 0);
    return v * (size_t)sysconf(_SC_PAGESIZE);
}

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
    ssize_t ms = 0;
    size_t sz = sizeof(ms);
    CHECK_I(mallctl("opt.dirty_decay_ms", &ms, &sz, NULL, 0), ==, 0);
    CHECK_MSG(ms == 2000, "this test needs dirty_decay_ms:2000 (huge_decay_gradual.conf), got %zd", ms);
    /* Nothing dirty left from start-up. */
    unsigned all = MALLCTL_ARENAS_ALL;
    char name[64];
    snprintf(name, sizeof(name), "arena.%u.purge", all);
    CHECK_I(mallctl(name, NULL, NULL, NULL, 0), ==, 0);
    size_t base = pdirty_bytes();
    unsigned char *p = malloc(6 * MiB);
    CHECK_NONNULL(p);
    memset(p, 0x6b, 6 * MiB);
    free(p);
    double t0 = tl_now();
    activity_until(t0, 0.3);
    size_t d1 = pdirty_bytes() - base;
    activity_until(t0, 1.5);
    size_t d2 = pdirty_bytes() - base;
    activity_until(t0, 2.6);
    size_t d3 = pdirty_bytes() - base;
    printf("dirty after the free: 0.3 s %zu KiB, 1.5 s %zu KiB, 2.6 s %zu KiB\n", d1 >> 10,
           d2 >> 10, d3 >> 10);
    CHECK_MSG(d1 >= 4 * MiB, "0.3 s after the free only %zu KiB dirty: purged too early", d1 >> 10);
    CHECK_MSG(d2 <= 4 * MiB, "1.5 s after the free (75%% of the decay time) still %zu KiB dirty",
              d2 >> 10);
    CHECK_MSG(d3 == 0, "2.6 s after the free still %zu KiB dirty", d3 >> 10);
    printf("ok\n");
    return 0;
}
