/* report_recent: the text report for a recent-ring dump, by allocation site
 * (the trimmed stack): objects, bytes, objects still live, objects freed
 * and their mean lifetime, sorted by the selected value (--inuse_space by
 * default, --alloc_space etc. choose), always printed as an integer. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "xalloc.h"
#include "number.h"

char *collapsed_stack_name(const struct analysis *a, const struct astack *t);

static const struct analysis *sort_a;
static int cmp_v(const void *x, const void *y)
{
    double a = sort_a->stacks[*(const uint32_t *)x].v, b = sort_a->stacks[*(const uint32_t *)y].v;
    return a > b ? -1 : a < b;
}

int report_recent(FILE *out, const struct analysis *a, const struct report_options *o)
{
    uint32_t *ids = xmalloc((a->nstacks + 1) * sizeof(uint32_t));
    size_t n = 0;
    for (size_t i = 0; i < a->nstacks; i++)
        if (a->stacks[i].v != 0 || a->stacks[i].freed > 0)
            ids[n++] = (uint32_t)i;
    sort_a = a;
    qsort(ids, n, sizeof(uint32_t), cmp_v);
    struct report_options ro = *o;
    ro.show_bytes = 1; /* a ring of recent objects is small: exact numbers */
    char tot[64];
    report_unparse(tot, sizeof(tot), a->total, &ro);
    fprintf(out, "Recent allocations: %s %s (%s) at %zu sites\n", tot, report_units(&ro),
            value_name(o->value), n);
    fprintf(out, "%12s %8s %8s %14s  %s\n", "value", "objects", "freed", "mean life ms",
            "site (root;...;leaf)");
    for (size_t i = 0; i < n && (o->nodecount < 0 || (int)i < o->nodecount); i++) {
        const struct astack *t = &a->stacks[ids[i]];
        char v[64], life[32] = "-";
        report_unparse(v, sizeof(v), t->v, &ro);
        if (t->freed > 0)
            snprintf(life, sizeof(life), "%.3f", t->lifetime_sum / t->freed / 1e6);
        char *name = collapsed_stack_name(a, t);
        fprintf(out, "%12s %8lld %8lld %14s  %s\n", v, (long long)dbl_to_i64(t->objects),
                (long long)t->freed, life, *name ? name : "(no stack)");
        free(name);
    }
    free(ids);
    return 0;
}
