/*
 * large_remote_drain: large blocks another arena's thread freed onto their
 * arena's remote stack (arena.h, arena_remote_put) go back to the arena once
 * nothing takes them: at the first decay run that finds none taken since
 * the one before. Main (arena 0) allocates 16 blocks of 64 KiB, a thread
 * on arena 1 frees them (stacked: tcache_large_arenas checks that, with
 * decay off), then main only does light work (1 KiB blocks, which tick
 * decay; reading stats nudges ticks too). Within 2 s all 16 must be back
 * in arena 0 (ndalloc + 16; at once here). Without the drain they stayed
 * stacked for good. Pinned to narenas:2 with decay on
 * (large_remote_drain.conf).
 */
#include "check.h"

#include <pthread.h>
#include <time.h>

#define BLK ((size_t)65536)
#define N 16

static void *blocks[N];

static uint64_t ndalloc0(void)
{
    uint64_t e = 1, v = 0;
    size_t sz = sizeof(e);
    CHECK_I(mallctl("epoch", &e, &sz, &e, sizeof(e)), ==, 0);
    sz = sizeof(v);
    CHECK_I(mallctl("stats.arenas.0.large.ndalloc", &v, &sz, NULL, 0), ==, 0);
    return v;
}

static void *freer(void *arg)
{
    unsigned a = 0;
    size_t sz = sizeof(a);
    CHECK_I(mallctl("thread.arena", &a, &sz, NULL, 0), ==, 0);
    CHECK_U(a, ==, 1);
    for (int i = 0; i < N; i++)
        free(blocks[i]);
    return arg;
}

int main(void)
{
    tl_require_liballoc();
    for (int i = 0; i < N; i++)
        CHECK_NONNULL(blocks[i] = malloc(BLK));
    uint64_t nd0 = ndalloc0();
    pthread_t t;
    CHECK_I(pthread_create(&t, NULL, freer, NULL), ==, 0);
    CHECK_I(pthread_join(t, NULL), ==, 0);
    double t0 = tl_now(), waited = 0;
    while (ndalloc0() < nd0 + N && (waited = tl_now() - t0) < 2.0) {
        for (int i = 0; i < 200; i++) {
            void *volatile q = malloc(1024);
            free(q);
        }
        struct timespec nap = {0, 1000000};
        nanosleep(&nap, NULL);
    }
    printf("16 stacked blocks back in arena 0 after %.3f s\n", waited);
    CHECK_MSG(ndalloc0() == nd0 + N, "after %.1f s, %llu of %d stacked blocks back in arena 0",
              waited, (unsigned long long)(ndalloc0() - nd0), N);
    printf("large_remote_drain: ok\n");
    return 0;
}
