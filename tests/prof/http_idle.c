/*
 * http_idle: the subject of tests/apps/prof_http.sh, run preloaded with
 * prof_http set. It never calls mallctl (except in mode "fd"):
 *   serve        keeps 4096 blocks of 16 KiB (64 MiB) from http_known_site,
 *                allocates and frees 32 MiB from http_churn_site, prints
 *                "ready" and sleeps (an idle server) until killed or 300 s
 *                (the test kills it; a loaded machine may take minutes)
 *   fork         as serve, then forks a child that sleeps 30 s; the parent
 *                prints "child <pid>" and exits at once
 *   quick        as serve, but exits 0 right after "ready"
 *   forkloop F   as serve, then forks children (which allocate, free and
 *                exit) while the server answers, until file F exists (at
 *                most 100 s), and exits 0 with "forks N" (a deadlock with
 *                fork would hang it)
 *   fd           as serve, then writes mallctl prof.dump_pprof_fd to fd 1
 *                and exits 0 (nonzero with the errno on failure)
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KNOWN_BLOCKS 4096
#define KNOWN_SIZE   16384

void *http_known_site(size_t n);
void http_churn_site(size_t n);
static void *keep[KNOWN_BLOCKS];

__attribute__((noipa)) void *http_known_site(size_t n)
{
    void *p = malloc(n);
    if (p)
        memset(p, 1, n);
    __asm__ volatile("" ::: "memory");
    return p;
}

__attribute__((noipa)) void http_churn_site(size_t n)
{
    void *p = malloc(n);
    if (p)
        memset(p, 2, 64);
    __asm__ volatile("" ::: "memory");
    free(p);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "serve";
    for (int i = 0; i < KNOWN_BLOCKS; i++)
        keep[i] = http_known_site(KNOWN_SIZE);
    for (int i = 0; i < 2048; i++)
        http_churn_site(KNOWN_SIZE);
    if (strcmp(mode, "fd") == 0) {
        int (*mallctl)(const char *, void *, size_t *, void *, size_t) =
            (int (*)(const char *, void *, size_t *, void *, size_t))dlsym(RTLD_DEFAULT, "mallctl");
        if (!mallctl)
            return 2;
        int fd = 1;
        int err = mallctl("prof.dump_pprof_fd", NULL, NULL, &fd, sizeof(fd));
        if (err)
            fprintf(stderr, "prof.dump_pprof_fd: %d\n", err);
        return err ? 1 : 0;
    }
    printf("ready\n");
    fflush(stdout);
    if (strcmp(mode, "quick") == 0)
        return keep[7] == NULL;
    if (strcmp(mode, "forkloop") == 0) {
        struct timespec t0, t;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int n = 0;
        do {
            pid_t c = fork();
            if (c == 0) {
                for (int i = 0; i < 64; i++)
                    free(http_known_site(4096));
                _exit(0);
            }
            int st;
            if (c < 0 || waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
                return 3;
            n++;
            clock_gettime(CLOCK_MONOTONIC, &t);
        } while (t.tv_sec - t0.tv_sec < 100 && (argc < 3 || access(argv[2], F_OK) != 0));
        printf("forks %d\n", n);
        return 0;
    }
    if (strcmp(mode, "fork") == 0) {
        pid_t c = fork();
        if (c == 0) {
            sleep(30);
            _exit(0);
        }
        printf("child %d\n", (int)c);
        fflush(stdout);
        return c < 0;
    }
    for (int i = 0; i < 300; i++)
        sleep(1);
    return keep[7] == NULL;
}
