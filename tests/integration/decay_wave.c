/*
 * decay_wave: the wave rule of decay.h, with dirty_decay_ms:10000
 * (decay_wave.conf), each part in an arena of its own:
 *  - a wave: 8 huge blocks of 3 MiB (4 MiB runs, 32 MiB dirty) freed with
 *    nothing taking pages again: at most 2 MiB may stay dirty right after
 *    the frees (before the rule, freed huge runs followed the 10 s curve
 *    and all 32 MiB stayed);
 *  - churn of one 12 MiB block freed and allocated again 20 times: the
 *    first free is a wave (no demand yet) and is purged, after which the
 *    block is wanted again (demand): at most one wave's worth, 3072 pages,
 *    may be purged in all (with every free purged, 20 x 3072);
 *  - the 12 MiB block's data survives (every page written and checked);
 *  - the curve, not a runaway: 6 x 1 MiB page runs freed (below the wave),
 *    then 50 decay runs (arena.<i>.decay) within ~100 ms of a 10 s decay
 *    time: at least 4 MiB must stay dirty (the curve allows ~97%, page runs
 *    go whole; when each purge trimmed the backlog, every run purged one
 *    more run and all went).
 * Read from stats.arenas.<i>.pdirty and .dirty_purged.
 */
#include "check.h"

#define MiB ((size_t)1 << 20)

static size_t arena_stat(unsigned ar, const char *leaf)
{
    uint64_t e = 1;
    size_t sz = sizeof(e);
    CHECK_I(mallctl("epoch", &e, &sz, &e, sizeof(e)), ==, 0);
    char name[96];
    snprintf(name, sizeof(name), "stats.arenas.%u.%s", ar, leaf);
    uint64_t v64 = 0;
    size_t v = 0;
    sz = sizeof(v);
    if (strcmp(leaf, "dirty_purged") == 0) {
        sz = sizeof(v64);
        CHECK_I(mallctl(name, &v64, &sz, NULL, 0), ==, 0);
        return (size_t)v64;
    }
    CHECK_I(mallctl(name, &v, &sz, NULL, 0), ==, 0);
    return v;
}

int main(void)
{
    tl_require_liballoc();
    tl_require_dirty_decay_ms(10000, "decay_wave.conf");
    size_t page = (size_t)sysconf(_SC_PAGESIZE);

    /* A wave of huge frees nothing reuses. */
    unsigned a = tl_arena_create();
    int f = MALLOCX_ARENA(a) | MALLOCX_TCACHE_NONE;
    unsigned char *b[8];
    for (int i = 0; i < 8; i++) {
        b[i] = mallocx(3 * MiB, f);
        CHECK_NONNULL(b[i]);
        memset(b[i], 0x5a, 3 * MiB);
    }
    for (int i = 0; i < 8; i++)
        dallocx(b[i], f);
    size_t d = arena_stat(a, "pdirty") * page;
    printf("wave: %zu KiB dirty right after freeing 24 MiB of huge blocks\n", d >> 10);
    CHECK_MSG(d <= 2 * MiB, "after a wave of 8 x 3 MiB frees, %zu KiB still dirty", d >> 10);

    /* Churn of one big block: purged once, then kept. */
    a = tl_arena_create();
    f = MALLOCX_ARENA(a) | MALLOCX_TCACHE_NONE;
    size_t p0 = arena_stat(a, "dirty_purged");
    for (int i = 0; i < 20; i++) {
        unsigned char *p = mallocx(12 * MiB, f);
        CHECK_NONNULL(p);
        for (size_t k = 0; k < 12 * MiB; k += page)
            p[k] = (unsigned char)(i + k / page);
        for (size_t k = 0; k < 12 * MiB; k += page)
            CHECK_MSG(p[k] == (unsigned char)(i + k / page), "round %d: page %zu lost its data", i,
                      k / page);
        dallocx(p, f);
    }
    size_t purged = arena_stat(a, "dirty_purged") - p0;
    printf("churn: %zu pages purged over 20 frees of a 12 MiB block\n", purged);
    CHECK_MSG(purged <= 3072, "churn of a 12 MiB block purged %zu pages (one wave is 3072)", purged);

    /* Repeated decay runs follow the curve. */
    a = tl_arena_create();
    f = MALLOCX_ARENA(a) | MALLOCX_TCACHE_NONE;
    unsigned char *l[6];
    for (int i = 0; i < 6; i++) {
        l[i] = mallocx(MiB, f);
        CHECK_NONNULL(l[i]);
        memset(l[i], 0x33, MiB);
    }
    size_t base = arena_stat(a, "pdirty");
    for (int i = 0; i < 6; i++)
        dallocx(l[i], f);
    char name[64];
    snprintf(name, sizeof(name), "arena.%u.decay", a);
    for (int i = 0; i < 50; i++) {
        CHECK_I(mallctl(name, NULL, NULL, NULL, 0), ==, 0);
        usleep(2000);
    }
    size_t kept = (arena_stat(a, "pdirty") - base) * page;
    printf("curve: %zu KiB of 6 MiB still dirty after 50 decay runs\n", kept >> 10);
    CHECK_MSG(kept >= 4 * MiB, "50 decay runs in ~100 ms of a 10 s curve left only %zu KiB",
              kept >> 10);
    printf("ok\n");
    return 0;
}
