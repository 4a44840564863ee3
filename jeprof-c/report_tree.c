/* report_tree: pprof's -tree and -peek layouts. For each function (node at
 * the chosen granularity), sorted as the text report sorts (flat, or cum
 * with --cum): the callers with the value that came through each and its
 * share of the node's cum, the node's own line (flat, flat%, sum%, cum,
 * cum%), then the callees likewise. --nodecount keeps the first N nodes (and
 * the edges between kept nodes). --peek=RE shows only the nodes whose name
 * matches RE, each with all its callers and callees; no match is warned
 * about. Values are jeprof's units; percentages are pprof's ("  100%",
 * "%5.2f%%", or two significant digits below 1%) of the total after
 * trimming and --focus/--ignore. Edges come from consecutive nodes of each
 * reduced stack (each node once per stack, as jeprof's ReduceProfile). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "xalloc.h"
#include "message.h"
#include "strtab.h"

void report_header(FILE *out, const struct analysis *a, const struct report_options *o);

static const char separator[] =
    "----------------------------------------------------------+-------------";
static const char legend[] = "      flat  flat%   sum%        cum   cum%   calls calls% + context";

/* One caller -> callee pair with the value that flowed through it. */
struct edge {
    uint32_t from, to; /* node ids */
    double w;          /* summed stack values */
};

/* pprof's measurement.Percentage. */
static void pct(char *buf, size_t n, double v, double total)
{
    double r = total != 0 ? fabs(v / total) * 100 : 0;
    if (r >= 99.95 && r <= 100.05)
        snprintf(buf, n, "  100%%");
    else if (r >= 1.0)
        snprintf(buf, n, "%5.2f%%", r);
    else
        snprintf(buf, n, "%5.2g%%", r);
}

static int cmp_pair(const void *x, const void *y)
{
    const struct edge *a = x, *b = y;
    if (a->from != b->from)
        return a->from < b->from ? -1 : 1;
    return a->to < b->to ? -1 : a->to > b->to;
}

static const struct strtab *sort_names;
static int by_to; /* sort in-edges (grouped by callee) or out-edges (by caller) */
static int cmp_heavy(const void *x, const void *y)
{
    const struct edge *a = x, *b = y;
    uint32_t ka = by_to ? a->to : a->from, kb = by_to ? b->to : b->from;
    if (ka != kb)
        return ka < kb ? -1 : 1;
    if (fabs(a->w) != fabs(b->w))
        return fabs(a->w) > fabs(b->w) ? -1 : 1;
    uint32_t oa = by_to ? a->from : a->to, ob = by_to ? b->from : b->to;
    return strcmp(strtab_get(sort_names, oa), strtab_get(sort_names, ob));
}

/* All distinct edges, merged, sorted by (from, to). */
static struct edge *collect_edges(const struct analysis *a, size_t *n)
{
    struct edge *e = NULL;
    size_t ne = 0, cap = 0;
    for (size_t i = 0; i < a->nstacks; i++) {
        const struct astack *t = &a->stacks[i];
        for (uint32_t j = 0; j + 1 < t->ndepth; j++) {
            GROW(e, cap, ne + 1);
            e[ne].from = a->npath[t->noff + j + 1];
            e[ne].to = a->npath[t->noff + j];
            e[ne].w = t->v;
            ne++;
        }
    }
    if (ne)
        qsort(e, ne, sizeof(*e), cmp_pair);
    size_t k = 0;
    for (size_t i = 0; i < ne; i++) {
        if (k && e[k - 1].from == e[i].from && e[k - 1].to == e[i].to)
            e[k - 1].w += e[i].w;
        else
            e[k++] = e[i];
    }
    *n = k;
    return e;
}

/* Index of the first edge whose key (to or from) is node, in a sorted copy. */
static size_t first_of(const struct edge *e, size_t n, uint32_t node, int key_to)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        uint32_t k = key_to ? e[mid].to : e[mid].from;
        if (k < node)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void print_edges(FILE *out, const struct analysis *a, const struct report_options *o,
                        const struct edge *e, size_t n, uint32_t node, int key_to,
                        const uint8_t *kept, double cum)
{
    char v[64], p[32];
    for (size_t i = first_of(e, n, node, key_to); i < n; i++) {
        if ((key_to ? e[i].to : e[i].from) != node)
            break;
        uint32_t other = key_to ? e[i].from : e[i].to;
        if (!kept[other] || e[i].w == 0)
            continue;
        report_unparse(v, sizeof(v), e[i].w, o);
        pct(p, sizeof(p), e[i].w, cum);
        fprintf(out, "%50s %s |   %s\n", v, p, strtab_get(&a->nodes, other));
    }
}

int report_tree(FILE *out, const struct analysis *a, const struct report_options *o)
{
    report_header(out, a, o);
    double total = 0;
    for (size_t i = 0; i < a->nodes.n; i++)
        total += a->flat[i];
    size_t n;
    uint32_t *order = analysis_sorted_nodes(a, o->by_cum, &n);
    /* Nodes shown: non-zero ones, the first --nodecount of them (tree), or
     * those matching --peek (which keeps every neighbour). */
    uint8_t *kept = xcalloc(a->nodes.n + 1, 1), *shown = xcalloc(a->nodes.n + 1, 1);
    size_t nshown = 0, nonzero = 0;
    double shown_flat = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t k = order[i];
        if (a->flat[k] == 0 && a->cum[k] == 0)
            continue;
        nonzero++;
        if (o->re) {
            kept[k] = 1;
            if (regexec(o->re, strtab_get(&a->nodes, k), 0, NULL, 0) != 0)
                continue;
        } else if (o->nodecount >= 0 && nshown >= (size_t)o->nodecount) {
            continue;
        } else {
            kept[k] = 1;
        }
        shown[k] = 1;
        shown_flat += a->flat[k];
        nshown++;
    }
    char v[64], v2[64], p[32], p2[32], p3[32];
    report_unparse(v, sizeof(v), shown_flat, o);
    pct(p, sizeof(p), shown_flat, total);
    const char *pp = p;
    while (*pp == ' ')
        pp++;
    report_unparse(v2, sizeof(v2), total, o);
    fprintf(out, "Showing nodes accounting for %s %s, %s of %s %s total\n", v, report_units(o), pp,
            v2, report_units(o));
    if (!o->re && nshown < nonzero)
        fprintf(out, "Dropped %zu nodes (--nodecount=%d)\n", nonzero - nshown, o->nodecount);
    fprintf(out, "%s\n%s\n", separator, legend);

    size_t ne;
    struct edge *in = collect_edges(a, &ne);
    struct edge *outg = xmalloc((ne + 1) * sizeof(*outg));
    if (ne)
        memcpy(outg, in, ne * sizeof(*in));
    sort_names = &a->nodes;
    by_to = 1;
    if (ne)
        qsort(in, ne, sizeof(*in), cmp_heavy);
    by_to = 0;
    if (ne)
        qsort(outg, ne, sizeof(*outg), cmp_heavy);

    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t k = order[i];
        if (!shown[k])
            continue;
        fprintf(out, "%s\n", separator);
        print_edges(out, a, o, in, ne, k, 1, kept, a->cum[k]);
        sum += a->flat[k];
        report_unparse(v, sizeof(v), a->flat[k], o);
        pct(p, sizeof(p), a->flat[k], total);
        pct(p2, sizeof(p2), sum, total);
        report_unparse(v2, sizeof(v2), a->cum[k], o);
        pct(p3, sizeof(p3), a->cum[k], total);
        fprintf(out, "%10s %s %s %10s %s                | %s\n", v, p, p2, v2, p3,
                strtab_get(&a->nodes, k));
        print_edges(out, a, o, outg, ne, k, 0, kept, a->cum[k]);
    }
    if (nshown)
        fprintf(out, "%s\n", separator);
    if (o->re && !nshown)
        warning("no function matches '%s'", o->re_src ? o->re_src : "");
    free(in);
    free(outg);
    free(kept);
    free(shown);
    free(order);
    return 0;
}
