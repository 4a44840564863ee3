/*
 * tcache_large: the per-thread cache of large blocks (tcache.h).
 *  - a freed 64 KiB block is what the same thread's next malloc(64 KiB)
 *    returns, and thread.tcache.large_bytes counts it while it is cached;
 *    arena.<i>.purge and thread.tcache.enabled:false return them;
 *  - the byte budget holds (tcache_large_budget, 1 MiB by default: a thread
 *    freeing 3.75 MiB of large blocks keeps at most 1 MiB), and so does the
 *    count per class (8);
 *  - the idle rule: a block not reused over two passes (512 large mallocs
 *    and frees of the thread) goes back to the arena;
 *  - thread exit returns a thread's cached blocks: stats.active drops by
 *    exactly the bytes it had cached;
 *  - a cached block freed again is reported as a double free (child run).
 * Pinned to narenas:1 and the default tcache_max (tcache_large.conf).
 */
#include "check.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static size_t read_sz(const char *name)
{
    size_t v = 0, sz = sizeof(v);
    CHECK_MSG(mallctl(name, &v, &sz, NULL, 0) == 0, "mallctl %s", name);
    return v;
}

static size_t cached(void) { return read_sz("thread.tcache.large_bytes"); }

static void flush(void) { CHECK(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0) == 0); }

static size_t active(void)
{
    uint64_t e = 1;
    size_t sz = sizeof(e);
    CHECK(mallctl("epoch", &e, &sz, &e, sizeof(e)) == 0);
    return read_sz("stats.active");
}

static void test_reuse(void)
{
    flush();
    CHECK_EQ(cached(), 0);
    void *p = malloc(65536);
    CHECK_NONNULL(p);
    memset(p, 1, 65536);
    free(tl_opaque(p));
    CHECK_EQ(cached(), 65536);
    void *q = malloc(65536);
    CHECK(q == p);
    CHECK_EQ(cached(), 0);
    /* calloc from the cache zeroes the recycled block. */
    free(tl_opaque(q));
    unsigned char *z = calloc(1, 65536);
    CHECK(z == p);
    for (size_t i = 0; i < 65536; i += 512)
        CHECK_EQ(z[i], 0);
    free(z);
    flush();
    CHECK_EQ(cached(), 0);
    /* arena.<i>.purge of every arena returns the caller's cached blocks;
     * so does turning the thread's cache off, and none is kept while off. */
    free(tl_opaque(malloc(65536)));
    CHECK_EQ(cached(), 65536);
    CHECK(mallctl("arena.4096.purge", NULL, NULL, NULL, 0) == 0); /* MALLCTL_ARENAS_ALL */
    CHECK_EQ(cached(), 0);
    free(tl_opaque(malloc(65536)));
    bool off = false, on = true;
    CHECK(mallctl("thread.tcache.enabled", NULL, NULL, &off, sizeof(off)) == 0);
    CHECK_EQ(cached(), 0);
    free(tl_opaque(malloc(65536)));
    CHECK_EQ(cached(), 0);
    CHECK(mallctl("thread.tcache.enabled", NULL, NULL, &on, sizeof(on)) == 0);
}

/* A block freed from an aligned request above a page comes back to the
 * next request of its class at that alignment (the cache takes the newest
 * block at that alignment; it served only requests up to a page before,
 * and every aligned one took the arena's lock), and a cached block at a
 * smaller alignment is not handed out for it. */
static void test_aligned(void)
{
    flush();
    void *p = NULL, *q = NULL;
    CHECK(posix_memalign(&p, 16384, 65536) == 0);
    CHECK_EQ((uintptr_t)p & 16383, 0);
    free(tl_opaque(p));
    CHECK_EQ(cached(), 65536);
    CHECK(posix_memalign(&q, 16384, 65536) == 0);
    CHECK(q == p);
    CHECK_EQ(cached(), 0);
    /* Cached: one block at an odd multiple of 8 KiB (found by allocating
     * until one is) and the aligned one; the aligned request takes the
     * aligned one even though the other is newer, and leaves the other
     * cached. */
    void *odd[64], *spacer[64];
    unsigned n = 0, k = 0;
    for (; n < 64; n++) {
        spacer[n] = malloc(40960); /* 10 pages: moves the next run by 8 KiB */
        odd[n] = malloc(65536);
        CHECK(spacer[n] && odd[n]);
        if ((uintptr_t)odd[n] & 8192) {
            k = n;
            break;
        }
    }
    CHECK(n < 64);
    free(tl_opaque(q));
    free(tl_opaque(odd[k]));
    CHECK_EQ(cached(), 2 * 65536);
    void *r = aligned_alloc(16384, 65536);
    CHECK(r == q);
    CHECK_EQ(cached(), 65536);
    void *s = malloc(65536);
    CHECK(s == odd[k]);
    CHECK_EQ(cached(), 0);
    free(r);
    free(s);
    for (unsigned i = 0; i < k; i++)
        free(odd[i]);
    for (unsigned i = 0; i <= k; i++)
        free(spacer[i]);
    flush();
}

static void test_bounds(void)
{
    flush();
    size_t budget = read_sz("opt.tcache_large_budget");
    CHECK_EQ(budget, 1 << 20);
    enum { PER = 12, NS = 5 };
    static const size_t sizes[NS] = {65536, 81920, 98304, 114688, 131072};
    void *b[NS][PER];
    for (int s = 0; s < NS; s++)
        for (int i = 0; i < PER; i++)
            CHECK_NONNULL(b[s][i] = malloc(sizes[s]));
    size_t most = 0;
    for (int s = 0; s < NS; s++)
        for (int i = 0; i < PER; i++) {
            free(b[s][i]);
            size_t c = cached();
            CHECK_MSG(c <= budget, "%zu bytes cached, budget %zu", c, budget);
            most = c > most ? c : most;
        }
    /* 12 blocks of 64 KiB: 8 stay at most, the older half goes at the 9th. */
    CHECK(most >= budget - 131072);
    flush();
    for (int i = 0; i < PER; i++)
        CHECK_NONNULL(b[0][i] = malloc(65536));
    for (int i = 0; i < PER; i++)
        free(b[0][i]);
    /* 8 kept; the 9th free sends the older 4 back; 5 + 3 more = 8 again. */
    CHECK_EQ(cached(), 8 * 65536);
    flush();
}

static void test_idle(void)
{
    flush();
    void *idle = malloc(65536);
    free(tl_opaque(idle));
    CHECK_EQ(cached(), 65536);
    for (int i = 0; i < 600; i++)
        free(tl_opaque(malloc(40960)));
    CHECK_EQ(cached(), 40960); /* the 64 KiB block went back, the busy 40 KiB one stays */
    flush();
}

static pthread_barrier_t bar;
static size_t thread_cached;

static void *cacher(void *arg)
{
    (void)arg;
    void *p[4];
    for (int i = 0; i < 4; i++)
        p[i] = malloc(65536 + 16384 * (size_t)i);
    for (int i = 0; i < 4; i++)
        free(p[i]);
    thread_cached = cached();
    pthread_barrier_wait(&bar);
    pthread_barrier_wait(&bar);
    return NULL;
}

static void test_exit(void)
{
    pthread_t t;
    CHECK(pthread_barrier_init(&bar, NULL, 2) == 0);
    CHECK(pthread_create(&t, NULL, cacher, NULL) == 0);
    pthread_barrier_wait(&bar);
    CHECK_EQ(thread_cached, 65536 + 81920 + 98304 + 114688);
    size_t before = active();
    pthread_barrier_wait(&bar);
    CHECK(pthread_join(t, NULL) == 0);
    size_t after = active();
    CHECK_EQ(before - after, thread_cached);
    pthread_barrier_destroy(&bar);
}

/* Child mode "aligned_idle" (a fresh process: the idle pass comes every
 * LCACHE_GC_OPS = 256 large mallocs and frees of the thread, counted here
 * from its start). An aligned request takes a block from the middle of a
 * class's stack: the idle rule's low mark must drop with it, or blocks
 * freed during the interval slide into the "not reused" bottom and go back
 * to the arena at the next pass while older ones stay. */
static unsigned large_ops;
static void *lmalloc(size_t n)
{
    large_ops++;
    return malloc(n);
}
static void lfree(void *p)
{
    large_ops++;
    free(tl_opaque(p));
}
static void run_to_idle_pass(void) /* 40 KiB ops until the 256th of the interval has run */
{
    while (large_ops % 256 != 0) {
        void *p = lmalloc(40960);
        if (large_ops % 256 == 0) {
            lfree(p);
            return; /* the pass ran at the malloc; the free starts the next interval */
        }
        lfree(p);
    }
}
static int aligned_idle(void)
{
    void *x[8];
    for (int i = 0; i < 8; i++)
        x[i] = lmalloc(65536);
    int bi = 0;
    for (int i = 1; i < 8; i++)
        if (__builtin_ctzl((uintptr_t)x[i]) > __builtin_ctzl((uintptr_t)x[bi]))
            bi = i;
    for (int i = 0; i < 8; i++)
        if (i != bi && __builtin_ctzl((uintptr_t)x[i]) == __builtin_ctzl((uintptr_t)x[bi])) {
            printf("aligned_idle: no block aligned beyond the others; not run\n");
            return 0;
        }
    void *o[7];
    for (int i = 0, k = 0; i < 8; i++)
        if (i != bi)
            o[k++] = x[i];
    void *a = o[0], *b = x[bi], *c = o[1], *d = o[2], *e = o[3];
    size_t align = (size_t)1 << __builtin_ctzl((uintptr_t)b);
    lfree(a);
    lfree(b);
    lfree(c);          /* [a b c] */
    run_to_idle_pass(); /* none reused: low 3 */
    lfree(d);
    lfree(e);           /* [a b c d e] */
    large_ops++;
    void *got = aligned_alloc(align, 65536);
    CHECK(got == b);    /* [a c d e], low 1 */
    run_to_idle_pass(); /* a goes back; c, d and e were freed or moved this interval */
    void *p1 = lmalloc(65536), *p2 = lmalloc(65536), *p3 = lmalloc(65536);
    CHECK_MSG(p1 == e && p2 == d && p3 == c, "after the pass: %p %p %p, want e %p d %p c %p", p1, p2,
              p3, e, d, c);
    printf("aligned_idle: ok\n");
    return 0;
}

int main(int argc, char **argv)
{
    tl_require_liballoc();
    CHECK_EQ(read_sz("arenas.tcache_max"), 131072);
    if (argc > 1 && strcmp(argv[1], "aligned_idle") == 0)
        return aligned_idle();
    if (argc > 1 && strcmp(argv[1], "double") == 0) {
        /* A cached block freed again: reported, and the cache keeps it once. */
        flush();
        void *p = malloc(65536);
        free(tl_opaque(p));
        free(tl_opaque(p));
        void *a = malloc(65536), *b = malloc(65536);
        CHECK(a == p && b != p);
        return 0;
    }
    test_reuse();
    test_aligned();
    test_bounds();
    test_idle();
    test_exit();
    /* The double free, in a child whose report we read. */
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    CHECK(n > 0);
    self[n] = 0;
    char cmd[4200], out[4096] = "";
    snprintf(cmd, sizeof(cmd), "MALLOC_CONF=narenas:1 '%s' double 2>&1", self);
    FILE *f = popen(cmd, "r");
    CHECK_NONNULL(f);
    size_t got = fread(out, 1, sizeof(out) - 1, f);
    out[got] = 0;
    CHECK_MSG(pclose(f) == 0, "child: %s", out);
    CHECK_MSG(strstr(out, "free(): double free of 0x") != NULL, "child said: %s", out);
    snprintf(cmd, sizeof(cmd), "MALLOC_CONF=narenas:1 '%s' aligned_idle 2>&1", self);
    f = popen(cmd, "r");
    CHECK_NONNULL(f);
    got = fread(out, 1, sizeof(out) - 1, f);
    out[got] = 0;
    CHECK_MSG(pclose(f) == 0, "aligned_idle child: %s", out);
    printf("%s", out);
    printf("tcache_large: ok\n");
    return 0;
}
