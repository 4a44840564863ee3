/* idmap: uint64 id -> uint32 index, open addressing; for pprof's ids. */
#ifndef JEPROF_IDMAP_H
#define JEPROF_IDMAP_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "xalloc.h"
#include "hash.h"

struct idmap {
    uint64_t *keys; /* 0 = empty slot (pprof ids are nonzero) */
    uint32_t *vals; /* index for the key */
    size_t n;       /* power of two */
};

static inline void idmap_init(struct idmap *m, size_t want)
{
    m->n = 16;
    while (m->n < want * 2)
        m->n *= 2;
    m->keys = xcalloc(m->n, sizeof(uint64_t));
    m->vals = xcalloc(m->n, sizeof(uint32_t));
}

static inline void idmap_free(struct idmap *m)
{
    free(m->keys);
    free(m->vals);
}

/* Inserts; returns 0, or EEXIST for a duplicate or zero id. Capacity is fixed
 * at init (want), so callers insert at most `want` keys. */
static inline int idmap_put(struct idmap *m, uint64_t key, uint32_t val)
{
    if (key == 0)
        return EEXIST;
    size_t i = hash_u64(key) & (m->n - 1);
    while (m->keys[i]) {
        if (m->keys[i] == key)
            return EEXIST;
        i = (i + 1) & (m->n - 1);
    }
    m->keys[i] = key;
    m->vals[i] = val;
    return 0;
}

/* Returns 1 and sets *val when found. */
static inline int idmap_get(const struct idmap *m, uint64_t key, uint32_t *val)
{
    if (key == 0)
        return 0;
    size_t i = hash_u64(key) & (m->n - 1);
    while (m->keys[i]) {
        if (m->keys[i] == key) {
            *val = m->vals[i];
            return 1;
        }
        i = (i + 1) & (m->n - 1);
    }
    return 0;
}

#endif
