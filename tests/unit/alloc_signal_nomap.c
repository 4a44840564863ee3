/*
 * alloc_signal_nomap: a signal handler's large malloc while the thread it
 * interrupted holds its arena's lock (signal_in_lock.h's trigger), and the
 * kernel refuses the handler's mapping: the allocation goes to another
 * arena (lock_depth.h), which needs a chunk; when the mmap fails,
 * chunk_reclaim gives free huge runs of every arena back to the kernel
 * (huge_release) and tries again.
 *
 * Before the fix huge_release waited for every arena's lock, so the
 * handler waited for the one its own thread held, forever (the alarm fails
 * the test after 10 s). Now it skips an arena whose lock is busy there,
 * and the handler's malloc fails with ENOMEM (nothing to map from); the
 * thread's malloc and later ones work.
 */
#include "check.h"

#include "arena.h"
#include "lock_depth.h"
#include "signal_in_lock.h"

#include <errno.h>
#include <string.h>

const char *malloc_conf = "background_thread:false,narenas:4";

static volatile int fired, refuse;
static void *h_block = (void *)1;
static int h_errno;
static unsigned h_depth;
static int (*real_map)(size_t, void **);

static int refusing_map(size_t size, void **out)
{
    if (refuse)
        return ENOMEM;
    return real_map(size, out);
}

static void handler(int sig)
{
    (void)sig;
    h_depth = lock_depth;
    refuse = 1;
    errno = 0;
    h_block = malloc(100 * 1024);
    h_errno = errno;
    refuse = 0;
    fired = 1;
}

int main(void)
{
    sil_install(SIGUSR1, handler,
                "alloc_signal_nomap: the handler's malloc hung (huge_release under the arena lock)\n");
    real_map = os_ops.map;
    os_ops.map = refusing_map; /* sil_map wraps it */
    enum { NFILL = 64 };
    void *fill[NFILL];
    int nfill = sil_fill_until_signal(SIGUSR1, &fired, fill, NFILL, LARGE_MAX);
    os_ops.map = real_map;
    CHECK_MSG(fired, "no chunk was mapped under an arena lock in %d large mallocs", nfill);
    CHECK_U(h_depth, >, 0);
    CHECK_MSG(h_block == NULL, "the handler's malloc got %p with every mapping refused", h_block);
    CHECK_U(h_errno, ==, ENOMEM);
    CHECK_U(lock_depth, ==, 0);
    CHECK_U(arenas_locked(), ==, 0);
    for (int i = 0; i < nfill; i++)
        free(fill[i]);
    void *again = malloc(100 * 1024);
    CHECK_NONNULL(again);
    memset(again, 1, 100 * 1024);
    free(again);
    printf("ok: %d large mallocs; the handler's malloc failed with ENOMEM, no hang\n", nfill);
    return 0;
}
