/*
 * signal_in_lock: for white-box unit tests of signal handlers that call
 * the allocator while the thread they interrupted holds its arena's lock,
 * deterministically: the os seam's map wrapper raises the signal from
 * inside the mmap that chunk_new makes under the arena's lock, during a
 * large malloc. Single-threaded tests only (arena_locks.h).
 */
#ifndef TESTS_SIGNAL_IN_LOCK_H
#define TESTS_SIGNAL_IN_LOCK_H

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "arena_locks.h"
#include "os.h"
#include "rtree.h"
#include "sizeclass.h"

static struct os_ops sil_real;
static volatile int sil_armed, sil_sig;
static struct arena *sil_locked; /* the arena whose lock the thread held */

static int sil_map(size_t size, void **out)
{
    if (sil_armed && arenas_locked() != 0) {
        sil_armed = 0;
        for (unsigned i = 0; i < arena_total(); i++) {
            struct arena *a = arenas[i];
            if (a && pthread_mutex_trylock(&a->lock) != 0)
                sil_locked = a;
            else if (a)
                pthread_mutex_unlock(&a->lock);
        }
        raise(sil_sig); /* the handler runs now, on this thread, lock held */
    }
    return sil_real.map(size, out);
}

static const char *sil_hang_msg;

static void sil_alarm(int sig)
{
    (void)sig;
    (void)!write(2, sil_hang_msg, strlen(sil_hang_msg));
    _exit(1);
}

/* Install handler for sig, and an alarm handler that fails the test with
 * hang_msg (a handler that hangs: deadlock under the arena lock). */
static void sil_install(int sig, void (*handler)(int), const char *hang_msg)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    CHECK(sigaction(sig, &sa, NULL) == 0);
    sil_hang_msg = hang_msg;
    sa.sa_handler = sil_alarm;
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
}

/* Allocate blocks of size bytes into fill[0..max) until *fired (set by
 * the handler of sig, sil_install) or max; the blocks stay allocated.
 * LARGE_MAX blocks take chunks from the arena under its lock; small ones
 * do under tcache:false (the shared heap's pages). An alarm after 10 s
 * catches a handler that hangs. Returns how many were allocated; *fired
 * says whether the signal came. */
static inline int sil_fill_until_signal(int sig, volatile int *fired, void **fill, int max,
                                        size_t size)
{
    sil_sig = sig;
    sil_real = os_ops;
    os_ops.map = sil_map;
    sil_armed = 1;
    alarm(10);
    int n = 0;
    while (!*fired && n < max) {
        fill[n] = malloc(size);
        CHECK_NONNULL(fill[n]);
        n++;
    }
    alarm(0);
    sil_armed = 0;
    os_ops = sil_real;
    return n;
}

/* mallctl "arenas.create" until *fired (or max arenas): each new arena's
 * descriptor comes from base under the arena list's lock, so base maps a
 * new block with both locks held (lock_depth 2), where the test's map
 * wrapper raises the signal. Returns how many were created. */
static inline int sil_create_arenas_until(volatile int *fired, int max)
{
    int n = 0;
    while (!*fired && n < max) {
        unsigned idx;
        size_t sz = sizeof(idx);
        CHECK(mallctl("arenas.create", &idx, &sz, NULL, 0) == 0);
        n++;
    }
    return n;
}

/* The arena block p came from (NULL if not ours). */
static inline struct arena *sil_arena_of(void *p)
{
    uintptr_t v = rtree_get((uintptr_t)p);
    struct span *s = rtree_value_span(v, (uintptr_t)p);
    return s ? s->arena : NULL;
}

#endif
