/* Allocating call sites for the call-site tests (tests/cli/jeprof_callsite_c.sh).
 * Each allocation is marked "@NAME"; its call is the last one before a line
 * change, or of its function, or of an inlined function, so a reader that
 * takes the return address for the call names the next line instead.
 * Every block stays live until the final dump. */
#include <stdlib.h>
#include <string.h>

static volatile int touched;
static char *keep[400];
static int nkeep;

__attribute__((noinline)) static char *make_record(size_t n)
{
    char *r = malloc(n); /* @REC */
    touched = 1;
    r[0] = 1;
    return r;
}

__attribute__((noinline)) static char *make_zeroed(size_t n)
{
    char *z = calloc(n, 2); /* @ZERO */
    z[1] = 3;
    return z;
}

__attribute__((noinline)) static char *grow(char *p, size_t n)
{
    p = realloc(p, n); /* @GROW */
    p[n - 1] = 4;
    return p;
}

static inline __attribute__((always_inline)) char *inl_alloc(size_t n)
{
    char *p = malloc(n); /* @INL */
    p[0] = 2;
    return p;
}

__attribute__((noinline)) static char *user_of_inl(size_t n)
{
    char *q = inl_alloc(n); /* @CALLINL */
    touched = 2;
    return q;
}

/* A call whose argument is on the next line: optimised code starts with
 * that line, before the call's own (jeprof --list took a function's first
 * instruction for its first line and moved these bytes down). */
__attribute__((noinline)) void split_args(int n)
{
    char *p = malloc( /* @SPLIT */
        (size_t)n * 3 + 1);
    keep[nkeep++] = p;
}

int main(void)
{
    for (int i = 0; i < 20; i++) {
        keep[nkeep++] = make_record(5000);
        keep[nkeep++] = make_zeroed(3000);
        keep[nkeep++] = grow(NULL, 7000);
        keep[nkeep++] = user_of_inl(9000);
        split_args(1000 + touched);
    }
    memset(keep[0], 0, 1);
    return keep[3][0] == 5;
}
