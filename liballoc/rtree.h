/*
 * rtree: a two-level radix tree from chunk address (2 MiB granularity) to
 * that chunk's metadata, so free() finds the owner of any pointer in two
 * loads and recognises pointers that are not ours. (A small block's free
 * first asks the page-granularity pagemap.h, which knows slab pages only
 * and gives their span in two loads, one fewer than rtree and chunk map.) Reads are lock-free;
 * leaves are installed once with a compare-and-swap and never freed.
 * Values: a struct chunk * | 2 for chunks cut into spans, or
 * (struct span *)|1 for the first chunk of a huge block (0: not ours). The
 * chunk tag is a bit of its own so that "a chunk" is one bit test (0 and
 * huge values both fail it) and the tag folds into the page-map load's
 * displacement: free's fast path pays one test for "ours and cut into
 * spans". This header owns that
 * encoding: every writer and reader goes through the helpers below
 * (rtree_value_span, the one decode, and its parts), so no other file
 * tests the low bit or turns a value into a span by hand.
 */
#ifndef RTREE_H
#define RTREE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "span.h"

#define RTREE_LEAF_BITS 14
#define RTREE_ROOT_BITS (48 - LG_CHUNK - RTREE_LEAF_BITS)

/* The root, and the leaf every root slot with no leaf of its own stands for
 * (all 0: "not ours"). A root slot holds its leaf's address minus
 * leaf_zero's, so the all-zero root of .bss already means "every slot:
 * leaf_zero": a lookup is two dependent loads and an add, no test (the free
 * fast path's cost, heap.h), and the library needs no relocated table (a
 * root of 8192 initialised pointers cost every process 280 KiB of RSS in
 * relocations and dirty data). Both zero, so neither takes RSS until read. */
struct rtree_map {
    _Atomic uintptr_t root[1u << RTREE_ROOT_BITS];
    uintptr_t leaf_zero[1u << RTREE_LEAF_BITS];
};
extern struct rtree_map rtree_map;

/* The leaf of root slot i. */
ALWAYS_INLINE uintptr_t *rtree_leaf(size_t i)
{
    return (uintptr_t *)((char *)rtree_map.leaf_zero +
                         atomic_load_explicit(&rtree_map.root[i], memory_order_acquire));
}

ALWAYS_INLINE uintptr_t rtree_get(uintptr_t addr)
{
    size_t i = (addr >> (LG_CHUNK + RTREE_LEAF_BITS)) & ((1u << RTREE_ROOT_BITS) - 1);
    size_t j = (addr >> LG_CHUNK) & ((1u << RTREE_LEAF_BITS) - 1);
    /* leaf_zero + offset + 8j: one add, the rest in the load's address. */
    uintptr_t base = (uintptr_t)&rtree_map +
                     atomic_load_explicit(&rtree_map.root[i], memory_order_acquire);
    __asm__("" : "+r"(base)); /* keep 8j as the load's scaled index */
    return atomic_load_explicit(
        (_Atomic uintptr_t *)(base + offsetof(struct rtree_map, leaf_zero) + j * sizeof(uintptr_t)),
        memory_order_acquire);
}

/* ---- the value encoding ---- */

/* Low bit of a value: it is a huge block's span, not a chunk. */
#define RTREE_HUGE_BIT ((uintptr_t)1)
/* Second bit: it is a chunk cut into spans. */
#define RTREE_CHUNK_BIT ((uintptr_t)2)

/* The value recording a chunk cut into spans. */
ALWAYS_INLINE uintptr_t rtree_value_chunk(struct chunk *c) { return (uintptr_t)c | RTREE_CHUNK_BIT; }
/* The value recording the first chunk of the huge block s. */
ALWAYS_INLINE uintptr_t rtree_value_huge(struct span *s) { return (uintptr_t)s | RTREE_HUGE_BIT; }

/* True when v is a chunk cut into spans (not 0, not a huge block). */
ALWAYS_INLINE bool rtree_is_chunk(uintptr_t v) { return (v & RTREE_CHUNK_BIT) != 0; }
/* True when v is the first chunk of a huge block. */
ALWAYS_INLINE bool rtree_is_huge(uintptr_t v) { return (v & RTREE_HUGE_BIT) != 0; }

/* The chunk of a value that is a chunk or 0 (then NULL). */
ALWAYS_INLINE struct chunk *rtree_chunk(uintptr_t v) { return (struct chunk *)(v & ~RTREE_CHUNK_BIT); }
/* The span of a value for which rtree_is_huge holds. */
ALWAYS_INLINE struct span *rtree_huge_span(uintptr_t v)
{
    return (struct span *)(v & ~RTREE_HUGE_BIT);
}

/* Index in a chunk's page map of the page holding addr. */
ALWAYS_INLINE size_t rtree_chunk_page(uintptr_t addr) { return (addr >> LG_PAGE) & (CHUNK_PAGES - 1); }

/* The page-map entry for addr in a value for which rtree_is_chunk holds
 * (span_none, or a stale span when addr is inside a large run, not on its
 * first or last page, or on free pages: callers check the span's kind and
 * that it covers addr). Never NULL. */
ALWAYS_INLINE struct span *rtree_chunk_span(uintptr_t v, uintptr_t addr)
{
    /* v - RTREE_CHUNK_BIT, not a mask: the subtraction folds into the load. */
    return ((struct chunk *)(v - RTREE_CHUNK_BIT))->map[rtree_chunk_page(addr)];
}

/* The span that v (the value rtree_get(addr) returned) records for addr:
 * the huge block's span, the page-map entry of a chunk, or NULL for 0.
 * The one decode of a value; the free fast path uses its two halves. */
ALWAYS_INLINE struct span *rtree_value_span(uintptr_t v, uintptr_t addr)
{
    if (rtree_is_huge(v))
        return rtree_huge_span(v);
    return v ? rtree_chunk_span(v, addr) : NULL;
}

/* Set the value for the chunk containing addr; 0 or ENOMEM. */
int rtree_set(uintptr_t addr, uintptr_t value) WARN_UNUSED;

/* The leaf a root slot stands for, in the encoding rtree_map and
 * pagemap_map share (the slot holds the leaf's address minus zero's, the
 * all-zero leaf's): installed first if the slot is still 0 (a fresh
 * zeroed leaf of bytes from base_alloc, compare-and-swapped in; a loser
 * uses the winner's, its own is lost metadata). NULL when no leaf was
 * there and none could be allocated. Thread-safe. */
uintptr_t *rtree_leaf_install(_Atomic uintptr_t *slot, uintptr_t *zero, size_t bytes);

#endif
