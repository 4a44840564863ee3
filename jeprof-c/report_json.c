/* report_json: the report for machines:
 *   {"type":"inuse_space","unit":"bytes","total":N,"kept":N,
 *    "nodes":[{"name":..,"flat":..,"cum":..},...],       sorted as --text
 *    "stacks":[{"frames":[root,...,leaf],"value":..},...]}
 * Values are the unsampled estimates, rounded to integers. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "number.h"
#include "report.h"
#include "strtab.h"

char *collapsed_stack_name(const struct analysis *a, const struct astack *t);

static void jstr(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static long long rnd(double v)
{
    return dbl_round_i64(v);
}

int report_json(FILE *out, const struct analysis *a, const struct report_options *o)
{
    int objects = o->value == PV_INUSE_OBJECTS || o->value == PV_ALLOC_OBJECTS;
    fprintf(out, "{\"type\":\"%s\",\"unit\":\"%s\",\"total\":%lld,\"kept\":%lld,\"nodes\":[",
            value_name(o->value), objects ? "objects" : "bytes", rnd(a->total), rnd(a->kept));
    size_t n;
    uint32_t *order = analysis_sorted_nodes(a, o->by_cum, &n);
    int first = 1, rows = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t k = order[i];
        if (a->flat[k] == 0 && a->cum[k] == 0)
            continue;
        if (o->nodecount >= 0 && rows++ >= o->nodecount)
            break;
        fputs(first ? "\n" : ",\n", out);
        first = 0;
        fputs("{\"name\":", out);
        jstr(out, strtab_get(&a->nodes, k));
        fprintf(out, ",\"flat\":%lld,\"cum\":%lld}", rnd(a->flat[k]), rnd(a->cum[k]));
    }
    free(order);
    fputs("],\"stacks\":[", out);
    first = 1;
    for (size_t i = 0; i < a->nstacks; i++) {
        const struct astack *t = &a->stacks[i];
        if (t->depth == 0 || (rnd(t->v) == 0 && t->freed == 0))
            continue;
        fputs(first ? "\n" : ",\n", out);
        first = 0;
        fputs("{\"frames\":[", out);
        int f1 = 1;
        for (uint32_t j = t->depth; j-- > 0;) {
            const char *fn[64];
            size_t k = loc_function_names(a->p, a->pool[t->off + j], fn, 64);
            while (k-- > 0) {
                if (!f1)
                    fputc(',', out);
                f1 = 0;
                jstr(out, fn[k]);
            }
        }
        fprintf(out, "],\"value\":%lld", rnd(t->v));
        if (t->freed > 0)
            fprintf(out, ",\"freed\":%lld,\"mean_lifetime_ns\":%lld", rnd(t->freed),
                    rnd(t->lifetime_sum / t->freed));
        fputc('}', out);
    }
    fputs("]}\n", out);
    return 0;
}
