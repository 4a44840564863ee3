/*
 * prof_tcache_foreign: a block that sits in an explicit tcache (tcache.create)
 * may lie on a page another thread's heap owns. Taken out through that tcache
 * by a thread whose allocation is sampled, the sample could not be moved off
 * that page (only blocks of the caller's own pages are relocated), and the
 * owner's free fast path never looks for samples on its unsampled pages: its
 * free of the block left the sample counted for good (64 of 64 here). Every
 * allocation is sampled (prof_tcache_foreign.conf: lg_prof_sample:0, each
 * sample one block), so the heap_v2 dump's totals must be exact:
 *   - thread X (main) puts 64 blocks of its own pages into the tcache;
 *   - thread Y allocates 64 blocks through it (all sampled): +64 objects;
 *   - X frees those 64 blocks with plain free: back to the count before.
 */
#include "check.h"
#include "prof_totals.h"

#include <pthread.h>
#include <stdbool.h>

#define N 64

static unsigned tc;
static void *got[N];

static void *take(void *arg)
{
    for (int i = 0; i < N; i++)
        CHECK_NONNULL(got[i] = mallocx(48, MALLOCX_TCACHE(tc)));
    return arg;
}

int main(void)
{
    char path[64];
    snprintf(path, sizeof(path), "/tmp/prof_tcache_foreign.%d.heap", (int)getpid());
    size_t sz = sizeof(tc);
    CHECK_I(mallctl("tcache.create", &tc, &sz, NULL, 0), ==, 0);
    /* A first thread, so that what a thread's start leaves allocated (its
     * C library's state) is in the baseline. */
    pthread_t t;
    CHECK(pthread_create(&t, NULL, take, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    for (int i = 0; i < N; i++)
        dallocx(got[i], MALLOCX_TCACHE(tc));
    CHECK_I(mallctl("tcache.flush", NULL, NULL, &tc, sizeof(tc)), ==, 0);
    long long o0, b0, o1, b1, o2, b2;
    prof_totals(path, &o0, &b0);

    /* X's own blocks, unsampled (its profiling paused), into the tcache. */
    void *mine[N];
    bool off = false, on = true;
    CHECK_I(mallctl("thread.prof.active", NULL, NULL, &off, sizeof(off)), ==, 0);
    for (int i = 0; i < N; i++)
        CHECK_NONNULL(mine[i] = malloc(48));
    CHECK_I(mallctl("thread.prof.active", NULL, NULL, &on, sizeof(on)), ==, 0);
    for (int i = 0; i < N; i++)
        dallocx(mine[i], MALLOCX_TCACHE(tc));

    CHECK(pthread_create(&t, NULL, take, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    prof_totals(path, &o1, &b1);
    CHECK_MSG(o1 - o0 == N, "after Y's %d sampled allocations: %lld objects more", N, o1 - o0);
    CHECK_MSG(b1 - b0 == N * 48, "after Y's allocations: %lld bytes more", b1 - b0);

    for (int i = 0; i < N; i++)
        free(got[i]);
    prof_totals(path, &o2, &b2);
    CHECK_MSG(o2 == o0 && b2 == b0, "after X freed them: %lld objects, %lld bytes in use (%lld, %lld before)",
              o2, b2, o0, b0);
    CHECK_I(mallctl("tcache.destroy", NULL, NULL, &tc, sizeof(tc)), ==, 0);
    printf("%d blocks through another thread's tcache: sampled, freed, counts back to %lld\n", N, o2);
    return 0;
}
