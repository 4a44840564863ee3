/* report_text: jeprof's --text layout: "Total: <v> <unit>" and rows
 * "%8s %6s %6s %8s %6s %s" = flat, flat%, running sum%, cum, cum%, name,
 * sorted by flat (or cum) then name. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "report.h"
#include "strtab.h"
#include "number.h"

const char *value_name(int value)
{
    static const char *n[PV_N] = {"inuse_objects", "inuse_space", "alloc_objects", "alloc_space"};
    return value >= 0 && value < PV_N ? n[value] : "?";
}

static int is_objects(int value)
{
    return value == PV_INUSE_OBJECTS || value == PV_ALLOC_OBJECTS;
}

const char *report_units(const struct report_options *o)
{
    if (o->unit)
        return o->unit;
    if (is_objects(o->value))
        return "objects";
    return o->show_bytes ? "B" : "MB";
}

void report_unparse(char *buf, size_t n, double v, const struct report_options *o)
{
    if (o->unit || is_objects(o->value) || o->show_bytes)
        snprintf(buf, n, "%lld", (long long)dbl_to_i64(v));
    else
        snprintf(buf, n, "%.1f", v / 1048576.0);
}

static void percent(char *buf, size_t n, double v, double total)
{
    if (total != 0)
        snprintf(buf, n, "%.1f%%", v * 100.0 / total);
    else
        snprintf(buf, n, "%s", v == 0 ? "nan" : v > 0 ? "+inf" : "-inf");
}

int report_text(FILE *out, const struct analysis *a, const struct report_options *o)
{
    char f[64], fp[32], sp[32], c[64], cp[32];
    /* Unlike jeprof, which prints nothing for an empty profile, the zero
     * total is printed: an empty answer must look different from a crash. */
    report_unparse(f, sizeof(f), a->total, o);
    if (o->thread >= 0)
        fprintf(out, "Total (t%d): %s %s\n", o->thread, f, report_units(o));
    else
        fprintf(out, "Total: %s %s\n", f, report_units(o));
    /* Percentages are of the flat total after trimming and focus. */
    double total = 0, running = 0;
    for (size_t i = 0; i < a->nodes.n; i++)
        total += a->flat[i];
    size_t n;
    uint32_t *order = analysis_sorted_nodes(a, o->by_cum, &n);
    int lines = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t k = order[i];
        running += a->flat[k];
        if (a->flat[k] != 0 || a->cum[k] != 0) {
            report_unparse(f, sizeof(f), a->flat[k], o);
            percent(fp, sizeof(fp), a->flat[k], total);
            percent(sp, sizeof(sp), running, total);
            report_unparse(c, sizeof(c), a->cum[k], o);
            percent(cp, sizeof(cp), a->cum[k], total);
            fprintf(out, "%8s %6s %6s %8s %6s %s\n", f, fp, sp, c, cp, strtab_get(&a->nodes, k));
        }
        if (o->nodecount >= 0 && ++lines >= o->nodecount)
            break;
    }
    free(order);
    return 0;
}
