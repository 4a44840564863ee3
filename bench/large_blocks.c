/*
 * large_blocks: large allocations, 64 KiB..16 MiB (log-uniform), at most 20
 * live, a random one replaced each step. Every page of a new block is
 * written and the block's first/last bytes are read back before it is freed.
 *
 * Stresses: the large-object path (mmap/munmap vs caching), purge policy
 * (madvise churn and page-fault cost when freed pages are given back and
 * then touched again), and RSS held by cached large extents.
 *
 * Usage: large_blocks [threads=1] [scale=1]. With threads > 1 the same total
 * work is split across independent workers with 20 slots each.
 */
#include "bench_common.h"

#include <pthread.h>

#define LIVE 20
#define BASE_STEPS 8000ull

static size_t large_size(struct rng *r)
{
	unsigned e = 16 + (unsigned)rng_below(r, 8); /* 64 KiB .. 8 MiB */
	size_t lo = (size_t)1 << e;
	return lo + rng_below(r, lo); /* .. 16 MiB - 1 */
}

static void *run(void *arg)
{
	struct bench_worker *w = arg;
	struct rng r = rng_seed(w->seed);
	unsigned char *p[LIVE] = { 0 };
	size_t n[LIVE] = { 0 };
	uint64_t sum = 0;

	for (uint64_t i = 0; i < w->ops; i++) {
		size_t k = rng_below(&r, LIVE);
		if (p[k]) {
			sum = mix(sum, p[k][0] + ((uint64_t)p[k][n[k] - 1] << 8) + n[k]);
			free(p[k]);
		}
		n[k] = large_size(&r);
		p[k] = xmalloc(n[k]);
		touch_pages(p[k], n[k], (unsigned char)(i + 1));
	}
	for (size_t k = 0; k < LIVE; k++)
		if (p[k]) {
			sum = mix(sum, p[k][0] + n[k]);
			free(p[k]);
		}
	w->checksum = sum;
	return NULL;
}

int main(int argc, char **argv)
{
	struct bench_args a = bench_parse(argc, argv, 1);
	double t0 = now_sec();
	uint64_t h = bench_run_workers(a.threads, bench_scaled(BASE_STEPS, a.scale), 7000, run);
	bench_report("large_blocks", h, now_sec() - t0);
	return 0;
}
