/*
 * liballoc public interface: the C standard and POSIX allocation functions
 * plus jemalloc's non-standard API (mallocx family, mallctl, stats), with
 * jemalloc's unprefixed names, so code written against <jemalloc/jemalloc.h>
 * compiles and links against -lalloc unchanged (or runs under
 * LD_PRELOAD=liballoc.so).
 *
 * Conventions of this header:
 *  - Sizes are in bytes. "Usable size" is the size of the class a request
 *    was rounded up to (malloc_usable_size, sallocx, nallocx); every byte of
 *    it may be used.
 *  - Thread-safety: every function may be called from any thread at any
 *    time, including before main (the library initialises itself on first
 *    use and from a constructor) and in the child of fork(). None is
 *    async-signal-safe. The one exception to "any thread" is an explicit
 *    tcache (MALLOCX_TCACHE), which one thread at a time may use.
 *  - Bad pointers (docs/misuse.md): a double, interior, foreign or wild
 *    pointer given to free/realloc/sallocx/malloc_usable_size/... is
 *    reported ("<jemalloc>: free(): double free of 0x...") and ignored:
 *    realloc and rallocx return NULL with errno EINVAL, sallocx,
 *    malloc_usable_size and xallocx return 0, the others leave errno alone;
 *    opt.abort makes every report fatal. (jemalloc: undefined behaviour.)
 *    A double free once the address was handed out again frees the new
 *    block.
 *  - "jemalloc" below means jemalloc 5.3.0: its manual (doc/jemalloc.xml.in:
 *    DESCRIPTION's Standard and Non-standard API, TUNING, DIAGNOSTIC
 *    MESSAGES, RETURN VALUES) and, where marked "observed", Debian 12's
 *    libjemalloc2 5.3.0 run on the same calls.
 *    Our behaviour is implemented in liballoc/malloc.c unless another file
 *    is named.
 */
#ifndef ALLOC_H
#define ALLOC_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <limits.h>
#include <strings.h>

#ifdef __cplusplus
extern "C" {
#endif

#define JEMALLOC_VERSION       "5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c"
#define JEMALLOC_VERSION_MAJOR 5
#define JEMALLOC_VERSION_MINOR 3
#define JEMALLOC_VERSION_BUGFIX 0
#define JEMALLOC_VERSION_NREV  0
#define JEMALLOC_VERSION_GID   "54eaed1d8b56b1aa528be3bdd1877e59c56fa90c"

/*
 * Flags for the mallocx family, OR-ed together; 0 means none. Same encoding
 * as jemalloc (bits 0-5 lg alignment, bit 6 zero, bits 8-19 tcache + 2,
 * bits 20-31 arena + 1). Each function reads only the flags that concern it.
 *
 * MALLOCX_LG_ALIGN(la): align the block to 2^la bytes (la 0..63, not
 *   checked by the macro). Alignments up to the page (4 KiB) are served from
 *   small classes where one fits, larger ones from page runs or 2 MiB
 *   mappings; an alignment above 2^62 makes the request fail.
 * MALLOCX_ALIGN(a): the same for a, a power of two (not checked: another
 *   value means the alignment of its lowest set bit).
 * MALLOCX_ZERO: zero the new block; for rallocx/xallocx, zero the bytes
 *   beyond the old usable size. (opt.zero, MALLOC_CONF zero:true, zeroes
 *   every new block and every grown part anyway, from every entry point.)
 * MALLOCX_TCACHE(tc): allocate from / free into explicit tcache tc, an id
 *   returned by mallctl("tcache.create"); released with "tcache.destroy".
 *   On a miss the calling thread's heap serves. Blocks above
 *   opt.tcache_max, aligned requests and sampled blocks bypass it. An id
 *   that is not live falls back to the thread heap (jemalloc: undefined;
 *   liballoc/tcache.h).
 * MALLOCX_TCACHE_NONE: bypass the thread cache: the block comes from (and
 *   goes back to) the arena's shared heap, under its lock.
 * MALLOCX_ARENA(a): allocate from arena a (0..arenas.narenas-1, or an index
 *   from mallctl("arenas.create")), bypassing the thread cache; it wins over
 *   MALLOCX_TCACHE(tc). An index that is not an existing arena makes
 *   mallocx/rallocx return NULL (jemalloc: undefined; observed: it creates
 *   the arena). xallocx and dallocx ignore it.
 */
#define MALLOCX_LG_ALIGN(la)   ((int)(la))
/* The builtin where there is one: <strings.h> declares ffsl only with
 * _GNU_SOURCE or _DEFAULT_SOURCE, so a strict -std=c11 program could not
 * use the macro. */
#if defined(__GNUC__)
#define MALLOCX_ALIGN(a)       ((int)(__builtin_ffsl((long)(a)) - 1))
#else
#define MALLOCX_ALIGN(a)       ((int)(ffsl((long)(a)) - 1))
#endif
#define MALLOCX_ZERO           ((int)0x40)
/* Bias tcache index bits so that 0 encodes "automatic tcache management". */
#define MALLOCX_TCACHE(tc)     ((int)(((tc) + 2) << 8))
#define MALLOCX_TCACHE_NONE    MALLOCX_TCACHE(-1)
/* Bias arena index bits so that 0 encodes "use an automatically chosen arena". */
#define MALLOCX_ARENA(a)       ((((int)(a)) + 1) << 20)

/* The arena index in "arena.<i>.*" and "stats.arenas.<i>.*" names that
 * means all arenas merged, or the destroyed arenas merged (as jemalloc). */
#define MALLCTL_ARENAS_ALL       4096
#define MALLCTL_ARENAS_DESTROYED 4097

#if defined(__cplusplus)
/* C++: the exception specification glibc's <stdlib.h> gives the same
 * functions (__THROW), so the two declarations agree whichever comes first. */
#define ALLOC_ATTR_MALLOC      __attribute__((malloc))
#define ALLOC_ATTR_ALLOC_SIZE(...) __attribute__((alloc_size(__VA_ARGS__)))
#define ALLOC_NOTHROW          noexcept(true)
#elif defined(__GNUC__)
#define ALLOC_ATTR_MALLOC      __attribute__((malloc))
#define ALLOC_ATTR_ALLOC_SIZE(...) __attribute__((alloc_size(__VA_ARGS__)))
#define ALLOC_NOTHROW          __attribute__((nothrow))
#else
#define ALLOC_ATTR_MALLOC
#define ALLOC_ATTR_ALLOC_SIZE(...)
#define ALLOC_NOTHROW
#endif

/* ---- Standard and POSIX entry points ---- */

/* malloc: an uninitialised block of at least size bytes, aligned to 16
 * bytes (8 for requests of 8 bytes or less, as jemalloc). size 0 gives a
 * unique minimal (8-byte) block. On failure (out of memory, or size above
 * 2^62) returns NULL with errno = ENOMEM. */
void *malloc(size_t size) ALLOC_NOTHROW ALLOC_ATTR_MALLOC ALLOC_ATTR_ALLOC_SIZE(1);
/* calloc: num * size zeroed bytes, aligned as malloc. NULL with errno =
 * ENOMEM on failure, including when num * size overflows. */
void *calloc(size_t num, size_t size) ALLOC_NOTHROW ALLOC_ATTR_MALLOC ALLOC_ATTR_ALLOC_SIZE(1, 2);
/* posix_memalign: stores a block of size bytes aligned to alignment in
 * *memptr and returns 0; returns EINVAL if alignment is not a power of two
 * at least sizeof(void *), ENOMEM if memory is short. On error *memptr is
 * left unchanged; errno is never changed. */
int posix_memalign(void **memptr, size_t alignment, size_t size) ALLOC_NOTHROW;
/* aligned_alloc: size bytes aligned to alignment, which must be a power of
 * two (0 is not): otherwise NULL with errno = EINVAL. size need not be a
 * multiple of alignment (C17; jemalloc calls that undefined). NULL with
 * errno = ENOMEM if memory is short. */
void *aligned_alloc(size_t alignment, size_t size) ALLOC_NOTHROW ALLOC_ATTR_MALLOC ALLOC_ATTR_ALLOC_SIZE(2);
/* realloc: resizes ptr's block to size bytes, in place when its class
 * allows, else by moving (contents kept up to the smaller size, the rest
 * uninitialised); returns the block, or NULL with errno = ENOMEM and ptr
 * untouched. realloc(NULL, size) is malloc(size). realloc(ptr, 0) follows
 * opt.zero_realloc: "free" (default, as jemalloc 5.3) frees ptr and returns
 * NULL, "alloc" returns a minimal block, "abort" aborts; each call counts
 * in stats.zero_reallocs. (jemalloc, observed: a size above its largest
 * class returns NULL with errno unchanged.) */
void *realloc(void *ptr, size_t size) ALLOC_NOTHROW ALLOC_ATTR_ALLOC_SIZE(2);
/* free: releases ptr's block; free(NULL) does nothing. A small block goes
 * back to the page it came from (another thread's page through a lock-free
 * list). See the top of this file for bad pointers. */
void free(void *ptr) ALLOC_NOTHROW;
/* memalign (obsolete, glibc): as aligned_alloc, except that alignment 0
 * means none and an alignment that is not a power of two is rounded up to
 * the next one (glibc's rule; jemalloc, observed: NULL, errno unchanged);
 * NULL with errno = EINVAL when that would exceed 2^62. */
void *memalign(size_t alignment, size_t size) ALLOC_NOTHROW ALLOC_ATTR_MALLOC;
/* valloc (obsolete): size bytes aligned to the page (4 KiB). */
void *valloc(size_t size) ALLOC_NOTHROW ALLOC_ATTR_MALLOC;
/* pvalloc (obsolete, glibc): size rounded up to a whole number of pages (0
 * gives one page), page-aligned; NULL, errno = ENOMEM if the rounding
 * overflows. Not in jemalloc 5.3. */
void *pvalloc(size_t size) ALLOC_NOTHROW ALLOC_ATTR_MALLOC;
/* reallocarray (glibc, BSD): realloc(ptr, nmemb * size), but NULL with
 * errno = ENOMEM and ptr untouched when the product overflows. Not in
 * jemalloc 5.3. */
void *reallocarray(void *ptr, size_t nmemb, size_t size) ALLOC_NOTHROW;
/* malloc_usable_size: the usable size of ptr's block (at least what was
 * asked, the class it was rounded up to); 0 for NULL. For introspection:
 * do not size writes by it instead of realloc. */
size_t malloc_usable_size(void *ptr) ALLOC_NOTHROW;

/* ---- jemalloc's non-standard API (flags: MALLOCX_* above) ---- */

/* mallocx: at least size bytes with the flags' alignment, zeroing, tcache
 * and arena. NULL on failure: out of memory or size/alignment above 2^62
 * (errno = ENOMEM), or a MALLOCX_ARENA index that is not an arena (errno
 * unchanged). size 0 gives a minimal block (jemalloc: undefined). */
void *mallocx(size_t size, int flags) ALLOC_NOTHROW ALLOC_ATTR_MALLOC ALLOC_ATTR_ALLOC_SIZE(1);
/* rallocx: resizes ptr's block to at least size bytes with the flags'
 * alignment (moving it if needed); MALLOCX_ZERO zeroes the grown part.
 * Returns the block, or NULL with ptr untouched (errno as mallocx). size 0
 * is taken as 1 (jemalloc: undefined). As realloc, every call counts as a
 * free of the old usable size and an allocation of the new one
 * (thread.deallocated, thread.allocated), as in jemalloc, even when the
 * block keeps its size class; one that keeps its usable size is not
 * sampled by the profiler (it changes no in-use bytes; jemalloc samples
 * it). */
void *rallocx(void *ptr, size_t size, int flags) ALLOC_NOTHROW ALLOC_ATTR_ALLOC_SIZE(2);
/* xallocx: resizes ptr's block in place, never moving it: to size + extra
 * bytes if possible, else (when the block does not already hold size) to
 * size; a block that holds size and cannot grow keeps its usable size, as
 * jemalloc's. Returns the resulting usable size, which is the old one when
 * neither fits (below size means "could not grow").
 * Small blocks keep their class; page-run blocks (up to 1 MiB) and blocks
 * in their own mapping (above 1 MiB) resize within their kind. Only
 * MALLOCX_ZERO is read. size 0 is taken as 1 and size + extra is capped at
 * 2^62 (jemalloc: undefined). A resize counts as a free of the old usable
 * size and an allocation of the new one, as in jemalloc: thread.allocated
 * and thread.deallocated move, and the heap profiler drops the block's
 * sample and may sample it again at its new size. */
size_t xallocx(void *ptr, size_t size, size_t extra, int flags) ALLOC_NOTHROW;
/* sallocx: the usable size of ptr's block (as malloc_usable_size); flags
 * are ignored. */
size_t sallocx(const void *ptr, int flags) ALLOC_NOTHROW;
/* dallocx: free(ptr); with MALLOCX_TCACHE(tc) the block goes into explicit
 * tcache tc when it may. dallocx(NULL, ...) does nothing (jemalloc:
 * undefined). */
void dallocx(void *ptr, int flags) ALLOC_NOTHROW;
/* sdallocx: dallocx with the block's size, any value from the size asked to
 * its usable size (as jemalloc). Release builds do not read size (finding
 * the block's page yields it anyway; see malloc.c); MODE=debug builds abort
 * with a message when size exceeds the usable size. */
void sdallocx(void *ptr, size_t size, int flags) ALLOC_NOTHROW;
/* nallocx: the usable size mallocx(size, flags) would give, allocating
 * nothing; 0 when size or the alignment is above 2^62 (or initialisation
 * failed). */
size_t nallocx(size_t size, int flags) ALLOC_NOTHROW;

/*
 * mallctl: reads and/or writes the value of a named node of the control
 * tree ("epoch", "stats.allocated", "arena.0.purge", "opt.narenas", ...;
 * the tree is liballoc/ctl.c, the opt.* nodes liballoc/options.def, the
 * prof.* nodes libprof/prof_ctl.c). To read, pass oldp and *oldlenp = the
 * exact size of the node's type; to write, newp and newlen = that size;
 * NULL/0 otherwise. Returns 0 or:
 *   ENOENT  unknown or partial name, an index out of range, or a feature
 *           that is off (prof.* without opt.prof, prof.dump_peak without
 *           opt.prof_peak);
 *   EINVAL  *oldlenp or newlen is not the type's size (a read still copies
 *           min(*oldlenp, size) bytes and sets *oldlenp to it), or a value
 *           is out of range;
 *   EPERM   writing a read-only node, reading a write-only one, or passing
 *           data to a void node ("arena.<i>.purge"); thread.arena under
 *           percpu_arena;
 *   EAGAIN  initialisation failed, the calling thread cannot get a heap
 *           (thread.* nodes), or arenas.create failed;
 *   EFAULT  an action failed: a missing arena, a tcache id that is not live
 *           or none left, a dump that could not be written;
 *   ENOMEM  experimental.prof_recent.alloc_max could not grow the ring.
 * The codes are jemalloc's (its manual's RETURN VALUES); ENOMEM is ours.
 * Thread-safe; stats.* values are those of the last "epoch" write.
 */
int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen) ALLOC_NOTHROW;
/* mallctlnametomib: translates name into a MIB (one size_t per component,
 * an index component being the index itself) for repeated mallctlbymib
 * calls. *miblenp is the capacity of mibp on entry and the number of
 * components stored on return; a capacity smaller than the name gives a
 * partial MIB to complete by hand (only the first *miblenp components are
 * looked up, as jemalloc does, observed). Errors as mallctl; EINVAL if
 * mibp or miblenp is NULL (jemalloc: undefined). */
int mallctlnametomib(const char *name, size_t *mibp, size_t *miblenp) ALLOC_NOTHROW;
/* mallctlbymib: mallctl on a MIB of miblen components. A partial MIB (not
 * ending at a leaf) gives ENOENT; an index above UINT32_MAX gives EFAULT
 * (as jemalloc); a NULL mib gives EINVAL. */
int mallctlbymib(const size_t *mib, size_t miblen, void *oldp, size_t *oldlenp, void *newp,
                 size_t newlen) ALLOC_NOTHROW;
/*
 * malloc_stats_print: refreshes the statistics (as an "epoch" write) and
 * writes them through write_cb(cbopaque, text) in pieces of at most 1023
 * bytes (a longer piece, such as a very long option string, is cut short:
 * liballoc/stats.c); with write_cb NULL, through malloc_message, or to
 * stderr. The callback is called with no allocator lock held: it may
 * allocate.
 * opts (NULL = ""): "J" JSON instead of text; "g" omits the general
 * information (version, options), "m" the merged arena statistics, "a"
 * the per-arena ones, "b" the per-class bin rows, "l" the large line
 * (JSON: "large" and the per-large-class "lextents" arrays).
 * "d", "x", "e" and "h" are accepted and change nothing: there are no
 * destroyed-arena, mutex, extent or HPA sections to omit. Other characters
 * are ignored (as jemalloc). The text keeps jemalloc's framing ("___ Begin
 * jemalloc statistics ___") and names, with fewer sections (liballoc/stats.c).
 * Difference: with write_cb NULL, malloc_message gets a NULL cbopaque
 * (jemalloc passes cbopaque on).
 */
void malloc_stats_print(void (*write_cb)(void *, const char *), void *cbopaque,
                        const char *opts) ALLOC_NOTHROW;

/*
 * malloc_conf: options compiled into the program, read once at
 * initialisation (the library's constructor or the first allocation,
 * whichever comes first), first of the three sources: this string,
 * the target name of the symbolic link /etc/malloc.conf, then the
 * MALLOC_CONF environment variable (ignored in set-user-ID programs); later
 * settings win. Grammar "key:value,key:value"; the keys and their ranges
 * are liballoc/options.def; errors print jemalloc's messages
 * (liballoc/conf.c). Define it in the program:
 *   const char *malloc_conf = "narenas:2,dirty_decay_ms:1000";
 */
extern const char *malloc_conf;
/* malloc_message: if the program sets it, every allocator and profiler
 * message (warnings, errors, MALLOC_CONF messages, the leak summary,
 * statistics without write_cb) goes to malloc_message(NULL, text) instead
 * of stderr; assertion failures (alloc_fatal, liballoc/warn.c) still go
 * to stderr. It may be called during initialisation or with allocator
 * locks held: it must not allocate. */
extern void (*malloc_message)(void *cbopaque, const char *s);

/*
 * C++: liballoc also defines every replaceable operator new and operator
 * delete (plain, array, nothrow, sized, aligned, aligned + sized, aligned +
 * nothrow; declared by <new>, implemented in liballoc/new_delete.cc), so C
 * and C++ blocks share one heap and sized deletes reach sdallocx. Semantics
 * are the standard's as libstdc++ implements them: on failure the
 * new-handler loop, then std::bad_alloc (nullptr for nothrow forms); new of
 * 0 bytes gives a unique block; an aligned new whose alignment is not a
 * power of two fails (bad_alloc, or nullptr); delete of nullptr does
 * nothing. jemalloc 5.3 exports the same set.
 */

#ifdef __cplusplus
}
#endif

#endif /* ALLOC_H */
