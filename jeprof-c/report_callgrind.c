/* report_callgrind: jeprof's --callgrind, the callgrind profile format
 * (events, fl=/fn= positions, cfl=/cfn=/calls= call lines) that KCachegrind
 * and callgrind_annotate read. As jeprof's ExtractCalls, every trimmed stack
 * charges its value to its leaf position ("line cost" under fl=/fn=) and to
 * each call along it (caller position -> callee position); a position is
 * file:line:function of a frame. Unlike jeprof, which keeps only the
 * outermost function of an address, inlined frames are positions of their
 * own, so an inlined allocation site keeps its name and line. Records are
 * sorted by caller file and line (jeprof's order, ties by callee), names
 * compressed as "(n) name" then "(n)" (names of three characters or fewer
 * are written out). The event is jeprof's "Hits": the chosen value column in
 * bytes or objects, rounded to an integer (jeprof truncates); a "summary:" line gives the sum
 * of the self costs (0 for an empty profile); the file starts with the
 * "# callgrind format" marker. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "number.h"
#include "report.h"
#include "xalloc.h"
#include "strtab.h"

/* One source position: function at file:line. */
struct pos {
    uint32_t file, fn; /* string ids in the profile (0 = unknown) */
    int32_t line;      /* 0 = unknown */
};

/* One record: a self cost (callee.fn == UINT32_MAX) or a call. */
struct rec {
    struct pos caller, callee;
    double v;
};

static const struct profile *sort_p;

static const char *fname(const struct profile *p, uint32_t id)
{
    return id ? pstr(p, id) : "??";
}

static int cmp_pos(const struct pos *x, const struct pos *y)
{
    int c = strcmp(fname(sort_p, x->file), fname(sort_p, y->file));
    if (c)
        return c;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return strcmp(pstr(sort_p, x->fn), pstr(sort_p, y->fn));
}

static int cmp_rec(const void *xp, const void *yp)
{
    const struct rec *x = xp, *y = yp;
    int c = cmp_pos(&x->caller, &y->caller);
    if (c)
        return c;
    int xs = x->callee.fn == UINT32_MAX, ys = y->callee.fn == UINT32_MAX;
    if (xs != ys)
        return xs ? -1 : 1; /* the self cost first */
    return xs ? 0 : cmp_pos(&x->callee, &y->callee);
}

/* Positions of one stack, leaf first, inlined frames expanded. */
static size_t stack_positions(const struct analysis *a, const struct astack *t, struct pos **buf,
                              size_t *cap)
{
    const struct profile *p = a->p;
    size_t n = 0;
    for (uint32_t j = 0; j < t->depth; j++) {
        const struct ploc *l = &p->locs[a->pool[t->off + j]];
        if (a->locnodes_n[a->pool[t->off + j]] == 0)
            continue; /* dropped by the analysis (kernel-looking address) */
        for (uint32_t k = 0; k < l->nframes; k++) {
            const struct pframe *f = &p->frames[l->frame0 + k];
            GROW(*buf, *cap, n + 1);
            (*buf)[n].file = f->file;
            (*buf)[n].fn = f->name;
            (*buf)[n].line = f->line;
            n++;
        }
    }
    return n;
}

/* jeprof's CompressedCGName over a name -> index table. */
static void put_name(FILE *out, const char *key, const char *val, struct strtab *seen)
{
    if (strlen(val) <= 3) {
        fprintf(out, "%s=%s\n", key, val);
        return;
    }
    uint32_t id = strtab_find(seen, val);
    if (id != UINT32_MAX) {
        fprintf(out, "%s=(%u)\n", key, id);
        return;
    }
    id = strtab_intern(seen, val); /* ids start at 1: id 0 is "" */
    fprintf(out, "%s=(%u) %s\n", key, id, val);
}

int report_callgrind(FILE *out, const struct analysis *a, const struct report_options *o)
{
    (void)o;
    const struct profile *p = a->p;
    struct rec *r = NULL;
    size_t nr = 0, capr = 0, capp = 0;
    struct pos *ps = NULL;
    for (size_t i = 0; i < a->nstacks; i++) {
        const struct astack *t = &a->stacks[i];
        size_t n = stack_positions(a, t, &ps, &capp);
        if (n == 0)
            continue;
        GROW(r, capr, nr + n);
        r[nr].caller = ps[0];
        r[nr].callee.fn = UINT32_MAX;
        r[nr].v = t->v;
        nr++;
        for (size_t k = 1; k < n; k++) {
            r[nr].caller = ps[k];
            r[nr].callee = ps[k - 1];
            r[nr].v = t->v;
            nr++;
        }
    }
    free(ps);
    sort_p = p;
    if (nr)
        qsort(r, nr, sizeof(*r), cmp_rec);
    /* Merge equal records; then the summary is the sum of self costs. */
    size_t k = 0;
    int64_t summary = 0;
    for (size_t i = 0; i < nr; i++) {
        if (k && cmp_rec(&r[k - 1], &r[i]) == 0)
            r[k - 1].v += r[i].v;
        else
            r[k++] = r[i];
    }
    nr = k;
    for (size_t i = 0; i < nr; i++)
        if (r[i].callee.fn == UINT32_MAX)
            summary += dbl_round_i64(r[i].v);
    /* The first line is the format's recommended marker (Valgrind manual,
     * "Callgrind Format Specification", 3.1.1). */
    fprintf(out, "# callgrind format\nevents: Hits\nsummary: %" PRId64 "\n\n", summary);
    struct strtab files, fns;
    strtab_init(&files);
    strtab_init(&fns);
    for (size_t i = 0; i < nr; i++) {
        int64_t c = dbl_round_i64(r[i].v);
        put_name(out, "fl", fname(p, r[i].caller.file), &files);
        put_name(out, "fn", pstr(p, r[i].caller.fn), &fns);
        if (r[i].callee.fn != UINT32_MAX) {
            put_name(out, "cfl", fname(p, r[i].callee.file), &files);
            put_name(out, "cfn", pstr(p, r[i].callee.fn), &fns);
            fprintf(out, "calls=%" PRId64 " %d\n", c, r[i].callee.line);
        }
        fprintf(out, "%d %" PRId64 "\n\n", r[i].caller.line, c);
    }
    strtab_free(&files);
    strtab_free(&fns);
    free(r);
    return 0;
}
