/*
 * arena: owns chunks and the pages inside them, for a set of threads. It
 * hands slab pages to thread heaps (and takes back empty or abandoned ones),
 * serves large blocks as page runs (first fit over size-segregated free
 * spans, coalescing on free); decay.c decides when its free pages are
 * purged (dirty -> muzzy -> clean). Everything here runs under the arena's
 * mutex; the fast paths of malloc and free never get here.
 */
#ifndef ARENA_H
#define ARENA_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "config.h"
#include "decay.h"
#include "lock_depth.h"
#include "sizeclass.h"
#include "span.h"
#include "tcache.h"

/* Free-span bins: one per page count below ARENA_EXACT_PAGES, then four
 * per doubling (each holds runs within a quarter of their size, searched
 * first fit: arena.c, bin_fit) up to CHUNK_PAGES. An exact bin for every
 * count up to 512 made the bins 12 KiB, written over three or four pages
 * of every arena as chunk remainders shrank (bench/xthread_producer_consumer,
 * 8 threads: 116 KiB of arena structs resident, 64 KiB now). */
#define ARENA_EXACT_PAGES 64
#define ARENA_NBINS       (ARENA_EXACT_PAGES + 4 * (LG_CHUNK - LG_PAGE - 6) + 1)
#define ARENA_MAX   4096

struct heap;

/* Per small class counters. A thread heap's pages of a class are its
 * cache of that class (heap.h): taking one from the arena is a fill,
 * giving one back a flush. */
struct bin_stats {
    uint64_t nmalloc;         /* blocks handed out (every request: no cache hits apart) */
    uint64_t ndalloc;         /* blocks returned */
    size_t curregs;           /* blocks live */
    size_t nslabs;            /* slab pages live */
    uint64_t nfills;          /* slab pages thread heaps took from the arena */
    uint64_t nflushes;        /* slab pages thread heaps gave back (emptied, flushed, abandoned) */
    uint64_t ncreated;        /* slab pages carved from free runs (jemalloc's bins.<j>.nslabs) */
    size_t nonfull;           /* live slab pages with a free block */
};

/* Page-event counters of one small class, under the arena lock
 * (bin_stats' nfills, nflushes, ncreated). */
struct bin_events {
    uint64_t nfills, nflushes, ncreated;
};

/* Per large class counters (jemalloc's lextents), under the arena lock.
 * A block resized in place counts as freed at its old class and allocated
 * at its new one, as jemalloc counts it. */
struct lextent_stats {
    uint64_t nmalloc;         /* blocks taken from the arena */
    uint64_t ndalloc;         /* blocks given back */
};

struct arena_stats {
    size_t mapped;            /* bytes of chunks and huge mappings */
    size_t active_pages;      /* pages in slabs, large and huge blocks */
    size_t ndirty, nmuzzy;    /* free pages not yet purged (dirty) or lazily purged (muzzy) */
    size_t retained;          /* bytes of clean free pages kept mapped */
    uint64_t npurge;          /* purge passes */
    uint64_t nmadvise;        /* ranges purged (madvise calls; a batch may go in one process_madvise) */
    uint64_t purged;          /* pages purged */
    uint64_t large_nmalloc, large_ndalloc;
    uint64_t large_nflushes;  /* batches of cached large blocks threads gave back (tcache.c) */
    size_t large_allocated;   /* bytes in live large and huge blocks */
    size_t slab_pages;        /* pages held by slabs */
    size_t huge_cached;       /* dirty pages in free huge runs (reused before purging) */
    size_t thp_eligible;      /* bytes of live blocks in whole, aligned 2 MiB units (huge runs) */
};

/* An arena's per-class counters, in a base block of their own (arena_new):
 * in struct arena they made it four pages instead of two, written by any
 * use (arena_meta_touch). The live counters come first, under the arena
 * lock; the epoch snapshots after them, under stats_lock, written only
 * when statistics are read. */
struct arena_counts {
    struct bin_events bin_events[NSMALL];       /* slab page fills, flushes, creations per class */
    struct lextent_stats lext[NLEXTENTS];       /* large blocks per large class */
    struct bin_stats snap_bins[NSMALL];         /* per-class counters as of the last epoch */
    struct lextent_stats snap_lext[NLEXTENTS];  /* lext as of the last epoch */
};

/* Laid out by how often a field is touched, and allocated on a page
 * boundary (arena_new): what every arena that serves a thread writes comes
 * first (the locks' and decay schedules' initialization writes them), then
 * the bins (small page counts first: slab runs and large blocks touch
 * them; chunk remainders the coarse bins at their end), then what page
 * releases and abandoned pages touch, and last the epoch snapshots (stats
 * only). Base memory stays untouched (and not resident) where nothing
 * writes: an arena writes one page at creation and two in use, of its
 * two (bench/xthread_producer_consumer; 3-4 of 5 before the coarse bins). */
struct arena {
    pthread_mutex_t lock;
    pthread_mutex_t shared_lock;                /* guards `shared` (taken before `lock`) */
    struct heap *shared;                        /* cache-less small allocations from this arena */
    unsigned index;
    int node;                                   /* NUMA node, -1 if unbound */
    unsigned nthreads;                          /* heaps using this arena (atomic, no lock: arena_choose) */
    unsigned large_calls;                       /* large-block calls (decay tick one in 16) */
    bool pending;                               /* purge work pending (decay_freed sets, decay_run clears) */
    struct span_lru lru[2];                     /* dirty and muzzy free spans, oldest first */
    struct span *huge_cache;                    /* free huge runs, address-ordered (huge.c) */
    size_t huge_req_pages;                      /* pages live huge blocks' callers asked for */
    size_t huge_req_max;                        /* high-water of huge_req_pages (huge.c's resident cap) */
    struct chunk *chunks;                       /* every chunk of this arena */
    struct span *span_cache;                    /* recycled span descriptors */
    struct span *span_fresh, *span_fresh_end;   /* descriptors of the current base batch never used yet */
    struct span *slabs;                         /* live slab pages (stats walk them) */
    uint64_t next_decay_check;                  /* monotonic ns of the next decay tick */
    size_t poke_mark;                           /* ndirty when threads were last poked */
    uint64_t born_ns;                           /* when the arena was created (decay_now; uptime) */
    struct arena_counts *counts;                /* per-class counters, a base block (above) */
    struct arena_stats stats;
    struct decay decay_dirty, decay_muzzy;      /* purge schedules */
    uint64_t binmap[3][(ARENA_NBINS + 63) / 64];/* non-empty bins, by state */
    struct span *bins[ARENA_NBINS][3];          /* free spans by page count (arena.c, bin_of) and state */
    uint64_t retired_nmalloc[NSMALL];           /* nmalloc of slab pages already freed */
    struct span *abandoned[NSMALL];             /* slab pages no heap owns, oldest first */
    struct span *abandoned_last[NSMALL];        /* newest abandoned page per class */
    _Atomic bool abandoned_frees;               /* a remote free hit an abandoned page (heap_sweep) */
    struct arena_stats snap;                    /* stats as of the last epoch */
    /* Large blocks of this arena's threads freed by other threads (arena.c,
     * arena_remote_put), per large class, for this arena's threads to take
     * back without the lock. */
    _Atomic(struct span *) remote[LCACHE_NCLASSES];
    _Atomic bool remote_any;                    /* a block was put since the last drain */
    bool remote_used;                           /* blocks were taken since the last decay run */
    struct span *slab_cache[NSMALL];            /* an emptied slab page per class, kept whole (arena.c) */
    unsigned slab_cached;                       /* pages in slab_cache */
};

/* Count a large block of usable size usize taken from (nmalloc) or given
 * back to (ndalloc) arena a. Lock held. */
static inline void arena_lext_count(struct arena *a, size_t usize, bool alloc)
{
    struct lextent_stats *l = &a->counts->lext[sizeclass_lextent_index(usize)];
    if (alloc)
        l->nmalloc++;
    else
        l->ndalloc++;
}

/* A large block resized in place from old_usize to new_usize: freed at
 * its old class, allocated at its new one (large.nmalloc and ndalloc
 * too, so that they stay the sums over the classes, as jemalloc's). */
static inline void arena_lext_resized(struct arena *a, size_t old_usize, size_t new_usize)
{
    arena_lext_count(a, old_usize, false);
    arena_lext_count(a, new_usize, true);
    a->stats.large_ndalloc++;
    a->stats.large_nmalloc++;
}

/* An arena's lock, counted in lock_depth (lock_depth.h). */
static inline void arena_lock(struct arena *a) { lock_counted(&a->lock); }
static inline bool arena_trylock(struct arena *a) { return trylock_counted(&a->lock); }
static inline void arena_unlock(struct arena *a) { unlock_counted(&a->lock); }
static inline bool arena_lock_or_try(struct arena *a) { return lock_or_try(&a->lock); }

/* Lock an arena to allocate from: a itself (waiting for it) normally; when
 * lock_reentered() (a signal handler), a if its lock is free, else the
 * first other arena whose lock is, else a new automatic arena if opt
 * narenas leaves room, else NULL (the caller fails with ENOMEM). Returns
 * the arena locked. */
struct arena *arena_lock_for_alloc(struct arena *a);
/* For a signal handler whose arena is busy (lock_depth.h): the first arena
 * other than skip for which take (a trylock) succeeds, created ones first,
 * then a new automatic one if opt narenas leaves room; NULL if none. */
struct arena *arena_try_others(struct arena *skip, bool (*take)(struct arena *));

extern unsigned arena_count;                    /* arenas that may exist (opt narenas) */
extern struct arena *arenas[ARENA_MAX];
extern ssize_t arena_default_dirty_ms, arena_default_muzzy_ms;

int arena_boot(unsigned narenas) WARN_UNUSED;
/* Arena i, created on first use; NULL on failure or out of range. */
struct arena *arena_get(unsigned i);
/* Create one more arena (arenas.create); returns its index or -1. */
int arena_create(void);
/* Pages in use over all arenas (racy sum, for prof_gdump). */
size_t arena_active_total(void);
/* Number of arenas created so far (automatic and arenas.create). */
unsigned arena_total(void);
/* The arena for a new thread heap (fewest threads; attaches the thread). */
struct arena *arena_choose(void);
/* Count a thread in or out of an arena (thread.arena moves threads). No
 * lock: a signal handler may call them (lock_depth.h). */
void arena_thread_attach(struct arena *a);
void arena_thread_detach(struct arena *a);

/* A slab page of class cls owned by heap `owner`. *adopted says whether it was
 * an abandoned page (the caller must collect its remote frees). A thread
 * heap on an arena it did not pin (thread.arena) may get a page another
 * automatic arena lends (arena.c, arena_dirty_donor). */
struct span *arena_page_alloc(struct arena *a, unsigned cls, struct heap *owner, bool *adopted);
/* Give back slab page pg (all its blocks free). flush: it leaves a thread
 * heap (counted in bins.<j>.nflushes), not the shared heap. */
void arena_page_free(struct span *pg, bool flush);
/* Give back the slab cache's pages (arena.c) cached since before now less
 * its hold time, or all of them: their pages join the free runs, dirty,
 * on the decay schedule. a->lock held. */
void arena_slab_cache_flush(struct arena *a, uint64_t now, bool all);
/* Put a slab whose owner let go of it on the abandoned list (adoptable by
 * any heap). The caller ran page_collect_never; the page goes back to the
 * arena at once if nothing is out, else when its last block is freed. */
void arena_page_abandon(struct span *pg, bool flush);
/* The last block of an abandoned slab was freed (page_free_remote). */
void arena_abandoned_drained(struct span *pg);

/* A large block of usize bytes at alignment align from arena a, or, with
 * borrow (the caller did not name a: no MALLOCX_ARENA, no thread.arena),
 * from a dirty run another automatic arena lends when a has no free run
 * (arena_dirty_donor). NULL when out of memory. */
void *arena_large_alloc(struct arena *a, size_t usize, size_t align, bool zero, bool borrow);
void arena_large_free(struct span *s);
/* arena_large_free of the n blocks v[0..n) (NULLs skipped; the array is
 * overwritten), taking each arena's lock once for all its blocks. */
void arena_large_free_many(struct span **v, unsigned n);
/* Resize a large block in place to new_usize (a large class); true on success. */
bool arena_large_resize(struct span *s, size_t new_usize, bool zero);

/* Descriptor and huge-block helpers for huge.c (lock held unless noted). */
struct span *arena_span_new(struct arena *a);
/* After arena_span_new failed (base could not map): make sure two
 * descriptors are cached, refilling base from a's free huge runs if the
 * kernel refuses it a mapping. That may shrink or drop free huge runs: the
 * caller holds no pointer to one. False if there is no memory at all. */
bool arena_span_reserve(struct arena *a);
void arena_span_release(struct arena *a, struct span *s);
void arena_lru_push(struct arena *a, struct span *s, unsigned list);
void arena_lru_remove(struct arena *a, struct span *s, unsigned list);

/*
 * Remote-freed large blocks. A large block that a thread of another arena
 * frees (a producer/consumer handing blocks over: the consumer's cache only
 * keeps its own arena's blocks, tcache.h) goes onto a lock-free stack of
 * the arena whose thread allocated it (span.cache_arena), one stack per
 * large class, instead of taking that arena's lock to give the pages back.
 * A thread of that arena whose cache misses (heap.c, large_alloc_miss)
 * takes the class's whole stack, also without the lock: one block serves
 * it, its cache keeps what it has room for, the rest goes back on the
 * stack. It gets the same pages back, whose first pages the program wrote
 * already; mimalloc gets the same from its pages' thread-free lists. Any
 * thread pushes and takes (taking everything at once keeps the stack free
 * of ABA). The blocks count as allocated from the arena's view, as cached
 * ones do (tcache.h), and are marked (span.lcached: a second free is
 * reported). A stack holds at most ARENA_REMOTE_MAX bytes (beyond that a
 * free takes the arena lock, as before); the blocks go back to the arena
 * at the first decay run that finds none taken since the one before
 * (about once a millisecond while the arena's threads tick, every 10 ms
 * from other arenas' ticks; never with dirty and muzzy decay both -1, as
 * dirty pages would stay) and at every forced one (arena.<i>.purge).
 * Every large class (up to LARGE_MAX); arena_large_alloc takes from the
 * stacks too (requests above tcache_max, threads without a cache).
 * Automatic arenas only: an arena made with arenas.create, whose blocks a
 * program places on purpose, gets its blocks back at the free.
 */
#define ARENA_REMOTE_MAX ((size_t)4 << 20)
/* Push live large block s (freed by a thread not of s->cache_arena; its
 * free's accounting, junk and profiler steps done): true if kept, false
 * if the caller gives it back (its class's stack full, or s->cache_arena
 * not an automatic arena). Any thread, any context (lock-free). */
bool arena_remote_put(struct span *s);
/* arena_remote_put for a chain of such blocks of one class and one
 * s->cache_arena, linked by span.next from top (NULL-terminated), each
 * block's span.reserved its place from the chain's bottom (1 .. n, top's
 * n): one compare-and-swap pushes them all (tcache.c, a thread's batch of
 * other arenas' frees). False: nothing pushed, the chain as it was. */
bool arena_remote_put_chain(struct span *top);
/* Every block of a's remote stack of large class c, linked by span.next
 * (still marked lcached), or NULL. Lock-free. */
struct span *arena_remote_take(struct arena *a, size_t c);
/* Put the blocks of list (linked by span.next: what is left of a stack
 * arena_remote_take returned, from some block of it to its end) back on
 * a's stack of class c. Lock-free; walks only the blocks pushed since the
 * take. */
void arena_remote_give_back(struct arena *a, size_t c, struct span *list);
/* Give a's remote blocks back to their arenas when none was taken since
 * the last call, or at once when force. Takes arena locks: call with none
 * held. */
void arena_remote_drain(struct arena *a, bool force);

/* Purge primitives for decay.c (lock held). Take the oldest span of LRU
 * list `list` (0 dirty, 1 muzzy) out of the bins, kind SPAN_BUSY; NULL if
 * the list is empty. */
struct span *arena_purge_take(struct arena *a, unsigned list);
/* Put a purged span back as `state` (SPAN_MUZZY or SPAN_CLEAN) freed at now.
 * Returns the base of a chunk to unmap (CHUNK bytes) once the lock is
 * dropped (retain:false, the chunk became wholly clean), else 0. */
uintptr_t arena_purge_put(struct arena *a, struct span *s, unsigned state, uint64_t now);
/* Collect abandoned pages whose blocks have all been freed. */
void arena_collect_abandoned(struct arena *a);

/* Per-class counters of arena a (lock taken inside). */
void arena_bin_stats(struct arena *a, struct bin_stats out[NSMALL]);

void arena_prefork(void);
void arena_postfork_parent(void);
void arena_postfork_child(void);

#endif
