/*
 * prof_sample_place: where a sampled small block lives, and what its page
 * remembers (every allocation sampled: the malloc_conf global below; unit
 * tests run with MALLOC_CONF unset).
 *   - a sampled block is moved off the thread heap's own page
 *     (heap_sample_relocate): its span belongs to the arena's shared heap,
 *     the thread's current page for the class never carries
 *     SPAN_TAG_SAMPLED, and the thread page's block count is as if the
 *     block had never been taken from it (one allocation, not two);
 *   - contents survive the move: calloc and mallocx(MALLOCX_ZERO) blocks
 *     are zero, realloc keeps the bytes;
 *   - a sampled block's record is in its page's slot (its first word the
 *     block), the fifth and later in the profiler's table;
 *   - a page that held more sampled blocks than it has slots gets its
 *     overflow count back to 0 once they are freed, so later frees on it
 *     are not all sent to the profiler;
 *   - the profiler's live-sample count follows the blocks exactly.
 */
#include "check.h"

#include "heap.h"
#include "prof.h"
#include "rtree.h"
#include "sizeclass.h"
#include "span.h"

#include <string.h>

#define N 64

const char *malloc_conf = "prof:true,lg_prof_sample:0,prof_prefix:";

static struct span *span_of_block(void *p)
{
    return rtree_value_span(rtree_get((uintptr_t)p), (uintptr_t)p);
}

static struct heap *owner_of(struct span *s)
{
    return (struct heap *)(atomic_load(&s->owner_tag) & ~SPAN_TAG_MASK);
}

int main(void)
{
    bool on = false, off = false, yes = true;
    size_t sz = sizeof(on);
    CHECK(mallctl("opt.prof", &on, &sz, NULL, 0) == 0);
    CHECK(on);
    size_t lg = 0;
    sz = sizeof(lg);
    CHECK(mallctl("opt.lg_prof_sample", &lg, &sz, NULL, 0) == 0);
    CHECK_U(lg, ==, 0);

    /* An unsampled block first: the thread gets its own page for 64 B. */
    CHECK(mallctl("prof.active", NULL, NULL, &off, sizeof(off)) == 0);
    void *keep = malloc(64);
    CHECK_NONNULL(keep);
    struct heap *h = heap_tls;
    struct span *mine = span_of_block(keep);
    CHECK(owner_of(mine) == h);
    uint32_t used0 = span_used(mine);
    uint64_t nmalloc0 = mine->nmalloc;
    CHECK(mallctl("prof.active", NULL, NULL, &yes, sizeof(yes)) == 0);
    uint64_t live0 = site_live_samples();

    void *p[N];
    for (int i = 0; i < N; i++) {
        p[i] = malloc(64);
        CHECK_NONNULL(p[i]);
        memset(p[i], 0xa5, 64);
        struct span *s = span_of_block(p[i]);
        CHECK(s != mine);
        CHECK(owner_of(s) != h);
        CHECK(owner_of(s)->shared);
        CHECK_U(atomic_load(&s->owner_tag) & SPAN_TAG_SAMPLED, ==, 0);
    }
    CHECK_U(site_live_samples() - live0, ==, N);
    /* The thread's page lent each block for a moment and took it back. */
    CHECK_U(span_used(mine), ==, used0);
    CHECK_U(mine->nmalloc, ==, nmalloc0);
    CHECK_U(atomic_load(&mine->owner_tag) & SPAN_TAG_SAMPLED, ==, 0);
    CHECK_U(atomic_load(&mine->nsampled), ==, 0);

    /* N sampled blocks share a shared-heap page: more than its slots. */
    struct span *sh = span_of_block(p[0]);
    unsigned on_sh = 0;
    for (int i = 0; i < N; i++)
        on_sh += span_of_block(p[i]) == sh;
    CHECK_U(on_sh, >, SPAN_SAMPLED_SLOTS);
    CHECK_U(span_nsampled(sh), ==, on_sh);
    CHECK_U(atomic_load(&sh->nsampled) % SPAN_SAMPLED_ONE, ==, SPAN_SAMPLED_ONE - 1);
    CHECK_U(atomic_load(&sh->sampled_overflow), ==, on_sh - SPAN_SAMPLED_SLOTS);
    /* The first SPAN_SAMPLED_SLOTS of them have their records in the
     * slots (a record's first word is its block); the later ones are in
     * the profiler's table (still found: the live count below). */
    for (int k = 0, i = 0; k < SPAN_SAMPLED_SLOTS; k++, i++) {
        while (span_of_block(p[i]) != sh)
            i++;
        CHECK_U(span_slot_block(sh, k), ==, (uintptr_t)p[i]);
        CHECK(span_maybe_sampled(sh, (uintptr_t)p[i]));
    }
    /* Free half, the slotted ones among them, then the rest. */
    for (int i = 0; i < N; i += 2)
        free(p[i]);
    CHECK_U(site_live_samples() - live0, ==, N / 2);
    for (int i = 1; i < N; i += 2)
        free(p[i]);
    CHECK_U(site_live_samples(), ==, live0);
    CHECK_U(atomic_load(&sh->nsampled), ==, 0);
    CHECK_U(atomic_load(&sh->sampled_overflow), ==, 0);
    CHECK(!span_maybe_sampled(sh, (uintptr_t)p[0]));

    /* Contents survive the move. */
    for (int i = 0; i < 8; i++) {
        unsigned char *z = calloc(1, 200);
        CHECK_NONNULL(z);
        for (int k = 0; k < 200; k++)
            CHECK_U(z[k], ==, 0);
        memset(z, 0x5a, 200);
        free(z);
        z = mallocx(96, MALLOCX_ZERO);
        CHECK_NONNULL(z);
        for (int k = 0; k < 96; k++)
            CHECK_U(z[k], ==, 0);
        memset(z, 0x5a, 96);
        dallocx(z, 0);
        unsigned char *r = malloc(40);
        CHECK_NONNULL(r);
        for (int k = 0; k < 40; k++)
            r[k] = (unsigned char)(k * 7 + i);
        r = realloc(r, 300);
        CHECK_NONNULL(r);
        for (int k = 0; k < 40; k++)
            CHECK_U(r[k], ==, (unsigned char)(k * 7 + i));
        free(r);
    }
    CHECK_U(site_live_samples(), ==, live0);
    free(keep);
    return 0;
}
