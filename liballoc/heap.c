/* heap: per-thread heaps, their slow paths, and thread exit (see heap.h). */
#include "heap.h"
#include "arena.h"
#include "background.h"
#include "numa.h"
#include "base.h"
#include "huge.h"
#include "malloc_init.h"
#include "decay.h"
#include "defer.h"
#include "page.h"
#include "process_malloc.h"
#include "prof_hooks.h"
#include "rtree.h"
#include "stats.h"
#include "junk.h"
#include "misuse.h"
#include "tcache.h"
#include "warn.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct span span_empty;
struct heap heap_empty = {.pages = {[0 ... NSMALL - 1] = &span_empty},
                          .pages_direct = {[0 ... HEAP_DIRECT_N - 1] = &span_empty},
                          .next_event = UINT64_MAX,
                          .prof_next = UINT64_MAX, .tick_next = UINT64_MAX,
                          .free_next = UINT64_MAX};
__thread struct heap *heap_tls __attribute__((tls_model("initial-exec"))) = &heap_empty;

enum { TLS_NONE = 0, TLS_LIVE = 1, TLS_DEAD = 2 };
static __thread uint8_t heap_tls_state __attribute__((tls_model("initial-exec")));

#define TICK_MIN_BYTES ((uint64_t)64)
#define TICK_MAX_BYTES ((uint64_t)1 << 20)

/* How often heap_sweep runs, and how long an owner may leave a nudge
 * unanswered before the sweeper takes its full pages. */
#define SWEEP_NS ((uint64_t)100000000)

static pthread_key_t heap_key;
static pthread_mutex_t heaps_lock = PTHREAD_MUTEX_INITIALIZER;
static struct heap *heap_recycled;
static struct heap *heaps_live;      /* thread heaps in use (live_next), under heaps_lock */
static uint64_t heap_next_uid;


/* ---- page queues ---- */

static void queue_remove(struct span_queue *q, struct span *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        q->first = s->next;
    if (s->next)
        s->next->prev = s->prev;
    else
        q->last = s->prev;
    s->next = s->prev = NULL;
}

static void queue_push_front(struct span_queue *q, struct span *s)
{
    s->prev = NULL;
    s->next = q->first;
    if (q->first)
        q->first->prev = s;
    else
        q->last = s;
    q->first = s;
}

static void queue_push_back(struct span_queue *q, struct span *s)
{
    s->next = NULL;
    s->prev = q->last;
    if (q->last)
        q->last->next = s;
    else
        q->first = s;
    q->last = s;
}

static void set_tag(struct heap *h, struct span *pg, uintptr_t flags)
{
    atomic_store_explicit(&pg->owner_tag,
                          (uintptr_t)h | flags | junk_tag | (h->shared ? SPAN_TAG_SHARED : 0),
                          memory_order_release);
}

/* ---- emptied pages kept whole ----
 * A page that its owner's free empties (not the class's current page)
 * stays in its class queue, carved, its free list and page-map entries as
 * they are, for the thread's next mallocs of that class, instead of going
 * back to the arena at once. A thread that frees a batch of blocks and
 * allocates the same sizes again (a request's objects, freed as it ends)
 * then takes no page from its arena and carves none: bench/shapes/sh6bench,
 * 8 threads on 2 CPUs, took 345,779 pages from the arenas and carved 2.58 M
 * times; 403 and 2,731 when kept pages had no time limit, 2,279 pages with
 * KEPT_HOLD_NS. Given back before it was reused, such a page
 * went through the arena lock both ways, was carved again, and came back
 * cold, often to another thread of the arena. Bounds, so that memory a
 * thread does not use again is not held from the others: a thread keeps
 * at most HEAP_KEPT_BYTES (16 MiB; a page past it goes back at once, as
 * before), the process HEAP_KEPT_TOTAL; only a class that
 * took a page from the arena since the thread's last collection pass keeps
 * one (heap.took: its pages cycle; in a random-lifetime working set a page
 * that empties now and then has siblings with room, and keeping it cost
 * bench/mixed_working_set at 8 threads 60.0 against 55.7 MB peak RSS, 58.6
 * with this rule, sh6bench unchanged); a page not reused within
 * KEPT_HOLD_NS (10 ms) goes back at the thread's next decay tick
 * (kept_age); a thread that
 * needs a page from its arena first gives back kept pages (of other
 * classes: its own class's would have served) for at least the page's
 * bytes, so keeping never makes a thread take a page it would not have
 * taken; and heap_collect's passes give back a kept page found empty on
 * two passes in a row, like any queued page. Under dirty_decay_ms:0 no
 * page is kept (the arena's slab cache keeps none either). A kept page is
 * as any empty queued page for the misuse checks: its blocks carry their
 * free marks.
 * Why 16 MiB a thread (2 MiB and 32 pages until stop 50): a thread that
 * fills and frees more than the budget each round (a RocksDB-like
 * memtable of 1000-3000 blocks of 4 and 8 KiB, 6-18 MiB, freed whole)
 * sent the rest of its pages through the arena lock and carved them again
 * every round: its fill took 0.46 s CPU against mimalloc's 0.36, and 0.35
 * with 16 MiB kept, at the same peak RSS (45 MB); a page kept costs no
 * memory a page given back would not (it stays dirty in the arena until
 * decay purges it), only its availability to the arena's other threads,
 * for KEPT_HOLD_NS while the thread runs (a thread blocked after emptying
 * them holds them until it runs again, as its cached large blocks:
 * HEAP_KEPT_TOTAL bounds what all such threads hold). */
static _Atomic size_t kept_total; /* bytes kept by every thread */

/* pg is no longer kept (reused, or going back): off h's kept list. */
static void page_unkeep(struct heap *h, struct span *pg)
{
    if (!pg->kept)
        return;
    DASSERT(h->kept_n > 0);
    span_lru_remove(&h->kept, pg);
    pg->kept = 0;
    h->kept_n--;
    size_t bytes = pg->npages << LG_PAGE;
    h->kept_bytes -= bytes;
    atomic_fetch_sub_explicit(&kept_total, bytes, memory_order_relaxed);
}

/* Forget every kept page (heap_flush gives them back itself). */
static void kept_clear(struct heap *h)
{
    for (struct span *pg = h->kept.first, *next; pg; pg = next) {
        next = pg->lru_next;
        pg->lru_next = pg->lru_prev = NULL;
        pg->kept = 0;
    }
    atomic_fetch_sub_explicit(&kept_total, h->kept_bytes, memory_order_relaxed);
    h->kept.first = h->kept.last = NULL;
    h->kept_n = 0;
    h->kept_bytes = 0;
}

/* Make pg class cls's current page: pages[cls] and the pages_direct
 * entries of the word counts cls serves (heap.h). */
static void set_current(struct heap *h, unsigned cls, struct span *pg)
{
    /* Already current: pages_direct agrees (only this function and
     * clear_current write either). Most slow-path mallocs land here, a
     * carve of the current page: the loop below cost up to 88
     * instructions for the classes near 1 KiB (sh6bench-like churn). */
    if (h->pages[cls] == pg)
        return;
    page_unkeep(h, pg);
    h->pages[cls] = pg;
    /* Class cls serves the word counts above its predecessor's size, up to
     * its own (class 0 also serves 0 bytes). */
    size_t w = cls == 0 ? 0 : (sizeclass_size[cls - 1] >> 3) + 1;
    size_t last = sizeclass_size[cls] >> 3;
    for (; w <= last && w < HEAP_DIRECT_N; w++) {
        DASSERT(sizeclass_index_table[w] == cls);
        h->pages_direct[w] = pg;
    }
}

/* No class has a current page: every malloc takes the slow path. */
static void clear_current(struct heap *h)
{
    for (unsigned c = 0; c < NSMALL; c++)
        h->pages[c] = &span_empty;
    for (size_t w = 0; w < HEAP_DIRECT_N; w++)
        h->pages_direct[w] = &span_empty;
}

static void refresh_current(struct heap *h, unsigned cls)
{
    struct span *first = h->queue[cls].first;
    /* A thread heap's classes past tcache_nfast (tcache_max, junk:alloc) never
     * get a current page: their mallocs always take the slow path. (The
     * shared heaps are only reached through slow paths anyway.) */
    set_current(h, cls, (first && h->tcache && (cls < tcache_nfast || h->shared)) ? first : &span_empty);
}

/* ---- full pages and delayed frees ---- */

/* Move a page with no free block to the full list. On success the caller
 * must not touch pg again without full_lock (the sweeper may take it). */
static bool page_to_full(struct heap *h, struct span *pg)
{
    pthread_mutex_lock(&h->full_lock);
    if (!page_set_delayed(pg, DELAY_USE, false)) {
        pthread_mutex_unlock(&h->full_lock);
        return false;
    }
    queue_remove(&h->queue[pg->cls], pg);
    queue_push_front(&h->full, pg);
    uintptr_t tag = atomic_load_explicit(&pg->owner_tag, memory_order_relaxed);
    set_tag(h, pg, (tag & SPAN_TAG_SAMPLED) | SPAN_TAG_FULL);
    if (h->pages[pg->cls] == pg)
        refresh_current(h, pg->cls);
    pthread_mutex_unlock(&h->full_lock);
    return true;
}

/* Back from the full list to the class queue (full_lock held). */
static void page_unfull(struct heap *h, struct span *pg)
{
    if (!h->dying)
        page_set_delayed(pg, DELAY_NONE, false);
    pg->empty_seen = 0; /* a second chance again when it next runs dry (find_page) */
    queue_remove(&h->full, pg);
    queue_push_back(&h->queue[pg->cls], pg);
    uintptr_t tag = atomic_load_explicit(&pg->owner_tag, memory_order_relaxed);
    set_tag(h, pg, tag & SPAN_TAG_SAMPLED);
    if (h->pages[pg->cls] == &span_empty)
        refresh_current(h, pg->cls);
}

/* Debug: the free list of an empty page holds exactly its carved blocks. */
static bool page_all_free(const struct span *pg)
{
    uint32_t n = 0;
    for (void *b = pg->free; b && n <= pg->capacity; b = misuse_link_get(b)) {
        if (!misuse_link_in(pg, b))
            return true; /* a corrupted list (misuse.h): page_init discards it */
        n++;
    }
    return n == pg->capacity;
}

static void free_event_run(struct heap *h, size_t size);

/* The free-side event check (free's slow paths; size: the block's):
 * `deallocated` crossed free_next. */
static inline void note_free_event(struct heap *h, size_t size)
{
    if (unlikely(h->deallocated >= h->free_next) && h != &heap_empty)
        free_event_run(h, size);
}

static void page_give_back(struct heap *h, struct span *pg);

void heap_page_retire(struct heap *h, struct span *pg)
{
    if (h->pages[pg->cls] == pg && !h->dying)
        return; /* keep the current page: the next malloc of this class wants it */
    /* A class with no current page (junk:alloc, a disabled thread cache:
     * every malloc takes the slow path) keeps its queue's first page the
     * same way, as heap_collect does. Retiring it at its last free handed
     * its blocks' memory to the next slab of any class at once, so a
     * double free of a block with one small malloc in between freed that
     * malloc's block instead of being reported (misuse.h). */
    if (h->pages[pg->cls] == &span_empty && h->queue[pg->cls].first == pg && !h->dying)
        return;
    page_give_back(h, pg);
}

/* Empty page pg of h leaves h's queues and goes back to its arena. */
static void page_give_back(struct heap *h, struct span *pg)
{
    /* Every carved block back, unless a cut list leaked some (misuse.h). */
    DASSERT(span_used(pg) == 0 && (pg->list_cut || page_all_free(pg)));
    page_unkeep(h, pg);
    queue_remove(&h->queue[pg->cls], pg);
    if (h->pages[pg->cls] == pg)
        refresh_current(h, pg->cls);
    arena_page_free(pg, !h->shared);
}

/* Page pg of h, not the current page of its class, was just emptied by
 * h's own free: kept whole within the bounds above, else given back. */
static void heap_page_emptied(struct heap *h, struct span *pg)
{
    size_t bytes = pg->npages << LG_PAGE;
    /* Never the current page (it stays current, heap_page_retire) nor the
     * queue's first of a class without one: a kept page is empty and not
     * current until set_current or queue_serve takes it off the kept list,
     * so the fast paths never hand out a block of a page still on it. */
    struct span *cur = h->pages[pg->cls];
    if (cur != pg && !(cur == &span_empty && h->queue[pg->cls].first == pg) && !pg->kept &&
        (h->took >> pg->cls & 1) &&
        !h->dying && !h->shared && !pg->list_cut &&
        h->kept_bytes + bytes <= HEAP_KEPT_BYTES && pg->arena->decay_dirty.ms != 0) {
        size_t total = atomic_fetch_add_explicit(&kept_total, bytes, memory_order_relaxed);
        if (total + bytes <= HEAP_KEPT_TOTAL) {
            span_lru_push(&h->kept, pg); /* the list is in keeping order */
            h->kept_n++;
            pg->kept = 1;
            pg->freed_ns = decay_now(); /* kept_age gives it back KEPT_HOLD_NS on */
            pg->collect_idle = 0; /* in use since any earlier pass: two passes from now */
            h->kept_bytes += bytes;
            return;
        }
        atomic_fetch_sub_explicit(&kept_total, bytes, memory_order_relaxed);
    }
    heap_page_retire(h, pg);
}

/* pg, kept and empty, goes back to its arena. */
static void kept_release(struct heap *h, struct span *pg)
{
    page_unkeep(h, pg);
    DASSERT(span_used(pg) == 0 && h->pages[pg->cls] != pg);
    heap_page_retire(h, pg);
}

/* Before h takes a page of `need` bytes from its arena: give back kept
 * pages (the oldest first) for at least that many bytes. */
static void kept_give_back(struct heap *h, size_t need)
{
    size_t freed = 0;
    while (h->kept.first && freed < need) {
        struct span *pg = h->kept.first;
        freed += pg->npages << LG_PAGE;
        kept_release(h, pg);
    }
}

/* Give back h's kept pages of arena a (NULL: any arena) kept since
 * before `before` (UINT64_MAX: any time). The list is in keeping order, so
 * the walk stops at the first page kept since. */
static void kept_release_where(struct heap *h, const struct arena *a, uint64_t before)
{
    for (struct span *pg = h->kept.first, *next; pg && pg->freed_ns < before; pg = next) {
        next = pg->lru_next;
        if (a == NULL || pg->arena == a)
            kept_release(h, pg);
    }
}

/* Kept pages not reused within KEPT_HOLD_NS go back (the thread's decay
 * ticks, heap_tick): a kept page serves a thread that refills what it just
 * emptied, and one left idle for longer is memory the arena could purge or
 * give to others (tests/apps/soak's RSS grew by 10% over its last third
 * while kept pages were held until a collection pass). */
#define KEPT_HOLD_NS ((uint64_t)10 * 1000000)
static void kept_age(struct heap *h, uint64_t now)
{
    if (now >= KEPT_HOLD_NS)
        kept_release_where(h, NULL, now - KEPT_HOLD_NS + 1);
}

void heap_kept_flush(struct heap *h, const struct arena *a)
{
    defer_enter();
    kept_release_where(h, a, UINT64_MAX);
    defer_leave();
}

void heap_page_retire_event(struct heap *h, struct span *pg)
{
    /* Reentrant (a signal handler's free emptied the page while this thread
     * is inside a slow path, defer.h): the arena's lock may be ours already.
     * The empty page stays queued (reused, or retired later) and the decay
     * tick waits for the next free. */
    if (unlikely(defer_busy()))
        return;
    defer_enter();
    heap_page_emptied(h, pg);
    note_free_event(h, 0);
    defer_leave();
}

/* Free a block on a page owned by h (local path with all the bookkeeping);
 * full_lock held if the page is on the full list. */
static void free_owned(struct heap *h, struct span *pg, void *p)
{
    misuse_set_free(p);
    misuse_link_set(p, pg->free);
    pg->free = p;
    pg->nfree++;
    uintptr_t tag = atomic_load_explicit(&pg->owner_tag, memory_order_relaxed);
    if (tag & SPAN_TAG_FULL)
        page_unfull(h, pg);
    else if ((tag & SPAN_TAG_SAMPLED) &&
             atomic_load_explicit(&pg->nsampled, memory_order_relaxed) == 0)
        set_tag(h, pg, 0);
    if (span_used(pg) == 0)
        heap_page_emptied(h, pg);
}

static struct span *span_of(void *p)
{
    return rtree_value_span(rtree_get((uintptr_t)p), (uintptr_t)p);
}

/* The next block of a delayed_free stack after b (blocks of any of our
 * pages), checked (misuse.h): NULL when b's link is corrupt, reported. */
static void *delayed_next(void *b)
{
    void *n = misuse_link_get(b);
    if (n == NULL)
        return NULL;
    struct span *s = span_of(n);
    if (likely(s && s->kind == SPAN_SLAB && misuse_link_valid(s, n)))
        return n;
    misuse_link_corrupt("malloc", b);
    return NULL;
}

/* Blocks other threads freed into our full pages (full_lock held). A block
 * whose page the sweeper took meanwhile is freed to it as any remote free. */
static void drain_delayed_locked(struct heap *h)
{
    void *b = atomic_exchange_explicit(&h->delayed_free, NULL, memory_order_acquire);
    while (b) {
        void *next = delayed_next(b);
        struct span *s = span_of(b);
        uintptr_t tag = atomic_load_explicit(&s->owner_tag, memory_order_acquire);
        if ((tag & ~SPAN_TAG_MASK) == (uintptr_t)h)
            free_owned(h, s, b);
        else
            page_free_remote(s, b);
        b = next;
    }
}

static void drain_delayed(struct heap *h)
{
    if (!atomic_load_explicit(&h->delayed_free, memory_order_relaxed))
        return;
    pthread_mutex_lock(&h->full_lock);
    drain_delayed_locked(h);
    pthread_mutex_unlock(&h->full_lock);
}

/* ---- finding a page with room ---- */

/* A thread that migrated to another NUMA node moves to an arena there
 * (checked only when the heap goes to its arena anyway). */
void heap_follow_node(struct heap *h)
{
    if (unlikely(numa_percpu) && !h->arena_explicit && !h->shared) {
        int i = numa_percpu_index(); /* percpu_arena: the arena of the CPU we run on */
        if (i >= 0 && h->arena->index != (unsigned)i) {
            struct arena *a = arena_choose();
            arena_thread_detach(h->arena);
            h->arena = a;
        }
        return;
    }
    if (likely(numa_nodes() <= 1) || h->arena_explicit || h->shared)
        return;
    int node = numa_current_node();
    if (node < 0 || h->arena->node == node)
        return;
    struct arena *a = arena_choose();
    arena_thread_detach(h->arena);
    h->arena = a;
}

/* Collect the remote frees of every queued page and give back to the arena
 * the empty pages (not the class's current one) that were empty at the
 * previous pass already and not handed out since (collect_idle, which
 * find_page clears); mark the other empty ones. Passes run every
 * HEAP_COLLECT_PAGES pages taken from the arena (find_page; not in a
 * signal handler inside an allocator lock), when the
 * sweeper asks (heap_collect_all) and, while pages are marked, at the first
 * decay tick COLLECT_HOLD_NS after the marking pass (heap_tick). An empty
 * page the owner soon fills again thus stays its class's, carved and
 * resident. Given back at once, it was cut up for another class, whose slab
 * carved only part of the resident pages (the rest stayed resident and
 * idle), while this class took fresh ones: bench/xthread_producer_consumer's
 * producer, whose pages empty as the consumer frees a batch and fill again a
 * few batches later, kept 250 KiB (2 threads) to 1.1 MiB (8) more resident
 * at its peak (as much with the pages given back at the next tick, a
 * millisecond on). An owner that allocates no page and ticks no more keeps
 * its marked pages until it does, or exits. */
#define COLLECT_HOLD_NS ((uint64_t)10 * 1000000)
static void heap_collect(struct heap *h)
{
    unsigned marked = 0;
    for (unsigned c = 0; c < NSMALL; c++) {
        struct span *pg = h->queue[c].first;
        while (pg) {
            struct span *next = pg->next;
            page_collect(pg);
            if (span_used(pg) == 0 && pg != h->pages[c] && pg != h->queue[c].first) {
                if (pg->collect_idle) {
                    heap_page_retire(h, pg);
                } else {
                    pg->collect_idle = 1;
                    marked++;
                }
            }
            pg = next;
        }
    }
    h->collect_marked = marked;
    h->took = 0;
    if (marked)
        h->collect_ns = decay_now();
}

/* Page pg (the owner's) has no free block left on its list. Its list holds
 * every carved block not handed out (capacity - span_used: page_all_free's
 * invariant), so a dry list with fewer blocks out than carved ended early
 * (misuse_page_list_short). Off the fast paths: only a page that runs dry. */
static void page_dry_check(struct span *pg)
{
    if (config_misuse && unlikely(span_used(pg) < pg->capacity))
        misuse_page_list_short(pg);
}

/* A page with room for class cls: the first of h's queue that has (or,
 * collecting remote frees, gets) a free block; else the first that still has
 * blocks to carve, carved; else a page from the arena. Reuse before carving:
 * a carve writes a never-touched OS page (RSS), while blocks other threads
 * freed into pages further down the queue waited there (a producer's pages
 * under bench/xthread_producer_consumer: carving the current page first kept
 * 50-100 KiB more resident at the peak). A page found with no free block
 * gets a second chance: it goes to the queue's end, still owned and off the
 * full list, so the frees the program makes into it meanwhile keep free's
 * fast path; only a page found empty on two walks in a row goes to the full
 * list. Under random lifetimes (a large working set replaced at random)
 * every page holds a few free blocks at a time and runs dry often, and by
 * the time the walk comes back it has regained some: without the second
 * chance each page went to the full list and back at each round (full_lock,
 * two compare-and-swaps, a slow-path free: 9 instructions a malloc on
 * mixed_working_set). Each walk looks at each page once at most, and a page
 * rests on the queue for one round at most (or, once a page to carve is
 * known, for that page's carving, FIND_DRY_MAX pages a walk), so the walk
 * stays amortised O(1) per page that runs dry. */
#define FIND_DRY_MAX 4

/* Queued page pg serves the class's mallocs from now: first of q, its
 * walk and collection flags cleared. */
static struct span *queue_serve(struct heap *h, struct span_queue *q, struct span *pg)
{
    page_unkeep(h, pg);
    pg->empty_seen = 0;
    pg->collect_idle = 0;
    if (q->first != pg) {
        queue_remove(q, pg);
        queue_push_front(q, pg);
    }
    return pg;
}

static struct span *find_page(struct heap *h, unsigned cls)
{
    if (atomic_load_explicit(&h->delayed_free, memory_order_relaxed))
        drain_delayed(h);
    struct span_queue *q = &h->queue[cls];
    struct span *pg = q->first;
    struct span *stop = q->last; /* pages sent to the end are not walked again */
    struct span *carve = NULL;   /* first page with blocks never carved */
    unsigned dry = 0;            /* dry pages passed since carve was found */
    while (pg) {
        struct span *next = pg == stop ? NULL : pg->next;
        if (!pg->free)
            page_collect(pg);
        if (!pg->free && (carve || pg->capacity < pg->reserved)) {
            /* Freed blocks anywhere in the queue come before fresh ones:
             * carving touches a new OS page (RSS), reuse does not. Dry
             * pages met once a page to carve is known stay where they are
             * (no second-chance step) and are walked again at the next
             * carve, once per OS page carved: at most FIND_DRY_MAX of them
             * a walk, so a long queue of dry pages costs no more. */
            if (!carve && pg->capacity < pg->reserved)
                carve = pg;
            else if (++dry >= FIND_DRY_MAX)
                break;
            pg = next;
            continue;
        }
        if (!pg->free) {
            page_dry_check(pg);
            if (!pg->empty_seen) {
                pg->empty_seen = 1;
                if (pg != q->last) {
                    queue_remove(q, pg);
                    queue_push_back(q, pg);
                }
                pg = next;
                continue;
            }
            if (page_to_full(h, pg)) {
                pg = next;
                continue;
            }
            page_collect(pg);
        }
        if (pg->free)
            return queue_serve(h, q, pg);
        pg = next;
    }
    if (carve) {
        page_extend(carve);
        return queue_serve(h, q, carve);
    }
    kept_give_back(h, (size_t)sizeclass_slab_pages[cls] << LG_PAGE);
    h->took |= (uint64_t)1 << cls;
    heap_follow_node(h);
    for (;;) {
        bool adopted;
        pg = arena_page_alloc(h->arena, cls, h, &adopted);
        if (!pg)
            return NULL;
        queue_push_front(&h->queue[cls], pg);
        pg->empty_seen = 0; /* an adopted page's flags were its last owner's */
        pg->collect_idle = 0;
        pg->kept = 0;
        if (adopted)
            page_collect(pg);
        if (!pg->free)
            page_extend(pg);
        if (pg->free)
            break;
        page_dry_check(pg);
        if (page_to_full(h, pg))
            continue;
        page_collect(pg);
        if (pg->free)
            break;
    }
    refresh_current(h, cls);
    if (++h->page_allocs % HEAP_COLLECT_PAGES == 0) {
        /* A signal handler inside an allocator lock (lock_depth.h): the
         * pages collected go back under their arena's lock, perhaps its
         * own thread's. The next page taken collects. */
        if (lock_reentered())
            h->page_allocs--;
        else
            heap_collect(h);
    }
    return pg;
}

static void *alloc_from_page(struct heap *h, unsigned cls)
{
    struct span *pg;
    for (;;) {
        pg = find_page(h, cls);
        if (!pg) {
            refresh_current(h, cls);
            return NULL;
        }
        /* The head came from a link (misuse.h): outside the page's carved
         * blocks, it is corrupt. Reported, the list cut (its rest leaked),
         * and the page looked at again. */
        if (likely(misuse_link_in(pg, pg->free)))
            break;
        misuse_page_list_corrupt(pg);
    }
    refresh_current(h, cls);
    void *b = pg->free;
    pg->free = misuse_link_get(b); /* checked when it is the head (above, malloc's fast path) */
    misuse_set_live(b);
    pg->nmalloc++;
    return b;
}

/* Small blocks without a thread cache (tcache:false, MALLOCX_TCACHE_NONE,
 * MALLOCX_ARENA, threads past exit) come from the arena's shared heap under
 * its lock, so they are counted in, and served by, the arena asked for. */
static void *shared_alloc_small_locked(unsigned cls, struct arena *a);

/* Shared heap locks (an arena's shared_lock) this thread holds: a signal
 * handler that interrupted it inside one must not wait for one (the lock
 * may be its own thread's), as for the locks lock_depth.h counts. Kept
 * apart from lock_depth: the arena lock is taken under the shared lock,
 * and must be waited for there. */
static __thread unsigned shared_held __attribute__((tls_model("initial-exec")));

static void shared_lock(struct arena *a) { lock_counted_in(&a->shared_lock, &shared_held); }
static bool shared_trylock(struct arena *a) { return trylock_counted_in(&a->shared_lock, &shared_held); }
static void shared_unlock(struct arena *a) { unlock_counted_in(&a->shared_lock, &shared_held); }

static void *shared_alloc_small(size_t usize, struct arena *a)
{
    unsigned cls = sizeclass_small_index(usize);
    /* No arena 0: the allocator could not start (malloc_init failed, out
     * of address space under RLIMIT_AS) and a caller came on anyway. */
    if (!a && !(a = arena_get(0)))
        return NULL;
    if (likely(shared_held == 0 && !lock_reentered())) {
        shared_lock(a);
        return shared_alloc_small_locked(cls, a);
    }
    /* A signal handler that interrupted this thread inside a shared heap's
     * or an arena's lock: only try, a's shared heap, then any other's (a
     * new automatic arena's if narenas leaves room), else ENOMEM. */
    if (!shared_trylock(a) && !(a = arena_try_others(a, shared_trylock)))
        return NULL;
    return shared_alloc_small_locked(cls, a);
}

/* arena.<i>.purge: arena a's shared heap gives back its empty pages, the
 * current page of each class included (kept otherwise, heap_page_retire),
 * once the blocks other threads freed into them are collected; so an
 * arena whose blocks were all freed holds no slab page (jemalloc frees an
 * empty slab at once). Pages with a live block stay. */
void heap_shared_trim(struct arena *a)
{
    if (lock_reentered())
        return;
    shared_lock(a);
    struct heap *sh = a->shared;
    if (sh) {
        for (unsigned c = 0; c < NSMALL; c++) {
            struct span *pg = sh->queue[c].first;
            while (pg) {
                struct span *next = pg->next;
                page_collect(pg);
                if (span_used(pg) == 0) /* heap_collect's test */
                    page_give_back(sh, pg);
                pg = next;
            }
        }
    }
    shared_unlock(a);
}

/* The rest of shared_alloc_small, a->shared_lock held; drops it. */
static void *shared_alloc_small_locked(unsigned cls, struct arena *a)
{
    struct heap *sh = a->shared;
    if (!sh && (sh = base_alloc(sizeof(*sh), 64)) != NULL) {
        clear_current(sh);
        sh->next_event = sh->prof_next = sh->tick_next = sh->free_next = UINT64_MAX;
        pthread_mutex_init(&sh->full_lock, NULL);
        sh->shared = true;
        sh->tcache = true;
        sh->arena = a;
        a->shared = sh;
    }
    void *p = sh ? alloc_from_page(sh, cls) : NULL;
    shared_unlock(a);
    return p;
}

void *heap_sample_relocate(struct heap *h, void *p, size_t usize)
{
    if (usize > SMALL_MAX || h == &heap_empty || h->shared || !h->tcache)
        return p;
    struct span *pg = span_of(p);
    if (!pg || pg->kind != SPAN_SLAB || pg->block_size != usize)
        return p;
    uintptr_t tag = atomic_load_explicit(&pg->owner_tag, memory_order_acquire);
    if ((tag & ~SPAN_TAG_MASK) != (uintptr_t)h || (tag & SPAN_TAG_FULL))
        return p;
    /* The relocation is optional (the sample may stay in the thread's
     * page), so it never waits: the shared lock or an arena lock may be
     * held by this very thread, interrupted by a signal handler that
     * allocates (in a sampled free, or inside arena_page_alloc). */
    struct arena *a = h->arena ? h->arena : arena_get(0);
    if (lock_reentered() || !shared_trylock(a))
        return p;
    void *q = shared_alloc_small_locked(sizeclass_small_index(usize), a);
    if (!q)
        return p;
    /* No copy: heap_event's callers fill the block (zero, junk) after it. */
    junk_on_free(p, usize);
    /* Not counted as a malloc, and free_owned's count of the return is
     * undone before it (which may give the page back): blocks out -1. */
    pg->nmalloc--;
    pg->nfree--;
    free_owned(h, pg, p);
    return q;
}

/* ---- thread heaps ---- */

static void heap_thread_exit(void *arg);

int heap_boot(void)
{
    return pthread_key_create(&heap_key, heap_thread_exit);
}

static void heap_set_next_event(struct heap *h);

static struct heap *heap_create_marked(void);

/* The calling thread is creating its heap (heap_create). */
static __thread bool heap_creating __attribute__((tls_model("initial-exec")));

/* heaps_lock, stats and profiler registration: marked for defer.h (a
 * thread's first call may come through a path that is not, heap_get).
 * A signal handler that interrupted this thread's own heap creation gets
 * no heap (NULL: its calls are served cache-less, from a shared heap):
 * creation holds heaps_lock (which the handler's own creation would wait
 * for, forever), the arena list's lock or base's, and a heap the handler
 * created (a recycled one) would be replaced by the thread's own, lost
 * with its thread count (unit/alloc_signal_create). */
static struct heap *heap_create(void)
{
    if (heap_creating)
        return NULL;
    defer_enter();
    heap_creating = true;
    atomic_signal_fence(memory_order_seq_cst);
    struct heap *h = heap_create_marked();
    atomic_signal_fence(memory_order_seq_cst);
    heap_creating = false;
    defer_leave();
    return h;
}

static struct heap *heap_create_marked(void)
{
    if (heap_tls_state == TLS_DEAD || malloc_init() != 0)
        return NULL;
    if (heap_tls != &heap_empty)
        return heap_tls; /* created during malloc_init's own allocations */
    pthread_mutex_lock(&heaps_lock);
    struct heap *h = heap_recycled;
    if (h)
        heap_recycled = h->next_free;
    uint64_t uid = heap_next_uid++;
    pthread_mutex_unlock(&heaps_lock);
    if (!h && !(h = base_alloc(sizeof(struct heap), 64)))
        return NULL;
    memset(h, 0, sizeof(*h));
    pthread_mutex_init(&h->full_lock, NULL);
    clear_current(h);
    h->thread_uid = uid;
    h->link_key = misuse_link_key;
    h->link_mul = misuse_link_mul;
    h->link_inv = misuse_link_inv;
    h->tcache = malloc_opt_tcache();
    h->arena = arena_choose();
    h->prof_next = UINT64_MAX;
    h->tick_bytes = h->free_tick_bytes = TICK_MIN_BYTES;
    h->tick_next = TICK_MIN_BYTES;
    h->free_next = TICK_MIN_BYTES;
    h->next_event = h->tick_next;
    stats_heap_register(h);
    pthread_mutex_lock(&heaps_lock);
    h->live_prev = NULL;
    h->live_next = heaps_live;
    if (heaps_live)
        heaps_live->live_prev = h;
    heaps_live = h;
    pthread_mutex_unlock(&heaps_lock);
    heap_tls = h;
    heap_tls_state = TLS_LIVE;
    prof_thread_init(h);
    heap_set_next_event(h); /* published: heap_nudge may store concurrently */
    pthread_setspecific(heap_key, h);
    background_poll();
    return h;
}

struct heap *heap_get(void)
{
    struct heap *h = heap_tls;
    if (likely(h != &heap_empty))
        return h;
    return heap_create();
}

void heap_flush(struct heap *h)
{
    defer_enter();
    bool was_dying = h->dying;
    h->dying = true;
    kept_clear(h); /* every page goes back below */
    pthread_mutex_lock(&h->full_lock);
    struct span_queue *lists[NSMALL + 1];
    for (unsigned c = 0; c < NSMALL; c++)
        lists[c] = &h->queue[c];
    lists[NSMALL] = &h->full;
    for (unsigned i = 0; i <= NSMALL; i++)
        for (struct span *pg = lists[i]->first; pg; pg = pg->next)
            page_set_delayed(pg, DELAY_NEVER, true);
    drain_delayed_locked(h);
    for (unsigned i = 0; i <= NSMALL; i++) {
        struct span *pg = lists[i]->first;
        while (pg) {
            struct span *next = pg->next;
            page_collect_never(pg, false);
            pg->next = pg->prev = NULL;
            if (span_used(pg) == 0)
                arena_page_free(pg, !h->shared);
            else
                arena_page_abandon(pg, !h->shared);
            pg = next;
        }
        lists[i]->first = lists[i]->last = NULL;
    }
    clear_current(h);
    pthread_mutex_unlock(&h->full_lock);
    atomic_store_explicit(&h->remote_pending, 0, memory_order_relaxed);
    tcache_large_flush(h);
    h->dying = was_dying;
    defer_leave();
}

void heap_set_tcache(struct heap *h, bool enabled)
{
    if (h->tcache == enabled)
        return;
    heap_flush(h);
    h->tcache = enabled;
}

static void heap_thread_exit(void *arg)
{
    struct heap *h = arg;
    defer_enter();
    heap_tls_state = TLS_DEAD;
    heap_tls = &heap_empty;
    h->dying = true;
    /* Out of the sweeper's sight before the pages go (it holds heaps_lock). */
    pthread_mutex_lock(&heaps_lock);
    if (h->live_prev)
        h->live_prev->live_next = h->live_next;
    else
        heaps_live = h->live_next;
    if (h->live_next)
        h->live_next->live_prev = h->live_prev;
    h->live_next = h->live_prev = NULL;
    pthread_mutex_unlock(&heaps_lock);
    heap_flush(h);
    prof_thread_exit(h);
    stats_heap_retire(h);
    arena_thread_detach(h->arena);
    decay_tick(h->arena);
    pthread_mutex_lock(&heaps_lock);
    h->next_free = heap_recycled;
    heap_recycled = h;
    pthread_mutex_unlock(&heaps_lock);
    defer_leave(); /* frees what a signal handler freed meanwhile, as a dead thread's */
}

/* ---- allocation slow paths ---- */

/* ---- reclaiming remote frees (see heap.h) ---- */

void heap_full_unlink(struct heap *h, struct span *pg)
{
    queue_remove(&h->full, pg);
}

void heap_nudge(struct heap *h)
{
    atomic_store_explicit(&h->nudge, 1, memory_order_relaxed);
    __atomic_store_n(&h->next_event, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&h->free_next, 0, __ATOMIC_RELAXED);
}

/* The owner answers a nudge: every remotely freed block of its pages goes
 * back on their free lists, empty pages go back to the arena. */
static void heap_collect_all(struct heap *h)
{
    atomic_store_explicit(&h->remote_pending, 0, memory_order_relaxed);
    atomic_store_explicit(&h->sweep_mark, 0, memory_order_relaxed);
    pthread_mutex_lock(&h->full_lock);
    drain_delayed_locked(h);
    struct span *pg = h->full.first;
    while (pg) {
        struct span *next = pg->next;
        if (page_collect(pg) > 0)
            page_unfull(h, pg); /* an empty one: heap_collect's rule, below */
        pg = next;
    }
    pthread_mutex_unlock(&h->full_lock);
    heap_collect(h);
}

/* The sweeper takes the full pages of a silent owner that received remote
 * frees (full_lock held): empty ones go back to the arena, the others are
 * abandoned with their free blocks so any thread can adopt them. Pages on
 * the owner's class queues are left alone: its fast paths use them. */
static void heap_steal_full(struct heap *h)
{
    /* Blocks in delayed_free go onto their pages first (full pages are the
     * lock holder's); those of other pages are freed to them remotely. */
    void *b = atomic_exchange_explicit(&h->delayed_free, NULL, memory_order_acquire);
    while (b) {
        void *next = delayed_next(b);
        struct span *s = span_of(b);
        uintptr_t tag = atomic_load_explicit(&s->owner_tag, memory_order_acquire);
        if ((tag & ~SPAN_TAG_MASK) == (uintptr_t)h && (tag & SPAN_TAG_FULL)) {
            misuse_link_set(b, s->free);
            s->free = b;
            s->nfree++;
        } else {
            page_free_remote(s, b);
        }
        b = next;
    }
    struct span *pg = h->full.first;
    while (pg) {
        struct span *next = pg->next;
        if (pg->free || page_has_remote(pg)) {
            /* Never notify h again; waits out a notifier in flight (its block
             * lands in delayed_free and comes back through a later drain). */
            page_collect_never(pg, false);
            queue_remove(&h->full, pg);
            atomic_store_explicit(&pg->owner_tag, 0, memory_order_release);
            if (span_used(pg) == 0)
                arena_page_free(pg, !h->shared);
            else
                arena_page_abandon(pg, !h->shared);
        }
        pg = next;
    }
}

void heap_take_idle(struct heap *h)
{
    if (pthread_mutex_trylock(&h->full_lock) != 0)
        return;
    heap_steal_full(h);
    pthread_mutex_unlock(&h->full_lock);
}

/* An arena's shared heap (tcache:false, sampled blocks, explicit arenas)
 * keeps the page its next malloc of a class takes, as a thread heap does,
 * even when it is empty (heap_page_retire). But a thread heap's pages go
 * back when its thread exits, and the shared heap has no such end: once
 * its blocks were freed, one page per class per arena stayed carved for
 * good (2.8 MiB over 39 classes; 26 MiB over eight arenas). So a page the
 * sweep (every SWEEP_NS at most, on decay ticks) finds empty twice in a
 * row goes back to the arena: a malloc/free ping-pong then carves its page
 * again once per two sweeps at most (jemalloc frees an empty slab at once,
 * its bin's current one included: 5 times slower than keeping it on that
 * ping-pong under tcache:false), and a page just emptied keeps its free
 * list for the next malloc, which checks its links (a write after free
 * over one is reported there, misuse.h). sh's arena's shared_lock held. */
static void shared_sweep(struct heap *sh)
{
    uint64_t empty = 0;
    for (unsigned c = 0; c < NSMALL; c++) {
        struct span *pg = sh->pages[c] != &span_empty ? sh->pages[c] : sh->queue[c].first;
        if (!pg || span_used(pg) != 0) /* no current page, none queued */
            continue;
        if (sh->shared_empty & ((uint64_t)1 << c))
            page_give_back(sh, pg);
        else
            empty |= (uint64_t)1 << c;
    }
    sh->shared_empty = empty;
}

void heap_sweep(uint64_t now)
{
    static _Atomic uint64_t next_sweep;
    uint64_t due = atomic_load_explicit(&next_sweep, memory_order_relaxed);
    if (now < due || !atomic_compare_exchange_strong(&next_sweep, &due, now + SWEEP_NS))
        return;
    unsigned n = arena_total();
    for (unsigned i = 0; i < n; i++) {
        struct arena *a = arenas[i];
        if (a && atomic_load_explicit(&a->abandoned_frees, memory_order_relaxed) &&
            atomic_exchange_explicit(&a->abandoned_frees, false, memory_order_relaxed)) {
            arena_collect_abandoned(a);
        }
        if (a && shared_trylock(a)) {
            if (a->shared)
                shared_sweep(a->shared);
            shared_unlock(a);
        }
    }
    struct heap *self = heap_tls;
    if (pthread_mutex_trylock(&heaps_lock) != 0)
        return;
    for (struct heap *h = heaps_live; h; h = h->live_next) {
        if (!atomic_load_explicit(&h->remote_pending, memory_order_relaxed)) {
            if (atomic_load_explicit(&h->sweep_mark, memory_order_relaxed))
                atomic_store_explicit(&h->sweep_mark, 0, memory_order_relaxed);
            continue;
        }
        uint64_t mark = atomic_load_explicit(&h->sweep_mark, memory_order_relaxed);
        if (mark == 0 || h == self) {
            /* First ask the owner: it collects all its pages at its next event. */
            atomic_store_explicit(&h->sweep_mark, now, memory_order_relaxed);
            heap_nudge(h);
        } else if (now - mark >= SWEEP_NS && pthread_mutex_trylock(&h->full_lock) == 0) {
            /* Silent for a sweep period (blocked or idle): take its full pages.
             * Its queue pages stay its own; new remote frees raise the hint again. */
            atomic_store_explicit(&h->remote_pending, 0, memory_order_relaxed);
            heap_steal_full(h);
            pthread_mutex_unlock(&h->full_lock);
            atomic_store_explicit(&h->sweep_mark, 0, memory_order_relaxed);
        }
    }
    pthread_mutex_unlock(&heaps_lock);
}

/* ---- decay ticks ---- */

/* Decay ticks ride the byte counters of both allocation and free (free_next
 * is the free path's twin of tick_next): the bytes between ticks adapt so a
 * busy thread ticks about once a millisecond and a nearly idle one on every
 * call, which keeps freed memory flowing back on schedule without a
 * background thread and without a clock read on the fast paths; a thread
 * that only frees (an expiry wave) drives decay too. The free side is
 * checked on free's slow paths only (a page retired, a remote, large or
 * huge block): a local free that leaves its page in use gives decay
 * nothing to purge. */
static void heap_tick(struct heap *h, bool on_free, size_t size)
{
    /* A block above DECAY_TICK_BYTES / DECAY_TICK_CALLS with purge work
     * pending (so at most 64 KiB between ticks, below): only every
     * DECAY_TICK_CALLS-th such tick runs, the others re-arm this side,
     * without a clock read (decay.h). */
    if (size > DECAY_TICK_BYTES / DECAY_TICK_CALLS && decay_pending() &&
        (++h->tick_skips & (DECAY_TICK_CALLS - 1)) != 0 &&
        !atomic_load_explicit(&h->nudge, memory_order_relaxed)) {
        if (on_free)
            __atomic_store_n(&h->free_next, h->deallocated + h->free_tick_bytes, __ATOMIC_RELAXED);
        else
            h->tick_next = h->allocated + h->tick_bytes;
        return;
    }
    h->nticks++;
    /* Nudged: purge or reclaim work is waiting, so tick now and often again
     * on both sides, whatever the recent pace. Each side adapts its own
     * interval, so a fast wave of frees does not slow the allocation side's
     * ticks (or the reverse). */
    /* A signal handler inside an allocator lock (lock_depth.h) does no
     * upkeep: collecting pages and flushing caches wait for arena locks,
     * perhaps its own thread's. The next tick does it. */
    bool reentered = lock_reentered();
    bool nudged = !reentered && atomic_load_explicit(&h->nudge, memory_order_relaxed) &&
                  atomic_exchange_explicit(&h->nudge, 0, memory_order_relaxed);
    uint64_t now = decay_now(), dt = now - h->last_tick_ns;
    uint64_t *bytes = on_free ? &h->free_tick_bytes : &h->tick_bytes;
    /* Purge work pending: no side waits more than DECAY_TICK_BYTES (decay.h),
     * so a thread that goes quiet after a burst still drives decay. */
    uint64_t max = decay_pending() ? DECAY_TICK_BYTES : TICK_MAX_BYTES;
    if (nudged)
        h->tick_bytes = h->free_tick_bytes = TICK_MIN_BYTES;
    else if (dt > 10000000)
        *bytes = TICK_MIN_BYTES;
    else if (dt < 1000000 && *bytes < max)
        *bytes *= 2;
    if (!reentered && (nudged || dt >= 1000000)) {
        h->last_tick_ns = now;
        /* The sweeper asked (sweep_mark set): collect our remote frees. */
        if (nudged && atomic_load_explicit(&h->sweep_mark, memory_order_relaxed) &&
            atomic_load_explicit(&h->remote_pending, memory_order_relaxed) && h->tcache)
            heap_collect_all(h);
        if (h->collect_marked && now - h->collect_ns >= COLLECT_HOLD_NS)
            heap_collect(h); /* empty pages marked by the last pass */
        if (h->kept_n)
            kept_age(h, now);
        tcache_large_tick(h); /* an idle pass if no large block came or went */
        decay_tick(h->arena);
        heap_sweep(now);
        background_poll();
    }
    if (*bytes > max)
        *bytes = max;
    if (!on_free || nudged)
        h->tick_next = h->allocated + h->tick_bytes;
    if (on_free || nudged)
        __atomic_store_n(&h->free_next, h->deallocated + h->free_tick_bytes, __ATOMIC_RELAXED);
    /* The other side's interval, if it grew before the work was pending. */
    if (on_free && h->tick_bytes > max) {
        h->tick_bytes = max;
        if (h->tick_next > h->allocated + max)
            h->tick_next = h->allocated + max;
    } else if (!on_free && h->free_tick_bytes > max) {
        h->free_tick_bytes = max;
        /* Lowered only if no nudge (0) came meanwhile. */
        uint64_t f = h->deallocated + max, cur = __atomic_load_n(&h->free_next, __ATOMIC_RELAXED);
        if (cur > f)
            __atomic_compare_exchange_n(&h->free_next, &cur, f, false, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED);
    }
}

static void heap_set_next_event(struct heap *h)
{
    uint64_t e = h->prof_next < h->tick_next ? h->prof_next : h->tick_next;
    __atomic_store_n(&h->next_event, e, __ATOMIC_RELAXED);
}

void heap_count_in_place(struct heap *h, size_t bytes)
{
    heap_count_in_place_inline(h, bytes);
}

/* heap_event's body; tick_size is the block size the tick is told (0: a
 * block whose bytes were already weighted, heap_alloc_large). */
static inline __attribute__((always_inline)) void *event_run(struct heap *h, void *p, size_t size,
                                                             size_t usize, size_t tick_size)
{
    defer_enter(); /* the sample (relocation, site and bucket locks), the tick */
    heap_peak_note(h);
    if (h->allocated >= h->prof_next)
        p = prof_alloc_event(h, p, size, usize);
    if (h->allocated >= h->tick_next || atomic_load_explicit(&h->nudge, memory_order_relaxed))
        heap_tick(h, false, tick_size);
    heap_set_next_event(h);
    defer_leave();
    return p;
}

void *heap_event(size_t size, struct heap *h, void *p, size_t usize)
{
    return event_run(h, p, size, usize, usize);
}

static NOINLINE void *large_hit_event(struct heap *h, void *p, size_t size, size_t usize)
{
    return event_run(h, p, size, usize, 0);
}

/* The free-side tick (decay, sweep: their locks); size: the freed block's. */
static void free_event_run(struct heap *h, size_t size)
{
    defer_enter();
    heap_tick(h, true, size);
    heap_set_next_event(h); /* a nudge lowered it too */
    defer_leave();
}


static void *alloc_small_slow(struct heap *h, size_t size)
{
    if (h == &heap_empty) {
        h = heap_create();
        if (!h) {
            size_t usize = sizeclass_usize(size);
            void *p = shared_alloc_small(usize, NULL);
            if (!p) {
                errno = ENOMEM;
                return NULL;
            }
            stats_note_orphan_alloc(usize);
            junk_on_alloc(p, usize);
            return p;
        }
        if (h->tcache)
            return heap_alloc_small(h, size);
    }
    unsigned cls = sizeclass_small_index(size);
    size_t usize = sizeclass_size[cls];
    /* Classes above tcache_max come from the arena's shared heap (tcache.h). */
    void *b = h->tcache && cls < tcache_nclasses ? alloc_from_page(h, cls)
                                                 : shared_alloc_small(usize, h->arena);
    if (unlikely(!b)) {
        errno = ENOMEM;
        return NULL;
    }
    h->allocated += usize;
    if (unlikely(h->allocated >= h->next_event))
        b = heap_event(size, h, b, usize); /* may move b: fill it afterwards */
    junk_on_alloc(b, usize);
    return b;
}

static void *alloc_general(struct heap *h, size_t size, size_t align, bool zero, bool no_tcache,
                           struct arena *arena)
{
    size_t usize = sizeclass_usize_aligned(size, align);
    if (unlikely(usize == 0 || usize < size)) {
        errno = ENOMEM;
        return NULL;
    }
    if (h == &heap_empty)
        h = heap_create();
    void *p;
    if (usize <= SMALL_MAX) {
        if (h && h->tcache && !no_tcache && !arena && usize <= tcache_maxclass)
            p = alloc_from_page(h, sizeclass_small_index(usize));
        else
            p = shared_alloc_small(usize, arena ? arena : h ? h->arena : NULL);
    } else {
        if (h && !arena)
            heap_follow_node(h);
        struct arena *a = arena ? arena : h ? h->arena : arena_get(0);
        if (unlikely(!a))
            p = NULL; /* as in shared_alloc_small: the allocator could not start */
        else if (usize <= tcache_large_max && h && h->tcache && !no_tcache && !arena &&
                 (p = tcache_large_alloc(h, usize, zero, align)) != NULL)
            ; /* the thread's cache of large blocks (tcache.h) */
        else if (usize < HUGE_MIN && align <= 16 * PAGE)
            p = arena_large_alloc(a, usize, align, zero, !arena && h && !h->arena_explicit);
        else
            p = huge_alloc(a, size, usize, align, zero);
    }
    if (unlikely(!p)) {
        errno = ENOMEM;
        return NULL;
    }
    if (h) {
        h->allocated += usize;
        if (unlikely(h->allocated >= h->next_event))
            p = heap_event(size, h, p, usize); /* may move p: fill it afterwards */
    } else
        stats_note_orphan_alloc(usize);
    if (zero && usize <= SMALL_MAX)
        memset(p, 0, usize); /* large and huge blocks came zeroed */
    else if (!zero)
        junk_on_alloc(p, usize);
    return p;
}

/* The allocation slow paths take arena, shared-heap and full-page locks:
 * marked for the frees of a signal handler that interrupts them (defer.h). */
void *heap_alloc_small_slow(size_t size, struct heap *h)
{
    defer_enter();
    void *p = alloc_small_slow(h, size);
    defer_leave();
    return p;
}

void *heap_alloc_general(struct heap *h, size_t size, size_t align, bool zero, bool no_tcache,
                         struct arena *arena)
{
    defer_enter();
    /* zero:true: large and huge blocks asked zeroed from the arena (fresh
     * pages are), small ones zeroed by alloc_general. */
    void *p = alloc_general(h, size, align, zero || opt.zero, no_tcache, arena);
    defer_leave();
    return p;
}

/* A block from or into the thread's large cache counts 1 / LCACHE_TICK_SHARE
 * of its bytes toward the decay tick (tick_next, free_next move on by the
 * rest): it touches no arena, and at 40 KiB .. 1 MiB a block every
 * malloc or free crossed the 64 KiB tick interval of pending purge work,
 * an event call each time to skip 15 ticks in 16 (heap_tick). The share
 * is that skip rule's, so the tick comes as often as before, and the
 * event path runs only then; the sampling threshold (prof_next) still
 * counts every byte. */
#define LCACHE_TICK_SHARE DECAY_TICK_CALLS

/* A cache hit's counters: allocated, and the decay tick moved on by all
 * but the hit's share. Returns the new allocated. */
static inline uint64_t large_hit_count(struct heap *h, size_t usize)
{
    uint64_t a = h->allocated + usize;
    h->allocated = a;
    /* Its events come 16 times rarer (below): thread.peak looks here. */
    heap_peak_note(h);
    h->tick_next += usize - usize / LCACHE_TICK_SHARE;
    heap_set_next_event(h);
    return a;
}

/* heap_alloc_large's cache hit, its rare steps: the frees a signal handler
 * deferred meanwhile (drain: defer_leave_due said so), the sampling or
 * decay event, junk. Out of line, so the hit needs no stack frame. */
static NOINLINE void *large_hit_slow(size_t size, struct heap *h, void *p, size_t usize, bool drain)
{
    if (drain)
        defer_drain();
    if (unlikely(h->allocated >= h->next_event))
        p = large_hit_event(h, p, size, usize);
    junk_on_alloc(p, usize);
    return p;
}

/* heap_alloc_large without a block from tcache_large_pop (inside its
 * defer_enter): the cache's general path (an idle pass may be due), else
 * the arena, as heap_alloc_general would serve it. */
static NOINLINE void *large_alloc_miss(size_t size, struct heap *h, size_t usize)
{
    void *p = tcache_large_alloc(h, usize, false, 0);
    if (p) {
        large_hit_count(h, usize);
        return large_hit_slow(size, h, p, usize, defer_leave_due());
    }
    heap_follow_node(h);
    size_t c = tcache_large_class(usize);
    h->large.missed |= (uint32_t)1 << c; /* (tcache_large_free) */
    struct span *r = arena_remote_take(h->arena, c);
    if (r) { /* blocks of this arena other threads freed (arena.h) */
        struct span *rest = r->next;
        r->lcached = 0;
        /* The cache keeps what it has room for (still marked lcached),
         * the stack the rest. */
        while (rest) {
            struct span *next = rest->next;
            if (!tcache_large_push(&h->large, rest, usize))
                break;
            rest = next;
        }
        if (rest)
            arena_remote_give_back(h->arena, c, rest);
        p = (void *)r->start;
        if (opt.zero)
            memset(p, 0, usize);
        large_hit_count(h, usize);
        return large_hit_slow(size, h, p, usize, defer_leave_due());
    }
    p = arena_large_alloc(h->arena, usize, 0, opt.zero, !h->arena_explicit);
    defer_leave();
    if (unlikely(!p)) {
        errno = ENOMEM;
        return NULL;
    }
    h->allocated += usize;
    if (unlikely(h->allocated >= h->next_event))
        p = heap_event(size, h, p, usize);
    if (!opt.zero) /* (zero:true: the arena zeroed it) */
        junk_on_alloc(p, usize);
    return p;
}

void *heap_alloc_large(size_t size, struct heap *h)
{
    /* heap_empty's tcache is false: a thread's first call goes the general way. */
    if (size <= tcache_large_max && h->tcache) {
        size_t c = tcache_large_class(size);
        size_t usize = tcache_large_usize[c];
        defer_enter(); /* the cache's stacks; an idle pass, the arena: their locks */
        void *p = tcache_large_pop(&h->large, c, usize);
        if (unlikely(!p))
            return large_alloc_miss(size, h, usize);
        uint64_t a = large_hit_count(h, usize);
        bool drain = defer_leave_due();
        if (unlikely(drain || a >= h->next_event || junk_alloc))
            return large_hit_slow(size, h, p, usize, drain);
        return p;
    }
    return heap_alloc_general(h, size, 0, false, false, NULL);
}

/* ---- free slow path ---- */

/* What is wrong with freeing p whose radix-tree value is e (non-zero) and
 * whose span is s: NULL if p is a live block, else the report's wording.
 * Slab blocks: a boundary inside the span and not marked free (misuse.h);
 * large and huge blocks: the start of a span of that kind. */
static const char *free_misuse(struct span *s, void *p)
{
    if (s == NULL)
        return "invalid pointer (not allocated here):";
    switch (s->kind) {
    case SPAN_SLAB:
        if (!misuse_slab_block_ok(s, p))
            return ((uintptr_t)p - s->start) < span_bytes(s)
                       ? "invalid pointer (not the start of a block):"
                       : "invalid pointer (not allocated here):";
        if (misuse_is_free(p))
            return "double free of";
        return NULL;
    case SPAN_LARGE:
    case SPAN_HUGE:
        if ((uintptr_t)p == s->start)
            return s->lcached ? "double free of" : NULL; /* lcached: in a thread's cache */
        return (uintptr_t)p - s->start < span_bytes(s) ? "invalid pointer (not the start of a block):"
                                                        : "invalid pointer (not allocated here):";
    default:
        /* Free pages: the block was freed (and its pages not reused yet). */
        return (uintptr_t)p - s->start < span_bytes(s) ? "double free or invalid pointer"
                                                        : "invalid pointer (not allocated here):";
    }
}

bool heap_ptr_check(void *p, const char *func)
{
    return heap_live_span(p, func) != NULL;
}

struct span *heap_live_span_slow(void *p, uintptr_t e, const char *func)
{
    struct span *s = rtree_value_span(e, (uintptr_t)p);
    const char *what = e == 0 ? "invalid pointer (not allocated here):" : free_misuse(s, p);
    if (likely(what == NULL))
        return s;
    misuse_report(func, what, p);
    return NULL;
}

static inline __attribute__((always_inline)) void free_live(struct heap *h, void *p, struct span *s);
static inline __attribute__((always_inline)) void free_live_body(struct heap *h, void *p,
                                                                 struct span *s);

void heap_free_slow(void *p, struct heap *h, uintptr_t e)
{
    /* A live small block (another thread's, a full page, a sampled page)
     * is the common case here: decided inline, as on the fast path. */
    struct span *s = heap_live_slab(p, e);
    if (unlikely(s == NULL)) {
        if (p == NULL)
            return;
        if (e == 0) {
            if (process_malloc_active()) { /* the process allocator's block */
                process_malloc_free(p);
                return;
            }
            misuse_report("free", "invalid pointer (not allocated here):", p);
            return;
        }
        s = rtree_value_span(e, (uintptr_t)p);
        const char *bad = free_misuse(s, p);
        if (unlikely(bad != NULL)) {
            misuse_report("free", bad, p);
            return; /* ignored: nothing was touched */
        }
    }
    free_live(h, p, s);
}

/* free of live small block p of span s owned by another thread heap that
 * uses the page (tag: s's owner_tag, no flag: not full, not the shared
 * heap's, no junk; no sampled block on s), the common remote free: the
 * push and the counters, without free_live's steps. False: nothing done
 * (page_free_remote_fast leaves no free mark on the block). */
static inline bool free_remote_fast(struct heap *h, struct span *s, void *p, uintptr_t tag)
{
    /* One test per condition: gcc otherwise computes tag == 0 || tag == h
     * with two setcc and an or (two instructions more). */
    if (tag & SPAN_TAG_MASK)
        return false;
    if (unlikely(tag == 0))
        return false;
    if (unlikely(tag == (uintptr_t)h))
        return false;
    if (h == &heap_empty || defer_busy() ||
        atomic_load_explicit(&s->nsampled, memory_order_relaxed) || !page_free_remote_fast(s, p))
        return false;
    uint64_t d = h->deallocated + s->block_size;
    h->deallocated = d;
    if (unlikely(d >= h->free_next))
        free_event_run(h, 0);
    return true;
}

static NOINLINE void free_span_general(void *p, struct heap *h, struct span *s);
static NOINLINE void free_span_large(void *p, struct heap *h, struct span *s);

/* The common cases first (a remote free, a large block the cache keeps),
 * in a function that saves no register; the rest in free_span_general. */
void heap_free_span_slow(void *p, struct heap *h, struct span *s)
{
    if (likely(s->kind == SPAN_SLAB && misuse_slab_block_ok(s, p) && !misuse_is_free(p))) {
        uintptr_t tag = atomic_load_explicit(&s->owner_tag, memory_order_acquire);
        if (likely(free_remote_fast(h, s, p, tag)))
            return;
    } else if (s->kind == SPAN_LARGE && s->cache_arena == h->arena &&
               (!h->arena_explicit || s->arena == h->arena)) {
        /* Only the thread's own arena's blocks are cached (tcache.h); a
         * remote large free goes the general way at once (to its arena's
         * remote stack: arena.h). */
        free_span_large(p, h, s);
        return;
    }
    free_span_general(p, h, s);
}

/* free_span_large's cached free when a signal handler deferred frees
 * meanwhile (defer_leave_outer_due said so): they run, then the free-side
 * event if due. Out of line: the cached free needs no stack frame. */
static NOINLINE void large_cached_drain(struct heap *h)
{
    defer_drain();
    note_free_event(h, 0);
}

/* free_span_large when the cache did not keep s (inside its defer_enter):
 * the general path, out of line as large_cached_drain. */
static NOINLINE void large_uncached(struct heap *h, struct span *s)
{
    defer_leave();
    free_span_general((void *)s->start, h, s);
}

/* heap_free_span_slow for a large span of the thread's own arena: a live
 * block (its start, not in a cache: free_misuse's verdict) that the
 * thread's cache keeps without giving a block back, when nothing else is
 * due (profiler, junk, a reentrant free): the push and the counters, the
 * rare steps out of line (no stack frame). Else the general path. */
static void free_span_large(void *p, struct heap *h, struct span *s)
{
    /* h is the thread's heap (heap_tls), and a dying heap is no thread's
     * outside a deferring section (heap_thread_exit, heap_flush), so with
     * defer_busy() false h is not dying: lcache_ok's test is left out. */
    size_t usize = s->usize;
    if ((uintptr_t)p != s->start || s->lcached || defer_busy() || usize > tcache_large_free_max ||
        atomic_load_explicit(&s->nsampled, memory_order_relaxed) || !h->tcache) {
        free_span_general(p, h, s);
        return;
    }
    DASSERT(!h->dying);
    defer_enter(); /* the cache's stacks: a signal handler's free waits */
    if (unlikely(!tcache_large_push(&h->large, s, usize))) {
        large_uncached(h, s); /* p is s->start: one register less here */
        return;
    }
    uint64_t d = h->deallocated + usize;
    h->deallocated = d;
    /* free_next moves on (LCACHE_TICK_SHARE) unless a nudge zeroed it. */
    uint64_t f = __atomic_load_n(&h->free_next, __ATOMIC_RELAXED);
    if (f != 0) {
        f += usize - usize / LCACHE_TICK_SHARE;
        __atomic_store_n(&h->free_next, f, __ATOMIC_RELAXED);
    }
    if (unlikely(defer_leave_outer_due())) { /* defer_busy() was false */
        large_cached_drain(h);
        return;
    }
    if (unlikely(d >= f))
        free_event_run(h, 0);
}

static void free_span_general(void *p, struct heap *h, struct span *s)
{
    if (likely(s->kind == SPAN_SLAB && misuse_slab_block_ok(s, p) && !misuse_is_free(p))) {
        free_live(h, p, s);
        return;
    }
    const char *bad = free_misuse(s, p);
    if (unlikely(bad != NULL)) {
        misuse_report("free", bad, p);
        return; /* ignored: nothing was touched */
    }
    free_live(h, p, s);
}

void heap_free_live(struct heap *h, void *p, struct span *s)
{
    free_live(h, p, s);
}

/* Defer the free of live block p of span s (defer.h): marked freed, so a
 * second free of it is reported as a double free, and pushed on the
 * thread's list. Off the inlined paths: only reentrant frees come here. */
static NOINLINE void free_defer(void *p, struct span *s)
{
    if (s->kind == SPAN_SLAB)
        misuse_set_free(p);
    else
        s->lcached = DEFER_LCACHED;
    defer_push(p);
}

/* True if p is a block free_defer marked: the check of a deferred list's
 * link (a write after free of the block holding it could change it). */
static bool deferred_ok(void *p)
{
    struct span *s = span_of(p);
    if (s == NULL)
        return false;
    if (s->kind == SPAN_SLAB)
        return misuse_slab_block_ok(s, p) && (!config_misuse || misuse_is_free(p));
    return (s->kind == SPAN_LARGE || s->kind == SPAN_HUGE) && (uintptr_t)p == s->start &&
           s->lcached == DEFER_LCACHED;
}

void *heap_free_deferred(void *p)
{
    struct span *s = span_of(p);
    void *n = *(void **)p;
    if (n != NULL && !deferred_ok(n)) {
        misuse_report("free", "corrupted deferred-free list (a freed block was written to) at", p);
        n = NULL;
    }
    if (s->kind != SPAN_SLAB)
        s->lcached = 0;
    free_live_body(heap_tls, p, s);
    return n;
}

/* Free live block p of span s now, or defer it when this thread is inside
 * a slow path already (a signal handler's free: defer.h). */
static inline __attribute__((always_inline)) void free_live(struct heap *h, void *p, struct span *s)
{
    if (unlikely(defer_busy())) {
        free_defer(p, s);
        return;
    }
    defer_enter();
    free_live_body(h, p, s);
    defer_leave();
}

/* heap_free_live's body, inlined into heap_free_slow too (no second call
 * on the remote-free path). */
static inline __attribute__((always_inline)) void free_live_body(struct heap *h, void *p,
                                                                 struct span *s)
{
    if (unlikely(h == &heap_empty)) {
        /* A thread that only frees still gets a heap: its counters then stay
         * thread-local instead of hitting a shared atomic on every free. */
        struct heap *mine = heap_create();
        if (mine)
            h = mine;
    }
    switch (s->kind) {
    case SPAN_SLAB: {
        uintptr_t tag = atomic_load_explicit(&s->owner_tag, memory_order_acquire);
        if (span_maybe_sampled(s, (uintptr_t)p))
            prof_free_check(s, p);
        junk_on_free(p, s->block_size);
        if (h != &heap_empty)
            h->deallocated += s->block_size;
        else
            stats_note_orphan_free(s->block_size);
        struct heap *owner = (struct heap *)(tag & ~SPAN_TAG_MASK);
        if (owner == h && h != &heap_empty) {
            if (!(tag & SPAN_TAG_FULL)) {
                free_owned(h, s, p);
                note_free_event(h, 0);
                return;
            }
            /* Our full page, unless the sweeper took it meanwhile. */
            pthread_mutex_lock(&h->full_lock);
            tag = atomic_load_explicit(&s->owner_tag, memory_order_acquire);
            owner = (struct heap *)(tag & ~SPAN_TAG_MASK);
            if (owner == h) {
                free_owned(h, s, p);
                pthread_mutex_unlock(&h->full_lock);
                note_free_event(h, 0);
                return;
            }
            pthread_mutex_unlock(&h->full_lock);
        }
        if (tag & SPAN_TAG_SHARED) {
            /* A cache-less block goes straight back to its arena's shared heap,
             * as jemalloc frees to the arena bin: counts stay exact. */
            struct arena *oa = owner->arena;
            shared_lock(oa);
            bool still = (atomic_load_explicit(&s->owner_tag, memory_order_relaxed) &
                          ~SPAN_TAG_MASK) == (uintptr_t)owner;
            if (still)
                free_owned(owner, s, p);
            shared_unlock(oa);
            if (still) {
                note_free_event(h, 0);
                return;
            }
        }
        page_free_remote(s, p);
        note_free_event(h, 0);
        return;
    }
    case SPAN_LARGE:
    case SPAN_HUGE: {
        size_t usize = s->usize;
        if (span_maybe_sampled(s, (uintptr_t)p))
            prof_free_check(s, p);
        junk_on_free(p, s->usize);
        if (h != &heap_empty)
            h->deallocated += s->usize;
        else
            stats_note_orphan_free(s->usize);
        if (s->kind == SPAN_LARGE) {
            /* Another arena's block: back to its allocating arena's
             * threads without a lock, in batches (tcache_large_remote). */
            if (!tcache_large_free(h, s) && (s->cache_arena == h->arena || !tcache_large_remote(h, s)))
                arena_large_free(s);
        }
        else
            huge_free(s);
        note_free_event(h, usize); /* s may be another block's now */
        return;
    }
    default:
        return; /* free_misuse reported it */
    }
}

/* ---- fork ---- */

void heap_prefork(void)
{
    pthread_mutex_lock(&heaps_lock);
}

void heap_postfork_parent(void)
{
    pthread_mutex_unlock(&heaps_lock);
}

void heap_postfork_child(void)
{
    pthread_mutex_init(&heaps_lock, NULL);
    /* Another thread may have held our full_lock while taking a page at the
     * fork; it does not exist here. Other heaps' owners are gone too: only
     * trylock ever reaches their locks (sweeper, page taking). */
    if (heap_tls != &heap_empty)
        pthread_mutex_init(&heap_tls->full_lock, NULL);
}
