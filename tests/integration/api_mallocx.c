/*
 * jemalloc's non-standard API: mallocx (MALLOCX_LG_ALIGN, MALLOCX_ALIGN,
 * MALLOCX_ZERO, MALLOCX_TCACHE_NONE), rallocx (keeps contents, honours
 * alignment and zeroes the grown part), xallocx (resizes in place, returns
 * the resulting usable size, never moves; shrinks large blocks), sallocx
 * (== malloc_usable_size), dallocx, sdallocx (with requested or usable
 * size; blocks really are released), nallocx (== sallocx of a mallocx with
 * the same size and flags; 0 for impossible requests).
 */
#include "check.h"

static const int flag_sets[] = {
    0,
    MALLOCX_ZERO,
    MALLOCX_TCACHE_NONE,
    MALLOCX_LG_ALIGN(4),
    MALLOCX_LG_ALIGN(6),
    MALLOCX_ALIGN(64) | MALLOCX_ZERO,
    MALLOCX_LG_ALIGN(12),
    MALLOCX_ALIGN(4096) | MALLOCX_ZERO | MALLOCX_TCACHE_NONE,
    MALLOCX_LG_ALIGN(16),
    MALLOCX_LG_ALIGN(21) | MALLOCX_ZERO,
};
#define NFLAGS (sizeof(flag_sets) / sizeof(flag_sets[0]))

static size_t flag_align(int flags)
{
    int la = flags & 0x3f;
    return la ? (size_t)1 << la : 1;
}

static const size_t test_sizes[] = {
    1,       8,      15,    16,    17,     100,    1000,          4095,    4096,    4097,
    10000,   16384,  20000, 65536, 100000, 262145, (1 << 20) - 1, 1 << 20, 2 << 20, (2 << 20) + 1,
    3 << 20, 9 << 20};
#define NSIZES (sizeof(test_sizes) / sizeof(test_sizes[0]))

/* Fill usable sizes of many blocks of size n, then free them, so the next
 * allocations of n likely reuse dirty memory. */
static void dirty(size_t n, int count)
{
    void *b[64];
    for (int i = 0; i < count; i++) {
        b[i] = tl_opaque(mallocx(n, 0));
        CHECK_NONNULL(b[i]);
        memset(b[i], 0xdb, sallocx(b[i], 0));
    }
    for (int i = count - 1; i >= 0; i--)
        dallocx(b[i], 0);
}

static void test_mallocx_flags(void)
{
    for (size_t f = 0; f < NFLAGS; f++) {
        int flags = flag_sets[f];
        size_t align = flag_align(flags);
        for (size_t i = 0; i < NSIZES; i++) {
            size_t n = test_sizes[i];
            if (flags & MALLOCX_ZERO)
                dirty(n, n > (1 << 20) ? 1 : 16);
            unsigned char *p = tl_opaque(mallocx(n, flags));
            CHECK_MSG(p != NULL, "mallocx(%zu, 0x%x) = NULL", n, flags);
            CHECK_MSG((uintptr_t)p % align == 0, "mallocx(%zu, 0x%x) = %p, not %zu-aligned", n,
                      flags, (void *)p, align);
            size_t u = sallocx(p, 0);
            CHECK_MSG(u >= n, "mallocx(%zu, 0x%x): sallocx %zu < size", n, flags, u);
            CHECK_EQ(u, malloc_usable_size(p));
            size_t nx = nallocx(n, flags);
            CHECK_MSG(nx == u, "nallocx(%zu, 0x%x) = %zu, sallocx(mallocx) = %zu", n, flags, nx, u);
            if (flags & MALLOCX_ZERO)
                CHECK_ZERO(p, n);
            tl_fill(p, u, n ^ (uint64_t)flags);
            CHECK_PATTERN(p, u, n ^ (uint64_t)flags);
            /* Free with the matching flags (tcache none is a free-side flag too). */
            if (i % 2)
                dallocx(p, flags & MALLOCX_TCACHE_NONE);
            else
                sdallocx(p, n, flags & ~MALLOCX_ZERO);
        }
    }
}

static void test_all_alignments(void)
{
    for (int la = 0; la <= 30; la++) {
        size_t a = (size_t)1 << la;
        const size_t ns[] = {1, 8, 64, 5000, a <= (16 << 20) ? a + 1 : 64};
        int live = a <= (1 << 20) ? 4 : 1;
        for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
            int fl = i % 2 ? MALLOCX_LG_ALIGN(la) : MALLOCX_ALIGN(a);
            unsigned char *p[4];
            /* 8-byte blocks on the free list, so a too-small class shows. */
            void *e[4];
            for (int j = 0; j < 4; j++)
                CHECK_NONNULL(e[j] = tl_opaque(malloc(8)));
            for (int j = 0; j < 4; j++)
                free(e[j]);
            for (int j = 0; j < live; j++) {
                p[j] = mallocx(ns[i], fl);
                CHECK_MSG(p[j] != NULL, "mallocx(%zu, align %zu) = NULL", ns[i], a);
                CHECK_MSG((uintptr_t)p[j] % a == 0, "mallocx(%zu, align %zu) = %p misaligned",
                          ns[i], a, (void *)p[j]);
                CHECK_EQ(sallocx(p[j], 0), nallocx(ns[i], fl));
                CHECK_U(sallocx(p[j], 0), >=, ns[i]);
                p[j][0] = 1;
                p[j][ns[i] - 1] = 2;
            }
            for (int j = 0; j < live; j++)
                sdallocx(p[j], ns[i], fl);
        }
    }
}

static void test_impossible(void)
{
    const size_t big[] = {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 4095, (size_t)PTRDIFF_MAX + 1};
    for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
        CHECK_MSG(nallocx(tl_opaque_size(big[i]), 0) == 0, "nallocx(%zu, 0) = %zu, want 0", big[i],
                  nallocx(big[i], 0));
        CHECK_MSG(nallocx(tl_opaque_size(big[i]), MALLOCX_LG_ALIGN(12)) == 0,
                  "nallocx(%zu, lg_align 12) != 0", big[i]);
        void *p = mallocx(tl_opaque_size(big[i]), 0);
        CHECK_MSG(p == NULL, "mallocx(%zu, 0) = %p, want NULL", big[i], p);
        p = mallocx(tl_opaque_size(big[i]), MALLOCX_ZERO | MALLOCX_ALIGN(64));
        CHECK_MSG(p == NULL, "mallocx(%zu, zero|align 64) = %p, want NULL", big[i], p);
    }
    /* Alignment alone impossible. */
    CHECK_EQ(nallocx(1, MALLOCX_LG_ALIGN(63)), 0);
    CHECK_NULL(mallocx(1, MALLOCX_LG_ALIGN(63)));
    /* rallocx to an impossible size: NULL, original intact. */
    unsigned char *p = mallocx(500, 0);
    CHECK_NONNULL(p);
    tl_fill(p, 500, 99);
    CHECK_NULL(rallocx(p, tl_opaque_size(SIZE_MAX), 0));
    CHECK_NULL(rallocx(p, tl_opaque_size((size_t)PTRDIFF_MAX + 1), 0));
    CHECK_PATTERN(p, 500, 99);
    CHECK_U(sallocx(p, 0), >=, 500);
    dallocx(p, 0);
}

/* rallocx between every pair of test sizes, with and without alignment
 * and zeroing. */
static void test_rallocx(void)
{
    const int rflags[] = {0,
                          MALLOCX_ZERO,
                          MALLOCX_LG_ALIGN(12),
                          MALLOCX_ALIGN(256) | MALLOCX_ZERO,
                          MALLOCX_LG_ALIGN(21) | MALLOCX_ZERO,
                          MALLOCX_TCACHE_NONE};
    for (size_t f = 0; f < sizeof(rflags) / sizeof(rflags[0]); f++) {
        int fl = rflags[f];
        size_t align = flag_align(fl);
        for (size_t a = 0; a < NSIZES; a += 2) {
            for (size_t b = 1; b < NSIZES; b += 2) {
                size_t from = test_sizes[a], to = test_sizes[b];
                uint64_t key = (uint64_t)(a * 1000 + b * 10 + f);
                if (fl & MALLOCX_ZERO)
                    dirty(to, to > (1 << 20) ? 1 : 8);
                unsigned char *p = mallocx(from, 0);
                CHECK_NONNULL(p);
                size_t old_u = sallocx(p, 0);
                tl_fill(p, old_u, key);
                unsigned char *q = rallocx(p, to, fl);
                CHECK_MSG(q != NULL, "rallocx(%zu -> %zu, 0x%x) = NULL", from, to, fl);
                CHECK_MSG((uintptr_t)q % align == 0, "rallocx(%zu -> %zu, 0x%x) = %p misaligned",
                          from, to, fl, (void *)q);
                size_t u = sallocx(q, 0);
                CHECK_MSG(u >= to, "rallocx(%zu -> %zu): sallocx %zu", from, to, u);
                size_t keep = old_u < to ? old_u : to;
                CHECK_PATTERN(q, keep, key);
                /* MALLOCX_ZERO: bytes past the old usable size are zero. */
                if ((fl & MALLOCX_ZERO) && to > old_u)
                    CHECK_ZERO(q + old_u, to - old_u);
                tl_fill(q, u, key + 1);
                /* Shrink back: the prefix survives again. */
                unsigned char *r = rallocx(q, from, 0);
                CHECK_NONNULL(r);
                CHECK_U(sallocx(r, 0), >=, from);
                CHECK_PATTERN(r, from < u ? from : u, key + 1);
                dallocx(r, 0);
            }
        }
    }
    /* A pointer from malloc can go through rallocx and be freed by free. */
    unsigned char *m = malloc(40);
    CHECK_NONNULL(m);
    tl_fill(m, 40, 3);
    m = rallocx(m, 100000, 0);
    CHECK_NONNULL(m);
    CHECK_PATTERN(m, 40, 3);
    free(m);
}

/* Shrink a large block in place, then grow it back in place with
 * MALLOCX_ZERO: the address never changes, the return value is the new
 * sallocx, contents of the kept part survive, any regrown part is zero. */
static void test_xallocx_large(size_t big)
{
    unsigned char *p = mallocx(big, 0);
    CHECK_NONNULL(p);
    size_t u0 = sallocx(p, 0);
    tl_fill(p, u0, big);

    /* No-op resize returns the current usable size. */
    CHECK_EQ(xallocx(p, u0, 0, 0), u0);
    CHECK_EQ(sallocx(p, 0), u0);

    size_t small = big / 4;
    size_t r = xallocx(p, small, 0, 0);
    CHECK_MSG(r == sallocx(p, 0), "xallocx returned %zu but sallocx is %zu", r, sallocx(p, 0));
    CHECK_MSG(r == nallocx(small, 0),
              "xallocx(%zu-byte block, %zu) = %zu: large block not shrunk in place (want %zu)", big,
              small, r, nallocx(small, 0));
    CHECK_PATTERN(p, r, big);

    /* Grow back with zeroing. The memory past r was dirtied above. */
    size_t g = xallocx(p, big, 0, MALLOCX_ZERO);
    CHECK_MSG(g == sallocx(p, 0), "xallocx grow returned %zu but sallocx is %zu", g, sallocx(p, 0));
    CHECK_MSG(g == r || g >= big, "xallocx grow: %zu is neither the old size %zu nor >= %zu", g, r,
              big);
    CHECK_PATTERN(p, r, big);
    if (g > r)
        CHECK_ZERO(p + r, g - r);
    printf("xallocx(%zu -> %zu -> %zu): shrank to %zu, grew back to %zu (%s)\n", big, small, big, r,
           g, g > r ? "in place" : "not possible in place");

    /* size + extra: result is at least the old size or at least size, and
     * never more than the class of size + extra. */
    size_t cur = g;
    size_t e = xallocx(p, cur / 2, cur, 0);
    CHECK_EQ(e, sallocx(p, 0));
    CHECK_U(e, >=, cur / 2);
    CHECK_U(e, <=, nallocx(cur / 2 + cur, 0));
    CHECK_PATTERN(p, e < r ? e : r, big);
    /* extra that overflows size + extra is clamped, not an error. */
    size_t c = xallocx(p, 100, SIZE_MAX - 50, 0);
    CHECK_EQ(c, sallocx(p, 0));
    CHECK_U(c, >=, 100);
    CHECK_PATTERN(p, 100, big);
    dallocx(p, 0);
}

static void test_xallocx_small(void)
{
    for (size_t n = 1; n <= 4096; n = n * 2 + 1) {
        unsigned char *p = mallocx(n, 0);
        CHECK_NONNULL(p);
        size_t u = sallocx(p, 0);
        tl_fill(p, u, n);
        CHECK_EQ(xallocx(p, n, 0, 0), u); /* same class: unchanged */
        CHECK_EQ(xallocx(p, u, 0, 0), u);
        size_t r = xallocx(p, 1, 0, 0); /* shrink request */
        CHECK_EQ(r, sallocx(p, 0));
        CHECK_U(r, >=, 1);
        size_t r2 = xallocx(p, u * 8, 0, 0); /* grow request */
        CHECK_EQ(r2, sallocx(p, 0));
        CHECK(r2 == r || r2 >= u * 8);
        CHECK_PATTERN(p, r < u ? r : u, n);
        dallocx(p, 0);
    }
}

/* xallocx with MALLOCX_ALIGN: a block off that boundary stays as it is,
 * grown or shrunk (jemalloc: its alignment is inadequate); one on it may
 * resize. Large blocks (page-aligned): 8 KiB off a 64 KiB boundary. */
static void test_xallocx_align(void)
{
    void *keep[64];
    int nkeep = 0, tried = 0;
    for (int i = 0; i < 64 && tried < 4; i++) {
        void *p = mallocx(100000, 0);
        CHECK_NONNULL(p);
        size_t u = sallocx(p, 0);
        if (((uintptr_t)p & 0xffff) == 0) {
            keep[nkeep++] = p;
            continue;
        }
        tried++;
        CHECK_EQ(xallocx(p, 50000, 0, MALLOCX_LG_ALIGN(16)), u);
        CHECK_EQ(xallocx(p, 300000, 0, MALLOCX_LG_ALIGN(16)), u);
        CHECK_EQ(sallocx(p, 0), u);
        dallocx(p, 0);
    }
    CHECK_I(tried, ==, 4);
    while (nkeep > 0)
        dallocx(keep[--nkeep], 0);
    void *q = mallocx(100000, MALLOCX_LG_ALIGN(16));
    CHECK_NONNULL(q);
    CHECK_EQ(xallocx(q, 50000, 0, MALLOCX_LG_ALIGN(16)), nallocx(50000, 0));
    dallocx(q, 0);
}

/* dallocx and sdallocx release memory: 64 x 4 MiB touched blocks, and
 * 300000 small ones, must not grow RSS as a leak would. */
static void test_dalloc_releases(void)
{
    const size_t n = 4 << 20;
    void *w = mallocx(n, 0);
    CHECK_NONNULL(w);
    memset(w, 1, n);
    dallocx(w, 0);
    size_t rss0 = tl_rss();
    for (int i = 0; i < 64; i++) {
        int fl = i % 3 == 0 ? MALLOCX_ALIGN(4096) : 0; /* sdallocx repeats the alignment */
        void *p = tl_opaque(mallocx(n, fl));
        CHECK_NONNULL(p);
        memset(p, 0x33, n);
        switch (i % 4) {
        case 0:
            sdallocx(p, n, fl);
            break;
        case 1:
            sdallocx(p, n, fl | MALLOCX_TCACHE_NONE);
            break;
        case 2:
            dallocx(p, MALLOCX_TCACHE_NONE);
            break;
        default:
            sdallocx(p, sallocx(p, 0), fl); /* usable size is a valid size too */
            break;
        }
    }
    for (int i = 0; i < 300000; i++) {
        size_t s = 48 + (size_t)(i % 5) * 16;
        void *p = tl_opaque(mallocx(s, 0));
        CHECK_NONNULL(p);
        memset(p, 0x44, s);
        if (i % 2)
            sdallocx(p, s, 0);
        else
            dallocx(p, i % 3 ? 0 : MALLOCX_TCACHE_NONE);
    }
    size_t rss1 = tl_rss();
    CHECK_MSG(rss1 < rss0 + (48 << 20), "RSS grew by %zu KiB: dallocx/sdallocx do not release",
              (rss1 - rss0) >> 10);
}

int main(void)
{
    tl_require_liballoc();
    test_mallocx_flags();
    test_all_alignments();
    test_impossible();
    test_rallocx();
    test_xallocx_small();
    test_xallocx_large(1 << 20);
    test_xallocx_large(8 << 20);
    test_xallocx_large(256 << 10);
    test_xallocx_align();
    test_dalloc_releases();
    printf("api_mallocx: ok\n");
    return 0;
}
