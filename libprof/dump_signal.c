/* dump_signal: see dump_signal.h. */
#include "dump_signal.h"
#include "options.h"
#include "prof.h"
#include "prof_hooks.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

static int ds_signo;                   /* configured signal, 0 when off */
static struct sigaction ds_prev;       /* handler replaced at boot (chained) */
static _Atomic int ds_fd = -1;         /* eventfd the handler writes */
static _Atomic pid_t ds_owner;         /* process whose thread reads ds_fd */
static _Atomic int ds_pending;         /* request caught in a child before its eventfd */
static _Atomic int ds_started;         /* dump_signal_start ran in this process image */

int dump_signal_number(void)
{
    return ds_signo;
}

static void ds_post(int fd)
{
    uint64_t one = 1;
    /* EAGAIN cannot happen below 2^64-1 requests; nothing to do on error. */
    ssize_t r = write(fd, &one, sizeof(one));
    (void)r;
}

static void ds_handler(int sig, siginfo_t *si, void *uc)
{
    int saved = errno;
    if (getpid() == atomic_load(&ds_owner))
        ds_post(atomic_load(&ds_fd));
    else
        atomic_store(&ds_pending, 1); /* a fork child before its atfork handler */
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
    int fd = eventfd(0, EFD_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        prof_host_warn("<jemalloc>: prof_dump_signal: eventfd failed, no dump on signal\n");
        return err;
    }
    atomic_store(&ds_fd, fd);
    atomic_store(&ds_owner, getpid());
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = ds_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, &ds_prev) != 0) {
        int err = errno;
        close(fd);
        atomic_store(&ds_fd, -1);
        prof_host_warn("<jemalloc>: prof_dump_signal: sigaction failed, no dump on signal\n");
        return err;
    }
    ds_signo = sig;
    return 0;
}

/* The dump thread: one manual dump per batch of requests. */
static void *ds_main(void *arg)
{
    int fd = (int)(intptr_t)arg;
    struct heap *h = prof_host_heap(true);
    if (h)
        prof_suspend(h, true); /* our allocations (libunwind, libc) are never sampled */
    prctl(PR_SET_NAME, "prof_dump_sig", 0, 0, 0);
    for (;;) {
        uint64_t n;
        ssize_t r = read(fd, &n, sizeof(n));
        if (r != (ssize_t)sizeof(n)) {
            if (r < 0 && errno == EINTR)
                continue;
            break; /* fd closed under us: not ours any more */
        }
        int err = prof_dump_auto('m');
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
    /* Created with every signal blocked: the program's signals go to its threads. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int err = pthread_create(&tid, &attr, ds_main, (void *)(intptr_t)atomic_load(&ds_fd));
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (err)
        prof_host_warn("<jemalloc>: prof_dump_signal: cannot create the dump thread\n");
}

/* Fork child (after the allocator's own child handler): own eventfd, own thread. */
static void ds_atfork_child(void)
{
    if (!ds_signo)
        return;
    int old = atomic_load(&ds_fd);
    int fd = eventfd(0, EFD_CLOEXEC);
    if (fd < 0) {
        prof_host_warn("<jemalloc>: prof_dump_signal: eventfd failed in a fork child\n");
        return;
    }
    atomic_store(&ds_fd, fd);
    if (old >= 0)
        close(old);
    atomic_store(&ds_owner, getpid());
    if (atomic_exchange(&ds_pending, 0))
        ds_post(fd);
    ds_spawn();
}

void dump_signal_start(void)
{
    if (!ds_signo || atomic_exchange(&ds_started, 1))
        return;
    ds_spawn();
    if (pthread_atfork(NULL, NULL, ds_atfork_child) != 0)
        prof_host_warn("<jemalloc>: prof_dump_signal: fork children will not answer the signal\n");
}
