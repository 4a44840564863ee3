/*
 * ctl_arenas: arenas made with arenas.create serve what is asked of them,
 * and the arena.<i> controls act on them:
 *   - arenas.create returns the next index, arenas.narenas grows by one,
 *     and the new arena's stats start empty (stats.arenas.<i>.*);
 *   - mallocx(MALLOCX_ARENA(i)) of large sizes moves
 *     stats.arenas.<i>.large.{nmalloc,ndalloc,allocated} and pactive by
 *     exactly what was allocated, and small sizes (MALLOCX_TCACHE_NONE)
 *     move small.nmalloc, small.allocated and that bin's counters;
 *     arena 0 does not see them;
 *   - thread.arena: a write returns the old binding, later mallocs of a
 *     large size go to the new arena, nthreads follows the binding;
 *   - arenas.dirty_decay_ms is the default for arenas created afterwards;
 *     arena.<i>.dirty_decay_ms/muzzy_decay_ms read back what was written,
 *     and stats.arenas.<i>.dirty_decay_ms reports it;
 *   - with dirty_decay_ms -1 freed pages stay dirty (pdirty > 0) and
 *     arena.<i>.decay leaves them; arena.<i>.purge returns them all
 *     (pdirty == pmuzzy == 0) and stats.resident drops;
 *   - arena.<MALLCTL_ARENAS_ALL>.purge and .decay act on every arena.
 * Stats are read after an epoch write, as jemalloc requires.
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

/* Read "stats.arenas.<i>.<leaf>" (or any printf-formed name) of type T. */
static uint64_t rd_u64(const char *fmt, unsigned i)
{
    char name[128];
    snprintf(name, sizeof(name), fmt, i);
    uint64_t v = 0;
    size_t sz = sizeof(v);
    int r = mallctl(name, &v, &sz, NULL, 0);
    CHECK_MSG(r == 0, "mallctl(\"%s\") = %d", name, r);
    return v;
}

static size_t rd_size(const char *fmt, unsigned i)
{
    char name[128];
    snprintf(name, sizeof(name), fmt, i);
    size_t v = 0, sz = sizeof(v);
    int r = mallctl(name, &v, &sz, NULL, 0);
    CHECK_MSG(r == 0, "mallctl(\"%s\") = %d", name, r);
    return v;
}

static ssize_t rd_ssize(const char *fmt, unsigned i)
{
    char name[128];
    snprintf(name, sizeof(name), fmt, i);
    ssize_t v = 0;
    size_t sz = sizeof(v);
    int r = mallctl(name, &v, &sz, NULL, 0);
    CHECK_MSG(r == 0, "mallctl(\"%s\") = %d", name, r);
    return v;
}

static unsigned rd_unsigned(const char *fmt, unsigned i)
{
    char name[128];
    snprintf(name, sizeof(name), fmt, i);
    unsigned v = 0;
    size_t sz = sizeof(v);
    int r = mallctl(name, &v, &sz, NULL, 0);
    CHECK_MSG(r == 0, "mallctl(\"%s\") = %d", name, r);
    return v;
}

static void wr_ssize(const char *fmt, unsigned i, ssize_t v)
{
    char name[128];
    snprintf(name, sizeof(name), fmt, i);
    int r = mallctl(name, NULL, NULL, &v, sizeof(v));
    CHECK_MSG(r == 0, "mallctl(\"%s\") = %zd: %d", name, v, r);
}

static void ctl_void(const char *fmt, unsigned i)
{
    char name[128];
    snprintf(name, sizeof(name), fmt, i);
    int r = mallctl(name, NULL, NULL, NULL, 0);
    CHECK_MSG(r == 0, "mallctl(\"%s\") = %d", name, r);
}

static unsigned create_arena(void)
{
    unsigned before = rd_unsigned("arenas.narenas", 0), ar = 0;
    size_t sz = sizeof(ar);
    CHECK_I(mallctl("arenas.create", &ar, &sz, NULL, 0), ==, 0);
    CHECK_EQ(ar, before);
    CHECK_EQ(rd_unsigned("arenas.narenas", 0), before + 1);
    return ar;
}

static size_t page_size(void)
{
    return rd_size("arenas.page", 0);
}

struct large_counts {
    uint64_t nmalloc, ndalloc;
    size_t allocated, pactive;
};

static void large_read(unsigned i, struct large_counts *c)
{
    epoch();
    c->nmalloc = rd_u64("stats.arenas.%u.large.nmalloc", i);
    c->ndalloc = rd_u64("stats.arenas.%u.large.ndalloc", i);
    c->allocated = rd_size("stats.arenas.%u.large.allocated", i);
    c->pactive = rd_size("stats.arenas.%u.pactive", i);
}

static void test_create_and_mallocx_arena(void)
{
    unsigned ar = create_arena();
    const size_t pg = page_size();
    epoch();
    /* A new arena starts empty. */
    CHECK_EQ(rd_u64("stats.arenas.%u.large.nmalloc", ar), 0);
    CHECK_EQ(rd_u64("stats.arenas.%u.small.nmalloc", ar), 0);
    CHECK_EQ(rd_size("stats.arenas.%u.pactive", ar), 0);
    CHECK_EQ(rd_unsigned("stats.arenas.%u.nthreads", ar), 0);

    /* Large blocks, page multiples so that usize == size. */
    static const size_t sizes[] = {64 << 10, 100 << 10, 320 << 10, 1 << 20, 5 << 20};
    enum { NS = sizeof(sizes) / sizeof(sizes[0]), PER = 3 };
    void *p[NS * PER];
    struct large_counts a0, b0, a1, b1, a2;
    large_read(ar, &a0);
    large_read(0, &b0);
    size_t total = 0;
    for (int i = 0; i < NS * PER; i++) {
        size_t n = sizes[i % NS];
        p[i] = mallocx(n, MALLOCX_ARENA(ar));
        CHECK_NONNULL(p[i]);
        CHECK_EQ(sallocx(p[i], 0), nallocx(n, 0));
        memset(p[i], 0xa1, n);
        total += sallocx(p[i], 0);
    }
    large_read(ar, &a1);
    large_read(0, &b1);
    CHECK_MSG(a1.nmalloc - a0.nmalloc == NS * PER,
              "arena %u: %d large mallocx(MALLOCX_ARENA) moved large.nmalloc by %" PRIu64, ar,
              NS * PER, a1.nmalloc - a0.nmalloc);
    CHECK_MSG(a1.allocated - a0.allocated == total, "arena %u: large.allocated +%zu, want +%zu", ar,
              a1.allocated - a0.allocated, total);
    CHECK_MSG(a1.pactive - a0.pactive >= total / pg, "arena %u: pactive +%zu pages for %zu bytes",
              ar, a1.pactive - a0.pactive, total);
    CHECK_MSG(b1.nmalloc == b0.nmalloc, "arena 0 counted %" PRIu64 " of arena %u's allocations",
              b1.nmalloc - b0.nmalloc, ar);
    for (int i = 0; i < NS * PER; i++)
        dallocx(p[i], 0);
    large_read(ar, &a2);
    CHECK_EQ(a2.ndalloc - a0.ndalloc, NS * PER);
    CHECK_EQ(a2.allocated, a0.allocated);
    CHECK_EQ(a2.pactive, a0.pactive);

    /* Small blocks without the thread cache come from the arena's bins. */
    const size_t small = 100, us = nallocx(small, 0);
    unsigned nbins = rd_unsigned("arenas.nbins", 0), j = 0;
    while (j < nbins && rd_size("arenas.bin.%u.size", j) != us)
        j++;
    CHECK_U(j, <, nbins);
    char bin_fmt[96];
    snprintf(bin_fmt, sizeof(bin_fmt), "stats.arenas.%%u.bins.%u.nmalloc", j);
    epoch();
    uint64_t sn0 = rd_u64("stats.arenas.%u.small.nmalloc", ar);
    size_t sa0 = rd_size("stats.arenas.%u.small.allocated", ar);
    uint64_t bn0 = rd_u64(bin_fmt, ar), zn0 = rd_u64(bin_fmt, 0);
    enum { NSMALL_BLOCKS = 300 };
    void *q[NSMALL_BLOCKS];
    for (int i = 0; i < NSMALL_BLOCKS; i++) {
        q[i] = mallocx(small, MALLOCX_ARENA(ar) | MALLOCX_TCACHE_NONE);
        CHECK_NONNULL(q[i]);
        memset(q[i], i, small);
    }
    epoch();
    uint64_t sn1 = rd_u64("stats.arenas.%u.small.nmalloc", ar);
    size_t sa1 = rd_size("stats.arenas.%u.small.allocated", ar);
    uint64_t bn1 = rd_u64(bin_fmt, ar), zn1 = rd_u64(bin_fmt, 0);
    for (int i = 0; i < NSMALL_BLOCKS; i++)
        dallocx(q[i], MALLOCX_TCACHE_NONE);
    epoch();
    uint64_t sd2 = rd_u64("stats.arenas.%u.small.ndalloc", ar);
    size_t sa2 = rd_size("stats.arenas.%u.small.allocated", ar);
    CHECK_MSG(sn1 - sn0 == NSMALL_BLOCKS && bn1 - bn0 == NSMALL_BLOCKS,
              "arena %u: %d mallocx(%zu, MALLOCX_ARENA|MALLOCX_TCACHE_NONE) moved small.nmalloc by "
              "%" PRIu64 " and bins.%u.nmalloc by %" PRIu64 " (arena 0's bin by %" PRIu64 ")",
              ar, NSMALL_BLOCKS, small, sn1 - sn0, j, bn1 - bn0, zn1 - zn0);
    CHECK_EQ(zn1, zn0);
    CHECK_EQ(sa1 - sa0, (size_t)NSMALL_BLOCKS * us);
    CHECK_EQ(sa2, sa0);
    CHECK_EQ(sd2, sn1);
}

/* ---- thread.arena ---- */

struct bind_job {
    unsigned arena;
};

static void *bind_thread(void *arg)
{
    struct bind_job *job = arg;
    unsigned old = 0, now = 0, ar = job->arena;
    size_t sz = sizeof(old);
    CHECK_I(mallctl("thread.arena", &old, &sz, NULL, 0), ==, 0);
    unsigned ret = 12345;
    CHECK_I(mallctl("thread.arena", &ret, &sz, &ar, sizeof(ar)), ==, 0);
    CHECK_EQ(ret, old); /* the value before the write */
    CHECK_I(mallctl("thread.arena", &now, &sz, NULL, 0), ==, 0);
    CHECK_EQ(now, job->arena);
    epoch();
    CHECK_EQ(rd_unsigned("stats.arenas.%u.nthreads", ar), 1);

    struct large_counts c0, c1;
    large_read(ar, &c0);
    void *p[8];
    for (int i = 0; i < 8; i++) {
        p[i] = malloc(200000);
        CHECK_NONNULL(p[i]);
        memset(p[i], 1, 200000);
    }
    large_read(ar, &c1);
    CHECK_MSG(c1.nmalloc - c0.nmalloc == 8,
              "thread bound to arena %u: 8 mallocs of 200000 moved its large.nmalloc by %" PRIu64,
              ar, c1.nmalloc - c0.nmalloc);
    CHECK_EQ(c1.allocated - c0.allocated, 8 * nallocx(200000, 0));
    for (int i = 0; i < 8; i++)
        free(p[i]);
    /* Back to where it was. */
    CHECK_I(mallctl("thread.arena", &ret, &sz, &old, sizeof(old)), ==, 0);
    CHECK_EQ(ret, job->arena);
    epoch();
    CHECK_EQ(rd_unsigned("stats.arenas.%u.nthreads", ar), 0);
    return NULL;
}

static void test_thread_arena(void)
{
    struct bind_job job = {create_arena()};
    pthread_t t;
    CHECK_I(pthread_create(&t, NULL, bind_thread, &job), ==, 0);
    CHECK_I(pthread_join(t, NULL), ==, 0);
}

/* ---- decay times, decay and purge ---- */

static void test_decay_settings(void)
{
    ssize_t dflt = rd_ssize("arenas.dirty_decay_ms", 0),
            mdflt = rd_ssize("arenas.muzzy_decay_ms", 0);
    CHECK_I(dflt, ==, rd_ssize("opt.dirty_decay_ms", 0));
    CHECK_I(mdflt, ==, rd_ssize("opt.muzzy_decay_ms", 0));
    /* The default applies to arenas created after it is set. */
    wr_ssize("arenas.dirty_decay_ms", 0, 4321);
    wr_ssize("arenas.muzzy_decay_ms", 0, 1234);
    CHECK_I(rd_ssize("arenas.dirty_decay_ms", 0), ==, 4321);
    unsigned ar = create_arena();
    CHECK_I(rd_ssize("arena.%u.dirty_decay_ms", ar), ==, 4321);
    CHECK_I(rd_ssize("arena.%u.muzzy_decay_ms", ar), ==, 1234);
    wr_ssize("arenas.dirty_decay_ms", 0, dflt);
    wr_ssize("arenas.muzzy_decay_ms", 0, mdflt);
    CHECK_I(rd_ssize("arena.%u.dirty_decay_ms", ar), ==, 4321);
    /* Existing arenas keep theirs. */
    CHECK_I(rd_ssize("arena.%u.dirty_decay_ms", 0), ==, rd_ssize("opt.dirty_decay_ms", 0));

    /* rw on the arena; a write returns the old value; stats report the new one. */
    char name[64];
    snprintf(name, sizeof(name), "arena.%u.dirty_decay_ms", ar);
    ssize_t old = 0, nv = -1;
    size_t sz = sizeof(old);
    CHECK_I(mallctl(name, &old, &sz, &nv, sizeof(nv)), ==, 0);
    CHECK_I(old, ==, 4321);
    CHECK_I(rd_ssize("arena.%u.dirty_decay_ms", ar), ==, -1);
    wr_ssize("arena.%u.muzzy_decay_ms", ar, 0);
    CHECK_I(rd_ssize("arena.%u.muzzy_decay_ms", ar), ==, 0);
    epoch();
    CHECK_I(rd_ssize("stats.arenas.%u.dirty_decay_ms", ar), ==, -1);
    CHECK_I(rd_ssize("stats.arenas.%u.muzzy_decay_ms", ar), ==, 0);
    wr_ssize("arena.%u.dirty_decay_ms", ar, 100000);
    CHECK_I(rd_ssize("arena.%u.dirty_decay_ms", ar), ==, 100000);
}

static void test_decay_and_purge(void)
{
    unsigned ar = create_arena();
    const size_t pg = page_size();
    wr_ssize("arena.%u.dirty_decay_ms", ar, -1);
    wr_ssize("arena.%u.muzzy_decay_ms", ar, -1);

    /* 32 x 256 KiB, touched, then freed: 8 MiB of dirty pages that never decay. */
    enum { N = 32 };
    const size_t sz = 256 << 10;
    void *p[N];
    epoch();
    size_t active0 = rd_size("stats.arenas.%u.pactive", ar);
    for (int i = 0; i < N; i++) {
        p[i] = mallocx(sz, MALLOCX_ARENA(ar) | MALLOCX_TCACHE_NONE);
        CHECK_NONNULL(p[i]);
        memset(p[i], 0x3c, sz);
    }
    epoch();
    size_t active = rd_size("stats.arenas.%u.pactive", ar);
    CHECK_U(active - active0, >=, N * sz / pg);
    for (int i = 0; i < N; i++)
        dallocx(p[i], MALLOCX_TCACHE_NONE);
    epoch();
    size_t dirty = rd_size("stats.arenas.%u.pdirty", ar);
    size_t res0 = rd_size("stats.resident", 0);
    CHECK_MSG(dirty >= N * sz / pg / 2,
              "arena %u with dirty_decay_ms -1: %zu pages freed, pdirty %zu", ar, N * sz / pg,
              dirty);
    CHECK_EQ(rd_size("stats.arenas.%u.pactive", ar), active0);

    /* decay with -1 purges nothing. */
    ctl_void("arena.%u.decay", ar);
    epoch();
    CHECK_MSG(rd_size("stats.arenas.%u.pdirty", ar) == dirty,
              "arena.%u.decay with dirty_decay_ms -1 changed pdirty %zu -> %zu", ar, dirty,
              rd_size("stats.arenas.%u.pdirty", ar));

    /* purge returns every unused dirty and muzzy page. */
    ctl_void("arena.%u.purge", ar);
    epoch();
    size_t d1 = rd_size("stats.arenas.%u.pdirty", ar), m1 = rd_size("stats.arenas.%u.pmuzzy", ar);
    size_t res1 = rd_size("stats.resident", 0);
    CHECK_MSG(d1 == 0 && m1 == 0, "after arena.%u.purge: pdirty %zu, pmuzzy %zu (want 0, 0)", ar,
              d1, m1);
    CHECK_MSG(res1 + dirty * pg / 2 <= res0,
              "stats.resident %zu -> %zu after purging %zu dirty pages", res0, res1, dirty);

    /* Again with decay: dirty_decay_ms 0 then arena.<i>.decay leaves nothing dirty. */
    for (int i = 0; i < N; i++) {
        p[i] = mallocx(sz, MALLOCX_ARENA(ar) | MALLOCX_TCACHE_NONE);
        CHECK_NONNULL(p[i]);
        memset(p[i], 0x3d, sz);
    }
    for (int i = 0; i < N; i++)
        dallocx(p[i], MALLOCX_TCACHE_NONE);
    epoch();
    CHECK_U(rd_size("stats.arenas.%u.pdirty", ar), >, 0);
    wr_ssize("arena.%u.dirty_decay_ms", ar, 0);
    wr_ssize("arena.%u.muzzy_decay_ms", ar, 0);
    ctl_void("arena.%u.decay", ar);
    epoch();
    CHECK_MSG(rd_size("stats.arenas.%u.pdirty", ar) == 0,
              "arena.%u.decay with dirty_decay_ms 0 left pdirty %zu", ar,
              rd_size("stats.arenas.%u.pdirty", ar));

    /* The MALLCTL_ARENAS_ALL forms reach this arena too. */
    wr_ssize("arena.%u.dirty_decay_ms", ar, -1);
    for (int i = 0; i < N; i++) {
        p[i] = mallocx(sz, MALLOCX_ARENA(ar) | MALLOCX_TCACHE_NONE);
        CHECK_NONNULL(p[i]);
        memset(p[i], 0x3e, sz);
    }
    for (int i = 0; i < N; i++)
        dallocx(p[i], MALLOCX_TCACHE_NONE);
    epoch();
    CHECK_U(rd_size("stats.arenas.%u.pdirty", ar), >, 0);
    ctl_void("arena.%u.purge", MALLCTL_ARENAS_ALL);
    epoch();
    CHECK_EQ(rd_size("stats.arenas.%u.pdirty", ar), 0);
    CHECK_EQ(rd_size("stats.arenas.%u.pdirty", MALLCTL_ARENAS_ALL), 0);
    ctl_void("arena.%u.decay", MALLCTL_ARENAS_ALL);
}

int main(void)
{
    tl_require_liballoc();
    test_thread_arena();
    test_decay_settings();
    test_decay_and_purge();
    test_create_and_mallocx_arena();
    printf("ctl_arenas: ok\n");
    return 0;
}
