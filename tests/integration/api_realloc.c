/*
 * realloc and reallocarray: NULL pointer acts as malloc; size 0 with a
 * non-NULL pointer frees and returns NULL (glibc behaviour; checked by RSS
 * not growing over many 4 MiB realloc(p, 0) calls); growth and shrink keep
 * the contents across the small -> large -> huge (>= 2 MiB) boundaries and
 * back; impossible sizes give NULL with ENOMEM and leave the block intact;
 * reallocarray overflow gives NULL with ENOMEM.
 */
#include "check.h"

static void test_null_ptr(void)
{
    for (size_t n = 1; n <= (8 << 20); n = n * 3 + 1) {
        unsigned char *p = tl_opaque(realloc(NULL, n));
        CHECK_NONNULL(p);
        CHECK_U(malloc_usable_size(p), >=, n);
        tl_fill(p, n, n);
        CHECK_PATTERN(p, n, n);
        free(p);
    }
    void *z = tl_opaque(realloc(NULL, 0));
    CHECK_NONNULL(z); /* realloc(NULL, 0) is malloc(0): unique, non-NULL */
    free(z);
}

/* realloc(p, 0) returns NULL and frees p: 64 x 4 MiB touched blocks would
 * add 256 MiB of RSS if they leaked. */
static void test_size_zero_frees(void)
{
    const size_t n = 4 << 20;
    /* Warm up so the first mapping is counted in the baseline. */
    void *w = tl_opaque(malloc(n));
    CHECK_NONNULL(w);
    memset(w, 1, n);
    free(w);
    size_t rss0 = tl_rss();
    for (int i = 0; i < 64; i++) {
        unsigned char *p = tl_opaque(malloc(n));
        CHECK_NONNULL(p);
        memset(p, 0x11, n);
        errno = 0;
        void *r = realloc(p, tl_opaque_size(0));
        CHECK_MSG(r == NULL, "realloc(%p, 0) = %p, want NULL (glibc frees and returns NULL)",
                  (void *)p, r);
    }
    /* Small blocks too: 200000 x 64 B = 12.8 MB if leaked. */
    for (int i = 0; i < 200000; i++) {
        void *p = tl_opaque(malloc(64));
        CHECK_NONNULL(p);
        memset(p, 0x22, 64);
        void *r = realloc(p, tl_opaque_size(0));
        CHECK_NULL(r);
    }
    size_t rss1 = tl_rss();
    CHECK_MSG(rss1 < rss0 + (48 << 20),
              "RSS grew by %zu KiB over 64 x realloc(4 MiB block, 0): blocks not freed",
              (rss1 - rss0) >> 10);
}

/* Grow a block step by step from 1 B to 24 MiB, then shrink back to 1 B;
 * the prefix min(old, new) always keeps its pattern. */
static void test_chain(uint64_t key, int use_reallocarray)
{
    size_t n = 1;
    unsigned char *p = tl_opaque(malloc(n));
    CHECK_NONNULL(p);
    tl_fill(p, n, key);
    int crossed_small_large = 0, crossed_huge = 0;
    while (n < (24 << 20)) {
        size_t m = n + n / 3 + 1 + (n & 7);
        unsigned char *q;
        if (use_reallocarray && m % 4 == 0)
            q = reallocarray(p, m / 4, 4);
        else
            q = realloc(p, tl_opaque_size(m));
        CHECK_NONNULL(q);
        CHECK_PATTERN(q, n, key);
        CHECK_U(malloc_usable_size(q), >=, m);
        tl_fill_range(q, n, m, key);
        crossed_small_large |= n < 4096 && m > 16384;
        crossed_huge |= m >= (2 << 20);
        p = q;
        n = m;
    }
    CHECK(crossed_huge);
    (void)crossed_small_large;
    while (n > 1) {
        size_t m = n / 2 - (n > 16 ? 3 : 0);
        if (m == 0)
            m = 1;
        unsigned char *q = realloc(p, tl_opaque_size(m));
        CHECK_NONNULL(q);
        CHECK_PATTERN(q, m, key);
        CHECK_U(malloc_usable_size(q), >=, m);
        p = q;
        n = m;
    }
    free(p);
}

/* Direct jumps between classes in both directions. */
static void test_jumps(void)
{
    const size_t sizes[] = {1,       24,      512,     4000,          4096,    16384,
                            65536,   200000,  1 << 20, (2 << 20) - 1, 2 << 20, (2 << 20) + 1,
                            5 << 20, 33 << 20};
    const size_t ns = sizeof(sizes) / sizeof(sizes[0]);
    for (size_t a = 0; a < ns; a++) {
        for (size_t b = 0; b < ns; b++) {
            uint64_t key = a * 100 + b;
            unsigned char *p = tl_opaque(malloc(sizes[a]));
            CHECK_NONNULL(p);
            tl_fill(p, sizes[a], key);
            unsigned char *q = realloc(p, tl_opaque_size(sizes[b]));
            CHECK_NONNULL(q);
            size_t keep = sizes[a] < sizes[b] ? sizes[a] : sizes[b];
            CHECK_PATTERN(q, keep, key);
            CHECK_U(malloc_usable_size(q), >=, sizes[b]);
            memset(q, 0x77, sizes[b]);
            free(q);
        }
    }
}

/* Same size and within-usable-size realloc keep the contents. */
static void test_same_size(void)
{
    for (size_t n = 1; n <= 70000; n = n * 2 + 3) {
        unsigned char *p = tl_opaque(malloc(n));
        CHECK_NONNULL(p);
        size_t u = malloc_usable_size(p);
        tl_fill(p, u, n);
        unsigned char *q = realloc(p, tl_opaque_size(u));
        CHECK_NONNULL(q);
        CHECK_PATTERN(q, u, n);
        q = realloc(q, tl_opaque_size(n));
        CHECK_NONNULL(q);
        CHECK_PATTERN(q, n, n);
        free(q);
    }
}

static void test_impossible(void)
{
    const size_t sizes[] = {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 4095, (size_t)PTRDIFF_MAX + 1};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        const size_t n = 3000;
        unsigned char *p = tl_opaque(malloc(n));
        CHECK_NONNULL(p);
        tl_fill(p, n, i);
        errno = 0;
        void *q = realloc(p, tl_opaque_size(sizes[i]));
        CHECK_MSG(q == NULL, "realloc(p, %zu) = %p, want NULL", sizes[i], q);
        CHECK_MSG(errno == ENOMEM, "realloc(p, %zu): errno %d, want ENOMEM", sizes[i], errno);
        /* The original block is untouched and still owned by the caller. */
        CHECK_PATTERN(p, n, i);
        free(p);
    }
}

static void test_reallocarray(void)
{
    /* Plain use: behaves like realloc(p, n * s). */
    unsigned char *p = reallocarray(NULL, 10, 100);
    CHECK_NONNULL(p);
    CHECK_U(malloc_usable_size(p), >=, 1000);
    tl_fill(p, 1000, 5);
    p = reallocarray(p, 1000, 100);
    CHECK_NONNULL(p);
    CHECK_PATTERN(p, 1000, 5);
    CHECK_U(malloc_usable_size(p), >=, 100000);
    tl_fill_range(p, 1000, 100000, 5);
    p = reallocarray(p, 3, 100);
    CHECK_NONNULL(p);
    CHECK_PATTERN(p, 300, 5);

    /* Overflow: NULL, ENOMEM, original intact. */
    const struct {
        size_t n, s;
    } ov[] = {{SIZE_MAX, 2},
              {2, SIZE_MAX},
              {(size_t)1 << 32, (size_t)1 << 32},
              {SIZE_MAX / 8 + 1, 8},
              {SIZE_MAX, SIZE_MAX}};
    for (size_t i = 0; i < sizeof(ov) / sizeof(ov[0]); i++) {
        errno = 0;
        void *q = reallocarray(p, tl_opaque_size(ov[i].n), tl_opaque_size(ov[i].s));
        CHECK_MSG(q == NULL, "reallocarray(p, %zu, %zu) = %p, want NULL", ov[i].n, ov[i].s, q);
        CHECK_I(errno, ==, ENOMEM);
        CHECK_PATTERN(p, 300, 5);
    }
    errno = 0;
    void *q = reallocarray(NULL, tl_opaque_size(SIZE_MAX), 16);
    CHECK_NULL(q);
    CHECK_I(errno, ==, ENOMEM);
    free(p);
}

int main(void)
{
    tl_require_liballoc();
    test_null_ptr();
    test_size_zero_frees();
    test_chain(1, 0);
    test_chain(2, 1);
    test_jumps();
    test_same_size();
    test_impossible();
    test_reallocarray();
    printf("api_realloc: ok\n");
    return 0;
}
