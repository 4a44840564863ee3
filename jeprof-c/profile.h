/* profile: the one in-memory model every reader fills and every report reads.
 * A profile is samples x stacks x locations x mappings. Stacks are runs of
 * location indexes (leaf first) in one pool; a location is one distinct
 * address, symbolized once into a run of frames (innermost first).
 * Values are doubles because jeprof's unsampling yields fractions and its
 * reports sum and truncate them; pprof integers fit exactly below 2^53. */
#ifndef JEPROF_PROFILE_H
#define JEPROF_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "strtab.h"

/* Value columns, in jeprof's HeapProfileIndex order. */
enum pvalue { PV_INUSE_OBJECTS, PV_INUSE_SPACE, PV_ALLOC_OBJECTS, PV_ALLOC_SPACE, PV_N };

#define THREAD_ALL (-1) /* the t* line: all threads together */

/* One executable region of the profiled process. */
struct pmap {
    uint64_t start, limit; /* runtime address range [start, limit) */
    uint64_t offset;       /* file offset mapped at start */
    uint32_t path;         /* string id of the file name (0 = anonymous) */
    uint32_t build_id;     /* string id of the lowercase hex build id, 0 = unknown */
    uint64_t inode;        /* inode of the mapped file (heap_v2 maps line), 0 = unknown */
    uint32_t dev_major;    /* its device, as the maps line gives it */
    uint32_t dev_minor;
    uint8_t deleted;       /* the maps line ended in " (deleted)": the file at path is another */
    int64_t dump_time;     /* mtime (ns) of the input file that listed it, 0 = unknown */
    uint32_t code_path;    /* string id of the file the symbolizer chose for it, 0 = none */
    uint8_t no_code;       /* the symbolizer weighed it and no file fits (rebuilt, replaced) */
};

/* One symbolized frame of a location; several when calls were inlined. */
struct pframe {
    uint32_t name;    /* string id of the display (short) function name */
    uint32_t sysname; /* string id of the full (mangled or raw) name, 0 = same */
    uint32_t file;    /* string id of the source file, 0 = unknown */
    int32_t line;     /* source line, 0 = unknown */
    uint64_t symaddr; /* start of the ELF symbol named, for jeprof's name@addr */
    uint8_t tagged;   /* name came from the symbol table (jeprof's nm tag) */
    uint8_t unnamed;  /* name is "file+0xoffset" or a raw address: no symbol knew it */
};

/* One distinct address (callers already moved back into the call). */
struct ploc {
    uint64_t addr;    /* runtime address */
    int32_t map;      /* index into maps, -1 = none */
    uint32_t frame0;  /* first frame in the frame pool */
    uint32_t nframes; /* 0 = not symbolized yet (or unresolvable before fallback) */
    uint8_t done;     /* symbolization was attempted */
    uint32_t fb0;     /* frames the input carried, used when the symbolizer */
    uint32_t nfb;     /* finds nothing better (pprof without has_functions); 0 = none */
};

/* One stack with its values for one thread (or all threads). */
struct psample {
    uint32_t stack;  /* offset of the first (leaf) location index in stackpool */
    uint32_t depth;  /* number of locations */
    int32_t thread;  /* THREAD_ALL or a heap_v2 thread uid */
    double v[PV_N];  /* unsampled values */
    double lifetime; /* recent ring: ns from alloc to free, or -1 */
    double weight;   /* recent ring: objects the sample stands for, 0 = not a ring entry */
    double alloc_ns; /* recent ring: allocation time (ns), or -1 */
    int8_t between;  /* recent ring: 0 = freed by its allocating thread with nothing
                        else allocated by it in between, 1 = not so, -1 = unknown */
};

struct profile {
    struct strtab strings; /* every name and path */
    struct pmap *maps;     /* executable mappings, in file order */
    size_t nmaps, capmaps;
    struct ploc *locs; /* distinct addresses */
    size_t nlocs, caplocs;
    struct lochash_slot {
        uint64_t addr; /* the address, */
        uint32_t loc1; /* its location index + 1, 0 = empty slot */
    } *lochash;          /* address -> location, open addressing */
    size_t nlochash;     /* power of two */
    uint32_t *stackpool; /* location indexes of every stack, leaf first */
    size_t npool, cappool;
    struct psample *samples;
    size_t nsamples, capsamples;
    struct pframe *frames; /* symbolization results, see ploc.frame0 */
    size_t nframes, capframes;
    uint64_t period;        /* sampling period (heap_v2: R), 0 = unknown */
    const char *format;     /* "heap_v2", "pprof" or "recent" of the first input */
    uint32_t generic_unit;  /* not a heap profile (pprof): string id of the unit of
                               the column read into every slot; 0 = heap */
    int has_threads;        /* heap_v2 per-thread lines were read */
    int keep_threads;       /* store per-thread samples (--thread); else skip them */
    int symbolized_input;   /* pprof input carried functions already */
    double sign;            /* +1 while reading profiles, -1 while reading --base */
    int64_t time_ns;        /* when the last input read was taken (heap_v2 "# time_ns",
                               pprof time_nanos), ns since the epoch; 0 = unknown */
    int is_peak;            /* the last input read is a peak-heap snapshot (heap_v2
                               "# peak_time_ns" line) */
    int64_t peak_time_ns;   /* ... taken then (ns since the epoch; 0 = no peak yet) */
    const char *no_accum;   /* the input just read lacks cumulative (alloc_*) counts:
                               what to do about it; NULL = has them or cannot tell */
    const char *cut_warning; /* the input just read looks cut short where that is not
                               an error (what to say); NULL = whole */
    /* NULL, or called by a reader, as soon as it knows, for each mapping
     * that holds an address of the input (its path, build id or "", and
     * whether the maps line said " (deleted)"): a hint that the file will
     * be symbolized (main sets symbolize_prefetch_file). */
    void (*prefetch)(const char *path, const char *build_id, int deleted);
};

void profile_init(struct profile *p);
void profile_free(struct profile *p);

/* Interns an address; map is looked up from the mappings when -2. */
uint32_t profile_loc(struct profile *p, uint64_t addr);
/* Appends a stack of location indexes; returns its pool offset. */
uint32_t profile_stack(struct profile *p, const uint32_t *locs, size_t n);
/* Appends a sample (values are multiplied by p->sign). */
struct psample *profile_add_sample(struct profile *p, uint32_t stack, uint32_t depth,
                                   int32_t thread, const double v[PV_N]);
/* Adds a mapping; returns its index. */
size_t profile_add_map(struct profile *p, uint64_t start, uint64_t limit, uint64_t offset,
                       const char *path, const char *build_id);
/* Attaches each location that has no mapping yet to one of the mappings
 * numbered first_map and up (those of the input just read: addresses of
 * different processes must not meet each other's mappings). */
void profile_assign_maps(struct profile *p, size_t first_map);
/* Appends frames for a location (symbolizer and pprof reader). */
void profile_set_frames(struct profile *p, uint32_t loc, const struct pframe *f, size_t n);
/* Keeps frames an input carried for a location the symbolizer should still
 * try (see ploc.fb0); the location stays not done. */
void profile_set_fallback_frames(struct profile *p, uint32_t loc, const struct pframe *f, size_t n);

static inline const char *pstr(const struct profile *p, uint32_t id)
{
    return strtab_get(&p->strings, id);
}

#endif
