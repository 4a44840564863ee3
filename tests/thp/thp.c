/*
 * A 64 MiB block is 2 MiB aligned; after touching it, /proc/self/smaps
 * reports AnonHugePages for its mapping. Prints the kB found; the script
 * decides what is expected for the thp setting in MALLOC_CONF.
 */
#include <alloc.h>
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long anon_huge_kb(uintptr_t addr)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    int inside = 0;
    long kb = -1;
    while (f && fgets(line, sizeof(line), f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, ' ') == line + strcspn(line, " ")) {
            inside = addr >= lo && addr < hi;
            continue;
        }
        if (inside && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
            break;
    }
    if (f)
        fclose(f);
    return kb;
}

int main(void)
{
    size_t n = (size_t)64 << 20;
    char *p = malloc(n);
    if (!p)
        return 2;
    if ((uintptr_t)p % (2u << 20) != 0) {
        printf("misaligned %p\n", (void *)p);
        return 1;
    }
    memset(p, 7, n);
    /* The allocator's own count of THP-eligible bytes (stats.arenas.<i>.thp_eligible). */
    int (*ctl)(const char *, void *, size_t *, void *, size_t) =
        (int (*)(const char *, void *, size_t *, void *, size_t))dlsym(RTLD_DEFAULT, "mallctl");
    size_t eligible = 0, len = sizeof(eligible);
    uint64_t e = 1;
    size_t elen = sizeof(e);
    if (ctl) {
        ctl("epoch", &e, &elen, &e, sizeof(e));
        ctl("stats.arenas.4096.thp_eligible", &eligible, &len, NULL, 0);
    }
    printf("aligned %p AnonHugePages %ld kB eligible %zu MiB\n", (void *)p,
           anon_huge_kb((uintptr_t)p), eligible >> 20);
    free(p);
    return 0;
}
