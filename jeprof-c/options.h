/* options: the command line as one table (git parse-options style). The
 * same table parses argv and prints --help, so they cannot drift. */
#ifndef JEPROF_OPTIONS_H
#define JEPROF_OPTIONS_H

#include <stdio.h>

enum opt_kind {
    OPT_GROUP,   /* a heading in --help; name is the heading */
    OPT_SET_INT, /* a flag: stores val into *(int *)dst */
    OPT_INT,     /* --name=N */
    OPT_DOUBLE,  /* --name=X */
    OPT_STRING,  /* --name=S */
    OPT_ONE_OF,  /* like OPT_SET_INT, but two different flags storing into the
                    same dst are refused (jeprof: one output mode, one value
                    kind, one granularity) */
};

struct option {
    enum opt_kind kind; /* how the value is taken */
    const char *name;   /* long name without dashes */
    void *dst;          /* where the value goes */
    int val;            /* OPT_SET_INT: the value stored */
    const char *argh;   /* placeholder shown in --help, e.g. "N" */
    const char *help;   /* one line for --help */
};

/* Parses options out of argv (in place: positional arguments are moved to
 * the front, their count returned). Accepts --name=v, --name v, -name.
 * Returns -1 after printing "error: ..." for an unknown option, a bad value
 * or two OPT_ONE_OF flags of one group; stops at "--". */
int parse_options(int argc, char **argv, const struct option *opts);
void print_usage(FILE *f, const char *usage, const struct option *opts);

#endif
