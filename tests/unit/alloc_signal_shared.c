/*
 * alloc_signal_shared: under tcache:false every small block comes from the
 * arena's shared heap, under its shared_lock (heap.c, shared_alloc_small).
 * A signal handler mallocs small blocks while the thread it interrupted
 * holds that lock, deterministically: the os seam's map wrapper raises the
 * signal from the mmap that chunk_new makes while a small malloc holds the
 * shared lock and the arena's lock (signal_in_lock.h's trigger).
 *
 * Before the fix the handler's first small malloc waited for the shared
 * lock its own thread held, forever (found by a stress run: 2 threads,
 * tcache:false, an itimer handler that allocates hung within seconds; the
 * alarm fails the test after 10 s). lock_depth did not count that lock.
 * Now the handler only tries shared locks and is served by another arena's
 * shared heap, whose lock was free.
 */
#include "check.h"

#include "arena.h"
#include "lock_depth.h"
#include "rtree.h"
#include "signal_in_lock.h"

#include <string.h>

const char *malloc_conf = "tcache:false,narenas:4,background_thread:false";

static volatile int fired;
enum { NOUT = 3 };
static const size_t out_size[NOUT] = {24, 500, 3000};
static void *h_block[NOUT];
static struct arena *h_arena[NOUT];

static void handler(int sig)
{
    (void)sig;
    for (int i = 0; i < NOUT; i++) {
        h_block[i] = malloc(out_size[i]);
        if (h_block[i]) {
            memset(h_block[i], 0x33, out_size[i]);
            h_arena[i] = sil_arena_of(h_block[i]);
        }
    }
    fired = 1;
}

int main(void)
{
    sil_install(SIGUSR1, handler,
                "alloc_signal_shared: the handler's small malloc hung (shared heap lock)\n");
    void *first = malloc(2000);
    CHECK_NONNULL(first);
    struct arena *home = sil_arena_of(first);
    CHECK_NONNULL(home);

    /* 2000-byte blocks (the shared heap's pages) until one needs a fresh
     * chunk, whose mmap raises the signal. */
    enum { NFILL = 20000 };
    static void *fill[NFILL];
    int n = sil_fill_until_signal(SIGUSR1, &fired, fill, NFILL, 2000);
    CHECK_MSG(fired, "no chunk was mapped under an arena lock in %d small mallocs", n);
    CHECK_MSG(sil_locked == home, "the lock held was not the thread's arena's");
    for (int i = 0; i < NOUT; i++) {
        CHECK_MSG(h_block[i] != NULL, "the handler's malloc(%zu) failed", out_size[i]);
        CHECK_MSG(h_arena[i] != NULL && h_arena[i] != home,
                  "the handler's block %d came from the busy arena", i);
    }
    CHECK_U(lock_depth, ==, 0);
    CHECK_U(arenas_locked(), ==, 0);
    for (int i = 0; i < NOUT; i++)
        free(h_block[i]);
    for (int i = 0; i < n; i++)
        free(fill[i]);
    free(first);
    /* The shared heap that was locked serves as before. */
    void *again = malloc(out_size[1]);
    CHECK_NONNULL(again);
    CHECK_MSG(sil_arena_of(again) == home, "a later malloc left the thread's arena");
    free(again);
    printf("ok: %d small mallocs, 3 small mallocs in a handler under the shared heap lock\n", n);
    return 0;
}
