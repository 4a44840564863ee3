/* Writes jemalloc's recent-allocation JSON (experimental.prof_recent.
 * alloc_dump) to argv[1] and a copy of /proc/self/maps to argv[2], after
 * allocating from two known functions and freeing the second one's objects
 * after 20 ms.
 * mallctl is looked up at run time, so the program runs under LD_PRELOAD. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);
void *keep[64];

static void write_cb(void *opaque, const char *s)
{
    fputs(s, (FILE *)opaque);
}

__attribute__((noinline)) void make_live(void)
{
    for (int i = 0; i < 8; i++)
        keep[i] = malloc(5000);
}

__attribute__((noinline)) void make_freed(void)
{
    for (int i = 0; i < 4; i++) {
        keep[8 + i] = malloc(300); /* through a global: not elided */
        usleep(20000);
        free(keep[8 + i]);
    }
}

int main(int argc, char **argv)
{
    mallctl_fn mallctl = (mallctl_fn)dlsym(RTLD_DEFAULT, "mallctl");
    if (argc < 3 || !mallctl)
        return 2;
    make_live();
    make_freed();
    FILE *f = fopen(argv[1], "w");
    struct { void (*cb)(void *, const char *); void *arg; } dump = {write_cb, f};
    int rc = mallctl("experimental.prof_recent.alloc_dump", NULL, NULL, &dump, sizeof(dump));
    fclose(f);
    FILE *in = fopen("/proc/self/maps", "r"), *out = fopen(argv[2], "w");
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        fwrite(buf, 1, n, out);
    fclose(in);
    fclose(out);
    return rc ? 3 : 0;
}
