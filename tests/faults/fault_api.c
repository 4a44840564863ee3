/*
 * fault_api: every allocation entry point under injected mmap failures
 * (debug.fault, liballoc/fault.h). For each API in turn: arm "every mmap
 * fails", allocate (and hold) blocks until the call reports failure, then:
 *  - the failure is the documented one: NULL with errno ENOMEM (malloc,
 *    calloc, realloc, aligned_alloc, memalign, valloc), ENOMEM returned
 *    (posix_memalign), NULL (mallocx, rallocx: the old block stays valid and
 *    unchanged), the old size (xallocx cannot grow);
 *  - at least one fault was injected (the failure came from the os seam);
 *  - every block handed out before, and during the run, keeps its contents;
 *  - after disarming, the same call succeeds again.
 * Then madvise failures: big blocks are filled, freed, purged with every
 * madvise failing; calloc of the same sizes must still return zeroed memory
 * (a purge that failed must not mark pages clean).
 * The C++ operators (new throws std::bad_alloc, new(nothrow) gives NULL)
 * are in fault_cxx.cc.
 */
#include "fault_common.h"

#include <malloc.h>

enum api { A_MALLOC, A_CALLOC, A_REALLOC, A_POSIX_MEMALIGN, A_ALIGNED_ALLOC, A_MEMALIGN, A_VALLOC,
           A_MALLOCX, A_RALLOCX, A_XALLOCX, A_N };
static const char *const api_name[A_N] = {"malloc", "calloc", "realloc", "posix_memalign",
                                         "aligned_alloc", "memalign", "valloc", "mallocx",
                                         "rallocx", "xallocx"};

/* One call of api with size n; returns the block (held by the caller) or
 * NULL on the documented failure, which it checks. */
static void *call(enum api a, size_t n, bool *failed)
{
    void *p = NULL;
    int r;
    *failed = false;
    errno = 0;
    switch (a) {
    case A_MALLOC: p = malloc(n); break;
    case A_CALLOC:
        p = calloc(1, n);
        if (p)
            for (size_t i = 0; i < n; i += 4096)
                CHECK_MSG(((unsigned char *)p)[i] == 0, "calloc(%zu) not zeroed at %zu", n, i);
        break;
    case A_REALLOC: {
        /* Grow a fresh small block: the old one must survive a failure. */
        unsigned char *q = malloc(64);
        CHECK(q != NULL); /* small: served from space already mapped */
        memset(q, 0x3c, 64);
        p = realloc(q, n);
        if (!p) {
            CHECK_I(errno, ==, ENOMEM);
            for (int i = 0; i < 64; i++)
                CHECK_MSG(q[i] == 0x3c, "realloc failure changed the old block at %d", i);
            free(q);
            *failed = true;
            return NULL;
        }
        for (int i = 0; i < 64; i++)
            CHECK(((unsigned char *)p)[i] == 0x3c);
        break;
    }
    case A_POSIX_MEMALIGN:
        r = posix_memalign(&p, 4096, n);
        if (r) {
            CHECK_I(r, ==, ENOMEM);
            *failed = true;
            return NULL;
        }
        CHECK_U((uintptr_t)p % 4096, ==, 0);
        break;
    case A_ALIGNED_ALLOC:
        p = aligned_alloc(1024, n);
        if (p)
            CHECK_U((uintptr_t)p % 1024, ==, 0);
        break;
    case A_MEMALIGN:
        p = memalign(256, n);
        if (p)
            CHECK_U((uintptr_t)p % 256, ==, 0);
        break;
    case A_VALLOC:
        p = valloc(n);
        if (p)
            CHECK_U((uintptr_t)p % 4096, ==, 0);
        break;
    case A_MALLOCX:
        p = mallocx(n, MALLOCX_ZERO | MALLOCX_ALIGN(64));
        if (!p) {
            *failed = true;
            return NULL;
        }
        for (size_t i = 0; i < n; i += 4096)
            CHECK(((unsigned char *)p)[i] == 0);
        return p;
    case A_RALLOCX: {
        unsigned char *q = mallocx(64, 0);
        CHECK(q != NULL);
        memset(q, 0x4d, 64);
        p = rallocx(q, n, 0);
        if (!p) {
            for (int i = 0; i < 64; i++)
                CHECK_MSG(q[i] == 0x4d, "rallocx failure changed the old block at %d", i);
            dallocx(q, 0);
            *failed = true;
            return NULL;
        }
        for (int i = 0; i < 64; i++)
            CHECK(((unsigned char *)p)[i] == 0x4d);
        return p;
    }
    case A_XALLOCX: {
        /* Grow in place needs the pages after the block; with no new
         * mappings that may fail: the documented answer is the old size. */
        void *q = mallocx(n, 0);
        if (!q) {
            *failed = true;
            return NULL;
        }
        size_t old = sallocx(q, 0);
        size_t got = xallocx(q, old, 64 << 20, 0);
        CHECK_U(got, >=, old);
        if (got == old) {
            /* Could not grow: still a valid block of its size. */
            CHECK_U(sallocx(q, 0), ==, old);
        }
        return q;
    }
    default: break;
    }
    if (!p) {
        CHECK_MSG(errno == ENOMEM, "%s(%zu) failed with errno %d, not ENOMEM", api_name[a], n, errno);
        *failed = true;
    }
    return p;
}

/* Sizes: a small class, a large (page) block, a huge (chunk) block. */
static const size_t sizes[] = {3000, 200000, 6 << 20};

static void run_api(enum api a)
{
    for (unsigned si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
        size_t n = sizes[si];
        fault_arm(FAULT_MAP, 0, 0, 0, 1);
        bool failed = false;
        size_t total = 0, calls = 0;
        /* Until the first failure; at most 3 GiB of address space. */
        while (!failed && total < ((size_t)3 << 30)) {
            void *p = call(a, n, &failed);
            calls++;
            if (p) {
                size_t u = malloc_usable_size(p);
                held_add(p, u < n ? u : n);
                total += n;
            }
        }
        uint64_t injected = fault_disarm();
        if (a == A_XALLOCX && !failed)
            continue; /* xallocx's own mallocx never had to map: nothing to check */
        CHECK_MSG(failed, "%s(%zu): no failure after %zu calls, %zu bytes with mmap failing",
                  api_name[a], n, calls, total);
        CHECK_MSG(injected > 0, "%s(%zu) failed without an injected fault", api_name[a], n);
        held_check_all();
        /* Works again. */
        void *p = call(a, n, &failed);
        CHECK_MSG(p && !failed, "%s(%zu) still fails after disarming", api_name[a], n);
        held_add(p, n);
        held_free_all();
        printf("ok %s(%zu): failed after %zu calls (%" PRIu64 " faults), recovered\n", api_name[a],
               n, calls, injected);
    }
}

/* Failed purges must not make calloc skip zeroing. */
static void purge_faults(void)
{
    enum { NB = 16 };
    size_t bsz[NB];
    void *b[NB];
    for (int i = 0; i < NB; i++) {
        bsz[i] = (size_t)(i % 2 ? 40000 : 3 << 20) + (size_t)i * 8192;
        b[i] = malloc(bsz[i]);
        CHECK(b[i] != NULL);
        memset(b[i], 0xff, bsz[i]);
    }
    for (int i = 0; i < NB; i++)
        free(b[i]);
    fault_arm(FAULT_PURGE, 0, 0, 0, 1);
    char name[64];
    snprintf(name, sizeof(name), "arena.%u.purge", (unsigned)MALLCTL_ARENAS_ALL);
    CHECK_I(mallctl(name, NULL, NULL, NULL, 0), ==, 0);
    uint64_t injected = fault_disarm();
    CHECK_MSG(injected > 0, "arena purge made no madvise call to fail");
    for (int i = 0; i < NB; i++) {
        unsigned char *p = calloc(1, bsz[i]);
        CHECK(p != NULL);
        for (size_t k = 0; k < bsz[i]; k++)
            CHECK_MSG(p[k] == 0, "calloc(%zu) after a failed purge: byte %zu is 0x%02x", bsz[i], k,
                      p[k]);
        b[i] = p;
    }
    for (int i = 0; i < NB; i++)
        free(b[i]);
    printf("ok calloc zeroed after %" PRIu64 " failed madvise calls\n", injected);
}

int main(void)
{
    /* Blocks held across everything: they must never change. */
    for (int i = 0; i < 64; i++) {
        size_t n = (size_t)1 << (4 + i % 20);
        void *p = malloc(n);
        CHECK(p != NULL);
        held_add(p, n);
    }
    size_t keep = nheld;
    /* run_api frees what it holds: keep the first 64 aside. */
    static struct held first[64];
    memcpy(first, held, sizeof(first));
    nheld = 0;
    for (int a = 0; a < A_N; a++)
        run_api((enum api)a);
    purge_faults();
    memcpy(held, first, sizeof(first));
    nheld = keep;
    held_free_all();
    printf("PASS\n");
    return 0;
}
