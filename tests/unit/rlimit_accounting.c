/*
 * rlimit_accounting: when the kernel refuses every new mapping (os_ops.map
 * replaced by one that fails, as with vm.max_map_count reached; not
 * settable in a test otherwise), the allocator serves requests from the
 * free huge runs it holds, and its books stay exact:
 *   - 8 huge blocks of 24 MiB are freed (runs kept mapped); then, with
 *     every mapping failing, 16 MiB of large blocks (256 KiB) and 4 MiB of
 *     small ones (1 KiB) succeed (their chunks are cut out of the runs);
 *     stats.mapped is unchanged and equals what the mapping registry
 *     (osmap) holds, to the byte;
 *   - a huge block bigger than every run fails (NULL, ENOMEM) after every
 *     free run was given back to the kernel in the hope a mapping would
 *     then succeed (no address-space limit says it cannot): stats.mapped
 *     drops by exactly what osmap lost, stats.retained stays within it,
 *     and the blocks handed out keep their contents;
 *   - with mappings allowed again, the same huge block succeeds.
 * Before, the first large block that needed a chunk failed with ENOMEM.
 */
#include "check.h"

#include "os.h"
#include "osmap.h"

#define MiB ((size_t)1 << 20)

static int fail_map(size_t size, void **out)
{
    (void)size;
    (void)out;
    return ENOMEM;
}

/* stats.mapped and the registry agree (nothing else maps here: no
 * profiler). */
static size_t check_books(const char *when)
{
    size_t mapped = tl_stat_size("stats.mapped");
    CHECK_MSG(mapped == osmap_mapped(), "%s: stats.mapped %zu, osmap %zu", when, mapped,
              osmap_mapped());
    CHECK_MSG(tl_stat_size("stats.retained") <= mapped, "%s: retained above mapped", when);
    return mapped;
}

int main(void)
{
    enum { NHUGE = 8, NLARGE = 64, NSMALL = 4096 };
    tl_make_free_runs(NHUGE, 24 * MiB, 0, true);
    static void *large[NLARGE], *small[NSMALL];
    size_t mapped0 = check_books("after the huge frees");
    CHECK_U(mapped0, >=, NHUGE * 24 * MiB);

    int (*map_saved)(size_t, void **) = os_ops.map;
    os_ops.map = fail_map;
    tl_alloc_filled(large, NLARGE, 256 << 10, 0x5a, "mappings refused");
    tl_alloc_filled(small, NSMALL, 1024, -1, "mappings refused");
    CHECK_U(check_books("after the large and small blocks"), ==, mapped0);

    errno = 0;
    void *too = malloc(512 * MiB);
    CHECK_NULL(too);
    CHECK_I(errno, ==, ENOMEM);
    size_t mapped1 = check_books("after the failed 512 MiB");
    CHECK_U(mapped1, <, mapped0);
    tl_check_filled(large, NLARGE, 256 << 10, 0x5a);
    tl_check_filled(small, NSMALL, 1024, -1);

    os_ops.map = map_saved;
    void *p = malloc(512 * MiB);
    CHECK_NONNULL(p);
    CHECK_U(check_books("after the 512 MiB with mappings allowed"), >=, mapped1 + 512 * MiB);
    free(p);
    tl_check_free_filled(large, NLARGE, 256 << 10, 0x5a);
    tl_check_free_filled(small, NSMALL, 1024, -1);
    check_books("at the end");
    printf("ok\n");
    return 0;
}
