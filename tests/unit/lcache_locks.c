/*
 * lcache_locks: blocks leaving the thread's cache of large blocks together
 * (tcache.h: the older half of a full class, a flush) go back with one
 * arena lock taken per arena, not one per block; arena.<i>.purge's
 * tcache_large_flush_arena gives back the blocks of that arena only (a
 * thread moved to another arena, as heap_follow_node moves it to its new
 * NUMA node's, still caches blocks of its old one). Counted by wrapping
 * pthread_mutex_lock (this executable's definition takes the allocator's
 * calls; glibc's is reached by its versioned name).
 */
#include "check.h"

#include "arena.h"
#include "heap.h"
#include "rtree.h"
#include "tcache.h"

#include <pthread.h>

/* Two automatic arenas, no purging (decay ticks then take no lock). */
const char *malloc_conf = "narenas:2,dirty_decay_ms:-1,muzzy_decay_ms:-1";

extern int real_mutex_lock(pthread_mutex_t *m);
__asm__(".symver real_mutex_lock, __pthread_mutex_lock@GLIBC_2.2.5");

static pthread_mutex_t *watched[2]; /* the two arenas' locks */
static _Atomic unsigned nlocks[2];  /* acquisitions of each since reset */

int pthread_mutex_lock(pthread_mutex_t *m)
{
    for (int i = 0; i < 2; i++)
        if (m == watched[i])
            nlocks[i]++;
    return real_mutex_lock(m);
}

static void reset(void)
{
    nlocks[0] = nlocks[1] = 0;
}

/* The counts since reset, taken before printing (printf may allocate). */
static unsigned got[2];
static void take(void)
{
    got[0] = nlocks[0];
    got[1] = nlocks[1];
}

/* What h caches, and an arena's large ndalloc (volatile reads: the
 * compiler takes malloc and free for builtins that touch no memory of ours). */
static size_t cached_bytes(struct heap *h)
{
    return *(volatile size_t *)&h->large.bytes;
}
static uint64_t ndalloc(struct arena *a)
{
    return *(volatile uint64_t *)&a->stats.large_ndalloc;
}

#define BLK ((size_t)65536)

int main(void)
{
    void *first = malloc(BLK); /* creates this thread's heap (arena 0) */
    CHECK_NONNULL(first);
    struct heap *h = heap_tls;
    CHECK_EQ(h->arena->index, 0);
    free(first);
    tcache_large_flush(h);
    CHECK_EQ(cached_bytes(h), 0);
    struct arena *a0 = arenas[0], *a1 = arena_get(1);
    CHECK_NONNULL(a1);
    watched[0] = &a0->lock;
    watched[1] = &a1->lock;

    /* A full class (LCACHE_SLOTS) of arena 0's blocks; the next free gives
     * the older half back: four blocks, one lock. */
    void *b[LCACHE_SLOTS + 1];
    for (int i = 0; i <= LCACHE_SLOTS; i++)
        CHECK_NONNULL(b[i] = malloc(BLK));
    for (int i = 0; i < LCACHE_SLOTS; i++)
        free(b[i]);
    CHECK_EQ(cached_bytes(h), LCACHE_SLOTS * BLK);
    uint64_t nd0 = ndalloc(a0), nd1 = ndalloc(a1);
    /* Through the cache itself: free() may also run a decay tick, whose
     * lock is not the cache's. */
    struct span *s =
        rtree_value_span(rtree_get((uintptr_t)b[LCACHE_SLOTS]), (uintptr_t)b[LCACHE_SLOTS]);
    CHECK(s != NULL && s->kind == SPAN_LARGE);
    reset();
    CHECK(tcache_large_free(h, s));
    take();
    printf("older half given back: %u locks of arena 0\n", got[0]);
    CHECK_EQ(got[0], 1);
    CHECK_EQ(ndalloc(a0), nd0 + LCACHE_SLOTS / 2);
    CHECK_EQ(cached_bytes(h), (LCACHE_SLOTS / 2 + 1) * BLK);

    /* Moved to arena 1 (as heap_follow_node does), three blocks of it cached. */
    arena_thread_detach(a0);
    arena_thread_attach(a1);
    h->arena = a1;
    /* Pinned, so arena 1 serves its blocks itself (an unpinned heap may get
     * blocks arena 0 lends: arena.c, arena_dirty_donor). */
    h->arena_explicit = true;
    void *c[3];
    for (int i = 0; i < 3; i++)
        CHECK_NONNULL(c[i] = malloc(2 * BLK));
    for (int i = 0; i < 3; i++)
        free(c[i]);
    CHECK_EQ(cached_bytes(h), (LCACHE_SLOTS / 2 + 1) * BLK + 6 * BLK);

    /* arena.1.purge's flush: arena 1's three blocks, one lock of it. */
    reset();
    tcache_large_flush_arena(h, a1);
    take();
    printf("flush of arena 1: %u locks of arena 1, %u of arena 0\n", got[1], got[0]);
    CHECK_EQ(got[1], 1);
    CHECK_EQ(got[0], 0);
    CHECK_EQ(ndalloc(a1), nd1 + 3);
    CHECK_EQ(cached_bytes(h), (LCACHE_SLOTS / 2 + 1) * BLK);

    /* The rest, arena 0's five: one lock. */
    reset();
    tcache_large_flush(h);
    take();
    printf("flush of 5 blocks: %u locks of arena 0\n", got[0]);
    CHECK_EQ(got[0], 1);
    CHECK_EQ(got[1], 0);
    CHECK_EQ(ndalloc(a0), nd0 + LCACHE_SLOTS / 2 + 5);
    CHECK_EQ(cached_bytes(h), 0);
    arena_thread_detach(a1);
    arena_thread_attach(a0);
    h->arena = a0;
    h->arena_explicit = false;
    printf("lcache_locks: ok\n");
    return 0;
}
