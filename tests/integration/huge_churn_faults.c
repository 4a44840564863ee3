/*
 * huge_churn_faults: churn of big blocks reuses the pages freed blocks
 * leave, and what stays resident is bounded by what the program asked for
 * (huge.c: run_find's placement, the resident cap's headroom). In an arena
 * of its own (huge_churn_faults.conf: dirty_decay_ms:10000, THP never),
 * 8 slots hold blocks of 5..25 MiB (a fixed pseudo-random sequence); each
 * of 160 steps frees one slot's block and puts a new one there, every
 * page of it written. Page faults over the steps: each page the peak of
 * the requested sizes needs once, plus the refaults of pages purged and
 * taken again. Measured (4 KiB pages, peak 170 MiB = 43.5k pages): 63.8k
 * faults before (the cap counted the live blocks' whole runs and trimmed
 * the cache at nearly every big block; the slack went on dirty pages and
 * was purged), 52.1k now; asserted: at most the peak's pages plus 1/4 of
 * them (54.4k). The
 * resident footprint (RSS over the steps less RSS before) stays within the
 * peak of the requested sizes plus one 2 MiB unit per slot (the rest of
 * each block's last unit) plus 8 MiB.
 */
#include "check.h"

#include <sys/resource.h>

#define MiB ((size_t)1 << 20)
#define SLOTS 8
#define STEPS 160

static long minflt(void)
{
    struct rusage u;
    CHECK_I(getrusage(RUSAGE_SELF, &u), ==, 0);
    return u.ru_minflt;
}

int main(void)
{
    tl_require_liballoc();
    tl_require_dirty_decay_ms(10000, "huge_churn_faults.conf");
    unsigned ar = tl_arena_create();
    int f = MALLOCX_ARENA(ar) | MALLOCX_TCACHE_NONE;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    unsigned char *p[SLOTS] = {0};
    size_t n[SLOTS] = {0}, live = 0, peak = 0, rss0 = tl_rss(), rss_max = rss0;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    long f0 = minflt();
    for (int i = 0; i < STEPS; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        unsigned k = (unsigned)(x >> 33) % SLOTS;
        size_t size = 5 * MiB + (size_t)((x >> 13) % (20 * MiB + 1));
        if (p[k]) {
            CHECK_MSG(p[k][0] == (unsigned char)k && p[k][n[k] - 1] == (unsigned char)k,
                      "slot %u lost its contents", k);
            dallocx(p[k], f);
            live -= (((n[k]) + page - 1) / page * page);
        }
        p[k] = mallocx(size, f);
        CHECK_NONNULL(p[k]);
        n[k] = size;
        live += (((size) + page - 1) / page * page);
        if (live > peak)
            peak = live;
        for (size_t o = 0; o < size; o += page)
            p[k][o] = (unsigned char)k;
        p[k][size - 1] = (unsigned char)k;
        size_t rss = tl_rss();
        if (rss > rss_max)
            rss_max = rss;
    }
    long faults = minflt() - f0;
    for (unsigned k = 0; k < SLOTS; k++)
        dallocx(p[k], f);
    size_t peak_pages = peak / page, grown = rss_max - rss0;
    printf("%ld page faults for a peak of %zu pages (%zu MiB asked); resident growth %zu MiB\n",
           faults, peak_pages, peak >> 20, grown >> 20);
    CHECK_MSG((size_t)faults <= peak_pages + peak_pages / 4,
              "%ld page faults, more than the peak's %zu pages plus 1/4", faults, peak_pages);
    CHECK_MSG(grown <= peak + SLOTS * 2 * MiB + 8 * MiB,
              "resident growth %zu KiB over a %zu KiB peak asked", grown >> 10, peak >> 10);
    printf("huge_churn_faults: ok\n");
    return 0;
}
