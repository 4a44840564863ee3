/*
 * lcache_defer: a signal handler's free that lands while its thread is
 * inside the cached large malloc or free (heap.c: the cache's pop or push
 * between defer_enter and the leave) is deferred (defer.h), and runs when
 * the interrupted call leaves the section, through the cached paths'
 * out-of-line drains (large_hit_slow, large_cached_drain). A CPU-time
 * timer interrupts a loop of 64 KiB malloc/free pairs the thread's cache
 * serves; its handler frees one 64 KiB block of a pool per signal and
 * notes whether that free was deferred (defer_busy). After 20 deferred
 * frees (at most 20 s of CPU time):
 *   - no call returns with a block left on the deferred list (each is
 *     freed before the interrupted call returns), and no section is left
 *     open;
 *   - the thread's deallocated bytes grew by exactly 64 KiB per free, the
 *     loop's and the handler's (each deferred free counted once, when it
 *     ran), and its allocated bytes by 64 KiB per malloc;
 *   - the thread's cache holds what its counters say (flush then: no
 *     block, no byte left).
 */
#include "check.h"

#include "defer.h"
#include "heap.h"
#include "tcache.h"

#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define SIZE     ((size_t)64 << 10)
#define POOL     2048
#define DEFERRED 20

static void *pool[POOL];
static volatile unsigned next_victim, deferred;

static void handler(int sig)
{
    (void)sig;
    if (next_victim == POOL)
        return;
    if (defer_busy())
        deferred++;
    free(pool[next_victim]);
    next_victim++;
}

int main(void)
{
    for (unsigned i = 0; i < POOL; i++) {
        pool[i] = malloc(SIZE);
        CHECK_NONNULL(pool[i]);
    }
    struct heap *h = heap_tls;
    CHECK(h != &heap_empty && h->tcache);
    CHECK_U(SIZE, <=, tcache_large_max);
    uint64_t alloc0 = h->allocated, dealloc0 = h->deallocated;

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    CHECK(sigaction(SIGPROF, &sa, NULL) == 0);
    struct itimerval it = {{0, 200}, {0, 200}}; /* as often as the kernel delivers */
    CHECK(setitimer(ITIMER_PROF, &it, NULL) == 0);
    uint64_t loops = 0;
    unsigned stale = 0; /* calls that returned with blocks still deferred */
    while (deferred < DEFERRED && next_victim < POOL && clock() < 20 * CLOCKS_PER_SEC) {
        for (int k = 0; k < 1000; k++) {
            char *p = malloc(SIZE);
            stale += defer_tls.list != NULL;
            CHECK_NONNULL(p);
            p[0] = 1;
            free(p);
            stale += defer_tls.list != NULL;
        }
        loops += 1000;
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    CHECK(setitimer(ITIMER_PROF, &off, NULL) == 0);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPROF);
    CHECK(sigprocmask(SIG_BLOCK, &set, NULL) == 0); /* a signal still pending waits */

    unsigned freed = next_victim;
    uint64_t allocated = h->allocated - alloc0, deallocated = h->deallocated - dealloc0;
    printf("%llu malloc/free pairs, %u handler frees, %u of them deferred\n",
           (unsigned long long)loops, freed, deferred);
    CHECK_MSG(deferred > 0, "no handler free landed inside a cached malloc or free");
    CHECK_MSG(stale == 0, "%u calls returned with deferred blocks not freed", stale);
    CHECK_U(defer_tls.depth, ==, 0);
    CHECK_MSG(defer_tls.list == NULL, "blocks left on the deferred list");
    CHECK_U(allocated, ==, loops * SIZE);
    CHECK_U(deallocated, ==, (loops + freed) * SIZE);

    size_t in_cache = 0;
    for (unsigned c = 0; c < LCACHE_NCLASSES; c++)
        for (unsigned i = 0; i < h->large.n[c]; i++)
            in_cache += h->large.bin[c][i]->usize;
    CHECK_U(in_cache, ==, h->large.bytes);
    tcache_large_flush(h);
    CHECK_U(h->large.bytes, ==, 0);
    for (unsigned i = freed; i < POOL; i++)
        free(pool[i]);
    printf("lcache_defer: ok\n");
    return 0;
}
