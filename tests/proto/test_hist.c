/*  mm_hist: quantiles against a sorted copy of the same values, within the stated bound. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "mm_hist.h"

static int
s_cmp (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

Test (mm_hist, empty_and_small_exact)
{
    mm_hist_t h;
    mm_hist_reset (&h);
    cr_assert_eq (mm_hist_quantile (&h, 0.99), 0);
    for (uint64_t v = 1; v <= 20; v++)
        mm_hist_add (&h, v);
    //  Below 32 every value has its own bucket: exact.
    cr_assert_eq (mm_hist_quantile (&h, 0.5), 10);
    cr_assert_eq (mm_hist_quantile (&h, 0.95), 19);
    cr_assert_eq (mm_hist_quantile (&h, 1.0), 20);
    cr_assert_eq (h.count, 20);
    cr_assert_eq (h.sum_us, 210);
}

Test (mm_hist, quantiles_within_bound)
{
    enum { N = 100000 };
    uint64_t *v = malloc (N * sizeof *v);
    cr_assert_not_null (v);
    mm_hist_t h;
    mm_hist_reset (&h);
    srand (7);
    for (int i = 0; i < N; i++) {
        //  A long-tailed spread from 1 us to about 17 minutes.
        int shift = rand () % 30;
        v[i] = ((uint64_t) rand () % 1000 + 1) << shift;
        mm_hist_add (&h, v[i]);
    }
    qsort (v, N, sizeof *v, s_cmp);
    const double qs[] = {0.5, 0.9, 0.99, 0.999};
    for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
        uint64_t truth = v[(size_t) (qs[k] * N) - 1];
        uint64_t got = mm_hist_quantile (&h, qs[k]);
        cr_assert (got >= truth, "q %.3f: %llu below the truth %llu", qs[k],
                   (unsigned long long) got, (unsigned long long) truth);
        cr_assert (got <= truth + truth / 16 + 1, "q %.3f: %llu more than 6.25%% over %llu", qs[k],
                   (unsigned long long) got, (unsigned long long) truth);
    }
    cr_assert_eq (mm_hist_quantile (&h, 1.0), v[N - 1]);
    free (v);
}

Test (mm_hist, huge_values_clamped)
{
    mm_hist_t h;
    mm_hist_reset (&h);
    mm_hist_add (&h, UINT64_MAX / 2);
    mm_hist_add (&h, 5);
    cr_assert_eq (mm_hist_quantile (&h, 0.5), 5);
    cr_assert_eq (mm_hist_quantile (&h, 1.0), UINT64_MAX / 2);
}
