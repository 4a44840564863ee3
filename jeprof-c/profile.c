/* profile: see profile.h. */
#include "profile.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

void profile_init(struct profile *p)
{
    memset(p, 0, sizeof(*p));
    strtab_init(&p->strings);
    p->nlochash = 1024;
    p->lochash = xcalloc(p->nlochash, sizeof(*p->lochash));
    p->sign = 1.0;
}

void profile_free(struct profile *p)
{
    strtab_free(&p->strings);
    free(p->maps);
    free(p->locs);
    free(p->lochash);
    free(p->stackpool);
    free(p->samples);
    free(p->frames);
    memset(p, 0, sizeof(*p));
}

/* Slot of an address in lochash: Fibonacci hashing, one multiply (the
 * readers call profile_loc for every frame of every stack). */
static inline size_t loc_slot(uint64_t addr, size_t n)
{
    return (size_t)((addr * 0x9e3779b97f4a7c15ULL) >> 32) & (n - 1);
}

static void loc_rehash(struct profile *p)
{
    size_t n = p->nlochash * 2;
    struct lochash_slot *h = xcalloc(n, sizeof(*h));
    for (size_t i = 0; i < p->nlocs; i++) {
        size_t s = loc_slot(p->locs[i].addr, n);
        while (h[s].loc1)
            s = (s + 1) & (n - 1);
        h[s].addr = p->locs[i].addr;
        h[s].loc1 = (uint32_t)i + 1;
    }
    free(p->lochash);
    p->lochash = h;
    p->nlochash = n;
}

uint32_t profile_loc(struct profile *p, uint64_t addr)
{
    size_t s = loc_slot(addr, p->nlochash);
    while (p->lochash[s].loc1) {
        if (p->lochash[s].addr == addr)
            return p->lochash[s].loc1 - 1;
        s = (s + 1) & (p->nlochash - 1);
    }
    GROW(p->locs, p->caplocs, p->nlocs + 1);
    struct ploc *l = &p->locs[p->nlocs];
    memset(l, 0, sizeof(*l));
    l->addr = addr;
    l->map = -1;
    p->lochash[s].addr = addr;
    p->lochash[s].loc1 = (uint32_t)++p->nlocs;
    if (p->nlocs * 2 > p->nlochash)
        loc_rehash(p);
    return (uint32_t)p->nlocs - 1;
}

uint32_t profile_stack(struct profile *p, const uint32_t *locs, size_t n)
{
    GROW(p->stackpool, p->cappool, p->npool + n);
    uint32_t off = (uint32_t)p->npool;
    if (n)
        memcpy(p->stackpool + off, locs, n * sizeof(uint32_t));
    p->npool += n;
    return off;
}

struct psample *profile_add_sample(struct profile *p, uint32_t stack, uint32_t depth,
                                   int32_t thread, const double v[PV_N])
{
    GROW(p->samples, p->capsamples, p->nsamples + 1);
    struct psample *s = &p->samples[p->nsamples++];
    s->stack = stack;
    s->depth = depth;
    s->thread = thread;
    s->lifetime = -1;
    s->weight = 0;
    s->alloc_ns = -1;
    s->between = -1;
    for (int i = 0; i < PV_N; i++)
        s->v[i] = v[i] * p->sign;
    return s;
}

size_t profile_add_map(struct profile *p, uint64_t start, uint64_t limit, uint64_t offset,
                       const char *path, const char *build_id)
{
    GROW(p->maps, p->capmaps, p->nmaps + 1);
    struct pmap *m = &p->maps[p->nmaps];
    memset(m, 0, sizeof(*m));
    m->start = start;
    m->limit = limit;
    m->offset = offset;
    m->path = strtab_intern(&p->strings, path ? path : "");
    m->build_id = build_id && *build_id ? strtab_intern(&p->strings, build_id) : 0;
    return p->nmaps++;
}

/* Sort helper: mapping indexes by start address. */
static const struct pmap *sort_maps;
static int cmp_map(const void *a, const void *b)
{
    const struct pmap *x = &sort_maps[*(const uint32_t *)a], *y = &sort_maps[*(const uint32_t *)b];
    return x->start < y->start ? -1 : x->start > y->start;
}

void profile_assign_maps(struct profile *p, size_t first_map)
{
    if (first_map >= p->nmaps)
        return;
    size_t nm = p->nmaps - first_map;
    uint32_t *order = xmalloc(nm * sizeof(uint32_t));
    for (size_t i = 0; i < nm; i++)
        order[i] = (uint32_t)(first_map + i);
    sort_maps = p->maps;
    qsort(order, nm, sizeof(uint32_t), cmp_map);
    for (size_t i = 0; i < p->nlocs; i++) {
        struct ploc *l = &p->locs[i];
        if (l->map >= 0)
            continue;
        /* Last mapping starting at or below the address. */
        size_t lo = 0, hi = nm;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (p->maps[order[mid]].start <= l->addr)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo > 0) {
            const struct pmap *m = &p->maps[order[lo - 1]];
            if (l->addr < m->limit)
                l->map = (int32_t)order[lo - 1];
        }
    }
    free(order);
}

void profile_set_frames(struct profile *p, uint32_t loc, const struct pframe *f, size_t n)
{
    GROW(p->frames, p->capframes, p->nframes + n);
    memcpy(p->frames + p->nframes, f, n * sizeof(*f));
    p->locs[loc].frame0 = (uint32_t)p->nframes;
    p->locs[loc].nframes = (uint32_t)n;
    p->locs[loc].done = 1;
    p->nframes += n;
}

void profile_set_fallback_frames(struct profile *p, uint32_t loc, const struct pframe *f, size_t n)
{
    GROW(p->frames, p->capframes, p->nframes + n);
    memcpy(p->frames + p->nframes, f, n * sizeof(*f));
    p->locs[loc].fb0 = (uint32_t)p->nframes;
    p->locs[loc].nfb = (uint32_t)n;
    p->nframes += n;
}
