/*
 * stress: the profiler under concurrency (tests/apps/prof_stress.sh).
 * For SECONDS seconds:
 *  - 8 workers allocate (malloc, calloc, realloc, posix_memalign; 16 B to
 *    4 MiB) and free, half of their blocks through a shared exchange so
 *    they are freed by another thread;
 *  - a dumper calls prof.dump in a loop, alternately to DIR/s.<n>.heap and
 *    with NULL (prof_prefix names), and prof.reset every 16th dump unless
 *    NO_RESET is set;
 *  - a loader dlopens LIB (which allocates in its constructor and frees in
 *    its destructor), allocates through it, and dlcloses it (unless
 *    NO_DLOPEN is set);
 *  - a spawner starts short-lived named threads that allocate and exit;
 *  - a forker forks every 50 ms; the child allocates, writes
 *    DIR/c.<n>.heap with prof.dump and _exits; a child that does not finish
 *    within 60 s (deadlocked on a lock held at fork time; a loaded machine
 *    takes well under a second) is a failure.
 * Every prof.dump must return 0. Prints counts; exits 0 when all is well.
 * SECONDS is a minimum: on a loaded machine the run goes on (60 s more at
 * most) until every thread kind made the progress prof_stress.sh asks for
 * (MIN_* below), so a slow machine is not mistaken for a stuck profiler.
 *
 *   stress DIR SECONDS LIB
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
    __attribute__((weak));

#define NWORKERS 8
#define RING     1024
#define NX       4096

/* Progress prof_stress.sh requires (its awk check): allocations, dumps
 * (half of them named by prof_prefix), dlopen/dlclose cycles, short
 * threads, forks. */
#define MIN_ALLOC 10000
#define MIN_DUMP  10
#define MIN_DL    10
#define MIN_SPAWN 10
#define MIN_FORK  5
/* The longest a run is extended past SECONDS to reach them. */
#define MAX_EXTRA_SECS 60

static atomic_int stop;
static atomic_ulong n_alloc, n_remote, n_dump, n_reset, n_dl, n_spawn, n_fork;
/* Progress so far, updated as the threads go (the totals above are stored
 * when they end). */
static atomic_ulong live_alloc, live_dump, live_dl, live_spawn, live_fork;
static atomic_int failed;
static _Atomic(void *) exch[NX];
static const char *dir, *libpath;

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static size_t pick_size(uint64_t r)
{
    switch (r % 16) {
    case 0:
        return (size_t)1 << 20 | (r >> 8) % (3u << 20); /* 1-4 MiB */
    case 1:
    case 2:
        return 32768 + (r >> 8) % 98304; /* large */
    default:
        return 16 + (r >> 8) % 4096; /* small */
    }
}

__attribute__((noinline)) static void *stress_alloc(uint64_t r)
{
    size_t n = pick_size(r);
    void *p = NULL;
    switch ((r >> 4) % 8) {
    case 0:
        p = calloc(1, n);
        break;
    case 1:
        if (posix_memalign(&p, 64 << (r >> 20) % 6, n))
            p = NULL;
        break;
    case 2:
        p = malloc(n / 2 + 1);
        if (p)
            p = realloc(p, n);
        break;
    default:
        p = malloc(n);
        break;
    }
    if (!p) {
        fprintf(stderr, "stress: allocation of %zu failed\n", n);
        exit(2);
    }
    ((volatile char *)p)[0] = 1;
    ((volatile char *)p)[n - 1] = 2;
    return p;
}

static void *worker(void *arg)
{
    uint64_t s = 0x9e3779b97f4a7c15ull * ((uintptr_t)arg + 7);
    void **ring = calloc(RING, sizeof(void *));
    unsigned long a = 0, rem = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        uint64_t r = rnd(&s);
        void *p = stress_alloc(r);
        if (++a % 256 == 0)
            atomic_fetch_add_explicit(&live_alloc, 256, memory_order_relaxed);
        if (r & (1u << 30)) { /* to the exchange; free whatever was there */
            void *q = atomic_exchange(&exch[(r >> 32) % NX], p);
            if (q)
                rem++;
            free(q);
        } else {
            unsigned i = (unsigned)(r >> 40) % RING;
            free(ring[i]);
            ring[i] = p;
        }
    }
    for (unsigned i = 0; i < RING; i++)
        free(ring[i]);
    free(ring);
    atomic_fetch_add(&n_alloc, a);
    atomic_fetch_add(&n_remote, rem);
    return NULL;
}

static void *dumper(void *arg)
{
    (void)arg;
    unsigned long n = 0;
    struct timespec pause = {0, 10 * 1000 * 1000};
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/s.%lu.heap", dir, n);
        const char *name = (n & 1) ? NULL : path;
        int err = mallctl("prof.dump", NULL, NULL, &name, sizeof(name));
        if (err) {
            fprintf(stderr, "stress: prof.dump(%s) returned %d\n", name ? name : "NULL", err);
            atomic_store(&failed, 1);
        }
        n++;
        atomic_store_explicit(&live_dump, n, memory_order_relaxed);
        if (n % 16 == 0 && !getenv("NO_RESET")) {
            err = mallctl("prof.reset", NULL, NULL, NULL, 0);
            if (err) {
                fprintf(stderr, "stress: prof.reset returned %d\n", err);
                atomic_store(&failed, 1);
            }
            atomic_fetch_add(&n_reset, 1);
        }
        nanosleep(&pause, NULL);
    }
    atomic_store(&n_dump, n);
    return NULL;
}

static void *loader(void *arg)
{
    (void)arg;
    unsigned long n = 0;
    if (getenv("NO_DLOPEN"))
        return NULL;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        void *h = dlopen(libpath, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            fprintf(stderr, "stress: dlopen %s: %s\n", libpath, dlerror());
            atomic_store(&failed, 1);
            return NULL;
        }
        void *(*fn)(size_t) = (void *(*)(size_t))dlsym(h, "stress_lib_alloc");
        if (!fn) {
            fprintf(stderr, "stress: dlsym stress_lib_alloc: %s\n", dlerror());
            atomic_store(&failed, 1);
            return NULL;
        }
        void *v[64];
        for (int i = 0; i < 64; i++)
            v[i] = fn(16 + i * 512);
        for (int i = 0; i < 64; i++)
            free(v[i]);
        dlclose(h);
        n++;
        atomic_store_explicit(&live_dl, n, memory_order_relaxed);
    }
    atomic_store(&n_dl, n);
    return NULL;
}

static void *short_lived(void *arg)
{
    char name[32];
    snprintf(name, sizeof(name), "short-%lu", (unsigned long)(uintptr_t)arg);
    const char *p = name;
    mallctl("thread.prof.name", NULL, NULL, &p, sizeof(p));
    uint64_t s = (uintptr_t)arg * 2654435761u + 1;
    void *v[32];
    for (int i = 0; i < 32; i++)
        v[i] = stress_alloc(rnd(&s));
    for (int i = 0; i < 32; i += 2) /* half outlive the thread */
        free(v[i]);
    for (int i = 1; i < 32; i += 2) {
        void *q = atomic_exchange(&exch[(uintptr_t)v[i] / 64 % NX], v[i]);
        free(q);
    }
    return NULL;
}

static void *spawner(void *arg)
{
    (void)arg;
    unsigned long n = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        pthread_t t;
        if (pthread_create(&t, NULL, short_lived, (void *)(uintptr_t)n) == 0) {
            pthread_join(t, NULL);
            n++;
            atomic_store_explicit(&live_spawn, n, memory_order_relaxed);
        }
    }
    atomic_store(&n_spawn, n);
    return NULL;
}

static void *forker(void *arg)
{
    (void)arg;
    unsigned long n = 0;
    struct timespec pause = {0, 50 * 1000 * 1000}, tick = {0, 10 * 1000 * 1000};
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "stress: fork: %s\n", strerror(errno));
            atomic_store(&failed, 1);
            return NULL;
        }
        if (pid == 0) {
            uint64_t s = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull | 1;
            void *v[64];
            for (int i = 0; i < 64; i++)
                v[i] = stress_alloc(rnd(&s));
            char path[4096];
            snprintf(path, sizeof(path), "%s/c.%lu.heap", dir, n);
            const char *name = path;
            int err = mallctl("prof.dump", NULL, NULL, &name, sizeof(name));
            for (int i = 0; i < 64; i++)
                free(v[i]);
            _exit(err ? 3 : 0);
        }
        int st = 0, waited = 0;
        pid_t r;
        while ((r = waitpid(pid, &st, WNOHANG)) == 0 && waited < 6000) {
            nanosleep(&tick, NULL);
            waited++;
        }
        if (r == 0) {
            fprintf(stderr,
                    "stress: forked child %d (fork %lu) still running after 60 s: deadlocked\n",
                    (int)pid, n);
            if (access("/usr/bin/gdb", X_OK) == 0) { /* show where it is stuck */
                unsetenv("LD_PRELOAD"); /* the shell and gdb must not profile themselves */
                unsetenv("MALLOC_CONF");
                char cmd[256];
                snprintf(
                    cmd, sizeof(cmd),
                    "timeout 30 gdb -p %d -batch -ex bt 2>/dev/null | grep '^#' | head -24 >&2",
                    (int)pid);
                if (system(cmd) != 0)
                    fprintf(stderr, "stress: (gdb failed)\n");
            }
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            atomic_store(&failed, 1);
            return NULL;
        }
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "stress: forked child %d (fork %lu) ended with status 0x%x\n", (int)pid,
                    n, st);
            atomic_store(&failed, 1);
        }
        n++;
        atomic_store_explicit(&live_fork, n, memory_order_relaxed);
        nanosleep(&pause, NULL);
    }
    atomic_store(&n_fork, n);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: stress DIR SECONDS LIB\n");
        return 2;
    }
    if (!mallctl) {
        fprintf(stderr, "stress: mallctl not found (run with LD_PRELOAD=liballoc.so)\n");
        return 2;
    }
    dir = argv[1];
    double secs = atof(argv[2]);
    libpath = argv[3];
    pthread_t w[NWORKERS], d, l, sp, fk;
    for (int i = 0; i < NWORKERS; i++)
        pthread_create(&w[i], NULL, worker, (void *)(uintptr_t)i);
    pthread_create(&d, NULL, dumper, NULL);
    pthread_create(&l, NULL, loader, NULL);
    pthread_create(&sp, NULL, spawner, NULL);
    pthread_create(&fk, NULL, forker, NULL);
    struct timespec t = {(time_t)secs, (long)((secs - (time_t)secs) * 1e9)};
    nanosleep(&t, NULL);
    /* Past SECONDS: go on while some kind is short of its minimum (a loaded
     * machine), polling every 50 ms, MAX_EXTRA_SECS at most. A thread that
     * failed (or the loader, which stops on error) ends the wait too. */
    struct timespec poll = {0, 50 * 1000 * 1000};
    for (int i = 0; i < MAX_EXTRA_SECS * 20 && !atomic_load(&failed); i++) {
        if (atomic_load(&live_alloc) >= MIN_ALLOC && atomic_load(&live_dump) >= MIN_DUMP &&
            (getenv("NO_DLOPEN") || atomic_load(&live_dl) >= MIN_DL) &&
            atomic_load(&live_spawn) >= MIN_SPAWN && atomic_load(&live_fork) >= MIN_FORK)
            break;
        if (i == 0)
            fprintf(stderr, "stress: after %g s short of the minimum progress; going on\n", secs);
        nanosleep(&poll, NULL);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < NWORKERS; i++)
        pthread_join(w[i], NULL);
    pthread_join(d, NULL);
    pthread_join(l, NULL);
    pthread_join(sp, NULL);
    pthread_join(fk, NULL);
    for (unsigned i = 0; i < NX; i++)
        free(atomic_exchange(&exch[i], NULL));
    printf("stress: %lu allocations (%lu freed by another thread), %lu dumps, %lu resets, "
           "%lu dlopen/dlclose, %lu short threads, %lu forks\n",
           (unsigned long)n_alloc, (unsigned long)n_remote, (unsigned long)n_dump,
           (unsigned long)n_reset, (unsigned long)n_dl, (unsigned long)n_spawn,
           (unsigned long)n_fork);
    return atomic_load(&failed) ? 1 : 0;
}
