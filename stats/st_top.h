/*  st_top: the "top indicators" table of a period: an indicator (an attacker's address,
    network, domain or hash, never a company's own: those are allowlisted before any sighting)
    is listed only when at least k companies of at least 2 providers saw it in the period, so
    no listing points at one company or shows one provider's customers. Read from the
    correlation's sighting records (ag_correlate: a group's record and one entry per company,
    each with its first and last sighting). A group seen with several values is listed as the
    group (its /24, /48 or registered domain), as warnings name it. Owner: stats/. */
#ifndef ST_TOP_H
#define ST_TOP_H

#include <stddef.h>
#include <stdint.h>

#include "ag_indicator.h"
#include "ag_registry.h"
#include "ag_store.h"
#include "mm_buf.h"
#include "st_output.h"

typedef struct {
    uint8_t type;  //  mm_ioc_type_t
    char value[AG_INDICATOR_MAX];
    uint32_t orgs, providers;
} st_top_row_t;

typedef struct {
    uint64_t groups;     //  sighting records looked at
    uint64_t in_period;  //  of which seen in the period
    uint64_t listed;     //  of which listed
    uint64_t bad;        //  records that did not parse
} st_top_stats_t;

//  The period's indicators seen by >= k companies of >= min_providers (at least 2) providers,
//  most companies first, at most `max` (*rows malloc'd, the caller frees). The number, or -1.
long st_top_read (ag_store_t *store, const ag_registry_t *registry, uint64_t from_ns,
                  uint64_t to_ns, uint32_t k, uint32_t min_providers, size_t max,
                  st_top_row_t **rows, st_top_stats_t *stats);
//  One row as a JSON line. 0 or -1.
int st_top_jsonl (const st_meta_t *meta, const st_top_row_t *row, mm_buf_t *out);

#endif
