/* options: see options.h. */
#include "options.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"

static const struct option *find(const struct option *opts, const char *name, size_t len)
{
    for (const struct option *o = opts; o->kind || o->name; o++)
        if (o->kind != OPT_GROUP && strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

static int set_value(const struct option *o, const char *v)
{
    char *end;
    switch (o->kind) {
    case OPT_INT: {
        errno = 0;
        long n = strtol(v, &end, 10);
        if (errno || *end || end == v || n < INT_MIN || n > INT_MAX)
            return error("option '--%s' expects an integer, not '%s'", o->name, v);
        *(int *)o->dst = (int)n;
        return 0;
    }
    case OPT_DOUBLE: {
        errno = 0;
        double d = strtod(v, &end);
        if (errno || *end || end == v)
            return error("option '--%s' expects a number, not '%s'", o->name, v);
        *(double *)o->dst = d;
        return 0;
    }
    case OPT_STRING:
        *(const char **)o->dst = v;
        return 0;
    default:
        return error("option '--%s' takes no value", o->name);
    }
}

int parse_options(int argc, char **argv, const struct option *opts)
{
    int npos = 0;
    /* OPT_ONE_OF groups already set in this parse: dst -> the option. */
    const struct option *chosen[32];
    size_t nchosen = 0;
    for (int i = 0; i < argc; i++) {
        char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            while (++i < argc)
                argv[npos++] = argv[i];
            break;
        }
        if (a[0] != '-' || a[1] == 0) {
            argv[npos++] = a;
            continue;
        }
        const char *name = a + (a[1] == '-' ? 2 : 1);
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const struct option *o = find(opts, name, len);
        if (!o) {
            error("unknown option '%s'", a);
            return -1;
        }
        if (o->kind == OPT_SET_INT || o->kind == OPT_ONE_OF) {
            if (eq) {
                error("option '--%s' takes no value", o->name);
                return -1;
            }
            if (o->kind == OPT_ONE_OF) {
                size_t k;
                for (k = 0; k < nchosen && chosen[k]->dst != o->dst; k++)
                    ;
                if (k < nchosen && chosen[k]->val != o->val) {
                    error("options '--%s' and '--%s' cannot be combined", chosen[k]->name,
                          o->name);
                    return -1;
                }
                if (k == nchosen && nchosen < sizeof(chosen) / sizeof(chosen[0]))
                    chosen[nchosen++] = o;
            }
            *(int *)o->dst = o->val;
            continue;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (!v) {
            if (i + 1 >= argc) {
                error("option '%s%s' requires a value", o->name[1] ? "--" : "-", o->name);
                return -1;
            }
            v = argv[++i];
        }
        if (set_value(o, v))
            return -1;
    }
    return npos;
}

void print_usage(FILE *f, const char *usage, const struct option *opts)
{
    fprintf(f, "%s\n", usage);
    for (const struct option *o = opts; o->kind || o->name; o++) {
        if (o->kind == OPT_GROUP) {
            fprintf(f, "\n%s\n", o->name);
            continue;
        }
        char left[64];
        int shrt = o->name[1] == 0; /* one letter: -o DIR */
        if (o->kind == OPT_SET_INT || o->kind == OPT_ONE_OF)
            snprintf(left, sizeof(left), "%s%s", shrt ? "-" : "--", o->name);
        else if (shrt)
            snprintf(left, sizeof(left), "-%s %s", o->name, o->argh ? o->argh : "X");
        else
            snprintf(left, sizeof(left), "--%s=%s", o->name, o->argh ? o->argh : "X");
        fprintf(f, "    %-24s %s\n", left, o->help);
    }
}
