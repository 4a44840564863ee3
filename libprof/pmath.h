/*
 * pmath: the three libm functions the profiler needs (the sampling
 * interval's logarithm, the unsampling weight's exponential, rounding of
 * estimates), so that liballoc.so does not link libm.
 *
 * Why not libm: loading libm.so.6 costs every process that preloads the
 * allocator ~320 KiB of RSS (resolving libm's IFUNCs at load faults in
 * four 64 KiB windows of its text), 10-15% of a small program's peak RSS,
 * for three functions only a profiling process ever calls; and Debian's
 * libm.a is not position-independent, so it cannot be linked into the
 * shared object. tcmalloc's sampler computes its own logarithm for the
 * same reason (speed there).
 *
 * Accuracy: pmath_log and pmath_expm1 are within 2 ulps of the exact
 * result over their whole domain (tests/unit/pmath compares them with
 * libm's log, expm1 and llround on millions of arguments); pmath_llround
 * is exact. All are pure functions of their argument: thread-safe,
 * async-signal-safe, no errno.
 */
#ifndef PMATH_H
#define PMATH_H

#include <stdint.h>

/* Natural logarithm of x, for 0 < x < infinity (normal numbers; the
 * profiler passes (0, 1]). x <= 0 gives -infinity, as a pole rather than
 * libm's NaN for x < 0: callers never pass one. */
double pmath_log(double x);

/* Fill pmath_log_fast's table (129 entries, from pmath_log). Once, before
 * the first pmath_log_fast; not thread-safe (prof_boot calls it). */
void pmath_boot(void);

/* Natural logarithm of a normal x > 0, for the sampling draw (prof.c
 * draw_wait: -log(u) * 2^lg_prof_sample bytes, u in (0, 1]): 21 ns of
 * latency against pmath_log's 37 on this project's 2-CPU VM, side by side
 * (a table load and no division).
 * Accuracy: within 2^-51 + 4 ulps of the exact result over the whole
 * normal range (tests/unit/pmath); so a drawn wait is off by at most
 * 2^-51 of the mean interval, far below a byte. Zero, subnormal, negative,
 * infinite and NaN arguments take pmath_log. Needs pmath_boot first. */
double pmath_log_fast(double x);

/* e^x - 1 for x <= 0, exact to 2 ulps also where e^x is close to 1 (a
 * dump's unbiasing, ubytes (1 - e^(-s/R)) for s much smaller than R, where
 * 1 - exp(-s/R) would lose digits; pmath_unsample_weight above 1/16). x
 * below -746 gives -1. x > 0 is not supported (the profiler never needs
 * it) and gives the same formula's value, accurate for x < 0.35 only. */
double pmath_expm1(double x);

/* 1 / (1 - e^(-x)) for x > 0: the unsampling weight of a block x times
 * the mean sampling interval long (prof.c). Within 1 ulp below 1/16 and 3
 * above (tests/unit/pmath, against a long double reference). Below x =
 * 1/16, the profiler's usual case (blocks of up to 1/16 of the interval:
 * 1 KiB at lg_prof_sample 14), it is the Laurent series 1/x + 1/2 + x/12 -
 * x^3/720 + x^5/30240 - x^7/1209600 (Bernoulli numbers; the next term is
 * below 2^-60 of the result): one division and a short chain, no
 * exponential. x = 0 gives infinity. */
double pmath_unsample_weight(double x);

/* e^x for x <= 0 (0 below -746): pmath_expm1(x) + 1. */
double pmath_exp(double x);

/* x rounded to the nearest integer, halfway cases away from zero, as
 * llround; for |x| >= 2^63 (and NaN) the result is INT64_MIN, as glibc's
 * llround gives on x86-64 (callers cap their values below 2^62). */
int64_t pmath_llround(double x);

#endif
