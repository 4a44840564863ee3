/* page: slab free lists and the remote-free protocol (see page.h). */
#include "page.h"
#include "arena.h"
#include "heap.h"
#include "misuse.h"
#include "sizeclass.h"

#include <pthread.h>
#include <sched.h>


void page_init(struct span *s, unsigned cls)
{
    s->kind = SPAN_SLAB;
    s->cls = (uint8_t)cls;
    s->block_size = sizeclass_size[cls];
    s->reserved = sizeclass_slab_blocks[cls];
    s->stride = sizeclass_stride(s->block_size);
    s->div_magic = misuse_div_magic(s->stride);
    s->limit = 0; /* grows with capacity: a never-carved block is no block */
    s->div_limit = 0;
    s->capacity = 0;
    s->nfree = (uint32_t)s->nmalloc; /* no block out */
    s->list_cut = 0;
    if (config_debug)
        misuse_canary_page(s);
    s->free = NULL;
    atomic_store_explicit(&s->thread_free, DELAY_NONE, memory_order_relaxed);
    span_sampled_reset(s);
    s->abandoned = 0;
    s->empty_seen = 0;
    atomic_store_explicit(&s->abandon_left, 0, memory_order_relaxed);
}

void page_extend(struct span *pg)
{
    uint32_t left = pg->reserved - pg->capacity;
    if (left == 0)
        return;
    uint32_t bs = pg->stride;
    /* As many blocks as were carved before, at least one OS page's worth and
     * at most PAGE_CARVE_MAX bytes' (at least one block, at most what is
     * left): carving writes each block's free mark, so every block carved is
     * a page touched, and a class used for a block or two costs one page;
     * a class in steady use doubles its carve up to the cap, so filling a
     * 64 KiB slab takes 9 trips through malloc's slow path, not 16
     * (bench/shapes/sh6bench: pages cycle through the arena every round and
     * are carved again each time). */
    uint32_t n = pg->capacity;
    if (n < PAGE / bs)
        n = (uint32_t)(PAGE / bs);
    if (n > PAGE_CARVE_MAX / bs)
        n = (uint32_t)(PAGE_CARVE_MAX / bs);
    if (n < 1)
        n = 1;
    if (n > left)
        n = left;
    char *first = (char *)pg->start + (size_t)pg->capacity * bs;
    char *b = first;
    /* Carved blocks are free blocks: marked, so a free of one is caught. */
    for (uint32_t i = 1; i < n; i++, b += bs) {
        misuse_set_free(b);
        misuse_link_set(b, b + bs);
    }
    misuse_set_free(b);
    misuse_link_set(b, pg->free);
    pg->free = first;
    pg->capacity += n;
    pg->limit = (uint64_t)pg->capacity * bs;
    /* capacity * misuse_div_rest(bs), the rest from the page's own
     * div_magic: no 128-bit division per carve. */
    pg->div_limit = (uint64_t)pg->capacity * ((uint64_t)bs * pg->div_magic);
}

/* The last block of the remote-free stack from head (its links checked
 * against the page's range as malloc checks its list's head, misuse.h: a
 * corrupt link is reported and the stack cut there, its rest leaked); *n
 * holds the stack's count and gets the blocks kept. A NULL link before
 * the count is reached is a zeroed link (a write after free, which the
 * range check lets pass as a list's end): reported too, once per page. */
static void *remote_tail(struct span *pg, void *head, unsigned *n)
{
    void *tail = head;
    unsigned k = 1;
    for (;;) {
        void *next = misuse_link_get(tail);
        if (next == NULL) {
            if (config_misuse && unlikely(k < *n))
                misuse_page_list_short(pg);
            break;
        }
        if (unlikely(!misuse_link_in(pg, next))) {
            misuse_link_corrupt("malloc", tail);
            break;
        }
        tail = next;
        k++;
    }
    *n = k;
    return tail;
}

/* Put the stack taken from thread_free (its old value tf) on pg's free list. */
static unsigned take_remote(struct span *pg, uintptr_t tf)
{
    void *head = TF_BLOCK(tf);
    if (!head)
        return 0;
    unsigned n = TF_COUNT(tf);
    if (pg->free == NULL) {
        /* The stack becomes the list: its links are checked as they become
         * the head malloc pops (misuse.h), as the walk checked them. */
        pg->free = head;
        pg->nfree += n;
        return n;
    }
    void *tail = remote_tail(pg, head, &n);
    misuse_link_set(tail, pg->free);
    pg->free = head;
    pg->nfree += n;
    return n;
}

unsigned page_collect(struct span *pg)
{
    uintptr_t tf = atomic_load_explicit(&pg->thread_free, memory_order_relaxed);
    if (TF_BLOCK(tf) == NULL)
        return 0;
    while (!atomic_compare_exchange_weak_explicit(&pg->thread_free, &tf, tf & 3,
                                                  memory_order_acq_rel, memory_order_relaxed))
        ;
    return take_remote(pg, tf);
}

unsigned page_collect_never(struct span *pg, bool own_freeing)
{
    atomic_store_explicit(&pg->abandon_left, 0, memory_order_relaxed);
    uintptr_t tf = atomic_load_explicit(&pg->thread_free, memory_order_acquire);
    for (;;) {
        if (TF_STATE(tf) == DELAY_FREEING && !own_freeing) {
            sched_yield();
            tf = atomic_load_explicit(&pg->thread_free, memory_order_acquire);
            continue;
        }
        if (atomic_compare_exchange_weak_explicit(&pg->thread_free, &tf, DELAY_NEVER,
                                                  memory_order_acq_rel, memory_order_acquire))
            break;
    }
    return take_remote(pg, tf);
}

/* Full-page notifications with the owner's `allocated` unchanged before its
 * pages are taken from it. A producer that waits briefly on a full queue
 * sees a consumer's whole batch of frees (tens of notifications) meanwhile:
 * taking its pages then only makes it fetch fresh ones from the arena when
 * it resumes (xthread-2t: 17% more CPU with 4 than with 32). A thread
 * blocked for good crosses the count as its blocks keep coming back, and
 * then loses every full page that has free blocks at once (heap_take_idle),
 * the pages notified before the count included. */
#define TAKE_AFTER PAGE_TAKE_AFTER

/* A full page's first remote free: take the page from its owner (if its
 * full list is free to lock) and abandon it, so its blocks come back to the
 * arena as they are freed, whether the owner runs again or not. */
static bool page_take_full(struct span *pg, struct heap *owner, void *block)
{
    if (pthread_mutex_trylock(&owner->full_lock) != 0)
        return false;
    uintptr_t tag = atomic_load_explicit(&pg->owner_tag, memory_order_acquire);
    if ((tag & ~SPAN_TAG_MASK) != (uintptr_t)owner || !(tag & SPAN_TAG_FULL)) {
        pthread_mutex_unlock(&owner->full_lock);
        return false;
    }
    page_collect_never(pg, true);
    misuse_link_set(block, pg->free);
    pg->free = block;
    pg->nfree++;
    heap_full_unlink(owner, pg);
    /* Unowned before the owner can look again: its slow free re-reads the tag
     * under full_lock. */
    atomic_store_explicit(&pg->owner_tag, 0, memory_order_release);
    pthread_mutex_unlock(&owner->full_lock);
    arena_page_abandon(pg, !owner->shared);
    return true;
}

void page_free_remote(struct span *pg, void *block)
{
    DASSERT((uintptr_t)block >> TF_SHIFT == 0);
    misuse_set_free(block); /* free from here on, whatever list it joins */
    uintptr_t tf = atomic_load_explicit(&pg->thread_free, memory_order_relaxed);
    uintptr_t nt;
    bool notify;
    do {
        notify = TF_STATE(tf) == DELAY_USE;
        if (notify) {
            nt = (tf & ~(uintptr_t)3) | DELAY_FREEING;
        } else {
            misuse_link_set(block, TF_BLOCK(tf));
            nt = ((uintptr_t)(TF_COUNT(tf) + 1) << TF_SHIFT) | (uintptr_t)block | (tf & 3);
        }
    } while (!atomic_compare_exchange_weak_explicit(&pg->thread_free, &tf, nt, memory_order_release,
                                                    memory_order_relaxed));
    if (!notify) {
        /* An abandoned page: count the block in, and leave heap_sweep a hint
         * (a load, and a store only when unset). A page with an owner costs
         * nothing more: its owner hears of remote frees through the full-page
         * notification below, which also raises remote_pending. */
        if (TF_STATE(tf) == DELAY_NEVER) {
            struct arena *a = pg->arena;
            if (atomic_fetch_sub_explicit(&pg->abandon_left, 1, memory_order_acq_rel) == 1) {
                arena_abandoned_drained(pg); /* that was the last block out */
                return;
            }
            if (!atomic_load_explicit(&a->abandoned_frees, memory_order_relaxed))
                atomic_store_explicit(&a->abandoned_frees, true, memory_order_relaxed);
        }
        return;
    }
    /* The page is on its owner's full list: hand the block to the owner heap so
     * it notices the page has room again. The owner cannot drop the page while
     * the state is DELAY_FREEING (page_set_delayed waits for us). */
    struct heap *owner = (struct heap *)(atomic_load_explicit(&pg->owner_tag, memory_order_acquire) &
                                         ~SPAN_TAG_MASK);
    /* An owner that did not allocate a byte over the last TAKE_AFTER
     * notifications is not running (blocked, idle or done): take the page
     * rather than wait for it. A busy owner, or one only briefly waiting (a
     * producer on a full queue), keeps its pages and reuses them itself. */
    if (!atomic_load_explicit(&owner->remote_pending, memory_order_relaxed))
        atomic_store_explicit(&owner->remote_pending, 1, memory_order_relaxed);
    uint64_t now_mark = __atomic_load_n(&owner->allocated, __ATOMIC_RELAXED) + 1;
    uint64_t mark = atomic_exchange_explicit(&owner->notify_mark, now_mark, memory_order_relaxed);
    uint32_t same = mark == now_mark
                        ? atomic_fetch_add_explicit(&owner->notify_same, 1, memory_order_relaxed) + 1
                        : (atomic_store_explicit(&owner->notify_same, 0, memory_order_relaxed), 0);
    if (same >= TAKE_AFTER && !owner->shared && page_take_full(pg, owner, block)) {
        if (same == TAKE_AFTER)
            heap_take_idle(owner); /* the pages notified before the count */
        return;
    }
    void *head = atomic_load_explicit(&owner->delayed_free, memory_order_relaxed);
    do {
        misuse_link_set(block, head);
    } while (!atomic_compare_exchange_weak_explicit(&owner->delayed_free, &head, block,
                                                    memory_order_release, memory_order_relaxed));
    tf = atomic_load_explicit(&pg->thread_free, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&pg->thread_free, &tf,
                                                  (tf & ~(uintptr_t)3) | DELAY_NONE,
                                                  memory_order_release, memory_order_relaxed))
        ;
}

bool page_set_delayed(struct span *pg, unsigned state, bool override_never)
{
    uintptr_t tf = atomic_load_explicit(&pg->thread_free, memory_order_acquire);
    for (;;) {
        unsigned old = TF_STATE(tf);
        if (old == DELAY_FREEING) {
            sched_yield();
            tf = atomic_load_explicit(&pg->thread_free, memory_order_acquire);
            continue;
        }
        if (old == state || (old == DELAY_NEVER && !override_never))
            return true;
        if (state == DELAY_USE && TF_BLOCK(tf) != NULL)
            return false;
        if (atomic_compare_exchange_weak_explicit(&pg->thread_free, &tf,
                                                  (tf & ~(uintptr_t)3) | state,
                                                  memory_order_acq_rel, memory_order_acquire))
            return true;
    }
}
