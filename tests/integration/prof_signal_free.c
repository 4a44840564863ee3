/*
 * A signal handler that frees blocks the main loop allocated (sampled:
 * prof:true,lg_prof_sample:0), the counterpart of prof_signal_alloc: the
 * interrupted thread may hold its arena's shared lock (relocating a new
 * sample into the shared heap) or a live-sample bucket's lock bit when the
 * handler's free of a sampled block wants the same lock. Before the fix the
 * free path waited (heap_free_slow's shared_lock, site_forget_td's bucket)
 * and the process hung at once; such a free is now deferred to the end of
 * the interrupted call (liballoc/defer.h). A watchdog thread fails the test
 * if the main loop makes no progress for 3 s.
 */
#include "signal_watch.h"

static void *volatile pool[64];
static volatile int npool;

static void handler(int sig)
{
    (void)sig;
    if (npool > 0)
        free(pool[--npool]);
    sw_hits++;
}

int main(void)
{
    sw_start(handler, "prof_signal_free.conf", "deadlock in a sampled free from a signal handler");
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    double t0 = tl_now();
    do {
        for (int i = 0; i < 1000; i++) {
            char *volatile p = malloc(16 + (size_t)(i % 512));
            p[0] = 1;
            if (npool < 64) { /* handed to the handler, SIGALRM blocked meanwhile */
                CHECK(pthread_sigmask(SIG_BLOCK, &alrm, NULL) == 0);
                pool[npool++] = p;
                CHECK(pthread_sigmask(SIG_UNBLOCK, &alrm, NULL) == 0);
            } else {
                free(p);
            }
        }
        sw_progress++;
    } while (tl_now() - t0 < 1.0);
    sw_stop();
    while (npool > 0)
        free(pool[--npool]);
    printf("ok: %ld turns, %ld signals\n", sw_progress, sw_hits);
    return 0;
}
