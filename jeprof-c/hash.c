/* hash: see hash.h. */
#include "hash.h"

uint64_t hash_bytes(const void *p, size_t n)
{
    /* FNV-1a, finished with a mixer: short keys, no adversary to resist. */
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ULL;
    return hash_u64(h);
}
