/* read_pprof: profile.proto (perftools.profiles) as written by Go, by our
 * libprof and by jeprof-c --pprof; the caller has already gunzipped.
 * Heap columns are found by sample_type name (alloc_objects, alloc_space,
 * inuse_objects, inuse_space); any other profile (CPU, ...) puts its default
 * (or last) column in every slot and reports in that column's unit. Locations that carry lines keep them as frames;
 * the others are symbolized later from their mapping. Every index and id is
 * checked: a bad one is a corrupt profile, never a crash. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demangle.h"
#include "idmap.h"
#include "profile.pb-c.h"
#include "read.h"
#include "xalloc.h"
#include "strtab.h"

typedef Perftools__Profiles__Profile PProfile;

/* The string at index i, or NULL when out of range. */
static const char *S(const PProfile *pp, int64_t i)
{
    if (i < 0 || (uint64_t)i >= pp->n_string_table)
        return NULL;
    return pp->string_table[i];
}

static int bad(char *err, const char *what)
{
    snprintf(err, READ_ERRLEN, "corrupt pprof profile: %s", what);
    return EINVAL;
}

/* Which sample_type column feeds each model slot (-1 = none). */
static int map_columns(struct profile *p, const PProfile *pp, int col[PV_N], char *err)
{
    static const char *names[PV_N] = {"inuse_objects", "inuse_space", "alloc_objects",
                                      "alloc_space"};
    int found = 0;
    for (int k = 0; k < PV_N; k++)
        col[k] = -1;
    for (size_t i = 0; i < pp->n_sample_type; i++) {
        const char *t = S(pp, pp->sample_type[i]->type);
        if (!t || !S(pp, pp->sample_type[i]->unit))
            return bad(err, "sample_type string index out of range");
        for (int k = 0; k < PV_N; k++)
            if (strcmp(t, names[k]) == 0) {
                col[k] = (int)i;
                found++;
            }
    }
    if (pp->n_sample_type == 0)
        return pp->n_sample ? bad(err, "samples without sample_type") : 0;
    if (!found) {
        /* Not a heap profile: the default type, else the last one, everywhere. */
        int def = (int)pp->n_sample_type - 1;
        const char *d = S(pp, pp->default_sample_type);
        if (pp->default_sample_type && d)
            for (size_t i = 0; i < pp->n_sample_type; i++)
                if (strcmp(S(pp, pp->sample_type[i]->type), d) == 0)
                    def = (int)i;
        for (int k = 0; k < PV_N; k++)
            col[k] = def;
        p->generic_unit = strtab_intern(&p->strings, S(pp, pp->sample_type[def]->unit));
        if (!p->generic_unit)
            p->generic_unit = strtab_intern(&p->strings, "count");
    }
    return 0;
}

static int read_mappings(struct profile *p, const PProfile *pp, struct idmap *maps, char *err)
{
    idmap_init(maps, pp->n_mapping);
    for (size_t i = 0; i < pp->n_mapping; i++) {
        const Perftools__Profiles__Mapping *m = pp->mapping[i];
        const char *fn = S(pp, m->filename), *bid = S(pp, m->build_id);
        if (!fn || !bid)
            return bad(err, "mapping string index out of range");
        size_t idx = profile_add_map(p, m->memory_start,
                                     m->memory_limit > m->memory_start ? m->memory_limit
                                                                       : m->memory_start + 1,
                                     m->file_offset, fn, bid);
        if (idmap_put(maps, m->id, (uint32_t)idx))
            return bad(err, "duplicate or zero mapping id");
    }
    return 0;
}

static int read_functions(const PProfile *pp, struct idmap *funcs, char *err)
{
    idmap_init(funcs, pp->n_function);
    for (size_t i = 0; i < pp->n_function; i++) {
        const Perftools__Profiles__Function *f = pp->function[i];
        if (!S(pp, f->name) || !S(pp, f->system_name) || !S(pp, f->filename))
            return bad(err, "function string index out of range");
        if (idmap_put(funcs, f->id, (uint32_t)i))
            return bad(err, "duplicate or zero function id");
    }
    return 0;
}

/* Turns a Location's lines into model frames. */
static int loc_frames(struct profile *p, const PProfile *pp, const struct idmap *funcs,
                      const Perftools__Profiles__Location *l, uint32_t li, int fallback, char *err)
{
    struct pframe fr[64];
    size_t n = 0;
    for (size_t j = 0; j < l->n_line && n < 64; j++) {
        uint32_t fi;
        if (!idmap_get(funcs, l->line[j]->function_id, &fi))
            return bad(err, "line refers to an unknown function");
        const Perftools__Profiles__Function *f = pp->function[fi];
        /* Mangled names (our own dumps write the symbol as both name and
         * system_name, as Go does) are demangled and simplified. */
        char *name = demangle_display(S(pp, f->name), S(pp, f->system_name));
        memset(&fr[n], 0, sizeof(fr[n]));
        fr[n].name = strtab_intern(&p->strings, *name ? name : "??");
        free(name);
        fr[n].sysname = strtab_intern(&p->strings, S(pp, f->system_name));
        fr[n].file = strtab_intern(&p->strings, S(pp, f->filename));
        fr[n].line = (int32_t)l->line[j]->line;
        n++;
    }
    if (n && fallback)
        profile_set_fallback_frames(p, li, fr, n);
    else if (n)
        profile_set_frames(p, li, fr, n);
    return 0;
}

/* True when every line of l names a function but no file and no line. */
static int names_only(const PProfile *pp, const struct idmap *funcs, const Perftools__Profiles__Location *l)
{
    for (size_t j = 0; j < l->n_line; j++) {
        uint32_t fi;
        if (l->line[j]->line != 0 || !idmap_get(funcs, l->line[j]->function_id, &fi))
            return 0;
        const char *file = S(pp, pp->function[fi]->filename);
        if (file && *file)
            return 0;
    }
    return 1;
}

static int read_locations(struct profile *p, const PProfile *pp, const struct idmap *maps,
                          const struct idmap *funcs, struct idmap *locs, char *err)
{
    idmap_init(locs, pp->n_location);
    for (size_t i = 0; i < pp->n_location; i++) {
        const Perftools__Profiles__Location *l = pp->location[i];
        uint32_t li, mi;
        /* Lines in a mapping that does not claim has_functions (our libprof
         * dumps: symbol names only), or names alone without file or line
         * (our served profiles claim has_functions for readers without the
         * binaries), are a fallback: the symbolizer still tries the file
         * (its build ID checked) for lines and inlined frames, as pprof does,
         * and keeps these names where it cannot. */
        const Perftools__Profiles__Mapping *lm = NULL;
        if (l->mapping_id && idmap_get(maps, l->mapping_id, &mi))
            lm = pp->mapping[mi - (p->nmaps - pp->n_mapping)];
        int fallback = l->n_line && lm && (!lm->has_functions || names_only(pp, funcs, l)) &&
                       S(pp, lm->filename) && *S(pp, lm->filename) && *S(pp, lm->filename) != '[';
        if (l->n_line) {
            /* Symbolized: keep it apart even if another has the same address. */
            GROW(p->locs, p->caplocs, p->nlocs + 1);
            li = (uint32_t)p->nlocs++;
            memset(&p->locs[li], 0, sizeof(p->locs[li]));
            p->locs[li].addr = l->address;
            p->locs[li].map = -1;
            if (!fallback)
                p->symbolized_input = 1;
        } else {
            li = profile_loc(p, l->address);
        }
        if (l->mapping_id) {
            if (!idmap_get(maps, l->mapping_id, &mi))
                return bad(err, "location refers to an unknown mapping");
            p->locs[li].map = (int32_t)mi;
        }
        if (idmap_put(locs, l->id, li))
            return bad(err, "duplicate or zero location id");
        int rc = loc_frames(p, pp, funcs, l, li, fallback, err);
        if (rc)
            return rc;
    }
    return 0;
}

static int read_samples(struct profile *p, const PProfile *pp, const struct idmap *locs,
                        const int col[PV_N], char *err)
{
    uint32_t *stk = NULL;
    size_t cap = 0;
    int rc = 0;
    for (size_t i = 0; i < pp->n_sample; i++) {
        const Perftools__Profiles__Sample *s = pp->sample[i];
        if (s->n_value != pp->n_sample_type) {
            rc = bad(err, "sample has the wrong number of values");
            break;
        }
        GROW(stk, cap, s->n_location_id + 1);
        for (size_t j = 0; j < s->n_location_id; j++)
            if (!idmap_get(locs, s->location_id[j], &stk[j])) {
                rc = bad(err, "sample refers to an unknown location");
                goto out;
            }
        double v[PV_N];
        for (int k = 0; k < PV_N; k++)
            v[k] = col[k] >= 0 ? (double)s->value[col[k]] : 0;
        uint32_t off = profile_stack(p, stk, s->n_location_id);
        profile_add_sample(p, off, (uint32_t)s->n_location_id, THREAD_ALL, v);
    }
out:
    free(stk);
    return rc;
}

/* protobuf-c's memory for one profile, bounded by the input's size: an
 * empty repeated message costs 2 bytes of input and ~90 bytes of structs,
 * so a crafted file of 20 KB (gzip'd) asked 1.25 GB before failing. Real
 * profiles unpack into a few times their size (our pprof dumps: under 8
 * times); the budget is 16 times plus 64 MiB. Each block carries its size
 * in a 16-byte header so frees give it back. */
struct pb_budget {
    size_t used, limit;
    int over; /* an allocation was refused for the budget */
};

static void *pb_alloc(void *data, size_t n)
{
    struct pb_budget *b = data;
    if (b->limit - b->used < 16 || n > b->limit - b->used - 16) {
        b->over = 1;
        return NULL;
    }
    size_t *h = malloc(n + 16);
    if (!h)
        return NULL;
    b->used += n + 16;
    h[0] = n + 16;
    return (char *)h + 16;
}

static void pb_free(void *data, void *ptr)
{
    struct pb_budget *b = data;
    if (!ptr)
        return;
    size_t *h = (size_t *)(void *)((char *)ptr - 16);
    b->used -= h[0];
    free(h);
}

int read_pprof(struct profile *p, const char *data, size_t len, char *err)
{
    struct pb_budget budget = {0, (len > SIZE_MAX / 32 ? SIZE_MAX / 2 : len * 16) + ((size_t)64 << 20), 0};
    ProtobufCAllocator pa = {pb_alloc, pb_free, &budget};
    PProfile *pp = perftools__profiles__profile__unpack(&pa, len, (const uint8_t *)data);
    if (!pp && budget.over) {
        snprintf(err, READ_ERRLEN,
                 "corrupt pprof profile: its messages need more than %zu bytes of memory, "
                 "16 times its %zu bytes and 64 MiB (malformed or hostile)",
                 budget.limit, len);
        return EINVAL;
    }
    if (!pp)
        return bad(err, "protobuf decoding failed");
    struct idmap maps = {0}, funcs = {0}, locs = {0};
    int col[PV_N];
    int rc = 0;
    if (pp->n_string_table == 0 || pp->string_table[0][0] != 0) {
        rc = bad(err, "string_table[0] must be empty");
        goto out;
    }
    if ((rc = map_columns(p, pp, col, err)) || (rc = read_mappings(p, pp, &maps, err)) ||
        (rc = read_functions(pp, &funcs, err)) ||
        (rc = read_locations(p, pp, &maps, &funcs, &locs, err)) ||
        (rc = read_samples(p, pp, &locs, col, err)))
        goto out;
    if (!p->period && pp->period > 0)
        p->period = (uint64_t)pp->period;
    if (pp->time_nanos > 0)
        p->time_ns = pp->time_nanos;
    /* Our peak dumps carry a "peak_time_ns N" comment. */
    for (size_t i = 0; i < pp->n_comment; i++) {
        int64_t c = pp->comment[i];
        const char *t = c > 0 && (size_t)c < pp->n_string_table ? pp->string_table[c] : "";
        if (strncmp(t, "peak_time_ns ", 13) == 0) {
            p->is_peak = 1;
            p->peak_time_ns = strtoll(t + 13, NULL, 10);
        }
    }
    /* A heap profile names its columns (distinct indexes); a generic one
     * reads one column into every slot. */
    if (pp->n_sample_type && !(col[PV_INUSE_SPACE] == col[PV_ALLOC_SPACE] && col[PV_INUSE_SPACE] >= 0) &&
        col[PV_ALLOC_SPACE] < 0 && col[PV_ALLOC_OBJECTS] < 0)
        p->no_accum = "the profile has no alloc_space or alloc_objects sample type";
out:
    if (maps.keys)
        idmap_free(&maps);
    if (funcs.keys)
        idmap_free(&funcs);
    if (locs.keys)
        idmap_free(&locs);
    perftools__profiles__profile__free_unpacked(pp, &pa);
    return rc;
}
