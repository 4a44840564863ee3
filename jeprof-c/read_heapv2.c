/* read_heapv2: jemalloc's heap_v2 text dump (jemalloc 4 and 5, and ours).
 *
 *   heap_v2/<R>
 *     t*: <objs>: <bytes> [<aobjs>: <abytes>]      totals, then one per thread
 *   @ 0x<pc0> 0x<pc1> ...                          one backtrace, leaf first
 *     t*: ... / tN: ...                            its counts, all and per thread
 *   MAPPED_LIBRARIES:
 *   <the process's /proc/pid/maps>
 *
 * Counts are unsampled as jeprof's AdjustSamples does (Poisson rate R), and
 * every frame but the leaf is moved back by one byte into the call
 * instruction (jeprof's FixCallerAddresses). A dump without its
 * MAPPED_LIBRARIES section is reported as truncated. Each mapping keeps
 * its inode and " (deleted)" mark, and the build ID from our dumps'
 * "# build_id" lines, so the symbolizer can refuse a replaced file.
 * (Our dumps write the first address as a call site already, jemalloc's
 * have an allocator frame there: both read right this way.) */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "read.h"
#include "xalloc.h"
#include "strtab.h"

/* The last scale unsample computed, by its inputs: a dump's stacks mostly
 * repeat a few (count, bytes) pairs, and exp() is the costly part. */
struct scale_memo {
    double rate, n, s, scale; /* n == 0: empty */
};

/* Addresses already read, by their text. A dump writes each address in
 * many stacks; comparing its (at most 16) bytes with those of an address
 * seen before is cheaper than parsing the hex and hashing the value.
 * Keyed by the bytes, zero-padded, and by whether the address was a leaf
 * (the others are moved back one byte into their call). */
struct tokkey {
    uint64_t w0, w1; /* the text, zero past len */
    uint32_t len;    /* 1..15 bytes */
    uint32_t leaf;
};
struct tok {
    struct tokkey k;
    uint32_t loc1; /* location index + 1, 0 = empty slot */
};
struct tokcache {
    struct tok *v; /* open addressing, power of two */
    size_t n, used;
};

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* The key of the text at s, which ends at the first byte at or below ' '
 * (a separator, or what ends the line); 0 when fewer than 16 bytes before
 * lim may be read or the text is not 1..15 bytes long. */
static inline int tok_key(struct tokkey *k, const char *s, const char *lim, int leaf)
{
    if (lim - s < 16)
        return 0;
    uint64_t w0, w1;
    memcpy(&w0, s, 8);
    memcpy(&w1, s + 8, 8);
    /* bytes below 0x21: exact up to the first one (bytes >= 0x80 never
     * count, and then fail to parse as hex) */
    uint64_t low0 = (w0 - 0x21 * ONES) & ~w0 & HIGHS;
    uint64_t low1 = (w1 - 0x21 * ONES) & ~w1 & HIGHS;
    unsigned n;
    if (low0) {
        n = (unsigned)__builtin_ctzll(low0) / 8;
        w0 &= n ? ~0ULL >> (64 - 8 * n) : 0;
        w1 = 0;
    } else if (low1) {
        n = 8 + (unsigned)__builtin_ctzll(low1) / 8;
        w1 &= n > 8 ? ~0ULL >> (64 - 8 * (n - 8)) : 0;
    } else {
        return 0;
    }
    if (n == 0)
        return 0;
    k->w0 = w0;
    k->w1 = w1;
    k->len = n;
    k->leaf = (uint32_t)leaf;
    return 1;
}

static inline size_t tok_hash(const struct tokkey *k)
{
    uint64_t x = (k->w0 ^ (k->w1 * 0xff51afd7ed558ccdULL) ^ k->leaf) * 0x9e3779b97f4a7c15ULL;
    return (size_t)(x >> 32);
}

/* The slot of k: its entry, or the empty slot for it. */
static inline struct tok *tok_find(const struct tokcache *c, const struct tokkey *k)
{
    for (size_t i = tok_hash(k) & (c->n - 1);; i = (i + 1) & (c->n - 1)) {
        struct tok *t = &c->v[i];
        if (!t->loc1 || (t->k.w0 == k->w0 && t->k.w1 == k->w1 && t->k.leaf == k->leaf))
            return t;
    }
}

static void tok_add(struct tokcache *c, const struct tokkey *k, uint32_t loc)
{
    if ((c->used + 1) * 2 > c->n) {
        struct tokcache g = {.n = c->n ? c->n * 2 : 1024, .used = c->used};
        g.v = xcalloc(g.n, sizeof(*g.v));
        for (size_t i = 0; i < c->n; i++)
            if (c->v[i].loc1)
                *tok_find(&g, &c->v[i].k) = c->v[i];
        free(c->v);
        *c = g;
    }
    struct tok *t = tok_find(c, k);
    if (!t->loc1) {
        t->k = *k;
        t->loc1 = loc + 1;
        c->used++;
    }
}

/* The parse state for one file. */
struct hv2 {
    struct profile *p;
    const char *cur, *end; /* unread bytes */
    size_t lineno;         /* number of the line last returned */
    double rate;           /* R from the header, 0 = no unsampling */
    uint32_t *stk;         /* location indexes of the current backtrace */
    size_t nstk, capstk;
    int have_stack;    /* an '@' line was seen */
    int64_t stack_off; /* pool offset of the current stack, -1 = not stored */
    char *err;
    int any_inuse, any_accum; /* some count line had non-zero inuse / [accum] pairs */
    struct hints *hints;      /* the maps read ahead, when p->prefetch is set */
    struct scale_memo memo[2]; /* unsample's last inuse and alloc scales */
    struct tokcache toks;      /* addresses already read, by their text */
};

/* Next line as [*b, *e) without the newline; 0 at the end of input. */
static int next_line(struct hv2 *h, const char **b, const char **e)
{
    if (h->cur >= h->end)
        return 0;
    const char *nl = memchr(h->cur, '\n', (size_t)(h->end - h->cur));
    *b = h->cur;
    *e = nl ? nl : h->end;
    h->cur = nl ? nl + 1 : h->end;
    if (*e > *b && (*e)[-1] == '\r')
        (*e)--;
    h->lineno++;
    return 1;
}

static int fail(struct hv2 *h, const char *what)
{
    snprintf(h->err, READ_ERRLEN, "line %zu: %s", h->lineno, what);
    return EINVAL;
}

static const char *skip_ws(const char *s, const char *e)
{
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    return s;
}

/* Parses a decimal u64; returns the end or NULL. */
static const char *parse_u64(const char *s, const char *e, uint64_t *out)
{
    uint64_t v = 0;
    const char *b = s;
    while (s < e && *s >= '0' && *s <= '9') {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return NULL;
        v = v * 10 + d;
        s++;
    }
    if (s == b)
        return NULL;
    *out = v;
    return s;
}

/* Parses "0x<hex>" or "<hex>"; returns the end or NULL. */
static const char *parse_hex(const char *s, const char *e, uint64_t *out)
{
    if (e - s >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    /* Digit value + 1, 0 for anything that is not a hex digit (one test
     * per character: this loop reads every address of the dump). */
    static const unsigned char hexval1[256] = {
        ['0'] = 1,   ['1'] = 2,   ['2'] = 3,   ['3'] = 4,   ['4'] = 5,   ['5'] = 6,
        ['6'] = 7,   ['7'] = 8,   ['8'] = 9,   ['9'] = 10,  ['a'] = 11,  ['b'] = 12,
        ['c'] = 13,  ['d'] = 14,  ['e'] = 15,  ['f'] = 16,  ['A'] = 11,  ['B'] = 12,
        ['C'] = 13,  ['D'] = 14,  ['E'] = 15,  ['F'] = 16,
    };
    uint64_t v = 0;
    const char *b = s;
    while (s < e) {
        unsigned d = hexval1[(unsigned char)*s];
        if (!d)
            break;
        if (s - b >= 16)
            return NULL;
        v = v << 4 | (d - 1);
        s++;
    }
    if (s == b)
        return NULL;
    *out = v;
    return s;
}

/* jeprof's AdjustSamples for heap_v2: scale a (count, bytes) pair. */
static void unsample(double rate, double *n, double *s, struct scale_memo *m)
{
    if (rate == 0 || *n == 0 || *s == 0)
        return; /* (jeprof would divide by zero on a count without bytes) */
    if (m->n != *n || m->s != *s || m->rate != rate) {
        double ratio = (*s * 1.0 / *n) / rate;
        m->scale = unsample_scale(ratio);
        m->rate = rate;
        m->n = *n;
        m->s = *s;
    }
    *n *= m->scale;
    *s *= m->scale;
}

struct hints;
static void hints_use(struct hints *hs, struct profile *p, uint64_t addr);

/* "@ 0x.. 0x.." */
static int parse_stack(struct hv2 *h, const char *s, const char *e)
{
    h->nstk = 0;
    h->have_stack = 1;
    h->stack_off = -1;
    s++;
    for (;;) {
        s = skip_ws(s, e);
        if (s >= e)
            break;
        GROW(h->stk, h->capstk, h->nstk + 1);
        /* An address read before, by its text (see tokcache) */
        struct tokkey k;
        int keyed = tok_key(&k, s, h->end, h->nstk == 0);
        if (keyed) {
            const struct tok *c = tok_find(&h->toks, &k);
            if (c->loc1 && (s[k.len] == ' ' || s[k.len] == '\t' || s + k.len == e)) {
                h->stk[h->nstk++] = c->loc1 - 1;
                s += k.len;
                continue;
            }
        }
        uint64_t pc;
        const char *t = parse_hex(s, e, &pc);
        if (!t || (t < e && *t != ' ' && *t != '\t'))
            return fail(h, "malformed backtrace address");
        if (h->nstk > 0)
            pc -= 1; /* a return address: point into the call */
        size_t had = h->p->nlocs;
        uint32_t li = profile_loc(h->p, pc);
        h->stk[h->nstk++] = li;
        if (h->hints && h->p->nlocs != had)
            hints_use(h->hints, h->p, pc);
        if (keyed && t == s + k.len)
            tok_add(&h->toks, &k, li);
        s = t;
    }
    return 0;
}

/* "t*: n: s [n: s]" or "tN: ..." (header lines may end in a thread name). */
static int parse_counts(struct hv2 *h, const char *s, const char *e)
{
    int32_t thread = THREAD_ALL;
    uint64_t c[4];
    s++; /* 't' */
    if (s < e && *s == '*') {
        s++;
    } else {
        uint64_t t;
        s = parse_u64(s, e, &t);
        if (!s || t > INT32_MAX)
            return fail(h, "malformed thread id");
        thread = (int32_t)t;
    }
    static const char seps[4] = {':', ':', '[', ':'};
    for (int i = 0; i < 4; i++) {
        if (s >= e || *s != seps[i])
            return fail(h, "malformed counts");
        s = skip_ws(s + 1, e);
        s = parse_u64(s, e, &c[i]);
        if (!s)
            return fail(h, "malformed count");
        s = skip_ws(s, e);
    }
    if (s >= e || *s != ']')
        return fail(h, "malformed counts");
    s = skip_ws(s + 1, e);
    h->any_inuse |= c[0] || c[1];
    h->any_accum |= c[2] || c[3];
    if (!h->have_stack)
        return 0; /* per-thread summary in the header (may carry a name) */
    if (s != e)
        return fail(h, "trailing text after counts");
    if (thread != THREAD_ALL) {
        h->p->has_threads = 1;
        if (!h->p->keep_threads)
            return 0; /* only --thread reads them: save the memory (and the unsampling) */
    }
    double v[PV_N];
    v[PV_INUSE_OBJECTS] = (double)c[0];
    v[PV_INUSE_SPACE] = (double)c[1];
    v[PV_ALLOC_OBJECTS] = (double)c[2];
    v[PV_ALLOC_SPACE] = (double)c[3];
    unsample(h->rate, &v[PV_INUSE_OBJECTS], &v[PV_INUSE_SPACE], &h->memo[0]);
    unsample(h->rate, &v[PV_ALLOC_OBJECTS], &v[PV_ALLOC_SPACE], &h->memo[1]);
    if (h->stack_off < 0)
        h->stack_off = profile_stack(h->p, h->stk, h->nstk);
    profile_add_sample(h->p, (uint32_t)h->stack_off, (uint32_t)h->nstk, thread, v);
    return 0;
}

/* One line of the maps section, as parsed. */
struct mapline {
    uint64_t start, limit, off;
    uint64_t dmaj, dmin, ino; /* device (hex) and inode (decimal), 0 unknown */
    const char *path;         /* [path, path + pathlen): the file, " (deleted)" cut */
    size_t pathlen;
    int deleted;
};

/* Parses one /proc/pid/maps line; 1 when it is an executable mapping. */
static int parse_map_line(const char *s, const char *e, struct mapline *m)
{
    s = skip_ws(s, e);
    s = parse_hex(s, e, &m->start);
    if (!s || s >= e || *s != '-')
        return 0;
    s = parse_hex(s + 1, e, &m->limit);
    if (!s || s >= e || *s != ' ')
        return 0;
    s = skip_ws(s, e);
    if (e - s < 4 || s[2] != 'x')
        return 0;
    s = skip_ws(s + 4, e);
    s = parse_hex(s, e, &m->off);
    if (!s)
        return 0;
    /* device "major:minor" (hex) and inode (decimal) */
    m->dmaj = m->dmin = m->ino = 0;
    s = skip_ws(s, e);
    const char *t = parse_hex(s, e, &m->dmaj);
    if (!t || t >= e || *t != ':' || !(t = parse_hex(t + 1, e, &m->dmin)))
        m->dmaj = m->dmin = 0;
    while (s < e && *s != ' ' && *s != '\t')
        s++;
    s = skip_ws(s, e);
    if (!parse_u64(s, e, &m->ino))
        m->ino = 0;
    while (s < e && *s != ' ' && *s != '\t')
        s++;
    s = skip_ws(s, e);
    size_t n = (size_t)(e - s);
    static const char del[] = " (deleted)";
    m->deleted = 0;
    if (n >= sizeof(del) - 1 && memcmp(e - (sizeof(del) - 1), del, sizeof(del) - 1) == 0) {
        n -= sizeof(del) - 1;
        m->deleted = 1;
    }
    m->path = s;
    m->pathlen = n;
    return m->limit > m->start;
}

/* One /proc/pid/maps line; only executable mappings are kept. */
static void parse_map(struct hv2 *h, const char *s, const char *e)
{
    struct mapline ml;
    if (!parse_map_line(s, e, &ml))
        return;
    char *path = xstrndup(ml.path, ml.pathlen);
    size_t mi = profile_add_map(h->p, ml.start, ml.limit, ml.off, path, NULL);
    free(path);
    struct pmap *m = &h->p->maps[mi];
    m->inode = ml.ino;
    m->dev_major = (uint32_t)ml.dmaj;
    m->dev_minor = (uint32_t)ml.dmin;
    m->deleted = (uint8_t)ml.deleted;
}

/* "# build_id 0x<address> <hex>" (our dumps, after the maps): 1 with the
 * address and the hex digits [*hb, *he) when the line is that. */
static int parse_build_id_line(const char *s, const char *e, uint64_t *addr, const char **hb,
                               const char **he)
{
    static const char tag[] = "# build_id ";
    if ((size_t)(e - s) < sizeof(tag) - 1 || memcmp(s, tag, sizeof(tag) - 1) != 0)
        return 0;
    s = parse_hex(s + sizeof(tag) - 1, e, addr);
    if (!s || s >= e || *s != ' ')
        return 0;
    s++;
    const char *b = s;
    while (s < e && ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
        s++;
    if (s == b || s != e || s - b > 128)
        return 0;
    *hb = b;
    *he = s;
    return 1;
}

/* "# build_id 0x<address> <hex>": the build ID of the code that ran at
 * address, for the mappings of this input that hold it. 1 if s..e is such
 * a line. */
static int parse_build_id(struct hv2 *h, const char *s, const char *e, size_t first_map)
{
    uint64_t addr;
    const char *b;
    if (!parse_build_id_line(s, e, &addr, &b, &s))
        return 0;
    char *hex = xstrndup(b, (size_t)(s - b));
    for (size_t i = first_map; i < h->p->nmaps; i++) {
        struct pmap *m = &h->p->maps[i];
        if (addr >= m->start && addr < m->limit)
            m->build_id = strtab_intern(&h->p->strings, hex);
    }
    free(hex);
    return 1;
}

/* For profile.prefetch: the maps section read ahead of the stacks (it
 * ends the file), so each mapping can be announced when the first address
 * in it is read. Only a hint: the model's mappings are read in order,
 * after the stacks, by parse_map. */
struct hint {
    uint64_t start, limit;
    char *path, *build_id; /* build_id "" unknown */
    int deleted, sent;
};
struct hints {
    struct hint *v; /* sorted by start */
    size_t n;
};

static int cmp_hint(const void *a, const void *b)
{
    const struct hint *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Finds the maps section from the end (it is the file's tail: a window of
 * 64 KiB is enough for all but huge processes) and reads it into hints. */
static void hints_read(struct hints *hs, const char *data, size_t len)
{
    static const char *const heads[] = {"\nMAPPED_LIBRARIES:", "\n--- Memory map:"};
    const char *sec = NULL;
    memset(hs, 0, sizeof(*hs));
    for (size_t w = 65536; !sec; w *= 16) {
        size_t from = len > w ? len - w : 0;
        for (int k = 0; k < 2 && !sec; k++) {
            const char *hit = memmem(data + from, len - from, heads[k], strlen(heads[k]));
            if (hit)
                sec = memchr(hit + 1, '\n', (size_t)(data + len - (hit + 1)));
        }
        if (from == 0)
            break;
    }
    if (!sec)
        return;
    size_t cap = 0;
    const char *end = data + len;
    for (const char *b = sec + 1; b < end;) {
        const char *nl = memchr(b, '\n', (size_t)(end - b));
        const char *e = nl ? nl : end;
        struct mapline ml;
        uint64_t addr;
        const char *hb, *he;
        if (b < e && *b == '#') {
            if (parse_build_id_line(b, e, &addr, &hb, &he))
                for (size_t i = 0; i < hs->n; i++)
                    if (addr >= hs->v[i].start && addr < hs->v[i].limit) {
                        free(hs->v[i].build_id);
                        hs->v[i].build_id = xstrndup(hb, (size_t)(he - hb));
                    }
        } else if (parse_map_line(b, e, &ml)) {
            GROW(hs->v, cap, hs->n + 1);
            struct hint *t = &hs->v[hs->n++];
            memset(t, 0, sizeof(*t));
            t->start = ml.start;
            t->limit = ml.limit;
            t->path = xstrndup(ml.path, ml.pathlen);
            t->build_id = xstrdup("");
            t->deleted = ml.deleted;
        }
        b = e + 1;
    }
    if (hs->n)
        qsort(hs->v, hs->n, sizeof(*hs->v), cmp_hint);
}

/* A new address was read: announce its mapping, the first time. */
static void hints_use(struct hints *hs, struct profile *p, uint64_t addr)
{
    size_t lo = 0, hi = hs->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (hs->v[mid].start <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return;
    struct hint *t = &hs->v[lo - 1];
    if (addr < t->limit && !t->sent) {
        t->sent = 1;
        p->prefetch(t->path, t->build_id, t->deleted);
    }
}

static void hints_free(struct hints *hs)
{
    for (size_t i = 0; i < hs->n; i++) {
        free(hs->v[i].path);
        free(hs->v[i].build_id);
    }
    free(hs->v);
}

/* "# <tag> <decimal>": the value (0 when it is 0 or out of range), or -1
 * when the line is not that. */
static int64_t parse_tagged_time(const char *tag, const char *s, const char *e)
{
    size_t n = strlen(tag);
    uint64_t t;
    if ((size_t)(e - s) < n || memcmp(s, tag, n) != 0)
        return -1;
    s = parse_u64(s + n, e, &t);
    if (!s || skip_ws(s, e) != e)
        return -1;
    return t <= INT64_MAX ? (int64_t)t : 0;
}

/* "# time_ns <decimal>" (our dumps, last line): when the dump was taken;
 * "# peak_time_ns <decimal>" (our peak dumps): a peak-heap snapshot, taken
 * then. 1 if s..e is a "# time_ns" line. */
static int parse_time(struct hv2 *h, const char *s, const char *e)
{
    int64_t t = parse_tagged_time("# time_ns ", s, e), pt;
    if (t > 0)
        h->p->time_ns = t;
    pt = parse_tagged_time("# peak_time_ns ", s, e);
    if (pt >= 0) {
        h->p->is_peak = 1;
        h->p->peak_time_ns = pt;
    }
    return t >= 0;
}

int read_heapv2(struct profile *p, const char *data, size_t len, char *err)
{
    struct hv2 h = {.p = p, .cur = data, .end = data + len, .err = err, .stack_off = -1};
    const char *b, *e;
    int rc = 0, maps = 0;
    uint64_t r;
    struct hints hs = {0};

    if (!next_line(&h, &b, &e) || e - b < 8 || memcmp(b, "heap_v2/", 8) != 0)
        return fail(&h, "not a heap_v2 header");
    const char *t = parse_u64(b + 8, e, &r);
    if (!t || skip_ws(t, e) != e)
        return fail(&h, "malformed heap_v2 sampling rate");
    h.toks.n = 1024;
    h.toks.v = xcalloc(h.toks.n, sizeof(*h.toks.v));
    if (p->prefetch) {
        hints_read(&hs, data, len);
        h.hints = &hs;
    }
    h.rate = (double)r;
    if (!p->period)
        p->period = r;
    while (next_line(&h, &b, &e)) {
        const char *s = skip_ws(b, e);
        if (s == e)
            continue;
        if (*s == '@') {
            rc = parse_stack(&h, s, e);
        } else if (*s == 't') {
            rc = parse_counts(&h, s, e);
        } else if ((size_t)(e - s) >= 17 && memcmp(s, "MAPPED_LIBRARIES:", 17) == 0) {
            maps = 1;
            break;
        } else if ((size_t)(e - s) >= 14 && memcmp(s, "--- Memory map:", 14) == 0) {
            maps = 1;
            break;
        } else {
            rc = fail(&h, "unrecognized line");
        }
        if (rc)
            goto out;
    }
    if (!maps) {
        snprintf(err, READ_ERRLEN, "truncated heap_v2 profile (no MAPPED_LIBRARIES section)");
        rc = EINVAL;
        goto out;
    }
    /* jemalloc ends every dump with a newline: a cut file does not. */
    if (len > 0 && data[len - 1] != '\n') {
        snprintf(err, READ_ERRLEN, "truncated heap_v2 profile (last line incomplete)");
        rc = EINVAL;
        goto out;
    }
    size_t first_map = p->nmaps;
    int ours = 0, last_time = 0; /* "# build_id" lines seen; the last line is "# time_ns" */
    while (next_line(&h, &b, &e)) {
        if (b < e)
            last_time = 0;
        if (b < e && *b == '#') {
            ours |= parse_build_id(&h, b, e, first_map);
            last_time = parse_time(&h, b, e);
        } else if (b < e) {
            parse_map(&h, b, e);
        }
    }
    /* Our dumps (those with "# build_id" lines) end with "# time_ns": one
     * cut at a line boundary inside its maps section loses mappings, and
     * frames there would show as raw addresses without a word. (Dumps of
     * before '# time_ns' get this warning too.) */
    if (ours && !last_time)
        p->cut_warning = "the dump has no closing '# time_ns' line: its maps section may be "
                         "cut short (frames in missing mappings show as raw addresses)";
    /* Without prof_accum every [a: b] pair is written as [0: 0]; with it,
     * a site's cumulative counts are never below its live ones. */
    if (!h.any_accum && h.any_inuse)
        p->no_accum = "run with prof_accum:true";
out:
    free(h.stk);
    free(h.toks.v);
    hints_free(&hs);
    return rc;
}

int read_maps(struct profile *p, const char *data, size_t len, char *err)
{
    struct hv2 h = {.p = p, .cur = data, .end = data + len, .err = err};
    const char *b, *e;
    size_t first = p->nmaps;
    const char *sec = memmem(data, len, "MAPPED_LIBRARIES:\n", 18);
    if (sec)
        h.cur = sec + 18;
    while (next_line(&h, &b, &e)) {
        if (b < e && *b == '#')
            parse_build_id(&h, b, e, first);
        else
            parse_map(&h, b, e);
    }
    if (p->nmaps == first) {
        snprintf(err, READ_ERRLEN, "no executable mappings found");
        return EINVAL;
    }
    profile_assign_maps(p, first);
    return 0;
}
