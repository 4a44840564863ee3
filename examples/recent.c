/*
 * recent: keep the last sampled allocations in the lock-free ring, run a
 * workload, and dump the ring to a file as JSON (jemalloc's layout), then
 * a per-site summary of what was freed and how long it lived.
 *
 *   MALLOC_CONF=prof:true,lg_prof_sample:12 build/examples/recent recent.json
 */
#include <alloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

static void to_file(void *opaque, const char *s)
{
    fputs(s, opaque);
}

/* Same layout as struct recent_filter in libprof/recent.h. */
struct recent_filter {
    int state;            /* 0 all, 1 live only, 2 released only */
    size_t min_usize;     /* keep entries with usize >= this */
    long long thread_uid; /* -1 any thread */
    unsigned long long since_ns, until_ns; /* allocation time window, 0 = open */
    int summary;          /* 1: aggregate by allocation site */
};

__attribute__((noinline)) static char *make_record(int i)
{
    char *r = malloc(64 + (size_t)(i % 8) * 512);
    snprintf(r, 64, "record %d", i);
    return r;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "recent.json";
    ssize_t max = 1000;
    if (mallctl("prof.recent_alloc_max", NULL, NULL, &max, sizeof(max)) != 0) {
        fprintf(stderr, "run with MALLOC_CONF=prof:true\n");
        return 1;
    }
    const char *name = "worker-main";
    mallctl("thread.prof.name", NULL, NULL, &name, sizeof(name));

    char *keep[5000];
    for (int i = 0; i < 5000; i++)
        keep[i] = make_record(i);
    for (int i = 0; i < 5000; i += 2) /* free half: their entries become "released" */
        free(keep[i]);

    FILE *f = fopen(path, "w");
    if (!f)
        return 1;
    struct {
        void (*write_cb)(void *, const char *);
        void *cbopaque;
    } dump = {to_file, f};
    mallctl("prof.recent_alloc_dump", NULL, NULL, &dump, sizeof(dump));
    fclose(f);
    printf("wrote %s\n", path);

    struct recent_filter summary = {.state = 2, .thread_uid = -1, .summary = 1};
    struct {
        void (*write_cb)(void *, const char *);
        void *cbopaque;
        const struct recent_filter *filter;
    } query = {to_file, stdout, &summary};
    mallctl("prof.recent_alloc_dump_filtered", NULL, NULL, &query, sizeof(query));
    printf("\n");
    for (int i = 1; i < 5000; i += 2)
        free(keep[i]);
    return 0;
}
