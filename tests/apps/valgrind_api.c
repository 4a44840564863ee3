/*
 * valgrind_api: the jemalloc API of a program linked with -lalloc, run
 * under valgrind's memcheck (tests/apps/valgrind_api.sh). Memcheck
 * replaces malloc, free and the rest of the standard family in every
 * loaded object, liballoc included, so the program's malloc and free are
 * valgrind's, while mallocx and the rest of the jemalloc API stay ours:
 * each must keep our blocks ours (free them, resize them, size them) and
 * never pass one to the replaced functions. Each case prints its result;
 * the script checks the values and that memcheck reports no error.
 */
#include <alloc.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    /* dallocx, sdallocx, without and with the thread cache */
    for (int i = 0; i < 100; i++) {
        dallocx(mallocx(100, 0), 0);
        sdallocx(mallocx(100, 0), 100, 0);
        dallocx(mallocx(100, MALLOCX_TCACHE_NONE), MALLOCX_TCACHE_NONE);
        sdallocx(mallocx(3 << 20, 0), 3 << 20, 0);
    }
    /* an explicit tcache, flushed (its blocks freed inside the library) */
    unsigned tc;
    size_t sz = sizeof(tc);
    if (mallctl("tcache.create", &tc, &sz, NULL, 0) != 0)
        return 1;
    for (int i = 0; i < 300; i++)
        dallocx(mallocx(64, MALLOCX_TCACHE(tc)), MALLOCX_TCACHE(tc));
    if (mallctl("tcache.flush", NULL, NULL, &tc, sizeof(tc)) != 0)
        return 1;
    /* rallocx moves a block (through the library's own malloc) */
    char *p = mallocx(64, 0);
    memset(p, 7, 64);
    p = rallocx(p, 100000, 0);
    printf("rallocx %zu %d\n", sallocx(p, 0), p[63]);
    p = rallocx(p, 10, 0);
    printf("shrunk %zu %d\n", sallocx(p, 0), p[9]);
    printf("xallocx %zu\n", xallocx(p, 16, 0, 0));
    dallocx(p, 0);
    /* the program's own malloc and free (valgrind's here) beside ours */
    char *q = malloc(50);
    strcpy(q, "glibc-side");
    q = reallocarray(q, 10, 10);
    printf("%s\n", q);
    free(q);
    puts("done");
    return 0;
}
