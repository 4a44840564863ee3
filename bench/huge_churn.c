/*
 * huge_churn: huge allocations, 5..25 MiB (uniform), at most 16 live, a
 * random one replaced each step. Every page of a new block is written and
 * the block's first/last bytes are read back before it is freed.
 *
 * Stresses: the huge-block path (mapping, caching and purging whole 2 MiB
 * units), and the peak RSS that freed huge blocks hold while new ones are
 * faulted in: live bytes average 16 x 15 MiB = 240 MiB, so anything above
 * that is pages the allocator kept (or rounding) at the worst moment.
 * Prints "peak_live_kb=", the most bytes live at once (the floor).
 *
 * Usage: huge_churn [threads=1] [scale=1]. With threads > 1 the same total
 * work is split across independent workers with 16 slots each.
 * HUGE_CHURN_LIVE=n (1..LIVE_MAX, default 16): n slots per worker instead,
 * for churns with more or fewer live blocks (the bench row keeps 16).
 */
#include "bench_common.h"

#include <pthread.h>
#include <stdatomic.h>

#define LIVE_DEFAULT 16
#define LIVE_MAX 4096
#define MIN_SIZE (5ull << 20)
#define MAX_SIZE (25ull << 20)
#define BASE_STEPS 600ull

static _Atomic uint64_t live_bytes; /* bytes the workers hold now */
static _Atomic uint64_t peak_live;  /* the most they held at once */
static size_t live = LIVE_DEFAULT;  /* slots per worker (HUGE_CHURN_LIVE) */

/* Counts n bytes more (or less) live, keeping the peak. */
static void live_add(int64_t n)
{
	uint64_t now = atomic_fetch_add(&live_bytes, (uint64_t)n) + (uint64_t)n;
	uint64_t old = atomic_load(&peak_live);
	while (now > old && !atomic_compare_exchange_weak(&peak_live, &old, now))
		;
}

static void *run(void *arg)
{
	struct bench_worker *w = arg;
	struct rng r = rng_seed(w->seed);
	unsigned char *p[LIVE_MAX] = { 0 };
	size_t n[LIVE_MAX] = { 0 };
	uint64_t sum = 0;

	for (uint64_t i = 0; i < w->ops; i++) {
		size_t k = rng_below(&r, live);
		if (p[k]) {
			sum = mix(sum, p[k][0] + ((uint64_t)p[k][n[k] - 1] << 8) + n[k]);
			free(p[k]);
			live_add(-(int64_t)n[k]);
		}
		n[k] = (size_t)rng_range(&r, MIN_SIZE, MAX_SIZE);
		p[k] = xmalloc(n[k]);
		live_add((int64_t)n[k]);
		touch_pages(p[k], n[k], (unsigned char)(i + 1));
	}
	for (size_t k = 0; k < live; k++)
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
	const char *env = getenv("HUGE_CHURN_LIVE");
	if (env) {
		char *end;
		long v = strtol(env, &end, 10);
		if (*env == '\0' || *end != '\0' || v < 1 || v > LIVE_MAX) {
			fprintf(stderr, "huge_churn: HUGE_CHURN_LIVE=%s: not in 1..%d\n", env, LIVE_MAX);
			return 2;
		}
		live = (size_t)v;
	}
	double t0 = now_sec();
	uint64_t h = bench_run_workers(a.threads, bench_scaled(BASE_STEPS, a.scale), 9000, run);
	/* The floor for any allocator's peak RSS (plus the program's own). */
	printf("peak_live_kb=%llu\n", (unsigned long long)(atomic_load(&peak_live) >> 10));
	bench_report("huge_churn", h, now_sec() - t0);
	return 0;
}
