/*
 * junk: opt.junk ("true", "false", "alloc", "free"). With alloc, every new
 * block that is not asked zeroed (calloc, MALLOCX_ZERO, opt.zero) is filled
 * with 0xa5; with free, every freed block (and the freed tail of a block
 * shrunk in place) with 0x5a; "true" is both. Small, large and huge blocks
 * alike, and realloc's grown and freed parts.
 *
 * opt.zero (jemalloc's: every allocation zeroed, for debugging) rides on
 * the same routing: junk_alloc is on and the fill byte is 0, so every new
 * block and every grown part is zeroed (junk:alloc then fills nothing:
 * zero wins); the general path also asks arenas for zeroed large and huge
 * blocks, which fresh pages already are, instead of writing them.
 *
 * Cost when off: nothing on the fast paths. Junk-enabled processes are
 * routed through the slow paths instead: junk:alloc keeps every thread
 * heap's current-page pointers empty (tcache_nfast = 0, see tcache.h), and
 * junk:free sets SPAN_TAG_JUNK in every owned slab page's tag so the inline
 * free's owner compare fails. Set once at init, read-only after.
 */
#ifndef JUNK_H
#define JUNK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "config.h"

#define JUNK_ALLOC_BYTE 0xa5
#define JUNK_FREE_BYTE  0x5a

extern bool junk_alloc HIDDEN; /* fill new blocks (junk:alloc, junk:true or zero:true) */
extern unsigned char junk_alloc_byte HIDDEN; /* their fill: JUNK_ALLOC_BYTE, or 0 with zero:true */
extern bool junk_free HIDDEN;  /* fill freed blocks */
/* SPAN_TAG_JUNK when junk_free (ORed into every owned page's tag), else 0. */
extern uintptr_t junk_tag;

/* Parse opt.junk (from malloc_init, before any page is handed out). */
void junk_boot(void);

static inline void junk_on_alloc(void *p, size_t n)
{
    if (junk_alloc)
        memset(p, junk_alloc_byte, n);
}

static inline void junk_on_free(void *p, size_t n)
{
    if (junk_free)
        memset(p, JUNK_FREE_BYTE, n);
}

#endif
