/*
 * prof_xallocx: xallocx resizes a large or huge block in place as realloc
 * does, and like realloc's resize in place (and jemalloc's xallocx) it is a
 * free of the old size and an allocation of the new one: thread.allocated
 * grows by the new usable size, thread.deallocated by the old, and the
 * profiler's sample of the block is redone at the new size. Before, none of
 * the three moved: a block grown from 40 KiB to 1 MiB stayed a 40 KiB
 * sample. Every allocation is sampled (prof_xallocx.conf: lg_prof_sample:0),
 * so the dump's in-use bytes are exact. Checked growing a large block, then
 * shrinking a huge one, then freeing both: back to the count before; and a
 * block grown by a thread that had never allocated (no heap yet: its old
 * sample went, and the new one was lost) must show in the dump at its new
 * size.
 */
#include "check.h"
#include "prof_totals.h"

#include <pthread.h>
#include <stdbool.h>

static uint64_t counter(const char *name)
{
    uint64_t v = 0;
    size_t sz = sizeof(v);
    CHECK_I(mallctl(name, &v, &sz, NULL, 0), ==, 0);
    return v;
}

/* xallocx(p, size) succeeds to want bytes; the counters and the dump follow. */
static void check_resize(const char *path, void *p, size_t size, size_t want)
{
    long long o0, b0, o1, b1;
    prof_totals(path, &o0, &b0);
    size_t old = sallocx(p, 0);
    uint64_t a0 = counter("thread.allocated"), d0 = counter("thread.deallocated");
    size_t got = xallocx(p, size, 0, 0);
    uint64_t a1 = counter("thread.allocated"), d1 = counter("thread.deallocated");
    prof_totals(path, &o1, &b1);
    CHECK_MSG(got == want, "xallocx(%zu bytes -> %zu) gave %zu, expected %zu", old, size, got, want);
    CHECK_MSG(a1 - a0 == want, "thread.allocated +%llu, expected +%zu", (unsigned long long)(a1 - a0),
              want);
    CHECK_MSG(d1 - d0 == old, "thread.deallocated +%llu, expected +%zu", (unsigned long long)(d1 - d0),
              old);
    CHECK_MSG(o1 == o0, "objects in use %lld -> %lld", o0, o1);
    CHECK_MSG(b1 - b0 == (long long)want - (long long)old, "bytes in use %+lld, expected %+lld",
              b1 - b0, (long long)want - (long long)old);
}

static void *grow_from_new_thread(void *p)
{
    CHECK(xallocx(p, 900000, 0, 0) == nallocx(900000, 0));
    return NULL;
}

/* True if the heap_v2 dump at path has a site holding one object of n bytes. */
static bool dump_has_site(const char *path, size_t n)
{
    const char *pp = path;
    CHECK_I(mallctl("prof.dump", NULL, NULL, &pp, sizeof(pp)), ==, 0);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    char line[512], want[64];
    snprintf(want, sizeof(want), "  t*: 1: %zu [", n);
    bool found = false;
    while (!found && fgets(line, sizeof(line), f))
        found = line[0] == ' ' && strncmp(line, want, strlen(want)) == 0;
    fclose(f);
    remove(path);
    return found;
}

int main(void)
{
    char path[64];
    snprintf(path, sizeof(path), "/tmp/prof_xallocx.%d.heap", (int)getpid());
    long long o0, b0, o1, b1;
    prof_totals(path, &o0, &b0);
    void *large = malloc(40000);
    void *huge = malloc(8 << 20);
    CHECK_NONNULL(large);
    CHECK_NONNULL(huge);
    size_t grown = nallocx(1000000, 0);
    check_resize(path, large, 1000000, grown);
    check_resize(path, huge, 4 << 20, nallocx(4 << 20, 0));
    free(large);
    free(huge);
    prof_totals(path, &o1, &b1);
    CHECK_MSG(o1 == o0 && b1 == b0, "after the frees: %lld objects, %lld bytes (%lld, %lld before)", o1,
              b1, o0, b0);
    void *p = malloc(40000);
    CHECK_NONNULL(p);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, grow_from_new_thread, p) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    CHECK_MSG(dump_has_site(path, nallocx(900000, 0)),
              "a block grown to %zu by a new thread is not in the dump", nallocx(900000, 0));
    free(p);
    printf("xallocx: 40000 -> %zu and 8 MiB -> 4 MiB in place, counters and samples follow\n", grown);
    return 0;
}
