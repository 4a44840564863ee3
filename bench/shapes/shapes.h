/*
 * shapes.h: what several shapes in bench/shapes share (bench_common.h has
 * the rest).
 */
#ifndef SHAPES_H
#define SHAPES_H

#include "../bench_common.h"

/* main of a shape that splits base * scale operations evenly over its
 * threads (bench_run_workers, seeds 1, 2, ...): parses `threads scale`,
 * runs, prints the checksum and the elapsed time. */
static inline int shape_main(int argc, char **argv, const char *name, uint64_t base,
                             void *(*run)(void *))
{
	struct bench_args a = bench_parse(argc, argv, 2);
	double t0 = now_sec();
	uint64_t h = bench_run_workers(a.threads, bench_scaled(base, a.scale), 1, run);
	bench_report(name, h, now_sec() - t0);
	return 0;
}

#define SCRIBBLE_OBJ 8     /* block size of the false-sharing shapes */
#define SCRIBBLE_WRITES 40 /* writes per block */

/* The false-sharing shapes' loop: n times, allocate a SCRIBBLE_OBJ-byte
 * block, write it SCRIBBLE_WRITES times (through volatile: every write
 * reaches the cache line) and free it. Returns a checksum of the bytes. */
static inline uint64_t scribble(uint64_t n)
{
	uint64_t h = 0;
	for (uint64_t i = 0; i < n; i++) {
		volatile unsigned char *p = xmalloc(SCRIBBLE_OBJ);
		for (int k = 0; k < SCRIBBLE_OBJ; k++)
			p[k] = 0;
		for (int k = 0; k < SCRIBBLE_WRITES; k++)
			p[k % SCRIBBLE_OBJ] = (unsigned char)(p[k % SCRIBBLE_OBJ] + k + 1);
		h += p[0];
		free((void *)p);
	}
	return h;
}

#endif /* SHAPES_H */
