/*
 * ctl_thread: the per-thread mallctls and what they count, each from a
 * fresh thread so that nothing else has touched its counters:
 *   - thread.allocated / thread.deallocated start at zero in a new thread,
 *     move by exactly the usable sizes of what the thread allocates and
 *     frees (malloc, calloc, realloc, mallocx, posix_memalign; small, large
 *     and huge), not by what other threads do, and a free of another
 *     thread's block counts for the freeing thread;
 *   - thread.allocatedp / thread.deallocatedp point at those counters (the
 *     value read through the pointer tracks every allocation, and two
 *     threads get two pointers);
 *   - thread.tcache.enabled: a write returns the old value, allocations of
 *     every size still work with the cache off, and it reads back;
 *   - tcache.create / tcache.flush / tcache.destroy: distinct indexes,
 *     allocation and free through MALLOCX_TCACHE(i), flush, destroy, and
 *     destroyed indexes are available again (5000 create/destroy rounds);
 *   - stats.arenas.<i>.bins.<j>.{nmalloc,ndalloc,curregs,curslabs} for
 *     bins of several sizes (size from arenas.bin.<j>.size): a fresh thread
 *     bound to a new arena allocates N blocks spanning several slabs; with
 *     the thread cache off the counters move by exactly N, with it on by at
 *     least N (jemalloc counts cache fills) and all comes back after
 *     thread.tcache.flush; small.* and the MALLCTL_ARENAS_ALL view agree.
 */
#include "check.h"

#include <pthread.h>
#include <sched.h>

static uint64_t read_u64(const char *name)
{
    uint64_t v = 0;
    size_t sz = sizeof(v);
    int r = mallctl(name, &v, &sz, NULL, 0);
    CHECK_MSG(r == 0, "mallctl(\"%s\") = %d", name, r);
    return v;
}

static size_t read_size(const char *name)
{
    size_t v = 0, sz = sizeof(v);
    int r = mallctl(name, &v, &sz, NULL, 0);
    CHECK_MSG(r == 0, "mallctl(\"%s\") = %d", name, r);
    return v;
}

static unsigned read_unsigned(const char *name)
{
    unsigned v = 0;
    size_t sz = sizeof(v);
    int r = mallctl(name, &v, &sz, NULL, 0);
    CHECK_MSG(r == 0, "mallctl(\"%s\") = %d", name, r);
    return v;
}

static void epoch(void)
{
    uint64_t e = 1;
    size_t sz = sizeof(e);
    CHECK_I(mallctl("epoch", &e, &sz, &e, sizeof(e)), ==, 0);
}

static void run_thread(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    CHECK_I(pthread_create(&t, NULL, fn, arg), ==, 0);
    CHECK_I(pthread_join(t, NULL), ==, 0);
}

/* ---- thread.allocated / deallocated / allocatedp / deallocatedp ---- */

struct counters {
    uint64_t *ap, *dp;   /* the thread's counter pointers */
    void *block;         /* a block this thread allocated and leaves behind */
    size_t block_usize;  /* its usable size */
    uint64_t freed_here; /* bytes of foreign blocks this thread freed */
};

static void *counter_thread(void *arg)
{
    struct counters *c = arg;
    uint64_t a0 = read_u64("thread.allocated"), d0 = read_u64("thread.deallocated");
    CHECK_EQ(a0, 0);
    CHECK_EQ(d0, 0);
    size_t sz = sizeof(c->ap);
    CHECK_I(mallctl("thread.allocatedp", &c->ap, &sz, NULL, 0), ==, 0);
    sz = sizeof(c->dp);
    CHECK_I(mallctl("thread.deallocatedp", &c->dp, &sz, NULL, 0), ==, 0);
    CHECK_NONNULL(c->ap);
    CHECK_NONNULL(c->dp);
    CHECK_EQ(*c->ap, a0);
    CHECK_EQ(*c->dp, d0);

    /* Many sizes and entry points; the counters move by the usable sizes. */
    enum { N = 12 };
    void *p[N];
    size_t u[N], total = 0;
    p[0] = malloc(1);
    p[1] = malloc(100);
    p[2] = calloc(10, 300);
    p[3] = malloc(14000);
    p[4] = mallocx(40000, 0);
    p[5] = mallocx(100000, MALLOCX_ZERO);
    p[6] = malloc(700 << 10);
    p[7] = malloc(3 << 20);
    p[8] = NULL;
    CHECK_I(posix_memalign(&p[8], 4096, 5000), ==, 0);
    p[9] = aligned_alloc(64, 640);
    p[10] = mallocx(24, MALLOCX_TCACHE_NONE);
    p[11] = calloc(1, 9 << 20);
    for (int i = 0; i < N; i++) {
        CHECK_NONNULL(p[i]);
        u[i] = sallocx(p[i], 0);
        total += u[i];
    }
    uint64_t a1 = read_u64("thread.allocated");
    CHECK_MSG(a1 - a0 == total,
              "thread.allocated moved by %" PRIu64 ", want %zu (sum of usable sizes)", a1 - a0,
              total);
    CHECK_EQ(*c->ap, a1);
    CHECK_EQ(read_u64("thread.deallocated"), d0);

    /* realloc counts the new block allocated and the old one freed. */
    size_t old_u = u[1];
    void *q = realloc(p[1], 50000);
    CHECK_NONNULL(q);
    size_t new_u = sallocx(q, 0);
    uint64_t a2 = read_u64("thread.allocated"), d2 = read_u64("thread.deallocated");
    CHECK_MSG(a2 - a1 == new_u, "realloc 100 -> 50000: thread.allocated +%" PRIu64 ", want %zu",
              a2 - a1, new_u);
    CHECK_MSG(d2 - d0 == old_u, "realloc 100 -> 50000: thread.deallocated +%" PRIu64 ", want %zu",
              d2 - d0, old_u);
    p[1] = q;
    u[1] = new_u;

    /* Freeing everything moves deallocated by the same sizes (dallocx, sdallocx too). */
    uint64_t dfree = 0;
    for (int i = 0; i < N; i++) {
        if (i == 4)
            dallocx(p[i], 0);
        else if (i == 5)
            sdallocx(p[i], 100000, 0);
        else if (i == 10)
            dallocx(p[i], MALLOCX_TCACHE_NONE);
        else
            free(p[i]);
        dfree += u[i];
        CHECK_EQ(read_u64("thread.deallocated"), d2 + dfree);
        CHECK_EQ(*c->dp, d2 + dfree);
    }
    CHECK_EQ(read_u64("thread.allocated"), a2);

    /* Leave one block for another thread to free. */
    c->block = malloc(5555);
    CHECK_NONNULL(c->block);
    c->block_usize = sallocx(c->block, 0);
    return NULL;
}

static void *foreign_free_thread(void *arg)
{
    struct counters *c = arg;
    uint64_t a0 = read_u64("thread.allocated"), d0 = read_u64("thread.deallocated");
    free(c->block);
    c->freed_here = read_u64("thread.deallocated") - d0;
    CHECK_EQ(read_u64("thread.allocated"), a0);
    return NULL;
}

/* The counted work runs between two handshakes, so the main thread can
 * read its own counters around it (pthread_create and pthread_join
 * allocate and free in the calling thread, which is counted there). */
static _Atomic int phase;

static void *counter_thread_synced(void *arg)
{
    while (phase != 1)
        sched_yield();
    counter_thread(arg);
    phase = 2;
    while (phase != 3)
        sched_yield();
    return NULL;
}

static void test_thread_counters(void)
{
    uint64_t *map = NULL;
    size_t sz = sizeof(map);
    CHECK_I(mallctl("thread.allocatedp", &map, &sz, NULL, 0), ==, 0);

    struct counters c1 = {0}, c2 = {0};
    pthread_t t;
    phase = 0;
    CHECK_I(pthread_create(&t, NULL, counter_thread_synced, &c1), ==, 0);
    uint64_t ma = read_u64("thread.allocated"), md = read_u64("thread.deallocated");
    phase = 1;
    while (phase != 2)
        sched_yield();
    /* The other thread's work did not touch this thread's counters. */
    CHECK_EQ(read_u64("thread.allocated"), ma);
    CHECK_EQ(read_u64("thread.deallocated"), md);
    CHECK_EQ(*map, ma);
    phase = 3;
    CHECK_I(pthread_join(t, NULL), ==, 0);
    run_thread(counter_thread, &c2);
    CHECK(map != c1.ap);
    /* A free from another thread counts where it happens. */
    run_thread(foreign_free_thread, &c1);
    CHECK_EQ(c1.freed_here, c1.block_usize);
    uint64_t a0 = read_u64("thread.allocated"), d0 = read_u64("thread.deallocated");
    free(c2.block);
    CHECK_EQ(read_u64("thread.deallocated") - d0, c2.block_usize);
    CHECK_EQ(read_u64("thread.allocated"), a0);
}

/* ---- thread.tcache.enabled ---- */

static void *tcache_off_thread(void *arg)
{
    (void)arg;
    bool on = false, off = false, old = false, now = true;
    size_t sz = sizeof(old);
    CHECK_I(mallctl("thread.tcache.enabled", &old, &sz, NULL, 0), ==, 0);
    bool opt_tcache = false;
    CHECK_I(mallctl("opt.tcache", &opt_tcache, &sz, NULL, 0), ==, 0);
    CHECK_EQ(old, opt_tcache);
    /* A write returns the value before it. */
    on = true;
    CHECK_I(mallctl("thread.tcache.enabled", &old, &sz, &off, sizeof(off)), ==, 0);
    CHECK_EQ(old, opt_tcache);
    CHECK_I(mallctl("thread.tcache.enabled", &now, &sz, NULL, 0), ==, 0);
    CHECK(!now);

    /* Allocations of every kind work, with their contents intact. */
    uint64_t a0 = read_u64("thread.allocated");
    enum { N = 400 };
    void *p[N];
    size_t total = 0;
    for (int i = 0; i < N; i++) {
        size_t n = i % 50 == 0 ? (size_t)(i + 1) * 4096 : (size_t)(i % 37) * 24 + 1;
        p[i] = malloc(n);
        CHECK_NONNULL(p[i]);
        tl_fill(p[i], n, (uint64_t)i);
        total += sallocx(p[i], 0);
    }
    CHECK_EQ(read_u64("thread.allocated") - a0, total);
    for (int i = 0; i < N; i++) {
        size_t n = i % 50 == 0 ? (size_t)(i + 1) * 4096 : (size_t)(i % 37) * 24 + 1;
        CHECK_PATTERN(p[i], n, (uint64_t)i);
        if (i % 2)
            free(p[i]);
    }
    for (int i = 0; i < N; i += 2)
        free(p[i]);

    /* Back on; reads true; the old value returned is false. */
    CHECK_I(mallctl("thread.tcache.enabled", &old, &sz, &on, sizeof(on)), ==, 0);
    CHECK(!old);
    CHECK_I(mallctl("thread.tcache.enabled", &now, &sz, NULL, 0), ==, 0);
    CHECK(now);
    void *x = malloc(48);
    CHECK_NONNULL(x);
    free(x);
    CHECK_I(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0), ==, 0);
    return NULL;
}

/* ---- tcache.create / flush / destroy ---- */

static void test_explicit_tcaches(void)
{
    unsigned a = 0, b = 0, c = 0;
    size_t sz = sizeof(a);
    CHECK_I(mallctl("tcache.create", &a, &sz, NULL, 0), ==, 0);
    CHECK_I(mallctl("tcache.create", &b, &sz, NULL, 0), ==, 0);
    CHECK(a != b);
    void *p[200];
    for (int i = 0; i < 200; i++) {
        unsigned tc = i % 2 ? a : b;
        size_t n = 16 + (size_t)(i % 20) * 16;
        p[i] = mallocx(n, MALLOCX_TCACHE(tc));
        CHECK_NONNULL(p[i]);
        tl_fill(p[i], n, (uint64_t)i + 7);
    }
    for (int i = 0; i < 200; i++) {
        size_t n = 16 + (size_t)(i % 20) * 16;
        CHECK_PATTERN(p[i], n, (uint64_t)i + 7);
        /* Freed through the other cache: any cache may take any block. */
        dallocx(p[i], MALLOCX_TCACHE(i % 2 ? b : a));
    }
    CHECK_I(mallctl("tcache.flush", NULL, NULL, &a, sizeof(a)), ==, 0);
    CHECK_I(mallctl("tcache.flush", NULL, NULL, &b, sizeof(b)), ==, 0);
    CHECK_I(mallctl("tcache.destroy", NULL, NULL, &a, sizeof(a)), ==, 0);
    /* Destroyed indexes become available again: far more create/destroy
     * rounds than there are indexes (4096) all succeed. */
    for (int i = 0; i < 5000; i++) {
        sz = sizeof(c);
        int r = mallctl("tcache.create", &c, &sz, NULL, 0);
        CHECK_MSG(r == 0, "tcache.create failed (%d) in round %d of create/destroy", r, i);
        CHECK(c != b);
        if (i % 500 == 0) {
            void *q = mallocx(100, MALLOCX_TCACHE(c));
            CHECK_NONNULL(q);
            dallocx(q, MALLOCX_TCACHE(c));
        }
        CHECK_I(mallctl("tcache.destroy", NULL, NULL, &c, sizeof(c)), ==, 0);
    }
    CHECK_I(mallctl("tcache.destroy", NULL, NULL, &b, sizeof(b)), ==, 0);
    /* tcache.flush and destroy need the index: no newp is EINVAL. */
    CHECK_I(mallctl("tcache.flush", NULL, NULL, NULL, 0), ==, EINVAL);
    CHECK_I(mallctl("tcache.destroy", NULL, NULL, NULL, 0), ==, EINVAL);
}

/* ---- per-bin counters ---- */

struct bin_job {
    unsigned arena;
    bool tcache;
};

struct bin_counts {
    uint64_t nmalloc, ndalloc;
    size_t curregs, curslabs;
};

static void bin_read(unsigned arena, unsigned j, struct bin_counts *out)
{
    char name[96];
    epoch();
    snprintf(name, sizeof(name), "stats.arenas.%u.bins.%u.nmalloc", arena, j);
    out->nmalloc = read_u64(name);
    snprintf(name, sizeof(name), "stats.arenas.%u.bins.%u.ndalloc", arena, j);
    out->ndalloc = read_u64(name);
    snprintf(name, sizeof(name), "stats.arenas.%u.bins.%u.curregs", arena, j);
    out->curregs = read_size(name);
    snprintf(name, sizeof(name), "stats.arenas.%u.bins.%u.curslabs", arena, j);
    out->curslabs = read_size(name);
}

static void *bin_thread(void *arg)
{
    struct bin_job *job = arg;
    bool tc = job->tcache;
    size_t sz = sizeof(tc);
    CHECK_I(mallctl("thread.tcache.enabled", NULL, NULL, &tc, sz), ==, 0);
    unsigned ar = job->arena;
    CHECK_I(mallctl("thread.arena", NULL, NULL, &ar, sizeof(ar)), ==, 0);
    CHECK_EQ(read_unsigned("thread.arena"), job->arena);

    unsigned nbins = read_unsigned("arenas.nbins");
    unsigned js[] = {0, 1, 3, 7, 12, nbins / 2, nbins - 2, nbins - 1};
    for (size_t k = 0; k < sizeof(js) / sizeof(js[0]); k++) {
        unsigned j = js[k];
        char name[64];
        snprintf(name, sizeof(name), "arenas.bin.%u.size", j);
        size_t size = read_size(name);
        snprintf(name, sizeof(name), "arenas.bin.%u.nregs", j);
        uint32_t nregs = 0;
        sz = sizeof(nregs);
        CHECK_I(mallctl(name, &nregs, &sz, NULL, 0), ==, 0);
        CHECK_U(nregs, >, 0);
        CHECK_EQ(nallocx(size, 0), size);
        /* Three slabs and a bit, at most 2000 blocks. */
        size_t n = 3 * (size_t)nregs + 5;
        if (n > 2000)
            n = 2000;
        size_t min_slabs = (n + nregs - 1) / nregs;

        struct bin_counts b0, b1, b2;
        bin_read(job->arena, j, &b0);
        void **p = mallocx(n * sizeof(void *), MALLOCX_TCACHE_NONE);
        CHECK_NONNULL(p);
        for (size_t i = 0; i < n; i++) {
            p[i] = malloc(size);
            CHECK_NONNULL(p[i]);
            CHECK_EQ(sallocx(p[i], 0), size);
            memset(p[i], (int)i, size);
        }
        bin_read(job->arena, j, &b1);
        size_t dm = (size_t)(b1.nmalloc - b0.nmalloc), dr = b1.curregs - b0.curregs;
        if (!job->tcache) {
            CHECK_MSG(
                dm == n && dr == n,
                "bin %u (%zu B), tcache off: %zu mallocs moved nmalloc by %zu, curregs by %zu", j,
                size, n, dm, dr);
            CHECK_EQ(b1.ndalloc, b0.ndalloc);
        } else {
            /* Cache fills count as a batch: at least N, and at most a few slabs more. */
            CHECK_MSG(dm >= n && dr >= n && dr <= n + 4 * (size_t)nregs + 256,
                      "bin %u (%zu B), tcache on: %zu mallocs moved nmalloc by %zu, curregs by %zu",
                      j, size, n, dm, dr);
        }
        CHECK_MSG(b1.curslabs >= b0.curslabs + min_slabs - 1 && b1.curslabs >= min_slabs,
                  "bin %u: %zu blocks of %u per slab, curslabs %zu -> %zu", j, n, nregs,
                  b0.curslabs, b1.curslabs);
        for (size_t i = 0; i < n; i++)
            free(p[i]);
        if (job->tcache)
            CHECK_I(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0), ==, 0);
        bin_read(job->arena, j, &b2);
        CHECK_MSG(b2.curregs == b0.curregs,
                  "bin %u (%zu B): curregs %zu before, %zu after freeing all %zu blocks", j, size,
                  b0.curregs, b2.curregs, n);
        CHECK_MSG(b2.ndalloc - b0.ndalloc == b2.nmalloc - b0.nmalloc,
                  "bin %u (%zu B): nmalloc +%" PRIu64 " but ndalloc +%" PRIu64 " after freeing all",
                  j, size, b2.nmalloc - b0.nmalloc, b2.ndalloc - b0.ndalloc);
        if (!job->tcache)
            CHECK_EQ(b2.ndalloc - b0.ndalloc, n);
        dallocx(p, MALLOCX_TCACHE_NONE);
    }

    /* small.* sums the bins; ALL includes this arena. */
    epoch();
    char name[64];
    snprintf(name, sizeof(name), "stats.arenas.%u.small.nmalloc", job->arena);
    uint64_t small_nm = read_u64(name);
    uint64_t sum = 0;
    for (unsigned j = 0; j < nbins; j++) {
        snprintf(name, sizeof(name), "stats.arenas.%u.bins.%u.nmalloc", job->arena, j);
        sum += read_u64(name);
    }
    CHECK_EQ(small_nm, sum);
    CHECK_U(read_u64("stats.arenas.4096.small.nmalloc"), >=, small_nm);
    return NULL;
}

static void test_bins(bool tcache)
{
    struct bin_job job = {0, tcache};
    size_t sz = sizeof(job.arena);
    CHECK_I(mallctl("arenas.create", &job.arena, &sz, NULL, 0), ==, 0);
    run_thread(bin_thread, &job);
}

int main(void)
{
    tl_require_liballoc();
    test_thread_counters();
    run_thread(tcache_off_thread, NULL);
    test_explicit_tcaches();
    test_bins(true);
    test_bins(false);
    printf("ctl_thread: ok\n");
    return 0;
}
