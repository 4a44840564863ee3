/* report: the output modes. Each takes the analysed profile and the
 * options that shape it and writes to out; each lives in its own file
 * (report_text.c, report_collapsed.c, ...). Returns 0 or an errno after
 * printing "error: ...". */
#ifndef JEPROF_REPORT_H
#define JEPROF_REPORT_H

#include <regex.h>
#include <stdio.h>

#include "analyze.h"
#include "compiler.h"

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
    const char *program; /* the program named on the command line, or NULL */
    const regex_t *re;   /* --list/--disasm/--peek: the functions shown */
    const char *re_src;  /* the same regex as typed, for messages */
    const double *diff_old; /* --base with --flamegraph or --collapsed: per merged */
    const double *diff_new; /* stack, its value in the base and in the new profiles */
    const char *base_path;  /* the --base file, for the differential graph's subtitle */
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
/* The jeprof/pprof modes (report_traces.c, report_tree.c, report_callgrind.c,
 * report_list.c, report_disasm.c, report_raw.c). */
/* Every trimmed stack with its value, pprof's -traces layout. */
int report_traces(FILE *out, const struct analysis *a, const struct report_options *o) WUR;
/* pprof's -tree: each node with its callers and callees and their shares;
 * with o->re set, pprof's -peek (only the matching nodes; none is an
 * error). */
int report_tree(FILE *out, const struct analysis *a, const struct report_options *o) WUR;
/* jeprof's --callgrind: the calls between source positions in the format
 * callgrind_annotate and KCachegrind read. */
int report_callgrind(FILE *out, const struct analysis *a, const struct report_options *o) WUR;
/* jeprof's --list=RE: source of each matching function with flat and cum
 * per line; --disasm=RE: its instructions (objdump) with flat and cum. */
int report_list(FILE *out, const struct analysis *a, const struct report_options *o) WUR;
int report_disasm(FILE *out, const struct analysis *a, const struct report_options *o) WUR;
/* Their output when no function matched (report_list.c). */
void report_list_none(FILE *out, const struct analysis *a, const struct report_options *o,
                      size_t nocode);
/* jeprof's --raw: the profile with its symbol table embedded, which jeprof
 * (and jeprof-c) read back without the program. exact_rate: the profile is
 * one heap_v2 dump sampled at p->period, so its counts can be written back
 * exactly; otherwise the unsampled values are written unscaled. */
int report_raw(FILE *out, const struct profile *p, const struct report_options *o,
               int exact_rate) WUR;
/* Writes the whole (untrimmed, all-thread) profile, symbolized, as gzip'd
 * pprof; value (PV_*) becomes its default_sample_type, so pprof tools open
 * it on the column chosen on the command line. */
int report_pprof(const char *path, const struct profile *p, int value) WUR;
/* --temporary (report_temporary.c): per allocation site of a recent-ring
 * dump, the sampled allocations freed within max_life_ns, their share, the
 * ones freed with nothing else allocated in between (heaptrack's test),
 * and unbiased estimates of their number and rate. */
int report_temporary(FILE *out, const struct analysis *a, const struct report_options *o,
                     double max_life_ns) WUR;
/* A duration "500us", "1ms", "2.5s" (ns, us, ms, s, m, h; "0" alone) in
 * ns; 0 or EINVAL. */
int report_parse_duration(const char *s, double *ns) WUR;

#endif
