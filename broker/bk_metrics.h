/*  bk_metrics: mimamori-broker's figures as Prometheus text (/metrics, issue 8). Owner:
    broker/. Rendered on the broker's loop thread once a second and published with mm_httpd.
    Labels are the code's words only (a drop reason); no sensor, org or address. */
#ifndef BK_METRICS_H
#define BK_METRICS_H

#include "bk_broker.h"
#include "bk_forward.h"
#include "mm_buf.h"

//  Renders into `out` (cleared first). `forward` may be NULL (not forwarding). 0, or -1.
int bk_metrics_render (bk_broker_t *broker, bk_forward_t *forward, mm_buf_t *out);

#endif
