/*
 * defer_signal: a signal handler frees sampled blocks (a small one, a large
 * one, a huge one) while the thread it interrupted holds its arena's lock,
 * deterministically: the os seam's map wrapper raises the signal from
 * inside the mmap that chunk_new makes under the arena's lock, during a
 * large malloc. Every allocation is sampled (malloc_conf below).
 * Before the fix the handler's free of the large block waited for that
 * lock forever (an alarm fails the test after 10 s). Now:
 *   - inside the handler the frees are deferred (defer.h): the thread's
 *     deallocated bytes, the profiler's live samples and its live sampled
 *     bytes (prof.stats) are unchanged, and a second free of a deferred
 *     block is reported as a double free (not pushed twice);
 *   - when the interrupted malloc returns, the three blocks have been freed
 *     for real: deallocated grew by exactly their usable sizes, the live
 *     samples dropped by 3 and the live sampled bytes by exactly their
 *     requested sizes, and no defer section is left open;
 *   - a deferred block whose link is overwritten (a write after free) cuts
 *     the list there with a report, and no wild pointer is followed.
 */
#include "check.h"

#include "arena.h"
#include "defer.h"
#include "prof.h"
#include "prof_stats.h"
#include "signal_in_lock.h"

#include <string.h>

const char *malloc_conf = "prof:true,lg_prof_sample:0,prof_stats:true,prof_prefix:,"
                          "background_thread:false";

/* Reports (the double free) land here instead of stderr. */
static char messages[4096];
static size_t messages_len;

static void capture(void *opaque, const char *s)
{
    (void)opaque;
    size_t n = strlen(s);
    if (messages_len + n < sizeof(messages)) {
        memcpy(messages + messages_len, s, n);
        messages_len += n;
    }
}

void (*malloc_message)(void *, const char *) = capture;

static volatile int fired;
static uint64_t *deallocp;

enum { NVICTIM = 3 };
static const size_t victim_size[NVICTIM] = {40, 200 * 1024, 3 * 1024 * 1024};
static void *victim[NVICTIM];
static void *volatile victim_again; /* victim[1], freed a second time */

/* Observed inside the handler. */
static uint64_t h_dealloc_before, h_dealloc_after, h_live, h_live_bytes;
static unsigned h_depth;

/* Live sampled bytes (requested) over every class, read directly (the
 * handler may not call mallctl: prof.stats.*.live's reader takes no lock
 * the interrupted large malloc holds). */
static uint64_t live_sampled_bytes_direct(void)
{
    uint64_t sum = 0;
    struct prof_stats v;
    for (unsigned j = 0; prof_stats_get(false, j, false, &v) == 0; j++)
        sum += v.req_sum;
    for (unsigned j = 0; prof_stats_get(true, j, false, &v) == 0; j++)
        sum += v.req_sum;
    return sum;
}

static void handler(int sig)
{
    (void)sig;
    h_depth = defer_tls.depth;
    h_dealloc_before = *deallocp;
    for (int i = 0; i < NVICTIM; i++)
        free(victim[i]);
    free(victim_again); /* a double free of a deferred block: reported, ignored */
    h_dealloc_after = *deallocp;
    h_live = site_live_samples();
    h_live_bytes = live_sampled_bytes_direct();
    fired = 1;
}

int main(void)
{
    bool on = false;
    size_t sz = sizeof(on);
    CHECK_I(mallctl("opt.prof", &on, &sz, NULL, 0), ==, 0);
    CHECK(on);
    sz = sizeof(deallocp);
    CHECK_I(mallctl("thread.deallocatedp", &deallocp, &sz, NULL, 0), ==, 0);

    sil_install(SIGUSR1, handler,
                "defer_signal: the handler's free hung (deadlock under the arena lock)\n");

    size_t usable = 0;
    for (int i = 0; i < NVICTIM; i++) {
        victim[i] = malloc(victim_size[i]);
        CHECK_NONNULL(victim[i]);
        memset(victim[i], 0x5a, victim_size[i]);
        usable += malloc_usable_size(victim[i]);
    }
    victim_again = victim[1];
    uint64_t live0 = site_live_samples();
    uint64_t bytes0 = tl_live_sampled_bytes();
    uint64_t dealloc0 = *deallocp;
    CHECK_U(live0, >=, NVICTIM);

    /* Large blocks until one needs a fresh chunk, whose mmap raises the signal. */
    enum { NFILL = 64 };
    void *fill[NFILL];
    int nfill = sil_fill_until_signal(SIGUSR1, &fired, fill, NFILL, LARGE_MAX);
    CHECK_MSG(fired, "no chunk was mapped under an arena lock in %d large mallocs", nfill);

    /* Inside the handler: deferred, nothing freed yet. */
    CHECK_U(h_depth, >, 0);
    CHECK_U(h_dealloc_after, ==, h_dealloc_before);
    CHECK_U(h_dealloc_before, ==, dealloc0);
    /* (the malloc it interrupted is sampled after the handler) */
    CHECK_U(h_live, ==, live0 + (uint64_t)nfill - 1);
    uint64_t fill_bytes = (uint64_t)nfill * LARGE_MAX;
    CHECK_U(h_live_bytes, ==, bytes0 + fill_bytes - LARGE_MAX);
    CHECK_MSG(strstr(messages, "double free of") != NULL,
              "the second free of a deferred block was not reported: \"%s\"", messages);

    /* The malloc that was interrupted has returned: freed for real. */
    CHECK_U(defer_tls.depth, ==, 0);
    CHECK_MSG(defer_tls.list == NULL, "blocks left on the deferred list");
    CHECK_U(*deallocp - dealloc0, ==, usable);
    CHECK_U(site_live_samples(), ==, live0 + (uint64_t)nfill - NVICTIM);
    uint64_t want = bytes0 + fill_bytes - (victim_size[0] + victim_size[1] + victim_size[2]);
    CHECK_U(tl_live_sampled_bytes(), ==, want);

    for (int i = 0; i < nfill; i++)
        free(fill[i]);
    CHECK_U(site_live_samples(), ==, live0 - NVICTIM);
    CHECK_U(tl_live_sampled_bytes(), ==, bytes0 - (victim_size[0] + victim_size[1] + victim_size[2]));
    /* The freed blocks' memory is usable again. */
    void *again = malloc(victim_size[1]);
    CHECK_NONNULL(again);
    memset(again, 1, victim_size[1]);
    free(again);

    /* A deferred block's link overwritten (a write after free): the list
     * is cut there, reported, and nothing wild is followed. Inside a
     * defer_enter section (as a handler inside a slow path), b is pushed
     * after a, so b's first word links to a. */
    char *a = malloc(64), *b = malloc(64);
    CHECK(a != NULL && b != NULL);
    uint64_t d_before = *deallocp;
    messages_len = 0;
    memset(messages, 0, sizeof(messages));
    void *volatile *link = tl_opaque(b); /* b's first word, after its free */
    defer_enter();
    free(a);
    free(b);
    CHECK_U(*deallocp, ==, d_before);
    CHECK(*link == a);
    *link = (void *)0x1234; /* the write after free */
    defer_leave();
    CHECK_MSG(strstr(messages, "corrupted deferred-free list") != NULL,
              "the overwritten link was not reported: \"%s\"", messages);
    CHECK(defer_tls.list == NULL);
    /* b was freed, a (after the cut) was not */
    CHECK_U(*deallocp - d_before, ==, 64);
    printf("ok: %d large mallocs, signal under the arena lock, 3 deferred frees done\n", nfill);
    return 0;
}
