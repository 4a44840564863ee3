/*
 * osmap: the registry of every address range the allocator holds from the
 * kernel (chunks, huge regions, metadata blocks), kept by os_map_aligned and
 * os_unmap, so that stats.resident can ask the kernel which of *our* pages
 * are really in RAM (os_resident, i.e. mincore) instead of estimating from
 * page counters: an estimate counts pages handed out but never touched,
 * untouched tails of huge blocks and of slab pages, and pages the kernel
 * dropped. Ranges are kept sorted and adjacent ranges merged, so a heap of
 * contiguous chunks is one or a few entries.
 *
 * Concurrency: one leaf mutex (taken inside arena and base locks, never
 * around them). The measurement holds it, so a range cannot be unmapped
 * while it is being measured.
 */
#ifndef OSMAP_H
#define OSMAP_H

#include <stddef.h>
#include <stdint.h>

/* Note [addr, addr+size) as mapped / no longer mapped by the allocator. */
void osmap_add(uintptr_t addr, size_t size);
void osmap_remove(uintptr_t addr, size_t size);
/* Hold the registry across a change to the kernel's mappings that the
 * caller then records with osmap_remove_held (os_move_pages: a range
 * unmapped by a move, then mapped again or not): a mapping another thread
 * makes in that range meanwhile is registered only once the registry is
 * released, after the removal, never before it (it would be removed with
 * it). Nothing that registers may run between hold and release. */
void osmap_hold(void);
void osmap_release(void);
void osmap_remove_held(uintptr_t addr, size_t size);
/* Bytes of the registered ranges that are resident now (kernel's view, in
 * whole pages): exact up to 1 GiB mapped; beyond, 1 GiB of 2 MiB
 * windows spread over the ranges are measured and their resident share is
 * applied to the whole (unbiased; the error grows when residency is
 * concentrated in few windows). About 2.5 ms at most;
 * holds the registry lock meanwhile. SIZE_MAX if the registry is
 * incomplete (it could not grow). */
size_t osmap_resident(void);
/* Bytes currently registered (the allocator's whole mapped footprint). */
size_t osmap_mapped(void);
void osmap_prefork(void);
void osmap_postfork_parent(void);
void osmap_postfork_child(void);

#endif
