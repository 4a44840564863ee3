/*
 * heap_refresh: a slow-path malloc that keeps its class's current page (it
 * carved more blocks of it) leaves pages[] and pages_direct alone (heap.c,
 * set_current). Rewriting every word count of the class at each carve cost
 * up to 88 instructions a slow path near 1 KiB (bench/shapes/sh6bench).
 * Checked with a sentinel in one pages_direct entry of the class (not the
 * one malloc reads): it survives the carve, and a change of current page
 * (the page full, a new one taken) still overwrites it.
 */
#include "check.h"

#include "heap.h"
#include "rtree.h"
#include "sizeclass.h"

#include <alloc.h>
#include <string.h>

const char *malloc_conf = "background_thread:false";

enum { SIZE = 1000, MAXB = 4096 };
static void *blocks[MAXB];
static struct span sentinel; /* never a current page: only compared */

/* gcc assumes malloc writes no memory the caller can see: reread. */
#define RD(x) (*(__typeof__(x) volatile *)&(x))

static struct span *span_of(void *p)
{
    return rtree_value_span(rtree_get((uintptr_t)p), (uintptr_t)p);
}

int main(void)
{
    unsigned c = sizeclass_small_index(SIZE);
    CHECK_U(c, >, 0);
    size_t used_w = (SIZE + 7) >> 3;
    size_t probe = sizeclass_size[c] >> 3; /* the class's last word count */
    if (probe == used_w)
        probe = (sizeclass_size[c - 1] >> 3) + 1;
    CHECK_U(probe, !=, used_w);
    CHECK_U(sizeclass_index_table[probe], ==, c);

    int n = 0;
    blocks[n++] = malloc(SIZE);
    CHECK_NONNULL(blocks[0]);
    struct heap *h = heap_tls;
    struct span *pg = h->pages[c];
    CHECK(pg == span_of(blocks[0]));
    CHECK(h->pages_direct[probe] == pg);
    /* Take the carved blocks; the page has more to carve. */
    while (RD(pg->free) && n < MAXB)
        blocks[n++] = malloc(SIZE);
    CHECK(RD(pg->free) == NULL);
    CHECK_U(RD(pg->capacity), <, pg->reserved);
    CHECK(RD(h->pages[c]) == pg);

    h->pages_direct[probe] = &sentinel;
    blocks[n++] = malloc(SIZE); /* slow path: carves pg again */
    CHECK(span_of(blocks[n - 1]) == pg);
    CHECK(RD(h->pages[c]) == pg);
    CHECK(RD(h->pages_direct[used_w]) == pg);
    CHECK_MSG(RD(h->pages_direct[probe]) == &sentinel,
              "the carve rewrote pages_direct[%zu] of the unchanged current page", probe);

    /* Fill pg: the next page taken becomes current everywhere. */
    while (RD(h->pages[c]) == pg && n < MAXB)
        blocks[n++] = malloc(SIZE);
    CHECK(RD(h->pages[c]) != pg);
    CHECK(RD(h->pages_direct[probe]) == RD(h->pages[c]));
    CHECK(RD(h->pages_direct[used_w]) == RD(h->pages[c]));

    for (int i = 0; i < n; i++)
        free(blocks[i]);
    printf("ok\n");
    return 0;
}
