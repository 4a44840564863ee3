/*
 * huge_move_by_unit: a kernel that refuses to move a range spanning
 * several mappings (mremap before Linux 6.17: EFAULT; the THP marks cut
 * free huge runs into mappings at 2 MiB unit boundaries, huge.c) costs
 * fill_from_dirty one failed move, then it takes its donors one unit at a
 * time and they move. Faked here: a move of more than one unit fails with
 * EFAULT. Layout: in an arena of its own, after a 40 MiB block freed and
 * purged (the resident cap's headroom), 3.5 MiB blocks (2 units each)
 * alternate with 1.5 MiB ones; two of the 3.5 MiB ones are freed (dirty
 * two-unit holes between live blocks), then 9 MiB blocks, which fit no
 * hole, are placed over clean space and gather the holes' pages. The first
 * gathering tries a two-unit move (refused: the hole stays dirty); the
 * second moves one unit at a time, and every move succeeds. Every block
 * keeps its contents.
 */
#include "check.h"

#include "os.h"

#include <errno.h>

#define MiB ((size_t)1 << 20)

static struct os_ops real;
static unsigned tries, refused, moved;
static size_t longest_moved;

static int move_one_mapping(void *from, void *to, size_t len)
{
    tries++;
    if (len > 2 * MiB) {
        refused++;
        return EFAULT;
    }
    int err = real.move(from, to, len);
    if (err == 0) {
        moved++;
        if (len > longest_moved)
            longest_moved = len;
    }
    return err;
}

int main(void)
{
    free(malloc(1));
    real = os_ops;
    unsigned ar = tl_arena_create();
    int f = MALLOCX_ARENA(ar) | MALLOCX_TCACHE_NONE;
    enum { N = 7 };
    unsigned char *b[N];
    size_t n[N];
    /* First a 40 MiB block, freed and purged: the resident cap's headroom
     * (huge.c, resident_trim) then keeps the holes below dirty. */
    void *x = mallocx(40 * MiB, f);
    CHECK_NONNULL(x);
    memset(x, 1, 40 * MiB);
    dallocx(x, f);
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "arena.%u.purge", ar);
    CHECK_I(mallctl(cmd, NULL, NULL, NULL, 0), ==, 0);
    for (int i = 0; i < N; i++) {
        n[i] = i % 2 ? 3 * MiB / 2 : 7 * MiB / 2;
        b[i] = mallocx(n[i], f);
        CHECK_NONNULL(b[i]);
        memset(b[i], 0x40 + i, n[i]);
    }
    dallocx(b[2], f);
    dallocx(b[4], f);
    b[2] = b[4] = NULL;

    os_ops.move = move_one_mapping;
    unsigned char *big1 = mallocx(9 * MiB, f);
    CHECK_NONNULL(big1);
    unsigned tries1 = tries, refused1 = refused, moved1 = moved;
    unsigned char *big2 = mallocx(9 * MiB, f);
    CHECK_NONNULL(big2);
    os_ops = real;
    printf("first block: %u tries, %u refused, %u moved; second: %u tries, %u refused, %u moved "
           "(longest %zu KiB)\n",
           tries1, refused1, moved1, tries - tries1, refused - refused1, moved - moved1,
           longest_moved >> 10);
    CHECK_MSG(refused1 >= 1, "the first block tried no move of two units (%u tries): the layout "
              "gave fill_from_dirty nothing to gather", tries1);
    CHECK_MSG(refused == refused1, "%u moves of several units after the first refusal",
              refused - refused1);
    CHECK_MSG(moved - moved1 >= 2 && longest_moved == 2 * MiB,
              "the second block moved %u units (longest %zu KiB): no unit-by-unit fallback",
              moved - moved1, longest_moved >> 10);

    memset(big1, 0x11, 9 * MiB);
    memset(big2, 0x22, 9 * MiB);
    for (int i = 0; i < N; i++)
        if (b[i]) {
            CHECK_MSG(b[i][0] == 0x40 + i && b[i][n[i] - 1] == 0x40 + i &&
                          b[i][n[i] / 2] == 0x40 + i,
                      "block %d lost its contents", i);
        }
    CHECK(big1[0] == 0x11 && big1[9 * MiB - 1] == 0x11);
    dallocx(big1, f);
    dallocx(big2, f);
    for (int i = 0; i < N; i++)
        if (b[i])
            dallocx(b[i], f);
    printf("huge_move_by_unit: ok\n");
    return 0;
}
