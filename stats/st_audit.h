/*  st_audit: can a suppressed cell of a table be recovered from the published ones? The
    table is one grid of (region 0..8) x (industry 0..26), 0 meaning the margin; every row (a
    region's industries and its total) and every column (an industry's regions and its total)
    is a relation: the parts add up to the margin. Published cells and absent ones (known
    zeros) are known; the suppressed cells are the unknowns. A suppressed cell is recoverable
    when some combination of the relations isolates it, that is when its unit vector lies in
    the row space of the relations restricted to the unknowns: one reduced row echelon form
    tells for every cell at once. Arithmetic is modulo the prime 2^61 - 1 (the relations have
    coefficients 0 and +-1; an exact rank over the rationals is the rank modulo a prime that
    divides none of the minors, which at this size is all but certain). Intervals (what
    non-negativity bounds) are not audited: only exact recovery. Owner: stats/. */
#ifndef ST_AUDIT_H
#define ST_AUDIT_H

#include <stdbool.h>

#define ST_AUDIT_REGIONS 9
#define ST_AUDIT_INDUSTRIES 27

//  Marks in `recoverable` the suppressed cells the others determine. The number of them, or
//  -1 if memory ran out.
int st_audit (const bool present[ST_AUDIT_REGIONS][ST_AUDIT_INDUSTRIES],
              const bool suppressed[ST_AUDIT_REGIONS][ST_AUDIT_INDUSTRIES],
              bool recoverable[ST_AUDIT_REGIONS][ST_AUDIT_INDUSTRIES]);

#endif
