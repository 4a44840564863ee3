/* dump_signal: see dump_signal.h. */
#include "dump_signal.h"
#include "options.h"
#include "prof.h"
#include "prof_hooks.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static int ds_signo;             /* configured signal, 0 when off */
static struct sigaction ds_prev; /* handler replaced at boot (chained) */
static sem_t ds_sem;             /* requests: the handler posts, the thread waits */
static _Atomic int ds_started;   /* dump_signal_start ran in this process image */
/* Held by the dump thread for each dump it writes; exit() takes it to set
 * ds_exiting, after which the thread starts no dump (one started during
 * exit, after the wait for the dump in progress, died half-written with the
 * process and left its temporary file). */
static pthread_mutex_t ds_lock = PTHREAD_MUTEX_INITIALIZER;
static bool ds_exiting; /* exit() began: no more dumps (under ds_lock) */

static void ds_handler(int sig, siginfo_t *si, void *uc)
{
    int saved = errno;
    sem_post(&ds_sem); /* async-signal-safe; EOVERFLOW (2^31 pending) changes nothing */
    errno = saved;
    if (ds_prev.sa_flags & SA_SIGINFO) {
        if (ds_prev.sa_sigaction)
            ds_prev.sa_sigaction(sig, si, uc);
    } else if (ds_prev.sa_handler != SIG_DFL && ds_prev.sa_handler != SIG_IGN) {
        ds_prev.sa_handler(sig);
    }
}

int dump_signal_boot(void)
{
    if (!opt.prof || !opt.prof_dump_signal[0])
        return 0;
    int sig = options_signal_parse(opt.prof_dump_signal, strlen(opt.prof_dump_signal));
    if (sig <= 0)
        return 0; /* conf.c refused it already */
    if (sem_init(&ds_sem, 0, 0) != 0 || sigaction(sig, NULL, &ds_prev) != 0) {
        prof_host_warn("<jemalloc>: prof_dump_signal: cannot set up, no dump on signal\n");
        return EINVAL;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = ds_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0) {
        int err = errno;
        prof_host_warn("<jemalloc>: prof_dump_signal: sigaction failed, no dump on signal\n");
        return err;
    }
    ds_signo = sig;
    return 0;
}

/* Dumps start at least this far apart (ns): a storm of signals gives at
 * most 1 s / DS_MIN_GAP_NS dumps a second, not one per dump time (which
 * filled a disk with hundreds of identical dumps a second and kept a core
 * busy), and a request still gets its dump well within 1 s. */
#define DS_MIN_GAP_NS (200LL * 1000 * 1000)

/* The dump thread: one manual dump per batch of requests. */
static void *ds_main(void *arg)
{
    (void)arg;
    struct heap *h = prof_host_heap(true);
    if (h)
        prof_suspend(h, true); /* our allocations (libunwind, libc) are never sampled */
    prctl(PR_SET_NAME, "prof_dump_sig", 0, 0, 0);
    struct timespec next = {0, 0}; /* earliest start of the next dump */
    for (;;) {
        if (sem_wait(&ds_sem) != 0)
            continue; /* EINTR */
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
            ; /* the handler may run on this thread: the dump signal is not blocked here */
        while (sem_trywait(&ds_sem) == 0)
            ; /* requests that came together (or during the gap) get one dump */
        clock_gettime(CLOCK_MONOTONIC, &next);
        long long ns = next.tv_nsec + DS_MIN_GAP_NS;
        next.tv_sec += (time_t)(ns / 1000000000);
        next.tv_nsec = (long)(ns % 1000000000);
        pthread_mutex_lock(&ds_lock);
        if (ds_exiting) { /* the process is going: wait for it */
            pthread_mutex_unlock(&ds_lock);
            for (;;)
                pause();
        }
        int err = prof_dump_auto('m');
        pthread_mutex_unlock(&ds_lock);
        if (err == EFAULT)
            prof_host_warn("<jemalloc>: prof_dump_signal: no prof_prefix, no dump written\n");
        /* Other failures were reported by the writer. */
    }
    return NULL;
}

static void ds_spawn(void)
{
    pthread_attr_t attr;
    pthread_t tid;
    sigset_t all, old;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* Created with every signal blocked but the dump signal: the program's
     * signals go to its threads, and the dump signal still reaches our
     * handler in a program that blocks every signal in all of its threads
     * (one reading them from a signalfd or sigwait), where it would
     * otherwise stay pending for ever. */
    sigfillset(&all);
    sigdelset(&all, ds_signo);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int err = pthread_create(&tid, &attr, ds_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (err)
        prof_host_warn("<jemalloc>: prof_dump_signal: cannot create the dump thread\n");
}

/* The forking thread's signal mask before fork (ds_atfork_prepare). */
static __thread sigset_t ds_fork_mask;

/* Fork, before: the forking thread blocks the dump signal, so in the child
 * a request sent to it before its handler below drained the parent's is
 * held pending, not posted and then drained with them. */
static void ds_atfork_prepare(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, ds_signo);
    pthread_sigmask(SIG_BLOCK, &s, &ds_fork_mask);
}

static void ds_atfork_parent(void)
{
    pthread_sigmask(SIG_SETMASK, &ds_fork_mask, NULL);
}

/* Fork child (after the allocator's own child handler): the semaphore is
 * the child's copy of the parent's, holding the requests the parent had
 * not answered yet (posted during its dump or its gap between dumps).
 * They were the parent's: drained, or every child forked then would write
 * a dump nobody asked it for (and a child that _exits mid-dump leaves its
 * temporary file). The child's own requests wait, blocked (prepare), until
 * the mask is restored below. The semaphore is not re-initialised (the
 * waiter count copied from the parent only costs a spare futex wake per
 * post). The child gets its own thread. */
static void ds_atfork_child(void)
{
    while (sem_trywait(&ds_sem) == 0)
        ;
    /* The parent's dump thread may have held ds_lock at fork: the child's
     * copy has no owner left. */
    pthread_mutex_init(&ds_lock, NULL);
    ds_exiting = false;
    if (ds_signo)
        ds_spawn();
    pthread_sigmask(SIG_SETMASK, &ds_fork_mask, NULL); /* a request held meanwhile posts now */
}

/* exit(): let a dump in progress finish (the thread dies with the process),
 * so no answered request leaves only a temporary file, and let the dump
 * thread start no other (a signal during exit would). */
static void ds_atexit(void)
{
    pthread_mutex_lock(&ds_lock);
    ds_exiting = true;
    pthread_mutex_unlock(&ds_lock);
    pthread_mutex_lock(&prof.dump_lock);
    pthread_mutex_unlock(&prof.dump_lock);
}

void dump_signal_start(void)
{
    if (!ds_signo || atomic_exchange(&ds_started, 1))
        return;
    ds_spawn();
    atexit(ds_atexit);
    if (pthread_atfork(ds_atfork_prepare, ds_atfork_parent, ds_atfork_child) != 0)
        prof_host_warn("<jemalloc>: prof_dump_signal: fork children will not answer the signal\n");
}
