/*
 * rtree_value: the encoding of radix-tree values (rtree.h), which every
 * reader in liballoc and libprof decodes through rtree_value_span.
 *   - encode/decode round trips: a chunk value is a chunk (not huge), a
 *     huge value is huge (not a chunk) and gives its span back, 0 is
 *     neither and decodes to no span;
 *   - a chunk value decodes through the page map: the entry of the page
 *     holding the address, for the first, a middle and the last page;
 *   - on live blocks: a small block's value is a chunk whose page map gives
 *     its slab span (the block inside it), a large block's gives its large
 *     span starting at the block, a huge block's value is exactly
 *     rtree_value_huge of its span; a stack address has no value.
 */
#include "check.h"

#include "rtree.h"
#include "sizeclass.h"
#include "span.h"

static struct chunk fake_chunk; /* a page map; static, so zeroed */

int main(void)
{
    /* Round trips of the encoding. */
    struct span s1 = {0}, s2 = {0};
    uintptr_t vc = rtree_value_chunk(&fake_chunk);
    CHECK(rtree_is_chunk(vc));
    CHECK(!rtree_is_huge(vc));
    CHECK(rtree_chunk(vc) == &fake_chunk);
    uintptr_t vh = rtree_value_huge(&s1);
    CHECK(rtree_is_huge(vh));
    CHECK(!rtree_is_chunk(vh));
    CHECK_U(vh & RTREE_HUGE_BIT, ==, 1);
    CHECK(rtree_huge_span(vh) == &s1);
    CHECK(rtree_value_span(vh, 0x12345678) == &s1); /* any address of the block */
    CHECK(!rtree_is_chunk(0));
    CHECK(!rtree_is_huge(0));
    CHECK_NULL(rtree_value_span(0, 0x12345678));

    /* A chunk value decodes through the page map. */
    uintptr_t base = (uintptr_t)64 << LG_CHUNK;
    fake_chunk.base = base;
    fake_chunk.map[0] = &s1;
    fake_chunk.map[5] = &s2;
    fake_chunk.map[CHUNK_PAGES - 1] = &s1;
    CHECK_U(rtree_chunk_page(base), ==, 0);
    CHECK_U(rtree_chunk_page(base + 5 * PAGE + 123), ==, 5);
    CHECK_U(rtree_chunk_page(base + CHUNK - 1), ==, CHUNK_PAGES - 1);
    CHECK_U(rtree_chunk_page(base + CHUNK), ==, 0); /* the next chunk's first page */
    CHECK(rtree_value_span(vc, base + 17) == &s1);
    CHECK(rtree_value_span(vc, base + 5 * PAGE) == &s2);
    CHECK(rtree_value_span(vc, base + 6 * PAGE - 1) == &s2);
    CHECK_NULL(rtree_value_span(vc, base + 6 * PAGE));
    CHECK(rtree_chunk_span(vc, base + CHUNK - 8) == &s1);

    /* Live blocks. */
    char *small = malloc(100);
    CHECK_NONNULL(small);
    uintptr_t v = rtree_get((uintptr_t)small);
    CHECK(rtree_is_chunk(v));
    struct span *s = rtree_value_span(v, (uintptr_t)small);
    CHECK_NONNULL(s);
    CHECK_U(s->kind, ==, SPAN_SLAB);
    CHECK_U(s->block_size, >=, 100);
    CHECK_U(s->block_size, <=, 128);
    CHECK_U((uintptr_t)small, >=, s->start);
    CHECK_U((uintptr_t)small - s->start, <, (uintptr_t)s->reserved * s->block_size);
    CHECK_U(((uintptr_t)small - s->start) % s->block_size, ==, 0);
    CHECK(rtree_chunk(v)->map[rtree_chunk_page((uintptr_t)small)] == s);

    char *large = malloc(64 << 10);
    CHECK_NONNULL(large);
    v = rtree_get((uintptr_t)large);
    CHECK(rtree_is_chunk(v));
    s = rtree_value_span(v, (uintptr_t)large);
    CHECK_NONNULL(s);
    CHECK_U(s->kind, ==, SPAN_LARGE);
    CHECK_U(s->start, ==, (uintptr_t)large);
    CHECK_U(s->usize, >=, 64 << 10);

    char *huge = malloc(4 << 20);
    CHECK_NONNULL(huge);
    v = rtree_get((uintptr_t)huge);
    CHECK(rtree_is_huge(v));
    s = rtree_value_span(v, (uintptr_t)huge);
    CHECK_NONNULL(s);
    CHECK_U(s->kind, ==, SPAN_HUGE);
    CHECK_U(s->start, ==, (uintptr_t)huge);
    CHECK_U(s->usize, >=, 4 << 20);
    CHECK_U(v, ==, rtree_value_huge(s));

    int local = 0;
    CHECK_U(rtree_get((uintptr_t)&local), ==, 0);
    CHECK_NULL(rtree_value_span(rtree_get((uintptr_t)&local), (uintptr_t)&local));

    free(small);
    free(large);
    free(huge);
    puts("rtree_value: ok");
    return 0;
}
