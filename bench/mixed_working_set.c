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

struct worker {
	uint64_t ops;      /* replacements to do */
	size_t slots;      /* slots owned */
	uint64_t seed;     /* RNG seed */
	uint64_t checksum; /* result */
	pthread_t tid;     /* thread running it */
};

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
	struct worker *w = arg;
	struct rng r = rng_seed(w->seed);
	struct slot *s = calloc(w->slots, sizeof(*s));
	uint64_t sum = 0;

	if (!s)
		exit(3);
	for (size_t i = 0; i < w->slots; i++) { /* fill the working set */
		s[i].size = mixed_size(&r);
		s[i].p = xmalloc(s[i].size);
		touch_lines(s[i].p, s[i].size, (unsigned char)i);
		s[i].p[s[i].size - 1] = (unsigned char)(i >> 8);
	}
	for (uint64_t i = 0; i < w->ops; i++) {
		size_t k = rng_below(&r, w->slots);
		sum += s[k].p[0] + s[k].p[s[k].size - 1];
		free(s[k].p);
		s[k].size = mixed_size(&r);
		s[k].p = xmalloc(s[k].size);
		touch_lines(s[k].p, s[k].size, (unsigned char)i);
		s[k].p[s[k].size - 1] = (unsigned char)(i >> 8);
	}
	for (size_t i = 0; i < w->slots; i++) {
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
	uint64_t total = bench_scaled(BASE_OPS, a.scale);
	struct worker *w = xmalloc(sizeof(*w) * a.threads);
	double t0 = now_sec();
	uint64_t h = 0;

	for (int i = 0; i < a.threads; i++) {
		w[i].ops = total / a.threads;
		w[i].slots = SLOTS_TOTAL / a.threads;
		w[i].seed = 2000 + i;
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
	bench_report("mixed_working_set", h, now_sec() - t0);
	return 0;
}
