/*
 * alloc_signal_create: a signal handler allocates while the thread it
 * interrupted is creating its own heap (its first malloc): the os seam's
 * map wrapper raises the signal from inside the mapping base makes, under
 * its lock, for a thread that has no heap yet. The test fills base's
 * current block (base_alloc) so that the allocation it wants crosses it.
 * Two phases:
 *   0. base's lock only: the new heap itself comes from base (block full);
 *   1. the arena list's lock too: the thread's heap is a recycled one and
 *      its arena a new one, whose descriptor crosses the block (arena_get:
 *      arena_new's base_alloc; a page left). First three threads exit
 *      (their heaps recycled; they move to arena 0 so the arena they took
 *      stays free), then two start and stay: the first takes that free
 *      arena, the second a new one, and a recycled heap is left for a
 *      handler.
 *
 * Before the fix (phase 0) the handler's malloc waited for base's lock,
 * which its own thread held, forever (the alarm fails the test):
 * base_alloc waited whenever at most one counted lock was held. Now
 * base_alloc returns NULL to a handler that interrupted its own thread
 * inside base, and a handler inside its thread's heap creation gets no
 * heap (heap.c, heap_create): its malloc is served cache-less from a
 * shared heap or fails with ENOMEM, and the interrupted thread's heap is
 * created as usual. Without that guard (phase 1) the handler took the
 * recycled heap and made it the thread's (the thread's own creation then
 * replaced it: a heap lost, its thread counted twice); before arena_choose
 * took no lock it waited there for the arena list's lock.
 */
#include "check.h"

#include "base.h"
#include "heap.h"
#include "lock_depth.h"
#include "os.h"
#include "signal_in_lock.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

const char *malloc_conf = "background_thread:false,narenas:16";

enum { MAX_THREADS = 8, NEXIT = 3 };

static struct os_ops real;
static volatile int armed, fired, h_ok, h_heapless;
static volatile unsigned want_depth; /* counted locks held at the mapping that raises */
static unsigned h_depth;
static pthread_mutex_t hold = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_cv = PTHREAD_COND_INITIALIZER;
static int released, exits_released;
static _Atomic int first_done, exit_ready;
static __thread bool may_raise; /* a thread whose heap creation the signal may interrupt */
static pthread_t main_thread;
static volatile int main_maps;   /* mappings the main thread made */

/* The thread's heap, read afresh (the compiler takes malloc to leave
 * globals alone). */
static struct heap *cur_heap(void)
{
    return *(struct heap *volatile *)&heap_tls;
}

static int w_map(size_t size, void **out)
{
    if (pthread_equal(pthread_self(), main_thread))
        main_maps++;
    /* base maps a new block while this thread creates its heap */
    if (armed && may_raise && cur_heap() == &heap_empty && lock_depth == want_depth) {
        armed = 0;
        raise(SIGUSR1); /* this thread's first malloc, base's lock held */
    }
    return real.map(size, out);
}

static void handler(int sig)
{
    (void)sig;
    h_depth = lock_depth;
    char *volatile p = malloc(100);
    if (p) {
        memset(p, 7, 100);
        free(p); /* deferred: the thread is inside its heap creation */
    }
    h_heapless = cur_heap() == &heap_empty; /* no heap given inside the creation */
    h_ok = 1; /* returned, NULL or a block */
    fired = 1;
}

static void wait_released(int *flag)
{
    pthread_mutex_lock(&hold);
    while (!*flag)
        pthread_cond_wait(&hold_cv, &hold);
    pthread_mutex_unlock(&hold);
}

static void release(int *flag)
{
    pthread_mutex_lock(&hold);
    *flag = 1;
    pthread_cond_broadcast(&hold_cv);
    pthread_mutex_unlock(&hold);
}

/* A thread's first malloc creates its heap (and takes an arena); then it
 * waits. */
static void *worker(void *arg)
{
    may_raise = arg != NULL;
    char *volatile p = malloc(64);
    CHECK_NONNULL(p);
    p[0] = 1;
    CHECK(cur_heap() != &heap_empty);
    free(p);
    first_done++;
    wait_released(&released);
    return NULL;
}

/* Phase 1's exiting thread: a heap, moved to arena 0, recycled at exit. */
static void *exiting(void *arg)
{
    (void)arg;
    char *volatile p = malloc(64);
    CHECK_NONNULL(p);
    free(p);
    unsigned zero = 0;
    CHECK(mallctl("thread.arena", NULL, NULL, &zero, sizeof(zero)) == 0);
    exit_ready++;
    wait_released(&exits_released);
    return NULL;
}

static pthread_attr_t attr;
static pthread_t th[MAX_THREADS];
static int n;

static void start_worker(bool raise_here)
{
    CHECK(n < MAX_THREADS);
    CHECK_I(pthread_create(&th[n], &attr, worker, raise_here ? (void *)1 : NULL), ==, 0);
    n++;
    while (first_done < n) /* one heap creation at a time */
        usleep(100);
}

static void exit_three(void)
{
    pthread_t e[NEXIT];
    exit_ready = 0;
    exits_released = 0;
    for (int i = 0; i < NEXIT; i++) {
        CHECK_I(pthread_create(&e[i], &attr, exiting, NULL), ==, 0);
        while (exit_ready < i + 1)
            usleep(100);
    }
    release(&exits_released);
    for (int i = 0; i < NEXIT; i++)
        pthread_join(e[i], NULL);
}

/* Allocate from base until its current block has exactly `left` bytes
 * (a multiple of PAGE) free: a new block first, then its pages. */
static void base_leave(size_t left)
{
    int maps = main_maps;
    size_t total = base_mapped();
    while (main_maps == maps)
        CHECK_NONNULL(base_alloc(PAGE, PAGE));
    /* The new block's usable bytes: base_mapped counts its two guard
     * pages too (base.c). */
    size_t block = base_mapped() - total - 2 * PAGE;
    CHECK_U(block % PAGE, ==, 0);
    for (size_t used = PAGE; used < block - left; used += PAGE)
        CHECK_NONNULL(base_alloc(PAGE, PAGE));
}

static void check_phase(unsigned phase)
{
    CHECK_MSG(fired, "phase %u: base mapped no block in the heap creation", phase);
    CHECK_U(h_depth, ==, want_depth);
    CHECK(h_ok);
    CHECK_MSG(h_heapless, "phase %u: the handler was given a heap inside its thread's creation",
              phase);
    CHECK_U(lock_depth, ==, 0);
}

int main(void)
{
    sil_install(SIGUSR1, handler,
                "alloc_signal_create: the handler's malloc hung (deadlock in heap creation)\n");
    main_thread = pthread_self();
    char *volatile p = malloc(1); /* the main thread's heap */
    free(p);

    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    real = os_ops;
    os_ops.map = w_map;

    /* Phase 0: base's lock only (no heap recycled yet). */
    want_depth = 1;
    base_leave(0);
    armed = 1;
    alarm(10);
    start_worker(true);
    alarm(0);
    armed = 0;
    check_phase(0);

    /* Phase 1: the arena list's lock and base's. */
    fired = h_ok = h_heapless = 0;
    want_depth = 2;
    exit_three();
    start_worker(false); /* takes the arena the exiting threads left free */
    base_leave(PAGE);    /* the next arena's descriptor (two pages) crosses */
    armed = 1;
    alarm(10);
    start_worker(true); /* a recycled heap, a new arena */
    alarm(0);
    armed = 0;
    check_phase(1);

    os_ops = real;
    release(&released);
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    printf("ok: signals in heap creation (base's lock; the arena list's lock too): the handler's "
           "malloc returned, with no heap\n");
    return 0;
}
