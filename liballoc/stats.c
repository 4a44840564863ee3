/* stats: the epoch snapshot and malloc_stats_print (see stats.h; the counters
 * every thread updates are stats_heaps.c's). */
#include "stats.h"
#include "alloc.h"
#include "background.h"
#include "base.h"
#include "defer.h"
#include "heap.h"
#include "options.h"
#include "os.h"
#include "osmap.h"
#include "sizeclass.h"
#include "warn.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct stats_snapshot stats_current;

static void arena_stats_add(struct arena_stats *d, const struct arena_stats *s)
{
    d->mapped += s->mapped;
    d->active_pages += s->active_pages;
    d->ndirty += s->ndirty;
    d->nmuzzy += s->nmuzzy;
    d->retained += s->retained;
    d->npurge += s->npurge;
    d->nmadvise += s->nmadvise;
    d->purged += s->purged;
    d->large_nmalloc += s->large_nmalloc;
    d->large_ndalloc += s->large_ndalloc;
    d->large_nflushes += s->large_nflushes;
    d->large_allocated += s->large_allocated;
    d->slab_pages += s->slab_pages;
    d->huge_cached += s->huge_cached;
    d->thp_eligible += s->thp_eligible;
}

unsigned arena_total(void);

void stats_arena_sum(unsigned i, struct arena_stats *out)
{
    memset(out, 0, sizeof(*out));
    unsigned n = arena_total();
    for (unsigned k = 0; k < n; k++) {
        if (i != MALLCTL_ARENAS_ALL && k != i)
            continue;
        struct arena *a = arenas[k];
        if (!a)
            continue;
        arena_lock(a);
        arena_stats_add(out, &a->stats);
        arena_unlock(a);
    }
}

void stats_arena_snapshot(unsigned i, struct arena_stats *out, struct bin_stats *bins)
{
    memset(out, 0, sizeof(*out));
    if (bins)
        memset(bins, 0, sizeof(struct bin_stats) * NSMALL);
    unsigned n = arena_total();
    pthread_mutex_lock(&stats_lock);
    for (unsigned k = 0; k < n; k++) {
        if ((i != MALLCTL_ARENAS_ALL && k != i) || !arenas[k])
            continue;
        arena_stats_add(out, &arenas[k]->snap);
        for (unsigned c = 0; bins && c < NSMALL; c++) {
            bins[c].nmalloc += arenas[k]->counts->snap_bins[c].nmalloc;
            bins[c].ndalloc += arenas[k]->counts->snap_bins[c].ndalloc;
            bins[c].curregs += arenas[k]->counts->snap_bins[c].curregs;
            bins[c].nslabs += arenas[k]->counts->snap_bins[c].nslabs;
            bins[c].nfills += arenas[k]->counts->snap_bins[c].nfills;
            bins[c].nflushes += arenas[k]->counts->snap_bins[c].nflushes;
            bins[c].ncreated += arenas[k]->counts->snap_bins[c].ncreated;
            bins[c].nonfull += arenas[k]->counts->snap_bins[c].nonfull;
        }
    }
    pthread_mutex_unlock(&stats_lock);
}

void stats_arena_lextents(unsigned i, struct lextent_stats out[NLEXTENTS])
{
    memset(out, 0, sizeof(struct lextent_stats) * NLEXTENTS);
    unsigned n = arena_total();
    pthread_mutex_lock(&stats_lock);
    for (unsigned k = 0; k < n; k++) {
        if ((i != MALLCTL_ARENAS_ALL && k != i) || !arenas[k])
            continue;
        for (unsigned c = 0; c < NLEXTENTS; c++) {
            out[c].nmalloc += arenas[k]->counts->snap_lext[c].nmalloc;
            out[c].ndalloc += arenas[k]->counts->snap_lext[c].ndalloc;
        }
    }
    pthread_mutex_unlock(&stats_lock);
}

/* Arena and stats locks are taken inside a defer_enter section: a signal
 * handler's free of a large block (its arena's lock) meanwhile is deferred
 * (defer.h). The print (malloc_stats_print) calls this, not the reverse, so
 * its write callback's own frees are not deferred. */
uint64_t stats_refresh(void)
{
    defer_enter();
    struct arena_stats as;
    size_t bg_threads;
    uint64_t bg_runs, bg_interval;
    background_stats(&bg_threads, &bg_runs, &bg_interval);
    unsigned na = arena_total();
    for (unsigned k = 0; k < na; k++) {
        struct arena *a = arenas[k];
        if (!a)
            continue;
        struct bin_stats bins[NSMALL];
        struct lextent_stats lext[NLEXTENTS];
        struct arena_stats one;
        arena_bin_stats(a, bins);
        arena_lock(a);
        one = a->stats;
        memcpy(lext, a->counts->lext, sizeof(lext));
        arena_unlock(a);
        pthread_mutex_lock(&stats_lock);
        a->snap = one;
        memcpy(a->counts->snap_bins, bins, sizeof(bins));
        memcpy(a->counts->snap_lext, lext, sizeof(lext));
        pthread_mutex_unlock(&stats_lock);
    }
    stats_arena_sum(MALLCTL_ARENAS_ALL, &as);
    /* stats.resident is measured, not estimated: the kernel says which pages
     * of the allocator's mappings (chunks, huge regions, metadata; see
     * osmap.h) are in RAM (mincore). Page counters would count pages handed
     * out but never touched, the untouched tails of huge blocks and slab
     * pages, and pages already purged; the measurement counts none of these.
     * Exact up to 1 GiB mapped, sampled beyond (osmap_resident), so an epoch
     * costs at most about 2.5 ms however large the heap. */
    size_t measured = osmap_resident();
    /* mincore counts a page mapped to the shared zero page (never written,
     * only read: a program scanning a fresh buffer, a realloc copying an
     * untouched tail) as resident; it takes no RAM and the process RSS does
     * not count it, so untouched huge blocks that were read made
     * stats.resident exceed the RSS many times over. The heap's resident
     * pages are anonymous pages of this process: their RSS bounds them. */
    size_t anon_rss;
    if (measured != SIZE_MAX && os_anon_resident(&anon_rss) == 0 && measured > anon_rss)
        measured = anon_rss & ~PAGE_MASK;
    pthread_mutex_lock(&stats_lock);
    uint64_t al = stats_retired_allocated, de = stats_retired_deallocated;
    for (struct heap *h = stats_heaps; h; h = h->all_next) {
        al += __atomic_load_n(&h->allocated, __ATOMIC_RELAXED);
        de += __atomic_load_n(&h->deallocated, __ATOMIC_RELAXED);
    }
    al += atomic_load_explicit(&stats_orphan_allocated, memory_order_relaxed);
    de += atomic_load_explicit(&stats_orphan_deallocated, memory_order_relaxed);
    struct stats_snapshot *s = &stats_current;
    s->allocated = al > de ? (size_t)(al - de) : 0;
    s->active = as.active_pages * PAGE;
    if (s->active < s->allocated)
        s->active = ALIGN_UP(s->allocated, PAGE);
    s->metadata = base_mapped();
    s->mapped = as.mapped + s->metadata;
    /* The page-counter estimate (an upper bound) only when the registry is
     * incomplete (it could not grow). */
    s->resident = measured != SIZE_MAX
                      ? measured
                      : s->active + (as.ndirty + as.nmuzzy + as.huge_cached) * PAGE + s->metadata;
    if (s->resident > s->mapped)
        s->resident = s->mapped;
    s->retained = as.retained;
    s->zero_reallocs = atomic_load_explicit(&stats_zero_reallocs, memory_order_relaxed);
    s->bg_threads = bg_threads;
    s->bg_runs = bg_runs;
    s->bg_interval = bg_interval;
    uint64_t e = ++s->epoch;
    pthread_mutex_unlock(&stats_lock);
    defer_leave();
    return e;
}

/* ---- malloc_stats_print ---- */

struct emitter {
    void (*cb)(void *, const char *);
    void *opaque;
};

static void emit(struct emitter *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(struct emitter *e, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    e->cb(e->opaque, buf);
}

/* s as a JSON string, quotes included: '"', '\\' and control bytes
 * escaped, so an option's value (a prof_prefix or stats_print_opts with a
 * quote in it) cannot break the document. Bytes of 0x80 and up pass as
 * they are (UTF-8). */
static void emit_json_string(struct emitter *e, const char *s)
{
    char buf[600];
    size_t n = 0;
    buf[n++] = '"';
    for (; *s; s++) {
        if (n > sizeof(buf) - 10) {
            buf[n] = 0;
            e->cb(e->opaque, buf);
            n = 0;
        }
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            buf[n++] = '\\';
            buf[n++] = (char)c;
        } else if (c < 0x20) {
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\\u%04x", c);
        } else {
            buf[n++] = (char)c;
        }
    }
    buf[n++] = '"';
    buf[n] = 0;
    e->cb(e->opaque, buf);
}

static void default_write(void *opaque, const char *s)
{
    (void)opaque;
    alloc_write_err(s);
}

struct print_opts {
    bool general, merged, arenas, bins, large;
};

/* The opt.* names of jemalloc's options liballoc does not take (ctl.c:
 * its fixed behaviour), read through mallctl, after options.def's: as
 * text lines or as JSON members (each with a leading comma). */
static void fixed_opts(struct emitter *e, bool json)
{
    static const struct {
        const char *name;
        char type; /* b bool, z size_t, i int64_t, s string */
    } fixed[] = {{"oversize_threshold", 'z'}, {"dss", 's'}, {"metadata_thp", 's'},
                 {"cache_oblivious", 'b'}, {"trust_madvise", 'b'}, {"stats_interval", 'i'},
                 {"stats_interval_opts", 's'}};
    for (size_t k = 0; k < sizeof(fixed) / sizeof(fixed[0]); k++) {
        char name[64], val[64];
        snprintf(name, sizeof(name), "opt.%s", fixed[k].name);
        union {
            bool b;
            size_t z;
            int64_t i;
            const char *s;
        } v;
        size_t sz = fixed[k].type == 'b' ? sizeof(bool) : fixed[k].type == 'z' ? sizeof(size_t)
                  : fixed[k].type == 'i' ? sizeof(int64_t) : sizeof(const char *);
        if (mallctl(name, &v, &sz, NULL, 0) != 0)
            continue;
        switch (fixed[k].type) {
        case 'b': snprintf(val, sizeof(val), "%s", v.b ? "true" : "false"); break;
        case 'z': snprintf(val, sizeof(val), "%zu", v.z); break;
        case 'i': snprintf(val, sizeof(val), "%" PRId64, v.i); break;
        default: snprintf(val, sizeof(val), "\"%s\"", v.s); break;
        }
        if (json && fixed[k].type == 's') {
            emit(e, ",\"%s\":", fixed[k].name);
            emit_json_string(e, v.s);
        } else if (json)
            emit(e, ",\"%s\":%s", fixed[k].name, val);
        else
            emit(e, "  opt.%s: %s\n", fixed[k].name, val);
    }
}

/* The "Profiling settings" section, read through the prof.* mallctls so it
 * always says what they say (with opt.prof off they read false and 0, as
 * jemalloc's do). A name that fails is left out, never guessed. */
struct prof_settings {
    bool thread_active_init, active, gdump; /* prof.<name> */
    uint64_t interval;                      /* prof.interval, bytes */
    size_t lg_sample;                       /* prof.lg_sample */
    bool ok[5];                             /* each read above succeeded */
};

static void prof_settings_read(struct prof_settings *p)
{
    static const char *const bools[3] = {"prof.thread_active_init", "prof.active", "prof.gdump"};
    bool *dst[3] = {&p->thread_active_init, &p->active, &p->gdump};
    for (int i = 0; i < 3; i++) {
        size_t sz = sizeof(bool);
        p->ok[i] = mallctl(bools[i], dst[i], &sz, NULL, 0) == 0;
    }
    size_t sz = sizeof(p->interval);
    p->ok[3] = mallctl("prof.interval", &p->interval, &sz, NULL, 0) == 0;
    sz = sizeof(p->lg_sample);
    p->ok[4] = mallctl("prof.lg_sample", &p->lg_sample, &sz, NULL, 0) == 0;
}

static void text_prof(struct emitter *e)
{
    struct prof_settings p;
    prof_settings_read(&p);
    emit(e, "Profiling settings\n");
    static const char *const names[3] = {"thread_active_init", "active", "gdump"};
    const bool v[3] = {p.thread_active_init, p.active, p.gdump};
    for (int i = 0; i < 3; i++)
        if (p.ok[i])
            emit(e, "  prof.%s: %s\n", names[i], v[i] ? "true" : "false");
    if (p.ok[3])
        emit(e, "  prof.interval: %" PRIu64 "\n", p.interval);
    if (p.ok[4])
        emit(e, "  prof.lg_sample: %zu\n", p.lg_sample);
}

static void json_prof(struct emitter *e)
{
    struct prof_settings p;
    prof_settings_read(&p);
    const char *sep = "";
    emit(e, "\"prof\":{");
    static const char *const names[3] = {"thread_active_init", "active", "gdump"};
    const bool v[3] = {p.thread_active_init, p.active, p.gdump};
    for (int i = 0; i < 3; i++)
        if (p.ok[i]) {
            emit(e, "%s\"%s\":%s", sep, names[i], v[i] ? "true" : "false");
            sep = ",";
        }
    if (p.ok[3]) {
        emit(e, "%s\"interval\":%" PRIu64, sep, p.interval);
        sep = ",";
    }
    if (p.ok[4])
        emit(e, "%s\"lg_sample\":%zu", sep, p.lg_sample);
    emit(e, "},");
}

static void text_arena(struct emitter *e, const char *title, const struct arena_stats *as,
                       const struct bin_stats *bins, ssize_t dms, ssize_t mms, unsigned nthreads,
                       const struct print_opts *po)
{
    emit(e, "%s\n", title);
    emit(e, "assigned threads: %u\n", nthreads);
    emit(e, "dirty_decay_ms: %zd\nmuzzy_decay_ms: %zd\n", dms, mms);
    emit(e, "pactive: %zu\npdirty: %zu\npmuzzy: %zu\nhuge cached pages: %zu\n", as->active_pages,
         as->ndirty + as->huge_cached, as->nmuzzy, as->huge_cached);
    emit(e, "mapped: %zu\nretained: %zu\nthp_eligible: %zu\n", as->mapped, as->retained,
         as->thp_eligible);
    emit(e, "purge passes: %" PRIu64 ", madvise calls: %" PRIu64 ", purged pages: %" PRIu64 "\n",
         as->npurge, as->nmadvise, as->purged);
    uint64_t snm = 0, snd = 0;
    size_t sal = 0;
    for (unsigned c = 0; c < NSMALL; c++) {
        snm += bins[c].nmalloc;
        snd += bins[c].ndalloc;
        sal += bins[c].curregs * sizeclass_size[c];
    }
    emit(e, "                    allocated         nmalloc         ndalloc\n");
    emit(e, "small:       %15zu %15" PRIu64 " %15" PRIu64 "\n", sal, snm, snd);
    if (po->large)
        emit(e, "large:       %15zu %15" PRIu64 " %15" PRIu64 "\n", as->large_allocated,
             as->large_nmalloc, as->large_ndalloc);
    emit(e, "total:       %15zu %15" PRIu64 " %15" PRIu64 "\n", sal + as->large_allocated,
         snm + as->large_nmalloc, snd + as->large_ndalloc);
    if (po->bins) {
        emit(e, "bins:           size         nmalloc         ndalloc         curregs  curslabs  regs  pgs\n");
        for (unsigned c = 0; c < NSMALL; c++) {
            if (bins[c].nmalloc == 0)
                continue;
            emit(e, "  %3u %12u %15" PRIu64 " %15" PRIu64 " %15zu %9zu %5u %4u\n", c,
                 sizeclass_size[c], bins[c].nmalloc, bins[c].ndalloc, bins[c].curregs,
                 bins[c].nslabs, sizeclass_slab_blocks[c], sizeclass_slab_pages[c]);
        }
    }
}

static void print_text(struct emitter *e, const struct print_opts *po)
{
    stats_refresh();
    const struct stats_snapshot *s = &stats_current;
    emit(e, "___ Begin jemalloc statistics ___\n");
    if (po->general) {
        emit(e, "Version: \"%s\"\n", JEMALLOC_VERSION);
        emit(e, "Build-time option settings\n  config.debug: %s\n  config.prof: true\n"
                "  config.stats: true\n", config_debug ? "true" : "false");
        emit(e, "Run-time option settings\n");
#define OPT_BOOL(n, d, doc) emit(e, "  opt." #n ": %s\n", opt.n ? "true" : "false");
#define OPT_UNSIGNED(n, d, lo, hi, doc) emit(e, "  opt." #n ": %u\n", opt.n);
#define OPT_SIZE(n, d, lo, hi, doc) emit(e, "  opt." #n ": %zu\n", opt.n);
#define OPT_SSIZE(n, d, lo, hi, doc) emit(e, "  opt." #n ": %zd\n", opt.n);
#define OPT_STRING(n, d, doc) emit(e, "  opt." #n ": \"%s\"\n", opt.n);
#define OPT_CHOICE(n, d, choices, doc) emit(e, "  opt." #n ": \"%s\"\n", opt.n);
#include "options.def"
        fixed_opts(e, false);
        text_prof(e);
        emit(e, "Arenas: %u\nQuantum size: %d\nPage size: %zu\n", arena_total(), MIN_ALIGN, PAGE);
    }
    emit(e, "Allocated: %zu, active: %zu, metadata: %zu, resident: %zu, mapped: %zu, retained: %zu\n",
         s->allocated, s->active, s->metadata, s->resident, s->mapped, s->retained);
    emit(e, "Background threads: %zu, num_runs: %" PRIu64 ", run_interval: %" PRIu64 " ns\n",
         s->bg_threads, s->bg_runs, s->bg_interval);
    emit(e, "zero_reallocs: %zu\n", s->zero_reallocs);
    uint64_t thp_probes, thp_slow;
    os_thp_probe_stats(&thp_probes, &thp_slow);
    emit(e, "thp fault probes: %" PRIu64 ", slow: %" PRIu64 "\n", thp_probes, thp_slow);
    struct arena_stats as;
    struct bin_stats bins[NSMALL];
    unsigned n = arena_total(), used = 0, threads = 0;
    for (unsigned i = 0; i < n; i++)
        if (arenas[i]) {
            used++;
            threads += arenas[i]->nthreads;
        }
    if (po->merged) {
        stats_arena_snapshot(MALLCTL_ARENAS_ALL, &as, bins);
        char title[64];
        snprintf(title, sizeof(title), "Merged arenas stats:\nArenas in use: %u", used);
        text_arena(e, title, &as, bins, -1, -1, threads, po);
    }
    if (po->arenas) {
        for (unsigned i = 0; i < n; i++) {
            if (!arenas[i])
                continue;
            stats_arena_snapshot(i, &as, bins);
            char title[64];
            snprintf(title, sizeof(title), "arenas[%u]:", i);
            text_arena(e, title, &as, bins, arenas[i]->decay_dirty.ms, arenas[i]->decay_muzzy.ms,
                       arenas[i]->nthreads, po);
        }
    }
    emit(e, "--- End jemalloc statistics ---\n");
}

/* A uint64_t mallctl of an arena index (format names it with %u), 0 if
 * the read fails. */
static uint64_t ctl_u64_at(const char *format, unsigned i)
{
    char name[64];
    snprintf(name, sizeof(name), format, i);
    uint64_t v = 0;
    size_t sz = sizeof(v);
    return mallctl(name, &v, &sz, NULL, 0) == 0 ? v : 0;
}

/* The config.* mallctls, jemalloc's keys in its order, read through
 * mallctl so the print always says what they say. */
static void json_config(struct emitter *e)
{
    static const char *const names[] = {"cache_oblivious", "debug", "fill", "lazy_lock",
                                        "malloc_conf", "opt_safety_checks", "prof", "prof_libgcc",
                                        "prof_libunwind", "stats", "utrace", "xmalloc"};
    emit(e, "\"config\":{");
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        char name[64];
        snprintf(name, sizeof(name), "config.%s", names[k]);
        const char *sep = k ? "," : "";
        if (strcmp(names[k], "malloc_conf") == 0) {
            const char *v = "";
            size_t sz = sizeof(v);
            if (mallctl(name, &v, &sz, NULL, 0) == 0) {
                emit(e, "%s\"%s\":", sep, names[k]);
                emit_json_string(e, v);
            }
            continue;
        }
        bool v = false;
        size_t sz = sizeof(v);
        if (mallctl(name, &v, &sz, NULL, 0) == 0)
            emit(e, "%s\"%s\":%s", sep, names[k], v ? "true" : "false");
    }
    emit(e, "},");
}

/* The "arenas" object: the arenas.* mallctls (the defaults for new
 * arenas, the classes), as jemalloc prints them. */
static void json_arenas_general(struct emitter *e)
{
    ssize_t dms = 0, mms = 0;
    size_t tmax = 0, sz = sizeof(ssize_t);
    unsigned nbins = 0, nhbins = 0;
    (void)!mallctl("arenas.dirty_decay_ms", &dms, &sz, NULL, 0);
    sz = sizeof(ssize_t);
    (void)!mallctl("arenas.muzzy_decay_ms", &mms, &sz, NULL, 0);
    sz = sizeof(size_t);
    (void)!mallctl("arenas.tcache_max", &tmax, &sz, NULL, 0);
    sz = sizeof(unsigned);
    (void)!mallctl("arenas.nbins", &nbins, &sz, NULL, 0);
    sz = sizeof(unsigned);
    (void)!mallctl("arenas.nhbins", &nhbins, &sz, NULL, 0);
    emit(e, "\"arenas\":{\"narenas\":%u,\"dirty_decay_ms\":%zd,\"muzzy_decay_ms\":%zd,"
            "\"quantum\":%d,\"page\":%zu,\"tcache_max\":%zu,\"nbins\":%u,\"nhbins\":%u,\"bin\":[",
         arena_total(), dms, mms, MIN_ALIGN, PAGE, tmax, nbins, nhbins);
    for (unsigned c = 0; c < NSMALL; c++)
        emit(e, "%s{\"size\":%u,\"nregs\":%u,\"slab_size\":%zu}", c ? "," : "", sizeclass_size[c],
             sizeclass_slab_blocks[c], (size_t)sizeclass_slab_pages[c] * PAGE);
    emit(e, "],\"nlextents\":%u,\"lextent\":[", NLEXTENTS);
    for (unsigned c = 0; c < NLEXTENTS; c++)
        emit(e, "%s{\"size\":%zu}", c ? "," : "", sizeclass_lextent_size(c));
    emit(e, "]},");
}

static void json_arena(struct emitter *e, const char *key, unsigned ai,
                       const struct arena_stats *as, const struct bin_stats *bins,
                       unsigned nthreads, const struct print_opts *po)
{
    emit(e, "\"%s\":{\"nthreads\":%u,\"uptime_ns\":%" PRIu64 ",", key, nthreads,
         ctl_u64_at("stats.arenas.%u.uptime", ai));
    if (ai != MALLCTL_ARENAS_ALL)
        emit(e, "\"dirty_decay_ms\":%zd,\"muzzy_decay_ms\":%zd,", arenas[ai]->decay_dirty.ms,
             arenas[ai]->decay_muzzy.ms);
    emit(e, "\"pactive\":%zu,\"pdirty\":%zu,\"pmuzzy\":%zu,\"mapped\":%zu,"
            "\"retained\":%zu,\"thp_eligible\":%zu,\"dirty_npurge\":%" PRIu64
            ",\"dirty_nmadvise\":%" PRIu64 ",\"dirty_purged\":%" PRIu64,
         as->active_pages, as->ndirty + as->huge_cached, as->nmuzzy, as->mapped,
         as->retained, as->thp_eligible, as->npurge, as->nmadvise, as->purged);
    uint64_t snm = 0, snd = 0, snf = 0, snfl = 0;
    size_t sal = 0;
    for (unsigned c = 0; c < NSMALL; c++) {
        snm += bins[c].nmalloc;
        snd += bins[c].ndalloc;
        snf += bins[c].nfills;
        snfl += bins[c].nflushes;
        sal += bins[c].curregs * sizeclass_size[c];
    }
    /* nrequests is nmalloc: every small request counts on its page (ctl.c). */
    emit(e, ",\"small\":{\"allocated\":%zu,\"nmalloc\":%" PRIu64 ",\"ndalloc\":%" PRIu64
            ",\"nrequests\":%" PRIu64 ",\"nfills\":%" PRIu64 ",\"nflushes\":%" PRIu64 "}",
         sal, snm, snd, snm, snf, snfl);
    if (po->large)
        emit(e, ",\"large\":{\"allocated\":%zu,\"nmalloc\":%" PRIu64 ",\"ndalloc\":%" PRIu64
                ",\"nflushes\":%" PRIu64 "}",
             as->large_allocated, as->large_nmalloc, as->large_ndalloc, as->large_nflushes);
    if (po->bins) {
        emit(e, ",\"bins\":[");
        for (unsigned c = 0; c < NSMALL; c++)
            emit(e, "%s{\"size\":%u,\"nmalloc\":%" PRIu64 ",\"ndalloc\":%" PRIu64
                    ",\"curregs\":%zu,\"nrequests\":%" PRIu64 ",\"nfills\":%" PRIu64
                    ",\"nflushes\":%" PRIu64 ",\"nslabs\":%" PRIu64
                    ",\"curslabs\":%zu,\"nonfull_slabs\":%zu}",
                 c ? "," : "", sizeclass_size[c], bins[c].nmalloc, bins[c].ndalloc,
                 bins[c].curregs, bins[c].nmalloc, bins[c].nfills, bins[c].nflushes,
                 bins[c].ncreated, bins[c].nslabs, bins[c].nonfull);
        emit(e, "]");
    }
    if (po->large) {
        /* Every large class, as jemalloc prints them: blocks live. */
        struct lextent_stats l[NLEXTENTS];
        stats_arena_lextents(ai, l);
        emit(e, ",\"lextents\":[");
        for (unsigned c = 0; c < NLEXTENTS; c++)
            emit(e, "%s{\"curlextents\":%" PRIu64 "}", c ? "," : "",
                 l[c].nmalloc >= l[c].ndalloc ? l[c].nmalloc - l[c].ndalloc : 0);
        emit(e, "]");
    }
    emit(e, "}");
}

static void print_json(struct emitter *e, const struct print_opts *po)
{
    stats_refresh();
    const struct stats_snapshot *s = &stats_current;
    emit(e, "{\"jemalloc\":{");
    if (po->general) {
        emit(e, "\"version\":\"%s\",", JEMALLOC_VERSION);
        json_config(e);
        emit(e, "\"opt\":{");
        const char *sep = "";
#define OPT_BOOL(n, d, doc) emit(e, "%s\"" #n "\":%s", sep, opt.n ? "true" : "false"), sep = ",";
#define OPT_UNSIGNED(n, d, lo, hi, doc) emit(e, "%s\"" #n "\":%u", sep, opt.n), sep = ",";
#define OPT_SIZE(n, d, lo, hi, doc) emit(e, "%s\"" #n "\":%zu", sep, opt.n), sep = ",";
#define OPT_SSIZE(n, d, lo, hi, doc) emit(e, "%s\"" #n "\":%zd", sep, opt.n), sep = ",";
#define OPT_STRING(n, d, doc) emit(e, "%s\"" #n "\":", sep), emit_json_string(e, opt.n), sep = ",";
#define OPT_CHOICE(n, d, choices, doc) emit(e, "%s\"" #n "\":", sep), emit_json_string(e, opt.n), sep = ",";
#include "options.def"
        fixed_opts(e, true);
        emit(e, "},");
        json_prof(e);
        json_arenas_general(e);
    }
    emit(e, "\"stats\":{\"allocated\":%zu,\"active\":%zu,\"metadata\":%zu,\"resident\":%zu,"
            "\"mapped\":%zu,\"retained\":%zu,\"zero_reallocs\":%zu,\"background_thread\":{"
            "\"num_threads\":%zu,\"num_runs\":%" PRIu64 ",\"run_interval\":%" PRIu64 "}}",
         s->allocated, s->active, s->metadata, s->resident, s->mapped, s->retained,
         s->zero_reallocs, s->bg_threads, s->bg_runs, s->bg_interval);
    if (po->merged || po->arenas) {
        emit(e, ",\"stats.arenas\":{");
        struct arena_stats as;
        struct bin_stats bins[NSMALL];
        unsigned n = arena_total(), threads = 0;
        bool first = true;
        for (unsigned i = 0; i < n; i++)
            if (arenas[i])
                threads += arenas[i]->nthreads;
        if (po->merged) {
            stats_arena_snapshot(MALLCTL_ARENAS_ALL, &as, bins);
            json_arena(e, "merged", MALLCTL_ARENAS_ALL, &as, bins, threads, po);
            first = false;
        }
        for (unsigned i = 0; po->arenas && i < n; i++) {
            if (!arenas[i])
                continue;
            char key[16];
            snprintf(key, sizeof(key), "%u", i);
            stats_arena_snapshot(i, &as, bins);
            if (!first)
                emit(e, ",");
            json_arena(e, key, i, &as, bins, arenas[i]->nthreads, po);
            first = false;
        }
        emit(e, "}");
    }
    emit(e, "}}\n");
}

ALLOC_EXPORT void malloc_stats_print(void (*write_cb)(void *, const char *), void *cbopaque,
                                     const char *opts)
{
    struct emitter e = {write_cb ? write_cb : default_write, cbopaque};
    bool json = false;
    struct print_opts po = {true, true, true, true, true};
    for (const char *p = opts ? opts : ""; *p; p++) {
        switch (*p) {
        case 'J': json = true; break;
        case 'g': po.general = false; break;
        case 'm': po.merged = false; break;
        case 'a': po.arenas = false; break;
        case 'b': po.bins = false; break;
        case 'l': po.large = false; break;
        default: break;
        }
    }
    if (json)
        print_json(&e, &po);
    else
        print_text(&e, &po);
}

static void stats_print_atexit(void)
{
    malloc_stats_print(NULL, NULL, opt.stats_print_opts);
}

void stats_boot(void)
{
    atexit(stats_print_atexit);
}
