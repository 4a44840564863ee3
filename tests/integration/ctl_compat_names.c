/*
 * ctl_compat_names: the jemalloc 5.3 mallctl names liballoc added for
 * compatibility answer with true values, by name and by MIB:
 *   - opt.{oversize_threshold,dss,metadata_thp,cache_oblivious,
 *     trust_madvise,stats_interval,stats_interval_opts} read liballoc's
 *     fixed behaviour in jemalloc's types, and refuse writes (EPERM);
 *   - arena.<i>.initialized: true for arena 0, a created arena and
 *     MALLCTL_ARENAS_ALL, false for MALLCTL_ARENAS_DESTROYED;
 *   - on an arena of its own (arenas.create, thread.arena), 3 * nregs + 1
 *     blocks of 100 bytes fill exactly 4 slab pages: bins.<j>.nfills,
 *     nslabs and curslabs are 4, nonfull_slabs 1, nrequests == nmalloc ==
 *     the blocks, small.nfills 4; once freed and flushed, nflushes is 4,
 *     curslabs and nonfull_slabs 0;
 *   - three 100000-byte blocks (class 114688) and one of 5 MiB count in
 *     lextents.<j>.{nmalloc,curlextents} of their classes and nowhere
 *     else; freed (the three go to the thread's cache, then back at
 *     thread.tcache.flush in one batch: large.nflushes 1), ndalloc
 *     follows and curlextents is 0; MALLCTL_ARENAS_ALL sums at least them;
 *   - mallctlbymib with mib[2] and mib[4] replaced reads what the names do;
 *   - stats.arenas.<i>.uptime grows with time;
 *   - thread.peak.read is 0 after thread.peak.reset, sees the high of
 *     blocks from the thread's large cache, keeps an 8 MiB high
 *     after the block is freed, and is per thread; thread.idle gives the
 *     thread's pages back (curslabs 0) and takes no data.
 * Checked against Debian's libjemalloc 5.3.0 where values are not ours by
 * design (types, errors, initialized, peak).
 */
#include "check.h"

#include <pthread.h>
#include <sys/types.h>

static void epoch(void)
{
    uint64_t e = 1;
    size_t sz = sizeof(e);
    CHECK_I(mallctl("epoch", &e, &sz, &e, sizeof(e)), ==, 0);
}

static uint64_t rd_u64(const char *fmt, unsigned i, unsigned j)
{
    char name[128];
    snprintf(name, sizeof(name), fmt, i, j);
    uint64_t v = 0;
    size_t sz = sizeof(v);
    int r = mallctl(name, &v, &sz, NULL, 0);
    CHECK_MSG(r == 0 && sz == sizeof(v), "mallctl(\"%s\") = %d", name, r);
    return v;
}

static size_t rd_size(const char *fmt, unsigned i, unsigned j)
{
    char name[128];
    snprintf(name, sizeof(name), fmt, i, j);
    size_t v = 0, sz = sizeof(v);
    int r = mallctl(name, &v, &sz, NULL, 0);
    CHECK_MSG(r == 0, "mallctl(\"%s\") = %d", name, r);
    return v;
}

static const char *rd_str(const char *name)
{
    const char *v = NULL;
    size_t sz = sizeof(v);
    CHECK_MSG(mallctl(name, &v, &sz, NULL, 0) == 0, "mallctl(\"%s\")", name);
    return v;
}

static bool rd_bool(const char *fmt, unsigned i)
{
    char name[128];
    snprintf(name, sizeof(name), fmt, i);
    bool v = false;
    size_t sz = sizeof(v);
    int r = mallctl(name, &v, &sz, NULL, 0);
    CHECK_MSG(r == 0, "mallctl(\"%s\") = %d", name, r);
    return v;
}

static void test_opts(void)
{
    size_t ot = 1, sz = sizeof(ot);
    CHECK_I(mallctl("opt.oversize_threshold", &ot, &sz, NULL, 0), ==, 0);
    CHECK_EQ(ot, 0);
    CHECK(strcmp(rd_str("opt.dss"), "disabled") == 0);
    CHECK(strcmp(rd_str("opt.metadata_thp"), "disabled") == 0);
    CHECK(strcmp(rd_str("opt.stats_interval_opts"), "") == 0);
    CHECK(rd_bool("opt.cache_oblivious%.0u", 0) == false);
    CHECK(rd_bool("opt.trust_madvise%.0u", 0) == true);
    int64_t si = 0;
    sz = sizeof(si);
    CHECK_I(mallctl("opt.stats_interval", &si, &sz, NULL, 0), ==, 0);
    CHECK_I(si, ==, -1);
    CHECK_I(mallctl("opt.stats_interval", NULL, NULL, &si, sizeof(si)), ==, EPERM);
    CHECK_I(mallctl("opt.oversize_threshold", NULL, NULL, &ot, sizeof(ot)), ==, EPERM);
    sz = 4; /* wrong size */
    CHECK_I(mallctl("opt.oversize_threshold", &ot, &sz, NULL, 0), ==, EINVAL);
}

static void test_initialized(unsigned ai)
{
    CHECK(rd_bool("arena.%u.initialized", 0));
    CHECK(rd_bool("arena.%u.initialized", ai));
    CHECK(rd_bool("arena.%u.initialized", MALLCTL_ARENAS_ALL));
    CHECK(!rd_bool("arena.%u.initialized", MALLCTL_ARENAS_DESTROYED));
    bool v = true;
    CHECK_I(mallctl("arena.0.initialized", NULL, NULL, &v, sizeof(v)), ==, EPERM);
}

/* The small class serving size bytes: its index and blocks per slab. */
static unsigned bin_of(size_t size, uint32_t *nregs)
{
    unsigned nbins = 0;
    size_t sz = sizeof(nbins);
    CHECK_I(mallctl("arenas.nbins", &nbins, &sz, NULL, 0), ==, 0);
    size_t usize = nallocx(size, 0);
    for (unsigned j = 0; j < nbins; j++)
        if (rd_size("arenas.bin.%u.size%.0u", j, 0) == usize) {
            char name[64];
            snprintf(name, sizeof(name), "arenas.bin.%u.nregs", j);
            sz = sizeof(*nregs);
            CHECK_I(mallctl(name, nregs, &sz, NULL, 0), ==, 0);
            return j;
        }
    CHECK_MSG(0, "no bin of size %zu", usize);
    return 0;
}

static unsigned lextent_of(size_t size)
{
    unsigned n = 0;
    size_t sz = sizeof(n);
    CHECK_I(mallctl("arenas.nlextents", &n, &sz, NULL, 0), ==, 0);
    CHECK_EQ(n, 188);
    size_t usize = nallocx(size, 0);
    for (unsigned j = 0; j < n; j++)
        if (rd_size("arenas.lextent.%u.size%.0u", j, 0) == usize)
            return j;
    CHECK_MSG(0, "no large class of size %zu", usize);
    return 0;
}

static void test_bins(unsigned ai)
{
    uint32_t nregs = 0;
    unsigned j = bin_of(100, &nregs);
    size_t n = 3 * (size_t)nregs + 1;
    void **v = malloc(n * sizeof(void *)); /* another class than 100 bytes' */
    CHECK_NONNULL(v);
    CHECK(nallocx(n * sizeof(void *), 0) != nallocx(100, 0));
    epoch();
    CHECK_EQ(rd_u64("stats.arenas.%u.bins.%u.nfills", ai, j), 0);
    for (size_t k = 0; k < n; k++)
        CHECK_NONNULL(v[k] = malloc(100));
    epoch();
    const char *b = "stats.arenas.%u.bins.%u.";
    char name[128];
#define BIN(leaf) (snprintf(name, sizeof(name), "%s%s", b, leaf), name)
    CHECK_EQ(rd_u64(BIN("nmalloc"), ai, j), n);
    CHECK_EQ(rd_u64(BIN("nrequests"), ai, j), n);
    CHECK_EQ(rd_u64(BIN("nfills"), ai, j), 4);
    CHECK_EQ(rd_u64(BIN("nslabs"), ai, j), 4);
    CHECK_EQ(rd_u64(BIN("nflushes"), ai, j), 0);
    CHECK_EQ(rd_size(BIN("curslabs"), ai, j), 4);
    CHECK_EQ(rd_size(BIN("nonfull_slabs"), ai, j), 1);
    CHECK(rd_u64("stats.arenas.%u.small.nfills%.0u", ai, 0) >= 4);
    CHECK_EQ(rd_u64("stats.arenas.%u.small.nrequests%.0u", ai, 0),
             rd_u64("stats.arenas.%u.small.nmalloc%.0u", ai, 0));
    CHECK(rd_u64(BIN("nfills"), MALLCTL_ARENAS_ALL, j) >= 4);
    /* By MIB: the same values, arena and class put in by hand. */
    size_t mib[6], miblen = 6;
    CHECK_I(mallctlnametomib("stats.arenas.0.bins.0.nfills", mib, &miblen), ==, 0);
    CHECK_EQ(miblen, 6);
    mib[2] = ai;
    mib[4] = j;
    uint64_t byname = rd_u64(BIN("nfills"), ai, j), bymib = 0;
    size_t sz = sizeof(bymib);
    CHECK_I(mallctlbymib(mib, miblen, &bymib, &sz, NULL, 0), ==, 0);
    CHECK_EQ(bymib, byname);
    for (size_t k = 0; k < n; k++)
        free(v[k]);
    CHECK_I(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0), ==, 0);
    epoch();
    CHECK_EQ(rd_u64(BIN("nflushes"), ai, j), 4);
    CHECK_EQ(rd_u64(BIN("ndalloc"), ai, j), n);
    CHECK_EQ(rd_size(BIN("curslabs"), ai, j), 0);
    CHECK_EQ(rd_size(BIN("nonfull_slabs"), ai, j), 0);
    CHECK_EQ(rd_u64(BIN("nslabs"), ai, j), 4);
    CHECK(rd_u64("stats.arenas.%u.small.nflushes%.0u", ai, 0) >= 4);
    /* thread.idle gives back a page taken since. */
    void *p = malloc(100);
    epoch();
    CHECK_EQ(rd_size(BIN("curslabs"), ai, j), 1);
    CHECK_I(mallctl("thread.idle", NULL, NULL, NULL, 0), ==, 0);
    epoch();
    CHECK_EQ(rd_u64(BIN("nflushes"), ai, j), 5);
    free(p); /* into a page its thread no longer owns */
    uint64_t x = 0;
    sz = sizeof(x);
    CHECK_I(mallctl("thread.idle", &x, &sz, NULL, 0), ==, EPERM);
#undef BIN
    free(v);
}

static void test_lextents(unsigned ai)
{
    bool resized = false;
    unsigned j = lextent_of(100000), h = lextent_of(5 << 20);
    const char *l = "stats.arenas.%u.lextents.%u.";
    char name[128];
#define LX(leaf) (snprintf(name, sizeof(name), "%s%s", l, leaf), name)
    epoch();
    uint64_t flushes0 = rd_u64("stats.arenas.%u.large.nflushes%.0u", ai, 0);
    CHECK_EQ(rd_u64(LX("nmalloc"), ai, j), 0);
    void *p[3], *big;
    for (int k = 0; k < 3; k++)
        CHECK_NONNULL(p[k] = malloc(100000));
    CHECK_NONNULL(big = malloc(5 << 20));
    epoch();
    CHECK_EQ(rd_u64(LX("nmalloc"), ai, j), 3);
    CHECK_EQ(rd_size(LX("curlextents"), ai, j), 3);
    CHECK_EQ(rd_u64(LX("nmalloc"), ai, h), 1);
    CHECK_EQ(rd_size(LX("curlextents"), ai, h), 1);
    CHECK_EQ(rd_u64(LX("nmalloc"), ai, j + 1), 0);
    CHECK(rd_size(LX("curlextents"), MALLCTL_ARENAS_ALL, j) >= 3);
    size_t mib[6], miblen = 6;
    CHECK_I(mallctlnametomib("stats.arenas.0.lextents.0.curlextents", mib, &miblen), ==, 0);
    mib[2] = MALLCTL_ARENAS_ALL;
    mib[4] = h;
    size_t cur = 0, sz = sizeof(cur);
    CHECK_I(mallctlbymib(mib, miblen, &cur, &sz, NULL, 0), ==, 0);
    CHECK(cur >= 1);
    for (int k = 0; k < 3; k++)
        free(p[k]);
    free(big);
    epoch();
    /* The three are in the thread's cache: still live for the arena. */
    CHECK_EQ(rd_size(LX("curlextents"), ai, j), 3);
    CHECK_EQ(rd_size(LX("curlextents"), ai, h), 0);
    CHECK_EQ(rd_u64(LX("ndalloc"), ai, h), 1);
    CHECK_I(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0), ==, 0);
    epoch();
    CHECK_EQ(rd_u64(LX("ndalloc"), ai, j), 3);
    CHECK_EQ(rd_size(LX("curlextents"), ai, j), 0);
    CHECK_EQ(rd_u64("stats.arenas.%u.large.nflushes%.0u", ai, 0), flushes0 + 1);
    /* Resized in place to the next class: moves from one class to the next. */
    void *q = malloc(100000);
    CHECK_NONNULL(q);
    size_t next = rd_size("arenas.lextent.%u.size%.0u", j + 1, 0);
    if (xallocx(q, next, 0, 0) == next) {
        resized = true;
        epoch();
        CHECK_EQ(rd_size(LX("curlextents"), ai, j), 0);
        CHECK_EQ(rd_size(LX("curlextents"), ai, j + 1), 1);
    }
    free(q);
    CHECK_I(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0), ==, 0);
    printf("ctl_compat_names: in-place resize %s\n", resized ? "checked" : "not possible here");
#undef LX
}

static void test_uptime(unsigned ai)
{
    uint64_t a = rd_u64("stats.arenas.%u.uptime%.0u", ai, 0);
    struct timespec ts = {0, 30 * 1000 * 1000};
    nanosleep(&ts, NULL);
    uint64_t b = rd_u64("stats.arenas.%u.uptime%.0u", ai, 0);
    CHECK(b >= a + 20 * 1000 * 1000);
    CHECK(rd_u64("stats.arenas.%u.uptime%.0u", MALLCTL_ARENAS_ALL, 0) >= b);
}

static uint64_t peak(void)
{
    uint64_t v = UINT64_MAX;
    size_t sz = sizeof(v);
    CHECK_I(mallctl("thread.peak.read", &v, &sz, NULL, 0), ==, 0);
    return v;
}

static void *peak_thread(void *arg)
{
    (void)arg;
    void *p = malloc(2 << 20);
    CHECK_NONNULL(p);
    uint64_t v = peak();
    CHECK(v >= (2 << 20) && v < (8 << 20));
    free(p);
    return NULL;
}

static void test_peak(void)
{
    CHECK_I(mallctl("thread.peak.reset", NULL, NULL, NULL, 0), ==, 0);
    CHECK_EQ(peak(), 0);
    void *p = malloc(8 << 20);
    CHECK_NONNULL(p);
    free(p);
    /* Seen at the allocation's event, not only when read. */
    uint64_t v = peak();
    CHECK(v >= (8 << 20) && v < (9 << 20));
    pthread_t t;
    CHECK_I(pthread_create(&t, NULL, peak_thread, NULL), ==, 0);
    CHECK_I(pthread_join(t, NULL), ==, 0);
    CHECK(peak() >= (8 << 20));
    CHECK_I(mallctl("thread.peak.reset", NULL, NULL, NULL, 0), ==, 0);
    CHECK_EQ(peak(), 0);
    /* Blocks from the thread's large cache (their events come 16 times
     * rarer): rounds of 8 x 100000 B held together, 896 KiB each round,
     * must read 896 KiB whatever the number of rounds (it read 0 to
     * 672 KiB). */
    for (int round = 1; round <= 6; round++) {
        void *b[8];
        CHECK_I(mallctl("thread.peak.reset", NULL, NULL, NULL, 0), ==, 0);
        for (int r = 0; r < round; r++) {
            for (int i = 0; i < 8; i++)
                CHECK_NONNULL(b[i] = malloc(100000));
            for (int i = 0; i < 8; i++)
                free(b[i]);
        }
        CHECK_EQ(peak(), 8 * nallocx(100000, 0));
    }
    CHECK_I(mallctl("thread.peak.reset", NULL, NULL, NULL, 0), ==, 0);
    CHECK_I(mallctl("thread.peak.reset", &v, NULL, NULL, 0), ==, EPERM);
    CHECK_I(mallctl("thread.peak.read", NULL, NULL, &v, sizeof(v)), ==, EPERM);
}

int main(void)
{
    tl_require_liballoc();
    test_opts();
    test_peak();
    unsigned ai = tl_arena_create();
    CHECK_I(mallctl("thread.arena", NULL, NULL, &ai, sizeof(ai)), ==, 0);
    test_initialized(ai);
    test_bins(ai);
    test_lextents(ai);
    test_uptime(ai);
    printf("ctl_compat_names: ok\n");
    return 0;
}
