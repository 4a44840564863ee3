/*
 * tcache_large_arenas: a large block freed by a thread on another arena
 * than the block's is not kept in that thread's cache of large blocks
 * (tcache.h: caching it there made a large-block producer/consumer slower,
 * the consumer's cache holding blocks its producer then missed). It goes
 * onto its arena's remote stack (arena.h, arena_remote_put): not back in
 * the arena (large ndalloc of arena 0 stays), and the next malloc of its
 * class by a thread of arena 0 gets that very block, without the arena.
 * arena.0.purge gives stacked blocks back (ndalloc grows by one), a second
 * free of a stacked block is reported as a double free, and a class's
 * stack keeps at most ARENA_REMOTE_MAX (4 MiB): of 100 blocks of 64 KiB
 * freed together, 64 stay stacked and 36 go back once the thread's batch
 * of other arenas' blocks is pushed (its flush; tcache_large_remote). Pinned to
 * narenas:2 (tcache_large_arenas.conf).
 */
#include "check.h"

#include <pthread.h>
#include <stdio.h>

#define BLK ((size_t)65536)
#define MANY 100

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

static void *blocks[MANY]; /* main's arena-0 blocks, freed by the thread */
static int nblocks;
static volatile int double_free_reports; /* set inside free(): gcc assumes free reads and writes no global */

static void on_message(void *cb, const char *s)
{
    (void)cb;
    if (strstr(s, "double free of"))
        double_free_reports++;
}

static void *freer(void *arg)
{
    (void)arg;
    CHECK_EQ(my_arena(), 1);
    uint64_t nd0 = ndalloc(0);
    for (int i = 0; i < nblocks; i++)
        free(blocks[i]);
    CHECK_EQ(cached(), 0);
    /* The thread batches other arenas' blocks (tcache.h,
     * tcache_large_remote): its flush pushes what it holds. */
    CHECK(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0) == 0);
    CHECK_EQ(ndalloc(0), nd0 + (nblocks > 64 ? nblocks - 64 : 0));
    if (nblocks == 1) {
        int reports = double_free_reports;
        free(blocks[0]); /* stacked: a double free */
        CHECK_EQ(double_free_reports, reports + 1);
    }
    /* Its own arena's block is cached. */
    free(malloc(BLK));
    CHECK_EQ(cached(), BLK);
    return NULL;
}

static void freed_by_thread(int n)
{
    nblocks = n;
    for (int i = 0; i < n; i++)
        CHECK_NONNULL(blocks[i] = malloc(BLK));
    pthread_t t;
    CHECK(pthread_create(&t, NULL, freer, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
}

int main(void)
{
    tl_require_liballoc();
    CHECK_EQ(my_arena(), 0);
    malloc_message = on_message;
    freed_by_thread(1);
    uint64_t nd0 = ndalloc(0);
    void *again = malloc(BLK);
    CHECK_MSG(again == blocks[0], "malloc after the remote free: %p, the freed block was %p", again,
              blocks[0]);
    CHECK_EQ(ndalloc(0), nd0);
    blocks[0] = again;
    freed_by_thread(1);
    nd0 = ndalloc(0);
    CHECK(mallctl("arena.0.purge", NULL, NULL, NULL, 0) == 0);
    CHECK_EQ(ndalloc(0), nd0 + 1);
    freed_by_thread(MANY);
    CHECK(mallctl("arena.0.purge", NULL, NULL, NULL, 0) == 0);
    malloc_message = NULL;
    printf("tcache_large_arenas: ok\n");
    return 0;
}
