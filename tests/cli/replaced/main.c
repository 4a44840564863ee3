/* The program of tests/cli/jeprof_replaced.sh: allocates through its own
 * prog_alloc_original and through libreplaced.so's lib_entry. With two
 * arguments it renames argv[2] over argv[1] before exiting (the final dump
 * then shows that library " (deleted)"). Built with -DREBUILT, other
 * functions take the original's offsets. */
#include <stdio.h>
#include <stdlib.h>

void *lib_entry(size_t n);

#ifdef REBUILT
int prog_pad_a(int x)
{
    return x * 7 + 2;
}
int prog_pad_b(int x)
{
    return x * 11 + prog_pad_a(x);
}
#define PROG_ALLOC prog_alloc_rebuilt
#else
#define PROG_ALLOC prog_alloc_original
#endif

__attribute__((noinline)) void *PROG_ALLOC(size_t n)
{
    void *p = malloc(n);
    __asm__ volatile("" ::: "memory");
    return p;
}

int main(int argc, char **argv)
{
    static void *keep[100];
    for (int i = 0; i < 50; i++) {
        keep[2 * i] = lib_entry(4096);
        keep[2 * i + 1] = PROG_ALLOC(8192);
    }
    if (argc > 2 && rename(argv[2], argv[1]) != 0) {
        perror("rename");
        return 1;
    }
    return keep[7] == NULL;
}
