/*
 * cache_scratch: passive false sharing (cache-scratch-like).
 * The main thread allocates one small block per worker, back to back (so
 * they likely share a cache line), and hands block i to worker i. Each
 * worker frees the block it was given, then repeatedly allocates a block of
 * the same size, writes to it many times and frees it. An allocator that
 * gives a worker back the block it just freed (one that sits on a line
 * shared with other workers' blocks) makes those writes contend.
 *
 * Usage: cache_scratch [threads=2] [scale=1]. Total work is split among
 * threads.
 */
#include "shapes.h"

#define BASE_ITERS 16000000ull

struct job {
	struct bench_worker w; /* ops, seed, checksum, tid */
	unsigned char *given;  /* block allocated by the main thread */
};

static void *run(void *arg)
{
	struct job *j = arg;
	uint64_t h = j->given[0];

	free(j->given);
	j->w.checksum = h + scribble(j->w.ops);
	return NULL;
}

int main(int argc, char **argv)
{
	struct bench_args a = bench_parse(argc, argv, 2);
	uint64_t total = bench_scaled(BASE_ITERS, a.scale), h = 0;
	struct job *j = xmalloc(sizeof(*j) * (size_t)a.threads);
	double t0 = now_sec();

	for (int i = 0; i < a.threads; i++) {
		j[i].given = xmalloc(SCRIBBLE_OBJ);
		memset(j[i].given, i + 1, SCRIBBLE_OBJ);
		j[i].w.ops = total / (uint64_t)a.threads;
	}
	for (int i = 0; i < a.threads; i++)
		if (pthread_create(&j[i].w.tid, NULL, run, &j[i]) != 0) {
			perror("pthread_create");
			return 1;
		}
	for (int i = 0; i < a.threads; i++) {
		pthread_join(j[i].w.tid, NULL);
		h = mix(h, j[i].w.checksum);
	}
	free(j);
	bench_report("cache_scratch", h, now_sec() - t0);
	return 0;
}
