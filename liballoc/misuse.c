/* misuse: the free-mark key, the misuse report and the 8-byte-class page
 * check (see misuse.h). */
#include "misuse.h"
#include "warn.h"

#include <sys/random.h>
#include <time.h>

uintptr_t misuse_key;

void misuse_boot(void)
{
    uintptr_t k = 0;
    if (getrandom(&k, sizeof(k), GRND_NONBLOCK) != (ssize_t)sizeof(k)) {
        /* No entropy yet (early boot): mix the clock with addresses that
         * ASLR randomises. Weaker, but the mark still never looks like a
         * pointer (top byte below). */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        k = (uintptr_t)ts.tv_nsec * 0x9e3779b97f4a7c15u ^ (uintptr_t)&ts ^
            ((uintptr_t)&misuse_key << 17);
    }
    /* A non-zero top byte: p ^ key is never a canonical user address, so
     * no free-list link and no NULL ever equals a mark. */
    misuse_key = k | ((uintptr_t)0xa5 << 56);
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
    warn_print(buf);
}

bool misuse_page_check(struct span *pg)
{
    /* One bit per block (a slab holds at most 64 KiB / 8 blocks at 8 bytes:
     * 1 KiB of stack). Only pages of the 8-byte class come here. */
    enum { MAXB = 8192 };
    uint64_t seen[MAXB / 64] = {0};
    uint32_t count = 0;
    for (void *b = pg->free; b; b = *(void **)b) {
        uintptr_t off = (uintptr_t)b - pg->start;
        if (!misuse_slab_block_ok(pg, b) || off / pg->block_size >= pg->capacity) {
            misuse_report("free", "corrupted free list (a block freed twice or written after free) near", b);
            return false;
        }
        uint32_t i = (uint32_t)(off / pg->block_size);
        if (i >= MAXB)
            return true; /* not a class this check knows: nothing to say */
        if (seen[i / 64] & ((uint64_t)1 << (i % 64))) {
            misuse_report("free", "double free of", b);
            return false;
        }
        seen[i / 64] |= (uint64_t)1 << (i % 64);
        if (++count > pg->capacity)
            break;
    }
    return true;
}
