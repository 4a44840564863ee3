/* The probe for tests/apps/prof_dynload.sh: built by tests/tests.mk with the
 * project's flags and linked with -lalloc. Allocates enough to be sampled
 * (prof:true), writes a pprof profile to /dev/null through
 * prof.dump_pprof_fd and prints that mallctl's result ("pprof=<errno>"),
 * then which of the profiler's optional libraries its process maps
 * ("maps: libunwind libz libprotobuf-c", from /proc/self/maps). */
#include <alloc.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    void *keep[64];
    for (int i = 0; i < 64; i++)
        keep[i] = malloc(1 << 16);
    int fd = open("/dev/null", O_WRONLY);
    int err = mallctl("prof.dump_pprof_fd", NULL, NULL, &fd, sizeof(fd));
    printf("pprof=%d\n", err);
    close(fd);
    for (int i = 0; i < 64; i++)
        free(keep[i]);
    FILE *m = fopen("/proc/self/maps", "r");
    char line[4096];
    bool unw = false, z = false, pb = false;
    while (m && fgets(line, sizeof(line), m)) {
        unw |= strstr(line, "/libunwind.so") != NULL;
        z |= strstr(line, "/libz.so") != NULL;
        pb |= strstr(line, "/libprotobuf-c.so") != NULL;
    }
    if (m)
        fclose(m);
    printf("maps:%s%s%s\n", unw ? " libunwind" : "", z ? " libz" : "", pb ? " libprotobuf-c" : "");
    return 0;
}
