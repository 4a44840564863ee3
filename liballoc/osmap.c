/* osmap: registry of the allocator's mappings and their residency (see osmap.h). */
#include "osmap.h"
#include "config.h"
#include "os.h"
#include "bss_large.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>

/* One mapped range [start, end). */
struct osmap_range {
    uintptr_t start; /* first byte */
    uintptr_t end;   /* one past the last byte */
};

static pthread_mutex_t osmap_lock = PTHREAD_MUTEX_INITIALIZER;
/* Signals are blocked while osmap_lock is held: a signal handler that
 * allocates may map (osmap_add, under an arena lock or base's), and would
 * wait for the lock its own thread holds, forever (lock_depth.h cannot let
 * it go elsewhere: every mapping takes this lock). The handler runs at the
 * release instead. Two sigprocmask calls beside each mmap or munmap. */
static void osmap_lock_take(sigset_t *old)
{
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, old);
    pthread_mutex_lock(&osmap_lock);
}

static void osmap_lock_drop(const sigset_t *old)
{
    pthread_mutex_unlock(&osmap_lock);
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* The holder's mask for the held sections (osmap_hold, fork). osmap_lock. */
static sigset_t held_mask;
static struct osmap_range *ranges; /* sorted by start, disjoint, never adjacent */
static size_t nranges, cap;        /* entries used / available */
static size_t mapped_bytes;        /* sum of the ranges */
/* The table could not grow (out of memory): the registry is incomplete and
 * osmap_resident answers SIZE_MAX so the caller falls back to an estimate. */
static bool incomplete;
/* mincore's vector (osmap_lock): 64 KiB covers 256 MiB of address space per
 * call, so even a sparse 16 GiB heap takes 64 system calls. */
static unsigned char resident_vec[64 << 10] BSS_LARGE;

/* Room for two more entries (a removal may split one range). Lock held. The
 * table lives in its own mapping, outside the registry: a few pages. */
static bool reserve(void)
{
    if (nranges + 2 <= cap)
        return true;
    size_t ncap = cap ? cap * 2 : PAGE / sizeof(struct osmap_range);
    void *mem;
    if (os_ops.map(ncap * sizeof(struct osmap_range), &mem) != 0)
        return false;
    if (ranges) {
        memcpy(mem, ranges, nranges * sizeof(struct osmap_range));
        os_ops.unmap(ranges, cap * sizeof(struct osmap_range));
    }
    ranges = mem;
    cap = ncap;
    return true;
}

/* Index of the first range whose end is above addr. Lock held. */
static size_t find(uintptr_t addr)
{
    size_t lo = 0, hi = nranges;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ranges[mid].end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Take [addr, end) out of the ranges. Lock held. */
static void remove_locked(uintptr_t addr, uintptr_t end)
{
    size_t i = find(addr);
    while (i < nranges && ranges[i].start < end) {
        struct osmap_range *r = &ranges[i];
        uintptr_t lo = r->start > addr ? r->start : addr;
        uintptr_t hi = r->end < end ? r->end : end;
        mapped_bytes -= hi - lo;
        if (lo == r->start && hi == r->end) {
            memmove(r, r + 1, (nranges - i - 1) * sizeof(ranges[0]));
            nranges--;
            continue;
        }
        if (lo == r->start) {
            r->start = hi;
        } else if (hi == r->end) {
            r->end = lo;
        } else {
            /* A hole in the middle: split in two. */
            if (!reserve()) {
                incomplete = true;
                r->end = lo;
                break;
            }
            r = &ranges[i];
            memmove(r + 2, r + 1, (nranges - i - 1) * sizeof(ranges[0]));
            r[1].start = hi;
            r[1].end = r->end;
            r->end = lo;
            nranges++;
        }
        i++;
    }
}

void osmap_add(uintptr_t addr, size_t size)
{
    if (size == 0)
        return;
    uintptr_t end = addr + size;
    sigset_t old;
    osmap_lock_take(&old);
    /* A mapping placed over registered space (MAP_FIXED, mremap) replaced
     * it: never count those bytes twice. */
    remove_locked(addr, end);
    if (!reserve()) {
        incomplete = true;
        goto out;
    }
    /* i: first range ending at or after addr (a left neighbour ending exactly
     * at addr merges with the new one). */
    size_t i = find(addr > 0 ? addr - 1 : 0);
    bool merge_left = i < nranges && ranges[i].end == addr;
    if (merge_left) {
        ranges[i].end = end;
        if (i + 1 < nranges && ranges[i + 1].start == end) {
            ranges[i].end = ranges[i + 1].end;
            memmove(&ranges[i + 1], &ranges[i + 2], (nranges - i - 2) * sizeof(ranges[0]));
            nranges--;
        }
    } else if (i < nranges && ranges[i].start == end) {
        ranges[i].start = addr;
    } else {
        memmove(&ranges[i + 1], &ranges[i], (nranges - i) * sizeof(ranges[0]));
        ranges[i].start = addr;
        ranges[i].end = end;
        nranges++;
    }
    mapped_bytes += size;
out:
    osmap_lock_drop(&old);
}

void osmap_remove(uintptr_t addr, size_t size)
{
    if (size == 0)
        return;
    sigset_t old;
    osmap_lock_take(&old);
    remove_locked(addr, addr + size);
    osmap_lock_drop(&old);
}

void osmap_hold(void)
{
    sigset_t old;
    osmap_lock_take(&old);
    held_mask = old;
}

void osmap_release(void)
{
    sigset_t old = held_mask;
    osmap_lock_drop(&old);
}

void osmap_remove_held(uintptr_t addr, size_t size)
{
    if (size)
        remove_locked(addr, addr + size);
}

/* Above this much mapped address space, residency is sampled. */
#define OSMAP_EXACT_MAX ((size_t)1 << 30)
/* Sampling unit: 2 MiB windows (a chunk; one page table). */
#define OSMAP_WINDOW ((size_t)2 << 20)

static uint64_t sample_rng = 0x9e3779b97f4a7c15ULL; /* xorshift state (osmap_lock) */

size_t osmap_resident(void)
{
    size_t total = 0;
    sigset_t old;
    osmap_lock_take(&old);
    if (incomplete) {
        total = SIZE_MAX;
        goto out;
    }
    /* Up to OSMAP_EXACT_MAX, every page. Beyond, one 2 MiB window in
     * `stride` (windows counted over all ranges, from a random phase so no
     * layout is systematically missed), and the resident share of what was
     * scanned is applied to everything mapped: about 1 GiB scanned per
     * call (~2.5 ms), 512+ windows. */
    size_t stride = (mapped_bytes + OSMAP_EXACT_MAX - 1) / OSMAP_EXACT_MAX;
    if (stride <= 1) {
        for (size_t i = 0; i < nranges; i++) {
            size_t bytes = 0;
            /* ENOMEM (part of a range unmapped without os_unmap) still
             * counts the pages that are mapped. */
            int err = os_resident((void *)ranges[i].start, ranges[i].end - ranges[i].start,
                                  resident_vec, sizeof(resident_vec), &bytes);
            if (err == 0 || err == ENOMEM)
                total += bytes;
        }
        goto out;
    }
    sample_rng ^= sample_rng << 13;
    sample_rng ^= sample_rng >> 7;
    sample_rng ^= sample_rng << 17;
    size_t phase = (size_t)(sample_rng % stride), w = 0;
    size_t scanned = 0, found = 0;
    for (size_t i = 0; i < nranges; i++) {
        for (uintptr_t p = ranges[i].start; p < ranges[i].end; p += OSMAP_WINDOW, w++) {
            if ((w + phase) % stride != 0)
                continue;
            size_t len = ranges[i].end - p < OSMAP_WINDOW ? ranges[i].end - p : OSMAP_WINDOW;
            size_t bytes = 0;
            int err = os_resident((void *)p, len, resident_vec, sizeof(resident_vec), &bytes);
            if (err == 0 || err == ENOMEM)
                found += bytes;
            scanned += len;
        }
    }
    if (scanned)
        total = (size_t)((double)found / (double)scanned * (double)mapped_bytes) & ~PAGE_MASK;
out:
    osmap_lock_drop(&old);
    return total;
}

size_t osmap_mapped(void)
{
    sigset_t old;
    osmap_lock_take(&old);
    size_t v = mapped_bytes;
    osmap_lock_drop(&old);
    return v;
}

void osmap_prefork(void) { osmap_hold(); }
void osmap_postfork_parent(void) { osmap_release(); }
void osmap_postfork_child(void)
{
    pthread_mutex_init(&osmap_lock, NULL);
    pthread_sigmask(SIG_SETMASK, &held_mask, NULL);
}
