/*
 * pmath: the profiler's log, expm1, llround and sample weight
 * (libprof/pmath.c, which let liballoc.so drop libm) agree with libm's:
 * within 2 ulps for log and expm1 over their domains (libm's own are within
 * 1), exactly for llround, on chosen edge cases and on 3.9 million random
 * arguments; the weight 1/(1-e^-x) (1.2 million) within 1 ulp of a long
 * double reference on its series' range (x < 1/16) and 3 above; the
 * sampling draw's table log within 2^-51 + 4 ulps of a long double
 * reference (log's 1.5 million arguments, 200000 next to 1, and every
 * table boundary).
 */
#include "check.h"

#include <math.h>
#include <string.h>

#include "pmath.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Distance in units in the last place between two finite doubles of one sign. */
static uint64_t ulps(double a, double b)
{
    int64_t x, y;
    memcpy(&x, &a, 8);
    memcpy(&y, &b, 8);
    if ((x < 0) != (y < 0))
        return a == b ? 0 : UINT64_MAX;
    return x > y ? (uint64_t)(x - y) : (uint64_t)(y - x);
}

static uint64_t worst_log, worst_expm1;

/* ours(x) within 2 ulps of libm's ref(x); the worst distance kept in *worst. */
static void check_ulps(const char *name, double (*ours)(double), double (*ref)(double), double x,
                       uint64_t *worst)
{
    double a = ours(x), b = ref(x);
    uint64_t d = ulps(a, b);
    if (d > *worst)
        *worst = d;
    if (d > 2) {
        fprintf(stderr, "%s(%a) = %a, libm %a (%llu ulps)\n", name, x, a, b, (unsigned long long)d);
        exit(1);
    }
}

static void check_log(double x)
{
    check_ulps("pmath_log", pmath_log, log, x, &worst_log);
}

static long double worst_fast; /* in units of the bound */

/* pmath_log_fast(x) within 2^-51 + 4 ulps of logl(x). */
static void check_log_fast(double x)
{
    long double ref = logl((long double)x);
    double a = pmath_log_fast(x);
    long double bound = 0x1p-51L + 4 * (long double)nextafter(fabs((double)ref), INFINITY) -
                        4 * (long double)fabs((double)ref);
    long double err = fabsl((long double)a - ref);
    if (err / bound > worst_fast)
        worst_fast = err / bound;
    if (err > bound) {
        fprintf(stderr, "pmath_log_fast(%a) = %a, logl %La (error %Lg, bound %Lg)\n", x, a, ref,
                err, bound);
        exit(1);
    }
}

static void check_expm1(double x)
{
    check_ulps("pmath_expm1", pmath_expm1, expm1, x, &worst_expm1);
}

static uint64_t worst_weight;

/* The weight in long double (x87: 64-bit significand, 11 bits beyond
 * double's), rounded once to double. */
static double weight_ref(double x)
{
    return (double)(-1.0L / expm1l(-(long double)x));
}

/* The weight within 1 ulp on the series' range (x < 1/16; ~1.02 ulps
 * against an exact reference: a dropped or wrong x^7 term reads 2 or 3
 * here), and within 3 above, where it is -1/pmath_expm1(-x): expm1's 2
 * ulps and the division's half (2.94 against an exact reference). */
static void check_weight(double x)
{
    double a = pmath_unsample_weight(x), b = weight_ref(x);
    uint64_t d = ulps(a, b);
    if (d > worst_weight)
        worst_weight = d;
    if (d > (x < 0.0625 ? 1u : 3u)) {
        fprintf(stderr, "pmath_unsample_weight(%a) = %a, libm %a (%llu ulps)\n", x, a, b,
                (unsigned long long)d);
        exit(1);
    }
}

static void check_llround(double x)
{
    long long want = llround(x);
    int64_t got = pmath_llround(x);
    if (got != want) {
        fprintf(stderr, "pmath_llround(%a = %.17g) = %lld, libm %lld\n", x, x, (long long)got, want);
        exit(1);
    }
}

int main(void)
{
    /* log: the profiler's (0, 1] (53-bit uniforms), then the rest. */
    const double fixed[] = {1.0, 0.5, 0.25, 0.75, 0.7071067811865476, 0.7071067811865475,
                            1.4142135623730951, 1.4142135623730950, 1.0 - 0x1p-53, 1.0 + 0x1p-52,
                            0x1p-53, 0x1p-1022, 0x1p-1074, 0x1.fffffffffffffp-1023, 3.0, 10.0,
                            1e300, 0x1.fffffffffffffp+1023, 2.718281828459045};
    pmath_boot(); /* pmath_log_fast's table: it is checked on the same arguments */
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        check_log(fixed[i]);
        check_log_fast(fixed[i]);
    }
    CHECK(pmath_log(1.0) == 0.0);
    CHECK(pmath_log(0.0) == -INFINITY);
    CHECK(pmath_log(INFINITY) == INFINITY);
    CHECK(isnan(pmath_log(NAN)));
    for (int i = 0; i < 1000000; i++) {
        double u = (double)(next() >> 11) * 0x1p-53;
        check_log(u > 0 ? u : 0x1p-53);
        check_log_fast(u > 0 ? u : 0x1p-53);
    }
    for (int i = 0; i < 500000; i++) { /* any exponent */
        uint64_t b = (next() & 0x000fffffffffffffull) | ((1 + next() % 0x7fe) << 52);
        double x;
        memcpy(&x, &b, 8);
        check_log(x);
        check_log_fast(x);
    }

    /* The draw's log beyond the arguments above: each table entry's
     * boundaries (m halfway between two c's, and next to them), around 1
     * from both sides; the slow cases go to pmath_log. */
    CHECK(pmath_log_fast(1.0) == 0.0);
    CHECK(pmath_log_fast(0.0) == -INFINITY);
    CHECK(pmath_log_fast(INFINITY) == INFINITY);
    CHECK(isnan(pmath_log_fast(NAN)));
    CHECK(pmath_log_fast(0x1p-1074) == pmath_log(0x1p-1074));
    for (int i = 0; i <= 256; i++)
        for (int d = -2; d <= 2; d++) {
            double m = 1.0 + i / 256.0;
            for (int s = 0; s < abs(d); s++)
                m = nextafter(m, d < 0 ? 0.0 : 4.0);
            check_log_fast(m);
            check_log_fast(m * 0.5);
            check_log_fast(ldexp(m, -20));
        }
    for (int i = 0; i < 200000; i++) /* within 2^-20 of 1 */
        check_log_fast(1.0 + ((double)(next() >> 11) * 0x1p-53 - 0.5) * 0x1p-19);

    /* expm1 on (-inf, 0]: the profiler's -usize / 2^lg spans 2^-60 .. 2^40. */
    const double efixed[] = {0.0, -0.0, -0x1p-60, -1e-300, -0x1p-1074, -1e-10, -1e-5, -0.1,
                             -0.34657359027997264, -0.3465735902799727, -0.5, -0.6931471805599453,
                             -1.0, -2.0, -10.0, -36.0, -44.9, -45.0, -45.1, -100.0, -745.0, -1e10};
    for (size_t i = 0; i < sizeof(efixed) / sizeof(efixed[0]); i++)
        check_expm1(efixed[i]);
    CHECK(pmath_expm1(-INFINITY) == -1.0);
    CHECK(isnan(pmath_expm1(NAN)));
    for (int i = 0; i < 1000000; i++) { /* log-uniform magnitudes 2^-60 .. 2^7 */
        double m = (double)(next() >> 11) * 0x1p-53;
        double x = -exp2(-60.0 + 67.0 * m);
        check_expm1(x);
    }
    for (int i = 0; i < 200000; i++) /* uniform on [-1, 0] */
        check_expm1(-(double)(next() >> 11) * 0x1p-53);

    /* The unsampling weight 1 / (1 - e^(-x)): the profiler's usize / 2^lg,
     * 2^-62 .. 2^40, and around the series' end at 1/16. */
    const double wfixed[] = {0x1p-62, 1e-10, 1.0 / 2048, 1.0 / 64, 0.0625 - 0x1p-56, 0.0625,
                             0.0625 + 0x1p-56, 0.1, 1.0, 16.0, 0x1p40};
    for (size_t i = 0; i < sizeof(wfixed) / sizeof(wfixed[0]); i++)
        check_weight(wfixed[i]);
    CHECK(pmath_unsample_weight(0.0) == INFINITY);
    for (int i = 0; i < 1000000; i++) { /* log-uniform 2^-62 .. 2^6 */
        double m = (double)(next() >> 11) * 0x1p-53;
        check_weight(exp2(-62.0 + 68.0 * m));
    }
    for (int i = 0; i < 200000; i++) /* uniform on (0, 1/8] */
        check_weight(((double)(next() >> 11) + 1) * 0x1p-56);

    /* llround: halfway cases, the largest fraction below one half, around
     * 2^52 and 2^53 (where every double is an integer), 2^62 and 2^63. */
    const double rfixed[] = {0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999999999999994,
                             -0.49999999999999994, 1e-300, 0.99999999999999989, 4503599627370495.5,
                             -4503599627370495.5, 4503599627370496.0, 4503599627370497.0,
                             9007199254740993.0, 4611686018427387904.0, 9223372036854774784.0,
                             -9223372036854775808.0, 123456789.49999999, 7.5};
    for (size_t i = 0; i < sizeof(rfixed) / sizeof(rfixed[0]); i++)
        check_llround(rfixed[i]);
    CHECK_I(pmath_llround(9223372036854775808.0), ==, INT64_MIN); /* 2^63: out of range */
    CHECK_I(pmath_llround(1e300), ==, INT64_MIN);
    CHECK_I(pmath_llround(NAN), ==, INT64_MIN);
    CHECK_I(pmath_llround(2.5), ==, 3);
    CHECK_I(pmath_llround(-2.5), ==, -3);
    CHECK_I(pmath_llround(0.49999999999999994), ==, 0);
    for (int i = 0; i < 300000; i++) {
        double m = (double)(next() >> 11) * 0x1p-53;
        double x = exp2(62.0 * m) * ((next() & 1) ? 1 : -1);
        check_llround(x);
        check_llround(__builtin_floor(x) + 0.5); /* a halfway case */
    }
    printf("pmath: ok (worst: log %llu ulps, expm1 %llu ulps, weight %llu ulps, "
           "log_fast %.2Lf of its bound)\n",
           (unsigned long long)worst_log, (unsigned long long)worst_expm1,
           (unsigned long long)worst_weight, worst_fast);
    return 0;
}
