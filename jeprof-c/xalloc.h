/* xalloc: memory helpers that print "error: out of memory" and exit(1) on
 * exhaustion, so callers never test for NULL, and a growable-array helper.
 * No state of their own: safe on any thread. */
#ifndef JEPROF_XALLOC_H
#define JEPROF_XALLOC_H

#include <stddef.h>

/* malloc/calloc/realloc that never return NULL; a size of 0 allocates 1. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t sz);
void *xrealloc(void *p, size_t n);
/* A fresh NUL-terminated copy of s (xstrndup: of its first n bytes). */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* A freshly allocated printf result. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grows *p (element size sz) so that index need-1 fits; *cap is the capacity. */
void grow_array(void **p, size_t *cap, size_t need, size_t sz);
/* The same, with the common case (room left) inline: the readers and the
 * analysis append one element at a time, a million times on a large
 * profile. need is evaluated twice: pass no side effects. */
#define GROW(p, cap, need)                                                                        \
    ((need) <= (cap) && (p) ? (void)0 : grow_array((void **)&(p), &(cap), (need), sizeof(*(p))))

#endif
