/*
 * fastpath_count: the program scripts/fastpath_count.sh steps through under
 * gdb to count the instructions the allocator's entry points execute on
 * their common path. It links no allocator: the script preloads the library
 * to measure.
 *
 * Warm-up first, so the measured calls are the common case: the thread's
 * heap exists, the size class has a current page with free blocks, the PLT
 * slots are bound, and one block (keep) stays live on that page so a free
 * never empties it (an emptied page takes the page-retire branch). Then
 * ROUNDS times:
 *   fastpath_begin(); malloc(SIZE); realloc(p, SIZE - 8) (the same class:
 *   a string grown or shrunk inside its block); free(p); fastpath_end();
 * and, when the preloaded library defines the C++ operators (looked up by
 * their mangled names, so this C program needs no libstdc++):
 *   fastpath_begin_cxx(); operator new(SIZE); operator delete(p, SIZE)
 *   (the sized form a C++14 delete-expression calls); fastpath_end().
 * The script takes the minimum over rounds, so a round that happens to
 * cross a sampling or decay-tick event does not count.
 */
#include <dlfcn.h>
#include <stdlib.h>

#define SIZE 64
#define WARMUP 1000

/* Calls the script breaks on: a round of the C entry points, of the C++
 * operators, and the end of either. */
__attribute__((noinline)) void fastpath_begin(void)
{
    __asm__ volatile("" : : : "memory");
}

__attribute__((noinline)) void fastpath_begin_cxx(void)
{
    __asm__ volatile("" : : : "memory");
}

__attribute__((noinline)) void fastpath_end(void)
{
    __asm__ volatile("" : : : "memory");
}

static void *(*op_new)(size_t);
static void (*op_delete_sized)(void *, size_t);

/* One round of each; 0, or 1 when an allocation failed. */
static int round_c(int measured)
{
    if (measured)
        fastpath_begin();
    char *p = malloc(SIZE);
    if (!p)
        return 1;
    *(volatile char *)p = 1;
    p = realloc(p, SIZE - 8);
    if (!p)
        return 1;
    *(volatile char *)p = 1;
    free(p);
    if (measured)
        fastpath_end();
    return 0;
}

static int round_cxx(int measured)
{
    if (!op_new || !op_delete_sized)
        return 0;
    if (measured)
        fastpath_begin_cxx();
    char *p = op_new(SIZE);
    *(volatile char *)p = 1;
    op_delete_sized(p, SIZE);
    if (measured)
        fastpath_end();
    return 0;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    /* operator new(unsigned long), operator delete(void *, unsigned long). */
    op_new = (void *(*)(size_t))dlsym(RTLD_DEFAULT, "_Znwm");
    op_delete_sized = (void (*)(void *, size_t))dlsym(RTLD_DEFAULT, "_ZdlPvm");
    void *keep = malloc(SIZE);
    if (!keep)
        return 1;
    for (int i = 0; i < WARMUP; i++)
        if (round_c(0) || round_cxx(0))
            return 1;
    for (int i = 0; i < rounds; i++)
        if (round_c(1) || round_cxx(1))
            return 1;
    free(keep);
    return 0;
}
