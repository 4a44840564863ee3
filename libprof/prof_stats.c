/* prof_stats: per-size-class counts of sampled allocations (see prof_stats.h). */
#include "prof_stats.h"
#include "options.h"
#include "prof_hooks.h"
#include "bss_large.h"

#include <errno.h>
#include <pthread.h>

/* Small classes, then the large ones: four per doubling from 40 KiB up to the size limit. */
#define PROF_STATS_NCLASSES (PROF_HOST_NSMALL + PROF_STATS_NLEXTENTS)

static pthread_mutex_t prof_stats_lock = PTHREAD_MUTEX_INITIALIZER;
static struct prof_stats live[PROF_STATS_NCLASSES] BSS_LARGE;  /* sampled blocks not yet freed */
static struct prof_stats accum[PROF_STATS_NCLASSES] BSS_LARGE; /* every sampled block */

/* Class index (small classes first) of a usable size, or -1. */
static int class_of(size_t usize)
{
    size_t u = prof_host_class_usize(usize); /* aligned requests may carry a non-class usize */
    if (u == 0)
        return -1;
    if (u <= prof_host_small_max())
        return (int)prof_host_small_index(u);
    /* u is in (base, 2 base] with base = 32 KiB << g, at base * (1 + (k+1)/4). */
    unsigned lg = 63 - (unsigned)__builtin_clzl(u - 1); /* floor(log2(u - 1)) */
    size_t base = (size_t)1 << lg;
    unsigned g = lg - 15, k = (unsigned)((u - base) / (base / 4)) - 1;
    unsigned j = 4 * g + k;
    return j < PROF_STATS_NLEXTENTS ? (int)(PROF_HOST_NSMALL + j) : -1;
}

void prof_stats_inc(size_t usize, size_t size)
{
    int c = class_of(usize);
    if (c < 0)
        return;
    pthread_mutex_lock(&prof_stats_lock);
    live[c].req_sum += size;
    live[c].count++;
    accum[c].req_sum += size;
    accum[c].count++;
    pthread_mutex_unlock(&prof_stats_lock);
}

void prof_stats_dec(size_t usize, size_t size)
{
    int c = class_of(usize);
    if (c < 0)
        return;
    pthread_mutex_lock(&prof_stats_lock);
    if (live[c].count > 0) {
        live[c].req_sum -= size;
        live[c].count--;
    }
    pthread_mutex_unlock(&prof_stats_lock);
}

int prof_stats_get(bool lextent, unsigned j, bool want_accum, struct prof_stats *out)
{
    if (!opt.prof || !opt.prof_stats)
        return ENOENT;
    if (lextent ? j >= PROF_STATS_NLEXTENTS : j >= PROF_HOST_NSMALL)
        return ENOENT;
    unsigned c = lextent ? PROF_HOST_NSMALL + j : j;
    pthread_mutex_lock(&prof_stats_lock);
    *out = want_accum ? accum[c] : live[c];
    pthread_mutex_unlock(&prof_stats_lock);
    return 0;
}

void prof_stats_prefork(void)
{
    pthread_mutex_lock(&prof_stats_lock);
}

void prof_stats_postfork_parent(void)
{
    pthread_mutex_unlock(&prof_stats_lock);
}

void prof_stats_postfork_child(void)
{
    pthread_mutex_init(&prof_stats_lock, NULL);
}
