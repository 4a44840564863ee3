/* huge: 2 MiB-aligned mappings for big blocks (see huge.h). */
#include "huge.h"
#include "os.h"
#include "rtree.h"
#include "stats.h"

#include <string.h>
#include <sys/mman.h>

static size_t map_size_for(size_t usize)
{
    return ALIGN_UP(usize, CHUNK);
}

/* Take a cached mapping that fits; trims its tail. Lock held. */
static struct span *cache_take(struct arena *a, size_t map_size, size_t align)
{
    struct span *best = NULL;
    for (struct span *s = a->huge_cache; s; s = s->next) {
        if (span_bytes(s) >= map_size && (s->start & (align - 1)) == 0 &&
            (!best || s->npages < best->npages))
            best = s;
    }
    if (!best)
        return NULL;
    if (best->prev)
        best->prev->next = best->next;
    else
        a->huge_cache = best->next;
    if (best->next)
        best->next->prev = best->prev;
    size_t have = span_bytes(best);
    a->stats.huge_cached -= best->npages;
    if (have > map_size) {
        os_unmap((void *)(best->start + map_size), have - map_size);
        a->stats.mapped -= have - map_size;
        best->npages = map_size >> LG_PAGE;
    }
    return best;
}

void *huge_alloc(struct arena *a, size_t usize, size_t align, bool zero)
{
    size_t map_size = map_size_for(usize);
    if (map_size < usize)
        return NULL;
    if (align < CHUNK)
        align = CHUNK;
    pthread_mutex_lock(&a->lock);
    struct span *s = cache_take(a, map_size, align);
    if (!s) {
        pthread_mutex_unlock(&a->lock);
        void *mem;
        if (os_map_aligned(map_size, align, &mem) != 0)
            return NULL;
        os_thp_apply(mem, map_size);
        if (a->node >= 0)
            os_ops.bind_node(mem, map_size, a->node);
        pthread_mutex_lock(&a->lock);
        s = arena_span_new(a);
        if (!s || rtree_set((uintptr_t)mem, (uintptr_t)s | 1) != 0) {
            if (s)
                arena_span_release(a, s);
            pthread_mutex_unlock(&a->lock);
            os_unmap(mem, map_size);
            return NULL;
        }
        s->start = (uintptr_t)mem;
        s->npages = map_size >> LG_PAGE;
        s->zeroed = 1;
        a->stats.mapped += map_size;
    } else {
        s->zeroed = 0;
    }
    s->kind = SPAN_HUGE;
    s->usize = usize;
    atomic_store_explicit(&s->owner_tag, 0, memory_order_relaxed);
    atomic_store_explicit(&s->nsampled, 0, memory_order_relaxed);
    a->stats.active_pages += s->npages;
    a->stats.large_nmalloc++;
    a->stats.large_allocated += usize;
    pthread_mutex_unlock(&a->lock);
    if (zero && !s->zeroed)
        memset((void *)s->start, 0, usize);
    return (void *)s->start;
}

static void unmap_span_locked(struct arena *a, struct span *s)
{
    if (rtree_set(s->start, 0) != 0)
        alloc_fatal(__FILE__, __LINE__, "rtree_set clear");
    os_unmap((void *)s->start, span_bytes(s));
    a->stats.mapped -= span_bytes(s);
    arena_span_release(a, s);
}

void huge_free(struct span *s)
{
    struct arena *a = s->arena;
    bool stats_poke_pending = false;
    pthread_mutex_lock(&a->lock);
    a->stats.active_pages -= s->npages;
    a->stats.large_ndalloc++;
    a->stats.large_allocated -= s->usize;
    s->kind = SPAN_FREE;
    s->state = SPAN_DIRTY;
    s->freed_ns = decay_now();
    if (a->decay_dirty.ms == 0) {
        unmap_span_locked(a, s);
    } else {
        if (a->huge_cache == NULL && a->decay_dirty.ms > 0)
            stats_poke_pending = true;
        s->prev = NULL;
        s->next = a->huge_cache;
        if (s->next)
            s->next->prev = s;
        a->huge_cache = s;
        a->stats.huge_cached += s->npages;
        /* Bound the cache: 16 MiB plus 1/8 of what the arena has in use. */
        size_t cap = ((size_t)16 << 20 >> LG_PAGE) + a->stats.active_pages / 8;
        while (a->stats.huge_cached > cap) {
            struct span *old = a->huge_cache;
            while (old->next)
                old = old->next;
            old->prev ? (void)(old->prev->next = NULL) : (void)(a->huge_cache = NULL);
            a->stats.huge_cached -= old->npages;
            a->stats.purged += old->npages;
            unmap_span_locked(a, old);
        }
    }
    pthread_mutex_unlock(&a->lock);
    if (stats_poke_pending)
        stats_poke_heaps();
    arena_decay_tick(a);
}

/* Unmap cached mappings older than the dirty decay time, or all with force. Lock held. */
void huge_decay_locked(struct arena *a, uint64_t now, bool force)
{
    ssize_t ms = a->decay_dirty.ms;
    if (ms < 0 && !force)
        return;
    uint64_t max_age = ms > 0 ? (uint64_t)ms * 1000000u : 0;
    struct span *s = a->huge_cache;
    while (s) {
        struct span *next = s->next;
        if (force || now - s->freed_ns >= max_age) {
            if (s->prev)
                s->prev->next = s->next;
            else
                a->huge_cache = s->next;
            if (s->next)
                s->next->prev = s->prev;
            a->stats.huge_cached -= s->npages;
            a->stats.npurge++;
            a->stats.purged += s->npages;
            unmap_span_locked(a, s);
        }
        s = next;
    }
}

bool huge_resize_in_place(struct span *s, size_t new_usize, bool zero)
{
    struct arena *a = s->arena;
    size_t old_map = span_bytes(s), new_map = map_size_for(new_usize);
    size_t old_usize = s->usize;
    if (new_map > old_map) {
        void *out;
        if (os_remap((void *)s->start, old_map, new_map, NULL, &out) != 0)
            return false;
        os_thp_apply((void *)(s->start + old_map), new_map - old_map);
    } else if (new_map < old_map) {
        os_unmap((void *)(s->start + new_map), old_map - new_map);
    }
    if (zero && new_usize > old_usize)
        memset((void *)(s->start + old_usize), 0, (new_map > old_map ? old_map : new_usize) - old_usize);
    pthread_mutex_lock(&a->lock);
    a->stats.mapped += new_map;
    a->stats.mapped -= old_map;
    a->stats.active_pages += new_map >> LG_PAGE;
    a->stats.active_pages -= old_map >> LG_PAGE;
    a->stats.large_allocated += new_usize;
    a->stats.large_allocated -= old_usize;
    s->npages = new_map >> LG_PAGE;
    s->usize = new_usize;
    pthread_mutex_unlock(&a->lock);
    return true;
}

void *huge_realloc_move(struct span *s, size_t new_usize)
{
    struct arena *a = s->arena;
    size_t old_map = span_bytes(s), new_map = map_size_for(new_usize);
    if (new_map <= old_map || (s->start & (CHUNK - 1)) != 0)
        return NULL;
    void *dst, *out;
    if (os_map_aligned(new_map, CHUNK, &dst) != 0)
        return NULL;
    /* Register the destination (ours: we hold its mapping) and drop the old
     * entry before mremap frees the old range, so a concurrent mapping that
     * lands there can never have its entry cleared by us. */
    if (rtree_set((uintptr_t)dst, (uintptr_t)s | 1) != 0) {
        os_unmap(dst, new_map);
        return NULL;
    }
    uintptr_t old_start = s->start;
    if (rtree_set(old_start, 0) != 0)
        alloc_fatal(__FILE__, __LINE__, "rtree_set clear");
    if (os_remap((void *)old_start, old_map, new_map, dst, &out) != 0) {
        if (rtree_set(old_start, (uintptr_t)s | 1) != 0 || rtree_set((uintptr_t)dst, 0) != 0)
            alloc_fatal(__FILE__, __LINE__, "rtree_set restore");
        os_unmap(dst, new_map);
        return NULL;
    }
    os_thp_apply(out, new_map);
    pthread_mutex_lock(&a->lock);
    a->stats.mapped += new_map - old_map;
    a->stats.active_pages += (new_map - old_map) >> LG_PAGE;
    a->stats.large_allocated += new_usize - s->usize;
    s->start = (uintptr_t)out;
    s->npages = new_map >> LG_PAGE;
    s->usize = new_usize;
    pthread_mutex_unlock(&a->lock);
    return out;
}
