/*
 * ctl_resident: stats.resident measures what the heap really holds in RAM.
 * The test allocates and touches 256 MiB in mixed sizes (small, the largest
 * small classes, large runs and huge blocks), writes epoch, and compares the
 * growth of stats.resident with the growth of the process RSS
 * (/proc/self/statm) over the same interval: the heap's share of the RSS.
 * They must agree within 10%. Then everything is freed and purged
 * (arena.<MALLCTL_ARENAS_ALL>.purge) and the drop of stats.resident must
 * match the drop of the RSS within 10% too. stats.allocated, active and
 * mapped must cover the 256 MiB while it is held.
 */
#include "check.h"

#include <sys/mman.h>

#define MiB    ((size_t)1 << 20)
#define TARGET (256 * MiB)

static void epoch(void)
{
    uint64_t e = 1;
    size_t sz = sizeof(e);
    CHECK_I(mallctl("epoch", &e, &sz, &e, sizeof(e)), ==, 0);
}

static size_t read_size(const char *name)
{
    size_t v = 0, sz = sizeof(v);
    int r = mallctl(name, &v, &sz, NULL, 0);
    CHECK_MSG(r == 0, "mallctl(\"%s\") = %d", name, r);
    return v;
}

struct snap {
    size_t rss, resident, allocated, active, mapped;
};

static void snap(struct snap *s)
{
    epoch();
    s->resident = read_size("stats.resident");
    s->allocated = read_size("stats.allocated");
    s->active = read_size("stats.active");
    s->mapped = read_size("stats.mapped");
    s->rss = tl_rss();
}

/* |a - b| <= 10% of b */
static int within_10pct(size_t a, size_t b)
{
    size_t d = a > b ? a - b : b - a;
    return d * 10 <= b;
}

/* Size mix, by bytes: a quarter each of small (16 B..4 KiB), the largest
 * small classes (8..32 KiB), large (40 KiB..1 MiB) and huge (2..9 MiB). */
static size_t next_size(uint64_t *rng, size_t done)
{
    switch ((done * 4) / TARGET) {
    case 0:
        return 16 + tl_rand_below(rng, 4096 - 16);
    case 1:
        return 8192 + tl_rand_below(rng, 32768 - 8192);
    case 2:
        return 40960 + tl_rand_below(rng, MiB - 40960);
    default:
        return 2 * MiB + tl_rand_below(rng, 7 * MiB);
    }
}

int main(void)
{
    tl_require_liballoc();
    uint64_t rng = tl_seed("ctl_resident");
    /* The pointer table comes from mmap so that it is outside the heap's share. */
    const size_t maxp = TARGET / 16 + 1;
    void **ptrs = mmap(NULL, maxp * sizeof(void *), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    CHECK(ptrs != MAP_FAILED);

    struct snap s0, s1, s2;
    snap(&s0);
    size_t n = 0, bytes = 0;
    while (bytes < TARGET && n < maxp) {
        size_t sz = next_size(&rng, bytes);
        if (bytes + sz > TARGET)
            sz = TARGET - bytes < 16 ? 16 : TARGET - bytes;
        void *p = malloc(sz);
        CHECK_NONNULL(p);
        /* Touch every page the block owns, the size-class slack included. */
        memset(p, (int)(n & 0xff) | 1, malloc_usable_size(p));
        ptrs[n++] = p;
        bytes += sz;
    }
    snap(&s1);

    size_t d_rss = s1.rss - s0.rss, d_res = s1.resident - s0.resident;
    printf("ctl_resident: %zu blocks, %zu MiB requested; RSS +%zu KiB, stats.resident +%zu KiB, "
           "allocated +%zu KiB, active +%zu KiB\n",
           n, bytes / MiB, d_rss >> 10, d_res >> 10, (s1.allocated - s0.allocated) >> 10,
           (s1.active - s0.active) >> 10);
    CHECK_U(s1.allocated - s0.allocated, >=, TARGET);
    CHECK_U(s1.active, >=, s1.allocated);
    CHECK_U(s1.mapped, >=, s1.active);
    /* Every byte asked for was touched: resident grew at least that much. */
    CHECK_U(s1.resident - s0.resident, >=, TARGET);
    CHECK_U(s1.mapped, >=, s1.resident);
    CHECK_U(d_rss, >=, TARGET);
    CHECK_MSG(within_10pct(d_res, d_rss),
              "stats.resident grew by %zu KiB while the RSS grew by %zu KiB (heap's share): more "
              "than 10%% apart",
              d_res >> 10, d_rss >> 10);

    /* Free and purge: both fall by about the same amount. */
    for (size_t i = 0; i < n; i++)
        free(ptrs[i]);
    char name[64];
    snprintf(name, sizeof(name), "arena.%u.purge", MALLCTL_ARENAS_ALL);
    CHECK_I(mallctl(name, NULL, NULL, NULL, 0), ==, 0);
    snap(&s2);
    size_t f_rss = s1.rss > s2.rss ? s1.rss - s2.rss : 0;
    size_t f_res = s1.resident > s2.resident ? s1.resident - s2.resident : 0;
    printf("ctl_resident: after free+purge RSS -%zu KiB, stats.resident -%zu KiB\n", f_rss >> 10,
           f_res >> 10);
    CHECK_U(s1.allocated - s2.allocated, >=, TARGET);
    CHECK_MSG(f_rss >= TARGET / 2, "RSS fell by only %zu KiB after freeing and purging 256 MiB",
              f_rss >> 10);
    CHECK_MSG(within_10pct(f_res, f_rss),
              "after free+purge stats.resident fell by %zu KiB, the RSS by %zu KiB: more than 10%% "
              "apart",
              f_res >> 10, f_rss >> 10);
    munmap(ptrs, maxp * sizeof(void *));
    printf("ctl_resident: ok\n");
    return 0;
}
