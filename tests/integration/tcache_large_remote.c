/*
 * tcache_large_remote: a large block freed by a thread other than the one
 * that allocated it, with the two threads on different automatic arenas
 * (tcache.h):
 *  - is kept in the freeing thread's cache (thread.tcache.large_bytes),
 *    its arena's large ndalloc unchanged, and that thread's next malloc of
 *    its class returns it;
 *  - arena.<i>.purge from the caching thread gives back its cached blocks
 *    of arena i only, to arena i (large ndalloc of i grows);
 *  - a thread pinned to an explicit arena (arenas.create, thread.arena)
 *    does not cache another arena's block: it goes straight back.
 * Pinned to narenas:2 (tcache_large_remote.conf).
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

static size_t cached(void) { return read_sz("thread.tcache.large_bytes"); }

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

static void *blocks[2]; /* main's arena-0 blocks, freed by the threads */

static void *freer(void *arg)
{
    (void)arg;
    CHECK_EQ(my_arena(), 1);
    CHECK_EQ(cached(), 0);
    uint64_t nd0 = ndalloc(0);
    free(blocks[0]);
    CHECK_EQ(cached(), BLK);
    CHECK_EQ(ndalloc(0), nd0);
    void *p = malloc(BLK);
    CHECK(p == blocks[0]);
    CHECK_EQ(cached(), 0);
    free(p);
    /* A block of its own arena too, then a purge of arena 1: ours stays. */
    void *own = malloc(2 * BLK);
    free(own);
    CHECK_EQ(cached(), 3 * BLK);
    CHECK(mallctl("arena.1.purge", NULL, NULL, NULL, 0) == 0);
    CHECK_EQ(cached(), BLK);
    CHECK_EQ(ndalloc(0), nd0);
    CHECK(mallctl("arena.0.purge", NULL, NULL, NULL, 0) == 0);
    CHECK_EQ(cached(), 0);
    CHECK_EQ(ndalloc(0), nd0 + 1);
    return NULL;
}

static void *pinned(void *arg)
{
    unsigned idx = *(unsigned *)arg;
    CHECK(mallctl("thread.arena", NULL, NULL, &idx, sizeof(idx)) == 0);
    uint64_t nd0 = ndalloc(0);
    free(blocks[1]);
    CHECK_EQ(cached(), 0);
    CHECK_EQ(ndalloc(0), nd0 + 1);
    return NULL;
}

int main(void)
{
    tl_require_liballoc();
    CHECK_EQ(my_arena(), 0);
    CHECK_NONNULL(blocks[0] = malloc(BLK));
    CHECK_NONNULL(blocks[1] = malloc(BLK));
    pthread_t t;
    CHECK(pthread_create(&t, NULL, freer, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    unsigned idx = tl_arena_create();
    CHECK(pthread_create(&t, NULL, pinned, &idx) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    printf("tcache_large_remote: ok\n");
    return 0;
}
