/*
 * malloc_init: one-time global initialisation (options, size classes,
 * arenas, thread-exit key, fork handlers, profiler), safe before main, from
 * constructors and when re-entered by a thread already initialising.
 */
#ifndef MALLOC_INIT_H
#define MALLOC_INIT_H

#include <stdbool.h>

/* 0 when the allocator is ready; EAGAIN when called re-entrantly during init. */
int malloc_init(void);
bool malloc_opt_tcache(void);

#endif
