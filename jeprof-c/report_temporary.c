/* report_temporary: temporary allocations per site from a recent-ring dump
 * (jeprof-c --temporary [--max-lifetime=DUR]).
 *
 * heaptrack calls an allocation temporary when its free directly follows
 * it, with no other allocation in between; it sees every call. We see a
 * sample of allocations (1 per ~R bytes) and, for each, its lifetime, and
 * (our ring only) the allocating thread's thread.allocated counter at the
 * allocation and at the free. So two tests are shown per site:
 *  - temporary: freed within --max-lifetime (default 1 ms) of the
 *    allocation; the listing is ranked by it. 1 ms covers a scratch buffer
 *    used within one call or one request step, and is far above the cost of
 *    reading the clock; a block handed to a queue or a cache lives longer.
 *    With the default clock (prof_time_resolution:default, a ~4 ms tick) a
 *    lifetime reads 0 unless a tick falls inside it, so blocks living close
 *    to the threshold are partly misjudged: use prof_time_resolution:high
 *    for thresholds under the tick.
 *  - no-alloc: freed by the allocating thread with nothing else allocated by
 *    that thread in between (heaptrack's test, per thread rather than
 *    process-wide); "-" when the dump lacks the counters (jemalloc's ring).
    When every freed entry has the counters and this test's top site (by
    estimate) is not the listing's, a closing line names it: heaptrack's
    answer, next to ours.
 * With a coarse clock (steps over a tenth of the threshold, found in the
 * data) a warning says the lifetime test is approximate.
 * A site is the function that called the allocator (the leaf after
 * allocator frames are trimmed; a source line with --lines), its stacks
 * merged, as heaptrack_print merges backtraces; the heaviest stack is shown
 * for context.
 * Estimates are unbiased: each sample counts its weight (the objects it
 * stands for), and the rate divides by the span of allocation times in the
 * ring (the ring keeps only the newest entries: a window, not the run). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "message.h"
#include "report.h"
#include "xalloc.h"

char *collapsed_stack_name(const struct analysis *a, const struct astack *t);

int report_parse_duration(const char *s, double *ns)
{
    static const struct {
        const char *unit;
        double ns;
    } units[] = {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !(v >= 0) || !isfinite(v))
        return EINVAL;
    if (*end == 0)
        return v == 0 ? (*ns = 0, 0) : EINVAL; /* a bare number is ambiguous */
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcmp(end, units[i].unit) == 0) {
            *ns = v * units[i].ns;
            return 0;
        }
    return EINVAL;
}

/* Per-site sums (parallel to a->stacks). */
struct tsite {
    double sampled;   /* ring entries of the site */
    double temp;      /* of them, freed within the threshold */
    double temp_w;    /* their summed weights: estimated temporary allocations */
    double temp_life; /* their summed lifetimes (ns) */
    double strict;    /* freed with no other allocation in between (heaptrack) */
    double strict_w;  /* their summed weights: estimated heaptrack-temporary allocations */
    double known;     /* freed entries that carried the counters */
    double freed;     /* freed entries */
    int strict_known; /* some entry carried the counters */
    uint32_t stacks;  /* distinct stacks merged into the site */
    uint32_t top;     /* analysis stack with the most temporary weight, +1 */
    double top_w;     /* that weight */
};

static uint64_t stk_hash(const uint32_t *s, uint32_t d)
{
    uint64_t h = d;
    for (uint32_t i = 0; i < d; i++)
        h = (h ^ s[i]) * 0x9e3779b97f4a7c15ULL;
    return hash_u64(h);
}

static const struct tsite *sort_t;
static int cmp_site(const void *x, const void *y)
{
    const struct tsite *a = &sort_t[*(const uint32_t *)x], *b = &sort_t[*(const uint32_t *)y];
    if (a->temp_w != b->temp_w)
        return a->temp_w > b->temp_w ? -1 : 1;
    if (a->temp != b->temp)
        return a->temp > b->temp ? -1 : 1;
    return (*(const uint32_t *)x > *(const uint32_t *)y) -
           (*(const uint32_t *)x < *(const uint32_t *)y);
}

/* "12.3k"-style count for estimates. */
static void human(char *buf, size_t n, double v)
{
    if (v >= 1e9)
        snprintf(buf, n, "%.1fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, n, "%.1fM", v / 1e6);
    else if (v >= 1e4)
        snprintf(buf, n, "%.1fk", v / 1e3);
    else
        snprintf(buf, n, "%.0f", v);
}

/* What the whole ring holds. */
struct tring {
    double entries, freed; /* ring entries, of them freed */
    double t0, t1;         /* first and last allocation time (ns) */
    struct tsite all;      /* sums over every kept entry */
};

/* Index of the analysis stack a sample was merged into, +1 (0: dropped by
 * --focus/--ignore). slots: open-addressed table of a->stacks. */
static uint32_t stack_of(const struct analysis *a, const uint32_t *slots, size_t nslots,
                         const uint8_t *isalloc, const struct psample *s)
{
    const uint32_t *stk = a->p->stackpool + s->stack;
    uint32_t start = 0;
    for (uint32_t j = 0; j < s->depth; j++)
        if (isalloc[stk[j]])
            start = j + 1; /* trimmed as analyze() trims */
    const uint32_t *k = stk + start;
    uint32_t d = s->depth - start;
    for (size_t h = stk_hash(k, d) & (nslots - 1); slots[h]; h = (h + 1) & (nslots - 1)) {
        const struct astack *t = &a->stacks[slots[h] - 1];
        if (t->depth == d && (d == 0 || memcmp(a->pool + t->off, k, d * sizeof(uint32_t)) == 0))
            return slots[h];
    }
    return 0;
}

static void tsite_add_entry(struct tsite *x, const struct psample *s, double max_life_ns)
{
    x->sampled++;
    if (s->lifetime >= 0 && s->lifetime <= max_life_ns) {
        x->temp++;
        x->temp_w += s->weight;
        x->temp_life += s->lifetime;
    }
    x->freed += s->lifetime >= 0;
    if (s->between >= 0) {
        x->strict_known = 1;
        x->known += s->lifetime >= 0;
        x->strict += s->between == 0;
        x->strict_w += s->between == 0 ? s->weight : 0;
    }
}

/* Per analysis stack (returned, a->nstacks long) and ring-wide sums. */
static struct tsite *tally(const struct analysis *a, double max_life_ns, struct tring *r)
{
    const struct profile *p = a->p;
    size_t nslots = 16;
    while (nslots < a->nstacks * 2 + 2)
        nslots *= 2;
    uint32_t *slots = xcalloc(nslots, sizeof(uint32_t));
    for (size_t i = 0; i < a->nstacks; i++) {
        const struct astack *t = &a->stacks[i];
        size_t h = stk_hash(a->pool + t->off, t->depth) & (nslots - 1);
        while (slots[h])
            h = (h + 1) & (nslots - 1);
        slots[h] = (uint32_t)i + 1;
    }
    uint8_t *isalloc = xcalloc(p->nlocs + 1, 1);
    for (size_t i = 0; i < p->nlocs; i++)
        isalloc[i] = (uint8_t)analyze_loc_is_alloc(p, (uint32_t)i);
    struct tsite *ss = xcalloc(a->nstacks + 1, sizeof(*ss));
    memset(r, 0, sizeof(*r));
    r->t0 = INFINITY;
    r->t1 = -INFINITY;
    for (size_t i = 0; i < p->nsamples; i++) {
        const struct psample *s = &p->samples[i];
        if (s->weight <= 0)
            continue; /* not a ring entry */
        r->entries++;
        r->freed += s->lifetime >= 0;
        if (s->alloc_ns >= 0) {
            r->t0 = s->alloc_ns < r->t0 ? s->alloc_ns : r->t0;
            r->t1 = s->alloc_ns > r->t1 ? s->alloc_ns : r->t1;
        }
        uint32_t st = stack_of(a, slots, nslots, isalloc, s);
        if (!st)
            continue;
        tsite_add_entry(&ss[st - 1], s, max_life_ns);
        tsite_add_entry(&r->all, s, max_life_ns);
    }
    free(isalloc);
    free(slots);
    return ss;
}

/* Folds per-stack sums into per-site ones (indexed by the leaf node id,
 * 0 for empty stacks; a->nodes.n + 1 long). */
static struct tsite *fold(const struct analysis *a, const struct tsite *ss)
{
    struct tsite *ts = xcalloc(a->nodes.n + 1, sizeof(*ts));
    for (size_t i = 0; i < a->nstacks; i++) {
        const struct astack *t = &a->stacks[i];
        const struct tsite *s = &ss[i];
        if (s->sampled == 0)
            continue;
        struct tsite *x = &ts[t->ndepth ? a->npath[t->noff] : 0];
        x->sampled += s->sampled;
        x->temp += s->temp;
        x->temp_w += s->temp_w;
        x->temp_life += s->temp_life;
        x->strict += s->strict;
        x->strict_w += s->strict_w;
        x->known += s->known;
        x->freed += s->freed;
        x->strict_known |= s->strict_known;
        x->stacks++;
        if (s->temp_w > x->top_w || !x->top) {
            x->top_w = s->temp_w;
            x->top = (uint32_t)i + 1;
        }
    }
    return ts;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* The step of the clock that stamped the ring, read from the data: the
 * largest c, the smallest gap between distinct allocation and free times
 * divided by 1..8 (a busy run may never show two adjacent ticks: gaps of 8
 * and 12 ms from a 4 ms tick), such that every gap is a whole number of c
 * within 2 us + 1 ppm (a tick's length in ns is the kernel's, steady to a
 * nanosecond per tick); 0 when no such c of at least min_step exists or
 * there are too few times to tell (fewer than 6 distinct times: a short
 * run spans few ticks, 7 in 76 ms at HZ 100). prof_time_resolution:default
 * reads CLOCK_MONOTONIC_COARSE (one tick, 1-10 ms by the kernel's HZ), and
 * jemalloc's ring is coarse likewise. A fine clock's gaps are not so
 * aligned: each falls within 2 us of a multiple of c >= 100 us with odds
 * under 4%, and all five or more of them together with odds under 1e-7. */
static double clock_step(const struct profile *p, double min_step)
{
    double *t = xmalloc((2 * p->nsamples + 1) * sizeof(double));
    size_t n = 0;
    for (size_t i = 0; i < p->nsamples; i++) {
        const struct psample *s = &p->samples[i];
        if (s->weight <= 0 || s->alloc_ns < 0)
            continue;
        t[n++] = s->alloc_ns;
        if (s->lifetime >= 0)
            t[n++] = s->alloc_ns + s->lifetime;
    }
    qsort(t, n, sizeof(double), cmp_double);
    size_t nd = 0; /* distinct times, in place */
    for (size_t i = 0; i < n; i++)
        if (nd == 0 || t[i] != t[nd - 1])
            t[nd++] = t[i];
    double q = INFINITY, step = 0;
    for (size_t i = 1; i < nd; i++)
        if (t[i] - t[i - 1] < q)
            q = t[i] - t[i - 1];
    for (int j = 1; nd >= 6 && j <= 8 && q / j >= min_step && step == 0; j++) {
        double c = q / j;
        int aligned = 1;
        for (size_t i = 1; i < nd && aligned; i++) {
            double g = t[i] - t[i - 1];
            aligned = fabs(g - nearbyint(g / c) * c) <= 2000 + 1e-6 * g;
        }
        if (aligned)
            step = c;
    }
    free(t);
    return step;
}

/* "1.5 ms"-style duration. */
static void fmt_duration(char *buf, size_t n, double ns)
{
    if (ns >= 1e9)
        snprintf(buf, n, "%g s", ns / 1e9);
    else if (ns >= 1e6)
        snprintf(buf, n, "%g ms", ns / 1e6);
    else if (ns >= 1e3)
        snprintf(buf, n, "%g us", ns / 1e3);
    else
        snprintf(buf, n, "%g ns", ns);
}

/* A clock step above a tenth of the threshold misjudges the blocks whose
 * lifetime is within a step of it (a lifetime reads as whole steps: 0, or
 * one step when a tick falls inside it): say so rather than print counts
 * that look exact. */
static void warn_coarse_clock(const struct profile *p, double max_life_ns)
{
    double q = clock_step(p, max_life_ns / 10);
    if (!(q > max_life_ns / 10))
        return;
    char step[32], lim[32];
    fmt_duration(step, sizeof(step), nearbyint(q / 1e4) * 1e4);
    fmt_duration(lim, sizeof(lim), max_life_ns);
    warning("the ring's times move in steps of %s (a coarse clock: prof_time_resolution:default), "
            "too coarse for --max-lifetime=%s: a lifetime reads as 0 or whole steps, so blocks "
            "living up to %s may count as temporary and blocks under %s may not; record with "
            "prof_time_resolution:high (the no-alloc column does not depend on the clock)",
            step, lim, step, lim);
}

static void print_header(FILE *out, const struct profile *p, const struct tring *r,
                         double max_life_ns, double span_s)
{
    char lim[32], est[32];
    fmt_duration(lim, sizeof(lim), max_life_ns);
    const struct tsite *all = &r->all;
    fprintf(
        out, "Temporary allocations (freed within %s): %.0f of %.0f sampled allocations (%.1f%%)\n",
        lim, all->temp, all->sampled, all->sampled > 0 ? 100.0 * all->temp / all->sampled : 0.0);
    human(est, sizeof(est), all->temp_w);
    fprintf(out,
            "Ring: %.0f entries, %.0f freed, allocated over %.3f s; sample interval %llu B; "
            "estimated %s temporary allocations",
            r->entries, r->freed, span_s, (unsigned long long)p->period, est);
    if (span_s > 0) {
        human(est, sizeof(est), all->temp_w / span_s);
        fprintf(out, " (%s/s)", est);
    }
    fprintf(out, "\n");
    fprintf(out, "%9s %6s %9s %9s %10s %10s %12s  %s\n", "temporary", "share", "no-alloc",
            "sampled", "est. temp", "est. /s", "mean life us",
            "site  [stacks: heaviest root;...;leaf]");
}

int report_temporary(FILE *out, const struct analysis *a, const struct report_options *o,
                     double max_life_ns)
{
    const struct profile *p = a->p;
    if (!p->format || strcmp(p->format, "recent") != 0)
        return error("--temporary reads a recent-allocation dump "
                     "(experimental.prof_recent.alloc_dump JSON), not a %s profile",
                     p->format ? p->format : "empty");
    struct tring r;
    struct tsite *ss = tally(a, max_life_ns, &r);
    struct tsite *ts = fold(a, ss);
    free(ss);
    double span_s = r.t1 > r.t0 ? (r.t1 - r.t0) / 1e9 : 0;
    print_header(out, p, &r, max_life_ns, span_s);
    warn_coarse_clock(p, max_life_ns);
    if (r.freed == 0)
        warning("the ring holds no freed allocation: nothing can be temporary "
                "(is the dump taken too early, or prof_recent_alloc_max too small?)");
    size_t nsites = a->nodes.n + 1, n = 0;
    uint32_t *ids = xmalloc(nsites * sizeof(uint32_t));
    for (size_t i = 0; i < nsites; i++)
        if (ts[i].temp > 0)
            ids[n++] = (uint32_t)i;
    sort_t = ts;
    qsort(ids, n, sizeof(uint32_t), cmp_site);
    for (size_t i = 0; i < n && (o->nodecount < 0 || (int)i < o->nodecount); i++) {
        const struct tsite *x = &ts[ids[i]];
        char strict[32] = "-", e[32], rate[32] = "-";
        if (x->strict_known)
            snprintf(strict, sizeof(strict), "%.0f", x->strict);
        human(e, sizeof(e), x->temp_w);
        if (span_s > 0)
            human(rate, sizeof(rate), x->temp_w / span_s);
        char *name = collapsed_stack_name(a, &a->stacks[x->top - 1]);
        fprintf(out, "%9.0f %5.1f%% %9s %9.0f %10s %10s %12.3f  %s  [%u: %s]\n", x->temp,
                100.0 * x->temp / x->sampled, strict, x->sampled, e, rate,
                x->temp_life / x->temp / 1e3, ids[i] ? strtab_get(&a->nodes, ids[i]) : "(no stack)",
                x->stacks, *name ? name : "(no stack)");
        free(name);
    }
    /* The listing ranks by lifetime; heaptrack ranks by its own test. When
     * every freed entry carries the counters and the two disagree on the top
     * site, say what heaptrack's test puts first, so the reader gets both
     * answers (they part when a site's blocks die young but after other
     * allocations, as a container built and dropped within one call). */
    if (n > 0 && r.all.known == r.all.freed && r.all.freed > 0) {
        size_t best = 0;
        for (size_t i = 1; i < nsites; i++)
            if (ts[i].strict_w > ts[best].strict_w)
                best = i;
        if (ts[best].strict_w > 0 && best != ids[0]) {
            char e1[32], e2[32];
            human(e1, sizeof(e1), ts[best].strict_w);
            human(e2, sizeof(e2), ts[ids[0]].strict_w);
            fprintf(out,
                    "By heaptrack's test (freed by the allocating thread with nothing allocated "
                    "in between) the top site is %s: estimated %s such allocations, against %s "
                    "for %s\n",
                    best ? strtab_get(&a->nodes, best) : "(no stack)", e1, e2,
                    ids[0] ? strtab_get(&a->nodes, ids[0]) : "(no stack)");
        }
    }
    free(ids);
    free(ts);
    return 0;
}
