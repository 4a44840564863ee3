/*
 * decay_tick_large: while purge work is pending, ticks stay at most 64 KiB
 * apart (decay.h), but a thread churning blocks above 4 KiB runs only one
 * tick in DECAY_TICK_CALLS (16): 80 KiB blocks used to tick on every
 * malloc and every free (~1.8M ticks a second in rpmalloc-8t, 417 with
 * work). Its small blocks still tick every 64 KiB afterwards, so a thread
 * that goes quiet after such a burst keeps driving decay.
 */
#include "check.h"

#include "heap.h"
#include "purge_pending.h"

#include <jemalloc/jemalloc.h>

int main(void)
{
    purge_pending_make();

    struct heap *h = heap_tls;
    uint64_t n0 = read64(&h->nticks);
    for (int i = 0; i < 1600; i++) {
        void *p = malloc(80 << 10);
        CHECK(p != NULL);
        *(volatile char *)p = 1;
        free(p);
    }
    uint64_t big_ticks = read64(&h->nticks) - n0;
    printf("80 KiB x 1600 (malloc + free): %llu ticks\n", (unsigned long long)big_ticks);
    CHECK(decay_pending());
    /* 3200 calls, each past 64 KiB: 200 ticks, not 3200 (and not none). */
    CHECK_U(big_ticks, >=, 100);
    CHECK_U(big_ticks, <=, 400);

    /* Then small blocks: a tick within the next 64 KiB of them. */
    uint64_t n1 = read64(&h->nticks);
    void *keep[1100];
    for (int i = 0; i < 1100; i++)
        keep[i] = malloc(64);
    uint64_t small_ticks = read64(&h->nticks) - n1;
    for (int i = 0; i < 1100; i++)
        free(keep[i]);
    printf("64 B x 1100 after them: %llu ticks\n", (unsigned long long)small_ticks);
    CHECK_U(small_ticks, >=, 1);
    printf("decay_tick_large: ok\n");
    return 0;
}
