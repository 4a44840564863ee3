/* ht_common: shared by the heaptrack side-by-side programs (leak.c, peak.c,
 * churn.c): the scale from argv[1] (default 1, tests use less) and a sink
 * that keeps every allocation observable. The programs know nothing of the
 * profiler: everything comes from MALLOC_CONF (or heaptrack). */
#ifndef HT_COMMON_H
#define HT_COMMON_H

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every block a program allocates goes through this sink once, so the
 * compiler cannot drop an allocation whose result is unused. */
static volatile unsigned char ht_sink;

static inline void ht_touch(void *p, size_t n)
{
    unsigned char *c = p;
    c[0] = (unsigned char)n;
    ht_sink ^= c[n - 1] = (unsigned char)(n >> 3);
}

static inline double ht_scale(int argc, char **argv)
{
    double s = argc > 1 ? atof(argv[1]) : 1.0;
    return s > 0 ? s : 1.0;
}

#endif
