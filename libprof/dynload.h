/*
 * dynload: the profiler's optional libraries, libunwind (stack capture,
 * backtrace.c, cfi.c), zlib and libprotobuf-c (pprof dumps, dump_pprof.c),
 * loaded with dlopen(RTLD_LAZY | RTLD_LOCAL) instead of being DT_NEEDED of
 * liballoc.so: a process that never profiles maps none of them (~220 KiB
 * of resident memory, counting the liblzma libunwind pulls in).
 *
 * When: dynload_boot, from the allocator's constructor (prof_boot_late),
 * only with opt.prof: outside any malloc call and allocator lock (dlopen
 * allocates), before the profiler's threads start; libunwind only unless
 * prof_unwind:fp. Everything that uses them (samples, the dumps of every
 * trigger: mallctl, interval, gdump, signal thread, HTTP server,
 * prof_final) runs after it or checks that the library is there. Samples
 * taken before it (a malloc before the constructor) walk frame pointers.
 * A statically linked program (no shared libc to dlopen with) loads
 * nothing. Not loaded = libunwind: a stack the cached .eh_frame rules
 * cannot walk is taken from frame pointers instead (one warning at boot,
 * under prof_unwind:auto too); pprof dumps fail with ENOENT and a message
 * naming the library, prof_http answers 503.
 *
 * The tables are written once, by dynload_boot, before any reader can run;
 * read-only afterwards (no lock). Differences from jemalloc: jemalloc
 * links libunwind (when configured for it) and has no pprof writer.
 */
#ifndef DYNLOAD_H
#define DYNLOAD_H

#include <stdbool.h>
/* libunwind.so's local-only names (_ULx86_64_*), as backtrace.c and cfi.c
 * use them. */
#ifndef UNW_LOCAL_ONLY
#define UNW_LOCAL_ONLY
#endif
#include <libunwind.h>
#include <zlib.h>

/* libunwind's local-unwinding entry points (libunwind.h names). */
struct dynload_unw {
    int (*backtrace)(void **, int);
    int (*getcontext)(unw_context_t *);
    int (*init_local)(unw_cursor_t *, unw_context_t *);
    int (*get_reg)(unw_cursor_t *, unw_regnum_t, unw_word_t *);
    int (*step)(unw_cursor_t *);
    void (*flush_cache)(unw_addr_space_t, unw_word_t, unw_word_t);
    unw_addr_space_t *local_addr_space; /* &unw_local_addr_space */
};

/* zlib's deflate (deflateInit2 is a macro over deflateInit2_). */
struct dynload_z {
    int (*deflate_init2)(z_streamp, int, int, int, int, int, const char *, int);
    int (*deflate)(z_streamp, int);
    int (*deflate_end)(z_streamp);
};

/* Non-NULL once loaded (all entry points found). */
extern const struct dynload_unw *dynload_unw;
extern const struct dynload_z *dynload_z;
/* True once libprotobuf-c is loaded (dynload_pb_* forward to it). */
extern bool dynload_pb_ok;

/* Load libunwind if unwind, and zlib and libprotobuf-c if pprof. Once;
 * from the constructor (see above), never from inside malloc. A library
 * that cannot be loaded (or lacks a symbol) is reported on stderr, one
 * line naming it, why, and what the profiler does without it, and left
 * out. libunwind under prof_unwind:auto too: the frame-pointer walk that
 * then takes the frames the cached rules cannot walk can give wrong frames
 * in code built without frame pointers, so the user is told. */
void dynload_boot(bool unwind, bool pprof);
/* Load zlib and libprotobuf-c now if not tried yet: for a pprof dump asked
 * through mallctl (prof.dump_pprof_fd) when the options did not load them
 * at boot (prof_format:heap_v2, no prof_http). The caller is outside
 * malloc and holds no allocator or profiler lock, with sampling suspended
 * (dlopen allocates). 0 when loaded; ENOENT if they cannot be (or the
 * program is linked statically). While another thread loads them, waits
 * for it (up to 2 s; EAGAIN after that: this thread may hold the loader's
 * lock the other's dlopen needs). Thread-safe. */
int dynload_pprof_load(void);
/* In a fork child (prof_postfork_child): a load of zlib and
 * libprotobuf-c that another thread of the parent had under way at the
 * fork is forgotten, so the child's first pprof dump loads them itself. */
void dynload_postfork_child(void);
/* pprof dumps: 0 if zlib and libprotobuf-c are loaded, else ENOENT. */
int dynload_pprof_ready(void);

#endif
