/* tcache: tcache_max and explicit tcaches (see tcache.h). */
#include "tcache.h"
#include "arena.h"
#include "base.h"
#include "heap.h"
#include "junk.h"
#include "malloc_entry.h"
#include "misuse.h"
#include "options.h"
#include "pagemap.h"
#include "rtree.h"
#include "sizeclass.h"
#include "span.h"
#include "stats.h"
#include "bss_large.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

unsigned tcache_nclasses = NSMALL;
unsigned tcache_nfast = NSMALL;
size_t tcache_maxclass = SMALL_MAX;
size_t tcache_large_max = 0;
size_t tcache_large_free_max = 0;
uint8_t tcache_large_class_of[(LARGE_MAX >> LG_PAGE) + 1];
size_t tcache_large_usize[LCACHE_NCLASSES];

/* Index of large class usize (SMALL_MAX < usize <= LARGE_MAX): four classes
 * per doubling, 40 KiB is 0, 1 MiB is 19. tcache_boot tabulates it
 * (tcache_large_class_of): the cached paths read the class. */
static inline unsigned lcache_index(size_t usize)
{
    unsigned lg = 63 - (unsigned)__builtin_clzl(usize - 1); /* 15 .. 19 */
    return (lg - 15) * 4 + (unsigned)((usize - 1) >> (lg - 2)) - 4;
}

void tcache_boot(void)
{
    /* Above LARGE_MAX blocks are huge: their own cache (huge.h) keeps them. */
    size_t max = opt.tcache_max < LARGE_MAX ? opt.tcache_max : LARGE_MAX;
    tcache_maxclass = sizeclass_usize(max ? max : 1);
    size_t small = tcache_maxclass < SMALL_MAX ? tcache_maxclass : SMALL_MAX;
    tcache_nclasses = sizeclass_small_index(small) + 1;
    tcache_nfast = junk_alloc ? 0 : tcache_nclasses;
    tcache_large_max = tcache_maxclass > SMALL_MAX && opt.tcache_large_budget >= LARGE_MIN
                           ? tcache_maxclass : 0;
    tcache_large_free_max = junk_free ? 0 : tcache_large_max;
    for (size_t k = (SMALL_MAX >> LG_PAGE) + 1; k <= (LARGE_MAX >> LG_PAGE); k++) {
        size_t usize = sizeclass_usize(k << LG_PAGE);
        tcache_large_class_of[k] = (uint8_t)lcache_index(usize);
        tcache_large_usize[lcache_index(usize)] = usize;
    }
}

/* ---- the per-thread cache of large blocks ---- */

/* Blocks on their way back to their arenas: collected while the cache is
 * edited, then given back with one lock taken per arena (lcache_out_flush)
 * instead of one per block. */
#define LCACHE_OUT 16
struct lcache_out {
    unsigned n;                 /* spans collected */
    struct heap *spill;         /* non-NULL: to their arenas' remote stacks first, batched
                                 * through this heap (tcache_large_free, tcache_large_remote) */
    struct span *v[LCACHE_OUT]; /* their descriptors */
};

static void lcache_out_flush(struct lcache_out *o)
{
    if (o->spill)
        for (unsigned i = 0; i < o->n; i++)
            if (tcache_large_remote(o->spill, o->v[i]))
                o->v[i] = NULL; /* (arena_large_free_many skips it) */
    arena_large_free_many(o->v, o->n);
    o->n = 0;
}

/* Take the k oldest blocks of class c out of the cache into o. */
static void lcache_release(struct tcache_large *lc, unsigned c, unsigned k, struct lcache_out *o)
{
    for (unsigned i = 0; i < k; i++) {
        struct span *s = lc->bin[c][i];
        lc->bytes -= s->usize;
        s->lcached = 0;
        if (o->n == LCACHE_OUT)
            lcache_out_flush(o);
        o->v[o->n++] = s;
    }
    memmove(&lc->bin[c][0], &lc->bin[c][k], (lc->n[c] - k) * sizeof(struct span *));
    lc->n[c] -= k;
    if (lc->low[c] > lc->n[c])
        lc->low[c] = lc->n[c];
}

/* The idle pass (tcache_large_gc) into o. */
static void lcache_gc(struct tcache_large *lc, struct lcache_out *o)
{
    lc->ops = 0;
    lc->missed = 0;
    if (lc->bytes == 0)
        return;
    for (unsigned c = 0; c < LCACHE_NCLASSES; c++) {
        /* The bottom low[c] blocks stayed in the stack the whole interval. */
        if (lc->low[c])
            lcache_release(lc, c, lc->low[c], o);
        lc->low[c] = lc->n[c];
    }
}

void *tcache_large_alloc(struct heap *h, size_t usize, bool zero, size_t align)
{
    struct tcache_large *lc = &h->large;
    size_t c = tcache_large_class(usize);
    lc->used = true;
    if (unlikely(++lc->ops >= LCACHE_GC_OPS))
        tcache_large_gc(h);
    if (lc->n[c] == 0)
        return NULL;
    if (align > PAGE) {
        /* The newest block at that alignment, if any (an aligned block
         * freed here comes back to the next aligned request of its class,
         * instead of every such request taking the arena's lock). */
        unsigned i = lc->n[c];
        while (i > 0 && (lc->bin[c][i - 1]->start & (align - 1)) != 0)
            i--;
        if (i-- == 0)
            return NULL;
        struct span *hit = lc->bin[c][i];
        unsigned last = lc->n[c] - 1u;
        /* The idle rule's low mark: the bottom low[c] blocks stayed all
         * the interval; the blocks above i move down into their places. */
        if (lc->low[c] > i)
            lc->low[c] = (uint8_t)i;
        for (; i < last; i++) /* the others keep their order (oldest first) */
            lc->bin[c][i] = lc->bin[c][i + 1];
        lc->bin[c][last] = hit; /* now the newest: taken below */
    }
    struct span *s = tcache_large_take(lc, c, usize);
    if (zero)
        memset((void *)s->start, 0, usize);
    return (void *)s->start;
}

/* True if h's cache may keep large span s at all. */
static inline bool lcache_ok(struct heap *h, struct span *s)
{
    size_t usize = s->usize;
    /* A large span's usize is a large class and its length (arena.c,
     * tcache_max within LARGE_MAX); the budget bounds one block too. */
    DASSERT(sizeclass_usize(usize) == usize && (s->npages << LG_PAGE) == usize);
    /* Only the thread's own arena's blocks (or blocks another arena lent
     * to it, unless the thread pinned its arena: arena.c,
     * arena_dirty_donor): a consumer's cache would keep a budget of blocks
     * its producers then miss (a large-block producer/consumer ran 5-15%
     * slower caching them, +1 MiB per consumer). */
    return usize <= tcache_large_max && usize <= opt.tcache_large_budget && h->tcache &&
           !h->dying && h != &heap_empty && s->cache_arena == h->arena &&
           (!h->arena_explicit || s->arena == h->arena);
}

bool tcache_large_free(struct heap *h, struct span *s)
{
    if (!lcache_ok(h, s))
        return false;
    size_t usize = s->usize;
    size_t c = tcache_large_class_of[s->npages];
    struct tcache_large *lc = &h->large;
    /* A class this thread frees but has not allocated since the last idle
     * pass (a consumer that shares its producer's arena): what the cache
     * has no room for goes where the arena's other threads take large
     * blocks without a lock (arena.h, remote stacks), not through the
     * arena's lock to its free runs, where the producer's next miss took
     * it back under the same lock (8 threads of 40-64 KiB blocks: 0.93 ->
     * 0.67 s CPU, 110 -> 79 MB). A class it allocates too goes back as
     * before: single-threaded churn (bench/large_blocks) ran 9% slower
     * through its own arena's stacks. */
    struct lcache_out out = {.spill = lc->missed >> c & 1 ? NULL : h};
    lc->used = true;
    if (++lc->ops >= LCACHE_GC_OPS)
        lcache_gc(lc, &out);
    if (lc->n[c] == LCACHE_SLOTS)
        lcache_release(lc, c, LCACHE_SLOTS / 2, &out); /* the older half */
    /* Over budget: the oldest blocks of the largest classes go first. */
    for (unsigned k = LCACHE_NCLASSES; k-- > 0 && lc->bytes + usize > opt.tcache_large_budget;)
        while (lc->n[k] && lc->bytes + usize > opt.tcache_large_budget)
            lcache_release(lc, k, 1, &out);
    tcache_large_put(lc, c, s, usize);
    lcache_out_flush(&out);
    return true;
}

/* Class c's batch of other arenas' blocks onto their arena's stack; when
 * the stack has no room for all of them, block by block until it is full
 * (ARENA_REMOTE_MAX), the rest back to the arena under its lock. */
static void remote_flush_class(struct tcache_large *lc, unsigned c)
{
    struct span *chain = lc->remote[c];
    lc->remote[c] = NULL;
    lc->remote_mask &= ~((uint32_t)1 << c);
    if (!chain)
        return;
    lc->remote_bytes -= (size_t)chain->reserved * chain->usize;
    if (arena_remote_put_chain(chain))
        return;
    struct span *v[LCACHE_REMOTE_BATCH];
    unsigned n = 0;
    for (struct span *s = chain, *next; s; s = next) {
        next = s->next;
        if (!arena_remote_put(s)) {
            s->lcached = 0;
            v[n++] = s;
        }
    }
    arena_large_free_many(v, n);
}

static void remote_flush_all(struct tcache_large *lc)
{
    while (lc->remote_mask)
        remote_flush_class(lc, (unsigned)__builtin_ctz(lc->remote_mask));
}

bool tcache_large_remote(struct heap *h, struct span *s)
{
    struct arena *a = s->cache_arena;
    if (h == &heap_empty || !h->tcache || h->dying || !a || a->index >= arena_count ||
        s->usize > LCACHE_REMOTE_BYTES)
        return arena_remote_put(s);
    struct tcache_large *lc = &h->large;
    unsigned c = tcache_large_class_of[s->npages];
    struct span *top = lc->remote[c];
    if (top && top->cache_arena != a)
        remote_flush_class(lc, c);
    if (lc->remote_bytes + s->usize > LCACHE_REMOTE_TOTAL)
        remote_flush_all(lc);
    top = lc->remote[c];
    s->lcached = 1; /* a second free is reported (misuse.h) */
    s->zeroed = 0;
    s->next = top;
    s->reserved = top ? top->reserved + 1 : 1;
    lc->remote[c] = s;
    lc->remote_mask |= (uint32_t)1 << c;
    lc->remote_bytes += s->usize;
    if (s->reserved >= LCACHE_REMOTE_BATCH || (size_t)s->reserved * s->usize >= LCACHE_REMOTE_BYTES)
        remote_flush_class(lc, c);
    return true;
}

void tcache_large_flush_arena(struct heap *h, const struct arena *a)
{
    struct tcache_large *lc = &h->large;
    remote_flush_all(lc); /* (every arena's: they are other threads' blocks) */
    struct lcache_out out = {0};
    for (unsigned c = 0; c < LCACHE_NCLASSES; c++) {
        if (!a) {
            lcache_release(lc, c, lc->n[c], &out);
            continue;
        }
        /* Only a's blocks; the others keep their order. */
        unsigned kept = 0;
        for (unsigned i = 0; i < lc->n[c]; i++) {
            struct span *s = lc->bin[c][i];
            if (s->arena != a) {
                lc->bin[c][kept++] = s;
                continue;
            }
            lc->bytes -= s->usize;
            s->lcached = 0;
            if (out.n == LCACHE_OUT)
                lcache_out_flush(&out);
            out.v[out.n++] = s;
        }
        lc->n[c] = (uint8_t)kept;
        if (lc->low[c] > kept)
            lc->low[c] = (uint8_t)kept;
    }
    if (!a)
        lc->ops = 0;
    lcache_out_flush(&out);
}

void tcache_large_flush(struct heap *h)
{
    tcache_large_flush_arena(h, NULL);
}

void tcache_large_tick(struct heap *h)
{
    struct tcache_large *lc = &h->large;
    remote_flush_all(lc);
    if (!lc->used)
        tcache_large_gc(h);
    lc->used = false;
}

void tcache_large_gc(struct heap *h)
{
    /* A signal handler inside an arena lock (lock_depth.h): the flush
     * waits for the cached blocks' arena locks, perhaps its own thread's.
     * The next pass releases them. */
    if (lock_reentered())
        return;
    struct lcache_out out = {0};
    lcache_gc(&h->large, &out);
    lcache_out_flush(&out);
}

/* ---- explicit tcaches ---- */

struct tcache {
    struct tcache *next_free;          /* destroyed caches kept for reuse */
    unsigned n[NSMALL];                /* blocks in each stack */
    void *bin[NSMALL][TCACHE_BIN_CAP]; /* cached blocks per small class, a stack */
};

static pthread_mutex_t tcache_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(struct tcache *) tcaches[TCACHE_IDS] BSS_LARGE; /* live caches by id */
static struct tcache *tcache_recycled;               /* guarded by tcache_lock */
static unsigned tcache_next_id;                      /* where the next id search starts */

static struct tcache *tcache_get(unsigned id)
{
    if (id >= TCACHE_IDS)
        return NULL;
    return atomic_load_explicit(&tcaches[id], memory_order_acquire);
}

int tcache_create(unsigned *id)
{
    pthread_mutex_lock(&tcache_lock);
    int err = EFAULT;
    for (unsigned i = 0; i < TCACHE_IDS; i++) {
        unsigned k = (tcache_next_id + i) % TCACHE_IDS;
        if (atomic_load_explicit(&tcaches[k], memory_order_relaxed))
            continue;
        struct tcache *tc = tcache_recycled;
        if (tc)
            tcache_recycled = tc->next_free;
        else if (!(tc = base_alloc(sizeof(*tc), 64)))
            break;
        /* Fresh base memory is zero and a recycled cache was flushed: every
         * stack is empty already, and its untouched pages stay unbacked. */
        tc->next_free = NULL;
        atomic_store_explicit(&tcaches[k], tc, memory_order_release);
        tcache_next_id = k + 1;
        *id = k;
        err = 0;
        break;
    }
    pthread_mutex_unlock(&tcache_lock);
    return err;
}

/* Really free the n blocks at the bottom of class cls's stack. Their frees
 * were counted in thread.deallocated when they entered the cache, so the
 * count is taken back here. */
static void bin_release(struct tcache *tc, unsigned cls, unsigned n)
{
    size_t usize = sizeclass_size[cls];
    for (unsigned i = 0; i < n; i++) {
        /* Cached blocks carry the free mark; free() wants a live block. */
        misuse_set_live(tc->bin[cls][i]);
        alloc_free(tc->bin[cls][i]);
        struct heap *h = heap_tls;
        if (h != &heap_empty)
            h->deallocated -= usize;
        else
            stats_note_orphan_free_undo(usize); /* a thread past its heap's exit */
    }
    memmove(&tc->bin[cls][0], &tc->bin[cls][n], (tc->n[cls] - n) * sizeof(void *));
    tc->n[cls] -= n;
}

static void tcache_flush_all(struct tcache *tc)
{
    for (unsigned c = 0; c < NSMALL; c++)
        if (tc->n[c])
            bin_release(tc, c, tc->n[c]);
}

int tcache_flush(unsigned id)
{
    struct tcache *tc = tcache_get(id);
    if (!tc)
        return EFAULT;
    tcache_flush_all(tc);
    return 0;
}

int tcache_destroy(unsigned id)
{
    pthread_mutex_lock(&tcache_lock);
    struct tcache *tc = tcache_get(id);
    if (tc)
        atomic_store_explicit(&tcaches[id], NULL, memory_order_release);
    pthread_mutex_unlock(&tcache_lock);
    if (!tc)
        return EFAULT;
    tcache_flush_all(tc);
    pthread_mutex_lock(&tcache_lock);
    tc->next_free = tcache_recycled;
    tcache_recycled = tc;
    pthread_mutex_unlock(&tcache_lock);
    return 0;
}

/* True if small block p lies on a page whose owner is h (any flags). */
static bool tcache_block_owned(struct heap *h, void *p)
{
    struct span *s = pagemap_get((uintptr_t)p);
    return s && (atomic_load_explicit(&s->owner_tag, memory_order_relaxed) & ~SPAN_TAG_MASK) ==
                    (uintptr_t)h;
}

void *tcache_alloc(unsigned id, size_t size, size_t align, bool zero)
{
    struct tcache *tc = tcache_get(id);
    size_t usize = sizeclass_usize_aligned(size, align);
    if (tc && usize != 0 && usize >= size && usize <= tcache_maxclass && usize <= SMALL_MAX &&
        align <= MIN_ALIGN) {
        unsigned cls = sizeclass_small_index(usize);
        if (tc->n[cls] > 0) {
            void *p = tc->bin[cls][tc->n[cls] - 1];
            struct heap *h = heap_get();
            /* A sample is due and p sits on a page another thread's heap
             * owns: a sample of p could not be moved off it
             * (heap_sample_relocate moves blocks of the caller's pages
             * only) and that owner's free fast path would never look for
             * it, so the sample would stay counted after p's free
             * (tests/integration/prof_tcache_foreign). p stays in the bin;
             * the thread's own heap serves this allocation, sample and
             * all. (prof_next is UINT64_MAX without the profiler.) */
            bool skip_event = false;
            if (h && unlikely(h->allocated + usize >= h->prof_next) && !tcache_block_owned(h, p)) {
                void *q = heap_alloc_general(h, size, align, zero, false, NULL);
                if (q)
                    return q;
                /* No memory there: p after all, unsampled (the sample
                 * stays due for the thread's next allocation). */
                skip_event = true;
            }
            tc->n[cls]--;
            misuse_set_live(p);
            if (h) {
                h->allocated += usize;
                if (unlikely(h->allocated >= h->next_event) && !skip_event)
                    p = heap_event(size, h, p, usize); /* may move p: fill it afterwards */
            } else
                stats_note_orphan_alloc(usize);
            if (zero)
                memset(p, 0, usize);
            else
                junk_on_alloc(p, usize);
            return p;
        }
    }
    return heap_alloc_general(heap_tls, size, align, zero, false, NULL);
}

bool tcache_dalloc(unsigned id, void *p)
{
    struct tcache *tc = tcache_get(id);
    if (!tc || !p)
        return false;
    uintptr_t e = rtree_get((uintptr_t)p);
    if (!rtree_is_chunk(e))
        return false; /* not a slab block (huge, or not ours: free() says so) */
    struct span *s = rtree_chunk_span(e, (uintptr_t)p);
    if (!s || s->kind != SPAN_SLAB || s->cls >= tcache_nclasses)
        return false;
    if (!misuse_slab_block_ok(s, p))
        return false; /* not a block: free() reports it */
    unsigned cls = s->cls;
    /* A block already free, here or anywhere (misuse.h), is reported and
     * left alone. */
    if (misuse_is_free(p)) {
        misuse_report("dallocx", "double free of", p);
        return true;
    }
    if (span_maybe_sampled(s, (uintptr_t)p))
        return false; /* the profiler must see this free: take the normal path */
    if (config_debug)
        misuse_canary_check(p, "dallocx");
    if (tc->n[cls] == TCACHE_BIN_CAP)
        bin_release(tc, cls, TCACHE_BIN_CAP / 2);
    junk_on_free(p, s->block_size);
    misuse_set_free(p);
    tc->bin[cls][tc->n[cls]++] = p;
    struct heap *h = heap_get();
    if (h)
        h->deallocated += s->block_size;
    else
        stats_note_orphan_free(s->block_size);
    return true;
}

void tcache_prefork(void)
{
    pthread_mutex_lock(&tcache_lock);
}

void tcache_postfork_parent(void)
{
    pthread_mutex_unlock(&tcache_lock);
}

void tcache_postfork_child(void)
{
    pthread_mutex_init(&tcache_lock, NULL);
}
