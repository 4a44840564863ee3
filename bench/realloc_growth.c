/*
 * realloc_growth: strings and vectors grown with realloc, then freed.
 * 64 buffers grow at once, a random one advancing each step, so a block can
 * seldom grow in place just because it is the last thing allocated:
 *  - 3 in 4 are "strings" grown by small increments (1..32 B, realloc to the
 *    exact new length) up to 256 B..64 KiB;
 *  - 1 in 4 are "vectors" appended in 64 B..1 KiB chunks with the capacity
 *    doubled when full, up to 1 KiB..4 MiB.
 * A finished buffer is checked and freed and a new one starts in its place.
 *
 * Stresses: realloc within a size class (should be free), across classes
 * (copy cost and size-class rounding), small-to-large transitions, large
 * realloc (mremap or copy), and the memory left behind by growth.
 *
 * Usage: realloc_growth [threads=1] [scale=1]. With threads > 1 the same
 * total work is split across independent workers.
 */
#include "bench_common.h"

#include <pthread.h>

#define INFLIGHT 64
#define BASE_STEPS 16000000ull

struct buf {
	unsigned char *p; /* the block */
	size_t len;       /* bytes used */
	size_t cap;       /* bytes allocated (vectors) or len (strings) */
	size_t target;    /* length at which it is finished */
	int vector;       /* grows by doubling */
};

/* Log-uniform in [lo, hi]. */
static size_t log_uniform(struct rng *r, unsigned lo_log2, unsigned hi_log2)
{
	unsigned e = lo_log2 + (unsigned)rng_below(r, hi_log2 - lo_log2);
	size_t lo = (size_t)1 << e;
	return lo + rng_below(r, lo);
}

static void start(struct buf *b, struct rng *r)
{
	b->vector = rng_below(r, 4) == 0;
	b->target = b->vector ? log_uniform(r, 10, 22) : log_uniform(r, 8, 16);
	b->len = 0;
	b->cap = b->vector ? 64 : 16;
	b->p = xmalloc(b->cap);
}

static uint64_t finish(struct buf *b)
{
	uint64_t v = b->p[0] + ((uint64_t)b->p[b->len / 2] << 8) + ((uint64_t)b->p[b->len - 1] << 16);
	v += b->len;
	free(b->p);
	b->p = NULL;
	return v;
}

static void *grow_realloc(void *p, size_t n)
{
	void *q = realloc(p, n);
	if (!q) {
		fprintf(stderr, "realloc_growth: realloc(%zu) failed\n", n);
		exit(3);
	}
	return q;
}

static void step(struct buf *b, struct rng *r, uint64_t i)
{
	if (b->vector) {
		size_t chunk = (size_t)rng_range(r, 64, 1024);
		if (b->len + chunk > b->cap) {
			while (b->len + chunk > b->cap)
				b->cap *= 2;
			b->p = grow_realloc(b->p, b->cap);
		}
		memset(b->p + b->len, (int)(i & 0xff), chunk);
		b->len += chunk;
	} else {
		size_t inc = (size_t)rng_range(r, 1, 32);
		b->p = grow_realloc(b->p, b->len + inc);
		memset(b->p + b->len, (int)(i & 0xff), inc);
		b->len += inc;
		b->cap = b->len;
	}
}

static void *run(void *arg)
{
	struct bench_worker *w = arg;
	struct rng r = rng_seed(w->seed);
	struct buf bufs[INFLIGHT];
	uint64_t sum = 0;

	for (int k = 0; k < INFLIGHT; k++)
		start(&bufs[k], &r);
	for (uint64_t i = 0; i < w->ops; i++) {
		struct buf *b = &bufs[rng_below(&r, INFLIGHT)];
		step(b, &r, i);
		if (b->len >= b->target) {
			sum = mix(sum, finish(b));
			start(b, &r);
		}
	}
	for (int k = 0; k < INFLIGHT; k++) {
		if (bufs[k].len)
			sum = mix(sum, finish(&bufs[k]));
		else
			free(bufs[k].p);
	}
	w->checksum = sum;
	return NULL;
}

int main(int argc, char **argv)
{
	struct bench_args a = bench_parse(argc, argv, 1);
	double t0 = now_sec();
	uint64_t h = bench_run_workers(a.threads, bench_scaled(BASE_STEPS, a.scale), 6000, run);
	bench_report("realloc_growth", h, now_sec() - t0);
	return 0;
}
