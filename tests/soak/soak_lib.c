/*
 * soak_lib: the plugin tests/soak/soak.c dlopens and dlcloses over and over:
 * it allocates in its constructor, on request and frees in its destructor,
 * so loading and unloading code that owns heap blocks is part of the soak.
 */
#include <stdlib.h>
#include <string.h>

static char *ctor_block;

__attribute__((constructor)) static void soak_lib_init(void)
{
    ctor_block = malloc(5000);
    if (ctor_block)
        memset(ctor_block, 0x5a, 5000);
}

__attribute__((destructor)) static void soak_lib_fini(void)
{
    free(ctor_block);
}

/* A block of n bytes, every byte = tag; the caller frees it. Returns NULL
 * when the constructor's block was found altered (corruption). */
__attribute__((noinline)) char *soak_lib_make(size_t n, unsigned char tag)
{
    if (!ctor_block)
        return NULL;
    for (size_t i = 0; i < 5000; i++)
        if ((unsigned char)ctor_block[i] != 0x5a)
            return NULL;
    char *p = malloc(n);
    if (p)
        memset(p, tag, n);
    return p;
}
