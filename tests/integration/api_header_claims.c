/*
 * The edge cases include/alloc.h documents, one check each, so the header
 * and the library cannot drift apart; most are where liballoc differs from
 * jemalloc 5.3 or where jemalloc leaves the behaviour undefined:
 * malloc(0)/mallocx(0) minimal blocks, memalign's rounding, aligned_alloc's
 * EINVAL for 0, pvalloc(0), reallocarray's overflow, realloc's errno,
 * MALLOCX_ARENA of a missing arena, rallocx/xallocx of size 0, nallocx's
 * limit, dallocx(NULL), mallctlnametomib's capacity and NULL arguments,
 * mallctlbymib's partial MIB and out-of-range index, malloc_stats_print's
 * option letters.
 */
#include "check.h"

#include <errno.h>
#include <stdint.h>

#define LIMIT ((size_t)1 << 62)

static void test_standard(void)
{
    void *p = tl_opaque(malloc(0));
    CHECK_NONNULL(p);
    CHECK_EQ(malloc_usable_size(p), 8);
    void *q = tl_opaque(malloc(0));
    CHECK(q != p); /* unique */
    free(q);
    free(p);

    /* 8 bytes or less: 8-aligned class; above: 16-aligned. */
    p = tl_opaque(malloc(24));
    CHECK_ALIGNED(p, 16);
    free(p);

    errno = 0;
    CHECK_NULL(malloc(tl_opaque_size(LIMIT + 1)));
    CHECK_I(errno, ==, ENOMEM);

    errno = 0;
    CHECK_NULL(aligned_alloc(tl_opaque_size(0), 16));
    CHECK_I(errno, ==, EINVAL);

    /* memalign rounds a non-power-of-two alignment up (glibc's rule). */
    p = tl_opaque(memalign(tl_opaque_size(24), 10));
    CHECK_NONNULL(p);
    CHECK_ALIGNED(p, 32);
    free(p);
    p = tl_opaque(memalign(tl_opaque_size(3000), 10));
    CHECK_NONNULL(p);
    CHECK_ALIGNED(p, 4096);
    free(p);
    errno = 0;
    CHECK_NULL(memalign(tl_opaque_size(((size_t)1 << 62) + 1), 10));
    CHECK_I(errno, ==, EINVAL);

    p = tl_opaque(pvalloc(0));
    CHECK_NONNULL(p);
    CHECK_ALIGNED(p, 4096);
    CHECK_EQ(malloc_usable_size(p), 4096);
    free(p);
    p = tl_opaque(pvalloc(4097));
    CHECK_EQ(malloc_usable_size(p) % 4096, 0);
    CHECK(malloc_usable_size(p) >= 8192);
    free(p);

    /* Failures leave the block and set errno. */
    char *b = tl_opaque(malloc(100));
    memset(b, 7, 100);
    errno = 0;
    CHECK_NULL(reallocarray(b, tl_opaque_size(SIZE_MAX / 2), 4));
    CHECK_I(errno, ==, ENOMEM);
    errno = 0;
    CHECK_NULL(realloc(b, tl_opaque_size(LIMIT + 1)));
    CHECK_I(errno, ==, ENOMEM);
    CHECK_EQ(b[99], 7);
    free(b);

    /* posix_memalign: *memptr untouched and errno kept on error. */
    void *keep = (void *)(uintptr_t)0x1234;
    errno = 4242;
    CHECK_I(posix_memalign(&keep, tl_opaque_size(4), 8), ==, EINVAL);
    CHECK(keep == (void *)(uintptr_t)0x1234);
    CHECK_I(errno, ==, 4242);

    CHECK_EQ(malloc_usable_size(NULL), 0);
    free(NULL);
}

static void test_nonstandard(void)
{
    void *p = tl_opaque(mallocx(0, 0));
    CHECK_NONNULL(p);
    CHECK_EQ(sallocx(p, 0), 8);
    /* rallocx of 0 is taken as 1. */
    p = rallocx(p, 0, 0);
    CHECK_NONNULL(p);
    CHECK_EQ(sallocx(p, 0), 8);
    dallocx(p, 0);

    /* An arena index that does not exist: NULL, errno untouched. */
    unsigned narenas;
    size_t len = sizeof(narenas);
    CHECK_I(mallctl("arenas.narenas", &narenas, &len, NULL, 0), ==, 0);
    errno = 0;
    CHECK_NULL(mallocx(16, MALLOCX_ARENA(narenas + 100)));
    CHECK_I(errno, ==, 0);
    errno = 0;
    CHECK_NULL(mallocx(tl_opaque_size(LIMIT + 1), 0));
    CHECK_I(errno, ==, ENOMEM);

    /* xallocx: a small block keeps its class; size 0 is taken as 1. */
    p = tl_opaque(mallocx(100, 0));
    size_t u = sallocx(p, 0);
    CHECK_EQ(xallocx(p, 2000, 0, 0), u);
    CHECK_EQ(xallocx(p, 0, 0, 0), u);
    dallocx(p, 0);

    CHECK_EQ(nallocx(tl_opaque_size(LIMIT + 1), 0), 0);
    CHECK_EQ(nallocx(0, 0), 8);
    CHECK_EQ(nallocx(1, MALLOCX_LG_ALIGN(12)), 4096);

    dallocx(NULL, 0);
    sdallocx(NULL, 0, 0);
}

static void test_mallctl(void)
{
    size_t mib[8], miblen = 2;
    /* Only the first *miblenp components are looked up (as jemalloc). */
    CHECK_I(mallctlnametomib("stats.arenas.0.pactive", mib, &miblen), ==, 0);
    CHECK_EQ(miblen, 2);
    miblen = 2;
    CHECK_I(mallctlnametomib("stats.nosuch.x", mib, &miblen), ==, ENOENT);
    miblen = 8;
    CHECK_I(mallctlnametomib("version", NULL, &miblen), ==, EINVAL);
    CHECK_I(mallctlnametomib("version", mib, NULL), ==, EINVAL);
    CHECK_I(mallctlbymib(NULL, 1, NULL, NULL, NULL, 0), ==, EINVAL);

    /* A partial MIB: ENOENT; an index above UINT32_MAX: EFAULT. */
    miblen = 8;
    CHECK_I(mallctlnametomib("stats.arenas.0.pactive", mib, &miblen), ==, 0);
    CHECK_EQ(miblen, 4);
    size_t v, sz = sizeof(v);
    CHECK_I(mallctlbymib(mib, 3, &v, &sz, NULL, 0), ==, ENOENT);
    mib[2] = (size_t)UINT32_MAX + 1;
    sz = sizeof(v);
    CHECK_I(mallctlbymib(mib, 4, &v, &sz, NULL, 0), ==, EFAULT);

    /* EINVAL on a wrong size still copies what fits. */
    uint32_t small = 0;
    sz = sizeof(small);
    CHECK_I(mallctl("arenas.page", &small, &sz, NULL, 0), ==, EINVAL);
    CHECK_EQ(sz, sizeof(small));
    CHECK_EQ(small, 4096);
    /* EPERM: writing a read-only node, data to a void node. */
    sz = sizeof(v);
    CHECK_I(mallctl("arenas.page", &v, &sz, &v, sizeof(v)), ==, EPERM);
    CHECK_I(mallctl("thread.tcache.flush", &v, &sz, NULL, 0), ==, EPERM);
    CHECK_I(mallctl("stats", &v, &sz, NULL, 0), ==, ENOENT);
}

struct sink {
    char buf[1 << 16];
    size_t n;
    size_t calls;
};

static void sink_write(void *opaque, const char *s)
{
    struct sink *k = opaque;
    size_t l = strlen(s);
    CHECK(l <= 1023);
    if (k->n + l < sizeof(k->buf)) {
        memcpy(k->buf + k->n, s, l + 1);
        k->n += l;
    }
    k->calls++;
}

static struct sink sink_a, sink_b;

static void test_stats_print(void)
{
    /* The letters with nothing to omit change nothing. */
    malloc_stats_print(sink_write, &sink_a, "gmablJ");
    malloc_stats_print(sink_write, &sink_b, "gmablJdxeh?");
    CHECK(sink_a.n > 0);
    CHECK_MSG(strcmp(sink_a.buf, sink_b.buf) == 0, "\"dxeh?\" changed the output:\n%s\n---\n%s",
              sink_a.buf, sink_b.buf);
    CHECK(sink_a.buf[0] == '{');
    /* "g" omits the version; without it the version is there. */
    CHECK(strstr(sink_a.buf, "\"version\"") == NULL);
    sink_a.n = 0;
    sink_a.buf[0] = 0;
    malloc_stats_print(sink_write, &sink_a, NULL);
    CHECK(strstr(sink_a.buf, "___ Begin jemalloc statistics ___") != NULL);
    CHECK(strstr(sink_a.buf, "Version: \"" JEMALLOC_VERSION "\"") != NULL);
}

int main(void)
{
    tl_require_liballoc();
    test_standard();
    test_nonstandard();
    test_mallctl();
    test_stats_print();
    printf("api_header_claims: ok\n");
    return 0;
}
