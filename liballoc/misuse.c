/* misuse: the free-list link keys and the misuse report (see misuse.h). */
#include "misuse.h"
#include "base.h"
#include "options.h"
#include "rtree.h"
#include "warn.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

uintptr_t misuse_link_key, misuse_link_mul = 1, misuse_link_inv = 1;

void misuse_boot(void)
{
    if (opt.free_list_protect && !config_free_list_protect) {
        /* Not in this build (config.h): say so rather than ignore it. */
        warn_print("<jemalloc>: free_list_protect:true needs a build made with "
                   "FREE_LIST_PROTECT=1; links stay plain (range-checked)\n");
        opt.free_list_protect = false;
    }
    if (opt.free_list_protect) {
        /* Random keys, so a freed block's link says nothing without them. */
        uintptr_t l[2] = {0, 0};
        if (getrandom(l, sizeof(l), GRND_NONBLOCK) != (ssize_t)sizeof(l)) {
            /* No entropy yet (early boot): mix the clock with addresses
             * that ASLR randomises. Weaker, but links still decode wild
             * when overwritten. */
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            uintptr_t k = (uintptr_t)ts.tv_nsec * 0x9e3779b97f4a7c15u ^ (uintptr_t)&ts ^
                          ((uintptr_t)&misuse_link_key << 17);
            l[0] = (k * 0xbf58476d1ce4e5b9u) ^ (k >> 29);
            l[1] = (l[0] * 0x94d049bb133111ebu) ^ (l[0] >> 31);
        }
        misuse_link_key = l[0] | ((uintptr_t)0xc3 << 56);
        /* Odd, so invertible mod 2^64; Newton's iteration gives the inverse
         * (each step doubles the correct low bits: 3 -> 6 -> ... -> 96). */
        uintptr_t m = l[1] | 1, inv = m;
        for (int i = 0; i < 5; i++)
            inv *= 2 - m * inv;
        misuse_link_mul = m;
        misuse_link_inv = inv;
    }
}

/* Append s to buf at *n (bounded). */
static void put(char *buf, size_t cap, size_t *n, const char *s)
{
    while (*s && *n + 1 < cap)
        buf[(*n)++] = *s++;
}

void misuse_report(const char *func, const char *what, const void *p)
{
    char buf[192];
    size_t n = 0;
    put(buf, sizeof(buf), &n, "<jemalloc>: ");
    put(buf, sizeof(buf), &n, func);
    put(buf, sizeof(buf), &n, "(): ");
    put(buf, sizeof(buf), &n, what);
    /* The address as printf's %p writes it: 0x, lower-case, no leading zeros. */
    char hex[2 + 16 + 1];
    uintptr_t v = (uintptr_t)p;
    int i = 18;
    hex[i] = 0;
    do {
        hex[--i] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    hex[--i] = 'x';
    hex[--i] = '0';
    put(buf, sizeof(buf), &n, " ");
    put(buf, sizeof(buf), &n, &hex[i]);
    put(buf, sizeof(buf), &n, "\n");
    buf[n] = 0;
    /* The call is ignored, so the caller's errno stays as it was (free
     * must not change it, POSIX.1-2024): the program's malloc_message, or
     * write(2) to a closed stderr (EBADF), may set it. */
    int saved_errno = errno;
    warn_print(buf);
    errno = saved_errno;
}

void misuse_link_corrupt(const char *func, const void *slot)
{
    misuse_report(func, "corrupted free list (a freed block was written to):", slot);
}

/* The report of a page whose list was cut where no block can be named. */
static void report_page_cut(const struct span *pg)
{
    misuse_report("malloc", "corrupted free list (a freed block was written to) in the page at",
                  (const void *)pg->start);
}

void misuse_page_list_short(struct span *pg)
{
    if (pg->list_cut)
        return;
    pg->list_cut = 1;
    report_page_cut(pg);
}

void misuse_page_list_corrupt(struct span *pg)
{
    /* The bad head was decoded from the link of the block popped last; that
     * block is live now and, unless its owner wrote there already, still
     * holds the encoded value. */
    uintptr_t want = ((uintptr_t)pg->free ^ misuse_link_key) * misuse_link_mul;
    const void *culprit = NULL;
    for (uint32_t i = 0; i < pg->capacity && !culprit; i++) {
        const uintptr_t *b = (const uintptr_t *)(pg->start + (uintptr_t)i * pg->stride);
        if (*b == want)
            culprit = b;
    }
    pg->free = NULL;
    pg->list_cut = 1;
    if (culprit)
        misuse_link_corrupt("malloc", culprit);
    else
        report_page_cut(pg);
}

/* ---- canaries (debug builds) ---- */

void misuse_canary_page(struct span *pg)
{
    if (pg->canary_cap < pg->reserved) {
        /* Base memory is never freed: a span descriptor keeps its table for
         * the next slab it describes. */
        uint32_t *t = base_alloc(pg->reserved * sizeof(uint32_t), 64);
        if (!t) {
            pg->canary_cap = 0;
            pg->canary_req = NULL;
            return;
        }
        pg->canary_req = t;
        pg->canary_cap = pg->reserved;
    }
    for (uint32_t i = 0; i < pg->canary_cap; i++)
        pg->canary_req[i] = MISUSE_CANARY_NONE;
}

/* The slab of live small block p and p's entry in its canary table, or NULL. */
static uint32_t *canary_slot(void *p, struct span **sp)
{
    uintptr_t e = rtree_get((uintptr_t)p);
    if (!rtree_is_chunk(e))
        return NULL;
    struct span *s = rtree_chunk_span(e, (uintptr_t)p);
    if (s->kind != SPAN_SLAB || !s->canary_req || !misuse_slab_block_ok(s, p))
        return NULL;
    uint32_t i = (uint32_t)(((uintptr_t)p - s->start) / s->stride);
    if (i >= s->canary_cap)
        return NULL;
    *sp = s;
    return &s->canary_req[i];
}

void misuse_canary_set(void *p, size_t size)
{
    struct span *s;
    uint32_t *slot = canary_slot(p, &s);
    if (!slot)
        return;
    /* Up to the stride: the 8-byte class's second word is slack too. */
    if (size >= s->stride) {
        *slot = MISUSE_CANARY_NONE; /* no slack: no canary */
        return;
    }
    memset((char *)p + size, MISUSE_CANARY_BYTE, s->stride - size);
    *slot = (uint32_t)size;
}

void misuse_canary_check(void *p, const char *func)
{
    struct span *s;
    uint32_t *slot = canary_slot(p, &s);
    /* Free blocks (a double free) and non-blocks are the free path's to report. */
    if (!slot || *slot == MISUSE_CANARY_NONE || misuse_is_free(p))
        return;
    uint32_t size = *slot;
    *slot = MISUSE_CANARY_NONE;
    const unsigned char *b = p;
    for (uint32_t i = size; i < s->stride; i++) {
        if (b[i] != MISUSE_CANARY_BYTE) {
            misuse_report(func, "heap overflow (written past the requested size) in", p);
            return;
        }
    }
}

void misuse_canary_drop(void *p)
{
    struct span *s;
    uint32_t *slot = canary_slot(p, &s);
    if (slot)
        *slot = MISUSE_CANARY_NONE;
}
