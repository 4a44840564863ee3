/*
 * page_count_wrap: a slab page counts blocks handed out (nmalloc, 64 bits)
 * and blocks given back (nfree, 32 bits); blocks out is the low half of
 * nmalloc less nfree (span_used), so malloc's fast path updates one count.
 * Checked here across the point where nmalloc's low half wraps (after
 * 2^32 mallocs on one page, which a long-lived service's hot page
 * reaches): blocks out, the page-empty test of free's fast path
 * (span_count_free), the bin's curregs and nmalloc in the stats, and the
 * stats reader's clamp (span_used_racy) of a snapshot above the page's
 * block count.
 */
#include "check.h"

#include "alloc.h"
#include "rtree.h"
#include "span.h"

#include <stdio.h>

static struct span *span_of(void *p)
{
    return rtree_value_span(rtree_get((uintptr_t)p), (uintptr_t)p);
}

/* stats.arenas.<arena>.bins.<bin>.<what> after an epoch bump. */
static uint64_t bin_stat(unsigned arena, unsigned bin, const char *what)
{
    uint64_t e = 1, v = 0;
    size_t sz = sizeof(e);
    CHECK_I(mallctl("epoch", NULL, NULL, &e, sz), ==, 0);
    char name[96];
    snprintf(name, sizeof(name), "stats.arenas.%u.bins.%u.%s", arena, bin, what);
    size_t vsz = sizeof(v);
    if (mallctl(name, &v, &vsz, NULL, 0) != 0) { /* curregs is a size_t */
        size_t s = 0;
        vsz = sizeof(s);
        CHECK_I(mallctl(name, &s, &vsz, NULL, 0), ==, 0);
        v = s;
    }
    return v;
}

int main(void)
{
    enum { SIZE = 256, FIRST = 10, MORE = 20 };
    void *blk[FIRST + MORE];
    for (unsigned i = 0; i < FIRST; i++)
        CHECK_NONNULL(blk[i] = malloc(SIZE));
    struct span *s = span_of(blk[0]);
    CHECK(s != NULL && s->kind == SPAN_SLAB);
    for (unsigned i = 1; i < FIRST; i++)
        CHECK(span_of(blk[i]) == s);
    CHECK_U(s->reserved, >=, FIRST + MORE + 1);
    unsigned arena = 0, bin = s->cls;
    size_t asz = sizeof(arena);
    CHECK_I(mallctl("thread.arena", &arena, &asz, NULL, 0), ==, 0);
    uint32_t out = span_used(s);
    CHECK_U(out, ==, FIRST);
    CHECK_U(bin_stat(arena, bin, "curregs"), ==, FIRST);

    /* The page as after 2^32 - 8 mallocs, FIRST of them still out. */
    uint64_t nm0 = ((uint64_t)1 << 32) - 8;
    s->nmalloc = nm0;
    s->nfree = (uint32_t)nm0 - out;
    CHECK_U(span_used(s), ==, FIRST);

    for (unsigned i = FIRST; i < FIRST + MORE; i++) {
        CHECK_NONNULL(blk[i] = malloc(SIZE));
        CHECK(span_of(blk[i]) == s); /* the page's free blocks first */
    }
    CHECK_U(s->nmalloc, ==, nm0 + MORE); /* past the low half's wrap */
    CHECK_U((uint32_t)s->nmalloc, <, (uint32_t)nm0);
    CHECK_U(span_used(s), ==, FIRST + MORE);
    CHECK_U(span_used_racy(s), ==, FIRST + MORE);
    CHECK_U(bin_stat(arena, bin, "curregs"), ==, FIRST + MORE);
    CHECK_U(bin_stat(arena, bin, "nmalloc"), >=, nm0 + MORE);

    /* The free path's count: true only for the last block out. */
    uint32_t nf = s->nfree;
    s->nfree = (uint32_t)s->nmalloc - 2;
    CHECK(!span_count_free(s));
    CHECK(span_count_free(s));
    CHECK_U(span_used(s), ==, 0);
    s->nfree = nf;

    /* A stats snapshot that reads above the page's blocks (a reordered
     * read) counts 0 instead of ~2^32. */
    s->nfree = (uint32_t)s->nmalloc + 1;
    CHECK_U(span_used_racy(s), ==, 0);
    s->nfree = nf;

    for (unsigned i = 0; i < FIRST + MORE; i++)
        free(blk[i]);
    CHECK_U(span_used(s), ==, 0);
    CHECK_U(bin_stat(arena, bin, "curregs"), ==, 0);
    void *again = malloc(SIZE);
    CHECK(span_of(again) == s);
    CHECK_U(span_used(s), ==, 1);
    free(again);
    printf("page_count_wrap: ok\n");
    return 0;
}
