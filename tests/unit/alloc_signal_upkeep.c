/*
 * alloc_signal_upkeep: a signal handler's large malloc, while the thread it
 * interrupted holds its arena's lock (signal_in_lock.h's trigger), comes
 * due for the thread's upkeep (heap_tick: the large-block cache's idle
 * pass, page collection) with the cache holding blocks of the locked
 * arena; made due here by hand (the cached blocks marked idle, the tick's
 * time and byte marks reset).
 *
 * Before the fix the cache's flush waited for the arena lock its own
 * thread held, forever (found by a stress run: 8 threads,
 * prof:true,lg_prof_sample:0, an itimer handler allocating; gdb: handler
 * in calloc -> heap_tick -> tcache_large_gc -> arena_large_free_many; the
 * alarm fails the test after 10 s). Now upkeep is skipped in a handler
 * inside an allocator lock; the cached blocks stay, and go at a later
 * pass.
 */
#include "check.h"

#include "arena.h"
#include "heap.h"
#include "lock_depth.h"
#include "signal_in_lock.h"
#include "tcache.h"

#include <string.h>

const char *malloc_conf = "background_thread:false,narenas:4";

static volatile int fired;
static void *h_block;
static size_t h_cached_before, h_cached_after;

static void handler(int sig)
{
    (void)sig;
    struct heap *h = heap_get();
    /* Every cached block idle since the last pass, and a tick due. */
    memcpy(h->large.low, h->large.n, sizeof(h->large.low));
    h->large.used = false;
    h->large.ops = 1000000;
    h->last_tick_ns = 0;
    h->tick_next = 0;
    h->next_event = 0;
    h_cached_before = h->large.bytes;
    h_block = malloc(100 * 1024);
    if (h_block)
        memset(h_block, 0x33, 100 * 1024);
    h_cached_after = h->large.bytes;
    fired = 1;
}

int main(void)
{
    sil_install(SIGUSR1, handler,
                "alloc_signal_upkeep: the handler's malloc hung (upkeep under the arena lock)\n");
    /* Blocks of the thread's arena in its large-block cache. */
    void *c[4];
    for (int i = 0; i < 4; i++) {
        c[i] = malloc(64 * 1024);
        CHECK_NONNULL(c[i]);
    }
    for (int i = 0; i < 4; i++)
        free(c[i]);
    CHECK_U(heap_get()->large.bytes, >, 0);

    enum { NFILL = 64 };
    void *fill[NFILL];
    int nfill = sil_fill_until_signal(SIGUSR1, &fired, fill, NFILL, LARGE_MAX);
    CHECK_MSG(fired, "no chunk was mapped under an arena lock in %d large mallocs", nfill);
    CHECK_NONNULL(h_block);
    CHECK_U(h_cached_before, >, 0);
    CHECK_U(h_cached_after, ==, h_cached_before); /* upkeep skipped: nothing flushed */
    CHECK_U(lock_depth, ==, 0);
    CHECK_U(arenas_locked(), ==, 0);
    free(h_block);
    for (int i = 0; i < nfill; i++)
        free(fill[i]);
    printf("ok: a handler's malloc with upkeep due under the arena lock (%zu KiB cached kept)\n",
           h_cached_before >> 10);
    return 0;
}
