/* json: see json.h. */
#include "json.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jp {
    const char *s, *b, *e; /* cursor, start, end */
    char *err;
    size_t errlen;
};

static int jfail(struct jp *j, const char *what)
{
    snprintf(j->err, j->errlen, "JSON offset %zu: %s", (size_t)(j->s - j->b), what);
    return EINVAL;
}

static void ws(struct jp *j)
{
    while (j->s < j->e && (*j->s == ' ' || *j->s == '\n' || *j->s == '\t' || *j->s == '\r'))
        j->s++;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Appends code point cp as UTF-8. */
static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Does the quote at q end a string? jemalloc writes thread names without
 * escaping, so a quote that is not followed by a delimiter is taken as part
 * of the string. */
static int closes_string(const char *q, const char *e)
{
    q++;
    while (q < e && (*q == ' ' || *q == '\n' || *q == '\t' || *q == '\r'))
        q++;
    return q >= e || *q == ',' || *q == ':' || *q == '}' || *q == ']';
}

static int jstring(struct jp *j, char **out)
{
    j->s++; /* opening quote */
    const char *start = j->s;
    while (j->s < j->e && (*j->s != '"' || !closes_string(j->s, j->e))) {
        if (*j->s == '\\')
            j->s++;
        j->s++;
    }
    if (j->s >= j->e)
        return jfail(j, "unterminated string");
    /* Decoded text is never longer than the escaped text. */
    char *o = xmalloc((size_t)(j->s - start) + 4), *w = o;
    for (const char *r = start; r < j->s; r++) {
        if (*r != '\\') {
            *w++ = *r;
            continue;
        }
        r++;
        switch (*r) {
        case '"':
        case '\\':
        case '/':
            *w++ = *r;
            break;
        case 'b':
            *w++ = '\b';
            break;
        case 'f':
            *w++ = '\f';
            break;
        case 'n':
            *w++ = '\n';
            break;
        case 'r':
            *w++ = '\r';
            break;
        case 't':
            *w++ = '\t';
            break;
        case 'u': {
            unsigned cp = 0;
            for (int k = 1; k <= 4; k++) {
                int h = r + k < j->s ? hexval(r[k]) : -1;
                if (h < 0) {
                    free(o);
                    return jfail(j, "bad \\u escape");
                }
                cp = cp << 4 | (unsigned)h;
            }
            r += 4;
            /* Six escaped bytes always have room for four UTF-8 bytes. */
            w += put_utf8(w, cp);
            break;
        }
        default:
            free(o);
            return jfail(j, "bad escape");
        }
    }
    *w = 0;
    j->s++; /* closing quote */
    *out = o;
    return 0;
}

static int jvalue(struct jp *j, struct jval *v, int depth);

static int jcontainer(struct jp *j, struct jval *v, int depth, int obj)
{
    size_t cap = 0;
    char close = obj ? '}' : ']';
    v->t = obj ? J_OBJ : J_ARR;
    j->s++;
    ws(j);
    if (j->s < j->e && *j->s == close) {
        j->s++;
        return 0;
    }
    for (;;) {
        GROW(v->kids, cap, v->n + 1);
        if (obj) {
            size_t kc = cap;
            v->keys = xrealloc(v->keys, kc * sizeof(char *));
            ws(j);
            if (j->s >= j->e || *j->s != '"')
                return jfail(j, "expected a key");
            int rc = jstring(j, &v->keys[v->n]);
            if (rc)
                return rc;
            ws(j);
            if (j->s >= j->e || *j->s != ':') {
                free(v->keys[v->n]);
                return jfail(j, "expected ':'");
            }
            j->s++;
        }
        memset(&v->kids[v->n], 0, sizeof(v->kids[v->n]));
        int rc = jvalue(j, &v->kids[v->n], depth + 1);
        v->n++; /* counted even on failure so json_free releases it */
        if (rc)
            return rc;
        ws(j);
        if (j->s < j->e && *j->s == ',') {
            j->s++;
            continue;
        }
        if (j->s < j->e && *j->s == close) {
            j->s++;
            return 0;
        }
        return jfail(j, obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int jnumber(struct jp *j, struct jval *v)
{
    const char *st = j->s;
    if (j->s < j->e && *j->s == '-')
        j->s++;
    while (j->s < j->e && ((*j->s >= '0' && *j->s <= '9') || *j->s == '.' || *j->s == 'e' ||
                           *j->s == 'E' || *j->s == '+' || *j->s == '-'))
        j->s++;
    size_t n = (size_t)(j->s - st);
    if (n == 0 || n > 64)
        return jfail(j, "bad number");
    char buf[72];
    memcpy(buf, st, n);
    buf[n] = 0;
    char *end;
    v->t = J_NUM;
    v->num = strtod(buf, &end);
    if (*end)
        return jfail(j, "bad number");
    if (buf[0] != '-' && strspn(buf, "0123456789") == n) {
        errno = 0;
        v->u64 = strtoull(buf, NULL, 10);
        v->is_u64 = errno == 0;
    }
    return 0;
}

static int jvalue(struct jp *j, struct jval *v, int depth)
{
    if (depth > JSON_MAX_DEPTH)
        return jfail(j, "nesting too deep");
    ws(j);
    if (j->s >= j->e)
        return jfail(j, "unexpected end of input");
    switch (*j->s) {
    case '{':
        return jcontainer(j, v, depth, 1);
    case '[':
        return jcontainer(j, v, depth, 0);
    case '"':
        v->t = J_STR;
        return jstring(j, &v->str);
    case 't':
    case 'f':
    case 'n': {
        static const char *lits[] = {"true", "false", "null"};
        static const enum jtype ts[] = {J_TRUE, J_FALSE, J_NULL};
        for (int i = 0; i < 3; i++) {
            size_t l = strlen(lits[i]);
            if ((size_t)(j->e - j->s) >= l && memcmp(j->s, lits[i], l) == 0) {
                j->s += l;
                v->t = ts[i];
                return 0;
            }
        }
        return jfail(j, "bad literal");
    }
    default:
        return jnumber(j, v);
    }
}

int json_parse(const char *s, size_t len, struct jval *out, char *err, size_t errlen)
{
    struct jp j = {s, s, s + len, err, errlen};
    memset(out, 0, sizeof(*out));
    int rc = jvalue(&j, out, 0);
    if (!rc) {
        ws(&j);
        if (j.s != j.e)
            rc = jfail(&j, "trailing data");
    }
    if (rc)
        json_free(out);
    return rc;
}

void json_free(struct jval *v)
{
    for (size_t i = 0; i < v->n; i++) {
        json_free(&v->kids[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->kids);
    free(v->keys);
    free(v->str);
    memset(v, 0, sizeof(*v));
}

const struct jval *json_get(const struct jval *obj, const char *key)
{
    if (!obj || obj->t != J_OBJ)
        return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (strcmp(obj->keys[i], key) == 0)
            return &obj->kids[i];
    return NULL;
}
