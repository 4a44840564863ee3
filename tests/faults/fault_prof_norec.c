/*
 * fault_prof_norec: a sample that cannot get a record is not counted.
 * Every allocation is sampled (lg_prof_sample:0, so each weighs exactly
 * one block) and every mmap fails, so the profiler's records (metadata,
 * 64 at a time) run out long before the arena's pages do. A sample taken
 * then has no record, and so nothing its free could take off its site
 * again: it must not be in the site's counts at all. Checked through
 * heap_v2 dumps (the "t*:" line: objects and bytes in use):
 *  - while every block is live, the dump counts fewer objects than were
 *    allocated (records did run out), and more than before (some had one);
 *  - once every block is freed, the dump is back to its count before the
 *    run, to the object and the byte. Before this was fixed, the samples
 *    without records stayed in use for good.
 * Usage: fault_prof_norec DIR (where the dumps go).
 */
#include "fault_common.h"
#include "../integration/prof_totals.h"

#include <stdio.h>
#include <stdlib.h>

const char *malloc_conf = "prof:true,lg_prof_sample:0,prof_prefix:";

#define MAX_BLOCKS 400000
static void *blocks[MAX_BLOCKS];

/* Dump to DIR/name and read its totals: objects and bytes in use. */
static void dump_totals(const char *dir, const char *name, long long *objs, long long *bytes)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s.heap", dir, name);
    prof_totals(path, objs, bytes);
}

int main(int argc, char **argv)
{
    CHECK(argc == 2);
    long long objs0, bytes0, objs1, bytes1, objs2, bytes2;
    dump_totals(argv[1], "before", &objs0, &bytes0);

    fault_arm(FAULT_MAP, 0, 0, 1, 1);
    size_t n = 0;
    while (n < MAX_BLOCKS && (blocks[n] = malloc(16)) != NULL)
        n++;
    uint64_t injected = fault_disarm();
    CHECK_MSG(injected > 0, "no mmap failed: the records never ran out");

    dump_totals(argv[1], "live", &objs1, &bytes1);
    CHECK_MSG(objs1 > objs0, "no sample was counted (%lld, %lld before)", objs1, objs0);
    CHECK_MSG(objs1 - objs0 < (long long)n,
              "all %zu blocks counted (%lld): no sample went without a record", n, objs1 - objs0);

    for (size_t i = 0; i < n; i++)
        free(blocks[i]);
    dump_totals(argv[1], "after", &objs2, &bytes2);
    CHECK_MSG(objs2 == objs0 && bytes2 == bytes0,
              "after freeing all: %lld objects, %lld bytes in use; %lld, %lld before", objs2, bytes2,
              objs0, bytes0);
    printf("%zu blocks, %lld with a record; all freed: %lld objects in use, as before (%llu mmap "
           "failures)\n",
           n, objs1 - objs0, objs2, (unsigned long long)injected);
    return 0;
}
