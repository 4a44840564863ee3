/* read_raw: jeprof's symbolized profiles ("--- symbol" section, then
 * "--- heap" and a heap profile), as written by `jeprof --raw` of a remote
 * profile and by `jeprof-c --raw`; and the legacy "heap profile:" text that
 * such a file (or gperftools' heap profiler) carries.
 *
 * Symbol lines are "0x<address> <outer>--<inlined>--..." keyed by the
 * address jeprof looks up (callers already moved back by one, which the heap
 * readers do to the stacks), so each named address gets its frames here and
 * is not symbolized again; an address without a line is symbolized as usual
 * (and shows as module+0xoffset without the program). "binary=" is ignored:
 * the program, when needed, is the command-line argument.
 *
 * Legacy heap text: "heap profile: n: s [n: s] @ <type>[/<rate>]" then
 * "n: s [n: s] @ a1 a2 ..." per stack and an optional MAPPED_LIBRARIES
 * section. Types heap_v2/R are unsampled as jeprof does (Poisson, rate R);
 * heapprofile (or none) are taken as they are; other types are refused. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "read.h"
#include "xalloc.h"
#include "strtab.h"

static int bad(char *err, int line, const char *what)
{
    snprintf(err, READ_ERRLEN, "line %d: %s", line, what);
    return EINVAL;
}

static const char *line_end(const char *s, const char *e)
{
    const char *nl = memchr(s, '\n', (size_t)(e - s));
    return nl ? nl : e;
}

/* Parses "n: s [n: s]" at *s; returns 0 or -1. */
static int parse_counts(const char **sp, const char *e, uint64_t c[4])
{
    const char *s = *sp;
    static const char seps[4] = {':', '[', ':', ']'};
    for (int i = 0; i < 4; i++) {
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        if (s >= e || *s < '0' || *s > '9')
            return -1;
        char *end;
        errno = 0;
        c[i] = strtoull(s, &end, 10);
        if (errno || end > e)
            return -1;
        s = end;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        if (s >= e || *s != seps[i])
            return -1;
        s++;
    }
    *sp = s;
    return 0;
}

static void unsample(double rate, double *n, double *s)
{
    if (rate <= 0 || *n == 0 || *s == 0)
        return;
    double scale = unsample_scale((*s / *n) / rate);
    *n *= scale;
    *s *= scale;
}

int read_legacy_heap(struct profile *p, const char *data, size_t len, char *err)
{
    const char *s = data, *e = data + len, *le = line_end(s, e);
    uint64_t c[4];
    const char *t = s + 13; /* "heap profile:" */
    if (len < 13 || memcmp(s, "heap profile:", 13) != 0 || parse_counts(&t, le, c))
        return bad(err, 1, "malformed 'heap profile:' header");
    double rate = 0;
    while (t < le && *t == ' ')
        t++;
    if (t < le && *t == '@') {
        t++;
        while (t < le && *t == ' ')
            t++;
        if ((size_t)(le - t) >= 8 && memcmp(t, "heap_v2/", 8) == 0) {
            rate = strtod(t + 8, NULL);
            if (!(rate > 0))
                return bad(err, 1, "heap_v2 without a sampling rate");
        } else if (!((size_t)(le - t) >= 11 && memcmp(t, "heapprofile", 11) == 0)) {
            return bad(err, 1, "unsupported heap profile type (only heapprofile and heap_v2/N)");
        }
    }
    size_t first_map = p->nmaps;
    uint32_t *stk = NULL;
    size_t capstk = 0;
    int ln = 1, rc = 0;
    for (s = le < e ? le + 1 : e; s < e && !rc; s = le < e ? le + 1 : e) {
        le = line_end(s, e);
        ln++;
        const char *b = s;
        while (b < le && (*b == ' ' || *b == '\t' || *b == '\r'))
            b++;
        if (b == le)
            continue;
        if ((size_t)(le - b) >= 17 && memcmp(b, "MAPPED_LIBRARIES:", 17) == 0) {
            rc = read_maps(p, b, (size_t)(e - b), err);
            if (rc == EINVAL && p->nmaps == first_map)
                rc = 0; /* an empty section */
            break;
        }
        if (parse_counts(&b, le, c)) {
            rc = bad(err, ln, "malformed sample line");
            break;
        }
        while (b < le && *b == ' ')
            b++;
        if (b >= le || *b != '@') {
            rc = bad(err, ln, "sample line without '@'");
            break;
        }
        b++;
        size_t n = 0;
        for (;;) {
            while (b < le && (*b == ' ' || *b == '\t' || *b == '\r'))
                b++;
            if (b >= le)
                break;
            char *end;
            errno = 0;
            uint64_t a = strtoull(b, &end, 16);
            if (errno || end == b || end > le) {
                rc = bad(err, ln, "malformed address");
                break;
            }
            b = end;
            GROW(stk, capstk, n + 1);
            stk[n] = profile_loc(p, n ? a - 1 : a); /* callers: into the call */
            n++;
        }
        if (rc)
            break;
        double v[PV_N] = {[PV_INUSE_OBJECTS] = (double)c[0],
                          [PV_INUSE_SPACE] = (double)c[1],
                          [PV_ALLOC_OBJECTS] = (double)c[2],
                          [PV_ALLOC_SPACE] = (double)c[3]};
        unsample(rate, &v[PV_INUSE_OBJECTS], &v[PV_INUSE_SPACE]);
        unsample(rate, &v[PV_ALLOC_OBJECTS], &v[PV_ALLOC_SPACE]);
        profile_add_sample(p, profile_stack(p, stk, n), (uint32_t)n, THREAD_ALL, v);
    }
    free(stk);
    if (!rc && !p->period && rate > 0)
        p->period = (uint64_t)rate;
    if (!rc)
        profile_assign_maps(p, first_map);
    return rc;
}

/* One "0x<addr> names" line of the symbol section. */
struct symline {
    uint64_t addr;
    const char *names, *end; /* "outer--inner", not NUL-terminated */
};

static void set_names(struct profile *p, const struct symline *sl)
{
    struct pframe fr[64];
    size_t n = 0;
    const char *s = sl->names;
    while (s < sl->end && n < 64) {
        const char *d = memmem(s, (size_t)(sl->end - s), "--", 2);
        const char *e = d ? d : sl->end;
        memset(&fr[n], 0, sizeof(fr[n]));
        fr[n].name = strtab_intern_n(&p->strings, s, (size_t)(e - s));
        n++;
        s = d ? d + 2 : sl->end;
    }
    if (!n)
        return;
    for (size_t i = 0; i < n / 2; i++) { /* outermost first -> innermost first */
        struct pframe t = fr[i];
        fr[i] = fr[n - 1 - i];
        fr[n - 1 - i] = t;
    }
    profile_set_frames(p, profile_loc(p, sl->addr), fr, n);
}

int read_raw(struct profile *p, const char *data, size_t len, char *err)
{
    const char *s = data, *e = data + len, *le = line_end(s, e);
    struct symline *sym = NULL;
    size_t nsym = 0, cap = 0;
    int ln = 1;
    for (s = le < e ? le + 1 : e;; s = le < e ? le + 1 : e) {
        if (s >= e) {
            free(sym);
            return bad(err, ln, "symbol section without its closing '---'");
        }
        le = line_end(s, e);
        ln++;
        const char *t = le;
        while (t > s && (t[-1] == '\r' || t[-1] == ' '))
            t--;
        if (t - s >= 3 && memcmp(s, "---", 3) == 0)
            break;
        if (t - s > 2 && s[0] == '0' && s[1] == 'x') {
            char *end;
            uint64_t a = strtoull(s + 2, &end, 16);
            if (end == s + 2 || end >= t || (*end != ' ' && *end != '\t')) {
                free(sym);
                return bad(err, ln, "malformed symbol line");
            }
            while (end < t && (*end == ' ' || *end == '\t'))
                end++;
            GROW(sym, cap, nsym + 1);
            sym[nsym++] = (struct symline){a, end, t};
        }
        /* "binary=..." and other variables: ignored, as said above. */
    }
    /* "--- heap" (or growth), then the profile itself. */
    s = le < e ? le + 1 : e;
    le = line_end(s, e);
    ln++;
    if (le - s >= 4 && memcmp(s, "--- ", 4) == 0) {
        s = le < e ? le + 1 : e;
        ln++;
    }
    int rc;
    size_t rest = (size_t)(e - s);
    if (rest >= 8 && memcmp(s, "heap_v2/", 8) == 0)
        rc = read_heapv2(p, s, rest, err);
    else if (rest >= 13 && memcmp(s, "heap profile:", 13) == 0)
        rc = read_legacy_heap(p, s, rest, err);
    else
        rc = bad(err, ln, "symbolized profile without a heap profile after its symbols");
    for (size_t i = 0; !rc && i < nsym; i++)
        set_names(p, &sym[i]);
    free(sym);
    return rc;
}
