/*
 * peak: the peak-heap snapshot (MALLOC_CONF=prof_peak:true), tcmalloc's
 * peak-heap rule on the sampled heap.
 *
 * The sampled in-use total (unbiased bytes, each sample's weight * usize
 * rounded once, so its free removes exactly what it added) is one atomic,
 * updated under the sample's site stripe lock. After each sample one compare
 * against the threshold decides whether the heap reached a new peak: the
 * threshold is the kept peak's total plus 10% (0 before the first snapshot,
 * so the first sample takes one). A new peak copies every per-thread
 * share's counters into its peak slots and stamps every site
 * (site_peak_snapshot) with a new generation; slots of another generation
 * read as absent. Memory is two counter sets per share: bounded by the
 * number of sites and threads, never by the heap. No file I/O happens
 * here; dumps read the slots later (prof.dump_peak, the .p<N>. dump at
 * exit). Snapshots are rare: each one needs 10% more sampled heap than the
 * last.
 *
 * Consistency: each site's shares are copied together under the site's
 * stripe lock, so a site's block (its shares and their sum) adds up;
 * between sites other threads go on sampling and freeing, so the
 * snapshot's sum may differ from the total that triggered it by the
 * samples taken or freed during the walk.
 *
 * Locking: peak.lock serialises snapshots, readers of the kept snapshot
 * (peak_hold .. peak_release around a peak dump) and prof.reset. Order:
 * prof.dump_lock -> peak.lock -> prof.tdata_lock -> site stripe locks. The
 * allocation path only try-locks it: a sampler that finds it busy sets
 * `pending`, and every holder re-checks `pending` after unlocking, so a peak
 * is not lost to contention as long as the heap is still above the
 * threshold when the holder gets to it (a peak that comes and goes while a
 * peak dump is being written is missed; the next one is caught).
 */
#include "prof.h"
#include "options.h"

#include "pmath.h"
#include <stdatomic.h>
#include <time.h>

static struct {
    pthread_mutex_t lock;       /* see the locking note above */
    _Atomic uint64_t inuse;     /* sampled in-use unbiased bytes (all sites) */
    _Atomic uint64_t threshold; /* a total above this is a new peak */
    _Atomic bool pending;       /* a sampler saw a new peak but could not lock */
    uint64_t gen;               /* generation of the kept snapshot, 0: none (lock) */
    uint64_t gen_last;          /* last generation handed out, never reused (lock) */
    unsigned lg_sample;         /* sample period of the kept snapshot (lock) */
    uint64_t time_ns;           /* CLOCK_REALTIME ns when it was taken (lock) */
} peak = {.lock = PTHREAD_MUTEX_INITIALIZER};

int64_t peak_sample_bytes(double weight, size_t usize)
{
    /* Capped at 2^62: with lg_prof_sample near 63 the estimate can pass
     * INT64_MAX, where llround is undefined (it gave INT64_MIN, whose
     * negation on free is undefined too; found by fuzz_mallctl). The same
     * inputs give the same value, so a free still subtracts what its sample
     * added. */
    double b = weight * (double)usize;
    if (!(b < 4611686018427387904.0))
        return (int64_t)1 << 62;
    return pmath_llround(b);
}

uint64_t peak_inuse_add(int64_t delta)
{
    /* A free subtracts exactly what its sample added, in the same reset
     * epoch (site.c checks the epoch under the stripe lock), so the total
     * cannot go below zero. */
    return atomic_fetch_add_explicit(&peak.inuse, (uint64_t)delta, memory_order_relaxed) +
           (uint64_t)delta;
}

/* Take a snapshot if the total is above the threshold. peak.lock held. */
static void take_locked(void)
{
    uint64_t total = atomic_load_explicit(&peak.inuse, memory_order_relaxed);
    if (total <= atomic_load_explicit(&peak.threshold, memory_order_relaxed))
        return;
    uint64_t gen = ++peak.gen_last;
    site_peak_snapshot(gen);
    peak.gen = gen;
    peak.lg_sample = prof.lg_sample;
    struct timespec now; /* vDSO: no system call, no I/O */
    clock_gettime(CLOCK_REALTIME, &now);
    peak.time_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
    atomic_store_explicit(&peak.threshold, total + total / 10, memory_order_relaxed);
}

/* Serve every pending request. peak.lock held. */
static void drain_locked(void)
{
    while (atomic_exchange_explicit(&peak.pending, false, memory_order_acq_rel))
        take_locked();
}

/* A new peak was seen: take it now, or leave it to the lock's holder. */
static void take_slow(void)
{
    for (;;) {
        atomic_store_explicit(&peak.pending, true, memory_order_release);
        if (pthread_mutex_trylock(&peak.lock) != 0)
            return; /* the holder sees pending after it unlocks */
        drain_locked();
        pthread_mutex_unlock(&peak.lock);
        if (!atomic_load_explicit(&peak.pending, memory_order_acquire))
            return;
    }
}

void peak_check(uint64_t total)
{
    if (__builtin_expect(total <= atomic_load_explicit(&peak.threshold, memory_order_relaxed), 1))
        return;
    take_slow();
}

void peak_hold(void)
{
    pthread_mutex_lock(&peak.lock);
    drain_locked(); /* a peak seen but not taken yet goes in this dump */
}

void peak_release(void)
{
    drain_locked();
    pthread_mutex_unlock(&peak.lock);
    if (atomic_load_explicit(&peak.pending, memory_order_acquire))
        take_slow();
}

uint64_t peak_gen(void)
{
    return peak.gen;
}

uint64_t peak_time_ns(void)
{
    return peak.gen ? peak.time_ns : 0;
}

unsigned peak_lg_sample(void)
{
    return peak.gen ? peak.lg_sample : prof.lg_sample;
}

void peak_forget_locked(void)
{
    peak.gen = 0;
    atomic_store_explicit(&peak.inuse, 0, memory_order_relaxed);
    atomic_store_explicit(&peak.threshold, 0, memory_order_relaxed);
    atomic_store_explicit(&peak.pending, false, memory_order_relaxed);
}

void peak_prefork(void)
{
    pthread_mutex_lock(&peak.lock);
}

void peak_postfork_parent(void)
{
    pthread_mutex_unlock(&peak.lock);
}

/* The child's peak is its own, from fork on: the parent's snapshot (of a
 * heap it may have freed before forking) is dropped, and one of the heap
 * the child starts with is due (pending: taken at the child's next sample,
 * or before its first peak dump, peak_hold). */
void peak_postfork_child(void)
{
    pthread_mutex_init(&peak.lock, NULL);
    peak.gen = 0;
    atomic_store_explicit(&peak.threshold, 0, memory_order_relaxed);
    atomic_store_explicit(&peak.pending, true, memory_order_relaxed);
}
