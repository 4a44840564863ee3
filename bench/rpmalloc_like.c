/*
 * rpmalloc_like: the shape of rpmalloc's public benchmark (as its
 * BENCHMARKS.md describes it), written from that description.
 *
 * Every thread keeps an array of SLOTS blocks (its working set) and runs
 * loops. Each loop it
 *  1. frees the blocks other threads handed to it (cross-thread frees),
 *  2. frees OPS blocks scattered over its array,
 *  3. allocates OPS blocks into scattered slots (freeing what was there),
 *  4. every CROSS_RATE-th loop allocates OPS more blocks and hands them, as
 *     one batch, to the next thread, which frees them in its step 1.
 * Sizes are random and weighted to small ones (see draw_size): most are
 * 16 B .. a few KiB, one in eight is 4 .. 80 KiB (linear falloff), so the
 * large classes and the large-block path take part too. Every block is
 * written (a stamp at the start, one byte per 4 KiB page and the last
 * byte), as a program would, so peak RSS counts what the allocator keeps.
 *
 * A batch is only handed to a thread that is still running and has fewer
 * than MAX_PENDING batches waiting (else the sender frees it itself), so the
 * live set stays bounded (about SLOTS blocks per thread plus the batches in
 * flight) whatever the scheduling. The checksum sums the stamps of every
 * block freed; which thread frees a block does not change it.
 *
 * RPMALLOC_LIKE_SIZES=linear switches to the other documented shape: sizes
 * in [8, 16000] with a linear falloff (for experiments; run.sh uses the
 * default).
 *
 * Usage: rpmalloc_like [threads=2] [scale=1]. The total number of loops is
 * fixed by scale and split among the threads.
 */
#include "bench_common.h"

#include <pthread.h>
#include <stdatomic.h>

#define SLOTS 2000          /* working set per thread (blocks) */
#define OPS 100             /* blocks freed, then allocated, per loop */
#define CROSS_RATE 2        /* every this many loops, OPS blocks go to another thread */
#define MAX_PENDING 8       /* batches an inbox holds before senders free locally */
#define BASE_LOOPS 120000ull

struct batch {
	struct batch *next;         /* next batch in the inbox */
	unsigned char *b[OPS];      /* blocks; the first 8 bytes hold a stamp */
	size_t sz[OPS];             /* their sizes */
};

struct lane {
	_Atomic(struct batch *) inbox; /* batches other threads sent here */
	_Atomic long pending;          /* batches in the inbox (approx.) */
	_Atomic int active;            /* its thread still runs its loops */
	char pad[40];                  /* own cache line: senders hit only this lane's */
};

struct worker {
	int id;                 /* thread index */
	int nthreads;           /* all threads */
	uint64_t loops;         /* loops to run */
	uint64_t sum;           /* stamps of blocks this thread freed */
	pthread_t tid;          /* thread running it */
};

static struct lane *lanes;
static int sizes_linear;
static pthread_barrier_t start_line; /* all threads start their loops together */

/* 7 in 8: exponential falloff over 16 B .. 4 KiB (each octave 0.6 times as
 * likely as the one below); 1 in 8: linear falloff over 4 .. 80 KiB. */
static size_t draw_size(struct rng *r)
{
	if (sizes_linear) {
		/* The smaller of two uniform draws has a linearly falling density. */
		uint64_t a = rng_range(r, 8, 16000), b = rng_range(r, 8, 16000);
		return a < b ? a : b;
	}
	if (rng_below(r, 8) != 0) {
		unsigned oct = 0;
		while (oct < 7 && rng_below(r, 10) < 6)
			oct++;
		size_t lo = (size_t)16 << oct; /* 16 .. 2048 */
		return (size_t)rng_range(r, lo, 2 * lo);
	}
	uint64_t a = rng_range(r, 4096, 81920), b = rng_range(r, 4096, 81920);
	return a < b ? a : b;
}

static unsigned char *new_block(struct rng *r, size_t *szp)
{
	size_t sz = draw_size(r);
	if (sz < 16)
		sz = 16;
	unsigned char *p = xmalloc(sz);
	uint64_t stamp = rng_next(r);
	touch_pages(p, sz, (unsigned char)stamp);
	memcpy(p, &stamp, sizeof(stamp));
	*szp = sz;
	return p;
}

static uint64_t free_block(unsigned char *p, size_t sz)
{
	uint64_t stamp;
	memcpy(&stamp, p, sizeof(stamp));
	if (p[sz - 1] != (unsigned char)stamp && sz - 1 >= sizeof(stamp)) {
		fprintf(stderr, "rpmalloc_like: block %p (%zu B) was overwritten\n", (void *)p, sz);
		exit(4);
	}
	free(p);
	return stamp;
}

static uint64_t free_batch(struct batch *bt)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < OPS; i++)
		sum += free_block(bt->b[i], bt->sz[i]);
	free(bt);
	return sum;
}

static uint64_t drain(struct lane *l)
{
	struct batch *bt = atomic_exchange_explicit(&l->inbox, NULL, memory_order_acquire);
	uint64_t sum = 0;
	long n = 0;
	while (bt) {
		struct batch *nx = bt->next;
		sum += free_batch(bt);
		n++;
		bt = nx;
	}
	if (n)
		atomic_fetch_sub_explicit(&l->pending, n, memory_order_relaxed);
	return sum;
}

static void send(struct lane *to, struct batch *bt)
{
	struct batch *old = atomic_load_explicit(&to->inbox, memory_order_relaxed);
	atomic_fetch_add_explicit(&to->pending, 1, memory_order_relaxed);
	do
		bt->next = old;
	while (!atomic_compare_exchange_weak_explicit(&to->inbox, &old, bt, memory_order_release,
						      memory_order_relaxed));
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct rng r = rng_seed(7000 + (uint64_t)w->id);
	unsigned char **slot = calloc(SLOTS, sizeof(*slot));
	size_t *size = calloc(SLOTS, sizeof(*size));
	struct lane *own = &lanes[w->id], *next = &lanes[(w->id + 1) % w->nthreads];
	uint64_t sum = 0;

	if (!slot || !size) {
		fprintf(stderr, "rpmalloc_like: out of memory\n");
		exit(3);
	}
	pthread_barrier_wait(&start_line);
	for (uint64_t loop = 0; loop < w->loops; loop++) {
		sum += drain(own);
		/* Scattered over the whole array: a random start and an odd step
		 * (SLOTS is even, so any odd step coprime to 5 visits OPS distinct slots). */
		size_t k = rng_below(&r, SLOTS), step = 2 * rng_below(&r, SLOTS / 2) + 1;
		if (step % 5 == 0)
			step += 2;
		for (size_t i = 0; i < OPS; i++, k = (k + step) % SLOTS)
			if (slot[k]) {
				sum += free_block(slot[k], size[k]);
				slot[k] = NULL;
			}
		k = rng_below(&r, SLOTS);
		step = 2 * rng_below(&r, SLOTS / 2) + 1;
		if (step % 5 == 0)
			step += 2;
		for (size_t i = 0; i < OPS; i++, k = (k + step) % SLOTS) {
			if (slot[k])
				sum += free_block(slot[k], size[k]);
			slot[k] = new_block(&r, &size[k]);
		}
		if (loop % CROSS_RATE == 0) {
			struct batch *bt = xmalloc(sizeof(*bt));
			for (size_t i = 0; i < OPS; i++)
				bt->b[i] = new_block(&r, &bt->sz[i]);
			if (next != own && atomic_load_explicit(&next->active, memory_order_relaxed) &&
			    atomic_load_explicit(&next->pending, memory_order_relaxed) < MAX_PENDING)
				send(next, bt);
			else
				sum += free_batch(bt);
		}
	}
	atomic_store(&own->active, 0);
	sum += drain(own);
	for (size_t i = 0; i < SLOTS; i++)
		if (slot[i])
			sum += free_block(slot[i], size[i]);
	free(slot);
	free(size);
	w->sum = sum;
	return NULL;
}

int main(int argc, char **argv)
{
	struct bench_args a = bench_parse(argc, argv, 2);
	int T = a.threads;
	uint64_t total = bench_scaled(BASE_LOOPS, a.scale);
	const char *mode = getenv("RPMALLOC_LIKE_SIZES");
	struct worker *w = calloc((size_t)T, sizeof(*w));
	uint64_t sum = 0;

	sizes_linear = mode && strcmp(mode, "linear") == 0;
	lanes = calloc((size_t)T, sizeof(*lanes));
	if (!lanes || !w)
		return 3;
	pthread_barrier_init(&start_line, NULL, (unsigned)T);
	double t0 = now_sec();
	for (int i = 0; i < T; i++) {
		atomic_store(&lanes[i].active, 1);
		w[i].id = i;
		w[i].nthreads = T;
		w[i].loops = total / (uint64_t)T ? total / (uint64_t)T : 1;
		if (pthread_create(&w[i].tid, NULL, run, &w[i]) != 0) {
			perror("pthread_create");
			return 1;
		}
	}
	for (int i = 0; i < T; i++) {
		pthread_join(w[i].tid, NULL);
		sum += w[i].sum;
	}
	/* Batches sent to a thread after its last drain. */
	for (int i = 0; i < T; i++)
		sum += drain(&lanes[i]);
	free(lanes);
	free(w);
	bench_report("rpmalloc_like", sum, now_sec() - t0);
	return 0;
}
