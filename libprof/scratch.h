/*
 * scratch: a bump allocator over private mappings for the duration of one
 * dump (pprof message structs, zlib state). Never touches the public malloc;
 * everything is unmapped at once by scratch_release. Used under the dump lock.
 */
#ifndef SCRATCH_H
#define SCRATCH_H

#include <stddef.h>

struct scratch_block;

struct scratch {
    struct scratch_block *blocks;  /* mappings, newest first */
    char *cur, *end;               /* bump range in the newest block */
    int failed;                    /* an allocation failed */
};

void *scratch_alloc(struct scratch *s, size_t size);
void *scratch_calloc(struct scratch *s, size_t n, size_t size);
void scratch_release(struct scratch *s);

#endif
