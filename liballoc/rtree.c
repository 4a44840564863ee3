/* rtree: chunk address -> metadata map (see rtree.h). */
#include "rtree.h"
#include "base.h"

#include <errno.h>

uintptr_t rtree_leaf_zero[1u << RTREE_LEAF_BITS];
_Atomic(uintptr_t *) rtree_root[1u << RTREE_ROOT_BITS] = {
    [0 ...(1u << RTREE_ROOT_BITS) - 1] = rtree_leaf_zero};

int rtree_set(uintptr_t addr, uintptr_t value)
{
    if (addr >> 48)
        return ENOMEM;
    _Atomic(uintptr_t *) *slot = &rtree_root[addr >> (LG_CHUNK + RTREE_LEAF_BITS)];
    uintptr_t *leaf = atomic_load_explicit(slot, memory_order_acquire);
    if (leaf == rtree_leaf_zero) {
        uintptr_t *fresh = base_alloc(sizeof(uintptr_t) << RTREE_LEAF_BITS, PAGE);
        if (fresh == NULL)
            return ENOMEM;
        if (atomic_compare_exchange_strong(slot, &leaf, fresh))
            leaf = fresh; /* else another thread won; its leaf is in `leaf`, ours is lost metadata */
    }
    atomic_store_explicit((_Atomic uintptr_t *)&leaf[(addr >> LG_CHUNK) &
                                                     ((1u << RTREE_LEAF_BITS) - 1)],
                          value, memory_order_release);
    return 0;
}
