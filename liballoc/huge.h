/*
 * huge: blocks above LARGE_MAX (1 MiB), each in its own mapping that
 * starts on a 2 MiB boundary (or the requested larger alignment) and spans
 * whole 2 MiB units, so transparent huge pages can back it. Freed mappings
 * are cached dirty for reuse and unmapped by the arena's decay.
 * The mapping is usize rounded up to 2 MiB: at most 2 MiB - 4 KiB of address
 * space per block is unused, and it is never touched, so it costs no RSS
 * under thp:default/never.
 */
#ifndef HUGE_H
#define HUGE_H

#include <stdbool.h>
#include <stddef.h>
#include "arena.h"

void *huge_alloc(struct arena *a, size_t usize, size_t align, bool zero);
void huge_free(struct span *s);
/* Resize to new_usize keeping the address; false if it cannot. */
bool huge_resize_in_place(struct span *s, size_t new_usize, bool zero);
/* Move to a larger mapping without copying (mremap); NULL if it cannot. */
void *huge_realloc_move(struct span *s, size_t new_usize);

#endif
