/*
 * warn: run-time warnings of the allocator and the profiler (a failed dump
 * open or write, a background thread that could not start, a free of a
 * pointer that is not ours). Every such site calls warn_print, so
 * opt.abort (jemalloc's abort-on-warning) applies to all of them at once.
 * MALLOC_CONF parse errors are not warnings: abort_conf governs those.
 * Never allocates; safe from any thread and inside the allocator's locks.
 */
#ifndef WARN_H
#define WARN_H

/* Print msg (already "<jemalloc>: "-prefixed and newline-terminated) through
 * malloc_message or stderr; with abort:true, then abort(). */
void warn_print(const char *msg);

#endif
