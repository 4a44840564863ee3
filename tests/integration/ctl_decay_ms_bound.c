/*
 * ctl_decay_ms_bound: arena.<i>.{dirty,muzzy}_decay_ms and
 * arenas.{dirty,muzzy}_decay_ms accept at most jemalloc's bound,
 * 18446744073000 ms (its nanoseconds fit in 64 bits), and answer EFAULT
 * beyond it, as jemalloc does. A longer time used to be taken and wrapped
 * around when turned into nanoseconds: 18446744073710 ms (584 years) became
 * a schedule of a few ms and the arena purged its freed pages at once
 * (6 MiB of freed 200 KB blocks: all purged within 0.3 s of light activity,
 * against 52 of 1568 pages at 18446744073709 ms). A refused value leaves
 * the setting as it was; -2 is refused too.
 */
#include "check.h"

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

    printf("ok\n");
    return 0;
}
