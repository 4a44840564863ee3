/*
 * prof: the sampling heap profiler's internal model, shared by the
 * sampler (prof.c), the site and sample tables (site.c), the dump writers
 * (dump_heapv2.c, dump_pprof.c) and the mallctl handlers (prof_ctl.c).
 *
 * Each sampled block carries the Horvitz-Thompson weight 1/(1-e^(-usize/R))
 * computed with the R in force when it was sampled; sites sum weights, so
 * estimates stay unbiased when R changes at run time.
 * Locking: site stripes and sample stripes are separate mutexes and are
 * never held together; no profiler lock is held while unwinding or writing.
 */
#ifndef PROF_H
#define PROF_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "backtrace.h"

struct heap;
struct recent_ring;

/* Counters for one site or one (site, thread) pair. */
struct prof_cnt {
    double ucount;       /* unbiased objects: sum of weights */
    double ubytes;       /* unbiased bytes: sum of usize * weight */
    uint64_t count;      /* raw sampled objects */
    uint64_t bytes;      /* raw sampled bytes */
};

struct prof_tdata;

/* thr_uid of the per-site share that keeps exited threads' cumulative counts. */
#define PROF_UID_EXITED UINT64_MAX

/* One thread's share of a site. */
struct prof_tctx {
    struct prof_site *site;      /* owning site */
    uint64_t thr_uid;            /* thread it counts for */
    struct prof_tdata *tdata;    /* live thread data while tdata->uid == thr_uid */
    struct prof_cnt cur;         /* live sampled blocks */
    struct prof_cnt accum;       /* every sampled block (prof_accum) */
    struct prof_tctx *next;      /* site's list */
};

/* A distinct allocation stack. */
struct prof_site {
    uint64_t hash;               /* of the pcs */
    struct prof_site *next;      /* hash chain */
    struct prof_site *all_next;  /* creation-ordered list of every site */
    struct prof_cnt cur, accum;  /* totals over threads */
    struct prof_tctx *tctxs;     /* per-thread shares */
    uint32_t depth;              /* frames in pcs */
    uintptr_t pcs[];             /* return addresses, innermost first */
};

/* A live sampled block. */
struct prof_sample {
    uintptr_t ptr;               /* block address (hash key) */
    struct prof_sample *next;    /* hash chain or free list */
    struct prof_tctx *tctx;      /* where it is counted */
    size_t size, usize;          /* requested and usable size */
    double weight;               /* 1/(1-e^(-usize/R)) at sampling time */
    uint64_t reset_epoch;        /* prof.reset generation it belongs to */
    uint64_t alloc_ns;           /* allocation time */
    struct recent_ring *recent_ring; /* ring holding its recent entry, if any */
    uint64_t recent_idx;         /* position of that entry */
};

/* Per-thread profiler state. */
struct prof_tdata {
    uint64_t uid;                /* thread uid (heap's) */
    bool active;                 /* thread.prof.active */
    bool in_prof;                /* reentrancy guard */
    bool live;                   /* thread still running */
    uint64_t prng;               /* xorshift state for sampling waits */
    uint64_t last_allocated;     /* heap->allocated at the previous event (intervals) */
    char name[64];               /* thread.prof.name or pthread name */
    struct prof_tdata *next, *prev; /* live list */
    struct prof_tdata *free_next;   /* recycled */
    /* Dump-time accumulators (under the dump lock). */
    struct prof_cnt dump_cur, dump_accum;
};

struct prof_state {
    bool active;                 /* prof.active */
    bool gdump;                  /* prof.gdump */
    bool thread_active_init;     /* prof.thread_active_init */
    unsigned lg_sample;          /* current lg sample period */
    uint64_t reset_epoch;        /* bumped by prof.reset */
    char prefix[4097];           /* dump prefix (prof.prefix) */
    pthread_mutex_t dump_lock;   /* serialises dumps and prefix changes */
    pthread_mutex_t tdata_lock;  /* live tdata list */
    struct prof_tdata *tdatas;   /* live threads */
    uint64_t dump_seq, mseq, iseq, useq;
};

extern struct prof_state prof;

/* site.c */
void site_boot(void);
/* Record a sample of p (locks inside). */
void site_record(struct prof_tdata *td, uintptr_t p, size_t size, size_t usize,
                 const uintptr_t *pcs, unsigned depth, double weight, uint64_t now);
/* The immortal site for a stack without counting anything (free stacks). */
struct prof_site *site_intern(const uintptr_t *pcs, unsigned depth);
/* Remove p's sample if there is one; returns its record copy in *out. */
bool site_forget(uintptr_t p, struct prof_sample *out);
/* Visit every site (snapshot of counters under its stripe lock). */
typedef void (*site_visit_fn)(void *arg, const struct prof_site *site, const struct prof_cnt *cur,
                              const struct prof_cnt *accum);
void site_foreach(site_visit_fn fn, void *arg);
/* Visit every (site, tctx) pair of a site (caller holds no lock; called from site_foreach). */
typedef void (*tctx_visit_fn)(void *arg, const struct prof_tctx *t);
void site_foreach_tctx(const struct prof_site *site, tctx_visit_fn fn, void *arg);
void site_reset(void);
/* Live sampled blocks (for prof.stats-like summaries and leak checks). */
uint64_t site_live_samples(void);
void site_prefork(void);
void site_postfork_parent(void);
void site_postfork_child(void);

/* Unbiased counters as written to heap_v2 for period R (jemalloc's transform). */
void prof_unbias_for_dump(const struct prof_cnt *c, double R, uint64_t *objs, uint64_t *bytes);

/* High-water check for prof_gdump. */
void prof_gdump_check(void);

/* dump_heapv2.c */
int prof_dump_heapv2_cb(void (*write_cb)(void *, const char *), void *opaque);
/* Write a dump file (heap_v2 and/or pprof, per prof_format) at path; 0 or errno. */
int prof_dump_path(const char *path);
/* Auto-named dump of kind 'm', 'i', 'u' or 'f'. */
int prof_dump_auto(char kind);

/* dump_pprof.c: gzip'd profile.proto at path (whole or nothing); dump lock held. */
int prof_dump_pprof_file(const char *path);

/* The gzip'd profile in memory (pages from prof_host_map, never malloc). */
struct pprof_buf {
    unsigned char *p;            /* bytes */
    size_t len;                  /* bytes used */
    size_t cap;                  /* bytes mapped (0: nothing mapped) */
};
#define PPROF_BUF_MAX ((size_t)1 << 30) /* larger profiles fail with ENOMEM */
/* Build the profile into b (takes and releases prof.dump_lock; any thread
 * but one already holding it). default_type: the sample type readers show
 * first ("alloc_space" for /debug/pprof/allocs; NULL: unset, readers show
 * the last, inuse_space). 0, or ENOMEM with b empty. */
int prof_pprof_to_buf(struct pprof_buf *b, const char *default_type);
void prof_pprof_buf_free(struct pprof_buf *b);
/* mallctl prof.dump_pprof_fd: the profile (as /debug/pprof/heap serves it)
 * written to fd after the dump lock is released. 0, EBADF (fd not open for
 * writing), EIO (a write failed), ENOMEM. */
int prof_dump_pprof_fd(int fd);
/* Go's symbol service for the profile server: names of the '+'-separated
 * addresses in q[0..len), one "0x<addr> <name>\n" line each it can name
 * (dump_pprof.c). 0 or ENOMEM. */
int prof_symbolize(const char *q, size_t len, struct pprof_buf *out);

#endif
