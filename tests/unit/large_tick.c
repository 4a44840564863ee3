/*
 * large_tick: the arena's large-block calls (arena_large_alloc,
 * arena_large_free) tick decay one call in LARGE_TICK_CALLS (16), not at
 * every call: each tick reads the clock, ~5% of a large-block
 * producer/consumer's instructions (arena.c). With dirty_decay_ms 0
 * (purge at once) every call still ticks. Counted by wrapping
 * clock_gettime (this executable's definition takes the allocator's calls
 * and asks the kernel itself): 160 allocations and frees read the clock
 * 1117 times when every call ticked (a tick reads it more than once), 520
 * with one tick in 16; with decay 0, 1280.
 */
#include "check.h"

#include "arena.h"
#include "rtree.h"

#include <jemalloc/jemalloc.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

const char *malloc_conf = "narenas:1";

static _Atomic unsigned nreads; /* CLOCK_MONOTONIC_COARSE readings */

int clock_gettime(clockid_t c, struct timespec *ts)
{
    if (c == CLOCK_MONOTONIC_COARSE)
        nreads++;
    return (int)syscall(SYS_clock_gettime, c, ts);
}

#define N 160

/* Clock readings over N arena allocations and frees of 64 KiB. */
static unsigned readings(struct arena *a)
{
    unsigned before = nreads;
    for (int i = 0; i < N; i++) {
        void *p = arena_large_alloc(a, 65536, 0, false, false);
        CHECK_NONNULL(p);
        struct span *s = rtree_value_span(rtree_get((uintptr_t)p), (uintptr_t)p);
        CHECK(s != NULL && s->kind == SPAN_LARGE);
        arena_large_free(s);
    }
    return nreads - before;
}

int main(void)
{
    free(malloc(1)); /* initialised */
    struct arena *a = arenas[0];
    CHECK_NONNULL(a);
    unsigned r = readings(a);
    printf("%d large allocations and frees, dirty_decay_ms 10000: %u clock readings\n", N, r);
    /* 1117 when every call ticked (a tick reads the clock more than once),
     * ~520 now: what the frees' bookkeeping reads, and the ticks' share. */
    CHECK_U(r, <=, 4 * N);
    ssize_t zero = 0;
    CHECK(mallctl("arena.0.dirty_decay_ms", NULL, NULL, &zero, sizeof(zero)) == 0);
    r = readings(a);
    printf("dirty_decay_ms 0: %u clock readings\n", r);
    CHECK_U(r, >=, 5 * N);
    printf("large_tick: ok\n");
    return 0;
}
