/* report: the output modes. Each takes the analysed profile and the
 * options that shape it and writes to out; each lives in its own file
 * (report_text.c, report_collapsed.c, ...). Returns 0 or an errno after
 * printing "error: ...". */
#ifndef JEPROF_REPORT_H
#define JEPROF_REPORT_H

#include <stdio.h>

#include "analyze.h"

struct report_options {
    int value;           /* PV_* column shown */
    int show_bytes;      /* bytes instead of MB */
    int by_cum;          /* --cum: sort by cumulative value */
    int nodecount;       /* rows/nodes kept, -1 = all (text) or 80 (graphs) */
    double nodefraction; /* graphs: drop nodes below this share */
    double edgefraction; /* graphs: drop edges below this share */
    int thread;          /* THREAD_ALL or the --thread shown */
    const char *title;   /* graphs and flamegraph: the title */
    const char *unit;    /* non-heap pprof: the unit, values printed as integers */
};

/* jeprof's number and unit formatting (Unparse, Units). */
const char *report_units(const struct report_options *o);
void report_unparse(char *buf, size_t n, double v, const struct report_options *o);
const char *value_name(int value);

int report_text(FILE *out, const struct analysis *a, const struct report_options *o) WUR;
int report_collapsed(FILE *out, const struct analysis *a, const struct report_options *o) WUR;
int report_json(FILE *out, const struct analysis *a, const struct report_options *o) WUR;
int report_recent(FILE *out, const struct analysis *a, const struct report_options *o) WUR;
/* format: "dot", "svg" or "pdf". */
int report_graph(FILE *out, const char *format, const struct analysis *a,
                 const struct report_options *o) WUR;
int report_flamegraph(const char *path, const struct analysis *a,
                      const struct report_options *o) WUR;
/* Writes the whole (untrimmed, all-thread) profile, symbolized, as gzip'd pprof. */
int report_pprof(const char *path, const struct profile *p) WUR;

#endif
