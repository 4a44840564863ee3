/*
 * xmalloc_test: some threads allocate, others free (xmalloc-test-like).
 * threads/2 producers (at least 1) allocate batches of 64 blocks of
 * 16..512 B, write them and push each batch into one shared bounded queue;
 * the other threads (at least 1) pop batches and free every block. Each
 * block is freed by a thread that never allocates, so all frees are remote
 * and the producers' memory only comes back through the remote-free path.
 *
 * Usage: xmalloc_test [threads=2] [scale=1]. threads=1 still runs one
 * producer and one consumer. Total work is split among producers.
 * Prints "queue_mean=": the batches the queue held on average when one was
 * pushed (of QCAP). The live blocks, and so the peak RSS, follow it: an
 * allocator whose producers run faster than its consumers keeps the queue
 * full (256 batches, ~4.3 MB of blocks), one whose consumers keep up keeps
 * it nearly empty. Compare RSS between allocators at similar queue_mean.
 */
#include "shapes.h"

#define BASE_BATCHES 200000ull
#define NB 64    /* blocks per batch */
#define QCAP 256 /* batches the queue holds */

struct batch {
	unsigned char *b[NB]; /* blocks */
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t nonempty, nonfull;
	struct batch *q[QCAP];  /* ring of batches */
	size_t head, count;     /* first batch, batches held */
	int producers_left;     /* producers still running */
	uint64_t depth_sum;     /* sum of count after each push */
	uint64_t pushes;        /* batches pushed */
} Q = { .mu = PTHREAD_MUTEX_INITIALIZER,
	.nonempty = PTHREAD_COND_INITIALIZER,
	.nonfull = PTHREAD_COND_INITIALIZER };

static void *produce(void *arg)
{
	struct bench_worker *w = arg;
	struct rng r = rng_seed(w->seed);
	uint64_t h = 0;

	for (uint64_t i = 0; i < w->ops; i++) {
		struct batch *bt = xmalloc(sizeof(*bt));
		for (size_t k = 0; k < NB; k++) {
			size_t n = (size_t)rng_range(&r, 16, 512);
			bt->b[k] = xmalloc(n);
			memset(bt->b[k], (int)k, 16);
			h += n;
		}
		pthread_mutex_lock(&Q.mu);
		while (Q.count == QCAP)
			pthread_cond_wait(&Q.nonfull, &Q.mu);
		Q.q[(Q.head + Q.count++) % QCAP] = bt;
		Q.depth_sum += Q.count;
		Q.pushes++;
		pthread_cond_signal(&Q.nonempty);
		pthread_mutex_unlock(&Q.mu);
	}
	pthread_mutex_lock(&Q.mu);
	if (--Q.producers_left == 0)
		pthread_cond_broadcast(&Q.nonempty);
	pthread_mutex_unlock(&Q.mu);
	w->checksum = h;
	return NULL;
}

static void *consume(void *arg)
{
	struct bench_worker *w = arg;
	uint64_t h = 0;

	for (;;) {
		pthread_mutex_lock(&Q.mu);
		while (Q.count == 0 && Q.producers_left > 0)
			pthread_cond_wait(&Q.nonempty, &Q.mu);
		if (Q.count == 0) {
			pthread_mutex_unlock(&Q.mu);
			break;
		}
		struct batch *bt = Q.q[Q.head];
		Q.head = (Q.head + 1) % QCAP;
		Q.count--;
		pthread_cond_signal(&Q.nonfull);
		pthread_mutex_unlock(&Q.mu);
		for (size_t k = 0; k < NB; k++) {
			h += bt->b[k][k & 15];
			free(bt->b[k]);
		}
		free(bt);
	}
	w->checksum = h;
	return NULL;
}

int main(int argc, char **argv)
{
	struct bench_args a = bench_parse(argc, argv, 2);
	int np = a.threads / 2 > 0 ? a.threads / 2 : 1;
	int nc = a.threads - np > 0 ? a.threads - np : 1;
	struct bench_worker *w = calloc((size_t)(np + nc), sizeof(*w));
	uint64_t total = bench_scaled(BASE_BATCHES, a.scale), h = 0;
	double t0 = now_sec();

	Q.producers_left = np;
	for (int i = 0; i < np + nc; i++) {
		w[i].ops = total / (uint64_t)np;
		w[i].seed = 7 + (uint64_t)i;
		if (pthread_create(&w[i].tid, NULL, i < np ? produce : consume, &w[i]) != 0) {
			perror("pthread_create");
			return 1;
		}
	}
	for (int i = 0; i < np + nc; i++) {
		pthread_join(w[i].tid, NULL);
		if (i < np) /* consumers' sums depend on which batches they got */
			h = mix(h, w[i].checksum);
	}
	free(w);
	printf("queue_mean=%.1f\n", Q.pushes ? (double)Q.depth_sum / (double)Q.pushes : 0.0);
	bench_report("xmalloc_test", h, now_sec() - t0);
	return 0;
}
