/* huge: 2 MiB-aligned runs for big blocks (see huge.h). */
#include "huge.h"
#include "junk.h"
#include "options.h"
#include "os.h"
#include "rtree.h"
#include "stats.h"

#include <errno.h>
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

/* Where to put a block of need bytes at align whose caller asked for its
 * first used bytes (the 2 MiB units holding the requested size; the rest,
 * need - used, is the size class's slack, which its owner does not touch):
 * the placement over free runs (address-adjacent runs of any state may be
 * combined) with the fewest dirty pages under the slack, then the most
 * under the used part. Dirty pages under the slack would be resident but
 * useless while the block lives, so they are purged before it is handed
 * out (tail_from) and faulted in again by whichever block takes them
 * next, whereas a slack over clean pages costs nothing; dirty pages under
 * the used part are reused without a page fault, and where the used part
 * is clean, fill_from_dirty moves dirty pages of other runs in. (Churn of
 * 5-25 MiB blocks: the slack lands on the clean units a freed block's
 * untouched tail left, 150.8k -> 131k page faults, 96.9k -> 91.4k with
 * the resident cap's headroom; most dirty pages first, the old order,
 * put slack units on dirty pages whenever that reused more.) On a tie,
 * the one whose runs are smallest (best fit), then the lowest address.
 * Candidates start at a run's start, or end at a run's end, or have their
 * used part end at a run's end (the slack then reaches into the next
 * run). Returns the run holding the start (*at), NULL if none fits. */
static struct span *run_find(struct arena *a, size_t need, size_t used, size_t align, uintptr_t *at)
{
    struct span *best = NULL;
    uintptr_t best_at = 0;
    size_t best_slack = 0, best_used = 0;
    size_t best_touched = 0;
    for (struct span *r = a->huge_cache; r; r = r->next) {
        uintptr_t end = r->start + span_bytes(r);
        uintptr_t cand[3] = {ALIGN_UP(r->start, align), 0, 0};
        cand[1] = end >= need ? ALIGN_DOWN(end - need, align) : 0;
        cand[2] = end >= used ? ALIGN_DOWN(end - used, align) : 0;
        for (int i = 0; i < 3; i++) {
            uintptr_t c = cand[i];
            if (i == 1 && (end < need || c == cand[0]))
                continue;
            if (i == 2 && (used == need || end < used || c == cand[0] || c == cand[1]))
                continue;
            /* The run holding c: r, or one before it (contiguous). */
            struct span *f = r;
            while (f && f->start > c && f->prev && f->prev->start + span_bytes(f->prev) == f->start)
                f = f->prev;
            if (!f || c < f->start || c >= f->start + span_bytes(f))
                continue;
            unsigned n;
            size_t dirty, touched, dirty_used, touched_used;
            if (!range_cover(f, c, need, &n, &dirty, &touched))
                continue;
            range_cover(f, c, used, &n, &dirty_used, &touched_used);
            size_t slack = dirty - dirty_used;
            bool better = !best || slack < best_slack ||
                          (slack == best_slack &&
                           (dirty_used > best_used ||
                            (dirty_used == best_used &&
                             (touched < best_touched || (touched == best_touched && c < best_at)))));
            if (better) {
                best = f;
                best_at = c;
                best_slack = slack;
                best_used = dirty_used;
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

/* Map a fresh region of size bytes and add it to the free runs. On success
 * returns 0 with a->lock held, so the caller carves it before anyone else
 * can take or (retain:false) unmap it. held: a->lock is held on entry and
 * kept throughout (a signal handler: huge_alloc), else it is not held on
 * entry nor on failure. */
static int region_map(struct arena *a, size_t size, size_t align, bool held)
{
    void *mem;
    if (os_map_aligned(size, align, &mem) != 0)
        return -1;
    os_thp_apply(mem, size);
    if (a->node >= 0)
        os_ops.bind_node(mem, size, a->node);
    if (!held)
        arena_lock(a);
    struct span *r = arena_span_new(a);
    if (!r) {
        if (!held)
            arena_unlock(a);
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

/* A region for a block of need bytes: HUGE_REGION at a time (retain:false
 * maps exactly what the block needs: a bigger region's unused part would be
 * clean mapped space, which it never keeps). When the kernel refuses it
 * (address-space limit, map count, overcommit), the address space the
 * allocator already holds comes first: exactly need bytes are mapped,
 * and if that fails too, free huge runs of every arena are given back to
 * the kernel (huge_release) and the mapping tried again, until it succeeds
 * or nothing is left to give back (with held, only the other arenas'
 * runs whose locks are free: huge_release tries). Same contract as
 * region_map. */
static int region_new(struct arena *a, size_t need, size_t align, bool held)
{
    size_t size = need > HUGE_REGION || !opt.retain ? need : HUGE_REGION;
    if (region_map(a, size, align, held) == 0)
        return 0;
    if (size != need && region_map(a, need, align, held) == 0)
        return 0;
    /* need + align: room for os_map_aligned's over-mapping. */
    if (need + align < need)
        return -1;
    while (huge_release(need + align) > 0)
        if (region_map(a, need, align, held) == 0)
            return 0;
    return -1;
}

/* Donor pieces moved per allocation at most. */
#define MOVE_MAX 16

/* Kernels before 6.17 refuse to move a range that spans several mappings
 * (mremap: EFAULT), and the THP marks (thp_mark) cut free runs into
 * mappings at 2 MiB unit boundaries. Once a move of several units failed
 * so, donors are taken one unit at a time (one mapping each): more system
 * calls, still no page faults. */
static _Atomic bool move_by_unit;

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
 * runs first (from their tails). Returns the pages moved (a donor whose
 * range could not be refilled counts: its pages are in the block). a->lock
 * held on entry and on return, dropped around the system calls; the block
 * is not visible to any other thread yet. Not with retain:false (a clean
 * run is unmapped there, so a purge is what keeps the footprint), nor in
 * a signal handler (huge_alloc: it would retake the lock). */
static size_t fill_from_dirty(struct arena *a, const struct clean_segs *cs, uintptr_t limit)
{
    struct span *donor[MOVE_MAX];
    uintptr_t dest[MOVE_MAX];
    unsigned n = 0;
    if (!opt.retain)
        return 0;
    for (unsigned i = 0; i < cs->n && n < MOVE_MAX; i++) {
        uintptr_t at = cs->at[i];
        if (at >= limit)
            break;
        size_t left = cs->len[i] < limit - at ? cs->len[i] : limit - at;
        while (left >= CHUNK && n < MOVE_MAX) {
            struct span *d = smallest_dirty(a);
            if (!d)
                goto move;
            size_t take = span_bytes(d) < left ? span_bytes(d) : left;
            if (take > CHUNK && atomic_load_explicit(&move_by_unit, memory_order_relaxed))
                take = CHUNK;
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
    arena_unlock(a);
    int res[MOVE_MAX];
    bool lost[MOVE_MAX];
    for (unsigned i = 0; i < n; i++) {
        void *from = (void *)donor[i]->start;
        size_t len = span_bytes(donor[i]);
        res[i] = os_move_pages(from, (void *)dest[i], len, &lost[i]);
        if (res[i] == EFAULT && len > CHUNK)
            atomic_store_explicit(&move_by_unit, true, memory_order_relaxed);
        if (res[i] == 0) {
            os_thp_apply(from, len);
            if (a->node >= 0)
                os_ops.bind_node(from, len, a->node);
        }
    }
    arena_lock(a);
    uint64_t now = decay_now();
    size_t moved = 0;
    for (unsigned i = 0; i < n; i++) {
        struct span *t = donor[i];
        if (res[i] == 0) {
            moved += t->npages;
            huge_purge_put(a, t, now, true); /* fresh zero pages: clean */
        } else if (lost[i]) {
            /* The pages did move into the block (it holds data now: not
             * clean); only the refill failed, so the donor range is
             * unmapped and possibly someone else's now: never used again. */
            moved += t->npages;
            a->stats.mapped -= span_bytes(t);
            arena_span_release(a, t);
        } else {
            /* Nothing moved: still dirty, back in the free runs. */
            run_insert(a, t);
        }
    }
    return moved;
}

/*
 * The resident cap. Freed huge runs stay dirty so churn reuses them without
 * page faults; unchecked, that cache grows to the high-water of the live
 * blocks' whole runs, well above what the program ever asked for (churn
 * of 16 blocks of 5-25 MiB: 340 MiB resident for 301 MiB asked at most).
 * So each arena bounds its dirty free runs (huge_cached) by the headroom
 * between what its callers ask for now and the most they ever asked for
 * at once: huge_req_pages + huge_cached <= huge_req_max (the requested
 * sizes, page-rounded, of its live huge blocks, now and at their peak).
 * The cache then never holds the footprint above what the program itself
 * once needed, and while the program asks for less than its peak, the
 * pages it freed wait for it: a block that grows the demand again takes
 * them without a fault. (The live blocks' own pages are not counted: their
 * whole units past the last one asked for are purged when they were a
 * former block's (tail_from), so what they hold resident is what their
 * owners touch plus, at most, the rest of each one's last 2 MiB unit.)
 * A new block of HUGE_CAP_MIN or more that finds the arena over the bound
 * has the oldest dirty free runs purged, whole units, until the cache is
 * back within the headroom. The rest of the new block's last unit is left
 * alone: purging it when over the bound (as before) lowered no peak once
 * the bound leaves out the live blocks (within 2 MB on every churn tried)
 * and cost its pages' faults when a later block took them (large_blocks
 * 55.5k -> 51.9k page faults without, huge_churn 91.4k -> 90.0k). Smaller blocks are not held to it: the next
 * big one brings the cache back under. The cost: pages purged for the cap
 * that a later block needs are faulted in again. Counting the live blocks'
 * whole runs instead (the bound applied to live pages plus cache) left
 * less headroom than the slack the live blocks hold, so the cache was
 * trimmed at nearly every big allocation: churn of 5-25 MiB blocks 131k
 * page faults against 97k now (peak RSS 312.8 -> 314.8 MB, jemalloc's
 * 323.6), large_blocks 64k -> 55k. Not with dirty_decay_ms:-1 (never
 * purge).
 * What the cap leaves out: the rest of each live block's last unit, when
 * it was placed on a former block's pages, stays resident (on average half
 * a unit), so at a new peak of the demand, when the cache is empty, the
 * footprint is the peak plus about 1 MiB per live block: churn of 5-25
 * MiB blocks, 600 steps, peak RSS over the peak live bytes 15, 30, 49 and
 * 67 MB with 16, 32, 48 and 64 live blocks (jemalloc's 23, 5, 13, 28).
 * Tried and left out: counting that slack in the cap and purging the new
 * block's when over it (+38% page faults with 16 live, still over
 * jemalloc with 32 and 64: the old blocks' slack stays); tracking which
 * pages of a free run's last unit are resident and moving just the pages a
 * last unit needs into it by mremap (under jemalloc with 16, 22, 48 and
 * 64 live over 600 steps, 0.5% over with 32, but +10% CPU with 16 and,
 * over 6000 steps, 2.4 times the CPU, 1.6 times the page faults and 3000
 * mappings instead of 200: moving parts of units splits the mappings).
 */
/* Only a request of at least this size is held to the cap (the trim):
 * where the runs a block leaves are big enough to matter. The smaller huge blocks churn more often and their slack is
 * smaller, so the faults a trim costs them bought little (realloc growth
 * to 4 MiB: 9% more CPU for 2 MiB less peak). jemalloc draws its own line
 * for big blocks at the same size (opt.oversize_threshold, 8 MiB: those
 * go to an arena that purges at once). */
#define HUGE_CAP_MIN ((size_t)8 << 20)

static size_t resident_cap(const struct arena *a)
{
    return a->huge_req_max;
}

/* What resident_cap bounds: the pages a's callers ask for now plus its
 * dirty free runs. */
static size_t resident_est(const struct arena *a)
{
    return a->huge_req_pages + a->stats.huge_cached;
}

/* Where to purge new block s's tail from (bytes from its start; 0: not
 * at all), for a request of size bytes placed partly on dirty runs: past
 * the last 2 MiB unit its caller asked for, the whole units (a freed
 * block's cold units then go back clean, huge_free). An owner that does
 * use its usable size faults those pages in again (zeroed). Not when a huge page may back the units
 * (os_thp_backs_units: purging part of one would split it), nor with
 * junk:alloc (the fill touches them all), nor with dirty_decay_ms:-1. */
static size_t tail_from(const struct arena *a, const struct span *s, size_t size)
{
    size_t unit_end = ALIGN_UP(size, CHUNK);
    if (s->state == SPAN_CLEAN || a->decay_dirty.ms < 0 || junk_alloc || os_thp_backs_units())
        return 0;
    return unit_end < span_bytes(s) ? unit_end : 0;
}

/* Purge the oldest dirty free runs of a, whole 2 MiB units, until
 * resident_est is within resident_cap or none is left. a->lock held
 * (dropped while purging). */
static void resident_trim(struct arena *a)
{
    if (a->decay_dirty.ms < 0)
        return; /* dirty_decay_ms:-1: the cache is never purged */
    while (resident_est(a) > resident_cap(a)) {
        size_t excess = ALIGN_UP(resident_est(a) - resident_cap(a), CHUNK_PAGES);
        struct span *list = NULL, **tail = &list;
        while (excess) {
            struct span *r = huge_purge_oldest(a), *t;
            if (!r || !(t = huge_purge_take(a, r, r->npages < excess ? r->npages : excess)))
                break;
            excess -= t->npages < excess ? t->npages : excess;
            t->next = NULL;
            *tail = t;
            tail = &t->next;
        }
        if (!list)
            return;
        decay_purge_eager(a, list, true);
    }
}

/*
 * Huge pages for the units a block was asked for (os_thp_mark, which does
 * nothing unless the kernel's THP mode is madvise, where only marked
 * ranges get them, and thp_huge is on). The whole
 * 2 MiB units from unit `from` (bytes into s, rounded down to a unit) up
 * to the last whole unit of the size bytes asked for are marked
 * MADV_HUGEPAGE: a page the owner touches there faults in a 2 MiB page,
 * one fault and one TLB entry for 512 pages (bench/huge_churn: CPU 1.8 s
 * -> 0.4-1.0 s, medians of runs on a shared VM; its TLB misses were most
 * of it). The unit holding the last bytes asked for, only partly used,
 * is marked NOHUGEPAGE, the kernel's default in madvise mode, so its
 * unused part never becomes resident. This is the density rule of
 * jemalloc's HPA (a 2 MiB range is hugified once it is allocated nearly
 * whole, hpa_hugification_threshold) at a whole unit. Zeroed blocks (huge
 * false) are marked NOHUGEPAGE up to their last unit: calloc'd tables are
 * often touched sparsely, where one touched byte would make 2 MiB
 * resident. Units keep their marks from block to block (and mremap moves
 * them with the pages, fill_from_dirty). The caller marks a block placed
 * partly on clean (purged or fresh) pages, one that gathered moved pages,
 * and every zeroed one; a malloc'd block placed wholly on the dirty pages
 * of a freed one keeps that block's marks: no system call on the churn
 * of a same-size buffer (2 threads, 200k malloc/free of 3 MiB blocks:
 * CPU 0.04 s, against 0.60 s marking each). The marks then matter only
 * for the pages the freed block left untouched (dirty is not resident:
 * a calloc'd block never written leaves NOHUGEPAGE units the next block
 * faults in as small pages). The units past the size asked for (the
 * run's slack) keep theirs: the owner touches them only if it uses its
 * usable size. No lock held; s is not visible to other threads (or is its
 * owner's, resizing it).
 */
static void thp_mark(const struct span *s, size_t from, size_t size, bool huge)
{
    size_t whole = huge ? size & ~(CHUNK - 1) : 0, end = ALIGN_UP(size, CHUNK);
    from &= ~(CHUNK - 1);
    if (end > span_bytes(s))
        end = span_bytes(s);
    if (whole > from)
        os_thp_mark((void *)(s->start + from), whole - from, true);
    if (whole < from)
        whole = from;
    if (end > whole)
        os_thp_mark((void *)(s->start + whole), end - whole, false);
}

void *huge_alloc(struct arena *a, size_t size, size_t usize, size_t align, bool zero)
{
    size_t need = run_size_for(usize);
    if (need < usize)
        return NULL;
    if (align < CHUNK)
        align = CHUNK;
    /* The units holding the bytes asked for (run_find). */
    size_t used = ALIGN_UP(size, CHUNK) < need ? ALIGN_UP(size, CHUNK) : need;
    struct span *s = NULL;
    bool fresh = false; /* a region was just mapped for this request */
    bool to_fault = false; /* s lies partly on clean (purged or fresh) pages */
    struct clean_segs cs = {0};
    bool reserved = false;
    /* A signal handler inside an allocator lock (lock_depth.h) keeps the
     * lock it got from here to the end: retaking it after a system call
     * could wait forever. So its fresh region is mapped with the lock
     * held, and the steps that drop it (fill_from_dirty, resident_trim:
     * optional) are skipped. */
    bool reentered = lock_reentered();
    if (!(a = arena_lock_for_alloc(a)))
        return NULL;
    for (;;) {
        uintptr_t at;
        struct span *r = run_find(a, need, used, align, &at);
        if (r) {
            size_t dirty = 0;
            s = range_carve(a, r, at, need, &dirty, &cs);
            if (!s && !reserved && arena_span_reserve(a)) {
                /* Descriptors ran out and base could not map: refilled
                 * (perhaps from the free runs, so the search starts over). */
                reserved = true;
                continue;
            }
            if (s && rtree_set(s->start, (uintptr_t)s | 1) != 0) {
                run_insert(a, s);
                s = NULL;
            }
            if (s) {
                decay_reused(a, SPAN_DIRTY, dirty, true);
                decay_reused(a, SPAN_CLEAN, s->npages - dirty, true);
                to_fault = dirty < s->npages;
            }
        }
        if (s || fresh)
            break;
        /* Nothing fits: map a region; it comes back inserted, lock held. */
        if (!reentered)
            arena_unlock(a);
        if (region_new(a, need, align, reentered) != 0) {
            if (reentered)
                arena_unlock(a);
            return NULL;
        }
        fresh = true;
    }
    if (s && cs.n && !reentered && fill_from_dirty(a, &cs, s->start + ALIGN_UP(size, CHUNK)))
        s->state = SPAN_DIRTY; /* holds moved pages: contents undefined */
    size_t tail_at = 0; /* s's tail to purge starts here (tail_from), 0: none */
    if (s) {
        /* The resident cap's count (resident_cap) and this block's tail. */
        size_t req = ALIGN_UP(size, PAGE) >> LG_PAGE;
        a->huge_req_pages += req;
        if (a->huge_req_pages > a->huge_req_max)
            a->huge_req_max = a->huge_req_pages;
        tail_at = tail_from(a, s, size);
        s->req_pages = req;
        s->zeroed = s->state == SPAN_CLEAN;
        s->kind = SPAN_HUGE;
        s->usize = usize;
        atomic_store_explicit(&s->owner_tag, 0, memory_order_relaxed);
        span_sampled_reset(s);
        a->stats.active_pages += s->npages;
        a->stats.thp_eligible += span_bytes(s);
        a->stats.large_nmalloc++;
        a->stats.large_allocated += usize;
        arena_lext_count(a, usize, true);
    }
    if (s && size >= HUGE_CAP_MIN && !reentered)
        resident_trim(a); /* s is not visible to other threads yet */
    arena_unlock(a);
    if (!s)
        return NULL;
    /* s is dirty (its contents undefined either way) and not visible to
     * any other thread yet; a failed madvise leaves the pages resident,
     * nothing else (the estimate errs low until s is freed). */
    size_t zero_end = usize; /* s reads zero from here on */
    if (tail_at && os_purge_forced((void *)(s->start + tail_at), span_bytes(s) - tail_at) == 0)
        zero_end = tail_at;
    if (to_fault || cs.n || zero) {
        /* A malloc'd block with a whole unit to mark: huge pages unless
         * measured faults of them were slow (os_thp_plan), and this block
         * may be the one that measures. */
        enum os_thp_plan plan = zero || size < CHUNK ? OS_THP_PLAN_HUGE : os_thp_plan(true);
        if (plan == OS_THP_PLAN_PROBE) {
            if (os_thp_mark((void *)s->start, CHUNK, true) &&
                os_thp_probe((void *)s->start, size >= 2 * CHUNK ? (void *)(s->start + CHUNK) : NULL))
                thp_mark(s, 0, size, false); /* slow: no unit marked, the first included */
            else
                thp_mark(s, CHUNK, size, true);
        } else
            thp_mark(s, 0, size, !zero && plan != OS_THP_PLAN_SMALL);
    }
    if (zero && !s->zeroed)
        memset((void *)s->start, 0, usize < zero_end ? usize : zero_end);
    return (void *)s->start;
}

/* ---- free huge space for other uses, when the kernel refuses mappings ---- */

/* Whether r is a better source of free space to take than best: dirty
 * (or muzzy) runs first, whose pages are resident already, then the
 * smallest (big runs stay for big blocks). */
static bool take_better(const struct span *r, const struct span *best, bool dirty_first)
{
    if (!best)
        return true;
    bool rd = r->state != SPAN_CLEAN, bd = best->state != SPAN_CLEAN;
    if (rd != bd)
        return dirty_first ? rd : bd;
    return r->npages < best->npages;
}

/* Take the last bytes (whole 2 MiB units, at most r's size) of free run r
 * out of the free list, the arena's mapped bytes and its dirty decay
 * backlog; the rest of r stays free in place. Needs no descriptor, so it
 * never fails (arena.c refills base metadata with it). The range's start
 * in *addr, its state in *state. Lock held. */
static void run_take_tail(struct arena *a, struct span *r, size_t bytes, uintptr_t *addr,
                          unsigned *state)
{
    run_unlink(a, r);
    *state = r->state;
    if (r->state != SPAN_CLEAN)
        decay_forget(&a->decay_dirty, bytes >> LG_PAGE); /* leaves ahead of the schedule */
    a->stats.mapped -= bytes;
    r->npages -= bytes >> LG_PAGE;
    *addr = r->start + span_bytes(r);
    if (r->npages)
        run_link_after(a, r->prev, r); /* same place: its neighbours did not move */
    else
        arena_span_release(a, r);
}

bool huge_chunk_take(struct arena *a, bool clean_first, uintptr_t *addr, bool *dirty)
{
    struct span *best = NULL;
    for (struct span *r = a->huge_cache; r; r = r->next)
        if (take_better(r, best, !clean_first))
            best = r;
    if (!best)
        return false;
    unsigned state;
    run_take_tail(a, best, CHUNK, addr, &state);
    *dirty = state != SPAN_CLEAN;
    return true;
}

/* Ranges huge_release unmaps per lock drop. */
#define RELEASE_BATCH 16

/* Whether giving free huge runs back can let a mapping of want bytes
 * succeed: not when the address-space limit leaves less room than want
 * even with every free run unmapped, so a request beyond everything held
 * fails at once instead of emptying every arena's free runs for nothing.
 * Free bytes are a racy sum over the arenas, their clean chunk pages
 * included (it errs toward trying). Any other cause of the refusal (map
 * count, overcommit): true. */
static bool release_may_help(size_t want)
{
    size_t room = os_as_room();
    if (room == SIZE_MAX || room >= want)
        return true;
    size_t held = 0;
    unsigned n = arena_total();
    for (unsigned i = 0; i < n && room + held < want; i++) {
        struct arena *a = __atomic_load_n(&arenas[i], __ATOMIC_ACQUIRE);
        if (a)
            held += __atomic_load_n(&a->stats.retained, __ATOMIC_RELAXED) +
                    (__atomic_load_n(&a->stats.huge_cached, __ATOMIC_RELAXED) << LG_PAGE);
    }
    return room + held >= want;
}

size_t huge_release(size_t want)
{
    size_t got = 0;
    if (!release_may_help(want))
        return 0;
    unsigned n = arena_total();
    for (unsigned i = 0; i < n && got < want; i++) {
        struct arena *a = __atomic_load_n(&arenas[i], __ATOMIC_ACQUIRE);
        /* A signal handler whose mapping the kernel refused: an arena
         * busy now may be held by its own thread (lock_depth.h). */
        if (!a || !arena_lock_or_try(a))
            continue;
        uintptr_t addr[RELEASE_BATCH];
        size_t len[RELEASE_BATCH];
        unsigned k = 0;
        while (got < want && k < RELEASE_BATCH) {
            /* Clean runs first: dirty ones save page faults when reused. */
            struct span *best = NULL;
            for (struct span *r = a->huge_cache; r; r = r->next)
                if (take_better(r, best, false))
                    best = r;
            if (!best)
                break;
            size_t bytes = ALIGN_UP(want - got, CHUNK);
            if (bytes > span_bytes(best))
                bytes = span_bytes(best);
            unsigned state;
            run_take_tail(a, best, bytes, &addr[k], &state);
            len[k++] = bytes;
            got += bytes;
        }
        arena_unlock(a);
        for (unsigned j = 0; j < k; j++)
            os_unmap((void *)addr[j], len[j]);
        if (k == RELEASE_BATCH)
            i--; /* this arena may hold more */
    }
    return got;
}

bool huge_trim_take(struct arena *a, uintptr_t *addr, size_t *len)
{
    if (a->stats.retained <= retain_limit())
        return false;
    /* Only the excess, from a clean run's tail: a whole run (regions that
     * were mapped next to each other merge into one) could be far more. */
    size_t excess = ALIGN_UP(a->stats.retained - retain_limit(), CHUNK);
    for (struct span *r = a->huge_cache; r; r = r->next)
        if (r->state == SPAN_CLEAN) {
            size_t bytes = excess < span_bytes(r) ? excess : span_bytes(r);
            unsigned state;
            run_take_tail(a, r, bytes, addr, &state);
            *len = bytes;
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

/* The whole 2 MiB units at the end of freed block s, past the unit that
 * holds the last page its caller asked for, that have no page resident
 * (mincore): the owner never touched them and they held no former block's
 * pages (or those were purged). They are purged (MADV_DONTNEED, nothing to
 * free: it drops swap entries, so they read zero for sure) and go back
 * clean, not dirty: a dirty run is taken to be resident (placement reuses
 * it first, fill_from_dirty moves it, the resident cap counts it), and a
 * cold unit taken as dirty is faulted in while resident pages wait
 * elsewhere. Returns the bytes (0: none, or a system call failed). Not
 * with retain:false (clean space is unmapped there) nor when a huge page
 * may back a unit (os_thp_backs_units: a touched unit is all resident
 * anyway). s is still its owner's: no lock held. */
static size_t cold_tail(const struct span *s)
{
    if (!opt.retain || os_thp_backs_units())
        return 0;
    uintptr_t used = ALIGN_UP(s->start + ((size_t)s->req_pages << LG_PAGE), CHUNK);
    uintptr_t end = s->start + span_bytes(s), from = end;
    unsigned char vec[CHUNK_PAGES];
    while (from > used) {
        size_t res;
        if (os_resident((void *)(from - CHUNK), CHUNK, vec, sizeof(vec), &res) != 0 || res)
            break;
        from -= CHUNK;
    }
    if (from == end || os_purge_forced((void *)from, end - from) != 0)
        return 0;
    return end - from;
}

void huge_free(struct span *s)
{
    struct arena *a = s->arena;
    size_t cold = cold_tail(s);
    arena_lock(a);
    a->stats.active_pages -= s->npages;
    a->stats.thp_eligible -= span_bytes(s);
    a->stats.large_ndalloc++;
    a->stats.large_allocated -= s->usize;
    arena_lext_count(a, s->usize, false);
    a->huge_req_pages -= s->req_pages;
    struct span *c = cold ? arena_span_new(a) : NULL;
    if (c) {
        /* The cold tail (cold_tail): its own run, clean. */
        c->npages = cold >> LG_PAGE;
        s->npages -= c->npages;
        c->start = s->start + span_bytes(s);
        c->state = SPAN_CLEAN;
        c->freed_ns = decay_now();
        run_insert(a, c);
    }
    decay_freed(a, s);
    /* No eager purge of big free runs by size (jemalloc's
     * oversize_threshold): they follow the decay curve like every dirty
     * page, oldest first, so churn of big blocks reuses them without page
     * faults; only a wave of frees beyond the demand goes at once. */
    run_insert(a, s);
    decay_wave(a);
    arena_unlock(a);
    decay_poke_if_needed();
    decay_tick(a);
}

bool huge_resize_in_place(struct span *s, size_t size, size_t new_usize, bool zero)
{
    struct arena *a = s->arena;
    size_t old_run = span_bytes(s), new_run = run_size_for(new_usize);
    size_t old_usize = s->usize;
    bool ok = false, fresh_zero = false;
    size_t old_req = (size_t)s->req_pages << LG_PAGE;
    if (!arena_lock_or_try(a))
        return false; /* a signal handler inside a's lock: the caller moves the block */
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
        arena_lext_resized(a, old_usize, new_usize);
        /* The resident cap's count: the new size is what is asked for now. */
        size_t req = ALIGN_UP(size, PAGE) >> LG_PAGE;
        a->huge_req_pages += req - s->req_pages;
        if (a->huge_req_pages > a->huge_req_max)
            a->huge_req_max = a->huge_req_pages;
        s->req_pages = req;
    }
    arena_unlock(a);
    /* Grown past what was asked for before: from the unit that size used
     * partly, the units asked for now are marked as a new block's. */
    if (ok && size > old_req)
        thp_mark(s, old_req, size, !zero && (size < CHUNK || os_thp_plan(false) != OS_THP_PLAN_SMALL));
    if (ok && zero && new_usize > old_usize) {
        /* The old run's slack may hold old data; pages taken from a clean run
         * already read zero, so zeroing stops where they begin. */
        size_t upto = fresh_zero && new_run > old_run ? old_run : new_usize;
        if (upto > old_usize)
            memset((void *)(s->start + old_usize), 0, upto - old_usize);
    }
    return ok;
}
