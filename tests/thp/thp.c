/*
 * A 64 MiB block is 2 MiB aligned; after touching it, /proc/self/smaps
 * reports AnonHugePages for its mapping. Prints the kB found; the script
 * decides what is expected for the thp setting in MALLOC_CONF.
 */
#include <alloc.h>
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
    printf("aligned %p AnonHugePages %ld kB\n", (void *)p, anon_huge_kb((uintptr_t)p));
    free(p);
    return 0;
}
