/*
 * Address space limit (RLIMIT_AS), fragmented free space: 16 huge blocks of
 * 24 MiB are allocated and every other one is freed, so the free runs
 * (192 MiB of freed blocks and the regions' unused tails, kept mapped:
 * retain, dirty decay 10 s) are scattered between live blocks and none is
 * longer than about 40 MiB. The limit is then set 1 MiB above the current
 * mapping. A new 100 MiB block, and a live 24 MiB block grown by realloc
 * to 80 MiB (its neighbour is live, so it moves), fit no free run and need
 * a new mapping: the allocator must give free runs back to the kernel and
 * map again. Before, both failed with ENOMEM while more than 192 MiB of
 * free runs were mapped. Checked: both succeed, the grown block keeps its
 * 24 MiB of contents, stats.mapped grew by less than the new blocks took
 * (runs were given back) and stays within VmSize, stats.retained within stats.mapped; a request
 * beyond everything held fails cleanly (NULL, ENOMEM) at once, keeping
 * the free runs (stats.mapped unchanged), and the live blocks are intact
 * afterwards.
 */
#include "check.h"

#define MiB ((size_t)1 << 20)

int main(void)
{
    tl_require_liballoc();
    enum { NHUGE = 16 };
    unsigned char *huge[NHUGE];
    for (int i = 0; i < NHUGE; i++) {
        huge[i] = malloc(24 * MiB);
        CHECK_NONNULL(huge[i]);
        memset(huge[i], i + 1, 24 * MiB);
    }
    for (int i = 0; i < NHUGE; i += 2) {
        free(huge[i]);
        huge[i] = NULL;
    }
    size_t mapped0 = tl_stat_size("stats.mapped");
    size_t lim = tl_vm_size() + MiB;
    tl_limit_as(lim);

    errno = 0;
    unsigned char *big = malloc(100 * MiB);
    CHECK_MSG(big != NULL, "malloc(100 MiB): NULL (errno %d) with 192 MiB of free runs", errno);
    memset(big, 0x7c, 100 * MiB);

    errno = 0;
    unsigned char *grown = realloc(huge[1], 80 * MiB);
    CHECK_MSG(grown != NULL, "realloc(24 -> 80 MiB): NULL (errno %d) with free runs", errno);
    huge[1] = grown;
    for (size_t k = 0; k < 24 * MiB; k += 4096)
        CHECK_MSG(grown[k] == 2, "grown block byte %zu: 0x%02x", k, grown[k]);
    memset(grown + 24 * MiB, 0x3d, 56 * MiB);

    /* The two blocks took 180 MiB of new mappings: stats.mapped grew by
     * less, as free runs were given back (about as much as was mapped anew:
     * whether it ends a little above or below mapped0 depends on the 2 MiB
     * units the regions round to and on the small chunks mapped before). */
    size_t mapped1 = tl_stat_size("stats.mapped");
    CHECK_U(mapped1, <, mapped0 + 100 * MiB);
    CHECK_U(mapped1, <=, tl_vm_size());
    CHECK_U(tl_stat_size("stats.retained"), <=, mapped1);

    /* Beyond everything held: a clean failure, nothing live disturbed, and
     * the free runs stay (giving them back could not have made room). */
    size_t mapped2 = tl_stat_size("stats.mapped");
    errno = 0;
    void *too = malloc((size_t)2 << 30);
    CHECK_NULL(too);
    CHECK_I(errno, ==, ENOMEM);
    errno = 0;
    void *too2 = realloc(big, (size_t)2 << 30);
    CHECK_NULL(too2);
    CHECK_I(errno, ==, ENOMEM);
    CHECK_U(tl_stat_size("stats.mapped"), ==, mapped2);

    for (size_t k = 0; k < 100 * MiB; k += 4096)
        CHECK_MSG(big[k] == 0x7c, "big block byte %zu: 0x%02x", k, big[k]);
    for (size_t k = 24 * MiB; k < 80 * MiB; k += 4096)
        CHECK_MSG(grown[k] == 0x3d, "grown block byte %zu: 0x%02x", k, grown[k]);
    for (int i = 3; i < NHUGE; i += 2)
        for (size_t k = 0; k < 24 * MiB; k += 4096)
            CHECK_MSG(huge[i][k] == i + 1, "block %d byte %zu: 0x%02x", i, k, huge[i][k]);
    free(big);
    for (int i = 1; i < NHUGE; i += 2)
        free(huge[i]);
    CHECK_U(tl_stat_size("stats.mapped"), <=, tl_vm_size());
    printf("ok\n");
    return 0;
}
