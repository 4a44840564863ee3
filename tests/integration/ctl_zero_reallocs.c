/*
 * ctl_zero_reallocs: stats.zero_reallocs (size_t) counts realloc(p, 0)
 * calls with p != NULL, from any thread, as of the last epoch: realloc(NULL,
 * 0) and realloc(p, n > 0) do not count. realloc(p, 0) frees p and returns
 * NULL (jemalloc's zero_realloc:free, its Linux default): the thread's
 * deallocated counter grows by the block's usable size.
 */
#include "check.h"

#include <pthread.h>

#define THREAD_CALLS 7

static void epoch(void)
{
    uint64_t e = 1;
    size_t sz = sizeof(e);
    CHECK_I(mallctl("epoch", &e, &sz, &e, sizeof(e)), ==, 0);
}

static size_t zero_reallocs(void)
{
    size_t v = 0, sz = sizeof(v);
    CHECK_I(mallctl("stats.zero_reallocs", &v, &sz, NULL, 0), ==, 0);
    return v;
}

static void *worker(void *arg)
{
    for (int i = 0; i < THREAD_CALLS; i++) {
        void *p = malloc(64 + (size_t)i * 1000);
        CHECK_NONNULL(p);
        CHECK(realloc(p, 0) == NULL);
    }
    return arg;
}

int main(void)
{
    tl_require_liballoc();
    epoch();
    size_t z0 = zero_reallocs();

    /* Not counted: NULL pointer, or a non-zero size. */
    void *q = realloc(NULL, 0);
    void *r = realloc(malloc(10), 20);
    CHECK_NONNULL(r);
    free(q);
    free(r);
    epoch();
    CHECK_U(zero_reallocs(), ==, z0);

    /* Counted, and the block is freed: small, large and huge. */
    size_t sizes[] = {24, 5000, 300 << 10, 3 << 20};
    for (size_t i = 0; i < 4; i++) {
        void *p = malloc(sizes[i]);
        CHECK_NONNULL(p);
        size_t usable = malloc_usable_size(p);
        uint64_t d0 = 0, d1 = 0;
        size_t sz = sizeof(d0);
        CHECK_I(mallctl("thread.deallocated", &d0, &sz, NULL, 0), ==, 0);
        CHECK(realloc(p, 0) == NULL);
        CHECK_I(mallctl("thread.deallocated", &d1, &sz, NULL, 0), ==, 0);
        CHECK_U(d1 - d0, ==, usable);
    }
    /* The count is as of the last epoch. */
    CHECK_U(zero_reallocs(), ==, z0);
    epoch();
    CHECK_U(zero_reallocs(), ==, z0 + 4);

    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        CHECK_I(pthread_create(&t[i], NULL, worker, NULL), ==, 0);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    epoch();
    CHECK_U(zero_reallocs(), ==, z0 + 4 + 3 * THREAD_CALLS);

    /* Read-only, size_t. */
    size_t v = 0, sz = sizeof(v);
    CHECK_I(mallctl("stats.zero_reallocs", &v, &sz, &v, sizeof(v)), ==, EPERM);
    unsigned small = 0;
    sz = sizeof(small);
    CHECK_I(mallctl("stats.zero_reallocs", &small, &sz, NULL, 0), ==, EINVAL);
    printf("ctl_zero_reallocs: ok\n");
    return 0;
}
