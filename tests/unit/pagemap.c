/*
 * pagemap: the page -> slab span map free's fast path reads
 * (liballoc/pagemap.h).
 *   - every page of a live slab reads that slab's span (the span the chunk
 *     map gives), for every small class;
 *   - a large block's first page reads its span (the chunk map's), while
 *     it is live and while the thread's cache keeps it after its free;
 *     its other pages, every page of a huge block, a stack address and a
 *     static one read NULL (free takes the rtree path for them);
 *   - a large block's first page reads NULL again once the block goes
 *     back to its arena (at its free above tcache_max, at the cache's
 *     flush below);
 *   - a slab's pages read NULL again once the slab is released (its blocks
 *     all freed by a thread that then exits, so its pages go back to the
 *     arena, through the arena's slab cache and a purge);
 *   - pagemap_set over a leaf never allocated, with NULL, allocates nothing
 *     and leaves the pages at NULL; with a span, the pages read it; the
 *     same for pagemap_set_page (one page), before and after its leaf is
 *     installed.
 */
#include "check.h"

#include "heap.h"
#include "pagemap.h"
#include "rtree.h"
#include "sizeclass.h"
#include "tcache.h"

#include <alloc.h>
#include <pthread.h>
#include <stdlib.h>

/* The span the rtree and chunk map give for p (the slow path's view). */
static struct span *chunk_span_of(const void *p)
{
    uintptr_t e = rtree_get((uintptr_t)p);
    return rtree_is_chunk(e) ? rtree_chunk_span(e, (uintptr_t)p) : NULL;
}

#define PER_CLASS 4
static void *blocks[NSMALL][PER_CLASS];
static struct span *spans[NSMALL];

static void *fill(void *arg)
{
    (void)arg;
    for (unsigned c = 0; c < NSMALL; c++)
        for (int i = 0; i < PER_CLASS; i++)
            blocks[c][i] = malloc(sizeclass_size[c]);
    for (unsigned c = 0; c < NSMALL; c++) {
        struct span *s = chunk_span_of(blocks[c][0]);
        CHECK_MSG(s != NULL && s->kind == SPAN_SLAB, "class %u: block %p not on a slab", c,
                  blocks[c][0]);
        spans[c] = s;
        for (size_t k = 0; k < s->npages; k++) {
            struct span *got = pagemap_get(s->start + (k << LG_PAGE));
            CHECK_MSG(got == s, "class %u, page %zu of %zu: %p, want %p", c, k, s->npages,
                      (void *)got, (void *)s);
        }
        for (int i = 0; i < PER_CLASS; i++)
            CHECK(pagemap_get((uintptr_t)blocks[c][i]) == chunk_span_of(blocks[c][i]));
    }
    for (unsigned c = 0; c < NSMALL; c++)
        for (int i = 0; i < PER_CLASS; i++)
            free(blocks[c][i]);
    return NULL;
}

int main(void)
{
    /* Live slabs, then released: the worker frees everything and exits, so
     * its (now empty) pages go back to the arena. */
    pthread_t t;
    CHECK(pthread_create(&t, NULL, fill, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    /* Its arena keeps one emptied slab per class whole (arena.c, the slab
     * cache; its pages still read it, checked below with the others); a
     * purge gives them back. */
    CHECK(mallctl("arena.4096.purge", NULL, NULL, NULL, 0) == 0);
    unsigned released = 0;
    for (unsigned c = 0; c < NSMALL; c++) {
        struct span *now = chunk_span_of((void *)spans[c]->start);
        if (now == NULL || now->kind != SPAN_SLAB) {
            released++;
            CHECK_MSG(pagemap_get(spans[c]->start) == NULL, "class %u: released slab still mapped",
                      c);
        } else {
            CHECK(pagemap_get(spans[c]->start) == now);
        }
    }
    CHECK_MSG(released > 0, "no slab was released (%u classes)", NSMALL);

    /* Large blocks: the first page only, until the block leaves the
     * thread's cache for its arena. A huge block: no page. */
    size_t sizes[] = {64 << 10, 1 << 20, 8 << 20};
    CHECK_U(tcache_large_max, ==, 128 << 10); /* the default tcache_max: 64 KiB cached, 1 MiB not */
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char *p = malloc(sizes[i]);
        CHECK(p != NULL);
        struct span *first = chunk_span_of(p);
        bool large = sizes[i] <= LARGE_MAX;
        CHECK_MSG(large == (first != NULL && first->kind == SPAN_LARGE), "%zu-byte block: span %p",
                  sizes[i], (void *)first);
        CHECK_MSG(pagemap_get((uintptr_t)p) == (large ? first : NULL),
                  "%zu-byte block: first page %p", sizes[i], (void *)pagemap_get((uintptr_t)p));
        for (size_t off = PAGE; off < sizes[i]; off += PAGE)
            CHECK_MSG(pagemap_get((uintptr_t)p + off) == NULL, "%zu-byte block, offset %zu mapped",
                      sizes[i], off);
        free(p);
        if (large && sizes[i] <= tcache_large_max) { /* 64 KiB: the thread's cache keeps it */
            CHECK_MSG(first->lcached && pagemap_get((uintptr_t)p) == first,
                      "%zu-byte block: not kept mapped in the thread's cache", sizes[i]);
            tcache_large_flush(heap_tls);
        }
        if (large) /* 1 MiB, above tcache_max: straight back to the arena */
            CHECK_MSG(!first->lcached && pagemap_get((uintptr_t)p) == NULL,
                      "%zu-byte block: still mapped back in its arena", sizes[i]);
    }
    int local;
    static int global;
    CHECK(pagemap_get((uintptr_t)&local) == NULL);
    CHECK(pagemap_get((uintptr_t)&global) == NULL);

    /* pagemap_set on a region no leaf covers yet. */
    uintptr_t far = (uintptr_t)1 << 46;
    CHECK(pagemap_get(far) == NULL);
    pagemap_set(far, 3, NULL);
    size_t i = far >> (LG_PAGE + PAGEMAP_LEAF_BITS);
    CHECK_MSG(atomic_load(&pagemap_map.root[i]) == 0, "setting NULL allocated a leaf");
    static struct span fake;
    pagemap_set(far, 3, &fake);
    for (int k = 0; k < 3; k++)
        CHECK(pagemap_get(far + ((uintptr_t)k << LG_PAGE)) == &fake);
    CHECK(pagemap_get(far + (3 << LG_PAGE)) == NULL);
    CHECK(pagemap_get(far - PAGE) == NULL);
    pagemap_set(far, 3, NULL);
    CHECK(pagemap_get(far) == NULL);
    /* pagemap_set_page, a large block's: the same, one page. */
    uintptr_t far2 = far + ((uintptr_t)1 << (LG_PAGE + PAGEMAP_LEAF_BITS)); /* the next leaf */
    size_t i2 = far2 >> (LG_PAGE + PAGEMAP_LEAF_BITS);
    pagemap_set_page(far2, NULL);
    CHECK_MSG(atomic_load(&pagemap_map.root[i2]) == 0, "setting a page NULL allocated a leaf");
    pagemap_set_page(far2 + PAGE, &fake);
    CHECK(pagemap_get(far2 + PAGE) == &fake);
    CHECK(pagemap_get(far2) == NULL);
    CHECK(pagemap_get(far2 + 2 * PAGE) == NULL);
    pagemap_set_page(far2 + 2 * PAGE, &fake); /* the leaf is there now: the store */
    CHECK(pagemap_get(far2 + 2 * PAGE) == &fake);
    pagemap_set_page(far2 + PAGE, NULL);
    pagemap_set_page(far2 + 2 * PAGE, NULL);
    CHECK(pagemap_get(far2 + PAGE) == NULL && pagemap_get(far2 + 2 * PAGE) == NULL);
    printf("ok\n");
    return 0;
}
