/*
 * lcache_class: the table the cached large paths read their class from
 * (tcache.h, tcache_large_class_of and tcache_large_usize, filled by
 * tcache_boot) agrees with the size classes:
 *   - every page count 9 .. LARGE_MAX / PAGE maps to the class whose usable
 *     size is sizeclass_usize of that many pages, 20 classes in increasing
 *     order (40 KiB is 0, 1 MiB is 19);
 *   - a request of any size above SMALL_MAX maps (tcache_large_class) to
 *     the class of its usable size;
 *   - through malloc and free: a block of each cached class, freed into
 *     the thread's cache, is what the smallest request of its class gets
 *     back (free's push and malloc's pop pick the same stack), and the
 *     next class's request does not get it.
 */
#include "check.h"

#include "sizeclass.h"
#include "tcache.h"

#include <stdlib.h>

int main(void)
{
    free(malloc(1)); /* boot */
    for (size_t k = (SMALL_MAX >> LG_PAGE) + 1; k <= (LARGE_MAX >> LG_PAGE); k++) {
        size_t c = tcache_large_class_of[k];
        CHECK_MSG(c < LCACHE_NCLASSES, "%zu pages: class %zu", k, c);
        CHECK_MSG(tcache_large_usize[c] == sizeclass_usize(k << LG_PAGE),
                  "%zu pages: class %zu of %zu bytes, want %zu", k, c, tcache_large_usize[c],
                  sizeclass_usize(k << LG_PAGE));
    }
    CHECK_U(tcache_large_usize[0], ==, LARGE_MIN);
    CHECK_U(tcache_large_usize[LCACHE_NCLASSES - 1], ==, LARGE_MAX);
    for (unsigned c = 1; c < LCACHE_NCLASSES; c++)
        CHECK_U(tcache_large_usize[c - 1], <, tcache_large_usize[c]);
    for (size_t size = SMALL_MAX + 1; size <= LARGE_MAX; size += 509)
        CHECK_MSG(tcache_large_usize[tcache_large_class(size)] == sizeclass_usize(size),
                  "%zu bytes: class of %zu bytes, want %zu", size,
                  tcache_large_usize[tcache_large_class(size)], sizeclass_usize(size));

    unsigned cached = 0;
    for (unsigned c = 0; c < LCACHE_NCLASSES && tcache_large_usize[c] <= tcache_large_max; c++) {
        size_t usize = tcache_large_usize[c];
        size_t below = c ? tcache_large_usize[c - 1] : SMALL_MAX;
        char *p = malloc(usize);
        CHECK(p != NULL);
        free(p);
        char *q = malloc(below + 1); /* the class's smallest request */
        CHECK_MSG(q == p, "class %u (%zu bytes): %p, want the cached %p", c, usize, (void *)q,
                  (void *)p);
        free(q);
        if (c + 1 < LCACHE_NCLASSES) {
            char *r = malloc(usize + 1); /* the next class */
            CHECK_MSG(r != p, "class %u: the next class's request got its block", c);
            free(r);
        }
        cached++;
    }
    CHECK_U(cached, ==, 8); /* 40 .. 128 KiB under the default tcache_max */
    printf("lcache_class: ok (%u cached classes)\n", cached);
    return 0;
}
