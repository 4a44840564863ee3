/*
 * A signal handler that allocates (async-signal-unsafe, but common in real
 * programs) while every allocation is sampled (prof:true,lg_prof_sample:0):
 * the interrupted thread may be freeing a sampled block under its arena's
 * shared lock when the handler's malloc takes a sample, whose relocation
 * into the shared heap wants that same lock. The handler's sample must not
 * wait for a lock its own thread holds (it stays where it was allocated):
 * before the fix the process hung within a second. A watchdog thread fails
 * the test if the main loop makes no progress for 3 s.
 */
#include "signal_watch.h"

static void handler(int sig)
{
    (void)sig;
    char *volatile p = malloc(40 + (size_t)(sw_hits % 3000));
    p[0] = 1;
    char *volatile q = realloc(p, 5000);
    q[4999] = 2;
    free(q);
    sw_hits++;
}

int main(void)
{
    /* the handler (three sampled calls) keeps up with one signal per 250 us */
    sw_start(handler, "prof_signal_alloc.conf", "deadlock in a sampled allocation from a signal handler");
    double t0 = tl_now();
    do {
        for (int i = 0; i < 1000; i++) {
            char *volatile p = malloc(16 + (size_t)(i % 512));
            p[0] = 1;
            free(p);
        }
        sw_progress++;
    } while (tl_now() - t0 < 1.0);
    sw_stop();
    printf("ok: %ld turns, %ld signals\n", sw_progress, sw_hits);
    return 0;
}
