/*
 * soak: the allocator under a long mixed load, for leaks of memory and of
 * corruption that short tests miss (issue 17 point 4).
 *
 *   soak DIR SECONDS LIB.so
 *
 * Eight threads (SOAK_THREADS) allocate and free mixed sizes (8 B .. 4 MiB,
 * most small), hand about a third of their blocks to other threads through a
 * shared exchange (cross-thread frees), and check every block's contents
 * (a pattern derived from its address and size) before freeing it. Besides:
 *  - thread 0 forks every 250 ms; the child allocates, checks and exits
 *    (status 0 only when its checks pass);
 *  - thread 1 dlopens LIB.so, has it allocate, dlcloses it, every 50 ms;
 *  - the main thread writes a profile (mallctl "prof.dump") to
 *    DIR/soak.<n>.heap every second (when profiling is on) and samples the
 *    resident set size (/proc/self/statm) every second to DIR/rss.csv
 *    ("second,rss_kib").
 * With SOAK_STATS=FILE set, the main thread also writes, every second after
 * an `epoch`, the allocator's own figures to FILE (CSV, header first:
 * stats.allocated/active/metadata/resident/mapped/retained, all arenas'
 * pdirty/pmuzzy pages and live large bytes, the number of arenas), and the
 * soak's own operations and page faults so far (the dirty pages an
 * allocator keeps depend on how fast it churns, and the machine is
 * shared), so a growing RSS can be traced to what grows. Off by default;
 * it reads only public mallctls, so it works against jemalloc under
 * LD_PRELOAD too.
 * Verdict, printed on the last line: RSS is flat when the median of the
 * last third of the samples is at most 10% (or 4 MiB, whichever is larger)
 * above the median of the second third (the first third is warm-up); 20%
 * in runs under 5 minutes (make test's 20 s): the live set swings between
 * ~70 and ~125 MiB at random, and in seconds the RSS is still finding the
 * high-water mark those swings reach (one run in a few read 12% more in
 * its last third, 220 against 196 MiB; flat over 30 minutes).
 * Exit status 0 only when no check failed and RSS is flat.
 */
#include <alloc.h>

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64
#define LIVE 512        /* blocks each thread holds at most */
#define XCHG 1024       /* exchange slots between threads */

struct blk {
    unsigned char *p;
    size_t n;
};

static _Atomic(struct blk *) xchg[XCHG];
static atomic_int stop;
static atomic_long failures, nops, nforks, ndlopens, nxfree;
static const char *lib_path;

static void fail(const char *what, const void *p, size_t n)
{
    char buf[256];
    int k = snprintf(buf, sizeof(buf), "soak: CORRUPTION: %s (block %p, %zu bytes)\n", what, p, n);
    if (k > 0 && write(2, buf, (size_t)k) < 0)
        _exit(2);
    atomic_fetch_add(&failures, 1);
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Byte i of a block at p of n bytes: depends on both, so a block handed to
 * the wrong owner or overwritten by a neighbour shows. Only the first and
 * last 64 bytes and one byte per 4 KiB are written and checked, to keep
 * large blocks cheap. */
static unsigned char pat(const void *p, size_t n, size_t i)
{
    uintptr_t a = (uintptr_t)p;
    return (unsigned char)((a >> 4) ^ (a >> 12) ^ n ^ (i * 131));
}

static void fill(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n && i < 64; i++)
        p[i] = pat(p, n, i);
    for (size_t i = 64; i < n; i += 4096)
        p[i] = pat(p, n, i);
    for (size_t i = n > 64 ? n - 64 : 0; i < n; i++)
        p[i] = pat(p, n, i);
}

static int check(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n && i < 64; i++)
        if (p[i] != pat(p, n, i))
            return 0;
    for (size_t i = 64; i < n; i += 4096)
        if (p[i] != pat(p, n, i))
            return 0;
    for (size_t i = n > 64 ? n - 64 : 0; i < n; i++)
        if (p[i] != pat(p, n, i))
            return 0;
    return 1;
}

static size_t pick_size(uint64_t *s)
{
    uint64_t r = rnd(s) % 1000;
    if (r < 700)
        return 1 + rnd(s) % 256;            /* small */
    if (r < 950)
        return 257 + rnd(s) % (16 << 10);   /* medium */
    if (r < 995)
        return (16 << 10) + rnd(s) % (512 << 10); /* large */
    return (512 << 10) + rnd(s) % (4 << 20); /* huge */
}

static void release(struct blk *b)
{
    if (!check(b->p, b->n))
        fail("block contents changed before free", b->p, b->n);
    free(b->p);
    b->p = NULL;
}

/* The child of a fork: allocate, check, free, exit; status 0 = clean. */
static void child(uint64_t seed)
{
    struct blk b[64];
    for (int i = 0; i < 64; i++) {
        b[i].n = pick_size(&seed) % (64 << 10) + 1;
        b[i].p = malloc(b[i].n);
        if (!b[i].p)
            _exit(3);
        fill(b[i].p, b[i].n);
    }
    for (int i = 0; i < 64; i++) {
        if (!check(b[i].p, b[i].n))
            _exit(4);
        free(b[i].p);
    }
    _exit(0);
}

static void do_fork(uint64_t *s)
{
    pid_t pid = fork();
    if (pid == 0)
        child(rnd(s));
    if (pid < 0) {
        fail("fork failed", NULL, 0);
        return;
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail("forked child's checks failed", NULL, (size_t)st);
    atomic_fetch_add(&nforks, 1);
}

static void do_dlopen(uint64_t *s)
{
    void *h = dlopen(lib_path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fail("dlopen failed", NULL, 0);
        return;
    }
    char *(*make)(size_t, unsigned char) = (char *(*)(size_t, unsigned char))dlsym(h, "soak_lib_make");
    size_t n = 1 + rnd(s) % 20000;
    char *p = make ? make(n, 0xa7) : NULL;
    if (!p)
        fail("plugin block missing or its constructor's block corrupted", NULL, n);
    dlclose(h);
    /* The plugin is gone; its block is ours and must be intact. */
    for (size_t i = 0; p && i < n; i++)
        if ((unsigned char)p[i] != 0xa7) {
            fail("plugin block changed after dlclose", p, n);
            break;
        }
    free(p);
    atomic_fetch_add(&ndlopens, 1);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    uint64_t s = 0x9e3779b97f4a7c15ULL * (uint64_t)(id + 1);
    struct blk live[LIVE] = {{0}};
    double next_fork = now() + 0.25, next_dl = now() + 0.05;
    long ops = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        struct blk *b = &live[rnd(&s) % LIVE];
        if (b->p) {
            if (rnd(&s) % 3 == 0) {
                /* Hand it over: another thread frees it. */
                struct blk *box = malloc(sizeof(*box));
                if (!box) {
                    fail("malloc of an exchange box failed", NULL, sizeof(*box));
                    release(b);
                } else {
                    *box = *b;
                    b->p = NULL;
                    struct blk *old = atomic_exchange(&xchg[rnd(&s) % XCHG], box);
                    if (old) {
                        release(old);
                        free(old);
                        atomic_fetch_add(&nxfree, 1);
                    }
                }
            } else if (rnd(&s) % 4 == 0) {
                /* Grow or shrink in place or by moving. */
                size_t n = pick_size(&s);
                if (!check(b->p, b->n))
                    fail("block contents changed before realloc", b->p, b->n);
                unsigned char *q = realloc(b->p, n);
                if (!q) {
                    fail("realloc failed", b->p, n);
                    release(b);
                } else {
                    b->p = q;
                    b->n = n;
                    fill(q, n);
                }
            } else {
                release(b);
            }
        } else {
            b->n = pick_size(&s);
            b->p = rnd(&s) % 8 ? malloc(b->n) : calloc(1, b->n);
            if (!b->p) {
                fail("malloc failed", NULL, b->n);
                continue;
            }
            fill(b->p, b->n);
        }
        if ((++ops & 1023) == 0) {
            atomic_fetch_add(&nops, 1024);
            double t = now();
            if (id == 0 && t >= next_fork) {
                do_fork(&s);
                next_fork = t + 0.25;
            }
            if (id == 1 && t >= next_dl) {
                do_dlopen(&s);
                next_dl = t + 0.05;
            }
        }
    }
    for (int i = 0; i < LIVE; i++)
        if (live[i].p)
            release(&live[i]);
    return NULL;
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &size, &res) != 2)
        res = -1;
    fclose(f);
    return res < 0 ? -1 : res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* One size_t or unsigned mallctl, 0 when the name is unknown (another
 * allocator may lack it). */
static size_t ctl_size(const char *name)
{
    size_t v = 0, sz = sizeof(v);
    if (mallctl(name, &v, &sz, NULL, 0) != 0)
        return 0;
    return v;
}

static unsigned ctl_unsigned(const char *name)
{
    unsigned v = 0;
    size_t sz = sizeof(v);
    if (mallctl(name, &v, &sz, NULL, 0) != 0)
        return 0;
    return v;
}

/* SOAK_STATS: one CSV line of the allocator's figures (see the top). */
static void stats_line(FILE *f, int s, long rss)
{
    uint64_t e = 1;
    size_t sz = sizeof(e);
    char name[96];
    (void)mallctl("epoch", &e, &sz, &e, sizeof(e));
    fprintf(f, "%d,%ld,%zu,%zu,%zu,%zu,%zu,%zu", s, rss, ctl_size("stats.allocated"),
            ctl_size("stats.active"), ctl_size("stats.metadata"), ctl_size("stats.resident"),
            ctl_size("stats.mapped"), ctl_size("stats.retained"));
    static const char *const per_all[] = {"pdirty", "pmuzzy", "large.allocated"};
    for (size_t i = 0; i < sizeof(per_all) / sizeof(per_all[0]); i++) {
        snprintf(name, sizeof(name), "stats.arenas.%d.%s", MALLCTL_ARENAS_ALL, per_all[i]);
        fprintf(f, ",%zu", ctl_size(name));
    }
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        ru.ru_minflt = ru.ru_majflt = 0;
    fprintf(f, ",%u,%ld,%ld\n", ctl_unsigned("arenas.narenas"), atomic_load(&nops),
            ru.ru_minflt + ru.ru_majflt);
    fflush(f);
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static long median(const long *v, int n)
{
    long *c = malloc(sizeof(long) * (size_t)n);
    if (!c || n <= 0) {
        free(c);
        return 0;
    }
    memcpy(c, v, sizeof(long) * (size_t)n);
    qsort(c, (size_t)n, sizeof(long), cmp_long);
    long m = c[n / 2];
    free(c);
    return m;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: soak DIR SECONDS LIB.so\n");
        return 2;
    }
    const char *dir = argv[1];
    int secs = atoi(argv[2]);
    lib_path = argv[3];
    int nthreads = getenv("SOAK_THREADS") ? atoi(getenv("SOAK_THREADS")) : 8;
    if (secs < 3 || nthreads < 2 || nthreads > MAX_THREADS) {
        fprintf(stderr, "soak: SECONDS >= 3 and 2 <= SOAK_THREADS <= %d\n", MAX_THREADS);
        return 2;
    }
    bool prof = false;
    size_t sz = sizeof(prof);
    if (mallctl("opt.prof", &prof, &sz, NULL, 0) != 0)
        prof = false;
    char path[4096];
    snprintf(path, sizeof(path), "%s/rss.csv", dir);
    FILE *csv = fopen(path, "w");
    if (!csv) {
        perror(path);
        return 2;
    }
    fprintf(csv, "second,rss_kib\n");
    FILE *stats = NULL;
    if (getenv("SOAK_STATS") && *getenv("SOAK_STATS")) {
        stats = fopen(getenv("SOAK_STATS"), "w");
        if (!stats) {
            perror(getenv("SOAK_STATS"));
            return 2;
        }
        fprintf(stats, "second,rss_kib,allocated,active,metadata,resident,mapped,retained,"
                       "pdirty,pmuzzy,large_allocated,narenas,ops,faults\n");
    }
    pthread_t th[MAX_THREADS];
    for (int i = 0; i < nthreads; i++)
        if (pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i) != 0) {
            fprintf(stderr, "soak: pthread_create failed\n");
            return 2;
        }
    long *rss = calloc((size_t)secs + 1, sizeof(long));
    int nrss = 0, ndumps = 0, dumpfail = 0;
    double t0 = now();
    for (int s = 1; s <= secs; s++) {
        double wake = t0 + s;
        while (now() < wake)
            usleep(20000);
        if (prof) {
            snprintf(path, sizeof(path), "%s/soak.%d.heap", dir, s);
            const char *pp = path;
            int err = mallctl("prof.dump", NULL, NULL, &pp, sizeof(pp));
            if (err) {
                fprintf(stderr, "soak: prof.dump %s: error %d\n", path, err);
                dumpfail++;
            } else {
                ndumps++;
            }
        }
        rss[nrss] = rss_kib();
        fprintf(csv, "%d,%ld\n", s, rss[nrss]);
        fflush(csv);
        if (stats)
            stats_line(stats, s, rss[nrss]);
        nrss++;
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < nthreads; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < XCHG; i++) {
        struct blk *b = atomic_exchange(&xchg[i], NULL);
        if (b) {
            release(b);
            free(b);
        }
    }
    fclose(csv);
    if (stats)
        fclose(stats);
    int third = nrss / 3;
    long m2 = median(rss + third, third), m3 = median(rss + nrss - third, third);
    long margin = secs < 300 ? m2 / 5 : m2 / 10;
    long limit = m2 + (margin > 4096 ? margin : 4096);
    bool flat = m3 <= limit;
    printf("soak: %d s, %d threads, %ld ops, %ld cross-thread frees, %ld forks, %ld dlopens, "
           "%d dumps (%d failed), %ld check failures\n",
           secs, nthreads, atomic_load(&nops), atomic_load(&nxfree), atomic_load(&nforks),
           atomic_load(&ndlopens), ndumps, dumpfail, atomic_load(&failures));
    printf("soak: RSS KiB median second third %ld, last third %ld, limit %ld: %s\n", m2, m3, limit,
           flat ? "flat" : "GROWING");
    free(rss);
    if (atomic_load(&failures) || dumpfail || !flat || atomic_load(&nforks) == 0 ||
        atomic_load(&ndlopens) == 0)
        return 1;
    return 0;
}
