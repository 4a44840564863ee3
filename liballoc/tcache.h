/*
 * tcache: which sizes the thread heaps cache (opt.tcache_max) and the
 * explicit caches of tcache.create / MALLOCX_TCACHE(id).
 *
 * tcache_max. In this design the thread heap is the cache: a small block a
 * thread frees goes back to a page that thread owns, and only that thread
 * allocates from it again. Classes above tcache_max are therefore not
 * given thread-owned pages at all: they are served, like tcache:false,
 * from the arena's shared heap under its lock, and a free puts the block
 * straight back there, where any thread of the arena takes it next.
 * arenas.tcache_max reports the largest cached class (tcache_max rounded up
 * to a size class, at most 32 KiB: larger blocks are never thread-cached).
 *
 * Explicit tcaches. A cache not bound to a thread: per small class a stack
 * of up to TCACHE_BIN_CAP freed blocks. mallocx(.., MALLOCX_TCACHE(id))
 * pops from it (on a miss the calling thread's heap serves), dallocx /
 * sdallocx / rallocx with the flag push onto it (half the stack is really
 * freed when it is full); tcache.flush frees them all, tcache.destroy
 * flushes and makes the id reusable. As in jemalloc, the caller must not
 * use one explicit tcache from two threads at once; create/destroy/flush
 * themselves are thread-safe. Blocks above tcache_max, aligned requests,
 * sampled blocks and MALLOCX_ARENA requests bypass the cache.
 * Differences from jemalloc: a miss takes one block from the thread heap
 * rather than a batch from the arena; an unknown id in MALLOCX_TCACHE
 * falls back to the thread heap instead of being undefined behaviour.
 */
#ifndef TCACHE_H
#define TCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include "config.h"

/* Ids 0..TCACHE_IDS-1: MALLOCX_TCACHE(id) = (id + 2) << 8 fits 12 bits. */
#define TCACHE_IDS     4094
#define TCACHE_BIN_CAP 64

extern unsigned tcache_nclasses; /* small classes thread heaps cache (opt.tcache_max) */
extern unsigned tcache_nfast;    /* classes the inline malloc serves: tcache_nclasses, 0 with junk:alloc */
extern size_t tcache_maxclass;   /* arenas.tcache_max */

/* From malloc_init, after sizeclass_init and junk_boot. */
void tcache_boot(void);

/* tcache.create: a new id in *id. 0, or EFAULT when all ids are in use or
 * memory is short (jemalloc's code for a failed create). */
int tcache_create(unsigned *id) WARN_UNUSED;
/* tcache.flush / tcache.destroy: 0, or EFAULT if id is not a live tcache. */
int tcache_flush(unsigned id) WARN_UNUSED;
int tcache_destroy(unsigned id) WARN_UNUSED;

/* Allocate through explicit tcache id (falls back to the thread heap). */
void *tcache_alloc(unsigned id, size_t size, size_t align, bool zero);
/* Free p into explicit tcache id; false if p is not cacheable there (the
 * caller then frees it normally). */
bool tcache_dalloc(unsigned id, void *p);

void tcache_prefork(void);
void tcache_postfork_parent(void);
void tcache_postfork_child(void);

#endif
