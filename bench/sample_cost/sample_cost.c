/*
 * sample_cost: the cost of ONE heap-profile sample, in ns, and of its parts.
 *
 * Linked with the allocator's internal archive (build/obj/liballoc-internal.a),
 * so it calls the profiler's own functions directly; run with
 * MALLOC_CONF=prof:true (bench/sample_cost/run.sh does). Each part runs in
 * batches of BATCH calls timed with clock_gettime(CLOCK_MONOTONIC); the
 * figure printed is the median over ROUNDS batches, divided by BATCH.
 *
 * Parts:
 *   unwind_fp, unwind_libunwind,  backtrace_capture at a fixed depth (DEPTH
 *   unwind_cfi                    user frames below main) with each unwinder
 *                                 (cfi: prof_unwind:auto's cached-rule walk)
 *   unwind_libunwind_unloaded     unwind_libunwind once the program has
 *                                 called dlclose (of a library it keeps
 *                                 loaded: each walk then also checks its
 *                                 frames against unloaded modules,
 *                                 cfi_unload_suspect in backtrace.c)
 *   weight                        1/(1-exp(-usize/R)), the sample's weight
 *                                 (pmath_unsample_weight, 16..271 B at lg 14)
 *   draw                          the next sampling interval, -log(u) * 2^14
 *                                 (pmath_log_fast); both as latencies (a chain of
 *                                 dependent calls), as the sample path waits
 *                                 for them
 *   site_record                   hash + site lookup (hit) + share + record
 *                                 (+ recent ring, peak check when those are
 *                                 on in MALLOC_CONF); the record goes in the
 *                                 block's span slot, no table
 *   site_forget                   the free side of a sampled block whose
 *                                 record its span slot kept: counters,
 *                                 record recycled
 *   forget_miss                   the table lookup of a block that is not sampled
 *                                 (what an unsampled free on a page holding
 *                                 a sampled block costs the profiler)
 *   e2e_sampled, e2e_unsampled    malloc(64)+free through the public API
 *                                 with every allocation sampled
 *                                 (lg_prof_sample 0) and with none (prof.active
 *                                 false); their difference is the whole
 *                                 cost of a sample as the program sees it
 *
 * Output: one "name ns" line per part, then "sample_total ns".
 * Usage: sample_cost [rounds=41]
 */
#include "prof.h"
#include "backtrace.h"
#include "pmath.h"
#include "jemalloc-compat.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 2000
#define DEPTH 12
#define MAXROUNDS 201

static int rounds = 41;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Median of the rounds, per call, in ns. */
static double median_per_call(uint64_t *t, int n)
{
    qsort(t, (size_t)n, sizeof(*t), cmp_u64);
    return (double)t[n / 2] / BATCH;
}

static volatile double sink_d;
static volatile uintptr_t sink_u;

/* ---- unwinding at a fixed depth ---- */

static double unwind_batch(void)
{
    uintptr_t pcs[PROF_BT_MAX];
    uint64_t t0 = now_ns();
    for (int i = 0; i < BATCH; i++)
        sink_u += backtrace_capture(pcs, PROF_BT_MAX);
    return (double)(now_ns() - t0);
}

/* Recurse to DEPTH frames, then time the unwinder there. noinline and the
 * volatile add keep every frame real. */
static __attribute__((noinline)) double at_depth(int d, int method)
{
    if (d > 0) {
        double r = at_depth(d - 1, method);
        sink_u++;
        return r;
    }
    uint64_t t[MAXROUNDS];
    backtrace_boot(method);
    unwind_batch(); /* warm: libunwind's per-thread cache, page faults */
    for (int r = 0; r < rounds; r++)
        t[r] = (uint64_t)unwind_batch();
    return median_per_call(t, rounds);
}

/* ---- the weight and the interval draw ----
 * Each call's argument depends on the previous result (a term times
 * 2^-1000, lost in rounding), so a batch measures a call's latency, as
 * the sample path waits for it, not the throughput of independent calls overlapping. */

static double weight_part(void)
{
    uint64_t t[MAXROUNDS];
    double R = 16384.0, w = 0;
    for (int r = 0; r < rounds; r++) {
        uint64_t t0 = now_ns();
        for (int i = 0; i < BATCH; i++) /* 16..271 bytes at lg_prof_sample 14 */
            w = pmath_unsample_weight((double)(16 + (i & 255)) / R + w * 0x1p-1000);
        t[r] = now_ns() - t0;
    }
    sink_d += w;
    return median_per_call(t, rounds);
}

static double draw_part(void)
{
    uint64_t t[MAXROUNDS];
    uint64_t x = 0x9e3779b97f4a7c15ull;
    double v = 0;
    for (int r = 0; r < rounds; r++) {
        uint64_t t0 = now_ns();
        for (int i = 0; i < BATCH; i++) { /* prof.c draw_wait's -log(u) * 2^14, u uniform */
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            double u = (double)((x >> 11) | 1) * 0x1p-53 + v * 0x1p-1000;
            v = -pmath_log_fast(u) * 16384.0;
        }
        t[r] = now_ns() - t0;
    }
    sink_d += v;
    return median_per_call(t, rounds);
}

/* ---- site table: record and forget ---- */

static void site_parts(double *rec, double *fgt, double *miss)
{
    uint64_t tr[MAXROUNDS], tf[MAXROUNDS], tm[MAXROUNDS];
    uintptr_t pcs[DEPTH];
    for (int i = 0; i < DEPTH; i++)
        pcs[i] = 0x400000 + 0x40 * (uintptr_t)i; /* a fixed stack: a site hit after the first */
    static struct prof_tdata td;
    td.uid = 1;
    td.active = true;
    td.live = true;
    /* Fake block addresses: 64-byte apart, as a slab's would be; the site
     * table never dereferences them. */
    uintptr_t base = (uintptr_t)0x7f0000000000ull;
    static struct prof_sample *recs[BATCH];
    for (int r = -1; r < rounds; r++) {
        /* Records as most samples keep them: in their span's slot (the
         * caller's array here), not in the table. */
        uint64_t t0 = now_ns();
        for (int i = 0; i < BATCH; i++)
            recs[i] = site_record(&td, base + 64 * (uintptr_t)i, 48, 64, pcs, DEPTH, 257.0, 0);
        uint64_t t1 = now_ns();
        struct prof_sample out;
        for (int i = 0; i < BATCH; i++)
            sink_u += site_forget_td(&td, base + 64 * (uintptr_t)i + 32 * BATCH * 64, &out);
        uint64_t t2 = now_ns();
        for (int i = 0; i < BATCH; i++)
            sink_u += recs[i] && site_forget_rec(&td, recs[i], base + 64 * (uintptr_t)i, &out);
        uint64_t t3 = now_ns();
        if (r >= 0) {
            tr[r] = t1 - t0;
            tm[r] = t2 - t1;
            tf[r] = t3 - t2;
        }
    }
    *rec = median_per_call(tr, rounds);
    *fgt = median_per_call(tf, rounds);
    *miss = median_per_call(tm, rounds);
}

/* ---- end to end through malloc/free ---- */

static double e2e(void)
{
    uint64_t t[MAXROUNDS];
    void *ps[64];
    for (int r = -1; r < rounds; r++) {
        uint64_t t0 = now_ns();
        for (int i = 0; i < BATCH / 64; i++) {
            for (int k = 0; k < 64; k++)
                ps[k] = malloc(64);
            for (int k = 0; k < 64; k++)
                free(ps[k]);
        }
        if (r >= 0)
            t[r] = now_ns() - t0;
    }
    return median_per_call(t, rounds);
}

static __attribute__((noinline)) double e2e_at_depth(int d)
{
    if (d > 0) {
        double r = e2e_at_depth(d - 1);
        sink_u++;
        return r;
    }
    return e2e();
}

int main(int argc, char **argv)
{
    if (argc > 1)
        rounds = atoi(argv[1]);
    if (rounds < 3 || rounds > MAXROUNDS) {
        fprintf(stderr, "sample_cost: rounds must be 3..%d\n", MAXROUNDS);
        return 2;
    }
    bool on = false;
    size_t sz = sizeof(on);
    if (mallctl("opt.prof", &on, &sz, NULL, 0) != 0 || !on) {
        fprintf(stderr, "sample_cost: run with MALLOC_CONF=prof:true\n");
        return 2;
    }
    double fp = at_depth(DEPTH, BT_FP);
    double lu = at_depth(DEPTH, BT_LIBUNWIND);
    double cf = at_depth(DEPTH, BT_AUTO);
    backtrace_boot(BT_AUTO);
    double w = weight_part();
    double dr = draw_part();
    double rec, fgt, miss;
    site_parts(&rec, &fgt, &miss);

    /* Every allocation sampled, then none. */
    size_t lg0 = 0;
    bool off = false, yes = true;
    if (mallctl("prof.reset", NULL, NULL, &lg0, sizeof(lg0)) != 0) {
        fprintf(stderr, "sample_cost: prof.reset failed\n");
        return 1;
    }
    /* The thread's next sample comes after the wait drawn at the old rate
     * (lg_prof_sample 19: 512 KiB on average, sometimes far more): one 64
     * MiB block uses it up, and the sample it takes draws at lg 0. Without
     * it a run now and then timed no sample at all (e2e_sampled ~4 ns). */
    free(malloc((size_t)64 << 20));
    double es = e2e_at_depth(DEPTH);
    mallctl("prof.active", NULL, NULL, &off, sizeof(off));
    double eu = e2e_at_depth(DEPTH);
    mallctl("prof.active", NULL, NULL, &yes, sizeof(yes));

    /* Last: after a dlclose (of a library kept loaded, so nothing is
     * unmapped) every later libunwind walk of the process also checks its
     * frames against the unloaded modules. */
    void *keep = dlopen("libm.so.6", RTLD_NOW); /* loaded (nothing here links libm) */
    void *lib = keep ? dlopen("libm.so.6", RTLD_NOW | RTLD_NOLOAD) : NULL;
    if (!lib || dlclose(lib) != 0) {
        fprintf(stderr, "sample_cost: dlopen/dlclose of libm failed\n");
        return 1;
    }
    double lu2 = at_depth(DEPTH, BT_LIBUNWIND);

    printf("unwind_fp %.1f\n", fp);
    printf("unwind_libunwind %.1f\n", lu);
    printf("unwind_cfi %.1f\n", cf);
    printf("unwind_libunwind_unloaded %.1f\n", lu2);
    printf("weight %.1f\n", w);
    printf("draw %.1f\n", dr);
    printf("site_record %.1f\n", rec);
    printf("site_forget %.1f\n", fgt);
    printf("forget_miss %.1f\n", miss);
    printf("e2e_sampled %.1f\n", es);
    printf("e2e_unsampled %.1f\n", eu);
    printf("sample_total %.1f\n", es - eu);
    return 0;
}
