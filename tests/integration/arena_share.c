/*
 * arena_share: threads share an arena until its lock is contended
 * (arena.c, arena_lock_for_heap).
 *  - Threads that take their arena's lock without waiting stay in the
 *    first arena, where main is: four threads, each taking a few hundred
 *    slab pages and large blocks one after the other, all report
 *    thread.arena 0.
 *  - Threads that keep the lock busy at once (eight threads taking large
 *    blocks past their caches, MALLOCX_TCACHE_NONE: the arena's lock for
 *    every block) end up spread: after the run, at least two arenas hold
 *    threads, and the stats.arenas.<i>.nthreads add up to the threads. The threads run until a move is seen or 20 s pass.
 * narenas:4 (arena_share.conf), so the room to spread does not depend on
 * the machine's CPUs.
 */
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#define NSPREAD 8

static unsigned my_arena(void)
{
    unsigned a = 0;
    size_t sz = sizeof(a);
    CHECK(mallctl("thread.arena", &a, &sz, NULL, 0) == 0);
    return a;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static pthread_mutex_t order = PTHREAD_MUTEX_INITIALIZER;

/* Allocation work that takes the arena's lock often, one thread at a time
 * (the mutex), so no lock is ever waited for. */
static void *quiet(void *arg)
{
    unsigned *out = arg;
    pthread_mutex_lock(&order);
    for (int round = 0; round < 200; round++) {
        void *big = mallocx(256 << 10, MALLOCX_TCACHE_NONE);
        CHECK_NONNULL(big);
        void *small[512];
        for (int i = 0; i < 512; i++)
            CHECK_NONNULL(small[i] = malloc(128 + (size_t)round % 7 * 512));
        for (int i = 0; i < 512; i++)
            free(small[i]);
        dallocx(big, MALLOCX_TCACHE_NONE);
    }
    *out = my_arena();
    pthread_mutex_unlock(&order);
    return NULL;
}

static atomic_int moved, stop;

static void *busy(void *arg)
{
    unsigned *out = arg;
    unsigned first = my_arena();
    while (!atomic_load(&stop)) {
        for (int i = 0; i < 64; i++) {
            void *p = mallocx((size_t)(64 + i % 8 * 16) << 10, MALLOCX_TCACHE_NONE);
            CHECK_NONNULL(p);
            ((volatile char *)p)[0] = 1;
            dallocx(p, MALLOCX_TCACHE_NONE);
        }
        if (my_arena() != first)
            atomic_store(&moved, 1);
    }
    *out = my_arena();
    return NULL;
}

/* stats.arenas.<i>.nthreads; 0 for an arena not created yet. */
static unsigned stat_nthreads(unsigned i)
{
    uint64_t e = 1;
    size_t sz = sizeof(e);
    CHECK(mallctl("epoch", &e, &sz, &e, sizeof(e)) == 0);
    char name[64];
    snprintf(name, sizeof(name), "stats.arenas.%u.nthreads", i);
    unsigned v = 0;
    sz = sizeof(v);
    if (mallctl(name, &v, &sz, NULL, 0) != 0)
        return 0;
    return v;
}

int main(void)
{
    tl_require_liballoc();
    unsigned narenas = 0;
    size_t sz = sizeof(narenas);
    CHECK(mallctl("opt.narenas", &narenas, &sz, NULL, 0) == 0);
    CHECK_EQ(narenas, 4);
    CHECK_EQ(my_arena(), 0);

    pthread_t t[NSPREAD];
    unsigned got[NSPREAD];
    for (int i = 0; i < 4; i++)
        CHECK(pthread_create(&t[i], NULL, quiet, &got[i]) == 0);
    for (int i = 0; i < 4; i++) {
        CHECK(pthread_join(t[i], NULL) == 0);
        CHECK_EQ(got[i], 0);
    }

    for (int i = 0; i < NSPREAD; i++)
        CHECK(pthread_create(&t[i], NULL, busy, &got[i]) == 0);
    double t0 = now_s();
    while (!atomic_load(&moved) && now_s() - t0 < 20) {
        struct timespec ms = {0, 10 * 1000 * 1000};
        nanosleep(&ms, NULL);
    }
    /* Let the others settle as well, then read the counts while they live. */
    struct timespec settle = {0, 200 * 1000 * 1000};
    nanosleep(&settle, NULL);
    /* A thread moving is counted in both arenas for a moment: read again. */
    unsigned per[4] = {0, 0, 0, 0}, stat_sum = 0;
    for (int tries = 0; tries < 100 && stat_sum != NSPREAD + 1; tries++) {
        stat_sum = 0;
        for (unsigned i = 0; i < 4; i++)
            stat_sum += stat_nthreads(i);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < NSPREAD; i++) {
        CHECK(pthread_join(t[i], NULL) == 0);
        CHECK(got[i] < 4);
        per[got[i]]++;
    }
    CHECK_MSG(atomic_load(&moved), "no thread left arena 0 in 20 s of contention");
    unsigned used = 0;
    for (int i = 0; i < 4; i++)
        used += per[i] != 0;
    CHECK(used >= 2);
    CHECK_EQ(stat_sum, NSPREAD + 1); /* the busy threads and main */
    printf("arena_share: ok (busy threads per arena: %u %u %u %u)\n", per[0], per[1], per[2], per[3]);
    return 0;
}
