/* Test program for jeprof-c's compatibility tests: distinct call paths,
 * inlining, recursion, same-named static functions in two files and the
 * calloc/realloc/posix_memalign entry points. Built -O2 without frame
 * pointers. Keeps everything live so in-use counts are stable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *b_entry(size_t n);
/* Global so the compiler cannot drop the allocations. */
void *keep[20000];
int nkeep;

static void hold(void *p)
{
    if (nkeep < 20000)
        keep[nkeep++] = p;
}

/* Same name as a static function in prog_b.c. */
static __attribute__((noinline)) void *helper(size_t n)
{
    void *p = malloc(n);
    memset(p, 1, n);
    return p;
}

static inline void *inlined_mid(size_t n)
{
    return helper(n * 2);
}

__attribute__((noinline)) void path_one(int k)
{
    for (int i = 0; i < 300; i++)
        hold(inlined_mid(100 + k * 16));
}

__attribute__((noinline)) void path_two(void)
{
    for (int i = 0; i < 200; i++)
        hold(calloc(1, 3000));
    for (int i = 0; i < 50; i++) {
        void *p = malloc(100);
        hold(realloc(p, 20000));
    }
    for (int i = 0; i < 40; i++) {
        void *p = NULL;
        if (posix_memalign(&p, 4096, 8192) == 0)
            hold(p);
    }
}

__attribute__((noinline)) int recurse(int d)
{
    if (d == 0) {
        hold(malloc(40000));
        return 1;
    }
    return recurse(d - 1) + 1;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 1;
    for (int r = 0; r < rounds; r++) {
        path_one(1);
        path_one(2);
        path_two();
        for (int i = 0; i < 60; i++)
            recurse(i % 7);
        for (int i = 0; i < 500; i++)
            hold(b_entry(64 + (size_t)i));
    }
    printf("%d\n", nkeep);
    return 0;
}
