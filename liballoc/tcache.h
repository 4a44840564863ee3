/*
 * tcache: which sizes the thread heaps cache (opt.tcache_max) and the
 * explicit caches of tcache.create / MALLOCX_TCACHE(id).
 *
 * tcache_max. In this design the thread heap is the cache: a small block a
 * thread frees goes back to a page that thread owns, and only that thread
 * allocates from it again. Small classes above tcache_max are therefore not
 * given thread-owned pages at all: they are served, like tcache:false,
 * from the arena's shared heap under its lock, and a free puts the block
 * straight back there, where any thread of the arena takes it next.
 * arenas.tcache_max reports the largest cached class (tcache_max rounded up
 * to a size class, at most LARGE_MAX: huge blocks have their own cache of
 * free mappings, huge.h). The option accepts up to 8 MiB as jemalloc's does.
 *
 * Large blocks (40 KiB .. tcache_max, default 128 KiB). Without a cache each
 * one takes the arena lock at malloc and at free, and decay purges its pages
 * only for the next one to fault them back in. So a thread keeps the large
 * blocks it frees in a struct tcache_large inside its heap: per large class
 * a stack of at most LCACHE_SLOTS blocks, at most opt.tcache_large_budget
 * bytes in all (over budget, the oldest blocks of the largest classes go
 * back first; a block bigger than the budget is never cached). malloc of
 * the same class (no MALLOCX_ARENA, the thread's cache on) pops the newest
 * block, without a lock; an alignment above a page takes the newest block
 * at that alignment (tcache_large_alloc). Blocks go back to their
 * arena: when a class's stack is full (the older half), at thread exit, on
 * thread.tcache.flush, thread.tcache.enabled:false and arena.<i>.purge /
 * arena.<i>.decay from the thread itself, and by the idle rule: every
 * LCACHE_GC_OPS large allocations or frees of the thread, and at each of
 * its decay ticks (about once a millisecond while it runs; any malloc or
 * free may tick) that follows a tick interval without any large malloc or
 * free, the blocks of a class that were not reused since the previous pass
 * (the stack's low-water mark) go back: a thread that stops using large
 * blocks but keeps running returns them all within two ticks. A thread
 * blocked forever keeps at most its budget cached, as in jemalloc.
 * Accounting, as jemalloc's: a cached block counts as allocated from its
 * arena's view (stats.active, stats.arenas.<i>.large.allocated, pactive,
 * never purged), and as freed from the thread's (thread.deallocated, and
 * stats.allocated, which sums the threads' counters); the arena's large
 * nmalloc/ndalloc count blocks taken from and given back to it, not cache
 * hits (jemalloc counts those as requests); thread.tcache.
 * large_bytes reads what the calling thread holds. Only blocks of the
 * thread's own arena are cached (jemalloc caches any arena's: a consumer's
 * cache then holds a budget of blocks its producer misses; tried here, a
 * large-block producer/consumer ran 5-15% slower). Blocks leaving the cache together (the older half, an idle
 * pass, a flush) go back with one lock taken per arena, except the older
 * half of a class the thread has not allocated since its last idle pass
 * (tcache_large.missed: it only frees them, a consumer on its producer's
 * arena), which goes to the arena's remote stack of the class (arena.h),
 * where the arena's threads take blocks without its lock, batched as other
 * arenas' blocks are (tcache_large_remote). A cache hit and a
 * cached free count a sixteenth of their bytes toward the thread's decay
 * tick (heap.c: they touch no arena; the tick still comes, on schedule, in
 * a thread that does nothing else). A cached block's span is marked
 * (span.lcached), so freeing it again, or realloc of it, is reported as a
 * double free like any other (misuse.h).
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
#include <stdint.h>
#include "config.h"
#include "options.h"
#include "sizeclass.h"
#include "span.h"

/* Ids 0..TCACHE_IDS-1: MALLOCX_TCACHE(id) = (id + 2) << 8 fits 12 bits. */
#define TCACHE_IDS     4094
#define TCACHE_BIN_CAP 64

extern unsigned tcache_nclasses; /* small classes thread heaps cache (opt.tcache_max) */
extern unsigned tcache_nfast;    /* classes the inline malloc serves: tcache_nclasses, 0 with junk:alloc */
extern size_t tcache_maxclass;   /* arenas.tcache_max */
extern size_t tcache_large_max HIDDEN; /* largest large class thread heaps cache (0: none) */
/* tcache_large_max, or 0 under junk:free: the largest block free's cached
 * path (tcache_large_push) takes; the general path fills a freed block
 * first. One compare for both on that path. */
extern size_t tcache_large_free_max HIDDEN;

/* Per-thread cache of large blocks, inside struct heap (see above). */
#define LCACHE_NCLASSES 20  /* large classes 40 KiB .. 1 MiB (LARGE_MAX) */
#define LCACHE_SLOTS    8   /* blocks kept per class */
#define LCACHE_REMOTE_BATCH 8                  /* other arenas' blocks batched per class, at most */
#define LCACHE_REMOTE_BYTES ((size_t)512 << 10) /* their bytes per class, at most */
#define LCACHE_REMOTE_TOTAL ((size_t)1 << 20)   /* their bytes in all classes, at most */
#define LCACHE_GC_OPS   256 /* large mallocs and frees between idle passes */
#define TCACHE_MAX_LIMIT ((size_t)8 << 20) /* largest opt.tcache_max, as jemalloc */

struct span;
struct heap;
struct arena;
struct tcache_large {
    size_t bytes;                                /* bytes cached (thread.tcache.large_bytes) */
    uint32_t ops;                                /* large mallocs and frees since the last idle pass */
    bool used;                                   /* a large malloc or free since the last decay tick */
    uint32_t missed;                             /* classes a large malloc missed in since the last
                                                  * idle pass, one bit each (tcache_large_free) */
    uint8_t n[LCACHE_NCLASSES];                  /* blocks in each stack */
    uint8_t low[LCACHE_NCLASSES];                /* least n since the last idle pass */
    struct span *bin[LCACHE_NCLASSES][LCACHE_SLOTS]; /* spans of cached blocks, oldest first */
    /* Other arenas' blocks this thread freed, per class, on their way to
     * their arena's remote stack (tcache_large_remote): a chain linked by
     * span.next, all of one arena, span.reserved its place from the
     * bottom; remote_mask has a bit per non-empty chain, remote_bytes
     * their bytes. */
    struct span *remote[LCACHE_NCLASSES];
    uint32_t remote_mask;
    size_t remote_bytes;
};

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

/* The calling thread's heap h: a cached large block of usize bytes (a
 * large class at most tcache_large_max) whose address is a multiple of
 * align (a power of two; up to a page, every block is), zeroed if asked,
 * or NULL (then the arena serves). Owner thread only. */
void *tcache_large_alloc(struct heap *h, size_t usize, bool zero, size_t align);
/* Keep large span s, just freed by h's thread (misuse checks, profiler and
 * junk done, thread.deallocated counted), in h's cache: true if kept, false
 * if the caller must give it to its arena. Owner thread only, inside
 * defer_enter (it may give older blocks back, taking arena locks). */
bool tcache_large_free(struct heap *h, struct span *s);
/* The large class (0 .. LCACHE_NCLASSES - 1) of k pages, 9 <= k <=
 * LARGE_MAX / PAGE pages: the class of a large span of k pages, and of a
 * request that rounds up to k pages. Filled by tcache_boot: the cached
 * paths below then read the class instead of computing it (two bit scans
 * on malloc's side, one on free's). */
extern uint8_t tcache_large_class_of[(LARGE_MAX >> LG_PAGE) + 1] HIDDEN;
/* The usable size of each large class. */
extern size_t tcache_large_usize[LCACHE_NCLASSES] HIDDEN;

/* The large class of a request of size bytes, SMALL_MAX < size <= LARGE_MAX. */
ALWAYS_INLINE size_t tcache_large_class(size_t size)
{
    return tcache_large_class_of[(size + PAGE - 1) >> LG_PAGE];
}

/* Take the newest block off class c's stack (not empty; usize the class's
 * usable size): the cached paths' common step (tcache_large_pop,
 * tcache_large_alloc). */
ALWAYS_INLINE struct span *tcache_large_take(struct tcache_large *lc, size_t c, size_t usize)
{
    size_t n = (size_t)lc->n[c] - 1;
    struct span *s = lc->bin[c][n];
    lc->n[c] = (uint8_t)n;
    if (lc->low[c] > n)
        lc->low[c] = (uint8_t)n;
    lc->bytes -= usize;
    s->lcached = 0;
    return s;
}

/* Put s (usable size usize) on class c's stack (room checked by the
 * caller): tcache_large_push's and tcache_large_free's common step. */
ALWAYS_INLINE void tcache_large_put(struct tcache_large *lc, size_t c, struct span *s, size_t usize)
{
    s->lcached = 1;
    lc->bin[c][lc->n[c]] = s;
    lc->n[c]++;
    lc->bytes += usize;
}

/* tcache_large_alloc's hit when no idle pass is due: the newest block of
 * class c (usable size usize), or NULL, nothing changed (then
 * tcache_large_alloc decides). Owner thread, inside defer_enter (a signal
 * handler's free must not edit the stacks meanwhile); takes no lock. */
ALWAYS_INLINE void *tcache_large_pop(struct tcache_large *lc, size_t c, size_t usize)
{
    if (lc->n[c] == 0 || lc->ops + 1 >= LCACHE_GC_OPS)
        return NULL;
    lc->used = true;
    lc->ops++;
    struct span *s = tcache_large_take(lc, c, usize);
    if (s->start == 0)
        __builtin_unreachable(); /* a block: the caller's NULL test is the miss's alone */
    return (void *)s->start;
}

/* tcache_large_free for large span s (usable size usize, at most
 * tcache_large_max) of the caller's own arena when that needs no block
 * given back (room in the class's stack and in the budget, no idle pass
 * due): true if kept; false, nothing changed, otherwise. The caller checked
 * the size and the heap's side (its cache on, not exiting). Owner thread,
 * inside defer_enter, as tcache_large_pop. */
ALWAYS_INLINE bool tcache_large_push(struct tcache_large *lc, struct span *s, size_t usize)
{
    size_t c = tcache_large_class_of[s->npages];
    /* bytes + usize within the budget implies usize within it: a block
     * bigger than the budget fails here too. */
    if (lc->n[c] == LCACHE_SLOTS || lc->bytes + usize > opt.tcache_large_budget ||
        lc->ops + 1 >= LCACHE_GC_OPS)
        return false;
    lc->used = true;
    lc->ops++;
    tcache_large_put(lc, c, s, usize);
    return true;
}
/* Give every cached large block of h back to its arena (owner thread, or
 * the exiting thread). */
void tcache_large_flush(struct heap *h);
/* Give h's cached blocks of arena a back (all of them when a is NULL). */
void tcache_large_flush_arena(struct heap *h, const struct arena *a);
/* Idle pass: blocks not reused since the previous pass go back (owner). */
void tcache_large_gc(struct heap *h);
/* h's decay tick: an idle pass if the thread made no large malloc or free
 * since its previous tick (owner). */
void tcache_large_tick(struct heap *h);
/* Free live large block s onto its arena's remote stack (s->cache_arena:
 * another arena's block, or h's own arena's for the cache's spill,
 * tcache_large_free) from h: batched per class, up to LCACHE_REMOTE_BATCH
 * blocks or LCACHE_REMOTE_BYTES, then pushed onto that arena's remote
 * stack with one compare-and-swap (arena_remote_put_chain), instead of
 * one per block: 4 consumers handing 40-64 KiB blocks back to 4
 * producers spent 9% of their CPU in that exchange, one cache-line
 * transfer per block. Whatever is batched goes at the thread's next decay
 * tick (about a millisecond), when it holds LCACHE_REMOTE_TOTAL bytes,
 * and with the cache (tcache_large_flush*). True: s is taken care of
 * (batched or pushed; a batch whose stack is full goes back to its arena);
 * false: the caller gives s back (s->cache_arena is not an automatic
 * arena, or its stack is full). Owner thread, or any thread for a heap
 * without a cache (h == &heap_empty: pushed alone). */
bool tcache_large_remote(struct heap *h, struct span *s);

void tcache_prefork(void);
void tcache_postfork_parent(void);
void tcache_postfork_child(void);

#endif
