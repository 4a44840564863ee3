/*
 * fastpath_count: the program scripts/fastpath_count.sh steps through under
 * gdb to count the instructions malloc and free execute on their common
 * path. It links no allocator: the script preloads the library to measure.
 *
 * Warm-up first, so the measured calls are the common case: the thread's
 * heap exists, the size class has a current page with free blocks, the PLT
 * slots are bound, and one block (keep) stays live on that page so a free
 * never empties it (an emptied page takes the page-retire branch). Then
 * ROUNDS times: fastpath_mark(1); malloc(SIZE); free(p); fastpath_mark(0).
 * The script takes the minimum over rounds, so a round that happens to
 * cross a sampling or decay-tick event does not count.
 */
#include <stdlib.h>

#define SIZE 64
#define WARMUP 1000

/* A call the script breaks on; the argument says which side of a round. */
__attribute__((noinline)) void fastpath_mark(int phase)
{
    __asm__ volatile("" : : "r"(phase) : "memory");
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    void *keep = malloc(SIZE);
    if (!keep)
        return 1;
    for (int i = 0; i < WARMUP; i++) {
        void *p = malloc(SIZE);
        if (!p)
            return 1;
        *(volatile char *)p = 1;
        free(p);
    }
    for (int i = 0; i < rounds; i++) {
        fastpath_mark(1);
        void *p = malloc(SIZE);
        if (!p)
            return 1;
        *(volatile char *)p = 1;
        free(p);
        fastpath_mark(0);
    }
    free(keep);
    return 0;
}
