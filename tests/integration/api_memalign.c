/*
 * Aligned allocation: posix_memalign, aligned_alloc, memalign, valloc,
 * pvalloc. Alignments 8 B .. 1 GiB are honoured for small and large
 * sizes; posix_memalign returns EINVAL for an alignment that is not a
 * power of two or not a multiple of sizeof(void *), ENOMEM for impossible
 * sizes, and never touches errno; aligned_alloc gives NULL/EINVAL for a
 * non-power-of-two alignment; valloc is page aligned; pvalloc is page
 * aligned with the size rounded up to a page (and overflow -> ENOMEM).
 * Alignments above a page up to 32 KiB with sizes up to 32 KiB get the
 * small class of the size rounded up to the alignment (8 KiB for 100 bytes
 * at 8 KiB; jemalloc 5.3 gives 16 KiB), and every block of it is aligned.
 */
#include "check.h"

#include <malloc.h>

static size_t page;

/* Write the block: fully up to 8 MiB, else one byte per page. */
static void touch(void *p, size_t n, uint64_t key)
{
    if (n <= (8 << 20)) {
        tl_fill(p, n, key);
        CHECK_PATTERN(p, n, key);
    } else {
        unsigned char *b = p;
        for (size_t i = 0; i < n; i += page)
            b[i] = (unsigned char)(i >> 12);
        b[n - 1] = 0x42;
        for (size_t i = 0; i + 1 < n; i += page)
            CHECK_EQ(b[i], (unsigned char)(i >> 12));
        CHECK_EQ(b[n - 1], 0x42);
    }
}

/* Sizes to try at alignment a. */
static size_t sizes_for(size_t a, size_t *out)
{
    size_t k = 0;
    out[k++] = 1;
    out[k++] = 8;
    out[k++] = 100;
    out[k++] = 4097;
    if (a <= (64 << 20)) {
        out[k++] = a;
        out[k++] = a / 2 + 1;
    }
    if (a <= (4 << 20))
        out[k++] = a + 1;
    if (a <= 4096)
        out[k++] = 3 * a + 5;
    return k;
}

static void check_block(void *p, size_t a, size_t n, const char *fn)
{
    CHECK_MSG(p != NULL, "%s(align %zu, size %zu) = NULL (errno %d)", fn, a, n, errno);
    CHECK_MSG((uintptr_t)p % a == 0, "%s(align %zu, size %zu) = %p, misaligned", fn, a, n, p);
    size_t u = malloc_usable_size(p);
    CHECK_MSG(u >= n, "%s(align %zu, size %zu): usable %zu < size", fn, a, n, u);
    CHECK_EQ(u, sallocx(p, 0));
    touch(p, n, a ^ n);
}

/* Blocks kept live at once per (alignment, size): a block handed out from
 * a smaller-aligned size class shows up only when several are live. */
#define NLIVE 4
static int nlive(size_t a)
{
    return a <= (1 << 20) ? NLIVE : 1;
}

/* Put a few 8-byte and 16-byte blocks on the free lists, at addresses that
 * are only 8-aligned, so a wrong size class is caught at once. */
static void seed_small_free_lists(void)
{
    void *b[8];
    for (int i = 0; i < 8; i++)
        CHECK_NONNULL(b[i] = tl_opaque(malloc(i < 4 ? 8 : 24)));
    for (int i = 0; i < 8; i++)
        free(b[i]);
}

static void test_posix_memalign_ok(void)
{
    size_t sz[16];
    for (int lg = 3; lg <= 30; lg++) {
        size_t a = (size_t)1 << lg;
        size_t k = sizes_for(a, sz);
        for (size_t i = 0; i < k; i++) {
            void *p[NLIVE] = {NULL};
            seed_small_free_lists();
            for (int j = 0; j < nlive(a); j++) {
                errno = 4242;
                int r = posix_memalign(&p[j], a, sz[i]);
                CHECK_MSG(r == 0, "posix_memalign(align %zu, size %zu) = %d", a, sz[i], r);
                CHECK_I(errno, ==, 4242);
                check_block(p[j], a, sz[i], "posix_memalign");
            }
            for (int j = 0; j < nlive(a); j++)
                free(p[j]);
        }
    }
    /* Several live blocks at the same alignment are distinct. */
    void *ps[32];
    for (int i = 0; i < 32; i++) {
        CHECK_I(posix_memalign(&ps[i], 256, 24), ==, 0);
        CHECK_ALIGNED(ps[i], 256);
        memset(ps[i], i, 24);
    }
    for (int i = 0; i < 32; i++) {
        for (int j = 0; j < 24; j++)
            CHECK_EQ(((unsigned char *)ps[i])[j], i);
        free(ps[i]);
    }
    /* Size 0 succeeds; the pointer (NULL or unique) can be freed. */
    void *z = (void *)1;
    CHECK_I(posix_memalign(&z, 64, 0), ==, 0);
    CHECK_ALIGNED(z, 64);
    free(z);
}

/* Alignments 8, 16 and 32 KiB with sizes up to 32 KiB: the usable size is
 * the small class of the size rounded up to the alignment (not the 40 KiB
 * smallest large class), for posix_memalign, aligned_alloc, mallocx and
 * nallocx alike; enough blocks live at once to fill several slabs, each
 * aligned and written whole without disturbing the others. The pages
 * before are cut into runs at odd page offsets (large blocks of 9 and 11
 * pages, every other one freed), so a slab that started on any page would
 * show. */
static void test_small_above_page(void)
{
    static const struct {
        size_t align, size, usize;
    } cases[] = {
        {8192, 1, 8192},          {8192, 100, 8192},       {8192, 4097, 8192},
        {8192, 8193, 16384},      {8192, 16385, 24576},    {8192, 24577, 32768},
        {16384, 100, 16384},      {16384, 16385, 32768},   {32768, 1, 32768},
        {32768, 32768, 32768},    {8192, 32769, 40960},
    };
    void *holes[16];
    for (int i = 0; i < 16; i++)
        CHECK_NONNULL(holes[i] = malloc((i & 1 ? 11 : 9) * page));
    for (int i = 0; i < 16; i += 2)
        free(holes[i]);
    enum { N = 40 }; /* 5 slabs of the 8 KiB class, 8 blocks each */
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        size_t a = cases[c].align, n = cases[c].size, u = cases[c].usize;
        CHECK_U(nallocx(n, MALLOCX_ALIGN(a)), ==, u);
        void *p[N];
        for (int i = 0; i < N; i++) {
            if (i % 3 == 0)
                CHECK_I(posix_memalign(&p[i], a, n), ==, 0);
            else if (i % 3 == 1)
                p[i] = aligned_alloc(a, n);
            else
                p[i] = mallocx(n, MALLOCX_ALIGN(a));
            check_block(p[i], a, n, "aligned above a page");
            CHECK_MSG(malloc_usable_size(p[i]) == u, "align %zu size %zu: usable %zu, want %zu", a, n,
                      malloc_usable_size(p[i]), u);
            tl_fill(p[i], u, (uint64_t)i * 977 + c);
        }
        for (int i = 0; i < N; i++) {
            CHECK_PATTERN(p[i], u, (uint64_t)i * 977 + c);
            free(p[i]);
        }
    }
    for (int i = 1; i < 16; i += 2)
        free(holes[i]);
}

static void test_posix_memalign_errors(void)
{
    const size_t bad_align[] = {0,
                                1,
                                2,
                                3,
                                4,
                                5,
                                6,
                                7,
                                12,
                                24,
                                40,
                                48,
                                96,
                                4095,
                                4097,
                                12288,
                                ((size_t)1 << 20) + 8,
                                SIZE_MAX,
                                SIZE_MAX - 7};
    for (size_t i = 0; i < sizeof(bad_align) / sizeof(bad_align[0]); i++) {
        void *p = NULL;
        errno = 4242;
        int r = posix_memalign(&p, tl_opaque_size(bad_align[i]), 64);
        CHECK_MSG(r == EINVAL, "posix_memalign(align %zu, 64) = %d, want EINVAL (%d)", bad_align[i],
                  r, EINVAL);
        CHECK_MSG(errno == 4242, "posix_memalign(align %zu) changed errno to %d", bad_align[i],
                  errno);
    }
    const struct {
        size_t a, n;
    } nomem[] = {
        {8, SIZE_MAX},
        {16, SIZE_MAX - 15},
        {4096, SIZE_MAX - 4095},
        {64, (size_t)PTRDIFF_MAX + 1},
        {(size_t)1 << 30, SIZE_MAX - ((size_t)1 << 30)},
        {(size_t)1 << 30, (size_t)PTRDIFF_MAX},
        {(size_t)1 << 62, 1},
        {(size_t)1 << 63, 1},
    };
    for (size_t i = 0; i < sizeof(nomem) / sizeof(nomem[0]); i++) {
        void *p = NULL;
        errno = 4242;
        int r = posix_memalign(&p, tl_opaque_size(nomem[i].a), tl_opaque_size(nomem[i].n));
        CHECK_MSG(r == ENOMEM, "posix_memalign(align %zu, size %zu) = %d, want ENOMEM (%d)",
                  nomem[i].a, nomem[i].n, r, ENOMEM);
        CHECK_MSG(errno == 4242, "posix_memalign(align %zu, size %zu) changed errno to %d",
                  nomem[i].a, nomem[i].n, errno);
    }
}

static void test_aligned_alloc(void)
{
    size_t sz[16];
    for (int lg = 0; lg <= 30; lg++) {
        size_t a = (size_t)1 << lg;
        size_t k = sizes_for(a, sz);
        for (size_t i = 0; i < k; i++) {
            void *p[NLIVE] = {NULL};
            seed_small_free_lists();
            for (int j = 0; j < nlive(a); j++) {
                p[j] = aligned_alloc(a, sz[i]);
                check_block(p[j], a, sz[i], "aligned_alloc");
            }
            for (int j = 0; j < nlive(a); j++)
                free(p[j]);
        }
    }
    const size_t bad_align[] = {0, 3, 24, 4097, SIZE_MAX};
    for (size_t i = 0; i < sizeof(bad_align) / sizeof(bad_align[0]); i++) {
        errno = 0;
        void *p = aligned_alloc(tl_opaque_size(bad_align[i]), 64);
        CHECK_MSG(p == NULL, "aligned_alloc(%zu, 64) = %p, want NULL", bad_align[i], p);
        CHECK_MSG(errno == EINVAL, "aligned_alloc(%zu, 64): errno %d, want EINVAL", bad_align[i],
                  errno);
    }
    errno = 0;
    CHECK_NULL(aligned_alloc(64, tl_opaque_size(SIZE_MAX - 10)));
    CHECK_I(errno, ==, ENOMEM);
    errno = 0;
    CHECK_NULL(aligned_alloc((size_t)1 << 20, tl_opaque_size((size_t)PTRDIFF_MAX + 1)));
    CHECK_I(errno, ==, ENOMEM);
}

static void test_memalign(void)
{
    size_t sz[16];
    for (int lg = 0; lg <= 30; lg++) {
        size_t a = (size_t)1 << lg;
        size_t k = sizes_for(a, sz);
        for (size_t i = 0; i < k; i++) {
            void *p[NLIVE] = {NULL};
            seed_small_free_lists();
            for (int j = 0; j < nlive(a); j++) {
                p[j] = memalign(a, sz[i]);
                check_block(p[j], a, sz[i], "memalign");
            }
            for (int j = 0; j < nlive(a); j++)
                free(p[j]);
        }
    }
    errno = 0;
    CHECK_NULL(memalign(4096, tl_opaque_size(SIZE_MAX - 4095)));
    CHECK_I(errno, ==, ENOMEM);
}

static void test_valloc(void)
{
    for (size_t n = 1; n <= (8 << 20); n = n * 2 + 7) {
        void *p = valloc(n);
        check_block(p, page, n, "valloc");
        free(p);
    }
    void *z = valloc(0);
    CHECK_NONNULL(z);
    CHECK_ALIGNED(z, page);
    free(z);
    errno = 0;
    CHECK_NULL(valloc(tl_opaque_size(SIZE_MAX - 100)));
    CHECK_I(errno, ==, ENOMEM);
}

static void test_pvalloc(void)
{
    for (size_t n = 0; n <= (8 << 20); n = n * 2 + 7) {
        size_t rounded = (n + page - 1) / page * page; /* 0 stays 0, as in glibc */
        void *p = pvalloc(n);
        CHECK_MSG(p != NULL, "pvalloc(%zu) = NULL", n);
        CHECK_ALIGNED(p, page);
        size_t u = malloc_usable_size(p);
        CHECK_MSG(u >= rounded, "pvalloc(%zu): usable %zu < %zu (size rounded up to a page)", n, u,
                  rounded);
        /* The whole rounded size is ours to write. */
        touch(p, rounded, n);
        free(p);
    }
    /* Rounding SIZE_MAX - small up to a page overflows: must fail. */
    const size_t bad[] = {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - page + 2, SIZE_MAX - 100};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        errno = 0;
        void *p = pvalloc(tl_opaque_size(bad[i]));
        CHECK_MSG(p == NULL, "pvalloc(%zu) = %p, want NULL", bad[i], p);
        CHECK_MSG(errno == ENOMEM, "pvalloc(%zu): errno %d, want ENOMEM", bad[i], errno);
    }
}

int main(void)
{
    tl_require_liballoc();
    page = (size_t)sysconf(_SC_PAGESIZE);
    CHECK_U(page, >=, 4096);
    test_posix_memalign_ok();
    test_small_above_page();
    test_posix_memalign_errors();
    test_aligned_alloc();
    test_memalign();
    test_valloc();
    test_pvalloc();
    printf("api_memalign: ok\n");
    return 0;
}
