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
#include "span.h"

/* Full-page notifications in a row (first remote frees into full pages of
 * one owner, page_free_remote) with the owner's `allocated` unchanged after
 * which its pages are taken from it (page.c says why this many). */
#define PAGE_TAKE_AFTER 32

/* Prepare span s (pages already reserved) as an empty slab of class cls. */
void page_init(struct span *s, unsigned cls);
/* Carve more never-used blocks into the free list (owner only). */
void page_extend(struct span *pg);
/* Move remotely freed blocks onto the free list; returns how many (owner only). */
unsigned page_collect(struct span *pg);
/* Free a block from a thread that does not own the page (lock-free). It
 * also leaves a hint for reclaiming: on a full page's first remote free the
 * owner heap's remote_pending; on an abandoned page its arena's
 * abandoned_frees (heap_sweep reads both). */
void page_free_remote(struct span *pg, void *block);
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
