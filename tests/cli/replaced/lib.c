/* The library of tests/cli/jeprof_replaced.sh. Built as is, it allocates in
 * lib_alloc_original; rebuilt with -DREBUILT, other functions sit at the
 * same offsets, so a reader that trusts the new file names them. */
#include <stdlib.h>

#ifdef REBUILT
int rebuilt_pad_a(int x)
{
    return x * 3 + 1;
}
int rebuilt_pad_b(int x)
{
    return x * 5 + rebuilt_pad_a(x);
}
__attribute__((noinline)) void *lib_alloc_rebuilt(size_t n)
{
    void *p = calloc(1, n);
    __asm__ volatile("" ::: "memory");
    return p;
}
void *lib_entry(size_t n)
{
    return rebuilt_pad_b((int)n) ? lib_alloc_rebuilt(n) : NULL;
}
#else
__attribute__((noinline)) void *lib_alloc_original(size_t n)
{
    void *p = malloc(n);
    __asm__ volatile("" ::: "memory");
    return p;
}
void *lib_entry(size_t n)
{
    return lib_alloc_original(n);
}
#endif
