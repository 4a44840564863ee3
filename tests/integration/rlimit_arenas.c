/*
 * Address space limit (RLIMIT_AS), free space held by another arena: 8 huge
 * blocks of 24 MiB are allocated from a second arena (arenas.create,
 * MALLOCX_ARENA) and freed (their runs stay mapped: retain, dirty decay
 * 10 s). The limit is then set 1 MiB above the current mapping, and the
 * thread's own arena is asked for 24 MiB of small blocks (1 KiB) and 8 MiB
 * of large ones (256 KiB), which need new chunks: the kernel refuses every
 * new mapping, so they must come from the address space the other arena
 * holds (given back to the kernel and mapped again). Before, each request
 * failed with ENOMEM as soon as the arena's chunks were full, while 192 MiB
 * of free runs were mapped. Checked: every block succeeds and keeps its
 * contents; the other arena's stats.arenas.<i>.mapped dropped by at least
 * what the new chunks took, its retained bytes stay within its mapped ones,
 * and stats.mapped stays within the process's VmSize; a request beyond
 * everything held still fails cleanly (NULL, ENOMEM).
 */
#include "check.h"

#define MiB ((size_t)1 << 20)

static size_t arena_stat(unsigned idx, const char *leaf)
{
    char name[64];
    snprintf(name, sizeof(name), "stats.arenas.%u.%s", idx, leaf);
    return tl_stat_size(name);
}

int main(void)
{
    tl_require_liballoc();
    enum { NHUGE = 8, NSMALL = 24 * 1024, NLARGE = 32 };
    unsigned other = tl_arena_create();
    tl_make_free_runs(NHUGE, 24 * MiB, MALLOCX_ARENA(other) | MALLOCX_TCACHE_NONE, true);
    size_t other_mapped0 = arena_stat(other, "mapped");
    CHECK_U(other_mapped0, >=, NHUGE * 24 * MiB);

    /* The small and large blocks' pointer arrays, before the limit. */
    void **small = malloc(NSMALL * sizeof(void *));
    void **large = malloc(NLARGE * sizeof(void *));
    CHECK_NONNULL(small);
    CHECK_NONNULL(large);
    size_t lim = tl_vm_size() + MiB;
    tl_limit_as(lim);

    tl_alloc_filled(small, NSMALL, 1024, -1, "192 MiB of free runs");
    tl_alloc_filled(large, NLARGE, 256 << 10, 0x5a, "192 MiB of free runs");
    /* The new chunks' 32 MiB came out of the other arena's free runs. */
    size_t other_mapped1 = arena_stat(other, "mapped");
    CHECK_U(other_mapped1 + 24 * MiB, <=, other_mapped0);
    CHECK_U(arena_stat(other, "retained"), <=, other_mapped1);
    CHECK_U(tl_stat_size("stats.mapped"), <=, tl_vm_size());

    /* Beyond everything held: a clean failure. */
    errno = 0;
    void *too = malloc((size_t)1 << 30);
    CHECK_NULL(too);
    CHECK_I(errno, ==, ENOMEM);

    tl_check_free_filled(small, NSMALL, 1024, -1);
    tl_check_free_filled(large, NLARGE, 256 << 10, 0x5a);
    free(small);
    free(large);
    CHECK_U(tl_stat_size("stats.mapped"), <=, tl_vm_size());
    printf("ok\n");
    return 0;
}
