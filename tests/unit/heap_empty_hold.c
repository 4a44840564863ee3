/*
 * heap_empty_hold: a slab page whose blocks all came back through remote
 * frees stays its owner's, carved, for one collection pass; a pass that
 * finds it empty again, still unused, gives it back to the arena (heap.c,
 * heap_collect). Given back at the first pass, the page was cut up for
 * another class, whose slab carved only part of its resident memory, while
 * this class took fresh pages (bench/xthread_producer_consumer's peak RSS).
 *
 * A page P of 64-byte blocks is filled (the next block lands on a new
 * page), then another thread frees every block of P. Passes are forced by
 * taking pages from the arena (8 KiB blocks, eight to a slab, kept) until
 * the heap's page count reaches a multiple of HEAP_COLLECT_PAGES
 * (find_page's periodic pass).
 *  1. the first pass collects P's remote frees: P is empty, still a slab of
 *     its class owned by the thread's heap, every block carved, marked;
 *  2. a second pass gives it back: its pages are no longer that slab;
 *  3. a page emptied the same way and marked, then left alone for 20 ms,
 *     goes back at the next decay tick (heap_tick, COLLECT_HOLD_NS):
 *     a thread that stops taking pages does not keep it.
 */
#include "check.h"

#include "heap.h"
#include "rtree.h"
#include "sizeclass.h"
#include "span.h"

#include <pthread.h>
#include <time.h>

#define SIZE 64
#define BIG  8192
#define MAXB 8192

static void *blocks[MAXB];
static unsigned nblocks;
static void *big[4096];
static unsigned nbig;
static void *to_free[MAXB];
static unsigned nto_free;

/* gcc takes malloc and free for functions that write no memory the caller
 * can see: the heap's and spans' fields are read again after each call. */
#define REREAD() __asm__ volatile("" ::: "memory")

static struct span *span_of(void *p)
{
    REREAD();
    return rtree_value_span(rtree_get((uintptr_t)p), (uintptr_t)p);
}

/* Whether the memory of block p is still a slab of p's class owned by h. */
static bool owned_slab(void *p, struct heap *h)
{
    struct span *s = span_of(p);
    return s && s->kind == SPAN_SLAB && s->block_size == SIZE &&
           (struct heap *)(atomic_load(&s->owner_tag) & ~SPAN_TAG_MASK) == h;
}

static void *remote_free(void *arg)
{
    (void)arg;
    for (unsigned i = 0; i < nto_free; i++)
        free(to_free[i]);
    return NULL;
}

/* Allocate 64-byte blocks until one lands off the current page; return
 * that page, all of whose blocks are then out. */
static struct span *fill(void)
{
    void *p = malloc(SIZE);
    CHECK_NONNULL(p);
    blocks[nblocks++] = p;
    struct span *s = span_of(p);
    for (;;) {
        CHECK(nblocks < MAXB);
        p = malloc(SIZE);
        CHECK_NONNULL(p);
        blocks[nblocks++] = p;
        if (span_of(p) != s)
            return s;
    }
}

/* Another thread frees every block of page s that we hold. */
static void free_remotely(struct span *s)
{
    nto_free = 0;
    unsigned kept = 0;
    for (unsigned i = 0; i < nblocks; i++) {
        if (span_of(blocks[i]) == s)
            to_free[nto_free++] = blocks[i];
        else
            blocks[kept++] = blocks[i];
    }
    nblocks = kept;
    CHECK_U(nto_free, ==, s->reserved);
    pthread_t t;
    CHECK_I(pthread_create(&t, NULL, remote_free, NULL), ==, 0);
    CHECK_I(pthread_join(t, NULL), ==, 0);
}

/* Take pages from the arena until the count reaches a multiple of
 * HEAP_COLLECT_PAGES (find_page then collects). */
static void pass(void)
{
    struct heap *h = heap_tls;
    unsigned start = h->page_allocs;
    while (h->page_allocs == start || h->page_allocs % HEAP_COLLECT_PAGES != 0) {
        CHECK(nbig < sizeof(big) / sizeof(big[0]));
        big[nbig] = malloc(BIG);
        CHECK_NONNULL(big[nbig]);
        nbig++;
        REREAD();
    }
}

int main(void)
{
    free(malloc(1)); /* the heap */
    struct heap *h = heap_tls;

    struct span *p = fill();
    free_remotely(p);
    void *first = to_free[0];
    CHECK_U(span_used(p), ==, p->reserved); /* not collected yet */

    /* 1. */
    pass();
    CHECK_MSG(owned_slab(first, h), "an empty page went back at its first pass");
    CHECK_U(span_used(p), ==, 0);
    CHECK_U(p->capacity, ==, p->reserved);
    CHECK_U(p->collect_idle, ==, 1);

    /* 2. */
    pass();
    CHECK_MSG(!owned_slab(first, h), "an empty page was kept over two passes");

    /* 3. */
    p = fill();
    free_remotely(p);
    first = to_free[0];
    pass();
    CHECK_MSG(owned_slab(first, h), "an empty page went back at its first pass");
    CHECK_U(p->collect_idle, ==, 1);
    void *warm = malloc(256); /* its class's page, taken before the hold */
    CHECK_NONNULL(warm);
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    /* One block of another class, allocated and freed: no page taken, and
     * 4 MiB of allocation cross any tick threshold (TICK_MAX_BYTES). */
    unsigned before = h->page_allocs;
    for (int i = 0; i < 16384 && owned_slab(first, h); i++) {
        void *q = malloc(256);
        CHECK_NONNULL(q);
        free(q);
    }
    CHECK_U(h->page_allocs, ==, before);
    CHECK_MSG(!owned_slab(first, h), "a marked empty page outlived the hold by a tick");

    free(warm);
    for (unsigned i = 0; i < nblocks; i++)
        free(blocks[i]);
    for (unsigned i = 0; i < nbig; i++)
        free(big[i]);
    printf("heap_empty_hold: ok\n");
    return 0;
}
