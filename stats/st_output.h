/*  st_output: the published rows as JSON Lines and CSV (UTF-8, English and Japanese labels),
    each row saying which protections applied (docs/statistics.md "Files"). The same rows go
    to files and to the feed. Owner: stats/. */
#ifndef ST_OUTPUT_H
#define ST_OUTPUT_H

#include "mm_buf.h"
#include "st_table.h"

#define ST_SCHEMA "mimamori.stats/1"
#define ST_TOP_SCHEMA "mimamori.stats.top/1"  //  the top indicators (st_top)

//  What every row of one publication shares.
typedef struct {
    const char *period;       //  "2026-W47" or "2026-11-18"
    const char *period_kind;  //  "week" or "day"
    const char *level;        //  "council" (liaison council and IPA) or "provider"
    const st_rules_t *rules;  //  the rules applied
} st_meta_t;

//  One row as one JSON line (ending in '\n'). 0, or -1 if memory ran out.
int st_jsonl_row (const st_meta_t *meta, const st_row_t *row, mm_buf_t *out);
//  The CSV header line, and one row as one CSV line (RFC 4180 quoting). 0 or -1.
int st_csv_header (mm_buf_t *out);
int st_csv_row (const st_meta_t *meta, const st_row_t *row, mm_buf_t *out);
//  The names of ST_WHY_* bits, "+"-joined ("k+complementary"), into `out` ("" for none).
void st_why_names (uint32_t why, char *out, size_t size);

#endif
