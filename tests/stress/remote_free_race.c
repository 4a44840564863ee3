/*
 * Remote frees racing the owner's changes of a page's state: a correct
 * program is never told it freed a block twice, and no block it frees is
 * lost.
 *
 * 400 rounds of TEST_THREADS threads each keep 400 slots of random small
 * sizes, replacing a random one at every step. One freed block in two is
 * not freed by its thread but swapped into a shared array of 512 cells,
 * and the block that was there is freed instead: mostly another thread's,
 * so a remote free onto a page its owner is still filling (the page turns
 * full) or that its owner just left (thread exit: the page is abandoned).
 * A remote free's one-CAS push loses such a race now and then and falls
 * back to the general path; before, it left the block marked free on the
 * way, and the general path took the mark for a double free: reported
 * ("free(): double free of ...") and the block leaked: 10 runs of 10
 * failed at 2 and at 8 threads without the fix; an mstress-like program
 * (mimalloc-bench's pattern) reported it in about one run in five.
 *
 * Checks: no allocator message at all (malloc_message counts them), and
 * after the last round, with every block freed, each thread's blocks are
 * back (stats.allocated returns to within 64 KiB of its start).
 */
#include "../integration/check.h"

#include <pthread.h>
#include <stdatomic.h>

#define SLOTS  400
#define CELLS  512
#define ROUNDS 400
#define STEPS  40000

static _Atomic(void *) cells[CELLS];
static atomic_int reports;
static char last[256];

static void message_cb(void *opaque, const char *s)
{
    (void)opaque;
    if (atomic_fetch_add(&reports, 1) == 0)
        snprintf(last, sizeof(last), "%s", s);
}

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void *worker(void *arg)
{
    uint64_t s = (uintptr_t)arg * 0x9e3779b97f4a7c15u + 1;
    void *b[SLOTS] = {0};
    for (int k = 0; k < STEPS; k++) {
        uint64_t r = next(&s);
        int i = (int)(r % SLOTS);
        if (b[i]) {
            if (r % 2 == 0)
                free(atomic_exchange(&cells[(r >> 16) % CELLS], b[i]));
            else
                free(b[i]);
            b[i] = NULL;
        } else {
            size_t n = 8 + (r >> 20) % 512;
            b[i] = malloc(n);
            CHECK(b[i] != NULL);
            memset(b[i], 0x5a, n < 64 ? n : 64);
        }
    }
    for (int i = 0; i < SLOTS; i++)
        free(b[i]);
    return NULL;
}

static size_t allocated(void)
{
    uint64_t epoch = 1;
    size_t sz = sizeof(epoch);
    CHECK(mallctl("epoch", &epoch, &sz, &epoch, sz) == 0);
    return tl_stat_size("stats.allocated");
}

int main(void)
{
    tl_require_liballoc();
    int nthreads = tl_threads();
    if (nthreads < 2)
        nthreads = 2;
    if (nthreads > 16)
        nthreads = 16;
    size_t before = allocated();
    malloc_message = message_cb;
    for (int round = 0; round < ROUNDS; round++) {
        pthread_t t[16];
        for (int i = 0; i < nthreads; i++)
            CHECK(pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(round * 16 + i + 1)) ==
                  0);
        for (int i = 0; i < nthreads; i++)
            CHECK(pthread_join(t[i], NULL) == 0);
    }
    for (int i = 0; i < CELLS; i++)
        free(atomic_exchange(&cells[i], NULL));
    malloc_message = NULL;
    CHECK_MSG(atomic_load(&reports) == 0,
              "%d allocator messages in a correct program, the first: %s", atomic_load(&reports),
              last);
    size_t after = allocated();
    CHECK_MSG(after <= before + (64 << 10),
              "stats.allocated %zu before, %zu after every block was freed", before, after);
    printf("ok: %d threads x %d rounds\n", nthreads, ROUNDS);
    return 0;
}
