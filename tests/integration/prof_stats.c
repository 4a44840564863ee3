/*
 * prof_stats: with prof:true, prof_stats:true and lg_prof_sample:0 (every
 * allocation sampled), prof.stats.bins.<j>.{live,accum} and
 * prof.stats.lextents.<j>.{live,accum} ({uint64 req_sum, uint64 count})
 * move by exactly the allocations of that size class: count by the number
 * of blocks, req_sum by their requested sizes; frees lower live only.
 * Small (90 B in the 96 B bin), large (100000 B) and huge (3 MiB) classes.
 * Without prof_stats (and without prof) the names are ENOENT (children
 * re-run with that MALLOC_CONF).
 */
#include "check.h"

#include <sys/wait.h>

struct ps {
    uint64_t req_sum, count;
};

static struct ps read_ps(const char *kind, unsigned j, const char *which)
{
    char name[96];
    snprintf(name, sizeof(name), "prof.stats.%s.%u.%s", kind, j, which);
    struct ps v = {0, 0};
    size_t sz = sizeof(v);
    CHECK_EQ(mallctl(name, &v, &sz, NULL, 0), 0);
    CHECK_EQ(sz, sizeof(v));
    return v;
}

static unsigned bin_of(size_t usize)
{
    unsigned n = 0;
    size_t sz = sizeof(n);
    CHECK_EQ(mallctl("arenas.nbins", &n, &sz, NULL, 0), 0);
    for (unsigned j = 0; j < n; j++) {
        char name[64];
        size_t v = 0;
        sz = sizeof(v);
        snprintf(name, sizeof(name), "arenas.bin.%u.size", j);
        CHECK_EQ(mallctl(name, &v, &sz, NULL, 0), 0);
        if (v == usize)
            return j;
    }
    CHECK_MSG(0, "no bin of size %zu", usize);
}

static unsigned lextent_of(size_t usize)
{
    unsigned n = 0;
    size_t sz = sizeof(n);
    CHECK_EQ(mallctl("arenas.nlextents", &n, &sz, NULL, 0), 0);
    for (unsigned j = 0; j < n; j++) {
        char name[64];
        size_t v = 0;
        sz = sizeof(v);
        snprintf(name, sizeof(name), "arenas.lextent.%u.size", j);
        CHECK_EQ(mallctl(name, &v, &sz, NULL, 0), 0);
        if (v == usize)
            return j;
    }
    CHECK_MSG(0, "no lextent of size %zu", usize);
}

/* n blocks of size bytes; then free the first nfree; check the counters. */
static void exercise(const char *kind, unsigned j, size_t size, unsigned n, unsigned nfree)
{
    static void *blk[200];
    struct ps l0 = read_ps(kind, j, "live"), a0 = read_ps(kind, j, "accum");
    for (unsigned i = 0; i < n; i++)
        CHECK_NONNULL(blk[i] = malloc(size));
    struct ps l1 = read_ps(kind, j, "live"), a1 = read_ps(kind, j, "accum");
    CHECK_EQ(l1.count - l0.count, n);
    CHECK_EQ(l1.req_sum - l0.req_sum, (uint64_t)n * size);
    CHECK_EQ(a1.count - a0.count, n);
    CHECK_EQ(a1.req_sum - a0.req_sum, (uint64_t)n * size);
    for (unsigned i = 0; i < nfree; i++)
        free(blk[i]);
    struct ps l2 = read_ps(kind, j, "live"), a2 = read_ps(kind, j, "accum");
    CHECK_EQ(l1.count - l2.count, nfree);
    CHECK_EQ(l1.req_sum - l2.req_sum, (uint64_t)nfree * size);
    CHECK_EQ(a2.count, a1.count);
    CHECK_EQ(a2.req_sum, a1.req_sum);
    for (unsigned i = nfree; i < n; i++)
        free(blk[i]);
    CHECK_EQ(read_ps(kind, j, "live").count, l0.count);
}

int main(int argc, char **argv)
{
    tl_require_liballoc();
    struct ps v;
    size_t sz = sizeof(v);
    if (argc > 1) {
        /* prof_stats off (or prof off): the names do not exist. */
        CHECK_EQ(mallctl("prof.stats.bins.0.live", &v, &sz, NULL, 0), ENOENT);
        CHECK_EQ(mallctl("prof.stats.lextents.0.accum", &v, &sz, NULL, 0), ENOENT);
        return 0;
    }
    bool on = false;
    sz = sizeof(on);
    CHECK_EQ(mallctl("opt.prof_stats", &on, &sz, NULL, 0), 0);
    CHECK_MSG(on, "runs with prof:true,prof_stats:true (prof_stats.conf)");
    exercise("bins", bin_of(nallocx(90, 0)), 90, 100, 40);
    exercise("lextents", lextent_of(nallocx(100000, 0)), 100000, 5, 2);
    exercise("lextents", lextent_of(nallocx(3 << 20, 0)), 3 << 20, 3, 1);
    /* Past the last class, and writes. */
    sz = sizeof(v);
    CHECK_EQ(mallctl("prof.stats.bins.100000.live", &v, &sz, NULL, 0), ENOENT);
    CHECK_EQ(mallctl("prof.stats.bins.0.live", &v, &sz, &v, sizeof(v)), EPERM);
    tl_run_child("prof:true,lg_prof_sample:0");
    tl_run_child("prof_stats:true");
    printf("prof_stats: ok\n");
    return 0;
}
