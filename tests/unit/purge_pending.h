/*
 * purge_pending: for white-box unit tests of decay ticks (decay_tick_large,
 * lcache_tick), which need purge work pending in the calling thread's arena
 * and read the thread heap's counters between mallocs and frees.
 */
#ifndef TESTS_PURGE_PENDING_H
#define TESTS_PURGE_PENDING_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "decay.h"

#include <jemalloc/jemalloc.h>

/* Leave purge work pending: a freed 3 MiB run and a 200 KiB large block
 * back in the arena (decay on, 10 s by default). */
static inline void purge_pending_make(void)
{
    void *big = malloc(3u << 20);
    CHECK(big != NULL);
    memset(big, 1, 3u << 20);
    free(big);
    void *l = malloc(200 << 10);
    free(l);
    CHECK(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0) == 0);
    CHECK(decay_pending());
}

/* A heap counter as of now (volatile: the compiler takes malloc and free
 * for builtins that touch no memory of ours, so a plain read could be
 * hoisted over them). */
static inline uint64_t read64(const uint64_t *p)
{
    return *(volatile const uint64_t *)p;
}

static inline uint32_t read32(const uint32_t *p)
{
    return *(volatile const uint32_t *)p;
}

#endif
