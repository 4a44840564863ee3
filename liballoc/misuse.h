/*
 * misuse: detecting frees of pointers the allocator does not consider live
 * (double frees, interior, misaligned and wild pointers), and reporting them.
 *
 * The model. A small block that is free (on any list: its page's free list,
 * a remote thread_free stack, a heap's delayed_free stack, an explicit
 * tcache bin, or carved but never handed out) carries a mark in its second
 * word: 9 * p + MISUSE_MARK_ADD, a function of its own address
 * (misuse_mark_of). Allocation clears that word when it hands the block
 * out. So "the second word equals the mark of p" means "p is free": a
 * program does not produce that value by accident, and freeing p then is
 * a double free, caught before it reaches any list. The allocator maps
 * its chunks with no address hint, which Linux places top-down below the
 * stack (near 2^47 on x86-64) or, in the legacy layout, upward from
 * TASK_UNMAPPED_BASE (about 2^45.4); so 9 * p is above 2^48 and below
 * 2^52 -- not a canonical address, not NULL, not a free-list link, and not
 * an integer a program derives from p. (Only a block mapped below 2^43.8,
 * in an address space filled from the top, has a mark that is a canonical
 * address; a pointer stored in it equalling that exact value stays as
 * unlikely as any 64-bit coincidence.)
 * Why a fixed function and not p ^ a random key (the earlier form): gcc
 * computes 9 * p + MISUSE_MARK_ADD in one lea, with no key to load, and
 * the fast paths spend two instructions fewer (free 39 -> 38). The key
 * gave no protection a known function lacks: a program that writes after
 * free can clear any mark whatever its form, and one that forges a mark
 * only gets its own later free refused; a read after free shows the block's
 * free-list link, an address, in the first word anyway.
 * Why not one value for every block (glibc's tcache key; one instruction
 * less on free): marks outlive their blocks. A page emptied and carved again for
 * another class keeps the old marks inside its new blocks (only a block's
 * second word is cleared when it is handed out), and a correct program may
 * copy such never-written bytes into a live block's second word (a struct
 * with a member it did not set, copied out of the middle of a bigger
 * block): with one value that block's free is refused as a double free (and
 * aborts under abort:true); with a mark that depends on p, a mark copied to another address
 * is never that block's mark (tests/integration/misuse_stale_mark: 181200
 * of 504000 such frees refused with one value, none with p's own mark).
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

/* The mark's constant term (odd, so no mark is a multiple of 8 either). */
#define MISUSE_MARK_ADD 0x5bd1e995u
/* Free-list link keys (opt.free_list_protect, builds with
 * FREE_LIST_PROTECT=1 only: config.h): a link is stored as
 * (next ^ misuse_link_key) * misuse_link_mul and read back by multiplying
 * with misuse_link_inv (the inverse of the odd misuse_link_mul mod 2^64).
 * The multiply spreads any change of a stored link over all the bits above
 * it, so a write after free -- a whole word or one flipped byte -- decodes
 * to an address far outside the page. Random per process; 0, 1, 1 when the
 * option is off (links are then plain pointers). */
extern uintptr_t misuse_link_key, misuse_link_mul, misuse_link_inv;

/* Set up free_list_protect's link keys; from malloc_init, before the first
 * block is handed out. */
void misuse_boot(void);

/* The mark value of block p (see above). */
ALWAYS_INLINE uintptr_t misuse_mark_of(const void *p)
{
    return (uintptr_t)p * 9 + MISUSE_MARK_ADD;
}

/* The block-boundary test in one multiply and one compare (Lemire's
 * divisibility test, extended to bound the quotient): with
 * c = floor(2^64 / d) + 1 and r = d * c mod 2^64 (0 < r <= d),
 *     off * c mod 2^64 < capacity * r
 * holds exactly when off = k * d with k < capacity. A multiple k * d maps
 * to k * r; any other offset below 2^32, or up to 2^32 below 0, maps at or
 * above c - 2^32 > 2^48 (d <= 2^15, SMALL_MAX), far above capacity * r,
 * which is below 2^32. So one compare rejects interior and misaligned
 * pointers, never-carved blocks and pointers outside the slab
 * (tests/unit/misuse_boundary checks every offset of every class). */
ALWAYS_INLINE uint64_t misuse_div_magic(uint32_t d)
{
    return (uint64_t)(((unsigned __int128)1 << 64) / d) + 1;
}

/* r = d * misuse_div_magic(d) mod 2^64: the image of one block step. */
ALWAYS_INLINE uint64_t misuse_div_rest(uint32_t d)
{
    return (uint64_t)d * misuse_div_magic(d);
}

/* True if p is a block boundary of slab s (inside its carved blocks). */
ALWAYS_INLINE bool misuse_slab_block_ok(const struct span *s, const void *p)
{
    if (!config_misuse)
        return true;
    return ((uintptr_t)p - s->start) * s->div_magic < s->div_limit;
}

/* Mark slab block p free (its second word). */
ALWAYS_INLINE void misuse_set_free(void *p)
{
    if (config_misuse)
        ((uintptr_t *)p)[1] = misuse_mark_of(p);
}

/* Clear the free mark of slab block p being handed out. */
ALWAYS_INLINE void misuse_set_live(void *p)
{
    if (config_misuse)
        ((uintptr_t *)p)[1] = 0;
}

/* True if slab block p (a block boundary of its slab) carries the free mark. */
ALWAYS_INLINE bool misuse_is_free(const void *p)
{
    return config_misuse && ((const uintptr_t *)p)[1] == misuse_mark_of(p);
}

/* Report misuse "<jemalloc>: func(): what 0xADDR" and return (abort under
 * opt.abort). func and what are static strings. Never allocates. */
void misuse_report(const char *func, const char *what, const void *p);

/*
 * Free-list links. Every next pointer kept inside a free block -- a page's
 * free list, a page's remote-free stack, a heap's delayed-free stack -- is
 * checked when read, and in builds with FREE_LIST_PROTECT=1
 * (opt.free_list_protect) stored encoded (misuse_link_key); the default
 * build stores it plainly (the encoding's multiply would sit on malloc's
 * chain of dependent loads: config.h). The checks: a link taken from a page's list must decode to NULL or to an
 * address inside that page's carved blocks (misuse_link_in), checked when
 * it becomes the head that malloc pops (one compare on malloc's fast path,
 * which also covers "no free block"); a page's remote-free stack taken onto
 * an empty list becomes that list, checked the same way as it is popped,
 * and one spliced before other free blocks is walked and each link checked
 * (page.c), and the walk over a heap's
 * delayed-free stack (blocks of any page, rare) asks for a block boundary
 * carrying the free mark (misuse_link_valid). A
 * write after free that overwrites a link without knowing the key decodes
 * to a wild value, which is reported (misuse_link_corrupt) and never
 * handed out: the list is cut there, its remaining blocks leak. The heads
 * of the lists live in metadata (span, heap) and are stored plainly.
 */

/* next encoded with key and mul (the fast paths pass per-thread copies of
 * misuse_link_key and misuse_link_mul), and decoded with key and inv. */
ALWAYS_INLINE uintptr_t misuse_link_encode(const void *next, uintptr_t key, uintptr_t mul)
{
    return config_free_list_protect && config_misuse ? ((uintptr_t)next ^ key) * mul : (uintptr_t)next;
}

ALWAYS_INLINE void *misuse_link_decode(uintptr_t raw, uintptr_t key, uintptr_t inv)
{
    return config_free_list_protect && config_misuse ? (void *)((raw * inv) ^ key) : (void *)raw;
}

/* Store next as the link of free block slot. */
ALWAYS_INLINE void misuse_link_set(void *slot, const void *next)
{
    *(uintptr_t *)slot = misuse_link_encode(next, misuse_link_key, misuse_link_mul);
}

/* The link of free block slot, decoded (not checked). */
ALWAYS_INLINE void *misuse_link_get(const void *slot)
{
    return misuse_link_decode(*(const uintptr_t *)slot, misuse_link_key, misuse_link_inv);
}

/* True if n, a link read from a block of slab s's free list, may be
 * followed: NULL, or inside s's carved blocks. */
ALWAYS_INLINE bool misuse_link_in(const struct span *s, const void *n)
{
    return !config_misuse || likely((uintptr_t)n - s->start < s->limit) || n == NULL;
}

/* The slow walks' check of a link n read from a block of slab s: NULL, or a
 * block boundary of s that carries the free mark. */
ALWAYS_INLINE bool misuse_link_valid(const struct span *s, const void *n)
{
    return !config_misuse || n == NULL || (misuse_slab_block_ok(s, n) && misuse_is_free(n));
}

/* Report that the link stored in free block slot is corrupt ("func():
 * corrupted free list (a freed block was written to): slot"); the caller
 * cuts the list before slot's link. Aborts under opt.abort. */
void misuse_link_corrupt(const char *func, const void *slot) NOINLINE;

/* The head of slab pg's free list (read from a link) is not NULL and not
 * inside the page: report it, naming the block whose link held it when
 * that block can still be found (a carved block whose first word is the
 * encoded bad value: the block handed out just before), else the page; and
 * cut the list (pg->free = NULL). Owner only. */
void misuse_page_list_corrupt(struct span *pg) NOINLINE;

/* A list of slab pg (its free list, or a remote-free stack being spliced)
 * ended before its count of blocks: a write after free zeroed a link, which
 * the range checks pass as a list's end. Reported once per page ("...
 * corrupted free list ... in the page at P"; the block whose link was
 * zeroed cannot be named), and pg->list_cut set: the blocks behind the
 * link stay leaked, as after a cut list. Off the fast paths. */
void misuse_page_list_short(struct span *pg) NOINLINE;

/*
 * Canaries (debug builds only, config_debug; nothing in release builds).
 * A small block handed out by malloc, calloc, realloc, posix_memalign,
 * aligned_alloc, memalign, valloc or operator new has the bytes between the
 * requested size and its usable size filled with MISUSE_CANARY_BYTE, and
 * its requested size recorded in its slab's canary_req table; free (every
 * path: free, delete, dallocx, sdallocx, realloc's move, explicit tcaches)
 * checks them and reports "heap overflow" with the block's address. When
 * the request fills the class exactly there is no slack and so no canary
 * (e.g. malloc(48)); in the 8-byte class the 8 bytes after the usable size
 * (the block's second word) are slack too, so even malloc(8) has one.
 * mallocx/rallocx/tcache allocations get none (their callers
 * may use the whole nallocx size), and malloc_usable_size/sallocx/xallocx
 * drop a block's canary (the caller may now use every usable byte). Large
 * and huge blocks get none.
 */
/* junk:alloc's byte (junk.h), so a junk-filled block reads 0xa5 to its end. */
#define MISUSE_CANARY_BYTE 0xa5
#define MISUSE_CANARY_NONE UINT32_MAX

/* Slab pg (re)initialised: no block has a canary (page_init, debug only). */
void misuse_canary_page(struct span *pg);
/* Small block p was just handed out for a request of size bytes: fill and
 * record its canary (debug builds). */
void misuse_canary_set(void *p, size_t size);
/* p is being freed by func: if it is a live small block with a canary,
 * check it and report an overflow; the canary is dropped either way. */
void misuse_canary_check(void *p, const char *func);
/* The caller may use all of p's usable size from now on. */
void misuse_canary_drop(void *p);

#endif
