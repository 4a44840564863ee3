/* A library whose constructor allocates: under LD_PRELOAD it runs before
 * liballoc's own constructor (the program's libraries are initialised
 * first), so before the profiler has loaded libunwind
 * (tests/cli/jeprof_callsite_ctor.sh). Built without frame pointers. */
#include <stdlib.h>

void *ctor_keep_a, *ctor_keep_b;

__attribute__((noinline)) static void *ctor_alloc(size_t n)
{
    void *p = malloc(n); /* @CTOR_ALLOC */
    __asm__ volatile("" ::: "memory");
    return p;
}

__attribute__((constructor)) static void ctor_init(void)
{
    ctor_keep_a = ctor_alloc(50000); /* @CTOR_CALL_A */
    ctor_keep_b = ctor_alloc(30000); /* @CTOR_CALL_B */
}
