/*
 * huge_gather: a huge block that fits no dirty run takes the pages of
 * scattered dirty runs (moved by mremap) rather than faulting fresh ones,
 * and the donor ranges become clean (huge.c, fill_from_dirty). In an arena
 * of its own (dirty_decay_ms:10000, huge_gather.conf):
 *  - six 1.5 MiB blocks (one 2 MiB unit each, adjacent), every page
 *    written; the 2nd and 4th are freed: two dirty 2 MiB holes, 4 MiB
 *    dirty (under the 8 MiB wave, so nothing is purged);
 *  - a 3.5 MiB block (two units) fits neither hole: it is placed in clean
 *    space and the holes' pages move into it. Then the arena holds no
 *    dirty page (without the move: 4 MiB), and writing all of the new
 *    block raises stats.resident by less than 1 MiB (without: 4 MiB, its
 *    pages faulted in);
 *  - the block keeps what is written to it, and a 1.5 MiB block asked
 *    zeroed in a former hole reads zero.
 */
#include "check.h"

#define MiB ((size_t)1 << 20)

int main(void)
{
    tl_require_liballoc();
    tl_require_dirty_decay_ms(10000, "huge_gather.conf");
    bool retain = false;
    size_t sz = sizeof(retain);
    CHECK_I(mallctl("opt.retain", &retain, &sz, NULL, 0), ==, 0);
    CHECK_MSG(retain, "this test needs retain:true (the default)");
    unsigned ar = tl_arena_create();
    int f = MALLOCX_ARENA(ar) | MALLOCX_TCACHE_NONE;
    char pdirty[64];
    snprintf(pdirty, sizeof(pdirty), "stats.arenas.%u.pdirty", ar);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);

    unsigned char *b[6];
    for (int i = 0; i < 6; i++) {
        b[i] = mallocx(3 * MiB / 2, f);
        CHECK_NONNULL(b[i]);
        memset(b[i], 0x40 + i, 3 * MiB / 2);
        if (i > 0)
            CHECK_MSG(b[i] == b[i - 1] + 2 * MiB, "block %d not next to block %d", i, i - 1);
    }
    dallocx(b[1], f);
    dallocx(b[3], f);
    size_t d0 = tl_stat_size(pdirty) * page;
    CHECK_MSG(d0 == 4 * MiB, "two freed 2 MiB runs should be 4 MiB dirty, got %zu KiB", d0 >> 10);

    size_t r0 = tl_stat_size("stats.resident");
    unsigned char *big = mallocx(7 * MiB / 2, f);
    CHECK_NONNULL(big);
    for (size_t k = 0; k < 7 * MiB / 2; k += page)
        big[k] = (unsigned char)(k / page);
    size_t r1 = tl_stat_size("stats.resident");
    size_t d1 = tl_stat_size(pdirty) * page;
    printf("dirty %zu -> %zu KiB; resident +%ld KiB for a 3.5 MiB block written whole\n",
           d0 >> 10, d1 >> 10, ((long)r1 - (long)r0) / 1024);
    CHECK_MSG(d1 == 0, "the holes' pages were not taken: %zu KiB still dirty", d1 >> 10);
    CHECK_MSG(r1 < r0 + MiB, "writing the new block raised resident by %zu KiB (faulted in)",
              (r1 - r0) >> 10);
    for (size_t k = 0; k < 7 * MiB / 2; k += page)
        CHECK_MSG(big[k] == (unsigned char)(k / page), "page %zu of the block lost its data",
                  k / page);

    unsigned char *z = mallocx(3 * MiB / 2, f | MALLOCX_ZERO);
    CHECK_NONNULL(z);
    for (size_t k = 0; k < 3 * MiB / 2; k++)
        CHECK_MSG(z[k] == 0, "zeroed block in a former hole: byte %zu is %d", k, z[k]);
    for (int i = 0; i < 6; i++)
        if (i != 1 && i != 3)
            CHECK_MSG(b[i][0] == 0x40 + i && b[i][3 * MiB / 2 - 1] == 0x40 + i,
                      "live block %d changed", i);
    dallocx(z, f);
    dallocx(big, f);
    for (int i = 0; i < 6; i++)
        if (i != 1 && i != 3)
            dallocx(b[i], f);
    printf("ok\n");
    return 0;
}
