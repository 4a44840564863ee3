/* rtree: chunk address -> metadata map (see rtree.h). */
#include "rtree.h"
#include "base.h"

#include <errno.h>

struct rtree_map rtree_map;

int rtree_set(uintptr_t addr, uintptr_t value)
{
    if (addr >> 48)
        return ENOMEM;
    size_t i = addr >> (LG_CHUNK + RTREE_LEAF_BITS);
    uintptr_t *leaf = rtree_leaf(i);
    if (leaf == rtree_map.leaf_zero) {
        uintptr_t *fresh = base_alloc(sizeof(uintptr_t) << RTREE_LEAF_BITS, PAGE);
        if (fresh == NULL)
            return ENOMEM;
        uintptr_t zero = 0;
        if (atomic_compare_exchange_strong(&rtree_map.root[i], &zero,
                                           (uintptr_t)fresh - (uintptr_t)rtree_map.leaf_zero))
            leaf = fresh;
        else
            leaf = rtree_leaf(i); /* another thread won; ours is lost metadata */
    }
    atomic_store_explicit((_Atomic uintptr_t *)&leaf[(addr >> LG_CHUNK) &
                                                     ((1u << RTREE_LEAF_BITS) - 1)],
                          value, memory_order_release);
    return 0;
}
