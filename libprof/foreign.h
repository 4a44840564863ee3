/*
 * foreign: other allocators with a jemalloc API in the same process, so
 * that two profilers never write the same dump names (a silent wrong
 * profile: the one that writes last wins).
 *
 * Cases found in the field:
 *  - A program linked with libjemalloc.so.2 (Debian's redis-server) run
 *    under LD_PRELOAD=liballoc.so: our malloc serves the program, but
 *    libjemalloc still initialises, reads the same MALLOC_CONF and writes
 *    its own, empty, <prefix>.<pid>.0.f.heap at exit.
 *  - Two copies of liballoc: one linked statically (liballoc.a, e.g. the
 *    Rust crate), one preloaded or loaded as a shared library.
 *
 * Rules (each situation is reported once on stderr, "<jemalloc>:" prefix):
 *  - The copy whose malloc is the process's malloc (dlsym(RTLD_DEFAULT,
 *    "malloc") lands in our object) dumps as usual. A foreign jemalloc that
 *    profiles with the same prefix is told, through its own mallctl, to
 *    write under "<prefix>.jemalloc" instead (jemalloc 5.x prof.prefix).
 *  - A copy that does not serve malloc and has sampled nothing writes no
 *    auto-named dump at all (its profile would be empty).
 *  - A copy that does not serve malloc but did sample (something calls it
 *    directly, e.g. mallocx from a plugin linked with liballoc.a) writes its
 *    auto-named dumps under "<prefix>.<its object's file name>" when any
 *    other jemalloc-API allocator is loaded, so both profiles survive.
 * Dumps to an explicit path (prof.dump with a name) are never changed.
 *
 * Detection: one walk of the loaded objects (dl_iterate_phdr), redone only
 * when objects were loaded or unloaded since. A liballoc copy is known by
 * its ELF note ("liballoc", FOREIGN_NOTE_TYPE, kept by strip and by
 * --gc-sections); another jemalloc-API allocator by a dynamic symbol
 * mallctl, je_mallctl or _rjem_mallctl (looked up in the object's own hash
 * table: no dlopen, no allocation). A statically linked jemalloc that
 * exports nothing cannot be seen.
 *
 * When: at load (a constructor, after the allocator's), before each
 * auto-named dump that is not on the allocation path, and at exit.
 * Thread-safety: all functions may be called from any thread.
 * foreign_dump_prefix takes foreign's short lock (after prof.dump_lock and
 * the site locks, as the fork handlers do); foreign_refresh holds no
 * profiler lock while it waits for the loader.
 */
#ifndef FOREIGN_H
#define FOREIGN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* Type of the note that marks an object containing liballoc (name
 * "liballoc", 4-byte descriptor: FOREIGN_NOTE_VERSION). jeprof-c record
 * looks for it in the program it runs. */
#define FOREIGN_NOTE_TYPE    0x4c41
#define FOREIGN_NOTE_VERSION 1

/* Set once this copy has sampled an allocation (never cleared). */
extern atomic_bool foreign_sampled;

static inline void foreign_note_sample(void)
{
    if (!atomic_load_explicit(&foreign_sampled, memory_order_relaxed))
        atomic_store_explicit(&foreign_sampled, true, memory_order_relaxed);
}

/* Re-detect other allocators if objects were loaded or unloaded since the
 * last walk, and act on foreign jemallocs found (redirect their prefix,
 * say so once). safe false (the allocation path: interval and gdump dumps,
 * possibly inside the loader's own locks) does nothing: those dumps use the
 * last view. No profiler lock may be held: this waits for the loader. */
void foreign_refresh(bool safe);

/* The prefix auto-named dumps of this copy use now (prefix: prof.prefix,
 * caller holds prof.dump_lock): 0 with out set, or ESRCH when this copy
 * must not write auto-named dumps (said once on stderr). */
int foreign_dump_prefix(const char *prefix, char *out, size_t outlen)
    __attribute__((warn_unused_result));

void foreign_prefork(void);
void foreign_postfork_parent(void);
void foreign_postfork_child(void);

#endif
