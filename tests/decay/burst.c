/*
 * Decay of a 512 MiB burst of small and medium blocks (16 B - 64 KiB).
 * usage: burst MODE   where MODE is
 *   light  - after the free, a small malloc/free every 10 ms
 *   idle   - after the free, sleep (background_thread:true does the work)
 *   arenas - burst in two arenas; arena B gets dirty_decay_ms -1; prints
 *            both arenas' dirty pages after the wait
 * Prints "held_mb T MB" samples and a final "burst_mb B returned_pct P".
 */
#include <alloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BURST ((size_t)512 << 20)

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2)
            res = 0;
        fclose(f);
    }
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t rng = 88172645463325252ull;
static size_t pick(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    unsigned r = (unsigned)(rng % 100);
    if (r < 70)
        return 16 + rng % 512;
    if (r < 95)
        return 512 + rng % 8192;
    return 8192 + rng % (56 << 10);
}

/* Allocate and touch ~BURST bytes; returns the block array. */
static void **burst(size_t *count)
{
    size_t cap = BURST / 16, n = 0, total = 0;
    void **v = malloc(cap * sizeof(void *));
    while (total < BURST && n < cap) {
        size_t s = pick();
        v[n] = malloc(s);
        memset(v[n], 0x5a, s);
        total += s;
        n++;
    }
    *count = n;
    return v;
}

static void release(void **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
}

static size_t arena_pdirty(unsigned a)
{
    uint64_t e = 1;
    size_t len = sizeof(e);
    mallctl("epoch", &e, &len, &e, sizeof(e));
    char name[64];
    size_t pd = 0;
    len = sizeof(pd);
    snprintf(name, sizeof(name), "stats.arenas.%u.pdirty", a);
    mallctl(name, &pd, &len, NULL, 0);
    return pd;
}

static void wait_light(double secs)
{
    double end = now() + secs;
    while (now() < end) {
        void *p = malloc(64);
        *(volatile char *)p = 1;
        free(p);
        usleep(10000);
    }
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "light";
    if (strcmp(mode, "arenas") == 0) {
        unsigned a0, b;
        size_t len = sizeof(a0);
        mallctl("thread.arena", &a0, &len, NULL, 0);
        len = sizeof(b);
        if (mallctl("arenas.create", &b, &len, NULL, 0) != 0)
            return 2;
        char name[64];
        ssize_t never = -1;
        snprintf(name, sizeof(name), "arena.%u.dirty_decay_ms", b);
        if (mallctl(name, NULL, NULL, &never, sizeof(never)) != 0)
            return 2;
        size_t na, nb;
        void **va = burst(&na);
        release(va, na);
        mallctl("thread.arena", NULL, NULL, &b, sizeof(b));
        void **vb = burst(&nb);
        release(vb, nb);
        mallctl("thread.arena", NULL, NULL, &a0, sizeof(a0));
        wait_light(2.0);
        printf("arena_a %u pdirty_mb %zu\narena_b %u pdirty_mb %zu\n", a0,
               arena_pdirty(a0) * 4096 >> 20, b, arena_pdirty(b) * 4096 >> 20);
        return 0;
    }
    long base = rss_kb();
    size_t n;
    void **v = burst(&n);
    long peak = rss_kb();
    release(v, n);
    double t0 = now();
    for (int i = 1; i <= 20; i++) {
        if (strcmp(mode, "light") == 0)
            wait_light(0.1);
        else
            usleep(100000);
        if (i % 5 == 0)
            printf("t=%.1fs held_mb %ld\n", now() - t0, (rss_kb() - base) >> 10);
    }
    long held = rss_kb() - base, burst_kb = peak - base;
    printf("burst_mb %ld returned_pct %ld\n", burst_kb >> 10,
           burst_kb > 0 ? 100 * (burst_kb - held) / burst_kb : 0);
    return 0;
}
