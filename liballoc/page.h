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

/* Prepare span s (pages already reserved) as an empty slab of class cls. */
void page_init(struct span *s, unsigned cls);
/* Carve more never-used blocks into the free list (owner only). */
void page_extend(struct span *pg);
/* Move remotely freed blocks onto the free list; returns how many (owner only). */
unsigned page_collect(struct span *pg);
/* Free a block from a thread that does not own the page (lock-free). */
void page_free_remote(struct span *pg, void *block);
/* Set the delayed-free state (see span.h); waits out a notifier in flight.
 * Returns false if state is DELAY_USE and remote frees are pending. */
bool page_set_delayed(struct span *pg, unsigned state, bool override_never);

#endif
