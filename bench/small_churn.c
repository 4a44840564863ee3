/*
 * small_churn: single-thread churn of many small, short-lived objects
 * (cfrac-like: a bignum program creating and dropping temporaries).
 *
 * Stresses: the malloc/free fast path for 8-256 B, LIFO-ish reuse (the object
 * freed is usually the newest one, sometimes one of the top 16), plus a small
 * ring of longer-lived objects so lifetimes are mixed. Every object is fully
 * written on allocation and read on free.
 *
 * Usage: small_churn [threads=1] [scale=1]. With threads > 1 the same total
 * work is split across independent workers (no sharing between them).
 */
#include "bench_common.h"

#include <pthread.h>

#define STACK_CAP 4096 /* max temporaries alive in one worker */
#define RING 1024      /* longer-lived objects per worker */
#define BASE_OPS 50000000ull

struct obj {
	unsigned char *p; /* the block */
	uint32_t size;    /* its requested size */
};

/* 8..256 B, skewed towards the small end like bignum digit arrays. */
static uint32_t small_size(struct rng *r)
{
	uint64_t x = rng_next(r);
	switch (x & 15) {
	case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7:
		return 8 + (uint32_t)((x >> 8) % 25); /* 8..32 */
	case 8: case 9: case 10: case 11: case 12:
		return 33 + (uint32_t)((x >> 8) % 64); /* 33..96 */
	case 13: case 14:
		return 97 + (uint32_t)((x >> 8) % 96); /* 97..192 */
	default:
		return 193 + (uint32_t)((x >> 8) % 64); /* 193..256 */
	}
}

static uint64_t release(struct obj o)
{
	uint64_t v = o.p[0] + ((uint64_t)o.p[o.size - 1] << 8) + o.size;
	free(o.p);
	return v;
}

static void *run(void *arg)
{
	struct bench_worker *w = arg;
	struct rng r = rng_seed(w->seed);
	struct obj *stack = xmalloc(sizeof(*stack) * STACK_CAP);
	struct obj ring[RING];
	size_t sp = 0;
	uint64_t h = 0, sum = 0;

	memset(ring, 0, sizeof(ring));
	for (uint64_t i = 0; i < w->ops; i++) {
		uint64_t op = rng_next(&r) & 15;
		if (sp < 8 || (op < 7 && sp < STACK_CAP)) {
			struct obj o;
			o.size = small_size(&r);
			o.p = xmalloc(o.size);
			memset(o.p, (int)(i & 0xff), o.size);
			if ((i & 63) == 0) { /* a longer-lived result */
				size_t k = rng_below(&r, RING);
				if (ring[k].p)
					sum += release(ring[k]);
				ring[k] = o;
			} else {
				stack[sp++] = o;
			}
		} else if (op < 14) { /* drop the newest temporary */
			sum += release(stack[--sp]);
		} else { /* drop one of the 16 newest */
			size_t back = rng_below(&r, sp < 16 ? sp : 16);
			struct obj t = stack[sp - 1 - back];
			stack[sp - 1 - back] = stack[sp - 1];
			sp--;
			sum += release(t);
		}
		if ((i & 0xfffff) == 0)
			h = mix(h, sum);
	}
	while (sp)
		sum += release(stack[--sp]);
	for (size_t k = 0; k < RING; k++)
		if (ring[k].p)
			sum += release(ring[k]);
	free(stack);
	w->checksum = mix(h, sum);
	return NULL;
}

int main(int argc, char **argv)
{
	struct bench_args a = bench_parse(argc, argv, 1);
	double t0 = now_sec();
	uint64_t h = bench_run_workers(a.threads, bench_scaled(BASE_OPS, a.scale), 1000, run);
	bench_report("small_churn", h, now_sec() - t0);
	return 0;
}
