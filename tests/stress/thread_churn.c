/*
 * Thread churn: waves of short-lived threads (TEST_THREADS per wave, some
 * joined, some detached) each allocate 200 random blocks, fill them, free
 * some themselves, free some blocks left in a shared pool by threads that
 * have already exited, push the rest to the pool and exit. A persistent
 * reaper thread concurrently takes blocks from the pool, verifies and
 * frees them. Every block pushed to the pool is popped and verified
 * exactly once; every detached thread finishes.
 */
#include "../integration/check.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

struct blk {
    unsigned char *p;
    size_t n;
    uint64_t key;
};

#define POOL_CAP 65536
static struct {
    pthread_mutex_t mu;
    struct blk items[POOL_CAP];
    size_t count;
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER};

static _Atomic uint64_t pushed, popped, detached_live, next_key;
static atomic_int stop_reaper;
static uint64_t seed;

static int pool_push(struct blk b)
{
    int ok = 0;
    pthread_mutex_lock(&pool.mu);
    if (pool.count < POOL_CAP) {
        pool.items[pool.count++] = b;
        ok = 1;
    }
    pthread_mutex_unlock(&pool.mu);
    return ok;
}

static int pool_pop(struct blk *b, uint64_t *st)
{
    int ok = 0;
    pthread_mutex_lock(&pool.mu);
    if (pool.count > 0) {
        /* take a random one so blocks of many dead threads get mixed */
        size_t i = (size_t)tl_rand_below(st, pool.count);
        *b = pool.items[i];
        pool.items[i] = pool.items[--pool.count];
        ok = 1;
    }
    pthread_mutex_unlock(&pool.mu);
    return ok;
}

static void verify_free(struct blk *b)
{
    CHECK_PATTERN(b->p, b->n, b->key);
    if (b->key & 1)
        free(b->p);
    else
        sdallocx(b->p, b->n, 0);
    atomic_fetch_add(&popped, 1);
}

static uint64_t rand_small_size(uint64_t *st)
{
    /* mostly small, like short-lived request handlers; a few large */
    return tl_rand_below(st, 50) == 0 ? tl_rand_size(st) : 1 + tl_rand_below(st, 2048);
}

static void *worker(void *arg)
{
    uint64_t id = (uint64_t)(uintptr_t)arg;
    uint64_t st = seed ^ tl_mix64(id + 1);
    struct blk mine[200];
    for (int i = 0; i < 200; i++) {
        mine[i].n = rand_small_size(&st);
        mine[i].p = tl_rand_below(&st, 4) ? malloc(mine[i].n) : calloc(1, mine[i].n);
        CHECK_NONNULL(mine[i].p);
        mine[i].key = atomic_fetch_add(&next_key, 1);
        tl_fill(mine[i].p, mine[i].n, mine[i].key);
    }
    /* Free some blocks of threads that already exited. */
    for (int i = 0; i < 50; i++) {
        struct blk b;
        if (pool_pop(&b, &st))
            verify_free(&b);
    }
    for (int i = 0; i < 200; i++) {
        if (i % 3 == 0) {
            CHECK_PATTERN(mine[i].p, mine[i].n, mine[i].key);
            free(mine[i].p);
        } else if (pool_push(mine[i])) {
            atomic_fetch_add(&pushed, 1);
        } else {
            CHECK_PATTERN(mine[i].p, mine[i].n, mine[i].key);
            free(mine[i].p);
        }
    }
    if (id & 1)
        atomic_fetch_sub(&detached_live, 1);
    return NULL;
}

static void *reaper(void *arg)
{
    uint64_t st = seed ^ 0xabcdef;
    while (!atomic_load(&stop_reaper)) {
        struct blk b;
        int got = 0;
        for (int i = 0; i < 64 && pool_pop(&b, &st); i++, got++)
            verify_free(&b);
        if (!got)
            usleep(200);
    }
    return NULL;
}

int main(void)
{
    tl_require_liballoc();
    seed = tl_seed("thread_churn");
    int nt = tl_threads();
    double secs = tl_seconds(2.5, 30);
    double deadline = tl_now() + secs;
    pthread_t rt;
    CHECK_I(pthread_create(&rt, NULL, reaper, NULL), ==, 0);
    pthread_t *ts = calloc((size_t)nt, sizeof(*ts));
    CHECK_NONNULL(ts);
    uint64_t id = 0;
    unsigned long waves = 0, threads = 0;
    while (waves < 3 || tl_now() < deadline) {
        for (int i = 0; i < nt; i++, id++) {
            if (id & 1)
                atomic_fetch_add(&detached_live, 1);
            int r = pthread_create(&ts[i], NULL, worker, (void *)(uintptr_t)id);
            CHECK_MSG(r == 0, "pthread_create: %d", r);
            if (id & 1)
                CHECK_I(pthread_detach(ts[i]), ==, 0);
        }
        for (int i = 0; i < nt; i++)
            if (!((id - (uint64_t)nt + (uint64_t)i) & 1))
                CHECK_I(pthread_join(ts[i], NULL), ==, 0);
        threads += (unsigned long)nt;
        waves++;
        /* Keep the number of live detached threads bounded. */
        for (int spin = 0; atomic_load(&detached_live) > (uint64_t)nt * 4 && spin < 100000; spin++)
            sched_yield();
    }
    /* Wait for the detached threads (bounded), then drain the pool. */
    double wait_until = tl_now() + 30;
    while (atomic_load(&detached_live) > 0 && tl_now() < wait_until)
        usleep(1000);
    CHECK_MSG(atomic_load(&detached_live) == 0, "%" PRIu64 " detached threads never finished",
              atomic_load(&detached_live));
    atomic_store(&stop_reaper, 1);
    CHECK_I(pthread_join(rt, NULL), ==, 0);
    uint64_t st = 1;
    struct blk b;
    while (pool_pop(&b, &st))
        verify_free(&b);
    free(ts);
    CHECK_MSG(atomic_load(&pushed) == atomic_load(&popped),
              "pushed %" PRIu64 " blocks to the pool, popped %" PRIu64, atomic_load(&pushed),
              atomic_load(&popped));
    CHECK_U(atomic_load(&pushed), >, 0);
    printf("thread_churn: %lu waves, %lu threads, %" PRIu64 " blocks handed between threads\n",
           waves, threads, atomic_load(&pushed));
    return 0;
}
