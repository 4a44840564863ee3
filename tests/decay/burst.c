/*
 * Decay of bursts of small and medium blocks (16 B - 64 KiB).
 * usage: burst MODE [SECS [PCT]]   where MODE is
 *   light  - a burst left to the decay schedule (see below); after the free,
 *            a 1 KiB malloc/free every 10 ms
 *   idle   - the same burst; after the free, sleep (background_thread:true
 *            does the work)
 *   arenas - 512 MiB bursts in two arenas; arena B gets dirty_decay_ms -1;
 *            prints both arenas' dirty pages after the wait
 * light and idle free 5 MiB in each of 8 new arenas (40 MiB): below the
 * wave rule's 8 MiB per arena (liballoc/decay.h), so no free purges any of
 * it at once and only the decay schedule (ticks or background threads,
 * after time has passed) can give it back. They print "at_free_pct A"
 * (percent of the burst given back right after the free: near 0 unless
 * something purged it at the free).
 * The wait polls every 100 ms and lasts SECS seconds (default 2) or, with
 * PCT, ends as soon as PCT percent of the burst went back to the kernel
 * (light, idle) or arena A holds at most 16 MiB dirty (arenas, any PCT):
 * a loaded machine gets up to SECS, an unloaded one is not kept waiting.
 * A wait that must see nothing returned (decay -1) gives no PCT.
 * Prints "held_mb T MB" samples and a final "burst_mb B returned_pct P
 * secs S" (S: seconds waited after the free).
 */
#include <alloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BURST ((size_t)512 << 20)
/* light and idle: SMALL_BURST in each of NARENAS new arenas. */
#define SMALL_BURST ((size_t)5 << 20)
#define NARENAS 8

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

/* Allocate and touch ~bytes bytes into v (at most cap blocks); returns the
 * number of blocks. */
static size_t fill(void **v, size_t cap, size_t bytes)
{
    size_t n = 0, total = 0;
    while (total < bytes && n < cap) {
        size_t s = pick();
        v[n] = malloc(s);
        memset(v[n], 0x5a, s);
        total += s;
        n++;
    }
    return n;
}

/* Allocate and touch ~bytes bytes; returns the block array. */
static void **burst(size_t bytes, size_t *count)
{
    size_t cap = bytes / 16;
    void **v = malloc(cap * sizeof(void *));
    *count = fill(v, cap, bytes);
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
        /* Through a volatile pointer: the compiler may drop a malloc/free
         * pair whose block is never used. */
        void *volatile p = malloc(1024);
        *(volatile char *)p = 1;
        free(p);
        usleep(10000);
    }
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "light";
    double secs = argc > 2 ? atof(argv[2]) : 2.0;
    int stop_pct = argc > 3 ? atoi(argv[3]) : -1;
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
        void **va = burst(BURST, &na);
        release(va, na);
        mallctl("thread.arena", NULL, NULL, &b, sizeof(b));
        void **vb = burst(BURST, &nb);
        release(vb, nb);
        mallctl("thread.arena", NULL, NULL, &a0, sizeof(a0));
        double t0 = now();
        do
            wait_light(0.1);
        while (now() - t0 < secs && !(stop_pct >= 0 && arena_pdirty(a0) * 4096 <= (16u << 20)));
        printf("arena_a %u pdirty_mb %zu\narena_b %u pdirty_mb %zu\nsecs %.1f\n", a0,
               arena_pdirty(a0) * 4096 >> 20, b, arena_pdirty(b) * 4096 >> 20, now() - t0);
        return 0;
    }
    /* The burst, NARENAS x SMALL_BURST in new arenas; the block arrays come
     * from the thread's arena first and are resident in base. */
    enum { CAP = SMALL_BURST / 256 };
    static void *v[NARENAS][CAP];
    size_t n[NARENAS];
    memset(v, 0, sizeof(v));
    unsigned a0;
    size_t len = sizeof(a0);
    mallctl("thread.arena", &a0, &len, NULL, 0);
    long base = rss_kb();
    for (int i = 0; i < NARENAS; i++) {
        unsigned a;
        len = sizeof(a);
        if (mallctl("arenas.create", &a, &len, NULL, 0) != 0 ||
            mallctl("thread.arena", NULL, NULL, &a, sizeof(a)) != 0)
            return 2;
        n[i] = fill(v[i], CAP, SMALL_BURST);
    }
    long peak = rss_kb();
    long burst_kb = peak - base;
    for (int i = 0; i < NARENAS; i++)
        for (size_t k = 0; k < n[i]; k++)
            free(v[i][k]);
    mallctl("thread.arena", NULL, NULL, &a0, sizeof(a0));
    long at_free = burst_kb > 0 ? 100 * (peak - rss_kb()) / burst_kb : 0;
    printf("at_free_pct %ld\n", at_free);
    double t0 = now(), next_print = 0.5;
    long pct = 0;
    for (;;) {
        if (strcmp(mode, "light") == 0)
            wait_light(0.1);
        else
            usleep(100000);
        long held = rss_kb() - base;
        pct = burst_kb > 0 ? 100 * (burst_kb - held) / burst_kb : 0;
        double t = now() - t0;
        if (t >= next_print) {
            printf("t=%.1fs held_mb %ld\n", t, held >> 10);
            next_print += 0.5;
        }
        if (t >= secs || (stop_pct >= 0 && pct >= stop_pct))
            break;
    }
    printf("burst_mb %ld returned_pct %ld secs %.1f\n", burst_kb >> 10, pct, now() - t0);
    return 0;
}
