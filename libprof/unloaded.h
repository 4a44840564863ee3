/*
 * unloaded: the modules dlclose unloaded, so that a stack captured while
 * one was mapped is not named after code mapped at its addresses later (a
 * plugin unloaded, another library loaded where it was).
 *
 * The exported dlclose (cfi.c) calls unloaded_snapshot before the C
 * library's dlclose and unloaded_note after it; the modules of the snapshot
 * gone from the second look are recorded with their path, build ID and code
 * segments, and the load generation (cfi_gen) after that dlclose (done).
 * When the program's dlclose calls go to the C library's instead (the
 * allocator loaded by a plugin, RTLD_LOCAL), cfi.c polls the loader's
 * load and unload counts before each stack and dump, and
 * unloaded_poll_note records what went since the last look.
 * A module unloaded again at the same addresses with the same path and
 * build ID takes its earlier record (a plugin reloaded in a loop, or two
 * loaded in turn, take one record each); every unload is an event (its
 * done and record), UNLOADED_EVENTS of them at most: beyond, or beyond
 * UNLOADED_MAX records, the unloads are not recorded and frames of the
 * modules they unloaded are written as they are.
 *
 * Sites are not split by unloads (site.c): a site made while a module was
 * mapped keeps counting stacks with the same addresses after a reload.
 * Each record has an alias: UNLOADED_ALIAS_BASE + k * UNLOADED_ALIAS_STRIDE
 * for the k-th record, an address range no process can map (above 2^56,
 * non-canonical with 4- and 5-level paging). Dumps write a return address
 * of a stack taken before its module's unload at its alias, and list the
 * alias segments as mappings of the module's file (heap_v2's maps section
 * with "# build_id" lines, pprof's Mapping), so jeprof, jeprof-c and pprof
 * name it from the file that ran, or, when that file is gone or another
 * build, show an address in no usable mapping: never the new occupant's
 * name.
 *
 * Writers hold cfi.c's unload lock; readers are lock-free (a record is
 * complete before the count covers it). No allocation.
 */
#ifndef UNLOADED_H
#define UNLOADED_H

#include <stdbool.h>
#include <stdint.h>

#define UNLOADED_ALIAS_BASE ((uintptr_t)1 << 56)
#define UNLOADED_ALIAS_STRIDE ((uintptr_t)1 << 36) /* 64 GiB per module */
#define UNLOADED_MAX 128      /* distinct modules (and places) */
#define UNLOADED_EVENTS 16384 /* unloads */

/* Before the C library's dlclose: the loaded modules with what a record
 * needs. Unload lock held. */
void unloaded_snapshot(void);
/* After it: record the modules of the snapshot that are gone, with done,
 * the load generation after the dlclose. Unload lock held. */
void unloaded_note(uint64_t done);

/* When the program's dlclose calls do not reach the exported one (cfi.c
 * polls the loader's counts instead): record the modules of the last
 * snapshot that are gone from a new look -- none at the same place with
 * the same build ID and path -- with done, and make the new look the
 * snapshot. Unload lock held. */
void unloaded_poll_note(uint64_t done);

/* The done of the latest unload (0: none yet), so callers skip the rest
 * for stacks newer than that. */
uint64_t unloaded_last(void);

/* True if one of pcs[0..n) lies where a module unloaded after generation
 * since was mapped, or more modules were unloaded after since than the
 * table keeps (then nothing can be told). For libunwind's cache (cfi.c). */
bool unloaded_hit(const uintptr_t *pcs, unsigned n, uint64_t since);

/* The address a dump writes for return address pc of a stack captured in
 * generation gen: the alias of the first module unloaded after gen that
 * held pc, else pc. */
uintptr_t unloaded_alias(uintptr_t pc, uint64_t gen);

/* One code segment of a recorded module at its alias, as a maps line has
 * it: [lo, hi) at file offset offset of path (never empty), and the build
 * ID read from the module in memory ("" if it had none). */
struct unloaded_seg {
    uintptr_t lo, hi, offset;
    const char *path, *build_id;
};
/* Calls cb for every alias segment of every recorded module with a path. */
void unloaded_foreach(void (*cb)(void *arg, const struct unloaded_seg *seg), void *arg);

/* The maps line of seg ("lo-hi r-xp offset 00:00 0 path\n", as
 * /proc/self/maps writes it) into buf; its length, or 0 if it does not fit. */
unsigned unloaded_maps_line(const struct unloaded_seg *seg, char *buf, unsigned size);

#endif
