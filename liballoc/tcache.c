/* tcache: tcache_max and explicit tcaches (see tcache.h). */
#include "tcache.h"
#include "base.h"
#include "heap.h"
#include "junk.h"
#include "malloc_entry.h"
#include "misuse.h"
#include "options.h"
#include "rtree.h"
#include "sizeclass.h"
#include "span.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

unsigned tcache_nclasses = NSMALL;
unsigned tcache_nfast = NSMALL;
size_t tcache_maxclass = SMALL_MAX;

void tcache_boot(void)
{
    size_t max = opt.tcache_max < SMALL_MAX ? opt.tcache_max : SMALL_MAX;
    tcache_maxclass = sizeclass_usize(max ? max : 1);
    tcache_nclasses = sizeclass_small_index(tcache_maxclass) + 1;
    tcache_nfast = junk_alloc ? 0 : tcache_nclasses;
}

/* ---- explicit tcaches ---- */

struct tcache {
    struct tcache *next_free;          /* destroyed caches kept for reuse */
    unsigned n[NSMALL];                /* blocks in each stack */
    void *bin[NSMALL][TCACHE_BIN_CAP]; /* cached blocks per small class, a stack */
};

static pthread_mutex_t tcache_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(struct tcache *) tcaches[TCACHE_IDS]; /* live caches by id */
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

void *tcache_alloc(unsigned id, size_t size, size_t align, bool zero)
{
    struct tcache *tc = tcache_get(id);
    size_t usize = sizeclass_usize_aligned(size, align);
    if (tc && usize != 0 && usize >= size && usize <= tcache_maxclass && align <= MIN_ALIGN) {
        unsigned cls = sizeclass_small_index(usize);
        if (tc->n[cls] > 0) {
            void *p = tc->bin[cls][--tc->n[cls]];
            misuse_set_live(p);
            struct heap *h = heap_get();
            if (h) {
                h->allocated += usize;
                if (unlikely(h->allocated >= h->next_event))
                    p = heap_event(h, p, size, usize); /* may move p: fill it afterwards */
            }
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
