/*
 * prof_totals: a heap_v2 dump's totals (the "t*:" line: objects and bytes
 * in use), for tests that count samples exactly (lg_prof_sample:0, where
 * each sample weighs one block). Header-only; include after check.h.
 */
#ifndef PROF_TOTALS_H
#define PROF_TOTALS_H

#include <stdio.h>

/* Dump the heap to path (prof.dump) and read its totals into *objs and *bytes. */
static __attribute__((unused)) void prof_totals(const char *path, long long *objs, long long *bytes)
{
    const char *pp = path;
    CHECK_I(mallctl("prof.dump", NULL, NULL, &pp, sizeof(pp)), ==, 0);
    FILE *f = fopen(path, "r");
    CHECK_MSG(f != NULL, "cannot read %s", path);
    char line[512];
    CHECK(fgets(line, sizeof(line), f) != NULL); /* heap_v2/... */
    CHECK(fgets(line, sizeof(line), f) != NULL);
    CHECK_MSG(sscanf(line, " t*: %lld: %lld", objs, bytes) == 2, "not a totals line: %s", line);
    fclose(f);
    remove(path);
}

#endif
