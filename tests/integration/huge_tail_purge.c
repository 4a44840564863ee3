/*
 * huge_tail_purge: a huge block placed on a former block's dirty pages does
 * not keep those of them it was not asked for resident (huge.c, tail_from),
 * and once freed, its units nobody touched go back clean, not dirty
 * (huge.c, cold_tail). In an arena of its own (huge_tail_purge.conf:
 * dirty_decay_ms:10000, THP never, so no huge page backs a unit):
 *  - a 24 MiB block, every page written, is freed (after two rounds of the
 *    same, so decay's wave rule sees the demand and keeps it dirty): 24 MiB
 *    dirty; two more blocks (24 and 16 MiB) fill the rest of the arena's
 *    64 MiB region and stay live, so no clean space borders those pages
 *    (run_find would put the slack there: huge_slack_place);
 *  - a block asked for 16 MiB + 1 (size class 20 MiB: ten 2 MiB units) is
 *    placed on those pages. Its tenth unit holds no byte asked for: its
 *    512 pages are purged before it is handed out, mincore finds none of
 *    them resident (without the purge: all 512, the 24 MiB block's);
 *  - the block's first 16 MiB + 1 are written and it is freed: the arena
 *    holds 22 MiB dirty and the purged unit is clean (without: 24 MiB).
 *  - a block asked zeroed that takes the purged unit reads zero there.
 */
#include "check.h"

#define MiB ((size_t)1 << 20)

int main(void)
{
    tl_require_liballoc();
    tl_require_dirty_decay_ms(10000, "huge_tail_purge.conf");
    unsigned ar = tl_arena_create();
    int f = MALLOCX_ARENA(ar) | MALLOCX_TCACHE_NONE;
    char pdirty[64];
    snprintf(pdirty, sizeof(pdirty), "stats.arenas.%u.pdirty", ar);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);

    /* 1. 24 MiB dirty, wanted again twice (the wave rule's demand), the
     * rest of its region live. */
    unsigned char *fill1 = NULL, *fill2 = NULL;
    for (int round = 0; round < 3; round++) {
        unsigned char *a = mallocx(24 * MiB, f);
        CHECK_NONNULL(a);
        memset(a, 0x33, 24 * MiB);
        if (round == 0) {
            fill1 = mallocx(24 * MiB, f);
            fill2 = mallocx(16 * MiB, f);
            CHECK_NONNULL(fill1);
            CHECK_NONNULL(fill2);
        }
        dallocx(a, f);
    }
    CHECK_MSG(tl_stat_size(pdirty) * page == 24 * MiB,
              "freed 24 MiB block: %zu KiB dirty, not 24 MiB", tl_stat_size(pdirty) * page >> 10);

    /* 2. 16 MiB + 1 on those pages: its unused tenth unit is not resident. */
    size_t want = 16 * MiB + 1;
    unsigned char *b = mallocx(want, f);
    CHECK_NONNULL(b);
    CHECK_MSG(sallocx(b, f) == 20 * MiB, "usable size %zu, not 20 MiB", sallocx(b, f));
    CHECK_MSG(tl_stat_size(pdirty) * page == 4 * MiB,
              "the block took %zu KiB of dirty pages, not 20 MiB",
              (24 * MiB - tl_stat_size(pdirty) * page) >> 10);
    size_t tail = tl_resident_pages(b + 18 * MiB, 2 * MiB);
    printf("block at %p: %zu of the 512 pages of its unused last unit resident\n", (void *)b, tail);
    CHECK_MSG(tail == 0, "%zu pages of the block's unused last unit are resident, not 0", tail);
    /* Its first nine units are the former block's pages, resident. */
    CHECK_I(tl_resident_pages(b, 18 * MiB), ==, 18 * MiB / page);
    memset(b, 0x44, want);

    /* 3. Freed: the unit nobody touched goes back clean. */
    dallocx(b, f);
    size_t dirty = tl_stat_size(pdirty) * page;
    printf("after the free: %zu KiB dirty\n", dirty >> 10);
    CHECK_MSG(dirty == 22 * MiB,
              "%zu KiB dirty after the free, not 22 MiB (the untouched unit clean)", dirty >> 10);

    /* 4. Zeroed blocks over the purged unit read zero. */
    unsigned char *z = mallocx(24 * MiB, f | MALLOCX_ZERO);
    CHECK_NONNULL(z);
    for (size_t k = 0; k < 24 * MiB; k += 4093)
        CHECK_MSG(z[k] == 0, "zeroed block: byte %zu is %#x", k, z[k]);
    dallocx(z, f);
    dallocx(fill1, f);
    dallocx(fill2, f);
    printf("huge_tail_purge: ok\n");
    return 0;
}
