/*  mm_hist: log-linear latency histogram (see mm_hist.h). Owner: proto/.
    Bucket layout: values below 2 * MM_HIST_SUB get one bucket each (exact); above, a value
    with its top bit at position p (p >= MM_HIST_SUB_BITS + 1) goes to group p - SUB_BITS,
    sub-bucket = the SUB_BITS bits under the top bit. */
#include "mm_hist.h"

#include <string.h>

void
mm_hist_reset (mm_hist_t *self)
{
    memset (self, 0, sizeof *self);
}

static unsigned
s_index (uint64_t v)
{
    if (v < 2 * MM_HIST_SUB)
        return (unsigned) v;
    unsigned top = 63u - (unsigned) __builtin_clzll (v);  //  v >= 32: top >= 5
    unsigned group = top - MM_HIST_SUB_BITS;              //  >= 1
    unsigned sub = (unsigned) (v >> (top - MM_HIST_SUB_BITS)) & (MM_HIST_SUB - 1);
    unsigned idx = (group + 1) * MM_HIST_SUB + sub;
    return idx < MM_HIST_BUCKETS ? idx : MM_HIST_BUCKETS - 1;
}

//  The largest value that lands in bucket `idx`.
static uint64_t
s_upper (unsigned idx)
{
    if (idx < 2 * MM_HIST_SUB)
        return idx;
    unsigned group = idx / MM_HIST_SUB - 1;
    unsigned sub = idx % MM_HIST_SUB;
    unsigned shift = group;  //  width of a sub-bucket is 2^group
    uint64_t low = ((uint64_t) (MM_HIST_SUB + sub)) << shift;
    return low + (((uint64_t) 1 << shift) - 1);
}

void
mm_hist_add (mm_hist_t *self, uint64_t us)
{
    self->bucket[s_index (us)]++;
    self->count++;
    self->sum_us += us;
    if (us > self->max_us)
        self->max_us = us;
}

uint64_t
mm_hist_quantile (const mm_hist_t *self, double q)
{
    if (self->count == 0)
        return 0;
    if (q >= 1.0)
        return self->max_us;
    if (q < 0)
        q = 0;
    //  The rank of the value wanted (1-based), rounded up: p99 of 100 values is the 99th.
    uint64_t rank = (uint64_t) (q * (double) self->count);
    if ((double) rank < q * (double) self->count || rank == 0)
        rank++;
    uint64_t seen = 0;
    for (unsigned i = 0; i < MM_HIST_BUCKETS; i++) {
        seen += self->bucket[i];
        if (seen >= rank) {
            uint64_t up = s_upper (i);
            return up < self->max_us ? up : self->max_us;
        }
    }
    return self->max_us;
}
