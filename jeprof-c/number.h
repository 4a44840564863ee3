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

#endif
