/*
 * tests/apps/dump_signal_fork.sh's subject: forks N children in a loop while
 * the test sends the dump signal to its process group. Each child allocates
 * a little, sleeps a moment (so signals reach it after fork), frees and
 * exits through exit() (its own fork handlers ran: it answers signals with
 * dumps of its own); the parent allocates between forks. Prints "reaped I"
 * after each child (progress the test watches) and "done" when all children
 * were reaped.
 * usage: forker N [STOPFILE]: with STOPFILE, goes on forking after N
 * children until the file exists (the test creates it once it saw the
 * dumps it needs: a loaded machine writes fewer per second), 60 s more at
 * most.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

__attribute__((noinline)) static void *forker_site(size_t n)
{
    void *p = malloc(n);
    memset(p, 3, n < 256 ? n : 256);
    return p;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100;
    const char *stop = argc > 2 ? argv[2] : NULL;
    static void *keep[64];
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0;; i++) {
        if (i >= n) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if (!stop || access(stop, F_OK) == 0 || t.tv_sec - t0.tv_sec >= 60)
                break;
        }
        free(keep[i % 64]);
        keep[i % 64] = forker_site(4096 + (size_t)i * 16);
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0) {
            void *q = forker_site(100000);
            struct timespec ts = {0, 2 * 1000 * 1000};
            nanosleep(&ts, NULL);
            free(q);
            exit(0);
        }
        int st;
        if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "child %d failed (status %#x)\n", (int)pid, st);
            return 1;
        }
        printf("reaped %d\n", i);
        fflush(stdout);
    }
    printf("done\n");
    return 0;
}
