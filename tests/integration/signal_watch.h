/*
 * signal_watch: the frame of the tests whose SIGALRM handler uses the
 * allocator while the main thread does (prof_signal_alloc, prof_signal_free):
 * the handler runs every 250 us on the main thread, and a watchdog thread
 * fails the test (exit 1, naming the deadlock) when the main loop's
 * sw_progress stands still for 3 s. The test counts its handler's calls in
 * sw_hits and its loop's turns in sw_progress.
 */
#ifndef SIGNAL_WATCH_H
#define SIGNAL_WATCH_H

#include "check.h"

#include <pthread.h>
#include <signal.h>
#include <sys/time.h>

static volatile long sw_progress, sw_hits;
static volatile int sw_done;
static const char *sw_deadlock; /* what a stall means, for the message */
static pthread_t sw_wd;

/* Runs with SIGALRM blocked (it is created before the signal is used), so
 * its sleeps are not cut short and every signal lands on the main thread. */
static void *sw_watchdog(void *arg)
{
    long last = -1;
    double since = tl_now();
    while (!sw_done) {
        usleep(100000);
        long turns = sw_progress;
        if (turns != last) {
            last = turns;
            since = tl_now();
        } else if (tl_now() - since > 3.0) {
            fprintf(stderr, "no progress for 3 s at %ld turns, %ld signals: %s\n", turns, sw_hits,
                    sw_deadlock);
            _exit(1);
        }
    }
    return arg;
}

/* Check that profiling is on (the test's .conf: conf names it), install
 * handler for SIGALRM, start the watchdog and the 250 us timer. */
static inline void sw_start(void (*handler)(int), const char *conf, const char *deadlock)
{
    tl_require_liballoc();
    bool prof = false;
    size_t sz = sizeof(prof);
    CHECK_I(mallctl("opt.prof", &prof, &sz, NULL, 0), ==, 0);
    CHECK_MSG(prof, "this test needs prof:true (%s)", conf);
    sw_deadlock = deadlock;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART;
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
    sigset_t alrm, old;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    CHECK(pthread_sigmask(SIG_BLOCK, &alrm, &old) == 0);
    CHECK(pthread_create(&sw_wd, NULL, sw_watchdog, NULL) == 0);
    CHECK(pthread_sigmask(SIG_SETMASK, &old, NULL) == 0);
    struct itimerval it = {{0, 250}, {0, 250}};
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
}

/* Stop the timer and the watchdog; the handler must have run more than
 * 100 times. */
static inline void sw_stop(void)
{
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    sw_done = 1;
    pthread_join(sw_wd, NULL);
    CHECK_MSG(sw_hits > 100, "only %ld signals were handled", sw_hits);
}

#endif
