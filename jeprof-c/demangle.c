/* demangle: see demangle.h. */
#include "demangle.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* The Itanium C++ ABI entry point, exported with C linkage by libstdc++. */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

char *demangle(const char *name)
{
    if (name[0] == '_' && name[1] == 'Z') {
        int status = 0;
        char *d = __cxa_demangle(name, NULL, NULL, &status);
        if (d && status == 0)
            return d;
        free(d);
    }
    return xstrdup(name);
}

/* Removes every innermost "open ... close" group (no nested open/close
 * inside); for '(' also a following " const". Returns 1 when it changed s. */
static int strip_groups(char *s, char open, char close)
{
    int changed = 0;
    char *w = s;
    for (char *r = s; *r;) {
        if (*r == open) {
            char *q = r + 1;
            while (*q && *q != open && *q != close)
                q++;
            if (*q == close) {
                r = q + 1;
                if (open == '(') {
                    char *c = r;
                    while (*c && isspace((unsigned char)*c))
                        c++;
                    if (strncmp(c, "const", 5) == 0)
                        r = c + 5;
                }
                changed = 1;
                continue;
            }
        }
        *w++ = *r++;
    }
    *w = 0;
    return changed;
}

char *short_function_name(const char *full)
{
    char *s = xstrdup(full);
    while (strip_groups(s, '(', ')'))
        ;
    while (strip_groups(s, '<', '>'))
        ;
    /* s/^.*\s+(\w+::)/$1/: drop a leading return type before "word::". */
    char *best = NULL;
    for (char *p = s; *p; p++) {
        if (!isspace((unsigned char)*p))
            continue;
        char *q = p;
        while (isspace((unsigned char)*q))
            q++;
        char *w = q;
        while (isalnum((unsigned char)*w) || *w == '_')
            w++;
        if (w > q && w[0] == ':' && w[1] == ':')
            best = q;
    }
    if (best)
        memmove(s, best, strlen(best) + 1);
    return s;
}
