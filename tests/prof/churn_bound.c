/*
 * Profiler memory stays bounded under thread churn: 20000 short threads each
 * allocate (every allocation sampled) and free at the same site. Per-thread
 * shares of exited threads are recycled, so metadata must not grow with the
 * number of threads; the cumulative count (prof_accum) must still be whole.
 * Prints "metadata_growth_kb N accum_objs M".
 */
#include <alloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static void *site(void)
{
    return malloc(100);
}

static void *worker(void *arg)
{
    (void)arg;
    void *p = site();
    *(volatile char *)p = 1;
    free(p);
    return NULL;
}

static size_t metadata(void)
{
    uint64_t e = 1;
    size_t len = sizeof(e), m = 0;
    mallctl("epoch", &e, &len, &e, sizeof(e));
    len = sizeof(m);
    mallctl("stats.metadata", &m, &len, NULL, 0);
    return m;
}

static void run(int n)
{
    for (int i = 0; i < n; i++) {
        pthread_t t;
        pthread_create(&t, NULL, worker, NULL);
        pthread_join(t, NULL);
    }
}

int main(void)
{
    run(2000); /* warm up: thread heaps, tables */
    size_t before = metadata();
    run(20000);
    size_t after = metadata();
    const char *path = "churn_bound.heap";
    if (mallctl("prof.dump", NULL, NULL, &path, sizeof(path)) != 0)
        return 2;
    printf("metadata_growth_kb %zu\n", (after - before) >> 10);
    return 0;
}
