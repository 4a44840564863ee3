/*
 * arena_dirty_donor: an automatic arena that needs pages it has no free run
 * for takes a dirty run of another automatic arena of its node instead of
 * mapping a new chunk (liballoc/arena.c, arena_dirty_donor), so a program
 * that frees in one arena and allocates in the other does not keep two
 * arenas' worth of dirty pages (bench/shapes/mstress at 2 threads: 20.2 ->
 * 18.4 MB peak RSS). With narenas:2 and dirty_decay_ms:-1 (nothing is
 * purged: arena_dirty_donor.conf), one thread:
 *  - in arena 0, allocates and frees 16 MiB of 512 KiB blocks: they stay
 *    dirty there (pdirty >= 15 MiB);
 *  - moves to arena 1 (thread.arena), which has no pages, and allocates 16
 *    MiB again: the blocks are arena 0's (arenas.lookup), its dirty pages
 *    go (pdirty < 1 MiB) and arena 1 maps nothing (mapped stays 0);
 *  - frees them: back to arena 0 (pdirty >= 15 MiB again);
 *  - a lent block freed by the borrowing thread stays in its cache of
 *    large blocks, as its own arena's would;
 *  - an explicit arena (arenas.create, MALLOCX_ARENA) serves its own
 *    blocks even so.
 * Large blocks and slab pages both go through the same step; the large
 * path is the one read here.
 */
#include "check.h"

#define MiB ((size_t)1 << 20)
#define NBLK 32
#define BLK (512 * 1024)

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

static void bind_arena(unsigned ar)
{
    CHECK_I(mallctl("thread.arena", NULL, NULL, &ar, sizeof(ar)), ==, 0);
}

int main(void)
{
    tl_require_liballoc();
    tl_require_dirty_decay_ms(-1, "arena_dirty_donor.conf");
    unsigned narenas = 0;
    size_t sz = sizeof(narenas);
    CHECK_I(mallctl("opt.narenas", &narenas, &sz, NULL, 0), ==, 0);
    CHECK_U(narenas, ==, 2);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const int f = MALLOCX_TCACHE_NONE;
    void *b[NBLK];

    bind_arena(0);
    for (int i = 0; i < NBLK; i++) {
        b[i] = mallocx(BLK, f);
        CHECK_NONNULL(b[i]);
        memset(b[i], 0x11, BLK);
        CHECK_U(lookup(b[i]), ==, 0);
    }
    for (int i = 0; i < NBLK; i++)
        dallocx(b[i], f);
    CHECK_U(arena_stat(0, "pdirty") * page, >=, 15 * MiB);

    bind_arena(1);
    size_t mapped1 = arena_stat(1, "mapped");
    for (int i = 0; i < NBLK; i++) {
        b[i] = mallocx(BLK, f);
        CHECK_NONNULL(b[i]);
        memset(b[i], 0x22, BLK);
        CHECK_U(lookup(b[i]), ==, 0);
    }
    CHECK_U(arena_stat(0, "pdirty") * page, <, 1 * MiB);
    CHECK_U(arena_stat(1, "mapped"), ==, mapped1);
    for (int i = 0; i < NBLK; i++) {
        for (size_t k = 0; k < BLK; k += page)
            CHECK_U(((unsigned char *)b[i])[k], ==, 0x22);
        dallocx(b[i], f);
    }
    CHECK_U(arena_stat(0, "pdirty") * page, >=, 15 * MiB);

    /* A lent block is the borrowing arena's threads' to cache: freed by
     * this thread (arena 1), it stays in its cache of large blocks, though
     * a block of another arena would go straight back (tcache.h). */
    size_t cached0 = tl_stat_size("thread.tcache.large_bytes");
    void *c = malloc(65536);
    CHECK_NONNULL(c);
    CHECK_U(lookup(c), ==, 0);
    free(c);
    CHECK_U(tl_stat_size("thread.tcache.large_bytes"), ==, cached0 + 65536);
    CHECK_I(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0), ==, 0);

    /* An arena the program named keeps to its own pages. */
    unsigned m = tl_arena_create();
    void *q = mallocx(BLK, MALLOCX_ARENA(m) | f);
    CHECK_NONNULL(q);
    CHECK_U(lookup(q), ==, m);
    dallocx(q, MALLOCX_ARENA(m) | f);
    CHECK_U(arena_stat(0, "pdirty") * page, >=, 15 * MiB);
    printf("ok\n");
    return 0;
}
