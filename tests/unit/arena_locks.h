/*
 * arena_locks: for white-box unit tests that wrap the os seam and ask
 * whether the allocator called it under an arena lock. Single-threaded
 * tests only: a lock that trylock finds busy is held by this very call.
 */
#ifndef TESTS_ARENA_LOCKS_H
#define TESTS_ARENA_LOCKS_H

#include <pthread.h>

#include "arena.h"

/* How many arenas' locks are held right now. */
static inline unsigned arenas_locked(void)
{
    unsigned held = 0, n = arena_total();
    for (unsigned i = 0; i < n; i++) {
        struct arena *a = arenas[i];
        if (!a)
            continue;
        if (pthread_mutex_trylock(&a->lock) != 0)
            held++;
        else
            pthread_mutex_unlock(&a->lock);
    }
    return held;
}

#endif
