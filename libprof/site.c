/*
 * site: the table of allocation sites (distinct stacks, deduplicated by
 * hash) with per-thread shares, and the table of live sampled blocks keyed
 * by address. Both are fixed bucket arrays in base memory with striped
 * mutexes; records come from base memory and are recycled, so memory is
 * bounded by the number of distinct stacks plus live samples.
 * With prof_peak, each sample also moves the sampled in-use total (peak.c)
 * under its site's stripe lock, and sites and shares carry peak slots that
 * site_peak_snapshot fills and the *_src walks read.
 */
#include "prof.h"
#include "prof_hooks.h"
#include "options.h"
#include "recent.h"

#include <math.h>
#include <string.h>

/* Bucket arrays are touched page by page as they fill, so keep them modest:
 * 16k sites and 64k sample buckets cost 640 KiB at most. */
#define SITE_BUCKETS  (1u << 14)
#define SAMPLE_BUCKETS (1u << 16)
#define STRIPES 256

static struct prof_site **site_buckets;
static struct prof_sample **sample_buckets;
static pthread_mutex_t site_locks[STRIPES];
static pthread_mutex_t sample_locks[STRIPES];
/* Per-stripe change counters (odd while a writer edits the stripe's chains),
 * so a free can rule out "sampled" without taking the lock. */
static _Atomic uint64_t sample_seq[STRIPES];
static struct prof_sample *sample_free[STRIPES];
static pthread_mutex_t all_lock = PTHREAD_MUTEX_INITIALIZER;
static struct prof_site *all_sites;
static _Atomic uint64_t live_samples;

void site_boot(void)
{
    site_buckets = prof_host_meta_alloc(sizeof(*site_buckets) * SITE_BUCKETS, 4096);
    sample_buckets = prof_host_meta_alloc(sizeof(*sample_buckets) * SAMPLE_BUCKETS, 4096);
    for (unsigned i = 0; i < STRIPES; i++) {
        pthread_mutex_init(&site_locks[i], NULL);
        pthread_mutex_init(&sample_locks[i], NULL);
    }
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

/* Find or create the site for pcs (hash h). Its stripe lock is held. */
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
    for (t = s->tctxs; t; t = t->next) {
        if (t->thr_uid == td->uid)
            return t;
        if (t->thr_uid == PROF_UID_EXITED)
            exited = t;
        else if (!reuse && t->cur.count == 0 && t->tdata->uid != t->thr_uid)
            reuse = t; /* its thread exited and holds nothing live */
    }
    if (reuse) {
        /* Bounded memory under thread churn: an exited thread's share is
         * recycled; its cumulative counts move to the site's "exited" share
         * so alloc totals stay whole. */
        if (reuse->accum.count) {
            if (!exited && (exited = prof_host_meta_alloc(sizeof(*exited), 16)) != NULL) {
                exited->site = s;
                exited->thr_uid = PROF_UID_EXITED;
                exited->tdata = NULL;
                exited->next = s->tctxs;
                s->tctxs = exited;
            }
            if (exited) {
                exited->accum.ucount += reuse->accum.ucount;
                exited->accum.ubytes += reuse->accum.ubytes;
                exited->accum.count += reuse->accum.count;
                exited->accum.bytes += reuse->accum.bytes;
            }
        }
        memset(&reuse->cur, 0, sizeof(reuse->cur));
        memset(&reuse->accum, 0, sizeof(reuse->accum));
        reuse->thr_uid = td->uid;
        reuse->tdata = td;
        return reuse;
    }
    t = prof_host_meta_alloc(sizeof(*t), 16);
    if (!t)
        return NULL;
    t->site = s;
    t->thr_uid = td->uid;
    t->tdata = td;
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

void site_record(struct prof_tdata *td, uintptr_t p, size_t size, size_t usize,
                 const uintptr_t *pcs, unsigned depth, double weight, uint64_t now)
{
    uint64_t h = hash_pcs(pcs, depth);
    pthread_mutex_t *sl = &site_locks[h % STRIPES];
    pthread_mutex_lock(sl);
    struct prof_tctx *t = tctx_get(td, h, pcs, depth);
    uint64_t inuse = 0;
    if (t) {
        cnt_add(&t->cur, weight, usize);
        cnt_add(&t->site->cur, weight, usize);
        /* Cumulative counts are always kept (pprof's alloc_*); heap_v2 shows them
         * only with prof_accum. */
        cnt_add(&t->accum, weight, usize);
        cnt_add(&t->site->accum, weight, usize);
        if (opt.prof_peak)
            inuse = peak_inuse_add(peak_sample_bytes(weight, usize));
    }
    uint64_t epoch = prof.reset_epoch;
    pthread_mutex_unlock(sl);
    if (!t)
        return;

    uint64_t ph = hash_ptr(p);
    unsigned stripe = (unsigned)(ph % STRIPES);
    pthread_mutex_lock(&sample_locks[stripe]);
    struct prof_sample *r = sample_free[stripe];
    if (r) {
        sample_free[stripe] = r->next;
    } else {
        enum { BATCH = 64 };
        struct prof_sample *batch = prof_host_meta_alloc(sizeof(*batch) * BATCH, 16);
        if (batch) {
            for (int i = 1; i < BATCH; i++) {
                batch[i].next = sample_free[stripe];
                sample_free[stripe] = &batch[i];
            }
            r = &batch[0];
        }
    }
    if (r) {
        atomic_fetch_add_explicit(&sample_seq[stripe], 1, memory_order_acq_rel);
        /* ptr and next are read by maybe_sampled without the lock: they
         * are only written with atomic stores (C11: no data race). */
        memset(&r->tctx, 0, sizeof(*r) - offsetof(struct prof_sample, tctx));
        __atomic_store_n(&r->ptr, p, __ATOMIC_RELAXED);
        r->tctx = t;
        r->size = size;
        r->usize = usize;
        r->weight = weight;
        r->reset_epoch = epoch;
        r->alloc_ns = now;
        if (recent_enabled())
            recent_note_alloc(r, t->site, td, now);
        struct prof_sample **b = &sample_buckets[ph & (SAMPLE_BUCKETS - 1)];
        __atomic_store_n(&r->next, *b, __ATOMIC_RELAXED);
        __atomic_store_n(b, r, __ATOMIC_RELEASE);
        atomic_fetch_add_explicit(&sample_seq[stripe], 1, memory_order_release);
        atomic_fetch_add_explicit(&live_samples, 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&sample_locks[stripe]);
    /* No lock held: a new peak walks the sites (rare, see peak.c). */
    if (opt.prof_peak)
        peak_check(inuse);
}

/* Lock-free "is p sampled?": false only when certain. Records live in base
 * memory and are only recycled, never unmapped, so walking a chain that is
 * being edited is safe; the stripe counter says whether the walk is valid. */
static bool maybe_sampled(uint64_t ph, unsigned stripe, uintptr_t p)
{
    uint64_t s1 = atomic_load_explicit(&sample_seq[stripe], memory_order_acquire);
    if (s1 & 1)
        return true;
    const struct prof_sample *r =
        __atomic_load_n(&sample_buckets[ph & (SAMPLE_BUCKETS - 1)], __ATOMIC_ACQUIRE);
    for (int steps = 0; r; steps++) {
        if (steps > 64 || __atomic_load_n(&r->ptr, __ATOMIC_RELAXED) == p)
            return true;
        r = __atomic_load_n(&r->next, __ATOMIC_ACQUIRE);
    }
    atomic_thread_fence(memory_order_acquire);
    return atomic_load_explicit(&sample_seq[stripe], memory_order_relaxed) != s1;
}

bool site_forget(uintptr_t p, struct prof_sample *out)
{
    uint64_t ph = hash_ptr(p);
    unsigned stripe = (unsigned)(ph % STRIPES);
    if (!maybe_sampled(ph, stripe, p))
        return false;
    pthread_mutex_lock(&sample_locks[stripe]);
    struct prof_sample **pp = &sample_buckets[ph & (SAMPLE_BUCKETS - 1)], *r;
    for (r = *pp; r; pp = &r->next, r = r->next)
        if (r->ptr == p)
            break;
    if (r) {
        atomic_fetch_add_explicit(&sample_seq[stripe], 1, memory_order_acq_rel);
        __atomic_store_n(pp, r->next, __ATOMIC_RELEASE);
        atomic_fetch_add_explicit(&sample_seq[stripe], 1, memory_order_release);
        *out = *r;
        __atomic_store_n(&r->next, sample_free[stripe], __ATOMIC_RELAXED);
        sample_free[stripe] = r;
        atomic_fetch_sub_explicit(&live_samples, 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&sample_locks[stripe]);
    if (!r)
        return false;
    struct prof_tctx *t = out->tctx;
    pthread_mutex_lock(&site_locks[t->site->hash % STRIPES]);
    if (out->reset_epoch == prof.reset_epoch) {
        cnt_sub(&t->cur, out->weight, out->usize);
        cnt_sub(&t->site->cur, out->weight, out->usize);
        if (opt.prof_peak)
            peak_inuse_add(-peak_sample_bytes(out->weight, out->usize));
    }
    pthread_mutex_unlock(&site_locks[t->site->hash % STRIPES]);
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
        struct prof_cnt cur = src == SITE_LIVE ? s->cur : s->peak_cur;
        struct prof_cnt accum = src == SITE_LIVE ? s->accum : s->peak_accum;
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
                copy[n++] = *t;
            } else if (gen != 0 && t->peak_gen == gen) {
                copy[n] = *t;
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
        s->peak_cur = s->cur;
        s->peak_accum = s->accum;
        s->peak_gen = gen;
        for (struct prof_tctx *t = s->tctxs; t; t = t->next) {
            t->peak_cur = t->cur;
            t->peak_accum = t->accum;
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
    prof.reset_epoch++;
    pthread_mutex_lock(&all_lock);
    for (struct prof_site *s = all_sites; s; s = s->all_next) {
        memset(&s->cur, 0, sizeof(s->cur));
        memset(&s->accum, 0, sizeof(s->accum));
        for (struct prof_tctx *t = s->tctxs; t; t = t->next) {
            memset(&t->cur, 0, sizeof(t->cur));
            memset(&t->accum, 0, sizeof(t->accum));
        }
    }
    pthread_mutex_unlock(&all_lock);
    peak_forget_locked();
    for (unsigned i = 0; i < STRIPES; i++)
        pthread_mutex_unlock(&site_locks[i]);
    peak_release();
}

uint64_t site_live_samples(void)
{
    return atomic_load_explicit(&live_samples, memory_order_relaxed);
}

void site_prefork(void)
{
    peak_prefork();
    for (unsigned i = 0; i < STRIPES; i++)
        pthread_mutex_lock(&sample_locks[i]);
    for (unsigned i = 0; i < STRIPES; i++)
        pthread_mutex_lock(&site_locks[i]);
    pthread_mutex_lock(&all_lock);
}

void site_postfork_parent(void)
{
    pthread_mutex_unlock(&all_lock);
    for (unsigned i = 0; i < STRIPES; i++)
        pthread_mutex_unlock(&site_locks[i]);
    for (unsigned i = 0; i < STRIPES; i++)
        pthread_mutex_unlock(&sample_locks[i]);
    peak_postfork_parent();
}

void site_postfork_child(void)
{
    peak_postfork_child();
    pthread_mutex_init(&all_lock, NULL);
    for (unsigned i = 0; i < STRIPES; i++) {
        pthread_mutex_init(&site_locks[i], NULL);
        pthread_mutex_init(&sample_locks[i], NULL);
    }
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
    double y = c->ubytes * (1.0 - exp(-x / R));
    *objs = (uint64_t)llround(y / x);
    *bytes = (uint64_t)llround(y);
}
