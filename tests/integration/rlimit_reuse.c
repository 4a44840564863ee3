/*
 * Address space limit (RLIMIT_AS, ulimit -v): when the kernel refuses new
 * mappings, the allocator still serves requests from the free address
 * space it already holds. Here 16 huge blocks of 24 MiB are freed (384 MiB
 * of free runs, kept mapped: dirty_decay_ms:10000, retain), the limit is
 * set 1 MiB above the current mapping, then 64 large blocks of 256 KiB
 * (16 MiB) and 4 MiB of 1 MiB blocks are asked: each must succeed and be
 * writable (jemalloc splits its free extents; before, large blocks needed
 * a new 2 MiB chunk mapping and failed with ENOMEM while 384 MiB were free).
 * Failures must be NULL with ENOMEM, and huge blocks that fit the free runs
 * succeed too.
 */
#include "check.h"

int main(void)
{
    tl_require_liballoc();
    enum { NHUGE = 16, NLARGE = 64, NMIB = 4 };
    tl_make_free_runs(NHUGE, (size_t)24 << 20, 0, true);
    size_t lim = tl_vm_size() + ((size_t)1 << 20);
    tl_limit_as(lim);
    void *large[NLARGE], *mib[NMIB];
    tl_alloc_filled(large, NLARGE, (size_t)256 << 10, 0x5a, "384 MiB of free runs");
    tl_alloc_filled(mib, NMIB, (size_t)1 << 20, 0x6b, "384 MiB of free runs");
    CHECK_U(tl_stat_size("stats.retained"), <=, tl_stat_size("stats.mapped"));
    CHECK_U(tl_stat_size("stats.mapped"), <=, tl_vm_size());
    void *h = malloc((size_t)40 << 20);
    CHECK_MSG(h != NULL, "malloc(40 MiB): NULL (errno %d) with 384 MiB of free runs", errno);
    memset(h, 0x7c, (size_t)40 << 20);
    /* beyond everything held: a clean failure */
    errno = 0;
    void *too = malloc((size_t)2 << 30);
    CHECK_NULL(too);
    CHECK_I(errno, ==, ENOMEM);
    tl_check_free_filled(large, NLARGE, (size_t)256 << 10, 0x5a);
    tl_check_free_filled(mib, NMIB, (size_t)1 << 20, 0x6b);
    free(h);
    printf("ok\n");
    return 0;
}
