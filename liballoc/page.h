/*
 * page: one slab page (a span of kind SPAN_SLAB) serving one small class.
 * Blocks are linked through their first word. The free list is carved
 * lazily so a fresh page touches only the memory it hands out. Remote frees
 * go to the atomic thread_free stack; the owner takes the whole stack in one
 * exchange (page_collect). See span.h for who may touch which field.
 */
#ifndef PAGE_H
#define PAGE_H

#include <stdbool.h>
#include "config.h"
#include "misuse.h"
#include "span.h"

/* thread_free = length << 48 | top block | delayed state (span.h). The
 * length pushed with each block lets the owner take a stack onto an empty
 * free list without walking it: the walk touched every block, each a cache
 * line another core wrote last (xthread-8t spent 28% of its samples there);
 * malloc then reaches them one at a time, the next one prefetched. User
 * addresses are below 2^47 on x86-64 (2^48 on arm64) unless mmap is given a
 * hint above, which the allocator never gives. A page holds < 2^16 blocks. */
#define TF_SHIFT     48
#define TF_STATE(tf) ((unsigned)((tf) & 3))
#define TF_BLOCK(tf) ((void *)((tf) & (((uintptr_t)1 << TF_SHIFT) - 4)))
#define TF_COUNT(tf) ((unsigned)((tf) >> TF_SHIFT))

/* Full-page notifications in a row (first remote frees into full pages of
 * one owner, page_free_remote) with the owner's `allocated` unchanged after
 * which its pages are taken from it (page.c says why this many). */
#define PAGE_TAKE_AFTER 32

/* Prepare span s (pages already reserved) as an empty slab of class cls. */
void page_init(struct span *s, unsigned cls);
/* The most bytes of blocks page_extend carves at once (page.c). */
#define PAGE_CARVE_MAX ((uint32_t)8192)
/* Carve more never-used blocks into the free list (owner only): as many as
 * were carved before, between one OS page's worth and PAGE_CARVE_MAX
 * bytes' worth (at least one block). */
void page_extend(struct span *pg);
/* Move remotely freed blocks onto the free list; returns how many (owner only). */
unsigned page_collect(struct span *pg);
/* Free a block from a thread that does not own the page (lock-free). It
 * also leaves a hint for reclaiming: on a full page's first remote free the
 * owner heap's remote_pending; on an abandoned page its arena's
 * abandoned_frees (heap_sweep reads both). */
void page_free_remote(struct span *pg, void *block);
/* page_free_remote's common case, inline: pg's stack in state DELAY_NONE
 * (an owner that uses the page: not full, not abandoned) takes the block
 * with one compare-and-swap, nothing else to do. False in any other state:
 * nothing pushed and no free mark left on the block (the callers' general
 * path asks for the mark first: a mark left by a lost race with the owner,
 * which made the page full or abandoned it meanwhile, made that free a
 * "double free", reported and the block leaked), and page_free_remote does
 * the rest. */
ALWAYS_INLINE bool page_free_remote_fast(struct span *pg, void *block)
{
    DASSERT((uintptr_t)block >> TF_SHIFT == 0);
    uintptr_t tf = atomic_load_explicit(&pg->thread_free, memory_order_relaxed);
    if (TF_STATE(tf) != DELAY_NONE)
        return false;
    misuse_set_free(block); /* free from here on, whatever list it joins */
    uintptr_t nt;
    do {
        if (unlikely(TF_STATE(tf) != DELAY_NONE)) {
            misuse_set_live(block); /* not pushed: not free yet (above) */
            return false;
        }
        misuse_link_set(block, TF_BLOCK(tf));
        nt = ((uintptr_t)(TF_COUNT(tf) + 1) << TF_SHIFT) | (uintptr_t)block | DELAY_NONE;
    } while (!atomic_compare_exchange_weak_explicit(&pg->thread_free, &tf, nt, memory_order_release,
                                                    memory_order_relaxed));
    return true;
}
/* Collect every remote free and switch to DELAY_NEVER in one step, arming
 * abandon_left for arena_page_abandon (owner or lock holder). A caller that
 * holds the DELAY_FREEING state itself passes own_freeing. */
unsigned page_collect_never(struct span *pg, bool own_freeing);
/* True if other threads freed blocks onto pg that were not collected yet. */
static inline bool page_has_remote(struct span *pg)
{
    return (atomic_load_explicit(&pg->thread_free, memory_order_relaxed) & ~(uintptr_t)3) != 0;
}
/* Set the delayed-free state (see span.h); waits out a notifier in flight.
 * Returns false if state is DELAY_USE and remote frees are pending. */
bool page_set_delayed(struct span *pg, unsigned state, bool override_never);

#endif
