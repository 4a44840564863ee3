/*
 * epoch_decay: a process that goes quiet after a burst and only reads its
 * stats gets the burst back on schedule (epoch_decay.conf: dirty_decay_ms
 * 2000, muzzy 0, no background thread). A worker thread allocates ~41 MiB
 * of 14 KB blocks and exits; the main thread frees them all (remote frees
 * into an exited thread's pages, as ../shared/cases/orphan_frees.c), then
 * makes no allocator call for 2.5 s (more than the decay time): nothing
 * purges meanwhile, no thread ticks. (The decay time is long beside the
 * free loop, so the loop's own ticks purge little of the burst even on a
 * loaded machine: at 300 ms a slow loop had purged most of it already.) Then an "epoch" write: it runs what
 * the decay schedules make due (decay_due_all), so right after it the RSS
 * and stats.resident are down to a few MiB. Before, the epoch only
 * refreshed the stats: the RSS stayed at ~45 MiB until some thread
 * allocated again. The RSS is read without allocating (tl_rss_noalloc).
 */
#include "check.h"

#include <pthread.h>

#define COUNT 3000
#define SIZE 14000
#define MiB ((size_t)1 << 20)

static void *blocks[COUNT];

static void *worker(void *arg)
{
    for (int i = 0; i < COUNT; i++) {
        blocks[i] = malloc(SIZE);
        CHECK_NONNULL(blocks[i]);
        memset(blocks[i], 0x5c, SIZE);
    }
    return arg;
}

static void epoch(void)
{
    uint64_t e = 1;
    size_t sz = sizeof(e);
    CHECK_I(mallctl("epoch", &e, &sz, &e, sizeof(e)), ==, 0);
}

/* One burst: allocated by a worker that exits, freed here, then 2.5 s with
 * no allocator call and an epoch. Fills the RSS readings. */
static void burst(size_t *before, size_t *freed, size_t *quiet, size_t *after)
{
    pthread_t t;
    CHECK_I(pthread_create(&t, NULL, worker, NULL), ==, 0);
    CHECK_I(pthread_join(t, NULL), ==, 0);
    *before = tl_rss_noalloc();
    for (int i = 0; i < COUNT; i++)
        free(blocks[i]);
    *freed = tl_rss_noalloc();
    /* Quiet: no allocator call at all. */
    struct timespec ts = {2, 500000000};
    while (nanosleep(&ts, &ts) != 0)
        ;
    *quiet = tl_rss_noalloc();
    epoch();
    *after = tl_rss_noalloc();
}

int main(void)
{
    tl_require_liballoc();
    tl_require_dirty_decay_ms(2000, "epoch_decay.conf");
    /* The epoch has something to give back only if the free loop's own
     * decay ticks left 20 MiB of the burst: on this shared VM a loop slowed
     * by the host now and then purges most of it already (the wave rule,
     * decay.h), in about one run in ten. Such a run tests nothing: up to
     * three bursts, until one leaves the epoch its work. */
    size_t before, freed, quiet, after;
    for (int tries = 0;; tries++) {
        burst(&before, &freed, &quiet, &after);
        printf("rss MiB: with the blocks %.1f, freed %.1f, after 2.5 s quiet %.1f, after epoch %.1f\n",
               (double)before / MiB, (double)freed / MiB, (double)quiet / MiB, (double)after / MiB);
        if (quiet >= 22 * MiB || tries == 2)
            break;
    }
    size_t resident = 0, sz = sizeof(resident);
    CHECK_I(mallctl("stats.resident", &resident, &sz, NULL, 0), ==, 0);
    printf("stats.resident %.1f MiB\n", (double)resident / MiB);
    CHECK_U(before, >=, 35 * MiB); /* the burst was resident */
    CHECK_U(after + 20 * MiB, <=, quiet); /* the epoch gave it back (~32 MiB here)... */
    CHECK_U(after, <=, 12 * MiB);         /* ...nearly all of it */
    CHECK_U(resident, <=, 8 * MiB);
    printf("PASS\n");
    return 0;
}
