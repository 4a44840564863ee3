/*
 * page_second_chance: a slab page its owner finds with no free block goes
 * to the end of the class queue, still owned and off the full list (so
 * frees into it keep free's fast path), and only a page found empty on a
 * second walk goes to the full list (heap.c, find_page).
 *
 * 8 KiB blocks: eight to a slab (64 KiB), carved one at a time, so pages
 * run dry quickly and every malloc on a fresh page walks the queue.
 *  1. Eight mallocs fill page A; the ninth finds A empty: A stays queued
 *     (not SPAN_TAG_FULL, empty_seen) and the block comes from a new page B.
 *  2. A free into A is a plain local free: A's list holds that block.
 *  3. The next malloc takes A's freed block, not one of B's never-carved
 *     blocks (reuse before carving: a carve touches a new OS page): A is
 *     current again, its flag cleared. A, dry again, meets B to carve on
 *     the next walk: second chance (end of the queue), and left there while
 *     B is carved to its end.
 *  4. B runs dry (second chance) and A, found empty a second time, goes to
 *     the full list; a new page C serves.
 */
#include "check.h"

#include "config.h"
#include "heap.h"
#include "rtree.h"
#include "span.h"

#define SIZE     8192
#define PER_PAGE 8

static struct span *span_of(void *p)
{
    return rtree_value_span(rtree_get((uintptr_t)p), (uintptr_t)p);
}

static int is_full(struct span *s)
{
    return (atomic_load(&s->owner_tag) & SPAN_TAG_FULL) != 0;
}

int main(void)
{
    void *a[PER_PAGE], *b[PER_PAGE];
    for (int i = 0; i < PER_PAGE; i++) {
        a[i] = malloc(SIZE);
        CHECK_NONNULL(a[i]);
    }
    struct span *A = span_of(a[0]);
    CHECK_I(A->reserved, ==, PER_PAGE);
    for (int i = 1; i < PER_PAGE; i++)
        CHECK_MSG(span_of(a[i]) == A, "block %d of the first page elsewhere", i);
    CHECK_I(span_used(A), ==, PER_PAGE);

    /* 1. */
    b[0] = malloc(SIZE);
    CHECK_NONNULL(b[0]);
    struct span *B = span_of(b[0]);
    CHECK_MSG(B != A, "ninth block on the full first page");
    CHECK_I(is_full(A), ==, 0);
    CHECK_I(A->empty_seen, ==, 1);
    CHECK_MSG(heap_tls->queue[A->cls].last == A, "dry page not at the queue's end");

    /* 2. */
    free(a[3]);
    CHECK_MSG(A->free == a[3], "free into the dry page did not reach its list");
    CHECK_I(span_used(A), ==, PER_PAGE - 1);

    /* 3. */
    void *c = malloc(SIZE);
    CHECK_MSG(c == a[3], "the dry page's freed block was not reused before carving");
    CHECK_I(A->empty_seen, ==, 0);
    CHECK_I(B->capacity, ==, 1);
    for (int i = 1; i < PER_PAGE; i++) {
        b[i] = malloc(SIZE);
        CHECK_MSG(span_of(b[i]) == B, "block %d of the second page elsewhere", i);
    }
    CHECK_I(B->capacity, ==, PER_PAGE);
    CHECK_I(A->empty_seen, ==, 1);
    CHECK_I(is_full(A), ==, 0);
    CHECK_I(is_full(B), ==, 0);

    /* 4. */
    void *d = malloc(SIZE);
    CHECK_NONNULL(d);
    struct span *C = span_of(d);
    CHECK_MSG(C != A && C != B, "block after both pages ran dry on one of them");
    CHECK_I(is_full(A), ==, 1);
    CHECK_I(is_full(B), ==, 0);
    CHECK_I(B->empty_seen, ==, 1);

    /* Frees into the full page take the slow path and bring it back. */
    free(a[2]);
    CHECK_I(is_full(A), ==, 0);
    CHECK_I(A->empty_seen, ==, 0);
    for (int i = 0; i < PER_PAGE; i++) {
        if (i != 3 && i != 2)
            free(a[i]);
        free(b[i]);
    }
    free(c);
    free(d);
    printf("page_second_chance: ok\n");
    return 0;
}
