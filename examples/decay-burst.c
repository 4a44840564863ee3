/*
 * decay-burst: a bursty cache (think Redis during a wave of expirations).
 * Every few seconds it fills a cache with ~256 MiB of small and medium
 * entries, then expires them all at once, while a trickle of requests keeps
 * allocating a little. It prints the process RSS every 100 ms, so you can
 * watch how fast each dirty_decay_ms / muzzy_decay_ms setting gives memory
 * back:
 *
 *   MALLOC_CONF=dirty_decay_ms:1000,muzzy_decay_ms:0 build/examples/decay-burst
 *
 * Output: "<seconds> <rss MiB>" lines (gnuplot-ready).
 * usage: decay-burst [SECONDS] [BURSTS]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static long rss_mib(void)
{
    long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * sysconf(_SC_PAGESIZE) / (1 << 20);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static size_t entry_size(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng % 100 < 80 ? 32 + rng % 480 : 512 + rng % 16384;
}

int main(int argc, char **argv)
{
    double duration = argc > 1 ? atof(argv[1]) : 12.0;
    int bursts = argc > 2 ? atoi(argv[2]) : 2;
    size_t cap = 1 << 21, n = 0;
    void **cache = malloc(cap * sizeof(void *));
    double t0 = now(), next_print = 0, next_burst = 0.5;
    int done = 0;
    while (now() - t0 < duration) {
        double t = now() - t0;
        if (done < bursts && t >= next_burst) {
            size_t bytes = 0; /* fill ~256 MiB, then expire everything */
            while (bytes < ((size_t)256 << 20) && n < cap) {
                size_t s = entry_size();
                cache[n] = malloc(s);
                memset(cache[n], 1, s);
                bytes += s;
                n++;
            }
            printf("%.1f %ld\n", now() - t0, rss_mib());
            for (size_t i = 0; i < n; i++)
                free(cache[i]);
            n = 0;
            done++;
            next_burst = t + duration / (bursts + 1);
        }
        /* The trickle: a few short-lived requests per 10 ms. */
        for (int i = 0; i < 4; i++) {
            /* volatile: a compiler may drop a malloc/free pair whose block
             * is never used (GCC does at -O2), and the trickle with it. */
            void *volatile p = malloc(entry_size());
            free(p);
        }
        if (t >= next_print) {
            printf("%.1f %ld\n", t, rss_mib());
            fflush(stdout);
            next_print += 0.1;
        }
        usleep(10000);
    }
    free(cache);
    return 0;
}
