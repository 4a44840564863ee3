/*
 * huge_slack_place: a huge block's slack (the units past the one holding the
 * last byte asked for) is placed on clean pages when a free run borders
 * the dirty ones, so the dirty pages go under the part its owner uses and
 * none is purged (huge.c, run_find). In an arena of its own
 * (huge_slack_place.conf: dirty_decay_ms:10000, THP never):
 *  - a 24 MiB block, every page written, is freed (after two rounds of the
 *    same, so decay's wave rule keeps it dirty): 24 MiB dirty, followed by
 *    the clean rest of its 64 MiB region;
 *  - a block asked for 16 MiB + 1 (size class 20 MiB: ten 2 MiB units, nine
 *    used) takes 18 MiB of those dirty pages for its nine used units and
 *    puts its tenth on the clean pages after them: 6 MiB stay dirty (4 MiB
 *    before, the tenth unit placed on dirty pages and purged), all nine
 *    used units are resident, the tenth not;
 *  - written and freed: 24 MiB dirty again, no page was purged (22 MiB
 *    before).
 */
#include "check.h"

#define MiB ((size_t)1 << 20)

int main(void)
{
    tl_require_liballoc();
    tl_require_dirty_decay_ms(10000, "huge_slack_place.conf");
    unsigned ar = tl_arena_create();
    int f = MALLOCX_ARENA(ar) | MALLOCX_TCACHE_NONE;
    char pdirty[64];
    snprintf(pdirty, sizeof(pdirty), "stats.arenas.%u.pdirty", ar);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);

    /* 1. 24 MiB dirty, wanted again twice (the wave rule's demand). */
    for (int round = 0; round < 3; round++) {
        unsigned char *a = mallocx(24 * MiB, f);
        CHECK_NONNULL(a);
        memset(a, 0x33, 24 * MiB);
        dallocx(a, f);
    }
    CHECK_MSG(tl_stat_size(pdirty) * page == 24 * MiB,
              "freed 24 MiB block: %zu KiB dirty, not 24 MiB", tl_stat_size(pdirty) * page >> 10);

    /* 2. 16 MiB + 1: nine used units on dirty pages, the tenth on clean. */
    size_t want = 16 * MiB + 1;
    unsigned char *b = mallocx(want, f);
    CHECK_NONNULL(b);
    CHECK_MSG(sallocx(b, f) == 20 * MiB, "usable size %zu, not 20 MiB", sallocx(b, f));
    size_t left = tl_stat_size(pdirty) * page;
    printf("block at %p: %zu KiB of dirty pages left\n", (void *)b, left >> 10);
    CHECK_MSG(left == 6 * MiB, "%zu KiB of dirty pages left, not 6 MiB (the block took 18 MiB)",
              left >> 10);
    CHECK_I(tl_resident_pages(b, 18 * MiB), ==, 18 * MiB / page);
    CHECK_I(tl_resident_pages(b + 18 * MiB, 2 * MiB), ==, 0);
    memset(b, 0x44, want);

    /* 3. Freed: nothing was purged. */
    dallocx(b, f);
    size_t dirty = tl_stat_size(pdirty) * page;
    printf("after the free: %zu KiB dirty\n", dirty >> 10);
    CHECK_MSG(dirty == 24 * MiB, "%zu KiB dirty after the free, not 24 MiB", dirty >> 10);
    printf("huge_slack_place: ok\n");
    return 0;
}
