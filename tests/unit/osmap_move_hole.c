/*
 * osmap_move_hole: the mapping registry (osmap) stays exact when another
 * thread maps the hole a gathering move leaves (huge.c, fill_from_dirty;
 * os.h, os_move_pages) before the donor range is refilled. Layout as in
 * huge_move_lost_zero: one dirty 2 MiB hole, then a 3.5 MiB block placed
 * over clean space gathers its pages. The move is faked: it moves for
 * real, then a second thread maps one page in the hole and registers it
 * as the allocator's own (osmap_add, as os_map_aligned does); the refill
 * then fails and the hole is given up. The registry must end with the
 * donor's 2 MiB gone and that page counted: osmap_mapped changes by
 * exactly -2 MiB + 4 KiB. Before, the removal of the hole could come after
 * the other thread's registration and erase it (-2 MiB), leaving
 * stats.resident blind to a live mapping.
 */
#include "check.h"

#include "os.h"
#include "osmap.h"

#include <pthread.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <time.h>

#define MiB ((size_t)1 << 20)
#define PG  ((size_t)4096)

static struct os_ops real;
static void *hole;
static pthread_t other;
static sem_t mapped, added;

/* Another thread of the allocator mapping the hole. */
static void *map_hole(void *arg)
{
    (void)arg;
    void *q =
        mmap(hole, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    CHECK(q == hole);
    sem_post(&mapped);
    osmap_add((uintptr_t)hole, PG);
    sem_post(&added);
    return NULL;
}

static int move_then_map(void *from, void *to, size_t len)
{
    int err = real.move(from, to, len);
    if (err == 0 && !hole) {
        hole = from;
        CHECK_I(pthread_create(&other, NULL, map_hole, NULL), ==, 0);
        CHECK_I(sem_wait(&mapped), ==, 0);
        /* Give its registration time to land (it waits for the registry
         * if the move holds it). */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        sem_timedwait(&added, &ts);
    }
    return err;
}

int main(void)
{
    free(malloc(1));
    real = os_ops;
    CHECK_I(sem_init(&mapped, 0, 0), ==, 0);
    CHECK_I(sem_init(&added, 0, 0), ==, 0);
    unsigned ar = tl_arena_create();
    int f = MALLOCX_ARENA(ar) | MALLOCX_TCACHE_NONE;
    unsigned char *b[6];
    tl_huge_row(b, f);

    size_t m0 = osmap_mapped();
    os_ops.move = move_then_map;
    unsigned char *big = mallocx(7 * MiB / 2, f);
    os_ops = real;
    CHECK_NONNULL(big);
    CHECK_MSG(hole != NULL, "no move was made: the layout did not gather the hole");
    CHECK_I(pthread_join(other, NULL), ==, 0);
    size_t m1 = osmap_mapped();
    CHECK_MSG(m1 + 2 * MiB == m0 + PG, "registry: %zu KiB -> %zu KiB, not -2 MiB + 4 KiB", m0 >> 10,
              m1 >> 10);

    dallocx(big, f);
    for (int i = 0; i < 6; i++)
        if (i != 1)
            dallocx(b[i], f);
    osmap_remove((uintptr_t)hole, PG);
    munmap(hole, PG);
    printf("osmap_move_hole: ok\n");
    return 0;
}
