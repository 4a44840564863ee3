/*
 * No new mapping at all: the address-space limit (RLIMIT_AS) is set 64 MiB
 * below what the process maps already, so the kernel refuses every mapping
 * (as when vm.max_map_count is reached, which a test cannot set) and giving
 * a few MiB back does not help. 8 huge blocks of 24 MiB were freed before
 * (their runs stay mapped: retain, dirty decay 10 s). Small blocks (8 MiB
 * of 512 B) and large ones (64 x 256 KiB) that need new chunks must be
 * served by cutting chunks out of the free huge runs in place: the
 * arena's stats.arenas.<i>.mapped and the process's VmSize are exactly
 * the same afterwards (nothing unmapped and mapped again), and every block
 * keeps its contents. Before, the first request that needed a chunk failed
 * with ENOMEM. A huge block larger than every free run still fails cleanly
 * (NULL, ENOMEM) without giving the free runs back (VmSize unchanged: no
 * room could come of it); one that fits a free run succeeds.
 */
#include "check.h"

#define MiB ((size_t)1 << 20)

int main(void)
{
    tl_require_liballoc();
    enum { NHUGE = 8, NSMALL = 16 * 1024, NLARGE = 64 };
    tl_make_free_runs(NHUGE, 24 * MiB, 0, true);
    void **small = malloc(NSMALL * sizeof(void *));
    void **large = malloc(NLARGE * sizeof(void *));
    CHECK_NONNULL(small);
    CHECK_NONNULL(large);
    unsigned ind;
    size_t sz = sizeof(ind);
    CHECK_I(mallctl("thread.arena", &ind, &sz, NULL, 0), ==, 0);
    char mapped_name[64];
    snprintf(mapped_name, sizeof(mapped_name), "stats.arenas.%u.mapped", ind);
    size_t arena_mapped0 = tl_stat_size(mapped_name);
    size_t vm0 = tl_vm_size();
    size_t lim = vm0 - 64 * MiB;
    tl_limit_as(lim);

    tl_alloc_filled(small, NSMALL, 512, -1, "free huge runs");
    tl_alloc_filled(large, NLARGE, 256 << 10, 0x5a, "free huge runs");
    /* Cut in place: no address space went back to the kernel or came from it. */
    CHECK_U(tl_stat_size(mapped_name), ==, arena_mapped0);
    CHECK_U(tl_vm_size(), ==, vm0);
    CHECK_U(tl_stat_size("stats.retained"), <=, tl_stat_size("stats.mapped"));

    errno = 0;
    void *too = malloc(512 * MiB);
    CHECK_NULL(too);
    CHECK_I(errno, ==, ENOMEM);
    void *h = malloc(16 * MiB);
    CHECK_MSG(h != NULL, "malloc(16 MiB): NULL (errno %d) with free huge runs", errno);
    memset(h, 0x7c, 16 * MiB);
    /* The failure gave nothing back (it could not have made room) and the
     * 16 MiB came from a free run. */
    CHECK_U(tl_vm_size(), ==, vm0);

    tl_check_free_filled(small, NSMALL, 512, -1);
    tl_check_free_filled(large, NLARGE, 256 << 10, 0x5a);
    free(h);
    free(small);
    free(large);
    printf("ok\n");
    return 0;
}
