/* rtree: chunk address -> metadata map (see rtree.h). */
#include "rtree.h"
#include "base.h"
#include "bss_large.h"

#include <errno.h>

struct rtree_map rtree_map BSS_LARGE;

int rtree_set(uintptr_t addr, uintptr_t value)
{
    if (addr >> 48)
        return ENOMEM;
    size_t i = addr >> (LG_CHUNK + RTREE_LEAF_BITS);
    uintptr_t *leaf = rtree_leaf_install(&rtree_map.root[i], rtree_map.leaf_zero,
                                         sizeof(uintptr_t) << RTREE_LEAF_BITS);
    if (leaf == NULL)
        return ENOMEM;
    atomic_store_explicit(
        (_Atomic uintptr_t *)&leaf[(addr >> LG_CHUNK) & ((1u << RTREE_LEAF_BITS) - 1)], value,
        memory_order_release);
    return 0;
}

uintptr_t *rtree_leaf_install(_Atomic uintptr_t *slot, uintptr_t *zero, size_t bytes)
{
    uintptr_t off = atomic_load_explicit(slot, memory_order_acquire);
    if (off == 0) {
        uintptr_t *fresh = base_alloc(bytes, PAGE);
        if (fresh == NULL)
            return NULL;
        if (atomic_compare_exchange_strong(slot, &off, (uintptr_t)fresh - (uintptr_t)zero))
            return fresh;
        /* another thread won (off is its leaf's): ours is lost metadata */
    }
    return (uintptr_t *)((char *)zero + off);
}
