/* report_growth_chart: --growth --svg and --growth --html, a line chart of
 * the top ranked sites' values over time.
 *
 * One self-contained document: no script, no external font, style sheet or
 * image, nothing fetched. Axes carry units (KiB/MiB... or objects) and
 * time labels (time since the first dump, whose UTC time is in the axis
 * title; the dump's rank when the dumps carry no usable time). The top
 * ranked site, when its trend is positive, is the suspected leak: a thick
 * red line, labelled at its last point and first in the legend. Every point
 * has a tooltip (<title>) with the site, time and value. For tools and
 * tests: each series is a <polyline class="series"> (class "series leak"
 * for the highlighted one) with data-rank and data-site attributes.
 * The HTML page embeds the same SVG and adds the ranked table. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "flamegraph.h"
#include "growth.h"
#include "xalloc.h"

/* clang-format off */
enum {
    CH_WIDTH   = 960, /* px */
    CH_LEFT    = 90,  /* room for the y labels */
    CH_RIGHT   = 150, /* room for the leak's label */
    CH_TOP     = 56,  /* title and subtitle */
    CH_PLOT_H  = 340, /* plot area height */
    CH_BOTTOM  = 56,  /* x labels and axis title */
    CH_LEGEND  = 20,  /* one legend row */
    CH_DEFAULT_N = 8, /* series drawn without --nodecount */
};
/* clang-format on */

/* Distinct line colours; red is kept for the leak. */
static const char *const palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b",
                                      "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79"};
#define LEAK_COLOUR "#d62728"

/* Character data, at most max characters ("..." after a cut). */
static void put_xml(FILE *out, const char *s, size_t max)
{
    flamegraph_put_xml(out, s, max);
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += (*p & 0xc0) != 0x80;
    if (n > max)
        fputs("...", out);
}

/* A tick step of 1, 2 or 5 times a power of ten that cuts span into about
 * `want` parts. */
static double nice_step(double span, int want)
{
    if (!(span > 0))
        return 1;
    double raw = span / want, p = pow(10, floor(log10(raw)));
    double f = raw / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

/* The y axis: a binary unit so the labels read "4 MiB", then nice ticks. */
struct yaxis {
    double div;       /* bytes per label unit */
    const char *unit; /* its name */
    double step, max; /* in bytes */
};

static void y_axis(struct yaxis *y, double vmax, const struct growth *g,
                   const struct report_options *o)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int objects = g->value == PV_INUSE_OBJECTS || g->value == PV_ALLOC_OBJECTS;
    y->div = 1;
    y->unit = o->unit ? o->unit : objects ? "objects" : "B";
    if (!o->unit && !objects && !o->show_bytes) {
        int u = 0;
        while (vmax / y->div >= 1024 && u < 4) {
            y->div *= 1024;
            u++;
        }
        y->unit = units[u];
    }
    double s = nice_step(vmax / y->div, 5);
    if (s < 1 && y->div == 1)
        s = 1; /* bytes and objects are integers */
    y->step = s * y->div;
    y->max = y->step * ceil(vmax / y->step);
    if (!(y->max > 0))
        y->max = y->step;
}

/* The x axis: elapsed time in the unit that fits the span. */
struct xaxis {
    double div;       /* hours per label unit */
    const char *unit; /* "s", "min", "h", "days" or "dump" */
    double step, max; /* in hours (or dumps) */
};

static void x_axis(struct xaxis *x, const struct growth *g)
{
    double span = g->x[g->ndumps - 1];
    if (g->per_dump) {
        x->div = 1;
        x->unit = "dump";
    } else if (span < 2.0 / 60) {
        x->div = 1.0 / 3600;
        x->unit = "s";
    } else if (span < 2) {
        x->div = 1.0 / 60;
        x->unit = "min";
    } else if (span < 48) {
        x->div = 1;
        x->unit = "h";
    } else {
        x->div = 24;
        x->unit = "days";
    }
    double s = nice_step(span / x->div, 8);
    if (g->per_dump && s < 1)
        s = 1;
    x->step = s * x->div;
    x->max = span > 0 ? span : x->step;
}

static void fmt_num(char *buf, size_t n, double v)
{
    if (fabs(v - round(v)) < 1e-9 * (1 + fabs(v)))
        snprintf(buf, n, "%.0f", v);
    else
        snprintf(buf, n, "%.3g", v);
}

static size_t series_count(const struct growth *g, const struct report_options *o)
{
    size_t n = o->nodecount >= 0 ? (size_t)o->nodecount : CH_DEFAULT_N;
    return n < g->norder ? n : g->norder;
}

/* The chart as an <svg> element (standalone: with the XML prolog). */
static void put_svg(FILE *out, const struct growth *g, const struct report_options *o,
                    int standalone)
{
    size_t ns = series_count(g, o), nd = g->ndumps;
    int leak = ns > 0 && g->sites[g->order[0]].score > 0;
    double vmax = 0;
    for (size_t k = 0; k < ns; k++) {
        const double *y = g->val + (size_t)g->order[k] * nd;
        for (size_t d = 0; d < nd; d++)
            if (y[d] > vmax)
                vmax = y[d];
    }
    struct yaxis ya;
    struct xaxis xa;
    y_axis(&ya, vmax, g, o);
    x_axis(&xa, g);
    int plot_w = CH_WIDTH - CH_LEFT - CH_RIGHT;
    int height = CH_TOP + CH_PLOT_H + CH_BOTTOM + (int)(ns ? ns : 1) * CH_LEGEND + 16;
    int y0 = CH_TOP + CH_PLOT_H; /* the x axis' y */
#define PX(xv) (CH_LEFT + (xv) / xa.max * plot_w)
#define PY(yv) (y0 - (yv) / ya.max * CH_PLOT_H)
    char a[64], b[64], c[64];
    const char *xu = growth_x_unit(g);

    if (standalone)
        fputs("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n", out);
    fprintf(out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
            CH_WIDTH, height, CH_WIDTH, height);
    fputs("<!-- Growth chart written by jeprof-c (growth report): each line is one site's retained "
          "value per dump. -->\n",
          out);
    fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", CH_WIDTH,
            height);
    /* Title and subtitle. */
    const char *prog = o->title ? strrchr(o->title, '/') : NULL;
    prog = prog ? prog + 1 : o->title;
    fprintf(out, "<text id=\"title\" x=\"%d\" y=\"22\" font-size=\"17\" text-anchor=\"middle\">",
            CH_WIDTH / 2);
    if (prog) {
        put_xml(out, prog, 60);
        fputs(": ", out);
    }
    fprintf(out, "%s over %zu dumps</text>\n", value_name(g->value), nd);
    growth_fmt_value(a, sizeof(a), g->total_fit.first, g, o);
    growth_fmt_value(b, sizeof(b), g->total_fit.last, g, o);
    growth_fmt_value(c, sizeof(c), g->total_fit.slope, g, o);
    fprintf(out,
            "<text id=\"subtitle\" x=\"%d\" y=\"42\" text-anchor=\"middle\" fill=\"#444444\">"
            "total %s to %s, %s/%s; top %zu sites by trend (slope x R2)</text>\n",
            CH_WIDTH / 2, a, b, c, xu, ns);
    /* Grid, ticks and labels. */
    fputs("<g id=\"axes\" stroke=\"#cccccc\" stroke-width=\"1\">\n", out);
    for (double v = 0; v <= ya.max * (1 + 1e-9); v += ya.step)
        fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>\n", CH_LEFT, PY(v),
                CH_LEFT + plot_w, PY(v));
    for (double v = 0; v <= xa.max * (1 + 1e-9); v += xa.step)
        fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>\n", PX(v), CH_TOP, PX(v),
                y0);
    fprintf(out,
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#000000\"/>\n"
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#000000\"/>\n</g>\n",
            CH_LEFT, CH_TOP, CH_LEFT, y0, CH_LEFT, y0, CH_LEFT + plot_w, y0);
    fputs("<g id=\"ylabels\" text-anchor=\"end\">\n", out);
    for (double v = 0; v <= ya.max * (1 + 1e-9); v += ya.step) {
        fmt_num(a, sizeof(a), v / ya.div);
        fprintf(out, "<text x=\"%d\" y=\"%.1f\">%s %s</text>\n", CH_LEFT - 6, PY(v) + 4, a,
                ya.unit);
    }
    fputs("</g>\n<g id=\"xlabels\" text-anchor=\"middle\">\n", out);
    for (double v = 0; v <= xa.max * (1 + 1e-9); v += xa.step) {
        fmt_num(a, sizeof(a), v / xa.div + (g->per_dump ? 1 : 0));
        fprintf(out, "<text x=\"%.1f\" y=\"%d\">%s%s%s</text>\n", PX(v), y0 + 18,
                g->per_dump ? "#" : "+", a, g->per_dump ? "" : xa.unit);
    }
    fputs("</g>\n", out);
    if (g->per_dump) {
        fprintf(out,
                "<text id=\"xtitle\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">dump, in "
                "sequence order (the dumps carry no usable time)</text>\n",
                CH_LEFT + plot_w / 2, y0 + 40);
    } else {
        time_t t = (time_t)(g->dumps[0].time_ns / 1000000000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(b, sizeof(b), "%Y-%m-%d %H:%M:%S UTC", &tm);
        fprintf(out,
                "<text id=\"xtitle\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">time since "
                "the first dump (%s), %s</text>\n",
                CH_LEFT + plot_w / 2, y0 + 40, b, xa.unit);
    }
    fprintf(out,
            "<text id=\"ytitle\" transform=\"translate(16,%d) rotate(-90)\" "
            "text-anchor=\"middle\">retained (%s, %s)</text>\n",
            CH_TOP + CH_PLOT_H / 2, value_name(g->value), ya.unit);
    /* Series, the leak last so it is drawn on top. */
    fputs("<g id=\"series\" fill=\"none\" stroke-linejoin=\"round\">\n", out);
    for (size_t kk = ns; kk-- > 0;) {
        const struct growth_site *s = &g->sites[g->order[kk]];
        const double *y = g->val + (size_t)g->order[kk] * nd;
        int is_leak = leak && kk == 0;
        const char *col =
            is_leak ? LEAK_COLOUR : palette[kk % (sizeof(palette) / sizeof(*palette))];
        fprintf(out, "<g>\n<polyline class=\"series%s\" data-rank=\"%zu\" data-site=\"",
                is_leak ? " leak" : "", kk + 1);
        put_xml(out, strtab_get(&g->names, s->name), 1000);
        fprintf(out, "\" stroke=\"%s\" stroke-width=\"%s\" points=\"", col,
                is_leak ? "3.5" : "1.8");
        for (size_t d = 0; d < nd; d++)
            fprintf(out, "%s%.1f,%.1f", d ? " " : "", PX(g->x[d]), PY(y[d]));
        fputs("\"/>\n", out);
        for (size_t d = 0; d < nd; d++) {
            growth_fmt_value(a, sizeof(a), y[d], g, o);
            fmt_num(b, sizeof(b), g->x[d] / xa.div + (g->per_dump ? 1 : 0));
            fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\"><title>",
                    PX(g->x[d]), PY(y[d]), is_leak ? "3.5" : "2.5", col);
            put_xml(out, strtab_get(&g->names, s->name), 200);
            fprintf(out, ": %s at %s%s%s</title></circle>\n", a, g->per_dump ? "dump #" : "+", b,
                    g->per_dump ? "" : xa.unit);
        }
        if (is_leak) {
            growth_fmt_value(a, sizeof(a), s->slope, g, o);
            fprintf(out,
                    "<text id=\"leaklabel\" x=\"%.1f\" y=\"%.1f\" fill=\"%s\" "
                    "font-weight=\"bold\" stroke=\"none\">leak? +%s/%s</text>\n",
                    PX(g->x[nd - 1]) + 8, PY(y[nd - 1]) + 4, LEAK_COLOUR, a, xu);
        }
        fputs("</g>\n", out);
    }
    fputs("</g>\n", out);
    /* Legend, in rank order. */
    fputs("<g id=\"legend\">\n", out);
    if (ns == 0)
        fprintf(out, "<text x=\"%d\" y=\"%d\">No site has a nonzero value in these dumps</text>\n",
                CH_LEFT, y0 + CH_BOTTOM + 14);
    for (size_t k = 0; k < ns; k++) {
        const struct growth_site *s = &g->sites[g->order[k]];
        int is_leak = leak && k == 0;
        const char *col = is_leak ? LEAK_COLOUR : palette[k % (sizeof(palette) / sizeof(*palette))];
        int ly = y0 + CH_BOTTOM + (int)k * CH_LEGEND + 10;
        fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"24\" height=\"%s\" fill=\"%s\"/>\n", CH_LEFT,
                ly - 6 + (is_leak ? 0 : 1), is_leak ? "4" : "2", col);
        growth_fmt_value(a, sizeof(a), s->slope, g, o);
        if (isnan(s->share))
            snprintf(b, sizeof(b), "-");
        else
            snprintf(b, sizeof(b), "%.1f%%", 100 * s->share);
        fprintf(out, "<text x=\"%d\" y=\"%d\"%s>%zu. ", CH_LEFT + 32, ly,
                is_leak ? " font-weight=\"bold\"" : "", k + 1);
        put_xml(out, strtab_get(&g->names, s->name), 70);
        fprintf(out, " (slope %s/%s, R2 %.2f, share %s)%s</text>\n", a, xu, s->r2, b,
                is_leak ? " : steadiest growth, the likely leak" : "");
    }
    fputs("</g>\n</svg>\n", out);
#undef PX
#undef PY
}

static int finish(FILE *out)
{
    return fflush(out) != 0 || ferror(out) ? EIO : 0;
}

int report_growth_svg(FILE *out, const struct growth *g, const struct report_options *o)
{
    put_svg(out, g, o, 1);
    return finish(out);
}

int report_growth_html(FILE *out, const struct growth *g, const struct report_options *o)
{
    const char *xu = growth_x_unit(g);
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", out);
    fprintf(out, "jeprof-c growth: %s over %zu dumps</title>\n", value_name(g->value), g->ndumps);
    fputs("<style>\nbody { font-family: sans-serif; margin: 16px; color: #222222; }\n"
          "table { border-collapse: collapse; margin-top: 12px; }\n"
          "th, td { padding: 2px 10px; text-align: right; border-bottom: 1px solid #dddddd; }\n"
          "td.site, th.site { text-align: left; font-family: monospace; }\n"
          "tr.leak td { color: #d62728; font-weight: bold; }\n</style>\n</head>\n<body>\n",
          out);
    fprintf(out, "<h1>Growth: %s over %zu dumps</h1>\n", value_name(g->value), g->ndumps);
    fputs("<p>Each line is a site's retained value per dump. Sites are ranked by trend: the "
          "least-squares slope times R<sup>2</sup> of its linear fit, so steady growth ranks "
          "above a spike.</p>\n",
          out);
    put_svg(out, g, o, 0);
    fprintf(out,
            "<table id=\"ranking\">\n<tr><th>rank</th><th>trend/%s</th><th>slope/%s</th>"
            "<th>R2</th><th>first</th><th>last</th><th>share</th><th class=\"site\">site</th>"
            "</tr>\n",
            xu, xu);
    size_t rows = growth_nrows(g, o);
    for (size_t i = 0; i < rows; i++) {
        struct growth_row r;
        growth_row(&r, i, g, o);
        fprintf(out,
                "<tr%s><td>%zu</td><td>%s</td><td>%s</td><td>%.3f</td><td>%s</td><td>%s</td>"
                "<td>%s</td><td class=\"site\">",
                i == 0 && r.site->score > 0 ? " class=\"leak\"" : "", i + 1, r.trend, r.slope,
                r.site->r2, r.first, r.last, r.share);
        put_xml(out, strtab_get(&g->names, r.site->name), 1000);
        fputs("</td></tr>\n", out);
    }
    fputs("</table>\n</body>\n</html>\n", out);
    return finish(out);
}
