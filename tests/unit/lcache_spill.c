/*
 * lcache_spill: a thread's cache of large blocks that overflows in a class
 * the thread only frees (a consumer sharing its producer's arena) gives
 * the overflow to the arena's remote stack of that class (tcache.c,
 * tcache_large_free), where the producer's next miss takes it without
 * the arena lock; in a class the thread also allocated since its last
 * idle pass, the overflow goes back to the arena's free runs, as before.
 *   - the main thread (the producer, arena 0) hands 3 x LCACHE_SLOTS
 *     blocks of 64 KiB to a consumer thread, also on arena 0, which frees
 *     them: its cache keeps LCACHE_SLOTS, and the arena's stack for the
 *     class holds blocks afterwards;
 *   - the same with a consumer that first allocates and frees one block
 *     of the class (a miss in its empty cache): the stack stays empty.
 * Before, both consumers sent their overflow through the arena lock.
 */
#include "check.h"

#include "arena.h"
#include "heap.h"
#include "tcache.h"

#include <pthread.h>
#include <stdlib.h>

#define BLK ((size_t)65536)
#define N (3 * LCACHE_SLOTS)

static void *blocks[N];

static void pin_arena0(void)
{
    unsigned zero = 0;
    CHECK(mallctl("thread.arena", NULL, NULL, &zero, sizeof(zero)) == 0);
}

static void *consume(void *arg)
{
    pin_arena0();
    if (arg) { /* this consumer allocates the class too */
        void *own = malloc(BLK);
        CHECK_NONNULL(own);
        free(own);
    }
    for (int i = 0; i < N; i++)
        free(blocks[i]);
    return NULL;
}

/* Blocks on arena 0's remote stack of class c (taken and put back). */
static unsigned stack_depth(struct arena *a, size_t c)
{
    struct span *top = arena_remote_take(a, c);
    unsigned n = top ? top->reserved : 0;
    if (top)
        arena_remote_give_back(a, c, top);
    return n;
}

static unsigned round_trip(bool consumer_allocates)
{
    for (int i = 0; i < N; i++) {
        blocks[i] = malloc(BLK);
        CHECK_NONNULL(blocks[i]);
    }
    struct arena *a = arena_get(0);
    size_t c = tcache_large_class(BLK);
    /* Start from an empty stack (a block the producer's frees left). */
    struct span *old = arena_remote_take(a, c);
    while (old) {
        struct span *next = old->next;
        old->lcached = 0;
        arena_large_free(old);
        old = next;
    }
    pthread_t t;
    CHECK(pthread_create(&t, NULL, consume, consumer_allocates ? (void *)1 : NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    return stack_depth(a, c);
}

int main(void)
{
    pin_arena0();
    unsigned spilled = round_trip(false);
    CHECK_U(spilled, >=, N - 2 * LCACHE_SLOTS);
    CHECK_U(spilled, <=, N);
    unsigned kept_off = round_trip(true);
    CHECK_U(kept_off, ==, 0);
    return 0;
}
