/*
 * dumpload: profile dumps written while 8 threads allocate (tests/apps/
 * prof_pprof.sh). Workers allocate and free blocks of 16 B .. 256 KiB in
 * load_site, keep a window of live blocks, and hand some blocks to other
 * threads to free. The main thread calls mallctl("prof.dump", DIR/load.N.heap)
 * NDUMPS times while they run; every call must return 0.
 *
 *   dumpload DIR NDUMPS
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
    __attribute__((weak));

#define NTHREADS 8
#define WINDOW   2048
#define NSWAP    1024

static atomic_int stop;
static atomic_ulong ops;
static _Atomic(void *) swap[NSWAP];

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* The allocation site every dump must show. */
__attribute__((noinline, noclone, used)) void *load_site(size_t n)
{
    unsigned char *p = malloc(n);
    if (!p) {
        fprintf(stderr, "dumpload: malloc(%zu) failed\n", n);
        exit(2);
    }
    p[0] = (unsigned char)n;
    p[n - 1] = 1;
    return p;
}

static void *worker(void *arg)
{
    uint64_t s = 0x9e3779b97f4a7c15ull * ((uintptr_t)arg + 1);
    void **win = calloc(WINDOW, sizeof(void *));
    if (!win)
        exit(2);
    unsigned long n = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        uint64_t r = rnd(&s);
        size_t size = (r & 7) == 0 ? 4096 + (r >> 8) % (256 * 1024) : 16 + (r >> 8) % 2048;
        void *p = load_site(size);
        unsigned i = (unsigned)(r >> 40) % WINDOW;
        if ((r & 3) == 1) /* cross-thread: trade the block for another thread's */
            p = atomic_exchange(&swap[(r >> 20) % NSWAP], p);
        free(win[i]);
        win[i] = p;
        n++;
    }
    /* Keep the window until exit: the last dumps still see the site. */
    atomic_fetch_add(&ops, n);
    return win;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: dumpload DIR NDUMPS\n");
        return 2;
    }
    if (!mallctl) {
        fprintf(stderr, "dumpload: mallctl not found (run with LD_PRELOAD=liballoc.so)\n");
        return 2;
    }
    int ndumps = atoi(argv[2]);
    pthread_t th[NTHREADS];
    for (int t = 0; t < NTHREADS; t++)
        if (pthread_create(&th[t], NULL, worker, (void *)(uintptr_t)t) != 0)
            return 2;
    struct timespec pause = {0, 20 * 1000 * 1000};
    nanosleep(&pause, NULL);
    int bad = 0;
    for (int i = 0; i < ndumps; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/load.%d.heap", argv[1], i);
        const char *name = path;
        int err = mallctl("prof.dump", NULL, NULL, &name, sizeof(name));
        if (err) {
            fprintf(stderr, "dumpload: prof.dump(%s) returned %d (%s)\n", path, err, strerror(err));
            bad = 1;
        }
        nanosleep(&pause, NULL);
    }
    atomic_store(&stop, 1);
    for (int t = 0; t < NTHREADS; t++) {
        void *win;
        pthread_join(th[t], &win);
    }
    printf("dumpload: %d dumps while %d threads made %lu allocations\n", ndumps, NTHREADS,
           (unsigned long)atomic_load(&ops));
    return bad;
}
