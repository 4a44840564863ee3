/* ctl: mallctl, mallctlnametomib, mallctlbymib over a static tree (see ctl.h). */
#include "ctl.h"
#include "decay.h"
#include "defer.h"
#include "alloc.h"
#include "arena.h"
#include "background.h"
#include "fault.h"
#include "heap.h"
#include "numa.h"
#include "malloc_init.h"
#include "options.h"
#include "prof_hooks.h"
#include "tcache.h"
#include "rtree.h"
#include "sizeclass.h"
#include "stats.h"

#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define N(x) (sizeof(x) / sizeof((x)[0]))

/* ---- handler helpers ---- */

int ctl_read_only(const struct ctl_args *a, const void *v, size_t size)
{
    if (a->newp != NULL || a->newlen != 0)
        return EPERM;
    return ctl_read(a, v, size);
}

int ctl_read(const struct ctl_args *a, const void *v, size_t size)
{
    if (a->oldp == NULL || a->oldlenp == NULL)
        return 0;
    if (*a->oldlenp != size) {
        size_t n = *a->oldlenp < size ? *a->oldlenp : size;
        memcpy(a->oldp, v, n);
        *a->oldlenp = n;
        return EINVAL;
    }
    memcpy(a->oldp, v, size);
    return 0;
}

int ctl_write(const struct ctl_args *a, void *v, size_t size)
{
    if (a->newp == NULL)
        return 0;
    if (a->newlen != size)
        return EINVAL;
    memcpy(v, a->newp, size);
    return 0;
}

int ctl_write_bool(const struct ctl_args *a, bool *v)
{
    unsigned char b;
    if (a->newp == NULL)
        return 0;
    if (a->newlen != sizeof(bool))
        return EINVAL;
    /* Read as a byte: a bool holding anything but 0 or 1 is undefined
     * behaviour, so such a write is refused, never loaded as a bool. */
    memcpy(&b, a->newp, 1);
    if (b > 1)
        return EINVAL;
    *v = b == 1;
    return 0;
}

int ctl_no_data(const struct ctl_args *a)
{
    if (a->oldp || a->oldlenp || a->newp || a->newlen)
        return EPERM;
    return 0;
}

static bool wants_write(const struct ctl_args *a)
{
    return a->newp != NULL || a->newlen != 0;
}

/* jemalloc's VERIFY_READ: a creating read needs an exact buffer, checked
 * before anything is created (EINVAL and *oldlenp = 0 otherwise). */
static int verify_read(const struct ctl_args *a, size_t size)
{
    if (a->oldp == NULL || a->oldlenp == NULL || *a->oldlenp != size) {
        if (a->oldlenp)
            *a->oldlenp = 0;
        return EINVAL;
    }
    return 0;
}

/* ---- version, epoch, config ---- */

static int h_version(const struct ctl_args *a)
{
    const char *v = JEMALLOC_VERSION;
    return ctl_read_only(a, &v, sizeof(v));
}

/* liballoc.version: this library's own release (the VERSION file, passed by
 * liballoc.mk), e.g. "0.1.0". "version" repeats jemalloc's string for
 * compatibility, so this is how a program tells that liballoc serves it
 * (jemalloc answers ENOENT). Read-only, const char *. */
#ifndef ALLOC_RELEASE
#error "ALLOC_RELEASE must be defined (liballoc.mk passes the VERSION file)"
#endif
static int h_liballoc_version(const struct ctl_args *a)
{
    const char *v = ALLOC_RELEASE;
    return ctl_read_only(a, &v, sizeof(v));
}

static const struct ctl_node liballoc_nodes[] = {
    {"version", NULL, 0, NULL, h_liballoc_version},
};

/* epoch: a write refreshes the stats, as jemalloc's; first it purges what
 * the decay schedules make due now (decay_due_all), which jemalloc leaves
 * to its next allocation or background thread: a process that went quiet
 * after a burst and only reads its stats gets its memory back on schedule,
 * and the stats read then say so. */
static int h_epoch(const struct ctl_args *a)
{
    uint64_t v = 0;
    int err = ctl_write(a, &v, sizeof(v));
    if (err)
        return err;
    if (a->newp)
        decay_due_all();
    uint64_t e = a->newp ? stats_refresh() : stats_current.epoch;
    return ctl_read(a, &e, sizeof(e));
}

static int h_true(const struct ctl_args *a)
{
    bool v = true;
    return ctl_read_only(a, &v, sizeof(v));
}

static int h_false(const struct ctl_args *a)
{
    bool v = false;
    return ctl_read_only(a, &v, sizeof(v));
}

static int h_config_debug(const struct ctl_args *a)
{
    bool v = config_debug;
    return ctl_read_only(a, &v, sizeof(v));
}

static int h_config_malloc_conf(const struct ctl_args *a)
{
    const char *v = "";
    return ctl_read_only(a, &v, sizeof(v));
}

static const struct ctl_node config_nodes[] = {
    {"cache_oblivious", NULL, 0, NULL, h_false},
    {"debug", NULL, 0, NULL, h_config_debug},
    {"fill", NULL, 0, NULL, h_true},
    {"lazy_lock", NULL, 0, NULL, h_false},
    {"malloc_conf", NULL, 0, NULL, h_config_malloc_conf},
    {"opt_safety_checks", NULL, 0, NULL, h_true},
    {"prof", NULL, 0, NULL, h_true},
    {"prof_libgcc", NULL, 0, NULL, h_false},
    {"prof_libunwind", NULL, 0, NULL, h_true},
    {"stats", NULL, 0, NULL, h_true},
    {"utrace", NULL, 0, NULL, h_false},
    {"xmalloc", NULL, 0, NULL, h_false},
};

/* ---- opt.* (generated from options.def) ---- */

#define OPT_BOOL(n, d, doc)                                                                        \
    static int h_opt_##n(const struct ctl_args *a) { return ctl_read_only(a, &opt.n, sizeof(opt.n)); }
#define OPT_UNSIGNED OPT_NUM
#define OPT_SIZE OPT_NUM
#define OPT_SSIZE OPT_NUM
#define OPT_NUM(n, d, lo, hi, doc) OPT_BOOL(n, d, doc)
#define OPT_STRING(n, d, doc)                                                                      \
    static int h_opt_##n(const struct ctl_args *a)                                                 \
    {                                                                                              \
        const char *v = opt.n;                                                                     \
        return ctl_read_only(a, &v, sizeof(v));                                                    \
    }
#define OPT_CHOICE(n, d, choices, doc)                                                             \
    static int h_opt_##n(const struct ctl_args *a) { return ctl_read_only(a, &opt.n, sizeof(opt.n)); }
#include "options.def"
#undef OPT_NUM

#define OPT_BOOL(n, d, doc) {#n, NULL, 0, NULL, h_opt_##n},
#define OPT_UNSIGNED OPT_NUM
#define OPT_SIZE OPT_NUM
#define OPT_SSIZE OPT_NUM
#define OPT_NUM(n, d, lo, hi, doc) OPT_BOOL(n, d, doc)
#define OPT_STRING(n, d, doc) OPT_BOOL(n, d, doc)
#define OPT_CHOICE(n, d, choices, doc) OPT_BOOL(n, d, doc)
/* opt.* names of jemalloc's options that liballoc does not take from
 * MALLOC_CONF (it would accept a setting that changes nothing): each
 * reads, in jemalloc's type, what liballoc's fixed behaviour is. */
static int h_opt_oversize_threshold(const struct ctl_args *a)
{
    size_t v = 0; /* jemalloc's "off": no dedicated arena for big requests */
    return ctl_read_only(a, &v, sizeof(v));
}

static int h_opt_dss(const struct ctl_args *a)
{
    const char *v = "disabled"; /* memory is never taken with sbrk */
    return ctl_read_only(a, &v, sizeof(v));
}

static int h_opt_metadata_thp(const struct ctl_args *a)
{
    /* Base memory is never madvised for THP (os_thp_apply: chunks and huge blocks). */
    const char *v = "disabled";
    return ctl_read_only(a, &v, sizeof(v));
}

static int h_opt_stats_interval(const struct ctl_args *a)
{
    int64_t v = -1; /* no periodic statistics printing */
    return ctl_read_only(a, &v, sizeof(v));
}

static int h_opt_stats_interval_opts(const struct ctl_args *a)
{
    const char *v = "";
    return ctl_read_only(a, &v, sizeof(v));
}

static const struct ctl_node opt_nodes[] = {
#include "options.def"
    {"oversize_threshold", NULL, 0, NULL, h_opt_oversize_threshold},
    {"dss", NULL, 0, NULL, h_opt_dss},
    {"metadata_thp", NULL, 0, NULL, h_opt_metadata_thp},
    {"cache_oblivious", NULL, 0, NULL, h_false},   /* as config.cache_oblivious */
    {"trust_madvise", NULL, 0, NULL, h_true},      /* purged pages taken as zeroed, unchecked */
    {"stats_interval", NULL, 0, NULL, h_opt_stats_interval},
    {"stats_interval_opts", NULL, 0, NULL, h_opt_stats_interval_opts},
};
#undef OPT_NUM

/* ---- thread.* ---- */

static struct heap *cur_heap(void)
{
    return heap_get();
}

/* thread.{allocated,deallocated}[p]: a counter of the calling thread's heap
 * (offset into struct heap), by value or as a pointer that tracks it. */
static int thread_counter(const struct ctl_args *a, size_t offset, bool pointer)
{
    struct heap *h = cur_heap();
    if (!h && pointer)
        return EAGAIN;
    uint64_t *field = h ? (uint64_t *)((char *)h + offset) : NULL;
    if (pointer)
        return ctl_read_only(a, &field, sizeof(field));
    uint64_t v = field ? *field : 0;
    return ctl_read_only(a, &v, sizeof(v));
}

static int h_thread_allocated(const struct ctl_args *a)
{
    return thread_counter(a, offsetof(struct heap, allocated), false);
}

static int h_thread_deallocated(const struct ctl_args *a)
{
    return thread_counter(a, offsetof(struct heap, deallocated), false);
}

static int h_thread_allocatedp(const struct ctl_args *a)
{
    return thread_counter(a, offsetof(struct heap, allocated), true);
}

static int h_thread_deallocatedp(const struct ctl_args *a)
{
    return thread_counter(a, offsetof(struct heap, deallocated), true);
}

static int h_thread_arena(const struct ctl_args *a)
{
    struct heap *h = cur_heap();
    if (!h)
        return EAGAIN;
    heap_follow_node(h); /* percpu_arena: report the current CPU's arena */
    unsigned old = h->arena->index, nw = old;
    int err = ctl_write(a, &nw, sizeof(nw));
    if (err)
        return err;
    /* Per-CPU arenas are not chosen by hand (jemalloc): EPERM, unless it
     * names the arena the thread is on, which changes nothing. */
    if (a->newp && nw < numa_percpu_limit())
        return nw == old ? ctl_read(a, &old, sizeof(old)) : EPERM;
    if (a->newp) {
        struct arena *na = nw < arena_total() ? arena_get(nw) : NULL;
        if (!na)
            return EFAULT;
        if (na != h->arena) {
            heap_flush(h);
            arena_thread_detach(h->arena);
            arena_thread_attach(na);
            h->arena = na;
        } else if (!h->arena_explicit) {
            /* Pinned where it was: pages and cached blocks other arenas
             * lent it while unpinned (arena.c, arena_dirty_donor) go back. */
            heap_flush(h);
        }
        h->arena_explicit = true;
    }
    return ctl_read(a, &old, sizeof(old));
}

static int h_thread_tcache_enabled(const struct ctl_args *a)
{
    struct heap *h = cur_heap();
    if (!h)
        return EAGAIN;
    bool old = h->tcache, nw = old;
    int err = ctl_write_bool(a, &nw);
    if (err)
        return err;
    if (a->newp)
        heap_set_tcache(h, nw);
    return ctl_read(a, &old, sizeof(old));
}

static int h_thread_tcache_flush(const struct ctl_args *a)
{
    int err = ctl_no_data(a);
    if (err)
        return err;
    struct heap *h = cur_heap();
    if (!h || !h->tcache)
        return EFAULT;
    heap_flush(h);
    return 0;
}

/* thread.tcache.large_bytes (ours): bytes of large blocks the calling
 * thread's cache holds (tcache.h); 0 for a thread without a heap. */
static int h_thread_tcache_large_bytes(const struct ctl_args *a)
{
    struct heap *h = heap_tls;
    size_t v = h != &heap_empty ? h->large.bytes : 0;
    return ctl_read_only(a, &v, sizeof(v));
}

/* thread.idle: the calling thread will be idle for a while. Its cached
 * blocks and pages go back (thread.tcache.flush), then its arena's decay
 * runs what is due now (the schedule's purges, not a forced purge). */
static int h_thread_idle(const struct ctl_args *a)
{
    int err = ctl_no_data(a);
    if (err)
        return err;
    struct heap *h = heap_tls;
    if (h == &heap_empty)
        return 0; /* nothing cached */
    heap_flush(h); /* (nothing to give back with its cache off) */
    decay_run(h->arena, false);
    return 0;
}

/* thread.peak.read (uint64_t, r-): the highest net allocation
 * (thread.allocated - thread.deallocated) of the calling thread since its
 * last thread.peak.reset or its start, as seen at its allocation events
 * (heap.h, heap_peak_note). */
static int h_thread_peak_read(const struct ctl_args *a)
{
    struct heap *h = heap_tls;
    uint64_t v = 0;
    if (h != &heap_empty) {
        heap_peak_note(h);
        v = h->peak;
    }
    return ctl_read_only(a, &v, sizeof(v));
}

/* thread.peak.reset (void): the peak starts again from the thread's
 * current net allocation, counted as 0. */
static int h_thread_peak_reset(const struct ctl_args *a)
{
    int err = ctl_no_data(a);
    if (err)
        return err;
    struct heap *h = heap_tls;
    if (h != &heap_empty) {
        h->peak_mark = h->allocated - h->deallocated;
        h->peak = 0;
    }
    return 0;
}

static const struct ctl_node thread_peak_nodes[] = {
    {"read", NULL, 0, NULL, h_thread_peak_read},
    {"reset", NULL, 0, NULL, h_thread_peak_reset},
};

static const struct ctl_node thread_tcache_nodes[] = {
    {"enabled", NULL, 0, NULL, h_thread_tcache_enabled},
    {"flush", NULL, 0, NULL, h_thread_tcache_flush},
    {"large_bytes", NULL, 0, NULL, h_thread_tcache_large_bytes},
};

static int h_thread_numa_node(const struct ctl_args *a);

static const struct ctl_node thread_nodes[] = {
    {"numa_node", NULL, 0, NULL, h_thread_numa_node},
    {"arena", NULL, 0, NULL, h_thread_arena},
    {"allocated", NULL, 0, NULL, h_thread_allocated},
    {"allocatedp", NULL, 0, NULL, h_thread_allocatedp},
    {"deallocated", NULL, 0, NULL, h_thread_deallocated},
    {"deallocatedp", NULL, 0, NULL, h_thread_deallocatedp},
    {"tcache", thread_tcache_nodes, N(thread_tcache_nodes), NULL, NULL},
    {"prof", thread_prof_ctl_nodes, 2, NULL, NULL},
    {"idle", NULL, 0, NULL, h_thread_idle},
    {"peak", thread_peak_nodes, N(thread_peak_nodes), NULL, NULL},
};

/* ---- tcache.* (explicit caches: tcache.h) ---- */

static int h_tcache_create(const struct ctl_args *a)
{
    if (wants_write(a))
        return EPERM;
    int verr = verify_read(a, sizeof(unsigned));
    if (verr)
        return verr;
    unsigned id;
    int err = tcache_create(&id);
    if (err)
        return err;
    return ctl_read(a, &id, sizeof(id));
}

void ctl_prefork(void) { tcache_prefork(); }
void ctl_postfork_parent(void) { tcache_postfork_parent(); }
void ctl_postfork_child(void) { tcache_postfork_child(); }

static int tcache_id_op(const struct ctl_args *a, bool destroy)
{
    if (a->oldp || a->oldlenp)
        return EPERM;
    unsigned id;
    if (!a->newp || a->newlen != sizeof(id))
        return EINVAL;
    memcpy(&id, a->newp, sizeof(id));
    return destroy ? tcache_destroy(id) : tcache_flush(id);
}

static int h_tcache_flush(const struct ctl_args *a) { return tcache_id_op(a, false); }
static int h_tcache_destroy(const struct ctl_args *a) { return tcache_id_op(a, true); }

static const struct ctl_node tcache_nodes[] = {
    {"create", NULL, 0, NULL, h_tcache_create},
    {"flush", NULL, 0, NULL, h_tcache_flush},
    {"destroy", NULL, 0, NULL, h_tcache_destroy},
};

/* ---- arena.<i>.* ---- */

/* Arenas named by index i (MALLCTL_ARENAS_ALL or i == narenas: all). */
static bool arena_index_ok(const size_t *mib, size_t depth, size_t i)
{
    (void)mib;
    (void)depth;
    return i <= arena_total() || i == MALLCTL_ARENAS_ALL || i == MALLCTL_ARENAS_DESTROYED;
}

static bool all_arenas(size_t i)
{
    return i == MALLCTL_ARENAS_ALL || i == arena_total();
}

static int arena_purge_common(const struct ctl_args *a, bool force)
{
    int err = ctl_no_data(a);
    if (err)
        return err;
    size_t i = a->mib[1];
    if (i == MALLCTL_ARENAS_DESTROYED)
        return 0;
    unsigned n = arena_total();
    /* The caller's cached large blocks and kept empty slab pages of these
     * arenas go back first (other threads' stay: they count as allocated,
     * tcache.h, heap.c). */
    struct heap *h = heap_tls;
    if (h != &heap_empty && all_arenas(i)) {
        tcache_large_flush(h);
        heap_kept_flush(h, NULL);
    } else if (h != &heap_empty && i < n && arenas[i]) {
        tcache_large_flush_arena(h, arenas[i]);
        heap_kept_flush(h, arenas[i]);
    }
    for (unsigned k = 0; k < n; k++) {
        if (!all_arenas(i) && k != i)
            continue;
        if (arenas[k]) {
            arena_collect_abandoned(arenas[k]);
            if (force)
                heap_shared_trim(arenas[k]);
            decay_run(arenas[k], force);
        }
    }
    return 0;
}

static int h_arena_purge(const struct ctl_args *a) { return arena_purge_common(a, true); }
static int h_arena_decay(const struct ctl_args *a) { return arena_purge_common(a, false); }

/* The longest decay time accepted (ms), jemalloc's bound: its nanoseconds
 * fit in 64 bits (options.def holds the same bound for MALLOC_CONF). A
 * longer one wrapped around to a schedule of a few ms in decay (20000 years
 * purged at once); -1 is the way to say never. */
#define DECAY_MS_MAX 18446744073000LL

static int arena_decay_ms(const struct ctl_args *a, bool dirty)
{
    size_t i = a->mib[1];
    if (all_arenas(i) || i == MALLCTL_ARENAS_DESTROYED)
        return EFAULT;
    struct arena *ar = arena_get((unsigned)i);
    if (!ar)
        return EFAULT;
    ssize_t old = dirty ? ar->decay_dirty.ms : ar->decay_muzzy.ms, nw = old;
    int err = ctl_write(a, &nw, sizeof(nw));
    if (err)
        return err;
    if (a->newp) {
        if (nw < -1 || nw > DECAY_MS_MAX)
            return EFAULT;
        decay_set(ar, dirty ? nw : ar->decay_dirty.ms, dirty ? ar->decay_muzzy.ms : nw);
    }
    return ctl_read(a, &old, sizeof(old));
}

static int h_arena_dirty_decay_ms(const struct ctl_args *a) { return arena_decay_ms(a, true); }
static int h_arena_muzzy_decay_ms(const struct ctl_args *a) { return arena_decay_ms(a, false); }

static int h_arena_numa_node(const struct ctl_args *a);
static int h_arenas_numa_nodes(const struct ctl_args *a);

/* arena.<i>.initialized (bool, r-): whether arena i exists (arenas are
 * created on first use); true for MALLCTL_ARENAS_ALL (and its alias
 * narenas), false for MALLCTL_ARENAS_DESTROYED (none is ever destroyed),
 * as jemalloc answers. */
static int h_arena_initialized(const struct ctl_args *a)
{
    size_t i = a->mib[1];
    bool v;
    if (all_arenas(i))
        v = true;
    else if (i == MALLCTL_ARENAS_DESTROYED)
        v = false;
    else
        v = __atomic_load_n(&arenas[i], __ATOMIC_ACQUIRE) != NULL;
    return ctl_read_only(a, &v, sizeof(v));
}

static const struct ctl_node arena_i_nodes[] = {
    {"initialized", NULL, 0, NULL, h_arena_initialized},
    {"numa_node", NULL, 0, NULL, h_arena_numa_node},
    {"purge", NULL, 0, NULL, h_arena_purge},
    {"decay", NULL, 0, NULL, h_arena_decay},
    {"dirty_decay_ms", NULL, 0, NULL, h_arena_dirty_decay_ms},
    {"muzzy_decay_ms", NULL, 0, NULL, h_arena_muzzy_decay_ms},
};
static const struct ctl_node arena_i_node = {NULL, arena_i_nodes, N(arena_i_nodes), arena_index_ok, NULL};

/* ---- arenas.* ---- */

static int h_arenas_narenas(const struct ctl_args *a)
{
    unsigned v = arena_total();
    return ctl_read_only(a, &v, sizeof(v));
}

static int arenas_default_decay(const struct ctl_args *a, ssize_t *var)
{
    ssize_t old = *var, nw = old;
    int err = ctl_write(a, &nw, sizeof(nw));
    if (err)
        return err;
    if (a->newp) {
        if (nw < -1 || nw > DECAY_MS_MAX)
            return EFAULT;
        *var = nw;
    }
    return ctl_read(a, &old, sizeof(old));
}

static int h_arenas_dirty(const struct ctl_args *a) { return arenas_default_decay(a, &arena_default_dirty_ms); }
static int h_arenas_muzzy(const struct ctl_args *a) { return arenas_default_decay(a, &arena_default_muzzy_ms); }

static int h_arenas_quantum(const struct ctl_args *a)
{
    size_t v = MIN_ALIGN;
    return ctl_read_only(a, &v, sizeof(v));
}

static int h_arenas_page(const struct ctl_args *a)
{
    size_t v = PAGE;
    return ctl_read_only(a, &v, sizeof(v));
}

static int h_arenas_tcache_max(const struct ctl_args *a)
{
    size_t v = tcache_maxclass;
    return ctl_read_only(a, &v, sizeof(v));
}

static int h_arenas_nbins(const struct ctl_args *a)
{
    unsigned v = NSMALL;
    return ctl_read_only(a, &v, sizeof(v));
}

static int h_arenas_nlextents(const struct ctl_args *a)
{
    unsigned v = NLEXTENTS;
    return ctl_read_only(a, &v, sizeof(v));
}

static bool bin_index_ok(const size_t *mib, size_t depth, size_t i)
{
    (void)mib;
    (void)depth;
    return i < NSMALL;
}

static bool lextent_index_ok(const size_t *mib, size_t depth, size_t i)
{
    (void)mib;
    (void)depth;
    return i < NLEXTENTS;
}

static int h_bin_size(const struct ctl_args *a)
{
    size_t v = sizeclass_size[a->mib[2]];
    return ctl_read_only(a, &v, sizeof(v));
}

static int h_bin_nregs(const struct ctl_args *a)
{
    uint32_t v = sizeclass_slab_blocks[a->mib[2]];
    return ctl_read_only(a, &v, sizeof(v));
}

static int h_bin_slab_size(const struct ctl_args *a)
{
    size_t v = (size_t)sizeclass_slab_pages[a->mib[2]] * PAGE;
    return ctl_read_only(a, &v, sizeof(v));
}

static int h_lextent_size(const struct ctl_args *a)
{
    size_t v = sizeclass_lextent_size((unsigned)a->mib[2]);
    return ctl_read_only(a, &v, sizeof(v));
}

/* arenas.create: a written value is jemalloc's extent_hooks_t pointer,
 * which liballoc does not support (its arenas map their own memory): only
 * NULL (the default hooks) is accepted; hooks given are refused with EINVAL
 * and no arena is created, rather than an arena that never calls them. */
static int h_arenas_create(const struct ctl_args *a)
{
    if (wants_write(a) && !(a->newlen == sizeof(void *) || a->newlen == 0))
        return EPERM;
    if (wants_write(a) && a->newlen == sizeof(void *)) {
        void *hooks;
        memcpy(&hooks, a->newp, sizeof(hooks));
        if (hooks != NULL)
            return EINVAL;
    }
    int verr = verify_read(a, sizeof(unsigned));
    if (verr)
        return verr;
    int idx = arena_create();
    if (idx < 0)
        return EAGAIN;
    unsigned v = (unsigned)idx;
    return ctl_read(a, &v, sizeof(v));
}

/* True if s is a live block's span (slab page, large run, huge block) that
 * covers address p. */
static bool span_covers(const struct span *s, uintptr_t p)
{
    if (!s || (s->kind != SPAN_SLAB && s->kind != SPAN_LARGE && s->kind != SPAN_HUGE))
        return false;
    return p >= s->start && p - s->start < span_bytes(s);
}

/* Huge blocks are found from the radix entry of their first 2 MiB; a
 * pointer further inside walks back this many 2 MiB units at most (64 GiB). */
#define LOOKUP_HUGE_WALK ((size_t)1 << 15)

/* The span of ours that holds address p, or NULL. Slab pages are mapped on
 * every page; a large run only on its first and last page, so for a pointer
 * inside one the page map is searched backwards (at most LARGE_MAX worth of
 * pages); for a huge block the radix tree is searched backwards from p's
 * 2 MiB unit to the block's first one (stopping at a chunk of small and
 * large blocks, which no huge block spans). Never faults: span descriptors
 * live in base memory, and stale entries fail the coverage check. */
static struct span *span_owning(uintptr_t p)
{
    uintptr_t e = rtree_get(p);
    if (rtree_is_chunk(e)) {
        struct chunk *c = rtree_chunk(e);
        size_t page = rtree_chunk_page(p);
        for (size_t k = 0; k <= page && k <= (LARGE_MAX >> LG_PAGE); k++) {
            struct span *s = c->map[page - k];
            if (span_covers(s, p))
                return s;
        }
        return NULL;
    }
    uintptr_t unit = p & ~(uintptr_t)CHUNK_MASK;
    for (size_t k = 0; k < LOOKUP_HUGE_WALK && unit >= CHUNK; k++, unit -= CHUNK) {
        e = k ? rtree_get(unit) : e;
        if (rtree_is_huge(e)) {
            struct span *s = rtree_huge_span(e);
            if (span_covers(s, p))
                return s;
        } else if (e) {
            return NULL;
        }
    }
    return NULL;
}

/* arenas.lookup (unsigned, rw): write a pointer (void *), read the index of
 * the arena that owns it. EINVAL, as jemalloc, when no pointer is written or
 * the pointer is not inside a block of ours (NULL, another allocator's,
 * already freed pages). */
static int h_arenas_lookup(const struct ctl_args *a)
{
    void *ptr = NULL;
    int err = ctl_write(a, &ptr, sizeof(ptr));
    if (err)
        return err;
    struct span *s = span_owning((uintptr_t)ptr);
    if (!s || !s->arena)
        return EINVAL;
    unsigned v = s->arena->index;
    return ctl_read(a, &v, sizeof(v));
}

static const struct ctl_node bin_i_nodes[] = {
    {"size", NULL, 0, NULL, h_bin_size},
    {"nregs", NULL, 0, NULL, h_bin_nregs},
    {"slab_size", NULL, 0, NULL, h_bin_slab_size},
};
static const struct ctl_node bin_i_node = {NULL, bin_i_nodes, N(bin_i_nodes), bin_index_ok, NULL};
static const struct ctl_node lextent_i_nodes[] = {{"size", NULL, 0, NULL, h_lextent_size}};
static const struct ctl_node lextent_i_node = {NULL, lextent_i_nodes, 1, lextent_index_ok, NULL};

static const struct ctl_node arenas_nodes[] = {
    {"narenas", NULL, 0, NULL, h_arenas_narenas},
    {"dirty_decay_ms", NULL, 0, NULL, h_arenas_dirty},
    {"muzzy_decay_ms", NULL, 0, NULL, h_arenas_muzzy},
    {"quantum", NULL, 0, NULL, h_arenas_quantum},
    {"page", NULL, 0, NULL, h_arenas_page},
    {"tcache_max", NULL, 0, NULL, h_arenas_tcache_max},
    {"nbins", NULL, 0, NULL, h_arenas_nbins},
    {"nhbins", NULL, 0, NULL, h_arenas_nbins},
    {"bin", &bin_i_node, 1, NULL, NULL},
    {"nlextents", NULL, 0, NULL, h_arenas_nlextents},
    {"lextent", &lextent_i_node, 1, NULL, NULL},
    {"create", NULL, 0, NULL, h_arenas_create},
    {"lookup", NULL, 0, NULL, h_arenas_lookup},
    {"numa_nodes", NULL, 0, NULL, h_arenas_numa_nodes},
};

/* ---- stats.* ---- */

#define STAT_HANDLER(field)                                                                        \
    static int h_stats_##field(const struct ctl_args *a)                                           \
    {                                                                                              \
        size_t v = stats_current.field;                                                            \
        return ctl_read_only(a, &v, sizeof(v));                                                    \
    }
STAT_HANDLER(allocated)
STAT_HANDLER(active)
STAT_HANDLER(metadata)
STAT_HANDLER(resident)
STAT_HANDLER(mapped)
STAT_HANDLER(retained)
STAT_HANDLER(zero_reallocs)

/* stats.background_thread.*, as of the last epoch. */
static int h_stats_bg_num_threads(const struct ctl_args *a)
{
    size_t v = stats_current.bg_threads;
    return ctl_read_only(a, &v, sizeof(v));
}

static int h_stats_bg_num_runs(const struct ctl_args *a)
{
    uint64_t v = stats_current.bg_runs;
    return ctl_read_only(a, &v, sizeof(v));
}

static int h_stats_bg_run_interval(const struct ctl_args *a)
{
    uint64_t v = stats_current.bg_interval;
    return ctl_read_only(a, &v, sizeof(v));
}

static const struct ctl_node stats_bg_nodes[] = {
    {"num_threads", NULL, 0, NULL, h_stats_bg_num_threads},
    {"num_runs", NULL, 0, NULL, h_stats_bg_num_runs},
    {"run_interval", NULL, 0, NULL, h_stats_bg_run_interval},
};

static bool stats_arena_index_ok(const size_t *mib, size_t depth, size_t i)
{
    (void)mib;
    (void)depth;
    if (i == MALLCTL_ARENAS_ALL)
        return true;
    return i < arena_total() && arenas[i] != NULL;
}

/* stats.arenas.<i>.* read the snapshot taken by the last epoch write. */
static void arena_sum(const struct ctl_args *a, struct arena_stats *out)
{
    stats_arena_snapshot((unsigned)a->mib[2], out, NULL);
}

#define ARENA_STAT(name, type, expr)                                                               \
    static int h_sa_##name(const struct ctl_args *a)                                               \
    {                                                                                              \
        struct arena_stats s;                                                                      \
        arena_sum(a, &s);                                                                          \
        type v = (type)(expr);                                                                     \
        return ctl_read_only(a, &v, sizeof(v));                                                    \
    }
ARENA_STAT(pactive, size_t, s.active_pages)
ARENA_STAT(pdirty, size_t, s.ndirty + s.huge_cached)
ARENA_STAT(pmuzzy, size_t, s.nmuzzy)
ARENA_STAT(mapped, size_t, s.mapped)
ARENA_STAT(retained, size_t, s.retained)
ARENA_STAT(thp_eligible, size_t, s.thp_eligible)
ARENA_STAT(npurge, uint64_t, s.npurge)
ARENA_STAT(nmadvise, uint64_t, s.nmadvise)
ARENA_STAT(purged, uint64_t, s.purged)
ARENA_STAT(large_allocated, size_t, s.large_allocated)
ARENA_STAT(large_nmalloc, uint64_t, s.large_nmalloc)
ARENA_STAT(large_ndalloc, uint64_t, s.large_ndalloc)
ARENA_STAT(large_nflushes, uint64_t, s.large_nflushes)

/* stats.arenas.<i>.uptime (uint64_t ns): since arena i was created; for
 * MALLCTL_ARENAS_ALL since arena 0 was, as jemalloc's merged value.
 * Read at the call, not at the last epoch (a clock, not a counter). */
static int h_sa_uptime(const struct ctl_args *a)
{
    size_t i = a->mib[2];
    struct arena *ar = arenas[i == MALLCTL_ARENAS_ALL ? 0 : i];
    uint64_t now = decay_now(), v = ar && now > ar->born_ns ? now - ar->born_ns : 0;
    return ctl_read_only(a, &v, sizeof(v));
}
static int h_sa_nthreads(const struct ctl_args *a)
{
    unsigned n = 0, total = arena_total();
    for (unsigned k = 0; k < total; k++)
        if (arenas[k] && (a->mib[2] == MALLCTL_ARENAS_ALL || a->mib[2] == k))
            n += arenas[k]->nthreads;
    return ctl_read_only(a, &n, sizeof(n));
}

static int sa_decay(const struct ctl_args *a, bool dirty)
{
    ssize_t v = -1;
    if (a->mib[2] != MALLCTL_ARENAS_ALL) {
        struct arena *ar = arenas[a->mib[2]];
        v = dirty ? ar->decay_dirty.ms : ar->decay_muzzy.ms;
    }
    return ctl_read_only(a, &v, sizeof(v));
}
static int h_sa_dirty_decay_ms(const struct ctl_args *a) { return sa_decay(a, true); }
static int h_sa_muzzy_decay_ms(const struct ctl_args *a) { return sa_decay(a, false); }

/* Sum per-class counters of the arena(s) named in the mib into out. */
static void bins_sum(size_t ai, struct bin_stats out[NSMALL])
{
    struct arena_stats unused;
    stats_arena_snapshot((unsigned)ai, &unused, out);
}

/* stats.arenas.<i>.small.*: sums over the classes. nrequests is nmalloc:
 * every small request takes a block off a page and counts there (a thread
 * heap's page is its cache: heap.h), so there are no cache hits to add. */
enum sa_small_what { SMALL_ALLOCATED, SMALL_NMALLOC, SMALL_NDALLOC, SMALL_NFILLS, SMALL_NFLUSHES };
static int h_sa_small(const struct ctl_args *a, enum sa_small_what what)
{
    struct bin_stats b[NSMALL];
    bins_sum(a->mib[2], b);
    uint64_t v[5] = {0};
    for (unsigned c = 0; c < NSMALL; c++) {
        v[SMALL_ALLOCATED] += b[c].curregs * sizeclass_size[c];
        v[SMALL_NMALLOC] += b[c].nmalloc;
        v[SMALL_NDALLOC] += b[c].ndalloc;
        v[SMALL_NFILLS] += b[c].nfills;
        v[SMALL_NFLUSHES] += b[c].nflushes;
    }
    if (what == SMALL_ALLOCATED) {
        size_t al = (size_t)v[SMALL_ALLOCATED];
        return ctl_read_only(a, &al, sizeof(al));
    }
    return ctl_read_only(a, &v[what], sizeof(v[what]));
}
static int h_sa_small_allocated(const struct ctl_args *a) { return h_sa_small(a, SMALL_ALLOCATED); }
static int h_sa_small_nmalloc(const struct ctl_args *a) { return h_sa_small(a, SMALL_NMALLOC); }
static int h_sa_small_ndalloc(const struct ctl_args *a) { return h_sa_small(a, SMALL_NDALLOC); }
static int h_sa_small_nfills(const struct ctl_args *a) { return h_sa_small(a, SMALL_NFILLS); }
static int h_sa_small_nflushes(const struct ctl_args *a) { return h_sa_small(a, SMALL_NFLUSHES); }

/* stats.arenas.<i>.bins.<j>.*: jemalloc's types (size_t for the current
 * counts, uint64_t for the cumulative ones). nrequests is nmalloc (see
 * small above); nslabs counts slab pages carved (cumulative, jemalloc's
 * meaning), curslabs those live, nonfull_slabs the live ones with a free
 * block. */
enum sa_bin_what {
    BIN_NMALLOC, BIN_NDALLOC, BIN_NREQUESTS, BIN_NFILLS, BIN_NFLUSHES, BIN_NSLABS, /* uint64_t */
    BIN_CURREGS, BIN_CURSLABS, BIN_NONFULL                                       /* size_t */
};
static int h_sa_bin(const struct ctl_args *a, enum sa_bin_what what)
{
    struct bin_stats b[NSMALL];
    bins_sum(a->mib[2], b);
    const struct bin_stats *s = &b[a->mib[4]];
    const uint64_t v[] = {s->nmalloc, s->ndalloc, s->nmalloc, s->nfills, s->nflushes, s->ncreated,
                          s->curregs, s->nslabs, s->nonfull};
    if (what >= BIN_CURREGS) {
        size_t z = (size_t)v[what];
        return ctl_read_only(a, &z, sizeof(z));
    }
    return ctl_read_only(a, &v[what], sizeof(v[what]));
}
static int h_sa_bin_nmalloc(const struct ctl_args *a) { return h_sa_bin(a, BIN_NMALLOC); }
static int h_sa_bin_ndalloc(const struct ctl_args *a) { return h_sa_bin(a, BIN_NDALLOC); }
static int h_sa_bin_nrequests(const struct ctl_args *a) { return h_sa_bin(a, BIN_NREQUESTS); }
static int h_sa_bin_nfills(const struct ctl_args *a) { return h_sa_bin(a, BIN_NFILLS); }
static int h_sa_bin_nflushes(const struct ctl_args *a) { return h_sa_bin(a, BIN_NFLUSHES); }
static int h_sa_bin_nslabs(const struct ctl_args *a) { return h_sa_bin(a, BIN_NSLABS); }
static int h_sa_bin_curregs(const struct ctl_args *a) { return h_sa_bin(a, BIN_CURREGS); }
static int h_sa_bin_curslabs(const struct ctl_args *a) { return h_sa_bin(a, BIN_CURSLABS); }
static int h_sa_bin_nonfull_slabs(const struct ctl_args *a) { return h_sa_bin(a, BIN_NONFULL); }

/* stats.arenas.<i>.lextents.<j>.*: large blocks of class j taken from and
 * given back to the arena(s) (uint64_t), and live (size_t), as of the last
 * epoch. Blocks in a thread's cache count as live, as in jemalloc. */
enum sa_lext_what { LEXT_NMALLOC, LEXT_NDALLOC, LEXT_CUR };
static int h_sa_lext(const struct ctl_args *a, enum sa_lext_what what)
{
    struct lextent_stats l[NLEXTENTS];
    stats_arena_lextents((unsigned)a->mib[2], l);
    const struct lextent_stats *s = &l[a->mib[4]];
    if (what == LEXT_CUR) {
        size_t v = s->nmalloc >= s->ndalloc ? (size_t)(s->nmalloc - s->ndalloc) : 0;
        return ctl_read_only(a, &v, sizeof(v));
    }
    uint64_t v = what == LEXT_NMALLOC ? s->nmalloc : s->ndalloc;
    return ctl_read_only(a, &v, sizeof(v));
}
static int h_sa_lext_nmalloc(const struct ctl_args *a) { return h_sa_lext(a, LEXT_NMALLOC); }
static int h_sa_lext_ndalloc(const struct ctl_args *a) { return h_sa_lext(a, LEXT_NDALLOC); }
static int h_sa_lext_cur(const struct ctl_args *a) { return h_sa_lext(a, LEXT_CUR); }

static const struct ctl_node sa_small_nodes[] = {
    {"allocated", NULL, 0, NULL, h_sa_small_allocated},
    {"nmalloc", NULL, 0, NULL, h_sa_small_nmalloc},
    {"ndalloc", NULL, 0, NULL, h_sa_small_ndalloc},
    {"nrequests", NULL, 0, NULL, h_sa_small_nmalloc},
    {"nfills", NULL, 0, NULL, h_sa_small_nfills},
    {"nflushes", NULL, 0, NULL, h_sa_small_nflushes},
};
static const struct ctl_node sa_large_nodes[] = {
    {"allocated", NULL, 0, NULL, h_sa_large_allocated},
    {"nmalloc", NULL, 0, NULL, h_sa_large_nmalloc},
    {"ndalloc", NULL, 0, NULL, h_sa_large_ndalloc},
    {"nflushes", NULL, 0, NULL, h_sa_large_nflushes},
};
static const struct ctl_node sa_bin_j_nodes[] = {
    {"nmalloc", NULL, 0, NULL, h_sa_bin_nmalloc},
    {"ndalloc", NULL, 0, NULL, h_sa_bin_ndalloc},
    {"curregs", NULL, 0, NULL, h_sa_bin_curregs},
    {"curslabs", NULL, 0, NULL, h_sa_bin_curslabs},
    {"nrequests", NULL, 0, NULL, h_sa_bin_nrequests},
    {"nfills", NULL, 0, NULL, h_sa_bin_nfills},
    {"nflushes", NULL, 0, NULL, h_sa_bin_nflushes},
    {"nslabs", NULL, 0, NULL, h_sa_bin_nslabs},
    {"nonfull_slabs", NULL, 0, NULL, h_sa_bin_nonfull_slabs},
};
static const struct ctl_node sa_bin_j_node = {NULL, sa_bin_j_nodes, N(sa_bin_j_nodes), bin_index_ok, NULL};
static const struct ctl_node sa_lext_j_nodes[] = {
    {"nmalloc", NULL, 0, NULL, h_sa_lext_nmalloc},
    {"ndalloc", NULL, 0, NULL, h_sa_lext_ndalloc},
    {"curlextents", NULL, 0, NULL, h_sa_lext_cur},
};
static const struct ctl_node sa_lext_j_node = {NULL, sa_lext_j_nodes, N(sa_lext_j_nodes),
                                               lextent_index_ok, NULL};
static const struct ctl_node stats_arena_i_nodes[] = {
    {"nthreads", NULL, 0, NULL, h_sa_nthreads},
    {"dirty_decay_ms", NULL, 0, NULL, h_sa_dirty_decay_ms},
    {"muzzy_decay_ms", NULL, 0, NULL, h_sa_muzzy_decay_ms},
    {"pactive", NULL, 0, NULL, h_sa_pactive},
    {"pdirty", NULL, 0, NULL, h_sa_pdirty},
    {"pmuzzy", NULL, 0, NULL, h_sa_pmuzzy},
    {"mapped", NULL, 0, NULL, h_sa_mapped},
    {"retained", NULL, 0, NULL, h_sa_retained},
    {"thp_eligible", NULL, 0, NULL, h_sa_thp_eligible},
    {"dirty_npurge", NULL, 0, NULL, h_sa_npurge},
    {"dirty_nmadvise", NULL, 0, NULL, h_sa_nmadvise},
    {"dirty_purged", NULL, 0, NULL, h_sa_purged},
    {"small", sa_small_nodes, N(sa_small_nodes), NULL, NULL},
    {"large", sa_large_nodes, N(sa_large_nodes), NULL, NULL},
    {"bins", &sa_bin_j_node, 1, NULL, NULL},
    {"lextents", &sa_lext_j_node, 1, NULL, NULL},
    {"uptime", NULL, 0, NULL, h_sa_uptime},
};
static const struct ctl_node stats_arena_i_node = {NULL, stats_arena_i_nodes, N(stats_arena_i_nodes),
                                                   stats_arena_index_ok, NULL};

static const struct ctl_node stats_nodes[] = {
    {"allocated", NULL, 0, NULL, h_stats_allocated},
    {"active", NULL, 0, NULL, h_stats_active},
    {"metadata", NULL, 0, NULL, h_stats_metadata},
    {"resident", NULL, 0, NULL, h_stats_resident},
    {"mapped", NULL, 0, NULL, h_stats_mapped},
    {"retained", NULL, 0, NULL, h_stats_retained},
    {"zero_reallocs", NULL, 0, NULL, h_stats_zero_reallocs},
    {"background_thread", stats_bg_nodes, N(stats_bg_nodes), NULL, NULL},
    {"arenas", &stats_arena_i_node, 1, NULL, NULL},
};

/* ---- background_thread ---- */

static int h_background_thread(const struct ctl_args *a)
{
    bool old = background_running(), nw = old;
    int err = ctl_write_bool(a, &nw);
    if (err)
        return err;
    if (a->newp)
        background_set(nw);
    return ctl_read(a, &old, sizeof(old));
}

/* max_background_threads (size_t, rw): the most background threads that
 * run; a write of 0 or above opt.max_background_threads is EINVAL, a wrong
 * size too. Running threads are restarted under the new maximum. (0 would
 * leave background_thread:true reading true with no thread to purge;
 * jemalloc divides by it and crashes.) */
static int h_max_background_threads(const struct ctl_args *a)
{
    size_t old = background_max(), nw = old;
    int err = ctl_write(a, &nw, sizeof(nw));
    if (err)
        return err;
    err = ctl_read(a, &old, sizeof(old));
    if (err)
        return err;
    if (a->newp)
        return background_set_max(nw);
    return 0;
}

/* NUMA: the node of an arena and of the calling thread (-1 when off). */
static int h_arena_numa_node(const struct ctl_args *a)
{
    size_t i = a->mib[1];
    struct arena *ar = all_arenas(i) || i == MALLCTL_ARENAS_DESTROYED ? NULL : arena_get((unsigned)i);
    if (!ar)
        return EFAULT;
    int v = ar->node;
    return ctl_read_only(a, &v, sizeof(v));
}

static int h_thread_numa_node(const struct ctl_args *a)
{
    int v = numa_current_node();
    return ctl_read_only(a, &v, sizeof(v));
}

static int h_arenas_numa_nodes(const struct ctl_args *a)
{
    unsigned v = numa_nodes();
    return ctl_read_only(a, &v, sizeof(v));
}

static const struct ctl_node experimental_nodes[] = {
    {"prof_recent", experimental_prof_recent_nodes, 2, NULL, NULL},
};

/* ---- root ---- */

/* debug.fault: fault injection into the os seam, for tests (fault.h). */
static const struct ctl_node debug_nodes[] = {
    {"fault", NULL, 0, NULL, fault_ctl},
};

static const struct ctl_node root_nodes[] = {
    {"version", NULL, 0, NULL, h_version},
    {"epoch", NULL, 0, NULL, h_epoch},
    {"background_thread", NULL, 0, NULL, h_background_thread},
    {"max_background_threads", NULL, 0, NULL, h_max_background_threads},
    {"config", config_nodes, N(config_nodes), NULL, NULL},
    {"opt", opt_nodes, N(opt_nodes), NULL, NULL},
    {"thread", thread_nodes, N(thread_nodes), NULL, NULL},
    {"tcache", tcache_nodes, N(tcache_nodes), NULL, NULL},
    {"arena", &arena_i_node, 1, NULL, NULL},
    {"arenas", arenas_nodes, N(arenas_nodes), NULL, NULL},
    {"stats", stats_nodes, N(stats_nodes), NULL, NULL},
    {"prof", prof_ctl_nodes, PROF_CTL_NNODES, NULL, NULL},
    {"experimental", experimental_nodes, 1, NULL, NULL},
    {"liballoc", liballoc_nodes, N(liballoc_nodes), NULL, NULL},
    {"debug", debug_nodes, N(debug_nodes), NULL, NULL},
};
static const struct ctl_node root = {"", root_nodes, N(root_nodes), NULL, NULL};

const struct ctl_node *ctl_root(void)
{
    return &root;
}

int ctl_name_to_mib(const struct ctl_node *top, const char *name, size_t *mib, size_t *depth,
                    const struct ctl_node **leaf)
{
    const struct ctl_node *node = top;
    size_t cap = *depth, d = 0;
    const char *p = name;
    if (!name || !*name)
        return ENOENT;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (d >= CTL_MAX_DEPTH)
            return ENOENT; /* too deep (checked first: never run a prefix's leaf) */
        if (d >= cap)
            break; /* capacity reached: a partial MIB, as jemalloc gives */
        if (node->children == NULL || len == 0)
            return ENOENT;
        const struct ctl_node *next = NULL;
        size_t idx = 0;
        if (node->children[0].name == NULL) {
            /* Indexed child: the component is a number. */
            char buf[32];
            if (len >= sizeof(buf))
                return ENOENT;
            memcpy(buf, p, len);
            buf[len] = 0;
            /* The caller's errno is put back: a successful mallctl leaves
             * it alone, as jemalloc's does. */
            char *end;
            int saved_errno = errno;
            errno = 0;
            uintmax_t v = strtoumax(buf, &end, 10);
            bool range = errno != 0;
            errno = saved_errno;
            if (range || *end || buf[0] < '0' || buf[0] > '9' || v > UINT32_MAX)
                return ENOENT;
            const struct ctl_node *tmpl = &node->children[0];
            if (!tmpl->index_ok(mib, d, (size_t)v))
                return ENOENT;
            idx = (size_t)v;
            next = tmpl;
        } else {
            for (size_t i = 0; i < node->nchildren; i++) {
                if (strlen(node->children[i].name) == len &&
                    memcmp(node->children[i].name, p, len) == 0) {
                    next = &node->children[i];
                    idx = i;
                    break;
                }
            }
            if (!next)
                return ENOENT;
        }
        mib[d++] = idx;
        node = next;
        p = dot ? dot + 1 : p + len;
        if (dot && !*p)
            return ENOENT;
    }
    *depth = d;
    *leaf = node;
    return 0;
}

int ctl_mib_to_node(const struct ctl_node *top, const size_t *mib, size_t miblen,
                    const struct ctl_node **out)
{
    const struct ctl_node *node = top;
    if (miblen == 0 || miblen > CTL_MAX_DEPTH)
        return ENOENT;
    for (size_t d = 0; d < miblen; d++) {
        if (!node->children)
            return ENOENT;
        if (node->children[0].name == NULL) {
            if (mib[d] > UINT32_MAX)
                return EFAULT;
            if (!node->children[0].index_ok(mib, d, mib[d]))
                return ENOENT;
            node = &node->children[0];
        } else {
            if (mib[d] >= node->nchildren)
                return ENOENT;
            node = &node->children[mib[d]];
        }
    }
    *out = node;
    return 0;
}

static int run_leaf(const struct ctl_node *node, const size_t *mib, size_t miblen, void *oldp,
                    size_t *oldlenp, void *newp, size_t newlen)
{
    if (!node->handler)
        return ENOENT;
    struct ctl_args a = {mib, miblen, oldp, oldlenp, newp, newlen};
    /* Handlers take allocator and profiler locks (purges, dumps, resets,
     * flushes): a signal handler's free meanwhile is deferred (defer.h).
     * mallctl answers through its return value: the caller's errno is put
     * back (a dump's file calls, a purge's madvise may set it). */
    int saved_errno = errno;
    defer_enter();
    int err = node->handler(&a);
    defer_leave();
    errno = saved_errno;
    return err;
}

ALLOC_EXPORT int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
{
    if (malloc_init() != 0)
        return EAGAIN;
    size_t mib[CTL_MAX_DEPTH], depth = CTL_MAX_DEPTH;
    const struct ctl_node *leaf;
    int err = ctl_name_to_mib(&root, name, mib, &depth, &leaf);
    if (err)
        return err;
    return run_leaf(leaf, mib, depth, oldp, oldlenp, newp, newlen);
}

ALLOC_EXPORT int mallctlnametomib(const char *name, size_t *mibp, size_t *miblenp)
{
    if (malloc_init() != 0)
        return EAGAIN;
    if (!mibp || !miblenp)
        return EINVAL;
    size_t mib[CTL_MAX_DEPTH], depth = *miblenp < CTL_MAX_DEPTH ? *miblenp : CTL_MAX_DEPTH;
    const struct ctl_node *leaf;
    int err = ctl_name_to_mib(&root, name, mib, &depth, &leaf);
    if (err)
        return err;
    memcpy(mibp, mib, depth * sizeof(size_t));
    *miblenp = depth;
    return 0;
}

ALLOC_EXPORT int mallctlbymib(const size_t *mib, size_t miblen, void *oldp, size_t *oldlenp,
                              void *newp, size_t newlen)
{
    if (malloc_init() != 0)
        return EAGAIN;
    if (!mib)
        return EINVAL;
    const struct ctl_node *node;
    int err = ctl_mib_to_node(&root, mib, miblen, &node);
    if (err)
        return err;
    return run_leaf(node, mib, miblen, oldp, oldlenp, newp, newlen);
}
