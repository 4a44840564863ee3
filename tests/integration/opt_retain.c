/*
 * opt_retain: retain:false gives purged memory back to the kernel (munmap:
 * stats.mapped drops by the freed amount and nothing is counted in
 * stats.retained); retain:true (the default) keeps the purged address space
 * mapped for reuse (stats.mapped unchanged, stats.retained grows by it).
 * Checked for a huge block (64 MiB) and for chunks emptied of large blocks
 * (16 x 1 MiB, purged through arena.<all>.purge). Runs under retain:false
 * (opt_retain.conf) and re-runs itself under retain:true.
 */
#include "check.h"

#include <sys/wait.h>

#define MiB ((size_t)1 << 20)

static void refresh(void)
{
    uint64_t e = 1;
    CHECK_EQ(mallctl("epoch", NULL, NULL, &e, sizeof(e)), 0);
}

static size_t stat(const char *name)
{
    size_t v = 0, sz = sizeof(v);
    CHECK_EQ(mallctl(name, &v, &sz, NULL, 0), 0);
    return v;
}

static void purge_all(void)
{
    CHECK_EQ(mallctl("arena.4096.purge", NULL, NULL, NULL, 0), 0);
}

int main(int argc, char **argv)
{
    tl_require_liballoc();
    bool retain = true;
    size_t sz = sizeof(retain);
    CHECK_EQ(mallctl("opt.retain", &retain, &sz, NULL, 0), 0);
    CHECK_MSG(retain == (argc > 1), "parent runs retain:false, the child retain:true");

    /* Huge block. */
    purge_all();
    refresh();
    size_t mapped0 = stat("stats.mapped"), retained0 = stat("stats.retained");
    char *p = malloc(64 * MiB);
    CHECK_NONNULL(p);
    memset(p, 1, 64 * MiB);
    refresh();
    size_t mapped1 = stat("stats.mapped");
    CHECK_U(mapped1, >=, mapped0 + 64 * MiB);
    free(tl_opaque(p));
    purge_all();
    refresh();
    size_t mapped2 = stat("stats.mapped"), retained2 = stat("stats.retained");
    if (retain) {
        CHECK_EQ(mapped2, mapped1);
        CHECK_U(retained2, >=, retained0 + 64 * MiB);
    } else {
        CHECK_U(mapped2, <=, mapped1 - 64 * MiB);
        CHECK_U(retained2, <=, retained0);
    }

    /* Chunks emptied of large blocks. */
    char *blk[16];
    refresh();
    size_t mapped3 = stat("stats.mapped");
    for (int i = 0; i < 16; i++) {
        blk[i] = malloc(MiB);
        CHECK_NONNULL(blk[i]);
        memset(blk[i], 2, MiB);
    }
    refresh();
    size_t mapped4 = stat("stats.mapped");
    CHECK_U(mapped4, >=, mapped3 + 14 * MiB);
    for (int i = 0; i < 16; i++)
        free(tl_opaque(blk[i]));
    purge_all();
    refresh();
    size_t mapped5 = stat("stats.mapped"), retained5 = stat("stats.retained");
    if (retain) {
        CHECK_EQ(mapped5, mapped4);
        CHECK_U(retained5, >=, 16 * MiB);
    } else {
        CHECK_U(mapped5, <=, mapped4 - 14 * MiB);
    }
    if (argc > 1)
        return 0;
    tl_run_child("retain:true");
    printf("opt_retain: ok\n");
    return 0;
}
