/*
 * Cost of sampled allocations with the recent-allocation ring on or off:
 * T threads each allocate and free small blocks (every allocation sampled
 * when run with lg_prof_sample:0) for a fixed time; prints ops per second.
 * Blocks are handed to a neighbour thread half the time, so frees of
 * tracked blocks also come from other threads.
 * usage: recent_bench THREADS SECONDS
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define SLOTS 256

static _Atomic int stop;
static void *_Atomic mailbox[64][SLOTS];

struct worker {
    int id, n;
    unsigned long ops;
};

static void *run(void *arg)
{
    struct worker *w = arg;
    void *mine[SLOTS] = {0};
    unsigned long ops = 0;
    unsigned x = (unsigned)w->id * 2654435761u + 1;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        for (int i = 0; i < 64; i++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            unsigned k = x % SLOTS;
            void *p = malloc(16 + x % 240);
            if (x & 0x100) {
                /* hand to the next thread, free what it left us */
                void *old = atomic_exchange(&mailbox[(w->id + 1) % w->n][k], p);
                free(old);
            } else {
                free(mine[k]);
                mine[k] = p;
            }
            void *in = atomic_exchange(&mailbox[w->id][k], NULL);
            free(in);
            ops++;
        }
    }
    for (int k = 0; k < SLOTS; k++)
        free(mine[k]);
    w->ops = ops;
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1;
    double secs = argc > 2 ? atof(argv[2]) : 1.0;
    if (n < 1 || n > 64)
        return 2;
    pthread_t t[64];
    struct worker w[64];
    for (int i = 0; i < n; i++) {
        w[i] = (struct worker){i, n, 0};
        pthread_create(&t[i], NULL, run, &w[i]);
    }
    struct timespec ts = {(time_t)secs, (long)((secs - (long)secs) * 1e9)};
    nanosleep(&ts, NULL);
    atomic_store(&stop, 1);
    unsigned long total = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
        total += w[i].ops;
    }
    printf("%.0f\n", total / secs);
    return 0;
}
