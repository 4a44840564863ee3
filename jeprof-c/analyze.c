/* analyze: see analyze.h. */
#include "analyze.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demangle.h"
#include "xalloc.h"
#include "hash.h"

/* jeprof's allocator functions (RemoveUninterestingFrames, heap profiles). */
static const char *const alloc_funcs[] = {
    "calloc", "cfree", "malloc", "newImpl", "void* newImpl", "free", "memalign", "posix_memalign",
    "aligned_alloc", "pvalloc", "valloc", "realloc", "mallocx", "rallocx", "xallocx", "dallocx",
    "sdallocx", "sdallocx_noflags", "tc_calloc", "tc_cfree", "tc_malloc", "tc_free", "tc_memalign",
    "tc_posix_memalign", "tc_pvalloc", "tc_valloc", "tc_realloc", "tc_new", "tc_delete",
    "tc_newarray", "tc_deletearray", "tc_new_nothrow", "tc_newarray_nothrow", "do_malloc",
    "::do_malloc", "::do_malloc_or_cpp_alloc", "DoSampledAllocation", "simple_alloc::allocate",
    "__malloc_alloc_template::allocate", "__builtin_delete", "__builtin_new",
    "__builtin_vec_delete", "__builtin_vec_new", "operator new", "operator new[]",
    "operator delete", "operator delete[]", "malloc_zone_malloc", "malloc_zone_calloc",
    "malloc_zone_valloc", "malloc_zone_realloc", "malloc_zone_memalign", "malloc_zone_free",
    "__start_google_malloc", "__stop_google_malloc", "__start_malloc_hook", "__stop_malloc_hook",
    /* jemalloc 5.3's static helpers that realloc/rallocx tail-call into, seen
     * when jemalloc is linked statically */
    "do_rallocx", "do_realloc_nonnull_zero", NULL};

static int in_alloc_list(const char *name)
{
    for (int i = 0; alloc_funcs[i]; i++)
        if (strcmp(name, alloc_funcs[i]) == 0 ||
            (name[0] == '_' && strcmp(name + 1, alloc_funcs[i]) == 0))
            return 1;
    return strstr(name, "TCMalloc") != NULL || strncmp(name, "tcmalloc::", 10) == 0;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Is this location inside the allocator? Judged by its outermost function,
 * as jeprof does (plus jemalloc's je_ namespace, for a static jemalloc),
 * and by the module: every frame in our liballoc.so or in libjemalloc.so,
 * whose internal (prof_, static) functions have no exported names. */
static int loc_is_alloc(const struct profile *p, const struct ploc *l)
{
    if (!l->nframes)
        return 0;
    const char *name = pstr(p, p->frames[l->frame0 + l->nframes - 1].name);
    char buf[256];
    const char *at = strrchr(name, '@');
    if (at && at > name && (size_t)(at - name) < sizeof(buf)) {
        memcpy(buf, name, (size_t)(at - name));
        buf[at - name] = 0;
        name = buf;
    }
    /* With --full_names, judge the simplified name ("operator new", not
     * "operator new(unsigned long)"). */
    char *shrt = demangle_full() ? demangle_simplify(name) : NULL;
    int hit = in_alloc_list(shrt ? shrt : name) || strncmp(name, "je_", 3) == 0;
    free(shrt);
    if (hit)
        return 1;
    if (l->map >= 0) {
        const char *mod = base_name(pstr(p, p->maps[l->map].path));
        if (strncmp(mod, "liballoc.so", 11) == 0)
            return 1;
        if (strncmp(mod, "libjemalloc.so", 14) == 0)
            return 1;
    }
    return 0;
}

/* Does any frame of the location (address, name or file:line) match re? */
static int loc_matches(const struct profile *p, const struct ploc *l, const regex_t *re)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%016" PRIx64, l->addr);
    if (regexec(re, buf, 0, NULL, 0) == 0)
        return 1;
    for (uint32_t i = 0; i < l->nframes; i++) {
        const struct pframe *f = &p->frames[l->frame0 + i];
        if (regexec(re, pstr(p, f->name), 0, NULL, 0) == 0)
            return 1;
        char *fl = xasprintf("%s:%d", f->file ? pstr(p, f->file) : "??", f->line);
        int m = regexec(re, fl, 0, NULL, 0) == 0;
        free(fl);
        if (m)
            return 1;
    }
    return 0;
}

size_t loc_function_names(const struct profile *p, uint32_t loc, const char **out, size_t max)
{
    const struct ploc *l = &p->locs[loc];
    size_t n = 0;
    for (uint32_t i = 0; i < l->nframes && n < max; i++)
        out[n++] = pstr(p, p->frames[l->frame0 + i].name);
    return n;
}

/* Node names for one location at the requested granularity (jeprof's
 * TranslateStack), appended to a->locnodes. */
static void translate_loc(struct analysis *a, size_t *cap, uint32_t li, enum granularity g)
{
    const struct profile *p = a->p;
    const struct ploc *l = &p->locs[li];
    a->locnodes_off[li] = (uint32_t)a->nlocnodes;
    a->locnodes_n[li] = 0;
    if (l->addr > 0x7fffffffffffffffULL)
        return; /* jeprof skips kernel-looking addresses */
    char addr[32];
    snprintf(addr, sizeof(addr), "%016" PRIx64, l->addr);
    for (uint32_t i = 0; i < l->nframes; i++) {
        const struct pframe *f = &p->frames[l->frame0 + i];
        int inl = i + 1 < l->nframes;
        const char *file = f->file ? pstr(p, f->file) : NULL;
        char *k;
        switch (g) {
        case GRAN_LINES:
            if (file)
                k = xasprintf("%s%s %s:%d", pstr(p, f->name), inl ? " (inline)" : "", file,
                              f->line);
            else
                k = xasprintf("%s%s", pstr(p, f->name), inl ? " (inline)" : "");
            break;
        case GRAN_ADDRESSES:
            k = xasprintf("%s %s%s %s:%d", addr, pstr(p, f->name), inl ? " (inline)" : "",
                          file ? file : "??", f->line);
            break;
        case GRAN_FILES:
            k = xstrdup(file ? file : pstr(p, f->name));
            break;
        default:
            k = xasprintf("%s%s", pstr(p, f->name), inl ? " (inline)" : "");
        }
        GROW(a->locnodes, *cap, a->nlocnodes + 1);
        a->locnodes[a->nlocnodes++] = strtab_intern(&a->nodes, k);
        a->locnodes_n[li]++;
        free(k);
    }
}

/* Hash set of trimmed stacks for merging. */
struct stackset {
    uint64_t *slots; /* stack index + 1 in the low half, the hash's high half above:
                        a probe compares stacks only when those 32 bits agree */
    size_t n;        /* power of two */
};

static uint64_t stack_hash(const uint32_t *s, uint32_t d)
{
    uint64_t h = d;
    for (uint32_t i = 0; i < d; i++)
        h = (h ^ s[i]) * 0x9e3779b97f4a7c15ULL;
    return hash_u64(h);
}

/* Returns the index of the merged stack the sample went to. */
static uint32_t add_stack(struct analysis *a, struct stackset *set, size_t *capstk,
                          const uint32_t *s, uint32_t d, uint64_t full, const struct psample *smp,
                          double v, double objs)
{
    if (a->nstacks * 2 >= set->n) {
        size_t nn = set->n ? set->n * 2 : 1024;
        uint64_t *ns = xcalloc(nn, sizeof(uint64_t));
        for (size_t i = 0; i < a->nstacks; i++) {
            const struct astack *t = &a->stacks[i];
            uint64_t sh = stack_hash(a->pool + t->off, t->depth);
            size_t h = sh & (nn - 1);
            while (ns[h])
                h = (h + 1) & (nn - 1);
            ns[h] = (sh & ~(uint64_t)UINT32_MAX) | ((uint64_t)i + 1);
        }
        free(set->slots);
        set->slots = ns;
        set->n = nn;
    }
    uint64_t tag = full & ~(uint64_t)UINT32_MAX; /* full: stack_hash(s, d) */
    size_t h = full & (set->n - 1);
    while (set->slots[h]) {
        uint32_t idx = (uint32_t)set->slots[h];
        struct astack *t = &a->stacks[idx - 1];
        if ((set->slots[h] & ~(uint64_t)UINT32_MAX) == tag && t->depth == d &&
            (d == 0 || memcmp(a->pool + t->off, s, d * sizeof(uint32_t)) == 0)) {
            t->v += v;
            t->objects += objs;
            if (smp->lifetime >= 0) {
                t->lifetime_sum += smp->lifetime;
                t->freed += 1;
            }
            return idx - 1;
        }
        h = (h + 1) & (set->n - 1);
    }
    GROW(a->stacks, *capstk, a->nstacks + 1);
    struct astack *t = &a->stacks[a->nstacks];
    memset(t, 0, sizeof(*t));
    t->off = d ? (uint32_t)(s - a->pool) : 0; /* s lies in the profile's stackpool */
    t->depth = d;
    t->v = v;
    t->objects = objs;
    if (smp->lifetime >= 0) {
        t->lifetime_sum = smp->lifetime;
        t->freed = 1;
    }
    set->slots[h] = tag | (uint64_t)++a->nstacks;
    return (uint32_t)a->nstacks - 1;
}

/* Reduced path of every merged stack; flat and cum per node. */
static void reduce(struct analysis *a, const struct analyze_options *o)
{
    const struct profile *p = a->p;
    size_t cap = 0, capn = 0;
    a->locnodes_off = xcalloc(p->nlocs + 1, sizeof(uint32_t));
    a->locnodes_n = xcalloc(p->nlocs + 1, sizeof(uint32_t));
    uint8_t *seen_loc = xcalloc(p->nlocs + 1, 1);
    for (size_t i = 0; i < a->nstacks; i++) {
        const struct astack *t = &a->stacks[i];
        for (uint32_t j = 0; j < t->depth; j++) {
            uint32_t li = a->pool[t->off + j];
            if (!seen_loc[li]) {
                seen_loc[li] = 1;
                translate_loc(a, &cap, li, o->gran);
            }
        }
    }
    free(seen_loc);
    size_t nn = a->nodes.n;
    a->flat = xcalloc(nn, sizeof(double));
    a->cum = xcalloc(nn, sizeof(double));
    uint32_t *mark = xcalloc(nn, sizeof(uint32_t));
    uint32_t maxn = 1; /* the most nodes of one location: room for a whole path at once */
    for (size_t li = 0; li < p->nlocs; li++)
        maxn = a->locnodes_n[li] > maxn ? a->locnodes_n[li] : maxn;
    const uint32_t *lnoff = a->locnodes_off, *lnn = a->locnodes_n, *ln = a->locnodes;
    for (size_t i = 0; i < a->nstacks; i++) {
        struct astack *t = &a->stacks[i];
        t->noff = (uint32_t)a->nnpath;
        GROW(a->npath, capn, a->nnpath + (size_t)t->depth * maxn);
        uint32_t *out = a->npath + a->nnpath, n = 0, stamp = (uint32_t)i + 1;
        const uint32_t *locs = a->pool + t->off;
        for (uint32_t j = 0; j < t->depth; j++) {
            uint32_t li = locs[j];
            /* Inlined frames innermost first, as jeprof's TranslateStack. */
            for (uint32_t k = 0; k < lnn[li]; k++) {
                uint32_t node = ln[lnoff[li] + k];
                if (mark[node] == stamp)
                    continue; /* recursion: count once per stack */
                mark[node] = stamp;
                out[n++] = node;
            }
        }
        a->nnpath += n;
        t->ndepth = n;
        if (t->ndepth == 0)
            continue;
        a->flat[a->npath[t->noff]] += t->v;
        for (uint32_t j = 0; j < t->ndepth; j++)
            a->cum[a->npath[t->noff + j]] += t->v;
    }
    free(mark);
}

int analyze(struct analysis *a, const struct profile *p, const struct analyze_options *o)
{
    memset(a, 0, sizeof(*a));
    a->p = p;
    strtab_init(&a->nodes);
    uint8_t *isalloc = xcalloc(p->nlocs + 1, 1);
    for (size_t i = 0; i < p->nlocs; i++)
        isalloc[i] = (uint8_t)loc_is_alloc(p, &p->locs[i]);
    /* Trimmed stacks stay where the profile keeps them. */
    a->pool = p->stackpool;
    a->npool = p->npool;
    /* At most one merged stack per sample: sized once, the set never
     * rehashes (load at most one half). */
    struct stackset set = {0};
    for (set.n = 1024; set.n < 2 * p->nsamples + 2; set.n *= 2)
        ;
    set.slots = xcalloc(set.n, sizeof(uint64_t));
    size_t capstk = p->nsamples + 1; /* the same bound: no regrowth, no copy */
    a->stacks = xmalloc(capstk * sizeof(*a->stacks));
    /* First pass, reading the samples in order: where each stack starts
     * once allocator frames are cut, and its hash, so that the merge can
     * prefetch the set's slot a few samples ahead (the set is far larger
     * than the cache: a miss per sample otherwise). */
    uint32_t *tstart = xmalloc((p->nsamples + 1) * sizeof(uint32_t));
    uint64_t *thash = xmalloc((p->nsamples + 1) * sizeof(uint64_t));
    for (size_t i = 0; i < p->nsamples; i++) {
        const struct psample *s = &p->samples[i];
        const uint32_t *stk = s->depth ? p->stackpool + s->stack : NULL;
        uint32_t start = 0;
        if (s->thread == o->thread)
            for (uint32_t j = 0; j < s->depth; j++)
                if (isalloc[stk[j]])
                    start = j + 1;
        tstart[i] = start;
        thash[i] = s->thread == o->thread ? stack_hash(stk ? stk + start : NULL, s->depth - start)
                                          : 0;
    }
    enum { PREFETCH_AHEAD = 8 };
    for (size_t i = 0; i < p->nsamples; i++) {
        const struct psample *s = &p->samples[i];
        if (i + PREFETCH_AHEAD < p->nsamples)
            __builtin_prefetch(&set.slots[thash[i + PREFETCH_AHEAD] & (set.n - 1)]);
        if (o->sample_stack)
            o->sample_stack[i] = UINT32_MAX;
        if (s->thread != o->thread)
            continue;
        double v = s->v[o->value];
        a->total += v;
        const uint32_t *stk = s->depth ? p->stackpool + s->stack : NULL;
        uint32_t start = tstart[i];
        const uint32_t *t = stk ? stk + start : NULL;
        uint32_t d = s->depth - start;
        int keep = 1;
        if (o->focus) {
            keep = 0;
            for (uint32_t j = 0; j < d && !keep; j++)
                keep = loc_matches(p, &p->locs[t[j]], o->focus);
        }
        if (keep && o->ignore)
            for (uint32_t j = 0; j < d && keep; j++)
                keep = !loc_matches(p, &p->locs[t[j]], o->ignore);
        if (!keep)
            continue;
        a->kept += v;
        /* Objects of the same kind: inuse_objects for inuse_*, alloc_objects
         * for alloc_* (the enum pairs them as even/odd). */
        uint32_t k = add_stack(a, &set, &capstk, t, d, thash[i], s, v, s->v[o->value & ~1]);
        if (o->sample_stack)
            o->sample_stack[i] = k;
    }
    free(set.slots);
    free(tstart);
    free(thash);
    free(isalloc);
    reduce(a, o);
    return 0;
}

void analysis_free(struct analysis *a)
{
    free(a->stacks);
    strtab_free(&a->nodes);
    free(a->npath);
    free(a->flat);
    free(a->cum);
    free(a->locnodes);
    free(a->locnodes_off);
    free(a->locnodes_n);
    memset(a, 0, sizeof(*a));
}

static const struct analysis *sort_a;
static int sort_cum;
static int cmp_nodes(const void *x, const void *y)
{
    uint32_t i = *(const uint32_t *)x, j = *(const uint32_t *)y;
    const double *s = sort_cum ? sort_a->cum : sort_a->flat;
    if (s[i] != s[j])
        return s[i] > s[j] ? -1 : 1;
    return strcmp(strtab_get(&sort_a->nodes, i), strtab_get(&sort_a->nodes, j));
}

uint32_t *analysis_sorted_nodes(const struct analysis *a, int by_cum, size_t *n)
{
    uint32_t *v = xmalloc((a->nodes.n + 1) * sizeof(uint32_t));
    size_t k = 0;
    for (uint32_t i = 1; i < a->nodes.n; i++)
        v[k++] = i;
    sort_a = a;
    sort_cum = by_cum;
    qsort(v, k, sizeof(uint32_t), cmp_nodes);
    *n = k;
    return v;
}

int analyze_loc_is_alloc(const struct profile *p, uint32_t loc)
{
    return loc_is_alloc(p, &p->locs[loc]);
}
