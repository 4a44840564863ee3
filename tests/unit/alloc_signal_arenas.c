/*
 * alloc_signal_arenas: a signal handler chooses or changes its thread's
 * arena while the thread it interrupted holds the arena list's lock,
 * deterministically: the thread is inside base_alloc's mapping for mallctl
 * "arenas.create" (the arena list's lock and base's held) when the os
 * seam's map wrapper raises the signal. Two phases:
 *   0. a thread with no heap yet: the handler's malloc creates the heap
 *      (from a recycled one, base being its thread's), which chooses an
 *      arena and counts the thread in (arena_choose);
 *   1. the main thread: the handler moves it to another arena (mallctl
 *      "thread.arena": counted out of one, into the other).
 *
 * Before the fix arena_choose's scan and the thread counts took the arena
 * list's lock, waiting for the handler's own thread, forever (the alarm
 * fails the test after 10 s). Now they take no lock (atomic counts).
 */
#include "check.h"

#include "arena.h"
#include "defer.h"
#include "heap.h"
#include "lock_depth.h"
#include "signal_in_lock.h"

#include <pthread.h>
#include <string.h>

const char *malloc_conf = "background_thread:false,narenas:4";

static struct os_ops real;
static volatile int armed, phase, fired;
static pthread_t armed_thread;
static volatile int h_heapless, h_malloc_ok, h_ctl_err = -1;
static unsigned h_from, h_to;

static int w_map(size_t size, void **out)
{
    if (armed && lock_depth == 2 && pthread_equal(pthread_self(), armed_thread)) {
        armed = 0;
        raise(SIGUSR1); /* the arena list's lock and base's held */
    }
    return real.map(size, out);
}

/* The thread's heap, read afresh (the compiler takes malloc to leave
 * globals alone). */
static struct heap *cur_heap(void)
{
    return *(struct heap *volatile *)&heap_tls;
}

static void handler(int sig)
{
    (void)sig;
    if (phase == 0) {
        h_heapless = cur_heap() == &heap_empty;
        char *volatile p = malloc(100);
        if (p) {
            memset(p, 7, 100);
            h_malloc_ok = cur_heap() != &heap_empty;
            free(p); /* deferred: the thread is inside mallctl */
        }
    } else {
        h_ctl_err = mallctl("thread.arena", NULL, NULL, &h_to, sizeof(h_to));
    }
    fired = 1;
}

/* Create arenas until the signal came; returns how many. */
static int create_until_fired(void)
{
    armed_thread = pthread_self();
    fired = 0;
    armed = 1;
    alarm(10);
    int n = sil_create_arenas_until(&fired, ARENA_MAX / 4);
    alarm(0);
    armed = 0;
    return n;
}

static void *exiting(void *arg)
{
    (void)arg;
    char *volatile p = malloc(64); /* a heap, recycled at exit */
    CHECK_NONNULL(p);
    free(p);
    return NULL;
}

static void *heapless(void *arg)
{
    (void)arg;
    CHECK_MSG(heap_tls == &heap_empty, "the thread has a heap before its first malloc");
    int n = create_until_fired();
    CHECK_MSG(fired, "phase 0: base mapped no block in %d arenas.create", n);
    CHECK_U(lock_depth, ==, 0);
    CHECK_U(defer_tls.depth, ==, 0);
    CHECK(cur_heap() != &heap_empty);
    return NULL;
}

static unsigned nthreads(unsigned i)
{
    return __atomic_load_n(&arenas[i]->nthreads, __ATOMIC_RELAXED);
}

int main(void)
{
    sil_install(SIGUSR1, handler,
                "alloc_signal_arenas: the handler waited for the arena list's lock\n");
    free(malloc(1));
    pthread_t th;
    CHECK_I(pthread_create(&th, NULL, exiting, NULL), ==, 0);
    CHECK_I(pthread_join(th, NULL), ==, 0);

    real = os_ops;
    os_ops.map = w_map;
    phase = 0;
    CHECK_I(pthread_create(&th, NULL, heapless, NULL), ==, 0);
    CHECK_I(pthread_join(th, NULL), ==, 0);
    CHECK_MSG(h_heapless, "phase 0: the thread had a heap when the signal came");
    CHECK_MSG(h_malloc_ok, "phase 0: the handler's malloc got no block or no heap");

    phase = 1;
    size_t sz = sizeof(h_from);
    CHECK(mallctl("thread.arena", &h_from, &sz, NULL, 0) == 0);
    h_to = h_from == 0 ? 1 : 0;
    CHECK_NONNULL(arena_get(h_to));
    unsigned from_n = nthreads(h_from), to_n = nthreads(h_to);
    int n = create_until_fired();
    os_ops = real;
    CHECK_MSG(fired, "phase 1: base mapped no block in %d arenas.create", n);
    CHECK_I(h_ctl_err, ==, 0);
    unsigned now;
    CHECK(mallctl("thread.arena", &now, &sz, NULL, 0) == 0);
    CHECK_U(now, ==, h_to);
    CHECK_U(nthreads(h_from), ==, from_n - 1);
    CHECK_U(nthreads(h_to), ==, to_n + 1);
    CHECK_U(lock_depth, ==, 0);
    CHECK_U(defer_tls.depth, ==, 0);
    printf("ok: a handler created its thread's heap and moved a thread between arenas under "
           "the arena list's lock\n");
    return 0;
}
