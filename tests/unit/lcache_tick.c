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

#include "heap.h"
#include "purge_pending.h"

#include <jemalloc/jemalloc.h>

int main(void)
{
    purge_pending_make();

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
