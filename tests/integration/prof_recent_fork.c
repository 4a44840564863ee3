/*
 * prof_recent_fork: fork while other threads sample and free each other's
 * samples with the recent-allocation ring on (prof_recent_alloc_max:100,
 * pinned by prof_recent_fork.conf). A thread caught at the fork in the
 * middle of writing a ring entry (a free's entry update runs
 * backtrace_capture and site_intern, whose lock the prefork may wait for)
 * left that entry's sequence odd in the child, and the child's next writer
 * of the slot spun on it forever: 1 to 4 of 20 forks hung. Each child here
 * allocates and frees 3000 sampled blocks (the 128-entry ring goes round
 * many times, so every slot is written again), dumps the ring, and must
 * exit within 5 s; 40 forks.
 */
#include "check.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

#define SLOTS 256
#define NTHREADS 3
#define NFORKS 40

static _Atomic int stop;
static _Atomic(void *) slots[SLOTS];

static uint64_t step(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Allocate into a random shared slot and free what was there (often
 * another thread's block): every block sampled at lg_prof_sample:3. */
static void *worker(void *arg)
{
    uint64_t r = (uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;
    while (!atomic_load(&stop)) {
        size_t k = step(&r) % SLOTS;
        void *p = malloc(1 + step(&r) % 600);
        free(atomic_exchange(&slots[k], p));
    }
    return NULL;
}

/* The ring's JSON, counted (the child's dump reads every entry). */
static size_t dumped;
static void count_out(void *opaque, const char *s)
{
    (void)opaque;
    dumped += strlen(s);
}

int main(void)
{
    ssize_t max = 0;
    size_t sz = sizeof(max);
    CHECK(mallctl("experimental.prof_recent.alloc_max", &max, &sz, NULL, 0) == 0);
    CHECK_I(max, ==, 100);
    pthread_t t[NTHREADS];
    for (uintptr_t i = 0; i < NTHREADS; i++)
        CHECK(pthread_create(&t[i], NULL, worker, (void *)(i + 1)) == 0);
    int hung = 0;
    for (int f = 0; f < NFORKS; f++) {
        usleep(2000);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            alarm(5);
            static void *v[3000];
            for (int i = 0; i < 3000; i++)
                v[i] = malloc(1 + i % 3000);
            for (int i = 0; i < 3000; i++)
                free(v[i]);
            struct {
                void (*cb)(void *, const char *);
                void *opaque;
            } arg = {count_out, NULL};
            int rc = mallctl("experimental.prof_recent.alloc_dump", NULL, NULL, &arg, sizeof(arg));
            _exit(rc == 0 && dumped > 0 ? 0 : 3);
        }
        int st;
        CHECK(waitpid(pid, &st, 0) == pid);
        if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM) {
            hung++;
            fprintf(stderr, "fork %d: the child hung (killed by its alarm)\n", f);
        } else {
            CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "fork %d: child status %#x", f, st);
        }
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    CHECK_MSG(hung == 0, "%d of %d children hung", hung, NFORKS);
    printf("%d forks, no child hung\n", NFORKS);
    return 0;
}
