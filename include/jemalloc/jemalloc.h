/*
 * Drop-in for jemalloc's unprefixed public header <jemalloc/jemalloc.h>.
 * The functions, flags and their documentation (with where each differs
 * from jemalloc 5.3) are in alloc.h. This file adds only what code written
 * for jemalloc may name besides them, with the values a glibc/Linux build
 * of jemalloc 5.3 gives:
 *  - the configuration and attribute macros (JEMALLOC_HAVE_ATTR...,
 *    JEMALLOC_EXPORT, JEMALLOC_ATTR, ...), which programs test with #ifdef
 *    or use in their own wrappers' declarations;
 *  - the je_* names, with JEMALLOC_NO_DEMANGLE (or JEMALLOC_MANGLE) defined
 *    before the include: macros for our unprefixed functions and variables,
 *    as a jemalloc built without a prefix gives them;
 *  - the extent hooks types (extent_hooks_t and its function types). The
 *    types only: liballoc maps its own memory, so mallctl
 *    "arena.<i>.extent_hooks" answers ENOENT (liballoc(3), DIFFERENCES).
 */
#ifndef ALLOC_JEMALLOC_COMPAT_H
#define ALLOC_JEMALLOC_COMPAT_H
#include "../alloc.h"

/* jemalloc's include guard, which some programs test to know that its
 * header was included. */
#ifndef JEMALLOC_H_
#define JEMALLOC_H_
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- configuration: what a Linux/glibc build of jemalloc 5.3 defines ---- */

/* sizeof(void *) == 1 << LG_SIZEOF_PTR. */
#if defined(__SIZEOF_POINTER__) && __SIZEOF_POINTER__ == 4
#define LG_SIZEOF_PTR 2
#else
#define LG_SIZEOF_PTR 3
#endif
/* memalign and valloc are provided (both exported by liballoc). */
#define JEMALLOC_OVERRIDE_MEMALIGN
#define JEMALLOC_OVERRIDE_VALLOC
/* glibc declares malloc_usable_size(void *), without const: so do we. */
#define JEMALLOC_USABLE_SIZE_CONST
/* The commit id of JEMALLOC_VERSION_GID as a bare token. */
#define JEMALLOC_VERSION_GID_IDENT 54eaed1d8b56b1aa528be3bdd1877e59c56fa90c

/* C++: the exception specification of glibc's declarations of the same
 * functions, so a program's redeclaration agrees with <stdlib.h>. */
#define JEMALLOC_USE_CXX_THROW
#if defined(__cplusplus) && __cplusplus >= 201103L
#define JEMALLOC_CXX_THROW noexcept(true)
#elif defined(__cplusplus)
#define JEMALLOC_CXX_THROW throw()
#else
#define JEMALLOC_CXX_THROW
#endif

/* ---- attributes: GNU C's where the compiler has them, else empty ---- */

#if defined(__GNUC__) || defined(__clang__)
#define JEMALLOC_HAVE_ATTR
#define JEMALLOC_HAVE_ATTR_ALLOC_SIZE
#define JEMALLOC_HAVE_ATTR_FORMAT_ARG
#define JEMALLOC_HAVE_ATTR_FORMAT_GNU_PRINTF
#define JEMALLOC_HAVE_ATTR_FORMAT_PRINTF
#define JEMALLOC_HAVE_ATTR_FALLTHROUGH
#define JEMALLOC_HAVE_ATTR_COLD
#define JEMALLOC_ATTR(s)             __attribute__((s))
#define JEMALLOC_ALIGNED(s)          JEMALLOC_ATTR(aligned(s))
#define JEMALLOC_ALLOC_SIZE(s)       JEMALLOC_ATTR(alloc_size(s))
#define JEMALLOC_ALLOC_SIZE2(s1, s2) JEMALLOC_ATTR(alloc_size(s1, s2))
#define JEMALLOC_EXPORT              JEMALLOC_ATTR(visibility("default"))
#define JEMALLOC_FORMAT_ARG(i)       JEMALLOC_ATTR(__format_arg__(i))
#define JEMALLOC_FORMAT_PRINTF(s, i) JEMALLOC_ATTR(format(gnu_printf, s, i))
#define JEMALLOC_FALLTHROUGH         JEMALLOC_ATTR(fallthrough)
#define JEMALLOC_NOINLINE            JEMALLOC_ATTR(noinline)
#define JEMALLOC_NOTHROW             JEMALLOC_ATTR(nothrow)
#define JEMALLOC_SECTION(s)          JEMALLOC_ATTR(section(s))
#define JEMALLOC_COLD                JEMALLOC_ATTR(__cold__)
#else
#define JEMALLOC_ATTR(s)
#define JEMALLOC_ALIGNED(s)
#define JEMALLOC_ALLOC_SIZE(s)
#define JEMALLOC_ALLOC_SIZE2(s1, s2)
#define JEMALLOC_EXPORT
#define JEMALLOC_FORMAT_ARG(i)
#define JEMALLOC_FORMAT_PRINTF(s, i)
#define JEMALLOC_FALLTHROUGH
#define JEMALLOC_NOINLINE
#define JEMALLOC_NOTHROW
#define JEMALLOC_SECTION(s)
#define JEMALLOC_COLD
#endif
/* Empty with GCC and Clang, as jemalloc's (MSVC-only meanings). */
#define JEMALLOC_RESTRICT_RETURN
#define JEMALLOC_ALLOCATOR
#define JEMALLOC_SYS_NOTHROW JEMALLOC_NOTHROW

/* ---- je_* names ---- */

/* JEMALLOC_MANGLE asks for the je_* names too (jemalloc then also renames
 * malloc to je_malloc and so on, which for an unprefixed build is the same
 * function: nothing to rename here). */
#if defined(JEMALLOC_MANGLE) && !defined(JEMALLOC_NO_DEMANGLE)
#define JEMALLOC_NO_DEMANGLE
#endif
#ifdef JEMALLOC_NO_DEMANGLE
#define je_aligned_alloc      aligned_alloc
#define je_calloc             calloc
#define je_dallocx            dallocx
#define je_free               free
#define je_mallctl            mallctl
#define je_mallctlbymib       mallctlbymib
#define je_mallctlnametomib   mallctlnametomib
#define je_malloc             malloc
#define je_malloc_conf        malloc_conf
#define je_malloc_message     malloc_message
#define je_malloc_stats_print malloc_stats_print
#define je_malloc_usable_size malloc_usable_size
#define je_mallocx            mallocx
#define je_nallocx            nallocx
#define je_posix_memalign     posix_memalign
#define je_rallocx            rallocx
#define je_realloc            realloc
#define je_sallocx            sallocx
#define je_sdallocx           sdallocx
#define je_xallocx            xallocx
#define je_memalign           memalign
#define je_valloc             valloc
#endif

/* ---- extent hooks (types only; see the top of this file) ---- */

typedef struct extent_hooks_s extent_hooks_t;

/* Map size bytes at new_addr (or anywhere if NULL) aligned to alignment;
 * *zero, *commit in: required, out: what the memory is. NULL on failure. */
typedef void *(extent_alloc_t)(extent_hooks_t *, void *, size_t, size_t, bool *, bool *,
                               unsigned);
/* Release addr/size (committed or not); true means "not released, keep it". */
typedef bool(extent_dalloc_t)(extent_hooks_t *, void *, size_t, bool, unsigned);
/* Release addr/size unconditionally (arena destruction). */
typedef void(extent_destroy_t)(extent_hooks_t *, void *, size_t, bool, unsigned);
/* Commit or decommit length bytes at offset of addr/size; true on failure. */
typedef bool(extent_commit_t)(extent_hooks_t *, void *, size_t, size_t, size_t, unsigned);
typedef bool(extent_decommit_t)(extent_hooks_t *, void *, size_t, size_t, size_t, unsigned);
/* Purge length bytes at offset of addr/size (lazily or forced); true on failure. */
typedef bool(extent_purge_t)(extent_hooks_t *, void *, size_t, size_t, size_t, unsigned);
/* Split addr/size into size_a and size_b bytes; true on failure. */
typedef bool(extent_split_t)(extent_hooks_t *, void *, size_t, size_t, size_t, bool, unsigned);
/* Merge addr_a/size_a with the adjacent addr_b/size_b; true on failure. */
typedef bool(extent_merge_t)(extent_hooks_t *, void *, size_t, void *, size_t, bool, unsigned);

/* The member order and types of jemalloc 5.3's: a program's static
 * initializers of this struct compile unchanged. */
struct extent_hooks_s {
    extent_alloc_t *alloc;          /* map */
    extent_dalloc_t *dalloc;        /* unmap (may refuse) */
    extent_destroy_t *destroy;      /* unmap (must) */
    extent_commit_t *commit;        /* commit a part */
    extent_decommit_t *decommit;    /* decommit a part */
    extent_purge_t *purge_lazy;     /* purge a part, lazily (MADV_FREE) */
    extent_purge_t *purge_forced;   /* purge a part now (MADV_DONTNEED) */
    extent_split_t *split;          /* split in two */
    extent_merge_t *merge;          /* merge two neighbours */
};

#ifdef __cplusplus
}
#endif

#endif
