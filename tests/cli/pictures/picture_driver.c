/*
 * picture_driver: reads collapsed stacks ("root;child;leaf 123" per line) and
 * writes them through flamegraph_write_svg or callgraph_write_dot /
 * callgraph_render, so the picture writers can be tested without the rest of
 * jeprof-c.
 *
 *   picture_driver flame|dot|svg|pdf IN OUT [--title T] [--unit U] [--width N]
 *       [--nodecount N] [--nodefraction F] [--edgefraction F] [--total N]
 *       [--show-bytes]
 *
 * OUT "-" is stdout. For the call graph, a function's flat value is the sum
 * of the stacks it ends, cum the sum of the stacks it is on (once per stack),
 * and an edge's weight the sum of the stacks with that call (once per stack).
 */
#include "callgraph.h"
#include "flamegraph.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Growable arrays of the parsed input. */
struct input {
    char *text;             /* whole file, frames NUL-terminated in place */
    struct fg_stack *stacks; /* one per valid line */
    size_t nstacks;          /* entries in stacks */
    const char **frames;     /* all frame pointers, stacks point into this */
    size_t nframes;          /* entries in frames */
};

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        fprintf(stderr, "error: out of memory\n");
        exit(1);
    }
    return p;
}

static char *read_all(const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "error: cannot open '%s': %s\n", path, strerror(errno));
        exit(1);
    }
    size_t len = 0, cap = 1 << 16;
    char *buf = xrealloc(NULL, cap);
    size_t k;
    while ((k = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += k;
        if (cap - len < 2)
            buf = xrealloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    if (f != stdin)
        fclose(f);
    return buf;
}

/* Splits lines into stacks; frame offsets first, pointers fixed up after. */
static void parse(struct input *in, const char *path)
{
    size_t cap_s = 0, cap_f = 0, lineno = 0, ignored = 0;
    size_t *first = NULL; /* per stack: index of its first frame */
    char *line = in->text;
    while (*line) {
        char *nl = strchr(line, '\n');
        char *next = nl ? nl + 1 : line + strlen(line);
        if (nl)
            *nl = '\0';
        lineno++;
        size_t len = strlen(line);
        if (len && line[len - 1] == '\r')
            line[--len] = '\0';
        char *sp = strrchr(line, ' ');
        char *end = NULL;
        unsigned long long v = 0;
        if (sp && sp > line && sp[1]) {
            errno = 0;
            v = strtoull(sp + 1, &end, 10);
        }
        if (!end || *end || errno || sp[1] == '-') {
            if (len)
                ignored++;
            line = next;
            continue;
        }
        *sp = '\0';
        if (in->nstacks == cap_s) {
            cap_s = cap_s ? 2 * cap_s : 1024;
            in->stacks = xrealloc(in->stacks, cap_s * sizeof(*in->stacks));
            first = xrealloc(first, cap_s * sizeof(*first));
        }
        first[in->nstacks] = in->nframes;
        size_t nf = 0;
        for (char *fr = line; fr;) {
            char *semi = strchr(fr, ';');
            if (semi)
                *semi = '\0';
            if (in->nframes == cap_f) {
                cap_f = cap_f ? 2 * cap_f : 4096;
                in->frames = xrealloc(in->frames, cap_f * sizeof(*in->frames));
            }
            in->frames[in->nframes++] = fr;
            nf++;
            fr = semi ? semi + 1 : NULL;
        }
        in->stacks[in->nstacks++] = (struct fg_stack){.nframes = nf, .value = v};
        line = next;
    }
    for (size_t i = 0; i < in->nstacks; i++)
        in->stacks[i].frames = in->frames + first[i];
    free(first);
    if (ignored)
        fprintf(stderr, "%s: ignored %zu of %zu lines with invalid format\n", path, ignored,
                lineno);
}

/* Name -> node index, open addressing. */
struct graph {
    struct cg_node *nodes;  /* unique functions */
    size_t nn;              /* entries in nodes */
    size_t *seen;           /* per node: last stack that counted its cum, +1 */
    size_t *slots;          /* hash slots holding node index + 1 */
    size_t nslots;          /* power of two */
    struct cg_edge *edges;  /* unique (from,to) pairs */
    size_t ne;              /* entries in edges */
    size_t *eseen;          /* per edge: last stack that counted it, +1 */
    size_t *eslots;         /* hash slots holding edge index + 1 */
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static size_t node_of(struct graph *g, const char *name)
{
    size_t i = hash_str(name) & (g->nslots - 1);
    while (g->slots[i]) {
        if (strcmp(g->nodes[g->slots[i] - 1].name, name) == 0)
            return g->slots[i] - 1;
        i = (i + 1) & (g->nslots - 1);
    }
    g->nodes[g->nn] = (struct cg_node){.name = name};
    g->slots[i] = ++g->nn;
    return g->nn - 1;
}

static size_t edge_of(struct graph *g, size_t from, size_t to)
{
    size_t i = ((from * 1000003u) ^ to) * 0x9e3779b97f4a7c15ull & (g->nslots - 1);
    while (g->eslots[i]) {
        struct cg_edge *e = &g->edges[g->eslots[i] - 1];
        if (e->from == from && e->to == to)
            return g->eslots[i] - 1;
        i = (i + 1) & (g->nslots - 1);
    }
    g->edges[g->ne] = (struct cg_edge){.from = from, .to = to};
    g->eslots[i] = ++g->ne;
    return g->ne - 1;
}

static void build_graph(struct graph *g, const struct input *in)
{
    g->nslots = 16;
    while (g->nslots < 2 * in->nframes + 2)
        g->nslots *= 2;
    g->nodes = xrealloc(NULL, (in->nframes + 1) * sizeof(*g->nodes));
    g->seen = calloc(in->nframes + 1, sizeof(*g->seen));
    g->slots = calloc(g->nslots, sizeof(*g->slots));
    g->edges = xrealloc(NULL, (in->nframes + 1) * sizeof(*g->edges));
    g->eseen = calloc(in->nframes + 1, sizeof(*g->eseen));
    g->eslots = calloc(g->nslots, sizeof(*g->eslots));
    if (!g->seen || !g->slots || !g->eseen || !g->eslots) {
        fprintf(stderr, "error: out of memory\n");
        exit(1);
    }
    for (size_t s = 0; s < in->nstacks; s++) {
        const struct fg_stack *st = &in->stacks[s];
        size_t prev = SIZE_MAX;
        for (size_t d = 0; d < st->nframes; d++) {
            size_t k = node_of(g, st->frames[d]);
            if (g->seen[k] != s + 1) {
                g->seen[k] = s + 1;
                g->nodes[k].cum += (int64_t)st->value;
            }
            if (d + 1 == st->nframes)
                g->nodes[k].flat += (int64_t)st->value;
            if (prev != SIZE_MAX) {
                size_t e = edge_of(g, prev, k);
                if (g->eseen[e] != s + 1) {
                    g->eseen[e] = s + 1;
                    g->edges[e].weight += (int64_t)st->value;
                }
            }
            prev = k;
        }
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: picture_driver flame|dot|svg|pdf IN OUT [--title T] [--unit U] "
                    "[--width N] [--nodecount N] [--nodefraction F] [--edgefraction F] "
                    "[--total N] [--show-bytes]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 4)
        usage();
    const char *mode = argv[1], *inpath = argv[2], *outpath = argv[3];
    struct fg_options fo = {0};
    struct cg_options co = {.nodefraction = -1, .edgefraction = -1};
    for (int i = 4; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--show-bytes") == 0) {
            co.show_bytes = 1;
            continue;
        }
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (strcmp(a, "--title") == 0)
            fo.title = co.title = v;
        else if (strcmp(a, "--unit") == 0)
            fo.unit = co.unit = v;
        else if (strcmp(a, "--width") == 0)
            fo.width = atoi(v);
        else if (strcmp(a, "--nodecount") == 0)
            co.nodecount = atoi(v);
        else if (strcmp(a, "--nodefraction") == 0)
            co.nodefraction = atof(v);
        else if (strcmp(a, "--edgefraction") == 0)
            co.edgefraction = atof(v);
        else if (strcmp(a, "--total") == 0)
            co.total = atoll(v);
        else
            usage();
    }

    struct input in = {.text = read_all(inpath)};
    parse(&in, inpath);
    FILE *out = strcmp(outpath, "-") == 0 ? stdout : fopen(outpath, "wb");
    if (!out) {
        fprintf(stderr, "error: cannot open '%s': %s\n", outpath, strerror(errno));
        return 1;
    }
    int err;
    if (strcmp(mode, "flame") == 0) {
        err = flamegraph_write_svg(out, in.stacks, in.nstacks, &fo);
    } else if (strcmp(mode, "dot") == 0 || strcmp(mode, "svg") == 0 ||
               strcmp(mode, "pdf") == 0) {
        struct graph g = {0};
        build_graph(&g, &in);
        if (strcmp(mode, "dot") == 0)
            err = callgraph_write_dot(out, g.nodes, g.nn, g.edges, g.ne, &co);
        else
            err = callgraph_render(out, mode, g.nodes, g.nn, g.edges, g.ne, &co);
    } else {
        usage();
        return 2;
    }
    if (out != stdout && fclose(out) != 0 && !err)
        err = errno;
    if (err) {
        fprintf(stderr, "error: cannot write '%s': %s\n", outpath, strerror(err));
        return 1;
    }
    return 0;
}
