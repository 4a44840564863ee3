/*
 * warn: the allocator's and the profiler's one way to write a message to
 * the user. Three levels:
 *  - alloc_write_err: a message (MALLOC_CONF errors, the leak summary,
 *    statistics, invalid-pointer reports) through malloc_message when the
 *    program set it, else straight to stderr;
 *  - warn_print: a run-time warning (a failed dump open or write, a
 *    background thread that could not start, a free of a pointer that is
 *    not ours), written as above and then, under opt.abort (jemalloc's
 *    abort-on-warning), abort(). Every such site calls it, so opt.abort
 *    applies to all of them at once. MALLOC_CONF parse errors are not
 *    warnings: abort_conf governs those (conf.c);
 *  - alloc_fatal: a broken internal invariant; always to stderr (never
 *    malloc_message, whose owner may be the cause), then abort().
 * The malloc_message variable itself (include/alloc.h) is defined here.
 * Nothing here allocates; all of it is safe from any thread, during
 * initialisation and inside the allocator's locks.
 */
#ifndef WARN_H
#define WARN_H

/* Write the NUL-terminated s as is (callers prefix "<jemalloc>: " and end
 * with a newline): malloc_message(NULL, s) when set, else stderr. A short
 * or failed write to stderr is dropped silently. */
void alloc_write_err(const char *s);

/* Print msg (already "<jemalloc>: "-prefixed and newline-terminated) as
 * alloc_write_err does; with abort:true, then abort(). */
void warn_print(const char *msg);

/* Report an internal invariant violation ("<liballoc>: file:line: failed
 * assertion: what") on stderr and abort. */
__attribute__((noreturn)) void alloc_fatal(const char *file, int line, const char *what);

#endif
