/*
 * stress_lib: the shared library tests/prof/stress.c dlopens and dlcloses
 * in a loop: it allocates while being loaded (constructor, under the
 * loader lock), on request, and frees while being unloaded.
 */
#include <stdlib.h>
#include <string.h>

static void *ctor_block;

__attribute__((constructor)) static void stress_lib_init(void)
{
    ctor_block = malloc(3000);
    if (ctor_block)
        memset(ctor_block, 1, 64);
}

__attribute__((destructor)) static void stress_lib_fini(void)
{
    free(ctor_block);
}

__attribute__((noinline)) void *stress_lib_alloc(size_t n)
{
    char *p = malloc(n);
    if (p)
        memset(p, 2, n < 64 ? n : 64);
    return p;
}
