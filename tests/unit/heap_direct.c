/*
 * heap_direct: malloc's fast path finds the current page of requests up to
 * HEAP_DIRECT_MAX bytes by word count (heap.h, pages_direct), a second copy
 * of pages[] by class. The two must agree at every moment a malloc can run:
 *   - every word count w maps to pages[class of w * 8] (checked over all w
 *     at each step below);
 *   - steps that change a class's current page: the thread's first malloc
 *     (heap creation), pages filling up (full list) and new ones taken,
 *     the last free of a page (retire), thread.tcache.flush, the thread
 *     cache disabled and enabled again, a second thread's own heap;
 *   - every size 0 .. HEAP_DIRECT_MAX + 64 gets a block of its own class
 *     (usable size, the block's slab class), the blocks do not overlap and
 *     keep their bytes.
 * A current page set in pages[] but not in pages_direct (or the reverse)
 * hands out blocks of a full, retired or other thread's page.
 */
#include "check.h"

#include "heap.h"
#include "rtree.h"
#include "sizeclass.h"

#include <alloc.h>
#include <pthread.h>
#include <string.h>

const char *malloc_conf = "background_thread:false";

/* pages_direct agrees with pages[] for every word count; returns how many
 * classes up to HEAP_DIRECT_MAX have a current page (not span_empty). */
static unsigned check_direct(const char *when)
{
    struct heap *h = heap_tls;
    unsigned live = 0;
    for (size_t w = 0; w < HEAP_DIRECT_N; w++) {
        unsigned c = sizeclass_index_table[w];
        CHECK_MSG(h->pages_direct[w] == h->pages[c], "%s: word count %zu (class %u): %p, pages[]: %p",
                  when, w, c, (void *)h->pages_direct[w], (void *)h->pages[c]);
        if (w == 0 || sizeclass_index_table[w - 1] != c)
            live += h->pages[c] != &span_empty;
    }
    return live;
}

static struct span *span_of(void *p)
{
    return rtree_value_span(rtree_get((uintptr_t)p), (uintptr_t)p);
}

enum { PER_SIZE = 4, NSIZES = HEAP_DIRECT_MAX + 65 };
static void *blocks[NSIZES][PER_SIZE];

/* One block per size, each checked for its class and filled with its size. */
static void alloc_all(int k)
{
    for (size_t n = 0; n < NSIZES; n++) {
        void *p = malloc(n);
        CHECK_NONNULL(p);
        unsigned c = sizeclass_small_index(n);
        CHECK_MSG(malloc_usable_size(p) == sizeclass_size[c], "malloc(%zu): usable %zu, want %u", n,
                  malloc_usable_size(p), sizeclass_size[c]);
        struct span *s = span_of(p);
        CHECK_MSG(s != NULL && s->kind == SPAN_SLAB && s->cls == c, "malloc(%zu): from a page of class %d, want %u",
                  n, s ? (int)s->cls : -1, c);
        memset(p, (int)(n & 0xff), n);
        blocks[n][k] = p;
    }
}

static void free_all(int k)
{
    for (size_t n = 0; n < NSIZES; n++) {
        unsigned char *p = blocks[n][k];
        for (size_t i = 0; i < n; i++)
            CHECK_MSG(p[i] == (n & 0xff), "malloc(%zu): byte %zu changed", n, i);
        free(p);
        blocks[n][k] = NULL;
    }
}

/* Fill pages of a few classes until they run dry and new ones take over,
 * then free everything (their pages retire). */
static void churn_pages(const char *when)
{
    static const size_t sizes[] = {0, 8, 16, 24, 100, 512, 1000, 1024};
    enum { N = 20000 };
    static void *volatile v[N]; /* volatile: gcc may drop a malloc whose block is only freed */
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        struct span *first = heap_tls->pages[sizeclass_small_index(sizes[s])];
        for (int i = 0; i < N; i++) {
            v[i] = malloc(sizes[s]);
            CHECK_NONNULL(v[i]);
        }
        CHECK_MSG(heap_tls->pages[sizeclass_small_index(sizes[s])] != first,
                  "%s: %d mallocs of %zu bytes kept one page", when, N, sizes[s]);
        check_direct(when);
        for (int i = N - 1; i >= 0; i--)
            free(v[i]);
        check_direct(when);
    }
}

static void *second_thread(void *arg)
{
    (void)arg;
    CHECK(heap_tls == &heap_empty);
    CHECK_U(check_direct("a new thread, no heap yet"), ==, 0);
    alloc_all(3);
    CHECK_U(check_direct("a second thread's heap"), >, 0);
    free_all(3);
    check_direct("a second thread, after its frees");
    return NULL;
}

int main(void)
{
    if (heap_tls == &heap_empty) /* no allocation yet on this thread (startup may have made one) */
        CHECK_U(check_direct("heap_empty"), ==, 0);
    check_direct("at main");

    alloc_all(0);
    unsigned live = check_direct("after one block of every size");
    CHECK_U(live, ==, sizeclass_small_index(HEAP_DIRECT_MAX) + 1);
    alloc_all(1);
    check_direct("after two");
    free_all(0);
    check_direct("after frees");

    churn_pages("pages filled and retired");

    CHECK_I(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0), ==, 0);
    CHECK_U(check_direct("after thread.tcache.flush"), ==, 0);
    alloc_all(0);
    CHECK_U(check_direct("after a flush and mallocs"), >, 0);

    bool off = false, on = true;
    CHECK_I(mallctl("thread.tcache.enabled", NULL, NULL, &off, sizeof(off)), ==, 0);
    CHECK_U(check_direct("thread cache disabled"), ==, 0);
    alloc_all(2); /* every malloc takes the slow path now */
    CHECK_U(check_direct("thread cache disabled, after mallocs"), ==, 0);
    free_all(2);
    CHECK_I(mallctl("thread.tcache.enabled", NULL, NULL, &on, sizeof(on)), ==, 0);
    alloc_all(2);
    CHECK_U(check_direct("thread cache enabled again"), >, 0);

    pthread_t t;
    CHECK_I(pthread_create(&t, NULL, second_thread, NULL), ==, 0);
    CHECK_I(pthread_join(t, NULL), ==, 0);
    check_direct("after the second thread");

    free_all(0);
    free_all(1);
    free_all(2);
    check_direct("at the end");
    printf("ok\n");
    return 0;
}
