/*
 * dump_heapv2: jemalloc's heap_v2 text format, readable by jemalloc's own
 * jeprof: a header with totals and per-thread lines, one "@ pcs" block per
 * site with live samples, then MAPPED_LIBRARIES from /proc/self/maps and
 * the build IDs of the loaded objects as comment lines (see write_build_id).
 * The first address of each stack is a call site (return address - 1).
 * Counts are written with jemalloc's unbias transform so jeprof's
 * un-sampling recovers our unbiased estimates. Dumps are serialised by
 * prof.dump_lock and written through a static writer (no malloc).
 * The counters come from a source (enum site_src): the live ones, or the
 * peak snapshot (peak.c), whose header totals, per-thread lines and blocks
 * are then all the peak's; the writer is the same for both.
 */
#include "prof.h"
#include "foreign.h"
#include "options.h"
#include "writer.h"
#include "elfsym.h"
#include "cfi.h"
#include "unloaded.h"
#include "bss_large.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct writer dump_writer BSS_LARGE;

struct dump_ctx {
    struct writer *w;
    enum site_src src;       /* whose counters: live or the peak snapshot */
    double R;
    bool pass_totals;        /* first pass: sum totals and per-thread lines */
    struct prof_cnt total_cur, total_accum;
};

/* "objs: bytes [accum_objs: accum_bytes]", unbiased, without the newline. */
static void write_counts(struct writer *w, const struct prof_cnt *cur, const struct prof_cnt *accum,
                         double R)
{
    uint64_t o, b, ao = 0, ab = 0;
    prof_unbias_for_dump(cur, R, &o, &b);
    if (opt.prof_accum)
        prof_unbias_for_dump(accum, R, &ao, &ab);
    writer_u64(w, o);
    writer_str(w, ": ");
    writer_u64(w, b);
    writer_str(w, " [");
    writer_u64(w, ao);
    writer_str(w, ": ");
    writer_u64(w, ab);
    writer_str(w, "]");
}

static void cnt_add_all(struct prof_cnt *d, const struct prof_cnt *s)
{
    d->ucount += s->ucount;
    d->ubytes += s->ubytes;
    d->count += s->count;
    d->bytes += s->bytes;
}

static bool site_in_dump(const struct prof_cnt *cur, const struct prof_cnt *accum)
{
    return opt.prof_accum ? accum->count != 0 : cur->count != 0;
}

static void tctx_totals(void *arg, const struct prof_tctx *t)
{
    (void)arg;
    struct prof_tdata *td = t->tdata;
    if (t->thr_uid == PROF_UID_EXITED)
        return;
    if (td && td->live && td->uid == t->thr_uid) {
        cnt_add_all(&td->dump_cur, &t->cur);
        cnt_add_all(&td->dump_accum, &t->accum);
    }
}

static void tctx_line(void *arg, const struct prof_tctx *t)
{
    struct dump_ctx *c = arg;
    if (t->thr_uid == PROF_UID_EXITED) /* exited threads: only in the t* totals */
        return;
    if (opt.prof_accum ? t->accum.count == 0 : t->cur.count == 0)
        return;
    writer_str(c->w, "  t");
    writer_u64(c->w, t->thr_uid);
    writer_str(c->w, ": ");
    write_counts(c->w, &t->cur, &t->accum, c->R);
    writer_str(c->w, "\n");
}

static void visit_site(void *arg, const struct prof_site *s, const struct prof_cnt *cur,
                       const struct prof_cnt *accum)
{
    struct dump_ctx *c = arg;
    if (!site_in_dump(cur, accum))
        return;
    if (c->pass_totals) {
        cnt_add_all(&c->total_cur, cur);
        cnt_add_all(&c->total_accum, accum);
        site_foreach_tctx_src(c->src, s, tctx_totals, c);
        return;
    }
    writer_str(c->w, "@");
    for (unsigned i = 0; i < s->depth; i++) {
        writer_str(c->w, " ");
        /* The first frame as a call site: ours is the allocating call
         * (our own frames are dropped), and jeprof keeps the first address
         * as is while it moves every other one back into its call. */
        uintptr_t pc = site_pc_out(s, i);
        writer_hex(c->w, i == 0 ? backtrace_call_site(pc) : pc);
    }
    writer_str(c->w, "\n  t*: ");
    write_counts(c->w, cur, accum, c->R);
    writer_str(c->w, "\n");
    site_foreach_tctx_src(c->src, s, tctx_line, c);
}

static void write_maps(struct writer *w)
{
    char buf[4096];
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task/%d/maps", (int)getpid(), (int)getpid());
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        writer_mem(w, buf, (size_t)n);
    }
    close(fd);
}

/* One "# build_id <address> <hex>" line per executable segment of each
 * loaded object: jeprof skips lines that are not maps lines, and jeprof-c
 * uses them to tell the code that ran from a file replaced since. */
static void write_build_id(void *arg, uintptr_t lo, uintptr_t hi, const char *hex)
{
    struct writer *w = arg;
    (void)hi;
    writer_str(w, "# build_id ");
    writer_hex(w, lo);
    writer_str(w, " ");
    writer_str(w, hex);
    writer_str(w, "\n");
}

/* The code segments of unloaded modules at their aliases (unloaded.h):
 * a maps line each, with its build ID as the loaded objects' have. */
static void write_unloaded(void *arg, const struct unloaded_seg *seg)
{
    struct writer *w = arg;
    char line[700];
    if (!unloaded_maps_line(seg, line, sizeof(line)))
        return;
    writer_str(w, line);
    if (seg->build_id[0])
        write_build_id(w, seg->lo, seg->hi, seg->build_id);
}

/* Thread names may hold anything; keep the line parseable. */
static void write_name(struct writer *w, const char *name)
{
    for (const char *p = name; *p; p++) {
        char ch = (*p == '\n' || *p == '\r') ? ' ' : *p;
        writer_mem(w, &ch, 1);
    }
}

/* Caller holds prof.dump_lock (and the peak, for SITE_PEAK). */
static int dump_heapv2_locked(void (*write_cb)(void *, const char *), void *opaque,
                              enum site_src src)
{
    cfi_unload_poll(); /* unloads since the last stack, before any frame is written */
    struct writer *w = &dump_writer;
    writer_init(w, write_cb, opaque);
    unsigned lg = src == SITE_PEAK ? peak_lg_sample() : prof.lg_sample;
    struct dump_ctx c = {
        .w = w, .src = src, .R = (double)((uint64_t)1 << lg), .pass_totals = true};
    pthread_mutex_lock(&prof.tdata_lock);
    for (struct prof_tdata *td = prof.tdatas; td; td = td->next) {
        memset(&td->dump_cur, 0, sizeof(td->dump_cur));
        memset(&td->dump_accum, 0, sizeof(td->dump_accum));
    }
    site_foreach_src(src, visit_site, &c);
    writer_str(w, "heap_v2/");
    writer_u64(w, (uint64_t)1 << lg);
    writer_str(w, "\n  t*: ");
    write_counts(w, &c.total_cur, &c.total_accum, c.R);
    writer_str(w, "\n");
    /* Oldest thread first (ascending uid), as jemalloc lists them. */
    struct prof_tdata *last = prof.tdatas;
    while (last && last->next)
        last = last->next;
    for (struct prof_tdata *td = last; td; td = td->prev) {
        if (opt.prof_accum ? td->dump_accum.count == 0 : td->dump_cur.count == 0)
            continue;
        writer_str(w, "  t");
        writer_u64(w, td->uid);
        writer_str(w, ": ");
        write_counts(w, &td->dump_cur, &td->dump_accum, c.R);
        if (td->name[0]) {
            writer_str(w, " ");
            write_name(w, td->name);
        }
        writer_str(w, "\n");
    }
    pthread_mutex_unlock(&prof.tdata_lock);
    c.pass_totals = false;
    site_foreach_src(src, visit_site, &c);
    writer_str(w, "\nMAPPED_LIBRARIES:\n");
    write_maps(w);
    elfsym_loaded_build_ids(write_build_id, w);
    unloaded_foreach(write_unloaded, w);
    /* A peak dump also says when its snapshot was taken (0: no peak yet,
     * then it holds nothing), so jeprof-c --growth can tell it from a dump
     * of the heap at time_ns. */
    if (src == SITE_PEAK) {
        writer_str(w, "# peak_time_ns ");
        writer_u64(w, peak_time_ns());
        writer_str(w, "\n");
    }
    /* When the dump was taken (CLOCK_REALTIME, ns since the epoch), for
     * jeprof-c --growth; jeprof skips it like the build_id lines. */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    writer_str(w, "# time_ns ");
    writer_u64(w, (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec);
    writer_str(w, "\n");
    writer_flush(w);
    return 0;
}

int prof_dump_heapv2_cb(void (*write_cb)(void *, const char *), void *opaque)
{
    pthread_mutex_lock(&prof.dump_lock);
    int err = dump_heapv2_locked(write_cb, opaque, SITE_LIVE);
    pthread_mutex_unlock(&prof.dump_lock);
    return err;
}

static struct dump_file dump_out BSS_LARGE;

/* Write heap_v2 to path (whole or nothing). Caller holds prof.dump_lock. */
static int dump_heapv2_file(const char *path, enum site_src src)
{
    int err = dump_file_open(&dump_out, path); /* warns on failure */
    if (err)
        return err;
    dump_heapv2_locked(dump_file_write, &dump_out, src);
    return dump_file_commit(&dump_out);
}

/* Both formats of one dump read the same peak: it is held across them.
 * The pprof file's name comes from heap_path: ".heap" replaced by
 * ".pb.gz", else ".pb.gz" added. named: heap_path is the name the program
 * gave (prof.dump), which with prof_format:pprof alone the pprof file
 * takes as it is unless it ends in ".heap" ("a.pb.gz" became
 * "a.pb.gz.pb.gz"). */
static int dump_locked(const char *heap_path, enum site_src src, bool named)
{
    int err = 0;
    bool heapv2 = strcmp(opt.prof_format, "pprof") != 0;
    bool pprof = strcmp(opt.prof_format, "heap_v2") != 0;
    if (src == SITE_PEAK)
        peak_hold();
    if (heapv2)
        err = dump_heapv2_file(heap_path, src);
    if (pprof) {
        char pb[4200];
        size_t n = strlen(heap_path);
        if (n >= 5 && strcmp(heap_path + n - 5, ".heap") == 0)
            snprintf(pb, sizeof(pb), "%.*s.pb.gz", (int)(n - 5), heap_path);
        else if (named && !heapv2)
            snprintf(pb, sizeof(pb), "%s", heap_path);
        else
            snprintf(pb, sizeof(pb), "%s.pb.gz", heap_path);
        int e2 = prof_dump_pprof_file_src(pb, src);
        if (!err)
            err = e2;
    }
    if (src == SITE_PEAK)
        peak_release();
    return err;
}

int prof_dump_path(const char *path)
{
    pthread_mutex_lock(&prof.dump_lock);
    int err = dump_locked(path, SITE_LIVE, true);
    pthread_mutex_unlock(&prof.dump_lock);
    return err;
}

int prof_dump_peak_path(const char *path)
{
    pthread_mutex_lock(&prof.dump_lock);
    int err = dump_locked(path, SITE_PEAK, true);
    pthread_mutex_unlock(&prof.dump_lock);
    return err;
}

int prof_dump_auto(char kind)
{
    /* Interval and gdump dumps come from the allocation path: no calls into
     * other allocators there (foreign.h). */
    foreign_refresh(kind != 'i' && kind != 'u');
    pthread_mutex_lock(&prof.dump_lock);
    char prefix[sizeof(prof.prefix) + 600];
    if (!prof.prefix[0]) {
        pthread_mutex_unlock(&prof.dump_lock);
        return EFAULT;
    }
    if (foreign_dump_prefix(prof.prefix, prefix, sizeof(prefix)) != 0) {
        pthread_mutex_unlock(&prof.dump_lock);
        return ESRCH; /* this copy serves nothing (said once on stderr) */
    }
    char path[sizeof(prefix) + 100];
    unsigned long long seq = prof.dump_seq++;
    int pid = (int)getpid();
    switch (kind) {
    case 'f':
        snprintf(path, sizeof(path), "%s.%d.%llu.f.heap", prefix, pid, seq);
        break;
    case 'i':
        snprintf(path, sizeof(path), "%s.%d.%llu.i%llu.heap", prefix, pid, seq,
                 (unsigned long long)prof.iseq++);
        break;
    case 'u':
        snprintf(path, sizeof(path), "%s.%d.%llu.u%llu.heap", prefix, pid, seq,
                 (unsigned long long)prof.useq++);
        break;
    case 'p':
        snprintf(path, sizeof(path), "%s.%d.%llu.p%llu.heap", prefix, pid, seq,
                 (unsigned long long)prof.pseq++);
        break;
    default:
        snprintf(path, sizeof(path), "%s.%d.%llu.m%llu.heap", prefix, pid, seq,
                 (unsigned long long)prof.mseq++);
        break;
    }
    int err = dump_locked(path, kind == 'p' ? SITE_PEAK : SITE_LIVE, false);
    pthread_mutex_unlock(&prof.dump_lock);
    return err;
}
