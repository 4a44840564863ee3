/*
 * prof_host: the allocator's side of the seam with the profiler
 * (prof_hooks.h, Part 2). Everything the profiler needs from liballoc's
 * internals goes through here, so the heap, span and radix-tree layouts
 * stay private to liballoc.
 */
#include "prof_hooks.h"
#include "arena.h"
#include "base.h"
#include "defer.h"
#include "heap.h"
#include "os.h"
#include "rtree.h"
#include "sizeclass.h"
#include "span.h"
#include "warn.h"

#include <time.h>

_Static_assert(PROF_HOST_NSMALL == NSMALL, "prof_hooks.h's small class count is stale");

struct heap *prof_host_heap(bool create)
{
    if (create)
        return heap_get();
    struct heap *h = heap_tls;
    return h == &heap_empty ? NULL : h;
}

void **prof_host_slot(struct heap *h) { return &h->prof; }

uint64_t prof_host_allocated(struct heap *h) { return h->allocated; }

uint64_t prof_host_thread_uid(struct heap *h) { return h->thread_uid; }

/* The owner's sample threshold; heap_event / heap_thread setup fold it into
 * next_event after the hook returns (see heap.c). */
void prof_host_sample_wait(struct heap *h, uint64_t wait)
{
    h->prof_next = wait >= UINT64_MAX - h->allocated ? UINT64_MAX : h->allocated + wait;
}

/* The span of block p: a slab page, a large block in a chunk, or a huge block. */
static struct span *span_of(uintptr_t p)
{
    return rtree_value_span(rtree_get(p), p);
}

/* Count p on its span and remember its record in a free slot (or count it
 * in the overflow), so span_maybe_sampled sends p's free to the profiler:
 * one compare-and-swap of nsampled counts p and claims the slot (the slot's
 * bit), then the record goes in the slot, before p is handed out. A slab page owned
 * by the caller's heap also gets SPAN_TAG_SAMPLED, which keeps the owner's
 * free fast path off it. */
bool prof_host_mark_sampled(struct heap *h, void *p, void *rec)
{
    struct span *s = span_of((uintptr_t)p);
    const uint32_t all = SPAN_SAMPLED_ONE - 1;
    uint32_t w = atomic_load_explicit(&s->nsampled, memory_order_relaxed), bit;
    do {
        uint32_t free_slots = ~w & all;
        bit = free_slots ? free_slots & -free_slots : 0;
    } while (!atomic_compare_exchange_weak_explicit(&s->nsampled, &w, w + SPAN_SAMPLED_ONE + bit,
                                                    memory_order_acq_rel, memory_order_relaxed));
    if (bit)
        atomic_store_explicit(&s->sampled_rec[__builtin_ctz(bit)], (uintptr_t)rec,
                              memory_order_release);
    else
        atomic_fetch_add_explicit(&s->sampled_overflow, 1, memory_order_acq_rel);
    if (s->kind == SPAN_SLAB) {
        uintptr_t tag = atomic_load_explicit(&s->owner_tag, memory_order_relaxed);
        if ((tag & ~SPAN_TAG_MASK) == (uintptr_t)h)
            atomic_store_explicit(&s->owner_tag, tag | SPAN_TAG_SAMPLED, memory_order_release);
    }
    return bit != 0;
}

void *prof_host_relocate_sampled(struct heap *h, void *p, size_t usize)
{
    return heap_sample_relocate(h, p, usize);
}

/* The overflow is a count, not a flag: it drops back to 0 when the last
 * unslotted sampled block is freed, so a page that once held more sampled
 * blocks than slots does not send every later free to the profiler (at
 * lg_prof_sample:14 a sticky flag made 50 times more profiler checks than
 * samples on a small-object churn). */
bool prof_host_unmark_slot(struct span *s, void *p, void **rec)
{
    /* p's slot is p's freer's alone to empty: a plain store, then one
     * atomic operation uncounts p and frees the slot's bit for the next
     * sample (whose marker writes the slot only after it took the bit). */
    for (int i = 0; i < SPAN_SAMPLED_SLOTS; i++) {
        if (span_slot_block(s, i) == (uintptr_t)p) {
            *rec = (void *)atomic_load_explicit(&s->sampled_rec[i], memory_order_relaxed);
            atomic_store_explicit(&s->sampled_rec[i], 0, memory_order_relaxed);
            atomic_fetch_sub_explicit(&s->nsampled, SPAN_SAMPLED_ONE + (1u << i),
                                      memory_order_acq_rel);
            return true;
        }
    }
    return false;
}

void prof_host_unmark_overflow(struct span *s)
{
    atomic_fetch_sub_explicit(&s->sampled_overflow, 1, memory_order_acq_rel);
    atomic_fetch_sub_explicit(&s->nsampled, SPAN_SAMPLED_ONE, memory_order_acq_rel);
}

size_t prof_host_active_bytes(void) { return arena_active_total(); }

void *prof_host_meta_alloc(size_t size, size_t align) { return base_alloc(size, align); }

int prof_host_map(size_t size, void **out)
{
    return os_map_aligned(ALIGN_UP(size, PAGE), PAGE, out);
}

void prof_host_unmap(void *p, size_t size) { os_unmap(p, ALIGN_UP(size, PAGE)); }

size_t prof_host_page_size(void) { return PAGE; }

bool prof_host_dlopen_usable(void) { return os_dlopen_usable(); }

void prof_host_write_err(const char *s) { alloc_write_err(s); }

ssize_t prof_host_write(int fd, const void *buf, size_t n) { return os_ops.write(fd, buf, n); }

void prof_host_warn(const char *msg) { warn_print(msg); }

void prof_host_enter(void) { defer_enter(); }

void prof_host_leave(void) { defer_leave(); }

uint64_t prof_host_now_ns(bool high)
{
    struct timespec ts;
    clock_gettime(high ? CLOCK_REALTIME : CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

size_t prof_host_class_usize(size_t usize)
{
    return usize == 0 || usize > SIZE_LIMIT ? 0 : sizeclass_usize(usize);
}

unsigned prof_host_small_index(size_t u) { return sizeclass_small_index(u); }

size_t prof_host_small_max(void) { return SMALL_MAX; }
