/*
 * fault_random: randomised fault runs (issue 17 point 3). THREADS threads
 * (2) each do OPS operations (malloc, calloc, realloc, posix_memalign,
 * aligned_alloc, mallocx, rallocx, xallocx, free, sized dallocx, purges)
 * on mixed sizes while debug.fault fails mmap and madvise calls at random
 * with probability 1/ONE_IN. Every block's contents are checked before it
 * is freed or resized; calloc and MALLOCX_ZERO memory must read zero; a
 * failure must be the documented one (NULL + ENOMEM, ENOMEM returned, the
 * old block intact). After the run, faults off: everything held is checked
 * and freed and the allocator must serve every size again.
 *   fault_random SEED OPS [ONE_IN]
 * Prints the operations, failures seen and faults injected.
 */
#include "fault_common.h"

#include <pthread.h>
#include <stdatomic.h>

#define SLOTS 2048
#define THREADS 2

static uint64_t ops_per_thread;
static atomic_long nfail, nops;

struct slot {
    unsigned char *p;
    size_t n;
    unsigned char tag;
};

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void sfill(struct slot *s)
{
    for (size_t i = 0; i < s->n; i = i < 64 || i + 64 >= s->n ? i + 1 : i + 1024)
        s->p[i] = (unsigned char)(s->tag + i);
}

static void scheck(const struct slot *s, const char *when)
{
    for (size_t i = 0; i < s->n; i = i < 64 || i + 64 >= s->n ? i + 1 : i + 1024)
        CHECK_MSG(s->p[i] == (unsigned char)(s->tag + i), "block %p (%zu bytes) changed at %zu (%s)",
                  (void *)s->p, s->n, i, when);
}

static size_t rsize(uint64_t *r)
{
    uint64_t k = rnd(r) % 100;
    if (k < 60)
        return 1 + rnd(r) % 512;
    if (k < 90)
        return 513 + rnd(r) % 60000;
    if (k < 98)
        return 60000 + rnd(r) % (2 << 20);
    return (2 << 20) + rnd(r) % (12 << 20);
}

static void zeroed(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i = i < 4096 ? i + 1 : i + 997)
        CHECK_MSG(p[i] == 0, "zeroed block %p (%zu bytes) has 0x%02x at %zu", (void *)p, n, p[i], i);
}

/* The workers start together once the faults are armed: armed before
 * pthread_create, an injected failure of the C library's own allocation
 * for a new thread (its TLS, through our calloc) made pthread_create fail
 * with EAGAIN, rightly, and the run with it. */
static pthread_barrier_t start;

static void *worker(void *arg)
{
    pthread_barrier_wait(&start);
    uint64_t r = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ULL + 1;
    static __thread struct slot slots[SLOTS];
    for (uint64_t op = 0; op < ops_per_thread; op++) {
        struct slot *s = &slots[rnd(&r) % SLOTS];
        uint64_t what = rnd(&r) % 100;
        if (s->p && what < 40) {
            scheck(s, "before free");
            if (what < 20)
                free(s->p);
            else
                sdallocx(s->p, s->n, 0);
            s->p = NULL;
        } else if (s->p && what < 60) {
            scheck(s, "before resize");
            size_t n = rsize(&r);
            size_t keep = n < s->n ? n : s->n;
            if (what < 50) {
                errno = 0;
                unsigned char *q = realloc(s->p, n);
                if (!q) {
                    CHECK_I(errno, ==, ENOMEM);
                    scheck(s, "after a failed realloc");
                    atomic_fetch_add(&nfail, 1);
                    continue;
                }
                s->p = q;
            } else if (what < 56) {
                unsigned char *q = rallocx(s->p, n, 0);
                if (!q) {
                    scheck(s, "after a failed rallocx");
                    atomic_fetch_add(&nfail, 1);
                    continue;
                }
                s->p = q;
            } else {
                size_t got = xallocx(s->p, n, 0, 0);
                CHECK_U(got, >=, keep);
                if (got < n) {
                    scheck(s, "after xallocx could not resize");
                    continue;
                }
            }
            /* The kept prefix is intact; refill the new size. */
            for (size_t i = 0; i < keep && i < 64; i++)
                CHECK_MSG(s->p[i] == (unsigned char)(s->tag + i), "resize lost byte %zu", i);
            s->n = n;
            sfill(s);
        } else if (!s->p && what < 95) {
            size_t n = rsize(&r);
            void *p = NULL;
            int kind = (int)(rnd(&r) % 6);
            errno = 0;
            switch (kind) {
            case 0: p = malloc(n); break;
            case 1: p = calloc(1, n); break;
            case 2: {
                int e = posix_memalign(&p, 64, n);
                if (e) {
                    CHECK_I(e, ==, ENOMEM);
                    p = NULL;
                    errno = ENOMEM;
                }
                break;
            }
            case 3: p = aligned_alloc(256, (n + 255) & ~(size_t)255); break;
            case 4: p = mallocx(n, MALLOCX_ZERO); errno = p ? 0 : ENOMEM; break;
            default: p = mallocx(n, MALLOCX_ALIGN(4096)); errno = p ? 0 : ENOMEM; break;
            }
            if (!p) {
                CHECK_MSG(errno == ENOMEM, "allocation of %zu (kind %d) failed with errno %d", n, kind,
                          errno);
                atomic_fetch_add(&nfail, 1);
                continue;
            }
            if (kind == 1 || kind == 4)
                zeroed(p, n);
            s->p = p;
            s->n = n;
            s->tag = (unsigned char)rnd(&r);
            sfill(s);
        } else if (what >= 97) {
            /* Purges and decay: madvise calls that may fail. */
            char name[64];
            snprintf(name, sizeof(name), "arena.%u.%s", (unsigned)MALLCTL_ARENAS_ALL,
                     what == 99 ? "purge" : "decay");
            CHECK_I(mallctl(name, NULL, NULL, NULL, 0), ==, 0);
        }
        atomic_fetch_add_explicit(&nops, 1, memory_order_relaxed);
    }
    /* Faults are still on: checks, then free everything. */
    for (int i = 0; i < SLOTS; i++)
        if (slots[i].p) {
            scheck(&slots[i], "at the end");
            free(slots[i].p);
            slots[i].p = NULL;
        }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: fault_random SEED OPS [ONE_IN]\n");
        return 2;
    }
    uint64_t seed = strtoull(argv[1], NULL, 0);
    ops_per_thread = strtoull(argv[2], NULL, 0);
    uint32_t one_in = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 0) : 8;
    pthread_t th[THREADS];
    CHECK_I(pthread_barrier_init(&start, NULL, THREADS + 1), ==, 0);
    for (int i = 0; i < THREADS; i++)
        CHECK_I(pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)(seed * 16 + (uint64_t)i)), ==, 0);
    fault_arm(FAULT_MAP | FAULT_PURGE, 0, 0, one_in, seed);
    pthread_barrier_wait(&start);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    uint64_t injected = fault_disarm();
    /* Everything works again. */
    static const size_t sz[] = {8, 4000, 100000, 3 << 20, 20 << 20};
    for (unsigned i = 0; i < sizeof(sz) / sizeof(sz[0]); i++) {
        unsigned char *p = calloc(1, sz[i]);
        CHECK_MSG(p != NULL, "calloc(%zu) fails after the faults stopped", sz[i]);
        zeroed(p, sz[i]);
        free(p);
    }
    printf("fault_random seed %" PRIu64 ": %ld operations, %ld failed calls, %" PRIu64
           " faults injected (1 in %u): PASS\n",
           seed, atomic_load(&nops), atomic_load(&nfail), injected, one_in);
    CHECK_MSG(injected > 0, "no fault was injected");
    return 0;
}
