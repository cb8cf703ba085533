/*  ag_query: what `mimamori` (the centre operators' tool) reads out of an aggregator store:
    the sightings of an indicator's group, an org's timeline, the warnings, and exports of the
    active warnings and their sightings as a STIX 2.1 bundle or as JSON Lines for SIEMs.
    Read-only: the store is opened with ag_store_open_readonly, a snapshot that works while
    mimamori-aggregator runs on it. Owner: aggregator/ (mimamori). One thread.

    Queries (for the centre, who may see org ids) print org ids; the exports never do: a
    sighting's where_sighted_refs is one anonymous identity "Mimamori participants", and the
    JSON Lines export carries counts (orgs, providers, sightings) only. Records that do not
    parse are counted (ag_query_stats_t), skipped, and never stop a query. */
#ifndef AG_QUERY_H
#define AG_QUERY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ag_psl.h"
#include "ag_registry.h"
#include "ag_store.h"

typedef struct ag_query_t ag_query_t;

typedef struct {
    uint64_t records;   //  records read
    uint64_t bad;       //  records that did not parse (skipped)
    uint64_t missing;   //  timeline findings whose EVENT is no longer stored (expired)
    uint64_t no_sight;  //  active warnings whose sighting record is gone (exported without it)
} ag_query_stats_t;

//  Opens the store at `path` read-only. NULL with the reason in `err`.
ag_query_t *ag_query_new (const char *path, char *err, size_t err_size);
void ag_query_destroy (ag_query_t **self_p);

//  Wall time the queries compare valid_until with (ns since the epoch; default: the clock at
//  ag_query_new). For tests.
void ag_query_set_now (ag_query_t *self, uint64_t now);
//  The Public Suffix List for domain and URL groups (borrowed; NULL: domains group as
//  themselves, which finds nothing the aggregator filed under a registered domain).
void ag_query_set_psl (ag_query_t *self, const ag_psl_t *psl);

//  The indicator type named `name` ("ip", "cidr", "domain", "url", "ja3", "ja4", "sha1",
//  "sha256"), or 0.
uint8_t ag_query_type_by_name (const char *name);
//  The type a value most likely has: an address, a CIDR, a URL (has "://"), 64/40/32 hex
//  digits (sha256, sha1, ja3), a JA4 fingerprint, else a domain.
uint8_t ag_query_guess_type (const char *value);
//  "YYYY-MM-DD" (midnight UTC) or RFC 3339 ("2026-11-19T10:00:00Z", "...T19:00:00+09:00",
//  fractions allowed) into ns since the epoch. 0, or -1.
int ag_query_parse_time (const char *text, uint64_t *ns);

//  Every sighting record (episode) of the group of `value` (of `type`, normalised here), one
//  JSON line each. The number of lines (0: nothing stored), or -1 (a value that is not of
//  that type: the reason in `err`; or a store error).
int64_t ag_query_indicator (ag_query_t *self, uint8_t type, const char *value, FILE *out, char *err,
                            size_t err_size);

//  The timeline of org `org` with since <= time < until (until 0: no end), in time order:
//  its findings (the EVENT, as mm_event_to_json renders it) and the warnings it received
//  (the WARNING as sent, mm_msg_to_json). The number of lines, or -1.
int64_t ag_query_org (ag_query_t *self, const char *org, uint64_t since, uint64_t until, FILE *out);

//  The same timeline, item by item: `kind` 'F' with the finding's EVENT as stored, 'W' with
//  the WARNING as sent (both encoded; valid during the call). `fn` returns 0 (counted), 1
//  (skipped) or -1 (stop: the walk returns -1). The number counted, or -1.
typedef int (ag_query_item_fn) (void *arg, char kind, const uint8_t *msg, size_t len);
int64_t ag_query_org_each (ag_query_t *self, const char *org, uint64_t since, uint64_t until,
                           ag_query_item_fn *fn, void *arg);

//  Every warning (or the active ones: not revoked and valid_until after now), ordered by
//  issue time, as a table for people or as JSON lines. The number listed, or -1.
int64_t ag_query_warnings (ag_query_t *self, bool active_only, bool json, FILE *out);

//  The active warnings and their sightings as one STIX 2.1 bundle. The number of warnings
//  exported, or -1.
int64_t ag_query_export_stix (ag_query_t *self, FILE *out);
//  The same as JSON Lines: one line per warning, one per sighting group, with counts only;
//  providers are counted with `registry`. The number of warnings exported, or -1.
int64_t ag_query_export_jsonl (ag_query_t *self, const ag_registry_t *registry, FILE *out);

void ag_query_stats (const ag_query_t *self, ag_query_stats_t *stats);
//  The reason of the last failure ("" if none). Borrowed.
const char *ag_query_error (const ag_query_t *self);

#endif
