/*
 * calloc: overflowing nmemb*size gives NULL with errno ENOMEM; zero counts
 * give freeable non-NULL pointers; the memory is zero even when it reuses
 * blocks that were dirtied (filled with 0xA5) and freed just before, for
 * small, large and huge (>= 2 MiB) sizes.
 */
#include "check.h"

static void test_overflow(void)
{
    const struct {
        size_t n, s;
    } cases[] = {
        {SIZE_MAX, 2},
        {2, SIZE_MAX},
        {SIZE_MAX / 2 + 1, 2},
        {(size_t)1 << 32, (size_t)1 << 32},
        {((size_t)1 << 32) + 1, (size_t)1 << 32},
        {SIZE_MAX, SIZE_MAX},
        {SIZE_MAX / 16 + 1, 16},
        {3, SIZE_MAX / 3 + 1},
        {1, SIZE_MAX},     /* no overflow, but impossible */
        {SIZE_MAX / 2, 1}, /* no overflow, but impossible */
        {65536, (size_t)PTRDIFF_MAX / 65536 + 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        errno = 0;
        void *p = calloc(tl_opaque_size(cases[i].n), tl_opaque_size(cases[i].s));
        CHECK_MSG(p == NULL, "calloc(%zu, %zu) = %p, want NULL", cases[i].n, cases[i].s, p);
        CHECK_MSG(errno == ENOMEM, "calloc(%zu, %zu): errno %d, want ENOMEM", cases[i].n,
                  cases[i].s, errno);
    }
}

static void test_zero_counts(void)
{
    void *a = tl_opaque(calloc(0, 16));
    void *b = tl_opaque(calloc(16, 0));
    void *c = tl_opaque(calloc(0, 0));
    CHECK_NONNULL(a);
    CHECK_NONNULL(b);
    CHECK_NONNULL(c);
    CHECK(a != b && b != c && a != c);
    free(a);
    free(b);
    free(c);
}

/* Dirty NB blocks of size n, free them, then calloc NB blocks of n and
 * check every requested byte is zero. The freed blocks are reused by the
 * callocs (at least for small sizes, through the thread cache). */
#define NB 64
static void dirty_then_calloc(size_t nmemb, size_t size)
{
    size_t n = nmemb * size;
    void *blk[NB];
    int nb = n >= (1 << 20) ? 4 : NB;
    for (int i = 0; i < nb; i++) {
        blk[i] = tl_opaque(malloc(n));
        CHECK_NONNULL(blk[i]);
        memset(blk[i], 0xa5, malloc_usable_size(blk[i]));
    }
    for (int i = nb - 1; i >= 0; i--)
        free(blk[i]);
    for (int i = 0; i < nb; i++) {
        blk[i] = tl_opaque(calloc(nmemb, size));
        CHECK_NONNULL(blk[i]);
        CHECK_ZERO(blk[i], n);
        /* Dirty it again for the next round. */
        memset(blk[i], 0x5a, n);
    }
    for (int i = nb - 1; i >= 0; i--)
        free(blk[i]);
    /* Second round: blocks last written with 0x5a. */
    for (int i = 0; i < nb; i++) {
        blk[i] = tl_opaque(calloc(size, nmemb));
        CHECK_NONNULL(blk[i]);
        CHECK_ZERO(blk[i], n);
    }
    for (int i = 0; i < nb; i++)
        free(blk[i]);
}

/* A freed block is reused: calloc of the same size right after free must
 * zero what malloc handed out dirty. Also checks reuse really happened for
 * small sizes, so the zeroing check above is meaningful. */
static void test_reuse_single(void)
{
    int reused = 0;
    for (size_t n = 8; n <= 4096; n += 8) {
        unsigned char *p = tl_opaque(malloc(n));
        CHECK_NONNULL(p);
        memset(p, 0xff, n);
        free(p);
        unsigned char *q = tl_opaque(calloc(1, n));
        CHECK_NONNULL(q);
        CHECK_ZERO(q, n);
        reused += (p == q);
        free(q);
    }
    printf("calloc reused the just-freed block %d of 512 times\n", reused);
}

int main(void)
{
    tl_require_liballoc();
    test_overflow();
    test_zero_counts();
    test_reuse_single();
    const size_t sizes[] = {1,
                            8,
                            16,
                            24,
                            48,
                            100,
                            128,
                            255,
                            512,
                            1000,
                            2048,
                            4096,
                            8192,
                            12288,
                            16384,
                            20000,
                            65536,
                            131072,
                            262144,
                            1 << 20,
                            (2 << 20) - 1,
                            2 << 20,
                            (2 << 20) + 4096,
                            5 << 20};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        dirty_then_calloc(1, sizes[i]);
        if (sizes[i] % 8 == 0)
            dirty_then_calloc(sizes[i] / 8, 8);
    }
    /* Every small size, as nmemb * 1 and 1 * size. */
    for (size_t n = 1; n <= 1024; n++)
        dirty_then_calloc(n, 1);
    printf("api_calloc: ok\n");
    return 0;
}
