/* report_growth: --growth's text table (see growth.h for the measures).
 *
 *   Growth over N dumps, <first time> to <last time> (<span>): <value>, by <site kind>
 *   Total: <first> -> <last>, slope <v>/h, R2 <r>
 *   rank    trend/h    slope/h    R2      first       last  share  site
 *   1        6.0 MiB    6.0 MiB 1.000     1.0 MiB    7.0 MiB  99.8%  leaky_cache_add
 *
 * trend = slope x R2 (the ranking), slope = least-squares growth per hour
 * ("/dump" when the dumps carry no usable time), first/last = the value in
 * the first and last dump, share = the site's last - first over the total's.
 * Values are human sizes (KiB, MiB), or integers with --show_bytes and for
 * objects. Rows: every site with a nonzero value, or the first --nodecount. */
#include <math.h>
#include <string.h>
#include <time.h>

#include "growth.h"

static void fmt_time(char *buf, size_t n, int64_t ns)
{
    time_t t = (time_t)(ns / 1000000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* A span in the largest unit that keeps it readable. */
static void fmt_span(char *buf, size_t n, double sec)
{
    if (sec < 1)
        snprintf(buf, n, "%.0f ms", sec * 1000);
    else if (sec < 120)
        snprintf(buf, n, "%.1f s", sec);
    else if (sec < 7200)
        snprintf(buf, n, "%.1f min", sec / 60);
    else if (sec < 2 * 86400)
        snprintf(buf, n, "%.1f h", sec / 3600);
    else
        snprintf(buf, n, "%.1f days", sec / 86400);
}

static const char *site_kind(const struct growth *g)
{
    return g->by_cum ? "function and callers (cum)" : "allocation site (flat)";
}

int report_growth_text(FILE *out, const struct growth *g, const struct report_options *o)
{
    char a[64], b[64], c[64];
    const char *xu = growth_x_unit(g);
    if (g->per_dump) {
        fprintf(out, "Growth over %zu dumps (no usable times: per dump): %s, by %s\n", g->ndumps,
                value_name(g->value), site_kind(g));
    } else {
        int64_t t0 = g->dumps[0].time_ns, t1 = g->dumps[g->ndumps - 1].time_ns;
        fmt_time(a, sizeof(a), t0);
        fmt_time(b, sizeof(b), t1);
        fmt_span(c, sizeof(c), (double)(t1 - t0) / 1e9);
        fprintf(out, "Growth over %zu dumps, %s to %s (%s): %s, by %s\n", g->ndumps, a, b, c,
                value_name(g->value), site_kind(g));
    }
    growth_fmt_value(a, sizeof(a), g->total_fit.first, g, o);
    growth_fmt_value(b, sizeof(b), g->total_fit.last, g, o);
    growth_fmt_value(c, sizeof(c), g->total_fit.slope, g, o);
    fprintf(out, "Total: %s -> %s, slope %s/%s, R2 %.3f\n", a, b, c, xu, g->total_fit.r2);
    char th[32], sh[32];
    snprintf(th, sizeof(th), "trend/%s", xu);
    snprintf(sh, sizeof(sh), "slope/%s", xu);
    fprintf(out, "%4s %12s %12s %5s %11s %11s %6s  %s\n", "rank", th, sh, "R2", "first", "last",
            "share", "site");
    size_t rows = growth_nrows(g, o);
    for (size_t i = 0; i < rows; i++) {
        struct growth_row r;
        growth_row(&r, i, g, o);
        fprintf(out, "%4zu %12s %12s %5.3f %11s %11s %6s  %s\n", i + 1, r.trend, r.slope, r.site->r2,
                r.first, r.last, r.share, strtab_get(&g->names, r.site->name));
    }
    return 0;
}

/* A JSON string (control characters escaped; bytes >= 0x80 as they are). */
static void jstr(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

/* A finite number, or null. */
static void jnum(FILE *out, double v)
{
    if (isfinite(v))
        fprintf(out, "%.17g", v);
    else
        fputs("null", out);
}

static void jfit(FILE *out, const struct growth_site *s)
{
    fputs("\"first\":", out);
    jnum(out, s->first);
    fputs(",\"last\":", out);
    jnum(out, s->last);
    fputs(",\"peak\":", out);
    jnum(out, s->peak);
    fputs(",\"slope\":", out);
    jnum(out, s->slope);
    fputs(",\"r2\":", out);
    jnum(out, s->r2);
    fputs(",\"trend\":", out);
    jnum(out, s->score);
}

/*
 * --growth --json, for machines:
 *   {"type":"inuse_space","unit":"bytes","x_unit":"h","by":"flat",
 *    "dumps":[{"path":..,"time_ns":..,"time_source":"embedded"|"mtime",
 *              "seq":N|null,"x":hours since the first dump (or rank)},...],
 *    "total":{"first","last","peak","slope","r2","trend","values":[...]},
 *    "sites":[{"rank":1,"name":..,"first",..,"trend","share":fraction|null,
 *              "values":[one per dump, in time order]},...]}
 * Unrounded values; sites in rank order, --nodecount honoured.
 */
int report_growth_json(FILE *out, const struct growth *g, const struct report_options *o)
{
    int objects = g->value == PV_INUSE_OBJECTS || g->value == PV_ALLOC_OBJECTS;
    size_t nd = g->ndumps;
    fprintf(out, "{\"type\":\"%s\",\"unit\":", value_name(g->value));
    jstr(out, o->unit ? o->unit : objects ? "objects" : "bytes");
    fprintf(out, ",\"x_unit\":\"%s\",\"by\":\"%s\",\"dumps\":[", growth_x_unit(g),
            g->by_cum ? "cum" : "flat");
    for (size_t d = 0; d < nd; d++) {
        const struct growth_dump *dp = &g->dumps[d];
        fputs(d ? ",{\"path\":" : "{\"path\":", out);
        jstr(out, dp->path);
        fprintf(out, ",\"time_ns\":%lld,\"time_source\":\"%s\",\"seq\":", (long long)dp->time_ns,
                dp->time_src == GT_EMBEDDED ? "embedded" : "mtime");
        if (dp->seq >= 0)
            fprintf(out, "%lld", dp->seq);
        else
            fputs("null", out);
        fputs(",\"x\":", out);
        jnum(out, g->x[d]);
        fputs("}", out);
    }
    fputs("],\"total\":{", out);
    jfit(out, &g->total_fit);
    fputs(",\"values\":[", out);
    for (size_t d = 0; d < nd; d++) {
        if (d)
            fputc(',', out);
        jnum(out, g->total[d]);
    }
    fputs("]},\"sites\":[", out);
    size_t rows = g->norder;
    if (o->nodecount >= 0 && (size_t)o->nodecount < rows)
        rows = (size_t)o->nodecount;
    for (size_t i = 0; i < rows; i++) {
        const struct growth_site *s = &g->sites[g->order[i]];
        const double *y = g->val + (size_t)g->order[i] * nd;
        fprintf(out, "%s{\"rank\":%zu,\"name\":", i ? "," : "", i + 1);
        jstr(out, strtab_get(&g->names, s->name));
        fputc(',', out);
        jfit(out, s);
        fputs(",\"share\":", out);
        jnum(out, s->share);
        fputs(",\"values\":[", out);
        for (size_t d = 0; d < nd; d++) {
            if (d)
                fputc(',', out);
            jnum(out, y[d]);
        }
        fputs("]}", out);
    }
    fputs("]}\n", out);
    return 0;
}
