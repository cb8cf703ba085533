/*  mm_hist: a latency histogram with bounded memory and bounded error, for the figures the
    daemons report (sensor -> aggregator latency, later the /metrics latencies). Owner: proto/.

    Values are microseconds. Buckets are log-linear like HdrHistogram's: each power of two is
    cut into 16 equal sub-buckets, so a quantile is reported within 1/16 (6.25 %) of the truth,
    from 1 us to about 2^40 us (12 days); larger values land in the last bucket. A histogram is
    a plain struct of counters (about 5 KB), no allocation, one owner thread. */
#ifndef MM_HIST_H
#define MM_HIST_H

#include <stdint.h>

#define MM_HIST_SUB_BITS 4
#define MM_HIST_SUB (1u << MM_HIST_SUB_BITS)
#define MM_HIST_RANGE_BITS 40
#define MM_HIST_BUCKETS ((MM_HIST_RANGE_BITS - MM_HIST_SUB_BITS + 1) * MM_HIST_SUB)

typedef struct {
    uint64_t count;
    uint64_t sum_us;
    uint64_t max_us;
    uint64_t bucket[MM_HIST_BUCKETS];
} mm_hist_t;

//  Empties the histogram (a zeroed struct is an empty histogram too).
void mm_hist_reset (mm_hist_t *self);

//  Counts one value.
void mm_hist_add (mm_hist_t *self, uint64_t us);

//  The value at quantile q (0..1): the upper bound of the bucket holding it, never below the
//  true value and at most 6.25 % above it (the maximum itself for q = 1). 0 when empty.
uint64_t mm_hist_quantile (const mm_hist_t *self, double q);

#endif
