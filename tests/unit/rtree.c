/*
 * rtree: the chunk-address -> metadata map (liballoc/rtree.c).
 *   - set/get over chunk addresses: any address inside a chunk reads the
 *     chunk's value; the neighbouring chunks (and the last chunk of the
 *     previous leaf, the first of the next) stay 0; "remove" (set 0) clears
 *     exactly that chunk; addresses at or above 2^48 are refused (ENOMEM);
 *   - the allocator's own blocks resolve to a non-zero value (a chunk, or a
 *     huge block's span tagged with bit 0) and an address that is not ours
 *     to 0;
 *   - concurrent readers with a writer: readers see 0 or the exact value the
 *     writer stored, never another;
 *   - writers racing to install the same fresh leaf: every value lands (the
 *     loser of the compare-and-swap writes into the winner's leaf).
 * Test addresses lie in [2^46, 2^47), which the kernel does not hand out to
 * mmap without a hint; each is checked to read 0 before use.
 */
#include "check.h"

#include "rtree.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#define LEAF_SPAN ((uintptr_t)CHUNK << RTREE_LEAF_BITS) /* bytes one leaf covers */
#define BASE_ADDR ((uintptr_t)1 << 46)

static uintptr_t val(uintptr_t chunk_addr, unsigned gen)
{
    return (chunk_addr | 8) + gen * 16; /* distinct per chunk and generation, never 0 */
}

/* ---- concurrent readers with one writer ---- */

#define RW_CHUNKS 4096
static atomic_bool rw_done;
static uintptr_t rw_base;
static atomic_ulong rw_reads, rw_hits;
static atomic_int rw_started; /* readers that finished one pass: the writer waits for all */

static void *rw_reader(void *arg)
{
    (void)arg;
    unsigned long reads = 0, hits = 0;
    for (bool first = true; !atomic_load(&rw_done); first = false) {
        if (!first && reads == RW_CHUNKS)
            atomic_fetch_add(&rw_started, 1);
        for (uintptr_t i = 0; i < RW_CHUNKS; i++) {
            uintptr_t a = rw_base + i * CHUNK + (i * 4096) % CHUNK;
            uintptr_t v = rtree_get(a);
            reads++;
            if (v == 0)
                continue;
            hits++;
            /* The writer stores generation 0 then 1 then 2 for each chunk. */
            uintptr_t c = rw_base + i * CHUNK;
            CHECK_MSG(v == val(c, 0) || v == val(c, 1) || v == val(c, 2),
                      "chunk %#lx read %#lx", (unsigned long)c, (unsigned long)v);
        }
    }
    atomic_fetch_add(&rw_reads, reads);
    atomic_fetch_add(&rw_hits, hits);
    return NULL;
}

/* ---- writers racing for one fresh leaf ---- */

#define RACE_THREADS 8
#define RACE_PER     64
static uintptr_t race_base;
static pthread_barrier_t race_bar;

static void *race_writer(void *arg)
{
    uintptr_t t = (uintptr_t)arg;
    pthread_barrier_wait(&race_bar);
    for (uintptr_t i = 0; i < RACE_PER; i++) {
        uintptr_t c = race_base + (i * RACE_THREADS + t) * CHUNK;
        CHECK_I(rtree_set(c, val(c, 7)), ==, 0);
    }
    return NULL;
}

int main(void)
{
    void *mine = malloc(100), *big = malloc(8 << 20);
    CHECK_NONNULL(mine);
    CHECK_NONNULL(big);

    /* The allocator's own chunks are mapped; a stack address is not. */
    CHECK_U(rtree_get((uintptr_t)mine), !=, 0);
    CHECK_U(rtree_get((uintptr_t)mine) & 1, ==, 0); /* a chunk cut into spans */
    CHECK_U(rtree_get((uintptr_t)big) & 1, ==, 1);  /* the first chunk of a huge block */
    int local;
    CHECK_U(rtree_get((uintptr_t)&local), ==, 0);
    CHECK_U(rtree_get(0), ==, 0);

    /* A chunk at the end of one leaf and one at the start of the next. */
    uintptr_t leaf0 = BASE_ADDR + 3 * LEAF_SPAN;
    uintptr_t last = leaf0 - CHUNK, first = leaf0, mid = leaf0 + 100 * CHUNK;
    uintptr_t probes[] = {last - CHUNK, last, first, first + CHUNK, mid - CHUNK, mid, mid + CHUNK};
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
        CHECK_U(rtree_get(probes[i]), ==, 0);
    CHECK_I(rtree_set(last, val(last, 0)), ==, 0);
    CHECK_I(rtree_set(first, val(first, 0)), ==, 0);
    CHECK_I(rtree_set(mid + 12345, val(mid, 0)), ==, 0); /* any address in the chunk */
    CHECK_U(rtree_get(last), ==, val(last, 0));
    CHECK_U(rtree_get(last + CHUNK - 1), ==, val(last, 0));
    CHECK_U(rtree_get(first), ==, val(first, 0));
    CHECK_U(rtree_get(first + CHUNK - 1), ==, val(first, 0));
    CHECK_U(rtree_get(mid), ==, val(mid, 0));
    CHECK_U(rtree_get(mid + CHUNK / 2), ==, val(mid, 0));
    /* Neighbours untouched. */
    CHECK_U(rtree_get(last - 1), ==, 0);
    CHECK_U(rtree_get(first + CHUNK), ==, 0);
    CHECK_U(rtree_get(mid - 1), ==, 0);
    CHECK_U(rtree_get(mid + CHUNK), ==, 0);
    /* The same leaf index one root slot away is another chunk. */
    CHECK_U(rtree_get(mid + LEAF_SPAN), ==, 0);
    CHECK_U(rtree_get(mid - LEAF_SPAN), ==, 0);
    /* Overwrite, then remove: only that chunk changes. */
    CHECK_I(rtree_set(mid, val(mid, 1)), ==, 0);
    CHECK_U(rtree_get(mid + 1), ==, val(mid, 1));
    CHECK_I(rtree_set(mid, 0), ==, 0);
    CHECK_U(rtree_get(mid), ==, 0);
    CHECK_U(rtree_get(last), ==, val(last, 0));
    CHECK_U(rtree_get(first), ==, val(first, 0));
    CHECK_I(rtree_set(last, 0), ==, 0);
    CHECK_I(rtree_set(first, 0), ==, 0);
    CHECK_U(rtree_get(first), ==, 0);

    /* The top of the 48-bit space works; beyond it is refused. */
    uintptr_t top = ((uintptr_t)1 << 48) - CHUNK;
    CHECK_I(rtree_set(top, val(top, 0)), ==, 0);
    CHECK_U(rtree_get(top + CHUNK - 1), ==, val(top, 0));
    CHECK_I(rtree_set(top, 0), ==, 0);
    CHECK_I(rtree_set((uintptr_t)1 << 48, 1), ==, ENOMEM);
    CHECK_I(rtree_set(~(uintptr_t)0, 1), ==, ENOMEM);
    /* The allocator's own mappings were not disturbed. */
    CHECK_U(rtree_get((uintptr_t)mine), !=, 0);

    /* Concurrent readers with a writer (over two leaves). */
    rw_base = BASE_ADDR + 8 * LEAF_SPAN - (RW_CHUNKS / 2) * CHUNK;
    for (uintptr_t i = 0; i < RW_CHUNKS; i++)
        CHECK_U(rtree_get(rw_base + i * CHUNK), ==, 0);
    pthread_t rd[3];
    for (int i = 0; i < 3; i++)
        CHECK_I(pthread_create(&rd[i], NULL, rw_reader, NULL), ==, 0);
    while (atomic_load(&rw_started) < 3)
        sched_yield();
    for (unsigned gen = 0; gen < 3; gen++)
        for (uintptr_t i = 0; i < RW_CHUNKS; i++) {
            uintptr_t c = rw_base + i * CHUNK;
            CHECK_I(rtree_set(c, val(c, gen)), ==, 0);
        }
    atomic_store(&rw_done, true);
    for (int i = 0; i < 3; i++)
        pthread_join(rd[i], NULL);
    for (uintptr_t i = 0; i < RW_CHUNKS; i++) {
        uintptr_t c = rw_base + i * CHUNK;
        CHECK_U(rtree_get(c + CHUNK - 8), ==, val(c, 2));
    }
    CHECK_U(atomic_load(&rw_reads), >=, 3 * RW_CHUNKS);
    printf("readers: %lu reads, %lu hits, all consistent\n", atomic_load(&rw_reads),
           atomic_load(&rw_hits));

    /* Writers racing for fresh leaves: repeated on several untouched leaves
     * so the compare-and-swap race really happens. */
    for (unsigned round = 0; round < 200; round++) {
        race_base = BASE_ADDR + (20 + round) * LEAF_SPAN;
        CHECK_U(rtree_get(race_base), ==, 0);
        pthread_t w[RACE_THREADS];
        CHECK_I(pthread_barrier_init(&race_bar, NULL, RACE_THREADS), ==, 0);
        for (uintptr_t t = 0; t < RACE_THREADS; t++)
            CHECK_I(pthread_create(&w[t], NULL, race_writer, (void *)t), ==, 0);
        for (int t = 0; t < RACE_THREADS; t++)
            pthread_join(w[t], NULL);
        pthread_barrier_destroy(&race_bar);
        for (uintptr_t i = 0; i < RACE_THREADS * RACE_PER; i++) {
            uintptr_t c = race_base + i * CHUNK;
            CHECK_MSG(rtree_get(c) == val(c, 7), "round %u: chunk %lu of the raced leaf lost its value",
                      round, (unsigned long)i);
        }
    }

    free(mine);
    free(big);
    printf("ok\n");
    return 0;
}
