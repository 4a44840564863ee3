/*
 * pagemap: page address -> the slab span holding that page, for free's fast
 * path. A two-level radix tree at page granularity (4 KiB), beside the
 * chunk-granularity rtree (rtree.h): free finds a small block's span in
 * two dependent loads instead of three (rtree root, rtree leaf, the
 * chunk's page map). Only slab pages are recorded, from the moment their
 * span becomes a slab (arena_page_alloc) until it is released
 * (page_release_locked); every other page reads 0 and free takes the rtree
 * path, which knows large and huge blocks and pointers that are not ours.
 * Reads are lock-free; leaves are installed once with a compare-and-swap
 * and never freed. A leaf that cannot be allocated leaves its pages at 0:
 * slower frees there, never wrong ones.
 */
#ifndef PAGEMAP_H
#define PAGEMAP_H
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "span.h"

#define PAGEMAP_LEAF_BITS 18
#define PAGEMAP_ROOT_BITS (48 - LG_PAGE - PAGEMAP_LEAF_BITS)

/* As rtree_map: a root slot holds its leaf's address minus leaf_zero's, so
 * the all-zero .bss root means "every leaf is leaf_zero" (all 0) and a
 * lookup needs no test. */
struct pagemap_map {
    _Atomic uintptr_t root[1u << PAGEMAP_ROOT_BITS];
    uintptr_t leaf_zero[1u << PAGEMAP_LEAF_BITS];
};
extern struct pagemap_map pagemap_map;

_Static_assert(sizeof(uintptr_t) == 8, "pagemap_get's shift by LG_PAGE - 3 scales the page index by 8");

/* The slab span holding addr's page, or NULL (not a slab page). */
ALWAYS_INLINE struct span *pagemap_get(uintptr_t addr)
{
    size_t i = (addr >> (LG_PAGE + PAGEMAP_LEAF_BITS)) & ((1u << PAGEMAP_ROOT_BITS) - 1);
    /* The entry's byte offset in its leaf, (addr >> LG_PAGE) * 8 masked to
     * the leaf, in one shift and one mask (the page index and its scaling
     * cost gcc a move more). */
    size_t off = (addr >> (LG_PAGE - 3)) & (((size_t)1 << PAGEMAP_LEAF_BITS) - 1) * sizeof(uintptr_t);
    uintptr_t base =
        (uintptr_t)&pagemap_map + atomic_load_explicit(&pagemap_map.root[i], memory_order_acquire);
    __asm__("" : "+r"(base)); /* keep base + off as the load's address, no add */
    return (struct span *)atomic_load_explicit(
        (_Atomic uintptr_t *)(base + offsetof(struct pagemap_map, leaf_zero) + off),
        memory_order_acquire);
}

/* Record s (or NULL) for the npages pages from start. Arena lock held. */
void pagemap_set(uintptr_t start, size_t npages, struct span *s);
#endif
