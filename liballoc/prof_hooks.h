/*
 * prof_hooks: the only calls liballoc makes into libprof. The allocation
 * path calls prof_alloc_event when the thread's byte counter crosses
 * heap->prof_next (which the profiler sets); a free of a block on a span
 * with sampled blocks calls prof_free_check. With profiling off, prof_next
 * stays at UINT64_MAX and neither is ever reached.
 */
#ifndef PROF_HOOKS_H
#define PROF_HOOKS_H

#include <stdbool.h>
#include <stddef.h>

struct heap;
struct span;

int prof_boot(void);
void prof_thread_init(struct heap *h);
void prof_thread_exit(struct heap *h);
void *prof_alloc_event(struct heap *h, void *p, size_t size, size_t usize);
void prof_free_check(struct span *s, void *p);
/* Stop (true) or resume sampling the calling thread's allocations; returns the old state. */
bool prof_suspend(struct heap *h, bool suspend);
void prof_prefork(void);
void prof_postfork_parent(void);
void prof_postfork_child(void);

#endif
