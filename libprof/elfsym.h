/*
 * elfsym: function names from an ELF file's .symtab (or .dynsym), read with
 * plain file I/O into a scratch arena, for symbolizing pprof dumps at write
 * time the way the Go runtime does. No DWARF: names only.
 */
#ifndef ELFSYM_H
#define ELFSYM_H

#include <stddef.h>
#include <stdint.h>
#include "scratch.h"

struct elfsym_fn {
    uint64_t lo, hi;        /* [lo, hi) link-time addresses */
    const char *name;
};

struct elfsym {
    struct elfsym_fn *fns;  /* sorted by lo */
    size_t n;
    /* PT_LOAD segments: file offset -> link-time address. */
    struct { uint64_t off, filesz, vaddr; } seg[16];
    unsigned nseg;
};

/* 0 on success (table may be empty), errno otherwise. */
int elfsym_load(struct scratch *sc, const char *path, struct elfsym *out);
/* Name of the function containing file offset `off` (of a mapped address), or NULL. */
const char *elfsym_lookup(const struct elfsym *t, uint64_t file_off);

/* Calls cb once per executable segment [lo, hi) of every ELF object mapped
 * in this process that carries a GNU build ID, with the ID as lowercase hex.
 * The ID is read from the object's notes in memory, so it names the code
 * that runs even when the file on disk was replaced or deleted since it was
 * loaded. Objects are found from /proc/self/maps (a file mapped at offset
 * 0 holds its ELF header) and copied through a pipe, so no loader
 * lock is taken (dumps run inside malloc, maybe inside dlopen, and in
 * forked children) and an object unmapped meanwhile is skipped, never a
 * fault. Not reentrant: callers are serialized (prof.dump_lock). No
 * allocation. */
void elfsym_loaded_build_ids(void (*cb)(void *arg, uintptr_t lo, uintptr_t hi, const char *hex),
                             void *arg);

/* Finds the GNU build-id note in a run of ELF notes (len bytes at buf);
 * writes it as lowercase hex into out and returns 1, or returns 0. */
int elfsym_notes_build_id(const unsigned char *buf, size_t len, char *out, size_t outlen);

/* Calls cb with each line of /proc/self/maps (NUL-terminated, without its
 * newline; writable) until cb returns non-zero, reading through buf (cap
 * bytes; a longer line is skipped). Returns cb's non-zero answer, 0 at the
 * end, -1 if the file cannot be opened. No allocation; reentrant with a
 * buffer of the caller's own. */
int elfsym_maps_each(char *buf, size_t cap, int (*cb)(void *arg, char *line), void *arg);

/* GNU build ID of the ELF file at path (lowercase hex into out), or "". */
void elfsym_file_build_id(const char *path, char *out, size_t outlen);

#endif
