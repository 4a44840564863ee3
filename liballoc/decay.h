/*
 * decay: the one rule that decides how many freed pages an arena keeps
 * unpurged, and the one driver that purges the rest, for every kind of
 * free page: small-page and large runs in chunks (arena.c) and huge runs
 * (huge.c).
 *
 * The rule (a linear allowance per epoch). Time is cut into epochs of
 * decay_ms/64 (DECAY_NEPOCHS); pages freed during an epoch count as freed at
 * its start e_i. At time t an arena may keep
 *
 *     allowance(t) = floor( sum_i n_i * max(0, 1 - (t - e_i) / W) )
 *
 * pages unpurged, where n_i is the number of pages freed in epoch i and
 * W = 64 * floor(decay_ms * 1e6 / 64) ns (decay_ms, rounded down to 64 ns).
 * So N pages freed at an epoch start may all stay at first, 90% of them
 * (floor) after W/10, half after W/2, none after W:
 *
 *     allowance
 *       N |*
 *         |   *
 *     N/2 |       *
 *         |           *
 *       0 +---------------*---- t - e
 *         0      W/2      W
 *
 * The arena purges its oldest free pages (least recently freed first, page
 * runs and huge runs alike) down to the allowance, so a burst of frees goes
 * back gradually over the window rather than all at once at its end. Page
 * runs are purged whole and huge runs in whole 2 MiB units, each only once
 * the excess covers it: up to one run (or unit) less one page may stay above
 * the allowance until the curve has fallen by that much. Purging the
 * oldest run whole for any excess (the rule before) undershot the curve by
 * up to a run on every pass; under a churn of big runs (vectors doubled up
 * to 4 MiB: bench/realloc_growth) the ticks, a millisecond apart, then
 * purged ~240 MiB in a 1.3 s run and the program faulted it back (wall
 * 0.87 -> 1.3-1.7 s, for ~4 MiB less peak RSS; test
 * integration/decay_run_covered). The wave rule below and explicit purges
 * still take the oldest runs whole.
 * decay_ms -1 never purges (allowance unlimited); 0 purges at once
 * (allowance 0). Dirty pages follow the dirty schedule; with muzzy_decay_ms
 * other than 0, purged page runs become muzzy (MADV_FREE) and follow the
 * muzzy schedule to clean (MADV_DONTNEED). Huge runs have no muzzy stage:
 * their purge is MADV_DONTNEED (unmap with retain:false). jemalloc uses a
 * smoothstep curve over 200 epochs; this one is linear.
 *
 * One exception to the schedule, the wave rule (akin to jemalloc's
 * oversize_threshold, but measured against demand rather than extent
 * size): the curve alone would keep a burst of frees for the whole decay
 * time, though nothing takes the pages again. So an arena also tracks its
 * demand, the free pages it took again for blocks over the last
 * DECAY_DEMAND_EPOCHS epochs; whenever its dirty pages exceed the demand
 * by DECAY_WAVE_PAGES (8 MiB), a free purges them at once, oldest first,
 * down to the demand (decay_wave), unless decay is -1 or 0; for the
 * DECAY_DEMAND_EPOCHS epochs that follow, an excess of 1 MiB is enough
 * (the tail of the wave), on frees and on decay ticks. Churn (of
 * small pages or of big blocks) keeps its freed pages, which it reuses
 * without page faults; a wave of frees that nothing reuses goes back at
 * once (jemalloc purges any freed extent of 8 MiB or more at once and pays
 * a fault per page on reuse).
 *
 * A wave's tail passes over page runs come at most one per
 * DECAY_WAVE_GAP_NS (huge runs, purged in whole 2 MiB units, go at once).
 * Freed page runs are small and scattered (a slab page goes back when its
 * last block is freed, in any order), and each madvise call costs a system
 * call and a TLB shootdown to every CPU running the process's threads:
 * ~10 us in this VM, against ~0.25 us a page. Purging a 1 MiB excess at
 * once took a call for every run freed since, ~20 pages each, and the
 * runs freed next to them a little later took calls of their own; after
 * the gap, neighbours freed meanwhile have merged into one run and one
 * call (bench/burst_retention, 500 MiB purged: 6540 ranges -> ~1450, CPU
 * median 0.42 -> 0.34 s, within noise of the same run with decay off). The
 * pages wait up to the gap (one or two ticks of the coarse clock) and the
 * next free or decay tick purges them; the ranges of a pass go to the
 * kernel in one system call per batch (os_purge_forced_many).
 *
 * Clean pages the program takes again after a wave purged them count as
 * demand too (up to the pages waves purged), so a program that frees and
 * reallocates a big buffer now and then pays the faults once, not at every
 * free (jemalloc's oversize_threshold purges it every time).
 *
 * The backlog counts pages as they are freed; pages taken again for a
 * block leave it (decay_reused, newest first), as do pages purged ahead of
 * the schedule. Pages purged on schedule stay: their share of the curve is
 * what lets the others stay unpurged, so the allowance falls along the
 * line, not faster. But once such a page is taken again (clean or muzzy),
 * it was reused, and it leaves the backlog as a dirty page taken again
 * does (the schedule's credit, decay_reused): else a page purged, taken
 * again and freed again counts twice in the window, once per free, and
 * under churn the allowance feeds itself. Each page the schedule purges
 * stays allowed through its old free, comes back as a fault, and is
 * allowed again through its new free; the curve's fall (backlog / W pages
 * a second, all purged) then equals the pages freed again, so no level is
 * ever corrected, and the fluctuations of frees against reuse (a page
 * freed in an epoch counts, one taken in a later epoch cancels the newest)
 * only push it up. An 8-thread soak with pages and huge blocks churning
 * (tests/soak) kept ~450 MiB dirty for ~100 MiB live, still rising after
 * 15 minutes, while the schedule purged and the threads faulted back
 * ~40 MiB/s of page runs whatever the operation rate. The credit
 * (sched_credit) counts the pages the schedule purged, so clean pages
 * taken when it purged none (fresh chunk or region pages after a burst
 * of frees) leave the burst's allowance alone; while there is credit, any
 * clean page taken uses it (a fresh page cannot be told from a purged
 * one), which at worst purges a little early what the credit stood for.
 * jemalloc counts the growth of its dirty pages per epoch, so it has the
 * same double count; at a third of this soak's operation rate it held
 * ~160 MiB dirty, flat. Measured on the soak (10 minutes, one run after
 * the other on a shared 2-core machine): mean dirty pages 505 -> 289 MiB,
 * mean RSS 686 -> 468 MiB; in five alternating 45 s runs, RSS (seconds
 * 15-45, medians) 625 -> 487 MiB, and the operation rate 0.84x of the
 * run before it (median of the pairs): this churn is bound by page
 * faults (~500k/s either way, fork's copy-on-write included), and pages
 * purged sooner are faulted in again. make bench's decay-touching rows
 * (mixed_ws, larson, rpmalloc, realloc_growth, large_blocks, huge_churn,
 * burst; each under 2 s, inside one decay time): geomean time and peak
 * RSS within 1% of main's, 3 reps.
 *
 * Locking: one discipline for every purge. Under the arena lock the pages
 * are taken out of the free structures (span kind SPAN_BUSY, so no
 * allocation can find them), the lock is dropped for the madvise/munmap
 * calls, and it is taken again to put them back as muzzy or clean (or drop
 * their descriptors when unmapped). No madvise or munmap runs under an arena
 * lock.
 *
 * Who drives it: allocation and free slow paths tick (decay_tick, at most
 * once a millisecond per arena, every time with decay 0); the ticks also
 * visit idle arenas now and then; background threads call decay_run; an
 * arena left with purge work pokes every thread heap (decay_poke_if_needed)
 * so that idle threads still tick.
 *
 * A thread's ticks come every so many bytes of allocation and of frees
 * (heap.c), up to 1 MiB apart for a busy thread. A thread that goes quiet
 * after a burst (a few small blocks a second) would then not tick for
 * minutes, and nothing else may: a poke is one-shot and rate-limited, and
 * the burst's own frees can use it up (one run in four of bench/decay kept
 * a 256 MiB burst that way). So while any arena has purge work pending
 * (decay_pending: from the first free into an arena with a positive decay
 * time until a decay run leaves nothing to purge), no thread's ticks are
 * more than DECAY_TICK_BYTES apart, on either side: the quiet thread ticks
 * after 64 KiB of allocation or of frees, and decay keeps its schedule.
 * Ticks brought by blocks above 4 KiB run one in DECAY_TICK_CALLS (the
 * others only re-arm, 64 KiB on): a thread churning 80 KiB blocks ticked on
 * every call, ~1.8M ticks in a second of rpmalloc-8t of which 417 had work,
 * about 3% of its CPU. A thread allocating a few such blocks a second then
 * ticks within seconds, and its small blocks still tick every 64 KiB.
 * Without any allocator call (a thread that sleeps), only background
 * threads purge (background_thread:true), as in jemalloc.
 */
#ifndef DECAY_H
#define DECAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DECAY_NEPOCHS 64

struct arena;
struct span;

/* One schedule (an arena has a dirty and a muzzy one). Not thread-safe: the
 * owning arena's lock protects it. */
struct decay {
    ssize_t ms;                     /* decay time; -1 never purge, 0 purge at once */
    uint64_t epoch_ns;              /* length of one epoch */
    uint64_t epoch_end;             /* monotonic ns at which the current epoch ends */
    unsigned cur;                   /* ring index of the current epoch */
    size_t backlog[DECAY_NEPOCHS];  /* pages that became unpurged in each epoch */
    size_t reused[DECAY_NEPOCHS];   /* free pages taken again for blocks in each epoch (demand) */
    uint64_t wave_end;              /* monotonic ns until which a wave of frees is under way */
    uint64_t wave_pages_ns;         /* monotonic ns of the wave's last pass over page runs */
    size_t wave_credit;             /* pages the wave rule purged not yet taken again (clean) */
    size_t sched_credit;            /* pages purged on schedule (still in the backlog) not yet
                                     * taken again (see decay_reused) */
};

/* Epochs over which decay_wave measures the demand for free pages (1.25 s
 * at the default 10 s decay time). */
#define DECAY_DEMAND_EPOCHS 8
/* Unpurged pages beyond the demand that make a wave of frees: 8 MiB, as
 * jemalloc's oversize_threshold. */
#define DECAY_WAVE_PAGES ((size_t)2048)
/* While a wave is under way (DECAY_DEMAND_EPOCHS epochs since it was last
 * purged), the excess that purges again: 1 MiB, so the wave's last frees
 * do not stay for the whole decay time. */
#define DECAY_WAVE_TAIL_PAGES ((size_t)256)
/* Least time between two passes of a wave over page runs (see above): one
 * tick of the coarse clock decay_now reads (4 ms at HZ=250). 1 to 20 ms
 * all gave 1400-1700 calls on bench/burst_retention, 0 gave 6540. */
#define DECAY_WAVE_GAP_NS ((uint64_t)4000000)

/* ---- the curve (pure; no clock read but decay_now) ---- */

/* Start an empty schedule of ms milliseconds (-1, 0 or positive) at now (ns). */
void decay_init(struct decay *d, ssize_t ms, uint64_t now);
/* Record npages newly unpurged pages at now. */
void decay_note(struct decay *d, size_t npages, uint64_t now);
/* npages were purged ahead of the schedule: drop them from the backlog,
 * newest first (they were freed last), so they do not raise the allowance
 * of the pages still unpurged. */
void decay_forget(struct decay *d, size_t npages);
/* npages dirty pages were purged on schedule (they stay in the backlog):
 * remember them as the schedule's credit (sched_credit). */
void decay_scheduled(struct decay *d, size_t npages);
/* npages free clean (or muzzy) pages were taken again for a block at now:
 * as many as the credit covers (and the backlog still holds) leave the
 * backlog, newest first, as reused dirty pages do (decay_forget). */
void decay_retaken(struct decay *d, size_t npages, uint64_t now);
/* allowance(now) above, in pages: SIZE_MAX when ms is -1, 0 when ms is 0. */
size_t decay_limit(struct decay *d, uint64_t now);
/* Monotonic clock in ns (coarse; cheap). */
uint64_t decay_now(void);

/* ---- the driver (arena locks) ---- */

/* A span of free dirty pages (page run or huge run) is about to be inserted
 * into arena a's free structures: stamp it, count it in the dirty schedule
 * and poke the thread heaps when enough purge work builds up. a->lock held. */
void decay_freed(struct arena *a, struct span *s);
/* npages free pages in state `state` (enum span_state) of a page run, or
 * of a huge run if huge (whose non-clean pages all count as dirty), were
 * taken again for a block: drop
 * them from that schedule's backlog, newest first, so reused pages no
 * longer raise the allowance of those still unpurged. Pages purged on
 * schedule stay in the backlog (their share of the curve is what let the
 * others stay): only reuse and eager purges take pages out of it. a->lock
 * held. */
void decay_reused(struct arena *a, unsigned state, size_t npages, bool huge);
/* Free pages taken again over the last DECAY_DEMAND_EPOCHS epochs (the
 * current one included). */
size_t decay_demand(struct decay *d, uint64_t now);
/* The wave rule: if arena a holds more than DECAY_WAVE_PAGES dirty pages
 * beyond its recent demand for them (decay_demand), purge at once, oldest
 * first, down to the demand; then, while the wave lasts, as soon as the
 * excess reaches DECAY_WAVE_TAIL_PAGES (page runs no sooner than
 * DECAY_WAVE_GAP_NS after the last pass over them). Not with decay -1 or 0. a->lock
 * held on entry and on return, dropped around the madvise calls. */
void decay_wave(struct arena *a);
/* Purge at once the spans of `list` (linked by ->next, already out of the
 * free structures, kind SPAN_BUSY; huge runs if huge, else page runs), ahead
 * of the schedule. a->lock held on entry and on return, dropped meanwhile. */
void decay_purge_eager(struct arena *a, struct span *list, bool huge);
/* Purge what the schedules say now (everything with force). Takes a->lock. */
void decay_run(struct arena *a, bool force);
/* Cheap tick from slow paths: runs decay_run when due. Takes a->lock then. */
void decay_tick(struct arena *a);
/* decay_run on every arena holding dirty or muzzy pages: what their
 * schedules make due now is purged (mallctl "epoch" writes: a process that
 * went quiet after a burst and only reads its stats, a monitoring thread or
 * Redis's cron, gets its memory back on schedule with no allocation and no
 * background thread). Takes each arena's lock in turn; nothing in a signal
 * handler inside an allocator lock. */
void decay_due_all(void);
/* Set an arena's decay times (-1, 0 or ms), restarting the schedule that
 * changed with the pages it already holds, and run decay. Takes a->lock. */
void decay_set(struct arena *a, ssize_t dirty_ms, ssize_t muzzy_ms);
/* Largest number of bytes of allocation (and of frees) between two decay
 * ticks of a thread while purge work is pending (see above): a quiet thread
 * allocating and freeing 1 KiB every 10 ms ticks within 0.7 s (jemalloc's
 * 1000 events take 5 s at that pace). Smaller costs busy threads one clock
 * read per interval: 16 KiB made larson-2t ~10% slower, 4 KiB ~40%; 64 KiB
 * is within the noise. */
#define DECAY_TICK_BYTES ((uint64_t)65536)
#define DECAY_TICK_CALLS 16

/* True while some arena has purge work pending (decay_freed sets it, a decay
 * run that leaves nothing to purge clears it). Lock-free; any thread. */
bool decay_pending(void);
/* Wake every thread heap's decay ticking (rate-limited to every 5 ms) if an
 * arena got pages to purge or still has some. Lock-free; any thread. */
void decay_poke_if_needed(void);

#endif
