/*
 * sh6bench: batches of sizes freed in different orders (sh6bench-like).
 * Each thread, per round, allocates a batch of blocks whose sizes cycle
 * through 1..MAXSZ in a fixed step, then frees the batch either forward,
 * backward, or every other block forward and the rest backward (the order
 * rotates round by round). Then it allocates a second, smaller batch of
 * sizes cycling downwards and frees it the other way. Stresses free-list
 * order (LIFO reuse vs address order), slab fill/empty transitions and
 * purging of emptied slabs.
 *
 * Usage: sh6bench [threads=2] [scale=1]. Total work is split among threads.
 */
#include "shapes.h"

#define BASE_ROUNDS 10800ull
#define BATCH 4000
#define MAXSZ 1000
#define STEP 7

static void free_batch(unsigned char **b, size_t n, unsigned order, uint64_t *h)
{
	switch (order % 3) {
	case 0:
		for (size_t i = 0; i < n; i++)
			*h += b[i][0], free(b[i]);
		break;
	case 1:
		for (size_t i = n; i-- > 0;)
			*h += b[i][0], free(b[i]);
		break;
	default:
		for (size_t i = 0; i < n; i += 2)
			*h += b[i][0], free(b[i]);
		for (size_t i = n; i-- > 0;)
			if (i & 1)
				*h += b[i][0], free(b[i]);
		break;
	}
}

static void *run(void *arg)
{
	struct bench_worker *w = arg;
	unsigned char **b = xmalloc(sizeof(*b) * BATCH);
	size_t sz = 1 + (size_t)(w->seed % MAXSZ);
	uint64_t h = 0;

	for (uint64_t round = 0; round < w->ops; round++) {
		for (size_t i = 0; i < BATCH; i++) {
			sz = sz + STEP > MAXSZ ? sz + STEP - MAXSZ : sz + STEP;
			b[i] = xmalloc(sz);
			b[i][0] = (unsigned char)(i + round);
		}
		free_batch(b, BATCH, (unsigned)round, &h);
		for (size_t i = 0; i < BATCH / 4; i++) {
			sz = sz > STEP ? sz - STEP : sz + MAXSZ - STEP;
			b[i] = xmalloc(sz);
			b[i][0] = (unsigned char)(i ^ round);
		}
		free_batch(b, BATCH / 4, (unsigned)round + 1, &h);
	}
	free(b);
	w->checksum = h;
	return NULL;
}

int main(int argc, char **argv)
{
	return shape_main(argc, argv, "sh6bench", BASE_ROUNDS, run);
}
