/*
 * alloc_test: random sizes over a large live array (alloc-test-like).
 * Each thread owns an array of 8192 slots and, at every step, frees a
 * random slot and refills it with a block whose size is log-uniform in
 * 8 B..32 KiB (as many 8..64 B blocks as 4..32 KiB ones), writing the
 * first and last 8 bytes. The live set is ~5 MiB per thread, spread over
 * most size classes, so this measures size-class spread, slab turnover and
 * page reuse more than the fast path.
 *
 * Usage: alloc_test [threads=2] [scale=1]. Total work is split among
 * threads.
 */
#include "shapes.h"

#define BASE_OPS 8000000ull
#define SLOTS 8192

/* Log-uniform size in [8, 32768]. */
static size_t pick(struct rng *r)
{
	unsigned lg = 3 + (unsigned)rng_below(r, 12); /* 2^3 .. 2^14 */
	return ((size_t)1 << lg) + (size_t)rng_below(r, (uint64_t)1 << lg);
}

static void *run(void *arg)
{
	struct bench_worker *w = arg;
	struct rng r = rng_seed(w->seed);
	unsigned char **slot = calloc(SLOTS, sizeof(*slot));
	size_t *len = calloc(SLOTS, sizeof(*len));
	uint64_t h = 0;

	for (uint64_t i = 0; i < w->ops; i++) {
		size_t k = (size_t)rng_below(&r, SLOTS);
		if (slot[k]) {
			uint64_t v;
			memcpy(&v, slot[k] + len[k] - 8, 8);
			h += v;
			free(slot[k]);
		}
		len[k] = pick(&r);
		slot[k] = xmalloc(len[k]);
		memcpy(slot[k], &i, 8);
		memcpy(slot[k] + len[k] - 8, &i, 8);
	}
	for (size_t k = 0; k < SLOTS; k++)
		free(slot[k]);
	free(slot);
	free(len);
	w->checksum = h;
	return NULL;
}

int main(int argc, char **argv)
{
	return shape_main(argc, argv, "alloc_test", BASE_OPS, run);
}
