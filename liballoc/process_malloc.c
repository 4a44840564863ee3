/* process_malloc: the process's own malloc when liballoc is not it (see
 * process_malloc.h). */
#include "process_malloc.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <stdint.h>
#include "config.h"
#include "rtree.h"

/* The exported free's address (the public definition, not the internal
 * copy alloc_free): what dlsym finds when the program's free is ours. */
extern void alloc_exported_free(void *p) __attribute__((visibility("hidden")));

static void (*_Atomic proc_free)(void *);
static void *(*_Atomic proc_realloc)(void *, size_t);
static size_t (*_Atomic proc_usable)(void *);

void process_malloc_boot(void)
{
    /* The common case (liballoc is the process's malloc) looks up free only. */
    void *f = dlsym(RTLD_DEFAULT, "free");
    if (!f || f == (void *)alloc_exported_free)
        return;
    void *r = dlsym(RTLD_DEFAULT, "realloc");
    void *u = dlsym(RTLD_DEFAULT, "malloc_usable_size");
    if (!r)
        return;
    atomic_store_explicit(&proc_realloc, (void *(*)(void *, size_t))r, memory_order_relaxed);
    atomic_store_explicit(&proc_usable, (size_t(*)(void *))u, memory_order_relaxed);
    atomic_store_explicit(&proc_free, (void (*)(void *))f, memory_order_relaxed);
}

bool process_malloc_active(void)
{
    return atomic_load_explicit(&proc_free, memory_order_relaxed) != NULL;
}

bool process_malloc_owns(const void *p)
{
    return process_malloc_active() && rtree_get((uintptr_t)p) == 0;
}

void process_malloc_free(void *p)
{
    atomic_load_explicit(&proc_free, memory_order_relaxed)(p);
}

void *process_malloc_realloc(void *p, size_t size)
{
    return atomic_load_explicit(&proc_realloc, memory_order_relaxed)(p, size);
}

size_t process_malloc_usable_size(void *p)
{
    size_t (*u)(void *) = atomic_load_explicit(&proc_usable, memory_order_relaxed);
    return u ? u(p) : 0;
}
