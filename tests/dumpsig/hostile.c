/*
 * The subject of tests/apps/dump_signal_hostile.sh: a service that
 * allocates known_site (4096 blocks of 8 KiB, 32 MiB, kept live), then
 * idles in a way that makes the dump signal hard to deliver:
 *   hostile blockall    blocks every signal in every thread (a second
 *                       thread too) and reads them from a signalfd, as
 *                       systemd-style services do; exits on SIGTERM
 *   hostile ownhandler  installs its own handler for SIGUSR2 after start
 *                       (it replaces the allocator's: the program's choice)
 *   hostile chdir DIR   changes its working directory to DIR after start
 *   hostile proctitle   overwrites its environment strings with zeros, as
 *                       setproctitle does in redis and nginx (its
 *                       /proc/PID/environ then shows no MALLOC_CONF)
 *   hostile pprof_fd F  writes its profile with mallctl prof.dump_pprof_fd
 *                       to file F, then to a pipe whose reader is gone;
 *                       prints "file=E pipe=E" (errnos) and exits 0
 * Prints "ready" once everything is set up.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/signalfd.h>
#include <unistd.h>

extern char **environ;

static void *keep[4096];

__attribute__((noinline)) static void known_site(void)
{
    for (int i = 0; i < 4096; i++) {
        keep[i] = malloc(8192);
        memset(keep[i], 1, 64);
    }
}

static void own_handler(int sig)
{
    (void)sig;
    static const char m[] = "own handler\n";
    if (write(2, m, sizeof(m) - 1) < 0)
        _exit(3);
}

static void *blocked_idle(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

/* mallctl of the preloaded allocator (the program is not linked to it). */
static int dump_fd(int fd)
{
    int (*ctl)(const char *, void *, size_t *, void *, size_t) =
        (int (*)(const char *, void *, size_t *, void *, size_t))dlsym(RTLD_DEFAULT, "mallctl");
    return ctl ? ctl("prof.dump_pprof_fd", NULL, NULL, &fd, sizeof(fd)) : -1;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    known_site();
    if (strcmp(mode, "pprof_fd") == 0 && argc > 2) {
        int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int file = dump_fd(fd);
        int p[2];
        if (pipe(p) != 0)
            return 1;
        close(p[0]);
        int piped = dump_fd(p[1]);
        printf("file=%d pipe=%d\n", file, piped);
        return 0;
    }
    if (strcmp(mode, "blockall") == 0) {
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, NULL);
        pthread_t t;
        if (pthread_create(&t, NULL, blocked_idle, NULL) != 0)
            return 1;
        int fd = signalfd(-1, &all, SFD_CLOEXEC);
        if (fd < 0)
            return 1;
        printf("ready\n");
        fflush(stdout);
        for (;;) {
            struct signalfd_siginfo si;
            if (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si) && si.ssi_signo == SIGTERM)
                return 0;
        }
    }
    if (strcmp(mode, "proctitle") == 0 && environ[0]) {
        char *lo = environ[0], *hi = lo;
        for (char **e = environ; *e; e++)
            if (*e + strlen(*e) + 1 > hi)
                hi = *e + strlen(*e) + 1;
        memset(lo, 0, (size_t)(hi - lo));
    }
    if (strcmp(mode, "ownhandler") == 0)
        signal(SIGUSR2, own_handler);
    if (strcmp(mode, "chdir") == 0 && argc > 2 && chdir(argv[2]) != 0)
        return 1;
    printf("ready\n");
    fflush(stdout);
    for (;;)
        pause();
}
