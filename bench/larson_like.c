/*
 * larson_like: server-like churn in many threads (larson-style).
 * Each thread owns an array of 2048 blocks (8..1000 B) and replaces random
 * entries. One block in 16 is not freed by its replacer but handed, in
 * batches of 64, to the next thread's inbox (a lock-free stack), which frees
 * it. Work runs in 8 rounds; every round starts fresh threads and rotates the
 * arrays among them, so each thread inherits and frees blocks allocated by a
 * thread that has exited ("bleeding" of memory between thread caches).
 * A thread that has finished its round, or whose inbox already holds 16
 * batches (it is descheduled), receives no more hand-offs (the sender frees
 * the block itself), so the live set stays bounded (~2 MiB per
 * thread plus batches in flight) whatever the scheduling.
 *
 * Stresses: per-thread cache fast path with random lifetimes, remote frees,
 * thread creation/exit with live blocks (cache teardown and adoption of
 * abandoned memory), and RSS growth when memory migrates between threads.
 *
 * Usage: larson_like [threads=2] [scale=1]. The total work is fixed by scale
 * and split among threads.
 */
#include "bench_common.h"

#include <pthread.h>
#include <stdatomic.h>

#define SLOTS 2048
#define ROUNDS 8
#define HANDOFF_EVERY 16 /* one block in this many goes to another thread */
#define HBATCH 64
#define MAX_PENDING 16 /* batches an inbox holds before senders free locally */
#define BASE_OPS 60000000ull

struct handoff {
	struct handoff *next; /* next batch in the inbox */
	size_t n;             /* blocks in this batch */
	unsigned char *b[HBATCH]; /* blocks; the first 8 bytes hold a stamp */
};

struct lane {
	unsigned char *slot[SLOTS];          /* the array of blocks */
	_Atomic(struct handoff *) inbox;     /* batches sent to this lane */
	_Atomic uint64_t freed_sum;          /* stamps of blocks freed here */
	_Atomic int active;                  /* its owner is running this round */
	_Atomic long pending;                /* batches in the inbox (approx.) */
};

struct worker {
	struct lane *own;   /* array this thread works on this round */
	struct lane *next;  /* lane that receives this thread's hand-offs */
	uint64_t ops;       /* replacements to do */
	uint64_t seed;      /* RNG seed */
	pthread_t tid;      /* thread running it */
};

static uint64_t free_block(unsigned char *p)
{
	uint64_t stamp;
	memcpy(&stamp, p, sizeof(stamp));
	free(p);
	return stamp;
}

static uint64_t drain(struct lane *l)
{
	struct handoff *h = atomic_exchange_explicit(&l->inbox, NULL, memory_order_acquire);
	uint64_t sum = 0;
	long n = 0;
	while (h) {
		struct handoff *nx = h->next;
		n++;
		for (size_t i = 0; i < h->n; i++)
			sum += free_block(h->b[i]);
		free(h);
		h = nx;
	}
	if (n)
		atomic_fetch_sub_explicit(&l->pending, n, memory_order_relaxed);
	return sum;
}

static void send(struct lane *to, struct handoff *h)
{
	struct handoff *old = atomic_load_explicit(&to->inbox, memory_order_relaxed);
	atomic_fetch_add_explicit(&to->pending, 1, memory_order_relaxed);
	do
		h->next = old;
	while (!atomic_compare_exchange_weak_explicit(&to->inbox, &old, h, memory_order_release,
						      memory_order_relaxed));
}

static unsigned char *new_block(struct rng *r)
{
	size_t sz = (size_t)rng_range(r, 8, 1000);
	unsigned char *p = xmalloc(sz);
	uint64_t stamp = rng_next(r);
	memcpy(p, &stamp, sizeof(stamp));
	p[sz - 1] = (unsigned char)stamp;
	return p;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct rng r = rng_seed(w->seed);
	struct handoff *out = NULL;
	uint64_t sum = 0;

	for (uint64_t i = 0; i < w->ops; i++) {
		size_t k = rng_below(&r, SLOTS);
		unsigned char *old = w->own->slot[k];
		/* Hand off only while the receiver runs, so blocks don't pile
		 * up in the inbox of a thread that has already finished. */
		if (rng_below(&r, HANDOFF_EVERY) == 0 &&
		    atomic_load_explicit(&w->next->active, memory_order_relaxed) &&
		    atomic_load_explicit(&w->next->pending, memory_order_relaxed) < MAX_PENDING) {
			if (!out) {
				out = xmalloc(sizeof(*out));
				out->n = 0;
			}
			out->b[out->n++] = old;
			if (out->n == HBATCH) {
				send(w->next, out);
				out = NULL;
			}
		} else {
			sum += free_block(old);
		}
		w->own->slot[k] = new_block(&r);
		if ((i & 1023) == 0)
			sum += drain(w->own);
	}
	if (out)
		send(w->next, out);
	atomic_store(&w->own->active, 0);
	sum += drain(w->own);
	atomic_fetch_add(&w->own->freed_sum, sum);
	return NULL;
}

int main(int argc, char **argv)
{
	struct bench_args a = bench_parse(argc, argv, 2);
	int T = a.threads;
	uint64_t total = bench_scaled(BASE_OPS, a.scale);
	struct lane *lanes = calloc((size_t)T, sizeof(*lanes));
	struct worker *w = calloc((size_t)T, sizeof(*w));
	double t0 = now_sec();
	uint64_t sum = 0;

	if (!lanes || !w)
		return 3;
	/* The main thread fills the arrays: round 0 frees blocks it allocated. */
	for (int l = 0; l < T; l++) {
		struct rng r = rng_seed(4000 + l);
		for (size_t k = 0; k < SLOTS; k++)
			lanes[l].slot[k] = new_block(&r);
	}
	for (int round = 0; round < ROUNDS; round++) {
		for (int l = 0; l < T; l++)
			atomic_store(&lanes[l].active, 1);
		for (int i = 0; i < T; i++) {
			int l = (i + round) % T; /* arrays move to other threads */
			w[i].own = &lanes[l];
			w[i].next = &lanes[(l + 1) % T];
			w[i].ops = total / ROUNDS / T;
			w[i].seed = 5000 + (uint64_t)round * 1024 + i;
			if (pthread_create(&w[i].tid, NULL, run, &w[i]) != 0) {
				perror("pthread_create");
				return 1;
			}
		}
		for (int i = 0; i < T; i++)
			pthread_join(w[i].tid, NULL);
	}
	for (int l = 0; l < T; l++) {
		sum += drain(&lanes[l]) + atomic_load(&lanes[l].freed_sum);
		for (size_t k = 0; k < SLOTS; k++)
			sum += free_block(lanes[l].slot[k]);
	}
	free(lanes);
	free(w);
	bench_report("larson_like", sum, now_sec() - t0);
	return 0;
}
