/* Drives the recent-ring mallctls; writes JSON files checked by recent_queries.sh. */
#include <alloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

struct recent_filter { /* libprof/recent.h */
    int state;
    size_t min_usize;
    long long thread_uid;
    unsigned long long since_ns, until_ns;
    int summary;
};

static void to_file(void *opaque, const char *s)
{
    fputs(s, opaque);
}

static const char *dir;

static void set_active(bool on)
{
    mallctl("thread.prof.active", NULL, NULL, &on, sizeof(on));
}

/* Dumps don't sample their own fopen, so every dump sees the same ring. */
static void dump(const char *name, const char *ctl, const struct recent_filter *f)
{
    set_active(false);
    char path[512];
    snprintf(path, sizeof(path), "%s/%s.json", dir, name);
    FILE *fp = fopen(path, "w");
    int r;
    if (f) {
        struct { void (*cb)(void *, const char *); void *o; const struct recent_filter *f; } a = {to_file, fp, f};
        r = mallctl(ctl, NULL, NULL, &a, sizeof(a));
    } else {
        struct { void (*cb)(void *, const char *); void *o; } a = {to_file, fp};
        r = mallctl(ctl, NULL, NULL, &a, sizeof(a));
    }
    fclose(fp);
    set_active(true);
    if (r != 0) {
        fprintf(stderr, "%s: %d\n", ctl, r);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    dir = argc > 1 ? argv[1] : ".";
    ssize_t max = 50, old = -2;
    size_t len = sizeof(old);
    if (mallctl("experimental.prof_recent.alloc_max", &old, &len, &max, sizeof(max)) != 0 || old != 0)
        return 1;
    const char *name = "q\"uo\\te";
    mallctl("thread.prof.name", NULL, NULL, &name, sizeof(name));
    void *p[50];
    for (int i = 0; i < 50; i++)
        p[i] = malloc(i % 2 ? 2000 : 100);
    for (int i = 0; i < 50; i += 2)
        free(p[i]);
    dump("full", "prof.recent_alloc_dump", NULL);
    dump("jemalloc_name", "experimental.prof_recent.alloc_dump", NULL);
    struct recent_filter live = {.state = 1, .thread_uid = -1};
    dump("live", "prof.recent_alloc_dump_filtered", &live);
    struct recent_filter big = {.min_usize = 1024, .thread_uid = -1};
    dump("big", "prof.recent_alloc_dump_filtered", &big);
    struct recent_filter summary = {.state = 2, .thread_uid = -1, .summary = 1};
    dump("summary", "prof.recent_alloc_dump_filtered", &summary);
    for (int i = 1; i < 50; i += 2)
        free(p[i]);
    return 0;
}
