/*
 * accuracy: the workload of tests/apps/prof_accuracy.sh and prof_pprof.sh.
 * Distinct noinline allocation sites each retain a known number of bytes
 * until exit (sizes are exact size classes, so requested == usable), and
 * churn sites allocate and free a lot and retain nothing. It prints one
 * line "site <function> <retained bytes>" per site (churn sites with 0)
 * and "total <bytes>", then exits with everything still allocated, so the
 * final dump (prof_final) sees the retained blocks.
 *
 * Built -O2 -fomit-frame-pointer: stacks must be unwound from DWARF CFI.
 * Every site function is noinline/noclone and calls the allocator from its
 * own body (never as a tail call), so the leaf frame names the site.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SITE __attribute__((noinline, noclone, used))
#define MiB  ((size_t)1 << 20)

size_t nallocx(size_t size, int flags) __attribute__((weak));

/* Retained blocks are chained through their first word from these heads. */
static void *volatile heads[64];
static volatile unsigned char sink;

__attribute__((noinline)) static void keep(int slot, void *p)
{
    if (!p) {
        fprintf(stderr, "accuracy: out of memory (slot %d)\n", slot);
        exit(2);
    }
    *(void **)p = heads[slot];
    heads[slot] = p;
}

/* 24 MiB of 16 B blocks (R=2^14: 1536 samples expected, relative SD 2.6%). */
SITE void site_small16(void)
{
    for (size_t i = 0; i < 24 * MiB / 16; i++)
        keep(0, malloc(16));
}

/* 24 MiB of 48 B blocks. */
SITE void site_small48(void)
{
    for (size_t i = 0; i < 24 * MiB / 48; i++)
        keep(1, malloc(48));
}

/* 24 MiB of zeroed 160 B blocks. */
SITE void site_calloc160(void)
{
    for (size_t i = 0; i < 24 * MiB / 160; i++) {
        unsigned char *p = calloc(10, 16);
        if (p && p[159])
            abort();
        keep(2, p);
    }
}

/* Each of NTHREADS threads: 6 MiB of 1 KiB blocks (24 MiB in all). */
#define NTHREADS 4
SITE void site_thread1024(int t)
{
    for (size_t i = 0; i < 6 * MiB / 1024; i++)
        keep(8 + t, malloc(1024));
}

/* 64 B seeds, each grown by site_realloc4096 (moves to another class). */
static void *seeds[24 * MiB / 4096];
SITE void realloc_seed(void)
{
    for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
        seeds[i] = malloc(64);
        memset(seeds[i], 1, 64);
    }
}

/* 24 MiB of 4 KiB blocks reached by realloc from 64 B. */
SITE void site_realloc4096(void)
{
    for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
        void *p = realloc(seeds[i], 4096);
        seeds[i] = NULL;
        keep(3, p);
    }
}

/* 512 blocks of 40 KiB, each grown to 64 KiB by site_realloc_large right
 * after it is made. The seed is made as 64 KiB and shrunk to 40 KiB, which
 * leaves free pages right behind it, so the growth happens in place. */
static void *large_seed;
SITE void realloc_seed_large(void)
{
    void *p = malloc(65536);
    if (!p)
        exit(2);
    memset(p, 2, 64);
    large_seed = realloc(p, 40960);
    if (!large_seed)
        exit(2);
}

SITE void site_realloc_large(void)
{
    void *p = realloc(large_seed, 65536);
    large_seed = NULL;
    keep(13, p);
}

static unsigned realloc_large_driver(void)
{
    unsigned in_place = 0;
    for (int i = 0; i < 512; i++) {
        realloc_seed_large();
        void *before = large_seed;
        site_realloc_large();
        in_place += heads[13] == before;
    }
    return in_place;
}

/* 2 blocks of 4 MiB grown to 16 MiB by site_realloc_huge (mremap, in place
 * or moved). */
static void *huge_seeds[2];
SITE void realloc_seed_huge(void)
{
    for (int i = 0; i < 2; i++) {
        huge_seeds[i] = malloc(4 * MiB);
        if (!huge_seeds[i])
            exit(2);
        memset(huge_seeds[i], 3, 4096);
    }
}

SITE void site_realloc_huge(void)
{
    for (int i = 0; i < 2; i++) {
        void *p = realloc(huge_seeds[i], 16 * MiB);
        huge_seeds[i] = NULL;
        keep(14, p);
    }
}

/* 32 MiB of page-aligned 40 KiB blocks. */
SITE void site_memalign40960(void)
{
    for (size_t i = 0; i < 32 * MiB / 40960 + 1; i++) {
        void *p = NULL;
        if (posix_memalign(&p, 4096, 40960) != 0)
            p = NULL;
        keep(4, p);
    }
}

/* 192 MiB of 4 KiB blocks: the large site checked at lg_prof_sample:19
 * (R=2^19: 384 samples expected, relative SD sqrt(R/B) = 5.1%). */
SITE void site_big4096(void)
{
    for (size_t i = 0; i < 192 * MiB / 4096; i++)
        keep(5, malloc(4096));
}

/* 80 MiB of 1 MiB blocks: at R=2^19 each is sampled with p = 1-e^-2 = 0.86,
 * relative SD sqrt((1-p)/p/80) = 4.4%. */
SITE void site_huge1m(void)
{
    for (int i = 0; i < 80; i++)
        keep(6, malloc(1 * MiB));
}

/* 4 x 4 MiB and 2 x 16 MiB (always sampled at R=2^14). */
SITE void site_huge4m(void)
{
    for (int i = 0; i < 4; i++)
        keep(7, malloc(4 * MiB));
}

SITE void site_huge16m(void)
{
    for (int i = 0; i < 2; i++)
        keep(12, malloc(16 * MiB));
}

/* Allocates and frees about 700 MiB in batches; retains nothing. */
static const size_t churn_sizes[] = {16, 32, 48, 100, 256, 1000, 4096, 10000, 40960, 65536, 200000};
SITE void churn(int rounds)
{
    void *batch[512];
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < 512; i++) {
            size_t n =
                churn_sizes[(unsigned)(i + r) % (sizeof(churn_sizes) / sizeof(churn_sizes[0]))];
            batch[i] = malloc(n);
            if (!batch[i])
                exit(2);
            ((unsigned char *)batch[i])[n - 1] = (unsigned char)i;
        }
        for (int i = 511; i >= 0; i--) {
            sink ^= ((unsigned char *)batch[i])[0];
            free(batch[i]);
        }
    }
}

/* Blocks allocated here are freed by another thread; retains nothing. */
#define XN (32 * 1024)
static void *xblocks[XN];
SITE void churn_xthread(void)
{
    for (int i = 0; i < XN; i++) {
        xblocks[i] = malloc(i % 2 ? 1024 : 4096);
        if (!xblocks[i])
            exit(2);
    }
}

static void *xfree_main(void *arg)
{
    (void)arg;
    for (int i = 0; i < XN; i++)
        free(xblocks[i]);
    return NULL;
}

static void *worker(void *arg)
{
    int t = (int)(intptr_t)arg;
    site_thread1024(t);
    churn(20);
    return NULL;
}

static const size_t exact_sizes[] = {16,   48,    64,      160,     1024,
                                     4096, 40960, 1 << 20, 4 << 20, 16 << 20};

int main(void)
{
    if (nallocx) {
        for (size_t i = 0; i < sizeof(exact_sizes) / sizeof(exact_sizes[0]); i++)
            if (nallocx(exact_sizes[i], 0) != exact_sizes[i]) {
                fprintf(stderr, "accuracy: %zu is not a size class (nallocx %zu)\n", exact_sizes[i],
                        nallocx(exact_sizes[i], 0));
                return 3;
            }
    }
    pthread_t th[NTHREADS];
    for (int t = 0; t < NTHREADS; t++)
        if (pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t) != 0)
            return 2;
    churn(40);
    site_small16();
    churn(40);
    site_small48();
    site_calloc160();
    realloc_seed();
    site_realloc4096();
    unsigned in_place = realloc_large_driver();
    site_memalign40960();
    realloc_seed_huge();
    site_realloc_huge();
    churn(40);
    site_big4096();
    site_huge1m();
    site_huge4m();
    site_huge16m();
    churn_xthread();
    pthread_t xf;
    if (pthread_create(&xf, NULL, xfree_main, NULL) != 0)
        return 2;
    pthread_join(xf, NULL);
    churn(40);
    for (int t = 0; t < NTHREADS; t++)
        pthread_join(th[t], NULL);

    struct {
        const char *name;
        size_t bytes;
    } truth[] = {
        {"site_small16", 24 * MiB / 16 * 16},
        {"site_small48", 24 * MiB / 48 * 48},
        {"site_calloc160", 24 * MiB / 160 * 160},
        {"site_thread1024", NTHREADS * (6 * MiB / 1024 * 1024)},
        {"site_realloc4096", sizeof(seeds) / sizeof(seeds[0]) * 4096},
        {"site_memalign40960", (32 * MiB / 40960 + 1) * 40960},
        {"site_big4096", 192 * MiB},
        {"site_huge1m", 80 * MiB},
        {"site_huge4m", 16 * MiB},
        {"site_huge16m", 32 * MiB},
        {"site_realloc_large", 512 * 65536},
        {"site_realloc_huge", 2 * 16 * MiB},
        {"realloc_seed", 0},
        {"realloc_seed_large", 0},
        {"realloc_seed_huge", 0},
        {"churn", 0},
        {"churn_xthread", 0},
    };
    size_t total = 0;
    for (size_t i = 0; i < sizeof(truth) / sizeof(truth[0]); i++) {
        printf("site %s %zu\n", truth[i].name, truth[i].bytes);
        total += truth[i].bytes;
    }
    printf("total %zu\n", total);
    /* Diagnostic only: how many 40 KiB -> 64 KiB reallocs stayed in place. */
    fprintf(stderr, "accuracy: %u of 512 large reallocs in place\n", in_place);
    fflush(stdout);
    return 0;
}
