/*
 * prof_pprof_load_race: the first prof.dump_pprof_fd of a process loads
 * zlib and libprotobuf-c (prof:true with heap_v2 dumps and no prof_http:
 * nothing loaded at start, libprof/dynload.h). Eight threads released
 * together by a barrier each ask for a pprof profile at that first use:
 * every call must write one (0, a gzip stream in its memfd), as calls made
 * after the load do (they queue on the dump lock). Before the fix, the
 * threads that came while the first was loading got EAGAIN (in 3 of 5
 * runs). The race is once per process: the test runs 12 children.
 */
#include "check.h"

#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define NTHREADS 8

static pthread_barrier_t bar;
static int res[NTHREADS];
static unsigned char head[NTHREADS][3];

static void *dumper(void *arg)
{
    long i = (long)arg;
    int fd = memfd_create("prof_pprof_load_race", 0);
    CHECK(fd >= 0);
    pthread_barrier_wait(&bar);
    res[i] = mallctl("prof.dump_pprof_fd", NULL, NULL, &fd, sizeof(fd));
    CHECK(pread(fd, head[i], 3, 0) == 3 || res[i] != 0);
    close(fd);
    return NULL;
}

static void child(void)
{
    char *volatile keep[64];
    for (int i = 0; i < 64; i++)
        keep[i] = malloc(4096 + (size_t)i * 64); /* something to report */
    CHECK_I(pthread_barrier_init(&bar, NULL, NTHREADS), ==, 0);
    pthread_t t[NTHREADS];
    for (long i = 0; i < NTHREADS; i++)
        CHECK_I(pthread_create(&t[i], NULL, dumper, (void *)i), ==, 0);
    for (int i = 0; i < NTHREADS; i++)
        CHECK_I(pthread_join(t[i], NULL), ==, 0);
    for (int i = 0; i < NTHREADS; i++) {
        CHECK_MSG(res[i] == 0, "thread %d: prof.dump_pprof_fd at first use returned %d, want 0", i,
                  res[i]);
        CHECK_MSG(head[i][0] == 0x1f && head[i][1] == 0x8b && head[i][2] == 8,
                  "thread %d: not a gzip stream", i);
    }
    for (int i = 0; i < 64; i++)
        free(keep[i]);
}

int main(int argc, char **argv)
{
    tl_require_liballoc();
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        child();
        return 0;
    }
    for (int i = 0; i < 12; i++)
        tl_run_child("prof:true,lg_prof_sample:10");
    printf("ok\n");
    return 0;
}
