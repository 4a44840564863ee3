/*
 * lcache_tick: a large block served from or returned to the thread's cache
 * (tcache.h) counts a sixteenth of its bytes toward the decay tick
 * (heap.c, LCACHE_TICK_SHARE), so churning one cached 80 KiB block with
 * purge work pending enters the event path about once in 13 calls, not at
 * every call (each used to cross the 64 KiB tick interval, then heap_tick
 * skipped 15 of 16: h->tick_skips counted ~3000 of 3200 calls). The ticks
 * still come (decay_tick_large holds how many).
 */
#include "check.h"

#include "decay.h"
#include "heap.h"

#include <jemalloc/jemalloc.h>

/* A heap counter as of now (volatile: the compiler takes malloc and free
 * for builtins that touch no memory of ours). */
static uint64_t read64(const uint64_t *p)
{
    return *(volatile const uint64_t *)p;
}
static uint32_t read32(const uint32_t *p)
{
    return *(volatile const uint32_t *)p;
}

int main(void)
{
    /* Purge work pending: a freed run in the arena with decay on (10 s). */
    void *big = malloc(3u << 20);
    CHECK(big != NULL);
    memset(big, 1, 3u << 20);
    free(big);
    void *l = malloc(200 << 10);
    free(l);
    CHECK(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0) == 0);
    CHECK(decay_pending());

    struct heap *h = heap_tls;
    void *p = malloc(80 << 10); /* into the cache once */
    CHECK(p != NULL);
    free(p);
    uint32_t s0 = read32(&h->tick_skips);
    uint64_t t0 = read64(&h->nticks);
    for (int i = 0; i < 1600; i++) {
        void *q = malloc(80 << 10);
        CHECK(q == p); /* the cached block */
        *(volatile char *)q = 1;
        free(q);
    }
    uint32_t skips = read32(&h->tick_skips) - s0;
    uint64_t ticks = read64(&h->nticks) - t0;
    printf("80 KiB cached x 1600 (malloc + free): %u skipped events, %llu ticks\n", skips,
           (unsigned long long)ticks);
    CHECK_U(skips, <=, 100);
    CHECK_U(ticks, >=, 100);
    CHECK_U(ticks, <=, 400);
    printf("lcache_tick: ok\n");
    return 0;
}
