/*
 * prof_ctl: mallctl handlers for the profiler (prof.*, thread.prof.*,
 * experimental.prof_recent.*). Without prof:true they answer as jemalloc
 * 5.3 does: the switches (prof.active, prof.gdump, prof.thread_active_init,
 * thread.prof.active) read false and refuse true with ENOENT, prof.lg_sample
 * and prof.interval read their values, everything else is ENOENT.
 */
#include "prof.h"
#include "dynload.h"
#include "prof_hooks.h"
#include "prof_stats.h"
#include "options.h"
#include "recent.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

static int need_prof(void)
{
    return opt.prof ? 0 : ENOENT;
}

/* Boolean switches: without prof:true they read false and accept only false
 * (jemalloc: writing true gives ENOENT). */
static int rw_bool(const struct ctl_args *a, bool *var)
{
    bool old = opt.prof ? *var : false, nw = old;
    int err = ctl_write_bool(a, &nw);
    if (err)
        return err;
    if (a->newp) {
        if (!opt.prof) {
            if (nw)
                return ENOENT;
        } else {
            *var = nw;
        }
    }
    return ctl_read(a, &old, sizeof(old));
}

static int h_prof_active(const struct ctl_args *a) { return rw_bool(a, &prof.active); }
static int h_prof_gdump(const struct ctl_args *a) { return rw_bool(a, &prof.gdump); }
static int h_prof_thread_active_init(const struct ctl_args *a)
{
    return rw_bool(a, &prof.thread_active_init);
}

/* prof.dump and prof.dump_peak: newp is a const char * path, or NULL for
 * an auto name (.m<N>. or .p<N>.); any write failure is EFAULT. */
static int dump_ctl(const struct ctl_args *a, bool peak)
{
    int err = need_prof();
    if (err)
        return err;
    if (peak && !opt.prof_peak)
        return ENOENT; /* no snapshot is kept without prof_peak:true */
    if (a->oldp || a->oldlenp)
        return EPERM;
    const char *name = NULL;
    if (a->newp) {
        if (a->newlen != sizeof(name))
            return EINVAL;
        memcpy(&name, a->newp, sizeof(name));
    }
    struct heap *h = prof_host_heap(true);
    struct prof_tdata *td = h ? *prof_host_slot(h) : NULL;
    bool was = td ? td->in_prof : false;
    if (td)
        td->in_prof = true;
    if (peak)
        err = name ? prof_dump_peak_path(name) : prof_dump_auto('p');
    else
        err = name ? prof_dump_path(name) : prof_dump_auto('m');
    if (td)
        td->in_prof = was;
    return err ? EFAULT : 0;
}

static int h_prof_dump(const struct ctl_args *a) { return dump_ctl(a, false); }
/* prof.dump_peak (prof_peak:true): the peak snapshot, as prof.dump writes the live heap. */
static int h_prof_dump_peak(const struct ctl_args *a) { return dump_ctl(a, true); }
/* prof.dump_pprof_fd (beyond jemalloc): newp an int * file descriptor,
 * newlen sizeof(int); writes the gzip'd pprof profile there (prof.h). */
static int h_prof_dump_pprof_fd(const struct ctl_args *a)
{
    int err = need_prof();
    if (err)
        return err;
    if (a->oldp || a->oldlenp)
        return EPERM;
    int fd;
    if (!a->newp || a->newlen != sizeof(fd))
        return EINVAL;
    memcpy(&fd, a->newp, sizeof(fd));
    struct heap *h = prof_host_heap(true);
    struct prof_tdata *td = h ? *prof_host_slot(h) : NULL;
    bool was = td ? td->in_prof : false;
    if (td)
        td->in_prof = true;
    /* zlib and libprotobuf-c, if the options did not load them at boot:
     * here no lock is held and this thread's allocations are not sampled. */
    err = dynload_pprof_load();
    if (err == 0)
        err = prof_dump_pprof_fd(fd);
    if (td)
        td->in_prof = was;
    return err;
}

static int h_prof_prefix(const struct ctl_args *a)
{
    int err = need_prof();
    if (err)
        return err;
    if (a->oldp || a->oldlenp)
        return EPERM;
    const char *p;
    if (!a->newp || a->newlen != sizeof(p))
        return EINVAL;
    memcpy(&p, a->newp, sizeof(p));
    if (!p)
        return EFAULT;
    pthread_mutex_lock(&prof.dump_lock);
    size_t n = strlen(p);
    if (n >= sizeof(prof.prefix))
        n = sizeof(prof.prefix) - 1;
    memcpy(prof.prefix, p, n);
    prof.prefix[n] = 0;
    pthread_mutex_unlock(&prof.dump_lock);
    return 0;
}

static int h_prof_reset(const struct ctl_args *a)
{
    int err = need_prof();
    if (err)
        return err;
    if (a->oldp || a->oldlenp)
        return EPERM;
    size_t lg = prof.lg_sample;
    if (a->newp) {
        if (a->newlen != sizeof(lg))
            return EINVAL;
        memcpy(&lg, a->newp, sizeof(lg));
        if (lg > 63)
            lg = 63;
    }
    site_reset();
    prof.lg_sample = (unsigned)lg;
    return 0;
}

static int h_prof_lg_sample(const struct ctl_args *a)
{
    size_t v = opt.prof ? prof.lg_sample : 0; /* jemalloc reads 0 without prof:true */
    return ctl_read_only(a, &v, sizeof(v));
}

static int h_prof_interval(const struct ctl_args *a)
{
    uint64_t v = opt.lg_prof_interval >= 0 ? (uint64_t)1 << opt.lg_prof_interval : 0;
    return ctl_read_only(a, &v, sizeof(v));
}

static int recent_max(const struct ctl_args *a)
{
    int err = need_prof();
    if (err)
        return err;
    ssize_t old = recent_get_max();
    if (a->newp) {
        ssize_t nw;
        if (a->newlen != sizeof(nw))
            return EINVAL;
        memcpy(&nw, a->newp, sizeof(nw));
        if (nw < -1)
            return EINVAL;
        if ((err = recent_set_max(nw, &old)) != 0)
            return err;
    }
    return ctl_read(a, &old, sizeof(old));
}

struct recent_dump_args {
    void (*write_cb)(void *, const char *);
    void *cbopaque;
};

static int recent_dump_ctl(const struct ctl_args *a)
{
    int err = need_prof();
    if (err)
        return err;
    if (a->oldp || a->oldlenp)
        return EPERM;
    struct recent_dump_args d;
    if (!a->newp || a->newlen != sizeof(d))
        return EINVAL;
    memcpy(&d, a->newp, sizeof(d));
    if (!d.write_cb)
        return EINVAL;
    recent_dump(d.write_cb, d.cbopaque, NULL);
    return 0;
}

/* prof.recent_alloc_dump_filtered: {write_cb, cbopaque, const struct prof_recent_filter *}. */
static int recent_dump_filtered(const struct ctl_args *a)
{
    int err = need_prof();
    if (err)
        return err;
    if (a->oldp || a->oldlenp)
        return EPERM;
    struct {
        void (*write_cb)(void *, const char *);
        void *cbopaque;
        const struct recent_filter *filter;
    } d;
    if (!a->newp || a->newlen != sizeof(d))
        return EINVAL;
    memcpy(&d, a->newp, sizeof(d));
    if (!d.write_cb)
        return EINVAL;
    recent_dump(d.write_cb, d.cbopaque, d.filter);
    return 0;
}

/* ---- prof.stats.{bins,lextents}.<j>.{live,accum} (prof_stats.h) ---- */

static int prof_stats_read(const struct ctl_args *a, bool lextent, bool accum)
{
    struct prof_stats v;
    int err = prof_stats_get(lextent, (unsigned)a->mib[3], accum, &v);
    if (err)
        return err;
    return ctl_read_only(a, &v, sizeof(v));
}

static int h_ps_bin_live(const struct ctl_args *a) { return prof_stats_read(a, false, false); }
static int h_ps_bin_accum(const struct ctl_args *a) { return prof_stats_read(a, false, true); }
static int h_ps_lext_live(const struct ctl_args *a) { return prof_stats_read(a, true, false); }
static int h_ps_lext_accum(const struct ctl_args *a) { return prof_stats_read(a, true, true); }

/* Past the last class: ENOENT. */
static bool ps_bin_index_ok(const size_t *mib, size_t depth, size_t i)
{
    (void)mib;
    (void)depth;
    return i < PROF_HOST_NSMALL;
}

static bool ps_lext_index_ok(const size_t *mib, size_t depth, size_t i)
{
    (void)mib;
    (void)depth;
    return i < PROF_STATS_NLEXTENTS;
}

static const struct ctl_node ps_bin_nodes[] = {
    {"live", NULL, 0, NULL, h_ps_bin_live},
    {"accum", NULL, 0, NULL, h_ps_bin_accum},
};
static const struct ctl_node ps_lext_nodes[] = {
    {"live", NULL, 0, NULL, h_ps_lext_live},
    {"accum", NULL, 0, NULL, h_ps_lext_accum},
};
static const struct ctl_node ps_bin_i = {NULL, ps_bin_nodes, 2, ps_bin_index_ok, NULL};
static const struct ctl_node ps_lext_i = {NULL, ps_lext_nodes, 2, ps_lext_index_ok, NULL};
static const struct ctl_node prof_stats_nodes[] = {
    {"bins", &ps_bin_i, 1, NULL, NULL},
    {"lextents", &ps_lext_i, 1, NULL, NULL},
};

const struct ctl_node prof_ctl_nodes[PROF_CTL_NNODES] = {
    {"active", NULL, 0, NULL, h_prof_active},
    {"dump", NULL, 0, NULL, h_prof_dump},
    {"prefix", NULL, 0, NULL, h_prof_prefix},
    {"reset", NULL, 0, NULL, h_prof_reset},
    {"lg_sample", NULL, 0, NULL, h_prof_lg_sample},
    {"interval", NULL, 0, NULL, h_prof_interval},
    {"gdump", NULL, 0, NULL, h_prof_gdump},
    {"thread_active_init", NULL, 0, NULL, h_prof_thread_active_init},
    {"recent_alloc_max", NULL, 0, NULL, recent_max},
    {"recent_alloc_dump", NULL, 0, NULL, recent_dump_ctl},
    {"recent_alloc_dump_filtered", NULL, 0, NULL, recent_dump_filtered},
    {"stats", prof_stats_nodes, 2, NULL, NULL},
    {"dump_peak", NULL, 0, NULL, h_prof_dump_peak},
    {"dump_pprof_fd", NULL, 0, NULL, h_prof_dump_pprof_fd},
};

/* ---- thread.prof.* ---- */

static int h_thread_prof_name(const struct ctl_args *a)
{
    int err = need_prof();
    if (err)
        return err;
    struct heap *h = prof_host_heap(true);
    struct prof_tdata *td = h ? *prof_host_slot(h) : NULL;
    if (!td)
        return EAGAIN;
    if (a->newp || a->newlen) {
        if (a->oldp || a->oldlenp)
            return EPERM;
        const char *name;
        if (a->newlen != sizeof(name))
            return EINVAL;
        memcpy(&name, a->newp, sizeof(name));
        if (!name)
            return EFAULT;
        size_t n = strlen(name);
        for (size_t i = 0; i < n; i++)
            if (!isgraph((unsigned char)name[i]) && !isblank((unsigned char)name[i]))
                return EFAULT;
        if (n >= sizeof(td->name))
            n = sizeof(td->name) - 1;
        memcpy(td->name, name, n);
        td->name[n] = 0;
        return 0;
    }
    const char *v = td->name;
    return ctl_read(a, &v, sizeof(v));
}

static int h_thread_prof_active(const struct ctl_args *a)
{
    static bool off;
    struct heap *h = opt.prof ? prof_host_heap(true) : NULL;
    struct prof_tdata *td = h ? *prof_host_slot(h) : NULL;
    if (opt.prof && !td)
        return EAGAIN;
    return rw_bool(a, td ? &td->active : &off);
}

const struct ctl_node thread_prof_ctl_nodes[] = {
    {"name", NULL, 0, NULL, h_thread_prof_name},
    {"active", NULL, 0, NULL, h_thread_prof_active},
};

/* ---- experimental.prof_recent.* (jemalloc 5.3 names) ---- */

const struct ctl_node experimental_prof_recent_nodes[] = {
    {"alloc_max", NULL, 0, NULL, recent_max},
    {"alloc_dump", NULL, 0, NULL, recent_dump_ctl},
};
