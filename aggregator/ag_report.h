/*  ag_report: an SME's weekly report (週次レポート, issue 8): one page in plain Japanese for
    staff with no security knowledge, from the company's timeline in the aggregator's store
    (ag_query_org_each). Owner: aggregator/ (`mimamori report`). One thread.

    What it says: whether anything severe happened and what to do about it; what was seen and
    handled without them (counted by kind, in plain words); the warnings their partners' trouble
    brought them; how long their sensors watched. Technical detail (addresses, names, the
    sensor's own message) is kept to a small print line per incident, for the SOC they call.

    Sensor uptime: the share of the week no broker reported the sensor silent (its
    `sensor.silent` finding opens a gap at the last heartbeat, its revision "heartbeating
    again" closes it; a gap still open runs to the end of the week or to `now`). A registered
    sensor never heard from in the week, nor silent, is shown as "no data" rather than 100 %.

    The week is an ISO week in Japan's time (UTC+9, no daylight saving): Monday 00:00 to the
    next Monday 00:00 JST. */
#ifndef AG_REPORT_H
#define AG_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "ag_registry.h"
#include "mm_buf.h"

typedef struct ag_report_t ag_report_t;

//  "2026-W47" into [since, until) in ns since the epoch (JST weeks). 0, or -1.
int ag_report_week (const char *week, uint64_t *since, uint64_t *until);

//  A report on `org` (an index in `registry`, borrowed for the report's life) for the week
//  [since, until) named `week`. `now` (ns) ends gaps still open in a week not over yet.
ag_report_t *ag_report_new (const ag_registry_t *registry, uint32_t org, const char *week,
                            uint64_t since, uint64_t until, uint64_t now);
void ag_report_destroy (ag_report_t **self_p);

//  Takes one timeline item (an ag_query_item_fn): 'F' an EVENT with a finding, 'W' a WARNING.
//  Items before the week are read for the brokers' silences only: a sensor silent since an
//  earlier week is silent in this one too (`mimamori report` reads from 30 days before).
//  0 taken, 1 skipped (before the week, or does not decode: counted), -1 out of memory.
int ag_report_take (void *self, char kind, const uint8_t *msg, size_t len);

//  The page: one self-contained HTML document (inline style, no script, no external asset),
//  printable on one or two A4 pages. -1 only when out of memory.
int ag_report_html (ag_report_t *self, mm_buf_t *out);

//  Items that did not decode.
uint64_t ag_report_bad (const ag_report_t *self);

#endif
