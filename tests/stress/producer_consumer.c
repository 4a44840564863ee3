/*
 * Cross-thread frees: TEST_THREADS/2 producers allocate random sizes
 * (1 B - 4 MiB, skewed small), fill them with a pattern derived from the
 * address, size and a sequence number, and pass them through a bounded
 * mutex/condvar queue to TEST_THREADS/2 consumers, which verify each block
 * and free it (free, sdallocx, dallocx, or after a realloc), sometimes
 * holding a batch of up to 64 first. Every produced block is consumed
 * exactly once (counts and checksums of sequence numbers match).
 */
#include "../integration/check.h"

#include <pthread.h>
#include <stdatomic.h>

#define QCAP 1024

struct msg {
    unsigned char *p;
    size_t n;
    uint64_t seq; /* producer id << 40 | counter; 0 = stop */
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    struct msg buf[QCAP];
    size_t head, count;
} q = {.mu = PTHREAD_MUTEX_INITIALIZER,
       .not_empty = PTHREAD_COND_INITIALIZER,
       .not_full = PTHREAD_COND_INITIALIZER};

static void q_push(struct msg m)
{
    pthread_mutex_lock(&q.mu);
    while (q.count == QCAP)
        pthread_cond_wait(&q.not_full, &q.mu);
    q.buf[(q.head + q.count) % QCAP] = m;
    q.count++;
    pthread_cond_signal(&q.not_empty);
    pthread_mutex_unlock(&q.mu);
}

static struct msg q_pop(void)
{
    pthread_mutex_lock(&q.mu);
    while (q.count == 0)
        pthread_cond_wait(&q.not_empty, &q.mu);
    struct msg m = q.buf[q.head];
    q.head = (q.head + 1) % QCAP;
    q.count--;
    pthread_cond_signal(&q.not_full);
    pthread_mutex_unlock(&q.mu);
    return m;
}

static _Atomic uint64_t produced, consumed, prod_sum, cons_sum;
static double deadline;
static uint64_t seed;

static uint64_t key_of(const struct msg *m)
{
    return (uint64_t)(uintptr_t)m->p ^ ((uint64_t)m->n << 32) ^ m->seq * 0x9e3779b97f4a7c15ULL;
}

static void *producer(void *arg)
{
    uint64_t id = (uint64_t)(uintptr_t)arg;
    uint64_t st = seed ^ (id * 0xd1b54a32d192ed03ULL);
    uint64_t n = 0;
    while ((n & 31) != 0 || tl_now() < deadline) {
        struct msg m;
        m.n = tl_rand_size(&st);
        m.seq = (id + 1) << 40 | ++n;
        switch (n % 4) {
        case 0:
            m.p = calloc(1, m.n);
            CHECK_NONNULL(m.p);
            CHECK_ZERO(m.p, m.n);
            break;
        case 1:
            m.p = mallocx(m.n, MALLOCX_TCACHE_NONE);
            break;
        default:
            m.p = malloc(m.n);
            break;
        }
        CHECK_MSG(m.p != NULL, "allocation of %zu failed", m.n);
        tl_fill(m.p, m.n, key_of(&m));
        atomic_fetch_add(&produced, 1);
        atomic_fetch_add(&prod_sum, m.seq);
        q_push(m);
    }
    return NULL;
}

static void release(struct msg *m, uint64_t *st)
{
    CHECK_PATTERN(m->p, m->n, key_of(m));
    atomic_fetch_add(&consumed, 1);
    atomic_fetch_add(&cons_sum, m->seq);
    switch (tl_rand_below(st, 5)) {
    case 0:
        sdallocx(m->p, m->n, 0);
        break;
    case 1:
        dallocx(m->p, 0);
        break;
    case 2: {
        /* realloc a block another thread allocated, then free it */
        size_t k = m->n / 2 + 1;
        uint64_t key = key_of(m);
        unsigned char *r = realloc(m->p, k);
        CHECK_NONNULL(r);
        CHECK_PATTERN(r, k < m->n ? k : m->n, key);
        free(r);
        break;
    }
    default:
        free(m->p);
        break;
    }
}

static void *consumer(void *arg)
{
    uint64_t id = (uint64_t)(uintptr_t)arg;
    uint64_t st = seed ^ (id * 0x8cb92ba72f3d8dd7ULL) ^ 1;
    struct msg held[64];
    int nheld = 0;
    for (;;) {
        struct msg m = q_pop();
        if (m.seq == 0)
            break;
        if (tl_rand_below(&st, 3) == 0 && nheld < 64) {
            held[nheld++] = m; /* free later, in a batch */
            continue;
        }
        release(&m, &st);
        if (nheld == 64 || tl_rand_below(&st, 200) == 0) {
            while (nheld > 0)
                release(&held[--nheld], &st);
        }
    }
    while (nheld > 0)
        release(&held[--nheld], &st);
    return NULL;
}

int main(void)
{
    tl_require_liballoc();
    seed = tl_seed("producer_consumer");
    int nt = tl_threads();
    int np = nt / 2, nc = nt - np;
    double secs = tl_seconds(2.5, 30);
    deadline = tl_now() + secs;
    pthread_t *tp = calloc((size_t)nt, sizeof(*tp));
    CHECK_NONNULL(tp);
    for (int i = 0; i < nc; i++)
        CHECK_I(pthread_create(&tp[np + i], NULL, consumer, (void *)(uintptr_t)i), ==, 0);
    for (int i = 0; i < np; i++)
        CHECK_I(pthread_create(&tp[i], NULL, producer, (void *)(uintptr_t)i), ==, 0);
    for (int i = 0; i < np; i++)
        CHECK_I(pthread_join(tp[i], NULL), ==, 0);
    for (int i = 0; i < nc; i++)
        q_push((struct msg){NULL, 0, 0});
    for (int i = 0; i < nc; i++)
        CHECK_I(pthread_join(tp[np + i], NULL), ==, 0);
    free(tp);
    uint64_t p = atomic_load(&produced), c = atomic_load(&consumed);
    CHECK_MSG(p == c, "produced %" PRIu64 " blocks, consumed %" PRIu64, p, c);
    CHECK_EQ(atomic_load(&prod_sum), atomic_load(&cons_sum));
    CHECK_U(p, >, 0);
    printf("producer_consumer: %d producers, %d consumers, %.1f s, %" PRIu64 " blocks\n", np, nc,
           secs, p);
    return 0;
}
