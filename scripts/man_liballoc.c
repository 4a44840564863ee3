/*
 * man_liballoc: build-time generator of the two tables of liballoc(3) that
 * must never drift from the code.
 *
 *   man_liballoc options
 *       roff for every MALLOC_CONF option, expanded from liballoc/options.def
 *       (name, type, default, range or choices, one-line doc).
 *   man_liballoc mallctl DOCFILE
 *       roff for every leaf of the mallctl tree, walked from ctl_root() (the
 *       tree mallctl() itself uses), indexed components shown as <i>, <j>.
 *       Each leaf's type, direction and text come from DOCFILE
 *       (man/mallctl.txt: "name | type | mode | text" lines); opt.* leaves
 *       are described from options.def. A leaf without an entry is still
 *       listed, as "not documented", and reported on stderr (the
 *       man_pages test fails on it); an entry naming no leaf is reported on
 *       stderr and left out. The documented type of each readable leaf is
 *       checked against the size the leaf really reads (a mismatch is an
 *       error: the manual would lie).
 *
 * Linked with liballoc's internal archive (like the unit tests). Exit 0, or 1
 * with "error: ..." on stderr (unreadable or malformed DOCFILE, bad usage).
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "ctl.h"
#include "options.h"

/* ---- roff output ---- */

/* Writes s as roff text: backslashes escaped, a leading '.' or '\'' made
 * literal, so a doc string can never become a request. */
static void roff_text(const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", stdout);
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", stdout);
        else if (*s == '-')
            fputs("\\-", stdout);
        else
            putchar(*s);
    }
}

/* ---- MALLOC_CONF options (options.def) ---- */

struct optdoc {
    const char *name; /* option name */
    const char *type; /* C type of opt.<name> */
    const char *doc;  /* options.def's one line */
};

/* clang-format off */
static const struct optdoc optdocs[] = {
#define OPT_BOOL(n, d, doc) {#n, "bool", doc},
#define OPT_UNSIGNED(n, d, lo, hi, doc) {#n, "unsigned", doc},
#define OPT_SIZE(n, d, lo, hi, doc) {#n, "size_t", doc},
#define OPT_SSIZE(n, d, lo, hi, doc) {#n, "ssize_t", doc},
#define OPT_STRING(n, d, doc) {#n, "const char *", doc},
#define OPT_CHOICE(n, d, choices, doc) {#n, "const char *", doc},
#include "options.def"
};
/* clang-format on */

static void opt_head(const char *name, const char *type)
{
    printf(".TP\n\\fB%s\\fR (\\fI%s\\fR)\n", name, type);
}

static void opt_line(const char *label, const char *value)
{
    printf("%s \\fB", label);
    roff_text(value);
    printf("\\fR.\n");
}

static void opt_range(long long lo, long long hi, const char *how)
{
    printf("Range %lld to %lld%s.\n", lo, hi, how);
}

/* The length of a source file reference at s ("numa.h", "libprof/http.h":
 * words joined by '/', ending in ".h"), or 0. */
static size_t header_ref_len(const char *s)
{
    size_t n = 0;
    for (;;) {
        size_t w = n;
        while (isalnum((unsigned char)s[n]) || s[n] == '_' || s[n] == '-')
            n++;
        if (n == w)
            return 0;
        if (s[n] != '/')
            break;
        n++;
    }
    return s[n] == '.' && s[n + 1] == 'h' && !isalnum((unsigned char)s[n + 2]) ? n + 2 : 0;
}

/* options.def's one line, as a sentence for users: pointers into the source
 * (" (warn.h)", "; see numa.h", "; libprof/http.h)"), written for the
 * developers who read options.def, are dropped, since the manual's reader
 * has no source tree; the closing period is added unless the line already
 * ends with one. */
static void opt_doc(const char *doc)
{
    char out[512];
    size_t o = 0;
    for (const char *s = doc; *s && o < sizeof(out) - 1;) {
        size_t h, skip = 0;
        if (s[0] == ' ' && s[1] == '(' && (h = header_ref_len(s + 2)) && s[2 + h] == ')')
            skip = 3 + h; /* " (x.h)" */
        else if (s[0] == ';' && s[1] == ' ') {
            size_t at = !strncmp(s + 2, "see ", 4) ? 6 : 2;
            if ((h = header_ref_len(s + at)) && strchr(";,)", s[at + h]))
                skip = at + h; /* "; x.h" or "; see x.h" before ';', ',', ')' or the end */
        }
        if (skip) {
            s += skip;
            continue;
        }
        out[o++] = *s++;
    }
    out[o] = 0;
    roff_text(out);
    printf(o > 0 && out[o - 1] == '.' ? "\n" : ".\n");
}

/* The default of a numeric option. A default outside the option's range is
 * a placeholder the library replaces at initialisation (narenas: CPUs,
 * max_background_threads: CPUs), which opt.<name> then reads back: printing
 * the placeholder would give a value the option refuses. */
static void opt_default_num(const char *name, long long d, long long lo, long long hi)
{
    char buf[64];
    if (d < lo || d > hi) {
        printf("Default computed at start (as described above); \\fBopt.%s\\fR reads it back.\n",
               name);
        return;
    }
    snprintf(buf, sizeof(buf), "%lld", d);
    opt_line("Default", buf);
}

static void emit_options(void)
{
#define OPT_BOOL(n, d, doc)                                                                        \
    opt_head(#n, "bool");                                                                          \
    opt_doc(doc);                                                                                  \
    opt_line("Default", (d) ? "true" : "false");
#define OPT_NUM(n, d, lo, hi, doc, type, how)                                                      \
    opt_head(#n, type);                                                                            \
    opt_doc(doc);                                                                                  \
    opt_default_num(#n, (long long)(d), (long long)(lo), (long long)(hi));                         \
    opt_range((long long)(lo), (long long)(hi), how);
#define OPT_UNSIGNED(n, d, lo, hi, doc) OPT_NUM(n, d, lo, hi, doc, "unsigned", "")
#define OPT_SIZE(n, d, lo, hi, doc)                                                                \
    OPT_NUM(n, d, lo, hi, doc, "size_t", "; larger values are clipped to the maximum")
#define OPT_SSIZE(n, d, lo, hi, doc)                                                               \
    OPT_NUM(n, d, lo, hi, doc, "ssize_t", "; values outside it are errors")
#define OPT_STRING(n, d, doc)                                                                      \
    opt_head(#n, "string");                                                                        \
    opt_doc(doc);                                                                                  \
    opt_line("Default", *(d) ? (d) : "empty");
#define OPT_CHOICE(n, d, choices, doc)                                                             \
    opt_head(#n, "string");                                                                        \
    opt_doc(doc);                                                                                  \
    opt_line("One of", choices);                                                                   \
    opt_line("Default", d);
#include "options.def"
#undef OPT_NUM
}

/* ---- the mallctl tree ---- */

struct entry {
    char *name, *type, *mode, *text; /* one DOCFILE line, fields trimmed */
    int used;                        /* a tree leaf matched it */
};

static struct entry *entries;
static size_t nentries;
static int undocumented;

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = 0;
    return s;
}

static int read_docs(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "error: cannot read '%s'\n", path);
        return 1;
    }
    char line[4096];
    int lineno = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        char *l = trim(line);
        if (*l == 0 || *l == '#')
            continue;
        char *field[4];
        int n = 0;
        for (char *p = l; n < 4; n++) {
            field[n] = p;
            char *bar = n < 3 ? strchr(p, '|') : NULL;
            if (n < 3 && !bar)
                break;
            if (bar) {
                *bar = 0;
                p = bar + 1;
            }
        }
        if (n != 4) {
            fprintf(stderr, "error: %s:%d: expected 'name | type | mode | text'\n", path, lineno);
            fclose(f);
            return 1;
        }
        entries = realloc(entries, (nentries + 1) * sizeof(*entries));
        if (!entries)
            exit(1);
        struct entry *e = &entries[nentries++];
        e->name = strdup(trim(field[0]));
        e->type = strdup(trim(field[1]));
        e->mode = strdup(trim(field[2]));
        e->text = strdup(trim(field[3]));
        e->used = 0;
        if (!e->name || !e->type || !e->mode || !e->text)
            exit(1);
        if (strcmp(e->mode, "r-") && strcmp(e->mode, "rw") && strcmp(e->mode, "-w") &&
            strcmp(e->mode, "--")) {
            fprintf(stderr, "error: %s:%d: mode '%s' is not r-, rw, -w or --\n", path, lineno,
                    e->mode);
            fclose(f);
            return 1;
        }
    }
    fclose(f);
    return 0;
}

/* The size of a documented type, 0 for one not checked (void, structs
 * passed by writing). */
static size_t type_size(const char *type)
{
    static const struct {
        const char *type;
        size_t size;
    } sizes[] = {
        {"bool", sizeof(bool)},         {"int", sizeof(int)},
        {"unsigned", sizeof(unsigned)}, {"uint32_t", sizeof(uint32_t)},
        {"size_t", sizeof(size_t)},     {"ssize_t", sizeof(ssize_t)},
        {"uint64_t", sizeof(uint64_t)}, {"uint64_t *", sizeof(uint64_t *)},
        {"const char *", sizeof(const char *)},
        {"struct {uint64_t req_sum; uint64_t count}", 2 * sizeof(uint64_t)},
    };
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        if (strcmp(sizes[i].type, type) == 0)
            return sizes[i].size;
    return 0;
}

static int type_errors;

/* Checks a documented readable leaf's type against the tree: a read with a
 * buffer larger than any type fails with EINVAL after setting *oldlenp to
 * the real size (mallctl's contract). Indexes are taken as 0. Leaves that
 * refuse before reading (a feature off, a creating read that needs an exact
 * buffer) leave *oldlenp alone and are not checked. */
static void check_type(const char *name, const char *type, const char *mode)
{
    size_t want = type_size(type);
    if (!want || mode[0] != 'r')
        return;
    char concrete[512], *o = concrete;
    for (const char *p = name; *p && o < concrete + sizeof(concrete) - 2; p++) {
        if (*p == '<' && p[1] && p[2] == '>') {
            *o++ = '0';
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = 0;
    unsigned char buf[64];
    size_t len = sizeof(buf);
    int err = mallctl(concrete, buf, &len, NULL, 0);
    if (len == sizeof(buf) || len == 0)
        return; /* refused before reading */
    if ((err == 0 || err == EINVAL) && len != want) {
        fprintf(stderr, "error: mallctl '%s' is documented as %s (%zu bytes) but reads %zu bytes\n",
                name, type, want, len);
        type_errors++;
    }
}

static void leaf(const char *name)
{
    const char *type = NULL, *mode = NULL, *text = NULL;
    for (size_t i = 0; i < nentries; i++)
        if (strcmp(entries[i].name, name) == 0) {
            entries[i].used = 1;
            type = entries[i].type;
            mode = entries[i].mode;
            text = entries[i].text;
            break;
        }
    char optbuf[256];
    if (!type && strncmp(name, "opt.", 4) == 0)
        for (size_t i = 0; i < sizeof(optdocs) / sizeof(optdocs[0]); i++)
            if (strcmp(optdocs[i].name, name + 4) == 0) {
                type = optdocs[i].type;
                mode = "r-";
                snprintf(optbuf, sizeof(optbuf), "The MALLOC_CONF option \\fB%s\\fR.",
                         optdocs[i].name);
                text = optbuf;
            }
    printf(".TP\n\\fB%s\\fR", name);
    if (!type) {
        fprintf(stderr, "warning: mallctl '%s' has no entry in the documentation file\n", name);
        undocumented++;
        printf("\nNot documented yet.\n");
        return;
    }
    check_type(name, type, mode);
    printf(" (\\fI%s\\fR) \\fB%s\\fR\n", type, strcmp(mode, "--") ? mode : "\\-\\-");
    if (text == optbuf)
        printf("%s\n", text);
    else {
        roff_text(text);
        printf("\n");
    }
}

/* Depth-first over the tree; name holds the path so far. nidx counts the
 * indexed components above, to name them <i>, <j>, <k>. */
static void walk(const struct ctl_node *node, char *name, size_t len, int nidx)
{
    if (!node->children) {
        leaf(name);
        return;
    }
    for (size_t c = 0; c < node->nchildren; c++) {
        const struct ctl_node *ch = &node->children[c];
        char comp[8];
        const char *part = ch->name;
        int idx = nidx;
        if (!part) {
            snprintf(comp, sizeof(comp), "<%c>", "ijk"[nidx < 3 ? nidx : 2]);
            part = comp;
            idx++;
        }
        size_t n = snprintf(name + len, 512 - len, "%s%s", len ? "." : "", part);
        walk(ch, name, len + n, idx);
        name[len] = 0;
        if (!ch->name)
            break; /* one template child stands for every index */
    }
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "options") == 0) {
        emit_options();
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "mallctl") == 0) {
        if (read_docs(argv[2]))
            return 1;
        char name[512] = "";
        walk(ctl_root(), name, 0, 0);
        for (size_t i = 0; i < nentries; i++)
            if (!entries[i].used)
                fprintf(stderr, "note: '%s' in %s names no mallctl of this build: left out\n",
                        entries[i].name, argv[2]);
        if (type_errors)
            return 1;
        if (undocumented)
            fprintf(stderr, "warning: %d mallctl names not documented in %s\n", undocumented,
                    argv[2]);
        return 0;
    }
    fprintf(stderr, "usage: man_liballoc options | mallctl DOCFILE\n");
    return 1;
}
