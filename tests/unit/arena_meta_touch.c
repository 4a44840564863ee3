/*
 * arena_meta_touch: an arena's metadata is written only where it is used,
 * so the pages nothing needs stay untouched and out of the RSS
 * (bench/xthread_producer_consumer's peak; base memory is fresh zeroed
 * mappings). Read from /proc/self/pagemap (present and exclusively mapped:
 * a page only read maps the shared zero page, which is not).
 *   - a new arena is page-aligned and writes its first page only (locks,
 *     counters, decay schedules; the bins and the rarely used tables after
 *     them stay untouched): 1 page of its 2. Before, the second lock sat
 *     ~15 KB in and the bins ran [state][pages]: pages 0 and 3 at creation;
 *   - then in use (small blocks of three classes, large blocks of 40 KiB to
 *     1 MiB, freed: slab runs, chunk remainders, freed runs of all sizes in
 *     the bins) it has written its two pages, no more: coarse bins above 64
 *     pages (arena.h). With a bin per page count it was 5 pages, of which
 *     such use wrote 4;
 *   - three span descriptors of a fresh batch (64 of 256 bytes) touch the
 *     page or two they lie in, none of the batch's pages after them. Before,
 *     the whole batch was linked into the free list: all its pages.
 */
#include "check.h"

#include "arena.h"

#include <fcntl.h>

#define PG ((uintptr_t)4096)

static int pagemap_fd = -1;

/* Whether page p is present and mapped by this process alone. */
static bool written(uintptr_t p)
{
    uint64_t e = 0;
    CHECK(pread(pagemap_fd, &e, sizeof(e), (off_t)((p / PG) * sizeof(e))) == (ssize_t)sizeof(e));
    return (e >> 63) & (e >> 56) & 1;
}

int main(void)
{
    pagemap_fd = open("/proc/self/pagemap", O_RDONLY);
    if (pagemap_fd < 0) {
        printf("skip: no /proc/self/pagemap\n");
        return 77;
    }
    free(malloc(16)); /* boot */
    /* An arena no thread uses yet (arenas are created on first use). */
    unsigned idx = arena_count - 1;
    CHECK_MSG(idx >= 1 && arenas[idx] == NULL, "arena %u exists already", idx);
    struct arena *a = arena_get(idx);
    CHECK_NONNULL(a);
    uintptr_t base = (uintptr_t)a;
    CHECK_U(base % PG, ==, 0);
    /* Every page is read before anything is printed: the first printf
     * mallocs stdout's buffer, and the base metadata that takes (a span
     * batch) may lie in the arena's last page, after the struct. */
    unsigned touched = 0, npages = (unsigned)((sizeof(*a) + PG - 1) / PG);
    bool was[8] = {false};
    CHECK_U(npages, <=, 8);
    for (unsigned i = 0; i < npages; i++)
        touched += was[i] = written(base + i * PG);
    for (unsigned i = 0; i < npages; i++)
        if (was[i])
            printf("arena page %u written\n", i);
    printf("new arena: %u of its %u pages written\n", touched, npages);
    CHECK_U(touched, ==, 1);
    CHECK(written(base));

    /* Three descriptors of a fresh batch. */
    pthread_mutex_lock(&a->lock);
    struct span *s[3];
    for (int i = 0; i < 3; i++) {
        s[i] = arena_span_new(a);
        CHECK_NONNULL(s[i]);
    }
    pthread_mutex_unlock(&a->lock);
    /* s[0] is the batch's first descriptor (a fresh arena has no recycled
     * one); count the batch's whole pages that hold none of the three. */
    uintptr_t first = ALIGN_UP((uintptr_t)s[0], PG), end = (uintptr_t)(s[0] + 64) & ~(PG - 1);
    unsigned later = 0, nlater = 0;
    for (uintptr_t p = first; p < end; p += PG) {
        bool holds = false;
        for (int i = 0; i < 3; i++)
            holds |= (uintptr_t)s[i] < p + PG && (uintptr_t)(s[i] + 1) > p;
        if (holds)
            continue;
        nlater++;
        later += written(p);
    }
    printf("span batch: %u of its %u pages without a used descriptor written\n", later, nlater);
    CHECK_U(nlater, >=, 2);
    CHECK_U(later, ==, 0);
    pthread_mutex_lock(&a->lock);
    for (int i = 0; i < 3; i++)
        arena_span_release(a, s[i]);
    pthread_mutex_unlock(&a->lock);
    /* In use. */
    int flags = MALLOCX_ARENA(idx) | MALLOCX_TCACHE_NONE;
    void *small[3], *large[6];
    static const size_t large_kib[6] = {40, 256, 320, 512, 768, 1024};
    for (int i = 0; i < 3; i++)
        CHECK_NONNULL(small[i] = mallocx((size_t)16 << (2 * i), flags));
    for (int i = 0; i < 6; i++)
        CHECK_NONNULL(large[i] = mallocx(large_kib[i] << 10, flags));
    for (int i = 0; i < 6; i += 2)
        dallocx(large[i], flags);
    for (int i = 1; i < 6; i += 2)
        dallocx(large[i], flags);
    for (int i = 0; i < 3; i++)
        dallocx(small[i], flags);
    touched = 0;
    for (unsigned i = 0; i < npages; i++)
        touched += written(base + i * PG);
    printf("arena in use: %u of its %u pages written\n", touched, npages);
    CHECK_U(npages, ==, 2);
    CHECK_U(touched, ==, 2);

    printf("ok\n");
    return 0;
}
