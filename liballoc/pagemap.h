/*
 * pagemap: page address -> the slab span holding that page, or the large
 * span starting on it, for free's fast path. A two-level radix tree at
 * page granularity (4 KiB), beside the chunk-granularity rtree (rtree.h):
 * free finds a small block's span in two dependent loads instead of three
 * (rtree root, rtree leaf, the chunk's page map). Recorded: every page of
 * a slab, from the moment its span becomes a slab (arena_page_alloc) until
 * it is released (page_release_locked); the first page of a large block,
 * from arena_large_alloc until the block goes back to its arena
 * (large_free_locked), so freeing a large block needs no rtree walk (a
 * large span's owner_tag is 0: free's owner compare sends it to the slow
 * path, with the span). Every other page (a large block's others, huge
 * blocks, pointers that are not ours) reads 0 and free takes the rtree
 * path. Either way a page reads what the chunk's page map holds for it,
 * or 0.
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

/* The slab span holding addr's page or the large span starting on it, or
 * NULL (then ask the rtree). */
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

/* pagemap_set(addr, 1, s) (a large block's first page): a store when the
 * page's leaf is there, the call only to install one. Arena lock held. */
ALWAYS_INLINE void pagemap_set_page(uintptr_t addr, struct span *s)
{
    if (unlikely(addr >> 48))
        return; /* as pagemap_set: not mapped, reads 0 */
    size_t i = addr >> (LG_PAGE + PAGEMAP_LEAF_BITS);
    uintptr_t root = atomic_load_explicit(&pagemap_map.root[i], memory_order_relaxed);
    if (unlikely(root == 0)) {
        if (s != NULL) /* no leaf: the page reads 0 already for NULL */
            pagemap_set(addr, 1, s);
        return;
    }
    uintptr_t *leaf = (uintptr_t *)((char *)pagemap_map.leaf_zero + root);
    size_t j = (addr >> LG_PAGE) & ((1u << PAGEMAP_LEAF_BITS) - 1);
    atomic_store_explicit((_Atomic uintptr_t *)&leaf[j], (uintptr_t)s, memory_order_release);
}
#endif
