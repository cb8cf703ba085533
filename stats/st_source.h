/*  st_source: a period's findings from the aggregator's store, as the statistics see them.
    mimamori-stats reads the store (read-only, beside the running aggregator) rather than
    subscribing to a feed: the store already holds every finding durably, by time, with what
    the statistics need in a few bytes (ag_lateral.h, AG_KV_FINDING: category, severity, the
    delay to the SOC's notification), so a table can be made, or made again, for any past
    period, and nothing is missed while mimamori-stats is down. The registry gives each
    finding's company (through its sensor), provider, region, industry and sensor type.
    Owner: stats/. */
#ifndef ST_SOURCE_H
#define ST_SOURCE_H

#include <stdint.h>

#include "ag_registry.h"
#include "ag_store.h"
#include "st_table.h"

typedef struct {
    uint64_t records;       //  finding records in the period
    uint64_t added;         //  counted in the table
    uint64_t unregistered;  //  from a sensor the registry does not know (now)
    uint64_t not_counted;   //  a category outside the taxonomy (sensor health)
    uint64_t old_format;    //  records written before the statistics' tail (not counted)
    uint64_t bad;           //  records that do not parse
} st_source_stats_t;

//  Adds the findings with from_ns <= ts < to_ns to `table`. 0, or -1 (the store failed).
int st_source_read (ag_store_t *store, const ag_registry_t *registry, uint64_t from_ns,
                    uint64_t to_ns, st_table_t *table, st_source_stats_t *stats);

//  Periods ("2026-W47", "2026-11-18" in Asia/Tokyo): mm_period_parse (proto/mm_period.h).

#endif
