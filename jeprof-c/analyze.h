/* analyze: jeprof's FilterAndPrint pipeline over the model, shared by every
 * report. Selects one value column and thread, removes allocator frames
 * (jeprof's RemoveUninterestingFrames plus our liballoc; the allocator
 * plumbing above them went before, see plumbing.h), applies --focus and
 * --ignore, merges equal stacks, then reduces each stack to report nodes
 * (functions, lines, addresses or files; each node at most once per stack)
 * and computes flat and cumulative values per node. */
#ifndef JEPROF_ANALYZE_H
#define JEPROF_ANALYZE_H

#include <regex.h>

#include "profile.h"
#include "compiler.h"
#include "strtab.h"

enum granularity { GRAN_FUNCTIONS, GRAN_LINES, GRAN_ADDRESSES, GRAN_FILES };

struct analyze_options {
    int value;             /* PV_* column */
    enum granularity gran; /* node kind */
    int thread;            /* THREAD_ALL or one thread uid */
    const regex_t *focus;  /* keep stacks with a matching frame, or NULL */
    const regex_t *ignore; /* drop stacks with a matching frame, or NULL */
    uint32_t *sample_stack; /* NULL, or p->nsamples slots: each sample's merged stack
                               (index into analysis.stacks), UINT32_MAX when the
                               sample was filtered out (--growth, diff flame graph) */
};

/* One stack after trimming and merging. */
struct astack {
    uint32_t off, depth;   /* location indexes in analysis.pool, leaf first */
    uint32_t noff, ndepth; /* reduced node ids in analysis.npath, leaf first */
    double v;              /* summed value */
    double objects;        /* summed object count of the same kind (inuse/alloc) */
    double lifetime_sum;   /* recent ring: summed lifetimes of freed objects */
    double freed;          /* recent ring: objects with a lifetime */
};

struct analysis {
    const struct profile *p;
    double total;   /* before trimming and focus (jeprof's Total line) */
    double kept;    /* after focus/ignore: the percentage base */
    const uint32_t *pool; /* trimmed stacks' locations: the profile's stackpool (a trimmed
                             stack is the tail of its sample's stack), not a copy */
    size_t npool;
    struct astack *stacks; /* merged stacks */
    size_t nstacks;
    struct strtab nodes; /* node id -> node name */
    uint32_t *npath;     /* reduced paths */
    size_t nnpath;
    double *flat, *cum;                  /* per node id */
    uint32_t *locnode;                   /* per location: first node id of its frames in locnodes */
    uint32_t *locnodes_off, *locnodes_n; /* per location: run in locnodes */
    uint32_t *locnodes;                  /* node ids, innermost frame first */
    size_t nlocnodes;
};

int analyze(struct analysis *a, const struct profile *p, const struct analyze_options *o) WUR;
void analysis_free(struct analysis *a);

/* Is the location an allocator frame (trimmed with everything leafward)? */
int analyze_loc_is_alloc(const struct profile *p, uint32_t loc);

/* Node ids sorted as jeprof's text report sorts (by flat or cum, then name). */
uint32_t *analysis_sorted_nodes(const struct analysis *a, int by_cum, size_t *n);

/* Function-level names of a location's frames (innermost first), for the
 * collapsed, flamegraph and pprof outputs; returns the count. */
size_t loc_function_names(const struct profile *p, uint32_t loc, const char **out, size_t max);

#endif
