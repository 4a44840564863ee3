/* read_recent: jemalloc's experimental.prof_recent.alloc_dump JSON,
 *   {"sample_interval":N,"recent_alloc_max":M,"recent_alloc":[
 *     {"size":..,"usize":..,"released":bool,"alloc_thread_uid":..,
 *      "alloc_time":ns,"alloc_trace":["0x..",..], ["dalloc_time":ns,...]},..]}
 * Each entry becomes one sample of one object: alloc_* always, inuse_* while
 * not released, and its lifetime (dalloc_time - alloc_time) when released.
 * Traces are leaf first, allocator frames included, like heap_v2.
 * Our ring adds fields jemalloc's lacks (read when present): "weight" (the
 * objects the sample stands for; else 1/(1-e^(-usize/R)) with the dump's
 * sample_interval R, exact unless R changed while the ring filled), and
 * "alloc_thread_allocated"/"dalloc_thread_allocated" (thread.allocated at
 * the allocation and at the free: equal, on one thread, means nothing else
 * was allocated in between, heaptrack's test for a temporary allocation),
 * and a top-level "maps" (the process's /proc/self/maps), which gives the
 * entries their mappings, so no --maps file is needed. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "read.h"
#include "xalloc.h"

static int bad(char *err, size_t i, const char *what)
{
    snprintf(err, READ_ERRLEN, "recent_alloc[%zu]: %s", i, what);
    return EINVAL;
}

static int num_field(const struct jval *e, const char *k, uint64_t *out)
{
    const struct jval *v = json_get(e, k);
    if (!v || v->t != J_NUM || !v->is_u64)
        return 0;
    *out = v->u64;
    return 1;
}

static int read_entry(struct profile *p, const struct jval *e, size_t i, uint32_t **stk,
                      size_t *cap, uint64_t interval, char *err)
{
    uint64_t usize, at = 0, dt = 0;
    if (e->t != J_OBJ)
        return bad(err, i, "not an object");
    if (!num_field(e, "usize", &usize) && !num_field(e, "size", &usize))
        return bad(err, i, "missing \"usize\"");
    const struct jval *rel = json_get(e, "released");
    const struct jval *tr = json_get(e, "alloc_trace");
    if (!tr || tr->t != J_ARR)
        return bad(err, i, "missing \"alloc_trace\"");
    int released = rel && rel->t == J_TRUE;
    GROW(*stk, *cap, tr->n + 1);
    for (size_t k = 0; k < tr->n; k++) {
        const struct jval *a = &tr->kids[k];
        char *end;
        if (a->t != J_STR)
            return bad(err, i, "trace entry is not a string");
        errno = 0;
        unsigned long long pc = strtoull(a->str, &end, 16);
        if (*end || end == a->str || errno)
            return bad(err, i, "trace entry is not an address");
        (*stk)[k] = profile_loc(p, k ? pc - 1 : pc);
    }
    double v[PV_N] = {0};
    v[PV_ALLOC_OBJECTS] = 1;
    v[PV_ALLOC_SPACE] = (double)usize;
    if (!released) {
        v[PV_INUSE_OBJECTS] = 1;
        v[PV_INUSE_SPACE] = (double)usize;
    }
    uint32_t off = profile_stack(p, *stk, tr->n);
    struct psample *s = profile_add_sample(p, off, (uint32_t)tr->n, THREAD_ALL, v);
    int have_at = num_field(e, "alloc_time", &at);
    if (have_at)
        s->alloc_ns = (double)at;
    if (released && have_at && num_field(e, "dalloc_time", &dt) && dt >= at)
        s->lifetime = (double)(dt - at);
    const struct jval *w = json_get(e, "weight");
    if (w && (w->t != J_NUM || !(w->num >= 1.0) || !isfinite(w->num)))
        return bad(err, i, "\"weight\" is not a number >= 1");
    if (w)
        s->weight = w->num;
    else if (interval > 0)
        s->weight = 1.0 / -expm1(-(double)usize / (double)interval);
    else
        s->weight = 1.0; /* no sampling rate known: count samples */
    uint64_t au, du, aa, da;
    if (released && num_field(e, "alloc_thread_allocated", &aa) &&
        num_field(e, "dalloc_thread_allocated", &da) && num_field(e, "alloc_thread_uid", &au) &&
        num_field(e, "dalloc_thread_uid", &du))
        s->between = au == du && aa == da ? 0 : 1;
    return 0;
}

int read_recent(struct profile *p, const char *data, size_t len, char *err)
{
    struct jval root;
    int rc = json_parse(data, len, &root, err, READ_ERRLEN);
    if (rc)
        return rc;
    const struct jval *list = json_get(&root, "recent_alloc");
    uint64_t interval;
    if (!list || list->t != J_ARR) {
        snprintf(err, READ_ERRLEN, "not a recent-allocation dump (no \"recent_alloc\" list)");
        rc = EINVAL;
        goto out;
    }
    if (!num_field(&root, "sample_interval", &interval))
        interval = 0;
    if (interval && !p->period)
        p->period = interval;
    uint32_t *stk = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < list->n && !rc; i++)
        rc = read_entry(p, &list->kids[i], i, &stk, &cap, interval, err);
    free(stk);
    const struct jval *maps = json_get(&root, "maps");
    if (!rc && maps && maps->t == J_STR && maps->str[0]) {
        /* Unusable maps leave the addresses raw, which the symbolizer
         * reports; the entries themselves are fine. */
        char merr[READ_ERRLEN] = "";
        int mrc = read_maps(p, maps->str, strlen(maps->str), merr);
        (void)mrc;
    }
out:
    json_free(&root);
    return rc;
}
