/*
 * What the site table's ThreadSanitizer tests share (tests/prof/peak_tsan.c,
 * site_owner_tsan.c): the test doubles of libprof/site.c's and peak.c's few
 * dependencies (no allocator is interposed), and the writer threads. Each
 * writer records samples on STACKS stacks at fresh addresses, frees its own
 * and hands one in HANDOVER of them to the others through `shared`, freeing
 * what another left in that slot. Every sample weighs 1, so counts are
 * exact. Include once, after defining SITE_TSAN_PEAK (opt.prof_peak).
 */
#ifndef SITE_TSAN_H
#define SITE_TSAN_H

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
struct options opt = {.prof = true, .prof_peak = SITE_TSAN_PEAK, .prof_unbias = true};

void *prof_host_meta_alloc(size_t size, size_t align)
{
    (void)align;
    return calloc(1, size);
}

/* No module is ever unloaded here (unloaded.h, cfi.h). */
_Atomic uint64_t cfi_gen;
uint64_t unloaded_last(void)
{
    return 0;
}
uintptr_t unloaded_alias(uintptr_t pc, uint64_t gen)
{
    (void)gen;
    return pc;
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

/* How a writer frees: with its own thread data (site_forget_td: a share's
 * own thread takes the lock-free path), or without (site_forget). */
struct writer_mode {
    bool forget_with_td;
    unsigned handover; /* one in handover of the frees goes through `shared` */
};
static struct writer_mode writer_mode;

static void forget(struct prof_tdata *td, uintptr_t p)
{
    struct prof_sample rec;
    if (writer_mode.forget_with_td)
        site_forget_td(td, p, &rec);
    else
        site_forget(p, &rec);
}

static void *writer(void *arg)
{
    struct prof_tdata *td = arg;
    uint64_t seed = td->uid * 0x9e3779b97f4a7c15ull + 7;
    uintptr_t own[LIVE] = {0};
    for (unsigned i = 0; i < OPS; i++) {
        unsigned k = (unsigned)(rnd(&seed) % LIVE);
        if (own[k] && (rnd(&seed) % writer_mode.handover) == 0) {
            /* Hand it over; free what another thread left here. */
            uintptr_t other = atomic_exchange(&shared[k], own[k]);
            if (other)
                forget(td, other);
        } else if (own[k]) {
            forget(td, own[k]);
        }
        uintptr_t p = atomic_fetch_add(&next_addr, 64);
        uintptr_t pcs[2] = {0x400000 + (rnd(&seed) % STACKS) * 16, 0x500000};
        size_t usize = 16 + (size_t)(rnd(&seed) % 4096);
        site_sample_index(site_record(td, p, usize, usize, pcs, 2, 1.0, 0));
        own[k] = p;
    }
    for (unsigned k = 0; k < LIVE; k++)
        if (own[k])
            forget(td, own[k]);
    return NULL;
}

/* Run the writers with a reader and a resetter thread beside them; then
 * free what was left in `shared`. */
static void run_workload(void *(*reader)(void *), void *(*resetter)(void *))
{
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
    for (unsigned k = 0; k < LIVE; k++)
        if (shared[k])
            forget(&tds[k % WRITERS], shared[k]);
}

/* prof.reset now and then while the writers run. */
static void *resetter(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20 && !atomic_load(&stop); i++) {
        usleep(5000);
        site_reset();
    }
    return NULL;
}

#endif
