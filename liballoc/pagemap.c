/* pagemap: page -> slab span map for free's fast path (see pagemap.h). */
#include "pagemap.h"
#include "base.h"

struct pagemap_map pagemap_map;

/* The leaf of root slot i, allocated if missing (NULL if that fails). */
static uintptr_t *leaf_for(size_t i)
{
    uintptr_t off = atomic_load_explicit(&pagemap_map.root[i], memory_order_acquire);
    if (off)
        return (uintptr_t *)((char *)pagemap_map.leaf_zero + off);
    uintptr_t *fresh = base_alloc(sizeof(uintptr_t) << PAGEMAP_LEAF_BITS, PAGE);
    if (fresh == NULL)
        return NULL;
    uintptr_t zero = 0;
    if (atomic_compare_exchange_strong(&pagemap_map.root[i], &zero,
                                       (uintptr_t)fresh - (uintptr_t)pagemap_map.leaf_zero))
        return fresh;
    return (uintptr_t *)((char *)pagemap_map.leaf_zero + zero); /* another thread's */
}

void pagemap_set(uintptr_t start, size_t npages, struct span *s)
{
    for (size_t k = 0; k < npages; k++) {
        uintptr_t addr = start + (k << LG_PAGE);
        if (addr >> 48)
            return;
        size_t i = addr >> (LG_PAGE + PAGEMAP_LEAF_BITS);
        uintptr_t *leaf = (s || atomic_load_explicit(&pagemap_map.root[i], memory_order_relaxed))
                              ? leaf_for(i)
                              : NULL;
        if (leaf == NULL)
            continue; /* no leaf: the page reads 0, as it should for NULL */
        atomic_store_explicit(
            (_Atomic uintptr_t *)&leaf[(addr >> LG_PAGE) & ((1u << PAGEMAP_LEAF_BITS) - 1)],
            (uintptr_t)s, memory_order_release);
    }
}
