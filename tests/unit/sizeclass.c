/*
 * sizeclass: the size-class table (liballoc/sizeclass.c) against jemalloc
 * 5.3's classes for 4 KiB pages and 16-byte quantum.
 *   - the 41 small classes are jemalloc's 36 small classes (8 ... 14336)
 *     followed by its first 5 large classes (16384 ... 32768), which we
 *     serve from slabs: the usable sizes are the same either way;
 *   - every size 0 .. SMALL_MAX maps to the smallest class that fits, and
 *     sizes above it round to jemalloc's large classes (four per doubling);
 *   - round trips: class -> size -> class, usize(usize(n)) == usize(n);
 *   - malloc_usable_size and nallocx agree with the table;
 *   - slabs hold at least 8 blocks (1 for none) and waste little;
 *   - aligned usable sizes (sizeclass_usize_aligned), where they differ from
 *     jemalloc's: alignments above a page up to 32 KiB take the small class
 *     of the size rounded up to the alignment (8 KiB for 100 bytes at 8 KiB,
 *     where jemalloc gives its smallest large class, 16 KiB), whose slabs
 *     start aligned (sizeclass_slab_align).
 * (Debian's libjemalloc.so.2 cannot be dlopen'ed for a live cross-check: its
 * initial-exec TLS does not fit the static TLS block.)
 */
#include "check.h"

#include "sizeclass.h"


/* jemalloc 5.3, LG_PAGE 12, LG_QUANTUM 4: the small classes (SC_NBINS = 36)
 * and the first large ones, as its size-class table lists them. */
static const size_t je_classes[] = {
    8,     16,    32,    48,    64,    80,    96,    112,   128,   160,   192,   224,
    256,   320,   384,   448,   512,   640,   768,   896,   1024,  1280,  1536,  1792,
    2048,  2560,  3072,  3584,  4096,  5120,  6144,  7168,  8192,  10240, 12288, 14336,
    /* large from here in jemalloc; small (slab) classes up to 32768 here */
    16384, 20480, 24576, 28672, 32768, 40960, 49152, 57344, 65536, 81920, 98304, 114688,
    131072, 163840, 196608, 229376, 262144, 327680, 393216, 458752, 524288, 655360, 786432,
    917504, 1048576, 1310720, 1572864, 1835008, 2097152, 2621440, 3145728, 3670016, 4194304,
};
#define N_JE (sizeof(je_classes) / sizeof(je_classes[0]))

/* The smallest reference class >= n (n <= the last one). */
static size_t je_usize(size_t n)
{
    for (size_t i = 0; i < N_JE; i++)
        if (je_classes[i] >= (n ? n : 1))
            return je_classes[i];
    return 0;
}

int main(void)
{
    free(malloc(1)); /* the allocator (and its tables) are up */

    /* The small classes are the first NSMALL reference classes. */
    CHECK_U(NSMALL, ==, 41);
    for (unsigned c = 0; c < NSMALL; c++)
        CHECK_MSG(sizeclass_size[c] == je_classes[c], "class %u: %u, want %zu", c,
                  sizeclass_size[c], je_classes[c]);
    CHECK_U(sizeclass_size[NSMALL - 1], ==, SMALL_MAX);
    CHECK_U(LARGE_MIN, ==, 40960);

    /* Every size up to the largest small class: smallest class that fits. */
    for (size_t n = 0; n <= SMALL_MAX; n++) {
        unsigned c = sizeclass_small_index(n);
        CHECK_MSG(c < NSMALL, "size %zu: class %u", n, c);
        size_t want = je_usize(n);
        CHECK_MSG(sizeclass_size[c] == want, "size %zu: class %u (%u B), want %zu", n, c,
                  sizeclass_size[c], want);
        CHECK_MSG(c == 0 || sizeclass_size[c - 1] < n, "size %zu: class %u is not the smallest", n, c);
        CHECK_U(sizeclass_usize(n), ==, want);
    }
    /* Above: jemalloc's large classes, four per doubling. */
    for (size_t n = SMALL_MAX + 1; n <= ((size_t)4 << 20); n += 97)
        CHECK_MSG(sizeclass_usize(n) == je_usize(n), "size %zu: %zu, want %zu", n,
                  sizeclass_usize(n), je_usize(n));
    CHECK_U(sizeclass_usize(SMALL_MAX + 1), ==, 40960);
    CHECK_U(sizeclass_usize(LARGE_MAX), ==, LARGE_MAX);
    CHECK_U(sizeclass_usize(LARGE_MAX + 1), ==, 1310720);
    CHECK_U(sizeclass_usize(((size_t)1 << 40) + 1), ==, ((size_t)1 << 40) + ((size_t)1 << 38));
    CHECK_U(sizeclass_usize(SIZE_LIMIT), ==, SIZE_LIMIT);

    /* Round trips and boundaries. */
    for (unsigned c = 0; c < NSMALL; c++) {
        size_t s = sizeclass_size[c];
        CHECK_U(sizeclass_small_index(s), ==, c);
        CHECK_U(sizeclass_usize(s), ==, s);
        if (c + 1 < NSMALL)
            CHECK_U(sizeclass_small_index(s + 1), ==, c + 1);
        CHECK_U(s % (c == 0 ? 8 : 16), ==, 0);
    }
    for (size_t n = 1; n < ((size_t)8 << 20); n = n * 5 / 4 + 3)
        CHECK_U(sizeclass_usize(sizeclass_usize(n)), ==, sizeclass_usize(n));

    /* Usable sizes through the public API agree with the table. */
    for (size_t n = 1; n <= (size_t)3 << 20; n = n < 4096 ? n + 1 : n + n / 9) {
        void *p = malloc(n);
        CHECK_NONNULL(p);
        CHECK_MSG(malloc_usable_size(p) == sizeclass_usize(n), "malloc(%zu): usable %zu, want %zu",
                  n, malloc_usable_size(p), sizeclass_usize(n));
        CHECK_U(nallocx(n, 0), ==, sizeclass_usize(n));
        free(p);
    }

    /* Slabs: whole pages, >= 8 blocks, tail waste under 1/64 of the slab
     * for every class but the largest few (which hold exactly 8). */
    for (unsigned c = 0; c < NSMALL; c++) {
        size_t bytes = (size_t)sizeclass_slab_pages[c] * PAGE;
        CHECK_U(sizeclass_slab_pages[c], >=, 16);
        CHECK_U(sizeclass_slab_blocks[c], ==, bytes / sizeclass_stride(sizeclass_size[c]));
        CHECK_U(sizeclass_slab_blocks[c], >=, 8);
        CHECK_MSG((bytes % sizeclass_size[c]) * 64 <= bytes || sizeclass_slab_blocks[c] <= 16,
                  "class %u (%u B): %zu B of %zu wasted", c, sizeclass_size[c],
                  bytes % sizeclass_size[c], bytes);
    }
    CHECK_U(sizeclass_slab_pages[0], ==, 16);
    /* The 8-byte class: usable size 8, blocks 16 bytes apart (a second word
     * for the free mark, misuse.h). */
    CHECK_U(sizeclass_stride(8), ==, 16);
    CHECK_U(sizeclass_stride(48), ==, 48);
    CHECK_U(sizeclass_slab_blocks[0], ==, 4096);
    CHECK_U(sizeclass_slab_blocks[NSMALL - 1], ==, 8);

    /* Aligned usable sizes. */
    CHECK_U(sizeclass_usize_aligned(0, 1), ==, 8);
    CHECK_U(sizeclass_usize_aligned(1, 8), ==, 8);
    CHECK_U(sizeclass_usize_aligned(1, 16), ==, 16);
    CHECK_U(sizeclass_usize_aligned(100, 64), ==, 128);
    CHECK_U(sizeclass_usize_aligned(129, 64), ==, 192);
    CHECK_U(sizeclass_usize_aligned(160, 64), ==, 192); /* 160 is not 64-aligned */
    CHECK_U(sizeclass_usize_aligned(1, 4096), ==, 4096);
    CHECK_U(sizeclass_usize_aligned(5000, 4096), ==, 8192);
    CHECK_U(sizeclass_usize_aligned(20000, 4096), ==, 20480);
    CHECK_U(sizeclass_usize_aligned(1, 8192), ==, 8192); /* jemalloc: 16384 */
    CHECK_U(sizeclass_usize_aligned(8193, 8192), ==, 16384);
    CHECK_U(sizeclass_usize_aligned(16385, 8192), ==, 24576);
    CHECK_U(sizeclass_usize_aligned(24577, 8192), ==, 32768);
    CHECK_U(sizeclass_usize_aligned(100, 16384), ==, 16384);
    CHECK_U(sizeclass_usize_aligned(16385, 16384), ==, 32768);
    CHECK_U(sizeclass_usize_aligned(1, 32768), ==, 32768);
    CHECK_U(sizeclass_usize_aligned(32769, 8192), ==, LARGE_MIN);
    CHECK_U(sizeclass_usize_aligned(1, 65536), ==, LARGE_MIN); /* placed aligned */
    /* Slab starts: the largest power of two dividing the stride, at least
     * a page; so every block of a class at that alignment is aligned. */
    CHECK_U(sizeclass_slab_align(8), ==, 4096);
    CHECK_U(sizeclass_slab_align(4096), ==, 4096);
    CHECK_U(sizeclass_slab_align(10240), ==, 4096);
    CHECK_U(sizeclass_slab_align(8192), ==, 8192);
    CHECK_U(sizeclass_slab_align(24576), ==, 8192);
    CHECK_U(sizeclass_slab_align(16384), ==, 16384);
    CHECK_U(sizeclass_slab_align(32768), ==, 32768);
    CHECK_U(sizeclass_usize_aligned(100000, 1 << 20), ==, 114688);
    CHECK_U(sizeclass_usize_aligned(SIZE_LIMIT + 1, 16), ==, 0);
    CHECK_U(sizeclass_usize_aligned(16, SIZE_LIMIT + 1), ==, 0);
    for (size_t a = 16; a <= SMALL_MAX; a *= 2)
        for (size_t n = 1; n <= SMALL_MAX; n += 61) {
            size_t u = sizeclass_usize_aligned(n, a);
            CHECK_MSG(u >= n && (u % a == 0 || u >= LARGE_MIN), "size %zu align %zu: usize %zu", n, a, u);
            /* a small class's blocks are aligned only as far as its slabs start */
            if (u <= SMALL_MAX)
                CHECK_MSG(sizeclass_slab_align((uint32_t)u) >= a, "size %zu align %zu: usize %zu", n, a, u);
            CHECK_U(u, ==, sizeclass_usize(u));
        }

    printf("ok\n");
    return 0;
}
