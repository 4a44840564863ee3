/*
 * page_extend: a slab page carves about one OS page of blocks at a time
 * (page.c), at least one: carving writes every block's free mark, so a
 * block carved is a page touched. A class of page-sized blocks used for one
 * block touches one page of its slab, not four (resident memory of programs
 * that use many classes lightly, and the allocator's own start-up).
 */
#include "check.h"

#include "config.h"
#include "rtree.h"
#include "sizeclass.h"
#include "span.h"

static struct span *span_of(void *p)
{
    return rtree_value_span(rtree_get((uintptr_t)p), (uintptr_t)p);
}

int main(void)
{
    /* 8 KiB blocks: one per carve. */
    void *a = malloc(8192);
    CHECK_NONNULL(a);
    struct span *s = span_of(a);
    CHECK_I(s->kind, ==, SPAN_SLAB);
    CHECK_I(s->block_size, ==, 8192);
    CHECK_I(s->capacity, ==, 1);
    void *b = malloc(8192);
    CHECK_NONNULL(b);
    CHECK_MSG(span_of(b) == s, "second block on another page");
    CHECK_I(s->capacity, ==, 2);
    /* 2 KiB blocks: two per carve (one OS page). */
    void *c = malloc(2048);
    CHECK_NONNULL(c);
    CHECK_I(span_of(c)->capacity, ==, PAGE / 2048);
    /* 64-byte blocks: a page's worth at once. */
    void *d = malloc(64);
    CHECK_NONNULL(d);
    CHECK_I(span_of(d)->capacity, ==, PAGE / 64);
    free(a);
    free(b);
    free(c);
    free(d);
    printf("page_extend: ok\n");
    return 0;
}
