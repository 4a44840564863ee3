/*
 * alloc_signal_upkeep: a signal handler's large malloc, while the thread it
 * interrupted holds its arena's lock (signal_in_lock.h's trigger), comes
 * due for the thread's upkeep (heap_tick: the large-block cache's idle
 * pass, page collection) with the cache holding blocks of the locked
 * arena; made due here by hand (the cached blocks marked idle, the tick's
 * time and byte marks reset). Then a small malloc of a class the thread
 * has no page for takes a page from another arena, which makes the
 * periodic page collection due (page_allocs), with an empty page of the
 * locked arena to give back (its blocks freed by another thread, marked
 * idle by hand).
 *
 * Before the fix the cache's flush waited for the arena lock its own
 * thread held, forever (found by a stress run: 8 threads,
 * prof:true,lg_prof_sample:0, an itimer handler allocating; gdb: handler
 * in calloc -> heap_tick -> tcache_large_gc -> arena_large_free_many; the
 * alarm fails the test after 10 s); the page collection's release of the
 * empty page waited for that lock too. Now upkeep is skipped in a handler
 * inside an allocator lock; the cached blocks and the empty page stay, and
 * go at a later pass.
 */
#include "check.h"

#include "arena.h"
#include "heap.h"
#include "lock_depth.h"
#include "signal_in_lock.h"
#include "tcache.h"

#include <pthread.h>
#include <string.h>

const char *malloc_conf = "background_thread:false,narenas:4";

static volatile int fired;
static void *h_block, *h_small;
static size_t h_cached_before, h_cached_after;

enum { NSMALLB = 1000 };
static const size_t small_size = 512, new_class_size = 1536; /* the handler's class: no page yet */
static void *small[NSMALLB];
static struct span *empty_pg; /* a page of small_size's class, emptied by remote frees */

static struct span *span_of(void *p)
{
    return rtree_value_span(rtree_get((uintptr_t)p), (uintptr_t)p);
}

static void *free_remote(void *arg)
{
    (void)arg;
    for (int i = 0; i < NSMALLB; i++)
        if (small[i] && span_of(small[i]) == empty_pg) {
            free(small[i]);
            small[i] = NULL;
        }
    return NULL;
}

static bool in_queue(struct heap *h, unsigned cls, struct span *pg)
{
    for (struct span *q = h->queue[cls].first; q; q = q->next)
        if (q == pg)
            return true;
    return false;
}

static void handler(int sig)
{
    (void)sig;
    struct heap *h = heap_get();
    /* Every cached block idle since the last pass, and a tick due. */
    memcpy(h->large.low, h->large.n, sizeof(h->large.low));
    h->large.used = false;
    h->large.ops = 1000000;
    h->last_tick_ns = 0;
    h->tick_next = 0;
    h->next_event = 0;
    h_cached_before = h->large.bytes;
    h_block = malloc(100 * 1024);
    if (h_block)
        memset(h_block, 0x33, 100 * 1024);
    h_cached_after = h->large.bytes;
    /* The page collection due at the next page taken from an arena. */
    empty_pg->collect_idle = 1;
    h->page_allocs = HEAP_COLLECT_PAGES - 1;
    h_small = malloc(new_class_size);
    if (h_small)
        memset(h_small, 0x44, new_class_size);
    fired = 1;
}

int main(void)
{
    sil_install(SIGUSR1, handler,
                "alloc_signal_upkeep: the handler's malloc hung (upkeep under the arena lock)\n");
    /* Blocks of the thread's arena in its large-block cache. */
    void *c[4];
    for (int i = 0; i < 4; i++) {
        c[i] = malloc(64 * 1024);
        CHECK_NONNULL(c[i]);
    }
    for (int i = 0; i < 4; i++)
        free(c[i]);
    CHECK_U(heap_get()->large.bytes, >, 0);
    /* Small blocks over several pages; the blocks of the second page of
     * the class's queue freed by another thread (a local free of its last
     * block would give it back at once). */
    for (int i = 0; i < NSMALLB; i++) {
        small[i] = malloc(small_size);
        CHECK_NONNULL(small[i]);
    }
    struct heap *h = heap_get();
    unsigned cls = sizeclass_small_index(small_size);
    CHECK_NONNULL(h->queue[cls].first);
    empty_pg = h->queue[cls].first->next;
    CHECK_MSG(empty_pg != NULL && empty_pg != h->pages[cls], "no second page in the queue");
    CHECK(empty_pg->arena == heap_get()->arena);
    pthread_t t;
    CHECK_I(pthread_create(&t, NULL, free_remote, NULL), ==, 0);
    CHECK_I(pthread_join(t, NULL), ==, 0);
    CHECK(h->pages[sizeclass_small_index(new_class_size)] == &span_empty);

    enum { NFILL = 64 };
    void *fill[NFILL];
    int nfill = sil_fill_until_signal(SIGUSR1, &fired, fill, NFILL, LARGE_MAX);
    CHECK_MSG(fired, "no chunk was mapped under an arena lock in %d large mallocs", nfill);
    CHECK_NONNULL(h_block);
    CHECK_U(h_cached_before, >, 0);
    CHECK_U(h_cached_after, ==, h_cached_before); /* upkeep skipped: nothing flushed */
    CHECK_NONNULL(h_small);
    CHECK_MSG(in_queue(h, cls, empty_pg), "the empty page was given back in the handler");
    CHECK_U(h->page_allocs % HEAP_COLLECT_PAGES, ==, HEAP_COLLECT_PAGES - 1);
    CHECK_U(lock_depth, ==, 0);
    CHECK_U(arenas_locked(), ==, 0);
    free(h_block);
    free(h_small);
    for (int i = 0; i < NSMALLB; i++)
        free(small[i]);
    for (int i = 0; i < nfill; i++)
        free(fill[i]);
    printf("ok: a handler's malloc with upkeep due under the arena lock (%zu KiB cached kept)\n",
           h_cached_before >> 10);
    return 0;
}
