/*
 * lock_depth: the allocator locks (arena, base, arena list) the calling
 * thread holds, for signal handlers that allocate.
 *
 * lock_depth counts them per thread, raised before a wait and lowered
 * after the release. The allocation paths that take an arena's lock
 * (arena_lock_for_alloc, the resizes in place, decay ticks, a sample's
 * relocation) are entered with no counted lock held, and base_alloc under
 * one at most; a call that finds more runs inside a signal handler (or
 * other reentry) that interrupted this thread in one of those critical
 * sections: waiting for such a lock there could wait for the thread
 * itself, forever. So the allocation paths only try the lock
 * then (lock_or_try) and serve elsewhere or fail with ENOMEM
 * (arena_lock_for_alloc), optional work (decay ticks, a sample's
 * relocation) is skipped, and frees are deferred anyway (defer.h). POSIX
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

static inline void lock_counted(pthread_mutex_t *m)
{
    lock_depth++;
    atomic_signal_fence(memory_order_seq_cst);
    pthread_mutex_lock(m);
}

/* Take m if it is free now; true if taken. */
static inline bool trylock_counted(pthread_mutex_t *m)
{
    lock_depth++;
    atomic_signal_fence(memory_order_seq_cst);
    if (pthread_mutex_trylock(m) == 0)
        return true;
    atomic_signal_fence(memory_order_seq_cst);
    lock_depth--;
    return false;
}

static inline void unlock_counted(pthread_mutex_t *m)
{
    pthread_mutex_unlock(m);
    atomic_signal_fence(memory_order_seq_cst);
    lock_depth--;
}

/* Take m, waiting for it, unless the thread holds more than `nested`
 * counted locks: then only try. `nested` is how many its legitimate
 * callers may hold (base_lock is taken under an arena's lock or the arena
 * list's: 1); more means a signal handler interrupted the thread inside
 * one. True if m is held. */
static inline bool lock_or_try_nested(pthread_mutex_t *m, unsigned nested)
{
    if (__builtin_expect(lock_depth <= nested, 1)) {
        lock_counted(m);
        return true;
    }
    return trylock_counted(m);
}

/* lock_or_try_nested for a lock no counted lock is held around. */
static inline bool lock_or_try(pthread_mutex_t *m)
{
    return lock_or_try_nested(m, 0);
}

#endif
