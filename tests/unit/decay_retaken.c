/*
 * decay_retaken: pages the schedule purged and a block takes again leave
 * the dirty backlog, as reused dirty pages do (decay.h, decay_scheduled and
 * decay_retaken), so a page purged, taken again and freed again counts
 * once in the decay window, not once per free. Pure arithmetic on the
 * curve, with explicit times (no clock, no arena):
 *   - 1000 pages freed at t0; at t0 + W/2 the schedule allows 500 and
 *     purges 500; the program takes all 1000 again (500 dirty, 500 clean)
 *     and frees them at once. At t0 + 3W/4 the allowance is 750 (the 1000
 *     new frees at 3/4); without the credit the 500 purged pages would
 *     still count through their first free (500 * 1/4 more: 875), and the
 *     same cycle repeated every W/4 keeps that surplus (the churn of
 *     tests/soak, where it grew for minutes);
 *   - the cycle repeated every W/4 for 10 W: the allowance before each
 *     free is exactly 750 every time (without the credit: 875 from the
 *     second cycle on, the purged pages' old frees still counting);
 *   - clean pages taken with no credit (fresh pages) leave the backlog
 *     alone: a burst's allowance stays;
 *   - credit beyond the backlog (its frees left the window) is dropped,
 *     so it never removes more than the backlog holds; decay_init drops it.
 */
#include "check.h"

#include "decay.h"

#define MS ((uint64_t)1000000)

int main(void)
{
    const uint64_t t0 = (uint64_t)1 << 40;
    const uint64_t W = 640 * MS; /* epochs of exactly 10 ms */
    struct decay d;

    /* One cycle. */
    decay_init(&d, 640, t0);
    decay_note(&d, 1000, t0);
    CHECK_EQ(decay_limit(&d, t0 + W / 2), 500);
    decay_scheduled(&d, 500);           /* the driver purges the excess */
    decay_forget(&d, 500);              /* 500 dirty pages taken again */
    decay_retaken(&d, 500, t0 + W / 2); /* and the 500 purged ones */
    decay_note(&d, 1000, t0 + W / 2);   /* all freed again */
    CHECK_EQ(decay_limit(&d, t0 + W / 2), 1000);
    CHECK_EQ(decay_limit(&d, t0 + 3 * W / 4), 750); /* 875 without the credit */
    CHECK_EQ(d.sched_credit, 0);

    /* The cycle every W/4 for 10 W: the driver purges down to the
     * allowance, the program takes every free page again (dirty ones
     * first) and frees them all. The allowance right before each free is
     * exactly 750 (the last 1000 frees at 3/4 of the curve) and the
     * program never has more than 1000 pages free. */
    decay_init(&d, 640, t0);
    decay_note(&d, 1000, t0);
    size_t dirty = 1000;
    for (uint64_t k = 1; k <= 40; k++) {
        uint64_t now = t0 + k * W / 4;
        size_t lim = decay_limit(&d, now);
        CHECK_U(lim, ==, 750);
        size_t purged = dirty > lim ? dirty - lim : 0;
        decay_scheduled(&d, purged);
        dirty -= purged;
        decay_forget(&d, dirty);              /* dirty pages taken first */
        decay_retaken(&d, 1000 - dirty, now); /* then the purged ones */
        decay_note(&d, 1000, now);
        dirty = 1000;
        CHECK_U(decay_limit(&d, now), ==, 1000);
    }

    /* Fresh clean pages (no credit): nothing leaves the backlog. */
    decay_init(&d, 640, t0);
    decay_note(&d, 1000, t0);
    decay_retaken(&d, 400, t0 + W / 4);
    CHECK_EQ(decay_limit(&d, t0 + W / 2), 500);

    /* Credit beyond the backlog is dropped: 300 purged pages' frees left
     * the window; 200 pages freed since must stay allowed when 300 clean
     * pages are taken (only they could be forgotten: the credit shrinks to
     * the 200 the backlog holds, and they go). Then a later take of clean
     * pages finds no credit left. */
    decay_init(&d, 640, t0);
    decay_note(&d, 300, t0);
    decay_scheduled(&d, 300);
    decay_note(&d, 200, t0 + 2 * W); /* t0's pages left the window */
    CHECK_EQ(decay_limit(&d, t0 + 2 * W), 200);
    decay_retaken(&d, 100, t0 + 2 * W);
    CHECK_EQ(d.sched_credit, 100); /* 300 capped to the 200 held, 100 used */
    CHECK_EQ(decay_limit(&d, t0 + 2 * W), 100);
    decay_retaken(&d, 500, t0 + 2 * W);
    CHECK_EQ(d.sched_credit, 0);
    CHECK_EQ(decay_limit(&d, t0 + 2 * W), 0);
    decay_note(&d, 50, t0 + 2 * W);
    decay_retaken(&d, 50, t0 + 2 * W); /* no credit: stays */
    CHECK_EQ(decay_limit(&d, t0 + 2 * W), 50);

    /* decay_init (a new decay time) drops the credit with the backlog. */
    decay_scheduled(&d, 70);
    decay_init(&d, 640, t0 + 3 * W);
    CHECK_EQ(d.sched_credit, 0);

    printf("decay_retaken: ok\n");
    return 0;
}
