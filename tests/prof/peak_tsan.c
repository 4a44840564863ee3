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
#include "prof.h"
#include "options.h"
#include "recent.h"
#include "prof_hooks.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- test doubles ---- */

struct prof_state prof = {.lg_sample = 0};
struct options opt = {.prof = true, .prof_peak = true, .prof_unbias = true};

void *prof_host_meta_alloc(size_t size, size_t align)
{
    (void)align;
    return calloc(1, size);
}

bool recent_enabled(void)
{
    return false;
}

void recent_note_alloc(struct prof_sample *r, const struct prof_site *site,
                       const struct prof_tdata *td, uint64_t now)
{
    (void)r, (void)site, (void)td, (void)now;
}

/* ---- the workload ---- */

#define WRITERS 4
#define STACKS  64
#define LIVE    256
#define OPS     40000

static _Atomic int stop;
static _Atomic int failures;
static _Atomic uintptr_t shared[LIVE]; /* blocks any writer may free */
static _Atomic uint64_t next_addr = 0x10000;

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "FAIL: " __VA_ARGS__);                                                     \
        fputc('\n', stderr);                                                                       \
        atomic_fetch_add(&failures, 1);                                                            \
    } while (0)

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void *writer(void *arg)
{
    struct prof_tdata *td = arg;
    uint64_t seed = td->uid * 0x9e3779b97f4a7c15ull + 7;
    uintptr_t own[LIVE] = {0};
    for (unsigned i = 0; i < OPS; i++) {
        unsigned k = (unsigned)(rnd(&seed) % LIVE);
        struct prof_sample rec;
        if (own[k] && (rnd(&seed) & 1)) {
            /* Hand it over; free what another thread left here. */
            uintptr_t other = atomic_exchange(&shared[k], own[k]);
            if (other)
                site_forget(other, &rec);
        } else if (own[k]) {
            site_forget(own[k], &rec);
        }
        uintptr_t p = atomic_fetch_add(&next_addr, 64);
        uintptr_t pcs[2] = {0x400000 + (rnd(&seed) % STACKS) * 16, 0x500000};
        size_t usize = 16 + (size_t)(rnd(&seed) % 4096);
        site_record(td, p, usize, usize, pcs, 2, 1.0, 0);
        own[k] = p;
    }
    struct prof_sample rec;
    for (unsigned k = 0; k < LIVE; k++)
        if (own[k])
            site_forget(own[k], &rec);
    return NULL;
}

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

static void *resetter(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20 && !atomic_load(&stop); i++) {
        usleep(5000);
        site_reset();
    }
    return NULL;
}

int main(void)
{
    site_boot();
    static struct prof_tdata tds[WRITERS];
    pthread_t w[WRITERS], r, z;
    for (int i = 0; i < WRITERS; i++) {
        tds[i].uid = (uint64_t)i + 1;
        tds[i].live = true;
        pthread_create(&w[i], NULL, writer, &tds[i]);
    }
    pthread_create(&r, NULL, reader, NULL);
    pthread_create(&z, NULL, resetter, NULL);
    for (int i = 0; i < WRITERS; i++)
        pthread_join(w[i], NULL);
    atomic_store(&stop, 1);
    pthread_join(r, NULL);
    pthread_join(z, NULL);
    struct prof_sample rec;
    for (unsigned k = 0; k < LIVE; k++)
        if (shared[k])
            site_forget(shared[k], &rec);
    /* Quiescent: a reset, then a known heap; its peak is all of it. */
    site_reset();
    static struct prof_tdata td0 = {.uid = 99, .live = true};
    for (unsigned i = 0; i < 100; i++) {
        uintptr_t pcs[2] = {0x400000 + (i % 8) * 16, 0x500000};
        site_record(&td0, 0x900000000ull + i * 64, 100, 100, pcs, 2, 1.0, 0);
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
