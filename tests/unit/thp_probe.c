/*
 * thp_probe: the plan that decides whether a huge block's units are marked
 * for huge pages (os_thp_plan, os_thp_probe_result, os_thp_probe; os.h),
 * with the kernel's THP mode at madvise (else the plan is always "mark":
 * checked, then the rest is skipped).
 *   - every block is probed while probes are fast, from the first (on a
 *     guest whose virtio balloon reports free pages to the host too); a
 *     grown block is marked without a probe;
 *   - a slow probe (over OS_THP_SLOW_NS, and over the small faults it is
 *     compared with when they were sampled, or the last sample) makes the
 *     next OS_THP_BACKOFF_MIN blocks small, then the next is probed; slow
 *     probes in a row double the back-off up to OS_THP_BACKOFF_MAX; a fast
 *     probe resets it (not on a reporting guest);
 *   - thp_huge_probe off: always "mark";
 *   - os_thp_probe on a unit not yet faulted times its fault (one probe
 *     more in the stats, the byte reads 0, the page is resident), and
 *     samples small faults in the unit given only after a slow one; on a
 *     unit with a page resident, or unmapped, it measures nothing and
 *     counts nothing (errno kept).
 */
#include "check.h"

#include "os.h"

#include <sys/mman.h>

#define UNIT ((size_t)2 << 20)

static void expect_small(unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        CHECK_MSG(os_thp_plan(i & 1) == OS_THP_PLAN_SMALL, "block %u of a back-off of %u", i, n);
}

/* The plan's rules from a fresh state, on a machine that does (reporting)
 * or does not report free pages: 19 probes, 16 of them slow. */
static void policy(bool reporting)
{
    os_thp_plan_reset(reporting);
    CHECK(os_thp_plan(true) == OS_THP_PLAN_PROBE); /* from the first block */

    /* Fast probes: every block probed, grown blocks marked. */
    CHECK(!os_thp_probe_result(200000, 0));
    CHECK(os_thp_plan(true) == OS_THP_PLAN_PROBE);
    CHECK(os_thp_plan(false) == OS_THP_PLAN_HUGE);
    CHECK(!os_thp_probe_result(OS_THP_SLOW_NS, 0)); /* the threshold itself is fast */

    /* A slow probe: OS_THP_BACKOFF_MIN small blocks, then a probe. */
    CHECK(os_thp_probe_result(OS_THP_SLOW_NS + 1, 0));
    expect_small(OS_THP_BACKOFF_MIN);
    CHECK(os_thp_plan(true) == OS_THP_PLAN_PROBE);
    /* Slow again: twice as long. */
    CHECK(os_thp_probe_result(6000000, 0));
    expect_small(2 * OS_THP_BACKOFF_MIN);
    CHECK(os_thp_plan(true) == OS_THP_PLAN_PROBE);
    /* A fast probe resets the back-off (the next slow one is short again),
     * except on a guest that reports free pages, which keeps its length
     * (the blocks after the fast one are each probed). */
    CHECK(!os_thp_probe_result(300000, 0));
    CHECK(os_thp_plan(true) == OS_THP_PLAN_PROBE);
    CHECK(os_thp_plan(true) == OS_THP_PLAN_PROBE);
    CHECK(os_thp_probe_result(6000000, 0));
    unsigned b = reporting ? 4 * OS_THP_BACKOFF_MIN : OS_THP_BACKOFF_MIN;
    expect_small(b);
    CHECK(os_thp_plan(true) == OS_THP_PLAN_PROBE);
    /* A huge fault slower than the threshold but faster than the 512 small
     * faults sampled with it is fast (the back-off as it was), and the
     * sample stands for probes without one; a slower one is slow. */
    CHECK(!os_thp_probe_result(6000000, 8000000));
    CHECK(os_thp_plan(true) == OS_THP_PLAN_PROBE);
    CHECK(!os_thp_probe_result(7000000, 0)); /* the last sample: 8 ms */
    CHECK(os_thp_plan(true) == OS_THP_PLAN_PROBE);
    if (!reporting)
        b = OS_THP_BACKOFF_MIN / 2; /* reset by the fast probes */
    CHECK(os_thp_probe_result(9000000, 0));
    b = b * 2 > OS_THP_BACKOFF_MAX ? OS_THP_BACKOFF_MAX : b * 2;
    expect_small(b);
    CHECK(os_thp_plan(true) == OS_THP_PLAN_PROBE);
    CHECK(os_thp_probe_result(3000000, 2000000)); /* a new sample, faster */
    b = b * 2 > OS_THP_BACKOFF_MAX ? OS_THP_BACKOFF_MAX : b * 2;
    expect_small(b);
    CHECK(os_thp_plan(true) == OS_THP_PLAN_PROBE);
    /* Slow in a row: capped at OS_THP_BACKOFF_MAX. */
    b = b * 2 > OS_THP_BACKOFF_MAX ? OS_THP_BACKOFF_MAX : b * 2;
    for (int i = 0; i < 12; i++) {
        CHECK(os_thp_probe_result(6000000, 0));
        expect_small(b);
        CHECK(os_thp_plan(true) == OS_THP_PLAN_PROBE);
        b = b * 2 > OS_THP_BACKOFF_MAX ? OS_THP_BACKOFF_MAX : b * 2;
    }
    CHECK_U(b, ==, OS_THP_BACKOFF_MAX);
    CHECK(os_thp_probe_result(6000000, 0));
    expect_small(OS_THP_BACKOFF_MAX);
    CHECK(os_thp_plan(true) == OS_THP_PLAN_PROBE);
}

int main(void)
{
    os_thp_huge = true;
    os_thp_huge_probe = true;
    os_thp_mode = OS_THP_DEFAULT;
    enum os_thp_plan first = os_thp_plan(true);
    if (first == OS_THP_PLAN_HUGE) {
        /* Only in the kernel's madvise mode do blocks mark anything. */
        CHECK(os_thp_plan(true) == OS_THP_PLAN_HUGE);
        printf("kernel THP mode is not madvise: the plan always marks\n");
        return 77;
    }
    printf("this machine %s free pages to its host\n",
           os_free_page_reporting() ? "reports" : "does not report");
    CHECK(first == OS_THP_PLAN_PROBE); /* not backed off from the start */
    uint64_t p0, s0;
    os_thp_probe_stats(&p0, &s0);
    for (int reporting = 0; reporting < 2; reporting++)
        policy(reporting);
    uint64_t p1, s1;
    os_thp_probe_stats(&p1, &s1);
    CHECK_U(p1 - p0, ==, 2 * 23);
    CHECK_U(s1 - s0, ==, 2 * 18);

    /* The option off: always mark, whatever the last probe said. */
    CHECK(os_thp_probe_result(6000000, 0));
    os_thp_huge_probe = false;
    CHECK(os_thp_plan(true) == OS_THP_PLAN_HUGE);
    os_thp_huge_probe = true;
    expect_small(OS_THP_BACKOFF_MAX);
    CHECK(os_thp_plan(true) == OS_THP_PLAN_PROBE);

    /* os_thp_probe on a real unit: timed once, then nothing to time. */
    unsigned char *m = mmap(NULL, 4 * UNIT, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    unsigned char *u = (unsigned char *)(((uintptr_t)m + UNIT - 1) & ~(uintptr_t)(UNIT - 1));
    CHECK(madvise(u, 2 * UNIT, MADV_HUGEPAGE) == 0);
    unsigned char vec = 1;
    CHECK(mincore(u, 4096, &vec) == 0 && !(vec & 1));
    os_thp_probe_stats(&p0, &s0);
    errno = 1234;
    /* ref: a third unit, sampled with small faults only if the huge fault
     * took over OS_THP_SLOW_NS: then exactly OS_THP_SMALL_SAMPLE of its
     * pages are resident, else none. */
    unsigned char *ref = u + 2 * UNIT;
    bool slow = os_thp_probe(u, ref);
    unsigned char rvec[UNIT / 4096];
    CHECK(mincore(ref, UNIT, rvec) == 0);
    unsigned resident = 0;
    for (size_t i = 0; i < sizeof(rvec); i++)
        resident += rvec[i] & 1;
    CHECK_MSG(resident == 0 || resident == OS_THP_SMALL_SAMPLE, "%u pages of the sampled unit resident", resident);
    if (resident)
        CHECK(ref[UNIT / OS_THP_SMALL_SAMPLE] == 0 && (rvec[UNIT / OS_THP_SMALL_SAMPLE / 4096] & 1));
    if (slow)
        CHECK_U(resident, ==, OS_THP_SMALL_SAMPLE); /* slow only after the comparison */
    CHECK_I(errno, ==, 1234);
    os_thp_probe_stats(&p1, &s1);
    CHECK_U(p1 - p0, ==, 1);
    CHECK_U(s1 - s0, ==, slow ? 1 : 0);
    CHECK(u[0] == 0);
    CHECK(mincore(u, 4096, &vec) == 0 && (vec & 1));
    CHECK(!os_thp_probe(u, NULL));
    os_thp_probe_stats(&p0, &s0);
    CHECK_U(p0, ==, p1);
    printf("first fault of a marked unit: %s\n", slow ? "slow" : "fast");
    /* A unit with one page resident, not the first, gives no measure
     * (its first touch would be a small fault). */
    unsigned char *v = u + UNIT;
    CHECK(madvise(v, UNIT, MADV_NOHUGEPAGE) == 0); /* its third page alone */
    v[8192] = 1;
    CHECK(madvise(v, UNIT, MADV_HUGEPAGE) == 0);
    CHECK(!os_thp_probe(v, NULL));
    os_thp_probe_stats(&p1, &s1);
    CHECK_U(p1, ==, p0);
    CHECK(mincore(v, 4096, &vec) == 0 && !(vec & 1));
    munmap(m, 4 * UNIT);
    /* An unmapped unit: mincore fails, nothing measured, errno kept. */
    errno = 4321;
    CHECK(!os_thp_probe(u, NULL));
    CHECK_I(errno, ==, 4321);
    os_thp_probe_stats(&p1, &s1);
    CHECK_U(p1, ==, p0);
    printf("ok\n");
    return 0;
}
