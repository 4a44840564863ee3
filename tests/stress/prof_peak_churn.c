/*
 * prof_peak_churn: the peak-heap snapshot (prof_peak:true) under threads.
 * Every allocation is sampled (lg_prof_sample:0, weight 1: exact counts).
 * Rounds of TEST_THREADS short-lived workers (so per-thread shares are
 * recycled and thread data reused) churn blocks of random sizes from stacks
 * of 1..8 frames, and in the middle of each round all hold (round+1) MiB at
 * once; meanwhile a dumper thread writes prof.dump_peak dumps back to back
 * and calls prof.reset every 8th dump, so snapshots race with samples,
 * frees, dumps and resets (rounds go on until 24 dumps, 10 s at most). Then, without the dumper, a
 * last round holds 6 MiB per worker (a new peak), and main writes the final peak dump. Checks: no
 * crash or hang; every dump is whole heap_v2 whose totals add up exactly (header t* = sum of the
 * blocks' t*, each block's t* = its thread lines, each header thread line = that thread's block
 * lines: a snapshot is copied per site under its stripe lock); the final peak holds between
 * workers*6 MiB / 1.1 (the 10% rule) and what the workers could hold at
 * once plus 1 MiB.
 */
#include "../integration/check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/stat.h>

#define MIB         ((size_t)1 << 20)
#define HOLD_BLOCK  ((size_t)16 << 10)
#define CHURN_LIVE  64
#define CHURN_MAX   4096
#define CHURN_ITERS 2000
#define MAX_DUMPS   64

static int nthreads;
static pthread_barrier_t hold_barrier;
static atomic_int stop_dumper;
static char dir[256];
static int ndumps;

struct worker {
    unsigned round;
    size_t hold_bytes;
    uint64_t seed;
};

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* depth extra frames before the allocation: several distinct sites. */
__attribute__((noinline)) static void *alloc_at(unsigned depth, size_t n)
{
    void *p = depth ? alloc_at(depth - 1, n) : malloc(n);
    __asm__ volatile("" ::: "memory"); /* no tail call: keep the frame */
    return p;
}

static void churn(uint64_t *seed, void **live, unsigned iters)
{
    for (unsigned i = 0; i < iters; i++) {
        unsigned k = (unsigned)(rnd(seed) % CHURN_LIVE);
        free(live[k]);
        size_t n = 16 + rnd(seed) % (CHURN_MAX - 16);
        live[k] = alloc_at((unsigned)(rnd(seed) % 8), n);
        CHECK(live[k] != NULL);
        memset(live[k], 0xab, 16);
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    void *live[CHURN_LIVE] = {0};
    size_t nhold = w->hold_bytes / HOLD_BLOCK;
    void **hold = calloc(nhold, sizeof(*hold));
    CHECK(hold != NULL);
    churn(&w->seed, live, CHURN_ITERS / 2);
    for (size_t i = 0; i < nhold; i++) {
        hold[i] = alloc_at(0, HOLD_BLOCK);
        CHECK(hold[i] != NULL);
    }
    pthread_barrier_wait(&hold_barrier); /* every worker holds its share now */
    for (size_t i = 0; i < nhold; i++)
        free(hold[i]);
    churn(&w->seed, live, CHURN_ITERS / 2);
    for (unsigned k = 0; k < CHURN_LIVE; k++)
        free(live[k]);
    free(hold);
    return NULL;
}

static void *dumper_main(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop_dumper) && ndumps < MAX_DUMPS) {
        char path[512];
        snprintf(path, sizeof(path), "%s/d%02d.heap", dir, ndumps);
        const char *p = path;
        CHECK_I(mallctl("prof.dump_peak", NULL, NULL, &p, sizeof(p)), ==, 0);
        ndumps++;
        if (ndumps % 8 == 0)
            CHECK_I(mallctl("prof.reset", NULL, NULL, NULL, 0), ==, 0);
        usleep(2000);
    }
    return NULL;
}

static void run_round(unsigned round, size_t hold_bytes)
{
    pthread_t th[256];
    struct worker w[256];
    CHECK_I(pthread_barrier_init(&hold_barrier, NULL, (unsigned)nthreads), ==, 0);
    for (int i = 0; i < nthreads; i++) {
        w[i] = (struct worker){round, hold_bytes,
                               (uint64_t)(round * 1000 + i) * 0x9e3779b97f4a7c15ull + 1};
        CHECK_I(pthread_create(&th[i], NULL, worker_main, &w[i]), ==, 0);
    }
    for (int i = 0; i < nthreads; i++)
        CHECK_I(pthread_join(th[i], NULL), ==, 0);
    pthread_barrier_destroy(&hold_barrier);
}

/* Parse "c: b [x: y]" after a prefix; returns false on a bad line. */
static bool counts(const char *s, uint64_t *c, uint64_t *b)
{
    unsigned long long cc, bb, x, y;
    if (sscanf(s, "%llu: %llu [%llu: %llu]", &cc, &bb, &x, &y) != 4)
        return false;
    *c = cc;
    *b = bb;
    return true;
}

#define MAX_UIDS 4096

/* Check one heap_v2 dump's totals add up exactly; returns its total bytes. */
static uint64_t check_dump(const char *path)
{
    FILE *f = fopen(path, "r");
    CHECK_MSG(f != NULL, "cannot open %s", path);
    static char line[65536];
    static uint64_t huid[MAX_UIDS], hb[MAX_UIDS], hc[MAX_UIDS], sb[MAX_UIDS], sc[MAX_UIDS];
    unsigned nh = 0;
    uint64_t tot_c = 0, tot_b = 0, blk_c = 0, blk_b = 0;
    uint64_t bt_c = 0, bt_b = 0, bl_c = 0, bl_b = 0;
    int state = 0; /* 0 first, 1 total, 2 header threads, 3 block total, 4 block threads, 5 maps */
    unsigned lineno = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        uint64_t c, b;
        if (state == 0) {
            CHECK_MSG(strcmp(line, "heap_v2/1\n") == 0, "%s: first line %s", path, line);
            state = 1;
        } else if (state == 1) {
            CHECK_MSG(strncmp(line, "  t*: ", 6) == 0 && counts(line + 6, &tot_c, &tot_b),
                      "%s:%u: bad total line %s", path, lineno, line);
            state = 2;
        } else if ((state == 2 || state == 4) && strncmp(line, "  t", 3) == 0 && line[3] != '*') {
            unsigned long long uid;
            char *colon = strchr(line, ':');
            CHECK_MSG(colon && sscanf(line + 3, "%llu", &uid) == 1 && counts(colon + 2, &c, &b),
                      "%s:%u: bad thread line %s", path, lineno, line);
            if (state == 2) {
                CHECK_MSG(nh < MAX_UIDS, "%s: too many threads", path);
                huid[nh] = uid;
                hc[nh] = c;
                hb[nh] = b;
                sc[nh] = sb[nh] = 0;
                nh++;
            } else {
                bl_c += c;
                bl_b += b;
                for (unsigned i = 0; i < nh; i++)
                    if (huid[i] == uid) {
                        sc[i] += c;
                        sb[i] += b;
                    }
            }
        } else if ((state == 2 || state == 4) && line[0] == '@') {
            if (state == 4)
                CHECK_MSG(bl_c == bt_c && bl_b == bt_b,
                          "%s:%u: block t* %llu: %llu but thread lines add up to %llu: %llu", path,
                          lineno, (unsigned long long)bt_c, (unsigned long long)bt_b,
                          (unsigned long long)bl_c, (unsigned long long)bl_b);
            state = 3;
        } else if (state == 3) {
            CHECK_MSG(strncmp(line, "  t*: ", 6) == 0 && counts(line + 6, &bt_c, &bt_b),
                      "%s:%u: bad block total %s", path, lineno, line);
            CHECK_MSG(bt_c > 0, "%s:%u: block with no live objects", path, lineno);
            blk_c += bt_c;
            blk_b += bt_b;
            bl_c = bl_b = 0;
            state = 4;
        } else if ((state == 2 || state == 4) && strcmp(line, "\n") == 0) {
            if (state == 4)
                CHECK_MSG(bl_c == bt_c && bl_b == bt_b,
                          "%s: last block's thread lines do not add up", path);
            state = 5;
        } else if (state == 5) {
            break; /* MAPPED_LIBRARIES: the rest is not ours to check here */
        } else {
            CHECK_MSG(false, "%s:%u: unexpected line (state %d) %s", path, lineno, state, line);
        }
    }
    fclose(f);
    CHECK_MSG(state == 5, "%s: truncated (state %d)", path, state);
    CHECK_MSG(blk_c == tot_c && blk_b == tot_b,
              "%s: header t* %llu: %llu, blocks add up to %llu: %llu", path,
              (unsigned long long)tot_c, (unsigned long long)tot_b, (unsigned long long)blk_c,
              (unsigned long long)blk_b);
    for (unsigned i = 0; i < nh; i++)
        CHECK_MSG(sc[i] == hc[i] && sb[i] == hb[i],
                  "%s: header t%llu %llu: %llu, its block lines add up to %llu: %llu", path,
                  (unsigned long long)huid[i], (unsigned long long)hc[i], (unsigned long long)hb[i],
                  (unsigned long long)sc[i], (unsigned long long)sb[i]);
    return tot_b;
}

int main(int argc, char **argv)
{
    tl_require_liballoc();
    bool peak = false, prof = false;
    size_t len = sizeof(peak);
    CHECK_I(mallctl("opt.prof_peak", &peak, &len, NULL, 0), ==, 0);
    len = sizeof(prof);
    CHECK_I(mallctl("opt.prof", &prof, &len, NULL, 0), ==, 0);
    if (!peak || !prof) {
        /* Run without prof_peak_churn.conf's MALLOC_CONF: re-run under it. */
        CHECK_MSG(argc < 2, "child run without prof:true,prof_peak:true");
        tl_run_child("prof:true,prof_peak:true,lg_prof_sample:0");
        return 0;
    }
    nthreads = tl_threads();
    /* A fresh directory under TMPDIR (mkdtemp: a stale one of a killed run
     * with the same pid cannot get in the way). */
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/prof_peak_churn.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    CHECK_MSG(mkdtemp(dir) != NULL, "mkdtemp %s: errno %d", dir, errno);

    pthread_t dumper;
    CHECK_I(pthread_create(&dumper, NULL, dumper_main, NULL), ==, 0);
    /* Rounds until the dumper has written 24 dumps (3 resets), 10 s at most. */
    double t0 = tl_now();
    unsigned rounds = 0;
    while (rounds < 3 || (ndumps < 24 && tl_now() - t0 < 10))
        run_round(rounds, (rounds % 3 + 1) * MIB), rounds++;
    atomic_store(&stop_dumper, 1);
    CHECK_I(pthread_join(dumper, NULL), ==, 0);
    CHECK_MSG(ndumps > 0, "the dumper wrote no dump");

    /* The last peak: no dumper, so nothing holds the snapshot back. */
    const size_t last = 6 * MIB;
    run_round(rounds, last);
    char path[512];
    snprintf(path, sizeof(path), "%s/final.heap", dir);
    const char *p = path;
    CHECK_I(mallctl("prof.dump_peak", NULL, NULL, &p, sizeof(p)), ==, 0);

    for (int i = 0; i < ndumps; i++) {
        char d[512];
        snprintf(d, sizeof(d), "%s/d%02d.heap", dir, i);
        check_dump(d);
        unlink(d);
    }
    uint64_t total = check_dump(path);
    unlink(path);
    rmdir(dir);
    double held = (double)nthreads * (double)last;
    double most = (double)nthreads * (double)(last + CHURN_LIVE * CHURN_MAX) + (double)MIB;
    printf("%d threads, %u rounds, %d dumps during churn; final peak %llu bytes (held at once: "
           "%.0f)\n",
           nthreads, rounds, ndumps, (unsigned long long)total, held);
    CHECK_MSG((double)total * 1.1 >= held && (double)total <= most,
              "final peak %llu bytes, want [%.0f, %.0f]", (unsigned long long)total, held / 1.1,
              most);
    return 0;
}
