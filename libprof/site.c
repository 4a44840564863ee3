/*
 * site: the table of allocation sites (distinct stacks, deduplicated by
 * hash) with per-thread shares, and the table of live sampled blocks keyed
 * by address. Both are fixed bucket arrays in base memory (sites under
 * striped mutexes, samples under a lock bit per bucket); records come from
 * base memory and are recycled, so memory is bounded by the number of
 * distinct stacks plus live samples.
 * A sample counts in its thread's share only; a site's totals are the sums
 * of its shares, made by site_foreach_src. A thread finds its share in its
 * own cache and writes its counts without the stripe lock, inside the
 * share's seqlock (share_own_update); other threads' frees of its samples
 * count in the share's remote counts under the lock (prof.h, struct
 * prof_tctx). With prof_peak, each sample also moves the sampled in-use
 * total (peak.c) under its site's stripe lock, every update takes that
 * lock, and shares carry peak slots that site_peak_snapshot fills (and
 * stamps the site with) and the *_src walks read.
 */
#include "prof.h"
#include "prof_hooks.h"
#include "options.h"
#include "recent.h"
#include "cfi.h"
#include "unloaded.h"

#include "pmath.h"
#include "bss_large.h"
#include <sched.h>
#include <string.h>

/* Bucket arrays are touched page by page as they fill, so keep them modest:
 * 16k sites and 64k sample buckets cost 640 KiB at most. */
#define SITE_BUCKETS  (1u << 14)
#define SAMPLE_BUCKETS (1u << 16)
#define STRIPES 256

static struct prof_site **site_buckets;
/* The stripe locks (site_locks[hash % STRIPES]) guard the shares' remote
 * counts (and, with prof_peak, all their counts), each site's list of
 * shares and peak stamp, the creation and reuse of sites and shares, and
 * the readers of the counts. Their critical
 * sections are a few additions, so they are adaptive mutexes, as the
 * arena locks are (a waiter spins before sleeping): with plain ones, two
 * threads that sample one site every ~32 allocations and free each
 * other's samples (bench/larson_like, lg_prof_sample:14) spent a fifth of
 * their time in futex waits and wakes. */
static pthread_mutex_t site_locks[STRIPES] BSS_LARGE;

static void stripes_init(void)
{
    for (unsigned i = 0; i < STRIPES; i++)
        site_locks[i] = (pthread_mutex_t)PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
}

/* The live-sample table: one word per bucket, holding the chain's first
 * record, a lock bit and a change count (see bucket_lock). A bucket is
 * locked only for the few stores of an insertion or a removal: one
 * compare-and-swap and one store, no separate mutex cache line. */
static _Atomic uint64_t *sample_buckets;
#define BUCKET_LOCK 1ull
#define BUCKET_PTR ((((uint64_t)1 << 47) - 1) & ~(uint64_t)15)
#define BUCKET_VER_SHIFT 47
_Static_assert(offsetof(struct prof_sample, ptr) == 0,
               "a span slot holds a record, whose first word is its block (prof_host_mark_sampled)");
_Static_assert(sizeof(struct prof_sample) % 16 == 0 && _Alignof(struct prof_sample) >= 16,
               "records in a batch are 16-aligned: a bucket word's low bits are not the address");
/* Free records beyond the threads' own caches, in chains of up to
 * REC_BATCH linked by next; the chains are linked through tctx. */
#define REC_BATCH 64
static pthread_mutex_t rec_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct prof_sample *rec_pool;
static pthread_mutex_t all_lock = PTHREAD_MUTEX_INITIALIZER;
static struct prof_site *all_sites;
/* Live sampled blocks: each thread counts the samples it records and
 * forgets in its own tdata (a block may be added by one thread and removed
 * by another; only the sum means anything), with a plain store: a locked
 * add here waited for the sample path's earlier stores to drain (a
 * quarter of site_record's time, larson_like at 8 threads, lg 14).
 * Forgets without a tdata count here. */
static _Atomic int64_t live_no_tdata;

static void live_add(struct prof_tdata *td, int64_t d)
{
    if (td) {
        int64_t n = __atomic_load_n(&td->live_samples, __ATOMIC_RELAXED);
        __atomic_store_n(&td->live_samples, n + d, __ATOMIC_RELAXED);
    } else {
        atomic_fetch_add_explicit(&live_no_tdata, d, memory_order_relaxed);
    }
}

void site_boot(void)
{
    site_buckets = prof_host_meta_alloc(sizeof(*site_buckets) * SITE_BUCKETS, 4096);
    sample_buckets = prof_host_meta_alloc(sizeof(*sample_buckets) * SAMPLE_BUCKETS, 4096);
    stripes_init();
}

/* ---- the live-sample table ---- */

/* Lock bucket b (spinning while another thread holds it: its critical
 * section is a handful of stores); returns the word as it was, unlocked. */
static uint64_t bucket_lock(_Atomic uint64_t *b)
{
    uint64_t w = atomic_load_explicit(b, memory_order_relaxed);
    for (;;) {
        if (!(w & BUCKET_LOCK) &&
            atomic_compare_exchange_weak_explicit(b, &w, w | BUCKET_LOCK, memory_order_acquire,
                                                  memory_order_relaxed))
            return w;
        if (w & BUCKET_LOCK) {
            __builtin_ia32_pause();
            w = atomic_load_explicit(b, memory_order_relaxed);
        }
    }
}

/* Unlock bucket b (locked from word old) with first record head; the change
 * count goes up, so lock-free readers see that the chain changed. */
static void bucket_unlock(_Atomic uint64_t *b, uint64_t old, struct prof_sample *head)
{
    uint64_t ver = (old >> BUCKET_VER_SHIFT) + 1;
    atomic_store_explicit(b, (uintptr_t)head | ver << BUCKET_VER_SHIFT, memory_order_release);
}

static struct prof_sample *bucket_head(uint64_t w)
{
    return (struct prof_sample *)(uintptr_t)(w & BUCKET_PTR);
}

/* A free record: the thread's cache, else a chain from the pool, else a
 * new batch from base memory. NULL when that fails. */
static struct prof_sample *rec_get(struct prof_tdata *td)
{
    if (!td->rec_free) {
        pthread_mutex_lock(&rec_pool_lock);
        struct prof_sample *chain = rec_pool;
        if (chain)
            rec_pool = (struct prof_sample *)chain->tctx;
        pthread_mutex_unlock(&rec_pool_lock);
        unsigned n = 0;
        if (chain) {
            for (struct prof_sample *r = chain; r; r = r->next)
                n++;
        } else {
            struct prof_sample *batch = prof_host_meta_alloc(sizeof(*batch) * REC_BATCH, 16);
            if (!batch)
                return NULL;
            for (int i = REC_BATCH - 1; i >= 0; i--) {
                batch[i].next = chain;
                chain = &batch[i];
            }
            n = REC_BATCH;
        }
        td->rec_free = chain;
        td->rec_nfree = n;
    }
    struct prof_sample *r = td->rec_free;
    td->rec_free = r->next;
    td->rec_nfree--;
    return r;
}

/* Give record r back: to td's cache (a full cache hands a chain of
 * REC_BATCH to the pool, so a thread that only frees others' samples does
 * not hoard), or to the pool when there is no td. r is off every chain;
 * lock-free readers may still be reading it, so ptr and next are stored
 * atomically. */
static void rec_put(struct prof_tdata *td, struct prof_sample *r)
{
    __atomic_store_n(&r->ptr, 0, __ATOMIC_RELAXED);
    if (!td) {
        __atomic_store_n(&r->next, NULL, __ATOMIC_RELAXED);
        r->tctx = NULL;
        pthread_mutex_lock(&rec_pool_lock);
        r->tctx = (struct prof_tctx *)rec_pool;
        rec_pool = r;
        pthread_mutex_unlock(&rec_pool_lock);
        return;
    }
    __atomic_store_n(&r->next, td->rec_free, __ATOMIC_RELAXED);
    td->rec_free = r;
    if (++td->rec_nfree < 2 * REC_BATCH)
        return;
    /* cut the first REC_BATCH off as one chain */
    struct prof_sample *chain = td->rec_free, *last = chain;
    for (int i = 1; i < REC_BATCH; i++)
        last = last->next;
    td->rec_free = last->next;
    td->rec_nfree -= REC_BATCH;
    __atomic_store_n(&last->next, NULL, __ATOMIC_RELAXED);
    pthread_mutex_lock(&rec_pool_lock);
    chain->tctx = (struct prof_tctx *)rec_pool;
    rec_pool = chain;
    pthread_mutex_unlock(&rec_pool_lock);
}

static uint64_t hash_pcs(const uintptr_t *pcs, unsigned depth)
{
    uint64_t h = 0xcbf29ce484222325ull ^ depth;
    for (unsigned i = 0; i < depth; i++) {
        h ^= pcs[i];
        h *= 0x100000001b3ull;
        h ^= h >> 29;
    }
    return h;
}

static uint64_t hash_ptr(uintptr_t p)
{
    uint64_t h = p >> 3;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static void cnt_add(struct prof_cnt *c, double w, size_t usize)
{
    c->ucount += w;
    c->ubytes += w * (double)usize;
    c->count++;
    c->bytes += usize;
}

/* Add counts c to to (a site's sum of its shares, an exited share's). */
static void cnt_sum(struct prof_cnt *to, const struct prof_cnt *c)
{
    to->ucount += c->ucount;
    to->ubytes += c->ubytes;
    to->count += c->count;
    to->bytes += c->bytes;
}

static void cnt_sub(struct prof_cnt *c, double w, size_t usize)
{
    c->count--;
    c->bytes -= usize;
    if (c->count == 0) {
        c->ucount = 0;
        c->ubytes = 0;
    } else {
        c->ucount -= w;
        c->ubytes -= w * (double)usize;
    }
}

/* ---- a share's counts (prof.h: struct prof_tctx) ----
 * cur, accum and epoch have one writer at a time: the share's thread,
 * without a lock, or, once that thread has exited, whoever holds the
 * site's stripe lock. The writer opens seq (odd), writes, closes it
 * (even); a reader, holding the stripe lock, reads them between two equal
 * even values of seq (a seqlock). The fields are accessed atomically
 * (relaxed) so a read that overlaps a write is retried, never undefined. */

static inline __attribute__((always_inline)) void cnt_load(struct prof_cnt *to,
                                                         const struct prof_cnt *c)
{
    __atomic_load(&c->ucount, &to->ucount, __ATOMIC_RELAXED);
    __atomic_load(&c->ubytes, &to->ubytes, __ATOMIC_RELAXED);
    to->count = __atomic_load_n(&c->count, __ATOMIC_RELAXED);
    to->bytes = __atomic_load_n(&c->bytes, __ATOMIC_RELAXED);
}

static inline __attribute__((always_inline)) void cnt_store(struct prof_cnt *to,
                                                          const struct prof_cnt *c)
{
    __atomic_store(&to->ucount, &c->ucount, __ATOMIC_RELAXED);
    __atomic_store(&to->ubytes, &c->ubytes, __ATOMIC_RELAXED);
    __atomic_store_n(&to->count, c->count, __ATOMIC_RELAXED);
    __atomic_store_n(&to->bytes, c->bytes, __ATOMIC_RELAXED);
}

/* Add a sample of weight w and usize bytes to t's cur and accum (add), or
 * take one off cur (!add), counting in reset epoch `epoch`: counts of an
 * older epoch are dropped first; a free (!add) of a sample of an older
 * epoch than t's counts changes nothing (the reset cleared it). Called by
 * t's thread without a lock, or with the stripe lock by any thread when t
 * has no live thread. */
static void share_own_update(struct prof_tctx *t, uint64_t epoch, bool add, double w,
                             size_t usize)
{
    uint64_t e = __atomic_load_n(&t->epoch, __ATOMIC_RELAXED);
    if (!add && e != epoch)
        return;
    struct prof_cnt cur, accum;
    cnt_load(&cur, &t->cur);
    cnt_load(&accum, &t->accum);
    if (e != epoch) {
        memset(&cur, 0, sizeof(cur));
        memset(&accum, 0, sizeof(accum));
    }
    if (add) {
        cnt_add(&cur, w, usize);
        cnt_add(&accum, w, usize);
    } else {
        cnt_sub(&cur, w, usize);
    }
    uint64_t q = atomic_load_explicit(&t->seq, memory_order_relaxed);
    atomic_store_explicit(&t->seq, q + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    __atomic_store_n(&t->epoch, epoch, __ATOMIC_RELAXED);
    cnt_store(&t->cur, &cur);
    cnt_store(&t->accum, &accum);
    atomic_store_explicit(&t->seq, q + 2, memory_order_release);
}

/* t's counts as a dump shows them (stripe lock held): cur net of other
 * threads' frees, and nothing from before the last prof.reset. */
static void share_read(const struct prof_tctx *t, struct prof_cnt *cur, struct prof_cnt *accum)
{
    uint64_t e;
    for (unsigned spins = 0;; spins++) {
        uint64_t q = atomic_load_explicit(&t->seq, memory_order_acquire);
        e = __atomic_load_n(&t->epoch, __ATOMIC_RELAXED);
        cnt_load(cur, &t->cur);
        cnt_load(accum, &t->accum);
        atomic_thread_fence(memory_order_acquire);
        if (!(q & 1) && atomic_load_explicit(&t->seq, memory_order_relaxed) == q)
            break;
        /* The writer was preempted in its few stores: let it run. */
        if (spins >= 64)
            sched_yield();
        else
            __builtin_ia32_pause();
    }
    if (e != prof.reset_epoch) {
        memset(cur, 0, sizeof(*cur));
        memset(accum, 0, sizeof(*accum));
        return;
    }
    const struct prof_cnt *r = &t->remote;
    cur->count -= r->count;
    cur->bytes -= r->bytes;
    if (cur->count == 0) {
        cur->ucount = 0;
        cur->ubytes = 0;
    } else {
        cur->ucount -= r->ucount;
        cur->ubytes -= r->ubytes;
    }
}

/* A copy of share t for a visitor (stripe lock held): its counts as
 * share_read gives them, its peak slots as they are. */
static void share_copy(struct prof_tctx *to, const struct prof_tctx *t)
{
    memset(to, 0, sizeof(*to));
    to->site = t->site;
    to->thr_uid = t->thr_uid;
    to->tdata = t->tdata;
    share_read(t, &to->cur, &to->accum);
    to->peak_cur = t->peak_cur;
    to->peak_accum = t->peak_accum;
    to->peak_uid = t->peak_uid;
    to->peak_gen = t->peak_gen;
}

/* Start t over for thread td in the current epoch (stripe lock held; t's
 * thread, if any, has exited). */
static void share_restart(struct prof_tctx *t, struct prof_tdata *td, uint64_t uid)
{
    struct prof_cnt zero = {0};
    uint64_t q = atomic_load_explicit(&t->seq, memory_order_relaxed);
    atomic_store_explicit(&t->seq, q + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    __atomic_store_n(&t->epoch, prof.reset_epoch, __ATOMIC_RELAXED);
    cnt_store(&t->cur, &zero);
    cnt_store(&t->accum, &zero);
    atomic_store_explicit(&t->seq, q + 2, memory_order_release);
    t->remote = zero;
    __atomic_store_n(&t->thr_uid, uid, __ATOMIC_RELAXED);
    __atomic_store_n(&t->tdata, td, __ATOMIC_RELAXED);
}

/* Add c to the accum of t, a share no thread writes (the exited
 * threads' share). Stripe lock held. */
static void share_add_accum(struct prof_tctx *t, const struct prof_cnt *c)
{
    struct prof_cnt cur, accum;
    share_read(t, &cur, &accum); /* zero when from before a reset */
    cnt_sum(&accum, c);
    uint64_t q = atomic_load_explicit(&t->seq, memory_order_relaxed);
    atomic_store_explicit(&t->seq, q + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    __atomic_store_n(&t->epoch, prof.reset_epoch, __ATOMIC_RELAXED);
    cnt_store(&t->accum, &accum);
    atomic_store_explicit(&t->seq, q + 2, memory_order_release);
}

uintptr_t site_pc_out(const struct prof_site *s, unsigned i)
{
    uintptr_t pc = s->pcs[i];
    return __builtin_expect(s->load_gen < unloaded_last(), 0) ? unloaded_alias(pc, s->load_gen) : pc;
}

/* The calling thread's share of the site of pcs (hash h) if its cache
 * holds it, else NULL. No lock: only this thread writes its cache, and a
 * share is handed to another thread only after its own has exited. */
static struct prof_tctx *tctx_cached(struct prof_tdata *td, uint64_t h, const uintptr_t *pcs,
                                     unsigned depth)
{
    struct prof_tctx *t = td->tctx_cache[h % PROF_TCTX_CACHE];
    if (!t || __atomic_load_n(&t->thr_uid, __ATOMIC_RELAXED) != td->uid)
        return NULL;
    const struct prof_site *s = t->site;
    if (s->hash != h || s->depth != depth || memcmp(s->pcs, pcs, depth * sizeof(*pcs)) != 0)
        return NULL;
    return t;
}

/* Find or create the site for pcs (hash h). Its stripe lock is held. A
 * site keeps the load generation it was made in (load_gen): its frames in
 * a module unloaded since are written at that module's alias (unloaded.h,
 * site_pc_out). A stack taken later through code mapped where that module
 * was, with the very same addresses in every frame, is counted in the same
 * site (a plugin reloaded: the same code; jemalloc does the same): a
 * different library at those addresses with an identical whole stack,
 * callers included, is the one case named after the first. */
static struct prof_site *site_get(uint64_t h, const uintptr_t *pcs, unsigned depth)
{
    struct prof_site **b = &site_buckets[h & (SITE_BUCKETS - 1)];
    struct prof_site *s;
    for (s = *b; s; s = s->next)
        if (s->hash == h && s->depth == depth && memcmp(s->pcs, pcs, depth * sizeof(*pcs)) == 0)
            return s;
    s = prof_host_meta_alloc(sizeof(*s) + depth * sizeof(uintptr_t), 16);
    if (!s)
        return NULL;
    s->hash = h;
    s->depth = depth;
    s->load_gen = cfi_generation();
    memcpy(s->pcs, pcs, depth * sizeof(*pcs));
    s->next = *b;
    *b = s;
    pthread_mutex_lock(&all_lock);
    s->all_next = all_sites;
    all_sites = s;
    pthread_mutex_unlock(&all_lock);
    return s;
}

/* The site for pcs and the calling thread's share of it. Stripe lock held. */
static struct prof_tctx *tctx_get(struct prof_tdata *td, uint64_t h, const uintptr_t *pcs,
                                  unsigned depth)
{
    struct prof_site *s = site_get(h, pcs, depth);
    if (!s)
        return NULL;
    struct prof_tctx *t, *reuse = NULL, *exited = NULL;
    struct prof_cnt reuse_cur, reuse_accum = {0};
    for (t = s->tctxs; t; t = t->next) {
        if (t->thr_uid == td->uid)
            return t;
        if (t->thr_uid == PROF_UID_EXITED) {
            exited = t;
        } else if (!reuse && t->tdata->uid != t->thr_uid) {
            share_read(t, &reuse_cur, &reuse_accum);
            if (reuse_cur.count == 0)
                reuse = t; /* its thread exited and holds nothing live */
        }
    }
    if (reuse && reuse_accum.count && !exited) {
        exited = prof_host_meta_alloc(sizeof(*exited), 16);
        if (exited) {
            exited->site = s;
            exited->thr_uid = PROF_UID_EXITED;
            exited->tdata = NULL;
            exited->epoch = prof.reset_epoch;
            exited->next = s->tctxs;
            s->tctxs = exited;
        } else {
            reuse = NULL; /* no "exited" share to keep its counts: not recycled */
        }
    }
    if (reuse) {
        /* Bounded memory under thread churn: an exited thread's share is
         * recycled; its cumulative counts move to the site's "exited" share
         * so alloc totals (the sums of the shares) stay whole. */
        if (reuse_accum.count)
            share_add_accum(exited, &reuse_accum);
        share_restart(reuse, td, td->uid);
        return reuse;
    }
    t = prof_host_meta_alloc(sizeof(*t), 16);
    if (!t)
        return NULL;
    t->site = s;
    t->thr_uid = td->uid;
    t->tdata = td;
    t->epoch = prof.reset_epoch;
    t->next = s->tctxs;
    s->tctxs = t;
    return t;
}

struct prof_site *site_intern(const uintptr_t *pcs, unsigned depth)
{
    uint64_t h = hash_pcs(pcs, depth);
    pthread_mutex_t *sl = &site_locks[h % STRIPES];
    pthread_mutex_lock(sl);
    struct prof_site *s = site_get(h, pcs, depth);
    pthread_mutex_unlock(sl);
    return s;
}

struct prof_sample *site_record(struct prof_tdata *td, uintptr_t p, size_t size, size_t usize,
                                const uintptr_t *pcs, unsigned depth, double weight, uint64_t now)
{
    /* The record first: a sample that cannot have one (metadata memory
     * exhausted) is not counted at all, as its free could never take it
     * off its site again (tests/faults/fault_prof_norec). */
    struct prof_sample *r = rec_get(td);
    if (!r)
        return NULL;
    uint64_t h = hash_pcs(pcs, depth);
    uint64_t inuse = 0, epoch;
    /* A site this thread sampled lately: its share is in its cache, and
     * the counts are its own to write, without a lock. With prof_peak the
     * sampled in-use total moves with the counts, under the lock. Cumulative
     * counts are always kept (pprof's alloc_*); heap_v2 shows them only with
     * prof_accum. The site's totals are summed when read. */
    struct prof_tctx *t = opt.prof_peak ? NULL : tctx_cached(td, h, pcs, depth);
    if (t) {
        epoch = __atomic_load_n(&prof.reset_epoch, __ATOMIC_ACQUIRE);
        share_own_update(t, epoch, true, weight, usize);
    } else {
        pthread_mutex_t *sl = &site_locks[h % STRIPES];
        pthread_mutex_lock(sl);
        t = tctx_get(td, h, pcs, depth);
        epoch = prof.reset_epoch;
        if (t) {
            share_own_update(t, epoch, true, weight, usize);
            td->tctx_cache[h % PROF_TCTX_CACHE] = t;
            if (opt.prof_peak)
                inuse = peak_inuse_add(peak_sample_bytes(weight, usize));
        }
        pthread_mutex_unlock(sl);
        if (!t) {
            rec_put(td, r);
            return NULL;
        }
    }

    /* ptr and next are read by maybe_sampled without the lock: they are
     * only written with atomic stores (C11: no data race). */
    memset(&r->tctx, 0, sizeof(*r) - offsetof(struct prof_sample, tctx));
    __atomic_store_n(&r->ptr, p, __ATOMIC_RELAXED);
    r->tctx = t;
    r->size = size;
    r->usize = usize;
    r->weight = weight;
    r->reset_epoch = epoch;
    if (recent_enabled())
        recent_note_alloc(r, t->site, td, now);
    live_add(td, 1);
    /* No lock held: a new peak walks the sites (rare, see peak.c). */
    if (opt.prof_peak)
        peak_check(inuse);
    return r;
}

void site_sample_index(struct prof_sample *r)
{
    if (!r)
        return;
    _Atomic uint64_t *b = &sample_buckets[hash_ptr(r->ptr) & (SAMPLE_BUCKETS - 1)];
    uint64_t old = bucket_lock(b);
    __atomic_store_n(&r->next, bucket_head(old), __ATOMIC_RELAXED);
    bucket_unlock(b, old, r);
}

/* Lock-free "is p sampled?": false only when certain. Records live in base
 * memory and are only recycled, never unmapped, so walking a chain that is
 * being edited is safe; the bucket's change count says whether the walk
 * saw one state of the chain (a count that wraps, 2^17 edits of one bucket
 * during one walk, is not a concern). p's own record, if any, was inserted
 * before p was handed out and only p's free removes it. */
static bool maybe_sampled(_Atomic uint64_t *b, uintptr_t p)
{
    uint64_t w1 = atomic_load_explicit(b, memory_order_acquire);
    if (w1 & BUCKET_LOCK)
        return true;
    const struct prof_sample *r = bucket_head(w1);
    for (int steps = 0; r; steps++) {
        if (steps > 64 || __atomic_load_n(&r->ptr, __ATOMIC_RELAXED) == p)
            return true;
        r = __atomic_load_n(&r->next, __ATOMIC_ACQUIRE);
    }
    atomic_thread_fence(memory_order_acquire);
    return atomic_load_explicit(b, memory_order_relaxed) != w1;
}

/* The counts of record r (out of the table, or out of its span's slot),
 * copied to *out, taken off its share; r goes back to the free records. */
static void forget_rec(struct prof_tdata *td, struct prof_sample *r, struct prof_sample *out)
{
    *out = *r;
    live_add(td, -1);
    rec_put(td, r);
    struct prof_tctx *t = out->tctx;
    /* Counted before the last prof.reset: the reset took it off. A reset
     * that comes after this test finds the sample's share either in its
     * old epoch (the owner's update below then goes to counts readers
     * ignore) or, on the locked path, is seen under the lock. */
    if (out->reset_epoch != __atomic_load_n(&prof.reset_epoch, __ATOMIC_ACQUIRE))
        return;
    bool own = td && __atomic_load_n(&t->tdata, __ATOMIC_RELAXED) == td &&
               __atomic_load_n(&t->thr_uid, __ATOMIC_RELAXED) == td->uid;
    if (own && !opt.prof_peak) {
        share_own_update(t, out->reset_epoch, false, out->weight, out->usize);
        return;
    }
    pthread_mutex_t *sl = &site_locks[t->site->hash % STRIPES];
    pthread_mutex_lock(sl);
    if (out->reset_epoch == prof.reset_epoch) {
        if (own) {
            share_own_update(t, out->reset_epoch, false, out->weight, out->usize);
        } else {
            t->remote.count++;
            t->remote.bytes += out->usize;
            t->remote.ucount += out->weight;
            t->remote.ubytes += out->weight * (double)out->usize;
        }
        if (opt.prof_peak)
            peak_inuse_add(-peak_sample_bytes(out->weight, out->usize));
    }
    pthread_mutex_unlock(sl);
}

bool site_forget(uintptr_t p, struct prof_sample *out)
{
    return site_forget_td(NULL, p, out);
}

bool site_forget_td(struct prof_tdata *td, uintptr_t p, struct prof_sample *out)
{
    _Atomic uint64_t *b = &sample_buckets[hash_ptr(p) & (SAMPLE_BUCKETS - 1)];
    if (!maybe_sampled(b, p))
        return false;
    uint64_t old = bucket_lock(b);
    struct prof_sample *head = bucket_head(old), *prev = NULL, *r;
    for (r = head; r; prev = r, r = r->next)
        if (r->ptr == p)
            break;
    if (!r) {
        bucket_unlock(b, old, head);
        return false;
    }
    if (prev)
        __atomic_store_n(&prev->next, r->next, __ATOMIC_RELEASE);
    else
        head = r->next;
    bucket_unlock(b, old, head);
    forget_rec(td, r, out);
    return true;
}

bool site_forget_rec(struct prof_tdata *td, struct prof_sample *r, uintptr_t p, struct prof_sample *out)
{
    if (__atomic_load_n(&r->ptr, __ATOMIC_RELAXED) != p)
        return false; /* not p's (a caller's bug): nothing counted */
    forget_rec(td, r, out);
    return true;
}

void site_foreach_src(enum site_src src, site_visit_fn fn, void *arg)
{
    uint64_t gen = src == SITE_PEAK ? peak_gen() : 0;
    if (src == SITE_PEAK && gen == 0)
        return; /* no snapshot yet */
    pthread_mutex_lock(&all_lock);
    struct prof_site *s = all_sites;
    pthread_mutex_unlock(&all_lock);
    /* Sites are never freed and the list only grows at its head, so walking
     * from a snapshot of the head is safe without the lock. */
    for (; s; s = s->all_next) {
        pthread_mutex_t *l = &site_locks[s->hash % STRIPES];
        pthread_mutex_lock(l);
        bool in = src == SITE_LIVE || s->peak_gen == gen;
        /* The site's totals: its shares summed (a share made after the
         * peak snapshot holds an older peak_gen and counts nothing there). */
        struct prof_cnt cur = {0}, accum = {0};
        for (const struct prof_tctx *t = in ? s->tctxs : NULL; t; t = t->next) {
            if (src == SITE_LIVE) {
                struct prof_cnt c, a;
                share_read(t, &c, &a);
                cnt_sum(&cur, &c);
                cnt_sum(&accum, &a);
            } else if (t->peak_gen == gen) {
                cnt_sum(&cur, &t->peak_cur);
                cnt_sum(&accum, &t->peak_accum);
            }
        }
        pthread_mutex_unlock(l);
        if (in)
            fn(arg, s, &cur, &accum);
    }
}

void site_foreach(site_visit_fn fn, void *arg)
{
    site_foreach_src(SITE_LIVE, fn, arg);
}

void site_foreach_tctx_src(enum site_src src, const struct prof_site *site, tctx_visit_fn fn,
                           void *arg)
{
    /* Shares are copied in batches under the stripe lock (the visitor may
     * lock other things); shares are never freed and the list only grows at
     * its head, so the walk resumes from the last copied share's next. */
    enum { BATCH = 32 };
    struct prof_tctx copy[BATCH];
    uint64_t gen = src == SITE_PEAK ? peak_gen() : 0;
    pthread_mutex_t *l = &site_locks[site->hash % STRIPES];
    pthread_mutex_lock(l);
    struct prof_tctx *t = site->tctxs;
    while (t) {
        unsigned n = 0;
        for (; t && n < BATCH; t = t->next) {
            if (src == SITE_LIVE) {
                share_copy(&copy[n++], t);
            } else if (gen != 0 && t->peak_gen == gen) {
                share_copy(&copy[n], t);
                copy[n].cur = t->peak_cur;
                copy[n].accum = t->peak_accum;
                copy[n].thr_uid = t->peak_uid;
                n++;
            }
        }
        pthread_mutex_unlock(l);
        for (unsigned i = 0; i < n; i++)
            fn(arg, &copy[i]);
        pthread_mutex_lock(l);
    }
    pthread_mutex_unlock(l);
}

void site_foreach_tctx(const struct prof_site *site, tctx_visit_fn fn, void *arg)
{
    site_foreach_tctx_src(SITE_LIVE, site, fn, arg);
}

void site_peak_snapshot(uint64_t gen)
{
    pthread_mutex_lock(&all_lock);
    struct prof_site *s = all_sites;
    pthread_mutex_unlock(&all_lock);
    /* A site created after the head was read is not in this snapshot: its
     * peak_gen stays older and readers skip it (it held nothing when the
     * walk began; what it took since is among the in-flight samples). */
    for (; s; s = s->all_next) {
        pthread_mutex_t *l = &site_locks[s->hash % STRIPES];
        pthread_mutex_lock(l);
        s->peak_gen = gen;
        for (struct prof_tctx *t = s->tctxs; t; t = t->next) {
            share_read(t, &t->peak_cur, &t->peak_accum);
            t->peak_uid = t->thr_uid;
            t->peak_gen = gen;
        }
        pthread_mutex_unlock(l);
    }
}

void site_reset(void)
{
    peak_hold(); /* no snapshot may run across the reset */
    for (unsigned i = 0; i < STRIPES; i++)
        pthread_mutex_lock(&site_locks[i]);
    /* The shares' own counts are left to their writers: counts of an
     * older epoch read as zero (share_read) and are dropped at the next
     * update (share_own_update). */
    __atomic_store_n(&prof.reset_epoch, prof.reset_epoch + 1, __ATOMIC_RELEASE);
    pthread_mutex_lock(&all_lock);
    for (struct prof_site *s = all_sites; s; s = s->all_next) {
        for (struct prof_tctx *t = s->tctxs; t; t = t->next)
            memset(&t->remote, 0, sizeof(t->remote));
    }
    pthread_mutex_unlock(&all_lock);
    peak_forget_locked();
    for (unsigned i = 0; i < STRIPES; i++)
        pthread_mutex_unlock(&site_locks[i]);
    peak_release();
}

uint64_t site_live_samples(void)
{
    int64_t n = atomic_load_explicit(&live_no_tdata, memory_order_relaxed);
    pthread_mutex_lock(&prof.tdata_lock);
    for (const struct prof_tdata *td = prof.all_tdatas; td; td = td->all_next)
        n += __atomic_load_n(&td->live_samples, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&prof.tdata_lock);
    return n > 0 ? (uint64_t)n : 0;
}

/* Bucket locks are not taken here (64k of them): a thread of the parent may
 * hold one at the fork, and site_postfork_child clears it. */
void site_prefork(void)
{
    peak_prefork();
    pthread_mutex_lock(&rec_pool_lock);
    for (unsigned i = 0; i < STRIPES; i++)
        pthread_mutex_lock(&site_locks[i]);
    pthread_mutex_lock(&all_lock);
}

void site_postfork_parent(void)
{
    pthread_mutex_unlock(&all_lock);
    for (unsigned i = 0; i < STRIPES; i++)
        pthread_mutex_unlock(&site_locks[i]);
    pthread_mutex_unlock(&rec_pool_lock);
    peak_postfork_parent();
}

void site_postfork_child(void)
{
    peak_postfork_child();
    pthread_mutex_init(&all_lock, NULL);
    pthread_mutex_init(&rec_pool_lock, NULL);
    /* A bucket another thread had locked at the fork: in every state of an
     * insertion or removal the chain is whole (a record is linked by one
     * store), only the lock bit is left; that thread's block is never freed
     * here. Words are only read unless locked (no copy-on-write of the
     * table). */
    for (unsigned i = 0; sample_buckets && i < SAMPLE_BUCKETS; i++) {
        uint64_t w = atomic_load_explicit(&sample_buckets[i], memory_order_relaxed);
        if (w & BUCKET_LOCK)
            atomic_store_explicit(&sample_buckets[i], w & ~BUCKET_LOCK, memory_order_relaxed);
    }
    /* A share whose thread was writing its counts at the fork (an odd seq:
     * share_own_update takes no lock the prefork could hold) would keep
     * every reader of it waiting: closed here, with what it holds; that
     * thread and its counts do not go on in the child. */
    for (struct prof_site *s = all_sites; s; s = s->all_next)
        for (struct prof_tctx *t = s->tctxs; t; t = t->next) {
            uint64_t q = atomic_load_explicit(&t->seq, memory_order_relaxed);
            if (q & 1)
                atomic_store_explicit(&t->seq, q + 1, memory_order_relaxed);
        }
    stripes_init();
}

void prof_unbias_for_dump(const struct prof_cnt *c, double R, uint64_t *objs, uint64_t *bytes)
{
    if (!opt.prof_unbias) {
        *objs = c->count;
        *bytes = c->bytes;
        return;
    }
    if (c->ucount <= 0 || c->ubytes <= 0) {
        *objs = 0;
        *bytes = 0;
        return;
    }
    double x = c->ubytes / c->ucount;
    double y = -c->ubytes * pmath_expm1(-x / R); /* ubytes (1 - e^(-x/R)) */
    *objs = (uint64_t)pmath_llround(y / x);
    *bytes = (uint64_t)pmath_llround(y);
}
