/*
 * peak_bytes: the byte estimate of one sample (libprof/peak.c,
 * peak_sample_bytes) is weight x usize rounded, capped at 2^62: with
 * lg_prof_sample near 63 the product passes INT64_MAX, where llround is
 * undefined (it gave INT64_MIN, and a free then negated it: found by
 * fuzz_mallctl after prof.reset with lg_sample 63). A free subtracts the
 * same value its sample added, so the cap keeps the running total exact.
 */
#include "check.h"

#include "prof.h"

int main(void)
{
    CHECK_I(peak_sample_bytes(1.0, 4096), ==, 4096);
    CHECK_I(peak_sample_bytes(2.5, 3), ==, 8); /* 7.5 rounds away from zero */
    CHECK_I(peak_sample_bytes(524288.0 / 100.0, 100), ==, 524288);
    const int64_t cap = (int64_t)1 << 62;
    /* A weight of 2^63 / usize: the estimate of one block at lg_sample 63. */
    CHECK_I(peak_sample_bytes(9223372036854775808.0 / 4096, 4096 * 3), ==, cap);
    CHECK_I(peak_sample_bytes(1e300, (size_t)1 << 40), ==, cap);
    CHECK_I(peak_sample_bytes(4611686018427387904.0, 1), ==, cap);
    /* Its negation, what a free adds, is defined. */
    int64_t v = peak_sample_bytes(1e30, 4096);
    CHECK_I(-v, ==, -cap);
    printf("peak_bytes: ok\n");
    return 0;
}
