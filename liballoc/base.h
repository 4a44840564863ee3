/*
 * base: the metadata allocator for everything internal (arena and chunk
 * descriptors, spans, heaps, radix-tree leaves, profiler tables). Bump
 * allocation from 2 MiB mappings under one lock; memory is never returned,
 * which is fine for metadata that is recycled by its owners. Never sampled,
 * never handed to users. Each mapping has a PROT_NONE guard page at both
 * ends (base.c), so an overflow out of a neighbouring chunk of user blocks
 * faults instead of rewriting the allocator's own pointers.
 */
#ifndef BASE_H
#define BASE_H

#include <stddef.h>
#include "config.h"

/* Zeroed memory of size bytes aligned to align (<= PAGE), or NULL (no
 * mapping, or a signal handler that interrupted this thread inside base). A
 * request of a page or less lies within one page (base.c). Thread-safe. */
void *base_alloc(size_t size, size_t align);
/* Give base a block of zeroed memory the allocator already holds (mem,
 * size bytes, page-aligned, at least three pages), when the kernel refused
 * base a mapping (arena.c takes it from free huge runs): its first and last
 * pages become guard pages and the rest the block base allocates from;
 * what was left of the previous one is abandoned. Counted in base_mapped
 * (all of it) from then on. Thread-safe. */
void base_add_block(void *mem, size_t size);
/* Bytes mapped for metadata so far (stats.metadata), guard pages included:
 * two per mapping, 8 KiB per 2 MiB block. */
size_t base_mapped(void);
void base_prefork(void);
void base_postfork_parent(void);
void base_postfork_child(void);

#endif
