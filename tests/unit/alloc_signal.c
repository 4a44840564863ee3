/*
 * alloc_signal: a signal handler allocates (a small block of a class the
 * thread has no page for, a large block, a huge block, and a realloc of a
 * large block that lives in the locked arena) while the thread it
 * interrupted holds its arena's lock, deterministically: the os seam's map
 * wrapper raises the signal from inside the mmap that chunk_new makes
 * under the arena's lock, during a large malloc. Every allocation is
 * sampled (malloc_conf below), so each of the handler's allocations also
 * takes a sample.
 *
 * Before the fix the handler's first allocation waited for the arena lock
 * its own thread held, forever (an alarm fails the test after 10 s). Now
 * (lock_depth.h): each is served by another arena, whose lock was free,
 * and works (written whole, the realloc's bytes kept); the sample's
 * relocation into the shared heap is skipped; the handler's frees are
 * deferred and done when the interrupted malloc returns.
 */
#include "check.h"

#include "arena.h"
#include "defer.h"
#include "heap.h"
#include "lock_depth.h"
#include "rtree.h"
#include "signal_in_lock.h"

#include <string.h>

const char *malloc_conf = "prof:true,lg_prof_sample:0,prof_prefix:,background_thread:false,"
                          "narenas:4";

static volatile int fired;
static void *moved_victim; /* a large block of that arena, realloc'd by the handler */

enum { NOUT = 4 };
static const size_t out_size[NOUT] = {20000, 100 * 1024, 3 * 1024 * 1024, 300 * 1024};
static struct arena *h_arena[NOUT]; /* arena of each block the handler got */
static void *h_block[NOUT];
static unsigned h_depth;
static int h_kept;                  /* the realloc kept the old bytes */

static void handler(int sig)
{
    (void)sig;
    h_depth = lock_depth;
    for (int i = 0; i < 3; i++) {
        h_block[i] = malloc(out_size[i]);
        if (h_block[i]) {
            memset(h_block[i], 0x33, out_size[i]);
            h_arena[i] = sil_arena_of(h_block[i]);
        }
    }
    h_block[3] = realloc(moved_victim, out_size[3]);
    if (h_block[3]) {
        h_kept = ((unsigned char *)h_block[3])[0] == 0x5a &&
                 ((unsigned char *)h_block[3])[60 * 1024 - 1] == 0x5a;
        memset(h_block[3], 0x44, out_size[3]);
        h_arena[3] = sil_arena_of(h_block[3]);
    }
    for (int i = 0; i < NOUT; i++)
        free(h_block[i]); /* deferred: the thread is inside malloc's slow path */
    fired = 1;
}

int main(void)
{
    sil_install(SIGUSR1, handler,
                "alloc_signal: the handler's allocation hung (deadlock under the arena lock)\n");

    moved_victim = malloc(60 * 1024);
    CHECK_NONNULL(moved_victim);
    memset(moved_victim, 0x5a, 60 * 1024);
    struct arena *home = sil_arena_of(moved_victim);
    CHECK_NONNULL(home);

    /* Large blocks until one needs a fresh chunk, whose mmap raises the signal. */
    enum { NFILL = 64 };
    void *fill[NFILL];
    int nfill = sil_fill_until_signal(SIGUSR1, &fired, fill, NFILL, LARGE_MAX);
    CHECK_MSG(fired, "no chunk was mapped under an arena lock in %d large mallocs", nfill);
    CHECK_MSG(sil_locked == home, "the lock held was not the thread's arena's");

    /* Inside the handler: the thread's lock was counted, and every
     * allocation came from another arena. */
    CHECK_U(h_depth, >, 0);
    for (int i = 0; i < NOUT; i++) {
        CHECK_MSG(h_block[i] != NULL, "the handler's allocation %d (%zu bytes) failed", i,
                  out_size[i]);
        CHECK_MSG(h_arena[i] != NULL && h_arena[i] != sil_locked,
                  "the handler's block %d came from the locked arena", i);
    }
    CHECK_MSG(h_kept, "the handler's realloc lost the block's bytes");
    /* The interrupted malloc has returned: nothing held, nothing deferred. */
    CHECK_U(lock_depth, ==, 0);
    CHECK_U(defer_tls.depth, ==, 0);
    CHECK_MSG(defer_tls.list == NULL, "blocks left on the deferred list");
    CHECK_U(arenas_locked(), ==, 0);

    for (int i = 0; i < nfill; i++)
        free(fill[i]);
    /* The arena that was locked works as before. */
    void *again = malloc(out_size[0]);
    CHECK_NONNULL(again);
    memset(again, 1, out_size[0]);
    free(again);
    printf("ok: %d large mallocs, 3 allocations and a realloc in a handler under the arena lock\n",
           nfill);
    return 0;
}
