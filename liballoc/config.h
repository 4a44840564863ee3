/*
 * Build-wide switches and tiny helpers shared by every liballoc module:
 * branch hints, the export macro, debug checks that never allocate.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "warn.h"

#ifdef ALLOC_DEBUG
static const bool config_debug = true;
#else
static const bool config_debug = false;
#endif

/* The default-mode misuse checks (misuse.h): double and invalid frees,
 * free-list link protection. Always on in the library; -DALLOC_NO_MISUSE_CHECKS
 * builds a variant without them, only so bench/check_cost can measure what
 * they cost (issue 17's budget). */
#ifdef ALLOC_NO_MISUSE_CHECKS
static const bool config_misuse = false;
#else
static const bool config_misuse = true;
#endif
/* Free-list link encoding (misuse.h, opt.free_list_protect): only in builds
 * made with FREE_LIST_PROTECT=1 (-DALLOC_FREE_LIST_PROTECT). It puts a
 * multiply on malloc's chain of dependent loads, which costs 5-25% on
 * allocation-bound rows (docs/misuse.md), beyond the default mode's
 * budget; the default build keeps plain links, range-checked. */
#ifdef ALLOC_FREE_LIST_PROTECT
#define CONFIG_FREE_LIST_PROTECT 1
#else
#define CONFIG_FREE_LIST_PROTECT 0
#endif
static const bool config_free_list_protect = CONFIG_FREE_LIST_PROTECT;

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define ALLOC_EXPORT   __attribute__((visibility("default")))
#define ALWAYS_INLINE  static inline __attribute__((always_inline))
#define NOINLINE       __attribute__((noinline))
#define WARN_UNUSED    __attribute__((warn_unused_result))
/* On an extern declaration of the library's own data that a fast path
 * reads: gcc then addresses it PC-relative, where a plain extern costs a
 * GOT load (relaxed by the linker to a lea), an instruction and a register
 * more per use. */
#define HIDDEN         __attribute__((visibility("hidden")))

#define LG_PAGE     12
#define PAGE        ((size_t)1 << LG_PAGE)
#define PAGE_MASK   (PAGE - 1)
/* Chunks: the unit the arenas take from the kernel, 2 MiB so huge blocks can be THP-backed. */
#define LG_CHUNK    21
#define CHUNK       ((size_t)1 << LG_CHUNK)
#define CHUNK_MASK  (CHUNK - 1)
#define CHUNK_PAGES (CHUNK >> LG_PAGE)
#define MIN_ALIGN   16

#define ALIGN_UP(x, a)   (((x) + ((a) - 1)) & ~((uintptr_t)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((uintptr_t)(a) - 1))

/* Debug-build invariant check; type-checked in every build. alloc_fatal and
 * the message writer live in warn.c. */
#define DASSERT(e)                                                                                 \
    do {                                                                                           \
        if (config_debug && !(e))                                                                  \
            alloc_fatal(__FILE__, __LINE__, #e);                                                   \
    } while (0)

#endif
