/*
 * span: the descriptor of one run of pages inside a chunk (or of one huge
 * mapping). A span is free, a slab page of one small size class, a large
 * block, or a huge block. Descriptors live in base memory, never inside the
 * run they describe, so a huge block starts exactly on a 2 MiB boundary.
 *
 * Slab concurrency contract (mimalloc-style free-list sharding):
 *  - free, nmalloc, nfree, capacity and the queue links belong to the owning heap's
 *    thread; for a page on its full list, to whoever holds that heap's
 *    full_lock (the owner, or a thread taking the page, heap.h); for an
 *    abandoned page, to whoever holds its arena's lock.
 *  - thread_free is the only field other threads write: a lock-free stack of
 *    blocks they freed, with a 2-bit delayed-free state in its low bits and
 *    the stack's length in its top 16 (page.c: blocks are below 2^48).
 *  - owner_tag = owning heap | span flags; written by the owner, read by any
 *    freeing thread to decide local (no atomics) or remote free.
 */
#ifndef SPAN_H
#define SPAN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "config.h"

struct heap;
struct arena;

enum span_kind {
    SPAN_FREE = 0,  /* free pages in an arena's bins */
    SPAN_SLAB = 1,  /* slab page of one small class */
    SPAN_LARGE = 2, /* one large block */
    SPAN_HUGE = 3,  /* one huge block, its own 2 MiB-aligned mapping */
    SPAN_BUSY = 4,  /* removed from the bins while being purged */
};

/* Low bits of owner_tag: force frees on this span into the slow path. */
#define SPAN_TAG_FULL    ((uintptr_t)1) /* the page is on its heap's full list */
#define SPAN_TAG_SAMPLED ((uintptr_t)2) /* some block on the page is sampled */
#define SPAN_TAG_JUNK    ((uintptr_t)4) /* junk:free: every free takes the slow path (junk.h) */
#define SPAN_TAG_SHARED  ((uintptr_t)8) /* owned by an arena's shared heap (its frees take
                                         * its lock), told without reading the heap */
#define SPAN_TAG_MASK    ((uintptr_t)15)

/* Delayed-free states in the low 2 bits of thread_free. */
enum delayed_state {
    DELAY_NONE = 0,     /* remote frees push to thread_free */
    DELAY_USE = 1,      /* page is full: the next remote free notifies the owner heap */
    DELAY_FREEING = 2,  /* a remote freer is notifying the owner heap right now */
    DELAY_NEVER = 3,    /* abandoned page: never notify a heap */
};

/* Sampled blocks a span remembers (by the profiler's records of them), so
 * frees of its other blocks need no profiler lookup. */
#define SPAN_SAMPLED_SLOTS 4
/* One sampled block in span.nsampled, whose low SPAN_SAMPLED_SLOTS bits
 * say which slots are taken. */
#define SPAN_SAMPLED_ONE ((uint32_t)1 << SPAN_SAMPLED_SLOTS)

/* Free-span states for decay: dirty pages hold data, clean ones were purged. */
enum span_state { SPAN_DIRTY = 0, SPAN_MUZZY = 1, SPAN_CLEAN = 2 };

/* Aligned to a cache line (size a multiple of 64): descriptors sit in
 * arrays (arena.c's batches), and the fast paths' fields are laid out by
 * line: who reads and who writes each line (below) is what decides what a
 * free from another thread costs. */
struct span {
    /* Line 0: what every malloc and free reads, local or remote, and the
     * owner writes only when the page changes state or grows. Not shared
     * with the next line: a remote free reads this line while the owner
     * keeps allocating from the page, and a line the owner wrote on every
     * malloc then moved between the two CPUs on every remote free
     * (bench xthread-2t took twice as long). */
    _Alignas(64) _Atomic uintptr_t owner_tag; /* owning heap | SPAN_TAG_* flags; 0 when unowned */
    uintptr_t start;                 /* first byte of the run */
    uint64_t div_magic;              /* slab: misuse_div_magic(stride), block-boundary test */
    uint64_t div_limit;              /* slab: capacity * misuse_div_rest(stride), the same test */
    uint64_t limit;                  /* slab: capacity * stride, bytes of carved blocks */
    size_t usize;                    /* usable size of a large or huge block */
    uint32_t block_size;             /* size class in bytes (slab), usable size (large/huge) */
    uint32_t stride;                 /* slab: bytes between blocks, sizeclass_stride(block_size) */
    uint8_t kind;                    /* enum span_kind */
    uint8_t cls;                     /* small class index (slab) */
    uint8_t state;                   /* enum span_state (free spans) */
    uint8_t zeroed;                  /* large/huge: contents known to be zero */
    uint8_t lcached;                 /* large: freed into a thread's large cache (tcache.h) */
    /* Line 1: what the owner writes on every malloc and local free, and
     * the rest of the owner's slab bookkeeping. */
    _Alignas(64) void *free;         /* blocks ready to allocate (owner only) */
    uint32_t nfree;                  /* slab: blocks given back to this page, mod 2^32 (owner, see above):
                                      * blocks out = span_used(), the low half of nmalloc less this, so
                                      * malloc's fast path updates one counter (nmalloc), not two */
    uint32_t capacity;               /* blocks carved so far (free list grows lazily) */
    uint64_t nmalloc;                /* slab: blocks handed out since the page last became active
                                      * (arena.c page_activate_locked; owner writes, stats read) */
    struct span *next, *prev;        /* heap class queue, arena bin or free-descriptor list */
    size_t npages;                   /* length in pages (huge: mapping length / PAGE) */
    uint32_t reserved;               /* slab: blocks that fit in the slab; large block on an arena's
                                      * remote stack: blocks at or below it there (arena.h) */
    uint32_t canary_cap;             /* entries canary_req holds */
    uint8_t abandoned;               /* slab on its arena's abandoned list (arena lock) */
    uint8_t list_cut;                /* slab: its free list was cut at a corrupted link (misuse.h):
                                      * the blocks behind the cut are leaked, in no list */
    uint8_t empty_seen;              /* slab: found with no free block by its owner's last
                                      * queue walk and sent to the queue's end (heap.c) */
    uint8_t kept;                    /* slab: emptied by its owner's free and kept whole in its
                                      * queue, on the owner's kept list (heap.c: linked through
                                      * lru_next/lru_prev) */
    uint8_t collect_idle;            /* slab: empty at its owner's last periodic collection
                                      * (heap.c, heap_collect): given back if still at the next */
    /* Line 2 on: what other threads write (the remote-free stack, the
     * profiler's slots), then cold fields. */
    _Alignas(64) _Atomic uintptr_t thread_free; /* remote-free stack | delayed state */
    _Atomic uint32_t nsampled;       /* sampled blocks live on this span times SPAN_SAMPLED_ONE, plus
                                      * bit i while sampled_rec[i] is taken: 0 when none (one
                                      * atomic operation claims a slot and counts the block) */
    _Atomic uint32_t sampled_overflow; /* live sampled blocks not in a slot: while non-zero, every
                                        * free on the span asks the profiler */
    _Atomic uintptr_t sampled_rec[SPAN_SAMPLED_SLOTS]; /* the profiler's records of live sampled
                                      * blocks here (0: empty slot); a record's first word is its
                                      * block's address (span_slot_block). Written before the
                                      * block is handed out: its free finds the record here,
                                      * with no lookup in the profiler's table */
    _Atomic int32_t abandon_left;    /* abandoned slab: blocks still out; the remote free that
                                      * takes it to 0 gives the page back (page_free_remote) */
    struct span *lru_next, *lru_prev;/* arena decay order (free dirty/muzzy spans); a kept slab's
                                      * place on its owner's kept list (heap.c) */
    struct arena *arena;             /* arena that owns the pages */
    struct span *slab_next, *slab_prev; /* arena's list of live slab pages (stats) */
    uint64_t freed_ns;               /* when a free span became dirty */
    uint32_t *canary_req;            /* debug builds, slab: requested size per block (misuse.h) */
    size_t req_pages;                /* huge: pages its caller asked for (huge.c's resident cap) */
    struct arena *cache_arena;       /* large: the arena whose threads' caches keep it (tcache.h):
                                      * its own, or the one it was lent to (arena_dirty_donor) */
};

/* The page-map entry of pages no span was ever placed on (kind SPAN_BUSY,
 * covers nothing, owner 0): entries are never NULL (arena.c, chunk_new). */
extern struct span span_none;

/* A chunk cut into spans: the page map finds the span of any address. */
struct chunk {
    struct span *map[CHUNK_PAGES];   /* span covering each page (slab: every page; others: first and last) */
    uintptr_t base;                  /* chunk address */
    struct arena *arena;             /* owner */
    struct chunk *next;              /* arena's chunk list */
    size_t active;                   /* pages in slabs and large blocks (arena lock) */
};

ALWAYS_INLINE size_t span_bytes(const struct span *s) { return s->npages << LG_PAGE; }

/* A list of spans through their lru_next/lru_prev links, oldest first: an
 * arena's dirty or muzzy free spans (decay order), a thread's kept slab
 * pages (heap.c). A span is on one such list at most. */
struct span_lru {
    struct span *first, *last;
};

/* Append s (on no list) at l's end. */
static inline void span_lru_push(struct span_lru *l, struct span *s)
{
    s->lru_next = NULL;
    s->lru_prev = l->last;
    if (l->last)
        l->last->lru_next = s;
    else
        l->first = s;
    l->last = s;
}

/* Take s off l. */
static inline void span_lru_remove(struct span_lru *l, struct span *s)
{
    if (s->lru_prev)
        s->lru_prev->lru_next = s->lru_next;
    else
        l->first = s->lru_next;
    if (s->lru_next)
        s->lru_next->lru_prev = s->lru_prev;
    else
        l->last = s->lru_prev;
    s->lru_next = s->lru_prev = NULL;
}

/* Slab s's blocks out (handed out and not yet returned to the page; owner
 * only): exact mod 2^32, and never 2^32 or more. */
ALWAYS_INLINE uint32_t span_used(const struct span *s)
{
    return (uint32_t)s->nmalloc - s->nfree;
}

/* Count one block given back to slab s (owner only): true when no block
 * is out any more. The fast free path's form: on x86-64 the count is one
 * add to memory, as the decrement of a blocks-out count was; with gcc's
 * load-add-store there cxx_churn ran ~3% slower (0.40 against 0.39 s,
 * pinned runs on this 2-core VM). */
ALWAYS_INLINE bool span_count_free(struct span *s)
{
    uint32_t nm = (uint32_t)s->nmalloc;
#if defined(__x86_64__)
    __asm__("addl $1, %0" : "+m"(s->nfree));
#else
    s->nfree++;
#endif
    return s->nfree == nm;
}

/* span_used for a thread that is not s's owner (stats): a snapshot of two
 * counters the owner keeps writing, so approximate. nfree is read before
 * nmalloc (nfree grows, and nmalloc only falls by the one block
 * heap_sample_relocate gives back while another is out); a value above
 * the page's block count (a reordered read on a weakly ordered CPU) reads
 * as 0. */
static inline uint32_t span_used_racy(const struct span *s)
{
    uint32_t nf = __atomic_load_n(&s->nfree, __ATOMIC_ACQUIRE);
    uint32_t out = (uint32_t)__atomic_load_n(&s->nmalloc, __ATOMIC_ACQUIRE) - nf;
    return out <= s->reserved ? out : 0;
}

/* The block whose record sits in s's slot i, 0 if the slot is empty. A
 * record's first word is its block (struct prof_sample.ptr; libprof/site.c
 * asserts the offset). The record is read whole or recycled under the
 * reader: records live in memory never unmapped, and a recycled one names
 * another block, never a live block the reader is freeing (a block is
 * sampled only when it is handed out). */
ALWAYS_INLINE uintptr_t span_slot_block(struct span *s, int i)
{
    uintptr_t r = atomic_load_explicit(&s->sampled_rec[i], memory_order_acquire);
    return r ? __atomic_load_n((const uintptr_t *)r, __ATOMIC_RELAXED) : 0;
}

/* True if p may be a sampled block of s (then the profiler must look it up).
 * The sampling happened before p was handed out, so any thread freeing p
 * sees its slot. */
ALWAYS_INLINE bool span_maybe_sampled(struct span *s, uintptr_t p)
{
    if (likely(atomic_load_explicit(&s->nsampled, memory_order_relaxed) == 0))
        return false;
    if (atomic_load_explicit(&s->sampled_overflow, memory_order_relaxed))
        return true;
    for (int i = 0; i < SPAN_SAMPLED_SLOTS; i++)
        if (span_slot_block(s, i) == p)
            return true;
    return false;
}

/* Sampled blocks live on s. */
static inline uint32_t span_nsampled(struct span *s)
{
    return atomic_load_explicit(&s->nsampled, memory_order_relaxed) / SPAN_SAMPLED_ONE;
}

/* Forget all sampled-block slots (a span being reused). */
static inline void span_sampled_reset(struct span *s)
{
    atomic_store_explicit(&s->nsampled, 0, memory_order_relaxed);
    atomic_store_explicit(&s->sampled_overflow, 0, memory_order_relaxed);
    for (int i = 0; i < SPAN_SAMPLED_SLOTS; i++)
        atomic_store_explicit(&s->sampled_rec[i], 0, memory_order_relaxed);
}

#endif
