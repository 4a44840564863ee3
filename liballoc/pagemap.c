/* pagemap: page -> slab or large span map for free's fast path (see pagemap.h). */
#include "pagemap.h"
#include "rtree.h"
#include "bss_large.h"

struct pagemap_map pagemap_map BSS_LARGE;

/* Per leaf the run crosses (a slab run lies in one: a leaf covers 1 GiB),
 * one lookup, then one store per page: slab pages come and go with their
 * runs' every page set and cleared (sh6bench-like churn: 16 pages a run,
 * 21 instructions a page before, with a lookup and an address test each). */
void pagemap_set(uintptr_t start, size_t npages, struct span *s)
{
    const size_t leaf_pages = (size_t)1 << PAGEMAP_LEAF_BITS;
    const size_t page_limit = (size_t)1 << (48 - LG_PAGE); /* addresses at 2^48 and up: none */
    size_t page = start >> LG_PAGE;
    size_t end = page + npages;
    if (end > page_limit)
        end = page_limit;
    while (page < end) {
        size_t i = page >> PAGEMAP_LEAF_BITS;
        size_t stop = (i + 1) << PAGEMAP_LEAF_BITS;
        if (stop > end)
            stop = end;
        /* No leaf and s NULL: the pages read 0 already, as they should. */
        if (s || atomic_load_explicit(&pagemap_map.root[i], memory_order_relaxed)) {
            uintptr_t *leaf = rtree_leaf_install(&pagemap_map.root[i], pagemap_map.leaf_zero,
                                                 sizeof(uintptr_t) * leaf_pages);
            if (leaf) {
                for (size_t k = page; k < stop; k++)
                    atomic_store_explicit((_Atomic uintptr_t *)&leaf[k & (leaf_pages - 1)],
                                          (uintptr_t)s, memory_order_release);
            }
        }
        page = stop;
    }
}
