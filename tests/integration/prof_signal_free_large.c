/*
 * prof_signal_free's other shape: TEST_THREADS workers each allocate and
 * free sampled blocks of every kind (small, large from the arena's chunks,
 * huge) while SIGALRM, delivered to whichever worker runs, makes a handler
 * free blocks that worker handed it, of other sizes (large blocks of
 * 48-900 KiB and small 1-4 KiB ones). Every allocation is sampled
 * (prof_signal_free_large.conf). The interrupted worker may hold its
 * arena's lock (a large malloc or free), the shared heap's lock or a
 * profiler lock when its handler frees: before the fix the process hung.
 * Checks: progress (the main thread fails the test after 3 s without any),
 * and that nothing a handler freed is lost: each worker's thread.allocated
 * and thread.deallocated grow by the same bytes, and once everything is
 * freed the live sampled bytes (prof.stats.{bins,lextents}.<j>.live) are
 * back to their value before the workers started.
 */
#include "check.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/time.h>

#define POOL 32

static __thread void *volatile pool[POOL];
static __thread volatile int npool;
static _Atomic long progress, hits;
static _Atomic int stop, finished;
static sigset_t alrm;
/* Workers wait at start (their threads' own allocations, by libc, made)
 * and at the end (everything freed, not exited yet), so the main thread
 * compares the live sampled bytes at those two points. */
static pthread_barrier_t start_line, go_line, finish_line, exit_line;

static void handler(int sig)
{
    (void)sig;
    if (npool > 0)
        free(pool[--npool]);
    atomic_fetch_add(&hits, 1);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t thread_counter(const char *name)
{
    uint64_t v = 0;
    size_t sz = sizeof(v);
    CHECK_I(mallctl(name, &v, &sz, NULL, 0), ==, 0);
    return v;
}

/* A size for the handler's blocks: large (48-900 KiB) or small (1-4 KiB). */
static size_t handed_size(unsigned i)
{
    return i % 3 ? (48 << 10) + (size_t)(i * 7919 % 852) * 1024 : 1024 + (size_t)(i * 131 % 3072);
}

/* A size for the worker's own churn: mostly small, some large, few huge. */
static size_t churn_size(unsigned i)
{
    if (i % 97 == 0)
        return (2 << 20) + (size_t)(i % 5) * 65536;
    if (i % 5 == 0)
        return (40 << 10) + (size_t)(i * 977 % 300) * 1024;
    return 16 + (size_t)(i % 512);
}

static void *worker(void *arg)
{
    (void)arg;
    /* the counters first (the mallctls' own allocations are not counted
     * in the deltas below) */
    uint64_t a0 = thread_counter("thread.allocated");
    uint64_t d0 = thread_counter("thread.deallocated");
    pthread_barrier_wait(&start_line);
    pthread_barrier_wait(&go_line);
    CHECK(pthread_sigmask(SIG_UNBLOCK, &alrm, NULL) == 0);
    unsigned i = 0;
    while (!atomic_load(&stop)) {
        for (int k = 0; k < 200; k++, i++) {
            char *volatile p = malloc(churn_size(i));
            CHECK_NONNULL(p);
            p[0] = 1;
            if (npool < POOL) {
                char *volatile q = malloc(handed_size(i));
                CHECK_NONNULL(q);
                q[0] = 2;
                /* handed to the handler, SIGALRM blocked meanwhile */
                CHECK(pthread_sigmask(SIG_BLOCK, &alrm, NULL) == 0);
                pool[npool++] = q;
                CHECK(pthread_sigmask(SIG_UNBLOCK, &alrm, NULL) == 0);
            }
            free(p);
        }
        atomic_fetch_add(&progress, 1);
    }
    CHECK(pthread_sigmask(SIG_BLOCK, &alrm, NULL) == 0);
    while (npool > 0)
        free(pool[--npool]);
    uint64_t a1 = thread_counter("thread.allocated");
    uint64_t d1 = thread_counter("thread.deallocated");
    CHECK_MSG(a1 - a0 == d1 - d0, "allocated +%llu but deallocated +%llu: a deferred free was lost",
              (unsigned long long)(a1 - a0), (unsigned long long)(d1 - d0));
    atomic_fetch_add(&finished, 1);
    pthread_barrier_wait(&finish_line);
    pthread_barrier_wait(&exit_line);
    return NULL;
}

int main(void)
{
    tl_require_liballoc();
    bool prof = false, prof_stats = false;
    size_t sz = sizeof(prof);
    CHECK_I(mallctl("opt.prof", &prof, &sz, NULL, 0), ==, 0);
    CHECK_I(mallctl("opt.prof_stats", &prof_stats, &sz, NULL, 0), ==, 0);
    CHECK_MSG(prof && prof_stats, "this test needs prof:true,prof_stats:true (its .conf)");
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART;
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    /* Only the workers take the signal: they unblock it themselves. */
    CHECK(pthread_sigmask(SIG_BLOCK, &alrm, NULL) == 0);
    int nthreads = (int)tl_env_long("TEST_THREADS", 2);
    if (nthreads < 1)
        nthreads = 1;
    if (nthreads > 4)
        nthreads = 4; /* more only slows the run on a small machine */
    pthread_t t[4];
    CHECK(pthread_barrier_init(&start_line, NULL, (unsigned)nthreads + 1) == 0);
    CHECK(pthread_barrier_init(&go_line, NULL, (unsigned)nthreads + 1) == 0);
    CHECK(pthread_barrier_init(&finish_line, NULL, (unsigned)nthreads + 1) == 0);
    CHECK(pthread_barrier_init(&exit_line, NULL, (unsigned)nthreads + 1) == 0);
    for (int k = 0; k < nthreads; k++)
        CHECK(pthread_create(&t[k], NULL, worker, NULL) == 0);
    pthread_barrier_wait(&start_line);
    uint64_t live0 = tl_live_sampled_bytes();
    pthread_barrier_wait(&go_line);
    /* one signal per 200 us, for 1 s */
    struct itimerval it = {{0, 200}, {0, 200}};
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
    double t0 = now_s(), since = t0;
    long last = -1;
    while (now_s() - t0 < 1.0) {
        usleep(50000);
        long turns = atomic_load(&progress);
        if (turns != last) {
            last = turns;
            since = now_s();
        } else if (now_s() - since > 3.0) {
            fprintf(stderr,
                    "prof_signal_free_large: no progress for 3 s at %ld turns, %ld signals: "
                    "deadlock in a free from a signal handler\n",
                    turns, atomic_load(&hits));
            _exit(1);
        }
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    atomic_store(&stop, 1);
    /* The workers finish their round and free everything: a hang there is
     * caught too. */
    for (double w = now_s(); atomic_load(&finished) < nthreads; usleep(10000)) {
        if (now_s() - w > 3.0) {
            fprintf(stderr,
                    "prof_signal_free_large: a worker is stuck (%ld signals): deadlock "
                    "in a free from a signal handler\n",
                    atomic_load(&hits));
            _exit(1);
        }
    }
    pthread_barrier_wait(&finish_line);
    uint64_t live1 = tl_live_sampled_bytes();
    pthread_barrier_wait(&exit_line);
    for (int k = 0; k < nthreads; k++)
        CHECK(pthread_join(t[k], NULL) == 0);
    CHECK_MSG(atomic_load(&hits) > 100, "only %ld signals were handled", atomic_load(&hits));
    CHECK_U(live1, ==, live0);
    printf("ok: %d workers, %ld turns, %ld signals\n", nthreads, atomic_load(&progress),
           atomic_load(&hits));
    return 0;
}
