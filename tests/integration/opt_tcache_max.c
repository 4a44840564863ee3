/*
 * opt_tcache_max: blocks above tcache_max are not cached per thread. With
 * narenas:1, a block a thread frees is taken at once by another thread's
 * malloc of the same size when the size is above tcache_max (it went back
 * to the arena), and is not when it is at or under tcache_max (it stays on
 * the freeing thread's own page). arenas.tcache_max reports the limit
 * rounded up to a size class. Runs under tcache_max:1024 (opt_tcache_max.conf)
 * and re-runs itself under the default (128 KiB: large classes up to it are
 * cached per thread too, tcache.h), tcache_max:5000, tcache_max:65536 and
 * tcache_max:4194304 (above the 1 MiB that is used: accepted, as in jemalloc).
 */
#include "check.h"

#include <pthread.h>
#include <sys/wait.h>

static size_t want_size;
static void *got;

static void *other_thread(void *arg)
{
    (void)arg;
    got = malloc(want_size);
    return NULL;
}

/* True if a block of n bytes freed by this thread is what another thread's
 * next malloc(n) returns. */
static bool reused_by_other_thread(size_t n)
{
    void *keep = malloc(n); /* keeps the page busy so it is not handed back empty */
    void *p = malloc(n);
    CHECK_NONNULL(p);
    free(tl_opaque(p));
    want_size = n;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, other_thread, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    bool same = got == p;
    free(got);
    free(keep);
    return same;
}

static size_t large_bytes(void)
{
    size_t v = 0, sz = sizeof(v);
    CHECK(mallctl("thread.tcache.large_bytes", &v, &sz, NULL, 0) == 0);
    return v;
}

int main(int argc, char **argv)
{
    tl_require_liballoc();
    size_t opt_max = 0, max = 0, sz = sizeof(size_t);
    CHECK(mallctl("opt.tcache_max", &opt_max, &sz, NULL, 0) == 0);
    CHECK(mallctl("arenas.tcache_max", &max, &sz, NULL, 0) == 0);
    unsigned narenas = 0;
    sz = sizeof(narenas);
    CHECK(mallctl("opt.narenas", &narenas, &sz, NULL, 0) == 0);
    CHECK_EQ(narenas, 1);
    if (opt_max == 1024)
        CHECK_EQ(max, 1024);
    else if (opt_max == 5000)
        CHECK_EQ(max, 5120);
    else if (opt_max == 65536)
        CHECK_EQ(max, 65536);
    else if (opt_max == 4194304)
        CHECK_EQ(max, 1048576); /* accepted as jemalloc does; huge blocks have their own cache */
    else
        CHECK_EQ(max, 131072);
    static const size_t sizes[] = {64,    1024,  1280,  4096,   5120,   6144,  16384,
                                   32768, 40960, 65536, 81920, 131072, 163840, 524288};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        bool cached = sizes[i] <= max;
        if (sizes[i] > 32768) {
            /* Large: a cached block shows in thread.tcache.large_bytes (where it
             * went back in the arena, another thread need not get it next:
             * free runs merge). */
            CHECK(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0) == 0);
            size_t before = large_bytes(); /* 0: a cached block would serve the malloc */
            CHECK_EQ(before, 0);
            void *p = malloc(sizes[i]);
            CHECK_NONNULL(p);
            free(tl_opaque(p));
            CHECK_MSG(large_bytes() - before == (cached ? sizes[i] : 0),
                      "size %zu, tcache_max %zu: %zu bytes cached", sizes[i], max, large_bytes() - before);
            continue;
        }
        bool reused = reused_by_other_thread(sizes[i]);
        CHECK_MSG(reused != cached, "size %zu, tcache_max %zu: block %s by the other thread",
                  sizes[i], max, reused ? "reused" : "not reused");
    }
    if (argc > 1)
        return 0;
    tl_run_child("narenas:1");
    tl_run_child("narenas:1,tcache_max:5000");
    tl_run_child("narenas:1,tcache_max:65536");
    tl_run_child("narenas:1,tcache_max:4194304");
    printf("opt_tcache_max: ok\n");
    return 0;
}
