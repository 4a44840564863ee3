/*
 * burst_retention: memory held after a burst.
 * The threads together allocate ~512 MiB of mixed small and medium blocks
 * (16 B..64 KiB, every 64 B line written), then free all but a random 1%
 * (the survivors are scattered over the whole heap, as in a cache that keeps
 * a few entries from a spike). They then stay alive doing light work (a few
 * small malloc/free every millisecond) for a settle time of 1.5 s, and the
 * main thread reads the RSS from /proc/self/statm.
 *
 * Stresses: returning memory to the OS after a spike (purging of empty pages
 * and slabs, decay timers that need ticks, per-thread caches that hold
 * memory), and fragmentation: a survivor pins its page or slab.
 *
 * Prints "burst_rss_kb=" (RSS at the top of the burst), "live_kb=" (bytes
 * still allocated after the frees) and "post_burst_rss_kb=" (RSS after the
 * settle time), which bench/run.sh reports.
 *
 * Usage: burst_retention [threads=1] [scale=1]. scale multiplies the burst
 * size. BURST_SETTLE_MS overrides the settle time (default 1500).
 */
#include "bench_common.h"

#include <pthread.h>
#include <stdatomic.h>

#define BASE_BYTES (512ull << 20)

struct worker {
	uint64_t bytes;    /* bytes to allocate in the burst */
	uint64_t seed;     /* RNG seed */
	uint64_t checksum; /* result */
	uint64_t live;     /* bytes kept after the frees */
	pthread_t tid;     /* thread running it */
};

static pthread_barrier_t burst_done; /* all threads allocated */
static pthread_barrier_t freed;      /* all threads freed 99% */
static atomic_int stop;              /* end of the settle time */

/* 16 B..64 KiB: 70% small (16..512), 25% medium (512..8K), 5% 8K..64K. */
static size_t burst_size(struct rng *r)
{
	uint64_t u = rng_below(r, 100);
	if (u < 70)
		return (size_t)rng_range(r, 16, 512);
	if (u < 95)
		return (size_t)rng_range(r, 513, 8192);
	return (size_t)rng_range(r, 8193, 65536);
}

struct blk {
	unsigned char *p; /* block */
	size_t n;         /* size */
};

static void *run(void *arg)
{
	struct worker *w = arg;
	struct rng r = rng_seed(w->seed);
	size_t cap = 1 << 16, cnt = 0, kept = 0;
	struct blk *b = xmalloc(cap * sizeof(*b));
	uint64_t sum = 0, done = 0;

	while (done < w->bytes) {
		if (cnt == cap) {
			cap *= 2;
			b = realloc(b, cap * sizeof(*b));
			if (!b)
				exit(3);
		}
		size_t n = burst_size(&r);
		b[cnt].p = xmalloc(n);
		b[cnt].n = n;
		touch_lines(b[cnt].p, n, (unsigned char)cnt);
		b[cnt].p[n - 1] = (unsigned char)(cnt >> 8);
		cnt++;
		done += n;
	}
	pthread_barrier_wait(&burst_done);
	for (size_t i = 0; i < cnt; i++) {
		if (rng_below(&r, 100) == 0) {
			b[kept++] = b[i];
			w->live += b[i].n;
		} else {
			sum += b[i].p[0] + b[i].p[b[i].n - 1];
			free(b[i].p);
		}
	}
	pthread_barrier_wait(&freed);
	/* Light activity while the main thread waits. */
	while (!atomic_load(&stop)) {
		void *tmp[16];
		for (int i = 0; i < 16; i++) {
			tmp[i] = xmalloc(16 + 16 * (size_t)i);
			memset(tmp[i], i, 16);
		}
		for (int i = 0; i < 16; i++)
			free(tmp[i]);
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	for (size_t i = 0; i < kept; i++) {
		sum += b[i].p[0];
		free(b[i].p);
	}
	free(b);
	w->checksum = sum;
	return NULL;
}

int main(int argc, char **argv)
{
	struct bench_args a = bench_parse(argc, argv, 1);
	uint64_t total = bench_scaled(BASE_BYTES, a.scale);
	const char *env = getenv("BURST_SETTLE_MS");
	long settle_ms = env ? atol(env) : 1500;
	struct worker *w = calloc((size_t)a.threads, sizeof(*w));
	double t0 = now_sec();
	uint64_t h = 0, live = 0;
	long burst_rss, post_rss;

	if (!w)
		return 3;
	pthread_barrier_init(&burst_done, NULL, (unsigned)a.threads + 1);
	pthread_barrier_init(&freed, NULL, (unsigned)a.threads + 1);
	for (int i = 0; i < a.threads; i++) {
		w[i].bytes = total / a.threads;
		w[i].seed = 8000 + i;
		if (pthread_create(&w[i].tid, NULL, run, &w[i]) != 0) {
			perror("pthread_create");
			return 1;
		}
	}
	pthread_barrier_wait(&burst_done);
	burst_rss = rss_kb();
	pthread_barrier_wait(&freed);
	for (long slept = 0; slept < settle_ms; slept += 10) {
		/* the main thread is lightly active too */
		void *p = xmalloc(64);
		memset(p, 1, 64);
		free(p);
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
	post_rss = rss_kb();
	atomic_store(&stop, 1);
	for (int i = 0; i < a.threads; i++) {
		pthread_join(w[i].tid, NULL);
		h = mix(h, w[i].checksum);
		live += w[i].live;
	}
	free(w);
	printf("burst_rss_kb=%ld live_kb=%llu post_burst_rss_kb=%ld\n", burst_rss,
	       (unsigned long long)(live >> 10), post_rss);
	bench_report("burst_retention", h, now_sec() - t0);
	return 0;
}
