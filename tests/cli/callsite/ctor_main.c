/* The program for tests/cli/jeprof_callsite_ctor.sh: linked with
 * ctor_lib.c's library, whose constructor allocates. */
#include <stdio.h>

extern void *ctor_keep_a, *ctor_keep_b;

int main(void)
{
    printf("%d\n", ctor_keep_a != NULL && ctor_keep_b != NULL);
    return 0;
}
