/* growth: which sites keep growing over a time-ordered series of dumps
 * (jeprof-c --growth).
 *
 * Every dump is read into one profile (so it is symbolized once) and
 * remembers its run of samples; one analysis (analyze.c) with per-sample
 * stack indexes then gives each dump's value per report node. A site is a
 * node of the granularity asked for (function by default), and its value in
 * a dump is the node's flat value: the bytes allocated at that site and still
 * retained, as --text's flat column. (--cum uses cum values: a caller's
 * growth includes its callees', which repeats one leak on every frame up to
 * main, so flat is the default: it names the allocation that keeps growing.)
 *
 * Time of a dump: the time the dump carries (our heap_v2 "# time_ns" line,
 * pprof time_nanos), else the file's mtime. Dumps are sorted by time, then by
 * the sequence number in their name (prefix.pid.SEQ.i3.heap), then by the
 * command line; ties and a command line out of time order get a warning.
 * When every dump has the same time, x is the dump's rank and slopes are
 * per dump (with a warning).
 *
 * Per site: first and last value, the least-squares slope of value over
 * time (per hour), its steadiness R^2 (the coefficient of determination of
 * that linear fit: 1 = a straight line, 0 = no linear trend; a flat series
 * has 0), its share of the total's growth ((last - first) over the total's
 * last - first: the flat shares of all sites add up to 100%, a shrinking
 * site's is negative, a spike freed again has none; "-" when the total did
 * not grow),
 * and the trend score = slope x R^2, set to at most 0 when the site ends no
 * higher than it started (a spike that was freed again is not growth).
 * Sites are ranked by score, then by last value, then by name.
 *
 * Single-threaded, like the rest of the CLI. */
#ifndef JEPROF_GROWTH_H
#define JEPROF_GROWTH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "analyze.h"
#include "compiler.h"
#include "profile.h"
#include "report.h"
#include "strtab.h"

/* Where a dump's time came from. */
enum growth_time_src { GT_EMBEDDED, GT_MTIME };

/* One input dump. */
struct growth_dump {
    const char *path; /* as given on the command line (borrowed) */
    int64_t time_ns;  /* when it was taken, ns since the epoch */
    int time_src;     /* enum growth_time_src */
    long long seq;    /* sequence number from the name, -1 = none */
    long long pid;    /* process id from the name (prefix.PID.SEQ...), -1 = none */
    size_t argi;      /* position on the command line */
    size_t s0, s1;    /* its samples: [s0, s1) of the profile */
};

/* One site's series and fit. */
struct growth_site {
    uint32_t name; /* id in growth.names */
    double first;  /* value in the first dump */
    double last;   /* value in the last dump */
    double peak;   /* highest value */
    double slope;  /* least-squares value per x unit (per hour, or per dump) */
    double r2;     /* coefficient of determination of the fit, 0..1 */
    double share;  /* (last - first) / the total's (NaN when the total did not grow) */
    double score;  /* the trend score the ranking uses */
};

struct growth {
    struct growth_dump *dumps; /* in time order after growth_load */
    size_t ndumps;
    int per_dump;              /* no usable times: x is the dump's rank */
    double *x;                 /* per dump: hours since the first dump (or the rank) */
    struct strtab names;       /* site names */
    double *val;               /* nsites x ndumps: val[site * ndumps + dump] */
    double *total;             /* per dump: the value of every kept sample */
    struct growth_site *sites; /* nsites entries (id 0, "", unused) */
    size_t nsites;
    struct growth_site total_fit; /* the fit of the total */
    uint32_t *order;              /* site ids ranked (sites with a nonzero value only) */
    size_t norder;
    int by_cum; /* values are cum, not flat */
    int value;  /* PV_* column */
};

/* Reads each path into p (errors name the file), remembers its samples and
 * time, and sorts the dumps by time with the warnings above. Needs two or
 * more paths; value: the PV_* column to be shown (a dump without the
 * cumulative counts --alloc_* needs is an error, as in a single report).
 * Returns 0 or 1 after "error: ...". */
int growth_load(struct growth *g, struct profile *p, char **paths, size_t n, int value) WUR;

/* Fills the series from the analysis of p (made with sample_stack) and fits
 * and ranks the sites. value: PV_* column; by_cum: cum instead of flat. */
void growth_compute(struct growth *g, const struct analysis *a, const uint32_t *sample_stack,
                    int value, int by_cum);

void growth_free(struct growth *g);

/* The x unit's name: "h" or "dump". */
const char *growth_x_unit(const struct growth *g);

/* Reports (report_growth.c, report_growth_chart.c). The text table honours
 * o->nodecount (all sites by default); the charts draw the top
 * o->nodecount sites (8 by default). Return 0 or an errno. */
int report_growth_text(FILE *out, const struct growth *g, const struct report_options *o) WUR;
int report_growth_json(FILE *out, const struct growth *g, const struct report_options *o) WUR;
int report_growth_svg(FILE *out, const struct growth *g, const struct report_options *o) WUR;
int report_growth_html(FILE *out, const struct growth *g, const struct report_options *o) WUR;

/* Human byte size ("1.5 MiB", "512 B") or, with o->show_bytes or for
 * objects, the integer; shared by the growth reports. */
void growth_fmt_value(char *buf, size_t n, double v, const struct growth *g,
                      const struct report_options *o);

/* One row of the ranking, as the text table and the HTML page print it. */
struct growth_row {
    const struct growth_site *site;
    char trend[64], slope[64], first[64], last[64];
    char share[16]; /* "12.5%", or "-" when the total did not grow */
};
/* The number of ranked rows to print: all, or o->nodecount when set. */
size_t growth_nrows(const struct growth *g, const struct report_options *o);
/* Row i (0-based rank) of the ranking, formatted. */
void growth_row(struct growth_row *r, size_t i, const struct growth *g,
                const struct report_options *o);

#endif
