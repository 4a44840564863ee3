/* Preloaded by tests/apps/prof_dynload_fork.sh: dlopen of libz waits
 * 300 ms before the real dlopen (so the loader lock is not held while it
 * waits), to hold a load of the profiler's libraries open across a fork. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>
#include <time.h>

void *dlopen(const char *file, int mode)
{
    static void *(*real)(const char *, int);
    if (!real)
        real = (void *(*)(const char *, int))dlsym(RTLD_NEXT, "dlopen");
    if (file && strstr(file, "libz.so"))
        nanosleep(&(struct timespec){.tv_nsec = 300 * 1000 * 1000}, NULL);
    return real(file, mode);
}
