/* peak: 200 MiB held briefly, then freed. steady_cache() keeps a few MiB
 * for the whole run; build_index() builds a 200 MiB index in 1 MiB blocks
 * (the peak), uses it and frees it; steady traffic continues afterwards, so
 * at exit the heap holds only the steady part. The profiler's answer to
 * "who made the peak" must be build_index.
 * Usage: peak [scale]; the index is 200 MiB * scale (at least 1 MiB). */
#include "ht_common.h"

#define MIB ((size_t)1 << 20)

static void *cache[4096];

__attribute__((noinline)) void steady_cache(unsigned round)
{
    for (unsigned k = 0; k < 4096; k++) {
        size_t n = 256 + (k * 31 + round) % 1024;
        free(cache[k]);
        cache[k] = malloc(n);
        ht_touch(cache[k], n);
    }
}

__attribute__((noinline)) void build_index(size_t blocks)
{
    void **idx = calloc(blocks, sizeof(void *));
    for (size_t i = 0; i < blocks; i++) {
        idx[i] = malloc(MIB);
        memset(idx[i], (int)i, MIB); /* resident, not only reserved */
    }
    for (size_t i = 0; i < blocks; i++)
        ht_sink ^= ((unsigned char *)idx[i])[i % MIB];
    for (size_t i = 0; i < blocks; i++)
        free(idx[i]);
    free(idx);
}

int main(int argc, char **argv)
{
    size_t blocks = (size_t)(200 * ht_scale(argc, argv));
    if (blocks < 1)
        blocks = 1;
    for (unsigned r = 0; r < 8; r++)
        steady_cache(r);
    build_index(blocks);
    for (unsigned r = 8; r < 16; r++)
        steady_cache(r);
    for (unsigned k = 0; k < 4096; k++)
        free(cache[k]);
    return 0;
}
