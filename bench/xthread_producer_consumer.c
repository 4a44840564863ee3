/*
 * xthread_producer_consumer: asymmetric cross-thread frees (xmalloc-like).
 * Producer threads allocate small blocks (16..512 B), write them, and hand
 * them over in batches of 256 through a bounded queue to consumer threads,
 * which read and free them. No thread ever frees what it allocated.
 *
 * Stresses: the remote-free path (freeing into another thread's pages or
 * caches), memory flowing one way between threads (producers' caches always
 * empty, consumers' always full), and how much memory piles up in between.
 * The batch arrays themselves (2 KiB) are also allocated by producers and
 * freed by consumers.
 *
 * Usage: xthread_producer_consumer [threads=2] [scale=1]
 * threads/2 (at least 1) producers, the rest (at least 1) consumers. The total
 * number of blocks is fixed by scale and split among producers.
 *
 * XTHREAD_LARGE (bench/xthread_large.c): blocks of 40-256 KiB in batches
 * of 16.
 */
#include "bench_common.h"

#include <pthread.h>

#ifdef XTHREAD_LARGE
#define BENCH_NAME "xthread_large"
#define BATCH 16
#define BASE_BLOCKS 1500000ull
#else
#define BENCH_NAME "xthread_producer_consumer"
#define BATCH 256
#define BASE_BLOCKS 24000000ull
#endif
#define QCAP 32 /* batches in flight */

struct batch {
	size_t n;                /* filled entries */
	unsigned char *b[BATCH]; /* blocks; the first 8 bytes hold a stamp */
};

static struct {
	pthread_mutex_t lock;      /* guards the fields below */
	pthread_cond_t not_full;   /* signalled when a slot frees up */
	pthread_cond_t not_empty;  /* signalled on push or when producers end */
	struct batch *ring[QCAP];  /* queued batches */
	size_t head, count;        /* ring position and fill */
	int producers_left;        /* producers still running */
} q = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.not_full = PTHREAD_COND_INITIALIZER,
	.not_empty = PTHREAD_COND_INITIALIZER,
};

struct worker {
	uint64_t blocks;   /* producer: blocks to make */
	uint64_t seed;     /* producer: RNG seed */
	uint64_t checksum; /* consumer: sum of stamps freed */
	pthread_t tid;     /* thread running it */
};

static void push(struct batch *bt)
{
	pthread_mutex_lock(&q.lock);
	while (q.count == QCAP)
		pthread_cond_wait(&q.not_full, &q.lock);
	q.ring[(q.head + q.count) % QCAP] = bt;
	q.count++;
	pthread_cond_signal(&q.not_empty);
	pthread_mutex_unlock(&q.lock);
}

/* Returns NULL once the queue is empty and every producer has finished. */
static struct batch *pop(void)
{
	struct batch *bt = NULL;
	pthread_mutex_lock(&q.lock);
	while (q.count == 0 && q.producers_left > 0)
		pthread_cond_wait(&q.not_empty, &q.lock);
	if (q.count) {
		bt = q.ring[q.head];
		q.head = (q.head + 1) % QCAP;
		q.count--;
		pthread_cond_signal(&q.not_full);
	}
	pthread_mutex_unlock(&q.lock);
	return bt;
}

static size_t block_size(struct rng *r)
{
	uint64_t x = rng_next(r);
#ifdef XTHREAD_LARGE
	return ((size_t)40 << 10) + (size_t)((x >> 8) % (216u << 10)); /* 40..256 KiB */
#endif
	if ((x & 3) != 0)
		return 16 + (size_t)((x >> 8) % 113); /* 16..128 */
	return 129 + (size_t)((x >> 8) % 384);       /* 129..512 */
}

static void *producer(void *arg)
{
	struct worker *w = arg;
	struct rng r = rng_seed(w->seed);
	struct batch *bt = NULL;

	for (uint64_t i = 0; i < w->blocks; i++) {
		if (!bt) {
			bt = xmalloc(sizeof(*bt));
			bt->n = 0;
		}
		size_t sz = block_size(&r);
		unsigned char *p = xmalloc(sz);
		uint64_t stamp = rng_next(&r);
		memcpy(p, &stamp, sizeof(stamp));
		p[sz - 1] = (unsigned char)sz;
		bt->b[bt->n++] = p;
		if (bt->n == BATCH) {
			push(bt);
			bt = NULL;
		}
	}
	if (bt)
		push(bt);
	pthread_mutex_lock(&q.lock);
	q.producers_left--;
	pthread_cond_broadcast(&q.not_empty);
	pthread_mutex_unlock(&q.lock);
	return NULL;
}

static void *consumer(void *arg)
{
	struct worker *w = arg;
	uint64_t sum = 0;
	struct batch *bt;

	while ((bt = pop()) != NULL) {
		for (size_t i = 0; i < bt->n; i++) {
			uint64_t stamp;
			memcpy(&stamp, bt->b[i], sizeof(stamp));
			sum += stamp;
			free(bt->b[i]);
		}
		free(bt);
	}
	w->checksum = sum;
	return NULL;
}

int main(int argc, char **argv)
{
	struct bench_args a = bench_parse(argc, argv, 2);
	int np = a.threads / 2 > 0 ? a.threads / 2 : 1;
	int nc = a.threads - np > 0 ? a.threads - np : 1;
	uint64_t total = bench_scaled(BASE_BLOCKS, a.scale);
	struct worker *w = calloc((size_t)(np + nc), sizeof(*w));
	double t0 = now_sec();
	uint64_t sum = 0;

	if (!w)
		return 3;
	q.producers_left = np;
	for (int i = 0; i < np + nc; i++) {
		int is_prod = i < np;
		w[i].blocks = total / np;
		w[i].seed = 3000 + i;
		if (pthread_create(&w[i].tid, NULL, is_prod ? producer : consumer, &w[i]) != 0) {
			perror("pthread_create");
			return 1;
		}
	}
	for (int i = 0; i < np + nc; i++) {
		pthread_join(w[i].tid, NULL);
		sum += w[i].checksum;
	}
	free(w);
	bench_report(BENCH_NAME, sum, now_sec() - t0);
	return 0;
}
