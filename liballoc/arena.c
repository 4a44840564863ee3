/* arena: chunks, page runs, large blocks, abandoned pages (see arena.h). */
#include "arena.h"
#include "pagemap.h"
#include "junk.h"
#include "options.h"
#include "base.h"
#include "heap.h"
#include "huge.h"
#include "numa.h"
#include "os.h"
#include "page.h"
#include "rtree.h"
#include "stats.h"
#include "bss_large.h"

#include <errno.h>
#include <string.h>

unsigned arena_count;
struct arena *arenas[ARENA_MAX] BSS_LARGE;
ssize_t arena_default_dirty_ms = 10000, arena_default_muzzy_ms = 0;
static pthread_mutex_t arenas_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned arenas_created;
unsigned arena_total(void);
__thread unsigned lock_depth __attribute__((tls_model("initial-exec")));

/* ---- descriptors ---- */

struct span span_none = {.kind = SPAN_BUSY};

/* Base could not map metadata (the kernel refuses mappings; see
 * chunk_reclaim): give it a 2 MiB unit of this arena's free huge runs,
 * clean ones first, zeroed if it was not clean (base hands out zeroed
 * memory). False if the arena holds no free run. a->lock held; rare
 * path, so the madvise under the lock is acceptable. */
static bool base_refill(struct arena *a)
{
    uintptr_t addr;
    bool dirty;
    if (!huge_chunk_take(a, true, &addr, &dirty))
        return false;
    os_thp_mark((void *)addr, CHUNK, false); /* a huge block's mark: not for metadata */
    /* huge_chunk_take took it out of stats.mapped's arena part; base_mapped,
     * the metadata part, counts it now. */
    if (dirty && os_purge_forced((void *)addr, CHUNK) != 0)
        memset((void *)addr, 0, CHUNK);
    /* Metadata now: free() of a pointer into it must not find the huge
     * block that once started here. A non-zero value has its leaf, so
     * clearing it allocates nothing and cannot fail. */
    if (rtree_get(addr) != 0)
        (void)!rtree_set(addr, 0);
    base_add_block((void *)addr, CHUNK);
    return true;
}

/* base_alloc, refilled from a's free huge runs once if the kernel refused
 * base a mapping. a->lock held, and no pointer to a free huge run kept
 * across the call (the refill may shrink or drop one). */
static void *arena_base_alloc(struct arena *a, size_t size, size_t align)
{
    void *p = base_alloc(size, align);
    if (unlikely(!p) && base_refill(a))
        p = base_alloc(size, align);
    return p;
}

/* Descriptors come from base in batches, so base's lock is taken rarely,
 * and are handed out one by one from the batch (a->span_fresh), so only
 * the ones used are touched: linking a whole batch into the cache touched
 * its 16 KiB at once, four pages per arena of which a thread that takes a
 * few slab pages uses one (bench/xthread_producer_consumer, 3 arenas: 40 KiB
 * of the ~96 KiB of metadata resident). */
#define SPAN_BATCH 64

/* A recycled descriptor, else an unused one of the current batch; NULL
 * when both are gone. */
static struct span *span_take(struct arena *a)
{
    struct span *s = a->span_cache;
    if (s) {
        a->span_cache = s->next;
        return s;
    }
    if (a->span_fresh != a->span_fresh_end)
        return a->span_fresh++;
    return NULL;
}

/* A fresh batch b becomes the one descriptors are handed out from; what
 * was left of the previous one goes to the cache. */
static void span_batch_start(struct arena *a, struct span *b)
{
    while (a->span_fresh != a->span_fresh_end) {
        struct span *s = a->span_fresh++;
        s->next = a->span_cache;
        a->span_cache = s;
    }
    a->span_fresh = b;
    a->span_fresh_end = b + SPAN_BATCH;
}

struct span *arena_span_new(struct arena *a)
{
    struct span *s = span_take(a);
    if (!s) {
        /* Plain base_alloc: callers may hold free huge runs (huge.c), which
         * a refill could take; they call arena_span_reserve instead when
         * this fails. */
        struct span *batch = base_alloc(sizeof(struct span) * SPAN_BATCH, 64);
        if (!batch)
            return NULL;
        span_batch_start(a, batch);
        s = span_take(a);
    }
    memset(s, 0, sizeof(*s));
    s->arena = a;
    return s;
}

bool arena_span_reserve(struct arena *a)
{
    size_t fresh = (size_t)(a->span_fresh_end - a->span_fresh);
    if (fresh >= 2 || (a->span_cache && (fresh || a->span_cache->next)))
        return true;
    struct span *batch = arena_base_alloc(a, sizeof(struct span) * SPAN_BATCH, 64);
    if (!batch)
        return false;
    span_batch_start(a, batch);
    return true;
}

void arena_span_release(struct arena *a, struct span *s)
{
    s->kind = SPAN_FREE;
    s->next = a->span_cache;
    a->span_cache = s;
}

/* ---- free-span bins ---- */

static struct chunk *chunk_of(uintptr_t addr)
{
    return rtree_chunk(rtree_get(addr)); /* a chunk value, or 0 (NULL) */
}

static void map_set(struct span *s)
{
    struct chunk *c = chunk_of(s->start);
    size_t first = (s->start - c->base) >> LG_PAGE;
    c->map[first] = s;
    c->map[first + s->npages - 1] = s;
}

void arena_lru_push(struct arena *a, struct span *s, unsigned list)
{
    span_lru_push(&a->lru[list], s);
}

void arena_lru_remove(struct arena *a, struct span *s, unsigned list)
{
    span_lru_remove(&a->lru[list], s);
}

/* The bin of a free run of npages (1..CHUNK_PAGES): its page count below
 * ARENA_EXACT_PAGES, else four bins per doubling (arena.h). */
static size_t bin_of(size_t npages)
{
    if (npages < ARENA_EXACT_PAGES)
        return npages;
    unsigned lg = 63 - (unsigned)__builtin_clzll(npages); /* >= 6 */
    return ARENA_EXACT_PAGES + 4 * (lg - 6) + ((npages >> (lg - 2)) & 3);
}

static void bin_insert(struct arena *a, struct span *s)
{
    unsigned st = s->state;
    size_t b = bin_of(s->npages);
    s->kind = SPAN_FREE;
    s->prev = NULL;
    s->next = a->bins[b][st];
    if (s->next)
        s->next->prev = s;
    a->bins[b][st] = s;
    a->binmap[st][b / 64] |= 1ull << (b % 64);
    map_set(s);
    if (st == SPAN_DIRTY) {
        a->stats.ndirty += s->npages;
        arena_lru_push(a, s, 0);
    } else if (st == SPAN_MUZZY) {
        a->stats.nmuzzy += s->npages;
        arena_lru_push(a, s, 1);
    } else {
        a->stats.retained += span_bytes(s);
    }
}

static void bin_remove(struct arena *a, struct span *s)
{
    unsigned st = s->state;
    size_t b = bin_of(s->npages);
    if (s->prev)
        s->prev->next = s->next;
    else
        a->bins[b][st] = s->next;
    if (s->next)
        s->next->prev = s->prev;
    if (a->bins[b][st] == NULL)
        a->binmap[st][b / 64] &= ~(1ull << (b % 64));
    if (st == SPAN_DIRTY) {
        a->stats.ndirty -= s->npages;
        arena_lru_remove(a, s, 0);
    } else if (st == SPAN_MUZZY) {
        a->stats.nmuzzy -= s->npages;
        arena_lru_remove(a, s, 1);
    } else {
        a->stats.retained -= span_bytes(s);
    }
}

/* Spans of a coarse bin looked at for one that fits before the search
 * moves on to larger bins (where every span fits): bounds the time under
 * the lock when many runs share a bin, at the cost of a larger run cut. */
#define BIN_SCAN 8

/* A free span of at least npages pages in state st: the first that fits in
 * npages' own bin when that bin is coarse (runs within a quarter of their
 * size share it), else the newest of the smallest non-empty larger bin;
 * NULL if none. */
static struct span *bin_fit(struct arena *a, unsigned st, size_t npages)
{
    size_t b = bin_of(npages);
    if (b >= ARENA_EXACT_PAGES) {
        unsigned n = 0;
        for (struct span *s = a->bins[b][st]; s && n < BIN_SCAN; s = s->next, n++)
            if (s->npages >= npages)
                return s;
        b++;
    }
    size_t w = b / 64;
    if (w >= (ARENA_NBINS + 63) / 64)
        return NULL;
    uint64_t bits = a->binmap[st][w] & (~0ull << (b % 64));
    for (;;) {
        if (bits)
            return a->bins[w * 64 + (size_t)__builtin_ctzll(bits)][st];
        if (++w >= (ARENA_NBINS + 63) / 64)
            return NULL;
        bits = a->binmap[st][w];
    }
}

/* Insert a free span, merging it with free neighbours of the same state. */
static void free_span_insert(struct arena *a, struct span *s)
{
    struct chunk *c = chunk_of(s->start);
    size_t first = (s->start - c->base) >> LG_PAGE;
    size_t last = first + s->npages - 1;
    if (first > 0) {
        struct span *p = c->map[first - 1];
        if (p && p->kind == SPAN_FREE && p->state == s->state &&
            p->start + span_bytes(p) == s->start) {
            bin_remove(a, p);
            s->start = p->start;
            s->npages += p->npages;
            if (p->freed_ns < s->freed_ns && s->state != SPAN_CLEAN)
                s->freed_ns = p->freed_ns;
            arena_span_release(a, p);
        }
    }
    if (last + 1 < CHUNK_PAGES) {
        struct span *n = c->map[last + 1];
        if (n && n->kind == SPAN_FREE && n->state == s->state && n->start == s->start + span_bytes(s)) {
            bin_remove(a, n);
            s->npages += n->npages;
            arena_span_release(a, n);
        }
    }
    bin_insert(a, s);
}

/* Chunk descriptors of unmapped chunks (retain:false), per arena, reused by
 * chunk_new. Guarded by the arena's lock. */
static struct chunk *chunk_recycled[ARENA_MAX] BSS_LARGE;

/* The kernel refused a chunk mapping (an address-space limit,
 * vm.max_map_count, overcommit): serve it from address space the allocator
 * holds. First a unit of this arena's free huge runs becomes the chunk (no
 * system call; *dirty says its pages were not clean); else free huge runs
 * of every arena go back to the kernel and the mapping is tried again, as
 * long as there are some. a->lock held on entry and on return, dropped
 * around the second step (span_alloc searches the bins again after),
 * except in a signal handler inside an allocator lock (lock_depth.h):
 * retaking it could wait forever, so it keeps the lock and huge_release
 * only tries the other arenas'. 0 or an errno. */
static int chunk_reclaim(struct arena *a, void **mem, bool *dirty)
{
    uintptr_t addr;
    if (huge_chunk_take(a, false, &addr, dirty)) {
        /* A huge block's mark would fault the chunk's first page in as a
         * 2 MiB page (rare path: the system call under the lock). */
        os_thp_mark((void *)addr, CHUNK, false);
        *mem = (void *)addr;
        return 0;
    }
    *dirty = false;
    int err = ENOMEM;
    bool keep = lock_reentered_past(1); /* more than a's own lock */
    if (!keep)
        arena_unlock(a);
    /* Twice a chunk: room for os_map_aligned's over-mapping. */
    while (huge_release(2 * CHUNK) > 0)
        if ((err = os_map_aligned(CHUNK, CHUNK, mem)) == 0)
            break;
    if (!keep)
        arena_lock(a);
    return err;
}

static int chunk_new(struct arena *a)
{
    void *mem;
    bool dirty = false;
    int err = os_map_aligned(CHUNK, CHUNK, &mem);
    if (unlikely(err) && (err = chunk_reclaim(a, &mem, &dirty)) != 0)
        return err;
    struct chunk *c = chunk_recycled[a->index];
    if (c) {
        chunk_recycled[a->index] = c->next;
        memset(c, 0, sizeof(*c));
    } else {
        c = arena_base_alloc(a, sizeof(struct chunk), 64);
    }
    struct span *s = arena_span_new(a);
    if (unlikely(!s) && arena_span_reserve(a))
        s = arena_span_new(a);
    /* Pages no span covers map to span_none, never NULL: the free fast
     * path then needs no NULL test (misuse.h). */
    for (size_t i = 0; c && i < CHUNK_PAGES; i++)
        c->map[i] = &span_none;
    if (!c || !s || rtree_set((uintptr_t)mem, rtree_value_chunk(c)) != 0) {
        os_unmap(mem, CHUNK);
        if (s)
            arena_span_release(a, s);
        return ENOMEM;
    }
    os_thp_apply(mem, CHUNK);
    if (a->node >= 0)
        numa_bind_memory(mem, CHUNK, a->node);
    c->base = (uintptr_t)mem;
    c->arena = a;
    c->next = a->chunks;
    a->chunks = c;
    a->stats.mapped += CHUNK;
    s->start = (uintptr_t)mem;
    s->npages = CHUNK_PAGES;
    s->state = SPAN_CLEAN;
    if (dirty)
        decay_freed(a, s); /* pages of a dirty huge run: dirty here too */
    bin_insert(a, s);
    return 0;
}

/* retain:false: a chunk whose pages are all free and purged (span s covers
 * it) goes back to the kernel instead of staying mapped as retained
 * space; stats.mapped drops. No block lives in it, so nothing can look it
 * up any more. Lock held; returns the chunk's base, which the caller unmaps
 * (CHUNK bytes) once it has dropped the lock, or 0 if it stays mapped. */
static uintptr_t chunk_release(struct arena *a, struct span *s)
{
    struct chunk *c = chunk_of(s->start);
    if (rtree_set(c->base, 0) != 0)
        return 0; /* cannot happen (the leaf exists): keep the chunk mapped */
    bin_remove(a, s);
    arena_span_release(a, s);
    for (struct chunk **pp = &a->chunks; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    uintptr_t base = c->base;
    a->stats.mapped -= CHUNK;
    c->next = chunk_recycled[a->index];
    chunk_recycled[a->index] = c;
    return base;
}

/* Split `need` pages starting at a multiple of align (bytes) off free span s
 * (already out of the bins, at least need + align / PAGE - 1 pages): its
 * lowest such pages, or with top its highest. */
static struct span *span_carve(struct arena *a, struct span *s, size_t need, size_t align, bool top)
{
    /* The top: everything below is the lead that goes back to the bins
     * (and, for an aligned slab, a tail of fewer pages than align above). */
    uintptr_t start = top ? ALIGN_DOWN(s->start + ((s->npages - need) << LG_PAGE), align)
                          : ALIGN_UP(s->start, align);
    size_t lead = (start - s->start) >> LG_PAGE;
    if (lead) {
        struct span *l = arena_span_new(a);
        if (!l) {
            bin_insert(a, s);
            return NULL;
        }
        l->start = s->start;
        l->npages = lead;
        l->state = s->state;
        l->freed_ns = s->freed_ns;
        s->start = start;
        s->npages -= lead;
        bin_insert(a, l);
    }
    if (s->npages > need) {
        struct span *t = arena_span_new(a);
        if (!t) {
            bin_insert(a, s);
            return NULL;
        }
        t->start = s->start + (need << LG_PAGE);
        t->npages = s->npages - need;
        t->state = s->state;
        t->freed_ns = s->freed_ns;
        s->npages = need;
        bin_insert(a, t);
    }
    s->zeroed = s->state == SPAN_CLEAN;
    map_set(s);
    return s;
}

/* A run of npages at alignment align (bytes) from the bins, or a new chunk;
 * from the top of the free run it is cut from when top (slabs), else from
 * its bottom (large blocks). Lock held.
 * Slabs from the top, large blocks from the bottom: a freed large block's
 * first page then stays free while its run has room for the slabs asked
 * of it meanwhile, so a second free of the block (or realloc of it) finds
 * free pages and is reported as a double free (misuse.h), instead of
 * finding a slab block that starts at the same address and freeing it
 * (a program's stdio buffer, allocated between the two frees, took those
 * pages: tests/apps/misuse_suite.sh, double_free_large). It also keeps the
 * two kinds apart, as size-segregated allocators do. */
static struct span *span_alloc(struct arena *a, size_t npages, size_t align, bool top)
{
    size_t want = npages + (align > PAGE ? (align >> LG_PAGE) - 1 : 0);
    if (want > CHUNK_PAGES)
        return NULL;
    bool reserved = false;
    for (int tries = 0; tries < 2; tries++) {
        static const unsigned order[3] = {SPAN_DIRTY, SPAN_MUZZY, SPAN_CLEAN};
    search:
        for (int i = 0; i < 3; i++) {
            struct span *s = bin_fit(a, order[i], want);
            if (!s)
                continue;
            bin_remove(a, s);
            s = span_carve(a, s, npages, align > PAGE ? align : PAGE, top);
            if (s) {
                decay_reused(a, order[i], npages, false);
            } else if (!reserved && arena_span_reserve(a)) {
                /* Descriptors ran out and base could not map: refilled
                 * from free huge runs (the span went back to the bins). */
                reserved = true;
                goto search;
            }
            return s;
        }
        if (chunk_new(a) != 0)
            return NULL;
    }
    return NULL;
}

static void span_free(struct arena *a, struct span *s)
{
    decay_freed(a, s);
    free_span_insert(a, s);
}

/* Pages in use in the chunk of `start` go up or down by npages (lock held). */
static void chunk_active_add(struct arena *a, uintptr_t start, ptrdiff_t npages)
{
    struct chunk *c = chunk_of(start);
    (void)a;
    c->active += (size_t)npages;
}

/* ---- slab pages ---- */

static void abandoned_unlink(struct arena *a, struct span *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        a->abandoned[s->cls] = s->next;
    if (s->next)
        s->next->prev = s->prev;
    else
        a->abandoned_last[s->cls] = s->prev;
    s->next = s->prev = NULL;
    s->abandoned = 0;
}

/* Pages examined, and the share of blocks that must be free, before a heap
 * adopts an abandoned page rather than taking a fresh one: pages taken from
 * their owners at their first remote free are nearly full, and adopting one
 * for a block or two would cycle it through the arena lock over and over. */
#define ADOPT_SCAN 8
#define ADOPT_FREE_SHARE 4 /* at least 1/4 of the blocks free */

static struct span *abandoned_pick(struct arena *a, unsigned cls)
{
    unsigned n = 0;
    for (struct span *s = a->abandoned[cls]; s && n < ADOPT_SCAN; s = s->next, n++) {
        int32_t out = atomic_load_explicit(&s->abandon_left, memory_order_relaxed);
        if (out <= (int32_t)(s->reserved - s->reserved / ADOPT_FREE_SHARE))
            return s;
    }
    return NULL;
}

struct arena *arena_try_others(struct arena *skip, bool (*take)(struct arena *))
{
    unsigned n = arena_total();
    for (unsigned i = 0; i < n; i++) {
        struct arena *b = __atomic_load_n(&arenas[i], __ATOMIC_ACQUIRE);
        if (b && b != skip && take(b))
            return b;
    }
    for (unsigned i = 0; i < arena_count; i++) {
        struct arena *b;
        if (!__atomic_load_n(&arenas[i], __ATOMIC_ACQUIRE) && (b = arena_get(i)) && take(b))
            return b;
    }
    return NULL;
}

/* Arena a (locked) is about to carve want pages. When it has no free run
 * that long, span_alloc would map a new chunk, though another arena of
 * its node may hold dirty pages nothing reuses (threads of a program that
 * frees in one arena and allocates in the other; bench/shapes/mstress at 2
 * threads kept ~8 MiB dirty in each of its two arenas, and peaked 3 MiB
 * above mimalloc, whose freed segments any thread takes). Such an arena
 * then serves the request: its block or page is that arena's (freed back
 * to it, as any span to its chunk's arena), its pages resident already.
 * Only between automatic arenas, and only for an arena the caller did not
 * name (MALLOCX_ARENA, thread.arena, an arenas.create arena, a cache-less
 * request through an arena's shared heap: those serve their own); only
 * with trylock (a's lock stays held while asking). Returns the arena to
 * carve from, locked; a is unlocked when it is not that arena. */
static struct arena *arena_dirty_donor(struct arena *a, size_t want)
{
    if (a->index >= arena_count || want > CHUNK_PAGES)
        return a;
    for (unsigned st = SPAN_DIRTY; st <= SPAN_CLEAN; st++)
        if (bin_fit(a, st, want))
            return a;
    unsigned n = arena_total() < arena_count ? arena_total() : arena_count;
    for (unsigned i = 0; i < n; i++) {
        struct arena *b = __atomic_load_n(&arenas[i], __ATOMIC_ACQUIRE);
        if (!b || b == a || b->node != a->node || !arena_trylock(b))
            continue;
        if (bin_fit(b, SPAN_DIRTY, want)) {
            arena_unlock(a);
            return b;
        }
        arena_unlock(b);
    }
    return a;
}

struct arena *arena_lock_for_alloc(struct arena *a)
{
    if (arena_lock_or_try(a))
        return a;
    /* A signal handler that interrupted this thread inside an allocator
     * lock (lock_depth.h), and a is busy, perhaps held by this thread. */
    return arena_try_others(a, arena_trylock);
}

/* Slab page s in use again: on the live-slab list, among the active pages,
 * its malloc count from zero (page_retire_locked's reverse). */
static void page_activate_locked(struct arena *a, struct span *s)
{
    a->stats.active_pages += s->npages;
    a->stats.slab_pages += s->npages;
    chunk_active_add(a, s->start, (ptrdiff_t)s->npages);
    s->nfree -= (uint32_t)s->nmalloc; /* blocks out stay as they were */
    s->nmalloc = 0;
    s->slab_prev = NULL;
    s->slab_next = a->slabs;
    if (a->slabs)
        a->slabs->slab_prev = s;
    a->slabs = s;
}

static struct span *slab_cache_take(struct arena *a, unsigned cls); /* the slab cache, below */

struct span *arena_page_alloc(struct arena *a, unsigned cls, struct heap *owner, bool *adopted)
{
    if (!(a = arena_lock_for_alloc(a)))
        return NULL;
    struct span *s = abandoned_pick(a, cls);
    if (s) {
        abandoned_unlink(a, s);
        *adopted = true;
    } else if ((s = slab_cache_take(a, cls)) != NULL) {
        *adopted = false;
    } else {
        *adopted = false;
        /* A miss: the other classes' cached pages become free runs first,
         * the exact fits a new slab takes, as they were before the cache. */
        arena_slab_cache_flush(a, 0, true);
        if (!owner->shared && !owner->arena_explicit)
            a = arena_dirty_donor(a, sizeclass_slab_pages[cls]);
        s = span_alloc(a, sizeclass_slab_pages[cls], sizeclass_slab_align(sizeclass_size[cls]), true);
        if (s) {
            a->counts->bin_events[cls].ncreated++;
            page_init(s, cls);
            struct chunk *c = chunk_of(s->start);
            size_t first = (s->start - c->base) >> LG_PAGE;
            for (size_t i = 0; i < s->npages; i++)
                c->map[first + i] = s;
            pagemap_set(s->start, s->npages, s);
            page_activate_locked(a, s);
        }
    }
    /* A thread heap's cache of cls filled (counted in the page's arena). */
    if (s && !owner->shared)
        a->counts->bin_events[cls].nfills++;
    arena_unlock(a);
    if (s) {
        s->next = s->prev = NULL;
        /* An adopted page may still hold sampled blocks: keep their frees checked. */
        uintptr_t flags = atomic_load_explicit(&s->nsampled, memory_order_acquire) ? SPAN_TAG_SAMPLED : 0;
        if (owner->shared)
            flags |= SPAN_TAG_SHARED;
        atomic_store_explicit(&s->owner_tag, (uintptr_t)owner | flags | junk_tag,
                              memory_order_release);
        if (*adopted)
            page_set_delayed(s, DELAY_NONE, true);
    }
    decay_tick(a);
    return s;
}

/* pg (an empty slab page) out of use: unowned, its counts retired, off the
 * live-slab list and the active pages (page_activate_locked's reverse). Its pages and page-map entries stay
 * as they are (slab_cache_put keeps it whole; page_release_locked frees it). */
static void page_retire_locked(struct arena *a, struct span *pg)
{
    atomic_store_explicit(&pg->owner_tag, 0, memory_order_relaxed);
    a->retired_nmalloc[pg->cls] += pg->nmalloc;
    if (pg->slab_prev)
        pg->slab_prev->slab_next = pg->slab_next;
    else
        a->slabs = pg->slab_next;
    if (pg->slab_next)
        pg->slab_next->slab_prev = pg->slab_prev;
    a->stats.active_pages -= pg->npages;
    a->stats.slab_pages -= pg->npages;
    chunk_active_add(a, pg->start, -(ptrdiff_t)pg->npages);
}

/* The slab span's pages back to the free runs (dirty, on the decay
 * schedule). */
static void page_pages_free(struct arena *a, struct span *pg)
{
    pagemap_set(pg->start, pg->npages, NULL);
    span_free(a, pg);
}

static void page_release_locked(struct arena *a, struct span *pg)
{
    page_retire_locked(a, pg);
    page_pages_free(a, pg);
}

/* The slab cache: one emptied slab page per class per arena kept whole, so
 * the next page of its class comes back carved, with its free list and
 * page-map entries as they were, instead of going through the free-run
 * bins, page_init, both page maps and carving again (a program that
 * empties and refills its pages every round, as bench/shapes/sh6bench
 * does: 1584 -> 1503 M instructions). A cached page holds only free,
 * marked blocks, so a free of one is reported as a double free, as any
 * free into a free page is. A page request of a class with nothing cached
 * first turns the other classes' cached pages into free runs: new slabs
 * then find the exact fits they found before the cache, and do not eat
 * into other runs sooner (such as a large block just freed, whose address
 * a second, double free would then hit in a new slab: misuse_modes'
 * double_large_slabs_between). decay_run gives back a page cached longer
 * than SLAB_CACHE_HOLD_NS, all of them when forced (arena.<i>.purge), and
 * keeps the arena's purge work pending while it holds one, so ticks come
 * back for it. Not kept: under dirty_decay_ms:0 (pages go back at once),
 * a page with a sampled block or a cut list, a shared heap's page, and in
 * debug builds. a->lock held throughout. */
#define SLAB_CACHE_HOLD_NS ((uint64_t)10 * 1000000)

static bool slab_cache_put(struct arena *a, struct span *pg)
{
    if (config_debug || a->slab_cache[pg->cls] || span_used(pg) != 0 || pg->list_cut ||
        a->decay_dirty.ms == 0 || atomic_load_explicit(&pg->nsampled, memory_order_relaxed) ||
        (atomic_load_explicit(&pg->owner_tag, memory_order_relaxed) & SPAN_TAG_SHARED))
        return false;
    page_retire_locked(a, pg);
    pg->freed_ns = decay_now();
    a->slab_cache[pg->cls] = pg;
    a->slab_cached++;
    return true;
}

static struct span *slab_cache_take(struct arena *a, unsigned cls)
{
    struct span *s = a->slab_cache[cls];
    if (!s)
        return NULL;
    a->slab_cache[cls] = NULL;
    a->slab_cached--;
    atomic_store_explicit(&s->thread_free, DELAY_NONE, memory_order_relaxed);
    page_activate_locked(a, s);
    return s;
}

void arena_slab_cache_flush(struct arena *a, uint64_t now, bool all)
{
    for (unsigned c = 0; a->slab_cached && c < NSMALL; c++) {
        struct span *pg = a->slab_cache[c];
        if (pg && (all || now - pg->freed_ns >= SLAB_CACHE_HOLD_NS)) {
            a->slab_cache[c] = NULL;
            a->slab_cached--;
            page_pages_free(a, pg);
        }
    }
}

void arena_page_free(struct span *pg, bool flush)
{
    struct arena *a = pg->arena;
    arena_lock(a);
    if (flush)
        a->counts->bin_events[pg->cls].nflushes++;
    if (slab_cache_put(a, pg)) {
        arena_unlock(a);
        return;
    }
    page_release_locked(a, pg);
    decay_wave(a);
    arena_unlock(a);
    decay_poke_if_needed();
}

void arena_page_abandon(struct span *pg, bool flush)
{
    struct arena *a = pg->arena;
    arena_lock(a);
    if (flush)
        a->counts->bin_events[pg->cls].nflushes++;
    atomic_store_explicit(&pg->owner_tag, 0, memory_order_release);
    /* Blocks freed since page_collect_never already counted abandon_left
     * down: adding what was out then leaves what is out now. */
    int32_t out = (int32_t)span_used(pg);
    int32_t left = atomic_fetch_add_explicit(&pg->abandon_left, out, memory_order_acq_rel) + out;
    if (left <= 0) {
        page_collect(pg);
        if (span_used(pg) == 0) {
            page_release_locked(a, pg);
            decay_wave(a);
            arena_unlock(a);
            decay_poke_if_needed();
            return;
        }
    }
    /* Oldest first: older pages had more time to get their blocks back. */
    pg->next = NULL;
    pg->prev = a->abandoned_last[pg->cls];
    if (pg->prev)
        pg->prev->next = pg;
    else
        a->abandoned[pg->cls] = pg;
    a->abandoned_last[pg->cls] = pg;
    pg->abandoned = 1;
    arena_unlock(a);
}

void arena_abandoned_drained(struct span *pg)
{
    struct arena *a = pg->arena;
    arena_lock(a);
    if (pg->abandoned && pg->kind == SPAN_SLAB) {
        page_collect(pg);
        if (span_used(pg) == 0) {
            abandoned_unlink(a, pg);
            page_release_locked(a, pg);
            decay_wave(a);
        }
    }
    arena_unlock(a);
    decay_poke_if_needed();
}

void arena_collect_abandoned(struct arena *a)
{
    arena_lock(a);
    for (unsigned c = 0; c < NSMALL; c++) {
        struct span *s = a->abandoned[c];
        while (s) {
            struct span *next = s->next;
            page_collect(s);
            if (span_used(s) == 0) {
                abandoned_unlink(a, s);
                page_release_locked(a, s);
            }
            s = next;
        }
    }
    decay_wave(a);
    arena_unlock(a);
    decay_poke_if_needed();
}

void arena_bin_stats(struct arena *a, struct bin_stats out[NSMALL])
{
    memset(out, 0, sizeof(struct bin_stats) * NSMALL);
    arena_lock(a);
    for (unsigned c = 0; c < NSMALL; c++)
        out[c].nmalloc = a->retired_nmalloc[c];
    /* Owners update these without locks; the values are a racy but safe snapshot. */
    for (struct span *s = a->slabs; s; s = s->slab_next) {
        struct bin_stats *b = &out[s->cls];
        uint32_t used = span_used_racy(s);
        b->curregs += used;
        b->nmalloc += __atomic_load_n(&s->nmalloc, __ATOMIC_RELAXED);
        b->nslabs++;
        b->nonfull += used < sizeclass_slab_blocks[s->cls];
    }
    for (unsigned c = 0; c < NSMALL; c++) {
        out[c].nfills = a->counts->bin_events[c].nfills;
        out[c].nflushes = a->counts->bin_events[c].nflushes;
        out[c].ncreated = a->counts->bin_events[c].ncreated;
    }
    arena_unlock(a);
    for (unsigned c = 0; c < NSMALL; c++)
        out[c].ndalloc = out[c].nmalloc >= out[c].curregs ? out[c].nmalloc - out[c].curregs : 0;
}

/* ---- large blocks ---- */

/* Large blocks' arena calls tick decay (a clock read) one in
 * LARGE_TICK_CALLS: at 40 KiB .. 1 MiB a block, the threads' own ticks
 * (heap.c, every 64 KiB of pending purge work) come as often, and a clock
 * read per call was ~5% of a large-block producer/consumer's instructions.
 * Every call ticks when dirty_decay_ms is 0 (purge at once, as jemalloc;
 * decay_tick runs then at every call).
 * Lock held. */
#define LARGE_TICK_CALLS 16
static inline bool large_tick_due(struct arena *a)
{
    return (++a->large_calls & (LARGE_TICK_CALLS - 1)) == 0 || a->decay_dirty.ms == 0;
}

void *arena_large_alloc(struct arena *a, size_t usize, size_t align, bool zero, bool borrow)
{
    size_t npages = usize >> LG_PAGE;
    if (align <= PAGE) {
        /* A block of a's threads another thread freed (arena_remote_put). */
        size_t c = tcache_large_class(usize);
        struct span *r = arena_remote_take(a, c);
        if (r) {
            if (r->next)
                arena_remote_give_back(a, c, r->next);
            r->lcached = 0;
            if (zero)
                memset((void *)r->start, 0, usize);
            return (void *)r->start;
        }
    }
    if (!(a = arena_lock_for_alloc(a)))
        return NULL;
    struct arena *user = a;
    if (borrow)
        a = arena_dirty_donor(a, npages + (align > PAGE ? (align >> LG_PAGE) - 1 : 0));
    struct span *s = span_alloc(a, npages, align, false);
    if (s) {
        s->kind = SPAN_LARGE;
        s->cache_arena = user;
        s->usize = usize;
        atomic_store_explicit(&s->owner_tag, 0, memory_order_relaxed);
        span_sampled_reset(s);
        pagemap_set_page(s->start, s); /* its first page: free's lookup (pagemap.h) */
        a->stats.active_pages += npages;
        chunk_active_add(a, s->start, (ptrdiff_t)npages);
        a->stats.large_nmalloc++;
        a->stats.large_allocated += usize;
        arena_lext_count(a, usize, true);
    }
    bool tick = large_tick_due(a);
    arena_unlock(a);
    if (!s)
        return NULL;
    if (zero && !s->zeroed)
        memset((void *)s->start, 0, usize);
    if (tick)
        decay_tick(a);
    return (void *)s->start;
}

/* Give large block s back to its arena a (lock held). */
static inline void large_free_locked(struct arena *a, struct span *s)
{
    pagemap_set_page(s->start, NULL);
    a->stats.active_pages -= s->npages;
    chunk_active_add(a, s->start, -(ptrdiff_t)s->npages);
    a->stats.large_ndalloc++;
    a->stats.large_allocated -= s->usize;
    arena_lext_count(a, s->usize, false);
    span_free(a, s);
}

/* After large blocks were freed into a (its lock held): start a decay
 * wave, drop the lock, then wake the purger and tick if due. */
static void large_freed_unlock(struct arena *a)
{
    decay_wave(a);
    bool tick = large_tick_due(a);
    arena_unlock(a);
    decay_poke_if_needed();
    if (tick)
        decay_tick(a);
}

void arena_large_free(struct span *s)
{
    struct arena *a = s->arena;
    arena_lock(a);
    large_free_locked(a, s);
    large_freed_unlock(a);
}

void arena_large_free_many(struct span **v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (!v[i])
            continue;
        struct arena *a = v[i]->arena;
        arena_lock(a);
        a->stats.large_nflushes++; /* one batch of a thread's cached blocks */
        for (unsigned j = i; j < n; j++)
            if (v[j] && v[j]->arena == a) {
                large_free_locked(a, v[j]);
                v[j] = NULL;
            }
        large_freed_unlock(a);
    }
}

bool arena_remote_put(struct span *s)
{
    struct arena *a = s->cache_arena;
    size_t usize = s->usize;
    if (!a || a->index >= arena_count)
        return false; /* an arenas.create arena's blocks go back at once */
    s->lcached = 1;
    s->zeroed = 0;
    _Atomic(struct span *) *top = &a->remote[tcache_large_class(usize)];
    struct span *h = atomic_load_explicit(top, memory_order_relaxed);
    do {
        /* h's depth may be stale (h taken meanwhile): then the exchange
         * fails and is tried again with the new top. */
        uint32_t depth = h ? h->reserved + 1 : 1;
        if ((size_t)depth * usize > ARENA_REMOTE_MAX) {
            s->lcached = 0;
            return false;
        }
        s->reserved = depth;
        s->next = h;
    } while (!atomic_compare_exchange_weak_explicit(top, &h, s, memory_order_release, memory_order_relaxed));
    if (!atomic_load_explicit(&a->remote_any, memory_order_relaxed))
        atomic_store_explicit(&a->remote_any, true, memory_order_relaxed);
    return true;
}

bool arena_remote_put_chain(struct span *chain)
{
    struct arena *a = chain->cache_arena;
    size_t usize = chain->usize;
    if (!a || a->index >= arena_count)
        return false;
    uint32_t n = chain->reserved;
    struct span *bottom = chain;
    for (uint32_t i = 1; i < n; i++)
        bottom = bottom->next;
    _Atomic(struct span *) *top = &a->remote[tcache_large_class(usize)];
    struct span *h = atomic_load_explicit(top, memory_order_relaxed);
    uint32_t added = 0; /* the depth below the chain its blocks carry now */
    do {
        uint32_t d = h ? h->reserved : 0; /* (stale if h was taken: the exchange fails) */
        if ((size_t)(d + n) * usize > ARENA_REMOTE_MAX)
            d = UINT32_MAX; /* full: the chain's own depths back, below */
        if (d != added) {
            uint32_t to = d == UINT32_MAX ? 0 : d;
            struct span *s = chain;
            for (uint32_t i = 0; i < n; i++, s = s->next)
                s->reserved = s->reserved - added + to;
            added = to;
        }
        if (d == UINT32_MAX) {
            bottom->next = NULL;
            return false;
        }
        bottom->next = h;
    } while (!atomic_compare_exchange_weak_explicit(top, &h, chain, memory_order_release,
                                                    memory_order_relaxed));
    if (!atomic_load_explicit(&a->remote_any, memory_order_relaxed))
        atomic_store_explicit(&a->remote_any, true, memory_order_relaxed);
    return true;
}

struct span *arena_remote_take(struct arena *a, size_t c)
{
    _Atomic(struct span *) *top = &a->remote[c];
    if (atomic_load_explicit(top, memory_order_relaxed) == NULL)
        return NULL;
    struct span *s = atomic_exchange_explicit(top, NULL, memory_order_acquire);
    if (s)
        a->remote_used = true;
    return s;
}

void arena_remote_give_back(struct arena *a, size_t c, struct span *list)
{
    _Atomic(struct span *) *top = &a->remote[c];
    /* list is what a take left (a suffix of the stack it took), so its
     * head's depth counts its blocks. Put it back whole onto an empty
     * stack; blocks pushed since the take are taken in turn and linked in
     * front of it, their depths raised by list's (they are the pushes of
     * that short while: walking them, not list, keeps a give-back from
     * touching the descriptors of a deep stack: 15% of the CPU of an
     * 8-thread producer/consumer of 40-64 KiB blocks, whose stacks held
     * about 80 blocks each). */
    for (;;) {
        struct span *empty = NULL;
        if (atomic_compare_exchange_strong_explicit(top, &empty, list, memory_order_release,
                                                    memory_order_relaxed))
            return;
        struct span *more = atomic_exchange_explicit(top, NULL, memory_order_acquire);
        if (!more)
            continue;
        uint32_t n = list->reserved;
        struct span *last = more;
        for (;;) {
            last->reserved += n;
            if (!last->next)
                break;
            last = last->next;
        }
        last->next = list;
        list = more;
    }
}

void arena_remote_drain(struct arena *a, bool force)
{
    if (!atomic_load_explicit(&a->remote_any, memory_order_relaxed))
        return;
    if (!force && a->decay_dirty.ms < 0 && a->decay_muzzy.ms < 0)
        return; /* decay off: kept, as dirty pages would be */
    if (!force && a->remote_used) {
        a->remote_used = false;
        return;
    }
    atomic_store_explicit(&a->remote_any, false, memory_order_seq_cst);
    struct span *batch[64];
    unsigned n = 0;
    for (size_t c = 0; c < LCACHE_NCLASSES; c++) {
        struct span *s = atomic_exchange_explicit(&a->remote[c], NULL, memory_order_seq_cst);
        for (struct span *next; s; s = next) {
            next = s->next;
            s->lcached = 0;
            batch[n++] = s;
            if (n == 64) {
                arena_large_free_many(batch, n);
                n = 0;
            }
        }
    }
    if (n)
        arena_large_free_many(batch, n);
}

bool arena_large_resize(struct span *s, size_t new_usize, bool zero)
{
    struct arena *a = s->arena;
    size_t old_usize = s->usize;
    size_t npages = new_usize >> LG_PAGE;
    bool ok = false;
    size_t zero_len = 0;
    if (!arena_lock_or_try(a))
        return false; /* a signal handler inside a's lock: the caller moves the block */
    if (npages == s->npages) {
        ok = true;
    } else if (npages < s->npages) {
        struct span *t = arena_span_new(a);
        if (t) {
            t->start = s->start + (npages << LG_PAGE);
            t->npages = s->npages - npages;
            s->npages = npages;
            map_set(s);
            a->stats.active_pages -= t->npages;
            chunk_active_add(a, t->start, -(ptrdiff_t)t->npages);
            span_free(a, t);
            ok = true;
        }
    } else {
        struct chunk *c = chunk_of(s->start);
        size_t next = ((s->start - c->base) >> LG_PAGE) + s->npages;
        size_t grow = npages - s->npages;
        struct span *n = next < CHUNK_PAGES ? c->map[next] : NULL;
        if (n && n->kind == SPAN_FREE && n->start == s->start + span_bytes(s) && n->npages >= grow) {
            bin_remove(a, n);
            bool nz = n->state == SPAN_CLEAN;
            decay_reused(a, n->state, grow, false);
            if (n->npages > grow) {
                n->start += grow << LG_PAGE;
                n->npages -= grow;
                bin_insert(a, n);
            } else {
                arena_span_release(a, n);
            }
            s->npages = npages;
            map_set(s);
            a->stats.active_pages += grow;
            chunk_active_add(a, s->start, (ptrdiff_t)grow);
            if (zero && !nz)
                zero_len = new_usize - old_usize;
            ok = true;
        }
    }
    if (ok) {
        a->stats.large_allocated += new_usize;
        a->stats.large_allocated -= old_usize;
        s->usize = new_usize;
        arena_lext_resized(a, old_usize, new_usize);
    }
    arena_unlock(a);
    if (zero_len)
        memset((void *)(s->start + old_usize), 0, zero_len);
    return ok;
}

/* ---- purge primitives for decay.c ---- */

struct span *arena_purge_take(struct arena *a, unsigned list)
{
    struct span *s = a->lru[list].first;
    if (s) {
        bin_remove(a, s);
        s->kind = SPAN_BUSY;
    }
    return s;
}

uintptr_t arena_purge_put(struct arena *a, struct span *s, unsigned state, uint64_t now)
{
    s->state = state;
    s->freed_ns = now;
    free_span_insert(a, s); /* s is now the merged free span */
    if (state == SPAN_CLEAN && !opt.retain && s->npages == CHUNK_PAGES)
        return chunk_release(a, s);
    return 0;
}

/* ---- arenas ---- */

static struct arena *arena_new(unsigned index)
{
    struct arena *a = base_alloc(sizeof(struct arena), PAGE); /* layout: arena.h */
    if (!a)
        return NULL;
    /* (A failure leaves the arena's block unused: base never frees.) */
    a->counts = base_alloc(sizeof(struct arena_counts), 64);
    if (!a->counts)
        return NULL;
    /* The arena lock spins briefly before sleeping (glibc's adaptive
     * mutex, as libprof/site.c's stripes): hold times are short, and with
     * more threads than cores a sleeping waiter costs a scheduler slice. */
    a->lock = (pthread_mutex_t)PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
    pthread_mutex_init(&a->shared_lock, NULL);
    a->index = index;
    a->node = numa_node_for_arena(index);
    uint64_t now = decay_now();
    a->born_ns = now;
    decay_init(&a->decay_dirty, arena_default_dirty_ms, now);
    decay_init(&a->decay_muzzy, arena_default_muzzy_ms, now);
    return a;
}

int arena_boot(unsigned narenas)
{
    if (narenas == 0)
        narenas = 1;
    if (narenas > ARENA_MAX / 2)
        narenas = ARENA_MAX / 2;
    arena_count = narenas;
    arenas_created = narenas;
    arenas[0] = arena_new(0);
    return arenas[0] ? 0 : ENOMEM;
}

struct arena *arena_get(unsigned i)
{
    if (i >= ARENA_MAX)
        return NULL;
    struct arena *a = __atomic_load_n(&arenas[i], __ATOMIC_ACQUIRE);
    if (a || i >= arenas_created)
        return a;
    if (!lock_or_try(&arenas_lock))
        return NULL; /* a signal handler inside arenas_lock (lock_depth.h) */
    a = arenas[i];
    if (!a) {
        a = arena_new(i);
        __atomic_store_n(&arenas[i], a, __ATOMIC_RELEASE);
    }
    unlock_counted(&arenas_lock);
    return a;
}

int arena_create(void)
{
    lock_counted(&arenas_lock);
    int idx = -1;
    if (arenas_created < ARENA_MAX) {
        struct arena *a = arena_new(arenas_created);
        if (a) {
            idx = (int)arenas_created;
            __atomic_store_n(&arenas[idx], a, __ATOMIC_RELEASE);
            arenas_created++;
        }
    }
    unlock_counted(&arenas_lock);
    return idx;
}

size_t arena_active_total(void)
{
    size_t pages = 0;
    unsigned n = arena_total();
    for (unsigned i = 0; i < n; i++)
        if (arenas[i])
            pages += __atomic_load_n(&arenas[i]->stats.active_pages, __ATOMIC_RELAXED);
    return pages;
}

unsigned arena_total(void)
{
    return __atomic_load_n(&arenas_created, __ATOMIC_ACQUIRE);
}

struct arena *arena_choose(void)
{
    /* The automatic arena with the fewest threads (lowest index on ties) among
     * those of the caller's NUMA node, like jemalloc: exited threads' arenas
     * are reused before untouched ones, so thread churn does not spread memory
     * over every arena. percpu_arena: the arena of the caller's CPU. */
    int pc = numa_percpu_index();
    if (pc >= 0 && arena_get((unsigned)pc)) {
        arena_thread_attach(arenas[pc]);
        return arenas[pc];
    }
    int node = numa_current_node();
    unsigned best = 0, best_n = UINT32_MAX;
    /* No lock: the counts may change as they are read, as they could
     * between a locked scan and the attach. A signal handler creating its
     * thread's heap (heap.c) may not wait for the arena list's lock, which
     * its thread may hold (arena_get, arena_create). */
    for (unsigned i = 0; i < arena_count; i++) {
        if (node >= 0 && numa_node_for_arena(i) != node)
            continue;
        struct arena *b = __atomic_load_n(&arenas[i], __ATOMIC_ACQUIRE);
        unsigned n = b ? __atomic_load_n(&b->nthreads, __ATOMIC_RELAXED) : 0;
        if (n < best_n) {
            best = i;
            best_n = n;
            if (n == 0)
                break;
        }
    }
    struct arena *a = arena_get(best);
    if (!a)
        a = arenas[0];
    arena_thread_attach(a);
    return a;
}

void arena_thread_attach(struct arena *a)
{
    __atomic_fetch_add(&a->nthreads, 1, __ATOMIC_RELAXED);
}

void arena_thread_detach(struct arena *a)
{
    __atomic_fetch_sub(&a->nthreads, 1, __ATOMIC_RELAXED);
}

/* fork: every arena lock held across the fork, counted once in lock_depth
 * (a handler running meanwhile must not wait for them). */
void arena_prefork(void)
{
    lock_counted(&arenas_lock);
    for (unsigned i = 0; i < arenas_created; i++)
        if (arenas[i])
            pthread_mutex_lock(&arenas[i]->shared_lock);
    for (unsigned i = 0; i < arenas_created; i++)
        if (arenas[i])
            pthread_mutex_lock(&arenas[i]->lock);
}

void arena_postfork_parent(void)
{
    for (unsigned i = 0; i < arenas_created; i++)
        if (arenas[i]) {
            pthread_mutex_unlock(&arenas[i]->lock);
            pthread_mutex_unlock(&arenas[i]->shared_lock);
        }
    unlock_counted(&arenas_lock);
}

void arena_postfork_child(void)
{
    for (unsigned i = 0; i < arenas_created; i++)
        if (arenas[i]) {
            arenas[i]->lock = (pthread_mutex_t)PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
            pthread_mutex_init(&arenas[i]->shared_lock, NULL);
        }
    pthread_mutex_init(&arenas_lock, NULL);
    atomic_signal_fence(memory_order_seq_cst);
    lock_depth--; /* prefork's lock_counted */
}
