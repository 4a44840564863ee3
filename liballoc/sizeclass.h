/*
 * sizeclass: jemalloc-like size classes, four per doubling above 128 B
 * (8, 16, 32, 48, ..., 128, 160, 192, 224, 256, 320, ...), so internal waste
 * stays under 25% above 16 B. Classes up to SMALL_MAX live in slab pages;
 * larger ones are page-granular extents. Size -> small class is one table load.
 */
#ifndef SIZECLASS_H
#define SIZECLASS_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"

#define SMALL_MAX     ((size_t)32768)
#define NSMALL        41            /* number of small classes */
#define LARGE_MIN     (SMALL_MAX + 8192)  /* smallest large class: 40 KiB */
/* Usable sizes above LARGE_MAX get their own 2 MiB-aligned mapping (huge.h):
 * runs that big would fragment 2 MiB chunks, and a mapping of their own can
 * be reused whole and backed by transparent huge pages. Everything >= 2 MiB
 * is therefore 2 MiB aligned. */
#define LARGE_MAX     ((size_t)1 << 20)
#define HUGE_MIN      (LARGE_MAX + 1)
/* Largest size we ever try to serve; above this sizes fail with ENOMEM. */
#define SIZE_LIMIT    ((size_t)1 << 62)

extern uint8_t sizeclass_index_table[(SMALL_MAX >> 3) + 1];
extern uint32_t sizeclass_size[NSMALL];
/* Bytes between block starts in a slab: the class size, but at least 16 so
 * every block has a second word for its free mark (misuse.h). The 8-byte
 * class keeps its usable size (8, as jemalloc's) and spends 16 bytes. */
#define SIZECLASS_MIN_STRIDE 16
ALWAYS_INLINE uint32_t sizeclass_stride(uint32_t size)
{
    return size < SIZECLASS_MIN_STRIDE ? SIZECLASS_MIN_STRIDE : size;
}
/* Where a slab of the class of usable size `size` starts: at a multiple
 * of the largest power of two dividing its stride, at least a page (8 KiB
 * for 8 KiB and 24 KiB blocks, 16 KiB and 32 KiB for those classes). Every
 * block of the slab is then aligned to that power of two, so an aligned
 * request above a page (posix_memalign(8192, 100)) is served by a small
 * class (8 KiB) rather than the smallest large class (40 KiB; jemalloc
 * 5.3 gives such requests its smallest large class, 16 KiB:
 * sizeclass_usize_aligned). */
ALWAYS_INLINE size_t sizeclass_slab_align(uint32_t size)
{
    size_t low = (size_t)1 << __builtin_ctz(sizeclass_stride(size));
    return low > PAGE ? low : PAGE;
}
/* Pages per slab for each small class, and blocks per slab. */
extern uint16_t sizeclass_slab_pages[NSMALL];
extern uint32_t sizeclass_slab_blocks[NSMALL];

void sizeclass_init(void);

ALWAYS_INLINE unsigned sizeclass_small_index(size_t size)
{
    return sizeclass_index_table[(size + 7) >> 3];
}

/* Usable size for a request of size bytes (any size <= SIZE_LIMIT). */
ALWAYS_INLINE size_t sizeclass_usize(size_t size)
{
    if (size <= SMALL_MAX)
        return sizeclass_size[sizeclass_small_index(size)];
    unsigned lg = 63 - (unsigned)__builtin_clzl(size - 1);
    size_t delta = (size_t)1 << (lg - 2);
    return (size + delta - 1) & ~(delta - 1);
}

/* Large classes (jemalloc's "lextents"): every usable size above SMALL_MAX,
 * four per doubling from LARGE_MIN (40 KiB) to SIZE_LIMIT (2^62), page runs
 * and huge mappings alike (arenas.nlextents, arenas.lextent.<i>.size). */
#define NLEXTENTS 188

/* The usable size of large class i (< NLEXTENTS). */
ALWAYS_INLINE size_t sizeclass_lextent_size(unsigned i)
{
    size_t base = (size_t)SMALL_MAX << (i / 4);
    return base + (i % 4 + 1) * (base / 4);
}

/* The large class of usable size usize (a large class: LARGE_MIN .. SIZE_LIMIT). */
ALWAYS_INLINE unsigned sizeclass_lextent_index(size_t usize)
{
    unsigned lg = 63 - (unsigned)__builtin_clzl(usize - 1); /* 2^lg < usize <= 2^(lg+1) */
    return (lg - 15) * 4 + (unsigned)((usize - ((size_t)1 << lg) - 1) >> (lg - 2));
}

/* Usable size for size bytes at alignment align (power of two), 0 on overflow. */
size_t sizeclass_usize_aligned(size_t size, size_t align);

#endif
