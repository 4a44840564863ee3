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
 * The peak snapshot's lock (peak.c) comes after prof.dump_lock and before
 * prof.tdata_lock and the site stripes; the allocation path only try-locks it.
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

/* Entries of a thread's cache of its own shares (prof_tdata.tctx_cache). */
#define PROF_TCTX_CACHE 64

/* thr_uid of the per-site share that keeps exited threads' cumulative counts. */
#define PROF_UID_EXITED UINT64_MAX

/* One thread's share of a site. Its thread adds its samples to cur and
 * accum and takes its own frees off cur without a lock (site.c,
 * share_own_add), writing them inside an odd seq; other threads' frees of
 * its blocks count in remote, under the site's stripe lock. Readers hold
 * that lock and read through site.c's share_read: cur - remote, and zero
 * for counts of an older prof.reset epoch. */
struct prof_tctx {
    struct prof_site *site;      /* owning site */
    uint64_t thr_uid;            /* thread it counts for */
    struct prof_tdata *tdata;    /* live thread data while tdata->uid == thr_uid */
    _Atomic uint64_t seq;        /* odd while cur, accum or epoch are being written */
    uint64_t epoch;              /* prof.reset generation cur and accum count in */
    struct prof_cnt cur;         /* live sampled blocks, before remote */
    struct prof_cnt accum;       /* every sampled block (prof_accum) */
    struct prof_cnt remote;      /* blocks of cur freed by other threads (stripe lock) */
    struct prof_tctx *next;      /* site's list */
    /* Peak snapshot (peak.c), valid while peak_gen is the kept generation. */
    struct prof_cnt peak_cur, peak_accum; /* cur and accum at the peak */
    uint64_t peak_uid;           /* thr_uid at the peak (the share may be reused since) */
    uint64_t peak_gen;           /* snapshot generation these belong to (0: none) */
};

/* A distinct allocation stack. */
struct prof_site {
    uint64_t hash;               /* of the pcs */
    struct prof_site *next;      /* hash chain */
    struct prof_site *all_next;  /* creation-ordered list of every site */
    /* Its totals over threads are the sums of its shares, made when a dump
     * reads them (site_foreach_src): a sample adds to its own thread's
     * share only, not also to counts every thread sampling the site writes
     * (larson_like at 2 threads, lg_prof_sample 14: a quarter of the
     * profiler's CPU went to that line passing between the cores). */
    struct prof_tctx *tctxs;     /* per-thread shares */
    uint64_t peak_gen;           /* peak snapshot (peak.c) its shares' peak slots hold (0: none) */
    uint64_t load_gen;           /* cfi_generation() when it was made: a pc of a module
                                  * unloaded since is that module's (unloaded.h) */
    uint32_t depth;              /* frames in pcs */
    uintptr_t pcs[];             /* return addresses, innermost first */
};

/* A live sampled block. ptr and next come first: they are read without a
 * lock (site.c's maybe_sampled) and written only atomically; site_record
 * zeroes the fields after them. Records are 16-aligned (site.c keeps a
 * lock bit in the low bits of its bucket words). */
struct __attribute__((aligned(16))) prof_sample {
    uintptr_t ptr;               /* block address (hash key) */
    struct prof_sample *next;    /* hash chain or free list */
    struct prof_tctx *tctx;      /* where it is counted */
    size_t size, usize;          /* requested and usable size */
    double weight;               /* 1/(1-e^(-usize/R)) at sampling time */
    uint64_t reset_epoch;        /* prof.reset generation it belongs to */
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
    uint64_t sample_allocated;   /* heap->allocated when the current sample was taken (recent ring) */
    char name[64];               /* thread.prof.name or pthread name */
    struct prof_tdata *next, *prev; /* live list */
    struct prof_tdata *free_next;   /* recycled */
    /* Dump-time accumulators (under the dump lock). */
    struct prof_cnt dump_cur, dump_accum;
    /* This thread's shares of the sites it sampled last, by site hash
     * (site.c: a sample at a site found here takes no lock). */
    struct prof_tctx *tctx_cache[PROF_TCTX_CACHE];
    /* Kept when the tdata is recycled: prof_thread_init clears the fields
     * above only (all_next and live_samples are read meanwhile, under
     * prof.tdata_lock, by site_live_samples). */
    struct prof_tdata *all_next;    /* every tdata ever made (prof.all_tdatas) */
    /* Samples this thread recorded minus those it forgot (site.c; only the
     * sum over all tdatas means anything), written by its thread only. */
    int64_t live_samples;
    /* Free sample records of this thread (site.c). */
    struct prof_sample *rec_free;
    unsigned rec_nfree;          /* records on rec_free */
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
    struct prof_tdata *all_tdatas; /* every tdata, live or recycled (tdata_lock) */
    uint64_t dump_seq, mseq, iseq, useq;
    uint64_t pseq;               /* peak dumps (.p<N>.) */
};

extern struct prof_state prof;

/* Which counters a dump or a site walk reads: the live ones, or the kept
 * peak snapshot (peak.c; the caller holds the peak via peak_hold). */
enum site_src {
    SITE_LIVE,
    SITE_PEAK,
};

/* site.c */
void site_boot(void);
/* Record a sample of p (locks inside) and return its record; NULL when no
 * record could be had (metadata memory exhausted): then the sample is not
 * counted anywhere, since no free could take it off again (sampling
 * misses it, as if the draw had skipped it). td is the calling thread's:
 * its record cache is used without a lock. now: the time (ns) for the
 * recent ring, read only when it is on. The caller keeps the record where
 * p's free finds it: in p's span slot (prof_host_mark_sampled), else in the
 * table of sampled blocks (site_sample_index). */
struct prof_sample *site_record(struct prof_tdata *td, uintptr_t p, size_t size, size_t usize,
                                const uintptr_t *pcs, unsigned depth, double weight, uint64_t now);
/* Put record r in the table of sampled blocks, where site_forget finds it
 * by its block's address (a bucket's lock bit, a few stores); NULL: none. */
void site_sample_index(struct prof_sample *r);
/* The immortal site for a stack without counting anything (free stacks). */
struct prof_site *site_intern(const uintptr_t *pcs, unsigned depth);
/* Return address i of site s as dumps write it: where a module unloaded
 * since s was made held it, the address's alias (unloaded.h), so that no
 * reader names it after code mapped there later. Lock-free. */
uintptr_t site_pc_out(const struct prof_site *s, unsigned i);
/* Remove p's sample from the table if there is one; returns its record
 * copy in *out. */
bool site_forget(uintptr_t p, struct prof_sample *out);
/* Forget the sample of block p whose record r came from p's span slot (no
 * table): its counts come off, *out gets a copy, r is recycled. False,
 * nothing done, if r is not p's record. */
bool site_forget_rec(struct prof_tdata *td, struct prof_sample *r, uintptr_t p,
                     struct prof_sample *out);
/* The same from the calling thread's td (NULL: none), whose record cache
 * takes the record back without a lock. */
bool site_forget_td(struct prof_tdata *td, uintptr_t p, struct prof_sample *out);
/* Visit every site (snapshot of counters under its stripe lock). */
typedef void (*site_visit_fn)(void *arg, const struct prof_site *site, const struct prof_cnt *cur,
                              const struct prof_cnt *accum);
void site_foreach(site_visit_fn fn, void *arg);
/* The same over src's counters: with SITE_PEAK, cur and accum are the
 * kept snapshot's, and sites that were not in it are skipped. */
void site_foreach_src(enum site_src src, site_visit_fn fn, void *arg);
/* Visit every (site, tctx) pair of a site (caller holds no lock; called from site_foreach). */
typedef void (*tctx_visit_fn)(void *arg, const struct prof_tctx *t);
void site_foreach_tctx(const struct prof_site *site, tctx_visit_fn fn, void *arg);
/* The same over src's counters: with SITE_PEAK, the copy handed to fn has
 * cur, accum and thr_uid of the snapshot, and shares not in it are skipped. */
void site_foreach_tctx_src(enum site_src src, const struct prof_site *site, tctx_visit_fn fn,
                           void *arg);
/* Copy every share's live counters into its peak slots and stamp every
 * site, as generation gen (peak.c's snapshot; each site under its stripe
 * lock). */
void site_peak_snapshot(uint64_t gen);
/* prof.reset: zero every counter, the peak's in-use total and kept peak. */
void site_reset(void);
/* Live sampled blocks (for prof.stats-like summaries and leak checks).
 * Takes prof.tdata_lock. */
uint64_t site_live_samples(void);
void site_prefork(void);
void site_postfork_parent(void);
void site_postfork_child(void);

/* Unbiased counters as written to heap_v2 for period R (jemalloc's transform). */
void prof_unbias_for_dump(const struct prof_cnt *c, double R, uint64_t *objs, uint64_t *bytes);

/* High-water check for prof_gdump. */
void prof_gdump_check(void);

/* peak.c: the peak-heap snapshot (prof_peak). */
/* Add (delta > 0) or remove a sample's unbiased bytes from the sampled
 * in-use total; called under the sample's site stripe lock. Returns the new
 * total. */
uint64_t peak_inuse_add(int64_t delta);
/* After a sample: take a snapshot if total is a new peak (one compare). */
void peak_check(uint64_t total);
/* Hold the kept snapshot still (no new one is taken) while it is read;
 * peak_release takes a snapshot that was held off, if still a new peak. */
void peak_hold(void);
void peak_release(void);
/* Generation of the kept snapshot (0: none yet); peak held. */
uint64_t peak_gen(void);
/* When the kept snapshot was taken (CLOCK_REALTIME ns; 0: none); peak held. */
uint64_t peak_time_ns(void);
/* Sample period 2^lg of the kept snapshot; peak held. */
unsigned peak_lg_sample(void);
/* prof.reset, under peak_hold and every site stripe lock: forget the peak. */
void peak_forget_locked(void);
/* Unbiased bytes a sample adds to the in-use total (the same on free). */
int64_t peak_sample_bytes(double weight, size_t usize);
void peak_prefork(void);
void peak_postfork_parent(void);
void peak_postfork_child(void);

/* dump_heapv2.c */
int prof_dump_heapv2_cb(void (*write_cb)(void *, const char *), void *opaque);
/* Write a dump file (heap_v2 and/or pprof, per prof_format) at path; 0 or
 * errno. The pprof file is path's twin (".heap" replaced by ".pb.gz", or
 * ".pb.gz" added), except with prof_format:pprof alone and a path that
 * does not end in ".heap": then path itself. */
int prof_dump_path(const char *path);
/* The same with the peak snapshot's counters (prof.dump_peak). */
int prof_dump_peak_path(const char *path);
/* Auto-named dump of kind 'm', 'i', 'u', 'f' or 'p' (peak snapshot): 0,
 * EFAULT (no prefix), ESRCH (another allocator serves malloc and this copy
 * sampled nothing: foreign.h) or the writer's errno. */
int prof_dump_auto(char kind);

/* dump_pprof.c: gzip'd profile.proto at path (whole or nothing); dump lock held. */
int prof_dump_pprof_file(const char *path);
/* The same from src's counters (SITE_PEAK: peak held). */
int prof_dump_pprof_file_src(const char *path, enum site_src src);

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
