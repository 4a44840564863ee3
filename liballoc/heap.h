/*
 * heap: the per-thread heap, which is the thread cache. For each small class
 * it keeps a queue of slab pages it owns; malloc pops the current page's
 * free list and free pushes onto the owning page's list, both without locks
 * or atomic read-modify-writes. Frees from other threads go to the page's
 * atomic thread_free list (page.h). Pages that fill up move to a full list;
 * the first remote free into a full page notifies the heap through
 * delayed_free. At thread exit pages are handed back to the arena (empty
 * ones freed, others abandoned for adoption).
 *
 * Fast-path cost, measured on the built library by scripts/fastpath_count.sh
 * (single-stepped under gdb, entry to return; gcc 12 -O2, x86-64). Re-run it
 * after touching these paths and update the numbers here: the test
 * tests/apps/fastpath_count.sh fails when they drift by more than 3.
 *   malloc: 25 instructions on a thread-cache hit with no event (TLS load,
 *     size test, class table lookup, pop, used/nmalloc/allocated updates,
 *     one compare against next_event for sampling and decay ticks);
 *   free: 33 instructions for a local free of an unsampled small block
 *     whose page stays in use (two-level radix lookup, chunk page map, owner
 *     compare, push, deallocated add, used decrement).
 * For scale, the same measure gives jemalloc 5.3 (Debian) 30 and 37.
 */
#ifndef HEAP_H
#define HEAP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "config.h"
#include "sizeclass.h"
#include "span.h"

struct arena;

struct span_queue {
    struct span *first, *last;
};

struct heap {
    struct span *pages[NSMALL];         /* current page per class (first of queue) or &span_empty */
    uint64_t allocated;                 /* bytes this thread allocated (thread.allocated) */
    uint64_t next_event;                /* min(prof_next, tick_next): when heap_event runs */
    uint64_t deallocated;               /* bytes this thread freed (thread.deallocated) */
    uint64_t prof_next;                 /* `allocated` value of the next profiler sample */
    uint64_t tick_next;                 /* `allocated` value of the next decay tick */
    uint64_t tick_bytes;                /* adaptive bytes between decay ticks */
    uint64_t last_tick_ns;              /* when this thread last ticked decay */
    struct span_queue queue[NSMALL];    /* owned pages with room, per class */
    struct span_queue full;             /* owned pages with no room */
    _Atomic(void *) delayed_free;       /* blocks other threads freed into our full pages */
    struct arena *arena;                /* where fresh pages and large blocks come from */
    bool arena_explicit;                /* thread.arena pinned the arena (no NUMA moves) */
    struct heap *next_free;             /* recycled heaps */
    struct heap *all_next, *all_prev;   /* every live heap (stats) */
    uint64_t thread_uid;                /* 0, 1, 2... in creation order */
    unsigned page_allocs;               /* pages taken from the arena (drives periodic collection) */
    bool tcache;                        /* false: every small request goes through the shared heap */
    bool dying;                         /* thread exit in progress */
    bool shared;                        /* this is the locked shared heap */
    void *prof;                         /* profiler's per-thread state */
};

extern struct heap heap_empty;
extern struct span span_empty;
extern __thread struct heap *heap_tls __attribute__((tls_model("initial-exec")));

void *heap_alloc_small_slow(struct heap *h, size_t size) NOINLINE;
/* Sampling and decay-tick events for block p of size (requested) bytes. */
void *heap_event(struct heap *h, void *p, size_t size, size_t usize) NOINLINE;
/* Allocate usize bytes (any class) at alignment align, zeroed if asked. */
void *heap_alloc_general(struct heap *h, size_t size, size_t align, bool zero, bool no_tcache,
                         struct arena *arena);
/* Free p whose span is s (NULL if unknown) from heap h. */
void heap_free_slow(struct heap *h, void *p, uintptr_t rtree_value) NOINLINE;
void heap_page_retire(struct heap *h, struct span *pg) NOINLINE;
/* The calling thread's real heap (creating it), or NULL if it cannot have one. */
struct heap *heap_get(void);
/* Give all cached pages back to the arena (thread.tcache.flush, exit). */
void heap_flush(struct heap *h);
void heap_set_tcache(struct heap *h, bool enabled);
/* Move to an arena of the caller's NUMA node if it changed. */
void heap_follow_node(struct heap *h);
int heap_boot(void) WARN_UNUSED;
void heap_prefork(void);
void heap_postfork_parent(void);
void heap_postfork_child(void);

ALWAYS_INLINE void *heap_alloc_small(struct heap *h, size_t size)
{
    struct span *pg = h->pages[sizeclass_small_index(size)];
    void *b = pg->free;
    if (unlikely(b == NULL))
        return heap_alloc_small_slow(h, size);
    pg->free = *(void **)b;
    pg->used++;
    pg->nmalloc++;
    uint64_t a = h->allocated + pg->block_size;
    h->allocated = a;
    if (unlikely(a >= h->next_event))
        return heap_event(h, b, size, pg->block_size);
    return b;
}

#endif
