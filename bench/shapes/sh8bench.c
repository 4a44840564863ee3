/*
 * sh8bench: sh6bench's batches, freed across threads (sh8bench-like).
 * Each thread, per round, allocates a batch of blocks whose sizes cycle
 * through 1..MAXSZ; it frees every other block itself (forward or backward
 * by round) and hands the rest, as one parcel, to the next thread in a
 * ring, which frees the parcel's blocks (forward or backward) at its next
 * round. A thread whose inbox already holds MAXPEND parcels, or that has
 * finished, gets no more: the sender frees the blocks itself, so the live
 * set stays bounded. Parcels left at the end are freed by main.
 * Stresses remote frees in bulk, slabs freed by two threads at once and
 * the return of remotely freed memory to its owner.
 *
 * Usage: sh8bench [threads=2] [scale=1]. Total work is split among threads.
 */
#include "shapes.h"

#include <stdatomic.h>

#define BASE_ROUNDS 14400ull
#define BATCH 2000
#define MAXSZ 1000
#define STEP 7
#define MAXPEND 8

struct parcel {
	struct parcel *next;      /* next parcel in the inbox */
	size_t n;                 /* blocks */
	unsigned order;           /* 0: free forward, 1: backward */
	unsigned char *b[BATCH / 2]; /* blocks */
};

struct lane {
	_Atomic(struct parcel *) inbox; /* parcels sent to this thread */
	_Atomic long pending;           /* parcels in the inbox */
	_Atomic int done;               /* owner finished its rounds */
	struct bench_worker w;          /* ops, seed, checksum, tid */
	struct lane *next;              /* lane that receives our parcels */
};

static void free_parcel(struct parcel *p)
{
	if (p->order & 1)
		for (size_t i = p->n; i-- > 0;)
			free(p->b[i]);
	else
		for (size_t i = 0; i < p->n; i++)
			free(p->b[i]);
	free(p);
}

static void drain(struct lane *l)
{
	struct parcel *p = atomic_exchange(&l->inbox, NULL);
	while (p) {
		struct parcel *nx = p->next;
		atomic_fetch_sub(&l->pending, 1);
		free_parcel(p);
		p = nx;
	}
}

static void send(struct lane *to, struct parcel *p)
{
	if (to == NULL || atomic_load(&to->done) || atomic_load(&to->pending) >= MAXPEND) {
		free_parcel(p);
		return;
	}
	atomic_fetch_add(&to->pending, 1);
	p->next = atomic_load(&to->inbox);
	while (!atomic_compare_exchange_weak(&to->inbox, &p->next, p))
		;
}

static void *run(void *arg)
{
	struct lane *l = arg;
	unsigned char **b = xmalloc(sizeof(*b) * BATCH);
	size_t sz = 1 + (size_t)(l->w.seed % MAXSZ);
	uint64_t h = 0;

	for (uint64_t round = 0; round < l->w.ops; round++) {
		drain(l);
		for (size_t i = 0; i < BATCH; i++) {
			sz = sz + STEP > MAXSZ ? sz + STEP - MAXSZ : sz + STEP;
			b[i] = xmalloc(sz);
			b[i][0] = (unsigned char)(i + round);
			h += b[i][0];
		}
		struct parcel *p = xmalloc(sizeof(*p));
		p->n = 0;
		p->order = (unsigned)(round >> 1);
		for (size_t i = 0; i < BATCH; i++) {
			size_t j = round & 1 ? BATCH - 1 - i : i;
			if (j & 1)
				p->b[p->n++] = b[j];
			else
				free(b[j]);
		}
		send(l->next, p);
	}
	atomic_store(&l->done, 1);
	drain(l);
	free(b);
	l->w.checksum = h;
	return NULL;
}

int main(int argc, char **argv)
{
	struct bench_args a = bench_parse(argc, argv, 2);
	struct lane *l = calloc((size_t)a.threads, sizeof(*l));
	uint64_t total = bench_scaled(BASE_ROUNDS, a.scale), h = 0;
	double t0 = now_sec();

	for (int i = 0; i < a.threads; i++) {
		l[i].w.ops = total / (uint64_t)a.threads;
		l[i].w.seed = (uint64_t)i * 131;
		l[i].next = a.threads > 1 ? &l[(i + 1) % a.threads] : NULL;
	}
	for (int i = 0; i < a.threads; i++)
		if (pthread_create(&l[i].w.tid, NULL, run, &l[i]) != 0) {
			perror("pthread_create");
			return 1;
		}
	for (int i = 0; i < a.threads; i++) {
		pthread_join(l[i].w.tid, NULL);
		h = mix(h, l[i].w.checksum);
	}
	for (int i = 0; i < a.threads; i++)
		drain(&l[i]);
	free(l);
	bench_report("sh8bench", h, now_sec() - t0);
	return 0;
}
