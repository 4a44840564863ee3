/*
 * prof: the sampler behind liballoc/prof_hooks.h. Each thread draws byte
 * waits from an exponential distribution with mean R = 2^lg_prof_sample
 * (a Poisson process over allocated bytes); the allocation that crosses
 * the wait is sampled: its stack is captured (outside every allocator and
 * profiler lock) and recorded with weight 1/(1-e^(-usize/R)).
 */
#include "prof.h"
#include "dynload.h"
#include "http.h"
#include "prof_stats.h"
#include "prof_hooks.h"
#include "options.h"
#include "recent.h"
#include "foreign.h"
#include "dump_signal.h"

#include "pmath.h"
#include "bss_large.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct prof_state prof = {
    .dump_lock = PTHREAD_MUTEX_INITIALIZER,
    .tdata_lock = PTHREAD_MUTEX_INITIALIZER,
};

static struct prof_tdata *tdata_recycled;
static _Atomic uint64_t interval_accum;
static uint64_t interval_bytes;

static uint64_t prng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* Bytes until the next sample: exponential with mean 2^lg (at least 1). */
static uint64_t draw_wait(struct prof_tdata *td)
{
    unsigned lg = prof.lg_sample;
    if (lg == 0)
        return 1;
    double u = (double)(prng_next(&td->prng) >> 11) * (1.0 / 9007199254740992.0);
    if (u <= 0)
        u = 1.0 / 9007199254740992.0;
    double w = -pmath_log_fast(u) * (double)((uint64_t)1 << lg);
    if (w >= 9.0e18)
        return UINT64_MAX / 2;
    return (uint64_t)w + 1;
}

/* prof_time_resolution:high, read once at boot (the option is fixed then):
 * now_ns runs on every sample the recent ring records. */
static bool time_high;

static uint64_t now_ns(void)
{
    return prof_host_now_ns(time_high);
}

/* The profiler's state of h's thread (h: the caller's own heap, or NULL). */
static struct prof_tdata *tdata_of(struct heap *h)
{
    return h ? *prof_host_slot(h) : NULL;
}

static void final_dump(void);

int prof_boot(void)
{
    if (!opt.prof)
        return 0;
    prof.active = opt.prof_active;
    prof.gdump = opt.prof_gdump;
    prof.thread_active_init = opt.prof_thread_active_init;
    prof.lg_sample = (unsigned)opt.lg_prof_sample;
    time_high = strcmp(opt.prof_time_resolution, "high") == 0;
    memcpy(prof.prefix, opt.prof_prefix, sizeof(prof.prefix));
    interval_bytes = opt.lg_prof_interval >= 0 ? (uint64_t)1 << opt.lg_prof_interval : 0;
    pmath_boot();
    site_boot();
    recent_boot(opt.prof_recent_alloc_max);
    backtrace_boot(strcmp(opt.prof_unwind, "fp") == 0          ? BT_FP
                   : strcmp(opt.prof_unwind, "libunwind") == 0 ? BT_LIBUNWIND
                                                               : BT_AUTO);
    if (opt.prof_leak_error && !opt.prof_final)
        prof_host_write_err("<jemalloc>: prof_leak_error is set w/o prof_final.\n");
    if (opt.prof_final)
        atexit(final_dump);
    if (opt.prof_dump_signal[0]) /* dump_signal.c's code is cold: see prof_boot_late */
        (void)dump_signal_boot(); /* a failure was reported; profiling goes on without it */
    return 0;
}

void prof_boot_late(void)
{
    /* The libraries stack capture and pprof dumps use (dynload.h), before
     * the profiler's threads start: libunwind unless prof_unwind:fp; zlib
     * and libprotobuf-c when dumps or the server write pprof (else at the
     * first prof.dump_pprof_fd). Never without prof. */
    if (opt.prof)
        dynload_boot(strcmp(opt.prof_unwind, "fp") != 0,
                     strcmp(opt.prof_format, "heap_v2") != 0 || opt.prof_http[0] != '\0');
    /* Only when asked: the two modules' code is cold (liballoc.mk), left
     * unmapped in a process that never runs it. */
    if (opt.prof_http[0])
        http_boot(); /* warns and serves nothing without prof */
    if (opt.prof_dump_signal[0])
        dump_signal_start(); /* nothing unless prof */
}

void prof_thread_init(struct heap *h)
{
    prof_host_sample_wait(h, UINT64_MAX);
    if (!opt.prof)
        return;
    pthread_mutex_lock(&prof.tdata_lock);
    struct prof_tdata *td = tdata_recycled;
    if (td)
        tdata_recycled = td->free_next;
    pthread_mutex_unlock(&prof.tdata_lock);
    bool recycled = td != NULL;
    if (!td && !(td = prof_host_meta_alloc(sizeof(*td), 64)))
        return;
    /* a recycled tdata keeps its list link, live count and free sample
     * records (the fields from all_next on; a new one is zeroed memory) */
    memset(td, 0, offsetof(struct prof_tdata, all_next));
    uint64_t uid = prof_host_thread_uid(h);
    td->uid = uid;
    td->active = prof.thread_active_init;
    td->live = true;
    td->prng = (uid + 1) * 0x9e3779b97f4a7c15ull ^ now_ns() ^ (uint64_t)getpid();
    if (!td->prng)
        td->prng = 1;
    pthread_mutex_lock(&prof.tdata_lock);
    if (!recycled) {
        td->all_next = prof.all_tdatas;
        prof.all_tdatas = td;
    }
    td->next = prof.tdatas;
    if (td->next)
        td->next->prev = td;
    prof.tdatas = td;
    pthread_mutex_unlock(&prof.tdata_lock);
    *prof_host_slot(h) = td;
    prof_host_sample_wait(h, draw_wait(td));
}

void prof_thread_exit(struct heap *h)
{
    struct prof_tdata *td = tdata_of(h);
    if (!td)
        return;
    *prof_host_slot(h) = NULL;
    prof_host_sample_wait(h, UINT64_MAX);
    pthread_mutex_lock(&prof.tdata_lock);
    if (td->prev)
        td->prev->next = td->next;
    else
        prof.tdatas = td->next;
    if (td->next)
        td->next->prev = td->prev;
    td->live = false;
    td->uid = UINT64_MAX; /* tctx->tdata links no longer match */
    td->free_next = tdata_recycled;
    tdata_recycled = td;
    pthread_mutex_unlock(&prof.tdata_lock);
}

static void *take_sample(struct heap *h, struct prof_tdata *td, void *p, size_t size, size_t usize)
{
    uintptr_t pcs[PROF_BT_MAX];
    unsigned depth = backtrace_capture(pcs, PROF_BT_MAX);
    double R = (double)((uint64_t)1 << prof.lg_sample);
    double weight = pmath_unsample_weight((double)usize / R); /* 1 / (1 - e^(-usize/R)) */
    if (opt.prof_sys_thread_name)
        pthread_getname_np(pthread_self(), td->name, 16);
    p = prof_host_relocate_sampled(h, p, usize);
    td->sample_allocated = prof_host_allocated(h);
    /* The time only for the recent ring: a clock read is ~20 ns of a sample. */
    struct prof_sample *r = site_record(td, (uintptr_t)p, size, usize, pcs, depth, weight,
                                        recent_enabled() ? now_ns() : 0);
    /* The record goes in p's span slot, where p's free finds it with no
     * lookup (larson_like at 2 threads, lg 14: the table's bucket locks and
     * misses were 7% of the run); only a span's fifth sampled block and
     * later go in the table. Both before p is handed out. No record (no
     * metadata memory): the sample was not counted, and p is not marked,
     * so its free asks nothing (a mark without a record would never be
     * undone). */
    if (r && !prof_host_mark_sampled(h, p, r))
        site_sample_index(r);
    foreign_note_sample();
    if (r && opt.prof_stats)
        prof_stats_inc(usize, size);
    return p;
}

void *prof_alloc_event(struct heap *h, void *p, size_t size, size_t usize)
{
    struct prof_tdata *td = tdata_of(h);
    if (!td) {
        prof_host_sample_wait(h, UINT64_MAX);
        return p;
    }
    if (td->in_prof) {
        prof_host_sample_wait(h, draw_wait(td));
        return p;
    }
    td->in_prof = true;
    if (prof.active && td->active)
        p = take_sample(h, td, p, size, usize);
    uint64_t allocated = prof_host_allocated(h);
    if (interval_bytes && prof.active) {
        /* One dump per crossing; the bytes past the interval (modulo it,
         * as jemalloc's counter) count toward the next: with samples
         * sparser than the interval (lg_prof_sample near lg_prof_interval)
         * a reset to 0 lost up to half the dumps. */
        uint64_t delta = allocated - td->last_allocated;
        uint64_t acc = atomic_load(&interval_accum), next;
        bool crossed;
        do {
            next = acc + delta;
            crossed = next >= interval_bytes;
            if (crossed)
                next %= interval_bytes;
        } while (!atomic_compare_exchange_weak(&interval_accum, &acc, next));
        if (crossed)
            prof_dump_auto('i');
    }
    td->last_allocated = allocated;
    if (prof.gdump)
        prof_gdump_check();
    prof_host_sample_wait(h, draw_wait(td));
    td->in_prof = false;
    return p;
}

void prof_free_check(struct span *s, void *p)
{
    struct prof_sample rec;
    struct heap *h = prof_host_heap(false);
    struct prof_tdata *td = tdata_of(h);
    /* Reentrancy guard for the whole check: a signal handler that
     * allocates while site_forget_td holds a bucket's lock bit must not
     * take a sample (its site_record could spin on that very bucket). */
    bool was = td ? td->in_prof : false;
    if (td)
        td->in_prof = true;
    /* p's record from its span slot, else (a span's fifth sampled block
     * and later, or a block that is not sampled) from the table. */
    void *r = NULL;
    bool found;
    if (prof_host_unmark_slot(s, p, &r))
        found = site_forget_rec(td, r, (uintptr_t)p, &rec);
    else if ((found = site_forget_td(td, (uintptr_t)p, &rec)))
        prof_host_unmark_overflow(s);
    if (found) {
        if (opt.prof_stats)
            prof_stats_dec(rec.usize, rec.size);
        if (rec.recent_ring)
            recent_note_free(rec.recent_ring, rec.recent_idx, td,
                             td ? prof_host_allocated(h) : 0, now_ns());
    }
    if (td)
        td->in_prof = was;
}

/* ---- high-water dumps (prof_gdump) ---- */

static _Atomic size_t gdump_max;

void prof_gdump_check(void)
{
    size_t active = prof_host_active_bytes();
    size_t max = atomic_load_explicit(&gdump_max, memory_order_relaxed);
    if (active <= max)
        return;
    if (!atomic_compare_exchange_strong(&gdump_max, &max, active))
        return;
    prof_dump_auto('u');
}

/* ---- leak summary and final dump ---- */

static void leak_visit(void *arg, const struct prof_site *site, const struct prof_cnt *cur,
                       const struct prof_cnt *accum)
{
    (void)site;
    (void)accum;
    double *acc = arg;
    if (cur->count == 0)
        return;
    acc[0] += cur->ubytes;
    acc[1] += cur->ucount;
    acc[2] += 1;
}

static void final_dump(void)
{
    struct prof_tdata *td = tdata_of(prof_host_heap(false));
    if (td)
        td->in_prof = true;
    /* The dumps hold profiler locks outside any allocator call: a signal
     * handler's free meanwhile waits for the end (prof_hooks.h). */
    prof_host_enter();
    if (prof.prefix[0]) {
        if (opt.prof_peak)
            prof_dump_auto('p'); /* before .f., which stays the last dump */
        prof_dump_auto('f');
    }
    if (prof.prefix[0] && recent_enabled()) {
        /* the ring too, for jeprof-c --temporary, named as the heap dumps */
        static char prefix[sizeof(prof.prefix) + 600] BSS_LARGE;
        foreign_refresh(true);
        pthread_mutex_lock(&prof.dump_lock);
        int skip = foreign_dump_prefix(prof.prefix, prefix, sizeof(prefix));
        pthread_mutex_unlock(&prof.dump_lock);
        if (!skip)
            (void)recent_dump_final(prefix);
    }
    if (opt.prof_leak) {
        double acc[3] = {0, 0, 0};
        site_foreach(leak_visit, acc);
        if (!opt.prof_unbias) {
            acc[0] = acc[1] = 0;
        }
        char buf[256];
        unsigned long long b = (unsigned long long)pmath_llround(acc[0]);
        unsigned long long o = (unsigned long long)pmath_llround(acc[1]);
        size_t c = (size_t)acc[2];
        if (b > 0 || o > 0) {
            snprintf(buf, sizeof(buf),
                     "<jemalloc>: Leak approximation summary: ~%llu byte%s, ~%llu object%s, >= %zu "
                     "context%s\n",
                     b, b == 1 ? "" : "s", o, o == 1 ? "" : "s", c, c == 1 ? "" : "s");
            prof_host_write_err(buf);
            prof_host_write_err("<jemalloc>: Run jeprof on dump output for leak detail\n");
            if (opt.prof_leak_error) {
                prof_host_write_err("<jemalloc>: Exiting with error code because memory leaks were "
                                "detected\n");
                _exit(1);
            }
        }
    }
    prof_host_leave();
    if (td)
        td->in_prof = false;
}

bool prof_suspend(struct heap *h, bool suspend)
{
    struct prof_tdata *td = tdata_of(h);
    if (!td)
        return false;
    bool was = td->in_prof;
    td->in_prof = suspend;
    return was;
}

/* ---- fork ---- */

void prof_prefork(void)
{
    if (!opt.prof)
        return;
    pthread_mutex_lock(&prof.dump_lock);
    pthread_mutex_lock(&prof.tdata_lock);
    site_prefork();
    recent_prefork();
    prof_stats_prefork();
    foreign_prefork();
}

void prof_postfork_parent(void)
{
    if (!opt.prof)
        return;
    foreign_postfork_parent();
    prof_stats_postfork_parent();
    recent_postfork_parent();
    site_postfork_parent();
    pthread_mutex_unlock(&prof.tdata_lock);
    pthread_mutex_unlock(&prof.dump_lock);
}

void prof_postfork_child(void)
{
    if (!opt.prof)
        return;
    http_postfork_child();
    prof_stats_postfork_child();
    recent_postfork_child();
    site_postfork_child();
    backtrace_postfork_child();
    foreign_postfork_child();
    dynload_postfork_child();
    pthread_mutex_init(&prof.tdata_lock, NULL);
    pthread_mutex_init(&prof.dump_lock, NULL);
}
