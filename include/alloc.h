/*
 * liballoc public interface: the C standard and POSIX allocation functions
 * plus jemalloc's non-standard API (mallocx family, mallctl, stats), with
 * jemalloc's unprefixed names, so code written against <jemalloc/jemalloc.h>
 * compiles and links against -lalloc unchanged.
 */
#ifndef ALLOC_H
#define ALLOC_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <limits.h>
#include <strings.h>

#ifdef __cplusplus
extern "C" {
#endif

#define JEMALLOC_VERSION       "5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c"
#define JEMALLOC_VERSION_MAJOR 5
#define JEMALLOC_VERSION_MINOR 3
#define JEMALLOC_VERSION_BUGFIX 0
#define JEMALLOC_VERSION_NREV  0
#define JEMALLOC_VERSION_GID   "54eaed1d8b56b1aa528be3bdd1877e59c56fa90c"

/* Flags for the mallocx family (same encoding as jemalloc). */
#define MALLOCX_LG_ALIGN(la)   ((int)(la))
#define MALLOCX_ALIGN(a)       ((int)(ffsl((long)(a)) - 1))
#define MALLOCX_ZERO           ((int)0x40)
/* Bias tcache index bits so that 0 encodes "automatic tcache management". */
#define MALLOCX_TCACHE(tc)     ((int)(((tc) + 2) << 8))
#define MALLOCX_TCACHE_NONE    MALLOCX_TCACHE(-1)
/* Bias arena index bits so that 0 encodes "use an automatically chosen arena". */
#define MALLOCX_ARENA(a)       ((((int)(a)) + 1) << 20)

#define MALLCTL_ARENAS_ALL       4096
#define MALLCTL_ARENAS_DESTROYED 4097

#if defined(__cplusplus)
/* C++: the exception specification glibc's <stdlib.h> gives the same
 * functions (__THROW), so the two declarations agree whichever comes first. */
#define ALLOC_ATTR_MALLOC      __attribute__((malloc))
#define ALLOC_ATTR_ALLOC_SIZE(...) __attribute__((alloc_size(__VA_ARGS__)))
#define ALLOC_NOTHROW          noexcept(true)
#elif defined(__GNUC__)
#define ALLOC_ATTR_MALLOC      __attribute__((malloc))
#define ALLOC_ATTR_ALLOC_SIZE(...) __attribute__((alloc_size(__VA_ARGS__)))
#define ALLOC_NOTHROW          __attribute__((nothrow))
#else
#define ALLOC_ATTR_MALLOC
#define ALLOC_ATTR_ALLOC_SIZE(...)
#define ALLOC_NOTHROW
#endif

/* Standard and POSIX entry points. */
void *malloc(size_t size) ALLOC_NOTHROW ALLOC_ATTR_MALLOC ALLOC_ATTR_ALLOC_SIZE(1);
void *calloc(size_t num, size_t size) ALLOC_NOTHROW ALLOC_ATTR_MALLOC ALLOC_ATTR_ALLOC_SIZE(1, 2);
int posix_memalign(void **memptr, size_t alignment, size_t size) ALLOC_NOTHROW;
void *aligned_alloc(size_t alignment, size_t size) ALLOC_NOTHROW ALLOC_ATTR_MALLOC ALLOC_ATTR_ALLOC_SIZE(2);
void *realloc(void *ptr, size_t size) ALLOC_NOTHROW ALLOC_ATTR_ALLOC_SIZE(2);
void free(void *ptr) ALLOC_NOTHROW;
void *memalign(size_t alignment, size_t size) ALLOC_NOTHROW ALLOC_ATTR_MALLOC;
void *valloc(size_t size) ALLOC_NOTHROW ALLOC_ATTR_MALLOC;
void *pvalloc(size_t size) ALLOC_NOTHROW ALLOC_ATTR_MALLOC;
void *reallocarray(void *ptr, size_t nmemb, size_t size) ALLOC_NOTHROW;
size_t malloc_usable_size(void *ptr) ALLOC_NOTHROW;

/* jemalloc's non-standard API. */
void *mallocx(size_t size, int flags) ALLOC_NOTHROW ALLOC_ATTR_MALLOC ALLOC_ATTR_ALLOC_SIZE(1);
void *rallocx(void *ptr, size_t size, int flags) ALLOC_NOTHROW ALLOC_ATTR_ALLOC_SIZE(2);
size_t xallocx(void *ptr, size_t size, size_t extra, int flags) ALLOC_NOTHROW;
size_t sallocx(const void *ptr, int flags) ALLOC_NOTHROW;
void dallocx(void *ptr, int flags) ALLOC_NOTHROW;
void sdallocx(void *ptr, size_t size, int flags) ALLOC_NOTHROW;
size_t nallocx(size_t size, int flags) ALLOC_NOTHROW;

int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen) ALLOC_NOTHROW;
int mallctlnametomib(const char *name, size_t *mibp, size_t *miblenp) ALLOC_NOTHROW;
int mallctlbymib(const size_t *mib, size_t miblen, void *oldp, size_t *oldlenp, void *newp,
                 size_t newlen) ALLOC_NOTHROW;
void malloc_stats_print(void (*write_cb)(void *, const char *), void *cbopaque,
                        const char *opts) ALLOC_NOTHROW;

/* Compile-time options, read before MALLOC_CONF (jemalloc's malloc_conf). */
extern const char *malloc_conf;
extern void (*malloc_message)(void *cbopaque, const char *s);

#ifdef __cplusplus
}
#endif

#endif /* ALLOC_H */
