/*
 * page_extend: a slab page carves one OS page of blocks at first, at least
 * one block: carving writes every block's free mark, so a block carved is a
 * page touched. A class of page-sized blocks used for one block touches one
 * page of its slab, not four (resident memory of programs that use many
 * classes lightly, and the allocator's own start-up). A class in steady use
 * then carves as many blocks as it carved before, up to PAGE_CARVE_MAX
 * bytes at once: a 64 KiB slab of 64-byte blocks fills in 9 carves (4, 4,
 * then 8 KiB each), not 16, each a trip through malloc's slow path.
 */
#include "check.h"

#include "config.h"
#include "page.h"
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
    /* Fill d's page: the carves double, up to PAGE_CARVE_MAX bytes. */
    /* volatile: gcc takes malloc for a call that writes no memory the
     * caller sees, and would read the span's fields once. */
    volatile struct span *ds = span_of(d);
    enum { MAXB = 8192 };
    static void *v[MAXB];
    int nv = 0;
    unsigned carves = 1, prev = ds->capacity;
    while (ds->capacity < ds->reserved && nv < MAXB) {
        v[nv] = malloc(64);
        CHECK_NONNULL(v[nv]);
        nv++;
        if (ds->capacity != prev) {
            uint32_t step = ds->capacity - prev;
            uint32_t want = prev < PAGE / 64 ? PAGE / 64 : prev;
            if (want > PAGE_CARVE_MAX / 64)
                want = PAGE_CARVE_MAX / 64;
            if (want > ds->reserved - prev)
                want = ds->reserved - prev;
            CHECK_MSG(step == want, "carve %u of the 64-byte page: %u blocks after %u, want %u", carves + 1,
                      step, prev, want);
            carves++;
            prev = ds->capacity;
        }
    }
    CHECK_U(ds->reserved * 64, ==, 65536);
    CHECK_U(ds->capacity, ==, ds->reserved);
    CHECK_U(carves, ==, 9);
    for (int i = 0; i < nv; i++)
        free(v[i]);
    free(a);
    free(b);
    free(c);
    free(d);
    printf("page_extend: ok\n");
    return 0;
}
