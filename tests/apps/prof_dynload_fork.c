/* The probe for tests/apps/prof_dynload_fork.sh: linked with -lalloc, run
 * under prof:true,prof_unwind:fp (zlib and libprotobuf-c not loaded at
 * start) with tests/apps/slow_dlopen.c preloaded (libz's dlopen takes
 * 300 ms). A thread asks for the first pprof profile, so it is loading
 * zlib when the main thread forks 100 ms later; the child asks for a pprof
 * profile too and prints "child pprof=<errno> ms=<elapsed>". */
#include <alloc.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int pprof_to_null(void)
{
    int fd = open("/dev/null", O_WRONLY);
    int err = mallctl("prof.dump_pprof_fd", NULL, NULL, &fd, sizeof(fd));
    close(fd);
    return err;
}

static void *first_dump(void *arg)
{
    (void)arg;
    printf("parent pprof=%d\n", pprof_to_null());
    return NULL;
}

int main(void)
{
    void *keep[64];
    for (int i = 0; i < 64; i++)
        keep[i] = malloc(1 << 16);
    fflush(stdout);
    pthread_t t;
    if (pthread_create(&t, NULL, first_dump, NULL) != 0)
        return 2;
    nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
    pid_t pid = fork();
    if (pid < 0)
        return 2;
    if (pid == 0) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        int err = pprof_to_null();
        clock_gettime(CLOCK_MONOTONIC, &b);
        long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
        printf("child pprof=%d ms=%ld\n", err, ms);
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    pthread_join(t, NULL);
    for (int i = 0; i < 64; i++)
        free(keep[i]);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
