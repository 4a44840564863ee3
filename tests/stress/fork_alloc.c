/*
 * fork while other threads allocate: TEST_THREADS background threads run
 * random malloc/realloc/free (with pattern checks) without pause while the
 * main thread forks repeatedly. Each child must at once be able to
 * allocate and free small, large and huge blocks through every entry
 * point, read and free blocks the parent's main thread allocated before
 * the fork, start a thread that allocates, and exit 0. The parent checks
 * each child's exit status; a child that hangs (an allocator lock held
 * across fork) is killed after 20 s and reported. 2.5 s of forking by
 * default (at most 400 forks), 30 s with TEST_LONG=1.
 */
#include "../integration/check.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

static atomic_int stop;
static uint64_t seed;

#define BG_SLOTS 256

static void *background(void *arg)
{
    uint64_t st = seed ^ tl_mix64((uint64_t)(uintptr_t)arg + 77);
    struct {
        unsigned char *p;
        size_t n;
    } s[BG_SLOTS] = {{0}};
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        int i = (int)tl_rand_below(&st, BG_SLOTS);
        if (s[i].p) {
            CHECK_PATTERN(s[i].p, s[i].n, (uintptr_t)s[i].p);
            if (tl_rand_below(&st, 3) == 0) {
                size_t m = tl_rand_size(&st);
                unsigned char *q = realloc(s[i].p, m);
                CHECK_NONNULL(q);
                free(q);
            } else {
                free(s[i].p);
            }
            s[i].p = NULL;
        } else {
            s[i].n = tl_rand_size(&st);
            s[i].p = tl_rand_below(&st, 5) ? malloc(s[i].n) : mallocx(s[i].n, MALLOCX_ALIGN(64));
            CHECK_NONNULL(s[i].p);
            tl_fill(s[i].p, s[i].n, (uintptr_t)s[i].p);
        }
    }
    for (int i = 0; i < BG_SLOTS; i++)
        free(s[i].p);
    return NULL;
}

static void *child_thread(void *arg)
{
    size_t n = (size_t)(uintptr_t)arg;
    for (int i = 0; i < 100; i++) {
        unsigned char *p = malloc(n + (size_t)i);
        CHECK_NONNULL(p);
        memset(p, i, n + (size_t)i);
        free(p);
    }
    return (void *)1;
}

/* Runs in the child: everything must work immediately after fork. */
static void child_work(unsigned char **pre, size_t npre, uint64_t key)
{
    /* A deadlock ends the child with SIGALRM rather than hanging; the work
     * takes milliseconds, 60 s leaves room for a loaded machine. */
    alarm(60);
    for (size_t i = 0; i < npre; i++) {
        CHECK_PATTERN(pre[i], 1000 + i * 977, key + i);
        free(pre[i]);
    }
    const size_t sizes[] = {1, 16, 100, 1000, 5000, 40000, 300000, 3 << 20};
    void *keep[8];
    for (int i = 0; i < 8; i++) {
        unsigned char *p = malloc(sizes[i]);
        CHECK_NONNULL(p);
        tl_fill(p, sizes[i], (uint64_t)i);
        keep[i] = p;
        unsigned char *c = calloc(1, sizes[i]);
        CHECK_NONNULL(c);
        CHECK_ZERO(c, sizes[i]);
        c = realloc(c, sizes[i] * 2 + 1);
        CHECK_NONNULL(c);
        free(c);
        void *a = NULL;
        CHECK_I(posix_memalign(&a, 4096, sizes[i]), ==, 0);
        CHECK_ALIGNED(a, 4096);
        free(a);
        void *x = mallocx(sizes[i], MALLOCX_ZERO | MALLOCX_LG_ALIGN(6));
        CHECK_NONNULL(x);
        CHECK_ZERO(x, sizes[i]);
        sdallocx(x, sizes[i], MALLOCX_LG_ALIGN(6));
    }
    pthread_t t;
    void *ret = NULL;
    CHECK_I(pthread_create(&t, NULL, child_thread, (void *)(uintptr_t)200), ==, 0);
    CHECK_I(pthread_join(t, &ret), ==, 0);
    CHECK(ret == (void *)1);
    for (int i = 0; i < 8; i++) {
        CHECK_PATTERN(keep[i], sizes[i], (uint64_t)i);
        free(keep[i]);
    }
    _exit(0);
}

int main(void)
{
    tl_require_liballoc();
    seed = tl_seed("fork_alloc");
    int nt = tl_threads();
    double secs = tl_seconds(2.5, 30);
    int max_forks = tl_long() ? 100000 : 400;
    pthread_t *ts = calloc((size_t)nt, sizeof(*ts));
    CHECK_NONNULL(ts);
    for (int i = 0; i < nt; i++)
        CHECK_I(pthread_create(&ts[i], NULL, background, (void *)(uintptr_t)i), ==, 0);
    double deadline = tl_now() + secs;
    int forks = 0;
    uint64_t st = seed;
    while (forks < 10 || (tl_now() < deadline && forks < max_forks)) {
        /* Blocks the child will check and free. */
        unsigned char *pre[4];
        uint64_t key = tl_rand(&st);
        for (size_t i = 0; i < 4; i++) {
            pre[i] = malloc(1000 + i * 977);
            CHECK_NONNULL(pre[i]);
            tl_fill(pre[i], 1000 + i * 977, key + i);
        }
        fflush(stdout);
        pid_t pid = fork();
        CHECK_MSG(pid >= 0, "fork failed: errno %d", errno);
        if (pid == 0)
            child_work(pre, 4, key);
        forks++;
        for (size_t i = 0; i < 4; i++) {
            CHECK_PATTERN(pre[i], 1000 + i * 977, key + i);
            free(pre[i]);
        }
        int status = 0;
        double give_up = tl_now() + 70; /* past the child's alarm */
        pid_t r;
        while ((r = waitpid(pid, &status, WNOHANG)) == 0 && tl_now() < give_up)
            usleep(500);
        if (r == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            CHECK_MSG(0,
                      "fork %d: child %d hung for 70 s after fork (allocator lock held "
                      "across fork?)",
                      forks, (int)pid);
        }
        CHECK_MSG(r == pid, "waitpid: %d (errno %d)", (int)r, errno);
        CHECK_MSG(!WIFSIGNALED(status), "fork %d: child killed by signal %d%s", forks,
                  WTERMSIG(status), WTERMSIG(status) == SIGALRM ? " (deadlock: alarm fired)" : "");
        CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "fork %d: child exit status %d",
                  forks, WEXITSTATUS(status));
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < nt; i++)
        CHECK_I(pthread_join(ts[i], NULL), ==, 0);
    free(ts);
    printf("fork_alloc: %d forks with %d allocating threads, all children exited 0\n", forks, nt);
    return 0;
}
