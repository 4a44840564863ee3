/*
 * The site table and the peak snapshot alone (libprof/site.c, peak.c),
 * under ThreadSanitizer: no allocator is interposed, their few dependencies
 * are test doubles below. Writer threads record samples on 64 stacks and
 * free their own and each other's (site_record, site_forget, peak_check:
 * snapshots taken on the sampling threads), a reader reads the kept peak
 * continuously the way a peak dump does (peak_hold, site_foreach_src and
 * site_foreach_tctx_src with SITE_PEAK, peak_release), and a resetter calls
 * site_reset now and then. Every sample weighs 1, so counts are exact:
 * each site read from the snapshot (its shares' peak slots summed by
 * site_foreach_src) must equal the shares site_foreach_tctx_src visits
 * (the two readers must pick the same generation's slots), no count may be
 * negative or absurd, and after the writers stop and one last
 * peak is forced, the snapshot must equal the live counters.
 */
#define SITE_TSAN_PEAK true
#include "site_tsan.h"

struct sum {
    uint64_t count, bytes;
};

static void tctx_sum(void *arg, const struct prof_tctx *t)
{
    struct sum *s = arg;
    s->count += t->cur.count;
    s->bytes += t->cur.bytes;
}

/* A site of the snapshot: its totals must equal the shares the per-share
 * reader visits. */
static void check_site(void *arg, const struct prof_site *site, const struct prof_cnt *cur,
                       const struct prof_cnt *accum)
{
    (void)accum;
    struct sum *total = arg, s = {0, 0};
    site_foreach_tctx_src(SITE_PEAK, site, tctx_sum, &s);
    if (s.count != cur->count || s.bytes != cur->bytes)
        FAIL("site %#lx at the peak: %lu objects %lu bytes, its shares %lu %lu",
             (unsigned long)site->pcs[0], (unsigned long)cur->count, (unsigned long)cur->bytes,
             (unsigned long)s.count, (unsigned long)s.bytes);
    if (cur->count > (uint64_t)(WRITERS + 1) * LIVE || cur->ubytes < 0)
        FAIL("site %#lx at the peak: %lu objects", (unsigned long)site->pcs[0],
             (unsigned long)cur->count);
    total->count += cur->count;
    total->bytes += cur->bytes;
}

static void live_site(void *arg, const struct prof_site *site, const struct prof_cnt *cur,
                      const struct prof_cnt *accum)
{
    (void)site, (void)accum;
    struct sum *s = arg;
    s->count += cur->count;
    s->bytes += cur->bytes;
}

static unsigned reads;

static void *reader(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        struct sum total = {0, 0};
        peak_hold();
        site_foreach_src(SITE_PEAK, check_site, &total);
        peak_release();
        reads++;
    }
    return NULL;
}

int main(void)
{
    site_boot();
    writer_mode = (struct writer_mode){.forget_with_td = false, .handover = 2};
    run_workload(reader, resetter);
    /* Quiescent: a reset, then a known heap; its peak is all of it. */
    site_reset();
    static struct prof_tdata td0 = {.uid = 99, .live = true};
    for (unsigned i = 0; i < 100; i++) {
        uintptr_t pcs[2] = {0x400000 + (i % 8) * 16, 0x500000};
        site_sample_index(site_record(&td0, 0x900000000ull + i * 64, 100, 100, pcs, 2, 1.0, 0));
    }
    struct sum peak_sum = {0, 0}, live_sum = {0, 0};
    peak_hold();
    site_foreach_src(SITE_PEAK, check_site, &peak_sum);
    peak_release();
    site_foreach_src(SITE_LIVE, live_site, &live_sum);
    /* The last snapshot was taken at or after 100 / 1.1 objects. */
    if (live_sum.count != 100 || peak_sum.count * 11 < 1000 || peak_sum.count > 100)
        FAIL("quiescent: live %lu objects, peak %lu (want 100, and [91, 100])",
             (unsigned long)live_sum.count, (unsigned long)peak_sum.count);
    printf("%u peak reads during churn; quiescent peak %lu of %lu objects\n", reads,
           (unsigned long)peak_sum.count, (unsigned long)live_sum.count);
    return atomic_load(&failures) ? 1 : 0;
}
