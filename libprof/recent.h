/*
 * recent: the ring of the most recent sampled allocations (prof_recent),
 * lock-free. A writer claims a position with one fetch-and-add and fills
 * the slot under a per-slot sequence number (odd while being written), so
 * readers copy an entry and keep it only if the sequence did not move: an
 * entry is seen whole or not at all. The free of a tracked block finds its
 * slot through the position stored in its sample record: O(1).
 * Capacity: prof_recent_alloc_max entries (-1: RECENT_UNLIMITED_CAP), each
 * RECENT_ENTRY_BYTES; resizing publishes a new ring and keeps the newest
 * entries; the old ring's memory is kept (rings are never unmapped, so a
 * writer that raced with the resize never touches freed memory).
 */
#ifndef RECENT_H
#define RECENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "options.h"

/* prof_recent_alloc_max -1 (and the most any value gets): options.h */
#define RECENT_UNLIMITED_CAP OPTIONS_RECENT_CAP

struct prof_site;
struct prof_tdata;
struct prof_sample;

struct recent_entry {
    _Atomic uint64_t seq;            /* pos<<3 | 1 alloc writing, 2 live, 3 free writing, 4 released */
    uintptr_t ptr;                   /* block address */
    size_t size, usize;              /* requested and usable size */
    uint64_t alloc_uid, alloc_ns;    /* allocating thread and time */
    const struct prof_site *alloc_site; /* allocation stack */
    uint64_t dalloc_uid, dalloc_ns;  /* freeing thread and time */
    const struct prof_site *dalloc_site; /* free stack (NULL if not captured) */
    uint64_t alloc_name[4];          /* allocating thread's name (32 bytes, NUL-padded) */
    uint64_t dalloc_name[4];         /* freeing thread's name */
    uint64_t weight_bits;            /* the sample's weight (a double's bits), objects it stands for */
    uint64_t alloc_allocated;        /* allocating thread's thread.allocated right after this block */
    uint64_t dalloc_allocated;       /* freeing thread's thread.allocated at the free (0 = unknown) */
};

#define RECENT_ENTRY_BYTES sizeof(struct recent_entry)

struct recent_ring {
    size_t cap;                      /* entries (power of two >= max) */
    ssize_t max;                     /* logical size: entries kept */
    _Atomic uint64_t head;           /* next position */
    struct recent_entry *slots;
};

void recent_boot(ssize_t max);
bool recent_enabled(void);
/* Called with a fresh sample record; stores the slot position in it. */
void recent_note_alloc(struct prof_sample *r, const struct prof_site *site,
                       const struct prof_tdata *td, uint64_t now);
/* allocated: the freeing thread's thread.allocated counter (td NULL: ignored). */
void recent_note_free(struct recent_ring *ring, uint64_t pos, const struct prof_tdata *td,
                      uint64_t allocated, uint64_t now);
ssize_t recent_get_max(void);
/* 0 or errno (EINVAL for < -1); returns the old max in *old. A max above
 * RECENT_UNLIMITED_CAP is reduced to it (what recent_get_max then says). */
int recent_set_max(ssize_t max, ssize_t *old);

/* Dump filters (prof.recent_alloc_dump_filtered). */
struct recent_filter {
    int state;                       /* 0 all, 1 live only, 2 released only */
    size_t min_usize;                /* keep entries with usize >= this */
    int64_t thread_uid;              /* -1 any, else allocating thread uid */
    uint64_t since_ns, until_ns;     /* allocation time window (0 = open) */
    int summary;                     /* 1: aggregate by allocation site */
};

/* JSON in jemalloc's layout (filter NULL: everything). */
void recent_dump(void (*write_cb)(void *, const char *), void *opaque,
                 const struct recent_filter *filter);

/* With prof_final: the whole ring as <prefix>.<pid>.<seq>.f.recent.json
 * (whole or nothing), numbered after the final heap dump; 0 or an errno
 * (EFAULT: no prefix). prefix: prof.prefix as foreign_dump_prefix gives it
 * (foreign.h). Takes prof.dump_lock. */
int recent_dump_final(const char *prefix);

void recent_prefork(void);
void recent_postfork_parent(void);
void recent_postfork_child(void);

#endif
