/*
 * startup_rss_probe: run preloaded with liballoc (tests/apps/startup_rss.sh).
 * Does what most programs do with an allocator -- small and medium blocks,
 * calloc, realloc, a second thread -- and, with "stats", also what only some
 * do (malloc_stats_print); then prints which pages of liballoc.so's code
 * mapping this process has mapped:
 *   vma FIRST END        file offsets of the executable mapping
 *   mapped OFF           one line per mapped page (file offset)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *volatile sink;

static void churn(void)
{
    void *p[64];
    for (int round = 0; round < 100; round++) {
        for (int i = 0; i < 64; i++)
            p[i] = malloc((size_t)(i * 37 + round) % 3000 + 1);
        for (int i = 0; i < 64; i += 2)
            free(p[i]);
        for (int i = 0; i < 64; i += 2)
            p[i] = realloc(calloc(1, 24), 200 + (size_t)i);
        for (int i = 0; i < 64; i++) {
            sink = p[i];
            free(p[i]);
        }
    }
}

static void *thread_main(void *arg)
{
    (void)arg;
    churn();
    return NULL;
}

static void discard(void *opaque, const char *s)
{
    (void)opaque;
    (void)s;
}

int main(int argc, char **argv)
{
    churn();
    pthread_t t;
    if (pthread_create(&t, NULL, thread_main, NULL) != 0 || pthread_join(t, NULL) != 0)
        return 2;
    if (argc > 1 && strcmp(argv[1], "stats") == 0) {
        void (*print)(void (*)(void *, const char *), void *, const char *) =
            (void (*)(void (*)(void *, const char *), void *, const char *))dlsym(RTLD_DEFAULT,
                                                                                "malloc_stats_print");
        if (!print)
            return 3;
        print(discard, NULL, NULL);
    }
    FILE *maps = fopen("/proc/self/maps", "r");
    int pm = open("/proc/self/pagemap", O_RDONLY);
    if (!maps || pm < 0)
        return 4;
    char line[4096];
    int found = 0;
    while (fgets(line, sizeof(line), maps)) {
        uintptr_t lo, hi;
        unsigned long long off;
        char perms[8], path[3000] = "";
        if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %7s %llx %*s %*s %2999s", &lo, &hi, perms, &off,
                   path) < 4)
            continue;
        if (!strstr(path, "liballoc.so") || strcmp(perms, "r-xp") != 0)
            continue;
        found = 1;
        printf("vma %llx %llx\n", off, off + (hi - lo));
        for (uintptr_t a = lo; a < hi; a += 4096) {
            uint64_t e;
            if (pread(pm, &e, sizeof(e), (off_t)(a / 4096 * sizeof(e))) != sizeof(e))
                return 5;
            if (e >> 63)
                printf("mapped %llx\n", off + (a - lo));
        }
    }
    return found ? 0 : 6;
}
