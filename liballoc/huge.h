/*
 * huge: blocks above LARGE_MAX (1 MiB). Each one is a run of whole 2 MiB
 * units, starting on a 2 MiB boundary (or the requested larger alignment),
 * carved from regions of address space the arena maps 64 MiB at a time, so
 * transparent huge pages can back it. Freed runs stay in an address-ordered
 * list, coalesce with free neighbours and are reused best-fit (dirty ones
 * first, no page faults); a freed run that coalesces to 8 MiB or more is
 * purged at once (as jemalloc's opt.oversize_threshold); decay purges the
 * other dirty runs with MADV_DONTNEED and
 * keeps the address space (clean runs), unmapping clean space beyond
 * HUGE_RETAIN_MAX. The unused tail of a block's last 2 MiB unit (under
 * 2 MiB) is never touched by its owner.
 */
#ifndef HUGE_H
#define HUGE_H

#include <stdbool.h>
#include <stddef.h>
#include "arena.h"

void *huge_alloc(struct arena *a, size_t usize, size_t align, bool zero);
void huge_free(struct span *s);
/* Resize to new_usize keeping the address (shrink, or grow into a free
 * neighbour); false if it cannot. */
bool huge_resize_in_place(struct span *s, size_t new_usize, bool zero);
/* Purge dirty free runs older than the decay time (all with force). Lock held. */
void huge_decay_locked(struct arena *a, uint64_t now, bool force);
/* Purge dirty free runs freed no later than older_than (ns), oldest first
 * and whole, until budget pages or more went; returns the pages purged. This
 * is the huge runs' share of the arena's one decay curve (arena_decay): as
 * jemalloc evicts its least recently freed extent whole while the dirty
 * pages exceed the curve's limit. Lock held. */
size_t huge_decay_pages_locked(struct arena *a, size_t budget, uint64_t older_than);

#endif
