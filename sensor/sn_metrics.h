/*  sn_metrics: mimamori-sensor's figures as Prometheus text (/metrics, issue 8). Owner:
    sensor/. Rendered on the packet thread about once a second (between packets) and
    published with mm_httpd. Labels are the code's words only (a drop reason, a severity);
    never an address or a name from the traffic. */
#ifndef SN_METRICS_H
#define SN_METRICS_H

#include "mm_buf.h"
#include "sn_capture.h"
#include "sn_sensor.h"
#include "sn_uplink.h"

//  Renders into `out` (cleared first). `cap` (live capture counters) and `up` may be NULL.
//  0, or -1.
int sn_metrics_render (const sn_sensor_t *sensor, const sn_capture_stats_t *cap, sn_uplink_t *up,
                       mm_buf_t *out);

#endif
