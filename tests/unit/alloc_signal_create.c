/*
 * alloc_signal_create: a signal handler allocates while the thread it
 * interrupted is creating its own heap (its first malloc): the os seam's
 * map wrapper raises the signal from inside the mapping base makes, under
 * its lock, for a thread that has no heap yet. New threads are started,
 * each kept alive so that each takes a new arena, until base, which holds
 * the arenas and heaps, maps a new block during one's heap creation.
 *
 * Before the fix the handler's malloc waited for base's lock, which its
 * own thread held, forever (the alarm fails the test): base_alloc waited
 * whenever at most one counted lock was held. Now base_alloc returns NULL
 * to a handler that interrupted its own thread inside base, and a handler
 * inside its thread's heap creation gets no heap (heap.c, heap_create):
 * its malloc is served cache-less from a shared heap or fails with
 * ENOMEM, and the interrupted thread's heap is created as usual.
 */
#include "check.h"

#include "heap.h"
#include "lock_depth.h"
#include "os.h"
#include "signal_in_lock.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

const char *malloc_conf = "background_thread:false,narenas:1024";

enum { MAX_THREADS = 1000 };

static struct os_ops real;
static volatile int armed, fired, h_ok;
static unsigned h_depth;
static pthread_mutex_t hold = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_cv = PTHREAD_COND_INITIALIZER;
static int released;
static _Atomic int first_done;

static int w_map(size_t size, void **out)
{
    /* base maps a new block while this thread creates its heap */
    if (armed && heap_tls == &heap_empty && lock_depth > 0) {
        armed = 0;
        raise(SIGUSR1); /* this thread's first malloc, base's lock held */
    }
    return real.map(size, out);
}

static void handler(int sig)
{
    (void)sig;
    h_depth = lock_depth;
    char *p = malloc(100);
    if (p) {
        memset(p, 7, 100);
        free(p); /* deferred: the thread is inside its heap creation */
    }
    h_ok = 1; /* returned, NULL or a block */
    fired = 1;
}

/* A thread's first malloc creates its heap (and an arena); then it waits. */
static void *worker(void *arg)
{
    (void)arg;
    char *volatile p = malloc(64);
    CHECK_NONNULL(p);
    p[0] = 1;
    CHECK(heap_tls != &heap_empty);
    free(p);
    first_done++;
    pthread_mutex_lock(&hold);
    while (!released)
        pthread_cond_wait(&hold_cv, &hold);
    pthread_mutex_unlock(&hold);
    return NULL;
}

int main(void)
{
    sil_install(SIGUSR1, handler,
                "alloc_signal_create: the handler's malloc hung (deadlock in heap creation)\n");
    free(malloc(1)); /* the main thread's heap */

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    static pthread_t th[MAX_THREADS];
    int n = 0;
    real = os_ops;
    os_ops.map = w_map;
    armed = 1;
    alarm(20);
    while (!fired && n < MAX_THREADS) {
        CHECK_I(pthread_create(&th[n], &attr, worker, NULL), ==, 0);
        n++;
        while (first_done < n) /* one heap creation at a time */
            usleep(100);
    }
    alarm(0);
    armed = 0;
    os_ops = real;
    pthread_mutex_lock(&hold);
    released = 1;
    pthread_cond_broadcast(&hold_cv);
    pthread_mutex_unlock(&hold);
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    CHECK_MSG(fired, "no mapping was made under a lock in %d threads' heap creation", n);
    CHECK_U(h_depth, >, 0);
    CHECK(h_ok);
    CHECK_U(lock_depth, ==, 0);
    printf("ok: signal in the heap creation of thread %d, the handler's malloc returned\n", n);
    return 0;
}
