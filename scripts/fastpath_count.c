/*
 * fastpath_count: the program scripts/fastpath_count.sh steps through under
 * gdb to count the instructions the allocator's entry points execute on
 * their common path. It links no allocator: the script preloads the library
 * to measure.
 *
 * Warm-up first, so the measured calls are the common case: the thread's
 * heap exists, the size class has a current page with free blocks, the PLT
 * slots are bound, and one block (keep) stays live on that page so a free
 * never empties it (an emptied page takes the page-retire branch). Then
 * ROUNDS times:
 *   fastpath_begin(); malloc(SIZE); realloc(p, SIZE - 8) (the same class:
 *   a string grown or shrunk inside its block); free(p); fastpath_end();
 * and, when the preloaded library defines the C++ operators (looked up by
 * their mangled names, so this C program needs no libstdc++):
 *   fastpath_begin_cxx(); operator new(SIZE); operator delete(p, SIZE)
 *   (the sized form a C++14 delete-expression calls); fastpath_end().
 * Then ROUNDS times each:
 *   fastpath_begin_remote(); free(q): q is a SIZE block another thread
 *   allocated, on a page that thread still uses (it waits, alive, until
 *   the rounds are over): the remote free (producer/consumer);
 *   fastpath_begin_large(); malloc(LARGE); free(p): a large block the
 *   thread's cache keeps, served from it again.
 * The script takes the minimum over rounds, so a round that happens to
 * cross a sampling or decay-tick event does not count.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>

#define SIZE        64
#define LARGE       65536
#define WARMUP      1000
#define REMOTE_WARM 8  /* remote frees before the measured ones */
#define REMOTE_MAX  64 /* blocks the other thread allocates (rounds + warm-up at most) */

/* Calls the script breaks on: a round of the C entry points, of the C++
 * operators, and the end of either. */
__attribute__((noinline)) void fastpath_begin(void)
{
    __asm__ volatile("" : : : "memory");
}

__attribute__((noinline)) void fastpath_begin_cxx(void)
{
    __asm__ volatile("" : : : "memory");
}

__attribute__((noinline)) void fastpath_begin_remote(void)
{
    __asm__ volatile("" : : : "memory");
}

__attribute__((noinline)) void fastpath_begin_large(void)
{
    __asm__ volatile("" : : : "memory");
}

__attribute__((noinline)) void fastpath_end(void)
{
    __asm__ volatile("" : : : "memory");
}

static void *(*op_new)(size_t);
static void (*op_delete_sized)(void *, size_t);

/* One round of each; 0, or 1 when an allocation failed. */
static int round_c(int measured)
{
    if (measured)
        fastpath_begin();
    char *p = malloc(SIZE);
    if (!p)
        return 1;
    *(volatile char *)p = 1;
    p = realloc(p, SIZE - 8);
    if (!p)
        return 1;
    *(volatile char *)p = 1;
    free(p);
    if (measured)
        fastpath_end();
    return 0;
}

static int round_cxx(int measured)
{
    if (!op_new || !op_delete_sized)
        return 0;
    if (measured)
        fastpath_begin_cxx();
    char *p = op_new(SIZE);
    *(volatile char *)p = 1;
    op_delete_sized(p, SIZE);
    if (measured)
        fastpath_end();
    return 0;
}

static int round_large(int measured)
{
    if (measured)
        fastpath_begin_large();
    char *p = malloc(LARGE);
    if (!p)
        return 1;
    *(volatile char *)p = 1;
    free(p);
    if (measured)
        fastpath_end();
    return 0;
}

/* The other thread: allocates the blocks main frees, then stays alive (its
 * page in use) until main is done. */
static void *remote_blocks[REMOTE_MAX];
static int remote_n;
static pthread_barrier_t remote_ready, remote_done;

static void *remote_owner(void *arg)
{
    (void)arg;
    void *keep = malloc(SIZE);
    for (int i = 0; i < remote_n; i++)
        remote_blocks[i] = malloc(SIZE);
    pthread_barrier_wait(&remote_ready);
    pthread_barrier_wait(&remote_done);
    free(keep);
    return NULL;
}

static int rounds_remote(int rounds)
{
    remote_n = REMOTE_WARM + rounds;
    if (remote_n > REMOTE_MAX)
        return 1;
    pthread_t t;
    pthread_barrier_init(&remote_ready, NULL, 2);
    pthread_barrier_init(&remote_done, NULL, 2);
    if (pthread_create(&t, NULL, remote_owner, NULL) != 0)
        return 1;
    pthread_barrier_wait(&remote_ready);
    for (int i = 0; i < remote_n; i++) {
        if (!remote_blocks[i])
            return 1;
        if (i >= REMOTE_WARM)
            fastpath_begin_remote();
        free(remote_blocks[i]);
        if (i >= REMOTE_WARM)
            fastpath_end();
    }
    pthread_barrier_wait(&remote_done);
    pthread_join(t, NULL);
    return 0;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    /* operator new(unsigned long), operator delete(void *, unsigned long). */
    op_new = (void *(*)(size_t))dlsym(RTLD_DEFAULT, "_Znwm");
    op_delete_sized = (void (*)(void *, size_t))dlsym(RTLD_DEFAULT, "_ZdlPvm");
    void *keep = malloc(SIZE);
    if (!keep)
        return 1;
    for (int i = 0; i < WARMUP; i++)
        if (round_c(0) || round_cxx(0) || round_large(0))
            return 1;
    for (int i = 0; i < rounds; i++) {
        if (round_c(1) || round_cxx(1))
            return 1;
        /* At full speed first: the single-stepped rounds take long enough
         * that the decay tick's interval shrinks to its least (heap.c), and
         * a cached large block counts in part toward it. */
        for (int k = 0; k < WARMUP; k++)
            if (round_large(0))
                return 1;
        if (round_large(1))
            return 1;
    }
    if (rounds_remote(rounds))
        return 1;
    free(keep);
    return 0;
}
