/*
 * shared_heap_sweep: an arena's shared heap (the blocks of threads without
 * a thread cache: tcache:false, thread.tcache.enabled false) gives its
 * empty pages back. A thread without a cache allocates one block of every
 * small class and exits; the main thread frees them all, then keeps
 * allocating and freeing for half a second (decay ticks drive the sweep,
 * liballoc/heap.c, shared_sweep). stats.active must come back near what
 * the running loop uses: before, every class kept its emptied page carved
 * for good (about 2.8 MiB, one page of 64-256 KiB per class).
 */
#include "check.h"

#include <pthread.h>
#include <time.h>

#define NBLOCKS 64
static void *blocks[NBLOCKS];
static int nblocks;

static void no_cache(void)
{
    bool off = false;
    CHECK_I(mallctl("thread.tcache.enabled", NULL, NULL, &off, sizeof(off)), ==, 0);
}

static size_t active(void)
{
    uint64_t e = 1;
    size_t len = sizeof(e);
    CHECK_I(mallctl("epoch", &e, &len, &e, len), ==, 0);
    size_t v = 0;
    len = sizeof(v);
    CHECK_I(mallctl("stats.active", &v, &len, NULL, 0), ==, 0);
    return v;
}

static void *worker(void *arg)
{
    no_cache();
    for (size_t s = 8; s <= 32768 && nblocks < NBLOCKS; s += s / 4) {
        blocks[nblocks] = malloc(s);
        CHECK_NONNULL(blocks[nblocks]);
        memset(blocks[nblocks], 1, s);
        nblocks++;
    }
    return arg;
}

int main(void)
{
    tl_require_liballoc();
    unsigned zero = 0; /* one arena: the worker's and main's shared heap are one */
    CHECK_I(mallctl("thread.arena", NULL, NULL, &zero, sizeof(zero)), ==, 0);
    no_cache();
    size_t before = active();
    pthread_t t;
    CHECK_I(pthread_create(&t, NULL, worker, NULL), ==, 0);
    CHECK_I(pthread_join(t, NULL), ==, 0);
    CHECK_U(nblocks, >=, 39);
    size_t full = active();
    CHECK_MSG(full >= before + (2u << 20), "active %zu -> %zu: the blocks' pages", before, full);
    for (int i = 0; i < nblocks; i++)
        free(blocks[i]);
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        for (int i = 0; i < 2000; i++) {
            void *volatile q = malloc(64);
            free(q);
        }
        struct timespec nap = {0, 2000000};
        nanosleep(&nap, NULL);
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while ((now.tv_sec - t0.tv_sec) * 1000000000L + (now.tv_nsec - t0.tv_nsec) < 500000000L);
    size_t after = active();
    printf("active: %zu KiB before, %zu KiB with the blocks, %zu KiB after\n", before >> 10, full >> 10,
           after >> 10);
    CHECK_MSG(after < before + (512u << 10), "the shared heap kept %zu KiB of empty pages",
              (after - before) >> 10);
    printf("shared_heap_sweep: ok\n");
    return 0;
}
