/*
 * heapsort: sorting an array in place without allocating, for the tables
 * libprof builds inside malloc or a dump, where qsort (which may call
 * malloc) cannot be used: the symbol tables of pprof dumps (elfsym.c) and
 * a static program's FDE table (cfi.c). Elements of size bytes (at most
 * HEAPSORT_ELEM_MAX: callers assert it) ordered by the uint64_t at their
 * start, ascending. An
 * array already in order (the linker's, usually) is left after one pass.
 */
#ifndef HEAPSORT_H
#define HEAPSORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HEAPSORT_ELEM_MAX 32

static inline uint64_t heapsort_key(const char *e)
{
    uint64_t k;
    memcpy(&k, e, sizeof(k));
    return k;
}

static inline void heapsort_swap(char *a, char *b, size_t size)
{
    char t[HEAPSORT_ELEM_MAX];
    memcpy(t, a, size);
    memcpy(a, b, size);
    memcpy(b, t, size);
}

static inline void heapsort_sift(char *a, size_t i, size_t n, size_t size)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            return;
        if (c + 1 < n && heapsort_key(a + (c + 1) * size) > heapsort_key(a + c * size))
            c++;
        if (heapsort_key(a + i * size) >= heapsort_key(a + c * size))
            return;
        heapsort_swap(a + i * size, a + c * size, size);
        i = c;
    }
}

static inline void heapsort_by_key(void *base, size_t n, size_t size)
{
    char *a = base;
    bool sorted = true;
    for (size_t i = 1; i < n && sorted; i++)
        sorted = heapsort_key(a + (i - 1) * size) <= heapsort_key(a + i * size);
    if (sorted)
        return;
    for (size_t i = n / 2; i-- > 0;)
        heapsort_sift(a, i, n, size);
    for (size_t i = n; i-- > 1;) {
        heapsort_swap(a, a + i * size, size);
        heapsort_sift(a, 0, i, size);
    }
}

#endif
