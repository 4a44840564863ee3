/*
 * stats: allocator-wide counters and the snapshot that `epoch` refreshes
 * (stats.* mallctls), plus malloc_stats_print. Per-thread byte counters
 * live in each heap and are summed here, so the fast path never writes a
 * shared cache line. Two files: stats_heaps.c, what every thread runs (the
 * live-heap list, event counters), and stats.c, what only mallctl and
 * malloc_stats_print run (the snapshot and the printout; cold code).
 */
#ifndef STATS_H
#define STATS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "arena.h"

struct heap;

struct stats_snapshot {
    uint64_t epoch;
    size_t allocated, active, metadata, resident, mapped, retained;
    size_t zero_reallocs; /* realloc(non-NULL, 0) calls so far (stats.zero_reallocs) */
    size_t bg_threads;    /* background threads running (stats.background_thread.num_threads) */
    uint64_t bg_runs;     /* their wakeups (num_runs) */
    uint64_t bg_interval; /* average ns between two wakeups of a thread (run_interval) */
};

extern struct stats_snapshot stats_current;

/* stats_heaps.c's state, read by stats.c. stats_lock guards the list of
 * live heaps (stats_heaps, through all_next), the retired counters and the
 * arenas' snapshots. */
extern pthread_mutex_t stats_lock;
extern struct heap *stats_heaps;
extern uint64_t stats_retired_allocated, stats_retired_deallocated; /* of exited heaps */
extern _Atomic uint64_t stats_orphan_allocated;   /* allocated by threads with no heap */
extern _Atomic uint64_t stats_orphan_deallocated; /* freed by threads with no heap */
extern _Atomic size_t stats_zero_reallocs; /* realloc(p, 0) with p != NULL; rare: one shared counter */

/* Register a live heap, and fold an exiting heap's counters into the totals. */
void stats_heap_register(struct heap *h);
void stats_heap_retire(struct heap *h);
/* Make every thread's next allocation run heap_event (decay work appeared). */
void stats_poke_heaps(void);
/* Count a realloc(p, 0) call with p != NULL (stats.zero_reallocs). */
void stats_note_zero_realloc(void);
/* An allocation (usize bytes) or a free by a thread that has no heap: one
 * that already exited (a pthread key destructor or thread_local destructor
 * running after the allocator's own) or a signal handler interrupting its
 * thread's heap creation. stats.allocated counts them as a heap's bytes
 * would be: a block such a thread allocates and another thread frees
 * leaves stats.allocated where it was. Lock-free, any thread. */
void stats_note_orphan_alloc(size_t usize);
void stats_note_orphan_free(size_t usize);
/* Take back a free stats_note_orphan_free counted twice (an explicit
 * tcache's block, counted when it entered the cache, really freed). */
void stats_note_orphan_free_undo(size_t usize);
/* Refresh the snapshot; returns the new epoch. */
uint64_t stats_refresh(void);
/* One arena's (or all, i == MALLCTL_ARENAS_ALL) counters as of the last epoch. */
void stats_arena_snapshot(unsigned i, struct arena_stats *out, struct bin_stats *bins);
/* The large classes' counters of one arena (or all), as of the last epoch. */
void stats_arena_lextents(unsigned i, struct lextent_stats out[NLEXTENTS]);
/* Sum one arena's counters (or all with i == MALLCTL_ARENAS_ALL) under their locks. */
void stats_arena_sum(unsigned i, struct arena_stats *out);
/* atexit's malloc_stats_print under opt.stats_print (callers test it: this
 * file's code is cold). */
void stats_boot(void);
void stats_prefork(void);
void stats_postfork_parent(void);
void stats_postfork_child(void);

#endif
