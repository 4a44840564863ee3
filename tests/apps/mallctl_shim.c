/* A library that exports a function named mallctl and is no allocator
 * (tests/apps/prof_foreign_shim.sh): calling it aborts the process. */
#include <stddef.h>
#include <stdlib.h>

int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
{
    (void)name, (void)oldp, (void)oldlenp, (void)newp, (void)newlen;
    abort();
}
