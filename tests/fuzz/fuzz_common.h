/* Shared body of the reader fuzzers: feed the bytes to one reader (and the
 * format sniffer), then walk the model and run the analysis and the text,
 * collapsed and JSON reports on it (into /dev/null), so an inconsistent
 * model (bad index, bad offset) shows up under ASan. Symbolization is left
 * out: it reads files named by the input. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "read.h"
#include "report.h"
#include "xalloc.h"

typedef int (*reader_fn)(struct profile *, const char *, size_t, char *);

static void fuzz_walk(const struct profile *p)
{
    volatile double sum = 0;
    for (size_t i = 0; i < p->nsamples; i++) {
        const struct psample *s = &p->samples[i];
        for (uint32_t j = 0; j < s->depth; j++) {
            const struct ploc *l = &p->locs[p->stackpool[s->stack + j]];
            if (l->map >= 0)
                sum += (double)p->maps[l->map].start;
            for (uint32_t k = 0; k < l->nframes; k++)
                sum += (double)strlen(pstr(p, p->frames[l->frame0 + k].name));
        }
        sum += s->v[0] + s->v[1] + s->v[2] + s->v[3];
    }
    (void)sum;
}

/* profile.prefetch: the strings the reader hands over must be readable. */
static void fuzz_prefetch(const char *path, const char *build_id, int deleted)
{
    volatile size_t n = strlen(path) + strlen(build_id) + (size_t)deleted;
    (void)n;
}

static int fuzz_one(reader_fn fn, const uint8_t *data, size_t size)
{
    struct profile p;
    char err[READ_ERRLEN];
    /* Readers get a NUL-terminated copy, as read_profile_file gives them. */
    char *buf = xmalloc(size + 1);
    memcpy(buf, data, size);
    buf[size] = 0;
    profile_init(&p);
    p.keep_threads = size & 1; /* both ways, chosen by the input */
    p.prefetch = size & 4 ? fuzz_prefetch : NULL; /* the maps read ahead too */
    if (fn(&p, buf, size, err) == 0) {
        profile_assign_maps(&p, 0);
        fuzz_walk(&p);
        static FILE *null;
        if (!null)
            null = fopen("/dev/null", "w");
        for (int g = 0; g < 2; g++) {
            struct analyze_options ao = {.value = PV_INUSE_SPACE,
                                         .gran = g ? GRAN_LINES : GRAN_FUNCTIONS,
                                         .thread = THREAD_ALL};
            struct report_options ro = {.value = PV_INUSE_SPACE, .nodecount = -1, .thread = -1};
            struct analysis a;
            if (analyze(&a, &p, &ao) == 0) {
                (void)!report_text(null, &a, &ro);
                (void)!report_collapsed(null, &a, &ro);
                (void)!report_json(null, &a, &ro);
                (void)!report_traces(null, &a, &ro);
                (void)!report_tree(null, &a, &ro);
                (void)!report_callgrind(null, &a, &ro);
                if (g == 0)
                    (void)!report_raw(null, &p, &ro, (size & 2) != 0);
            }
            analysis_free(&a);
        }
    }
    profile_free(&p);
    (void)read_sniff(buf, size);
    free(buf);
    return 0;
}

#endif
