/* pmath: logarithm, e^x - 1 and rounding without libm (see pmath.h). */
#include "pmath.h"

#include <math.h> /* INFINITY only: no libm call */
#include <string.h>

/* ln 2 split so that k * LN2_HI is exact for |k| < 2^20 (LN2_HI has 32
 * significant bits) and LN2_HI + LN2_LO is ln 2 to about 2^-90. */
static const double LN2_HI = 6.93147180369123816490e-01;
static const double LN2_LO = 1.90821492927058770002e-10;
static const double INV_LN2 = 1.44269504088896338700e+00;

static uint64_t bits_of(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof(b));
    return b;
}

static double of_bits(uint64_t b)
{
    double x;
    memcpy(&x, &b, sizeof(x));
    return x;
}

double pmath_log(double x)
{
    if (x != x)
        return x;
    if (!(x > 0))
        return -INFINITY;
    if (x == INFINITY)
        return x;
    uint64_t b = bits_of(x);
    int e = (int)(b >> 52);
    if (e == 0) { /* subnormal: scale into the normal range first */
        b = bits_of(x * 18014398509481984.0); /* 2^54 */
        e = (int)(b >> 52) - 54;
    }
    e -= 1023;
    /* x = 2^e * m with m in [1, 2); move m to [sqrt(1/2), sqrt(2)) so
     * that |log m| <= ln(2) / 2 and f = m - 1 is small. */
    double m = of_bits((b & 0x000fffffffffffffull) | 0x3ff0000000000000ull);
    if (m > 1.4142135623730951) {
        m *= 0.5;
        e++;
    }
    double f = m - 1.0; /* exact (Sterbenz) */
    /* log(1 + f) = 2 atanh(s), s = f / (2 + f), |s| <= 0.1716:
     *   = 2s + s R,  R = 2 s^2 / 3 + 2 s^4 / 5 + ...
     * and since 2s = f - s f = f - 2 hf + 2 s hf with hf = f^2 / 2:
     *   log(1 + f) = f - (hf - s (hf + R)),
     * where the large term f is exact and the rest is small. The series
     * stops at s^24 / 25 (below 2^-60 of the result). */
    double s = f / (2.0 + f), z = s * s;
    /* R = z P(z), P's 12 terms by Estrin's scheme: independent pairs,
     * joined by z^2, z^4 and z^8, so the chain of dependent multiply-adds
     * is 5 deep (with R's own) rather than Horner's 12 (the sampling path
     * waits on it: ~35 ns a call on Horner's chain in this VM). */
    double z2 = z * z, z4 = z2 * z2, z8 = z4 * z4;
    double q0 = (2.0 / 3 + z * (2.0 / 5)) + z2 * (2.0 / 7 + z * (2.0 / 9));
    double q1 = (2.0 / 11 + z * (2.0 / 13)) + z2 * (2.0 / 15 + z * (2.0 / 17));
    double q2 = (2.0 / 19 + z * (2.0 / 21)) + z2 * (2.0 / 23 + z * (2.0 / 25));
    double R = z * ((q0 + z4 * q1) + z8 * q2);
    double hf = 0.5 * f * f;
    double lm = f - (hf - s * (hf + R));
    double k = (double)e;
    return k * LN2_HI + (lm + k * LN2_LO);
}

/* pmath_log_fast's table. x = 2^e m, m in [1, 2), is split at the
 * nearest c = 1 + i/128 (i = 0..128, so |m - c| <= 1/256 and m - c is
 * exact, Sterbenz), and
 *     log x = (e + shift) ln 2 + t + log1p((m - c) / c)
 * with t = log c - shift ln 2. shift is 1 above sqrt 2 (t = log(c / 2),
 * negative), so that x just below 1 (e = -1, c = 2) gives k = 0 and t = 0
 * and no cancellation, as x just above 1 does with i = 0. */
static struct log_entry {
    double c, inv_c, t;
    int shift;
} log_table[129];

void pmath_boot(void)
{
    for (int i = 0; i <= 128; i++) {
        double c = 1.0 + i / 128.0;
        int shift = c > 1.4142135623730951;
        log_table[i] = (struct log_entry){c, 1.0 / c, pmath_log(shift ? c * 0.5 : c), shift};
    }
}

double pmath_log_fast(double x)
{
    uint64_t b = bits_of(x);
    /* Normal and positive: the biased exponent in 1 .. 2046. */
    if (__builtin_expect((b >> 52) - 1 >= 2046, 0))
        return pmath_log(x);
    uint64_t mb = b & 0x000fffffffffffffull;
    const struct log_entry *E = &log_table[(mb + (1ull << 44)) >> 45];
    double m = of_bits(mb | 0x3ff0000000000000ull);
    double r = (m - E->c) * E->inv_c; /* |r| <= 1/256 (+ rounding) */
    /* log1p(r) = r - r^2/2 + ... - r^8/8 + ...: the terms from r^8 on are
     * below 2^-56 of the result; Estrin's pairs keep the chain short. */
    double r2 = r * r, r4 = r2 * r2;
    double p = (r + r2 * (-0.5 + r * (1.0 / 3))) +
               r4 * ((-0.25 + r * 0.2) + r2 * (-1.0 / 6 + r * (1.0 / 7)));
    double k = (double)((int)(b >> 52) - 1023 + E->shift);
    return k * LN2_HI + E->t + (p + k * LN2_LO);
}

/* e^r - 1 for |r| <= 0.35: r + r^2 (1/2! + r/3! + ... + r^15/17!), the
 * Taylor series cut where its next term is below 2^-70 of the result; the
 * 16 terms by Estrin's scheme (pairs joined by r^2, r^4, r^8: with the
 * final r + r^2 p, 5 dependent multiply-adds deep, not 16 as Horner's). */
static double expm1_small(double r)
{
    static const double c[16] = {
        1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320,
        1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800.0,
        1.0 / 87178291200.0, 1.0 / 1307674368000.0, 1.0 / 20922789888000.0,
        1.0 / 355687428096000.0,
    };
    double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    double q0 = (c[0] + r * c[1]) + r2 * (c[2] + r * c[3]);
    double q1 = (c[4] + r * c[5]) + r2 * (c[6] + r * c[7]);
    double q2 = (c[8] + r * c[9]) + r2 * (c[10] + r * c[11]);
    double q3 = (c[12] + r * c[13]) + r2 * (c[14] + r * c[15]);
    double p = (q0 + r4 * q1) + r8 * (q2 + r4 * q3);
    return r + r2 * p;
}

double pmath_expm1(double x)
{
    if (x != x)
        return x;
    if (x > -0.34657359027997264) /* ln(2) / 2 */
        return expm1_small(x);
    if (x < -45.0) /* e^-45 < 2^-64: e^x - 1 rounds to -1 */
        return -1.0;
    /* x = k ln2 + r, |r| <= ln(2) / 2 (k from -65 to -1): e^x - 1 =
     * 2^k (1 + expm1(r)) - 1, a difference of terms of unlike size. */
    double kd = (double)(int64_t)(x * INV_LN2 - 0.5); /* nearest (x < 0) */
    double r = (x - kd * LN2_HI) - kd * LN2_LO;
    double scale = of_bits((uint64_t)(1023 + (int)kd) << 52); /* 2^k, normal */
    return scale * (1.0 + expm1_small(r)) - 1.0;
}

double pmath_unsample_weight(double x)
{
    if (x < 0.0625) {
        double x2 = x * x;
        double t = x * (1.0 / 12 + x2 * (-1.0 / 720 + x2 * (1.0 / 30240 - x2 * (1.0 / 1209600))));
        return 1.0 / x + (0.5 + t);
    }
    return -1.0 / pmath_expm1(-x);
}

int64_t pmath_llround(double x)
{
    if (!(__builtin_fabs(x) < 9223372036854775808.0)) /* 2^63; NaN too */
        return INT64_MIN;
    int64_t i = (int64_t)x;    /* toward zero */
    double f = x - (double)i; /* exact: the fraction (0 from 2^52 on) */
    if (f >= 0.5)
        i++;
    else if (f <= -0.5)
        i--;
    return i;
}
