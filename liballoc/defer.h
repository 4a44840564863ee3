/*
 * defer: frees that arrive on a thread while that same thread is inside one
 * of the allocator's slow paths, i.e. from a signal handler that interrupted
 * malloc, free, realloc, mallctl, a profiler sample or dump. The interrupted
 * call may hold any allocator or profiler lock (an arena's lock or shared
 * heap lock, its own full_lock, a live-sample bucket's lock bit, a site
 * stripe) or be halfway through editing a per-thread structure (the large
 * block cache); the handler's free would wait for that lock forever or
 * corrupt that structure. POSIX does not make free async-signal-safe, but
 * programs do it, and jemalloc and tcmalloc survive it on these paths.
 *
 * How: every slow path that may take a lock is bracketed by defer_enter /
 * defer_leave, which count a per-thread depth. A free whose slow path finds
 * the depth above zero (a reentrant free: a signal handler's, or a library
 * the profiler calls while sampling) does not run: the block, checked live
 * by free's misuse checks first, is marked freed (misuse.h's free mark for
 * a slab block, lcached = DEFER_LCACHED for a large or huge one, so
 * a second free of it is reported as a double free) and pushed on the
 * thread's deferred list, linked through its first word. The outermost
 * defer_leave, once every lock of the interrupted call is released, frees
 * the list's blocks for real, with the profiler's accounting (the sample's
 * removal, prof_stats, the recent ring) and the thread's deallocated bytes
 * counted then. So the list is non-empty only while the thread is inside a
 * slow path, and nothing is left on it when the thread leaves one.
 *
 * The fast paths (a thread-cache hit, a free of an unsampled block on a
 * page the thread owns) take no lock and do not look at the depth: they
 * cost exactly what they did. A handler's fast-path free into a page the
 * interrupted fast path is editing is as unsafe as in jemalloc (tcache).
 *
 * Concurrency: both fields are the calling thread's own (TLS); the only
 * writer besides the thread's normal flow is a signal handler on the same
 * thread, hence signal fences, an atomic push (compare-and-swap) and an
 * atomic take-all (exchange).
 */
#ifndef DEFER_H
#define DEFER_H

#include <stdatomic.h>
#include <stdbool.h>
#include "config.h"

/* span.lcached of a deferred large or huge block (tcache.h uses 0 and 1):
 * free's checks report any non-zero value as a double free. */
#define DEFER_LCACHED 2

/* The calling thread's state, one TLS object: a leave reads both fields
 * through one TLS offset (a GOT load less than two variables). */
struct defer_state {
    unsigned depth;       /* slow paths of the calling thread currently running (nesting counts) */
    _Atomic(void *) list; /* deferred blocks, linked through their first word */
};
extern __thread struct defer_state defer_tls __attribute__((tls_model("initial-exec")));

/* Free the deferred blocks (defer_leave's slow part). */
void defer_drain(void) NOINLINE;

/* True when a free on this thread must be deferred: it interrupted (or was
 * called from inside) an allocator slow path. */
ALWAYS_INLINE bool defer_busy(void)
{
    return defer_tls.depth != 0;
}

/* Enter a slow path that may take allocator or profiler locks. */
ALWAYS_INLINE void defer_enter(void)
{
    defer_tls.depth++;
    atomic_signal_fence(memory_order_seq_cst);
}

/* Leave it, without the drain: true when the caller must call
 * defer_drain now (the outermost leave, and blocks were deferred
 * meanwhile). A handler entering between the decrement and the check sees
 * depth 0 and frees directly, so no block is pushed after the last check.
 * For fast paths that make that call out of line (no stack frame). */
ALWAYS_INLINE bool defer_leave_due(void)
{
    atomic_signal_fence(memory_order_seq_cst);
    return --defer_tls.depth == 0 &&
           unlikely(atomic_load_explicit(&defer_tls.list, memory_order_relaxed) != NULL);
}

/* defer_leave_due for a section its caller entered with defer_busy()
 * false (the outermost): the depth goes back to 0 with a store, no test. */
ALWAYS_INLINE bool defer_leave_outer_due(void)
{
    atomic_signal_fence(memory_order_seq_cst);
    defer_tls.depth = 0;
    return unlikely(atomic_load_explicit(&defer_tls.list, memory_order_relaxed) != NULL);
}

/* Leave it; the outermost leave frees what was deferred meanwhile. */
ALWAYS_INLINE void defer_leave(void)
{
    if (defer_leave_due())
        defer_drain();
}

/* Push block p (live, checked, already marked freed by the caller) on the
 * calling thread's deferred list. Async-signal-safe, never allocates. */
void defer_push(void *p);

#endif
