/*
 * glibc_thread: tight malloc/free loop per thread (glibc-thread-like).
 * Each thread keeps a small array of live blocks; every step frees a random
 * slot and refills it with a random small size (mostly 16..256 B, one in 16
 * up to 4 KiB). The blocks are barely touched: this measures the
 * allocator's fast path and nothing else.
 *
 * Usage: glibc_thread [threads=2] [scale=1]. Total work is split among
 * threads.
 */
#include "shapes.h"

#define BASE_OPS 40000000ull
#define SLOTS 1024

static size_t pick(struct rng *r)
{
	uint64_t x = rng_next(r);
	if ((x & 15) == 0)
		return 257 + (size_t)((x >> 8) % 3840);
	return 16 + (size_t)((x >> 8) % 241);
}

static void *run(void *arg)
{
	struct bench_worker *w = arg;
	struct rng r = rng_seed(w->seed);
	unsigned char *slot[SLOTS] = { 0 };
	uint64_t h = 0;

	for (uint64_t i = 0; i < w->ops; i++) {
		size_t k = (size_t)rng_below(&r, SLOTS);
		if (slot[k]) {
			h += slot[k][0];
			free(slot[k]);
		}
		slot[k] = xmalloc(pick(&r));
		slot[k][0] = (unsigned char)i;
	}
	for (size_t k = 0; k < SLOTS; k++)
		free(slot[k]);
	w->checksum = h;
	return NULL;
}

int main(int argc, char **argv)
{
	return shape_main(argc, argv, "glibc_thread", BASE_OPS, run);
}
