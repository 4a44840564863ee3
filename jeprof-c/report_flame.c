/* report_flame: --flamegraph=FILE. Each merged stack becomes one fg_stack
 * (function names root first, inlined frames included) for flamegraph.c.
 * With --base (o->diff_old/diff_new set) the graph is differential: each
 * stack carries its new and its base value, widths are the new profile's,
 * colours the change (see flamegraph.h).
 * When flamegraph.c is not linked in, its function is a weak NULL. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "xalloc.h"
#include "message.h"
#include "number.h"

#if __has_include("flamegraph.h")
#include "flamegraph.h"
#else
struct fg_stack {
    const char *const *frames;
    size_t nframes;
    uint64_t value;
    uint64_t base;
};
struct fg_options {
    const char *title;
    const char *unit;
    int width;
    int diff;
    const char *subtitle;
};
int flamegraph_write_svg(FILE *out, const struct fg_stack *stacks, size_t nstacks,
                         const struct fg_options *opt);
#endif

#pragma weak flamegraph_write_svg

int report_flamegraph(const char *path, const struct analysis *a, const struct report_options *o)
{
    if (!flamegraph_write_svg)
        return error("flame graphs are not available in this build (no flamegraph.c)"), ENOSYS;
    struct fg_stack *st = xcalloc(a->nstacks + 1, sizeof(*st));
    const char **names = NULL;
    size_t nnames = 0, cap = 0, n = 0;
    size_t *first = xcalloc(a->nstacks + 1, sizeof(size_t));
    for (size_t i = 0; i < a->nstacks; i++) {
        const struct astack *t = &a->stacks[i];
        double nv = o->diff_new ? o->diff_new[i] : t->v;
        double ov = o->diff_old ? o->diff_old[i] : 0;
        if (!(nv >= 1) && !(ov >= 1))
            continue; /* negative (--base) and empty stacks have no width */
        first[n] = nnames;
        for (uint32_t j = t->depth; j-- > 0;) {
            const char *fn[64];
            size_t k = loc_function_names(a->p, a->pool[t->off + j], fn, 64);
            GROW(names, cap, nnames + k);
            while (k-- > 0)
                names[nnames++] = fn[k];
        }
        st[n].nframes = nnames - first[n];
        st[n].value = nv >= 1 ? (uint64_t)dbl_to_i64(nv) : 0;
        st[n].base = ov >= 1 ? (uint64_t)dbl_to_i64(ov) : 0;
        n++;
    }
    for (size_t i = 0; i < n; i++)
        st[i].frames = names + first[i];
    char title[256];
    const char *prog = o->title ? strrchr(o->title, '/') : NULL;
    prog = prog ? prog + 1 : o->title;
    snprintf(title, sizeof(title), "%s%sHeap: %s", prog ? prog : "", prog ? " " : "",
             value_name(o->value));
    int objects = o->value == PV_INUSE_OBJECTS || o->value == PV_ALLOC_OBJECTS;
    struct fg_options fo = {.title = title, .unit = objects ? "objects" : "bytes"};
    char sub[512];
    if (o->diff_old) {
        const char *b = o->base_path ? strrchr(o->base_path, '/') : NULL;
        b = b ? b + 1 : o->base_path;
        snprintf(sub, sizeof(sub),
                 "Differential: widths are the new profile, red grew and blue shrank since %s",
                 b ? b : "the base");
        fo.diff = 1;
        fo.subtitle = sub;
    }
    int rc = 0;
    FILE *f = fopen(path, "w");
    if (!f) {
        rc = errno;
        error("cannot create '%s': %s", path, strerror(rc));
    } else {
        rc = flamegraph_write_svg(f, st, n, &fo);
        if (fclose(f) != 0 && !rc)
            rc = errno;
        if (rc)
            error("cannot write '%s': %s", path, strerror(rc));
    }
    free(st);
    free(names);
    free(first);
    return rc;
}
