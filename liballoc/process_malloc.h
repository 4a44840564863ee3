/*
 * process_malloc: the process's own malloc, when liballoc is not it.
 *
 * A plugin linked with -lalloc in a program that is not (liballoc loaded
 * by dlopen, RTLD_LOCAL) leaves malloc and free to whatever the program's
 * global symbol search finds first: glibc's, usually. Only names that
 * search lacks bind to liballoc, and they can receive that allocator's
 * blocks. The case found in the field: a C program dlopens a C++ plugin
 * linked with -lalloc, then a C++ plugin that is not. libstdc++, loaded
 * with the first, binds its operator delete(void *) to liballoc's (the C
 * program has none); the second plugin's new goes through libstdc++ to
 * glibc's malloc, and its sized delete, through libstdc++, to liballoc's
 * delete: every block it freed was reported as "not allocated here" and
 * leaked (22 008 reports and 129 MB in the helper's program).
 *
 * So when dlsym(RTLD_DEFAULT, "free") is not liballoc's free, a pointer
 * that liballoc's radix tree does not know, given to free, cfree, the C++
 * delete operators, dallocx, sdallocx, realloc or malloc_usable_size, is
 * the process allocator's block and goes to that allocator's function of
 * the same name (realloc's result is then its block; dallocx and sdallocx
 * go to its free). Misuse detection for such pointers is that allocator's
 * (glibc aborts on a wild one). When liballoc is the process's malloc
 * (preloaded, or linked into the program), nothing changes: such a
 * pointer is reported and ignored (misuse.h).
 *
 * Thread-safety: set once by process_malloc_boot, from liballoc's
 * constructor (dlsym is safe there, never inside malloc); read with
 * relaxed atomics: a call racing the constructor sees no process
 * allocator and reports, as before.
 */
#ifndef PROCESS_MALLOC_H
#define PROCESS_MALLOC_H

#include <stdbool.h>
#include <stddef.h>

/* Look up the process's free, realloc and malloc_usable_size; keep them
 * if free is not liballoc's. From the constructor only. */
void process_malloc_boot(void);

/* True if the process has another malloc (liballoc loaded by a plugin). */
bool process_malloc_active(void);

/* True if p (not NULL) is not liballoc's memory (the radix tree does not
 * know it) and the process has another malloc: the functions below then
 * serve it. */
bool process_malloc_owns(const void *p);

/* The process allocator's free, realloc and malloc_usable_size of p; only
 * after process_malloc_owns(p). */
void process_malloc_free(void *p);
void *process_malloc_realloc(void *p, size_t size);
size_t process_malloc_usable_size(void *p);

#endif
