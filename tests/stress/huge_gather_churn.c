/*
 * huge_gather_churn: TEST_THREADS threads churn huge blocks (1-12 MiB,
 * sometimes calloc'd, sometimes grown with realloc) in one shared arena
 * (huge_gather_churn.conf: narenas:1), so blocks are placed over mixed
 * runs and gather the pages of other threads' freed runs by mremap
 * (huge.c, fill_from_dirty) while those threads allocate and free next to
 * them. Each block is filled with a pattern of its own (one word per page
 * and its last byte) and checked whole before it is freed; a calloc'd
 * block must read zero on every page first. Runs about 1.5 s. A block
 * that lost or mixed up pages, or a donor range handed out twice, breaks a
 * pattern.
 */
#include "../integration/check.h"

#include <pthread.h>

#define MiB     ((size_t)1 << 20)
#define SLOTS   6
#define PAGE_SZ 4096

static double deadline;

struct blk {
    unsigned char *p; /* block */
    size_t n;         /* bytes written */
    uint64_t key;     /* pattern */
};

/* The last byte carries the pattern too unless a page's word holds it. */
static bool last_byte_free(size_t n)
{
    return (n - 1) % PAGE_SZ >= sizeof(uint64_t);
}

static void fill(struct blk *b)
{
    for (size_t k = 0; k + sizeof(uint64_t) <= b->n; k += PAGE_SZ)
        memcpy(b->p + k, &(uint64_t){b->key ^ k}, sizeof(uint64_t));
    if (last_byte_free(b->n))
        b->p[b->n - 1] = (unsigned char)b->key;
}

static void check(const struct blk *b, size_t upto)
{
    for (size_t k = 0; k + sizeof(uint64_t) <= upto; k += PAGE_SZ) {
        uint64_t v;
        memcpy(&v, b->p + k, sizeof(v));
        CHECK_MSG(v == (b->key ^ k), "block %p: page %zu holds %#llx, not its pattern", (void *)b->p,
                  k / PAGE_SZ, (unsigned long long)v);
    }
    if (upto == b->n && last_byte_free(b->n))
        CHECK_MSG(b->p[b->n - 1] == (unsigned char)b->key, "block %p: last byte changed",
                  (void *)b->p);
}

static void *run(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg * 0x9E3779B97F4A7C15ull + 1;
    struct blk s[SLOTS] = {{0}};
    unsigned long ops = 0;
    while (tl_now() < deadline) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        struct blk *b = &s[rng % SLOTS];
        size_t n = MiB + (size_t)(rng >> 20) % (11 * MiB);
        if (b->p && (rng >> 8) % 4 == 0 && n > b->n) {
            /* Grow: the kept part must survive, the rest is filled anew. */
            check(b, b->n);
            unsigned char *q = realloc(b->p, n);
            CHECK_NONNULL(q);
            b->p = q;
            check(b, b->n);
            b->n = n;
            fill(b);
        } else {
            if (b->p) {
                check(b, b->n);
                free(b->p);
            }
            bool zero = (rng >> 12) % 3 == 0;
            b->p = zero ? calloc(1, n) : malloc(n);
            CHECK_NONNULL(b->p);
            b->n = n;
            if (zero)
                for (size_t k = 0; k < n; k += PAGE_SZ)
                    CHECK_MSG(b->p[k] == 0, "calloc'd block %p: page %zu not zero", (void *)b->p,
                              k / PAGE_SZ);
            b->key = rng;
            fill(b);
        }
        ops++;
    }
    for (int i = 0; i < SLOTS; i++)
        if (s[i].p) {
            check(&s[i], s[i].n);
            free(s[i].p);
        }
    return (void *)ops;
}

int main(void)
{
    tl_require_liballoc();
    int nt = tl_threads();
    pthread_t t[64];
    if (nt > 64)
        nt = 64;
    deadline = tl_now() + 1.5;
    for (int i = 0; i < nt; i++)
        CHECK_I(pthread_create(&t[i], NULL, run, (void *)(uintptr_t)(i + 1)), ==, 0);
    unsigned long ops = 0;
    for (int i = 0; i < nt; i++) {
        void *r;
        pthread_join(t[i], &r);
        ops += (unsigned long)r;
    }
    printf("huge_gather_churn: %d threads, %lu blocks: ok\n", nt, ops);
    return 0;
}
