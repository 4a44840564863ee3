/*
 * os_purge_many: os_purge_forced_many, the forced purge of a batch of
 * ranges in one system call (decay.c's purge passes).
 *   - 8 ranges of 4 pages, one in every 8 pages of a 64-page mapping: the
 *     ranges read back as zero, the pages between keep their bytes, every
 *     range reports 0; where the kernel takes process_madvise on
 *     PIDFD_SELF_THREAD (probed here), that was one call
 *     (os_purge_vectored + 1), else one madvise per range (+ 0);
 *   - a range with an unmapped page inside: that range reports ENOMEM,
 *     the others 0, and every mapped page of every range is still purged
 *     (the ranges after the failing one are done one by one);
 *   - with os_ops.purge_forced replaced (as tests and fault injection do),
 *     every range goes through it, once each, and nothing is vectored.
 */
#include "check.h"

#include "os.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#define PG     ((size_t)4096)
#define NPAGES 64
#define NR     8

static unsigned fake_calls;

static int fake_purge(void *addr, size_t size)
{
    fake_calls++;
    return madvise(addr, size, MADV_DONTNEED) == 0 ? 0 : errno;
}

static void fill(unsigned char *p)
{
    memset(p, 0xAB, NPAGES * PG);
}

static void ranges(unsigned char *p, struct os_range *r)
{
    for (unsigned i = 0; i < NR; i++)
        r[i] = (struct os_range){(uintptr_t)(p + i * 8 * PG), 4 * PG};
}

/* Pages 8i..8i+3 zero (except skip), the others 0xAB. */
static void check_pages(unsigned char *p, size_t skip)
{
    for (size_t i = 0; i < NPAGES; i++) {
        if (i == skip)
            continue;
        unsigned char want = (i % 8) < 4 ? 0 : 0xAB;
        CHECK_MSG(p[i * PG] == want && p[i * PG + PG - 1] == want,
                  "page %zu reads %#x, want %#x", i, p[i * PG], want);
    }
}

int main(void)
{
    unsigned char *p = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                            -1, 0);
    CHECK(p != MAP_FAILED);
    struct os_range r[NR];
    int err[NR];

    /* Does the kernel take a vector of MADV_DONTNEED on this process? */
    unsigned char *probe = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(probe != MAP_FAILED);
    probe[0] = 1;
    struct iovec iov = {probe, PG};
    bool vec = syscall(SYS_process_madvise, -10000, &iov, (size_t)1, MADV_DONTNEED, 0u) == (long)PG;
    printf("kernel %s process_madvise(PIDFD_SELF_THREAD, MADV_DONTNEED)\n",
           vec ? "takes" : "refuses");

    fill(p);
    ranges(p, r);
    uint64_t v0 = atomic_load(&os_purge_vectored);
    os_purge_forced_many(r, NR, err);
    for (unsigned i = 0; i < NR; i++)
        CHECK_I(err[i], ==, 0);
    check_pages(p, SIZE_MAX);
    CHECK_U(atomic_load(&os_purge_vectored) - v0, ==, vec ? 1 : 0);

    /* A hole in range 2 (pages 16..19). */
    fill(p);
    CHECK_I(munmap(p + 17 * PG, PG), ==, 0);
    os_purge_forced_many(r, NR, err);
    for (unsigned i = 0; i < NR; i++)
        CHECK_I(err[i], ==, i == 2 ? ENOMEM : 0);
    check_pages(p, 17);

    /* A replaced os_ops.purge_forced sees every range. */
    CHECK(mmap(p + 17 * PG, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
               0) == p + 17 * PG);
    fill(p);
    int (*saved)(void *, size_t) = os_ops.purge_forced;
    os_ops.purge_forced = fake_purge;
    v0 = atomic_load(&os_purge_vectored);
    os_purge_forced_many(r, NR, err);
    os_ops.purge_forced = saved;
    CHECK_U(fake_calls, ==, NR);
    CHECK_U(atomic_load(&os_purge_vectored), ==, v0);
    for (unsigned i = 0; i < NR; i++)
        CHECK_I(err[i], ==, 0);
    check_pages(p, SIZE_MAX);
    printf("ok\n");
    return 0;
}
