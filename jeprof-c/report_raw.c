/* report_raw: jeprof's --raw, a "symbolized profile" that jeprof reads back
 * without the program (`jeprof --text file.raw`):
 *
 *   --- symbol
 *   binary=<program>                      (when one was named)
 *   0x<address> <outer>--<inlined>--...   (one line per address)
 *   ---
 *   --- heap
 *   <the profile in jemalloc's heap_v2 text, with its MAPPED_LIBRARIES>
 *
 * Addresses in the symbol section are those jeprof looks up: the stack's
 * first address as written and the others minus one (jeprof's
 * FixCallerAddresses), so stacks are written with callers' return addresses
 * restored. Names are our display names, outermost function first (jeprof's
 * order), "--"-separated. The samples are the whole profile (all threads
 * together), untrimmed: the reader trims. For a single heap_v2 dump the
 * sampled counts are recovered from the unsampled values (the inverse of
 * jeprof's AdjustSamples, rounded) and written with the dump's rate, so
 * jeprof computes the same values it computes from the dump itself. Other
 * inputs (pprof, several dumps) carry unsampled values: they are written in
 * the old "heap profile: ... @ heapprofile" form, which jeprof does not
 * rescale (values rounded to integers); jeprof skips a sample without
 * frames in that form (an "@" line without addresses), jeprof-c keeps it. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "number.h"
#include "report.h"
#include "xalloc.h"
#include "message.h"

/* The sampled count and bytes behind an unsampled pair (heap_v2, rate r). */
static void resample(double r, double n, double s, int64_t *rn, int64_t *rs)
{
    if (r > 0 && n != 0 && s != 0) {
        double keep = 1 - exp(-((s / n) / r));
        n *= keep;
        s *= keep;
    }
    *rn = dbl_round_i64(n);
    *rs = dbl_round_i64(s);
}

static void write_stack(FILE *out, const struct profile *p, const struct psample *s)
{
    fputs("@", out);
    for (uint32_t j = 0; j < s->depth; j++) {
        uint64_t a = p->locs[p->stackpool[s->stack + j]].addr;
        fprintf(out, " 0x%" PRIx64, j ? a + 1 : a);
    }
}

int report_raw(FILE *out, const struct profile *p, const struct report_options *o, int exact_rate)
{
    for (size_t i = 0; i < p->nsamples; i++)
        for (int k = 0; k < PV_N; k++)
            if (p->samples[i].v[k] < 0)
                return error("--raw cannot write negative values (a --base difference)");
    /* Symbol section: every address of every all-threads stack, once. */
    fputs("--- symbol\n", out);
    if (o->program)
        fprintf(out, "binary=%s\n", o->program);
    uint8_t *seen = xcalloc(p->nlocs + 1, 1);
    for (size_t i = 0; i < p->nsamples; i++) {
        const struct psample *s = &p->samples[i];
        if (s->thread != THREAD_ALL)
            continue;
        for (uint32_t j = 0; j < s->depth; j++) {
            uint32_t li = p->stackpool[s->stack + j];
            const struct ploc *l = &p->locs[li];
            if (seen[li] || l->nframes == 0)
                continue;
            seen[li] = 1;
            fprintf(out, "0x%" PRIx64 " ", l->addr);
            for (uint32_t k = l->nframes; k-- > 0;)
                fprintf(out, "%s%s", pstr(p, p->frames[l->frame0 + k].name), k ? "--" : "\n");
        }
    }
    free(seen);
    fputs("---\n--- heap\n", out);

    /* Totals first (the header line), then the stacks. */
    int64_t tot[PV_N] = {0};
    int64_t(*c)[PV_N] = xcalloc(p->nsamples + 1, sizeof(*c));
    double rate = exact_rate ? (double)p->period : 0;
    for (size_t i = 0; i < p->nsamples; i++) {
        const struct psample *s = &p->samples[i];
        if (s->thread != THREAD_ALL)
            continue;
        resample(rate, s->v[PV_INUSE_OBJECTS], s->v[PV_INUSE_SPACE], &c[i][PV_INUSE_OBJECTS],
                 &c[i][PV_INUSE_SPACE]);
        resample(rate, s->v[PV_ALLOC_OBJECTS], s->v[PV_ALLOC_SPACE], &c[i][PV_ALLOC_OBJECTS],
                 &c[i][PV_ALLOC_SPACE]);
        for (int k = 0; k < PV_N; k++)
            tot[k] = i64_add_clamped(tot[k], c[i][k]);
    }
    if (exact_rate)
        fprintf(out,
                "heap_v2/%" PRIu64 "\n  t*: %" PRId64 ": %" PRId64 " [%" PRId64 ": %" PRId64 "]\n",
                p->period, tot[PV_INUSE_OBJECTS], tot[PV_INUSE_SPACE], tot[PV_ALLOC_OBJECTS],
                tot[PV_ALLOC_SPACE]);
    else
        fprintf(out,
                "heap profile: %" PRId64 ": %" PRId64 " [%" PRId64 ": %" PRId64 "] @ heapprofile\n",
                tot[PV_INUSE_OBJECTS], tot[PV_INUSE_SPACE], tot[PV_ALLOC_OBJECTS],
                tot[PV_ALLOC_SPACE]);
    for (size_t i = 0; i < p->nsamples; i++) {
        const struct psample *s = &p->samples[i];
        if (s->thread != THREAD_ALL)
            continue;
        if (exact_rate) {
            write_stack(out, p, s);
            fprintf(out, "\n  t*: %" PRId64 ": %" PRId64 " [%" PRId64 ": %" PRId64 "]\n",
                    c[i][PV_INUSE_OBJECTS], c[i][PV_INUSE_SPACE], c[i][PV_ALLOC_OBJECTS],
                    c[i][PV_ALLOC_SPACE]);
        } else {
            fprintf(out, "%" PRId64 ": %" PRId64 " [%" PRId64 ": %" PRId64 "] ",
                    c[i][PV_INUSE_OBJECTS], c[i][PV_INUSE_SPACE], c[i][PV_ALLOC_OBJECTS],
                    c[i][PV_ALLOC_SPACE]);
            write_stack(out, p, s);
            fputs("\n", out);
        }
    }
    free(c);
    fputs("\nMAPPED_LIBRARIES:\n", out);
    for (size_t i = 0; i < p->nmaps; i++) {
        const struct pmap *m = &p->maps[i];
        fprintf(out, "%" PRIx64 "-%" PRIx64 " r-xp %08" PRIx64 " 00:00 0 %s\n", m->start, m->limit,
                m->offset, m->path ? pstr(p, m->path) : "");
    }
    return 0;
}
