/*
 * lock_depth: the allocator locks (arena, base, arena list) the calling
 * thread holds, for signal handlers that allocate.
 *
 * lock_depth counts them per thread, raised before a wait and lowered
 * after the release. The allocation paths that take an arena's lock
 * (arena_lock_for_alloc, the resizes in place, decay ticks, a sample's
 * relocation) are entered with no counted lock held; a call that finds
 * one runs inside a signal handler (or other reentry) that interrupted
 * this thread in one of those critical sections: waiting for such a lock
 * there could wait for the thread itself, forever. (base_alloc, called
 * under an arena's lock, keeps its own per-thread flag: base.c.) So the
 * allocation paths only try the lock then (lock_or_try) and serve
 * elsewhere or fail with ENOMEM (arena_lock_for_alloc), optional work
 * (decay ticks, a sample's relocation, moving dirty pages into a huge
 * block, the resident cap's purge) is skipped, and frees are deferred
 * anyway (defer.h). Nor does such a call drop an arena lock it got by
 * trying and wait to retake it (around a mapping: huge.c's region_new,
 * arena.c's chunk_reclaim): a thread that took it meanwhile may wait for
 * the lock the handler's own thread holds (base's, under an arena's
 * lock); it keeps the lock across the system call instead. The arena
 * list's thread counts take no lock (arena_choose). POSIX
 * does not make malloc async-signal-safe; this keeps a handler's
 * allocation from hanging, not from failing when everything is busy.
 *
 * Concurrency: the count is the thread's own (TLS); the only other writer
 * is a signal handler on the same thread, which leaves it as it found it,
 * hence signal fences only.
 */
#ifndef LOCK_DEPTH_H
#define LOCK_DEPTH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

extern __thread unsigned lock_depth __attribute__((tls_model("initial-exec")));

/* True when this thread holds (or waits for) a counted lock further up its
 * stack: the caller interrupted it. */
static inline bool lock_reentered(void)
{
    return lock_depth != 0;
}

/* lock_reentered() for a caller that holds `held` counted locks itself:
 * true when the thread holds more, i.e. this runs in a signal handler that
 * interrupted its thread inside an allocator lock. */
static inline bool lock_reentered_past(unsigned held)
{
    return lock_depth > held;
}

/* Take m, counted in *count (lock_depth, or a lock's own count: heap.c's
 * shared heap locks). */
static inline void lock_counted_in(pthread_mutex_t *m, unsigned *count)
{
    (*count)++;
    atomic_signal_fence(memory_order_seq_cst);
    pthread_mutex_lock(m);
}

/* Take m if it is free now, counted in *count; true if taken. */
static inline bool trylock_counted_in(pthread_mutex_t *m, unsigned *count)
{
    (*count)++;
    atomic_signal_fence(memory_order_seq_cst);
    if (pthread_mutex_trylock(m) == 0)
        return true;
    atomic_signal_fence(memory_order_seq_cst);
    (*count)--;
    return false;
}

static inline void unlock_counted_in(pthread_mutex_t *m, unsigned *count)
{
    pthread_mutex_unlock(m);
    atomic_signal_fence(memory_order_seq_cst);
    (*count)--;
}

static inline void lock_counted(pthread_mutex_t *m) { lock_counted_in(m, &lock_depth); }
static inline bool trylock_counted(pthread_mutex_t *m) { return trylock_counted_in(m, &lock_depth); }
static inline void unlock_counted(pthread_mutex_t *m) { unlock_counted_in(m, &lock_depth); }

/* Take m, waiting for it, unless lock_reentered(): then only try. True if
 * m is held. */
static inline bool lock_or_try(pthread_mutex_t *m)
{
    if (__builtin_expect(!lock_reentered(), 1)) {
        lock_counted(m);
        return true;
    }
    return trylock_counted(m);
}

#endif
