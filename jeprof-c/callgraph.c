/*
 * callgraph: prune a weighted call graph and write it as Graphviz dot text,
 * or run Graphviz's dot on it. Layout style after jeprof (see
 * shared/specs/jemalloc-interface.md §6); the code is our own.
 *
 * Rendering runs the `dot` program rather than linking libgvc: no link-time
 * dependency for jeprof-c, a Graphviz crash or fatal error cannot take the
 * CLI down, and the PDF writer needs the same installed plugins either way.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2, qsort_r */
#endif
#include "callgraph.h"
#include "demangle.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* clang-format off */
enum {
    CG_NODECOUNT    = 80,  /* default node limit */
    CG_MAXDEGREE    = 8,   /* edges kept per node and direction, heaviest first (jeprof's
                              --maxdegree default): dense graphs stay readable and dot fast */
    CG_NAME_MAX     = 60,  /* display names longer than this keep their tail */
    CG_FONT_MIN     = 8,   /* font size of a node with no flat value */
    CG_FONT_RANGE   = 40,  /* added for the largest flat value */
};
/* clang-format on */
static const double cg_nodefraction = 0.005;
static const double cg_edgefraction = 0.001;

/* Resolved options. */
struct cg_ctx {
    const char *title; /* legend's first line or NULL */
    int units;         /* CG_MB, CG_BYTES or CG_OBJECTS */
    double total;      /* |total|, never 0 */
    int64_t total_raw; /* total as given or summed */
};
enum { CG_MB, CG_BYTES, CG_OBJECTS };

/* Formats a value the jeprof way into buf; bare: without the " MB"/" B". */
static const char *cg_value_as(const struct cg_ctx *c, int64_t v, bool bare, char *buf, size_t sz)
{
    if (c->units == CG_MB)
        snprintf(buf, sz, bare ? "%.1f" : "%.1f MB", (double)v / 1048576.0);
    else if (c->units == CG_BYTES && bare)
        snprintf(buf, sz, "%lld", (long long)v);
    else if (c->units == CG_BYTES)
        snprintf(buf, sz, "%lld B", (long long)v);
    else
        snprintf(buf, sz, "%lld", (long long)v);
    return buf;
}

static const char *cg_value(const struct cg_ctx *c, int64_t v, char *buf, size_t sz)
{
    return cg_value_as(c, v, false, buf, sz);
}

static double cg_pct(const struct cg_ctx *c, int64_t v)
{
    return 100.0 * (double)v / c->total;
}

/* Length of a valid UTF-8 sequence at s, or 0 (same rules as the SVG writer). */
static size_t cg_utf8_seq(const unsigned char *s)
{
    unsigned c = s[0], cp;
    size_t len;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, cp = c & 0x07;
    else
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* Writes s inside a dot double-quoted string: quotes and backslashes escaped,
 * control characters and invalid UTF-8 replaced by '?'. */
static void cg_put_quoted(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t l = cg_utf8_seq(p);
        if (l > 1) {
            fwrite(p, 1, l, out);
            p += l;
            continue;
        }
        unsigned ch = *p++;
        if (l == 0 || ch < 0x20 || ch == 0x7f)
            putc('?', out);
        else if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else
            putc((int)ch, out);
    }
}

static bool cg_ident(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '$';
}

/* Index just past the group opened at s[i] ('(' or '<'), counting nesting of
 * both kinds; strlen(s) if it never closes. */
static size_t cg_skip_group(const char *s, size_t i)
{
    int depth = 0;
    for (; s[i]; i++) {
        if (s[i] == '(' || s[i] == '<')
            depth++;
        else if ((s[i] == ')' || s[i] == '>') && --depth == 0)
            return i + 1;
    }
    return i;
}

/* Copies "operator" and the operator it names from s[i]; returns the new i. */
static size_t cg_copy_operator(const char *s, size_t i, char *o, size_t *on)
{
    memcpy(o + *on, "operator", 8);
    *on += 8;
    i += 8;
    if (s[i] == '(' && s[i + 1] == ')') {
        memcpy(o + *on, "()", 2);
        *on += 2;
        return i + 2;
    }
    if (s[i] == ' ' && cg_ident(s[i + 1])) { /* new, delete, conversions */
        o[(*on)++] = s[i++];
        while (cg_ident(s[i]))
            o[(*on)++] = s[i++];
        if (s[i] == '[' && s[i + 1] == ']') {
            memcpy(o + *on, "[]", 2);
            *on += 2;
            i += 2;
        }
        return i;
    }
    while (s[i] && strchr("<>=!+-*/%^&|~[],", s[i]))
        o[(*on)++] = s[i++];
    return i;
}

/*
 * Shortens a demangled C++ name for display: "std::vector<int> ns::Foo<T>::
 * bar(int, char const*) const" becomes "ns::Foo::bar". Names without '(' or
 * '<' (C functions, addresses) are kept, and so are names demangle.c's
 * simplifier leaves as they are (jeprof-c's names unless --full_names:
 * "f()::{lambda()#1}::operator()" keeps its parentheses). o has room for
 * strlen(s)+1.
 */
static void cg_short_name(const char *s, char *o)
{
    size_t on = 0, i = 0;
    char *simple = demangle_simplify(s);
    int done = strcmp(simple, s) == 0;
    free(simple);
    if (done || !strpbrk(s, "(<")) {
        strcpy(o, s);
        return;
    }
    while (s[i]) {
        char prev = on ? o[on - 1] : '\0';
        bool op = false;
        if (strncmp(s + i, "operator", 8) == 0 && !cg_ident(prev) && !cg_ident(s[i + 8])) {
            i = cg_copy_operator(s, i, o, &on);
            op = true; /* "operator<<(int)": the '(' follows an operator */
        }
        if ((s[i] == '(' || s[i] == '<') &&
            (op || cg_ident(prev) || prev == '>' || prev == ')' || prev == ']')) {
            /* argument list or template arguments, and qualifiers after them */
            i = cg_skip_group(s, i);
            while (s[i] == ' ' && (strncmp(s + i + 1, "const", 5) == 0 ||
                                   strncmp(s + i + 1, "volatile", 8) == 0) &&
                   !cg_ident(s[i + 1 + (s[i + 1] == 'c' ? 5 : 8)]))
                i += 1 + (s[i + 1] == 'c' ? 5 : 8);
        } else if (!op) {
            o[on++] = s[i++];
        }
    }
    o[on] = '\0';
    /* Drop a leading return type: the text before the last space outside
     * brackets that separates two names ("void ns::f", "char* f"), but not
     * "operator new" nor annotations such as "f (inline)" or "[clone .cold]". */
    int depth = 0;
    size_t cut = 0;
    for (size_t k = 0; k < on; k++) {
        if (o[k] == '(' || o[k] == '[')
            depth++;
        else if (o[k] == ')' || o[k] == ']')
            depth--;
        else if (o[k] == ' ' && depth == 0 && k >= 8 && strncmp(o + k - 8, "operator", 8) == 0)
            continue;
        else if (o[k] == ' ' && depth == 0 && k > 0 && (cg_ident(o[k + 1]) || o[k + 1] == ':') &&
                 (cg_ident(o[k - 1]) || strchr("*&>", o[k - 1])))
            cut = k + 1;
    }
    if (cut) {
        memmove(o, o + cut, on - cut + 1);
        on -= cut;
    }
    if (on == 0) {
        strcpy(o, s);
        return;
    }
    /* Still long: keep the last "::" components that fit. */
    if (on > CG_NAME_MAX) {
        size_t k = on - CG_NAME_MAX;
        const char *sep = strstr(o + k, "::");
        if (sep && sep[2]) {
            size_t from = (size_t)(sep + 2 - o);
            memmove(o + 3, o + from, on - from + 1);
            memcpy(o, "...", 3);
        }
    }
}

/* Node and edge bookkeeping for one call. */
struct cg_work {
    size_t *order;  /* node indexes sorted by |cum| descending */
    int *id;        /* per node: 1-based dot id if kept, 0 if dropped */
    size_t *eorder; /* merged edges, sorted by |weight| descending */
    struct cg_edge *edges; /* copy of the edges, merged by (from,to) */
    size_t nedges;         /* merged edges */
    bool *keep;            /* per eorder position: edge drawn */
    unsigned *indeg;       /* per node: edges drawn into it */
    unsigned *outdeg;      /* per node: edges drawn out of it */
};

static int cg_cmp_node(const void *pa, const void *pb, void *nodes)
{
    const struct cg_node *a = &((const struct cg_node *)nodes)[*(const size_t *)pa];
    const struct cg_node *b = &((const struct cg_node *)nodes)[*(const size_t *)pb];
    int64_t ca = llabs(a->cum), cb = llabs(b->cum);
    if (ca != cb)
        return ca < cb ? 1 : -1;
    int c = strcmp(a->name, b->name);
    if (c)
        return c;
    return (*(const size_t *)pa > *(const size_t *)pb) - (*(const size_t *)pa < *(const size_t *)pb);
}

static int cg_cmp_pair(const void *pa, const void *pb)
{
    const struct cg_edge *a = pa, *b = pb;
    if (a->from != b->from)
        return a->from < b->from ? -1 : 1;
    return (a->to > b->to) - (a->to < b->to);
}

static int cg_cmp_edge(const void *pa, const void *pb, void *edges)
{
    const struct cg_edge *a = &((const struct cg_edge *)edges)[*(const size_t *)pa];
    const struct cg_edge *b = &((const struct cg_edge *)edges)[*(const size_t *)pb];
    int64_t wa = llabs(a->weight), wb = llabs(b->weight);
    if (wa != wb)
        return wa < wb ? 1 : -1;
    return cg_cmp_pair(a, b);
}

static void cg_work_free(struct cg_work *w)
{
    free(w->order);
    free(w->id);
    free(w->eorder);
    free(w->edges);
    free(w->keep);
    free(w->indeg);
    free(w->outdeg);
}

/* What pruning kept and why the rest went, for the legend. */
struct cg_counts {
    size_t nodes, shown;   /* nodes given, nodes drawn */
    size_t small, beyond;  /* dropped: |cum| under nodemin, past the nodecount largest */
    size_t edges, eshown;  /* distinct edges given, edges drawn */
    size_t esmall, eends;  /* dropped: |weight| under edgemin, an end not drawn */
    size_t edegree;        /* dropped: past CG_MAXDEGREE at one of its ends */
    int64_t nodemin;       /* smallest |cum| kept */
    int64_t edgemin;       /* smallest |weight| kept */
    int nodecount;         /* node limit, <0 for none */
};

/* A pruning threshold: like a value, but small MB amounts keep 3 decimals. */
static const char *cg_threshold(const struct cg_ctx *c, int64_t v, char *buf, size_t sz)
{
    if (c->units == CG_MB && v < 104858)
        snprintf(buf, sz, "%.3f MB", (double)v / 1048576.0);
    else
        cg_value(c, v, buf, sz);
    return buf;
}

static void cg_put_legend(FILE *out, const struct cg_ctx *c, const struct cg_counts *k)
{
    char a[64];
    static const char *const unitname[] = {"MB", "bytes", "objects"};
    fputs("Legend [shape=box,fontsize=24,shape=plaintext,label=\"", out);
    if (c->title && *c->title) {
        cg_put_quoted(out, c->title);
        fputs("\\l", out);
    }
    fprintf(out, "Total %s: %s\\l", unitname[c->units],
            cg_value_as(c, c->total_raw, true, a, sizeof(a)));
    fprintf(out, "Showing %zu of %zu nodes, %zu of %zu edges\\l", k->shown, k->nodes, k->eshown,
            k->edges);
    if (k->small)
        fprintf(out, "Dropped %zu nodes with cum < %s\\l", k->small,
                cg_threshold(c, k->nodemin, a, sizeof(a)));
    if (k->beyond)
        fprintf(out, "Dropped %zu nodes beyond the largest %d\\l", k->beyond, k->nodecount);
    if (k->esmall)
        fprintf(out, "Dropped %zu edges with weight < %s\\l", k->esmall,
                cg_threshold(c, k->edgemin, a, sizeof(a)));
    if (k->eends)
        fprintf(out, "Dropped %zu edges of dropped nodes\\l", k->eends);
    if (k->edegree)
        fprintf(out, "Dropped %zu edges beyond %d per node\\l", k->edegree, CG_MAXDEGREE);
    fputs("\"];\n", out);
}

static void cg_put_node(FILE *out, const struct cg_ctx *c, const struct cg_node *n, int id,
                        int64_t maxflat)
{
    char v[64];
    char *shortname = malloc(strlen(n->name) + 1);
    double fs = CG_FONT_MIN;
    if (maxflat > 0)
        fs += CG_FONT_RANGE * sqrt((double)llabs(n->flat) / (double)maxflat);
    fprintf(out, "N%d [label=\"", id);
    if (shortname) {
        cg_short_name(n->name, shortname);
        cg_put_quoted(out, shortname);
        free(shortname);
    } else {
        cg_put_quoted(out, n->name);
    }
    fprintf(out, "\\n%s (%.1f%%)\\r", cg_value(c, n->flat, v, sizeof(v)), cg_pct(c, n->flat));
    if (n->cum != n->flat)
        fprintf(out, "of %s (%.1f%%)\\r", cg_value(c, n->cum, v, sizeof(v)), cg_pct(c, n->cum));
    fputs("\",tooltip=\"", out);
    cg_put_quoted(out, n->name);
    fprintf(out, "\",shape=box,fontsize=%.1f];\n", fs);
}

static void cg_put_edge(FILE *out, const struct cg_ctx *c, const struct cg_edge *e, int from,
                        int to)
{
    char v[64];
    double frac = fabs((double)e->weight) / c->total;
    if (frac > 1)
        frac = 1;
    fprintf(out, "N%d -> N%d [label=\" %s\",weight=%d,penwidth=%.1f,arrowsize=%.1f];\n", from, to,
            cg_value(c, e->weight, v, sizeof(v)), 1 + (int)(100 * frac), 1 + 5 * frac,
            0.8 + 1.2 * frac);
}

/* Merges duplicate edges into w->edges and sorts them by weight. */
static int cg_merge_edges(struct cg_work *w, const struct cg_edge *e, size_t ne)
{
    w->edges = malloc((ne ? ne : 1) * sizeof(*w->edges));
    w->eorder = malloc((ne ? ne : 1) * sizeof(*w->eorder));
    if (!w->edges || !w->eorder)
        return ENOMEM;
    if (ne)
        memcpy(w->edges, e, ne * sizeof(*e));
    qsort(w->edges, ne, sizeof(*w->edges), cg_cmp_pair);
    size_t m = 0;
    for (size_t i = 0; i < ne; i++) {
        if (m && w->edges[m - 1].from == w->edges[i].from && w->edges[m - 1].to == w->edges[i].to)
            w->edges[m - 1].weight += w->edges[i].weight;
        else
            w->edges[m++] = w->edges[i];
    }
    w->nedges = m;
    for (size_t i = 0; i < m; i++)
        w->eorder[i] = i;
    qsort_r(w->eorder, m, sizeof(*w->eorder), cg_cmp_edge, w->edges);
    return 0;
}

int callgraph_write_dot(FILE *out, const struct cg_node *n, size_t nn, const struct cg_edge *e,
                        size_t ne, const struct cg_options *opt)
{
    if (!out || (nn && !n) || (ne && !e))
        return EINVAL;
    for (size_t i = 0; i < nn; i++)
        if (!n[i].name)
            return EINVAL;
    for (size_t i = 0; i < ne; i++)
        if (e[i].from >= nn || e[i].to >= nn)
            return EINVAL;

    struct cg_ctx c = {.title = opt ? opt->title : NULL, .units = CG_MB};
    if (opt && opt->unit && strcmp(opt->unit, "objects") == 0)
        c.units = CG_OBJECTS;
    else if (opt && opt->show_bytes)
        c.units = CG_BYTES;
    c.total_raw = opt ? opt->total : 0;
    if (c.total_raw == 0)
        for (size_t i = 0; i < nn; i++)
            c.total_raw += n[i].flat;
    c.total = fabs((double)c.total_raw);
    if (c.total == 0)
        c.total = 1;
    int nodecount = opt ? opt->nodecount : 0;
    if (nodecount == 0)
        nodecount = CG_NODECOUNT;
    double nf = opt && opt->nodefraction >= 0 ? opt->nodefraction : cg_nodefraction;
    double ef = opt && opt->edgefraction >= 0 ? opt->edgefraction : cg_edgefraction;

    struct cg_work w = {0};
    int err = ENOMEM;
    w.order = malloc((nn ? nn : 1) * sizeof(*w.order));
    w.id = calloc(nn ? nn : 1, sizeof(*w.id));
    w.indeg = calloc(nn ? nn : 1, sizeof(*w.indeg));
    w.outdeg = calloc(nn ? nn : 1, sizeof(*w.outdeg));
    w.keep = calloc(ne ? ne : 1, sizeof(*w.keep));
    if (!w.order || !w.id || !w.indeg || !w.outdeg || !w.keep)
        goto out_free;
    if ((err = cg_merge_edges(&w, e, ne)))
        goto out_free;

    /* Nodes: by |cum|, the largest first; keep those over the threshold. */
    for (size_t i = 0; i < nn; i++)
        w.order[i] = i;
    qsort_r(w.order, nn, sizeof(*w.order), cg_cmp_node, (void *)n);
    struct cg_counts k = {.nodes = nn, .edges = w.nedges, .nodecount = nodecount,
                          .nodemin = (int64_t)ceil(nf * c.total),
                          .edgemin = (int64_t)ceil(ef * c.total)};
    int64_t maxflat = 0;
    for (size_t i = 0; i < nn; i++) {
        const struct cg_node *x = &n[w.order[i]];
        if (llabs(x->cum) < k.nodemin) {
            k.small++;
        } else if (nodecount > 0 && k.shown >= (size_t)nodecount) {
            k.beyond++;
        } else {
            w.id[w.order[i]] = (int)++k.shown;
            if (llabs(x->flat) > maxflat)
                maxflat = llabs(x->flat);
        }
    }
    /* Edges, the heaviest first, while both ends have room. */
    for (size_t i = 0; i < w.nedges; i++) {
        const struct cg_edge *x = &w.edges[w.eorder[i]];
        if (!w.id[x->from] || !w.id[x->to]) {
            k.eends++;
        } else if (llabs(x->weight) < k.edgemin) {
            k.esmall++;
        } else if (w.outdeg[x->from] >= CG_MAXDEGREE || w.indeg[x->to] >= CG_MAXDEGREE) {
            k.edegree++;
        } else {
            w.outdeg[x->from]++;
            w.indeg[x->to]++;
            w.keep[i] = true;
            k.eshown++;
        }
    }

    fputs("digraph \"", out);
    if (c.title && *c.title)
        cg_put_quoted(out, c.title);
    else
        fputs("callgraph", out);
    fputs("\" {\nnode [width=0.375,height=0.25];\n", out);
    cg_put_legend(out, &c, &k);
    for (size_t i = 0; i < nn; i++)
        if (w.id[w.order[i]])
            cg_put_node(out, &c, &n[w.order[i]], w.id[w.order[i]], maxflat);
    for (size_t i = 0; i < w.nedges; i++) {
        const struct cg_edge *x = &w.edges[w.eorder[i]];
        if (w.keep[i])
            cg_put_edge(out, &c, x, w.id[x->from], w.id[x->to]);
    }
    fputs("}\n", out);
    err = 0;
    if (fflush(out) != 0 || ferror(out))
        err = errno ? errno : EIO;
out_free:
    cg_work_free(&w);
    return err;
}

/* Sends len bytes of in to the child and copies its output to out. */
static int cg_pump(int to_child, int from_child, const char *in, size_t len, FILE *out)
{
    char buf[65536];
    size_t off = 0;
    int err = 0;
    if (len == 0) {
        close(to_child);
        to_child = -1;
    }
    while (from_child >= 0) {
        struct pollfd p[2] = {{.fd = from_child, .events = POLLIN},
                              {.fd = to_child, .events = POLLOUT}};
        if (poll(p, to_child >= 0 ? 2 : 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            err = errno;
            break;
        }
        if (to_child >= 0 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t k = write(to_child, in + off, len - off > 65536 ? 65536 : len - off);
            if (k > 0)
                off += (size_t)k;
            if ((k < 0 && errno != EINTR && errno != EAGAIN) || off == len) {
                close(to_child); /* done, or dot stopped reading (EPIPE) */
                to_child = -1;
            }
        }
        if (p[0].revents & (POLLIN | POLLERR | POLLHUP)) {
            ssize_t k = read(from_child, buf, sizeof(buf));
            if (k > 0) {
                if (fwrite(buf, 1, (size_t)k, out) != (size_t)k && !err)
                    err = errno ? errno : EIO;
            } else if (k == 0 || (errno != EINTR && errno != EAGAIN)) {
                close(from_child);
                from_child = -1;
            }
        }
    }
    if (to_child >= 0)
        close(to_child);
    if (from_child >= 0)
        close(from_child);
    return err;
}

/* Runs `prog -T<format>` with dot text on stdin and its stdout into out. */
static int cg_run_dot(const char *prog, const char *format, const char *in, size_t len, FILE *out)
{
    int inp[2], outp[2], errp[2];
    char tflag[16];
    snprintf(tflag, sizeof(tflag), "-T%s", format);
    if (pipe2(inp, O_CLOEXEC))
        return errno;
    if (pipe2(outp, O_CLOEXEC)) {
        int err = errno;
        close(inp[0]), close(inp[1]);
        return err;
    }
    if (pipe2(errp, O_CLOEXEC)) {
        int err = errno;
        close(inp[0]), close(inp[1]), close(outp[0]), close(outp[1]);
        return err;
    }
    fflush(out);
    pid_t pid = fork();
    if (pid == 0) {
        /* child: only async-signal-safe calls until exec */
        if (dup2(inp[0], 0) >= 0 && dup2(outp[1], 1) >= 0) {
            char *argv[] = {(char *)prog, tflag, NULL};
            execvp(prog, argv);
        }
        int e = errno;
        if (write(errp[1], &e, sizeof(e)) < 0)
            _exit(127);
        _exit(127);
    }
    int err = pid < 0 ? errno : 0;
    close(inp[0]), close(outp[1]), close(errp[1]);
    if (pid < 0) {
        close(inp[1]), close(outp[0]), close(errp[0]);
        return err;
    }
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old);
    fcntl(inp[1], F_SETFL, O_NONBLOCK);
    err = cg_pump(inp[1], outp[0], in, len, out);
    sigaction(SIGPIPE, &old, NULL);

    int exec_err = 0, status = 0;
    ssize_t k;
    do
        k = read(errp[0], &exec_err, sizeof(exec_err));
    while (k < 0 && errno == EINTR);
    close(errp[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (k == (ssize_t)sizeof(exec_err) && exec_err) {
        fprintf(stderr, "error: cannot run Graphviz '%s': %s (install the graphviz package)\n",
                prog, strerror(exec_err));
        return exec_err == ENOENT || exec_err == EACCES ? ENOENT : exec_err;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "error: Graphviz '%s %s' failed (%s %d)\n", prog, tflag,
                WIFEXITED(status) ? "exit status" : "signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        return EIO;
    }
    if (!err && (fflush(out) != 0 || ferror(out)))
        err = errno ? errno : EIO;
    return err;
}

int callgraph_render(FILE *out, const char *format, const struct cg_node *n, size_t nn,
                     const struct cg_edge *e, size_t ne, const struct cg_options *opt)
{
    static const char *const formats[] = {"svg", "pdf", "ps", "png", "gif"};
    bool known = false;
    for (size_t i = 0; format && i < sizeof(formats) / sizeof(*formats); i++)
        known |= strcmp(format, formats[i]) == 0;
    if (!known) {
        fprintf(stderr, "error: unknown graph format '%s'\n", format ? format : "(null)");
        return EINVAL;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem)
        return errno;
    int err = callgraph_write_dot(mem, n, nn, e, ne, opt);
    if (fclose(mem) != 0 && !err)
        err = errno ? errno : ENOMEM;
    if (!err) {
        const char *prog = getenv("JEPROF_DOT");
        err = cg_run_dot(prog && *prog ? prog : "dot", format, text, len, out);
    }
    free(text);
    return err;
}
