/* report_graph: --dot, --svg, --pdf. Converts the analysis into nodes
 * (functions with flat and cum) and caller->callee edges (adjacent entries
 * of each reduced stack) and hands them to callgraph.c. When callgraph.c is
 * not linked in, its functions are weak NULLs and we say so. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "xalloc.h"
#include "message.h"
#include "strtab.h"
#include "hash.h"
#include "number.h"

#if __has_include("callgraph.h")
#include "callgraph.h"
#else
/* The agreed interface, for builds before callgraph.h exists. */
struct cg_node {
    const char *name;
    int64_t flat;
    int64_t cum;
};
struct cg_edge {
    size_t from, to;
    int64_t weight;
};
struct cg_options {
    const char *title;
    const char *unit;
    int64_t total;
    int nodecount;
    double nodefraction, edgefraction;
    int show_bytes;
};
int callgraph_write_dot(FILE *out, const struct cg_node *n, size_t nn, const struct cg_edge *e,
                        size_t ne, const struct cg_options *opt);
int callgraph_render(FILE *out, const char *format, const struct cg_node *n, size_t nn,
                     const struct cg_edge *e, size_t ne, const struct cg_options *opt);
#endif

#pragma weak callgraph_write_dot
#pragma weak callgraph_render

/* Edge key (caller, callee) -> edge index, open addressing. */
struct edgeset {
    uint64_t *keys; /* caller << 32 | callee, +1 so 0 is empty */
    uint32_t *idx;
    size_t n;
};

static size_t edge_slot(struct edgeset *s, uint64_t key)
{
    size_t i = hash_u64(key) & (s->n - 1);
    while (s->keys[i] && s->keys[i] != key)
        i = (i + 1) & (s->n - 1);
    return i;
}

int report_graph(FILE *out, const char *format, const struct analysis *a,
                 const struct report_options *o)
{
    if (!callgraph_write_dot || !callgraph_render)
        return error("call graphs are not available in this build (no callgraph.c)"), ENOSYS;
    size_t nn = a->nodes.n;
    uint32_t *map = xcalloc(nn, sizeof(uint32_t)); /* node id -> cg index + 1 */
    struct cg_node *nodes = xcalloc(nn, sizeof(*nodes));
    size_t nnodes = 0;
    for (uint32_t i = 1; i < nn; i++) {
        if (a->flat[i] == 0 && a->cum[i] == 0)
            continue;
        nodes[nnodes].name = strtab_get(&a->nodes, i);
        nodes[nnodes].flat = dbl_to_i64(a->flat[i]);
        nodes[nnodes].cum = dbl_to_i64(a->cum[i]);
        map[i] = (uint32_t)++nnodes;
    }
    struct edgeset set = {0};
    set.n = 1024;
    while (set.n < a->nnpath * 2)
        set.n *= 2;
    set.keys = xcalloc(set.n, sizeof(uint64_t));
    set.idx = xcalloc(set.n, sizeof(uint32_t));
    struct cg_edge *edges = NULL;
    size_t nedges = 0, cap = 0;
    for (size_t i = 0; i < a->nstacks; i++) {
        const struct astack *t = &a->stacks[i];
        for (uint32_t j = 0; j + 1 < t->ndepth; j++) {
            uint32_t callee = map[a->npath[t->noff + j]], caller = map[a->npath[t->noff + j + 1]];
            if (!callee || !caller)
                continue;
            uint64_t key = ((uint64_t)caller << 32 | callee) + 1;
            size_t s = edge_slot(&set, key);
            if (!set.keys[s]) {
                set.keys[s] = key;
                GROW(edges, cap, nedges + 1);
                edges[nedges] = (struct cg_edge){caller - 1, callee - 1, 0};
                set.idx[s] = (uint32_t)nedges++;
            }
            edges[set.idx[s]].weight += dbl_to_i64(t->v);
        }
    }
    int objects = o->value == PV_INUSE_OBJECTS || o->value == PV_ALLOC_OBJECTS;
    struct cg_options co = {
        .title = o->title,
        .unit = objects ? "objects" : "bytes",
        .total = dbl_to_i64(a->kept),
        .nodecount = o->nodecount >= 0 ? o->nodecount : 80,
        .nodefraction = o->nodefraction,
        .edgefraction = o->edgefraction,
        .show_bytes = o->show_bytes,
    };
    int rc = strcmp(format, "dot") == 0
                 ? callgraph_write_dot(out, nodes, nnodes, edges, nedges, &co)
                 : callgraph_render(out, format, nodes, nnodes, edges, nedges, &co);
    if (rc)
        error("cannot write the %s call graph: %s", format, strerror(rc));
    free(map);
    free(nodes);
    free(edges);
    free(set.keys);
    free(set.idx);
    return rc;
}
