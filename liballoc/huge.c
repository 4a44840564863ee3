/* huge: 2 MiB-aligned runs for big blocks (see huge.h). */
#include "huge.h"
#include "options.h"
#include "os.h"
#include "rtree.h"
#include "stats.h"

#include <string.h>

#define HUGE_REGION ((size_t)64 << 20)
#define HUGE_RETAIN_MAX ((size_t)1 << 30)

static size_t run_size_for(size_t usize)
{
    return ALIGN_UP(usize, CHUNK);
}

/* ---- the address-ordered free-run list (arena->huge_cache), lock held ---- */

static void run_unlink(struct arena *a, struct span *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        a->huge_cache = r->next;
    if (r->next)
        r->next->prev = r->prev;
    if (r->state == SPAN_CLEAN)
        a->stats.retained -= span_bytes(r);
    else
        a->stats.huge_cached -= r->npages;
}

static void run_link_after(struct arena *a, struct span *after, struct span *r)
{
    r->prev = after;
    r->next = after ? after->next : a->huge_cache;
    if (r->next)
        r->next->prev = r;
    if (after)
        after->next = r;
    else
        a->huge_cache = r;
    if (r->state == SPAN_CLEAN)
        a->stats.retained += span_bytes(r);
    else
        a->stats.huge_cached += r->npages;
}

/* Insert free run r, merging with address-adjacent free runs of the same
 * state; returns the run that now holds r's pages. */
static struct span *run_insert(struct arena *a, struct span *r)
{
    r->kind = SPAN_FREE;
    struct span *prev = NULL, *it = a->huge_cache;
    while (it && it->start < r->start) {
        prev = it;
        it = it->next;
    }
    if (prev && prev->state == r->state && prev->start + span_bytes(prev) == r->start) {
        run_unlink(a, prev);
        prev->npages += r->npages;
        if (r->freed_ns > prev->freed_ns)
            prev->freed_ns = r->freed_ns;
        arena_span_release(a, r);
        r = prev;
        prev = r->prev;
    }
    struct span *next = prev ? prev->next : a->huge_cache;
    if (next && next->state == r->state && r->start + span_bytes(r) == next->start) {
        run_unlink(a, next);
        r->npages += next->npages;
        arena_span_release(a, next);
    }
    run_link_after(a, prev, r);
    return r;
}

/* Free runs one placement may span (a longer chain is not considered). */
#define RANGE_RUNS 16

/* The free runs that cover [lo, lo+len) without a gap, first = the run
 * holding lo: their number (at most RANGE_RUNS) in *n, the non-clean pages
 * inside the range in *dirty and the pages of the runs touched in *touched;
 * false if the runs do not cover it. */
static bool range_cover(struct span *first, uintptr_t lo, size_t len, unsigned *n, size_t *dirty,
                        size_t *touched)
{
    uintptr_t at = lo, hi = lo + len;
    *n = 0;
    *dirty = *touched = 0;
    for (struct span *r = first; r && at < hi; r = r->next) {
        if (r->start > at || *n == RANGE_RUNS)
            return false;
        uintptr_t e = r->start + span_bytes(r);
        if (e > hi)
            e = hi;
        if (r->state != SPAN_CLEAN)
            *dirty += (e - at) >> LG_PAGE;
        *touched += r->npages;
        (*n)++;
        at = e;
    }
    return at >= hi;
}

/* Where to put a block of need bytes at align: the placement over free runs
 * (address-adjacent runs of any state may be combined) that reuses the most
 * dirty pages, so the fewest pages are faulted in and the resident footprint
 * grows the least; on a tie, the one whose runs are smallest (best fit),
 * then the lowest address. Candidates start at a run's start or end at a
 * run's end. Returns the run holding the start (*at), NULL if none fits. */
static struct span *run_find(struct arena *a, size_t need, size_t align, uintptr_t *at)
{
    struct span *best = NULL;
    uintptr_t best_at = 0;
    size_t best_dirty = 0, best_touched = 0;
    for (struct span *r = a->huge_cache; r; r = r->next) {
        uintptr_t end = r->start + span_bytes(r);
        uintptr_t cand[2] = {ALIGN_UP(r->start, align), 0};
        cand[1] = end >= need ? ALIGN_DOWN(end - need, align) : 0;
        for (int i = 0; i < 2; i++) {
            uintptr_t c = cand[i];
            if (i == 1 && (end < need || c == cand[0]))
                continue;
            /* The run holding c: r, or one before it (contiguous). */
            struct span *f = r;
            while (f && f->start > c && f->prev && f->prev->start + span_bytes(f->prev) == f->start)
                f = f->prev;
            if (!f || c < f->start || c >= f->start + span_bytes(f))
                continue;
            unsigned n;
            size_t dirty, touched;
            if (!range_cover(f, c, need, &n, &dirty, &touched))
                continue;
            bool better = !best || dirty > best_dirty ||
                          (dirty == best_dirty && (touched < best_touched ||
                                                   (touched == best_touched && c < best_at)));
            if (better) {
                best = f;
                best_at = c;
                best_dirty = dirty;
                best_touched = touched;
            }
        }
    }
    *at = best_at;
    return best;
}

/* The parts of a new block that were clean free runs. */
struct clean_segs {
    unsigned n;                /* segments */
    uintptr_t at[RANGE_RUNS];  /* start of each */
    size_t len[RANGE_RUNS];    /* bytes of each (whole 2 MiB units) */
};

/* Take [at, at+need) out of the free runs from first on (range_cover holds);
 * the parts before and after stay free in their states. The block's span
 * is SPAN_DIRTY if any of it was not clean (its contents are then
 * undefined), else SPAN_CLEAN; *dirty gets its non-clean pages and *cs
 * the parts that were clean. NULL if a descriptor was missing (nothing
 * changed). */
static struct span *range_carve(struct arena *a, struct span *first, uintptr_t at, size_t need,
                                size_t *dirty, struct clean_segs *cs)
{
    struct span *runs[RANGE_RUNS];
    unsigned n;
    size_t touched;
    if (!range_cover(first, at, need, &n, dirty, &touched))
        return NULL;
    struct span *r = first;
    for (unsigned i = 0; i < n; i++, r = r->next)
        runs[i] = r;
    struct span *last = runs[n - 1];
    uintptr_t end = at + need, last_end = last->start + span_bytes(last);
    /* Descriptors first, so a failure changes nothing: the lead is new; the
     * tail reuses the last run's descriptor unless that is the first. */
    struct span *lead = NULL, *tail = NULL;
    if (at > first->start && !(lead = arena_span_new(a)))
        return NULL;
    if (last_end > end) {
        if (n > 1) {
            tail = last;
        } else if (!(tail = arena_span_new(a))) {
            if (lead)
                arena_span_release(a, lead);
            return NULL;
        }
    }
    cs->n = 0;
    for (unsigned i = 0; i < n; i++) {
        uintptr_t lo = runs[i]->start > at ? runs[i]->start : at;
        uintptr_t hi = runs[i]->start + span_bytes(runs[i]);
        if (runs[i]->state == SPAN_CLEAN) {
            cs->at[cs->n] = lo;
            cs->len[cs->n] = (hi < end ? hi : end) - lo;
            cs->n++;
        }
    }
    for (unsigned i = 0; i < n; i++)
        run_unlink(a, runs[i]);
    struct span *s = first;
    if (lead) {
        lead->start = first->start;
        lead->npages = (at - first->start) >> LG_PAGE;
        lead->state = first->state;
        lead->freed_ns = first->freed_ns;
    }
    if (tail) {
        unsigned tstate = last->state;
        uint64_t tfreed = last->freed_ns;
        tail->start = end;
        tail->npages = (last_end - end) >> LG_PAGE;
        tail->state = tstate;
        tail->freed_ns = tfreed;
    }
    for (unsigned i = 1; i < n; i++)
        if (runs[i] != tail)
            arena_span_release(a, runs[i]);
    s->start = at;
    s->npages = need >> LG_PAGE;
    s->state = *dirty ? SPAN_DIRTY : SPAN_CLEAN;
    if (lead)
        run_insert(a, lead);
    if (tail)
        run_insert(a, tail);
    return s;
}

/* Take [at, at+need) out of free run r; the rest stays free. */
static struct span *run_carve(struct arena *a, struct span *r, uintptr_t at, size_t need)
{
    run_unlink(a, r);
    uintptr_t end = r->start + span_bytes(r);
    if (at > r->start) {
        struct span *lead = arena_span_new(a);
        if (!lead)
            goto fail;
        lead->start = r->start;
        lead->npages = (at - r->start) >> LG_PAGE;
        lead->state = r->state;
        lead->freed_ns = r->freed_ns;
        r->start = at;
        r->npages -= lead->npages;
        run_insert(a, lead);
    }
    if (at + need < end) {
        struct span *tail = arena_span_new(a);
        if (!tail)
            goto fail;
        tail->start = at + need;
        tail->npages = (end - (at + need)) >> LG_PAGE;
        tail->state = r->state;
        tail->freed_ns = r->freed_ns;
        r->npages -= tail->npages;
        run_insert(a, tail);
    }
    return r;
fail:
    run_insert(a, r);
    return NULL;
}

/* Clean (purged) address space an arena keeps mapped: with retain:false
 * none, every purge unmaps. */
static size_t retain_limit(void)
{
    return opt.retain ? HUGE_RETAIN_MAX : 0;
}

/* Map a fresh region and add it to the free runs. On success returns 0 with
 * a->lock held, so the caller carves it before anyone else can take or
 * (retain:false) unmap it. */
static int region_new(struct arena *a, size_t need, size_t align)
{
    /* retain:false maps exactly what the block needs: a bigger region's
     * unused part would be clean mapped space, which it never keeps. */
    size_t size = need > HUGE_REGION || !opt.retain ? need : HUGE_REGION;
    void *mem;
    if (os_map_aligned(size, align, &mem) != 0)
        return -1;
    os_thp_apply(mem, size);
    if (a->node >= 0)
        os_ops.bind_node(mem, size, a->node);
    pthread_mutex_lock(&a->lock);
    struct span *r = arena_span_new(a);
    if (!r) {
        pthread_mutex_unlock(&a->lock);
        os_unmap(mem, size);
        return -1;
    }
    r->start = (uintptr_t)mem;
    r->npages = size >> LG_PAGE;
    r->state = SPAN_CLEAN;
    a->stats.mapped += size;
    run_insert(a, r);
    return 0;
}

/* Donor pieces moved per allocation at most. */
#define MOVE_MAX 16

/* The smallest dirty free run (the fragment least likely to fit a block
 * whole), or NULL. */
static struct span *smallest_dirty(struct arena *a)
{
    struct span *best = NULL;
    for (struct span *r = a->huge_cache; r; r = r->next)
        if (r->state == SPAN_DIRTY && (!best || r->npages < best->npages))
            best = r;
    return best;
}

/* Fill the clean parts cs of new block s with pages of dirty free runs,
 * moved by mremap (os_move_pages): the block gets pages that are resident
 * already instead of faulting fresh ones in, and each donor range gets
 * fresh zero pages and becomes a clean (purged) run. So placing a block
 * where dirty runs are too small or too scattered to hold it does not grow
 * the resident footprint by the block's size: fragmented dirty runs are
 * gathered, not kept beside new pages. Whole 2 MiB units, smallest dirty
 * runs first (from their tails). Returns the pages moved. a->lock held on
 * entry and on return, dropped around the system calls; the block is not
 * visible to any other thread yet. Not with retain:false (a clean run is unmapped
 * there, so a purge is what keeps the footprint). */
static size_t fill_from_dirty(struct arena *a, const struct clean_segs *cs)
{
    struct span *donor[MOVE_MAX];
    uintptr_t dest[MOVE_MAX];
    unsigned n = 0;
    if (!opt.retain)
        return 0;
    for (unsigned i = 0; i < cs->n && n < MOVE_MAX; i++) {
        uintptr_t at = cs->at[i];
        size_t left = cs->len[i];
        while (left >= CHUNK && n < MOVE_MAX) {
            struct span *d = smallest_dirty(a);
            if (!d)
                goto move;
            size_t take = span_bytes(d) < left ? span_bytes(d) : left;
            struct span *t = huge_purge_take(a, d, take >> LG_PAGE);
            if (!t)
                goto move;
            decay_reused(a, SPAN_DIRTY, t->npages, true);
            donor[n] = t;
            dest[n] = at;
            n++;
            at += span_bytes(t);
            left -= span_bytes(t);
        }
    }
move:
    if (n == 0)
        return 0;
    pthread_mutex_unlock(&a->lock);
    int res[MOVE_MAX];
    bool lost[MOVE_MAX];
    for (unsigned i = 0; i < n; i++) {
        void *from = (void *)donor[i]->start;
        size_t len = span_bytes(donor[i]);
        res[i] = os_move_pages(from, (void *)dest[i], len, &lost[i]);
        if (res[i] == 0) {
            os_thp_apply(from, len);
            if (a->node >= 0)
                os_ops.bind_node(from, len, a->node);
        }
    }
    pthread_mutex_lock(&a->lock);
    uint64_t now = decay_now();
    size_t moved = 0;
    for (unsigned i = 0; i < n; i++) {
        struct span *t = donor[i];
        if (res[i] == 0) {
            moved += t->npages;
            huge_purge_put(a, t, now, true); /* fresh zero pages: clean */
        } else if (lost[i]) {
            /* The pages did move into the block (only the donor's new
             * mapping failed): the block holds them, so it is not zero. */
            moved += t->npages;
            /* Unmapped and possibly someone else's now: never used again. */
            a->stats.mapped -= span_bytes(t);
            arena_span_release(a, t);
        } else {
            /* Nothing moved: still dirty, back in the free runs. */
            run_insert(a, t);
        }
    }
    return moved;
}

void *huge_alloc(struct arena *a, size_t usize, size_t align, bool zero)
{
    size_t need = run_size_for(usize);
    if (need < usize)
        return NULL;
    if (align < CHUNK)
        align = CHUNK;
    struct span *s = NULL;
    bool fresh = false; /* a region was just mapped for this request */
    struct clean_segs cs = {0};
    pthread_mutex_lock(&a->lock);
    for (;;) {
        uintptr_t at;
        struct span *r = run_find(a, need, align, &at);
        if (r) {
            size_t dirty = 0;
            s = range_carve(a, r, at, need, &dirty, &cs);
            if (s && rtree_set(s->start, (uintptr_t)s | 1) != 0) {
                run_insert(a, s);
                s = NULL;
            }
            if (s) {
                decay_reused(a, SPAN_DIRTY, dirty, true);
                decay_reused(a, SPAN_CLEAN, s->npages - dirty, true);
            }
        }
        if (s || fresh)
            break;
        /* Nothing fits: map a region; it comes back inserted, lock held. */
        pthread_mutex_unlock(&a->lock);
        if (region_new(a, need, align) != 0)
            return NULL;
        fresh = true;
    }
    if (s && cs.n && fill_from_dirty(a, &cs))
        s->state = SPAN_DIRTY; /* holds moved pages: contents undefined */
    if (s) {
        s->zeroed = s->state == SPAN_CLEAN;
        s->kind = SPAN_HUGE;
        s->usize = usize;
        atomic_store_explicit(&s->owner_tag, 0, memory_order_relaxed);
        span_sampled_reset(s);
        a->stats.active_pages += s->npages;
        a->stats.thp_eligible += span_bytes(s);
        a->stats.large_nmalloc++;
        a->stats.large_allocated += usize;
    }
    pthread_mutex_unlock(&a->lock);
    if (!s)
        return NULL;
    if (zero && !s->zeroed)
        memset((void *)s->start, 0, usize);
    return (void *)s->start;
}

bool huge_trim_take(struct arena *a, uintptr_t *addr, size_t *len)
{
    if (a->stats.retained <= retain_limit())
        return false;
    for (struct span *r = a->huge_cache; r; r = r->next)
        if (r->state == SPAN_CLEAN) {
            run_unlink(a, r);
            *addr = r->start;
            *len = span_bytes(r);
            a->stats.mapped -= *len;
            arena_span_release(a, r);
            return true;
        }
    return false;
}

struct span *huge_purge_oldest(struct arena *a)
{
    struct span *old = NULL;
    for (struct span *r = a->huge_cache; r; r = r->next)
        if (r->state == SPAN_DIRTY && (!old || r->freed_ns < old->freed_ns))
            old = r;
    return old;
}

struct span *huge_purge_take(struct arena *a, struct span *r, size_t npages)
{
    size_t want = npages / CHUNK_PAGES * CHUNK_PAGES;
    if (want == 0)
        return NULL;
    struct span *s = r;
    if (want < r->npages) {
        /* The tail, so the run's start (reused first) stays dirty. */
        uintptr_t at = r->start + span_bytes(r) - (want << LG_PAGE);
        s = run_carve(a, r, at, want << LG_PAGE);
        if (!s)
            return NULL;
    } else {
        run_unlink(a, r);
    }
    s->kind = SPAN_BUSY;
    return s;
}

void huge_purge_put(struct arena *a, struct span *s, uint64_t now, bool purged)
{
    if (!opt.retain) {
        a->stats.mapped -= span_bytes(s); /* decay unmapped it */
        arena_span_release(a, s);
        return;
    }
    /* Not purged (madvise failed): contents undefined, never assumed zero. */
    s->state = purged ? SPAN_CLEAN : SPAN_MUZZY;
    s->freed_ns = now;
    run_insert(a, s);
}

void huge_free(struct span *s)
{
    struct arena *a = s->arena;
    pthread_mutex_lock(&a->lock);
    a->stats.active_pages -= s->npages;
    a->stats.thp_eligible -= span_bytes(s);
    a->stats.large_ndalloc++;
    a->stats.large_allocated -= s->usize;
    decay_freed(a, s);
    /* No eager purge of big free runs by size (jemalloc's
     * oversize_threshold): they follow the decay curve like every dirty
     * page, oldest first, so churn of big blocks reuses them without page
     * faults; only a wave of frees beyond the demand goes at once. */
    run_insert(a, s);
    decay_wave(a);
    pthread_mutex_unlock(&a->lock);
    decay_poke_if_needed();
    decay_tick(a);
}

bool huge_resize_in_place(struct span *s, size_t new_usize, bool zero)
{
    struct arena *a = s->arena;
    size_t old_run = span_bytes(s), new_run = run_size_for(new_usize);
    size_t old_usize = s->usize;
    bool ok = false, fresh_zero = false;
    pthread_mutex_lock(&a->lock);
    if (new_run == old_run) {
        ok = true;
    } else if (new_run < old_run) {
        struct span *tail = arena_span_new(a);
        if (tail) {
            tail->start = s->start + new_run;
            tail->npages = (old_run - new_run) >> LG_PAGE;
            decay_freed(a, tail);
            s->npages = new_run >> LG_PAGE;
            a->stats.active_pages -= tail->npages;
            a->stats.thp_eligible -= span_bytes(tail);
            run_insert(a, tail);
            ok = true;
        }
    } else {
        /* Grow into the free run that starts right after us, if big enough. */
        uintptr_t end = s->start + old_run;
        struct span *r = a->huge_cache;
        while (r && r->start < end)
            r = r->next;
        if (r && r->start == end && span_bytes(r) >= new_run - old_run) {
            struct span *got = run_carve(a, r, end, new_run - old_run);
            if (got) {
                fresh_zero = got->state == SPAN_CLEAN;
                decay_reused(a, got->state, got->npages, true);
                s->npages += got->npages;
                a->stats.active_pages += got->npages;
                a->stats.thp_eligible += span_bytes(got);
                arena_span_release(a, got);
                ok = true;
            }
        }
    }
    if (ok) {
        a->stats.large_allocated += new_usize;
        a->stats.large_allocated -= old_usize;
        s->usize = new_usize;
    }
    pthread_mutex_unlock(&a->lock);
    if (ok && zero && new_usize > old_usize) {
        /* The old run's slack may hold old data; pages taken from a clean run
         * already read zero, so zeroing stops where they begin. */
        size_t upto = fresh_zero && new_run > old_run ? old_run : new_usize;
        if (upto > old_usize)
            memset((void *)(s->start + old_usize), 0, upto - old_usize);
    }
    return ok;
}
