/*  ag_metrics: mimamori-aggregator's figures as Prometheus text (/metrics, issue 8). Owner:
    aggregator/. Rendered on the aggregator's loop thread once a second (it waits for the
    correlation's worker to finish its round, as the summary lines do) and published with
    mm_httpd. Labels are the code's words only (a rule, a reason); never an org, a sensor, a
    broker or an address. */
#ifndef AG_METRICS_H
#define AG_METRICS_H

#include "ag_console.h"
#include "ag_health.h"
#include "ag_ingest.h"
#include "ag_lateral.h"
#include "mm_buf.h"

//  Renders into `out` (cleared first). `lateral`, `console` and `health` may be NULL. 0, or -1.
int ag_metrics_render (ag_ingest_t *ingest, ag_lateral_t *lateral, ag_console_t *console,
                       const ag_health_t *health, mm_buf_t *out);

#endif
