/* hash: 64-bit hashes for the CLI's open-addressing tables (strtab, idmap,
 * the analysis maps). Fast and well mixed; no adversary to resist. */
#ifndef JEPROF_HASH_H
#define JEPROF_HASH_H

#include <stddef.h>
#include <stdint.h>

/* Hash of n bytes at p. */
uint64_t hash_bytes(const void *p, size_t n);
/* A 64-bit integer mixed so that every input bit affects every output bit. */
static inline uint64_t hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

#endif
