/*
 * page_take: the full pages of an owner that stopped allocating are taken
 * from it (abandoned to the arena) only after PAGE_TAKE_AFTER notifications
 * in a row, and then all at once (page.c, heap_take_idle).
 *
 * A producer fills PAGES slab pages of one class and blocks on a condition
 * variable. The main thread frees one block of each full page, in page
 * order: each is a full page's first remote free, a notification.
 *  - after PAGE_TAKE_AFTER of them the producer still owns every page: a
 *    thread that waits briefly (a producer on a full queue) keeps its pages
 *    while a consumer's batch of frees comes back (xthread);
 *  - the next one takes that page and every earlier one: none is owned by
 *    the producer any more, so memory of a thread blocked for good returns.
 */
#include "check.h"

#include "heap.h"
#include "page.h"
#include "rtree.h"
#include "sizeclass.h"

#include <pthread.h>

#define SIZE 1024
#define PAGES (PAGE_TAKE_AFTER + 8)
#define MAXBLOCKS ((PAGES + 1) * 64)

static void *blocks[MAXBLOCKS];
static unsigned per_page;
static struct heap *producer_heap;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int produced, release;

static struct heap *owner_of(void *p)
{
    struct span *s = rtree_value_span(rtree_get((uintptr_t)p), (uintptr_t)p);
    return (struct heap *)(atomic_load(&s->owner_tag) & ~SPAN_TAG_MASK);
}

static void *producer(void *arg)
{
    (void)arg;
    /* One block more than PAGES pages hold: the last page is then not the
     * current one but full, on the full list, like the others. */
    for (unsigned i = 0; i < PAGES * per_page + 1; i++) {
        blocks[i] = malloc(SIZE);
        CHECK_NONNULL(blocks[i]);
    }
    pthread_mutex_lock(&mu);
    producer_heap = heap_tls;
    produced = 1;
    pthread_cond_broadcast(&cv);
    while (!release)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return NULL;
}

int main(void)
{
    void *warm = malloc(1); /* initialise the allocator (size classes) */
    free(warm);
    per_page = sizeclass_slab_blocks[sizeclass_small_index(SIZE)];
    CHECK_MSG(per_page * PAGES + 1 <= MAXBLOCKS, "%u blocks per page", per_page);
    pthread_t t;
    CHECK_I(pthread_create(&t, NULL, producer, NULL), ==, 0);
    pthread_mutex_lock(&mu);
    while (!produced)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);

    /* Page k holds blocks[k * per_page .. ]: carved in address order. */
    for (unsigned k = 0; k < PAGES; k++)
        CHECK_MSG(owner_of(blocks[k * per_page]) == producer_heap, "page %u not the producer's", k);
    for (unsigned k = 0; k < PAGE_TAKE_AFTER; k++)
        free(blocks[k * per_page + 1]);
    unsigned owned = 0;
    for (unsigned k = 0; k < PAGES; k++)
        owned += owner_of(blocks[k * per_page]) == producer_heap;
    CHECK_MSG(owned == PAGES, "after %d notifications the producer owns %u of %d pages",
              PAGE_TAKE_AFTER, owned, PAGES);

    free(blocks[PAGE_TAKE_AFTER * per_page + 1]); /* one notification more */
    owned = 0;
    for (unsigned k = 0; k <= PAGE_TAKE_AFTER; k++)
        owned += owner_of(blocks[k * per_page]) == producer_heap;
    CHECK_MSG(owned == 0, "after %d notifications the producer still owns %u of the %d pages freed into",
              PAGE_TAKE_AFTER + 1, owned, PAGE_TAKE_AFTER + 1);
    /* Pages nobody freed into stay with it. */
    for (unsigned k = PAGE_TAKE_AFTER + 1; k < PAGES; k++)
        CHECK_MSG(owner_of(blocks[k * per_page]) == producer_heap, "untouched page %u taken", k);

    pthread_mutex_lock(&mu);
    release = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    CHECK_I(pthread_join(t, NULL), ==, 0);
    for (unsigned i = 0; i < PAGES * per_page + 1; i++) {
        unsigned k = i / per_page, j = i % per_page;
        if (j == 1 && k <= PAGE_TAKE_AFTER)
            continue; /* freed above */
        free(blocks[i]);
    }
    printf("page_take: ok (%u blocks per page, take after %d)\n", per_page, PAGE_TAKE_AFTER);
    return 0;
}
