/*
 * misuse_boundary: the free path's block-boundary test (misuse.h,
 * misuse_slab_block_ok: one multiply and one compare) accepts exactly the
 * carved block boundaries of a slab, for every small class and every
 * capacity a slab can have: each offset from 64 KiB below the slab's start
 * to 64 KiB past its end is checked against the plain definition
 * (off = k * stride, k < capacity).
 */
#include "check.h"

#include "config.h"
#include "misuse.h"
#include "sizeclass.h"
#include "span.h"

int main(void)
{
    static struct span s; /* only the fields the test reads */
    s.start = (uintptr_t)1 << 40;
    unsigned classes = 0;
    uint64_t tried = 0;
    for (unsigned c = 0; c < NSMALL; c++) {
        uint32_t d = sizeclass_stride(sizeclass_size[c]);
        uint32_t reserved = sizeclass_slab_blocks[c];
        s.div_magic = misuse_div_magic(d);
        uint64_t rest = misuse_div_rest(d);
        CHECK_MSG(rest > 0 && rest <= d, "class %u (stride %u): rest %llu", c, d, (unsigned long long)rest);
        /* Capacities 0, 1, a middle one and the whole slab. */
        uint32_t caps[4] = {0, 1, reserved / 2, reserved};
        for (int i = 0; i < 4; i++) {
            uint32_t cap = caps[i];
            s.div_limit = (uint64_t)cap * rest;
            int64_t span_bytes = (int64_t)reserved * d;
            for (int64_t off = -65536; off < span_bytes + 65536; off++) {
                bool want = off >= 0 && off % d == 0 && off / d < cap;
                bool got = misuse_slab_block_ok(&s, (const void *)(s.start + (uintptr_t)off));
                if (got != want)
                    CHECK_MSG(0, "class %u (stride %u), capacity %u, offset %lld: %d, want %d", c, d,
                              cap, (long long)off, got, want);
                tried++;
            }
        }
        classes++;
    }
    CHECK_I(classes, ==, NSMALL);
    printf("ok: %u classes, %llu offsets\n", classes, (unsigned long long)tried);
    return 0;
}
