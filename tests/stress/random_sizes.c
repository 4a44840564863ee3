/*
 * TEST_THREADS threads (default 4) each keep 512 slots and, until the time
 * limit, allocate random sizes from 1 B to 4 MiB (skewed toward small)
 * through every entry point, fill each block with a pattern derived from
 * its address and size, and verify the pattern before freeing or
 * reallocating it. calloc and MALLOCX_ZERO blocks must read zero first;
 * aligned blocks must be aligned; usable size must cover the request.
 * 2.5 s by default, 30 s with TEST_LONG=1 (TEST_SECONDS overrides).
 */
#include "../integration/check.h"

#include <pthread.h>
#include <stdatomic.h>

#define NSLOTS 512

struct slot {
    unsigned char *p;
    size_t n;
    uint64_t key;
    size_t align; /* alignment asked for; sdallocx must pass it again */
};

struct worker {
    pthread_t tid;
    int id;
    uint64_t seed;
    double deadline;
    unsigned long ops;
};

static uint64_t key_of(const void *p, size_t n)
{
    return (uint64_t)(uintptr_t)p * 0x100000001b3ULL ^ (uint64_t)n;
}

/* Allocate n bytes through a random entry point; check the entry point's
 * own promise (zero, alignment). */
static unsigned char *alloc_any(uint64_t *st, size_t n, size_t *alignp)
{
    unsigned char *p = NULL;
    size_t align = 1;
    int zero = 0;
    switch (tl_rand_below(st, 10)) {
    case 0:
        p = calloc(1, n);
        zero = 1;
        break;
    case 1:
        align = (size_t)1 << tl_rand_below(st, 13);
        p = mallocx(n, MALLOCX_ALIGN(align));
        break;
    case 2:
        p = mallocx(n, MALLOCX_ZERO | (tl_rand_below(st, 2) ? MALLOCX_TCACHE_NONE : 0));
        zero = 1;
        break;
    case 3: {
        void *q = NULL;
        align = (size_t)8 << tl_rand_below(st, 10);
        int r = posix_memalign(&q, align, n);
        CHECK_MSG(r == 0, "posix_memalign(%zu, %zu) = %d", align, n, r);
        p = q;
        break;
    }
    case 4:
        align = (size_t)16 << tl_rand_below(st, 6);
        p = aligned_alloc(align, n);
        break;
    default:
        p = malloc(n);
        break;
    }
    CHECK_MSG(p != NULL, "allocation of %zu bytes failed (errno %d)", n, errno);
    CHECK_MSG((uintptr_t)p % align == 0, "%p not aligned to %zu", (void *)p, align);
    CHECK_MSG(malloc_usable_size(p) >= n, "usable %zu < request %zu", malloc_usable_size(p), n);
    if (zero)
        CHECK_ZERO(p, n);
    *alignp = align;
    return p;
}

static void free_any(uint64_t *st, struct slot *s)
{
    switch (tl_rand_below(st, 4)) {
    case 0:
        sdallocx(s->p, s->n, s->align > 1 ? MALLOCX_ALIGN(s->align) : 0);
        break;
    case 1:
        dallocx(s->p, tl_rand_below(st, 4) == 0 ? MALLOCX_TCACHE_NONE : 0);
        break;
    default:
        free(s->p);
        break;
    }
    s->p = NULL;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    uint64_t st = w->seed;
    struct slot *slots = calloc(NSLOTS, sizeof(*slots));
    CHECK_NONNULL(slots);
    unsigned long ops = 0;
    while ((ops & 63) != 0 || tl_now() < w->deadline) {
        struct slot *s = &slots[tl_rand_below(&st, NSLOTS)];
        ops++;
        if (s->p == NULL) {
            s->n = tl_rand_size(&st);
            s->p = alloc_any(&st, s->n, &s->align);
            s->key = key_of(s->p, s->n);
            tl_fill(s->p, s->n, s->key);
            continue;
        }
        CHECK_PATTERN(s->p, s->n, s->key);
        if (tl_rand_below(&st, 4) == 0) {
            /* realloc: the prefix survives, then re-key for the new address. */
            size_t m = tl_rand_size(&st);
            unsigned char *q = realloc(s->p, m);
            CHECK_MSG(q != NULL, "realloc(%zu -> %zu) failed", s->n, m);
            CHECK_PATTERN(q, s->n < m ? s->n : m, s->key);
            s->p = q;
            s->n = m;
            s->align = 1;
            s->key = key_of(q, m);
            tl_fill(q, m, s->key);
        } else {
            free_any(&st, s);
        }
    }
    for (int i = 0; i < NSLOTS; i++) {
        if (slots[i].p) {
            CHECK_PATTERN(slots[i].p, slots[i].n, slots[i].key);
            free(slots[i].p);
        }
    }
    free(slots);
    w->ops = ops;
    return NULL;
}

int main(void)
{
    tl_require_liballoc();
    uint64_t seed = tl_seed("random_sizes");
    int nt = tl_threads();
    double secs = tl_seconds(2.5, 30);
    double deadline = tl_now() + secs;
    struct worker *ws = calloc((size_t)nt, sizeof(*ws));
    CHECK_NONNULL(ws);
    for (int i = 0; i < nt; i++) {
        ws[i].id = i;
        ws[i].seed = seed + (uint64_t)i * 0x632be59bd9b4e019ULL;
        ws[i].deadline = deadline;
        CHECK_I(pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]), ==, 0);
    }
    unsigned long total = 0;
    for (int i = 0; i < nt; i++) {
        CHECK_I(pthread_join(ws[i].tid, NULL), ==, 0);
        CHECK_MSG(ws[i].ops > 0, "thread %d made no progress", i);
        total += ws[i].ops;
    }
    free(ws);
    printf("random_sizes: %d threads, %.1f s, %lu operations\n", nt, secs, total);
    return 0;
}
