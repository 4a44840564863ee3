/* number: numeric conversions shared by the report writers. */
#ifndef JEPROF_NUMBER_H
#define JEPROF_NUMBER_H

#include <math.h>
#include <stdint.h>

/* A value truncated toward zero (Perl's "%d"), NaN as 0, clamped to int64. */
static inline int64_t dbl_to_i64(double v)
{
    if (v != v)
        return 0;
    if (v >= 9.2e18)
        return INT64_C(9200000000000000000);
    if (v <= -9.2e18)
        return -INT64_C(9200000000000000000);
    return (int64_t)v;
}

/* A value rounded to the nearest integer, NaN and infinities as 0, clamped
 * to int64 as dbl_to_i64 (llround of a value past 2^63 is unspecified:
 * glibc gives INT64_MIN). */
static inline int64_t dbl_round_i64(double v)
{
    if (!isfinite(v))
        return 0;
    if (v >= 9.2e18)
        return INT64_C(9200000000000000000);
    if (v <= -9.2e18)
        return -INT64_C(9200000000000000000);
    return llround(v);
}

/* a + b (each within +-9.2e18, what the conversions above give) clamped
 * to that range: sums of clamped values from a hostile profile stay
 * defined. */
static inline int64_t i64_add_clamped(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r) || r > INT64_C(9200000000000000000) ||
        r < -INT64_C(9200000000000000000))
        return a > 0 ? INT64_C(9200000000000000000) : -INT64_C(9200000000000000000);
    return r;
}

#endif
