/*
 * arena_purge_slabs: arena.<i>.purge gives back the empty slab pages of an
 * arena's cache-less allocations, the current page of each class
 * included. An explicit arena whose every block was freed held each used
 * class's current slab (606 pages here, about 730 KiB resident per arena)
 * through any purge; jemalloc frees an empty slab at once, so there it
 * holds none. A page with a live block stays, its block intact.
 */
#include "check.h"

#define PER_CLASS 40

int main(void)
{
    tl_require_liballoc();
    unsigned a = 0;
    size_t sz = sizeof(a);
    CHECK_I(mallctl("arenas.create", &a, &sz, NULL, 0), ==, 0);
    char name[64];
    snprintf(name, sizeof(name), "stats.arenas.%u.pactive", a);
    const int flags = MALLOCX_ARENA(a) | MALLOCX_TCACHE_NONE;
    static void *blocks[64][PER_CLASS];
    size_t nsizes = 0;
    for (size_t size = 8; size <= 32768 && nsizes < 64; size += size / 4 > 8 ? size / 4 : 8, nsizes++)
        for (int i = 0; i < PER_CLASS; i++) {
            blocks[nsizes][i] = mallocx(size, flags);
            CHECK(blocks[nsizes][i] != NULL);
            memset(blocks[nsizes][i], 0x5c, size);
        }
    size_t used = tl_stat_size(name);
    CHECK_MSG(used >= 100, "pactive %zu with every class in use", used);
    /* One block stays live: its page stays, with its contents. */
    void *keep = blocks[3][7];
    blocks[3][7] = NULL;
    size_t keep_size = sallocx(keep, 0);
    for (size_t s = 0; s < nsizes; s++)
        for (int i = 0; i < PER_CLASS; i++)
            if (blocks[s][i])
                dallocx(blocks[s][i], MALLOCX_TCACHE_NONE);
    snprintf(name, sizeof(name), "arena.%u.purge", a);
    CHECK_I(mallctl(name, NULL, NULL, NULL, 0), ==, 0);
    snprintf(name, sizeof(name), "stats.arenas.%u.pactive", a);
    size_t after = tl_stat_size(name);
    /* The live block's slab: at most 64 KiB. */
    CHECK_MSG(after <= 16, "pactive %zu after the purge (was %zu), one block live", after, used);
    for (size_t i = 0; i < keep_size; i++)
        CHECK_MSG(((unsigned char *)keep)[i] == 0x5c, "live block's byte %zu changed", i);
    dallocx(keep, MALLOCX_TCACHE_NONE);
    snprintf(name, sizeof(name), "arena.%u.purge", a);
    CHECK_I(mallctl(name, NULL, NULL, NULL, 0), ==, 0);
    snprintf(name, sizeof(name), "stats.arenas.%u.pactive", a);
    CHECK_U(tl_stat_size(name), ==, 0);
    /* The arena still serves every class. */
    for (size_t size = 8; size <= 32768; size *= 2) {
        void *p = mallocx(size, flags);
        CHECK(p != NULL);
        memset(p, 1, size);
        dallocx(p, MALLOCX_TCACHE_NONE);
    }
    printf("arena_purge_slabs: pactive %zu -> %zu (one live block) -> 0\n", used, after);
    return 0;
}
