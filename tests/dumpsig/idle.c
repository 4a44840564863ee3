/*
 * The subject of tests/apps/dump_signal_*.sh and tests/cli/jeprof_record_signal.sh:
 * a service that allocates a known site, then idles forever (pause), never
 * calling mallctl or allocating again.
 *   idle            known_site: 4096 blocks of 8 KiB (32 MiB) kept live
 *   idle fork       the same, then forks: the child adds child_site (2048 x
 *                   8 KiB, 16 MiB) and idles too; prints "child PID"
 *   idle closefds   the same, then closes every descriptor above 2, as
 *                   daemons do at start
 * Built again as idle_global with GLOBAL_CONF: the program's own malloc_conf
 * (exported with -rdynamic so the preloaded allocator sees it).
 * Prints "ready" (after "child PID" if any) once everything is allocated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef GLOBAL_CONF
const char *malloc_conf = GLOBAL_CONF;
#endif

static void *keep[4096 + 2048];

__attribute__((noinline)) static void known_site(void)
{
    for (int i = 0; i < 4096; i++) {
        keep[i] = malloc(8192);
        memset(keep[i], 1, 64);
    }
}

__attribute__((noinline)) static void child_site(void)
{
    for (int i = 0; i < 2048; i++) {
        keep[4096 + i] = malloc(8192);
        memset(keep[4096 + i], 2, 64);
    }
}

int main(int argc, char **argv)
{
    known_site();
    if (argc > 1 && strcmp(argv[1], "closefds") == 0)
        for (int fd = 3; fd < 4096; fd++)
            close(fd);
    if (argc > 1 && strcmp(argv[1], "fork") == 0) {
        int fds[2];
        if (pipe(fds) != 0)
            return 1;
        pid_t pid = fork();
        if (pid < 0)
            return 1;
        if (pid == 0) {
            close(fds[0]);
            child_site();
            if (write(fds[1], "x", 1) != 1)
                _exit(1);
            for (;;)
                pause();
        }
        close(fds[1]);
        char c;
        if (read(fds[0], &c, 1) != 1)
            return 1;
        printf("child %d\n", (int)pid);
    }
    printf("ready\n");
    fflush(stdout);
    for (;;)
        pause();
}
