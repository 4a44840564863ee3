/* The report program for tests/apps/ctl_stats_prof.sh: built by tests/tests.mk with the
 * project's flags and linked with -lalloc. */
#include <alloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void out(void *opaque, const char *s)
{
    (void)opaque;
    fputs(s, stdout);
}

static bool rb(const char *n)
{
    bool v = 0;
    size_t sz = sizeof(v);
    if (mallctl(n, &v, &sz, NULL, 0))
        exit(3);
    return v;
}

static uint64_t ru64(const char *n)
{
    uint64_t v = 0;
    size_t sz = sizeof(v);
    if (mallctl(n, &v, &sz, NULL, 0))
        exit(4);
    return v;
}

static size_t rsz(const char *n)
{
    size_t v = 0, sz = sizeof(v);
    if (mallctl(n, &v, &sz, NULL, 0))
        exit(5);
    return v;
}

/* report OPTS: print the report, then "MALLCTL {...}" with the readings. */
int main(int argc, char **argv)
{
    if (rb("opt.prof")) {
        bool act = !rb("opt.prof_active");
        if (mallctl("prof.active", NULL, NULL, &act, sizeof(act)))
            return 6;
    }
    for (int i = 0; i < 3; i++)
        if (realloc(malloc(100 + i), 0) != NULL)
            return 7;
    uint64_t e = 1;
    size_t sz = sizeof(e);
    if (rb("background_thread")) {
        /* A few wakeups: the test wants 2 runs (about 100 ms unloaded);
         * polled every 50 ms, for 30 s at most on a loaded machine. */
        usleep(300000);
        for (int i = 0; i < 600; i++) {
            mallctl("epoch", &e, &sz, &e, sz);
            if (ru64("stats.background_thread.num_runs") >= 2)
                break;
            usleep(50000);
        }
    }
    mallctl("epoch", &e, &sz, &e, sz);
    /* Readings first, then the report: both from this epoch. */
    char line[1024];
    snprintf(line, sizeof(line),
             "{\"thread_active_init\":%s,\"active\":%s,\"gdump\":%s,\"interval\":%llu,"
             "\"lg_sample\":%zu,\"opt_lg_prof_sample\":%zu,\"opt_lg_prof_interval\":%zd,"
             "\"zero_reallocs\":%zu,\"num_threads\":%zu,\"num_runs\":%llu,\"run_interval\":%llu}",
             rb("prof.thread_active_init") ? "true" : "false", rb("prof.active") ? "true" : "false",
             rb("prof.gdump") ? "true" : "false", (unsigned long long)ru64("prof.interval"),
             rsz("prof.lg_sample"), rsz("opt.lg_prof_sample"), (ssize_t)rsz("opt.lg_prof_interval"),
             rsz("stats.zero_reallocs"), rsz("stats.background_thread.num_threads"),
             (unsigned long long)ru64("stats.background_thread.num_runs"),
             (unsigned long long)ru64("stats.background_thread.run_interval"));
    /* The report refreshes the epoch itself: background counters can only
     * have grown since the readings. */
    malloc_stats_print(out, NULL, argc > 1 ? argv[1] : "J");
    printf("\nMALLCTL %s\n", line);
    return 0;
}
