/* prof: sampling profiler entry points (see liballoc/prof_hooks.h). */
#include "prof_hooks.h"
#include "heap.h"

#include <stdint.h>

int prof_boot(void)
{
    return 0;
}

void prof_thread_init(struct heap *h)
{
    h->next_event = UINT64_MAX;
}

void prof_thread_exit(struct heap *h)
{
    (void)h;
}

void *prof_alloc_event(struct heap *h, void *p, size_t size, size_t usize)
{
    (void)size;
    (void)usize;
    h->next_event = UINT64_MAX;
    return p;
}

void prof_free_check(struct span *s, void *p)
{
    (void)s;
    (void)p;
}

void prof_prefork(void) {}
void prof_postfork_parent(void) {}
void prof_postfork_child(void) {}
