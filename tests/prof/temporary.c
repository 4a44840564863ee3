/* Subject of tests/apps/prof_temporary.sh: one short-lived and one
 * long-lived allocation site, then the recent ring and the maps.
 *  - short_lived(): 20000 blocks of 200 B, each freed right after its
 *    allocation (nothing allocated in between): temporary by any test;
 *  - long_lived(): 2000 blocks of 200 B kept 30 ms, then freed: not
 *    temporary at a 1 ms threshold, nor by heaptrack's test.
 * Usage: temporary RING.json MAPS.txt (run with the profiler and
 * prof_recent_alloc_max large enough for every sample). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);
static void *volatile sink;
static void *kept[2000];

__attribute__((noinline)) void short_lived(void)
{
    for (int i = 0; i < 20000; i++) {
        char *p = malloc(200);
        p[0] = (char)i;
        sink = p;
        free(p);
    }
}

__attribute__((noinline)) void long_lived(void)
{
    for (int i = 0; i < 2000; i++) {
        kept[i] = malloc(200);
        ((char *)kept[i])[0] = (char)i;
    }
}

static void write_cb(void *opaque, const char *s)
{
    fputs(s, (FILE *)opaque);
}

int main(int argc, char **argv)
{
    mallctl_fn mallctl = (mallctl_fn)dlsym(RTLD_DEFAULT, "mallctl");
    if (argc < 3 || !mallctl)
        return 2;
    long_lived();
    short_lived();
    usleep(30000);
    for (int i = 0; i < 2000; i++)
        free(kept[i]);
    FILE *f = fopen(argv[1], "w");
    if (!f)
        return 2;
    struct {
        void (*cb)(void *, const char *);
        void *arg;
    } d = {write_cb, f};
    int rc = mallctl("experimental.prof_recent.alloc_dump", NULL, NULL, &d, sizeof(d));
    fclose(f);
    FILE *in = fopen("/proc/self/maps", "r"), *out = fopen(argv[2], "w");
    char buf[4096];
    size_t n;
    while (in && out && (n = fread(buf, 1, sizeof(buf), in)) > 0)
        fwrite(buf, 1, n, out);
    if (in)
        fclose(in);
    if (out)
        fclose(out);
    return rc ? 3 : 0;
}
