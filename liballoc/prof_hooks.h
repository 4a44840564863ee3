/*
 * prof_hooks: the one seam between the allocator (liballoc) and the
 * profiler (libprof), in both directions. libprof includes no liballoc
 * header but this one (and options.h, the parsed MALLOC_CONF, read-only
 * after boot); liballoc includes no libprof header at all: it knows the
 * profiler only by the hooks declared here. tests/apps/layering.sh fails
 * the build's tests when an #include breaks that rule.
 *
 * struct heap (a thread's allocator state) and struct span (a run of pages)
 * are opaque to the profiler: it holds pointers to them and hands them back
 * to the allocator's services below, never reads or writes their fields.
 *
 * Part 1, the hooks: libprof implements, liballoc calls.
 *  - prof_boot: once, from malloc_init (init lock held, options parsed,
 *    before any thread heap exists). May allocate metadata (prof_host_meta_alloc).
 *  - prof_boot_late: once, from the library constructor after malloc_init
 *    succeeded, with no allocator lock (and not the init lock) held and the
 *    calling thread's sampling suspended: starts the profiler's own threads
 *    (the profile server, prof_http; the dump thread, prof_dump_signal),
 *    which must not be created inside malloc_init.
 *  - prof_thread_init / prof_thread_exit: on the owning thread, when its heap
 *    is set up / torn down (no allocator lock held). Set the thread's
 *    sample threshold and profiler slot through the services.
 *  - prof_alloc_event: on the owning thread, from heap_event, when its
 *    allocated-bytes counter crossed the sample threshold; no allocator lock
 *    held. p is the block just allocated (usable size usize, requested
 *    size); returns p. Must set a new threshold (prof_host_sample_wait).
 *    The profiler never calls the public malloc itself, but libraries it
 *    calls may (libunwind, libc in the dump writer) and re-enter the
 *    allocator: it marks the thread busy, and a re-entered
 *    prof_alloc_event only sets the next threshold.
 *  - prof_free_check: any thread freeing block p of span s whose
 *    span_maybe_sampled said yes, inside free; no allocator lock held. Must
 *    unmark p (prof_host_unmark_slot / _overflow) if it was sampled; takes only the
 *    profiler's own locks; metadata only through prof_host_meta_alloc.
 *  - prof_suspend: the calling thread's heap h; stop (true) or resume
 *    sampling its allocations (the allocator's own internal mallocs, e.g.
 *    stats printing); returns the old state.
 *  - prof_prefork / prof_postfork_parent / prof_postfork_child: from the
 *    allocator's pthread_atfork handlers, before (prefork) or after the
 *    allocator's own locks are taken/released; must not allocate.
 *  - prof_ctl_nodes, thread_prof_ctl_nodes, experimental_prof_recent_nodes:
 *    the profiler's mallctl subtrees ("prof.*", "thread.prof.*",
 *    "experimental.prof_recent.*"), static data the allocator's ctl tree
 *    (ctl.c) splices in. Their handlers run on the caller's thread with no
 *    allocator lock held and use the ctl_* helpers below.
 *
 * Part 2, the services: liballoc implements (prof_host.c, ctl.c, warn.c),
 * libprof calls. None takes an allocator lock the caller could hold; none
 * calls back into the profiler.
 *  - heap-bound services (prof_host_slot, prof_host_sample_wait,
 *    prof_host_allocated, prof_host_thread_uid): only for the calling
 *    thread's own heap (those fields are owner-only, see heap.h).
 *  - prof_host_mark_sampled / prof_host_unmark_slot / _overflow: any thread; atomic
 *    on the span, lock-free, never allocate.
 *  - prof_host_meta_alloc, prof_host_map, prof_host_unmap: metadata memory
 *    that never comes from (or goes back to) malloc; any thread.
 *  - prof_host_write_err, prof_host_warn: never allocate; any thread.
 *  - prof_host_enter / prof_host_leave: any thread, around a section that
 *    holds profiler locks outside every allocator call (see below).
 *
 * Reentrant frees (liballoc/defer.h): every hook above that the allocator
 * calls from a slow path (prof_alloc_event, prof_free_check, the mallctl
 * handlers, the fork hooks, prof_thread_exit) runs inside a defer_enter
 * section. A free that arrives on the same thread meanwhile -- a signal
 * handler's, or one by a library the profiler calls (libunwind, libc in
 * the dump writers) -- does not run then: it is deferred to the section's
 * end, where prof_free_check sees it with no profiler lock held. So the
 * profiler's locks (site stripes, live-sample bucket bits, the record pool,
 * the recent ring, prof_stats) are never waited for by their own holder.
 * Code that takes them outside such a call (the final dump at exit) wraps
 * itself in prof_host_enter / prof_host_leave.
 */
#ifndef PROF_HOOKS_H
#define PROF_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct heap; /* opaque to libprof */
struct span; /* opaque to libprof */

/* ---- the mallctl node type both sides use (the tree walker is ctl.c) ----
 * Nodes are static data: named children, or one indexed child ("arena.<i>")
 * whose index is checked by a function; leaves have a handler that returns 0
 * or an errno, with jemalloc's codes: ENOENT unknown/partial names, EPERM
 * wrong direction, EINVAL wrong size (after copying what fits), EFAULT
 * missing arena, EAGAIN no init. */
struct ctl_args {
    const size_t *mib;  /* full mib, indexes included */
    size_t miblen;
    void *oldp;
    size_t *oldlenp;
    void *newp;
    size_t newlen;
};

typedef int (*ctl_handler)(const struct ctl_args *a);

struct ctl_node {
    const char *name;                  /* NULL for an indexed node */
    const struct ctl_node *children;   /* named children, or the one template child if indexed */
    size_t nchildren;
    /* Indexed nodes: true when index i at depth is valid. */
    bool (*index_ok)(const size_t *mib, size_t depth, size_t i);
    ctl_handler handler;               /* leaves only */
};

/* Helpers for handlers (ctl.c): copy a value out (ctl_read), out with no
 * write allowed (ctl_read_only: EPERM on newp), in (ctl_write: EINVAL on a
 * wrong size), or insist on no data at all (ctl_no_data). 0 or an errno. */
int ctl_read(const struct ctl_args *a, const void *v, size_t size);
int ctl_read_only(const struct ctl_args *a, const void *v, size_t size);
int ctl_write(const struct ctl_args *a, void *v, size_t size);
/* ctl_write for a bool: EINVAL on a wrong size or a byte other than 0/1. */
int ctl_write_bool(const struct ctl_args *a, bool *v);
int ctl_no_data(const struct ctl_args *a);

/* ---- Part 1: the profiler's hooks (libprof implements, liballoc calls) ---- */

int prof_boot(void);
void prof_boot_late(void);
void prof_thread_init(struct heap *h);
void prof_thread_exit(struct heap *h);
void *prof_alloc_event(struct heap *h, void *p, size_t size, size_t usize);
void prof_free_check(struct span *s, void *p);
bool prof_suspend(struct heap *h, bool suspend);
void prof_prefork(void);
void prof_postfork_parent(void);
void prof_postfork_child(void);

#define PROF_CTL_NNODES 14
extern const struct ctl_node prof_ctl_nodes[PROF_CTL_NNODES];
extern const struct ctl_node thread_prof_ctl_nodes[];          /* name, active */
extern const struct ctl_node experimental_prof_recent_nodes[]; /* alloc_max, alloc_dump */

/* ---- Part 2: the allocator's services (liballoc implements, libprof calls) ---- */

/* The calling thread's heap: with create, set it up if needed (NULL if the
 * thread cannot have one); without, the current one or NULL (never creates,
 * never allocates: safe from the free path and at exit). */
struct heap *prof_host_heap(bool create);
/* The slot where the profiler keeps h's per-thread state (NULL at first).
 * h must be the calling thread's heap. */
void **prof_host_slot(struct heap *h);
/* Bytes h's thread has allocated so far (thread.allocated); owner only. */
uint64_t prof_host_allocated(struct heap *h);
/* h's thread uid: 0, 1, 2... in thread creation order. */
uint64_t prof_host_thread_uid(struct heap *h);
/* Next sample after `wait` more allocated bytes (UINT64_MAX: never). Owner
 * only; the allocator folds it into its single event threshold, so the
 * malloc fast path keeps one compare. */
void prof_host_sample_wait(struct heap *h, uint64_t wait);

/* Mark block p (just allocated by h's thread, the caller) as sampled, so a
 * free of p from any thread reaches prof_free_check, and keep rec (not
 * NULL), the profiler's record of p, whose first word holds p. True if rec
 * went in one of p's span's slots, where prof_host_unmark_slot finds it
 * again; false if p is only counted (more sampled blocks on the span than
 * slots): the profiler then keeps rec where it can find it by p. */
bool prof_host_mark_sampled(struct heap *h, void *p, void *rec);
/* The block to hand out for a sampled allocation p of usable size usize
 * (h: the caller's heap), before prof_host_mark_sampled: p, or another block
 * of the same class placed where marking it costs the free fast path
 * nothing (heap_sample_relocate; contents are not copied, the allocator
 * fills blocks after its event hook); p is then no longer allocated. */
void *prof_host_relocate_sampled(struct heap *h, void *p, size_t usize);
/* Undo prof_host_mark_sampled for block p of span s (from prof_free_check)
 * if p has a slot: true, the slot emptied and *rec the record it kept;
 * false, nothing changed, if p has none (an overflow sample, or p is not
 * sampled). */
bool prof_host_unmark_slot(struct span *s, void *p, void **rec);
/* Undo prof_host_mark_sampled for a sampled block of s that had no slot
 * (the profiler found its record in its own table). */
void prof_host_unmark_overflow(struct span *s);

/* Bytes in active pages across all arenas (stats.active's measure). */
size_t prof_host_active_bytes(void);
/* Metadata memory, zeroed, never freed (base allocator); NULL when out of memory. */
void *prof_host_meta_alloc(size_t size, size_t align);
/* Page-aligned anonymous mapping of size bytes (rounded up to pages), zeroed:
 * 0 and *out set, or an errno. prof_host_unmap gives it back (same size). */
int prof_host_map(size_t size, void **out);
void prof_host_unmap(void *p, size_t size);
/* The system page size the allocator uses, in bytes. */
size_t prof_host_page_size(void);
/* os_dlopen_usable: a shared C library is loaded (dlopen may be used). */
bool prof_host_dlopen_usable(void);

/* Write s on stderr as is (no allocation). */
void prof_host_write_err(const char *s);
/* write(2) for dump files, through the os seam (fault injection, fault.h):
 * write's result and errno. Never allocates; any thread. */
ssize_t prof_host_write(int fd, const void *buf, size_t n);
/* A run-time warning ("<jemalloc>: "-prefixed, newline-terminated): printed,
 * and fatal under opt.abort, as for the allocator's own warnings. */
void prof_host_warn(const char *msg);
/* Enter / leave a section of the calling thread that holds profiler locks
 * outside any allocator call: a free on this thread meanwhile is deferred
 * to the outermost leave (liballoc/defer.h). They nest; never allocate. */
void prof_host_enter(void);
void prof_host_leave(void);
/* Time in ns: the realtime clock (high) or the coarse monotonic one. */
uint64_t prof_host_now_ns(bool high);

/* Size classes, for the profiler's per-class counts. */
#define PROF_HOST_NSMALL 41 /* small size classes (static check in prof_host.c) */
/* The usable size malloc gives for usize bytes (its class), 0 if none. */
size_t prof_host_class_usize(size_t usize);
/* Index of small class u (a class size <= prof_host_small_max()). */
unsigned prof_host_small_index(size_t u);
size_t prof_host_small_max(void);

#endif
