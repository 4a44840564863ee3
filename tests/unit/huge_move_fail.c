/*
 * huge_move_fail: when gathering dirty pages into a new huge block fails
 * (huge.c, fill_from_dirty; os.h, os_move_pages), nothing is lost or
 * handed out twice. Same layout as integration/huge_gather (two dirty 2 MiB
 * holes, then a 3.5 MiB block that fits neither), with os_ops.move faked:
 *  - the move fails (EAGAIN, nothing moved): the block is still allocated
 *    and holds what is written, the holes stay dirty (4 MiB) and are
 *    handed out again for 1.5 MiB blocks;
 *  - the move succeeds but the refill of the donor range finds a mapping
 *    someone else made there meanwhile (faked: a page mapped in the hole):
 *    the donor range is given up: stats.mapped drops by its 2 MiB, the
 *    foreign page is left alone, and no later block overlaps the range.
 */
#include "check.h"

#include "os.h"

#include <sys/mman.h>

#define MiB ((size_t)1 << 20)

static struct os_ops real;
static unsigned moves;
static void *squat; /* the page the second fake maps into the donor range */

static int move_fail(void *from, void *to, size_t len)
{
    (void)from, (void)to, (void)len;
    moves++;
    return EAGAIN;
}

static int move_then_squat(void *from, void *to, size_t len)
{
    moves++;
    int err = real.move(from, to, len);
    if (err == 0 && !squat) {
        squat = mmap(from, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        CHECK(squat == from);
        *(volatile char *)squat = 7;
    }
    return err;
}

/* Six adjacent 1.5 MiB blocks with the 2nd and 4th freed; returns the arena. */
static unsigned holes(unsigned char *b[6])
{
    unsigned ar = tl_arena_create();
    int f = MALLOCX_ARENA(ar) | MALLOCX_TCACHE_NONE;
    /* Decay off, and with it huge.c's resident cap, which would purge the
     * holes when the 3.5 MiB block takes the arena past what it was asked
     * for: they must stay dirty for the moves to be tried. */
    char name[64];
    ssize_t never = -1;
    snprintf(name, sizeof(name), "arena.%u.dirty_decay_ms", ar);
    CHECK(mallctl(name, NULL, NULL, &never, sizeof(never)) == 0);
    for (int i = 0; i < 6; i++) {
        b[i] = mallocx(3 * MiB / 2, f);
        CHECK_NONNULL(b[i]);
        memset(b[i], 0x40 + i, 3 * MiB / 2);
    }
    dallocx(b[1], f);
    dallocx(b[3], f);
    return ar;
}

int main(void)
{
    free(malloc(1));
    real = os_ops;
    size_t page = 4096;

    /* 1. The move fails. */
    unsigned char *b[6];
    os_ops.move = move_fail;
    unsigned ar = holes(b);
    int f = MALLOCX_ARENA(ar) | MALLOCX_TCACHE_NONE;
    char pdirty[64];
    snprintf(pdirty, sizeof(pdirty), "stats.arenas.%u.pdirty", ar);
    unsigned char *big = mallocx(7 * MiB / 2, f);
    CHECK_NONNULL(big);
    CHECK_MSG(moves > 0, "no move was tried");
    memset(big, 0x7e, 7 * MiB / 2);
    CHECK_MSG(tl_stat_size(pdirty) * page == 4 * MiB, "failed moves: %zu KiB dirty, not 4 MiB",
              tl_stat_size(pdirty) * page >> 10);
    unsigned char *again[2];
    for (int i = 0; i < 2; i++) {
        again[i] = mallocx(3 * MiB / 2, f);
        CHECK_NONNULL(again[i]);
        CHECK_MSG(again[i] == b[1] || again[i] == b[3], "a hole was not reused (%p)", (void *)again[i]);
        memset(again[i], 0x11, 3 * MiB / 2);
    }
    for (size_t k = 0; k < 7 * MiB / 2; k += 4093)
        CHECK_MSG(big[k] == 0x7e, "failed move: byte %zu of the block changed", k);
    dallocx(big, f);
    for (int i = 0; i < 2; i++)
        dallocx(again[i], f);
    for (int i = 0; i < 6; i++)
        if (i != 1 && i != 3)
            dallocx(b[i], f);

    /* 2. The donor range cannot be mapped again. */
    os_ops.move = move_then_squat;
    moves = 0;
    ar = holes(b);
    f = MALLOCX_ARENA(ar) | MALLOCX_TCACHE_NONE;
    char mapped[64];
    snprintf(mapped, sizeof(mapped), "stats.arenas.%u.mapped", ar);
    size_t m0 = tl_stat_size(mapped);
    big = mallocx(7 * MiB / 2, f);
    CHECK_NONNULL(big);
    CHECK_MSG(moves > 0 && squat, "no move was made");
    memset(big, 0x5c, 7 * MiB / 2);
    size_t m1 = tl_stat_size(mapped);
    printf("squatted donor at %p: mapped %zu -> %zu KiB\n", squat, m0 >> 10, m1 >> 10);
    CHECK_MSG(m0 - m1 == 2 * MiB, "mapped fell by %zu KiB, not the lost 2 MiB", (m0 - m1) >> 10);
    uintptr_t lo = (uintptr_t)squat, hi = lo + 2 * MiB;
    void *more[32];
    for (int i = 0; i < 32; i++) {
        more[i] = mallocx(3 * MiB / 2, f);
        CHECK_NONNULL(more[i]);
        uintptr_t p = (uintptr_t)more[i];
        CHECK_MSG(p + 3 * MiB / 2 <= lo || p >= hi, "block %p overlaps the lost range", more[i]);
        memset(more[i], 0x22, 3 * MiB / 2);
    }
    CHECK_MSG(*(volatile char *)squat == 7, "the foreign page was changed");
    for (int i = 0; i < 32; i++)
        dallocx(more[i], f);
    dallocx(big, f);
    os_ops = real;
    printf("huge_move_fail: ok\n");
    return 0;
}
