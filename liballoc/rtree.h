/*
 * rtree: a two-level radix tree from chunk address (2 MiB granularity) to
 * that chunk's metadata, so free() finds the owner of any pointer in two
 * loads and recognises pointers that are not ours. Reads are lock-free;
 * leaves are installed once with a compare-and-swap and never freed.
 * Values: a struct chunk * for chunks cut into spans, or (struct span *)|1
 * for the first chunk of a huge block.
 */
#ifndef RTREE_H
#define RTREE_H

#include <stdatomic.h>
#include <stdint.h>
#include "config.h"

#define RTREE_LEAF_BITS 14
#define RTREE_ROOT_BITS (48 - LG_CHUNK - RTREE_LEAF_BITS)

extern _Atomic(uintptr_t *) rtree_root[1u << RTREE_ROOT_BITS];

ALWAYS_INLINE uintptr_t rtree_get(uintptr_t addr)
{
    uintptr_t *leaf = atomic_load_explicit(&rtree_root[(addr >> (LG_CHUNK + RTREE_LEAF_BITS)) &
                                                       ((1u << RTREE_ROOT_BITS) - 1)],
                                           memory_order_acquire);
    if (unlikely(leaf == NULL))
        return 0;
    return atomic_load_explicit((_Atomic uintptr_t *)&leaf[(addr >> LG_CHUNK) &
                                                           ((1u << RTREE_LEAF_BITS) - 1)],
                                memory_order_acquire);
}

/* Set the value for the chunk containing addr; 0 or ENOMEM. */
int rtree_set(uintptr_t addr, uintptr_t value) WARN_UNUSED;

#endif
