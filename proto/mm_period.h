/*  mm_period: calendar periods in Japan's time, shared by the statistics (mimamori-stats) and
    the weekly report (mimamori report), and the civil-date arithmetic behind them (timegm is
    not in C17). Owner: proto/. Asia/Tokyo is UTC+9 all year (no summer time). */
#ifndef MM_PERIOD_H
#define MM_PERIOD_H

#include <stddef.h>
#include <stdint.h>

//  Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar (Howard Hinnant's
//  days_from_civil).
int64_t mm_days_from_civil (int64_t y, int64_t m, int64_t d);

//  A period: "2026-W47" (the ISO week, Monday 00:00 to Monday 00:00 in Asia/Tokyo) or
//  "2026-11-18" (that day in Asia/Tokyo), as ns since the epoch, and its kind ("week" or
//  "day"). Exactly those shapes (digits only: no sign, no blank). 0, or -1 if the text is not
//  one (or a week 53 its year does not have, a day its month does not have).
int mm_period_parse (const char *text, uint64_t *from_ns, uint64_t *to_ns, const char **kind);

//  The ISO week (Asia/Tokyo) holding `ns`, as "2026-W47", into out (at least 9 bytes).
void mm_period_week_of (uint64_t ns, char *out, size_t size);

#endif
