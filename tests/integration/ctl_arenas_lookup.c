/*
 * ctl_arenas_lookup: arenas.lookup (write a void *, read an unsigned) names
 * the arena that owns a block, for small, large and huge blocks and for
 * pointers inside a block (a huge block's later 2 MiB units too); EINVAL (as jemalloc) for a pointer that is not
 * ours (NULL, the stack, static data, an mmap'd page, a freed huge block's
 * address) and for a wrong newlen or oldlen.
 */
#include "check.h"

#include <sys/mman.h>

static int lookup(const void *p, unsigned *out)
{
    size_t sz = sizeof(*out);
    return mallctl("arenas.lookup", out, &sz, (void *)&p, sizeof(p));
}

static unsigned lookup_ok(const void *p)
{
    unsigned v = 12345;
    int r = lookup(p, &v);
    CHECK_MSG(r == 0, "arenas.lookup(%p) = %d", p, r);
    return v;
}

static unsigned create_arena(void)
{
    unsigned v = 0;
    size_t sz = sizeof(v);
    CHECK_I(mallctl("arenas.create", &v, &sz, NULL, 0), ==, 0);
    return v;
}

static int static_word;

int main(void)
{
    tl_require_liballoc();
    unsigned a = create_arena(), b = create_arena();
    CHECK_U(a, !=, b);
    const int none = MALLOCX_TCACHE_NONE;
    void *small_a = mallocx(48, MALLOCX_ARENA(a) | none);
    void *small_b = mallocx(3000, MALLOCX_ARENA(b) | none);
    void *large_b = mallocx(200 << 10, MALLOCX_ARENA(b) | none);
    void *huge_a = mallocx(5 << 20, MALLOCX_ARENA(a) | none);
    CHECK_NONNULL(small_a);
    CHECK_NONNULL(small_b);
    CHECK_NONNULL(large_b);
    CHECK_NONNULL(huge_a);
    CHECK_U(lookup_ok(small_a), ==, a);
    CHECK_U(lookup_ok(small_b), ==, b);
    CHECK_U(lookup_ok(large_b), ==, b);
    CHECK_U(lookup_ok(huge_a), ==, a);
    /* Pointers inside a block. */
    CHECK_U(lookup_ok((char *)small_b + 100), ==, b);
    CHECK_U(lookup_ok((char *)large_b + (150 << 10)), ==, b);
    CHECK_U(lookup_ok((char *)huge_a + (1 << 20) + 7), ==, a);
    CHECK_U(lookup_ok((char *)huge_a + (4 << 20) + 12345), ==, a); /* third 2 MiB unit */
    CHECK_U(lookup_ok((char *)huge_a + (5 << 20) - 1), ==, a);     /* last byte */

    /* A plain malloc belongs to the thread's arena. */
    unsigned mine = 0;
    size_t usz = sizeof(mine);
    CHECK_I(mallctl("thread.arena", &mine, &usz, NULL, 0), ==, 0);
    void *m = malloc(100);
    CHECK_NONNULL(m);
    CHECK_U(lookup_ok(m), ==, mine);

    /* Not ours: EINVAL, and the output is left alone. */
    int on_stack = 0;
    void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(page != MAP_FAILED);
    const void *foreign[] = {NULL, &on_stack, &static_word, page, (void *)main};
    for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
        unsigned v = 777;
        CHECK_I(lookup(foreign[i], &v), ==, EINVAL);
        CHECK_U(v, ==, 777);
    }
    munmap(page, 4096);

    /* No pointer written, wrong newlen, wrong oldlen. */
    unsigned v = 0;
    size_t sz = sizeof(v);
    CHECK_I(mallctl("arenas.lookup", &v, &sz, NULL, 0), ==, EINVAL);
    CHECK_I(mallctl("arenas.lookup", &v, &sz, &small_a, sizeof(small_a) - 1), ==, EINVAL);
    uint64_t wide = 0;
    sz = sizeof(wide);
    CHECK_I(mallctl("arenas.lookup", &wide, &sz, &small_a, sizeof(small_a)), ==, EINVAL);
    CHECK_U(sz, ==, sizeof(unsigned));
    CHECK_U(wide, ==, a);

    /* By MIB as well. */
    size_t mib[2], miblen = 2;
    CHECK_I(mallctlnametomib("arenas.lookup", mib, &miblen), ==, 0);
    v = 999;
    sz = sizeof(v);
    CHECK_I(mallctlbymib(mib, miblen, &v, &sz, &large_b, sizeof(large_b)), ==, 0);
    CHECK_U(v, ==, b);

    /* A freed huge block's pages are no block of ours any more. */
    dallocx(huge_a, 0);
    v = 777;
    CHECK_I(lookup(huge_a, &v), ==, EINVAL);
    dallocx(small_a, 0);
    dallocx(small_b, 0);
    dallocx(large_b, 0);
    free(m);
    printf("ctl_arenas_lookup: ok\n");
    return 0;
}
