/* sizeclass: builds the class tables once at init (see sizeclass.h). */
#include "sizeclass.h"
#include "warn.h"

uint8_t sizeclass_index_table[(SMALL_MAX >> 3) + 1];
uint32_t sizeclass_size[NSMALL];
uint16_t sizeclass_slab_pages[NSMALL];
uint32_t sizeclass_slab_blocks[NSMALL];

/* Choose a slab of at least 16 pages (64 KiB) holding at least 8 blocks with
 * tail waste under 1/64 when possible: fewer refills, little waste. */
static unsigned slab_pages_for(size_t size)
{
    unsigned best = 0;
    double best_waste = 1.0;
    unsigned min_pages = (unsigned)((8 * size + PAGE - 1) / PAGE);
    if (min_pages < 16)
        min_pages = 16;
    for (unsigned p = min_pages; p <= min_pages * 2 && p <= 128; p++) {
        size_t bytes = (size_t)p * PAGE;
        double waste = (double)(bytes % size) / (double)bytes;
        if (waste < best_waste - 1e-9) {
            best = p;
            best_waste = waste;
        }
        if (waste <= 1.0 / 64)
            break;
    }
    return best;
}

void sizeclass_init(void)
{
    unsigned n = 0;
    sizeclass_size[n++] = 8;
    for (size_t s = 16; s <= 128; s += 16)
        sizeclass_size[n++] = (uint32_t)s;
    for (size_t base = 128; base < SMALL_MAX; base *= 2)
        for (size_t i = 1; i <= 4; i++)
            sizeclass_size[n++] = (uint32_t)(base + i * (base / 4));
    if (n != NSMALL)
        alloc_fatal(__FILE__, __LINE__, "size class count");
    unsigned cls = 0;
    for (size_t i = 0; i <= (SMALL_MAX >> 3); i++) {
        size_t size = i << 3;
        while (sizeclass_size[cls] < size)
            cls++;
        sizeclass_index_table[i] = (uint8_t)cls;
    }
    for (unsigned c = 0; c < NSMALL; c++) {
        sizeclass_slab_pages[c] = (uint16_t)slab_pages_for(sizeclass_size[c]);
        sizeclass_slab_blocks[c] =
            (uint32_t)(sizeclass_slab_pages[c] * PAGE / sizeclass_stride(sizeclass_size[c]));
    }
}

size_t sizeclass_usize_aligned(size_t size, size_t align)
{
    if (size > SIZE_LIMIT)
        return 0;
    if (align <= 8)
        return sizeclass_usize(size ? size : 1);
    if (align <= MIN_ALIGN) /* every class from 16 B up is a multiple of 16 */
        return sizeclass_usize(size < MIN_ALIGN ? MIN_ALIGN : size);
    if (size > SIZE_LIMIT || align > SIZE_LIMIT)
        return 0;
    /* A small class whose size is a multiple of align has every block
     * aligned: its slabs start at a multiple of the largest power of two
     * dividing the size (sizeclass_slab_align), at least a page. */
    if (size <= SMALL_MAX && align <= SMALL_MAX) {
        size_t u = sizeclass_usize(ALIGN_UP(size ? size : 1, align));
        if (u <= SMALL_MAX && (u & (align - 1)) == 0)
            return u;
    }
    /* Page-granular: alignment is handled by extent placement. */
    return sizeclass_usize(size < LARGE_MIN ? LARGE_MIN : size);
}
