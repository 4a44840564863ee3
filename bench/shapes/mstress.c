/*
 * mstress: mixed lifetimes, sizes and owners (mstress-like).
 * Work runs in ROUNDS rounds; each round starts `threads` fresh threads.
 * A thread keeps a private array of items and, at every step, either
 * allocates an item into a random slot (freeing what was there), frees a
 * random slot, or swaps a random slot with a random slot of a global
 * transfer array (one atomic exchange), so items migrate between threads
 * and outlive the thread that allocated them. Sizes: mostly 8..256 B, one
 * in 25 up to 16 KiB, one in 2000 64 KiB..1 MiB. Each item stores its size
 * and a stamp in its first words; whoever frees it checks them.
 * What a thread still holds at exit, half is freed and half is left in the
 * global array for the next round (abandoned memory).
 *
 * Usage: mstress [threads=2] [scale=1]. Total work is split among threads.
 */
#include "shapes.h"

#include <stdatomic.h>

#define BASE_STEPS 14000000ull
#define ROUNDS 10
#define DATA 2000      /* private slots per thread */
#define TRANSFER 1000  /* global transfer slots */

static _Atomic(uint64_t *) transfer[TRANSFER];

static size_t pick(struct rng *r)
{
	uint64_t x = rng_next(r);
	if (x % 2000 == 0)
		return 65536 + (size_t)((x >> 20) % (1024 * 1024 - 65536));
	if (x % 25 == 0)
		return 256 + (size_t)((x >> 20) % 16128);
	return 8 * (2 + (size_t)((x >> 20) % 31)); /* 16..256, 8-aligned */
}

static uint64_t *item_new(size_t n, uint64_t stamp)
{
	uint64_t *p = xmalloc(n);
	p[0] = n;
	p[1] = stamp ^ n;
	if (n >= 64)
		touch_lines((unsigned char *)(p + 2), n - 16, (unsigned char)stamp);
	return p;
}

static void item_free(uint64_t *p)
{
	if (!p)
		return;
	if (p[0] < 16 || p[0] > 1024 * 1024 || ((p[1] ^ p[0]) >> 40) != 0) {
		fprintf(stderr, "mstress: corrupted item %p\n", (void *)p);
		abort();
	}
	free(p);
}

static void *run(void *arg)
{
	struct bench_worker *w = arg;
	struct rng r = rng_seed(w->seed);
	uint64_t **data = calloc(DATA, sizeof(*data));
	uint64_t h = 0;

	for (uint64_t i = 0; i < w->ops; i++) {
		uint64_t x = rng_below(&r, 100);
		size_t k = (size_t)rng_below(&r, DATA);
		if (x < 50) {
			size_t n = pick(&r);
			item_free(data[k]);
			data[k] = item_new(n, i & 0xffffffffff);
			h += n;
		} else if (x < 75) {
			item_free(data[k]);
			data[k] = NULL;
		} else {
			size_t t = (size_t)rng_below(&r, TRANSFER);
			data[k] = atomic_exchange(&transfer[t], data[k]);
		}
	}
	for (size_t k = 0; k < DATA; k++) {
		if (k & 1)
			item_free(data[k]);
		else if (data[k])
			item_free(atomic_exchange(&transfer[(k / 2) % TRANSFER], data[k]));
	}
	free(data);
	w->checksum = h;
	return NULL;
}

int main(int argc, char **argv)
{
	struct bench_args a = bench_parse(argc, argv, 2);
	uint64_t total = bench_scaled(BASE_STEPS, a.scale), h = 0;
	double t0 = now_sec();

	for (int round = 0; round < ROUNDS; round++)
		h = mix(h, bench_run_workers(a.threads, total / ROUNDS, 1000 * (uint64_t)round, run));
	for (size_t t = 0; t < TRANSFER; t++)
		item_free(atomic_exchange(&transfer[t], NULL));
	bench_report("mstress", h, now_sec() - t0);
	return 0;
}
