/*
 * Drop-in for jemalloc's unprefixed public header <jemalloc/jemalloc.h>:
 * it declares nothing of its own. Everything, with the documentation of
 * each function and where it differs from jemalloc 5.3, is in alloc.h.
 */
#ifndef ALLOC_JEMALLOC_COMPAT_H
#define ALLOC_JEMALLOC_COMPAT_H
#include "../alloc.h"
#endif
