/*
 * malloc: the exported entry points (C, POSIX, glibc extras and jemalloc's
 * mallocx family, and the bodies of the hot C++ operators), lazy
 * initialisation and fork handling. The fast paths are malloc/free/calloc
 * for small sizes, realloc within a size class, operator new and the plain
 * and sized operator delete; everything else funnels into
 * heap_alloc_general and ralloc_span.
 *
 * Fast-path cost beyond heap.h's malloc and free, measured the same way
 * (scripts/fastpath_count.sh, gcc 12 -O2, x86-64; tests/apps/fastpath_count.sh
 * holds these within 3):
 *   realloc: 55 instructions for a small block kept in its class (free's
 *     page-map lookup and checks (heap_live_span), one class-table
 *     load, and 16 counting it as a free and an allocation of its size in
 *     thread.deallocated and thread.allocated, as jemalloc does, with every
 *     event threshold moved on by as much (heap_count_in_place: no new
 *     memory; counting it as new memory brought a decay tick every few
 *     calls, 10% more instructions on realloc_growth); 42 before it was
 *     counted, 183 when it looked the pointer up twice and checked it in
 *     three calls). mimalloc 2.0 takes 63 by the same measure;
 *   operator new: 26 instructions (malloc's 25 and a jump: alloc_new is
 *     malloc's fast path, the operator a jump to it (new_delete.cc, so a
 *     static link pulls in its new-handler code); 41 through a call to malloc);
 *   operator delete (sized): 39 instructions (free's 36, the size
 *     compare and a register move; 54 through sdallocx).
 */
#include "alloc.h"
#include "arena.h"
#include "ctl.h"
#include "base.h"
#include "heap.h"
#include "huge.h"
#include "malloc_entry.h"
#include "malloc_init.h"
#include "background.h"
#include "numa.h"
#include "options.h"
#include "os.h"
#include "osmap.h"
#include "process_malloc.h"
#include "prof_hooks.h"
#include "defer.h"
#include "rtree.h"
#include "sizeclass.h"
#include "stats.h"
#include "junk.h"
#include "misuse.h"
#include "pagemap.h"
#include "tcache.h"
#include "warn.h"

#include <dlfcn.h>
#include <link.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- initialisation ---- */

enum { INIT_NONE, INIT_DONE };
static _Atomic int init_state;
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread bool in_init __attribute__((tls_model("initial-exec")));

bool malloc_opt_tcache(void)
{
    return opt.tcache;
}

/* The forking thread holds every allocator lock from prefork to the
 * postfork handlers: a signal handler's free meanwhile is deferred. */
static void prefork(void)
{
    if (atomic_load(&init_state) != INIT_DONE)
        return;
    defer_enter();
    ctl_prefork();
    prof_prefork();
    heap_prefork();
    arena_prefork();
    stats_prefork();
    base_prefork();
    osmap_prefork();
}

static void postfork_parent(void)
{
    if (atomic_load(&init_state) != INIT_DONE)
        return;
    osmap_postfork_parent();
    base_postfork_parent();
    stats_postfork_parent();
    arena_postfork_parent();
    heap_postfork_parent();
    prof_postfork_parent();
    ctl_postfork_parent();
    defer_leave();
}

static void postfork_child(void)
{
    if (atomic_load(&init_state) != INIT_DONE)
        return;
    osmap_postfork_child();
    base_postfork_child();
    stats_postfork_child();
    arena_postfork_child();
    heap_postfork_child();
    prof_postfork_child();
    ctl_postfork_child();
    background_postfork_child();
    defer_leave();
}

static int malloc_init_hard(void)
{
    if (in_init)
        return EAGAIN;
    pthread_mutex_lock(&init_lock);
    if (atomic_load(&init_state) == INIT_DONE) {
        pthread_mutex_unlock(&init_lock);
        return 0;
    }
    /* Booting sets errno: the readlink of /etc/malloc.conf, usually
     * missing, fails with ENOENT, and the MALLOC_CONF parser clears it.
     * The caller's errno is put back, so the malloc that initialises
     * leaves it alone as any other does (jemalloc restores it after its
     * readlink too). */
    int saved_errno = errno;
    in_init = true;
    options_boot();
    background_boot();
    if (strcmp(opt.thp, "always") == 0)
        os_thp_mode = OS_THP_ALWAYS;
    else if (strcmp(opt.thp, "never") == 0)
        os_thp_mode = OS_THP_NEVER;
    os_thp_huge = opt.thp_huge;
    os_thp_huge_probe = opt.thp_huge_probe;
    sizeclass_init();
    junk_boot();
    misuse_boot();
    tcache_boot();
    arena_default_dirty_ms = opt.dirty_decay_ms;
    arena_default_muzzy_ms = opt.muzzy_decay_ms;
    /* One per CPU by default (jemalloc: 4 x CPUs); percpu_arena: one per
     * CPU, or narenas if more. Why fewer than jemalloc: a thread heap owns
     * its slab pages (heap.h) and takes its arena's lock once per page or
     * large block, not once per thread-cache fill as jemalloc's bins do,
     * so more arenas than CPUs buy little but keep freed pages apart, where
     * no other arena reuses them: at 8 threads on 2 CPUs, 4 x CPUs cost
     * 1.7x the peak RSS of bench/shapes/mstress (62 against 36 MB), 1.3x
     * on larson_like, 1.1x on rpmalloc_like, and no time. */
    unsigned narenas = numa_percpu_boot(opt.narenas, os_ncpus());
    opt.narenas = narenas; /* opt.narenas reports the effective count, as jemalloc does */
    int err = arena_boot(narenas);
    if (!err)
        err = heap_boot();
    if (!err) {
        pthread_atfork(prefork, postfork_parent, postfork_child);
        err = prof_boot();
    }
    if (!err) {
        atomic_store(&init_state, INIT_DONE);
        if (opt.stats_print) /* stats.c's code stays cold (unmapped) without it */
            stats_boot();
    }
    in_init = false;
    pthread_mutex_unlock(&init_lock);
    errno = saved_errno;
    return err;
}

int malloc_init(void)
{
    if (likely(atomic_load_explicit(&init_state, memory_order_acquire) == INIT_DONE))
        return 0;
    return malloc_init_hard();
}

/* This object's dynamic section (the linker defines it in every shared
 * object and PIE). */
extern ElfW(Dyn) _DYNAMIC[] __attribute__((weak, visibility("hidden")));

/* Once loaded, the allocator stays: blocks it handed out may still be live,
 * its thread-exit key destructor, fork handlers and background thread point
 * into its code, and threads that used it still hold heaps. liballoc.so is
 * linked with -z nodelete; this pins whichever object the code was linked
 * into (liballoc.a inside a plugin too), so dlclose of a plugin never unmaps
 * it. Called from the constructor: dlopen is allowed there, and never from
 * inside malloc. */
static void pin_loaded_object(void)
{
    /* Nothing to do in an object linked with -z nodelete, as liballoc.so
     * is (liballoc.mk): its dynamic section says so. That skips dladdr and
     * dlopen, whose libc code a process would otherwise map for this alone
     * (tests/apps/startup_rss.sh). A static executable has no _DYNAMIC. */
    if (_DYNAMIC) {
        for (const ElfW(Dyn) *d = _DYNAMIC; d->d_tag != DT_NULL; d++)
            if (d->d_tag == DT_FLAGS_1 && (d->d_un.d_val & DF_1_NODELETE))
                return;
    }
    Dl_info info;
    if (dladdr((void *)pin_loaded_object, &info) == 0 || !info.dli_fname || !info.dli_fname[0])
        return;
    /* RTLD_NOLOAD: only flags the object already mapped (NULL for the main
     * program, which is never unloaded anyway). The reference is kept. */
    (void)dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
}

/* liballoc.so's DT_FINI (liballoc.mk links it with -fini=alloc_fini),
 * which the dynamic loader calls at exit, in place of the C runtime's _fini:
 * an empty frame in .fini, a section the linker puts after all the code, so
 * calling it mapped the cold code's last 64 KiB fault-around window into
 * every exiting process (tests/apps/startup_rss.sh). Nothing to do: the
 * library has no destructor, and .fini_array's entries still run. */
void alloc_fini(void);
void alloc_fini(void) {}

/* Initialise before main even if nothing allocates, so MALLOC_CONF errors show early. */
__attribute__((constructor)) static void malloc_constructor(void)
{
    /* C11 7.5p3: errno is zero at program startup; what booting,
     * pinning and loading libnuma leave in it must not reach main. */
    int saved_errno = errno;
    int err = malloc_init();
    /* Outside malloc: pinning and loading libnuma may allocate (never
     * sampled: those allocations are ours, not the program's). */
    struct heap *h = err == 0 ? heap_get() : NULL;
    bool was = h ? prof_suspend(h, true) : false;
    pin_loaded_object();
    process_malloc_boot();
    if (err == 0) {
        numa_boot();
        prof_boot_late(); /* threads: never under the init lock */
    }
    if (h)
        prof_suspend(h, was);
    errno = saved_errno;
}

/* ---- helpers ---- */

/* The span of the live block p, or NULL after reporting "who(): ..." with
 * p's address when p is not one (freed, interior, wild; misuse.h). One
 * page-map lookup for a small block, a radix-tree lookup for the rest
 * (heap.h). */
static inline struct span *span_checked(const void *p, const char *who)
{
    return heap_live_span((void *)p, who);
}

/* Debug builds: canary after the requested size of small block p (misuse.h). */
static inline void *canary_set(void *p, size_t size)
{
    if (config_debug && p && size <= SMALL_MAX)
        misuse_canary_set(p, size);
    return p;
}

static size_t span_usable(const struct span *s)
{
    return s->kind == SPAN_SLAB ? s->block_size : s->usize;
}

struct xflags {
    size_t align;
    bool zero;
    bool no_tcache;
    struct arena *arena;
    bool bad_arena;
    int tcache;          /* explicit tcache id (MALLOCX_TCACHE(id)), -1 if none */
    bool canary;         /* debug builds: a canary after the new size (realloc);
                            rallocx puts none (its caller may use the whole
                            nallocx size, docs/misuse.md) */
};

static struct xflags decode_flags(int flags)
{
    struct xflags x = {0};
    if (flags & 0x3f)
        x.align = (size_t)1 << (flags & 0x3f);
    x.zero = (flags & MALLOCX_ZERO) != 0;
    unsigned tc = ((unsigned)flags >> 8) & 0xfff;
    x.no_tcache = tc == 1;
    x.tcache = tc >= 2 ? (int)tc - 2 : -1;
    unsigned ar = ((unsigned)flags >> 20) & 0xfff;
    if (ar) {
        if (malloc_init() == 0)
            x.arena = arena_get(ar - 1);
        x.bad_arena = x.arena == NULL;
    }
    return x;
}

/* Resize the large or huge block p of span s in place to new_usize bytes
 * for a request of size bytes (a huge block only without an explicit
 * arena): true on success. A
 * resized block is a free of the old one and a new allocation for the
 * profiler: the old sample goes here, the new size may be sampled by the
 * caller. The arena's and the profiler's locks are taken inside a
 * defer_enter section; a reentrant call (a signal handler's realloc while
 * this thread is inside a slow path, defer.h) never resizes, so the block
 * moves and its free is deferred. */
static bool resize_in_place(struct span *s, void *p, size_t size, size_t new_usize, bool zero,
                            bool arena)
{
    if (unlikely(defer_busy()))
        return false;
    bool ok = false;
    defer_enter();
    if (s->kind == SPAN_LARGE && new_usize > SMALL_MAX && new_usize < HUGE_MIN)
        ok = arena_large_resize(s, new_usize, zero);
    else if (s->kind == SPAN_HUGE && new_usize >= HUGE_MIN && !arena)
        ok = huge_resize_in_place(s, size, new_usize, zero);
    if (ok && span_maybe_sampled(s, (uintptr_t)p))
        prof_free_check(s, p);
    defer_leave();
    return ok;
}

/* Block p (requested size bytes) was resized in place from old to
 * new_usize usable bytes: for the calling thread's counters a free of old
 * and an allocation of new_usize, whose event may sample it (its old sample
 * went in resize_in_place). A thread with no heap yet gets one, so the new
 * size can be sampled. Returns the block, which heap_event may have
 * relocated (a small sample only). */
static void *count_resize(void *p, size_t size, size_t old, size_t new_usize)
{
    struct heap *h = heap_get();
    if (h) {
        h->deallocated += old;
        h->allocated += new_usize;
        if (unlikely(h->allocated >= h->next_event))
            return heap_event(size, h, p, new_usize);
    } else {
        stats_note_orphan_free(old);
        stats_note_orphan_alloc(new_usize);
    }
    return p;
}

/* Realloc core for the live block p of span s (span_checked's answer): keep
 * the block in place when the class allows, else move. x: the flags (align,
 * zero, no_tcache, arena, tcache). Few enough arguments for a tail call. */
static NOINLINE void *ralloc_span(void *p, struct span *s, size_t size, const struct xflags *x)
{
    bool canary = x->canary;
    size_t align = x->align;
    bool zero = x->zero, no_tcache = x->no_tcache;
    struct arena *arena = x->arena;
    int tc = x->tcache;
    struct heap *h = heap_tls;
    size_t old = span_usable(s);
    size_t new_usize;
    if (likely(align == 0 && size <= SMALL_MAX)) {
        /* The common request (realloc): its class in one table load. */
        new_usize = sizeclass_size[sizeclass_small_index(size)];
    } else {
        new_usize = sizeclass_usize_aligned(size, align);
        if (unlikely(new_usize == 0 || new_usize < size)) {
            errno = ENOMEM;
            return NULL;
        }
    }
    if (align <= MIN_ALIGN || ((uintptr_t)p & (align - 1)) == 0) {
        /* Same usable size: nothing to do and no lock to take (strings grown
         * a few bytes at a time stay in their class for many calls). A huge
         * block asked into an explicit arena moves (below). */
        if (new_usize == old && (s->kind != SPAN_HUGE || !arena)) {
            /* the canary moves to the new requested size (debug builds) */
            if (config_debug && canary && s->kind == SPAN_SLAB)
                canary_set(p, size);
            /* Counted as jemalloc counts it, as no new memory (heap.h). */
            struct heap *hh = heap_tls;
            if (unlikely(hh == &heap_empty) && !(hh = heap_get()))
                return p;
            heap_count_in_place(hh, old);
            return p;
        }
        bool in_place = false;
        void *q = p;
        /* junk:free fills the tail a shrink gives up before another thread
         * can get it; junk:alloc fills a grown part afterwards. A small
         * block here changes class (or moves, above): never in place. */
        if (s->kind != SPAN_SLAB && new_usize < old)
            junk_on_free((char *)p + new_usize, old - new_usize);
        if (s->kind != SPAN_SLAB)
            in_place = resize_in_place(s, p, size, new_usize, zero, arena != NULL);
        if (in_place && !zero && new_usize > old)
            junk_on_alloc((char *)p + old, new_usize - old);
        if (in_place && config_debug && canary)
            canary_set(q, size);
        if (in_place)
            return count_resize(q, size, old, new_usize);
    }
    void *q;
    if (tc >= 0 && !arena)
        q = tcache_alloc((unsigned)tc, size, align, zero);
    else if (align == 0 && !zero && !no_tcache && !arena)
        q = alloc_malloc(size); /* plain realloc: malloc's fast path */
    else
        q = heap_alloc_general(h, size, align, zero, no_tcache, arena);
    if (unlikely(!q))
        return NULL;
    memcpy(q, p, old < size ? old : size);
    if (config_debug && canary)
        canary_set(q, size);
    else if (config_debug)
        misuse_canary_drop(q); /* malloc's fast path (above) gave it one */
    if (tc >= 0 && tcache_dalloc((unsigned)tc, p))
        return q;
    /* p was found live above and nothing freed it since (this thread owns
     * it): free it without a second lookup and check. */
    if (config_debug)
        misuse_canary_check(p, "free");
    heap_free_live(heap_tls, p, s);
    return q;
}

/* Flags of a plain realloc: none, no explicit tcache, a canary (debug). */
static const struct xflags xflags_none = {.tcache = -1, .canary = true};

/* Realloc of p (not NULL) to size bytes (not 0) with flags x; func names
 * the entry point in a misuse report. */
static void *ralloc(void *p, size_t size, const struct xflags *x, const char *func)
{
    struct span *s = span_checked(p, func);
    if (unlikely(s == NULL)) {
        /* Reported; p is left alone and the caller sees a failure. */
        errno = EINVAL;
        return NULL;
    }
    return ralloc_span(p, s, size, x);
}

/* realloc(p, 0) with p not NULL, as opt.zero_realloc says: "free" (the
 * default, as jemalloc) frees p and returns NULL; "alloc" resizes to a
 * minimal block; "abort" aborts. */
static NOINLINE void *realloc_zero(void *p)
{
    stats_note_zero_realloc();
    if (strcmp(opt.zero_realloc, "alloc") == 0)
        return ralloc(p, 1, &xflags_none, "realloc");
    if (strcmp(opt.zero_realloc, "abort") == 0) {
        alloc_write_err("<jemalloc>: realloc(p, 0) called with p != NULL and zero_realloc:abort\n");
        abort();
    }
    /* The process allocator's block (liballoc loaded by a plugin) goes to
     * its realloc. A freed, interior or foreign p is reported as realloc's,
     * with EINVAL, as realloc(p, n) reports it (docs/misuse.md); a live one
     * is freed without a second lookup, as realloc's move frees. */
    if (process_malloc_owns(p))
        return process_malloc_realloc(p, 0);
    struct span *s = span_checked(p, "realloc");
    if (unlikely(s == NULL)) {
        errno = EINVAL;
        return NULL;
    }
    if (config_debug)
        misuse_canary_check(p, "realloc");
    heap_free_live(heap_tls, p, s);
    return NULL;
}

/* ---- C and POSIX ---- */

ALWAYS_INLINE void *malloc_body(size_t size)
{
    struct heap *h = heap_tls;
    if (config_debug)
        return canary_set(size <= SMALL_MAX ? heap_alloc_small(h, size)
                                            : heap_alloc_general(h, size, 0, false, false, NULL),
                          size);
    /* Two calls of the same inline path: in each gcc knows which side of
     * HEAP_DIRECT_MAX size is, so the common sizes pay one compare. */
    if (likely(size <= HEAP_DIRECT_MAX))
        return heap_alloc_small(h, size);
    if (likely(size <= SMALL_MAX))
        return heap_alloc_small(h, size);
    return heap_alloc_large(size, h);
}

ALLOC_EXPORT void *malloc(size_t size)
{
    return malloc_body(size);
}

static void sized_free_slow(void *p, size_t size, int flags) NOINLINE;

/* free and the sized free's common path. sized (a constant) adds one
 * compare: a size larger than p's block is a caller's bug (C++ delete
 * through a pointer to the wrong type, a wrong sdallocx size), reported by
 * sized_free_slow. */
ALWAYS_INLINE void free_impl(void *p, size_t size, bool sized)
{
    if (config_debug && p)
        misuse_canary_check(p, "free");
    struct heap *h = heap_tls;
    struct span *s = pagemap_get((uintptr_t)p);
    if (likely(s != NULL)) {
        uintptr_t tag = atomic_load_explicit(&s->owner_tag, memory_order_relaxed);
        /* Ours, and either no sampled block on the page or p is not one of them. */
        if (likely(tag == (uintptr_t)h) ||
            (tag == ((uintptr_t)h | SPAN_TAG_SAMPLED) && !span_maybe_sampled(s, (uintptr_t)p))) {
            /* Misuse checks (misuse.h): p is a block boundary inside s (a
             * stale span of a large run fails here too) and its second word
             * is not the free mark. Any doubt goes to the slow path, which
             * reports. */
            uintptr_t *mark = (uintptr_t *)p + 1;
            uintptr_t m = misuse_mark_of(p);
            if (unlikely(!misuse_slab_block_ok(s, p) || (config_misuse && *mark == m)))
                goto slow_span;
            if (config_misuse && sized && unlikely(size > s->block_size))
                goto slow_span;
            if (config_misuse)
                *mark = m;
            *(uintptr_t *)p = misuse_link_encode(s->free, h->link_key, h->link_mul);
            s->free = p;
            h->deallocated += s->block_size;
            /* An empty page goes back to the arena unless it is the current
             * one, a tail call (the fast path needs no stack frame). Frees
             * drive decay from there: the free-side tick (free_next) is
             * checked when a page retires and on the other slow paths, not
             * at every free. Only a page going back to its arena (or a large
             * block, always on a slow path) gives decay anything new to
             * purge, and a thread that only frees (an expiry wave) empties
             * pages as it goes (tests/integration/free_wave). */
            if (unlikely(span_count_free(s)) && h->pages[s->cls] != s)
                heap_page_retire_event(h, s);
            return;
        }
        /* Not our unsampled page's block (a large block's span: its tag
         * is 0), or a check failed: the slow path starts from the span
         * found (no second lookup). */
    slow_span:
        if (sized) {
            sized_free_slow(p, size, 0);
            return;
        }
        heap_free_span_slow(p, h, s);
        return;
    }
    /* Neither a slab page nor a large block's first page: another page of
     * a large block, a huge block, or not ours. */
    if (sized) {
        sized_free_slow(p, size, 0);
        return;
    }
    uintptr_t e = rtree_get((uintptr_t)p);
    if (rtree_is_chunk(e)) {
        heap_free_span_slow(p, h, rtree_chunk_span(e, (uintptr_t)p));
        return;
    }
    heap_free_slow(p, h, e);
}

ALLOC_EXPORT void free(void *p)
{
    free_impl(p, 0, false);
}
/* The exported free's own address (process_malloc.c compares the
 * process's free with it). */
extern __typeof(free) alloc_exported_free __attribute__((alias("free"), visibility("hidden")));

/* The library's own malloc and free (malloc_entry.h): copies of the public
 * functions at their own addresses, not aliases. Valgrind's memcheck (3.19)
 * replaces malloc, free and the rest of the family in every loaded object
 * (its "*" soname rule), by address: through an alias, dallocx, rallocx
 * and the explicit tcaches would hand our blocks to valgrind's free, or
 * take valgrind's blocks, as the program's malloc and free rightly go
 * there. No ICF: gcc would fold a copy back into an alias. */
#if defined(__GNUC__) && !defined(__clang__)
#define NO_ICF __attribute__((no_icf))
#else
#define NO_ICF
#endif
NO_ICF void *alloc_malloc(size_t size)
{
    return malloc_body(size);
}

NO_ICF void alloc_free(void *p)
{
    free_impl(p, 0, false);
}

ALLOC_EXPORT void *calloc(size_t n, size_t size)
{
    size_t total;
    if (unlikely(__builtin_mul_overflow(n, size, &total))) {
        errno = ENOMEM;
        return NULL;
    }
    struct heap *h = heap_tls;
    if (likely(total <= SMALL_MAX)) {
        void *p = heap_alloc_small(h, total);
        if (likely(p != NULL))
            memset(p, 0, total);
        return canary_set(p, total);
    }
    return heap_alloc_general(h, total, 0, true, false, NULL);
}

/* realloc of p, which the page map did not show as a live small block:
 * a live large or huge block (or a small one on a page the page map could
 * not record) goes on to ralloc_span; anything else is reported and fails
 * with EINVAL, p left alone. */
static NOINLINE void *realloc_not_small(void *p, size_t size)
{
    uintptr_t e = rtree_get((uintptr_t)p);
    if (e == 0 && process_malloc_active()) /* the process allocator's block */
        return process_malloc_realloc(p, size);
    struct span *s = heap_live_span_slow(p, e, "realloc");
    if (unlikely(s == NULL)) {
        errno = EINVAL;
        return NULL;
    }
    return ralloc_span(p, s, size, &xflags_none);
}

/* The common realloc, a small block staying in its class (a string grown a
 * few bytes at a time), costs free's page-map lookup and checks and one
 * table load, and no stack frame: every other case is a tail call
 * (ralloc_span with the span found, realloc_not_small to ask the radix
 * tree). */
ALLOC_EXPORT void *realloc(void *p, size_t size)
{
    if (unlikely(p == NULL))
        return alloc_malloc(size);
    if (unlikely(size == 0))
        return realloc_zero(p);
    struct span *s = heap_live_small(p);
    if (unlikely(s == NULL))
        return realloc_not_small(p, size);
    if (likely(size <= SMALL_MAX) && sizeclass_size[sizeclass_small_index(size)] == s->block_size) {
        /* Counted as a free and an allocation of the block's size, as
         * jemalloc counts it (thread.allocated, .deallocated), as no new
         * memory (heap.h); a thread with no heap yet: ralloc_span. */
        struct heap *h = heap_tls;
        if (likely(h != &heap_empty)) {
            heap_count_in_place_inline(h, s->block_size);
            if (config_debug)
                canary_set(p, size); /* the canary moves to the new size */
            return p;
        }
    }
    return ralloc_span(p, s, size, &xflags_none);
}

ALLOC_EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return alloc_realloc(p, total);
}

/* A miss of a fast path whose caller goes another way then. */
static void *small_miss_none(size_t size, struct heap *h)
{
    (void)size;
    (void)h;
    return NULL;
}

static void *aligned(size_t align, size_t size)
{
    if (align <= MIN_ALIGN && size <= SMALL_MAX)
        return canary_set(heap_alloc_small(heap_tls, align > 8 && size < MIN_ALIGN ? MIN_ALIGN : size),
                          size);
    /* A small class whose size is a multiple of align has every block
     * aligned (its slabs start aligned: sizeclass_slab_align): malloc's
     * fast path for that class (sizeclass_usize_aligned picks it), a
     * sample recording the program's size; a miss goes the general way. */
    if (align <= SMALL_MAX && size <= SMALL_MAX) {
        size_t usize = sizeclass_usize_aligned(size, align);
        void *p;
        if (usize <= SMALL_MAX && (p = heap_alloc_small_or(heap_tls, usize, size, small_miss_none)))
            return canary_set(p, size);
    }
    return canary_set(heap_alloc_general(heap_tls, size, align, false, false, NULL), size);
}

ALLOC_EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
    if (align < sizeof(void *) || (align & (align - 1)) != 0)
        return EINVAL;
    int saved = errno;
    void *p = aligned(align, size);
    errno = saved;
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

ALLOC_EXPORT void *aligned_alloc(size_t align, size_t size)
{
    if (align == 0 || (align & (align - 1)) != 0) {
        errno = EINVAL;
        return NULL;
    }
    return aligned(align, size);
}

ALLOC_EXPORT void *memalign(size_t align, size_t size)
{
    if (align & (align - 1)) {
        /* glibc rounds a non-power-of-two alignment up. */
        if (align > ((size_t)1 << 62)) {
            errno = EINVAL;
            return NULL;
        }
        align = (size_t)1 << (64 - __builtin_clzl(align));
    }
    return aligned(align, size);
}

ALLOC_EXPORT void *valloc(size_t size)
{
    return aligned(PAGE, size);
}

ALLOC_EXPORT void *pvalloc(size_t size)
{
    size_t rounded = ALIGN_UP(size ? size : 1, PAGE);
    if (rounded < size) {
        errno = ENOMEM;
        return NULL;
    }
    return aligned(PAGE, rounded);
}

ALLOC_EXPORT size_t malloc_usable_size(void *p)
{
    if (!p)
        return 0;
    /* heap_live_span's two steps, with the process allocator's blocks
     * between them (as realloc_not_small): one lookup each. */
    struct span *s = heap_live_small(p);
    if (unlikely(s == NULL)) {
        uintptr_t e = rtree_get((uintptr_t)p);
        if (e == 0 && process_malloc_active()) /* the process allocator's block */
            return process_malloc_usable_size(p);
        s = heap_live_span_slow(p, e, "malloc_usable_size");
    }
    if (config_debug && s)
        misuse_canary_drop(p);
    return s ? span_usable(s) : 0;
}

/* ---- jemalloc's non-standard API ---- */

ALLOC_EXPORT void *mallocx(size_t size, int flags)
{
    if (likely(flags == 0 && size <= SMALL_MAX))
        return heap_alloc_small(heap_tls, size);
    struct xflags x = decode_flags(flags);
    if (x.bad_arena)
        return NULL;
    if (x.tcache >= 0 && !x.arena)
        return tcache_alloc((unsigned)x.tcache, size, x.align, x.zero || opt.zero);
    return heap_alloc_general(heap_tls, size, x.align, x.zero || opt.zero, x.no_tcache, x.arena);
}

ALLOC_EXPORT void *rallocx(void *p, size_t size, int flags)
{
    struct xflags x = decode_flags(flags);
    if (x.bad_arena)
        return NULL;
    if (size == 0)
        size = 1;
    return ralloc(p, size, &x, "rallocx");
}

ALLOC_EXPORT size_t xallocx(void *p, size_t size, size_t extra, int flags)
{
    struct xflags x = decode_flags(flags);
    struct span *s = span_checked(p, "xallocx");
    if (unlikely(s == NULL))
        return 0;
    if (config_debug)
        misuse_canary_drop(p);
    size_t old = span_usable(s);
    if (size == 0)
        size = 1;
    size_t want = size + extra < size || size + extra > SIZE_LIMIT ? SIZE_LIMIT : size + extra;
    if (size > SIZE_LIMIT)
        return old;
    if (s->kind == SPAN_SLAB)
        return old;
    /* MALLOCX_ALIGN: a block not on that boundary cannot be resized into
     * it in place (jemalloc leaves it alone too). */
    if (x.align > MIN_ALIGN && ((uintptr_t)p & (x.align - 1)) != 0)
        return old;
    size_t targets[2] = {sizeclass_usize(want), sizeclass_usize(size)};
    for (int i = 0; i < 2; i++) {
        size_t u = targets[i];
        if (u == old)
            return old;
        /* The block could not grow to size + extra and already holds size:
         * it stays (jemalloc 5.3's large_ralloc_no_move), never shrunk to
         * size's class. */
        if (i == 1 && old >= u && old <= targets[0])
            return old;
        bool ok = false, fits = false;
        if (s->kind == SPAN_LARGE && u > SMALL_MAX && u < HUGE_MIN)
            fits = true;
        else if (s->kind == SPAN_HUGE && u >= HUGE_MIN)
            fits = true;
        if (!fits)
            continue;
        /* junk:free fills a tail given up before another thread can reuse it
         * (a failed shrink, which needs a descriptor, leaves it filled). */
        if (u < old)
            junk_on_free((char *)p + u, old - u);
        if (unlikely(defer_busy()))
            break; /* reentrant (defer.h): the resize's lock may be ours; not resized */
        /* As realloc's resize in place: the old block's sample (if any)
         * goes, and the thread's counters see a free of the old size and
         * an allocation of the new one, which may be sampled (jemalloc's
         * xallocx does the same). */
        ok = resize_in_place(s, p, want < u ? want : u, u, x.zero, false);
        if (ok) {
            if (u > old && !x.zero)
                junk_on_alloc((char *)p + old, u - old);
            void *q = count_resize(p, size, old, u);
            /* Only small samples are relocated: a large block stays. */
            DASSERT(q == p);
            (void)q;
            return u;
        }
    }
    return span_usable(s);
}

ALLOC_EXPORT size_t sallocx(const void *p, int flags)
{
    (void)flags;
    struct span *s = span_checked(p, "sallocx");
    if (config_debug && s)
        misuse_canary_drop((void *)p);
    return s ? span_usable(s) : 0;
}

/* Free through an explicit tcache when the flags name one (tcache.h). */
static void dalloc_flags(void *p, int flags)
{
    unsigned tc = ((unsigned)flags >> 8) & 0xfff;
    if (tc >= 2 && tcache_dalloc(tc - 2, p))
        return;
    alloc_free(p);
}

ALLOC_EXPORT void dallocx(void *p, int flags)
{
    dalloc_flags(p, flags);
}

/* The sized free's checks off the fast path: p must be a live block and
 * size must fit it (reported and ignored otherwise: misuse.h). */
static void sized_free_slow(void *p, size_t size, int flags)
{
    if (p == NULL)
        return;
    if (process_malloc_owns(p)) { /* the process allocator's block */
        process_malloc_free(p);
        return;
    }
    struct span *s = span_checked(p, "sdallocx");
    if (!s)
        return; /* reported and ignored */
    if (size > span_usable(s)) {
        misuse_report("sdallocx", "size larger than the block (sized deallocation mismatch):", p);
        return;
    }
    dalloc_flags(p, flags);
}

/* The sized free. In this design the size cannot save work: free must find
 * the block's page anyway (the page holds the free list and the owner that
 * decides local or remote free), and that lookup also yields the size, so a
 * small size could only skip the huge-block test, which a caller passing a
 * wrong size would turn into a wild read. So sdallocx is free plus one
 * compare: a size larger than the block (C++ delete through a pointer to a
 * larger type, a wrong size) is reported with the address and the call
 * ignored (abort under opt.abort). A size smaller than requested is not
 * caught (xallocx may have grown the block since). jemalloc leaves both
 * undefined. */
ALLOC_EXPORT void sdallocx(void *p, size_t size, int flags)
{
    if (likely(flags == 0) && !config_debug) {
        free_impl(p, size, true);
        return;
    }
    sized_free_slow(p, size, flags);
}

/* ---- C++: the hot operators' bodies ----
 * operator new(size_t) / new[](size_t) tail-call alloc_new, and the plain
 * and sized operator delete forms below are this file's own functions
 * (mangled names, exported by liballoc.map), so C++ code gets malloc's and
 * free's inline fast paths with no extra call layer. Their semantics are
 * new_delete.cc's (the other forms live there). */

extern __typeof(alloc_new_fail) alloc_new_fail __attribute__((weak));

/* A miss of operator new's fast path: malloc's slow path, then the
 * new-handler loop if that fails. */
static NOINLINE void *new_small_miss(size_t size, struct heap *h)
{
    void *p = heap_alloc_small_slow(size, h);
    if (likely(p != NULL))
        return p;
    return alloc_new_fail(size);
}

static NOINLINE void *new_general(size_t size)
{
    void *p = alloc_malloc(size);
    if (likely(p != NULL))
        return p;
    return alloc_new_fail(size);
}

void *alloc_new(size_t size)
{
    if (!config_debug && likely(size <= HEAP_DIRECT_MAX)) /* one compare: as malloc */
        return heap_alloc_small_or(heap_tls, size, size, new_small_miss);
    if (!config_debug && likely(size <= SMALL_MAX))
        return heap_alloc_small_or(heap_tls, size, size, new_small_miss);
    return new_general(size); /* debug builds: malloc's canaries */
}

/* operator delete(void *, size_t) and delete[](void *, size_t): sdallocx
 * with no flags. */
ALWAYS_INLINE void sized_delete(void *p, size_t size)
{
    if (config_debug) {
        sized_free_slow(p, size, 0);
        return;
    }
    free_impl(p, size, true);
}

/* operator delete(void *), delete[](void *): free; operator delete(void *,
 * size_t), delete[](void *, size_t): sized_delete. Each at its own address,
 * not an alias of free or of each other: valgrind's memcheck names a
 * replaced function by its address, and with one address for free, delete
 * and delete[] it reported every delete of a new'd block as "Mismatched
 * free() / delete / delete []" (hundreds of thousands in a C++ program).
 * No ICF, as alloc_free (above). */
NO_ICF ALLOC_EXPORT void _ZdlPv(void *p)
{
    free_impl(p, 0, false);
}
NO_ICF ALLOC_EXPORT void _ZdaPv(void *p)
{
    free_impl(p, 0, false);
}
NO_ICF ALLOC_EXPORT void _ZdlPvm(void *p, size_t size)
{
    sized_delete(p, size);
}
NO_ICF ALLOC_EXPORT void _ZdaPvm(void *p, size_t size)
{
    sized_delete(p, size);
}

ALLOC_EXPORT size_t nallocx(size_t size, int flags)
{
    if (malloc_init() != 0)
        return 0;
    struct xflags x = decode_flags(flags);
    size_t u = sizeclass_usize_aligned(size, x.align);
    return u < size ? 0 : u;
}

/* glibc-internal aliases some programs and libraries call directly. */
ALLOC_EXPORT void *__libc_malloc(size_t size) __attribute__((alias("malloc")));
ALLOC_EXPORT void __libc_free(void *p) __attribute__((alias("free")));
ALLOC_EXPORT void *__libc_calloc(size_t n, size_t s) __attribute__((alias("calloc")));
ALLOC_EXPORT void *__libc_realloc(void *p, size_t s) __attribute__((alias("realloc")));
ALLOC_EXPORT void *__libc_memalign(size_t a, size_t s) __attribute__((alias("memalign")));
/* glibc exports these two as well (GLIBC_2.2.5); jemalloc 5.3 overrides
 * __libc_valloc where libc has it. Left to glibc, their blocks would come
 * from glibc's heap and our free would refuse them as foreign. */
ALLOC_EXPORT void *__libc_valloc(size_t s) __attribute__((alias("valloc")));
ALLOC_EXPORT void *__libc_pvalloc(size_t s) __attribute__((alias("pvalloc")));
ALLOC_EXPORT void cfree(void *p) __attribute__((alias("free")));

/* Hidden internal names of the entry points (malloc_entry.h): the same code,
 * bound inside the library by the static and the dynamic linker, whatever
 * comes first in the process's symbol search order. */
#define ALLOC_INTERNAL(name) extern __typeof(name) alloc_##name __attribute__((alias(#name), visibility("hidden")))
ALLOC_INTERNAL(calloc);
ALLOC_INTERNAL(realloc);
ALLOC_INTERNAL(posix_memalign);
ALLOC_INTERNAL(mallocx);
ALLOC_INTERNAL(dallocx);
ALLOC_INTERNAL(sdallocx);
ALLOC_INTERNAL(sallocx);
