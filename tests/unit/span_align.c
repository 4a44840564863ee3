/*
 * span_align: every span descriptor's fast-path fields lie by cache line
 * as span.h lays them out: what every free reads (owner_tag .. lcached) in
 * one line, what the owner writes on every malloc (free .. nmalloc) in one
 * line of its own, and the remote-free stack (thread_free) in a third.
 * Descriptors are handed out from arrays (arena.c); at 240 bytes each,
 * three in four straddled two lines and malloc and free missed twice on a
 * cold one (mixed_working_set). With the owner's counters in the line a
 * remote free reads, that line moved between CPUs on every free
 * (xthread-2t took twice as long).
 */
#include "check.h"

#include <stddef.h>
#include "config.h"
#include "rtree.h"
#include "sizeclass.h"
#include "span.h"

#define NBLOCKS 256

static struct span *span_of(void *p)
{
    return rtree_value_span(rtree_get((uintptr_t)p), (uintptr_t)p);
}

#define LINE(p) ((uintptr_t)(p) >> 6)

/* 1 if s's fields lie in their three lines. */
static int one_line(const struct span *s)
{
    uintptr_t read = LINE(&s->owner_tag), owner = LINE(&s->free), remote = LINE(&s->thread_free);
    return read == LINE(&s->lcached) && read == LINE(&s->block_size) && read == LINE(&s->div_limit) &&
           owner == LINE((const char *)&s->nmalloc + sizeof(s->nmalloc) - 1) && owner == LINE(&s->nfree) &&
           owner != read && remote != read && remote != owner && remote == LINE(&s->nsampled);
}

int main(void)
{
    static void *blocks[NBLOCKS];
    unsigned spans = 0, split = 0;
    /* 32 KiB blocks: a slab of a few blocks each, so a few dozen pages and
     * their descriptors (more than one descriptor per cache line's worth of
     * misalignment pattern); then large blocks, one descriptor each. */
    for (int i = 0; i < NBLOCKS; i++) {
        size_t size = i < NBLOCKS / 2 ? 32768 : 64 * 1024 + (size_t)i * 4096;
        blocks[i] = malloc(size);
        CHECK_NONNULL(blocks[i]);
        memset(blocks[i], 1, 64);
    }
    struct span *last = NULL;
    for (int i = 0; i < NBLOCKS; i++) {
        struct span *s = span_of(blocks[i]);
        CHECK_NONNULL(s);
        if (s == last)
            continue;
        last = s;
        spans++;
        CHECK_I((uintptr_t)s & 63, ==, 0);
        split += !one_line(s);
    }
    CHECK_I(offsetof(struct span, thread_free), ==, 128);
    CHECK_I(sizeof(struct span) % 64, ==, 0);
    CHECK_I(split, ==, 0);
    CHECK_I(spans, >=, NBLOCKS / 2);
    for (int i = 0; i < NBLOCKS; i++)
        free(blocks[i]);
    printf("span_align: %u descriptors, ok\n", spans);
    return 0;
}
