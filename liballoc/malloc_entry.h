/*
 * malloc_entry: the internal names of the exported entry points.
 *
 * malloc.c gives each entry point <name> a hidden name alloc_<name>: an
 * alias (the same code, as glibc's hidden_def does), except alloc_malloc
 * and alloc_free, copies at their own addresses (valgrind replaces malloc
 * and free in every object by address, an alias with them). Code inside
 * the library (malloc.c itself, the C++ operators in new_delete.cc,
 * anything that hands a block back) calls the hidden name, which the
 * static and the dynamic linker both bind inside the library. The public
 * name may resolve elsewhere: a plugin linked with -lalloc in a program
 * that is not sees glibc's malloc/free first in the global search order,
 * and a dallocx calling "free" would then hand our block to glibc.
 *
 * Rule for the whole library: our blocks are freed with alloc_free (or the
 * heap's own paths); memory a libc or library function allocates for us
 * (strdup, getline, open_memstream, ...) belongs to whichever malloc the
 * process uses and must go back through the public free, never alloc_free.
 * Today liballoc and libprof call no such function; keep it that way where
 * possible (base and scratch memory serve internal needs).
 *
 * Thread-safety and semantics: exactly those of the public functions
 * (include/alloc.h).
 */
#ifndef MALLOC_ENTRY_H
#define MALLOC_ENTRY_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#define MALLOC_ENTRY_NOTHROW noexcept
#else
#define MALLOC_ENTRY_NOTHROW
#endif

void *alloc_malloc(size_t size) MALLOC_ENTRY_NOTHROW;
void alloc_free(void *p) MALLOC_ENTRY_NOTHROW;
void *alloc_calloc(size_t n, size_t size) MALLOC_ENTRY_NOTHROW;
void *alloc_realloc(void *p, size_t size) MALLOC_ENTRY_NOTHROW;
/* posix_memalign semantics: 0, EINVAL (bad alignment) or ENOMEM; errno kept. */
int alloc_posix_memalign(void **out, size_t align, size_t size) MALLOC_ENTRY_NOTHROW;
void *alloc_mallocx(size_t size, int flags) MALLOC_ENTRY_NOTHROW;
void alloc_dallocx(void *p, int flags) MALLOC_ENTRY_NOTHROW;
/* Sized free: size is any value in [requested size, usable size] of p's
 * allocation (as for jemalloc's sdallocx); flags may carry MALLOCX_ALIGN. */
void alloc_sdallocx(void *p, size_t size, int flags) MALLOC_ENTRY_NOTHROW;
size_t alloc_sallocx(const void *p, int flags) MALLOC_ENTRY_NOTHROW;

/* operator new(size_t) and new[](size_t) (new_delete.cc tail-calls it):
 * malloc's inline fast path, and on failure alloc_new_fail's result (the
 * new-handler loop; it throws std::bad_alloc, so never NULL). */
void *alloc_new(size_t size);
/* operator new's failure path, in new_delete.cc (C++). malloc.c refers to
 * it weakly, so a C program linking liballoc.a never pulls new_delete.o
 * (and libstdc++) in: alloc_new is reached only from operator new, which
 * lives in new_delete.o. */
void *alloc_new_fail(size_t size);

#ifdef __cplusplus
}
#endif
#undef MALLOC_ENTRY_NOTHROW

#endif
