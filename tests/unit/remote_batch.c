/*
 * remote_batch: a thread's frees of another arena's large blocks are
 * batched per class and pushed onto that arena's remote stack a batch at a
 * time (tcache.c, tcache_large_remote; arena.c, arena_remote_put_chain):
 *   - the producer (arena 0) allocates 20 blocks of 48 KiB; a consumer on
 *     another arena frees 5: arena 0's stack of the class is still empty (the
 *     batch holds them, marked cached: span.lcached);
 *   - 3 more make LCACHE_REMOTE_BATCH (8): all 8 are on the stack, top
 *     first in free order reversed, depths 8 .. 1;
 *   - 4 more, then thread.tcache.flush: the stack holds 12, depths
 *     12 .. 1 (the 4 pushed onto the 8 with their depths raised);
 *   - the last 8, then the consumer exits: its exit pushes what it
 *     batched; the stack holds 20.
 */
#include "check.h"

#include "arena.h"
#include "pagemap.h"
#include "span.h"
#include "tcache.h"

#include <pthread.h>
#include <stdlib.h>

#define BLK ((size_t)49152)
#define N 20

static void *blocks[N];
static struct arena *a0;
static size_t cls;
static unsigned other; /* the consumers' arena (arenas.create) */

/* Depths of arena 0's stack of the class from the top, checked n .. 1;
 * the stack is put back as it was. */
static void expect_depths(unsigned n)
{
    struct span *top = arena_remote_take(a0, cls);
    unsigned k = 0;
    for (struct span *s = top; s; s = s->next, k++) {
        CHECK_U(s->reserved, ==, n - k);
        CHECK_U(s->lcached, !=, 0);
    }
    CHECK_U(k, ==, n);
    if (top)
        arena_remote_give_back(a0, cls, top);
}

static void *consume(void *arg)
{
    (void)arg;
    CHECK(mallctl("thread.arena", NULL, NULL, &other, sizeof(other)) == 0);
    for (int i = 0; i < 5; i++)
        free(blocks[i]);
    expect_depths(0);
    CHECK_U(pagemap_get((uintptr_t)blocks[0])->lcached, !=, 0);
    for (int i = 5; i < 8; i++)
        free(blocks[i]);
    expect_depths(8);
    /* The top is the last block freed (left taken: main puts it back). */
    CHECK(arena_remote_take(a0, cls) == pagemap_get((uintptr_t)blocks[7]));
    return NULL;
}

static void *consume_rest(void *arg)
{
    (void)arg;
    CHECK(mallctl("thread.arena", NULL, NULL, &other, sizeof(other)) == 0);
    for (int i = 8; i < 12; i++)
        free(blocks[i]);
    CHECK(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0) == 0);
    expect_depths(12);
    for (int i = 12; i < N; i++)
        free(blocks[i]);
    return NULL;
}

int main(void)
{
    unsigned zero = 0;
    CHECK(mallctl("thread.arena", NULL, NULL, &zero, sizeof(zero)) == 0);
    a0 = arena_get(0);
    size_t sz = sizeof(other);
    CHECK(mallctl("arenas.create", &other, &sz, NULL, 0) == 0);
    cls = tcache_large_class(BLK);
    for (int i = 0; i < N; i++) {
        blocks[i] = malloc(BLK);
        CHECK_NONNULL(blocks[i]);
    }
    /* An empty stack to start from. */
    for (struct span *s = arena_remote_take(a0, cls), *next; s; s = next) {
        next = s->next;
        s->lcached = 0;
        arena_large_free(s);
    }
    pthread_t t;
    CHECK(pthread_create(&t, NULL, consume, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    /* consume took the 8 to check the top: put them back. */
    struct span *top = pagemap_get((uintptr_t)blocks[7]);
    arena_remote_give_back(a0, cls, top);
    expect_depths(8);
    CHECK(pthread_create(&t, NULL, consume_rest, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    expect_depths(N);
    return 0;
}
