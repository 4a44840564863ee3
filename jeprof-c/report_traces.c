/* report_traces: pprof's -traces layout. A header (program, value type,
 * total), then every merged stack after trimming and --focus/--ignore,
 * leaf first, one frame per line (inlined frames marked " (inline)"), the
 * value on the first line, stacks separated by pprof's rule. Values are
 * jeprof's units (MB, or B with --show_bytes, or objects). Stacks are sorted
 * by decreasing |value|, then by their frames, so the output is stable;
 * stacks with a zero value or no frames are not listed (they still count in
 * the total). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "xalloc.h"
#include "strtab.h"

static const char separator[] =
    "-----------+-------------------------------------------------------";

/* Prints the "File:", "Type:" and "Total:" header shared by the pprof-style
 * modes (traces, tree, peek). */
void report_header(FILE *out, const struct analysis *a, const struct report_options *o);
void report_header(FILE *out, const struct analysis *a, const struct report_options *o)
{
    char t[64];
    if (o->title)
        fprintf(out, "File: %s\n", o->title);
    fprintf(out, "Type: %s\n", o->unit ? o->unit : value_name(o->value));
    report_unparse(t, sizeof(t), a->total, o);
    if (o->thread >= 0)
        fprintf(out, "Total (t%d): %s %s\n", o->thread, t, report_units(o));
    else
        fprintf(out, "Total: %s %s\n", t, report_units(o));
}

static const struct analysis *sort_a;

/* Compares two stacks' frames, leaf first, by node name. */
static int cmp_frames(const struct astack *x, const struct astack *y)
{
    const struct analysis *a = sort_a;
    for (uint32_t i = 0; i < x->depth && i < y->depth; i++) {
        uint32_t lx = a->pool[x->off + i], ly = a->pool[y->off + i];
        if (lx == ly)
            continue;
        uint32_t nx = a->locnodes_n[lx], ny = a->locnodes_n[ly];
        for (uint32_t k = 0; k < nx && k < ny; k++) {
            int c = strcmp(strtab_get(&a->nodes, a->locnodes[a->locnodes_off[lx] + k]),
                           strtab_get(&a->nodes, a->locnodes[a->locnodes_off[ly] + k]));
            if (c)
                return c;
        }
        if (nx != ny)
            return nx < ny ? -1 : 1;
    }
    return x->depth < y->depth ? -1 : x->depth > y->depth;
}

static int cmp_stacks(const void *xp, const void *yp)
{
    const struct astack *x = &sort_a->stacks[*(const size_t *)xp];
    const struct astack *y = &sort_a->stacks[*(const size_t *)yp];
    if (fabs(x->v) != fabs(y->v))
        return fabs(x->v) > fabs(y->v) ? -1 : 1;
    return cmp_frames(x, y);
}

int report_traces(FILE *out, const struct analysis *a, const struct report_options *o)
{
    report_header(out, a, o);
    size_t *order = xmalloc((a->nstacks + 1) * sizeof(size_t)), n = 0;
    for (size_t i = 0; i < a->nstacks; i++)
        if (a->stacks[i].v != 0 && a->stacks[i].ndepth > 0)
            order[n++] = i;
    sort_a = a;
    qsort(order, n, sizeof(size_t), cmp_stacks);
    for (size_t i = 0; i < n; i++) {
        const struct astack *t = &a->stacks[order[i]];
        char v[64];
        report_unparse(v, sizeof(v), t->v, o);
        fprintf(out, "%s\n", separator);
        int first = 1;
        for (uint32_t j = 0; j < t->depth; j++) {
            uint32_t li = a->pool[t->off + j];
            for (uint32_t k = 0; k < a->locnodes_n[li]; k++) {
                fprintf(out, "%10s   %s\n", first ? v : "",
                        strtab_get(&a->nodes, a->locnodes[a->locnodes_off[li] + k]));
                first = 0;
            }
        }
    }
    fprintf(out, "%s\n", separator);
    free(order);
    return 0;
}
