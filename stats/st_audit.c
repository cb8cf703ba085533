/*  st_audit: see st_audit.h. */
#include "st_audit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define S_P 2305843009213693951ull  //  2^61 - 1

static uint64_t
s_mul (uint64_t a, uint64_t b)
{
    unsigned __int128 m = (unsigned __int128) a * b;
    uint64_t lo = (uint64_t) (m & S_P), hi = (uint64_t) (m >> 61);
    uint64_t r = lo + hi;
    while (r >= S_P)
        r -= S_P;
    return r;
}

static uint64_t
s_sub (uint64_t a, uint64_t b)
{
    return a >= b ? a - b : a + S_P - b;
}

static uint64_t
s_pow (uint64_t a, uint64_t e)
{
    uint64_t r = 1;
    for (; e; e >>= 1, a = s_mul (a, a))
        if (e & 1)
            r = s_mul (r, a);
    return r;
}

static uint64_t
s_inv (uint64_t a)
{
    return s_pow (a, S_P - 2);
}

int
st_audit (const bool present[ST_AUDIT_REGIONS][ST_AUDIT_INDUSTRIES],
          const bool suppressed[ST_AUDIT_REGIONS][ST_AUDIT_INDUSTRIES],
          bool recoverable[ST_AUDIT_REGIONS][ST_AUDIT_INDUSTRIES])
{
    enum { R = ST_AUDIT_REGIONS, I = ST_AUDIT_INDUSTRIES };
    memset (recoverable, 0, sizeof (bool) * R * I);
    //  The unknowns: suppressed cells that are there.
    int var[R][I], n = 0, cell_r[R * I], cell_i[R * I];
    for (int r = 0; r < R; r++)
        for (int i = 0; i < I; i++) {
            var[r][i] = -1;
            if (present[r][i] && suppressed[r][i]) {
                cell_r[n] = r, cell_i[n] = i;
                var[r][i] = n++;
            }
        }
    if (n == 0)
        return 0;
    //  One equation per relation: the parts minus the margin, restricted to the unknowns.
    int rows = R + I;
    uint64_t *m = (uint64_t *) calloc ((size_t) rows * (size_t) n, sizeof *m);
    if (!m)
        return -1;
    for (int r = 0; r < R; r++)  //  region r: cells (r, 1..) - (r, 0)
        for (int i = 0; i < I; i++)
            if (var[r][i] >= 0)
                m[(size_t) r * (size_t) n + (size_t) var[r][i]] = i == 0 ? S_P - 1 : 1;
    for (int i = 0; i < I; i++)  //  industry i: cells (1.., i) - (0, i)
        for (int r = 0; r < R; r++)
            if (var[r][i] >= 0)
                m[(size_t) (R + i) * (size_t) n + (size_t) var[r][i]] = r == 0 ? S_P - 1 : 1;
    //  Reduced row echelon form.
    int *pivot_of_row = (int *) malloc ((size_t) rows * sizeof *pivot_of_row);
    if (!pivot_of_row) {
        free (m);
        return -1;
    }
    int rank = 0;
    for (int col = 0; col < n && rank < rows; col++) {
        int p = -1;
        for (int r = rank; r < rows && p < 0; r++)
            if (m[(size_t) r * (size_t) n + (size_t) col])
                p = r;
        if (p < 0)
            continue;
        if (p != rank)
            for (int k = 0; k < n; k++) {
                uint64_t t = m[(size_t) p * (size_t) n + (size_t) k];
                m[(size_t) p * (size_t) n + (size_t) k] =
                    m[(size_t) rank * (size_t) n + (size_t) k];
                m[(size_t) rank * (size_t) n + (size_t) k] = t;
            }
        uint64_t *pr = &m[(size_t) rank * (size_t) n];
        uint64_t inv = s_inv (pr[col]);
        for (int k = 0; k < n; k++)
            pr[k] = s_mul (pr[k], inv);
        for (int r = 0; r < rows; r++) {
            uint64_t *row = &m[(size_t) r * (size_t) n];
            if (r == rank || !row[col])
                continue;
            uint64_t f = row[col];
            for (int k = 0; k < n; k++)
                if (pr[k])
                    row[k] = s_sub (row[k], s_mul (f, pr[k]));
        }
        pivot_of_row[rank++] = col;
    }
    //  A unit vector is in the row space iff its column is a pivot whose row has nothing else.
    int found = 0;
    for (int r = 0; r < rank; r++) {
        const uint64_t *row = &m[(size_t) r * (size_t) n];
        int others = 0;
        for (int k = 0; k < n && !others; k++)
            others = k != pivot_of_row[r] && row[k] != 0;
        if (!others) {
            int c = pivot_of_row[r];
            recoverable[cell_r[c]][cell_i[c]] = true;
            found++;
        }
    }
    free (pivot_of_row);
    free (m);
    return found;
}
