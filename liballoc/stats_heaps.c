/*
 * stats_heaps: the live heaps whose per-thread byte counters stats_refresh
 * sums, the counters of heaps that exited, and the allocator-wide event
 * counters (see stats.h). Apart from stats.c because every thread runs it
 * (heap creation and exit, decay's pokes) while stats.c runs only for
 * mallctl and malloc_stats_print: the two lie in different parts of the
 * library's code (liballoc.mk, LIBALLOC_SO_OBJS).
 */
#include "stats.h"
#include "heap.h"

#include <pthread.h>
#include <stdatomic.h>

pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
struct heap *stats_heaps;
uint64_t stats_retired_allocated, stats_retired_deallocated;
_Atomic uint64_t stats_orphan_allocated, stats_orphan_deallocated;
_Atomic size_t stats_zero_reallocs;

void stats_heap_register(struct heap *h)
{
    pthread_mutex_lock(&stats_lock);
    h->all_prev = NULL;
    h->all_next = stats_heaps;
    if (stats_heaps)
        stats_heaps->all_prev = h;
    stats_heaps = h;
    pthread_mutex_unlock(&stats_lock);
}

void stats_heap_retire(struct heap *h)
{
    pthread_mutex_lock(&stats_lock);
    if (h->all_prev)
        h->all_prev->all_next = h->all_next;
    else
        stats_heaps = h->all_next;
    if (h->all_next)
        h->all_next->all_prev = h->all_prev;
    stats_retired_allocated += h->allocated;
    stats_retired_deallocated += h->deallocated;
    pthread_mutex_unlock(&stats_lock);
}

void stats_poke_heaps(void)
{
    pthread_mutex_lock(&stats_lock);
    for (struct heap *h = stats_heaps; h; h = h->all_next) {
        heap_nudge(h);
    }
    pthread_mutex_unlock(&stats_lock);
}

void stats_prefork(void) { pthread_mutex_lock(&stats_lock); }
void stats_postfork_parent(void) { pthread_mutex_unlock(&stats_lock); }
void stats_postfork_child(void) { pthread_mutex_init(&stats_lock, NULL); }

void stats_note_zero_realloc(void)
{
    atomic_fetch_add_explicit(&stats_zero_reallocs, 1, memory_order_relaxed);
}

void stats_note_orphan_alloc(size_t usize)
{
    atomic_fetch_add_explicit(&stats_orphan_allocated, usize, memory_order_relaxed);
}

void stats_note_orphan_free(size_t usize)
{
    atomic_fetch_add_explicit(&stats_orphan_deallocated, usize, memory_order_relaxed);
}

void stats_note_orphan_free_undo(size_t usize)
{
    atomic_fetch_sub_explicit(&stats_orphan_deallocated, usize, memory_order_relaxed);
}
