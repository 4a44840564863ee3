/*
 * callgraph: the --dot, --svg and --pdf outputs of jeprof-c, a call graph in
 * jeprof's visual style (legend box, boxes sized by flat value, edges
 * thickened by weight).
 *
 * Pruning, in order: nodes with |cum| < nodefraction*|total| are dropped;
 * of the rest, the nodecount largest by |cum| are kept; edges need both ends
 * kept and |weight| >= edgefraction*|total|, and each node keeps its 8
 * heaviest incoming and 8 heaviest outgoing edges (jeprof's --maxdegree
 * default; an edge needs room at both ends). The legend says how many nodes
 * and edges were dropped. Long C++ names are shortened: argument lists,
 * template arguments and return types are removed.
 *
 * callgraph_render pipes the dot text into Graphviz's `dot` program
 * (fork/exec, no link-time dependency; $JEPROF_DOT overrides the program).
 * No global state except that SIGPIPE is ignored while dot runs.
 */
#ifndef JEPROF_CALLGRAPH_H
#define JEPROF_CALLGRAPH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* One function. */
struct cg_node {
    const char *name; /* function name, full (it is shortened for display) */
    int64_t flat;     /* value attributed to the function itself */
    int64_t cum;      /* value of the function and everything it calls */
};

/* A call from nodes[from] to nodes[to]. Duplicate pairs are summed. */
struct cg_edge {
    size_t from;    /* caller, index into the node array */
    size_t to;      /* callee, index into the node array */
    int64_t weight; /* value that flowed through this call */
};

/* What to draw and how much to keep. */
struct cg_options {
    const char *title;   /* legend's first line, e.g. the program name; may be NULL */
    const char *unit;    /* "bytes" (default) or "objects" */
    int64_t total;       /* 100% for percentages; 0 = sum of the flat values */
    int nodecount;       /* nodes kept at most; 0 = 80, negative = no limit */
    double nodefraction; /* drop nodes with |cum| below this share of total; <0 = .005 */
    double edgefraction; /* drop edges with |weight| below this share; <0 = .001 */
    int show_bytes;      /* bytes as integers ("123 B") instead of "0.1 MB" */
};

/*
 * Writes Graphviz dot text. Returns 0, EINVAL (NULL name, edge index out of
 * range, NULL arrays with nonzero counts), ENOMEM or a write errno.
 */
int callgraph_write_dot(FILE *out, const struct cg_node *n, size_t nn, const struct cg_edge *e,
                        size_t ne, const struct cg_options *opt)
    __attribute__((warn_unused_result));

/*
 * Renders the graph with `dot -T<format>` into out. format is "svg" or "pdf"
 * (also "ps", "png", "gif"). Returns 0 or an errno: EINVAL for a bad format,
 * ENOENT when Graphviz's dot cannot be run, EIO when dot fails. On failure
 * an "error: ..." line naming the cause has been printed on stderr.
 */
int callgraph_render(FILE *out, const char *format, const struct cg_node *n, size_t nn,
                     const struct cg_edge *e, size_t ne, const struct cg_options *opt)
    __attribute__((warn_unused_result));

#endif
