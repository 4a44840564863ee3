/*
 * huge: blocks above LARGE_MAX (1 MiB). Each one is a run of whole 2 MiB
 * units, starting on a 2 MiB boundary (or the requested larger alignment),
 * carved from regions of address space the arena maps 64 MiB at a time, so
 * transparent huge pages can back it. Freed runs stay in an address-ordered
 * list and coalesce with free neighbours of the same state; a new block
 * may span adjacent free runs of any state, placed so that its slack (the
 * units past the last one asked for) lies on the fewest dirty pages and
 * its used part on the most (fewest page faults, least growth of the
 * resident footprint), then best fit. Dirty runs follow the arena's decay
 * schedule and its wave rule (decay.h) like page runs: churn of big blocks
 * reuses them without page faults, a wave of frees nothing reuses is
 * purged at once.
 * What stays resident is bounded (huge.c, resident_cap): a block placed on
 * dirty pages has the whole units past the last one its caller asked for
 * purged before it is handed out; the dirty runs are held within the
 * headroom between the pages asked for now and the most ever asked for at
 * once (oldest purged first); a freed block's whole units that no page of
 * is resident go back clean.
 * Purged runs keep their address space (clean runs) up to HUGE_RETAIN_MAX
 * and are unmapped beyond it or with retain:false. The unused tail of a block's last 2 MiB unit (under
 * 2 MiB) is never touched by its owner. When the kernel refuses a mapping,
 * the free runs are the reserve: arenas cut chunks and metadata out of
 * them, and they are given back to make room for a new mapping (below).
 */
#ifndef HUGE_H
#define HUGE_H

#include <stdbool.h>
#include <stddef.h>
#include "arena.h"

/* A block of usize bytes (a huge size class) for a request of size bytes
 * (size <= usize: whole 2 MiB units past it may be handed out purged, see
 * huge.c's tail_from); zeroed up to usize if zero. NULL if out of memory. */
void *huge_alloc(struct arena *a, size_t size, size_t usize, size_t align, bool zero);
void huge_free(struct span *s);
/* Resize to new_usize (a huge size class) keeping the address (shrink, or
 * grow into a free neighbour), for a request of size bytes (size <=
 * new_usize: what the resident cap counts and the THP marks follow, as
 * huge_alloc's); false if it cannot. */
bool huge_resize_in_place(struct span *s, size_t size, size_t new_usize, bool zero);
/* Purge primitives for decay.c (a->lock held). The dirty free run freed
 * longest ago, or NULL (not taken out). */
struct span *huge_purge_oldest(struct arena *a);
/* Take npages, rounded down to whole 2 MiB units, from the tail of dirty run
 * r (all of r if it is not bigger) out of the free list, kind SPAN_BUSY; NULL
 * if that is less than one unit or no descriptor was left for the split. */
struct span *huge_purge_take(struct arena *a, struct span *r, size_t npages);
/* Put back a run decay purged at now: clean in the free list (retain:true;
 * muzzy when !purged, the madvise having failed), or, unmapped with
 * retain:false, its descriptor released. */
void huge_purge_put(struct arena *a, struct span *s, uint64_t now, bool purged);
/* Clean space beyond what the arena retains (HUGE_RETAIN_MAX; none with
 * retain:false), whole 2 MiB units from the tail of one clean run (the
 * excess, or the run if it is smaller), out of the list and of
 * stats.mapped: *addr, *len for the caller to unmap after dropping the
 * lock. False if none. */
bool huge_trim_take(struct arena *a, uintptr_t *addr, size_t *len);

/* Free huge space for other uses when the kernel refuses a mapping (an
 * address-space limit, vm.max_map_count, overcommit): the slow paths that
 * failed to map call these, never the normal paths. */

/* One 2 MiB unit of arena a's free runs, for a new chunk of a or for base
 * metadata: from the run with dirty (or muzzy) pages first, whose pages
 * are resident (clean first if clean_first: contents known to be zero),
 * then the smallest run; its last unit. Out of the free runs, a's
 * stats.mapped (the caller counts it again where it goes) and its dirty
 * decay backlog. *addr: the unit; *dirty: it was not clean (contents
 * undefined). False only if a has no free run. Needs no descriptor.
 * a->lock held. */
bool huge_chunk_take(struct arena *a, bool clean_first, uintptr_t *addr, bool *dirty);
/* Give free huge runs of every arena back to the kernel (munmap), clean
 * ones first, then dirty, smallest first, in whole 2 MiB units from their
 * tails, until want bytes are released or none is left; stats.mapped,
 * retained and the decay backlogs follow. Returns the bytes released (may
 * exceed want by less than a unit; 0: nothing to give back, or an
 * address-space limit (os_as_room) leaves too little room for want even
 * with all of it given back, so nothing was). Takes each arena's lock in
 * turn: the caller holds none. Thread-safe. */
size_t huge_release(size_t want);

#endif
