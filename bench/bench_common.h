/*
 * bench_common.h: shared helpers for the allocator benchmarks in bench/.
 *
 * Every benchmark is a stand-alone program: `prog [threads] [scale]`.
 * The allocator under test is chosen by LD_PRELOAD, so nothing here links
 * against liballoc. Work is deterministic (fixed seeds) and every program
 * prints "checksum=<hex>" so the work can't be optimized away and results
 * can be compared across allocators (a mismatch means a broken allocator).
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Command line: threads (default def_threads) and scale (default 1.0). */
struct bench_args {
	int threads;  /* worker threads (>= 1) */
	double scale; /* multiplies the amount of work */
};

static inline struct bench_args bench_parse(int argc, char **argv, int def_threads)
{
	struct bench_args a = { def_threads, 1.0 };
	if (argc > 1)
		a.threads = atoi(argv[1]);
	if (argc > 2)
		a.scale = atof(argv[2]);
	if (a.threads < 1 || a.threads > 1024 || !(a.scale > 0.0) || argc > 3) {
		fprintf(stderr, "usage: %s [threads(1..1024)] [scale(>0)]\n", argv[0]);
		exit(2);
	}
	return a;
}

/* Work units scaled, never zero. */
static inline uint64_t bench_scaled(uint64_t base, double scale)
{
	double v = (double)base * scale;
	return v < 1.0 ? 1 : (uint64_t)v;
}

/* Small fast PRNG (xorshift64*); state must be non-zero. */
struct rng {
	uint64_t s; /* state */
};

static inline struct rng rng_seed(uint64_t seed)
{
	/* splitmix64 step so nearby seeds diverge */
	uint64_t z = seed + 0x9E3779B97F4A7C15ull;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	z ^= z >> 31;
	struct rng r = { z ? z : 1 };
	return r;
}

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t x = r->s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* Uniform in [0, n). */
static inline uint64_t rng_below(struct rng *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

/* Uniform in [lo, hi]. */
static inline uint64_t rng_range(struct rng *r, uint64_t lo, uint64_t hi)
{
	return lo + rng_below(r, hi - lo + 1);
}

/* Mixes a value into a running checksum (order-dependent). */
static inline uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
	return h;
}

static inline double now_sec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Resident set size in KiB from /proc/self/statm, or 0 if unreadable. */
static inline long rss_kb(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size = 0, res = 0;
	if (!f)
		return 0;
	if (fscanf(f, "%ld %ld", &size, &res) != 2)
		res = 0;
	fclose(f);
	return res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Writes one byte per 4 KiB page (and the last byte) of [p, p+n). */
static inline void touch_pages(unsigned char *p, size_t n, unsigned char v)
{
	for (size_t i = 0; i < n; i += 4096)
		p[i] = v;
	if (n)
		p[n - 1] = v;
}

/* Writes one byte per 64 B line of [p, p+n). */
static inline void touch_lines(unsigned char *p, size_t n, unsigned char v)
{
	for (size_t i = 0; i < n; i += 64)
		p[i] = v;
}

static inline void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (!p) {
		fprintf(stderr, "bench: malloc(%zu) failed\n", n);
		exit(3);
	}
	return p;
}

static inline void bench_report(const char *name, uint64_t checksum, double secs)
{
	printf("%s: checksum=%016llx elapsed=%.3f\n", name, (unsigned long long)checksum, secs);
}

/* A worker of the benchmarks that split one kind of work over threads
 * (bench_run_workers). */
struct bench_worker {
	uint64_t ops;      /* its share of the operations (steps) */
	uint64_t seed;     /* its RNG seed */
	uint64_t checksum; /* its result, set by the worker */
	pthread_t tid;     /* thread running it */
};

/* Splits total operations evenly over `threads` workers seeded seed0,
 * seed0 + 1, ..., runs run(worker) on each in a thread of its own, and
 * returns their checksums mixed in worker order (so the result does not
 * depend on scheduling). Exits with status 1 if a thread cannot start. */
static inline uint64_t bench_run_workers(int threads, uint64_t total, uint64_t seed0,
                                         void *(*run)(void *))
{
	struct bench_worker *w = (struct bench_worker *)xmalloc(sizeof(*w) * (size_t)threads);
	uint64_t h = 0;

	for (int i = 0; i < threads; i++) {
		w[i].ops = total / (uint64_t)threads;
		w[i].seed = seed0 + (uint64_t)i;
		if (pthread_create(&w[i].tid, NULL, run, &w[i]) != 0) {
			perror("pthread_create");
			exit(1);
		}
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(w[i].tid, NULL);
		h = mix(h, w[i].checksum);
	}
	free(w);
	return h;
}

#endif /* BENCH_COMMON_H */
