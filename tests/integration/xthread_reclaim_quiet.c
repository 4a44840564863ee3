/*
 * xthread_reclaim_quiet: memory handed to another thread comes back as it
 * is freed, with no activity at all afterwards (issue 11.1). For each of
 * six sizes (3000 to 30000 B), one producer allocates 1500 blocks and
 * exits, and another allocates 1500 blocks and then blocks on a condition
 * variable until the end; the main thread frees every block. Right after
 * the frees, with no allocation, tick or background thread in between,
 * stats.active must be within 8 MiB of stats.allocated (~150 MB went
 * through): pages of exited owners return with their last free, and full
 * pages of owners that stopped allocating are taken from them as they are
 * freed into.
 */
#include "check.h"

#include <pthread.h>

#define MiB   ((size_t)1 << 20)
#define COUNT 1500

static const size_t sizes[] = {3000, 5750, 8500, 11250, 14000, 30000};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

struct producer {
    size_t size;
    bool blocks_forever;
    void *blocks[COUNT];
    pthread_t thread;
};
static struct producer prods[2 * NSIZES];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int produced, release_all;

static size_t read_size(const char *name)
{
    size_t v = 0, sz = sizeof(v);
    CHECK_I(mallctl(name, &v, &sz, NULL, 0), ==, 0);
    return v;
}

static void *producer(void *arg)
{
    struct producer *p = arg;
    for (int i = 0; i < COUNT; i++) {
        p->blocks[i] = malloc(p->size);
        CHECK_NONNULL(p->blocks[i]);
        memset(p->blocks[i], 0x3a, p->size);
    }
    pthread_mutex_lock(&mu);
    produced++;
    pthread_cond_broadcast(&cv);
    if (p->blocks_forever)
        while (!release_all)
            pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return NULL;
}

int main(void)
{
    tl_require_liballoc();
    bool bg = true;
    size_t bsz = sizeof(bg);
    CHECK_I(mallctl("background_thread", &bg, &bsz, NULL, 0), ==, 0);
    CHECK_MSG(!bg, "this test needs background_thread:false (xthread_reclaim_quiet.conf)");
    for (size_t k = 0; k < 2 * NSIZES; k++) {
        prods[k].size = sizes[k / 2];
        prods[k].blocks_forever = k % 2;
        CHECK_I(pthread_create(&prods[k].thread, NULL, producer, &prods[k]), ==, 0);
        pthread_mutex_lock(&mu);
        while (produced < (int)k + 1)
            pthread_cond_wait(&cv, &mu);
        pthread_mutex_unlock(&mu);
        if (!prods[k].blocks_forever)
            CHECK_I(pthread_join(prods[k].thread, NULL), ==, 0);
    }
    uint64_t e = 1;
    size_t esz = sizeof(e);
    CHECK_I(mallctl("epoch", &e, &esz, &e, sizeof(e)), ==, 0);
    size_t peak = read_size("stats.active");
    CHECK_MSG(peak > 100 * MiB, "stats.active %zu MiB while ~150 MB is live", peak >> 20);
    for (size_t k = 0; k < 2 * NSIZES; k++)
        for (int i = 0; i < COUNT; i++)
            free(prods[k].blocks[i]);
    CHECK_I(mallctl("epoch", &e, &esz, &e, sizeof(e)), ==, 0);
    size_t allocated = read_size("stats.allocated"), active = read_size("stats.active");
    printf("peak active %zu MiB; right after the frees: allocated %zu KiB, active %zu KiB\n",
           peak >> 20, allocated >> 10, active >> 10);
    CHECK_MSG(active <= allocated + 8 * MiB,
              "stats.active %zu KiB far above stats.allocated %zu KiB right after the frees",
              active >> 10, allocated >> 10);
    pthread_mutex_lock(&mu);
    release_all = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (size_t k = 1; k < 2 * NSIZES; k += 2)
        CHECK_I(pthread_join(prods[k].thread, NULL), ==, 0);
    printf("ok\n");
    return 0;
}
