/*
 * Writing the whole usable size (malloc_usable_size) of every block never
 * corrupts another block: thousands of live blocks from every entry point
 * (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign,
 * valloc, mallocx with alignment) are each filled with their own pattern
 * over their full usable size, then all are verified; a third are freed
 * and replaced, some are grown with realloc and refilled, and all are
 * verified again after each round.
 */
#include "check.h"

#include <malloc.h>

#define MAXB 6000

static struct blk {
    unsigned char *p;
    size_t u; /* usable size filled */
    uint64_t key;
} b[MAXB];
static int nb;
static uint64_t next_key = 1;

static void fill_blk(struct blk *x)
{
    x->u = malloc_usable_size(x->p);
    x->key = next_key++;
    tl_fill(x->p, x->u, x->key);
}

static void *alloc_kind(int kind, size_t n)
{
    void *p = NULL;
    switch (kind % 8) {
    case 0:
        return malloc(n);
    case 1:
        return calloc(1, n);
    case 2:
        return realloc(NULL, n);
    case 3:
        CHECK_I(posix_memalign(&p, 64, n), ==, 0);
        return p;
    case 4:
        return aligned_alloc(32, n);
    case 5:
        return memalign(128, n);
    case 6:
        return n > 4096 ? valloc(n) : mallocx(n, MALLOCX_LG_ALIGN(5));
    default:
        return mallocx(n, (n & 1) ? MALLOCX_ALIGN(16) : 0);
    }
}

static size_t size_for(int i, uint64_t *st)
{
    if (i < 2048)
        return (size_t)i + 1; /* every small size */
    if (i < 3000)
        return 2049 + (size_t)(i - 2048) * 67; /* up to ~66 KiB */
    if (i < 3040)
        return (size_t)1 << (10 + (i % 12)); /* powers of two to 2 MiB */
    return 1 + (size_t)tl_rand_below(st, i % 97 == 0 ? (3 << 20) : 3000);
}

static void verify_all(const char *phase)
{
    for (int i = 0; i < nb; i++) {
        size_t off = tl_verify(b[i].p, b[i].u, b[i].key);
        CHECK_MSG(off == (size_t)-1,
                  "%s: block %d (%p, usable %zu) corrupted at offset %zu: a neighbour wrote past "
                  "its usable size or blocks overlap",
                  phase, i, (void *)b[i].p, b[i].u, off);
    }
}

int main(void)
{
    tl_require_liballoc();
    uint64_t st = 12345;
    nb = 4000;
    for (int i = 0; i < nb; i++) {
        size_t n = size_for(i, &st);
        b[i].p = tl_opaque(alloc_kind(i, n));
        CHECK_MSG(b[i].p != NULL, "allocation %d of %zu bytes failed", i, n);
        CHECK_U(malloc_usable_size(b[i].p), >=, n);
        fill_blk(&b[i]);
    }
    verify_all("after filling");

    for (int round = 0; round < 3; round++) {
        /* Replace a third of the blocks with new sizes and kinds. */
        for (int i = round; i < nb; i += 3) {
            CHECK_PATTERN(b[i].p, b[i].u, b[i].key);
            free(b[i].p);
            size_t n = size_for((int)tl_rand_below(&st, 3100), &st);
            b[i].p = tl_opaque(alloc_kind(i + round, n));
            CHECK_NONNULL(b[i].p);
            CHECK_U(malloc_usable_size(b[i].p), >=, n);
            fill_blk(&b[i]);
        }
        verify_all("after replacing a third");
        /* Grow or shrink every 5th block with realloc; refill its new usable size. */
        for (int i = round; i < nb; i += 5) {
            size_t old = b[i].u;
            size_t n = (i + round) % 2 ? old + 1 + old / 3 : old / 2 + 1;
            unsigned char *q = realloc(b[i].p, n);
            CHECK_NONNULL(q);
            size_t keep = old < n ? old : n;
            CHECK_PATTERN(q, keep, b[i].key);
            b[i].p = q;
            fill_blk(&b[i]);
        }
        verify_all("after realloc");
        /* Add more blocks up to MAXB. */
        for (int k = 0; k < 500 && nb < MAXB; k++, nb++) {
            size_t n = size_for((int)tl_rand_below(&st, 3100), &st);
            b[nb].p = tl_opaque(alloc_kind(nb, n));
            CHECK_NONNULL(b[nb].p);
            fill_blk(&b[nb]);
        }
        verify_all("after adding");
    }
    for (int i = 0; i < nb; i++)
        free(b[i].p);
    printf("neighbours: %d blocks ok\n", nb);
    return 0;
}
