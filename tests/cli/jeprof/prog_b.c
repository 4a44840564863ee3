/* Second file of the test program: another static helper(). */
#include <stdlib.h>
#include <string.h>

static __attribute__((noinline)) void *helper(size_t n)
{
    char *p = malloc(n + 8);
    memset(p, 2, n + 8);
    return p;
}

__attribute__((noinline)) void *b_entry(size_t n)
{
    return helper(n);
}
