/*
 * Metadata under an address-space limit below the current mapping (no new
 * mapping at all, as when vm.max_map_count is reached): 16 huge blocks of
 * 48 MiB are freed (1 GiB of free runs, kept mapped: retain), the limit
 * (RLIMIT_AS) is set 64 MiB below what the process maps, then 12000 large
 * blocks of 40 KiB (470 MiB, never touched: no RSS) are asked. Their chunks
 * are cut out of the free runs, and so must be the metadata that describes
 * them (chunk and span descriptors, about 17 KiB per chunk): base's 2 MiB
 * block runs out after about a hundred chunks, and base gets its next
 * block from the free runs too. Before, the first large block that needed
 * a descriptor once base's block was used up failed with ENOMEM while
 * hundreds of MiB of free runs were mapped. Checked: every block succeeds,
 * VmSize is unchanged (nothing mapped or unmapped), stats.metadata grew
 * by whole 2 MiB units taken from the runs, and stats.mapped still equals
 * what it was (space moved between uses, none created).
 * The 1 GiB of free runs must stay mapped first: an arena retains up to
 * 1 GiB of clean runs, and trimming beyond that once unmapped a whole
 * merged run (regions mapped side by side), here all of it.
 */
#include "check.h"

#define MiB ((size_t)1 << 20)

int main(void)
{
    tl_require_liballoc();
    enum { NHUGE = 16, NLARGE = 12000 };
    tl_make_free_runs(NHUGE, 48 * MiB, 0, false);
    void **large = calloc(NLARGE, sizeof(void *));
    CHECK_NONNULL(large);
    size_t meta0 = tl_stat_size("stats.metadata"), mapped0 = tl_stat_size("stats.mapped");
    /* The free runs stay mapped: 16 x 48 MiB in 64 MiB regions is 1 GiB,
     * the most an arena retains; trimming the excess must not unmap a
     * whole merged run (before, all of it went back to the kernel). */
    CHECK_U(mapped0, >=, 1000 * MiB);
    size_t vm0 = tl_vm_size();
    tl_limit_as(vm0 - 64 * MiB);

    for (int i = 0; i < NLARGE; i++) {
        errno = 0;
        large[i] = malloc(40 << 10);
        CHECK_MSG(large[i] != NULL, "malloc(40 KiB) #%d: NULL (errno %d) with free huge runs", i,
                  errno);
    }
    size_t meta1 = tl_stat_size("stats.metadata"), mapped1 = tl_stat_size("stats.mapped");
    CHECK_U(tl_vm_size(), ==, vm0);
    CHECK_U(meta1, >, meta0);
    CHECK_U((meta1 - meta0) % (2 * MiB), ==, 0);
    CHECK_U(mapped1, ==, mapped0);
    /* The blocks are usable: first and last page of each tenth. */
    for (int i = 0; i < NLARGE; i += 10) {
        unsigned char *b = large[i];
        b[0] = b[(40 << 10) - 1] = (unsigned char)i;
    }
    for (int i = 0; i < NLARGE; i += 10) {
        unsigned char *b = large[i];
        CHECK_MSG(b[0] == (unsigned char)i && b[(40 << 10) - 1] == (unsigned char)i, "block %d", i);
    }
    for (int i = 0; i < NLARGE; i++)
        free(large[i]);
    free(large);
    printf("ok\n");
    return 0;
}
