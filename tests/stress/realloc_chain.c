/*
 * realloc chains across threads: 256 shared slots, each a block with a
 * length and a key, guarded by a per-slot mutex. TEST_THREADS threads pick
 * random slots and resize the block (realloc, rallocx, or xallocx in
 * place), mostly growing by small steps and sometimes shrinking or
 * jumping, so a block's chain crosses small/large/huge classes while
 * passing through many threads. Before each resize the whole block must
 * hold its pattern; after, the kept prefix must, and the new tail is
 * filled. xallocx must return sallocx and never move the block.
 */
#include "../integration/check.h"

#include <pthread.h>
#include <stdatomic.h>

#define NSLOTS 256
#define MAXLEN ((size_t)6 << 20)

static struct slot {
    pthread_mutex_t mu;
    unsigned char *p;
    size_t n;
    uint64_t key;
    unsigned long resizes;
} slots[NSLOTS];

static uint64_t seed;
static double deadline;
static _Atomic unsigned long total_ops, total_moves;

static size_t next_len(uint64_t *st, size_t n)
{
    switch (tl_rand_below(st, 10)) {
    case 0:
    case 1:
        return n / 2 + 1; /* shrink */
    case 2:
        return tl_rand_size(st); /* jump anywhere */
    default: {
        size_t m = n + 1 + (size_t)tl_rand_below(st, n / 4 + 64); /* grow a little */
        return m > MAXLEN ? n / 8 + 1 : m;
    }
    }
}

static void resize(struct slot *s, uint64_t *st)
{
    CHECK_PATTERN(s->p, s->n, s->key);
    size_t m = next_len(st, s->n);
    size_t keep = s->n < m ? s->n : m;
    unsigned char *q;
    switch (tl_rand_below(st, 4)) {
    case 0: {
        int fl = tl_rand_below(st, 2) ? MALLOCX_ZERO : 0;
        size_t old_u = sallocx(s->p, 0);
        q = rallocx(s->p, m, fl);
        CHECK_MSG(q != NULL, "rallocx(%zu -> %zu) failed", s->n, m);
        if (fl && m > old_u)
            CHECK_ZERO(q + old_u, m - old_u);
        break;
    }
    case 1: {
        size_t u = xallocx(s->p, m, 0, 0);
        CHECK_EQ(u, sallocx(s->p, 0));
        if (u >= m) {
            q = s->p; /* resized in place */
        } else {
            /* not grown in place: the block keeps at least its old size */
            CHECK_U(u, >=, s->n);
            CHECK_PATTERN(s->p, s->n, s->key);
            q = realloc(s->p, m);
            CHECK_NONNULL(q);
        }
        break;
    }
    default:
        q = realloc(s->p, m);
        CHECK_MSG(q != NULL, "realloc(%zu -> %zu) failed", s->n, m);
        break;
    }
    CHECK_PATTERN(q, keep, s->key);
    CHECK_U(malloc_usable_size(q), >=, m);
    if (m > keep)
        tl_fill_range(q, keep, m, s->key);
    if (q != s->p)
        atomic_fetch_add(&total_moves, 1);
    s->p = q;
    s->n = m;
    s->resizes++;
}

static void *worker(void *arg)
{
    uint64_t st = seed ^ tl_mix64((uint64_t)(uintptr_t)arg + 1000);
    unsigned long ops = 0;
    while ((ops & 15) != 0 || tl_now() < deadline) {
        struct slot *s = &slots[tl_rand_below(&st, NSLOTS)];
        pthread_mutex_lock(&s->mu);
        if (tl_rand_below(&st, 200) == 0) {
            /* restart the chain with a fresh block and key */
            CHECK_PATTERN(s->p, s->n, s->key);
            free(s->p);
            s->n = 1 + (size_t)tl_rand_below(&st, 64);
            s->key = tl_rand(&st);
            s->p = malloc(s->n);
            CHECK_NONNULL(s->p);
            tl_fill(s->p, s->n, s->key);
        } else {
            resize(s, &st);
        }
        pthread_mutex_unlock(&s->mu);
        ops++;
    }
    atomic_fetch_add(&total_ops, ops);
    return NULL;
}

int main(void)
{
    tl_require_liballoc();
    seed = tl_seed("realloc_chain");
    int nt = tl_threads();
    double secs = tl_seconds(2.5, 30);
    uint64_t st = seed;
    for (int i = 0; i < NSLOTS; i++) {
        pthread_mutex_init(&slots[i].mu, NULL);
        slots[i].n = 1 + (size_t)tl_rand_below(&st, 32);
        slots[i].key = tl_rand(&st);
        slots[i].p = malloc(slots[i].n);
        CHECK_NONNULL(slots[i].p);
        tl_fill(slots[i].p, slots[i].n, slots[i].key);
    }
    deadline = tl_now() + secs;
    pthread_t *ts = calloc((size_t)nt, sizeof(*ts));
    CHECK_NONNULL(ts);
    for (int i = 0; i < nt; i++)
        CHECK_I(pthread_create(&ts[i], NULL, worker, (void *)(uintptr_t)i), ==, 0);
    for (int i = 0; i < nt; i++)
        CHECK_I(pthread_join(ts[i], NULL), ==, 0);
    free(ts);
    size_t maxlen = 0;
    for (int i = 0; i < NSLOTS; i++) {
        CHECK_PATTERN(slots[i].p, slots[i].n, slots[i].key);
        if (slots[i].n > maxlen)
            maxlen = slots[i].n;
        free(slots[i].p);
    }
    CHECK_U(atomic_load(&total_ops), >, 0);
    printf("realloc_chain: %d threads, %.1f s, %lu resizes, %lu moved, longest block %zu\n", nt,
           secs, atomic_load(&total_ops), atomic_load(&total_moves), maxlen);
    return 0;
}
