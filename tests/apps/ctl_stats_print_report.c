/* The report program for tests/apps/ctl_stats_print.sh: built by tests/tests.mk with the
 * project's flags and linked with -lalloc. */
#include <alloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out(void *opaque, const char *s)
{
    (void)opaque;
    fputs(s, stdout);
}

static void *on_arena1(void *arg)
{
    unsigned one = 1;
    if (mallctl("thread.arena", NULL, NULL, &one, sizeof(one)) != 0)
        exit(3);
    *(void **)arg = malloc(300000);
    return NULL;
}

/* report [OPTS|-]: hold 10 MiB, use arenas 0 and 1, print the report ("-": don't). */
int main(int argc, char **argv)
{
    void *big = malloc(10 << 20), *other = NULL;
    pthread_t t;
    if (!big || pthread_create(&t, NULL, on_arena1, &other) || pthread_join(t, NULL) || !other)
        return 2;
    memset(big, 1, 10 << 20);
    const char *opts = argc > 1 ? argv[1] : NULL;
    if (!opts || strcmp(opts, "-") != 0)
        malloc_stats_print(out, NULL, opts);
    fflush(stdout);
    free(other);
    free(big);
    return 0;
}
