/* background: the purging thread (see background.h). */
#include "background.h"
#include "arena.h"
#include "decay.h"
#include "heap.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

enum { BG_OFF = 0, BG_REQUESTED = 1, BG_STARTING = 2, BG_RUNNING = 3, BG_STOPPING = 4 };
static _Atomic int bg_state;
static pthread_t bg_thread;

static void *bg_main(void *arg)
{
    (void)arg;
    unsigned round = 0;
    while (atomic_load(&bg_state) == BG_RUNNING) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
        unsigned n = arena_total();
        for (unsigned i = 0; i < n; i++) {
            struct arena *a = arenas[i];
            if (!a)
                continue;
            if ((round & 15) == 0)
                arena_collect_abandoned(a);
            arena_decay(a, false);
        }
        heap_sweep(decay_now()); /* remote frees of idle, blocked and exited threads */
        round++;
    }
    atomic_store(&bg_state, BG_OFF);
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
    atomic_store(&bg_state, BG_RUNNING);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&bg_thread, &attr, bg_main, NULL) != 0)
        atomic_store(&bg_state, BG_OFF);
    pthread_attr_destroy(&attr);
}

bool background_set(bool on)
{
    bool was = background_running();
    if (on) {
        background_request();
        background_poll();
    } else {
        int expected = BG_RUNNING;
        atomic_compare_exchange_strong(&bg_state, &expected, BG_STOPPING);
        expected = BG_REQUESTED;
        atomic_compare_exchange_strong(&bg_state, &expected, BG_OFF);
    }
    return was;
}

bool background_running(void)
{
    int s = atomic_load(&bg_state);
    return s == BG_RUNNING || s == BG_REQUESTED || s == BG_STARTING;
}

void background_postfork_child(void)
{
    /* The thread does not exist in the child: start a fresh one if it was on. */
    int s = atomic_load(&bg_state);
    atomic_store(&bg_state, (s == BG_RUNNING || s == BG_STARTING || s == BG_REQUESTED) ? BG_REQUESTED
                                                                                    : BG_OFF);
}
