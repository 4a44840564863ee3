/* pagemap: page -> slab or large span map for free's fast path (see pagemap.h). */
#include "pagemap.h"
#include "rtree.h"
#include "bss_large.h"

struct pagemap_map pagemap_map BSS_LARGE;

void pagemap_set(uintptr_t start, size_t npages, struct span *s)
{
    const size_t leaf_pages = (size_t)1 << PAGEMAP_LEAF_BITS;
    uintptr_t *leaf = NULL;
    size_t leaf_i = SIZE_MAX; /* root index leaf was looked up for */
    for (size_t k = 0; k < npages; k++) {
        uintptr_t addr = start + (k << LG_PAGE);
        if (addr >> 48)
            return;
        size_t i = addr >> (LG_PAGE + PAGEMAP_LEAF_BITS);
        if (i != leaf_i) { /* one leaf lookup per leaf the run crosses, not per page */
            leaf_i = i;
            leaf = (s || atomic_load_explicit(&pagemap_map.root[i], memory_order_relaxed))
                       ? rtree_leaf_install(&pagemap_map.root[i], pagemap_map.leaf_zero,
                                            sizeof(uintptr_t) * leaf_pages)
                       : NULL;
        }
        if (leaf == NULL)
            continue; /* no leaf: the page reads 0, as it should for NULL */
        atomic_store_explicit((_Atomic uintptr_t *)&leaf[(addr >> LG_PAGE) & (leaf_pages - 1)],
                              (uintptr_t)s, memory_order_release);
    }
}
