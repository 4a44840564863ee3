/*
 * realloc within a small block's usable size (the early return for an
 * unchanged usable size) is a new requested size: the program may then
 * write every byte of it. Debug builds keep a canary after the requested
 * size (docs/misuse.md); it must follow the new size, or free reports a
 * heap overflow that never happened (abort:true, realloc_canary.conf, makes
 * that report fail the test). Sizes grow and shrink inside each class and
 * cross classes; the data kept by each realloc is checked in every build.
 * rallocx puts no canary (docs/misuse.md): writing its whole nallocx size
 * is no overflow, whether the block stayed or moved.
 * Run in a debug build: make MODE=debug BUILD=build-debug test T=realloc_canary
 */
#include "check.h"

#include <malloc.h>

int main(void)
{
    tl_require_liballoc();
    bool abort_on = false;
    size_t sz = sizeof(abort_on);
    CHECK_I(mallctl("opt.abort", &abort_on, &sz, NULL, 0), ==, 0);
    CHECK_MSG(abort_on, "this test needs abort:true (realloc_canary.conf)");
    unsigned long checked = 0;
    for (size_t a = 1; a <= 4096; a += 3) {
        /* grow by a few bytes at a time, writing the whole new size */
        unsigned char *p = malloc(a);
        CHECK_NONNULL(p);
        memset(p, 0x11, a);
        size_t have = a;
        for (size_t b = a + 1; b <= a + 64; b += 5) {
            p = realloc(p, b);
            CHECK_NONNULL(p);
            for (size_t i = 0; i < have; i++)
                CHECK_MSG(p[i] == 0x11, "realloc(%zu -> %zu) lost byte %zu", have, b, i);
            memset(p, 0x11, b);
            have = b;
            checked++;
        }
        /* shrink in the class, then grow back to the old size and fill it */
        size_t small = have > 9 ? have - 9 : 1;
        p = realloc(p, small);
        CHECK_NONNULL(p);
        p = realloc(p, have);
        CHECK_NONNULL(p);
        for (size_t i = 0; i < small; i++)
            CHECK_MSG(p[i] == 0x11, "realloc(%zu -> %zu -> %zu) lost byte %zu", have, small, have, i);
        memset(p, 0x22, have);
        free(p);
        /* a block whose usable size was asked, then realloc'd to its request */
        p = malloc(a);
        CHECK_NONNULL(p);
        memset(p, 0x33, malloc_usable_size(p));
        p = realloc(p, a + 1);
        CHECK_NONNULL(p);
        memset(p, 0x44, a + 1);
        free(p);
        /* rallocx gives no canary (its caller may use the whole nallocx
         * size), in place or moved through malloc's fast path */
        p = mallocx(a, 0);
        CHECK_NONNULL(p);
        memset(p, 0x55, nallocx(a, 0));
        for (size_t b = a + 3; b <= a + 3 + 200; b += 50) {
            p = rallocx(p, b, 0);
            CHECK_NONNULL(p);
            memset(p, 0x66, nallocx(b, 0));
        }
        dallocx(p, 0);
    }
    printf("ok: %lu reallocs checked\n", checked);
    return 0;
}
