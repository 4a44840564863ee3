/*
 * prof_stats: opt.prof_stats. Per size class, the sampled allocations
 * that are live and that were ever sampled, as jemalloc's prof_stats_t
 * {uint64_t req_sum (requested bytes), uint64_t count}: raw sample counts,
 * not unbiased estimates (at lg_prof_sample:0 every allocation is a
 * sample, so they are exact). Read through prof.stats.bins.<j>.{live,accum}
 * (j < arenas.nbins) and prof.stats.lextents.<j>.{live,accum}
 * (j < arenas.nlextents); ENOENT unless prof:true and prof_stats:true.
 * prof.reset does not clear them (as in jemalloc). One mutex; updated only
 * on sampled allocations and frees.
 */
#ifndef PROF_STATS_H
#define PROF_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Large classes, numbered as arenas.lextent.<j>.size numbers them (= arenas.nlextents). */
#define PROF_STATS_NLEXTENTS 188

/* jemalloc's prof_stats_t. */
struct prof_stats {
    uint64_t req_sum; /* requested bytes */
    uint64_t count;   /* allocations */
};

/* A sampled block of usable size usize, requested size bytes, was allocated / freed. */
void prof_stats_inc(size_t usize, size_t size);
void prof_stats_dec(size_t usize, size_t size);
/* Counters of small class j (lextent false) or large class j (true); 0 or ENOENT. */
int prof_stats_get(bool lextent, unsigned j, bool accum, struct prof_stats *out);

void prof_stats_prefork(void);
void prof_stats_postfork_parent(void);
void prof_stats_postfork_child(void);

#endif
