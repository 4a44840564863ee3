/*
 * malloc_usable_size, sallocx and nallocx agree: for every size 1..64 KiB
 * and sampled sizes up to 48 MiB, usable >= request, usable == sallocx ==
 * nallocx(size, 0), nallocx is monotonic and idempotent (a usable size is
 * its own size class), the waste stays within a size-class bound
 * (usable <= size + size/4 + slack), and the last usable byte is writable.
 * malloc_usable_size(NULL) is 0.
 */
#include "check.h"

static size_t waste_bound(size_t s)
{
    return s + s / 4 + (s <= 4096 ? 16 : 4096);
}

static void check_size(size_t s, size_t *prev_class)
{
    unsigned char *p = tl_opaque(malloc(s));
    CHECK_MSG(p != NULL, "malloc(%zu) = NULL", s);
    size_t u = malloc_usable_size(p);
    CHECK_MSG(u >= s, "malloc_usable_size(malloc(%zu)) = %zu < request", s, u);
    size_t sx = sallocx(p, 0);
    CHECK_MSG(sx == u, "size %zu: sallocx %zu != malloc_usable_size %zu", s, sx, u);
    size_t nx = nallocx(s, 0);
    CHECK_MSG(nx == u, "size %zu: nallocx %zu != usable %zu", s, nx, u);
    CHECK_MSG(u <= waste_bound(s), "size %zu: usable %zu wastes more than a size class should", s,
              u);
    CHECK_MSG(nallocx(u, 0) == u, "size %zu: nallocx(usable %zu) = %zu, want %zu", s, u,
              nallocx(u, 0), u);
    CHECK_MSG(nx >= *prev_class, "nallocx not monotonic: nallocx(%zu) = %zu < %zu", s, nx,
              *prev_class);
    *prev_class = nx;
    /* First and last usable bytes are ours. */
    p[u - 1] = 0xa5;
    p[0] = 0x5a;
    CHECK_EQ(p[0], 0x5a);
    CHECK(u == 1 || p[u - 1] == 0xa5);
    free(p);
}

int main(void)
{
    tl_require_liballoc();
    CHECK_EQ(malloc_usable_size(NULL), 0);

    size_t prev = 0;
    for (size_t s = 1; s <= 65536; s++)
        check_size(s, &prev);
    /* Sampled sizes above 64 KiB: around powers of two and in between. */
    for (size_t base = 65536; base <= ((size_t)32 << 20); base *= 2) {
        const size_t offs[] = {1,
                               7,
                               4095,
                               4096,
                               4097,
                               base / 8,
                               base / 4 + 3,
                               base / 2,
                               base / 2 + 4096 + 1,
                               base - 4097,
                               base - 1};
        check_size(base, &prev);
        for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
            size_t prev_local = 0;
            check_size(base + offs[i], &prev_local);
        }
    }
    /* Monotonic over a random sample of large sizes, sorted by construction. */
    uint64_t st = 7;
    prev = 0;
    for (size_t s = 65537; s < ((size_t)48 << 20); s += 1 + tl_rand_below(&st, 300000))
        check_size(s, &prev);
    printf("api_usable_size: ok\n");
    return 0;
}
