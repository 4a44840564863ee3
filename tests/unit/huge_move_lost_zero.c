/*
 * huge_move_lost_zero: a zeroed huge block (MALLOCX_ZERO, calloc) that
 * gathered the pages of a dirty run (huge.c, fill_from_dirty) reads zero,
 * even when the donor range could not be refilled afterwards (os.h,
 * os_move_pages: the pages moved, then someone else mapped the hole; faked
 * here by a page mapped there right after the move). Layout: six adjacent
 * 1.5 MiB blocks (each in its 2 MiB unit) with the 2nd one freed (one
 * dirty 2 MiB hole, filled with 0x41), then a 3.5 MiB zeroed block that
 * fits no hole: it is placed over clean space and the hole's pages move
 * into it. Before, such a move was not counted, the block was taken for
 * clean (untouched fresh pages) and handed out unzeroed: a 2 MiB stretch
 * of it read 0x41 (seen as a rare failure of stress/huge_gather_churn:
 * "calloc'd block: page 0 not zero", when another thread's mmap landed in
 * the hole between the move and the refill).
 */
#include "check.h"

#include "os.h"

#include <sys/mman.h>

#define MiB ((size_t)1 << 20)

static struct os_ops real;
static unsigned moves;
static void *squat; /* the page mapped into the donor range after the move */

static int move_then_squat(void *from, void *to, size_t len)
{
    moves++;
    int err = real.move(from, to, len);
    if (err == 0 && !squat) {
        squat = mmap(from, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                     -1, 0);
        CHECK(squat == from);
    }
    return err;
}

int main(void)
{
    free(malloc(1));
    real = os_ops;
    unsigned ar = tl_arena_create();
    int f = MALLOCX_ARENA(ar) | MALLOCX_TCACHE_NONE;
    unsigned char *b[6];
    tl_huge_row(b, f);

    os_ops.move = move_then_squat;
    unsigned char *big = mallocx(7 * MiB / 2, f | MALLOCX_ZERO);
    os_ops = real;
    CHECK_NONNULL(big);
    CHECK_MSG(moves == 1 && squat, "%u moves, donor %s: the layout did not gather one hole", moves,
              squat ? "squatted" : "refilled");
    size_t first = tl_first_nonzero(big, 7 * MiB / 2);
    CHECK_MSG(first == SIZE_MAX, "zeroed block: byte %zu is 0x%02x", first, big[first]);

    dallocx(big, f);
    for (int i = 0; i < 6; i++)
        if (i != 1)
            dallocx(b[i], f);
    munmap(squat, 4096);
    printf("huge_move_lost_zero: ok\n");
    return 0;
}
