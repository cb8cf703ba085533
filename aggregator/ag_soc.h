/*  ag_soc: what a regional SOC console shows (issue 8), kept by mimamori-console from the
    aggregator's console feed (ag_console) and the statistics. Owner: aggregator/ (the
    console's one loop thread owns it).

    The feed brings INCIDENT, WARNING and HEALTH messages of one provider and region only (the
    console's certificate decides, see ag_console.h). ag_soc keeps the newest of them, each as
    the JSON line mm_json renders (the page's script reads the same JSON as `mimamori-msg`
    prints), and renders the whole state as one JSON document for the page:

      {"generated": T, "console": {...}, "incidents": [...], "warnings": [...],
       "health": [...], "stats": [...], "counts": {...}}

    Incidents are kept newest first, at most `max_items`; a WARNING replaces the earlier
    revision of the same (recipient org, warning id), so a revoked warning shows as revoked
    and not twice. A HEALTH replaces the earlier one of its sensor (the page puts silent
    sensors first); health does not move `newest`: it is not in the aggregator's catch-up
    ring, and a newer health time must not make the console skip incidents it missed. Statistics rows (mimamori.stats JSON lines of weekly tables, from a file
    or the feed) are kept for the newest week only. They are passed to the page as they are:
    mimamori-stats verified them before it published them (a row that is not JSON would
    break the page's document). */
#ifndef AG_SOC_H
#define AG_SOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm_buf.h"

typedef struct ag_soc_t ag_soc_t;

typedef struct {
    uint64_t incidents;   //  INCIDENT messages taken
    uint64_t warnings;    //  WARNING messages taken (revisions included)
    uint64_t health;      //  HEALTH messages taken
    uint64_t replaced;    //  earlier revisions replaced
    uint64_t dropped;     //  the oldest items pushed out by max_items
    uint64_t duplicates;  //  a message already held (a catch-up after a reconnect)
    uint64_t stats_rows;  //  statistics rows taken
    uint64_t bad;         //  frames or rows that did not decode
} ag_soc_stats_t;

//  `max_items` bounds incidents and warnings each (>= 1).
ag_soc_t *ag_soc_new (size_t max_items);
void ag_soc_destroy (ag_soc_t **self_p);

//  Takes one frame of the aggregator's console feed. 0 (taken, or a duplicate), -1 if it is
//  not an INCIDENT, a WARNING or a HEALTH that decodes (counted as bad).
int ag_soc_take (ag_soc_t *self, const uint8_t *data, size_t len);

//  The `ts` of the newest message taken (the console's hello tells the aggregator, which
//  sends only what is newer after a reconnect). 0: none yet.
uint64_t ag_soc_newest (const ag_soc_t *self);

//  Replaces the statistics with the rows in `text` (JSON lines; rows of another period than
//  the newest one in it are left out). 0, or -1 if no line is a statistics row.
int ag_soc_take_stats (ag_soc_t *self, const char *text, size_t len);

//  True if something changed since the last ag_soc_render.
bool ag_soc_changed (const ag_soc_t *self);

//  Renders the state. `console_json` is the "console" member's value (an object the caller
//  built: id, provider, region, connection). -1 only when out of memory.
int ag_soc_render (ag_soc_t *self, const char *console_json, uint64_t now_ns, mm_buf_t *out);

void ag_soc_stats (const ag_soc_t *self, ag_soc_stats_t *stats);

#endif
