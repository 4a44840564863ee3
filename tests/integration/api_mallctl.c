/*
 * mallctl, mallctlnametomib, mallctlbymib, malloc_stats_print: version;
 * epoch; stats.allocated grows by a 64 MiB block's size and shrinks back
 * after it is freed, with active >= allocated and mapped >= active;
 * thread.allocated/deallocated (and the allocatedp pointer) advance by
 * exactly the usable size; opt.* and arenas.narenas reflect MALLOC_CONF
 * (narenas:3, dirty_decay_ms:0, tcache_max:4096 in the matrix's "set" run);
 * arenas.bin.<i>.size and arenas.lextent.<i>.size are increasing size
 * classes that nallocx agrees with; error codes (ENOENT unknown name,
 * EINVAL wrong length, EPERM write to read-only); MIB lookups equal name
 * lookups; explicit tcaches and new arenas serve allocations;
 * malloc_stats_print emits the jemalloc header/footer and JSON with "J".
 */
#include "check.h"

#include <sys/types.h>

#define MIB_MAX 8

static uint64_t refresh(void)
{
    uint64_t e = 1;
    size_t sz = sizeof(e);
    CHECK_I(mallctl("epoch", &e, &sz, &e, sizeof(e)), ==, 0);
    return e;
}

static size_t read_size(const char *name)
{
    size_t v = 0, sz = sizeof(v);
    int r = mallctl(name, &v, &sz, NULL, 0);
    CHECK_MSG(r == 0, "mallctl(\"%s\") = %d", name, r);
    CHECK_EQ(sz, sizeof(v));
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

static uint64_t read_u64(const char *name)
{
    uint64_t v = 0;
    size_t sz = sizeof(v);
    int r = mallctl(name, &v, &sz, NULL, 0);
    CHECK_MSG(r == 0, "mallctl(\"%s\") = %d", name, r);
    return v;
}

static void test_epoch_and_stats(void)
{
    uint64_t e1 = refresh();
    uint64_t e2 = refresh();
    CHECK_U(e2, >=, e1);

    const size_t big = 64 << 20;
    size_t a0 = read_size("stats.allocated");
    void *p = tl_opaque(mallocx(big, 0));
    CHECK_NONNULL(p);
    size_t u = sallocx(p, 0);
    refresh();
    size_t a1 = read_size("stats.allocated");
    size_t act = read_size("stats.active");
    size_t mapped = read_size("stats.mapped");
    CHECK_MSG(a1 >= a0 + u, "stats.allocated %zu -> %zu after a %zu-byte block (want +%zu)", a0, a1,
              u, u);
    CHECK_MSG(a1 <= a0 + u + (4 << 20), "stats.allocated %zu -> %zu: grew far more than %zu", a0,
              a1, u);
    CHECK_MSG(act >= a1, "stats.active %zu < stats.allocated %zu", act, a1);
    CHECK_MSG(mapped >= act, "stats.mapped %zu < stats.active %zu", mapped, act);
    (void)read_size("stats.resident");
    (void)read_size("stats.metadata");
    dallocx(p, 0);
    refresh();
    size_t a2 = read_size("stats.allocated");
    CHECK_MSG(a2 + u <= a1 + (4 << 20), "stats.allocated %zu -> %zu after freeing %zu bytes", a1,
              a2, u);
}

static void test_thread_counters(void)
{
    uint64_t *ap = NULL, *dp = NULL;
    size_t sz = sizeof(ap);
    CHECK_I(mallctl("thread.allocatedp", &ap, &sz, NULL, 0), ==, 0);
    sz = sizeof(dp);
    CHECK_I(mallctl("thread.deallocatedp", &dp, &sz, NULL, 0), ==, 0);
    CHECK_NONNULL(ap);
    CHECK_NONNULL(dp);
    const size_t sizes[] = {1, 100, 1000, 5000, 100000, 3 << 20};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint64_t a0 = read_u64("thread.allocated"), d0 = read_u64("thread.deallocated");
        uint64_t pa0 = *ap, pd0 = *dp;
        void *p = tl_opaque(malloc(sizes[i]));
        CHECK_NONNULL(p);
        size_t u = malloc_usable_size(p);
        uint64_t a1 = read_u64("thread.allocated");
        free(p);
        uint64_t d1 = read_u64("thread.deallocated");
        CHECK_MSG(a1 - a0 == u, "thread.allocated advanced by %" PRIu64 " for a %zu-byte block",
                  a1 - a0, u);
        CHECK_MSG(d1 - d0 == u, "thread.deallocated advanced by %" PRIu64 " for a %zu-byte block",
                  d1 - d0, u);
        CHECK_EQ(*ap - pa0, u);
        CHECK_EQ(*dp - pd0, u);
    }
}

static void test_options(void)
{
    const char *conf = getenv("MALLOC_CONF");
    ssize_t dirty = 0;
    size_t sz = sizeof(dirty);
    CHECK_I(mallctl("opt.dirty_decay_ms", &dirty, &sz, NULL, 0), ==, 0);
    size_t tmax = read_size("opt.tcache_max");
    unsigned narenas = read_unsigned("arenas.narenas");
    CHECK_U(narenas, >=, 1);
    if (conf != NULL && strstr(conf, "narenas:3") != NULL) {
        CHECK_EQ(read_unsigned("opt.narenas"), 3);
        CHECK_EQ(narenas, 3);
    }
    if (conf != NULL && strstr(conf, "dirty_decay_ms:0") != NULL)
        CHECK_I(dirty, ==, 0);
    else if (conf == NULL)
        CHECK_I(dirty, ==, 10000); /* jemalloc's default */
    if (conf != NULL && strstr(conf, "tcache_max:4096") != NULL)
        CHECK_EQ(tmax, 4096);
    else if (conf == NULL)
        CHECK_EQ(tmax, 131072); /* ours: jemalloc's is 32 KiB (tcache.h) */
    bool tc = false;
    sz = sizeof(tc);
    CHECK_I(mallctl("opt.tcache", &tc, &sz, NULL, 0), ==, 0);
    CHECK(tc);
}

static void test_size_classes(void)
{
    CHECK_EQ(read_size("arenas.page"), (size_t)sysconf(_SC_PAGESIZE));
    CHECK_EQ(read_size("arenas.quantum"), 16);
    unsigned nbins = read_unsigned("arenas.nbins");
    CHECK_U(nbins, >, 8);
    size_t mib[MIB_MAX], miblen = MIB_MAX;
    CHECK_I(mallctlnametomib("arenas.bin.0.size", mib, &miblen), ==, 0);
    CHECK_EQ(miblen, 4);
    size_t prev = 0;
    for (unsigned i = 0; i < nbins; i++) {
        size_t s = 0, sz = sizeof(s);
        mib[2] = i;
        CHECK_I(mallctlbymib(mib, miblen, &s, &sz, NULL, 0), ==, 0);
        CHECK_MSG(s > prev, "arenas.bin.%u.size %zu not above the previous %zu", i, s, prev);
        CHECK_MSG(nallocx(s, 0) == s, "arenas.bin.%u.size %zu but nallocx(%zu) = %zu", i, s, s,
                  nallocx(s, 0));
        CHECK_MSG(nallocx(prev + 1, 0) == s, "nallocx(%zu) = %zu, want bin %u size %zu", prev + 1,
                  nallocx(prev + 1, 0), i, s);
        prev = s;
    }
    CHECK_EQ(nallocx(1, 0), read_size("arenas.bin.0.size"));
    unsigned nl = read_unsigned("arenas.nlextents");
    CHECK_U(nl, >, 0);
    miblen = MIB_MAX;
    CHECK_I(mallctlnametomib("arenas.lextent.0.size", mib, &miblen), ==, 0);
    for (unsigned i = 0; i < nl && i < 40; i++) {
        size_t s = 0, sz = sizeof(s);
        mib[2] = i;
        CHECK_I(mallctlbymib(mib, miblen, &s, &sz, NULL, 0), ==, 0);
        CHECK_MSG(s > prev, "arenas.lextent.%u.size %zu not above the previous %zu", i, s, prev);
        CHECK_MSG(nallocx(s, 0) == s, "arenas.lextent.%u.size %zu but nallocx = %zu", i, s,
                  nallocx(s, 0));
        prev = s;
    }
}

static void test_errors_and_mib(void)
{
    size_t v = 0, sz = sizeof(v);
    CHECK_I(mallctl("no.such.node", &v, &sz, NULL, 0), ==, ENOENT);
    CHECK_I(mallctl("stats.no_such_leaf", &v, &sz, NULL, 0), ==, ENOENT);
    CHECK_I(mallctl("arenas.bin.100000.size", &v, &sz, NULL, 0), ==, ENOENT);
    const char *ver = NULL;
    size_t bad = 1;
    CHECK_I(mallctl("version", &ver, &bad, NULL, 0), ==, EINVAL);
    const char *nv = "x";
    CHECK_I(mallctl("version", NULL, NULL, &nv, sizeof(nv)), ==, EPERM);
    unsigned n = 7;
    CHECK_I(mallctl("arenas.narenas", NULL, NULL, &n, sizeof(n)), ==, EPERM);
    uint64_t e = 1;
    CHECK_I(mallctl("epoch", NULL, NULL, &e, 1), ==, EINVAL);

    /* A MIB lookup reads what the name lookup reads. */
    size_t mib[MIB_MAX], miblen = MIB_MAX;
    CHECK_I(mallctlnametomib("arenas.page", mib, &miblen), ==, 0);
    CHECK_EQ(miblen, 2);
    size_t pg = 0;
    sz = sizeof(pg);
    CHECK_I(mallctlbymib(mib, miblen, &pg, &sz, NULL, 0), ==, 0);
    CHECK_EQ(pg, read_size("arenas.page"));
    miblen = MIB_MAX;
    CHECK_I(mallctlnametomib("no.such.node", mib, &miblen), ==, ENOENT);
}

static void test_tcache_and_arenas(void)
{
    CHECK_I(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0), ==, 0);
    unsigned tc = 0;
    size_t sz = sizeof(tc);
    CHECK_I(mallctl("tcache.create", &tc, &sz, NULL, 0), ==, 0);
    void *ps[64];
    for (int i = 0; i < 64; i++) {
        ps[i] = mallocx(64 + (size_t)i, MALLOCX_TCACHE(tc));
        CHECK_NONNULL(ps[i]);
        memset(ps[i], i, 64 + (size_t)i);
    }
    for (int i = 0; i < 64; i++)
        dallocx(ps[i], MALLOCX_TCACHE(tc));
    CHECK_I(mallctl("tcache.flush", NULL, NULL, &tc, sizeof(tc)), ==, 0);
    CHECK_I(mallctl("tcache.destroy", NULL, NULL, &tc, sizeof(tc)), ==, 0);

    unsigned before = read_unsigned("arenas.narenas");
    unsigned ar = 0;
    sz = sizeof(ar);
    CHECK_I(mallctl("arenas.create", &ar, &sz, NULL, 0), ==, 0);
    CHECK_U(ar, >=, before);
    CHECK_EQ(read_unsigned("arenas.narenas"), ar + 1);
    for (int i = 0; i < 64; i++) {
        size_t n = i % 8 == 0 ? (size_t)100000 * (size_t)(i + 1) : 100 + (size_t)i;
        ps[i] = mallocx(n, MALLOCX_ARENA(ar) | MALLOCX_TCACHE_NONE);
        CHECK_NONNULL(ps[i]);
        memset(ps[i], 0x5c, n);
        CHECK_U(sallocx(ps[i], 0), >=, n);
    }
    for (int i = 0; i < 64; i++)
        dallocx(ps[i], MALLOCX_TCACHE_NONE);
    /* thread.arena: bind this thread to the new arena and read it back. */
    unsigned old = 0, got = 0;
    sz = sizeof(old);
    CHECK_I(mallctl("thread.arena", &old, &sz, &ar, sizeof(ar)), ==, 0);
    sz = sizeof(got);
    CHECK_I(mallctl("thread.arena", &got, &sz, NULL, 0), ==, 0);
    CHECK_EQ(got, ar);
    void *p = malloc(1000);
    CHECK_NONNULL(p);
    free(p);
    CHECK_I(mallctl("thread.arena", NULL, NULL, &old, sizeof(old)), ==, 0);
    char name[64];
    snprintf(name, sizeof(name), "arena.%u.purge", ar);
    CHECK_I(mallctl(name, NULL, NULL, NULL, 0), ==, 0);
    snprintf(name, sizeof(name), "arena.%u.decay", ar);
    CHECK_I(mallctl(name, NULL, NULL, NULL, 0), ==, 0);
    snprintf(name, sizeof(name), "arena.%d.purge", MALLCTL_ARENAS_ALL);
    CHECK_I(mallctl(name, NULL, NULL, NULL, 0), ==, 0);
}

struct sbuf {
    char *buf;
    size_t len, cap;
    int calls;
};

static void collect(void *opaque, const char *s)
{
    struct sbuf *b = opaque;
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *nb = realloc(b->buf, cap);
        CHECK_NONNULL(nb);
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, s, n + 1);
    b->len += n;
    b->calls++;
}

static void test_stats_print(void)
{
    struct sbuf b = {0};
    malloc_stats_print(collect, &b, NULL);
    CHECK_U(b.calls, >, 0);
    CHECK_NONNULL(b.buf);
    CHECK_MSG(strncmp(b.buf, "___ Begin jemalloc statistics ___", 33) == 0,
              "malloc_stats_print starts with \"%.40s\"", b.buf);
    CHECK(strstr(b.buf, "--- End jemalloc statistics ---") != NULL);
    CHECK(strstr(b.buf, JEMALLOC_VERSION) != NULL);
    free(b.buf);

    struct sbuf j = {0};
    malloc_stats_print(collect, &j, "J");
    CHECK_NONNULL(j.buf);
    size_t i = 0;
    while (j.buf[i] == ' ' || j.buf[i] == '\n')
        i++;
    CHECK_MSG(j.buf[i] == '{', "malloc_stats_print(\"J\") does not start a JSON object: \"%.40s\"",
              j.buf + i);
    CHECK(strstr(j.buf, "\"jemalloc\"") != NULL);
    /* Balanced braces outside strings. */
    int depth = 0, in_str = 0;
    for (const char *c = j.buf; *c; c++) {
        if (in_str) {
            if (*c == '\\' && c[1])
                c++;
            else if (*c == '"')
                in_str = 0;
        } else if (*c == '"') {
            in_str = 1;
        } else if (*c == '{' || *c == '[') {
            depth++;
        } else if (*c == '}' || *c == ']') {
            depth--;
            CHECK_I(depth, >=, 0);
        }
    }
    CHECK_I(depth, ==, 0);
    free(j.buf);
}

int main(void)
{
    tl_require_liballoc();
    test_epoch_and_stats();
    test_thread_counters();
    test_options();
    test_size_classes();
    test_errors_and_mib();
    test_tcache_and_arenas();
    test_stats_print();
    printf("api_mallctl: ok\n");
    return 0;
}
