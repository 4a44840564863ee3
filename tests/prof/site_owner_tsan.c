/*
 * The site table's lock-free path (libprof/site.c: a thread's samples and
 * its frees of them update its own share without the stripe lock, inside
 * the share's seqlock; other threads' frees count in the share's remote
 * counts under the lock), under ThreadSanitizer, prof_peak off. Writer
 * threads record samples on 64 stacks, free most of their own
 * (site_forget_td with their own thread data: the owner path) and hand the
 * rest to each other (the remote path); a reader sums the live table
 * continuously (site_foreach_src and site_foreach_tctx_src, as a dump
 * does) and a resetter calls site_reset now and then. Every sample weighs
 * 1, so a share read whole has ucount == count and ubytes == bytes, and no
 * count may be negative; a read that mixed two states of a share would
 * break that. When the writers are done and all is freed, the table reads
 * empty; then a known heap (100 samples of one thread, 30 of them freed by
 * another, 20 by itself) reads exactly 50 objects, all the allocating
 * thread's; and a share caught mid-write by a fork reads in the child.
 */
#define SITE_TSAN_PEAK false
#include "site_tsan.h"

struct sum {
    uint64_t count, bytes;
};

static void check_cnt(const char *what, uintptr_t pc, const struct prof_cnt *c)
{
    if (c->count > (uint64_t)(WRITERS + 1) * LIVE || c->ucount != (double)c->count ||
        c->ubytes != (double)c->bytes)
        FAIL("%s %#lx: %lu objects %lu bytes, unbiased %.1f %.1f", what, (unsigned long)pc,
             (unsigned long)c->count, (unsigned long)c->bytes, c->ucount, c->ubytes);
}

static void tctx_check(void *arg, const struct prof_tctx *t)
{
    struct sum *s = arg;
    check_cnt("share of site", t->site->pcs[0], &t->cur);
    check_cnt("accum of share of site", t->site->pcs[0], &t->accum);
    s->count += t->cur.count;
    s->bytes += t->cur.bytes;
}

static void live_site(void *arg, const struct prof_site *site, const struct prof_cnt *cur,
                      const struct prof_cnt *accum)
{
    (void)accum;
    struct sum *s = arg, shares = {0, 0};
    check_cnt("site", site->pcs[0], cur);
    site_foreach_tctx_src(SITE_LIVE, site, tctx_check, &shares);
    s->count += cur->count;
    s->bytes += cur->bytes;
}

static unsigned reads;

static void *reader(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        struct sum total = {0, 0};
        site_foreach_src(SITE_LIVE, live_site, &total);
        if (total.count > (uint64_t)(WRITERS + 1) * LIVE)
            FAIL("live total %lu objects", (unsigned long)total.count);
        reads++;
    }
    return NULL;
}

static uint64_t owner_count;

static void owner_share(void *arg, const struct prof_tctx *t)
{
    if (t->thr_uid == *(uint64_t *)arg)
        owner_count += t->cur.count;
    else if (t->cur.count)
        FAIL("thread %lu holds %lu objects it did not allocate", (unsigned long)t->thr_uid,
             (unsigned long)t->cur.count);
}

static void owner_site(void *arg, const struct prof_site *site, const struct prof_cnt *cur,
                       const struct prof_cnt *accum)
{
    (void)cur, (void)accum;
    site_foreach_tctx_src(SITE_LIVE, site, owner_share, arg);
}

int main(void)
{
    site_boot();
    writer_mode = (struct writer_mode){.forget_with_td = true, .handover = 4};
    run_workload(reader, resetter);
    struct prof_sample rec;
    struct sum empty = {0, 0};
    site_foreach_src(SITE_LIVE, live_site, &empty);
    if (empty.count != 0 || empty.bytes != 0)
        FAIL("all freed: the table holds %lu objects %lu bytes", (unsigned long)empty.count,
             (unsigned long)empty.bytes);
    /* Quiescent: a reset, then a known heap: 100 samples of td0, 30 of
     * them freed by td1 (remote), 20 by td0 itself (its own path). */
    site_reset();
    static struct prof_tdata td0 = {.uid = 99, .live = true}, td1 = {.uid = 98, .live = true};
    for (unsigned i = 0; i < 100; i++) {
        uintptr_t pcs[2] = {0x400000 + (i % 8) * 16, 0x500000};
        site_sample_index(site_record(&td0, 0x900000000ull + i * 64, 100, 100, pcs, 2, 1.0, 0));
    }
    for (unsigned i = 0; i < 30; i++)
        site_forget_td(&td1, 0x900000000ull + i * 64, &rec);
    for (unsigned i = 30; i < 50; i++)
        site_forget_td(&td0, 0x900000000ull + i * 64, &rec);
    struct sum live_sum = {0, 0};
    site_foreach_src(SITE_LIVE, live_site, &live_sum);
    uint64_t uid = td0.uid;
    site_foreach_src(SITE_LIVE, owner_site, &uid);
    if (live_sum.count != 50 || live_sum.bytes != 5000 || owner_count != 50)
        FAIL("quiescent: live %lu objects %lu bytes, %lu of them td0's (want 50, 5000, 50)",
             (unsigned long)live_sum.count, (unsigned long)live_sum.bytes,
             (unsigned long)owner_count);
    /* A fork that caught td0 writing one of its shares (seq odd: its
     * thread is not in the child): the child's readers must not wait for
     * it (site_postfork_child closes the write). */
    struct prof_tctx *t = NULL;
    for (unsigned i = 0; i < PROF_TCTX_CACHE && !t; i++)
        t = td0.tctx_cache[i];
    if (!t) {
        FAIL("td0 caches no share");
    } else {
        atomic_fetch_add(&t->seq, 1);
        site_postfork_child();
        struct sum after = {0, 0};
        site_foreach_src(SITE_LIVE, live_site, &after); /* hangs without the fix */
        if (after.count != live_sum.count)
            FAIL("after the fork: %lu objects, want %lu", (unsigned long)after.count,
                 (unsigned long)live_sum.count);
    }
    printf("%u live reads during churn; quiescent %lu objects\n", reads,
           (unsigned long)live_sum.count);
    return atomic_load(&failures) ? 1 : 0;
}
