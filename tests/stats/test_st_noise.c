/*  Tests of st_noise: the discrete-Laplace sampler's distribution (seeded, so each run draws
    the same numbers), the same cell getting the same noise, and the secret file. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "st_noise.h"

static const uint8_t s_secret[ST_NOISE_KEY_LEN] = "mimamori test secret, not real!";

//  Chi-square of N draws at epsilon num/den (sensitivity 1) against the discrete Laplace
//  P(y) = (1 - q) / (1 + q) q^|y|, q = exp(-epsilon), bins -B..B and the two tails. Also the
//  sample mean and variance.
static double
s_chi2 (const char *label, uint32_t num, uint32_t den, uint32_t sens, long n, double *mean,
        double *var)
{
    enum { B = 8 };
    st_rng_t rng;
    st_rng_seed (&rng, s_secret, label);
    long bins[2 * B + 3] = {0};  //  [0]: below -B, [2B+2]: above B
    double sum = 0, sum2 = 0;
    for (long i = 0; i < n; i++) {
        int64_t y = st_noise_laplace (&rng, num, den, sens);
        cr_assert_neq (y, INT64_MIN);
        sum += (double) y;
        sum2 += (double) y * (double) y;
        int64_t b = y < -B ? 0 : y > B ? 2 * B + 2 : y + B + 1;
        bins[b]++;
    }
    *mean = sum / (double) n;
    *var = sum2 / (double) n - *mean * *mean;
    double q = exp (-((double) num / den) / sens);
    double p0 = (1 - q) / (1 + q), chi2 = 0, tail = p0 * pow (q, B + 1) / (1 - q);
    for (int b = 0; b < 2 * B + 3; b++) {
        double p = b == 0 || b == 2 * B + 2 ? tail : p0 * pow (q, fabs ((double) (b - B - 1)));
        double e = p * (double) n;
        chi2 += ((double) bins[b] - e) * ((double) bins[b] - e) / e;
    }
    return chi2;
}

//  18 degrees of freedom: the 0.1 % critical value is 42.31. The draws are seeded, so this is
//  the same figure every run; what it shows is that the sampler follows the distribution.
Test (st_noise, draws_follow_the_discrete_laplace_distribution)
{
    double mean, var;
    double chi2 = s_chi2 ("cell/eps-half", 1, 2, 1, 200000, &mean, &var);
    cr_expect_lt (chi2, 42.31, "chi2 %.2f", chi2);
    double q = exp (-0.5), want = 2 * q / ((1 - q) * (1 - q));  //  7.83
    cr_expect_lt (fabs (mean), 0.05, "mean %.4f", mean);
    cr_expect_lt (fabs (var - want) / want, 0.03, "variance %.3f against %.3f", var, want);
    //  A larger epsilon: narrower.
    chi2 = s_chi2 ("cell/eps-two", 2, 1, 1, 200000, &mean, &var);
    cr_expect_lt (chi2, 42.31, "chi2 %.2f", chi2);
    q = exp (-2.0), want = 2 * q / ((1 - q) * (1 - q));  //  0.36
    cr_expect_lt (fabs (var - want) / want, 0.03, "variance %.4f against %.4f", var, want);
    //  Sensitivity 3 at epsilon 1 is epsilon 1/3 per unit.
    chi2 = s_chi2 ("cell/sens-three", 1, 1, 3, 200000, &mean, &var);
    cr_expect_lt (chi2, 42.31, "chi2 %.2f", chi2);
    q = exp (-1.0 / 3), want = 2 * q / ((1 - q) * (1 - q));  //  16.6
    cr_expect_lt (fabs (var - want) / want, 0.03, "variance %.3f against %.3f", var, want);
}

//  The same cell always gets the same noise (asking again cannot average it away); another
//  cell, or another secret, gets other noise.
Test (st_noise, the_same_cell_gets_the_same_noise)
{
    st_rng_t a, b, c;
    st_rng_seed (&a, s_secret, "2026-W47|kanto|E|utm|c2|high");
    st_rng_seed (&b, s_secret, "2026-W47|kanto|E|utm|c2|high");
    st_rng_seed (&c, s_secret, "2026-W47|kanto|F|utm|c2|high");
    int same = 0, differ = 0;
    for (int i = 0; i < 1000; i++) {
        int64_t x = st_noise_laplace (&a, 1, 2, 1), y = st_noise_laplace (&b, 1, 2, 1);
        int64_t z = st_noise_laplace (&c, 1, 2, 1);
        same += x == y;
        differ += x != z;
    }
    cr_expect_eq (same, 1000);
    cr_expect_gt (differ, 700);  //  P(equal) for two draws is about 0.25 at epsilon 1/2
    uint8_t other[ST_NOISE_KEY_LEN];
    memcpy (other, s_secret, sizeof other);
    other[0] ^= 1;
    st_rng_seed (&a, s_secret, "x");
    st_rng_seed (&b, other, "x");
    differ = 0;
    for (int i = 0; i < 100; i++)
        differ += st_rng_uniform (&a, 1u << 30) != st_rng_uniform (&b, 1u << 30);
    cr_expect_eq (differ, 100);
}

Test (st_noise, refuses_bad_parameters)
{
    st_rng_t r;
    st_rng_seed (&r, s_secret, "p");
    cr_expect_eq (st_noise_laplace (&r, 0, 1, 1), INT64_MIN);
    cr_expect_eq (st_noise_laplace (&r, 1, 0, 1), INT64_MIN);
    cr_expect_eq (st_noise_laplace (&r, 1, 1, 0), INT64_MIN);
    cr_expect_eq (st_noise_laplace (&r, 1, 1u << 31, 4), INT64_MIN);
}

//  Uniform integers: every value of a small range, in fair shares.
Test (st_noise, uniform_integers_are_fair)
{
    st_rng_t r;
    st_rng_seed (&r, s_secret, "uniform");
    long bins[7] = {0};
    for (int i = 0; i < 70000; i++) {
        uint64_t v = st_rng_uniform (&r, 7);
        cr_assert_lt (v, 7);
        bins[v]++;
    }
    double chi2 = 0;
    for (int b = 0; b < 7; b++)
        chi2 += (double) (bins[b] - 10000) * (double) (bins[b] - 10000) / 10000.0;
    cr_expect_lt (chi2, 22.46, "chi2 %.2f", chi2);  //  6 degrees of freedom, 0.1 %
    cr_expect_eq (st_rng_uniform (&r, 1), 0);
}

//  The secret: made once (0600), read back the same; a file others may read is refused.
Test (st_noise, the_secret_is_made_once_and_kept_private)
{
    char dir[] = "/tmp/mm-st-noise-XXXXXX";
    cr_assert_not_null (mkdtemp (dir));
    char path[256], err[256];
    snprintf (path, sizeof path, "%s/noise.key", dir);
    uint8_t a[ST_NOISE_KEY_LEN], b[ST_NOISE_KEY_LEN];
    cr_assert_eq (st_noise_secret (path, a, err, sizeof err), 0, "%s", err);
    struct stat st;
    cr_assert_eq (stat (path, &st), 0);
    cr_expect_eq (st.st_mode & 0777, 0600);
    cr_assert_eq (st_noise_secret (path, b, err, sizeof err), 0, "%s", err);
    cr_expect_eq (memcmp (a, b, sizeof a), 0);
    cr_assert_eq (chmod (path, 0644), 0);
    cr_expect_eq (st_noise_secret (path, b, err, sizeof err), -1);
    cr_expect (strstr (err, "readable by others"), "%s", err);
    unlink (path);
    rmdir (dir);
}
