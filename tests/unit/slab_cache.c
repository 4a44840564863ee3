/*
 * slab_cache: a slab page its owner empties and gives back (heap.c: after
 * its thread kept it) goes to its arena's slab cache whole (arena.c) and is the next page of its class the arena hands out,
 * carved as it was; a free into it while cached is reported as a double
 * free and changes nothing; a forced purge (arena.<i>.purge) gives it back;
 * under dirty_decay_ms:0 no page is kept; otherwise a cached page ages out
 * at the first decay run after its hold time, even in an arena with
 * nothing else to purge.
 */
#include "check.h"

#include "arena.h"
#include "heap.h"
#include "pagemap.h"
#include "rtree.h"
#include "sizeclass.h"

#include <alloc.h>
#include <string.h>
#include <time.h>

const char *malloc_conf = "background_thread:false,narenas:1";

enum { SIZE = 1000, MAXB = 8192 };
static void *blocks[MAXB];
static int reports;

/* gcc assumes malloc writes no memory the caller can see: reread. */
#define RD(x) (*(__typeof__(x) volatile *)&(x))

static struct span *span_of(void *p)
{
    return rtree_value_span(rtree_get((uintptr_t)p), (uintptr_t)p);
}

static void count_report(void *opaque, const char *s)
{
    (void)opaque;
    if (strstr(s, "free()"))
        reports++;
}

/* Take blocks until the class's current page is another than pg; returns
 * the count (the last block is on the new page). */
static int fill(struct heap *h, unsigned c, struct span *pg, int n)
{
    while (RD(h->pages[c]) == pg && n < MAXB)
        blocks[n++] = malloc(SIZE);
    CHECK_U(n, <, MAXB);
    return n;
}

int main(void)
{
    unsigned c = sizeclass_small_index(SIZE);
    int n = 0;
    blocks[n++] = malloc(SIZE);
    CHECK_NONNULL(blocks[0]);
    struct heap *h = heap_tls;
    struct arena *a = h->arena;
    struct span *pa = span_of(blocks[0]);
    CHECK(RD(h->pages[c]) == pa);
    CHECK_U(RD(a->slab_cached), ==, 0);

    /* pa full, pb current; emptying pa (not current) retires it: cached. */
    n = fill(h, c, pa, n);
    struct span *pb = RD(h->pages[c]);
    CHECK(span_of(blocks[n - 1]) == pb);
    int in_a = n - 1;
    uint32_t cap = RD(pa->capacity);
    for (int i = 0; i < in_a; i++)
        free(blocks[i]);
    /* Its thread keeps it first (heap.c, heap_page_emptied); it reaches the
     * arena when the thread gives it back, as a collection pass does. */
    CHECK_U(RD(pa->kept), !=, 0);
    CHECK(RD(a->slab_cache[c]) == NULL);
    heap_page_retire(h, pa);
    CHECK(RD(a->slab_cache[c]) == pa);
    CHECK_U(RD(a->slab_cached), ==, 1);
    CHECK_U(RD(pa->owner_tag), ==, 0);
    CHECK(pagemap_get((uintptr_t)blocks[0]) == pa); /* its page-map entries kept */

    /* A free into the cached page: reported, the page stays as it was. */
    malloc_message = count_report;
    void (*volatile free_call)(void *) = free; /* gcc assumes free reads no global */
    free_call(blocks[1]);
    malloc_message = NULL;
    CHECK_I(reports, ==, 1);
    CHECK(RD(a->slab_cache[c]) == pa);
    CHECK_U(span_used_racy(pa), ==, 0);

    /* pb full: the next page is pa again, its blocks carved already. */
    blocks[0] = blocks[n - 1];
    n = fill(h, c, pb, 1);
    CHECK(RD(h->pages[c]) == pa);
    CHECK(RD(a->slab_cache[c]) == NULL);
    CHECK_U(RD(a->slab_cached), ==, 0);
    CHECK_U(RD(pa->capacity), ==, cap);
    CHECK(span_of(blocks[n - 1]) == pa);

    /* Empty pb (pa is current): cached; a forced purge gives it back. */
    void *last = blocks[n - 1];
    for (int i = 0; i < n - 1; i++)
        free(blocks[i]);
    heap_page_retire(h, pb);
    CHECK(RD(a->slab_cache[c]) == pb);
    void *in_b = blocks[0];
    CHECK(mallctl("arena.0.purge", NULL, NULL, NULL, 0) == 0);
    CHECK(RD(a->slab_cache[c]) == NULL);
    CHECK_U(RD(a->slab_cached), ==, 0);
    CHECK(pagemap_get((uintptr_t)in_b) == NULL); /* its pages are free runs now */

    /* dirty_decay_ms:0: an emptied page goes back at once. */
    ssize_t zero = 0;
    CHECK(mallctl("arena.0.dirty_decay_ms", NULL, NULL, &zero, sizeof(zero)) == 0);
    blocks[0] = last;
    n = fill(h, c, pa, 1);
    struct span *pc = RD(h->pages[c]);
    CHECK(pc != pa);
    for (int i = 0; i < n - 1; i++)
        free(blocks[i]);
    CHECK(RD(a->slab_cache[c]) == NULL);
    CHECK_U(RD(a->slab_cached), ==, 0);

    /* Back to a decay time: a page cached while the arena holds nothing
     * else to purge still ages out at the next decay run due (here an
     * epoch's, decay_due_all), SLAB_CACHE_HOLD_NS (10 ms) on. */
    ssize_t ten_s = 10000;
    CHECK(mallctl("arena.0.dirty_decay_ms", NULL, NULL, &ten_s, sizeof(ten_s)) == 0);
    CHECK(mallctl("arena.0.purge", NULL, NULL, NULL, 0) == 0);
    blocks[0] = blocks[n - 1];
    n = fill(h, c, pc, 1);
    for (int i = 0; i < n - 1; i++)
        free(blocks[i]);
    heap_page_retire(h, pc);
    CHECK(RD(a->slab_cache[c]) == pc);
    struct timespec ms20 = {0, 20 * 1000 * 1000};
    nanosleep(&ms20, NULL);
    uint64_t epoch = 1;
    size_t esz = sizeof(epoch);
    CHECK(mallctl("epoch", &epoch, &esz, &epoch, sizeof(epoch)) == 0);
    CHECK_MSG(RD(a->slab_cached) == 0, "a cached page outlived its hold time: %u cached",
              RD(a->slab_cached));
    free(blocks[n - 1]);
    printf("ok\n");
    return 0;
}
