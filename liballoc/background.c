/* background: the purging threads (see background.h). */
#include "background.h"
#include "arena.h"
#include "decay.h"
#include "heap.h"
#include "warn.h"
#include "options.h"
#include "os.h"
#include "bss_large.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>

#define BG_PERIOD_NS (50 * 1000 * 1000ull)

enum { BG_OFF = 0, BG_REQUESTED = 1, BG_STARTING = 2, BG_RUNNING = 3, BG_STOPPING = 4 };

/* One possible thread: slot k serves arenas i with i % bg_max == k. */
struct bg_slot {
    pthread_t tid;             /* valid while live */
    bool live;                 /* created and not yet joined (bg_lock) */
    _Atomic uint64_t nruns;    /* wakeups of this thread */
    _Atomic uint64_t first_ns; /* monotonic time of its first wakeup */
    _Atomic uint64_t last_ns;  /* ... and of its latest */
};

static _Atomic int bg_state;
static struct bg_slot bg_slots[BACKGROUND_LIMIT] BSS_LARGE;
static size_t bg_max;          /* max_background_threads (bg_lock to write) */
static pthread_mutex_t bg_lock = PTHREAD_MUTEX_INITIALIZER;     /* slots, bg_max, sleeping */
static pthread_mutex_t bg_ctl_lock = PTHREAD_MUTEX_INITIALIZER; /* serialises start/stop */
static pthread_cond_t bg_cond;  /* stop wakes the sleepers (monotonic clock) */

static void bg_cond_init(void)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&bg_cond, &ca);
    pthread_condattr_destroy(&ca);
}

void background_boot(void)
{
    /* options.def's default (above the range) means "unset". */
    if (opt.max_background_threads > BACKGROUND_LIMIT) {
        unsigned n = os_ncpus();
        opt.max_background_threads = n < BACKGROUND_LIMIT ? n : BACKGROUND_LIMIT;
    }
    if (opt.max_background_threads == 0)
        opt.max_background_threads = 1;
    bg_max = opt.max_background_threads;
    bg_cond_init();
    if (opt.background_thread)
        background_request();
}

/* One wakeup's work for thread k: decay of its arenas. */
static void bg_work(size_t k, size_t max, unsigned round)
{
    unsigned n = arena_total();
    for (unsigned i = (unsigned)k; i < n; i += (unsigned)max) {
        struct arena *a = arenas[i];
        if (!a)
            continue;
        if ((round & 15) == 0)
            arena_collect_abandoned(a);
        decay_run(a, false);
    }
    if (k == 0)
        heap_sweep(decay_now()); /* remote frees of idle, blocked and exited threads */
}

static void *bg_main(void *arg);

/* True if some existing arena is served by slot k under maximum max. */
static bool bg_slot_needed(size_t k, size_t max)
{
    unsigned n = arena_total();
    for (size_t i = k; i < n; i += max)
        if (__atomic_load_n(&arenas[i], __ATOMIC_ACQUIRE))
            return true;
    return false;
}

/* Create the threads the arenas need: slot k once an arena it serves exists
 * (arenas are created on first use), slot 0 always. bg_lock held. */
static void bg_spawn_missing(void)
{
    if (atomic_load(&bg_state) != BG_RUNNING)
        return;
    for (size_t k = 0; k < bg_max; k++) {
        struct bg_slot *s = &bg_slots[k];
        if (s->live || (k > 0 && !bg_slot_needed(k, bg_max)))
            continue;
        atomic_store(&s->nruns, 0);
        atomic_store(&s->first_ns, 0);
        atomic_store(&s->last_ns, 0);
        /* Created with every signal blocked (it inherits the mask): the
         * thread works under arena and decay locks outside any slow path's
         * defer_enter section, so a handler run on it could wait for a lock
         * it holds (defer.h); the application's signals go elsewhere. */
        sigset_t all, old;
        sigfillset(&all);
        bool masked = pthread_sigmask(SIG_SETMASK, &all, &old) == 0;
        int err = pthread_create(&s->tid, NULL, bg_main, (void *)k);
        if (masked)
            pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (err != 0) {
            warn_print("<jemalloc>: background thread creation failed\n");
            break; /* retried at the next wakeup of thread 0 */
        }
        s->live = true;
    }
}

static void *bg_main(void *arg)
{
    size_t k = (size_t)arg;
    struct bg_slot *s = &bg_slots[k];
    unsigned round = 0;
    pthread_mutex_lock(&bg_lock);
    while (atomic_load(&bg_state) == BG_RUNNING) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        uint64_t t = (uint64_t)until.tv_nsec + BG_PERIOD_NS;
        until.tv_sec += (time_t)(t / 1000000000u);
        until.tv_nsec = (long)(t % 1000000000u);
        if (pthread_cond_timedwait(&bg_cond, &bg_lock, &until) != ETIMEDOUT)
            continue; /* stop (or a spurious wakeup): look at the state again */
        size_t max = bg_max;
        pthread_mutex_unlock(&bg_lock);
        bg_work(k, max, round++);
        uint64_t now = decay_now();
        if (atomic_fetch_add(&s->nruns, 1) == 0)
            atomic_store(&s->first_ns, now);
        atomic_store(&s->last_ns, now);
        pthread_mutex_lock(&bg_lock);
        /* Thread 0 starts the others as arenas appear. */
        if (k == 0)
            bg_spawn_missing();
    }
    pthread_mutex_unlock(&bg_lock);
    return NULL;
}

void background_request(void)
{
    int expected = BG_OFF;
    atomic_compare_exchange_strong(&bg_state, &expected, BG_REQUESTED);
}

void background_poll(void)
{
    if (likely(atomic_load_explicit(&bg_state, memory_order_relaxed) != BG_REQUESTED))
        return;
    int expected = BG_REQUESTED;
    if (!atomic_compare_exchange_strong(&bg_state, &expected, BG_STARTING))
        return;
    pthread_mutex_lock(&bg_lock);
    expected = BG_STARTING;
    if (atomic_compare_exchange_strong(&bg_state, &expected, BG_RUNNING))
        bg_spawn_missing();
    pthread_mutex_unlock(&bg_lock);
}

/* Stop and join every thread. bg_ctl_lock held. Once the state is STOPPING
 * (set under bg_lock) no thread is created, so the live slots are final. */
static void bg_stop(void)
{
    pthread_mutex_lock(&bg_lock);
    int expected = BG_REQUESTED;
    if (!atomic_compare_exchange_strong(&bg_state, &expected, BG_OFF))
        atomic_store(&bg_state, BG_STOPPING);
    pthread_cond_broadcast(&bg_cond);
    pthread_mutex_unlock(&bg_lock);
    for (size_t k = 0; k < BACKGROUND_LIMIT; k++)
        if (bg_slots[k].live)
            pthread_join(bg_slots[k].tid, NULL);
    pthread_mutex_lock(&bg_lock);
    for (size_t k = 0; k < BACKGROUND_LIMIT; k++)
        bg_slots[k].live = false;
    atomic_store(&bg_state, BG_OFF);
    pthread_mutex_unlock(&bg_lock);
}

bool background_set(bool on)
{
    pthread_mutex_lock(&bg_ctl_lock);
    bool was = background_running();
    if (on) {
        background_request();
        background_poll();
    } else {
        bg_stop();
    }
    pthread_mutex_unlock(&bg_ctl_lock);
    return was;
}

bool background_running(void)
{
    int s = atomic_load(&bg_state);
    return s == BG_RUNNING || s == BG_REQUESTED || s == BG_STARTING;
}

size_t background_max(void)
{
    pthread_mutex_lock(&bg_lock);
    size_t v = bg_max;
    pthread_mutex_unlock(&bg_lock);
    return v;
}

int background_set_max(size_t n)
{
    if (n == 0 || n > opt.max_background_threads)
        return EINVAL;
    pthread_mutex_lock(&bg_ctl_lock);
    if (n != background_max()) {
        bool on = background_running();
        if (on)
            bg_stop();
        pthread_mutex_lock(&bg_lock);
        bg_max = n;
        pthread_mutex_unlock(&bg_lock);
        if (on) {
            background_request();
            background_poll();
        }
    }
    pthread_mutex_unlock(&bg_ctl_lock);
    return 0;
}

void background_stats(size_t *nthreads, uint64_t *nruns, uint64_t *run_interval_ns)
{
    size_t live = 0;
    uint64_t runs = 0, span = 0, intervals = 0;
    pthread_mutex_lock(&bg_lock);
    for (size_t k = 0; k < BACKGROUND_LIMIT; k++) {
        struct bg_slot *s = &bg_slots[k];
        if (!s->live)
            continue;
        live++;
        uint64_t r = atomic_load(&s->nruns), f = atomic_load(&s->first_ns),
                 l = atomic_load(&s->last_ns);
        runs += r;
        if (r > 1 && l > f) {
            span += l - f;
            intervals += r - 1;
        }
    }
    pthread_mutex_unlock(&bg_lock);
    *nthreads = live;
    *nruns = runs;
    *run_interval_ns = intervals ? span / intervals : 0;
}

void background_postfork_child(void)
{
    /* The threads do not exist in the child, and background_thread is off
     * there whatever it was in the parent, as jemalloc documents (a child
     * such as Redis's BGSAVE writer lives briefly; the program may turn
     * it on again with the mallctl). */
    pthread_mutex_init(&bg_lock, NULL);
    pthread_mutex_init(&bg_ctl_lock, NULL);
    bg_cond_init();
    for (size_t k = 0; k < BACKGROUND_LIMIT; k++)
        bg_slots[k].live = false;
    atomic_store(&bg_state, BG_OFF);
}
