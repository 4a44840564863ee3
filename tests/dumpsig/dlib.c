/* The library tests/dumpsig/dlopener.c loads and unloads: allocates in its
 * constructor (kept until its destructor) and on each call. */
#include <stdlib.h>
#include <string.h>

static void *kept;

__attribute__((constructor)) static void dlib_init(void)
{
    kept = malloc(65536);
    memset(kept, 1, 128);
}

__attribute__((destructor)) static void dlib_fini(void)
{
    free(kept);
}

void *dlib_alloc(int i)
{
    void *p = malloc(1024 + (size_t)i);
    memset(p, 2, 64);
    return p;
}
