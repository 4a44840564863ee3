/*
 * ctl_resident_churn: stats.resident follows the heap's real RSS under
 * churn, where a page counter cannot: blocks of mixed sizes (small, large,
 * huge) are allocated and freed at random for several rounds, and each block
 * is touched only partly (nothing, its first page, half, or all of it, as
 * real programs do with buffers they reserve), so many pages the allocator
 * hands out are never in RAM. After every round the growth of stats.resident
 * since the start must be within 10% of the growth of the process RSS
 * (/proc/self/statm; the test's own table is mmap'd and populated up front,
 * so the RSS growth is the heap's). Then everything is freed and purged:
 * stats.resident must fall with the RSS, purged pages are not counted.
 * With the old estimate (active + dirty pages) the first round already
 * reads several times the RSS.
 */
#include "check.h"

#include <sys/mman.h>

#define MiB    ((size_t)1 << 20)
#define NSLOTS 6000
#define ROUNDS 8

static void epoch(void)
{
    uint64_t e = 1;
    size_t sz = sizeof(e);
    CHECK_I(mallctl("epoch", &e, &sz, &e, sizeof(e)), ==, 0);
}

static size_t resident(void)
{
    size_t v = 0, sz = sizeof(v);
    epoch();
    CHECK_I(mallctl("stats.resident", &v, &sz, NULL, 0), ==, 0);
    return v;
}

/* |a - b| <= 10% of b (with a 1 MiB floor for tiny values). */
static int close_enough(size_t a, size_t b)
{
    size_t d = a > b ? a - b : b - a;
    return d * 10 <= b || d <= MiB;
}

/* Sizes by count: mostly small, some large runs, a few huge blocks. */
static size_t pick_size(uint64_t *rng)
{
    uint64_t r = tl_rand_below(rng, 1000);
    if (r < 800)
        return 8 + tl_rand_below(rng, 4000);
    if (r < 990)
        return 20000 + tl_rand_below(rng, 600000);
    return 2 * MiB + tl_rand_below(rng, 6 * MiB);
}

/* Touch part of the block: none, the first page, half or all of it. */
static void touch(uint64_t *rng, char *p, size_t size)
{
    switch (tl_rand_below(rng, 4)) {
    case 0:
        break;
    case 1:
        p[0] = 1;
        break;
    case 2:
        memset(p, 2, size / 2 + 1);
        break;
    default:
        memset(p, 3, size);
        break;
    }
}

int main(void)
{
    tl_require_liballoc();
    uint64_t rng = tl_seed("ctl_resident_churn");
    void **slot = mmap(NULL, NSLOTS * sizeof(void *), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    CHECK(slot != MAP_FAILED);
    size_t rss0 = tl_rss(), res0 = resident();
    size_t rss_peak = 0, res_peak = 0;
    for (int round = 0; round < ROUNDS; round++) {
        for (size_t i = 0; i < NSLOTS; i++) {
            if (slot[i] && tl_rand_below(&rng, 2)) {
                free(slot[i]);
                slot[i] = NULL;
            }
            if (!slot[i] && tl_rand_below(&rng, 3) == 0) {
                size_t sz = pick_size(&rng);
                slot[i] = malloc(sz);
                CHECK_NONNULL(slot[i]);
                touch(&rng, slot[i], sz);
            }
        }
        size_t res = resident(), rss = tl_rss();
        size_t d_res = res - res0, d_rss = rss - rss0;
        printf("round %d: RSS +%zu KiB, stats.resident +%zu KiB\n", round, d_rss >> 10,
               d_res >> 10);
        CHECK_MSG(close_enough(d_res, d_rss),
                  "round %d: stats.resident grew by %zu KiB, the RSS by %zu KiB: more than 10%% "
                  "apart",
                  round, d_res >> 10, d_rss >> 10);
        rss_peak = rss;
        res_peak = res;
    }
    /* The churn must have moved real memory for the comparison to mean anything. */
    CHECK_U(rss_peak - rss0, >=, 16 * MiB);

    for (size_t i = 0; i < NSLOTS; i++)
        free(slot[i]);
    char name[64];
    snprintf(name, sizeof(name), "arena.%u.purge", MALLCTL_ARENAS_ALL);
    CHECK_I(mallctl(name, NULL, NULL, NULL, 0), ==, 0);
    size_t res = resident(), rss = tl_rss();
    size_t f_rss = rss_peak > rss ? rss_peak - rss : 0;
    size_t f_res = res_peak > res ? res_peak - res : 0;
    printf("after free+purge: RSS -%zu KiB, stats.resident -%zu KiB\n", f_rss >> 10, f_res >> 10);
    CHECK_MSG(f_rss >= (rss_peak - rss0) / 2, "RSS fell by only %zu KiB after free and purge",
              f_rss >> 10);
    CHECK_MSG(close_enough(f_res, f_rss),
              "after free+purge stats.resident fell by %zu KiB, the RSS by %zu KiB", f_res >> 10,
              f_rss >> 10);
    munmap(slot, NSLOTS * sizeof(void *));
    printf("ctl_resident_churn: ok\n");
    return 0;
}
