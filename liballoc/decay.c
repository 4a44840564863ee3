/* decay: the linear allowance of unpurged pages and the purge driver for
 * every kind of free page (see decay.h). */
#include "decay.h"
#include "arena.h"
#include "huge.h"
#include "options.h"
#include "os.h"
#include "stats.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* ---- the curve ---- */

uint64_t decay_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void decay_init(struct decay *d, ssize_t ms, uint64_t now)
{
    memset(d->backlog, 0, sizeof(d->backlog));
    memset(d->reused, 0, sizeof(d->reused));
    d->sched_credit = 0; /* it stood for pages of the old backlog */
    d->ms = ms;
    d->cur = 0;
    d->epoch_ns = ms > 0 ? (uint64_t)ms * 1000000u / DECAY_NEPOCHS : 0;
    if (ms > 0 && d->epoch_ns == 0)
        d->epoch_ns = 1;
    d->epoch_end = now + d->epoch_ns;
}

/* Move the ring forward to the epoch holding now; epochs that fall out of
 * the window forget their pages (their weight is 0). */
static void decay_advance(struct decay *d, uint64_t now)
{
    if (d->ms <= 0 || now < d->epoch_end)
        return;
    uint64_t steps = (now - d->epoch_end) / d->epoch_ns + 1;
    if (steps >= DECAY_NEPOCHS) {
        memset(d->backlog, 0, sizeof(d->backlog));
        memset(d->reused, 0, sizeof(d->reused));
    } else {
        for (uint64_t i = 0; i < steps; i++) {
            d->cur = (d->cur + 1) % DECAY_NEPOCHS;
            d->backlog[d->cur] = 0;
            d->reused[d->cur] = 0;
        }
    }
    d->epoch_end += steps * d->epoch_ns;
}

void decay_note(struct decay *d, size_t npages, uint64_t now)
{
    decay_advance(d, now);
    d->backlog[d->cur] += npages;
}

size_t decay_demand(struct decay *d, uint64_t now)
{
    decay_advance(d, now);
    size_t sum = 0;
    for (unsigned k = 0; k < DECAY_DEMAND_EPOCHS; k++)
        sum += d->reused[(d->cur + DECAY_NEPOCHS - k) % DECAY_NEPOCHS];
    return sum;
}

void decay_forget(struct decay *d, size_t npages)
{
    for (unsigned k = 0; k < DECAY_NEPOCHS && npages > 0; k++) {
        size_t *b = &d->backlog[(d->cur + DECAY_NEPOCHS - k) % DECAY_NEPOCHS];
        size_t take = *b < npages ? *b : npages;
        *b -= take;
        npages -= take;
    }
}

size_t decay_limit(struct decay *d, uint64_t now)
{
    if (d->ms < 0)
        return SIZE_MAX;
    if (d->ms == 0)
        return 0;
    decay_advance(d, now);
    /* Integer arithmetic, so the allowance is exact to the page: the pages
     * of the epoch k epochs back (started at e = epoch_end - (k+1)*epoch_ns)
     * weigh (W - (now - e)) / W, W the whole window. */
    uint64_t window = (uint64_t)DECAY_NEPOCHS * d->epoch_ns;
    /* ns since the current epoch began (0 for a time before it: a caller's
     * clock read that lost a race with another's). */
    uint64_t into = d->epoch_end - now > d->epoch_ns ? 0 : d->epoch_ns - (d->epoch_end - now);
    unsigned __int128 sum = 0;
    for (unsigned k = 0; k < DECAY_NEPOCHS; k++) {
        size_t n = d->backlog[(d->cur + DECAY_NEPOCHS - k) % DECAY_NEPOCHS];
        uint64_t age = (uint64_t)k * d->epoch_ns + into;
        if (n == 0 || age >= window)
            continue;
        sum += (unsigned __int128)n * (window - age);
    }
    return (size_t)(sum / window);
}

/* ---- the driver ---- */

/* Set when an arena gains a good amount of purgeable memory (1 MiB since the
 * last poke) or still has purge work: threads then need a decay tick soon
 * even if their adaptive tick thresholds are far away (a thread that was
 * busy allocating, or one that went idle). */
#define POKE_PAGES ((size_t)256)
/* Spans purged per lock drop. */
#define PURGE_BATCH 32

/* Each on a cache line of its own: every decay tick of every thread reads
 * arenas_pending (decay_pending), and frees set decay_poke. */
static _Alignas(64) _Atomic bool decay_poke; /* see decay_poke_if_needed */
static struct {
    _Alignas(64) _Atomic int n; /* arenas with purge work pending (a->pending) */
    char pad[60];               /* nothing else on its line */
} pending_line;
#define arenas_pending (pending_line.n)

/* Set decay_poke, without a store (a cache line taken from other threads)
 * when it is set already. */
static inline void poke_set(void)
{
    if (!atomic_load_explicit(&decay_poke, memory_order_relaxed))
        atomic_store_explicit(&decay_poke, true, memory_order_relaxed);
}

/* Dirty pages of every kind an arena holds. Lock held (or a racy read). */
static size_t dirty_pages(const struct arena *a)
{
    return a->stats.ndirty + a->stats.huge_cached;
}

bool decay_pending(void)
{
    return atomic_load_explicit(&arenas_pending, memory_order_relaxed) > 0;
}

void decay_poke_if_needed(void)
{
    static _Atomic uint64_t next_poke;
    if (likely(!atomic_load_explicit(&decay_poke, memory_order_relaxed)))
        return;
    uint64_t now = decay_now(), due = atomic_load_explicit(&next_poke, memory_order_relaxed);
    if (now < due || !atomic_compare_exchange_strong(&next_poke, &due, now + 5000000))
        return;
    if (atomic_exchange(&decay_poke, false))
        stats_poke_heaps();
}

void decay_freed(struct arena *a, struct span *s)
{
    /* Any arena's pending purge work keeps threads ticking (rate-limited), even
     * while this thread only frees into an arena that never purges. */
    if (atomic_load_explicit(&arenas_pending, memory_order_relaxed) > 0)
        poke_set();
    if (a->decay_dirty.ms > 0 && dirty_pages(a) + s->npages > a->poke_mark + POKE_PAGES) {
        a->poke_mark = dirty_pages(a) + s->npages;
        poke_set();
    }
    /* Purge work from now on: ticks stay close together (decay_pending)
     * until a decay run finds nothing left to purge. */
    if (a->decay_dirty.ms > 0 && !a->pending) {
        a->pending = true;
        atomic_fetch_add_explicit(&arenas_pending, 1, memory_order_relaxed);
    }
    s->state = SPAN_DIRTY;
    s->freed_ns = decay_now();
    decay_note(&a->decay_dirty, s->npages, s->freed_ns);
}

void decay_scheduled(struct decay *d, size_t npages)
{
    d->sched_credit += npages;
}

void decay_retaken(struct decay *d, size_t npages, uint64_t now)
{
    if (d->sched_credit == 0)
        return;
    decay_advance(d, now);
    /* Credit beyond the backlog is stale: those pages' frees left the
     * window already. */
    size_t held = 0;
    for (unsigned k = 0; k < DECAY_NEPOCHS; k++)
        held += d->backlog[k];
    if (d->sched_credit > held)
        d->sched_credit = held;
    size_t take = npages < d->sched_credit ? npages : d->sched_credit;
    d->sched_credit -= take;
    decay_forget(d, take);
}

void decay_reused(struct arena *a, unsigned state, size_t npages, bool huge)
{
    if (npages == 0)
        return;
    if (state != SPAN_DIRTY && !(state == SPAN_MUZZY && huge) && a->decay_dirty.sched_credit)
        decay_retaken(&a->decay_dirty, npages, decay_now());
    if (state == SPAN_CLEAN) {
        /* Pages a wave purged, wanted again: demand (decay.h). */
        struct decay *w = &a->decay_dirty;
        size_t take = npages < w->wave_credit ? npages : w->wave_credit;
        if (take) {
            w->wave_credit -= take;
            decay_advance(w, decay_now());
            w->reused[w->cur] += take;
        }
        return;
    }
    /* Muzzy page runs have their own schedule; a huge run's only non-clean
     * states count as dirty (dirty_pages). */
    struct decay *d = state == SPAN_MUZZY && !huge ? &a->decay_muzzy : &a->decay_dirty;
    decay_forget(d, npages);
    /* Demand is measured on the dirty schedule: reused muzzy pages were
     * wanted as much as dirty ones. */
    decay_advance(&a->decay_dirty, decay_now());
    a->decay_dirty.reused[a->decay_dirty.cur] += npages;
}

/* Spans taken out for one purge pass, by kind. */
struct purge_batch {
    unsigned npg, nhg;
    struct span *pg[PURGE_BATCH]; /* page runs (arena.c) */
    struct span *hg[PURGE_BATCH]; /* huge runs (huge.c) */
};

/* Address ranges to unmap once the lock is dropped. */
struct unmap_list {
    unsigned n;
    uintptr_t addr[PURGE_BATCH];
    size_t len[PURGE_BATCH];
};

/* Unmap what u holds: drops and retakes a->lock around the munmap calls. */
static void unmap_flush(struct arena *a, struct unmap_list *u)
{
    if (u->n == 0)
        return;
    arena_unlock(a);
    for (unsigned i = 0; i < u->n; i++)
        os_unmap((void *)u->addr[i], u->len[i]);
    arena_lock(a);
    u->n = 0;
}

static void unmap_add(struct arena *a, struct unmap_list *u, uintptr_t addr, size_t len)
{
    if (u->n == PURGE_BATCH)
        unmap_flush(a, u);
    u->addr[u->n] = addr;
    u->len[u->n] = len;
    u->n++;
}

/* Clean huge space beyond what the arena retains goes back to the kernel. */
static void trim_huge(struct arena *a, struct unmap_list *u)
{
    uintptr_t addr;
    size_t len;
    while (huge_trim_take(a, &addr, &len))
        unmap_add(a, u, addr, len);
}

/* Purge batch b (spans already taken out, lock held): drop the lock, madvise
 * (lazily to muzzy if lazy, else forced to clean; huge runs with retain:false
 * are unmapped), retake it and put the spans back. eager: ahead of the
 * schedule, so the dirty backlog forgets them. */
static void purge_batch(struct arena *a, struct purge_batch *b, bool from_muzzy, bool lazy, bool eager)
{
    if (b->npg == 0 && b->nhg == 0)
        return;
    arena_unlock(a);
    uint64_t purged = 0, ncalls = 0;
    /* A forced purge that failed (madvise refused) leaves the pages as they
     * were: they must not be marked clean (read as zero, so calloc would
     * skip zeroing them); they go back muzzy, contents undefined, and the
     * muzzy decay tries again later. */
    bool failed_pg[PURGE_BATCH], failed_hg[PURGE_BATCH];
    /* Forced purges of the whole batch go to the kernel together
     * (os_purge_forced_many): one system call and one TLB shootdown. */
    struct os_range rg[2 * PURGE_BATCH];
    int err[2 * PURGE_BATCH];
    unsigned nrg = 0;
    for (unsigned i = 0; i < b->npg; i++) {
        struct span *s = b->pg[i];
        if (lazy)
            failed_pg[i] = os_purge_lazy((void *)s->start, span_bytes(s)) != 0;
        else
            rg[nrg++] = (struct os_range){s->start, span_bytes(s)};
        purged += s->npages;
        ncalls++;
    }
    for (unsigned i = 0; i < b->nhg; i++) {
        struct span *s = b->hg[i];
        failed_hg[i] = false;
        if (opt.retain) {
            rg[nrg++] = (struct os_range){s->start, span_bytes(s)};
            ncalls++;
        } else {
            os_unmap((void *)s->start, span_bytes(s));
        }
        purged += s->npages;
    }
    os_purge_forced_many(rg, nrg, err);
    nrg = 0;
    if (!lazy)
        for (unsigned i = 0; i < b->npg; i++)
            failed_pg[i] = err[nrg++] != 0;
    if (opt.retain)
        for (unsigned i = 0; i < b->nhg; i++)
            failed_hg[i] = err[nrg++] != 0;
    uint64_t now = decay_now();
    arena_lock(a);
    a->stats.npurge++;
    a->stats.nmadvise += ncalls;
    a->stats.purged += purged;
    if (eager && !from_muzzy)
        decay_forget(&a->decay_dirty, (size_t)purged);
    else if (!from_muzzy)
        decay_scheduled(&a->decay_dirty, (size_t)purged);
    struct unmap_list u = {0};
    for (unsigned i = 0; i < b->npg; i++) {
        struct span *s = b->pg[i];
        bool muzzy = lazy || failed_pg[i];
        if (muzzy)
            decay_note(&a->decay_muzzy, s->npages, now);
        uintptr_t chunk = arena_purge_put(a, s, muzzy ? SPAN_MUZZY : SPAN_CLEAN, now);
        if (chunk)
            unmap_add(a, &u, chunk, CHUNK);
    }
    for (unsigned i = 0; i < b->nhg; i++)
        huge_purge_put(a, b->hg[i], now, !failed_hg[i]);
    if (b->nhg)
        trim_huge(a, &u);
    unmap_flush(a, &u);
    if (a->poke_mark > dirty_pages(a))
        a->poke_mark = dirty_pages(a);
    b->npg = b->nhg = 0;
}

void decay_purge_eager(struct arena *a, struct span *list, bool huge)
{
    struct purge_batch b;
    b.npg = b.nhg = 0;
    while (list) {
        struct span *s = list;
        list = s->next;
        if (huge)
            b.hg[b.nhg++] = s;
        else
            b.pg[b.npg++] = s;
        if (b.npg == PURGE_BATCH || b.nhg == PURGE_BATCH || !list)
            purge_batch(a, &b, false, false, true);
    }
}

/* Purge `excess` dirty pages, oldest first over page runs and huge runs
 * (huge runs only if huge_only). Lock held (dropped per batch). */
static void purge_dirty(struct arena *a, size_t excess, bool lazy, bool eager, bool huge_only)
{
    struct purge_batch b;
    b.npg = b.nhg = 0;
    while (excess > 0) {
        while (excess > 0 && b.npg < PURGE_BATCH && b.nhg < PURGE_BATCH) {
            /* Huge runs go in whole 2 MiB units, and only units the excess
             * covers: an excess below one unit is left for later (or met
             * by a newer page run) rather than purging pages the allowance
             * still grants. */
            struct span *p = huge_only ? NULL : a->lru[0].first, *h = huge_purge_oldest(a), *s;
            if (h && excess >= CHUNK_PAGES && (!p || h->freed_ns < p->freed_ns)) {
                s = huge_purge_take(a, h, excess);
                if (!s)
                    break;
                b.hg[b.nhg++] = s;
            } else if (p) {
                /* On schedule, a page run goes only once the excess covers
                 * it (as huge units do above): purging the oldest run whole
                 * for a smaller excess took the dirty pages below the curve
                 * by up to a run on every pass, and ticks come every
                 * millisecond, so a churn of big runs purged and faulted
                 * back its working pages continuously (decay.h). */
                if (!eager && p->npages > excess)
                    break;
                s = arena_purge_take(a, 0);
                b.pg[b.npg++] = s;
            } else {
                break;
            }
            excess = s->npages >= excess ? 0 : excess - s->npages;
        }
        if (b.npg == 0 && b.nhg == 0)
            break;
        purge_batch(a, &b, false, lazy, eager);
    }
}

void decay_wave(struct arena *a)
{
    if (a->decay_dirty.ms <= 0 || a->decay_muzzy.ms < 0)
        return;
    size_t dirty = dirty_pages(a);
    if (likely(dirty <= DECAY_WAVE_TAIL_PAGES))
        return;
    struct decay *d = &a->decay_dirty;
    uint64_t now = decay_now();
    size_t slack = now < d->wave_end ? DECAY_WAVE_TAIL_PAGES : DECAY_WAVE_PAGES;
    if (dirty <= slack)
        return;
    size_t demand = decay_demand(d, now);
    if (dirty <= demand + slack)
        return;
    /* A tail pass within DECAY_WAVE_GAP_NS of the last one that purged
     * page runs leaves them for later (decay.h): huge runs only. */
    bool huge_only = now < d->wave_end && now - d->wave_pages_ns < DECAY_WAVE_GAP_NS;
    if (huge_only && a->stats.huge_cached == 0)
        return;
    d->wave_end = now + DECAY_DEMAND_EPOCHS * d->epoch_ns;
    if (!huge_only)
        d->wave_pages_ns = now;
    size_t before = dirty_pages(a);
    purge_dirty(a, dirty - demand, a->decay_muzzy.ms != 0, true, huge_only);
    size_t after = dirty_pages(a);
    /* Bounded by what is mapped: credit is for pages that exist. */
    size_t mapped = a->stats.mapped >> LG_PAGE;
    if (before > after)
        d->wave_credit += before - after;
    if (d->wave_credit > mapped)
        d->wave_credit = mapped;
}

/* Purge `excess` muzzy pages (page runs), oldest first, to clean. */
static void purge_muzzy(struct arena *a, size_t excess)
{
    struct purge_batch b;
    b.npg = b.nhg = 0;
    while (excess > 0 && a->lru[1].first) {
        while (excess > 0 && b.npg < PURGE_BATCH && a->lru[1].first) {
            if (a->lru[1].first->npages > excess) /* as purge_dirty's schedule */
                break;
            struct span *s = arena_purge_take(a, 1);
            b.pg[b.npg++] = s;
            excess = s->npages >= excess ? 0 : excess - s->npages;
        }
        if (b.npg == 0)
            break;
        purge_batch(a, &b, true, false, false);
    }
}

void decay_run(struct arena *a, bool force)
{
    arena_remote_drain(a, force);
    arena_lock(a);
    uint64_t now = decay_now();
    arena_slab_cache_flush(a, now, force);
    if (!force)
        decay_wave(a);
    size_t dlimit = force ? 0 : decay_limit(&a->decay_dirty, now);
    if (dirty_pages(a) > dlimit)
        purge_dirty(a, dirty_pages(a) - dlimit, a->decay_muzzy.ms != 0 && !force, false, false);
    size_t mlimit = force ? 0 : decay_limit(&a->decay_muzzy, now);
    if (a->stats.nmuzzy > mlimit)
        purge_muzzy(a, a->stats.nmuzzy - mlimit);
    a->next_decay_check = now + 1000000; /* at most once a millisecond from ticks */
    /* Purging is due again as time passes: make sure some thread ticks soon,
     * even one whose adaptive tick threshold is far away. */
    bool pending = (dirty_pages(a) > 0 && a->decay_dirty.ms > 0) ||
                   (a->stats.nmuzzy > 0 && a->decay_muzzy.ms > 0) || a->slab_cached;
    if (pending != a->pending) {
        a->pending = pending;
        atomic_fetch_add_explicit(&arenas_pending, pending ? 1 : -1, memory_order_relaxed);
    }
    arena_unlock(a);
    if (pending) {
        poke_set();
        decay_poke_if_needed();
    }
}

/* Arena a holds something a decay run may purge or age out: dirty or muzzy
 * pages, a pending mark still to clear (a wave may have purged everything
 * since the last run) or slab pages cached (arena.c). Racy reads, as the
 * ticks'. */
static bool decay_has_work(const struct arena *a)
{
    return dirty_pages(a) != 0 || a->stats.nmuzzy != 0 || a->pending || a->slab_cached ||
           atomic_load_explicit(&a->remote_any, memory_order_relaxed);
}

/* Idle arenas get no ticks of their own, so any thread's tick also visits the
 * others now and then (without waiting on their locks). */
static void decay_idle_arenas(uint64_t now)
{
    static _Atomic uint64_t next_sweep;
    uint64_t due = atomic_load_explicit(&next_sweep, memory_order_relaxed);
    if (now < due || !atomic_compare_exchange_strong(&next_sweep, &due, now + 10000000))
        return;
    unsigned n = arena_total();
    for (unsigned i = 0; i < n; i++) {
        struct arena *b = arenas[i];
        if (!b || !decay_has_work(b))
            continue;
        if (now < b->next_decay_check || !arena_trylock(b))
            continue;
        arena_unlock(b);
        decay_run(b, false);
    }
}

/* True if a decay run of a may purge something at now (racy reads, as
 * the ticks'): a schedule that purges at all, at most one run a
 * millisecond unless dirty pages go at once (decay 0), and work for it
 * (decay_has_work). */
static bool decay_due(const struct arena *a, uint64_t now)
{
    if (a->decay_dirty.ms < 0 && a->decay_muzzy.ms < 0)
        return false;
    if (now < a->next_decay_check && a->decay_dirty.ms != 0)
        return false;
    return decay_has_work(a);
}

void decay_due_all(void)
{
    if (lock_reentered())
        return; /* a signal handler inside an allocator lock: the next tick purges */
    uint64_t now = decay_now();
    unsigned n = arena_total();
    for (unsigned i = 0; i < n; i++) {
        struct arena *b = __atomic_load_n(&arenas[i], __ATOMIC_ACQUIRE);
        if (b && decay_due(b, now))
            decay_run(b, false);
    }
}

void decay_tick(struct arena *a)
{
    if (lock_reentered())
        return; /* a signal handler inside an arena lock: the next tick purges */
    uint64_t now = decay_now();
    /* A poke its rate limit held back goes out with the next tick of any
     * thread, rather than waiting for the next arena slow path. */
    decay_poke_if_needed();
    decay_idle_arenas(now);
    if (decay_due(a, now))
        decay_run(a, false);
}

void decay_set(struct arena *a, ssize_t dirty_ms, ssize_t muzzy_ms)
{
    arena_lock(a);
    uint64_t now = decay_now();
    if (dirty_ms != a->decay_dirty.ms) {
        decay_init(&a->decay_dirty, dirty_ms, now);
        decay_note(&a->decay_dirty, dirty_pages(a), now);
    }
    if (muzzy_ms != a->decay_muzzy.ms) {
        decay_init(&a->decay_muzzy, muzzy_ms, now);
        decay_note(&a->decay_muzzy, a->stats.nmuzzy, now);
    }
    a->next_decay_check = 0;
    arena_unlock(a);
    decay_run(a, false);
}
