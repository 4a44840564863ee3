/*
 * malloc and free: size 0 gives unique, freeable, non-NULL pointers;
 * impossible sizes (SIZE_MAX and just below, > PTRDIFF_MAX) give NULL with
 * errno ENOMEM; results are aligned (16 B from 16 B up), distinct and do
 * not overlap; free(NULL) is a no-op; memory is usable over the whole
 * request across small, large and huge sizes.
 */
#include "check.h"

#include <stdint.h>

#define N_ZERO_BLOCKS 1000

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

static void test_zero_size(void)
{
    static void *ptrs[N_ZERO_BLOCKS];
    for (int i = 0; i < N_ZERO_BLOCKS; i++) {
        ptrs[i] = tl_opaque(malloc(0));
        CHECK_NONNULL(ptrs[i]);
        CHECK_ALIGNED(ptrs[i], 8);
    }
    qsort(ptrs, N_ZERO_BLOCKS, sizeof(ptrs[0]), cmp_ptr);
    for (int i = 1; i < N_ZERO_BLOCKS; i++)
        CHECK_MSG(ptrs[i] != ptrs[i - 1], "malloc(0) returned %p twice while both live", ptrs[i]);
    for (int i = 0; i < N_ZERO_BLOCKS; i++)
        free(ptrs[i]);
    /* After the frees, malloc(0) still works. */
    void *p = tl_opaque(malloc(0));
    CHECK_NONNULL(p);
    free(p);
}

static void test_impossible_sizes(void)
{
    const size_t sizes[] = {
        SIZE_MAX,
        SIZE_MAX - 1,
        SIZE_MAX - 15,
        SIZE_MAX - 4095,
        SIZE_MAX - 65536,
        SIZE_MAX - (1u << 21),
        SIZE_MAX / 2 + 1,
        (size_t)PTRDIFF_MAX + 1,
        SIZE_MAX / 2 + 4096,
    };
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        errno = 0;
        void *p = malloc(tl_opaque_size(sizes[i]));
        CHECK_MSG(p == NULL, "malloc(%zu) = %p, want NULL", sizes[i], p);
        CHECK_MSG(errno == ENOMEM, "malloc(%zu): errno %d, want ENOMEM (%d)", sizes[i], errno,
                  ENOMEM);
    }
    /* A failed malloc leaves the allocator usable. */
    void *q = tl_opaque(malloc(100));
    CHECK_NONNULL(q);
    memset(q, 1, 100);
    free(q);
}

static void test_free_null(void)
{
    errno = 1234;
    free(NULL);
    CHECK_I(errno, ==, 1234);
}

/* Alignment: fundamental alignment for sizes >= 16, 8 below. */
static void test_alignment(void)
{
    for (size_t s = 1; s <= 4096; s++) {
        void *p = tl_opaque(malloc(s));
        CHECK_NONNULL(p);
        if (s >= 16)
            CHECK_ALIGNED(p, 16);
        else
            CHECK_ALIGNED(p, 8);
        free(p);
    }
}

/* Many live blocks of mixed sizes: pairwise disjoint, contents intact. */
#define NLIVE 4000
static void test_disjoint(void)
{
    static struct {
        uintptr_t p;
        size_t n;
    } blk[NLIVE];
    uint64_t st = 42;
    for (int i = 0; i < NLIVE; i++) {
        size_t n = 1 + (size_t)tl_rand_below(&st, i % 50 == 0 ? (1 << 20) : 512);
        void *p = tl_opaque(malloc(n));
        CHECK_NONNULL(p);
        tl_fill(p, n, (uint64_t)i);
        blk[i].p = (uintptr_t)p;
        blk[i].n = n;
    }
    for (int i = 0; i < NLIVE; i++)
        CHECK_PATTERN((void *)blk[i].p, blk[i].n, (uint64_t)i);
    /* Sort by address: each block ends before the next begins. */
    static uintptr_t idx[NLIVE][2];
    for (int i = 0; i < NLIVE; i++) {
        idx[i][0] = blk[i].p;
        idx[i][1] = blk[i].n;
    }
    qsort(idx, NLIVE, sizeof(idx[0]), cmp_ptr);
    for (int i = 1; i < NLIVE; i++)
        CHECK_MSG(idx[i - 1][0] + idx[i - 1][1] <= idx[i][0], "blocks overlap: %p+%zu and %p",
                  (void *)idx[i - 1][0], (size_t)idx[i - 1][1], (void *)idx[i][0]);
    for (int i = 0; i < NLIVE; i++)
        free((void *)blk[i].p);
}

/* Small, large and huge requests are usable over the whole size. */
static void test_size_range(void)
{
    const size_t sizes[] = {1,       7,       8,
                            9,       15,      16,
                            17,      100,     1000,
                            4095,    4096,    4097,
                            14336,   16384,   16385,
                            65536,   100000,  (1 << 20) - 1,
                            1 << 20, 2 << 20, (2 << 20) + 1,
                            3 << 20, 8 << 20, 64 << 20};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size_t n = sizes[i];
        unsigned char *p = tl_opaque(malloc(n));
        CHECK_NONNULL(p);
        tl_fill(p, n, n);
        CHECK_PATTERN(p, n, n);
        free(p);
    }
}

int main(void)
{
    tl_require_liballoc();
    test_zero_size();
    test_impossible_sizes();
    test_free_null();
    test_alignment();
    test_disjoint();
    test_size_range();
    printf("api_malloc: ok\n");
    return 0;
}
