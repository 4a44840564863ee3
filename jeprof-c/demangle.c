/* demangle: see demangle.h. */
#include "demangle.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <libiberty/demangle.h>

#include "xalloc.h"

static int full_names; /* display full demangled names (--full_names) */

void demangle_set_full(int on)
{
    full_names = on;
}

int demangle_full(void)
{
    return full_names;
}

int demangle_is_mangled(const char *n)
{
    if (n[0] != '_')
        return 0;
    if (n[1] == 'Z') /* Itanium C++ and Rust legacy */
        return 1;
    /* Rust v0: "_R", an optional decimal version, then an uppercase tag. */
    return n[1] == 'R' && (isupper((unsigned char)n[2]) || isdigit((unsigned char)n[2]));
}

char *demangle(const char *name)
{
    if (!demangle_is_mangled(name))
        return xstrdup(name);
    /* DMGL_AUTO: libiberty tries Rust (legacy and v0) first, since legacy
     * Rust names are valid Itanium names too, then C++. Without
     * DMGL_VERBOSE, Rust hashes and crate disambiguators are left out. */
    char *d = cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI | DMGL_AUTO);
    if (d)
        return d;
    /* A symbol version ("_ZNSt...@@GLIBCXX_3.4.26", "...@plt"): demangle
     * the name before it, keep the suffix. */
    const char *at = strchr(name, '@');
    if (at && at > name) {
        char *base = xmalloc((size_t)(at - name) + 1);
        memcpy(base, name, (size_t)(at - name));
        base[at - name] = 0;
        d = cplus_demangle(base, DMGL_PARAMS | DMGL_ANSI | DMGL_AUTO);
        free(base);
        if (d) {
            char *r = xasprintf("%s%s", d, at);
            free(d);
            return r;
        }
    }
    return xstrdup(name);
}

/* ---- simplification ---- */

/* A growing output string. */
struct sbuf {
    char *s;       /* the text; NUL-terminated only when returned */
    size_t n, cap; /* length, capacity */
};

static void put(struct sbuf *b, const char *s, size_t n)
{
    GROW(b->s, b->cap, b->n + n + 1);
    memcpy(b->s + b->n, s, n);
    b->n += n;
}

static int ident(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '$';
}

/* Index just past the bracket group opened at s[i] ('<', '(', '[' or '{'),
 * brackets of every kind nesting; the '>' of "->" (Rust fn types) does not
 * close. strlen(s) when unbalanced. */
static size_t group_end(const char *s, size_t i)
{
    int depth = 0;
    size_t k;
    for (k = i; s[k]; k++) {
        char c = s[k];
        if (c == '<' || c == '(' || c == '[' || c == '{')
            depth++;
        else if ((c == '>' && !(k > i && s[k - 1] == '-')) || c == ')' || c == ']' || c == '}')
            if (--depth == 0)
                return k + 1;
    }
    return k;
}

/* Qualifiers after a parameter list: " const", " volatile", " &", " &&",
 * " noexcept". Returns the index past them. */
static size_t skip_qualifiers(const char *s, size_t i)
{
    static const char *const q[] = {"const", "volatile", "&&", "&", "noexcept", NULL};
    for (;;) {
        size_t j = i;
        while (s[j] == ' ')
            j++;
        int hit = 0;
        for (int k = 0; q[k] && !hit; k++) {
            size_t l = strlen(q[k]);
            if (strncmp(s + j, q[k], l) == 0 && !ident(s[j + l])) {
                i = j + l;
                hit = 1;
            }
        }
        if (!hit)
            return i;
    }
}

/* Copies an operator name starting at s[i] ("operator"), with its symbol:
 * "operator()", "operator<<", "operator new[]", "operator bool",
 * "operator\"\" _x". Template arguments after it ("operator< <int>") are
 * dropped. Returns the index past what was consumed. */
static size_t copy_operator(const char *s, size_t i, struct sbuf *o)
{
    put(o, "operator", 8);
    i += 8;
    if (s[i] == '(' && s[i + 1] == ')') {
        put(o, "()", 2);
        return i + 2;
    }
    if (s[i] == '"' && s[i + 1] == '"') {
        put(o, "\"\"", 2);
        i += 2;
    }
    if (s[i] == ' ' && (ident(s[i + 1]) || s[i + 1] == ':')) {
        /* new, delete, co_await, a conversion or a literal suffix */
        size_t j = i + 1;
        while (ident(s[j]) || (s[j] == ':' && s[j + 1] == ':'))
            j += s[j] == ':' ? 2 : 1;
        if (s[j] == '[' && s[j + 1] == ']')
            j += 2;
        put(o, s + i, j - i);
        return j;
    }
    /* The longest operator token; what follows '<' after it is a template
     * argument list ("operator+<char>", "operator<< <traits>"). */
    static const char *const ops[] = {
        "<<=", ">>=", "<=>", "->*", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "++",
        "--",  "+=",  "-=",  "*=",  "/=", "%=", "&=", "|=", "^=", "->", "[]", "<",  ">",
        "+",   "-",   "*",   "/",   "%",  "^",  "&",  "|",  "~",  "!",  "=",  ",",  NULL};
    size_t j = i;
    for (int k = 0; ops[k]; k++) {
        size_t l = strlen(ops[k]);
        if (strncmp(s + i, ops[k], l) == 0) {
            j = i + l;
            break;
        }
    }
    put(o, s + i, j - i);
    if (s[j] == '<')
        j = group_end(s, j);
    else if (s[j] == ' ' && s[j + 1] == '<')
        j = group_end(s, j + 1);
    return j;
}

static void simplify_into(const char *s, int top, struct sbuf *o);

/* Nesting of Rust qualified paths being simplified: deeper ones are copied
 * as they are, so hostile input cannot exhaust the stack. */
static int path_depth;

/* Rust's qualified path "<inner>" at the start of a path: "<X as Y>"
 * keeps its brackets (both sides simplified), "<X>" (an inherent impl, as
 * the v0 demangler prints it) is unwrapped to X. */
static void qualified_path(const char *inner, size_t len, struct sbuf *o)
{
    char *t = xmalloc(len + 1);
    memcpy(t, inner, len);
    t[len] = 0;
    size_t as = 0;
    for (size_t k = 0; k < len;) {
        if (strchr("<([{", t[k])) {
            k = group_end(t, k);
            continue;
        }
        if (strncmp(t + k, " as ", 4) == 0) {
            as = k;
            break;
        }
        k++;
    }
    if (path_depth >= 32) {
        put(o, "<", 1);
        put(o, t, len);
        put(o, ">", 1);
        free(t);
        return;
    }
    path_depth++;
    if (as) {
        t[as] = 0;
        put(o, "<", 1);
        simplify_into(t, 0, o);
        put(o, " as ", 4);
        simplify_into(t + as + 4, 0, o);
        put(o, ">", 1);
    } else {
        simplify_into(t, 0, o);
    }
    path_depth--;
    free(t);
}

/* Is s[i..] a Rust legacy hash "::h" + 16 hex digits ending the name? */
static int rust_hash_at(const char *s, size_t i)
{
    if (strncmp(s + i, "::h", 3) != 0)
        return 0;
    for (int k = 0; k < 16; k++)
        if (!isxdigit((unsigned char)s[i + 3 + k]))
            return 0;
    return s[i + 19] == 0;
}

/* Simplifies s into o. top: s is a whole name, so text before a space
 * outside brackets is a return type and goes. */
static void simplify_into(const char *s, int top, struct sbuf *o)
{
    size_t i = 0, start = o->n, op_end = (size_t)-1; /* o->n just after an operator name */
    while (s[i]) {
        char c = s[i];
        char prev = o->n > start ? o->s[o->n - 1] : 0;
        int path_start = o->n != op_end && (o->n == start || strchr("<,( &*[;", prev));
        if (c == '(' && strncmp(s + i, "(anonymous namespace)", 21) == 0) {
            put(o, s + i, 21);
            i += 21;
        } else if (c == '{') { /* {lambda()#1}, {{closure}}, {closure#0}, {unnamed type#1} */
            size_t e = group_end(s, i);
            put(o, s + i, e - i);
            i = e;
        } else if (c == 'o' && strncmp(s + i, "operator", 8) == 0 && !ident(prev) &&
                   !ident(s[i + 8])) {
            i = copy_operator(s, i, o);
            op_end = o->n;
        } else if (c == '<') {
            size_t e = group_end(s, i);
            if (prev == ':' && o->n - start >= 2 && o->s[o->n - 2] == ':') {
                if (strncmp(s + i + 1, "impl ", 5) == 0) {
                    put(o, s + i, e - i); /* Rust legacy "::<impl Trait for T>::" */
                } else {
                    o->n -= 2; /* Rust "::<T>" generic arguments */
                }
            } else if (path_start) {
                qualified_path(s + i + 1, e > i + 1 ? e - i - 2 : 0, o);
            } /* else template arguments: dropped */
            i = e;
        } else if (c == '(') {
            size_t e = group_end(s, i);
            if (path_start) { /* a tuple type inside a Rust path */
                put(o, s + i, e - i);
                i = e;
            } else { /* the parameter list */
                size_t q = skip_qualifiers(s, e);
                /* An enclosing function of a local entity keeps its list,
                 * as pprof prints it: "f()::{lambda()#1}::operator()". */
                if (s[q] == ':' && s[q + 1] == ':')
                    put(o, s + i, q - i);
                i = q;
            }
        } else if (c == ' ' && strncmp(s + i, " [clone ", 8) == 0) {
            i = group_end(s, i + 1);
        } else if (c == ' ' && top) {
            o->n = start; /* what came before was the return type */
            i++;
        } else if (c == ':' && rust_hash_at(s, i)) {
            break;
        } else {
            put(o, &c, 1);
            i++;
        }
    }
}

char *demangle_simplify(const char *full)
{
    struct sbuf o = {0};
    simplify_into(full, 1, &o);
    if (o.n == 0) {
        free(o.s);
        return xstrdup(full);
    }
    o.s[o.n] = 0;
    return o.s;
}

char *short_function_name(const char *full)
{
    return full_names ? xstrdup(full) : demangle_simplify(full);
}

char *demangle_display(const char *name, const char *system_name)
{
    const char *from = NULL;
    if (system_name && demangle_is_mangled(system_name))
        from = system_name;
    else if (demangle_is_mangled(name))
        from = name;
    if (from) {
        char *d = demangle(from);
        char *s = short_function_name(d);
        free(d);
        return s;
    }
    if (!*name && system_name)
        name = system_name;
    if (strstr(name, "::"))
        return short_function_name(name);
    return xstrdup(name);
}
