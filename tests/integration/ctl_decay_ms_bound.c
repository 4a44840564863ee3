/*
 * ctl_decay_ms_bound: arena.<i>.{dirty,muzzy}_decay_ms and
 * arenas.{dirty,muzzy}_decay_ms accept at most jemalloc's bound,
 * 18446744073000 ms (its nanoseconds fit in 64 bits), and answer EFAULT
 * beyond it, as jemalloc does. A longer time used to be taken and wrapped
 * around when turned into nanoseconds: 18446744073710 ms (584 years) became
 * a schedule of a few ms and the arena purged its freed pages at once.
 * Also checked: the longest accepted time keeps 6 MiB of freed pages dirty
 * through 0.3 s of activity (under the 8 MiB wave rule, so only the
 * schedule decides).
 */
#include "check.h"

static void *volatile sink;

static int set_ms(const char *name, ssize_t ms)
{
    return mallctl(name, NULL, NULL, &ms, sizeof(ms));
}

static ssize_t get_ms(const char *name)
{
    ssize_t v = -2;
    size_t l = sizeof(v);
    CHECK_I(mallctl(name, &v, &l, NULL, 0), ==, 0);
    return v;
}

static size_t pdirty(unsigned arena)
{
    uint64_t e = 1;
    size_t l = sizeof(e), v = 0, vl = sizeof(v);
    char n[64];
    CHECK_I(mallctl("epoch", &e, &l, &e, l), ==, 0);
    snprintf(n, sizeof(n), "stats.arenas.%u.pdirty", arena);
    CHECK_I(mallctl(n, &v, &vl, NULL, 0), ==, 0);
    return v;
}

int main(void)
{
    tl_require_liballoc();
    const ssize_t max = 18446744073000LL;
    unsigned arena;
    size_t al = sizeof(arena);
    CHECK_I(mallctl("thread.arena", &arena, &al, NULL, 0), ==, 0);
    char dirty[64], muzzy[64];
    snprintf(dirty, sizeof(dirty), "arena.%u.dirty_decay_ms", arena);
    snprintf(muzzy, sizeof(muzzy), "arena.%u.muzzy_decay_ms", arena);

    const char *names[] = {dirty, muzzy, "arenas.dirty_decay_ms", "arenas.muzzy_decay_ms"};
    for (int i = 0; i < 4; i++) {
        ssize_t before = get_ms(names[i]);
        CHECK_I(set_ms(names[i], max + 1), ==, EFAULT);
        CHECK_I(set_ms(names[i], 18446744073710LL), ==, EFAULT);
        CHECK_I(set_ms(names[i], (ssize_t)1 << 62), ==, EFAULT);
        CHECK_I(get_ms(names[i]), ==, before); /* refused: unchanged */
        CHECK_I(set_ms(names[i], max), ==, 0);
        CHECK_I(get_ms(names[i]), ==, max);
        CHECK_I(set_ms(names[i], -2), ==, EFAULT);
        CHECK_I(set_ms(names[i], before), ==, 0);
    }

    /* The longest time keeps freed pages: none purged by the schedule. */
    CHECK_I(set_ms(dirty, max), ==, 0);
    CHECK_I(set_ms(muzzy, max), ==, 0);
    enum { N = 30, SZ = 200000 }; /* 6 MiB: under the wave rule's 8 MiB */
    static void *p[N];
    for (int i = 0; i < N; i++) {
        CHECK((p[i] = malloc(SZ)) != NULL);
        memset(p[i], 1, SZ);
    }
    for (int i = 0; i < N; i++)
        free(p[i]);
    size_t d0 = pdirty(arena);
    for (int i = 0; i < 15; i++) {
        sink = malloc(70000);
        free(sink);
        for (int k = 0; k < 100; k++) {
            sink = malloc(1000);
            free(sink);
        }
        usleep(20000);
    }
    size_t d1 = pdirty(arena);
    printf("dirty pages: %zu after the frees, %zu 0.3 s later\n", d0, d1);
    CHECK(d0 >= (size_t)N * SZ / 4096 / 2);
    CHECK_MSG(d1 >= d0 * 9 / 10, "decay_ms %zd purged %zu of %zu dirty pages in 0.3 s", max, d0 - d1, d0);
    printf("ok\n");
    return 0;
}
