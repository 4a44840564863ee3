/*
 * tcache_large_arenas: a large block freed by a thread on another arena
 * than the block's is not kept in that thread's cache of large blocks
 * (tcache.h): it goes straight back to its arena (large ndalloc of that
 * arena grows, the freeing thread caches nothing). Caching it there made a
 * large-block producer/consumer slower (the consumer's cache held blocks
 * its producer then missed). Pinned to narenas:2
 * (tcache_large_arenas.conf).
 */
#include "check.h"

#include <pthread.h>
#include <stdio.h>

#define BLK ((size_t)65536)

static size_t read_sz(const char *name)
{
    size_t v = 0, sz = sizeof(v);
    CHECK_MSG(mallctl(name, &v, &sz, NULL, 0) == 0, "mallctl %s", name);
    return v;
}

static size_t cached(void)
{
    return read_sz("thread.tcache.large_bytes");
}

static unsigned my_arena(void)
{
    unsigned a = 0;
    size_t sz = sizeof(a);
    CHECK(mallctl("thread.arena", &a, &sz, NULL, 0) == 0);
    return a;
}

/* stats.arenas.<i>.large.ndalloc after an epoch. */
static uint64_t ndalloc(unsigned i)
{
    uint64_t e = 1, v = 0;
    size_t sz = sizeof(e);
    CHECK(mallctl("epoch", &e, &sz, &e, sizeof(e)) == 0);
    char name[64];
    snprintf(name, sizeof(name), "stats.arenas.%u.large.ndalloc", i);
    sz = sizeof(v);
    CHECK_MSG(mallctl(name, &v, &sz, NULL, 0) == 0, "mallctl %s", name);
    return v;
}

static void *block; /* main's arena-0 block, freed by the thread */

static void *freer(void *arg)
{
    (void)arg;
    CHECK_EQ(my_arena(), 1);
    uint64_t nd0 = ndalloc(0);
    free(block);
    CHECK_EQ(cached(), 0);
    CHECK_EQ(ndalloc(0), nd0 + 1);
    /* Its own arena's block is cached. */
    free(malloc(BLK));
    CHECK_EQ(cached(), BLK);
    return NULL;
}

int main(void)
{
    tl_require_liballoc();
    CHECK_EQ(my_arena(), 0);
    CHECK_NONNULL(block = malloc(BLK));
    pthread_t t;
    CHECK(pthread_create(&t, NULL, freer, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    printf("tcache_large_arenas: ok\n");
    return 0;
}
