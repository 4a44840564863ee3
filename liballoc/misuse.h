/*
 * misuse: detecting frees of pointers the allocator does not consider live
 * (double frees, interior, misaligned and wild pointers), and reporting them.
 *
 * The model. A small block that is free (on any list: its page's free list,
 * a remote thread_free stack, a heap's delayed_free stack, an explicit
 * tcache bin, or carved but never handed out) carries a mark in its second
 * word: its own address XORed with a per-process random key whose top byte
 * is non-zero (misuse_key). Allocation clears that word when it hands the
 * block out. So "the second word equals p ^ key" means "p is free": a
 * program cannot produce that value by accident (it does not know the key,
 * and the value is not a canonical address, so no free-list link equals it),
 * and freeing p then is a double free, caught before it reaches any list.
 * Every block has that second word: the 8-byte class keeps its usable size
 * but its blocks are 16 bytes apart (sizeclass_stride), so the mark sits at
 * offset 8 in every class and the paths need no per-class offset.
 *
 * Pointers: a slab block must lie inside its span and on a block boundary
 * (one multiply against the span's div_magic: Lemire's divisibility test),
 * a large or huge block must be the start of its span; anything else the
 * radix tree does not know is not ours.
 *
 * Reporting: misuse_report writes "<jemalloc>: FUNC(): WHAT 0xADDR" on
 * stderr (or malloc_message) without allocating, then ignores the call
 * (the block and all lists stay as they were) -- or, under abort:true
 * (opt.abort), aborts. Thread-safe; callable inside allocator locks.
 */
#ifndef MISUSE_H
#define MISUSE_H

#include <stdbool.h>
#include <stdint.h>
#include "config.h"
#include "span.h"

/* Random per process (misuse_boot), top byte forced non-zero. */
extern uintptr_t misuse_key;

/* Pick the key; from malloc_init, before the first block is handed out. */
void misuse_boot(void);

/* The mark value of block p. */
ALWAYS_INLINE uintptr_t misuse_mark_of(const void *p)
{
    return (uintptr_t)p ^ misuse_key;
}

/* Lemire's constant for the test "off is a multiple of d" (d < 2^32, off < 2^32):
 * off * c <= c - 1 (mod 2^64) with c = 2^64 / d rounded up. */
ALWAYS_INLINE uint64_t misuse_div_magic(uint32_t d)
{
    return UINT64_MAX / d + 1;
}

/* True if p is a block boundary of slab s (inside its carved blocks). */
ALWAYS_INLINE bool misuse_slab_block_ok(const struct span *s, const void *p)
{
    uintptr_t off = (uintptr_t)p - s->start;
    return off < s->limit && off * s->div_magic < s->div_magic;
}

/* Mark slab block p free (its second word). */
ALWAYS_INLINE void misuse_set_free(void *p)
{
    ((uintptr_t *)p)[1] = misuse_mark_of(p);
}

/* Clear the free mark of slab block p being handed out. */
ALWAYS_INLINE void misuse_set_live(void *p)
{
    ((uintptr_t *)p)[1] = 0;
}

/* True if slab block p (a block boundary of its slab) carries the free mark. */
ALWAYS_INLINE bool misuse_is_free(const void *p)
{
    return ((const uintptr_t *)p)[1] == misuse_mark_of(p);
}

/* Report misuse "<jemalloc>: func(): what 0xADDR" and return (abort under
 * opt.abort). func and what are static strings. Never allocates. */
void misuse_report(const char *func, const char *what, const void *p);

#endif
