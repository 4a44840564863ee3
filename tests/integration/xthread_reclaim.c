/*
 * xthread_reclaim: blocks freed by a thread other than the one that
 * allocated them come back without a background thread (issue 11.1). Three
 * producers hand batches of small (3000 to 30000 B), large (100 KB, page
 * runs) and huge (1.5 MiB) blocks to the main thread, which frees them all:
 *   - one producer has exited by then (its pages are abandoned),
 *   - one stays alive but blocked on a condition variable (never runs again
 *     until the end),
 *   - one stays alive and keeps allocating another size (idle in the
 *     handed-over classes).
 * The producers run at the same time, so they sit in different arenas. The
 * main thread then does light allocation activity for dirty_decay_ms + 1 s
 * (500 ms, pinned in xthread_reclaim.conf with background_thread off) and
 * stats.active must be within 8 MiB of stats.allocated, and the process RSS
 * within 24 MiB of what it was before the batches (~200 MB went through).
 * On a loaded machine the idle producer and the ticks run less often in
 * that time: the activity goes on (checked every 20 ms) until both hold,
 * 30 s at most; unloaded they hold after the 1.5 s.
 */
#include "check.h"

#include <pthread.h>

#define MiB ((size_t)1 << 20)

static const size_t sizes[] = {3000, 9000, 20000, 30000, 100000, 1536 * 1024};
static const int counts[] = {1000, 600, 400, 300, 120, 6};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))
#define MAXN 1000

enum kind { EXITS, BLOCKED, IDLE, NKINDS };
struct producer {
    enum kind kind;
    void *blocks[NSIZES][MAXN];
    pthread_t thread;
    unsigned arena; /* thread.arena of the producer */
};
static struct producer prods[NKINDS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int produced, release_all;

static void epoch(void)
{
    uint64_t e = 1;
    size_t sz = sizeof(e);
    CHECK_I(mallctl("epoch", &e, &sz, &e, sizeof(e)), ==, 0);
}

static size_t read_size(const char *name)
{
    size_t v = 0, sz = sizeof(v);
    CHECK_I(mallctl(name, &v, &sz, NULL, 0), ==, 0);
    return v;
}

static void *producer(void *arg)
{
    struct producer *p = arg;
    size_t asz = sizeof(p->arena);
    /* Spread the producers over arenas explicitly (the least-loaded choice
     * may put them all in one when they start at once). */
    unsigned narenas = 0;
    CHECK_I(mallctl("arenas.narenas", &narenas, &asz, NULL, 0), ==, 0);
    unsigned want = narenas > 1 ? (unsigned)p->kind % narenas : 0;
    CHECK_I(mallctl("thread.arena", NULL, NULL, &want, sizeof(want)), ==, 0);
    CHECK_I(mallctl("thread.arena", &p->arena, &asz, NULL, 0), ==, 0);
    for (size_t s = 0; s < NSIZES; s++)
        for (int i = 0; i < counts[s]; i++) {
            p->blocks[s][i] = malloc(sizes[s]);
            CHECK_NONNULL(p->blocks[s][i]);
            memset(p->blocks[s][i], 0x5c, sizes[s]);
        }
    pthread_mutex_lock(&mu);
    produced++;
    pthread_cond_broadcast(&cv);
    if (p->kind == BLOCKED)
        while (!release_all)
            pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    if (p->kind == IDLE) {
        /* Alive and allocating, but only a size it never handed over. */
        for (;;) {
            pthread_mutex_lock(&mu);
            int done = release_all;
            pthread_mutex_unlock(&mu);
            if (done)
                break;
            free(tl_opaque(malloc(tl_opaque_size(200))));
            usleep(20000);
        }
    }
    return NULL;
}

int main(void)
{
    tl_require_liballoc();
    bool bg = true;
    size_t bsz = sizeof(bg);
    CHECK_I(mallctl("background_thread", &bg, &bsz, NULL, 0), ==, 0);
    CHECK_MSG(!bg, "this test needs background_thread:false (xthread_reclaim.conf)");
    free(tl_opaque(malloc(tl_opaque_size(64))));
    size_t rss0 = tl_rss();
    for (int k = 0; k < NKINDS; k++) {
        prods[k].kind = (enum kind)k;
        CHECK_I(pthread_create(&prods[k].thread, NULL, producer, &prods[k]), ==, 0);
    }
    pthread_mutex_lock(&mu);
    while (produced < NKINDS)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    CHECK_I(pthread_join(prods[EXITS].thread, NULL), ==, 0);
    CHECK_MSG(prods[0].arena != prods[1].arena || prods[1].arena != prods[2].arena,
              "the producers all use arena %u: the test wants several arenas", prods[0].arena);
    epoch();
    size_t peak_active = read_size("stats.active");
    CHECK_MSG(peak_active > 100 * MiB, "stats.active %zu MiB while ~200 MB is live", peak_active >> 20);
    /* The main thread frees every block of every producer. */
    for (int k = 0; k < NKINDS; k++)
        for (size_t s = 0; s < NSIZES; s++)
            for (int i = 0; i < counts[s]; i++)
                free(prods[k].blocks[s][i]);
    /* Ordinary light activity for dirty_decay_ms + 1 s, then until the
     * checks below hold (30 s at most). */
    double t0 = tl_now();
    size_t allocated, active, rss;
    for (;;) {
        free(tl_opaque(malloc(tl_opaque_size(500))));
        usleep(20000);
        if (tl_now() - t0 < 1.5)
            continue;
        epoch();
        allocated = read_size("stats.allocated");
        active = read_size("stats.active");
        rss = tl_rss();
        if ((active <= allocated + 8 * MiB && rss <= rss0 + 24 * MiB) || tl_now() - t0 >= 30)
            break;
    }
    printf("peak active %zu MiB; after %.1f s: allocated %zu KiB, active %zu KiB, RSS %zu MiB "
           "(before %zu MiB)\n",
           peak_active >> 20, tl_now() - t0, allocated >> 10, active >> 10, rss >> 20, rss0 >> 20);
    CHECK_MSG(active <= allocated + 8 * MiB,
              "stats.active %zu KiB stays far above stats.allocated %zu KiB: remote frees not reclaimed",
              active >> 10, allocated >> 10);
    CHECK_MSG(rss <= rss0 + 24 * MiB, "RSS %zu MiB, was %zu MiB before the batches: not given back",
              rss >> 20, rss0 >> 20);
    pthread_mutex_lock(&mu);
    release_all = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    CHECK_I(pthread_join(prods[BLOCKED].thread, NULL), ==, 0);
    CHECK_I(pthread_join(prods[IDLE].thread, NULL), ==, 0);
    printf("ok\n");
    return 0;
}
