/*
 * api_edges: the edge cases the standard allocator suites check (glibc's
 * malloc/tst-*, jemalloc's test/integration, mimalloc's test-api) that
 * the api_* tests do not, each with the value those suites expect (facts
 * taken from them, the tests are our own):
 *  - the largest size class (arenas.lextent.<nlextents-1>.size): nallocx
 *    gives it back, one byte more gives 0 and every allocation entry point
 *    fails with ENOMEM (posix_memalign returns it, *memptr untouched);
 *  - glibc tst-malloc-too-large: SIZE_MAX - k, SIZE_MAX - 2^k,
 *    PTRDIFF_MAX and PTRDIFF_MAX + 1 through malloc, realloc (block
 *    intact), calloc and reallocarray split into nmemb x size for nmemb
 *    1..8 both ways, aligned_alloc, memalign and posix_memalign at every
 *    alignment up to a page, valloc, pvalloc: NULL and ENOMEM. Under an
 *    address-space limit (RLIMIT_AS, in a child) a request below
 *    PTRDIFF_MAX but beyond the limit fails the same way;
 *  - jemalloc aligned_alloc/posix_memalign: alignment 2^k + 1 and 2^k - 1
 *    for 2^k = 8 .. 8 MiB is EINVAL; (2^63, 2^63), (2^62, 3 * 2^62 + 1),
 *    (16, SIZE_MAX - 15) are ENOMEM; mallocx/rallocx with an alignment of
 *    PTRDIFF_MAX + 1 give NULL;
 *  - glibc tst-memalign: memalign(sizeof(void *), SIZE_MAX) and
 *    memalign(page, -page) ENOMEM, memalign(SIZE_MAX, page) EINVAL,
 *    memalign(sizeof(void *), 0) a block, memalign(256, 10) 256-aligned;
 *  - glibc's exported internal names __libc_malloc, _calloc, _realloc,
 *    _memalign, _valloc, _pvalloc, _free resolve into liballoc and give
 *    our blocks (valloc's page-aligned, pvalloc's a whole page more);
 *  - size 0: nallocx(0, 0) is the smallest class and malloc(0)'s usable
 *    size; calloc(0, SIZE_MAX), calloc(SIZE_MAX, 0), reallocarray(NULL,
 *    0, 16) are blocks (no overflow); calloc(0, 1000) is no larger than
 *    16 bytes (mimalloc's calloc0);
 *  - jemalloc xallocx: a small block keeps its size for any request
 *    (1, the next class, largemax + 1, SIZE_MAX, size + extra overflowing);
 *    a large block in an explicit arena shrinks and grows in place within
 *    the bounds jemalloc's test_extra_large states; growing in steps with
 *    MALLOCX_ZERO keeps the old bytes and zeroes the new ones;
 *  - glibc tst-realloc: realloc to the usable size and back never moves
 *    the block; jemalloc's rallocx walks (class by class to 12 MiB and
 *    back, exact shrink; MALLOCX_ZERO growth byte by byte; alignments up
 *    to 2^25 with MALLOCX_ZERO, the usable block zero);
 *  - errno: zero when main starts (C11 7.5p3; the allocator's constructor
 *    reads /etc/malloc.conf, usually missing); every successful call
 *    leaves it as it was, for small, large and huge sizes, realloc(p, 0)
 *    and reallocarray(p, 0, n) included (glibc, and jemalloc's
 *    zero_realloc:free, free p and return NULL without setting errno),
 *    mallctl too (a name with an index; a heap profile dump, in a child
 *    under prof:true); and every call keeps it when the kernel calls
 *    behind it fail (madvise, mbind: debug.fault), as glibc's
 *    tst-free-errno checks for free.
 * memalign with an alignment that is not a power of two is left out:
 * glibc rounds it up (ours too, man/liballoc.3: "the obsolete glibc
 * forms"), jemalloc 5.3 returns NULL; programs written for glibc rely on
 * the rounding.
 */
#include "check.h"

#include "../../liballoc/fault.h"

#include <malloc.h>
#include <sys/wait.h>

#define SENTINEL 4242

static size_t page;

static size_t ctl_size(const char *name)
{
    size_t v = 0, sz = sizeof(v);
    CHECK_MSG(mallctl(name, &v, &sz, NULL, 0) == 0, "mallctl(\"%s\") failed", name);
    return v;
}

static unsigned ctl_unsigned(const char *name)
{
    unsigned v = 0;
    size_t sz = sizeof(v);
    CHECK_MSG(mallctl(name, &v, &sz, NULL, 0) == 0, "mallctl(\"%s\") failed", name);
    return v;
}

static size_t large_class(unsigned i)
{
    char name[64];
    snprintf(name, sizeof(name), "arenas.lextent.%u.size", i);
    return ctl_size(name);
}

static size_t small_class(unsigned i)
{
    char name[64];
    snprintf(name, sizeof(name), "arenas.bin.%u.size", i);
    return ctl_size(name);
}

/* expr (a pointer) must be NULL with errno e. */
#define FAILS_WITH(expr, e)                                                                        \
    do {                                                                                           \
        errno = 0;                                                                                 \
        void *r_ = (expr);                                                                         \
        int err_ = errno;                                                                          \
        CHECK_MSG(r_ == NULL, "%s = %p, want NULL", #expr, r_);                                    \
        CHECK_MSG(err_ == (e), "%s: errno %d, want %d", #expr, err_, (e));                         \
    } while (0)

/* posix_memalign must return e and leave *memptr alone. */
static void pm_fails(size_t align, size_t size, int e)
{
    void *out = (void *)&page;
    errno = SENTINEL;
    int r = posix_memalign(&out, tl_opaque_size(align), tl_opaque_size(size));
    CHECK_MSG(r == e, "posix_memalign(%zu, %zu) = %d, want %d", align, size, r, e);
    CHECK_MSG(out == (void *)&page, "posix_memalign(%zu, %zu) changed *memptr to %p", align, size,
              out);
    CHECK_I(errno, ==, SENTINEL);
}

/* Every allocation entry point refuses n bytes with ENOMEM; a live
 * block survives a realloc/rallocx to n. */
static void all_refuse(size_t n)
{
    size_t N = tl_opaque_size(n);
    FAILS_WITH(malloc(N), ENOMEM);
    FAILS_WITH(calloc(1, N), ENOMEM);
    FAILS_WITH(valloc(N), ENOMEM);
    FAILS_WITH(pvalloc(N), ENOMEM);
    FAILS_WITH(reallocarray(NULL, 1, N), ENOMEM);
    FAILS_WITH(realloc(NULL, N), ENOMEM);
    CHECK_NULL(mallocx(N, 0));
    CHECK_NULL(mallocx(N, MALLOCX_ZERO | MALLOCX_ALIGN(64)));
    for (size_t a = 1; a <= page; a *= 2) {
        FAILS_WITH(aligned_alloc(a, N), ENOMEM);
        FAILS_WITH(memalign(a, N), ENOMEM);
        if (a % sizeof(void *) == 0)
            pm_fails(a, N, ENOMEM);
    }
    for (size_t k = 1; k <= 8; k *= 2) {
        if (n % k)
            continue;
        FAILS_WITH(calloc(k, tl_opaque_size(n / k)), ENOMEM);
        FAILS_WITH(calloc(tl_opaque_size(n / k), k), ENOMEM);
    }
    unsigned char *p = malloc(16);
    CHECK_NONNULL(p);
    memset(p, 0x3c, 16);
    FAILS_WITH(realloc(p, N), ENOMEM);
    CHECK_NULL(rallocx(p, N, 0));
    for (size_t k = 1; k <= 8; k *= 2) {
        if (n % k)
            continue;
        FAILS_WITH(reallocarray(p, k, tl_opaque_size(n / k)), ENOMEM);
        FAILS_WITH(reallocarray(p, tl_opaque_size(n / k), k), ENOMEM);
    }
    for (int i = 0; i < 16; i++)
        CHECK_EQ(p[i], 0x3c);
    CHECK_U(malloc_usable_size(p), >=, 16);
    free(p);
}

static void test_largest_class(void)
{
    unsigned nl = ctl_unsigned("arenas.nlextents");
    CHECK_U(nl, >, 4);
    size_t largemax = large_class(nl - 1);
    CHECK_U(largemax, >, (size_t)1 << 40);
    CHECK_EQ(nallocx(largemax, 0), largemax);
    CHECK_EQ(nallocx(largemax + 1, 0), 0);
    CHECK_EQ(nallocx(largemax - 1, 0), largemax);
    all_refuse(largemax + 1);
    pm_fails(8, largemax + 1, ENOMEM);
}

/* glibc tst-malloc-too-large's sizes: from SIZE_MAX down to PTRDIFF_MAX,
 * and the last page below it (no class holds it). */
static void test_too_large(void)
{
    for (size_t k = 0; k < 16; k++) {
        all_refuse(SIZE_MAX - k);
        CHECK_EQ(nallocx(SIZE_MAX - k, 0), 0);
    }
    for (unsigned b = 0; b < 63; b += 3)
        all_refuse(SIZE_MAX - ((size_t)1 << b));
    all_refuse((size_t)PTRDIFF_MAX);
    all_refuse((size_t)PTRDIFF_MAX + 1);
    all_refuse((size_t)PTRDIFF_MAX - page + 1);
}

/* Requests below PTRDIFF_MAX but beyond RLIMIT_AS fail the same way, and
 * the allocator works on afterwards. In a child: the limit stays there. */
static void test_too_large_rlimit(void)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        size_t vm = tl_vm_size();
        tl_limit_as(vm + (256 << 20));
        all_refuse((size_t)64 << 30);
        all_refuse(((size_t)1 << 46) + 12345);
        void *p = malloc(8 << 20);
        CHECK_NONNULL(p);
        memset(p, 1, 8 << 20);
        free(p);
        _exit(0);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "rlimit child failed (status 0x%x)", st);
}

static void test_alignment_limits(void)
{
    for (size_t a = 8; a <= ((size_t)1 << 23); a <<= 1) {
        FAILS_WITH(aligned_alloc(tl_opaque_size(a + 1), 1), EINVAL);
        FAILS_WITH(aligned_alloc(tl_opaque_size(a - 1), 1), EINVAL);
        pm_fails(a + 1, 1, EINVAL);
        pm_fails(a - 1, 1, EINVAL);
    }
    pm_fails(sizeof(void *) / 2, 1, EINVAL); /* a power of two, below sizeof(void *) */
    pm_fails(0, 1, EINVAL);
    const struct {
        size_t a, n;
    } oom[] = {{(size_t)1 << 63, (size_t)1 << 63},
               {(size_t)1 << 62, ((size_t)3 << 62) + 1},
               {16, SIZE_MAX - 15},
               {(size_t)1 << 63, 1}};
    for (size_t i = 0; i < sizeof(oom) / sizeof(oom[0]); i++) {
        FAILS_WITH(aligned_alloc(tl_opaque_size(oom[i].a), tl_opaque_size(oom[i].n)), ENOMEM);
        pm_fails(oom[i].a, oom[i].n, ENOMEM);
    }
    size_t big_align = (size_t)PTRDIFF_MAX + 1;
    CHECK_NULL(mallocx(1, MALLOCX_ALIGN(tl_opaque_size(big_align))));
    CHECK_EQ(nallocx(1, MALLOCX_ALIGN(tl_opaque_size(big_align))), 0);
    CHECK_NULL(mallocx(tl_opaque_size((size_t)1 << 63), MALLOCX_ALIGN((size_t)1 << 63)));
    CHECK_NULL(mallocx(tl_opaque_size((size_t)1 << 63), MALLOCX_ALIGN((size_t)1 << 31)));
    unsigned char *p = mallocx(100, 0);
    CHECK_NONNULL(p);
    memset(p, 0x1e, 100);
    CHECK_NULL(rallocx(p, 1, MALLOCX_ALIGN(tl_opaque_size(big_align))));
    for (int i = 0; i < 100; i++)
        CHECK_EQ(p[i], 0x1e);
    dallocx(p, 0);
}

static void test_memalign_glibc(void)
{
    FAILS_WITH(memalign(sizeof(void *), tl_opaque_size(SIZE_MAX)), ENOMEM);
    FAILS_WITH(memalign(page, tl_opaque_size(-page)), ENOMEM);
    FAILS_WITH(memalign(tl_opaque_size(SIZE_MAX), page), EINVAL);
    FAILS_WITH(memalign(tl_opaque_size(((size_t)1 << 63) + 1), page), EINVAL);
    void *p = memalign(sizeof(void *), tl_opaque_size(0));
    CHECK_NONNULL(p);
    free(p);
    p = memalign(0x100, tl_opaque_size(10));
    CHECK_NONNULL(p);
    CHECK_ALIGNED(p, 0x100);
    CHECK_U(malloc_usable_size(p), >=, 10);
    free(p);
}

/* glibc's exported internal names (GLIBC_2.2.5), which some programs and
 * libraries call directly: each must be ours, or its block would come
 * from glibc's heap and our free would refuse it. */
void *__libc_malloc(size_t);
void *__libc_calloc(size_t, size_t);
void *__libc_realloc(void *, size_t);
void *__libc_memalign(size_t, size_t);
void *__libc_valloc(size_t);
void *__libc_pvalloc(size_t);
void __libc_free(void *);

static void test_libc_names(void)
{
#define LIBC_SYM(f) tl_check_sym(#f, (const void *)(uintptr_t)&f)
    LIBC_SYM(__libc_malloc);
    LIBC_SYM(__libc_calloc);
    LIBC_SYM(__libc_realloc);
    LIBC_SYM(__libc_memalign);
    LIBC_SYM(__libc_valloc);
    LIBC_SYM(__libc_pvalloc);
    LIBC_SYM(__libc_free);
#undef LIBC_SYM
    void *v = __libc_valloc(tl_opaque_size(100));
    CHECK_NONNULL(v);
    CHECK_ALIGNED(v, page);
    CHECK_EQ(malloc_usable_size(v), sallocx(v, 0));
    CHECK_U(malloc_usable_size(v), >=, 100);
    free(v);
    void *pv = __libc_pvalloc(tl_opaque_size(page + 1));
    CHECK_NONNULL(pv);
    CHECK_ALIGNED(pv, page);
    CHECK_U(malloc_usable_size(pv), >=, 2 * page);
    memset(pv, 0x6b, 2 * page);
    __libc_free(pv);
}

static void test_size_zero(void)
{
    size_t small0 = small_class(0);
    CHECK_EQ(small0, 8);
    CHECK_EQ(nallocx(0, 0), small0);
    void *p = tl_opaque(malloc(0));
    CHECK_NONNULL(p);
    CHECK_EQ(malloc_usable_size(p), small0);
    free(p);
    void *q[4] = {calloc(0, tl_opaque_size(SIZE_MAX)), calloc(tl_opaque_size(SIZE_MAX), 0),
                  reallocarray(NULL, 0, 16), reallocarray(NULL, tl_opaque_size(SIZE_MAX), 0)};
    for (int i = 0; i < 4; i++) {
        CHECK_MSG(q[i] != NULL, "zero-product call %d returned NULL", i);
        for (int j = 0; j < i; j++)
            CHECK(q[i] != q[j]);
    }
    for (int i = 0; i < 4; i++)
        free(q[i]);
    p = calloc(0, tl_opaque_size(1000));
    CHECK_NONNULL(p);
    CHECK_U(malloc_usable_size(p), <=, 16);
    free(p);
}

static void test_xallocx_small(void)
{
    unsigned nl = ctl_unsigned("arenas.nlextents");
    size_t largemax = large_class(nl - 1);
    size_t small0 = small_class(0), small1 = small_class(1);
    void *p = mallocx(small0, 0);
    CHECK_NONNULL(p);
    CHECK_EQ(xallocx(p, 1, 0, 0), small0);
    CHECK_EQ(xallocx(p, small1, 0, 0), small0);
    CHECK_EQ(xallocx(p, small0, small1 - small0, 0), small0);
    CHECK_EQ(xallocx(p, largemax, 0, 0), small0);
    CHECK_EQ(xallocx(p, largemax + 1, 0, 0), small0);
    CHECK_EQ(xallocx(p, SIZE_MAX, 0, 0), small0);
    CHECK_EQ(xallocx(p, largemax - 1, 2, 0), small0);
    CHECK_EQ(xallocx(p, largemax, 1, 0), small0);
    CHECK_EQ(xallocx(p, largemax + 1, 2, 0), small0);
    CHECK_EQ(xallocx(p, SIZE_MAX - 2, 2, 0), small0);
    CHECK_EQ(xallocx(p, SIZE_MAX - 1, 1, 0), small0);
    CHECK_EQ(xallocx(p, small0, largemax - small0 + 1, 0), small0);
    CHECK_EQ(xallocx(p, small0, SIZE_MAX - small0, 0), small0);
    dallocx(p, 0);
    /* 42 bytes: the class (48) is kept, extra up to it is a no-op, 5 more fails. */
    p = mallocx(42, 0);
    CHECK_NONNULL(p);
    size_t sz = sallocx(p, 0);
    CHECK_EQ(sz, 48);
    CHECK_EQ(xallocx(p, sz, sz - 42, 0), sz);
    CHECK_EQ(xallocx(p, sz + 5, 0, 0), sz);
    dallocx(p, 0);
}

/* A large block in an arena of its own (nothing else there to block an
 * in-place resize): jemalloc's test_extra_large bounds. */
static void test_xallocx_large(void)
{
    unsigned nl = ctl_unsigned("arenas.nlextents"), nb = ctl_unsigned("arenas.nbins");
    size_t largemax = large_class(nl - 1), smallmax = small_class(nb - 1);
    size_t l1 = large_class(1), l2 = large_class(2), l3 = large_class(3);
    int fl = MALLOCX_ARENA(tl_arena_create());
    unsigned char *p = mallocx(l3, fl);
    CHECK_NONNULL(p);
    CHECK_EQ(xallocx(p, l3, 0, fl), l3);
    CHECK_U(xallocx(p, l1, 0, fl), >=, l1);
    CHECK_U(xallocx(p, smallmax, 0, fl), >=, l1); /* never below the large classes */
    CHECK_EQ(sallocx(p, 0), l1);
    CHECK_EQ(xallocx(p, l3, 0, fl), l3); /* regrown in place: its arena is empty */
    CHECK_EQ(xallocx(p, l1, l3 - l1, fl), l3);
    CHECK_EQ(xallocx(p, l2, l3 - l2, fl), l3);
    CHECK_U(xallocx(p, l1, l2 - l1, fl), >=, l2);
    CHECK_U(xallocx(p, smallmax, l1 - smallmax, fl), >=, l1);
    CHECK_U(xallocx(p, l1, 0, fl), >=, l1);
    CHECK_U(xallocx(p, l3, 0, fl), <=, l3);
    CHECK_U(xallocx(p, largemax + 1, 0, fl), <=, l3);
    CHECK_U(xallocx(p, l1, 0, fl), >=, l1);
    CHECK_U(xallocx(p, l1, SIZE_MAX - l1, fl), <=, largemax);
    CHECK_U(xallocx(p, l1, 0, fl), >=, l1);
    CHECK_U(xallocx(p, l1, l3 - l1, fl), <=, l3);
    CHECK_EQ(xallocx(p, l3, 0, fl), l3);
    CHECK_U(xallocx(p, l3, largemax - l3 + 1, fl), <=, largemax);
    dallocx(p, fl);

    /* Grow in steps of one class with MALLOCX_ZERO (xallocx, else
     * rallocx): old bytes kept, new bytes zero. */
    int zf = fl | MALLOCX_ZERO;
    size_t l0 = large_class(0), top = 2 * l0;
    p = mallocx(top, zf);
    CHECK_NONNULL(p);
    CHECK_ZERO(p, top);
    memset(p, 0x7a, top);
    size_t sz = l1;
    if (xallocx(p, sz, 0, zf) != sz) {
        p = rallocx(p, sz, zf);
        CHECK_NONNULL(p);
    }
    int in_place = 0, steps = 0;
    for (size_t nsz; sz < top; sz = nsz, steps++) {
        nsz = nallocx(sz + 1, zf);
        if (xallocx(p, sz + 1, 0, zf) == nsz) {
            in_place++;
        } else {
            p = rallocx(p, sz + 1, zf);
            CHECK_NONNULL(p);
        }
        for (size_t i = 0; i < sz; i++)
            CHECK_MSG(p[i] == 0x7a, "growth to %zu: byte %zu lost (%#x)", nsz, i, p[i]);
        CHECK_ZERO(p + sz, nsz - sz);
        memset(p + sz, 0x7a, nsz - sz);
    }
    CHECK_EQ(in_place, steps); /* an arena of its own: every step in place */
    dallocx(p, fl);
}

/* glibc tst-realloc: realloc to the block's usable size, and back to the
 * request, never moves it (small, large and huge). */
static void test_realloc_within_usable(void)
{
    for (size_t n = 3; n < ((size_t)40 << 20); n = n < 300000 ? n + 2048 : n * 3 / 2 + 4097) {
        unsigned char *p = tl_opaque(realloc(NULL, n));
        CHECK_NONNULL(p);
        size_t u = malloc_usable_size(p);
        p[0] = 0x11;
        p[u - 1] = 0x22;
        unsigned char *q = realloc(p, tl_opaque_size(u));
        CHECK_MSG(q == p, "realloc(%zu-byte block, its usable size %zu) moved it", n, u);
        CHECK(q[0] == 0x11 && q[u - 1] == 0x22);
        q = realloc(p, tl_opaque_size(n));
        CHECK_MSG(q == p, "realloc(usable %zu, back to %zu) moved it", u, n);
        free(q);
    }
}

/* jemalloc's rallocx walks: one class up at a time to 12 MiB and back,
 * each shrink giving exactly the earlier class; MALLOCX_ZERO growth by
 * one byte at a time from 1 B, 3 KiB, 63 KiB and 4095 KiB (old bytes
 * kept, the grown part zero); alignments 2^1 .. 2^25 with MALLOCX_ZERO
 * (aligned, the usable block zero), with freed dirty blocks of the next
 * alignment around to be reused. */
static void test_rallocx_walks(void)
{
    static size_t cls[1024];
    unsigned char *p = mallocx(1, 0);
    CHECK_NONNULL(p);
    cls[0] = sallocx(p, 0);
    for (int cycle = 0; cycle < 2; cycle++) {
        unsigned j;
        for (j = 1; j < 1024 && cls[j - 1] < ((size_t)12 << 20); j++) {
            p = rallocx(p, cls[j - 1] + 1, 0);
            CHECK_NONNULL(p);
            cls[j] = sallocx(p, 0);
            CHECK_U(cls[j], >, cls[j - 1]);
        }
        for (j--; j > 0; j--) {
            p = rallocx(p, cls[j - 1], 0);
            CHECK_NONNULL(p);
            CHECK_MSG(sallocx(p, 0) == cls[j - 1], "rallocx shrink to %zu: sallocx %zu", cls[j - 1],
                      sallocx(p, 0));
        }
    }
    dallocx(p, 0);

    const size_t starts[] = {1, 3 << 10, 63 << 10, 4095 << 10};
    for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
        p = mallocx(starts[i], MALLOCX_ZERO);
        CHECK_NONNULL(p);
        size_t psz = sallocx(p, 0);
        CHECK_ZERO(p, psz);
        memset(p, 0xaa, psz);
        for (size_t j = 1; j < 2048; j++) {
            unsigned char *q = rallocx(p, starts[i] + j, MALLOCX_ZERO);
            CHECK_NONNULL(q);
            size_t qsz = sallocx(q, 0);
            if (q != p || qsz != psz) {
                for (size_t k = 0; k < psz; k++)
                    CHECK_MSG(q[k] == 0xaa, "rallocx(%zu + %zu, zero): byte %zu lost", starts[i], j,
                              k);
                CHECK_ZERO(q + psz, qsz - psz);
            }
            if (qsz != psz) {
                memset(q + psz, 0xaa, qsz - psz);
                psz = qsz;
            }
            p = q;
        }
        dallocx(p, 0);
    }

    const size_t max_check = (size_t)1 << 22;
    p = mallocx(1, MALLOCX_ZERO);
    CHECK_NONNULL(p);
    for (unsigned lg = 1; lg <= 25; lg++) {
        unsigned char *d = mallocx(1, MALLOCX_LG_ALIGN(lg + 1));
        CHECK_NONNULL(d);
        memset(d, 0xee, sallocx(d, 0));
        dallocx(d, 0);
        unsigned char *q = tl_opaque(rallocx(p, 1, MALLOCX_LG_ALIGN(lg) | MALLOCX_ZERO));
        CHECK_NONNULL(q);
        CHECK_ALIGNED(q, (size_t)1 << lg);
        size_t sz = sallocx(q, 0);
        if (2 * sz <= max_check) {
            CHECK_ZERO(q, sz);
        } else {
            CHECK_ZERO(q, max_check);
            CHECK_ZERO(q + sz - max_check, max_check);
        }
        p = q;
    }
    dallocx(p, 0);
}

/* stmt must leave errno at SENTINEL. */
#define KEEPS_ERRNO(stmt)                                                                          \
    do {                                                                                           \
        errno = SENTINEL;                                                                          \
        stmt;                                                                                      \
        CHECK_MSG(errno == SENTINEL, "%s (n = %zu): errno %d afterwards", #stmt, n, errno);        \
    } while (0)

static const size_t errno_sizes[] = {0,      1,       100,     4096,    20000,
                                     100000, 1 << 20, 3 << 20, 9 << 20, 64 << 20};

/* Every entry point on the success path, at size n. */
static void errno_round(size_t n)
{
    void *p, *q;
    KEEPS_ERRNO(p = malloc(n));
    CHECK_NONNULL(p);
    memset(p, 1, n);
    KEEPS_ERRNO(p = realloc(p, n * 2 + 1));
    CHECK_NONNULL(p);
    KEEPS_ERRNO(p = realloc(p, n / 3 + 1));
    CHECK_NONNULL(p);
    KEEPS_ERRNO(CHECK_U(malloc_usable_size(p), >=, n / 3 + 1));
    KEEPS_ERRNO(free(p));
    KEEPS_ERRNO(p = calloc(1, n));
    CHECK_NONNULL(p);
    KEEPS_ERRNO(q = realloc(p, 0)); /* frees p */
    CHECK_NULL(q);
    KEEPS_ERRNO(p = reallocarray(NULL, n, 2));
    CHECK_NONNULL(p);
    KEEPS_ERRNO(q = reallocarray(p, 0, 2)); /* realloc(p, 0): frees p */
    CHECK_NULL(q);
    KEEPS_ERRNO(p = aligned_alloc(4096, n));
    CHECK_NONNULL(p);
    KEEPS_ERRNO(free(p));
    KEEPS_ERRNO(p = memalign(64, n));
    CHECK_NONNULL(p);
    KEEPS_ERRNO(free(p));
    KEEPS_ERRNO(CHECK_I(posix_memalign(&p, 1 << 16, n), ==, 0));
    KEEPS_ERRNO(free(p));
    KEEPS_ERRNO(p = valloc(n));
    CHECK_NONNULL(p);
    KEEPS_ERRNO(free(p));
    KEEPS_ERRNO(p = pvalloc(n));
    CHECK_NONNULL(p);
    KEEPS_ERRNO(free(p));
    KEEPS_ERRNO(p = mallocx(n + 1, MALLOCX_ALIGN(1 << 16) | MALLOCX_ZERO));
    CHECK_NONNULL(p);
    KEEPS_ERRNO(p = rallocx(p, n * 3 + 1, 0));
    CHECK_NONNULL(p);
    KEEPS_ERRNO(xallocx(p, n + 1, 0, 0));
    KEEPS_ERRNO(xallocx(p, n * 4 + 1, 0, MALLOCX_ZERO));
    KEEPS_ERRNO(sallocx(p, 0));
    KEEPS_ERRNO(sdallocx(p, n + 1, 0));
    KEEPS_ERRNO(p = mallocx(n + 1, MALLOCX_TCACHE_NONE));
    CHECK_NONNULL(p);
    KEEPS_ERRNO(dallocx(p, MALLOCX_TCACHE_NONE));
}

static void test_errno_kept(void)
{
    for (size_t i = 0; i < sizeof(errno_sizes) / sizeof(errno_sizes[0]); i++)
        errno_round(errno_sizes[i]);
    /* mallctl reads with an index in the name (parsed as a number). */
    size_t n = 0;
    KEEPS_ERRNO(n = small_class(3));
    CHECK_EQ(n, 48);
    KEEPS_ERRNO(n = large_class(0));
    CHECK_U(n, >, 16384);
    KEEPS_ERRNO(CHECK_I(mallctl("arena.0.purge", NULL, NULL, NULL, 0), ==, 0));
    KEEPS_ERRNO(CHECK_I(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0), ==, 0));
}

/* A heap profile dump opens and reads files on its way (a successful one
 * under prof:true, in a child; a refused one here when the profiler is
 * off: ENOENT): errno stays. */
static void test_errno_kept_dump(void)
{
    char path[64];
    snprintf(path, sizeof(path), "/tmp/api_edges.%d.heap", (int)getpid());
    const char *pp = path;
    bool prof = false;
    size_t bsz = sizeof(prof);
    CHECK_I(mallctl("opt.prof", &prof, &bsz, NULL, 0), ==, 0);
    int r = -1;
    size_t n = 0;
    KEEPS_ERRNO(r = mallctl("prof.dump", NULL, NULL, &pp, sizeof(pp)));
    CHECK_I(r, ==, prof ? 0 : ENOENT);
    unlink(path);
}

/* The kernel calls behind the success path fail (madvise and mbind, with
 * each errno a kernel gives): the calls still succeed and errno stays. */
static void test_errno_kept_under_faults(void)
{
    const int errs[] = {EINVAL, EAGAIN, ENOMEM, EPERM, EIO};
    uint64_t injected = 0;
    for (size_t e = 0; e < sizeof(errs) / sizeof(errs[0]); e++) {
        struct alloc_fault f = {FAULT_PURGE | FAULT_BIND, errs[e], 0, 0, 1, 7};
        CHECK_I(mallctl("debug.fault", NULL, NULL, &f, sizeof(f)), ==, 0);
        for (int round = 0; round < 3; round++) {
            for (size_t i = 0; i < sizeof(errno_sizes) / sizeof(errno_sizes[0]); i++)
                errno_round(errno_sizes[i]);
            size_t n = 0;
            KEEPS_ERRNO(CHECK_I(mallctl("arena.0.purge", NULL, NULL, NULL, 0), ==, 0));
        }
        struct alloc_fault off = {0};
        uint64_t got = 0;
        size_t sz = sizeof(got);
        CHECK_I(mallctl("debug.fault", &got, &sz, &off, sizeof(off)), ==, 0);
        injected += got;
    }
    /* Meaningful only if the madvise calls happened and failed. */
    CHECK_U(injected, >, 0);
    printf("errno kept over %llu injected kernel-call failures\n", (unsigned long long)injected);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        test_errno_kept_dump(); /* under tl_run_child's prof:true */
        return 0;
    }
    /* C11 7.5p3: zero at program startup; the allocator's constructor
     * (booting reads files that may be missing) must not change that. */
    int errno_at_start = errno;
    CHECK_I(errno_at_start, ==, 0);
    tl_require_liballoc();
    page = (size_t)sysconf(_SC_PAGESIZE);
    test_largest_class();
    test_too_large();
    test_too_large_rlimit();
    test_alignment_limits();
    test_memalign_glibc();
    test_libc_names();
    test_size_zero();
    test_xallocx_small();
    test_xallocx_large();
    test_realloc_within_usable();
    test_rallocx_walks();
    test_errno_kept();
    test_errno_kept_dump();
    tl_run_child("prof:true");
    test_errno_kept_under_faults();
    printf("api_edges: ok\n");
    return 0;
}
