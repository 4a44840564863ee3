/*
 * mixed_working_set: random sizes 8 B..32 KiB (skewed small) over a live
 * working set of ~50k slots, replaced at random (glibc-thread-like, but with a
 * larger and longer-lived working set).
 *
 * Stresses: size-class spread, fragmentation and page reuse with a ~28 MiB
 * live set, per-thread caches under random (not LIFO) lifetimes, and memory
 * that is actually touched (one write per 64 B line on allocation, a read on
 * free). With threads > 1 each thread owns 50k/threads slots and the total
 * work is split, so wall time measures scaling on the same amount of work.
 *
 * Usage: mixed_working_set [threads=1] [scale=1]
 */
#include "bench_common.h"

#include <pthread.h>

#define SLOTS_TOTAL 50000
#define BASE_OPS 30000000ull

/* Size classes by power of two from 8 B to 16 KiB (upper bound 32 KiB-1),
 * with weights in per mille: the mean request is about 560 B. */
static const uint16_t cum_weight[12] = {
	150, 350, 550, 700, 800, 870, 920, 950, 970, 985, 995, 1000,
};

static size_t slots_per_worker; /* each worker's share of SLOTS_TOTAL */

static size_t mixed_size(struct rng *r)
{
	uint64_t u = rng_below(r, 1000);
	int e = 0;
	while (u >= cum_weight[e])
		e++;
	size_t lo = (size_t)8 << e;
	return lo + rng_below(r, lo); /* [lo, 2*lo) */
}

struct slot {
	unsigned char *p; /* block or NULL */
	size_t size;      /* its size */
};

static void *run(void *arg)
{
	struct bench_worker *w = arg;
	struct rng r = rng_seed(w->seed);
	struct slot *s = calloc(slots_per_worker, sizeof(*s));
	uint64_t sum = 0;

	if (!s)
		exit(3);
	for (size_t i = 0; i < slots_per_worker; i++) { /* fill the working set */
		s[i].size = mixed_size(&r);
		s[i].p = xmalloc(s[i].size);
		touch_lines(s[i].p, s[i].size, (unsigned char)i);
		s[i].p[s[i].size - 1] = (unsigned char)(i >> 8);
	}
	for (uint64_t i = 0; i < w->ops; i++) {
		size_t k = rng_below(&r, slots_per_worker);
		sum += s[k].p[0] + s[k].p[s[k].size - 1];
		free(s[k].p);
		s[k].size = mixed_size(&r);
		s[k].p = xmalloc(s[k].size);
		touch_lines(s[k].p, s[k].size, (unsigned char)i);
		s[k].p[s[k].size - 1] = (unsigned char)(i >> 8);
	}
	for (size_t i = 0; i < slots_per_worker; i++) {
		sum += s[i].p[0];
		free(s[i].p);
	}
	free(s);
	w->checksum = sum;
	return NULL;
}

int main(int argc, char **argv)
{
	struct bench_args a = bench_parse(argc, argv, 1);
	slots_per_worker = SLOTS_TOTAL / (size_t)a.threads;
	double t0 = now_sec();
	uint64_t h = bench_run_workers(a.threads, bench_scaled(BASE_OPS, a.scale), 2000, run);
	bench_report("mixed_working_set", h, now_sec() - t0);
	return 0;
}
