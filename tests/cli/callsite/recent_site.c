/* Recent-ring call site for tests/cli/jeprof_callsite_recent.sh: allocates
 * 4000 B on the marked line (the next line is another statement),
 * then writes experimental.prof_recent.alloc_dump to argv[1] and a copy of
 * /proc/self/maps to argv[2]. mallctl is looked up at run time (LD_PRELOAD). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);
static volatile int touched;
static char *keep[8];

static void write_cb(void *opaque, const char *s)
{
    fputs(s, (FILE *)opaque);
}

__attribute__((noinline)) static char *make_one(void)
{
    char *p = malloc(4000); /* @RECENT */
    touched = 1;
    p[0] = 1;
    return p;
}

int main(int argc, char **argv)
{
    mallctl_fn mallctl = (mallctl_fn)dlsym(RTLD_DEFAULT, "mallctl");
    if (argc < 3 || !mallctl)
        return 2;
    for (int i = 0; i < 8; i++)
        keep[i] = make_one();
    FILE *f = fopen(argv[1], "w");
    struct {
        void (*cb)(void *, const char *);
        void *arg;
    } dump = {write_cb, f};
    int rc = mallctl("experimental.prof_recent.alloc_dump", NULL, NULL, &dump, sizeof(dump));
    fclose(f);
    FILE *in = fopen("/proc/self/maps", "r"), *out = fopen(argv[2], "w");
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        fwrite(buf, 1, n, out);
    fclose(in);
    fclose(out);
    return rc != 0 || keep[3][0] != 1;
}
