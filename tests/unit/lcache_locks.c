/*
 * lcache_locks: arena locks taken by the thread's cache of large blocks
 * (tcache.h).
 *  - A large block of another automatic arena (allocated by another
 *    thread) freed by this thread is cached: no lock of its arena taken,
 *    its arena's large ndalloc unchanged; it goes back to that arena, not
 *    to ours, when the cache lets it go.
 *  - Blocks leaving the cache together (the older half of a full class,
 *    a flush) go back with one lock taken per arena, not one per block.
 * Counted by wrapping pthread_mutex_lock (this executable's definition
 * takes the allocator's calls; glibc's is reached by its versioned name).
 */
#include "check.h"

#include "arena.h"
#include "heap.h"
#include "tcache.h"

#include <pthread.h>

/* Two automatic arenas, no purging (decay ticks then take no lock). */
const char *malloc_conf = "narenas:2,dirty_decay_ms:-1,muzzy_decay_ms:-1";

extern int real_mutex_lock(pthread_mutex_t *m);
__asm__(".symver real_mutex_lock, __pthread_mutex_lock@GLIBC_2.2.5");

static pthread_mutex_t *watched[2]; /* the two arenas' locks */
static _Atomic unsigned nlocks[2];   /* acquisitions of each since reset */

int pthread_mutex_lock(pthread_mutex_t *m)
{
    for (int i = 0; i < 2; i++)
        if (m == watched[i])
            nlocks[i]++;
    return real_mutex_lock(m);
}

static void reset(void) { nlocks[0] = nlocks[1] = 0; }

/* What h caches (a volatile read: the compiler takes malloc and free for
 * builtins that touch no memory of ours). */
static size_t cached_bytes(struct heap *h) { return *(volatile size_t *)&h->large.bytes; }
/* Arena a's large ndalloc, read the same way. */
static uint64_t ndalloc(struct arena *a) { return *(volatile uint64_t *)&a->stats.large_ndalloc; }

#define BLK ((size_t)65536)

static void *other_block;     /* allocated by the other thread */
static unsigned other_arena;  /* its arena's index */

static void *other(void *arg)
{
    (void)arg;
    other_block = malloc(BLK);
    other_arena = heap_tls->arena->index;
    return NULL;
}

int main(void)
{
    void *first = malloc(BLK); /* creates this thread's heap (arena 0) */
    CHECK_NONNULL(first);
    struct heap *h = heap_tls;
    CHECK_EQ(h->arena->index, 0);
    free(first);
    tcache_large_flush(h);
    CHECK_EQ(cached_bytes(h), 0);

    pthread_t t;
    CHECK(pthread_create(&t, NULL, other, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    CHECK_EQ(other_arena, 1);
    struct arena *a0 = arenas[0], *a1 = arenas[1];
    watched[0] = &a0->lock;
    watched[1] = &a1->lock;

    /* Eight blocks of our own, for later. */
    void *b[LCACHE_SLOTS];
    for (int i = 0; i < LCACHE_SLOTS; i++)
        CHECK_NONNULL(b[i] = malloc(BLK));

    /* Another arena's block: cached, its arena untouched. */
    uint64_t nd1 = ndalloc(a1);
    reset();
    free(other_block);
    printf("free of arena 1's block: %u locks of arena 1, cached %zu\n", nlocks[1], cached_bytes(h));
    CHECK_EQ(nlocks[1], 0);
    CHECK_EQ(cached_bytes(h), BLK);
    CHECK_EQ(ndalloc(a1), nd1);
    /* Reused by this thread's next malloc of its class. */
    void *again = malloc(BLK);
    CHECK(again == other_block);
    CHECK_EQ(cached_bytes(h), 0);
    free(again);

    /* Seven of ours after it: the class's stack (LCACHE_SLOTS) is full,
     * arena 1's block at its bottom. */
    for (int i = 0; i < LCACHE_SLOTS - 1; i++)
        free(b[i]);
    CHECK_EQ(cached_bytes(h), LCACHE_SLOTS * BLK);
    /* The ninth free gives the older half back: arena 1's block and three
     * of arena 0's, one lock each arena. */
    uint64_t nd0 = ndalloc(a0);
    reset();
    free(b[LCACHE_SLOTS - 1]);
    printf("older half given back: %u locks of arena 0, %u of arena 1\n", nlocks[0], nlocks[1]);
    CHECK_EQ(nlocks[0], 1);
    CHECK_EQ(nlocks[1], 1);
    CHECK_EQ(ndalloc(a0), nd0 + 3);
    CHECK_EQ(ndalloc(a1), nd1 + 1);
    CHECK_EQ(cached_bytes(h), (LCACHE_SLOTS / 2 + 1) * BLK);

    /* A flush: five blocks, one lock. */
    reset();
    tcache_large_flush(h);
    printf("flush of 5 blocks: %u locks of arena 0\n", nlocks[0]);
    CHECK_EQ(nlocks[0], 1);
    CHECK_EQ(nlocks[1], 0);
    CHECK_EQ(ndalloc(a0), nd0 + 3 + 5);
    CHECK_EQ(cached_bytes(h), 0);
    printf("lcache_locks: ok\n");
    return 0;
}
