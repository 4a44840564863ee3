/*
 * A huge block is 2 MiB aligned; after touching all of it, /proc/self/smaps
 * tells, for the mapping (VMA) holding its first byte and for the one
 * holding its last byte, the AnonHugePages found and whether the range is
 * marked MADV_HUGEPAGE ("hg" in VmFlags) or MADV_NOHUGEPAGE ("nh"). Prints
 * them; tests/apps/thp.sh decides what is expected for the thp settings
 * in MALLOC_CONF and the kernel's mode.
 * Usage: thp [bytes=64 MiB] [calloc|reuse-calloc|reuse-malloc|grow];
 * reuse-calloc first mallocs, touches and frees a block of that size
 * (its run stays dirty, with the marks the block left), then callocs the
 * block examined; reuse-malloc first mallocs, touches and frees a block of
 * 5 MiB + 1 (its unit [4, 6) MiB marked NOHUGEPAGE) and purges the arenas
 * (arena.<all>.purge: the units go back to the kernel, keeping their
 * marks), then mallocs; grow reallocs a touched 4 MiB block to the size
 * (in place when the space after it is free, as in a fresh process).
 */
#include <alloc.h>
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vma_info {
    long huge_kb;  /* AnonHugePages, kB; -1 if no mapping holds the address */
    char flag[3];  /* "hg", "nh" or "-" */
};

static struct vma_info vma_of(uintptr_t addr)
{
    struct vma_info v = {-1, "-"};
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    int inside = 0;
    while (f && fgets(line, sizeof(line), f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, ' ') == line + strcspn(line, " ")) {
            if (inside)
                break; /* past the mapping */
            inside = addr >= lo && addr < hi;
            continue;
        }
        if (!inside)
            continue;
        sscanf(line, "AnonHugePages: %ld kB", &v.huge_kb);
        if (strncmp(line, "VmFlags:", 8) == 0) {
            if (strstr(line, " hg"))
                strcpy(v.flag, "hg");
            else if (strstr(line, " nh"))
                strcpy(v.flag, "nh");
        }
    }
    if (f)
        fclose(f);
    return v;
}

/* malloc n bytes, write them all, free them: the run keeps the marks. */
static bool touch_and_free(size_t n)
{
    char *q = malloc(n);
    if (!q)
        return false;
    memset(q, 1, n);
    free(q);
    return true;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : (size_t)64 << 20;
    const char *how = argc > 2 ? argv[2] : "malloc";
    int (*ctl)(const char *, void *, size_t *, void *, size_t) =
        (int (*)(const char *, void *, size_t *, void *, size_t))dlsym(RTLD_DEFAULT, "mallctl");
    if (strcmp(how, "reuse-calloc") == 0 && !touch_and_free(n))
        return 2;
    if (strcmp(how, "reuse-malloc") == 0 &&
        (!touch_and_free(5 * ((size_t)1 << 20) + 1) || !ctl ||
         ctl("arena.4096.purge", NULL, NULL, NULL, 0) != 0))
        return 2;
    char *p;
    if (strcmp(how, "grow") == 0) {
        char *q = malloc((size_t)4 << 20);
        if (!q)
            return 2;
        memset(q, 1, (size_t)4 << 20);
        p = realloc(q, n);
    } else {
        p = strcmp(how, "calloc") == 0 || strcmp(how, "reuse-calloc") == 0 ? calloc(1, n) : malloc(n);
    }
    if (!p)
        return 2;
    if ((uintptr_t)p % (2u << 20) != 0) {
        printf("misaligned %p\n", (void *)p);
        return 1;
    }
    memset(p, 7, n);
    /* The allocator's own count of THP-eligible bytes (stats.arenas.<i>.thp_eligible). */
    size_t eligible = 0, len = sizeof(eligible);
    uint64_t e = 1;
    size_t elen = sizeof(e);
    if (ctl) {
        ctl("epoch", &e, &elen, &e, sizeof(e));
        ctl("stats.arenas.4096.thp_eligible", &eligible, &len, NULL, 0);
    }
    struct vma_info head = vma_of((uintptr_t)p), tail = vma_of((uintptr_t)p + n - 1);
    printf("aligned %p AnonHugePages %ld kB flags %s tail %ld kB flags %s eligible %zu MiB\n",
           (void *)p, head.huge_kb, head.flag, tail.huge_kb, tail.flag, eligible >> 20);
    free(p);
    return 0;
}
