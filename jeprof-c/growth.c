/* growth: see growth.h. */
#include "growth.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "message.h"
#include "read.h"
#include "xalloc.h"

/* The sequence number of a dump name "prefix.PID.SEQ.<kind>N.heap" (the
 * number before ".i3", ".m0", ".f", ".u1", ".p2"), or -1; *kind gets the
 * kind letter ('i', 'm', 'f', 'u', 'p'), 0 when the name has no such part;
 * *pid the number field before SEQ, -1 when there is none. */
static long long name_seq(const char *path, char *kind, long long *pid)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    long long found = -1, prev = -1;
    *kind = 0;
    *pid = -1;
    for (const char *s = strchr(base, '.'); s; s = strchr(s + 1, '.')) {
        const char *d = s + 1;
        long long v = 0;
        int nd = 0;
        while (*d >= '0' && *d <= '9' && nd < 18) {
            v = v * 10 + (*d - '0');
            d++;
            nd++;
        }
        long long before = prev; /* the field before this one, if all digits */
        prev = nd > 0 && *d == '.' ? v : -1;
        if (nd == 0 || *d != '.' || !(d[1] >= 'a' && d[1] <= 'z'))
            continue;
        const char *k = d + 2;
        while (*k >= '0' && *k <= '9')
            k++;
        if (*k == '.' || *k == 0) {
            found = v; /* the last match: a prefix may hold dots and digits */
            *kind = d[1];
            *pid = before;
        }
    }
    return found;
}

/* Dumps of several processes (a program that forks, or runs of one
 * prefix) are not one series: each heap starts from its own state, and
 * interleaved in time they make a saw-tooth that ranks nothing right. */
static int check_one_process(const struct growth *g)
{
    long long pids[4];
    size_t counts[4] = {0}, npids = 0, more = 0;
    for (size_t i = 0; i < g->ndumps; i++) {
        long long pid = g->dumps[i].pid;
        if (pid < 0)
            continue;
        size_t j = 0;
        while (j < npids && pids[j] != pid)
            j++;
        if (j == npids) {
            if (npids == 4) {
                more++;
                continue;
            }
            pids[npids++] = pid;
        }
        counts[j]++;
    }
    if (npids < 2)
        return 0;
    char list[256] = "";
    size_t off = 0;
    for (size_t j = 0; j < npids && off < sizeof(list); j++)
        off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%lld (%zu)", j ? ", " : "",
                                pids[j], counts[j]);
    /* The example: the first process's first dump cut after ".PID." */
    const char *ex = NULL;
    for (size_t i = 0; i < g->ndumps && !ex; i++)
        if (g->dumps[i].pid == pids[0])
            ex = g->dumps[i].path;
    char pat[32];
    snprintf(pat, sizeof(pat), ".%lld.", pids[0]);
    const char *cut = NULL;
    for (const char *t = strstr(ex, pat); t; t = strstr(t + 1, pat))
        cut = t; /* the last one: the prefix may hold the same digits */
    int keep = cut ? (int)(cut - ex) + (int)strlen(pat) : 0;
    return error("the dumps come from %s%zu processes (pid (dumps): %s%s); a series is one "
                 "process's heap over time: give one pid's dumps, e.g. '%.*s*'",
                 more ? "more than " : "", npids, list, more ? ", ..." : "", keep, ex);
}

/* The file holds a recent-allocation ring (JSON): its first byte that is
 * not white space is '{'. Only the head is read; a gzip'd file is left to
 * the reader (which rejects a ring after reading it). */
static int looks_like_ring(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0; /* the reader names the error */
    char buf[256];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    size_t i = 0;
    while (i < n && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\t' || buf[i] == '\r'))
        i++;
    return i < n && buf[i] == '{';
}

static int cmp_dump(const void *x, const void *y)
{
    const struct growth_dump *a = x, *b = y;
    if (a->time_ns != b->time_ns)
        return a->time_ns < b->time_ns ? -1 : 1;
    if (a->seq >= 0 && b->seq >= 0 && a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return (a->argi > b->argi) - (a->argi < b->argi);
}

/* Sorts the dumps and warns about what the order rests on. */
static void order_dumps(struct growth *g)
{
    size_t n = g->ndumps, nmtime = 0;
    for (size_t i = 0; i < n; i++)
        nmtime += g->dumps[i].time_src == GT_MTIME;
    if (nmtime && nmtime < n)
        warning("%zu of %zu dumps carry no time; their file times are used", nmtime, n);
    int glob_order = 1; /* the command line is in the names' byte order */
    for (size_t i = 1; i < n; i++)
        if (strcmp(g->dumps[i - 1].path, g->dumps[i].path) > 0)
            glob_order = 0;
    qsort(g->dumps, n, sizeof(*g->dumps), cmp_dump);
    g->x = xcalloc(n, sizeof(double));
    if (g->dumps[0].time_ns == g->dumps[n - 1].time_ns) {
        g->per_dump = 1;
        warning("all %zu dumps have the same time; ordered by %s, slopes are per dump", n,
                g->dumps[0].seq >= 0 ? "the sequence number in their names" : "the command line");
        for (size_t i = 0; i < n; i++)
            g->x[i] = (double)i;
        return;
    }
    /* A shell glob lists prefix.PID.10.i10 before prefix.PID.2.i2: a
     * command line in the names' byte order whose sequence numbers agree
     * with the times is no news. */
    int out_of_order = 0, plain_glob = glob_order;
    for (size_t i = 0; i < n; i++) {
        g->x[i] = (double)(g->dumps[i].time_ns - g->dumps[0].time_ns) / 3.6e12;
        if (g->dumps[i].argi != i)
            out_of_order = 1;
        if (g->dumps[i].seq < 0 || (i > 0 && g->dumps[i].seq <= g->dumps[i - 1].seq))
            plain_glob = 0;
        if (i > 0 && g->dumps[i].time_ns == g->dumps[i - 1].time_ns)
            warning("'%s' and '%s' have the same time; ordered by %s", g->dumps[i - 1].path,
                    g->dumps[i].path,
                    g->dumps[i - 1].seq >= 0 && g->dumps[i].seq >= 0 &&
                            g->dumps[i - 1].seq != g->dumps[i].seq
                        ? "the sequence number in their names"
                        : "the command line");
    }
    if (out_of_order && !plain_glob)
        warning("the dumps were not given in time order; sorted by time ('%s' first)",
                g->dumps[0].path);
}

/* Length of path without its ".heap" suffix, or 0 when it has none. */
static size_t heap_stem(const char *path)
{
    size_t n = strlen(path);
    return n > 5 && strcmp(path + n - 5, ".heap") == 0 ? n - 5 : 0;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The stems (paths without ".heap") of the heap_v2 dumps given, sorted: a
 * "stem.pb.gz" among the paths is then the pprof twin prof_format:both
 * writes beside each one (the same dump: reading both would count every
 * point twice). */
static char **heap_stems(char **paths, size_t n, size_t *nstems)
{
    char **st = xcalloc(n + 1, sizeof(char *));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = heap_stem(paths[i]);
        if (len)
            st[k++] = xstrndup(paths[i], len);
    }
    qsort(st, k, sizeof(char *), cmp_str);
    *nstems = k;
    return st;
}

/* path is "stem.pb.gz" with stem among stems. */
static int is_pprof_twin(const char *path, char **stems, size_t nstems)
{
    size_t n = strlen(path);
    if (nstems == 0 || n <= 6 || strcmp(path + n - 6, ".pb.gz") != 0)
        return 0;
    char *stem = xstrndup(path, n - 6);
    int found = bsearch(&stem, stems, nstems, sizeof(char *), cmp_str) != NULL;
    free(stem);
    return found;
}

/* What a path given to --growth is, from its name (and a ring's first
 * byte). */
enum path_class { PC_HEAP, PC_FINAL, PC_TWIN, PC_PEAK, PC_RING };

static enum path_class classify(const char *path, char **stems, size_t nstems)
{
    char kind;
    long long pid;
    name_seq(path, &kind, &pid);
    if (is_pprof_twin(path, stems, nstems))
        return PC_TWIN;
    if (kind == 'p')
        return PC_PEAK;
    if (looks_like_ring(path))
        return PC_RING;
    return kind == 'f' ? PC_FINAL : PC_HEAP;
}

int growth_load(struct growth *g, struct profile *p, char **paths, size_t n, int value)
{
    memset(g, 0, sizeof(*g));
    g->value = value;
    strtab_init(&g->names);
    if (n < 2)
        return error("--growth needs two or more dumps");
    g->dumps = xcalloc(n, sizeof(*g->dumps));
    const char *first_format = NULL;
    size_t nskipped = 0, ntwins = 0, nstems;
    int rc = 0;
    char **stems = heap_stems(paths, n, &nstems);
    enum path_class *cls = xcalloc(n + 1, sizeof(*cls));
    size_t nheap = 0;
    for (size_t i = 0; i < n; i++) {
        cls[i] = classify(paths[i], stems, nstems);
        nheap += cls[i] == PC_HEAP;
    }
    for (size_t i = 0; i < n; i++) {
        struct growth_dump *d = &g->dumps[g->ndumps];
        char err[READ_ERRLEN] = "";
        char kind;
        memset(d, 0, sizeof(*d));
        d->path = paths[i];
        d->seq = name_seq(paths[i], &kind, &d->pid);
        if (cls[i] == PC_TWIN) {
            ntwins++;
            nskipped++;
            continue;
        }
        /* The final dump is written at exit, after C++ static destructors
         * and atexit handlers: a leak into a global container has been
         * freed by then, and its site would end at 0 and not count as
         * growth. With two or more other dumps it is left out. */
        if (cls[i] == PC_FINAL && nheap >= 2) {
            warning("'%s': skipped: the final dump is written at exit, after static destructors "
                    "may have freed what the program held (a leak into a global container "
                    "vanishes there); the series uses the %zu other dumps",
                    paths[i], nheap);
            nskipped++;
            continue;
        }
        /* A peak snapshot (.p<N>. dump, or one that says so inside) holds
         * the heap of another moment than the one it was written at, and a
         * recent ring holds allocations, not a heap: neither is a point of
         * the series. A glob over a prefix catches both, so they are
         * skipped, not fatal. */
        if (cls[i] == PC_PEAK) {
            warning("'%s': skipped: a peak-heap snapshot (.p dump) is not a point in time "
                    "(read it alone with --text)",
                    paths[i]);
            nskipped++;
            continue;
        }
        if (cls[i] == PC_RING) {
            warning("'%s': skipped: a recent-allocation ring, not a heap dump (read it with "
                    "--temporary)",
                    paths[i]);
            nskipped++;
            continue;
        }
        d->s0 = p->nsamples;
        p->time_ns = 0;
        p->is_peak = 0;
        p->format = NULL;
        p->sign = 1.0;
        p->no_accum = NULL;
        if (read_profile_file(p, paths[i], err) || read_accum_check(p, (enum pvalue)g->value, err)) {
            rc = error("'%s': %s", paths[i], err);
            goto out_stems;
        }
        if (strcmp(p->format, "recent") == 0) {
            rc = error("'%s': --growth reads heap dumps (heap_v2, pprof), not a recent-"
                       "allocation ring",
                       paths[i]);
            goto out_stems;
        }
        if (p->is_peak) {
            /* Renamed, but a peak all the same (its "# peak_time_ns"). */
            p->nsamples = d->s0;
            warning("'%s': skipped: a peak-heap snapshot (it says so inside) is not a point in "
                    "time (read it alone with --text)",
                    paths[i]);
            nskipped++;
            continue;
        }
        if (!first_format)
            first_format = p->format;
        d->s1 = p->nsamples;
        d->argi = g->ndumps;
        g->ndumps++;
        struct stat st;
        if (p->time_ns > 0) {
            d->time_ns = p->time_ns;
            d->time_src = GT_EMBEDDED;
        } else if (stat(paths[i], &st) == 0) {
            d->time_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
            d->time_src = GT_MTIME;
        } else {
            rc = error("'%s': %s", paths[i], strerror(errno));
            goto out_stems;
        }
    }
out_stems:
    free(cls);
    for (size_t i = 0; i < nstems; i++)
        free(stems[i]);
    free(stems);
    if (rc)
        return rc;
    if (ntwins)
        warning("%zu .pb.gz file%s skipped: the pprof twin of a .heap dump given too "
                "(prof_format:both writes both; each dump is read once)",
                ntwins, ntwins == 1 ? "" : "s");
    if (g->ndumps < 2)
        return error("--growth needs two or more heap dumps (%zu given, %zu of them skipped)", n,
                     nskipped);
    if (check_one_process(g))
        return 1;
    p->format = first_format;
    order_dumps(g);
    return 0;
}

/* Least-squares fit of y over x (n points): slope and R^2. */
static void fit(const double *x, const double *y, size_t n, double *slope, double *r2)
{
    double xm = 0, ym = 0, sxx = 0, sxy = 0, syy = 0;
    for (size_t i = 0; i < n; i++) {
        xm += x[i];
        ym += y[i];
    }
    xm /= (double)n;
    ym /= (double)n;
    for (size_t i = 0; i < n; i++) {
        double dx = x[i] - xm, dy = y[i] - ym;
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    *slope = sxx > 0 ? sxy / sxx : 0;
    /* A flat series has no trend to explain: R^2 = 0. Relative to the
     * values, tiny syy is rounding noise of a flat series. */
    *r2 = sxx > 0 && syy > 1e-18 * (1 + ym * ym) * (double)n ? sxy * sxy / (sxx * syy) : 0;
    if (*r2 > 1)
        *r2 = 1;
}

static void fit_site(const struct growth *g, const double *y, struct growth_site *s)
{
    size_t n = g->ndumps;
    s->first = y[0];
    s->last = y[n - 1];
    s->peak = y[0];
    for (size_t i = 1; i < n; i++)
        if (y[i] > s->peak)
            s->peak = y[i];
    fit(g->x, y, n, &s->slope, &s->r2);
    s->score = s->slope * s->r2;
    if (s->last <= s->first && s->score > 0)
        s->score = 0; /* ends no higher than it started: not growth */
}

static const struct growth *rank_g;
static int cmp_rank(const void *x, const void *y)
{
    const struct growth_site *a = &rank_g->sites[*(const uint32_t *)x];
    const struct growth_site *b = &rank_g->sites[*(const uint32_t *)y];
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    if (a->last != b->last)
        return a->last > b->last ? -1 : 1;
    return strcmp(strtab_get(&rank_g->names, a->name), strtab_get(&rank_g->names, b->name));
}

void growth_compute(struct growth *g, const struct analysis *a, const uint32_t *sample_stack,
                    int value, int by_cum)
{
    size_t nd = g->ndumps;
    const struct profile *p = a->p;
    g->value = value;
    g->by_cum = by_cum;
    /* Site ids follow the analysis' node ids (same strings, same order). */
    for (uint32_t i = 0; i < a->nodes.n; i++)
        strtab_intern(&g->names, strtab_get(&a->nodes, i));
    g->nsites = a->nodes.n;
    g->val = xcalloc(g->nsites * nd + 1, sizeof(double));
    g->total = xcalloc(nd, sizeof(double));
    for (size_t d = 0; d < nd; d++) {
        const struct growth_dump *dp = &g->dumps[d];
        for (size_t i = dp->s0; i < dp->s1; i++) {
            uint32_t k = sample_stack[i];
            if (k == UINT32_MAX)
                continue;
            const struct astack *t = &a->stacks[k];
            double v = p->samples[i].v[value];
            g->total[d] += v;
            if (t->ndepth == 0)
                continue;
            if (!by_cum) {
                g->val[(size_t)a->npath[t->noff] * nd + d] += v;
                continue;
            }
            for (uint32_t j = 0; j < t->ndepth; j++)
                g->val[(size_t)a->npath[t->noff + j] * nd + d] += v;
        }
    }
    g->sites = xcalloc(g->nsites + 1, sizeof(*g->sites));
    g->order = xcalloc(g->nsites + 1, sizeof(uint32_t));
    fit_site(g, g->total, &g->total_fit);
    for (uint32_t i = 1; i < g->nsites; i++) {
        struct growth_site *s = &g->sites[i];
        const double *y = g->val + (size_t)i * nd;
        s->name = i;
        fit_site(g, y, s);
        double grown = g->total_fit.last - g->total_fit.first;
        s->share = grown > 0 ? (s->last - s->first) / grown : NAN;
        int any = 0;
        for (size_t d = 0; d < nd && !any; d++)
            any = y[d] != 0;
        if (any)
            g->order[g->norder++] = i;
    }
    rank_g = g;
    qsort(g->order, g->norder, sizeof(uint32_t), cmp_rank);
}

void growth_free(struct growth *g)
{
    free(g->dumps);
    free(g->x);
    strtab_free(&g->names);
    free(g->val);
    free(g->total);
    free(g->sites);
    free(g->order);
    memset(g, 0, sizeof(*g));
}

const char *growth_x_unit(const struct growth *g)
{
    return g->per_dump ? "dump" : "h";
}

void growth_fmt_value(char *buf, size_t n, double v, const struct growth *g,
                      const struct report_options *o)
{
    int objects = g->value == PV_INUSE_OBJECTS || g->value == PV_ALLOC_OBJECTS;
    if (o->unit || objects || o->show_bytes) {
        snprintf(buf, n, "%.0f", fabs(v) < 0.5 ? 0.0 : v); /* no "-0" from rounding noise */
        return;
    }
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double a = fabs(v);
    int u = 0;
    while (a >= 1024 && u < 4) {
        a /= 1024;
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, n, "%.0f %s", fabs(v) < 0.5 ? 0.0 : v, units[u]);
    else
        snprintf(buf, n, "%.1f %s", fabs(v) < 0.05 ? 0.0 : v, units[u]);
}

size_t growth_nrows(const struct growth *g, const struct report_options *o)
{
    size_t rows = g->norder;
    if (o->nodecount >= 0 && (size_t)o->nodecount < rows)
        rows = (size_t)o->nodecount;
    return rows;
}

void growth_row(struct growth_row *r, size_t i, const struct growth *g,
                const struct report_options *o)
{
    const struct growth_site *s = &g->sites[g->order[i]];
    r->site = s;
    if (isnan(s->share))
        snprintf(r->share, sizeof(r->share), "-");
    else
        snprintf(r->share, sizeof(r->share), "%.1f%%", 100 * s->share);
    growth_fmt_value(r->trend, sizeof(r->trend), s->score, g, o);
    growth_fmt_value(r->slope, sizeof(r->slope), s->slope, g, o);
    growth_fmt_value(r->first, sizeof(r->first), s->first, g, o);
    growth_fmt_value(r->last, sizeof(r->last), s->last, g, o);
}
