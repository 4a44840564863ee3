/* report_collapsed: folded stacks, "root;...;leaf <integer>" per line, for
 * flamegraph.pl and speedscope. As in jeprof, each trimmed stack's value is
 * truncated to an integer before equal name stacks are merged, so the sum
 * of the lines equals jeprof's. Lines come out sorted; zero lines are
 * omitted. Inlined functions appear as their own frames.
 * With --base (o->diff_old set) the lines are Brendan Gregg's difffolded
 * format, "root;...;leaf <old> <new>" (base value, then the new profile's),
 * which flamegraph.pl draws as a differential flame graph; lines where
 * both are 0 are omitted. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "xalloc.h"
#include "strtab.h"
#include "number.h"

/* Appends s to the growing line buffer, replacing ';' (the separator). */
static void put(char **buf, size_t *len, size_t *cap, const char *s)
{
    size_t n = strlen(s);
    GROW(*buf, *cap, *len + n + 2);
    for (size_t i = 0; i < n; i++)
        (*buf)[(*len)++] = s[i] == ';' ? ':' : s[i];
    (*buf)[*len] = 0;
}

/* Root-first frame names of a merged stack joined with ';'. */
char *collapsed_stack_name(const struct analysis *a, const struct astack *t);
char *collapsed_stack_name(const struct analysis *a, const struct astack *t)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int first = 1;
    GROW(buf, cap, 1);
    buf[0] = 0;
    for (uint32_t j = t->depth; j-- > 0;) {
        const char *names[64];
        size_t nn = loc_function_names(a->p, a->pool[t->off + j], names, 64);
        for (size_t k = nn; k-- > 0;) {
            if (!first) {
                GROW(buf, cap, len + 2);
                buf[len++] = ';';
                buf[len] = 0;
            }
            first = 0;
            put(&buf, &len, &cap, names[k]);
        }
    }
    return buf;
}

static const struct strtab *sort_tab;
static int cmp_ids(const void *x, const void *y)
{
    return strcmp(strtab_get(sort_tab, *(const uint32_t *)x),
                  strtab_get(sort_tab, *(const uint32_t *)y));
}

int report_collapsed(FILE *out, const struct analysis *a, const struct report_options *o)
{
    struct strtab lines;
    strtab_init(&lines);
    int64_t *sum = NULL, *oldv = NULL;
    size_t cap = 0, capo = 0;
    int diff = o->diff_old != NULL;
    for (size_t i = 0; i < a->nstacks; i++) {
        const struct astack *t = &a->stacks[i];
        if (t->depth == 0)
            continue;
        char *name = collapsed_stack_name(a, t);
        uint32_t id = strtab_intern(&lines, name);
        free(name);
        size_t old = cap;
        GROW(sum, cap, (size_t)id + 1);
        if (cap > old)
            memset(sum + old, 0, (cap - old) * sizeof(*sum));
        if (!diff) {
            sum[id] += dbl_to_i64(t->v);
            continue;
        }
        size_t oldc = capo;
        GROW(oldv, capo, (size_t)id + 1);
        if (capo > oldc)
            memset(oldv + oldc, 0, (capo - oldc) * sizeof(*oldv));
        sum[id] += dbl_to_i64(o->diff_new[i]);
        oldv[id] += dbl_to_i64(o->diff_old[i]);
    }
    uint32_t *ids = xmalloc(lines.n * sizeof(uint32_t));
    size_t n = 0;
    for (uint32_t i = 1; i < lines.n; i++)
        if (sum[i] != 0 || (diff && oldv[i] != 0))
            ids[n++] = i;
    sort_tab = &lines;
    qsort(ids, n, sizeof(uint32_t), cmp_ids);
    for (size_t i = 0; i < n; i++) {
        if (diff)
            fprintf(out, "%s %" PRId64 " %" PRId64 "\n", strtab_get(&lines, ids[i]), oldv[ids[i]],
                    sum[ids[i]]);
        else
            fprintf(out, "%s %" PRId64 "\n", strtab_get(&lines, ids[i]), sum[ids[i]]);
    }
    free(ids);
    free(oldv);
    free(sum);
    strtab_free(&lines);
    return 0;
}
