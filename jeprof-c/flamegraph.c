/*
 * flamegraph: stacks -> merged call tree -> self-contained interactive SVG.
 *
 * The tree is built by sorting the stacks frame by frame and walking them in
 * order: consecutive stacks share their longest common prefix, so identical
 * prefixes merge and each node's children come out sorted by name, in
 * pre-order. Geometry and the embedded script follow
 * shared/specs/pprof-and-flamegraph.md §3 (the layout flamegraph.pl users
 * know); the code and the script are our own.
 */
#include "flamegraph.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* clang-format off */
enum {
    FG_XPAD        = 10,  /* left and right margin, px */
    FG_FONTSIZE    = 12,  /* frame label size, px */
    FG_FRAMEHEIGHT = 16,  /* height of one stack level, px */
    FG_YPAD1       = 3 * FG_FONTSIZE,       /* space above the frames (title) */
    FG_YPAD2       = 2 * FG_FONTSIZE + 10,  /* space below (details, matched) */
    FG_WIDTH       = 1200,
    FG_SUBTITLE    = 16,  /* extra space above the frames for a subtitle */
};
/* clang-format on */
static const double fg_minwidth = 0.1;  /* px; narrower frames are dropped */
static const double fg_charwidth = 0.59 * FG_FONTSIZE; /* estimated glyph width */

/* One merged frame of the call tree. */
struct fg_node {
    const char *name; /* function name (borrowed from the caller's stacks) */
    uint64_t value;   /* sum of the values of the stacks through this frame */
    uint64_t base;    /* diff: the same sum over the base values */
    uint64_t start;   /* offset of the frame's left edge, in value units */
    uint64_t next;    /* offset where the next child of this frame starts */
    size_t parent;    /* index of the caller frame; the root is its own parent */
    uint32_t depth;   /* 0 for the root ("all") */
};

/* A growable array of nodes. */
struct fg_tree {
    struct fg_node *v; /* nodes in pre-order, v[0] is the root */
    size_t n;          /* nodes in use */
    size_t cap;        /* nodes allocated */
};

/* A stack to sort: its names replaced by their ranks in strcmp order
 * (equal names share a rank), so the sort compares small integers in one
 * array instead of chasing and comparing strings. */
struct fg_key {
    const struct fg_stack *s; /* the stack */
    const uint32_t *rank;     /* s->nframes ranks, root first */
};

static int fg_cmp_key(const void *pa, const void *pb)
{
    const struct fg_key *a = pa, *b = pb;
    size_t n = a->s->nframes < b->s->nframes ? a->s->nframes : b->s->nframes;
    for (size_t i = 0; i < n; i++)
        if (a->rank[i] != b->rank[i])
            return a->rank[i] < b->rank[i] ? -1 : 1;
    return (a->s->nframes > b->s->nframes) - (a->s->nframes < b->s->nframes);
}

/* The distinct name pointers met, for ranking (open addressing). */
struct fg_names {
    const char **ptr; /* slot -> name pointer, NULL = empty */
    uint32_t *idx;    /* slot -> index into uniq */
    size_t nslots;    /* power of two */
    const char **uniq; /* distinct pointers in order of first use */
    size_t n, cap;
};

static size_t fg_ptr_slot(const struct fg_names *t, const char *p)
{
    uint64_t h = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ull;
    size_t i = (size_t)(h >> 20) & (t->nslots - 1);
    while (t->ptr[i] && t->ptr[i] != p)
        i = (i + 1) & (t->nslots - 1);
    return i;
}

/* Index of p in t->uniq, added when new; UINT32_MAX when out of memory. */
static uint32_t fg_name_index(struct fg_names *t, const char *p)
{
    size_t i = fg_ptr_slot(t, p);
    if (t->ptr[i])
        return t->idx[i];
    if ((t->n + 1) * 2 > t->nslots) { /* keep the load at most one half */
        struct fg_names g = {.nslots = t->nslots * 2};
        g.ptr = calloc(g.nslots, sizeof(*g.ptr));
        g.idx = malloc(g.nslots * sizeof(*g.idx));
        if (!g.ptr || !g.idx) {
            free(g.ptr);
            free(g.idx);
            return UINT32_MAX;
        }
        for (size_t k = 0; k < t->n; k++) {
            size_t j = fg_ptr_slot(&g, t->uniq[k]);
            g.ptr[j] = t->uniq[k];
            g.idx[j] = (uint32_t)k;
        }
        free(t->ptr);
        free(t->idx);
        t->ptr = g.ptr;
        t->idx = g.idx;
        t->nslots = g.nslots;
        i = fg_ptr_slot(t, p);
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        const char **u = realloc(t->uniq, cap * sizeof(*u));
        if (!u)
            return UINT32_MAX;
        t->uniq = u;
        t->cap = cap;
    }
    t->ptr[i] = p;
    t->idx[i] = (uint32_t)t->n;
    t->uniq[t->n] = p;
    return (uint32_t)t->n++;
}

static int fg_cmp_strp(const void *a, const void *b)
{
    return strcmp(**(const char *const *const *)a, **(const char *const *const *)b);
}

/* Sorts the n stacks of keys (s set) as strcmp frame by frame would, a
 * shorter stack before the longer one it starts. Fills the keys' ranks
 * from *pool (allocated here, nframes_total entries). 0 or ENOMEM. */
static int fg_sort_stacks(struct fg_key *keys, size_t n, size_t nframes_total, size_t maxframes,
                          uint32_t **pool)
{
    struct fg_names t = {.nslots = 1024};
    const char ***order = NULL;
    uint32_t *rank_of = NULL;
    int err = ENOMEM;
    /* The last name met at each depth: stacks share their roots, so most
     * shallow frames are found without hashing. */
    const char **lastp = calloc(maxframes + 1, sizeof(*lastp));
    uint32_t *lastk = malloc((maxframes + 1) * sizeof(*lastk));
    *pool = malloc((nframes_total ? nframes_total : 1) * sizeof(**pool));
    t.ptr = calloc(t.nslots, sizeof(*t.ptr));
    t.idx = malloc(t.nslots * sizeof(*t.idx));
    if (!*pool || !t.ptr || !t.idx || !lastp || !lastk)
        goto out;
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        keys[i].rank = *pool + off;
        for (size_t d = 0; d < keys[i].s->nframes; d++) {
            const char *name = keys[i].s->frames[d];
            uint32_t k = name == lastp[d] ? lastk[d] : fg_name_index(&t, name);
            if (k == UINT32_MAX)
                goto out;
            lastp[d] = name;
            lastk[d] = k;
            (*pool)[off++] = k;
        }
    }
    /* Rank the distinct pointers by their strings; equal strings, one rank. */
    order = malloc((t.n ? t.n : 1) * sizeof(*order));
    rank_of = malloc((t.n ? t.n : 1) * sizeof(*rank_of));
    if (!order || !rank_of)
        goto out;
    for (size_t k = 0; k < t.n; k++)
        order[k] = &t.uniq[k];
    qsort(order, t.n, sizeof(*order), fg_cmp_strp);
    uint32_t r = 0;
    for (size_t k = 0; k < t.n; k++) {
        if (k > 0 && strcmp(*order[k - 1], *order[k]) != 0)
            r++;
        rank_of[order[k] - t.uniq] = r;
    }
    for (size_t j = 0; j < off; j++)
        (*pool)[j] = rank_of[(*pool)[j]];
    qsort(keys, n, sizeof(*keys), fg_cmp_key);
    err = 0;
out:
    free(lastp);
    free(lastk);
    free(order);
    free(rank_of);
    free(t.ptr);
    free(t.idx);
    free(t.uniq);
    return err;
}

static int fg_tree_push(struct fg_tree *t, const char *name, size_t parent, uint32_t depth)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        struct fg_node *v = realloc(t->v, cap * sizeof(*v));
        if (!v)
            return ENOMEM;
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n++] = (struct fg_node){.name = name, .parent = parent, .depth = depth};
    return 0;
}

/* Merges the sorted stacks into t; path has room for maxframes+1 entries. */
static int fg_tree_build(struct fg_tree *t, const struct fg_key *sorted, size_t n, size_t *path)
{
    int err = fg_tree_push(t, "all", 0, 0);
    if (err)
        return err;
    path[0] = 0;
    const struct fg_key *prev = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct fg_stack *s = sorted[i].s;
        size_t common = 0;
        if (prev) {
            size_t m = prev->s->nframes < s->nframes ? prev->s->nframes : s->nframes;
            while (common < m && prev->rank[common] == sorted[i].rank[common])
                common++;
        }
        for (size_t d = common; d < s->nframes; d++) {
            if ((err = fg_tree_push(t, s->frames[d], path[d], (uint32_t)(d + 1))))
                return err;
            path[d + 1] = t->n - 1;
        }
        /* The value goes to the stack's last frame; sums move rootward below. */
        t->v[path[s->nframes]].value += s->value;
        t->v[path[s->nframes]].base += s->base;
        prev = &sorted[i];
    }
    /* Each frame's value is its own plus its callees': a child comes after
     * its parent, so one backward pass adds every subtree into its parent. */
    for (size_t i = t->n; i-- > 1;) {
        t->v[t->v[i].parent].value += t->v[i].value;
        t->v[t->v[i].parent].base += t->v[i].base;
    }
    /* Pre-order: a parent is placed before its children, in name order. */
    for (size_t i = 1; i < t->n; i++) {
        struct fg_node *p = &t->v[t->v[i].parent];
        t->v[i].start = p->next;
        t->v[i].next = p->next;
        p->next += t->v[i].value;
    }
    return 0;
}

/* Decodes one UTF-8 sequence at s; returns its length, or 0 if invalid. */
static size_t fg_utf8_seq(const unsigned char *s)
{
    unsigned c = s[0];
    size_t len;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
        return 0;
    return len;
}

/* Number of characters of s as written (an invalid byte counts as one). */
static size_t fg_charcount(const char *s)
{
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t l = fg_utf8_seq(p);
        p += l ? l : 1;
        n++;
    }
    return n;
}

/*
 * Writes at most maxchars characters of s as XML character data: markup
 * characters become entities, control characters and invalid UTF-8 become
 * '?', so the document stays well-formed whatever the symbolizer produced.
 */
void flamegraph_put_xml(FILE *out, const char *s, size_t maxchars)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t n = 0; *p && n < maxchars; n++) {
        size_t l = fg_utf8_seq(p);
        if (l > 1) {
            fwrite(p, 1, l, out);
            p += l;
            continue;
        }
        unsigned c = *p++;
        switch (l ? c : 0) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&apos;", out); break;
        default:
            putc(l == 0 || (c < 0x20 && c != '\t') || c == 0x7f ? '?' : (int)c, out);
        }
    }
}

/* Writes the label that fits in w px: the name, or its start and "..". */
static void fg_put_label(FILE *out, const char *name, double w)
{
    size_t fit = (size_t)(w / fg_charwidth);
    if (fit < 3)
        return;
    if (fg_charcount(name) <= fit) {
        flamegraph_put_xml(out, name, SIZE_MAX);
    } else {
        flamegraph_put_xml(out, name, fit - 2);
        fputs("..", out);
    }
}

/* Formats v with thousands separators into buf (at least 27 bytes). */
static const char *fg_thousands(uint64_t v, char *buf)
{
    char digits[21];
    int n = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)v);
    char *o = buf;
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            *o++ = ',';
        *o++ = digits[i];
    }
    *o = '\0';
    return buf;
}

/* Memory palette: green to blue, fixed per name so a function keeps its colour. */
static void fg_colour(const char *name, int rgb[3])
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    h ^= h >> 29;
    double v1 = (double)(h & 0xffff) / 65535.0;
    double v2 = (double)((h >> 16) & 0xffff) / 65535.0;
    rgb[0] = 0;
    rgb[1] = 190 + (int)(50.0 * v2);
    rgb[2] = (int)(210.0 * v1);
}

/* Differential palette: red for growth, blue for shrinkage, by the change
 * relative to the larger of the two values; grey when unchanged. */
static void fg_diff_colour(uint64_t now, uint64_t old, int rgb[3])
{
    if (now == old) {
        rgb[0] = rgb[1] = rgb[2] = 225;
        return;
    }
    double hi = (double)(now > old ? now : old);
    double rel = ((double)(now > old ? now - old : old - now)) / hi;
    int c = (int)(215.0 * (1.0 - rel) + 0.5);
    if (now > old) {
        rgb[0] = 255;
        rgb[1] = rgb[2] = c;
    } else {
        rgb[0] = rgb[1] = c;
        rgb[2] = 255;
    }
}

static const char fg_css[] =
    "text { font-family: Verdana, 'DejaVu Sans', sans-serif; font-size: 12px; fill: rgb(0,0,0); }\n"
    "#title { text-anchor: middle; font-size: 17px; }\n"
    "#search, #ignorecase { opacity: 0.1; cursor: pointer; }\n"
    "#search:hover, #search.show, #ignorecase:hover, #ignorecase.show { opacity: 1; }\n"
    "#unzoom { cursor: pointer; }\n"
    "#frames > *:hover { stroke: rgb(0,0,0); stroke-width: 0.5; cursor: pointer; }\n"
    "#empty { text-anchor: middle; font-size: 14px; fill: rgb(80,80,80); }\n"
    ".hide { display: none; }\n"
    ".parent { opacity: 0.5; }\n";

/*
 * The viewer. Frames are read back from the DOM once; the layout keeps the
 * original geometry in fx/fw and recomputes it on zoom. Depth is the rect's
 * y (smaller y = deeper, the root is at the bottom). Frame i's subtree is
 * every deeper frame whose centre lies inside frame i.
 */
static const char fg_script[] =
    "\"use strict\";\n"
    "var fg = { frames: [], width: 0, pad: 10, charw: 12 * 0.59, zoomed: -1,\n"
    "  re: null, ic: false, hilite: 'rgb(230,0,230)', total: 0 };\n"
    "function fg_el(id) { return document.getElementById(id); }\n"
    "function fg_text(id, s) { var e = fg_el(id); if (e) e.textContent = s; }\n"
    "function fg_cls(e, c) { if (c) e.setAttribute('class', c); else e.removeAttribute('class'); }\n"
    "function init(evt) {\n"
    "  fg.width = parseFloat(document.documentElement.getAttribute('width'));\n"
    "  var root = fg_el('frames'), gs = root ? root.children : [], i;\n"
    "  var re = /^([\\s\\S]*) \\((?:new )?([0-9,]+) [^,]*, [0-9.]+%(?:; [^()]*)?\\)$/;\n"
    "  for (i = 0; i < gs.length; i++) {\n"
    "    var g = gs[i], t = g.getElementsByTagName('title')[0].textContent;\n"
    "    var r = g.getElementsByTagName('rect')[0], tx = g.getElementsByTagName('text')[0];\n"
    "    var m = re.exec(t);\n"
    "    var f = { g: g, rect: r, text: tx, title: t, name: m ? m[1] : t,\n"
    "      value: m ? Number(m[2].replace(/,/g, '')) : 0,\n"
    "      x: parseFloat(r.getAttribute('x')), w: parseFloat(r.getAttribute('width')),\n"
    "      y: parseFloat(r.getAttribute('y')), fill: r.getAttribute('fill'), label: tx.textContent };\n"
    "    g.fg_index = i;\n"
    "    if (f.value > fg.total) fg.total = f.value;\n"
    "    fg.frames.push(f);\n"
    "  }\n"
    "  if (root) {\n"
    "    root.addEventListener('mouseover', function (e) {\n"
    "      var f = fg_frame_of(e.target); if (f) fg_text('details', 'Function: ' + f.title); });\n"
    "    root.addEventListener('mouseout', function (e) { fg_text('details', ' '); });\n"
    "    root.addEventListener('click', function (e) {\n"
    "      var f = fg_frame_of(e.target); if (f) fg_zoom(f.g.fg_index); });\n"
    "  }\n"
    "  fg_el('unzoom').addEventListener('click', function () { fg_unzoom(); });\n"
    "  fg_el('search').addEventListener('click', function () {\n"
    "    if (fg.re) fg_reset_search(); else fg_prompt(); });\n"
    "  fg_el('ignorecase').addEventListener('click', function () { fg_toggle_case(); });\n"
    "  window.addEventListener('keydown', function (e) {\n"
    "    var k = (e.key || '').toLowerCase();\n"
    "    if (e.key === 'F3' || (e.ctrlKey && k === 'f')) { e.preventDefault(); fg_prompt(); }\n"
    "    else if (e.ctrlKey && k === 'i') { e.preventDefault(); fg_toggle_case(); }\n"
    "  });\n"
    "  window.fg_search = fg_search; window.fg_reset_search = fg_reset_search;\n"
    "  window.fg_zoom = fg_zoom; window.fg_unzoom = fg_unzoom;\n"
    "  window.fg_matched = fg_matched; window.fg_toggle_case = fg_toggle_case;\n"
    "}\n"
    "function fg_frame_of(e) {\n"
    "  var root = fg_el('frames');\n"
    "  while (e && e.parentNode !== root) e = e.parentNode;\n"
    "  return e && typeof e.fg_index === 'number' ? fg.frames[e.fg_index] : null;\n"
    "}\n"
    "function fg_fit(f, w) {\n"
    "  var n = Math.floor(w / fg.charw), s = f.name;\n"
    "  if (n < 3) s = ''; else if (s.length > n) s = s.slice(0, n - 2) + '..';\n"
    "  f.text.textContent = s;\n"
    "}\n"
    "function fg_place(f, x, w) {\n"
    "  f.rect.setAttribute('x', x.toFixed(2)); f.rect.setAttribute('width', w.toFixed(2));\n"
    "  f.text.setAttribute('x', (x + 3).toFixed(2));\n"
    "  fg_fit(f, w);\n"
    "}\n"
    "function fg_zoom(i) {\n"
    "  var z = fg.frames[i]; if (!z) return;\n"
    "  var span = fg.width - 2 * fg.pad, ratio = span / z.w, mid = z.x + z.w / 2, j;\n"
    "  for (j = 0; j < fg.frames.length; j++) {\n"
    "    var f = fg.frames[j], c = f.x + f.w / 2;\n"
    "    if (f.y > z.y && mid >= f.x && mid <= f.x + f.w) {\n"
    "      fg_cls(f.g, 'parent'); fg_place(f, fg.pad, span);\n"
    "    } else if (f.y <= z.y && c >= z.x && c <= z.x + z.w) {\n"
    "      fg_cls(f.g, null); fg_place(f, (f.x - z.x) * ratio + fg.pad, f.w * ratio);\n"
    "    } else {\n"
    "      fg_cls(f.g, 'hide');\n"
    "    }\n"
    "  }\n"
    "  fg.zoomed = i;\n"
    "  fg_cls(fg_el('unzoom'), null);\n"
    "}\n"
    "function fg_unzoom() {\n"
    "  for (var j = 0; j < fg.frames.length; j++) {\n"
    "    var f = fg.frames[j];\n"
    "    fg_cls(f.g, null);\n"
    "    f.rect.setAttribute('x', f.x.toFixed(2)); f.rect.setAttribute('width', f.w.toFixed(2));\n"
    "    f.text.setAttribute('x', (f.x + 3).toFixed(2)); f.text.textContent = f.label;\n"
    "  }\n"
    "  fg.zoomed = -1;\n"
    "  fg_cls(fg_el('unzoom'), 'hide');\n"
    "}\n"
    "function fg_search(term) {\n"
    "  var rx;\n"
    "  try { rx = term instanceof RegExp ? term : new RegExp(term, fg.ic ? 'i' : ''); }\n"
    "  catch (err) { fg_text('matched', 'Invalid regular expression'); return -1; }\n"
    "  fg.re = rx.source;\n"
    "  var hits = 0, sum = 0, end = -1, j;\n"
    "  for (j = 0; j < fg.frames.length; j++) {\n"
    "    var f = fg.frames[j];\n"
    "    if (rx.test(f.name)) {\n"
    "      f.rect.setAttribute('fill', fg.hilite); hits++;\n"
    "      /* pre-order: a hit nested in an earlier hit is not counted twice */\n"
    "      if (f.x + f.w / 2 > end) { sum += f.value; end = f.x + f.w; }\n"
    "    } else {\n"
    "      f.rect.setAttribute('fill', f.fill);\n"
    "    }\n"
    "  }\n"
    "  fg.matched = fg.total > 0 ? 100 * sum / fg.total : 0;\n"
    "  fg_text('matched', 'Matched: ' + fg.matched.toFixed(1) + '%');\n"
    "  fg_text('search', 'Reset Search');\n"
    "  fg_cls(fg_el('search'), 'show');\n"
    "  return hits;\n"
    "}\n"
    "function fg_reset_search() {\n"
    "  for (var j = 0; j < fg.frames.length; j++)\n"
    "    fg.frames[j].rect.setAttribute('fill', fg.frames[j].fill);\n"
    "  fg.re = null; fg.matched = undefined;\n"
    "  fg_text('matched', ' '); fg_text('search', 'Search');\n"
    "  fg_cls(fg_el('search'), null);\n"
    "}\n"
    "function fg_matched() { return fg.re === null ? null : fg.matched; }\n"
    "function fg_prompt() {\n"
    "  var term = window.prompt('Search frames: JavaScript regular expression' +\n"
    "    (fg.ic ? ' (ignoring case)' : ''), fg.re || '');\n"
    "  if (term === null) return;\n"
    "  if (term === '') fg_reset_search(); else fg_search(term);\n"
    "}\n"
    "function fg_toggle_case() {\n"
    "  fg.ic = !fg.ic;\n"
    "  fg_cls(fg_el('ignorecase'), fg.ic ? 'show' : null);\n"
    "  if (fg.re !== null) fg_search(fg.re);\n"
    "}\n";

/* Writes the document prologue, style, script and fixed controls. */
static void fg_put_head(FILE *out, int width, int height, const struct fg_options *opt,
                        const char *unit)
{
    const char *title = opt && opt->title && *opt->title ? opt->title : "Flame Graph";
    fputs("<?xml version=\"1.0\" standalone=\"no\"?>\n"
          "<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" "
          "\"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">\n",
          out);
    fprintf(out,
            "<svg version=\"1.1\" width=\"%d\" height=\"%d\" onload=\"init(evt)\" "
            "viewBox=\"0 0 %d %d\" xmlns=\"http://www.w3.org/2000/svg\" "
            "xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n",
            width, height, width, height);
    fputs("<!-- Flame graph written by jeprof-c. Hover: details; click: zoom; "
          "Ctrl-F: search (regular expression); Ctrl-I: toggle case. -->\n",
          out);
    fputs("<defs>\n<linearGradient id=\"background\" y1=\"0\" y2=\"1\" x1=\"0\" x2=\"0\">\n"
          "<stop stop-color=\"#eef2ee\" offset=\"5%\"/>\n"
          "<stop stop-color=\"#e0ffe0\" offset=\"95%\"/>\n"
          "</linearGradient>\n</defs>\n",
          out);
    fprintf(out, "<style type=\"text/css\"><![CDATA[\n%s]]></style>\n", fg_css);
    fprintf(out, "<script type=\"text/ecmascript\"><![CDATA[\n%s]]></script>\n", fg_script);
    fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"url(#background)\"/>\n",
            width, height);
    fprintf(out, "<text id=\"title\" x=\"%.1f\" y=\"%d\">", width / 2.0, 2 * FG_FONTSIZE);
    flamegraph_put_xml(out, title, SIZE_MAX);
    fputs(" (", out);
    flamegraph_put_xml(out, unit, SIZE_MAX);
    fputs(")</text>\n", out);
    if (opt && opt->subtitle && *opt->subtitle) {
        fprintf(out, "<text id=\"subtitle\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">",
                width / 2.0, 2 * FG_FONTSIZE + FG_SUBTITLE);
        flamegraph_put_xml(out, opt->subtitle, SIZE_MAX);
        fputs("</text>\n", out);
    }
    fprintf(out, "<text id=\"details\" x=\"%d\" y=\"%d\"> </text>\n", FG_XPAD,
            height - FG_YPAD2 / 2);
    fprintf(out, "<text id=\"unzoom\" class=\"hide\" x=\"%d\" y=\"%d\">Reset Zoom</text>\n",
            FG_XPAD, 2 * FG_FONTSIZE);
    fprintf(out, "<text id=\"search\" x=\"%d\" y=\"%d\">Search</text>\n", width - FG_XPAD - 100,
            2 * FG_FONTSIZE);
    fprintf(out, "<text id=\"ignorecase\" x=\"%d\" y=\"%d\">ic</text>\n", width - FG_XPAD - 16,
            2 * FG_FONTSIZE);
    fprintf(out, "<text id=\"matched\" x=\"%d\" y=\"%d\"> </text>\n", width - FG_XPAD - 100,
            height - FG_YPAD2 / 2);
}

/* Writes one frame: tooltip title, box, label. */
static void fg_put_frame(FILE *out, const struct fg_node *f, uint64_t total, double wpt,
                         int height, const char *unit, int diff)
{
    char num[32];
    int rgb[3];
    double x = FG_XPAD + (double)f->start * wpt;
    double w = (double)f->value * wpt;
    double y = height - FG_YPAD2 - (double)(f->depth + 1) * FG_FRAMEHEIGHT + 1;
    if (diff)
        fg_diff_colour(f->value, f->base, rgb);
    else
        fg_colour(f->name, rgb);
    fputs("<g>\n<title>", out);
    flamegraph_put_xml(out, f->name, SIZE_MAX);
    fprintf(out, " (%s%s ", diff ? "new " : "", fg_thousands(f->value, num));
    flamegraph_put_xml(out, unit, SIZE_MAX);
    if (f->value == total)
        fputs(", 100%", out);
    else
        fprintf(out, ", %.2f%%", 100.0 * (double)f->value / (double)total);
    if (diff) {
        uint64_t d = f->value >= f->base ? f->value - f->base : f->base - f->value;
        fprintf(out, "; old %s ", fg_thousands(f->base, num));
        flamegraph_put_xml(out, unit, SIZE_MAX);
        fprintf(out, "; delta %s%s ", f->value >= f->base ? "+" : "-", fg_thousands(d, num));
        flamegraph_put_xml(out, unit, SIZE_MAX);
        if (f->base)
            fprintf(out, ", %s%.1f%%", f->value >= f->base ? "+" : "-",
                    100.0 * (double)d / (double)f->base);
        else
            fputs(", new", out);
    }
    fputs(")", out);
    fprintf(out,
            "</title><rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%d\" "
            "fill=\"rgb(%d,%d,%d)\" rx=\"2\" ry=\"2\"/>\n",
            x, y, w, FG_FRAMEHEIGHT - 1, rgb[0], rgb[1], rgb[2]);
    fprintf(out, "<text x=\"%.2f\" y=\"%.1f\">", x + 3, y + FG_FRAMEHEIGHT / 2.0 + 3);
    fg_put_label(out, f->name, w);
    fputs("</text>\n</g>\n", out);
}

static int fg_finish(FILE *out)
{
    if (fflush(out) != 0 || ferror(out))
        return errno ? errno : EIO;
    return 0;
}

int flamegraph_write_svg(FILE *out, const struct fg_stack *stacks, size_t nstacks,
                         const struct fg_options *opt)
{
    if (!out || (nstacks && !stacks))
        return EINVAL;
    const char *unit = opt && opt->unit && *opt->unit ? opt->unit : "bytes";
    int width = opt && opt->width > 0 ? opt->width : FG_WIDTH;
    if (width < 2 * FG_XPAD + 100)
        width = 2 * FG_XPAD + 100;

    /* Keep the stacks that carry a value; check them and their sum. */
    struct fg_key *sorted = malloc((nstacks ? nstacks : 1) * sizeof(*sorted));
    uint32_t *ranks = NULL;
    if (!sorted)
        return ENOMEM;
    size_t n = 0, maxframes = 0, nframes_total = 0;
    uint64_t total = 0, base_total = 0;
    int err = 0;
    int diff = opt && opt->diff;
    for (size_t i = 0; i < nstacks; i++) {
        const struct fg_stack *s = &stacks[i];
        if (s->value == 0 && !(opt && opt->diff && s->base))
            continue;
        if (s->nframes && !s->frames) {
            err = EINVAL;
            goto out_free_sorted;
        }
        for (size_t d = 0; d < s->nframes; d++) {
            if (!s->frames[d]) {
                err = EINVAL;
                goto out_free_sorted;
            }
        }
        if (total + s->value < total || base_total + s->base < base_total) {
            err = EOVERFLOW;
            goto out_free_sorted;
        }
        total += s->value;
        base_total += s->base;
        if (s->nframes > maxframes)
            maxframes = s->nframes;
        nframes_total += s->nframes;
        sorted[n++].s = s;
    }
    if ((err = fg_sort_stacks(sorted, n, nframes_total, maxframes, &ranks)))
        goto out_free_sorted;

    size_t *path = malloc((maxframes + 1) * sizeof(*path));
    if (!path) {
        err = ENOMEM;
        goto out_free_sorted;
    }
    struct fg_tree tree = {0};
    if ((err = fg_tree_build(&tree, sorted, n, path)))
        goto out_free_tree;

    /* Frames too narrow to see are dropped; a child is never wider than its parent. */
    double wpt = total ? (double)(width - 2 * FG_XPAD) / (double)total : 0;
    uint32_t maxdepth = 0;
    for (size_t i = 0; i < tree.n; i++) {
        if (total && (double)tree.v[i].value * wpt >= fg_minwidth && tree.v[i].depth > maxdepth)
            maxdepth = tree.v[i].depth;
    }
    int height = (int)(maxdepth + 1) * FG_FRAMEHEIGHT + FG_YPAD1 + FG_YPAD2;
    if (!total)
        height += 2 * FG_FRAMEHEIGHT;
    if (opt && opt->subtitle && *opt->subtitle)
        height += FG_SUBTITLE;

    fg_put_head(out, width, height, opt, unit);
    if (!total)
        fprintf(out, "<text id=\"empty\" x=\"%.1f\" y=\"%d\">No stacks to show: the profile is empty</text>\n",
                width / 2.0, FG_YPAD1 + 2 * FG_FRAMEHEIGHT);
    fputs("<g id=\"frames\">\n", out);
    for (size_t i = 0; total && i < tree.n; i++) {
        if ((double)tree.v[i].value * wpt >= fg_minwidth)
            fg_put_frame(out, &tree.v[i], total, wpt, height, unit, diff);
    }
    fputs("</g>\n</svg>\n", out);
    err = fg_finish(out);

out_free_tree:
    free(tree.v);
    free(path);
out_free_sorted:
    free(ranks);
    free(sorted);
    return err;
}
