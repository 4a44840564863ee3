/*
 * A signal handler that frees blocks the main loop allocated (sampled:
 * prof:true,lg_prof_sample:0), the counterpart of prof_signal_alloc: the
 * interrupted thread may hold its arena's shared lock (relocating a new
 * sample into the shared heap) or a live-sample bucket's lock bit when the
 * handler's free of a sampled block wants the same lock. Before the fix the
 * free path waited (heap_free_slow's shared_lock, site_forget_td's bucket)
 * and the process hung at once; such a free is now deferred to the end of
 * the interrupted call (liballoc/defer.h). A watchdog thread fails the test
 * if the main loop makes no progress for 3 s.
 */
#include "check.h"

#include <pthread.h>
#include <signal.h>
#include <sys/time.h>

static volatile long progress, hits;
static void *volatile pool[64];
static volatile int npool;
static volatile int done;

static void handler(int sig)
{
    (void)sig;
    if (npool > 0)
        free(pool[--npool]);
    hits++;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Runs with SIGALRM blocked (it is created before the signal is used), so
 * its sleeps are not cut short and every signal lands on the main thread. */
static void *watchdog(void *arg)
{
    long last = -1;
    double since = now_s();
    while (!done) {
        usleep(100000);
        long turns = progress;
        if (turns != last) {
            last = turns;
            since = now_s();
        } else if (now_s() - since > 3.0) {
            fprintf(stderr, "prof_signal_free: no progress for 3 s at %ld turns, %ld signals: "
                            "deadlock in a sampled free from a signal handler\n",
                    turns, hits);
            _exit(1);
        }
    }
    return arg;
}

int main(void)
{
    tl_require_liballoc();
    bool prof = false;
    size_t sz = sizeof(prof);
    CHECK_I(mallctl("opt.prof", &prof, &sz, NULL, 0), ==, 0);
    CHECK_MSG(prof, "this test needs prof:true (prof_signal_free.conf)");
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART;
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
    sigset_t alrm, old;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    CHECK(pthread_sigmask(SIG_BLOCK, &alrm, &old) == 0);
    pthread_t wd;
    CHECK(pthread_create(&wd, NULL, watchdog, NULL) == 0);
    CHECK(pthread_sigmask(SIG_SETMASK, &old, NULL) == 0);
    /* one signal per 250 us */
    struct itimerval it = {{0, 250}, {0, 250}};
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        for (int i = 0; i < 1000; i++) {
            char *volatile p = malloc(16 + (size_t)(i % 512));
            p[0] = 1;
            if (npool < 64) { /* handed to the handler, SIGALRM blocked meanwhile */
                CHECK(pthread_sigmask(SIG_BLOCK, &alrm, NULL) == 0);
                pool[npool++] = p;
                CHECK(pthread_sigmask(SIG_UNBLOCK, &alrm, NULL) == 0);
            } else {
                free(p);
            }
        }
        progress++;
        clock_gettime(CLOCK_MONOTONIC, &t1);
    } while ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 1000);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    done = 1;
    while (npool > 0)
        free(pool[--npool]);
    pthread_join(wd, NULL);
    CHECK_MSG(hits > 100, "only %ld signals were handled", hits);
    printf("ok: %ld turns, %ld signals\n", progress, hits);
    return 0;
}
