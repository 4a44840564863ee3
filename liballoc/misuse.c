/* misuse: the free-mark key and the misuse report (see misuse.h). */
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
