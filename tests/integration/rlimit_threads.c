/*
 * Address space limit (RLIMIT_AS) with threads on several arenas: huge
 * blocks of 24 MiB, 4 per arena, are allocated in TEST_THREADS explicit
 * arenas and in the main thread's own, all live at once, and freed (the
 * runs stay mapped: retain, dirty decay 10 s). Then the limit is set 1 MiB
 * above the current mapping and TEST_THREADS threads (on automatic arenas,
 * which hold no free runs of their own but the main thread's), all at
 * once, each ask 2048 small blocks (256 B), 64 large ones (64 KiB) and 2
 * huge ones (8 MiB), 4 rounds. Every request needs address space the
 * kernel now refuses; it must come from the free runs the arenas hold
 * (cut into chunks in place, or given back by their arenas and mapped
 * again, with arena locks dropped and retaken around the system calls
 * while the other threads do the same). Checked: no request fails
 * (before, the first that needed a new chunk or region failed with
 * ENOMEM), every block keeps its contents, stats.retained stays within
 * stats.mapped and stats.mapped within VmSize.
 */
#include "check.h"

#include <pthread.h>

#define MiB ((size_t)1 << 20)

enum { NHUGE_FREE = 4, NSMALL = 2048, NLARGE = 64, NHUGE = 2, ROUNDS = 4 };

/* Phase 1, in the main thread: NHUGE_FREE huge blocks of 24 MiB in each of
 * narenas explicit arenas, and as many in the main thread's own, all live
 * at once, then freed: the free runs the phase-2 threads (on automatic
 * arenas) draw on. One byte per page is written (dirty in the
 * allocator's books, little RSS). */
static void fill_runs(int narenas)
{
    int n = (narenas + 1) * NHUGE_FREE;
    void **h = malloc(sizeof(void *) * (size_t)n);
    CHECK_NONNULL(h);
    for (int a = 0; a <= narenas; a++) {
        int flags = MALLOCX_TCACHE_NONE;
        if (a < narenas) {
            unsigned ind;
            size_t sz = sizeof(ind);
            CHECK_I(mallctl("arenas.create", &ind, &sz, NULL, 0), ==, 0);
            flags |= MALLOCX_ARENA(ind);
        }
        for (int i = 0; i < NHUGE_FREE; i++) {
            void *p = mallocx(24 * MiB, flags);
            CHECK_NONNULL(p);
            for (size_t k = 0; k < 24 * MiB; k += MiB)
                ((char *)p)[k] = 1;
            h[a * NHUGE_FREE + i] = p;
        }
    }
    for (int i = 0; i < n; i++)
        dallocx(h[i], MALLOCX_TCACHE_NONE);
    free(h);
}

static void *must(size_t n, const char *what, int round)
{
    errno = 0;
    void *p = malloc(n);
    CHECK_MSG(p != NULL, "round %d: malloc(%s) NULL (errno %d) with free huge runs", round, what,
              errno);
    return p;
}

/* Phase 2 starts once the main thread has set the limit (the threads and
 * their stacks exist before it). */
static pthread_barrier_t limit_set;

/* Phase 2: under the limit. Each thread's blocks carry its own byte. */
static void *use_runs(void *arg)
{
    unsigned char tag = (unsigned char)(uintptr_t)arg;
    pthread_barrier_wait(&limit_set);
    static _Thread_local void *small[NSMALL], *large[NLARGE];
    static _Thread_local unsigned char *huge[NHUGE];
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < NSMALL; i++) {
            small[i] = must(256, "256", round);
            memset(small[i], tag, 256);
        }
        for (int i = 0; i < NLARGE; i++) {
            large[i] = must(64 << 10, "64 KiB", round);
            memset(large[i], tag, 64 << 10);
        }
        for (int i = 0; i < NHUGE; i++) {
            huge[i] = must(8 * MiB, "8 MiB", round);
            for (size_t k = 0; k < 8 * MiB; k += 4096)
                huge[i][k] = tag;
        }
        for (int i = 0; i < NSMALL; i++) {
            const unsigned char *b = small[i];
            CHECK_MSG(b[0] == tag && b[255] == tag, "small block changed: 0x%02x", b[0]);
            free(small[i]);
        }
        for (int i = 0; i < NLARGE; i++) {
            const unsigned char *b = large[i];
            for (size_t k = 0; k < (64 << 10); k += 4096)
                CHECK_MSG(b[k] == tag, "large block changed at %zu: 0x%02x", k, b[k]);
            free(large[i]);
        }
        for (int i = 0; i < NHUGE; i++) {
            for (size_t k = 0; k < 8 * MiB; k += 4096)
                CHECK_MSG(huge[i][k] == tag, "huge block changed at %zu: 0x%02x", k, huge[i][k]);
            free(huge[i]);
        }
    }
    return NULL;
}

int main(void)
{
    tl_require_liballoc();
    int nt = tl_threads();
    pthread_t *t = malloc(sizeof(pthread_t) * (size_t)nt);
    CHECK_NONNULL(t);
    fill_runs(nt);
    /* The free runs stay mapped: (nt + 1) x 96 MiB of blocks. */
    CHECK_U(tl_stat_size("stats.mapped"), >=, (size_t)(nt + 1) * NHUGE_FREE * 24 * MiB);

    CHECK_I(pthread_barrier_init(&limit_set, NULL, (unsigned)nt + 1), ==, 0);
    for (int i = 0; i < nt; i++)
        CHECK_I(pthread_create(&t[i], NULL, use_runs, (void *)(uintptr_t)(i + 1)), ==, 0);
    size_t lim = tl_vm_size() + MiB;
    tl_limit_as(lim);
    pthread_barrier_wait(&limit_set);
    for (int i = 0; i < nt; i++)
        CHECK_I(pthread_join(t[i], NULL), ==, 0);

    CHECK_U(tl_stat_size("stats.retained"), <=, tl_stat_size("stats.mapped"));
    CHECK_U(tl_stat_size("stats.mapped"), <=, tl_vm_size());
    free(t);
    printf("ok\n");
    return 0;
}
