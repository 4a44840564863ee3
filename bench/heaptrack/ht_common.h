/* ht_common: shared by the heaptrack side-by-side programs (leak.c, peak.c,
 * churn.c). The scale comes from argv[1] (default 1, tests use less); with
 * HT_RECENT=<file> set, the program writes the allocator's recent-allocation
 * ring (experimental.prof_recent.alloc_dump) there and /proc/self/maps to
 * <file>.maps before exiting. mallctl is looked up at run time, so the
 * programs also run under glibc malloc and heaptrack, where that is a no-op. */
#ifndef HT_COMMON_H
#define HT_COMMON_H

#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every block a program allocates goes through this sink once, so the
 * compiler cannot drop an allocation whose result is unused. */
static volatile unsigned char ht_sink;

static inline void ht_touch(void *p, size_t n)
{
    unsigned char *c = p;
    c[0] = (unsigned char)n;
    ht_sink ^= c[n - 1] = (unsigned char)(n >> 3);
}

static inline double ht_scale(int argc, char **argv)
{
    double s = argc > 1 ? atof(argv[1]) : 1.0;
    return s > 0 ? s : 1.0;
}

static void ht_write_cb(void *opaque, const char *s)
{
    fputs(s, (FILE *)opaque);
}

/* Writes the recent ring and the maps when HT_RECENT names a file; returns
 * 0, or 1 when asked and it failed (no mallctl, no ring). */
static inline int ht_dump_recent(void)
{
    const char *path = getenv("HT_RECENT");
    if (!path || !*path)
        return 0;
    typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);
    mallctl_fn mallctl = (mallctl_fn)dlsym(RTLD_DEFAULT, "mallctl");
    if (!mallctl) {
        fprintf(stderr, "HT_RECENT: no mallctl in this process\n");
        return 1;
    }
    FILE *f = fopen(path, "w");
    if (!f)
        return 1;
    struct {
        void (*cb)(void *, const char *);
        void *arg;
    } d = {ht_write_cb, f};
    int rc = mallctl("experimental.prof_recent.alloc_dump", NULL, NULL, &d, sizeof(d));
    fclose(f);
    char mp[4096];
    snprintf(mp, sizeof(mp), "%s.maps", path);
    FILE *in = fopen("/proc/self/maps", "r"), *out = fopen(mp, "w");
    char buf[4096];
    size_t n;
    while (in && out && (n = fread(buf, 1, sizeof(buf), in)) > 0)
        fwrite(buf, 1, n, out);
    if (in)
        fclose(in);
    if (out)
        fclose(out);
    if (rc)
        fprintf(stderr, "HT_RECENT: experimental.prof_recent.alloc_dump: error %d\n", rc);
    return rc != 0;
}

#endif
