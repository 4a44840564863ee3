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

struct worker {
	uint64_t steps;    /* replacements to do */
	uint64_t seed;     /* RNG seed */
	uint64_t checksum; /* result */
	pthread_t tid;     /* thread running it */
};

static size_t large_size(struct rng *r)
{
	unsigned e = 16 + (unsigned)rng_below(r, 8); /* 64 KiB .. 8 MiB */
	size_t lo = (size_t)1 << e;
	return lo + rng_below(r, lo); /* .. 16 MiB - 1 */
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct rng r = rng_seed(w->seed);
	unsigned char *p[LIVE] = { 0 };
	size_t n[LIVE] = { 0 };
	uint64_t sum = 0;

	for (uint64_t i = 0; i < w->steps; i++) {
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
	uint64_t total = bench_scaled(BASE_STEPS, a.scale);
	struct worker *w = xmalloc(sizeof(*w) * a.threads);
	double t0 = now_sec();
	uint64_t h = 0;

	for (int i = 0; i < a.threads; i++) {
		w[i].steps = total / a.threads;
		w[i].seed = 7000 + i;
		if (pthread_create(&w[i].tid, NULL, run, &w[i]) != 0) {
			perror("pthread_create");
			return 1;
		}
	}
	for (int i = 0; i < a.threads; i++) {
		pthread_join(w[i].tid, NULL);
		h = mix(h, w[i].checksum);
	}
	free(w);
	bench_report("large_blocks", h, now_sec() - t0);
	return 0;
}
