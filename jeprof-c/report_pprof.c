/* report_pprof: --pprof=FILE, the profile as gzip'd profile.proto with
 * functions and lines filled in, so pprof, speedscope, Pyroscope and Parca
 * can read it without the binaries. Ids are 1..n in array order,
 * string_table[0] is "", sample types are alloc_objects/count,
 * alloc_space/bytes, inuse_objects/count, inuse_space/bytes, period type
 * space/bytes. Allocator frames are removed; all threads together. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "number.h"
#include "profile.pb-c.h"
#include "plumbing.h"
#include "report.h"
#include "xalloc.h"
#include "message.h"
#include "strtab.h"

typedef Perftools__Profiles__Profile PProfile;

/* Builder state. */
struct pb {
    const struct profile *p;
    struct strtab strs;     /* output string table */
    struct strtab funckeys; /* "name\1sys\1file" -> function id */
    uint32_t *locid;        /* model loc -> output location id, 0 = not yet */
    Perftools__Profiles__Location **locs;
    size_t nlocs, caplocs;
    Perftools__Profiles__Function **funcs;
    size_t nfuncs, capfuncs;
};

static int64_t S(struct pb *b, const char *s)
{
    return strtab_intern(&b->strs, s);
}

static uint64_t func_id(struct pb *b, const struct pframe *f)
{
    const struct profile *p = b->p;
    const char *name = pstr(p, f->name), *sys = f->sysname ? pstr(p, f->sysname) : name;
    const char *file = f->file ? pstr(p, f->file) : "";
    char *key = xasprintf("%s\1%s\1%s", name, sys, file);
    uint32_t id = strtab_intern(&b->funckeys, key);
    free(key);
    if (id <= b->nfuncs)
        return id;
    Perftools__Profiles__Function *fn = xmalloc(sizeof(*fn));
    perftools__profiles__function__init(fn);
    fn->id = id;
    fn->name = S(b, name);
    /* No system name when there is nothing but the display name (a DWARF
     * name without a linkage name): pprof would take a system name equal
     * to the name for an undemangled one and strip its "()" and "<>"
     * ("main::{lambda}::operator()" became "main::{lambda}::operator"). */
    fn->system_name = S(b, strcmp(sys, name) != 0 ? sys : "");
    fn->filename = S(b, file);
    GROW(b->funcs, b->capfuncs, b->nfuncs + 1);
    b->funcs[b->nfuncs++] = fn;
    return id;
}

static uint64_t loc_id(struct pb *b, uint32_t li)
{
    if (b->locid[li])
        return b->locid[li];
    const struct ploc *l = &b->p->locs[li];
    Perftools__Profiles__Location *lo = xmalloc(sizeof(*lo));
    perftools__profiles__location__init(lo);
    lo->id = b->nlocs + 1;
    lo->mapping_id = l->map >= 0 ? (uint64_t)l->map + 1 : 0;
    lo->address = l->addr;
    lo->n_line = l->nframes;
    lo->line = xcalloc(l->nframes + 1, sizeof(*lo->line));
    for (uint32_t i = 0; i < l->nframes; i++) {
        const struct pframe *f = &b->p->frames[l->frame0 + i];
        Perftools__Profiles__Line *ln = xmalloc(sizeof(*ln));
        perftools__profiles__line__init(ln);
        ln->function_id = func_id(b, f);
        ln->line = f->line;
        lo->line[i] = ln;
    }
    GROW(b->locs, b->caplocs, b->nlocs + 1);
    b->locs[b->nlocs++] = lo;
    return b->locid[li] = (uint32_t)lo->id;
}

static Perftools__Profiles__ValueType *vtype(struct pb *b, const char *t, const char *u)
{
    Perftools__Profiles__ValueType *v = xmalloc(sizeof(*v));
    perftools__profiles__value_type__init(v);
    v->type = S(b, t);
    v->unit = S(b, u);
    return v;
}

static int write_gz(const char *path, const uint8_t *buf, size_t len)
{
    gzFile gz = gzopen(path, "wb6");
    if (!gz)
        return errno ? errno : ENOMEM;
    size_t off = 0;
    while (off < len) {
        unsigned chunk = len - off > (1u << 30) ? (1u << 30) : (unsigned)(len - off);
        if (gzwrite(gz, buf + off, chunk) != (int)chunk) {
            gzclose(gz);
            return EIO;
        }
        off += chunk;
    }
    return gzclose(gz) == Z_OK ? 0 : EIO;
}

/* Value columns as written, in Go's order. */
static const char *const types[4][2] = {{"alloc_objects", "count"},
                                        {"alloc_space", "bytes"},
                                        {"inuse_objects", "count"},
                                        {"inuse_space", "bytes"}};
static const int type_col[4] = {PV_ALLOC_OBJECTS, PV_ALLOC_SPACE, PV_INUSE_OBJECTS, PV_INUSE_SPACE};

static void add_mappings(struct pb *b, PProfile *pr)
{
    const struct profile *p = b->p;
    pr->n_mapping = p->nmaps;
    pr->mapping = xcalloc(p->nmaps + 1, sizeof(*pr->mapping));
    for (size_t i = 0; i < p->nmaps; i++) {
        Perftools__Profiles__Mapping *m = xmalloc(sizeof(*m));
        perftools__profiles__mapping__init(m);
        m->id = i + 1;
        m->memory_start = p->maps[i].start;
        m->memory_limit = p->maps[i].limit;
        m->file_offset = p->maps[i].offset;
        m->filename = S(b, pstr(p, p->maps[i].path));
        m->build_id = S(b, pstr(p, p->maps[i].build_id));
        m->has_functions = m->has_filenames = m->has_line_numbers = m->has_inline_frames = 1;
        pr->mapping[i] = m;
    }
}

/* One Sample per model sample (all threads), allocator frames removed. */
static void add_samples(struct pb *b, PProfile *pr)
{
    const struct profile *p = b->p;
    uint8_t *isalloc = xcalloc(p->nlocs + 1, 1);
    size_t cap = 0;
    for (size_t i = 0; i < p->nlocs; i++)
        isalloc[i] = (uint8_t)analyze_loc_is_alloc(p, (uint32_t)i);
    for (size_t i = 0; i < p->nsamples; i++) {
        const struct psample *s = &p->samples[i];
        if (s->thread != THREAD_ALL)
            continue;
        const uint32_t *stk = p->stackpool + s->stack;
        uint32_t start = 0;
        for (uint32_t j = 0; j < s->depth; j++)
            if (isalloc[stk[j]])
                start = j + 1;
        Perftools__Profiles__Sample *sm = xmalloc(sizeof(*sm));
        perftools__profiles__sample__init(sm);
        sm->n_location_id = s->depth - start;
        sm->location_id = xcalloc(sm->n_location_id + 1, sizeof(uint64_t));
        for (uint32_t j = start; j < s->depth; j++)
            sm->location_id[j - start] = loc_id(b, stk[j]);
        sm->n_value = 4;
        sm->value = xcalloc(4, sizeof(int64_t));
        for (int k = 0; k < 4; k++)
            sm->value[k] = dbl_round_i64(s->v[type_col[k]]);
        GROW(pr->sample, cap, pr->n_sample + 1);
        pr->sample[pr->n_sample++] = sm;
    }
    free(isalloc);
}

/* Releases what the builder allocated (the strings belong to b->strs). */
static void pb_free(struct pb *b, PProfile *pr)
{
    for (size_t i = 0; i < pr->n_sample; i++) {
        free(pr->sample[i]->location_id);
        free(pr->sample[i]->value);
        free(pr->sample[i]);
    }
    free(pr->sample);
    for (size_t i = 0; i < b->nlocs; i++) {
        for (size_t j = 0; j < b->locs[i]->n_line; j++)
            free(b->locs[i]->line[j]);
        free(b->locs[i]->line);
        free(b->locs[i]);
    }
    free(b->locs);
    for (size_t i = 0; i < b->nfuncs; i++)
        free(b->funcs[i]);
    free(b->funcs);
    for (size_t i = 0; i < pr->n_mapping; i++)
        free(pr->mapping[i]);
    free(pr->mapping);
    for (size_t i = 0; i < pr->n_sample_type; i++)
        free(pr->sample_type[i]);
    free(pr->sample_type);
    free(pr->period_type);
    free(b->locid);
    strtab_free(&b->strs);
    strtab_free(&b->funckeys);
}

int report_pprof(const char *path, const struct profile *p, int value)
{
    struct pb b = {.p = p};
    PProfile pr;
    perftools__profiles__profile__init(&pr);
    strtab_init(&b.strs);
    strtab_init(&b.funckeys);
    b.locid = xcalloc(p->nlocs + 1, sizeof(uint32_t));
    pr.n_sample_type = 4;
    pr.sample_type = xcalloc(4, sizeof(*pr.sample_type));
    for (int i = 0; i < 4; i++)
        pr.sample_type[i] = vtype(&b, types[i][0], types[i][1]);
    pr.period_type = vtype(&b, "space", "bytes");
    for (int i = 0; i < 4; i++)
        if (type_col[i] == value)
            pr.default_sample_type = S(&b, types[i][0]);
    pr.period = (int64_t)p->period;
    pr.time_nanos = (int64_t)time(NULL) * 1000000000;
    add_mappings(&b, &pr);
    add_samples(&b, &pr);
    /* What jeprof-c dropped, so pprof readers drop it too (pprof cuts a
     * stack at the first matching frame from the root, after demangling). */
    pr.drop_frames = S(&b, plumbing_drop_frames());
    pr.n_location = b.nlocs;
    pr.location = b.locs;
    pr.n_function = b.nfuncs;
    pr.function = b.funcs;
    pr.n_string_table = b.strs.n; /* last: every string is interned by now */
    pr.string_table = b.strs.str;
    size_t len = perftools__profiles__profile__get_packed_size(&pr);
    uint8_t *buf = xmalloc(len + 1);
    perftools__profiles__profile__pack(&pr, buf);
    int rc = write_gz(path, buf, len);
    if (rc)
        error("cannot write '%s': %s", path, strerror(rc));
    free(buf);
    pb_free(&b, &pr);
    return rc;
}
