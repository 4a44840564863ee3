/*
 * arena_dirty_donor: an automatic arena that needs pages it has no free run
 * for takes a dirty run of another automatic arena of its node instead of
 * mapping a new chunk (liballoc/arena.c, arena_dirty_donor), so a program
 * that frees in one arena and allocates in the other does not keep two
 * arenas' worth of dirty pages (bench/shapes/mstress at 2 threads: 20.6 ->
 * 18.5 MB peak RSS). With narenas:2 and dirty_decay_ms:-1 (nothing is
 * purged: arena_dirty_donor.conf):
 *  - the main thread (arena 0) allocates and frees 16 MiB of 512 KiB
 *    blocks: they stay dirty there (pdirty >= 15 MiB);
 *  - a second thread, which the allocator puts on arena 1 (no pages yet),
 *    allocates 14 MiB: the blocks are arena 0's (arenas.lookup), its dirty
 *    pages go (pdirty < 3 MiB) and arena 1 maps nothing; freed, they go
 *    back to arena 0; a lent block it frees stays in its cache of large
 *    blocks, as its own arena's would, until it pins its arena
 *    (thread.arena 1): then its cache gives the block back and arena 1
 *    serves it;
 *  - an arena the program names serves its own blocks all the same:
 *    MALLOCX_ARENA(1), and a thread pinned to arena 1 by thread.arena.
 * Large blocks and slab pages both go through the same step; the large
 * path is the one read here.
 */
#include "check.h"

#include <pthread.h>

#define MiB ((size_t)1 << 20)
#define NBLK 32
#define BLK (512 * 1024)
/* Blocks the second thread borrows: 14 MiB of arena 0's dirty 16 (some of
 * which the threads' own slab pages take meanwhile). */
#define NLENT (NBLK - 4)

static size_t page;

static size_t arena_stat(unsigned ar, const char *leaf)
{
    char name[96];
    snprintf(name, sizeof(name), "stats.arenas.%u.%s", ar, leaf);
    return tl_stat_size(name);
}

static unsigned lookup(void *p)
{
    unsigned ar = ~0u;
    size_t sz = sizeof(ar);
    CHECK_I(mallctl("arenas.lookup", &ar, &sz, &p, sizeof(p)), ==, 0);
    return ar;
}

static unsigned my_arena(void)
{
    unsigned ar = ~0u;
    size_t sz = sizeof(ar);
    CHECK_I(mallctl("thread.arena", &ar, &sz, NULL, 0), ==, 0);
    return ar;
}

/* Allocate NBLK blocks (MALLOCX_TCACHE_NONE), check their arena, free. */
static void churn(unsigned want_arena)
{
    void *b[NBLK];
    for (int i = 0; i < NBLK; i++) {
        b[i] = mallocx(BLK, MALLOCX_TCACHE_NONE);
        CHECK_NONNULL(b[i]);
        memset(b[i], 0x22, BLK);
        CHECK_U(lookup(b[i]), ==, want_arena);
    }
    for (int i = 0; i < NBLK; i++) {
        for (size_t k = 0; k < BLK; k += page)
            CHECK_U(((unsigned char *)b[i])[k], ==, 0x22);
        dallocx(b[i], MALLOCX_TCACHE_NONE);
    }
}

static void *borrower(void *arg)
{
    (void)arg;
    CHECK_U(my_arena(), ==, 1);
    size_t mapped1 = arena_stat(1, "mapped");
    void *b[NLENT];
    for (int i = 0; i < NLENT; i++) {
        b[i] = mallocx(BLK, MALLOCX_TCACHE_NONE);
        CHECK_NONNULL(b[i]);
        CHECK_U(lookup(b[i]), ==, 0);
    }
    CHECK_U(arena_stat(0, "pdirty") * page, <, 3 * MiB);
    CHECK_U(arena_stat(1, "mapped"), ==, mapped1);
    for (int i = 0; i < NLENT; i++)
        dallocx(b[i], MALLOCX_TCACHE_NONE);
    CHECK_U(arena_stat(0, "pdirty") * page, >=, 15 * MiB);

    /* A lent block is the borrowing arena's threads' to cache. */
    size_t cached0 = tl_stat_size("thread.tcache.large_bytes");
    void *c = malloc(65536);
    CHECK_NONNULL(c);
    CHECK_U(lookup(c), ==, 0);
    free(c);
    CHECK_U(tl_stat_size("thread.tcache.large_bytes"), ==, cached0 + 65536);

    /* Pinned to the arena it is on (thread.arena): what arena 0 lent it
     * goes back, and its blocks are arena 1's from now on. */
    unsigned one = 1;
    CHECK_I(mallctl("thread.arena", NULL, NULL, &one, sizeof(one)), ==, 0);
    CHECK_U(tl_stat_size("thread.tcache.large_bytes"), ==, 0);
    c = malloc(65536);
    CHECK_NONNULL(c);
    CHECK_U(lookup(c), ==, 1);
    free(c);
    CHECK_I(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0), ==, 0);
    return NULL;
}

static void *pinned(void *arg)
{
    (void)arg;
    unsigned one = 1;
    CHECK_I(mallctl("thread.arena", NULL, NULL, &one, sizeof(one)), ==, 0);
    churn(1);
    return NULL;
}

int main(void)
{
    tl_require_liballoc();
    tl_require_dirty_decay_ms(-1, "arena_dirty_donor.conf");
    unsigned narenas = 0;
    size_t sz = sizeof(narenas);
    CHECK_I(mallctl("opt.narenas", &narenas, &sz, NULL, 0), ==, 0);
    CHECK_U(narenas, ==, 2);
    page = (size_t)sysconf(_SC_PAGESIZE);
    CHECK_U(my_arena(), ==, 0);

    churn(0);
    CHECK_U(arena_stat(0, "pdirty") * page, >=, 15 * MiB);

    pthread_t t;
    CHECK_I(pthread_create(&t, NULL, borrower, NULL), ==, 0);
    CHECK_I(pthread_join(t, NULL), ==, 0);

    /* Named arenas keep to their own pages, though arena 0 has 16 MiB
     * dirty and arena 1 no free run of 512 KiB. */
    void *q = mallocx(BLK, MALLOCX_ARENA(1) | MALLOCX_TCACHE_NONE);
    CHECK_NONNULL(q);
    CHECK_U(lookup(q), ==, 1);
    CHECK_I(pthread_create(&t, NULL, pinned, NULL), ==, 0);
    CHECK_I(pthread_join(t, NULL), ==, 0);
    dallocx(q, MALLOCX_TCACHE_NONE);
    CHECK_U(arena_stat(0, "pdirty") * page, >=, 15 * MiB);
    printf("ok\n");
    return 0;
}
