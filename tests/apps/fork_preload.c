/*
 * fork_preload: a program that knows nothing of liballoc (run with it
 * preloaded, tests/apps/fork_preload.sh) forks repeatedly while worker
 * threads allocate (malloc, calloc, realloc, posix_memalign, free; sizes
 * from check.h's tl_rand_size, small to 4 MiB) and, with "stdio" as argv[3], write to
 * open_memstream streams and call fflush(NULL): glibc's fork takes the
 * stdio list lock after the fork handlers ran, and a stream's flush
 * reallocates under its own lock, so the allocator's locks and stdio's
 * must not deadlock across fork (the case of glibc's
 * tst-malloc-fork-deadlock). Each child allocates and frees, uses stdio
 * when the workers do, and _exits 0; the parent kills a child that takes
 * more than 20 s and fails. Usage: fork_preload THREADS FORKS [stdio].
 * Exit 0 pass, 1 fail.
 */
#include "../integration/check.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#define SLOTS 128

static atomic_int stop;
static int with_stdio;

static void *worker(void *arg)
{
    uint64_t s = tl_mix64((uintptr_t)arg + 1);
    void *slot[SLOTS] = {0};
    FILE *mf = NULL;
    char *mbuf = NULL;
    size_t mlen = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        int i = (int)(tl_rand_below(&s, SLOTS));
        if (slot[i]) {
            if (tl_rand_below(&s, 4) == 0) {
                void *q = realloc(slot[i], tl_rand_size(&s));
                if (q)
                    slot[i] = q;
            } else {
                free(slot[i]);
                slot[i] = NULL;
            }
        } else {
            size_t n = tl_rand_size(&s);
            switch (tl_rand_below(&s, 4)) {
            case 0:
                slot[i] = calloc(1, n);
                break;
            case 1:
                if (posix_memalign(&slot[i], 64, n) != 0)
                    slot[i] = NULL;
                break;
            default:
                slot[i] = malloc(n);
                break;
            }
            if (slot[i])
                memset(slot[i], 0x5a, n < 256 ? n : 256);
        }
        if (with_stdio && tl_rand_below(&s, 64) == 0) {
            if (!mf)
                mf = open_memstream(&mbuf, &mlen);
            if (mf) {
                fprintf(mf, "%llu: a line that grows the stream's buffer\n",
                        (unsigned long long)tl_rand(&s));
                if (tl_rand_below(&s, 8) == 0)
                    fflush(NULL);
                if (mlen > 100000) {
                    fclose(mf);
                    free(mbuf);
                    mf = NULL;
                    mbuf = NULL;
                    mlen = 0;
                }
            }
        }
    }
    for (int i = 0; i < SLOTS; i++)
        free(slot[i]);
    if (mf) {
        fclose(mf);
        free(mbuf);
    }
    return NULL;
}

/* The child: allocate, check, free; exit codes 2.. name what failed. */
static void child(void)
{
    void *b[24];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 24; i++) {
            size_t n = (size_t)1 << (i % 23);
            b[i] = malloc(n);
            if (!b[i])
                _exit(2);
            memset(b[i], i, n);
        }
        for (int i = 0; i < 24; i++)
            free(b[i]);
    }
    unsigned char *c = calloc(100, 100);
    if (!c)
        _exit(3);
    for (int i = 0; i < 10000; i++)
        if (c[i])
            _exit(4);
    c = realloc(c, 300000);
    if (!c)
        _exit(5);
    free(c);
    if (with_stdio) {
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        if (!m)
            _exit(6);
        fprintf(m, "child %d", (int)getpid());
        fclose(m);
        free(buf);
    }
    _exit(0);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: fork_preload THREADS FORKS [stdio]\n");
        return 2;
    }
    int nthreads = atoi(argv[1]), nforks = atoi(argv[2]);
    with_stdio = argc > 3 && strcmp(argv[3], "stdio") == 0;
    if (nthreads < 1 || nthreads > 64 || nforks < 1)
        return 2;
    pthread_t t[64];
    for (int i = 0; i < nthreads; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i) != 0)
            return 1;
    int rc = 0;
    for (int f = 0; f < nforks && rc == 0; f++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            rc = 1;
            break;
        }
        if (pid == 0)
            child();
        int st = 0;
        struct timespec ms = {0, 1000000};
        int waited = 0;
        while (waitpid(pid, &st, WNOHANG) == 0) {
            nanosleep(&ms, NULL);
            if (++waited > 20000) {
                fprintf(stderr, "fork %d: child %d hung (killed after 20 s)\n", f, (int)pid);
                kill(pid, SIGKILL);
                waitpid(pid, &st, 0);
                rc = 1;
                break;
            }
        }
        if (rc == 0 && (!WIFEXITED(st) || WEXITSTATUS(st) != 0)) {
            fprintf(stderr, "fork %d: child status %#x\n", f, st);
            rc = 1;
        }
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < nthreads; i++)
        pthread_join(t[i], NULL);
    if (rc == 0)
        printf("%d forks with %d allocating threads%s: ok\n", nforks, nthreads,
               with_stdio ? " (and stdio)" : "");
    return rc;
}
