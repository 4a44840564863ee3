/* Drop-in for jemalloc's unprefixed public header: everything is in alloc.h. */
#ifndef ALLOC_JEMALLOC_COMPAT_H
#define ALLOC_JEMALLOC_COMPAT_H
#include "../alloc.h"
#endif
