/*
 * stats: read the allocator's statistics from inside a program, the C twin
 * of tikv-jemalloc-ctl's epoch + stats example. The same code works with
 * jemalloc once the include line names <jemalloc/jemalloc.h> instead of
 * <alloc.h> (link -ljemalloc): every name it reads is jemalloc's.
 *
 *   build/examples/stats [rounds]
 *
 * Most statistics are a snapshot: they only change when the epoch is
 * advanced (a write to "epoch"). Names are looked up once with
 * mallctlnametomib; reading through the MIB afterwards is cheap enough for
 * a metrics loop.
 */
#include <alloc.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A statistic looked up once by name and read many times. */
struct stat_mib {
    const char *name;
    size_t mib[4];
    size_t miblen;
};

static int stat_lookup(struct stat_mib *s, const char *name)
{
    s->name = name;
    s->miblen = sizeof(s->mib) / sizeof(s->mib[0]);
    return mallctlnametomib(name, s->mib, &s->miblen);
}

/* stats.* values are size_t; *oldlenp must be exactly sizeof(size_t). */
static int stat_read(const struct stat_mib *s, size_t *value)
{
    size_t len = sizeof(*value);
    return mallctlbymib(s->mib, s->miblen, value, &len, NULL, 0);
}

/* Refresh the snapshot: write any value to "epoch". */
static int epoch_advance(const struct stat_mib *epoch)
{
    uint64_t e = 1;
    size_t len = sizeof(e);
    return mallctlbymib(epoch->mib, epoch->miblen, &e, &len, &e, sizeof(e));
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    struct stat_mib epoch, allocated, resident;
    int err;

    if ((err = stat_lookup(&epoch, "epoch")) != 0 ||
        (err = stat_lookup(&allocated, "stats.allocated")) != 0 ||
        (err = stat_lookup(&resident, "stats.resident")) != 0) {
        fprintf(stderr, "stats: mallctlnametomib: %s\n", strerror(err));
        return 1;
    }

    /* Something to watch: each round keeps another 4 MiB, touched so it is resident. */
    void *blocks[64] = {0};
    for (int i = 0; i < rounds && i < 64; i++) {
        size_t a, r;
        if ((err = epoch_advance(&epoch)) != 0 || (err = stat_read(&allocated, &a)) != 0 ||
            (err = stat_read(&resident, &r)) != 0) {
            fprintf(stderr, "stats: mallctl: %s\n", strerror(err));
            return 1;
        }
        printf("%zu bytes allocated/%zu bytes resident\n", a, r);

        blocks[i] = malloc(4 << 20);
        if (blocks[i] == NULL)
            return 1;
        memset(blocks[i], 0x5a, 4 << 20);
        usleep(100 * 1000);
    }
    for (int i = 0; i < 64; i++)
        free(blocks[i]);
    return 0;
}
