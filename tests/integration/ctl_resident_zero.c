/*
 * ctl_resident_zero: pages that were only read count as resident in
 * mincore (the kernel maps them to its shared zero page) but take no RAM
 * and are not in the process RSS; stats.resident must not count them.
 * The test allocates 96 huge blocks of 3 MiB (288 MiB) and reads one byte of
 * every page without writing, plus 32 MiB of large and huge blocks that it
 * writes. stats.resident must cover the 32 MiB written and stay at or under
 * the process RSS (it was ~320 MiB, ten times the RSS, before the bound).
 */
#include "check.h"

#define MiB    ((size_t)1 << 20)
#define NREAD  96
#define NWRITE 16

static size_t read_size(const char *name)
{
    size_t v = 0, sz = sizeof(v);
    int r = mallctl(name, &v, &sz, NULL, 0);
    CHECK_MSG(r == 0, "mallctl(\"%s\") = %d", name, r);
    return v;
}

int main(void)
{
    tl_require_liballoc();
    static unsigned char *readonly[NREAD], *written[NWRITE];
    volatile unsigned sum = 0;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    for (int i = 0; i < NREAD; i++) {
        readonly[i] = malloc(3 * MiB);
        CHECK_NONNULL(readonly[i]);
        for (size_t off = 0; off < 3 * MiB; off += page)
            sum += readonly[i][off];
    }
    for (int i = 0; i < NWRITE; i++) {
        size_t n = i % 2 ? 3 * MiB : MiB; /* huge and large */
        written[i] = malloc(n);
        CHECK_NONNULL(written[i]);
        memset(written[i], 0x3c, n);
    }
    uint64_t e = 1;
    size_t sz = sizeof(e);
    CHECK_I(mallctl("epoch", &e, &sz, &e, sizeof(e)), ==, 0);
    size_t resident = read_size("stats.resident"), rss = tl_rss();
    printf("stats.resident %zu KiB, process RSS %zu KiB (read-only %d MiB, written 32 MiB)\n",
           resident >> 10, rss >> 10, NREAD * 3);
    CHECK_MSG(resident >= 32 * MiB, "stats.resident %zu KiB misses the 32 MiB written",
              resident >> 10);
    CHECK_MSG(resident <= rss,
              "stats.resident %zu KiB above the process RSS %zu KiB: read-only pages counted",
              resident >> 10, rss >> 10);
    for (int i = 0; i < NREAD; i++)
        free(readonly[i]);
    for (int i = 0; i < NWRITE; i++)
        free(written[i]);
    printf("ok\n");
    return 0;
}
