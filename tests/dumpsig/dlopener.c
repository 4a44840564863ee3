/*
 * tests/apps/dump_signal_dlopen.sh's subject: dlopen/dlclose a library (its
 * constructor and its function allocate) N times while the test sends the
 * dump signal; the dump thread unwinds and reads ELF files meanwhile.
 * usage: dlopener LIB MS [STOPFILE]: runs MS milliseconds; with STOPFILE,
 * goes on after that until the file exists (the test creates it once it saw
 * enough dumps: a loaded machine writes fewer per second), 60 s more at
 * most. Prints "done ROUNDS".
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    long ms = atol(argv[2]), i;
    const char *stop = argc > 3 ? argv[3] : NULL;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = 0;; i++) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        long el = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
        if (el >= ms && (!stop || el >= ms + 60000 || access(stop, F_OK) == 0))
            break;
        void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            fprintf(stderr, "dlopen: %s\n", dlerror());
            return 1;
        }
        void *(*f)(int) = (void *(*)(int))dlsym(h, "dlib_alloc");
        if (!f)
            return 1;
        free(f((int)(i & 1023)));
        if (dlclose(h) != 0)
            return 1;
    }
    printf("done %ld\n", i);
    return 0;
}
