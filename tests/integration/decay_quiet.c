/*
 * decay_quiet: a thread that goes quiet after a burst of frees still gives
 * the burst back on schedule (dirty_decay_ms:1000, muzzy 0, no background
 * thread: decay_quiet.conf). After the burst the thread only does light
 * work: one 1 KiB malloc/free every 2 ms (512 KiB/s).
 *
 * Before, a thread's decay ticks came every 1 MiB of allocation or of frees
 * once it had been busy, and the poke meant to wake a quiet thread was
 * swallowed by its rate limit or used up by the burst's own next free: about
 * one burst in four (bench/decay, two 256 MiB bursts at 10 s) stayed
 * resident for minutes, nothing calling decay at all. Now the tick interval
 * is capped at DECAY_TICK_BYTES (64 KiB: 0.13 s of this light work) while
 * purge work is pending (decay.h).
 *
 *  - bursts: 10 rounds of ~64 MiB of blocks of 16 B - 16 KiB in the
 *    thread's arena, each begun with 1 MiB of small blocks freed (an arena
 *    usually has some purge work pending, so decay runs and pokes happen
 *    during the burst), freed at once, then light work. The first round is a
 *    wave (purged at the free); the others find demand (the pages they took
 *    again) and are left to the schedule. Each round: at half the decay time
 *    less than 3/4 of the burst may be resident, and it must be down to
 *    4 MiB (polled) by 1.5 times the decay time (plus 1.5 s of grace for a
 *    loaded machine). Before the fix about one round in four kept all of it
 *    (3 runs in 4 failed). Read from the RSS: refreshing the allocator's
 *    stats (epoch) nudges every thread to tick, which would hide the fault.
 *  - the curve: 6 x 1 MiB page runs freed (every other one of 12, so they
 *    stay apart) in an arena of their own (below the wave rule's 8 MiB) follow the linear allowance of decay.h: at half
 *    the decay time the dirty pages lie between the allowance at the read
 *    (less one run) and the allowance 300 ms before it (the tick lag, plus
 *    one run), and all are gone by 1.5 times the decay time.
 * The curve part reads stats.arenas.<i>.pdirty (the allocator's own count).
 */
#include "check.h"

#define MiB ((size_t)1 << 20)
#define DECAY_S 1.0
#define ROUNDS ((int)tl_env_long("DECAY_QUIET_ROUNDS", 10))

static size_t page_size;

static size_t pdirty(unsigned ar)
{
    char name[64];
    snprintf(name, sizeof(name), "stats.arenas.%u.pdirty", ar);
    return tl_stat_size(name) * page_size;
}

/* The light work that drives the ticks. */
static void light(void)
{
    free(tl_opaque(malloc(tl_opaque_size(1024))));
    usleep(2000);
}

/* Light work until t seconds after t0. */
static void light_until(double t0, double t)
{
    while (tl_now() - t0 < t)
        light();
}

/* Light work until the resident set is at most `most` bytes or t seconds
 * after t0 have passed; returns the resident bytes at the end. */
/* Resident bytes above base (0 below it: pages resident at base may go too). */
static size_t held(size_t base)
{
    size_t r = tl_rss();
    return r > base ? r - base : 0;
}

static size_t light_until_rss(size_t most, double t0, double t)
{
    size_t r = tl_rss();
    while (r > most && tl_now() - t0 < t) {
        for (int i = 0; i < 5; i++)
            light();
        r = tl_rss();
    }
    return r;
}

/* Light work until pdirty of ar is at most `most` bytes or t seconds after
 * t0 have passed; returns pdirty at the end. */
static size_t light_until_clean(unsigned ar, size_t most, double t0, double t)
{
    size_t d = pdirty(ar);
    while (d > most && tl_now() - t0 < t) {
        for (int i = 0; i < 5; i++)
            light();
        d = pdirty(ar);
    }
    return d;
}

static uint64_t rng = 0x2545f4914f6cdd1dull;
static size_t pick(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng % 100 < 80 ? 16 + rng % 496 : 512 + rng % (16 << 10);
}

static void bursts(void)
{
    enum { CAP = 1 << 20 };
    void **v = malloc(CAP * sizeof(void *));
    CHECK_NONNULL(v);
    memset(v, 0, CAP * sizeof(void *)); /* resident before the first base */
    for (int round = 0; round < ROUNDS; round++) {
        /* A program's arena usually holds some dirty pages (purge work
         * pending) when a burst begins: 1 MiB of small blocks. */
        void *some[256];
        for (int i = 0; i < 256; i++)
            some[i] = malloc(4096);
        for (int i = 0; i < 256; i++)
            free(some[i]);
        size_t base = tl_rss();
        size_t n = 0, total = 0;
        while (total < 64 * MiB && n < CAP) {
            size_t s = pick();
            v[n] = malloc(s);
            CHECK_NONNULL(v[n]);
            memset(v[n], 0x5a, s);
            total += s;
            n++;
        }
        size_t burst = held(base);
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        double t0 = tl_now();
        size_t at_free = held(base);
        light_until(t0, DECAY_S / 2);
        size_t half = held(base);
        double t_half = tl_now() - t0;
        light_until_rss(base + 4 * MiB, t0, 1.5 * DECAY_S + 1.5);
        size_t end = held(base);
        double t_end = tl_now() - t0;
        printf("round %d: %zu MiB burst (%zu KiB resident); held %zu KiB at the free, %zu KiB at "
               "%.2f s, %zu KiB at %.2f s\n",
               round, total >> 20, burst >> 10, at_free >> 10, half >> 10, t_half, end >> 10,
               t_end);
        CHECK_MSG(burst >= 48 * MiB, "round %d: the burst made only %zu KiB resident", round,
                  burst >> 10);
        CHECK_MSG(half < burst / 4 * 3,
                  "round %d: %zu KiB of a %zu KiB burst still resident %.2f s after the free "
                  "(decay time %.1f s)",
                  round, half >> 10, burst >> 10, t_half, DECAY_S);
        CHECK_MSG(end <= 4 * MiB,
                  "round %d: %zu KiB still resident %.2f s after the free (decay time %.1f s): "
                  "the quiet thread did not decay",
                  round, end >> 10, t_end, DECAY_S);
    }
    free(v);
}

static void curve(void)
{
    unsigned ar = tl_arena_create();
    int f = MALLOCX_ARENA(ar) | MALLOCX_TCACHE_NONE;
    /* Every other block of 12 is freed, so the 6 free runs cannot merge
     * (a merged run would be purged whole, beyond the allowance). */
    unsigned char *l[12];
    for (int i = 0; i < 12; i++) {
        l[i] = mallocx(MiB, f);
        CHECK_NONNULL(l[i]);
        memset(l[i], 0x33, MiB);
    }
    size_t base = pdirty(ar);
    double t_start = tl_now();
    for (int i = 0; i < 12; i += 2)
        dallocx(l[i], f);
    double t_freed = tl_now();
    size_t n = 6 * MiB, at_free = pdirty(ar) - base;
    /* A decay run at the free may already purge a run (the free counts from
     * its epoch's start). */
    CHECK_MSG(at_free >= 4 * MiB, "only %zu KiB dirty right after freeing 6 MiB (purged at once)",
              at_free >> 10);
    light_until(t_freed, DECAY_S / 2);
    double t_before = tl_now();
    size_t kept = pdirty(ar) - base;
    double t_after = tl_now();
    /* allowance(t) = n * (1 - (t - e) / W), e the start of the free's epoch
     * (at most one epoch, W/64, and a coarse clock tick before the free). */
    double w = DECAY_S, ep = w / 64 + 0.005; /* + the coarse clock's lag */
    double lo = (double)n * (1 - (t_after - t_start + ep) / w) - (double)MiB;
    double hi = (double)n * (1 - (t_before - 0.3 - t_freed) / w) + (double)MiB;
    printf("curve: %zu KiB of %zu KiB dirty %.2f s after the free; the allowance allows "
           "%.0f - %.0f KiB\n",
           kept >> 10, n >> 10, t_before - t_freed, lo / 1024, hi / 1024);
    CHECK_MSG((double)kept >= lo, "curve: %zu KiB dirty at %.2f s is below the allowance (%.0f KiB)",
              kept >> 10, t_after - t_start, lo / 1024);
    CHECK_MSG((double)kept <= hi, "curve: %zu KiB dirty at %.2f s is above the allowance (%.0f KiB)",
              kept >> 10, t_before - t_freed, hi / 1024);
    size_t end = light_until_clean(ar, base, t_freed, 1.5 * DECAY_S + 1.5) - base;
    printf("curve: %zu KiB dirty %.2f s after the free\n", end >> 10, tl_now() - t_freed);
    CHECK_MSG(end == 0, "curve: %zu KiB still dirty %.2f s after the free", end >> 10,
              tl_now() - t_freed);
    for (int i = 1; i < 12; i += 2)
        dallocx(l[i], f);
}

int main(void)
{
    tl_require_liballoc();
    page_size = (size_t)sysconf(_SC_PAGESIZE);
    tl_require_dirty_decay_ms(1000, "decay_quiet.conf");
    bursts();
    curve();
    printf("ok\n");
    return 0;
}
