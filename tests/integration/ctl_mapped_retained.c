/*
 * ctl_mapped_retained: stats.mapped leaves retained memory out, as
 * jemalloc's manual says of retained memory ("excluded from mapped memory
 * statistics, e.g. stats.mapped"). 64 MiB of large and huge blocks are
 * written, freed and purged (arena.<all>.purge): the space stays mapped as
 * retained (opt.retain), and stats.mapped must fall back near where it was
 * before, in the total and in stats.arenas.<all>.mapped. Before, both kept
 * the 64 MiB: mapped never came down from its peak.
 */
#include "check.h"

#define MiB ((size_t)1 << 20)
#define N   16

int main(void)
{
    tl_require_liballoc();
    bool retain = false;
    size_t bsz = sizeof(retain);
    CHECK_I(mallctl("opt.retain", &retain, &bsz, NULL, 0), ==, 0);
    if (!retain) {
        printf("SKIP: retain:false (nothing is retained)\n");
        return 77;
    }
    size_t mapped0 = tl_stat_size("stats.mapped");
    size_t retained0 = tl_stat_size("stats.retained");
    void *p[N];
    for (int i = 0; i < N; i++) {
        size_t n = i % 2 ? 3 * MiB : 1 * MiB; /* huge and large blocks */
        p[i] = malloc(n);
        CHECK(p[i] != NULL);
        memset(p[i], i, n);
    }
    size_t mapped_live = tl_stat_size("stats.mapped");
    CHECK_U(mapped_live, >=, mapped0 + 32 * MiB);
    for (int i = 0; i < N; i++)
        free(p[i]);
    CHECK_I(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0), ==, 0);
    CHECK_I(mallctl("arena.4096.purge", NULL, NULL, NULL, 0), ==, 0);
    size_t mapped = tl_stat_size("stats.mapped"), retained = tl_stat_size("stats.retained");
    size_t active = tl_stat_size("stats.active"), metadata = tl_stat_size("stats.metadata");
    size_t amapped = tl_stat_size("stats.arenas.4096.mapped");
    size_t aretained = tl_stat_size("stats.arenas.4096.retained");
    printf("mapped %zu KiB (before %zu, live %zu), retained %zu KiB (before %zu), active %zu KiB\n",
           mapped >> 10, mapped0 >> 10, mapped_live >> 10, retained >> 10, retained0 >> 10, active >> 10);
    /* the space is kept, as retained ... */
    CHECK_U(retained, >=, retained0 + 32 * MiB);
    CHECK_U(aretained, ==, retained);
    /* ... and out of mapped: what is left is active pages and metadata,
     * within a few MiB of the start */
    CHECK_U(mapped, <, mapped0 + 8 * MiB);
    CHECK_U(mapped, >=, active + metadata);
    CHECK_U(amapped + metadata, ==, mapped);
    printf("ok\n");
    return 0;
}
