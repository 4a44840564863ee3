/*
 * heap: the per-thread heap, which is the thread cache. For each small class
 * it keeps a queue of slab pages it owns; malloc pops the current page's
 * free list and free pushes onto the owning page's list, both without locks
 * or atomic read-modify-writes. Frees from other threads go to the page's
 * atomic thread_free list (page.h). A page found full on two queue walks
 * in a row moves to a full list (the first time it only goes to the
 * queue's end: heap.c, find_page);
 * the first remote free into a full page notifies the heap through
 * delayed_free. A page its owner's frees empty stays in its queue, carved,
 * for the owner's next mallocs of that class (up to HEAP_KEPT_BYTES a
 * thread; given back first when the thread needs a page from its arena, and
 * by the collection passes when unused: heap.c, heap_page_emptied). At
 * thread exit pages are handed back to the arena (empty ones freed, others
 * abandoned for adoption).
 *
 * Who writes what: every field is the owning thread's, except
 *  - delayed_free: lock-free stack other threads push onto (page.c);
 *  - remote_pending: set by any thread whose free into one of our full pages
 *    notifies us;
 *  - notify_mark, notify_same: written by threads notifying us of a full page's first
 *    remote free (they read `allocated` racily to see whether we run);
 *  - nudge, next_event, free_next: heap_nudge (any thread) sets nudge and
 *    lowers both thresholds to 0 with atomic stores so the owner runs its
 *    event path at its next malloc, or at its next free that takes a slow
 *    path (a page retired, a remote or large block: free's fast path reads
 *    no threshold); the owner reads nudge there. A
 *    nudge that races with the owner resetting its thresholds is only
 *    delayed to the owner's next natural event (nudges are hints). So the
 *    owner, too, stores both thresholds with atomic stores once the heap is
 *    published (heap_create, heap_tick, heap_set_next_event); malloc's fast
 *    path reads next_event with the plain compare counted below (an aligned 8-byte load,
 *    not torn on x86-64; a C11 atomic load costs gcc 12 one more
 *    instruction per path, as it will not fold into the compare). heap_nudge
 *    is the only cross-thread poke: stats (epoch), heap_sweep (any thread's
 *    tick, the background thread) all go through it;
 *  - sweep_mark: the sweeper's (heap_sweep, under heaps_lock); the owner
 *    zeroes it when it collects;
 *  - live_next, live_prev: whoever links or unlinks a neighbour, under
 *    heaps_lock; all_next, all_prev: likewise under stats_lock (stats_heaps.c);
 *    other threads only read `allocated`/`deallocated` (relaxed, stats);
 *  - prof_next, prof: the profiler, on the owning thread only, through
 *    prof_host_sample_wait / prof_host_slot (prof_hooks.h);
 *  - full and the free/nmalloc/nfree/thread_free of pages on it: whoever holds
 *    full_lock, the owner or the sweeper stealing pages of an owner that
 *    did not answer a nudge (blocked or idle). The fast paths never touch
 *    a full page (its owner_tag carries SPAN_TAG_FULL), so they need no lock.
 *
 * Reclaiming remote frees without a background thread:
 *  - a remote free into a full page of an owner that has not allocated a
 *    byte over the last few such notifications (blocked, idle, or gone
 *    quiet) takes the page from it (page.c, under the owner's full_lock) and
 *    abandons it to the arena; a busy owner gets the usual notification and
 *    reuses the page itself;
 *    pages of exited threads are abandoned at exit. An abandoned page counts
 *    its blocks still out (span.abandon_left) and the remote free that
 *    returns the last one gives the page back to the arena at once, so
 *    memory handed to other threads returns as it is freed, whether its
 *    allocating thread exited, idles or is blocked forever;
 *  - any thread's decay tick (allocation or free events) runs heap_sweep at
 *    most every SWEEP_NS: it collects abandoned pages that received frees
 *    (a backstop), nudges live heaps with remote frees pending so their
 *    owners collect them, and takes the full pages of owners that stayed
 *    silent for a sweep period (when the take above lost a lock race).
 *    Pages on an owner's class queues stay its own: its fast paths use them.
 *    A queued page the owner's collection finds empty goes back to the
 *    arena only when the next pass finds it still empty and unused (passes:
 *    every 64 pages taken, a nudge, a tick 10 ms after; heap.c,
 *    heap_collect), so a page that a consumer empties and the producer
 *    soon fills again stays carved for its class.
 *
 * Fast-path cost, measured on the built library by scripts/fastpath_count.sh
 * (single-stepped under gdb, entry to return; gcc 12 -O2, x86-64). Re-run it
 * after touching these paths and update the numbers here: the test
 * tests/apps/fastpath_count.sh fails when they drift by more than 3.
 *   malloc: 25 instructions on a thread-cache hit with no event (TLS load,
 *     size test, the current page by word count up to HEAP_DIRECT_MAX
 *     (pages_direct; sizes above it test once more and go through the
 *     class table: 2 more), pop, a prefetch of the new head's
 *     line (the next pop reads its link), nmalloc/allocated updates (one
 *     count of the page's: blocks out is nmalloc less free's nfree, so the
 *     pop stores one word fewer, 26 when it also kept a blocks-out count;
 *     in the runs where the host slows this VM's CPU, cxx_churn ran
 *     0.54 s against 0.60 s, pinned: stores cost most there; mimalloc's
 *     pop makes 2),
 *     one compare against next_event for sampling and decay ticks). The
 *     misuse checks (misuse.h) are 3 of them: the popped head compared
 *     with the page's carved range instead of NULL (it came from a link a
 *     write after free may have changed; 2 more) and the free mark cleared
 *     (one store at offset 8, every class has that word: 1). 22 before the
 *     checks. The slow paths it tail-calls take size first, as malloc does
 *     (heap_alloc_small_slow, heap_event, heap_alloc_large): no
 *     register move before the jump. A FREE_LIST_PROTECT=1 build adds the link's decoding (a
 *     multiply and an xor: 2, on the chain of dependent loads);
 *   free: 36 instructions for a local free of an unsampled small block
 *     whose page stays in use (the page's slab span from the two-level
 *     pagemap (pagemap.h: no NULL leaf, one test for "a slab page"; 42
 *     through the rtree and the chunk's page map), owner compare, the
 *     misuse checks, push, nfree increment and its compare with nmalloc
 *     (span_count_free: 4, where a blocks-out decrement took 2), deallocated add (one add to
 *     memory: the free-side decay event's compare against free_next runs
 *     when a page retires and on the other slow paths, 39 when every free
 *     made it). The checks are 9 of them: the block-boundary test (offset
 *     from the span's start, a multiply, one compare:
 *     misuse_slab_block_ok; 5) and the free mark (one lea computes it,
 *     compare, store; 4): 27 without them (mimalloc 2.0: 26).
 *     (liballoc.mk turns off gcc's SLP vectoriser, which packed the link
 *     and mark stores into one SSE store at the cost of one instruction
 *     more and a move between register files.) They are what makes a
 *     double or interior free detectable before it corrupts a free list
 *     (docs/misuse.md has their cost on the benchmarks,
 *     bench/check_cost measures it);
 *   free (remote): 75 instructions for a small block of a page another
 *     live thread heap uses (not full, not sampled): free's lookup and
 *     owner compare, then heap_free_span_slow's block checks, the page's
 *     flags and one compare-and-swap pushing it on the page's thread_free
 *     (page_free_remote_fast), the deallocated add and the free-side event
 *     compare, in a function that saves no register (146 through
 *     free_live and page_free_remote; mimalloc 2.0: 73);
 *   malloc (large, cached): 73 instructions (7 of them thread.peak's note,
 *     large_hit_count), free (large, cached): 92
 *     (94 without the misuse checks), for a 64 KiB block the thread's
 *     cache of large blocks (tcache.h) serves and keeps (184 and 208
 *     through heap_alloc_general and free_live; mimalloc 2.0: 159 and 94).
 *     Free finds the span in the pagemap, which records a large block's
 *     first page (pagemap.h: no rtree walk); both paths pop or push the
 *     cache inline (tcache_large_pop/push: the class from a table, no bit
 *     scan), save no register and keep the rare steps (a signal handler's
 *     deferred frees, events, junk) out of line (118 and 152 before).
 * For scale, the same measure gives jemalloc 5.3 (Debian) 30 and 37.
 */
#ifndef HEAP_H
#define HEAP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "config.h"
#include "misuse.h"
#include "pagemap.h"
#include "rtree.h"
#include "sizeclass.h"
#include "span.h"
#include "tcache.h"

struct arena;

struct span_queue {
    struct span *first, *last;
};

/* Pages a heap takes from its arena between two collections of its queued
 * pages' remote frees (heap.c, heap_collect). */
#define HEAP_COLLECT_PAGES 64

/* Emptied pages a thread keeps whole for its own next mallocs (heap.c,
 * heap_page_emptied): at most HEAP_KEPT_BYTES bytes a thread,
 * HEAP_KEPT_TOTAL bytes in the process. */
#define HEAP_KEPT_BYTES ((size_t)16 << 20)
#define HEAP_KEPT_TOTAL ((size_t)64 << 20)

/* Requests up to HEAP_DIRECT_MAX bytes find their class's current page by
 * word count, h->pages_direct[(size + 7) / 8], with no class-table load
 * (heap_small_page): one dependent load less on malloc's fast path, and one
 * cache line read instead of a table line and a pages[] line. 1 KiB covers
 * the sizes most programs allocate most (mimalloc draws the same line). */
#define HEAP_DIRECT_MAX 1024
#define HEAP_DIRECT_N ((HEAP_DIRECT_MAX >> 3) + 1)

_Static_assert(NSMALL <= 64, "heap.took has a bit per small class");

struct heap {
    struct span *pages[NSMALL];         /* current page per class (first of queue) or &span_empty */
    /* pages[] again, by word count: pages_direct[w] is pages[class of w * 8
     * bytes] for every w <= HEAP_DIRECT_MAX / 8 (heap.c, set_current keeps
     * both). */
    struct span *pages_direct[HEAP_DIRECT_N];
    /* The fast paths' fields, allocated to link_inv: one cache line of
     * their own (eight words), so malloc and free each read one line of the
     * heap besides pages[] (link_inv used to start a second line). */
    _Alignas(64) uint64_t allocated;    /* bytes this thread allocated (thread.allocated) */
    uint64_t next_event;                /* min(prof_next, tick_next): when heap_event runs */
    uint64_t deallocated;               /* bytes this thread freed (thread.deallocated) */
    uint64_t free_next;                 /* `deallocated` value of the next free-side decay tick (slow paths) */
    uintptr_t link_key, link_mul, link_inv; /* copies of misuse_link_*, for the fast paths' links */
    uint64_t prof_next;                 /* `allocated` value of the next profiler sample */
    uint64_t tick_next;                 /* `allocated` value of the next decay tick */
    uint64_t tick_bytes;                /* adaptive allocated bytes between decay ticks */
    uint64_t free_tick_bytes;           /* adaptive freed bytes between decay ticks */
    uint64_t last_tick_ns;              /* when this thread last ticked decay */
    struct span_queue queue[NSMALL];    /* owned pages with room, per class */
    struct span_queue full;             /* owned pages with no room */
    /* Fields other threads touch, on a cache line of their own so remote
     * frees do not bounce the owner's lines (and the reverse). */
    _Alignas(64) _Atomic(void *) delayed_free; /* blocks other threads freed into our full pages */
    _Atomic uint32_t remote_pending;    /* other threads freed into our pages since we last collected */
    _Atomic uint32_t nudge;             /* heap_nudge: collect and tick at the next event */
    _Atomic uint64_t sweep_mark;        /* when the sweeper nudged us for remote_pending (0: not yet) */
    _Atomic uint64_t notify_mark;       /* `allocated` + 1 at the last full-page notification (page.c) */
    _Atomic uint32_t notify_same;       /* notifications in a row with `allocated` unchanged */
    _Alignas(64) pthread_mutex_t full_lock; /* guards `full` and its pages' lists (owner, takers) */
    struct heap *live_next, *live_prev; /* live thread heaps (heap_sweep), under heaps_lock */
    struct arena *arena;                /* where fresh pages and large blocks come from */
    bool arena_explicit;                /* thread.arena pinned the arena (no NUMA moves, no pages
                                         * lent by other arenas: arena.c, arena_dirty_donor) */
    struct heap *next_free;             /* recycled heaps */
    struct heap *all_next, *all_prev;   /* every live heap (stats) */
    uint64_t thread_uid;                /* 0, 1, 2... in creation order */
    unsigned page_allocs;               /* pages taken from the arena (a collection every HEAP_COLLECT_PAGES) */
    unsigned collect_marked;            /* empty pages the last heap_collect pass marked (heap.c) */
    uint64_t shared_empty;              /* a shared heap's classes whose page was empty at the
                                         * last sweep, one bit each (heap.c, shared_sweep) */
    uint64_t collect_ns;                /* when that pass ran (decay_now) */
    /* Emptied pages kept whole, not reused since (heap_page_emptied), in
     * the order they were kept, linked through their lru_next/lru_prev
     * (which only free spans in an arena use otherwise). */
    struct span_lru kept;
    unsigned kept_n;                    /* pages on that list */
    size_t kept_bytes;                  /* their bytes */
    uint64_t took;                      /* bit per class: took a page from the arena since the last
                                         * collection pass (heap_page_emptied keeps pages of those only) */
    uint64_t nticks;                    /* decay ticks run (heap_tick; white-box tests) */
    uint64_t peak_mark;                 /* allocated - deallocated at the last thread.peak.reset */
    uint64_t peak;                      /* highest net allocation seen since (thread.peak.read) */
    uint32_t tick_skips;                /* large blocks' ticks, every DECAY_TICK_CALLS-th runs */
    bool tcache;                        /* false: every small request goes through the shared heap */
    bool dying;                         /* thread exit in progress */
    bool shared;                        /* this is the locked shared heap */
    void *prof;                         /* profiler's per-thread state */
    struct tcache_large large;          /* cached large blocks (tcache.h), owner only */
};

extern struct heap heap_empty;
extern struct span span_empty;
extern __thread struct heap *heap_tls __attribute__((tls_model("initial-exec")));

/* malloc's small slow path. size comes first, as in malloc's own
 * arguments: the fast path's tail call then moves no register (size stays
 * in the first). */
void *heap_alloc_small_slow(size_t size, struct heap *h) NOINLINE;
/* Sampling and decay-tick events for block p of size (requested) bytes.
 * Returns the block to hand out: p, or another block of the same class when
 * the profiler sampled p (heap_sample_relocate), so callers fill the block
 * (zero, junk) after this call, never before. size first, as in malloc's
 * arguments: the fast path's tail call moves no register for it (as
 * heap_alloc_small_slow). */
void *heap_event(size_t size, struct heap *h, void *p, size_t usize) NOINLINE;
/* malloc of size bytes above SMALL_MAX: a hit in the thread's cache of
 * large blocks (tcache.h) without heap_alloc_general's steps (no arena is
 * involved), else heap_alloc_general. Owner thread. */
void *heap_alloc_large(size_t size, struct heap *h) NOINLINE;
/* Allocate usize bytes (any class) at alignment align, zeroed if asked. */
void *heap_alloc_general(struct heap *h, size_t size, size_t align, bool zero, bool no_tcache,
                         struct arena *arena);
/* Unlink pg from h's full list (full_lock held; page.c takes full pages). */
void heap_full_unlink(struct heap *h, struct span *pg);
/* h's owner looks stopped (page.c: it allocated nothing over TAKE_AFTER
 * full-page notifications): take all its full pages that have free or
 * remotely freed blocks, as heap_sweep does for a silent owner. Any thread
 * but the owner; does nothing if h's full_lock is busy. */
void heap_take_idle(struct heap *h);
/* Ask h's owner (any thread may call) to run its event path soon. */
void heap_nudge(struct heap *h);
/* Reclaim remote frees of idle, blocked and exited threads (see above);
 * rate-limited, cheap when not due. Call with no allocator lock held. */
void heap_sweep(uint64_t now);
/* True if p (not NULL) is a live block; else reports "func(): ..." with
 * its address (misuse.h; abort under opt.abort) and returns false. Racy
 * against a concurrent free of p by another thread, as any such check. */
bool heap_ptr_check(void *p, const char *func);
/* heap_free_slow for a p whose radix-tree value is a chunk and whose
 * page-map entry there is s (free's fast path found it): the same checks
 * and reports, no second lookup. */
void heap_free_span_slow(void *p, struct heap *h, struct span *s) NOINLINE;
/* heap_live_span's verdict on everything but a live slab block: p's span
 * when p is a live large or huge block, else NULL after the report. */
struct span *heap_live_span_slow(void *p, uintptr_t rtree_value, const char *func) NOINLINE;
/* Free live block p of span s (heap_live_span's answer, p not freed since)
 * from heap h: heap_free_slow without its lookup and checks, for callers
 * that made them already (realloc's move). */
void heap_free_live(struct heap *h, void *p, struct span *s) NOINLINE;
/* Free block p taken from the calling thread's deferred list (defer.h)
 * now; returns the next block on the list after p, or NULL at its end or
 * when p's link was overwritten (reported; the blocks after it are left
 * unfreed: nothing wild is followed). */
void *heap_free_deferred(void *p);
/* Free p whose radix-tree value is rtree_value from heap h. A pointer that
 * is not a live block (double free, interior, wild) is reported with its
 * address and ignored (misuse.h). p comes first: free's fast path then
 * tail-calls it with p still in the first argument register (one move
 * less on that path). All the free slow paths defer the free when the
 * calling thread is inside a slow path already (a signal handler's free:
 * defer.h); the allocation slow paths, heap_event, heap_flush and thread
 * exit are such sections. */
void heap_free_slow(void *p, struct heap *h, uintptr_t rtree_value) NOINLINE;
void heap_page_retire(struct heap *h, struct span *pg) NOINLINE;
/* The profiler's just-sampled small block p (usable size usize, allocated by
 * h's thread, not yet handed out or filled) moved off h's own page: a block
 * of the same class from the arena's shared heap is returned in its place
 * (contents not copied), and p goes back to its page as if never allocated (stats
 * count one allocation). So no page of the thread heap carries
 * SPAN_TAG_SAMPLED and its frees keep the one-compare fast path; the
 * shared heap's blocks always take the slow free path, where the profiler
 * check costs nothing extra. Returns p itself when p is not a small block
 * on a non-full page h owns, or the shared heap has no block. Owner thread
 * only; takes the arena's shared_lock. */
void *heap_sample_relocate(struct heap *h, void *p, size_t usize);
/* A block of `bytes` usable bytes realloc'd to its own size, in place:
 * counted as a free and an allocation of `bytes` (thread.deallocated,
 * thread.allocated), as jemalloc counts it, but as no new memory: every
 * threshold moves on by as much (the decay ticks, the next sample, the
 * event), so it runs no event, and its bytes are not sampled (a same-size
 * realloc changes no in-use bytes; jemalloc samples it, then moves a small
 * block to a large class). Counting it brought a decay tick every few
 * calls to realloc_growth: +10% instructions. The owner's read-modify-
 * writes of next_event and free_next may overwrite a concurrent nudge's 0:
 * the nudge then waits for the next natural event (nudges are hints,
 * above). Owner only, h a real heap. */
ALWAYS_INLINE void heap_count_in_place_inline(struct heap *h, size_t bytes)
{
    h->allocated += bytes;
    h->deallocated += bytes;
    h->tick_next += bytes;
    /* (stored atomically as every owner store of these two: heap_nudge) */
    __atomic_store_n(&h->next_event, h->next_event + bytes, __ATOMIC_RELAXED);
    __atomic_store_n(&h->free_next, h->free_next + bytes, __ATOMIC_RELAXED);
    if (h->prof_next != UINT64_MAX) /* (UINT64_MAX: no sample to come, the profiler off) */
        h->prof_next += bytes;
}
/* The same out of line. */
void heap_count_in_place(struct heap *h, size_t bytes);
/* thread.peak: record the thread's net allocation since its last reset
 * (allocated - deallocated - peak_mark) if it is a new high. The
 * allocation-side events call it (heap.c, event_run), and so does a hit
 * in the thread's large-block cache (whose events come 16 times rarer),
 * never the small fast path, so a high is seen late by at most the bytes
 * between two events (a decay tick interval, at most 1 MiB; jemalloc's
 * peak event comes every 64 KiB); thread.peak.read calls it first. Owner
 * only. */
static inline void heap_peak_note(struct heap *h)
{
    int64_t net = (int64_t)(h->allocated - h->deallocated - h->peak_mark);
    if (net > 0 && (uint64_t)net > h->peak)
        h->peak = (uint64_t)net;
}
/* heap_page_retire, then the free-side event check (free's fast path). */
void heap_page_retire_event(struct heap *h, struct span *pg) NOINLINE;
/* The calling thread's real heap (creating it), or NULL if it cannot have one. */
struct heap *heap_get(void);
/* Give the pages h keeps emptied (heap.c, heap_page_emptied) back to their
 * arenas: those of arena a, or all with a NULL (arena.<i>.purge and
 * arena.<i>.decay from the thread itself). Owner only. */
void heap_kept_flush(struct heap *h, const struct arena *a);
/* Arena a's shared heap (cache-less allocations) gives back every empty
 * slab page, its classes' current pages included (arena.<i>.purge). Takes
 * a's shared lock; does nothing in a signal handler that interrupted the
 * allocator. */
void heap_shared_trim(struct arena *a);
/* Give all cached pages back to the arena (thread.tcache.flush, exit). */
void heap_flush(struct heap *h);
void heap_set_tcache(struct heap *h, bool enabled);
/* Move to an arena of the caller's NUMA node if it changed. */
void heap_follow_node(struct heap *h);
int heap_boot(void) WARN_UNUSED;
void heap_prefork(void);
void heap_postfork_parent(void);
void heap_postfork_child(void);

/* True if p is a live block of slab s: s is a slab, p a block boundary
 * inside its carved blocks, not marked free (free's checks, misuse.h). */
ALWAYS_INLINE bool heap_live_in_slab(const struct span *s, const void *p)
{
    return s->kind == SPAN_SLAB && misuse_slab_block_ok(s, p) && !misuse_is_free(p);
}

/* The slab of p when p (radix-tree value e) is a live small block; else
 * NULL, reporting nothing (heap_live_span_slow tells the other cases apart
 * and reports). */
ALWAYS_INLINE struct span *heap_live_slab(void *p, uintptr_t e)
{
    if (likely(rtree_is_chunk(e))) {
        struct span *s = rtree_chunk_span(e, (uintptr_t)p);
        if (likely(heap_live_in_slab(s, p)))
            return s;
    }
    return NULL;
}

/* The slab of p when the page map shows p as a live small block (free's
 * lookup: two loads where the radix tree and its chunk's page map take
 * three); else NULL, reporting nothing: a large or huge block, a page the
 * page map could not record (its leaf not allocated), or misuse, which the
 * radix tree tells apart (heap_live_span_slow). */
ALWAYS_INLINE struct span *heap_live_small(void *p)
{
    struct span *s = pagemap_get((uintptr_t)p);
    return likely(s != NULL && heap_live_in_slab(s, p)) ? s : NULL;
}

/* The span of p (not NULL) if p is a live block; else NULL after
 * reporting "func(): ..." with p's address. A live small block is decided
 * inline (heap_live_small: realloc, xallocx, sallocx, malloc_usable_size
 * then need no second lookup); the rest in heap_live_span_slow. Same race
 * as heap_ptr_check. */
ALWAYS_INLINE struct span *heap_live_span(void *p, const char *func)
{
    struct span *s = heap_live_small(p);
    return likely(s != NULL) ? s : heap_live_span_slow(p, rtree_get((uintptr_t)p), func);
}

/* malloc's fast path for a small size; a miss (no free block, or a head to
 * check) is a tail call of miss(size, h), heap_alloc_small_slow or a
 * caller's variant of it (operator new's, which never returns NULL). */
/* The current page of the class serving size (<= SMALL_MAX) bytes. */
ALWAYS_INLINE struct span *heap_small_page(struct heap *h, size_t size)
{
    if (likely(size <= HEAP_DIRECT_MAX))
        return h->pages_direct[(size + 7) >> 3];
    return h->pages[sizeclass_small_index(size)];
}

/* size picks the class; req is the size the caller asked for, which a
 * sample records (posix_memalign's fast path asks for its aligned class
 * with the program's size). */
ALWAYS_INLINE void *heap_alloc_small_or(struct heap *h, size_t size, size_t req,
                                        void *(*miss)(size_t, struct heap *))
{
    struct span *pg = heap_small_page(h, size);
    void *b = pg->free;
    /* b is NULL (no free block) or came from a link, which a write after
     * free may have corrupted (misuse.h): one range compare sends both to
     * the slow path, which tells them apart. So no pointer from a link is
     * followed or handed out unchecked. */
    if (unlikely(config_misuse ? (uintptr_t)b - pg->start >= pg->limit : b == NULL))
        return miss(size, h);
    void *next = misuse_link_decode(*(uintptr_t *)b, h->link_key, h->link_inv);
    pg->free = next;
    /* The next malloc of this class reads next's link: start that load
     * now (tcmalloc does the same), so a block that went cold in the
     * program's working set misses while the program uses b. */
    __builtin_prefetch(next);
    misuse_set_live(b); /* live now: no free mark (misuse.h) */
    pg->nmalloc++; /* and blocks out (span_used) */
    uint64_t a = h->allocated + pg->block_size;
    h->allocated = a;
    if (unlikely(a >= h->next_event))
        return heap_event(req, h, b, pg->block_size);
    return b;
}

ALWAYS_INLINE void *heap_alloc_small(struct heap *h, size_t size)
{
    return heap_alloc_small_or(h, size, size, heap_alloc_small_slow);
}

#endif
