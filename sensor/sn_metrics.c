/*  sn_metrics: mimamori-sensor's figures as Prometheus text (see sn_metrics.h). */
#include "sn_metrics.h"

#include "mm_prom.h"
#include "sn_detect.h"

#define S_P "mimamori_sensor_"

static void
s_uplink (mm_prom_t *p, sn_uplink_t *up)
{
    sn_uplink_stats_t u;
    sn_uplink_stats (up, &u);
    mm_prom_counter (p, S_P "events_published_total", "Events numbered and spooled for the broker.",
                     u.published);
    mm_prom_counter (p, S_P "events_acked_total", "Events the broker acknowledged (durable there).",
                     u.acked);
    mm_prom_counter (p, S_P "events_resent_total", "Event frames sent again.", u.resent);
    mm_prom_gauge (p, S_P "spool_depth", "Events in the spool, not yet acknowledged.",
                   (double) u.spool_depth);
    mm_prom_family (p, S_P "events_lost_total", "counter",
                    "Events that will never reach the broker, by reason (each reported to it).");
    mm_prom_sample (p, S_P "events_lost_total", "reason", "spool_bound",
                    (double) u.overflow_events);
    mm_prom_sample (p, S_P "events_lost_total", "reason", "publish_failed",
                    (double) u.publish_failed);
    mm_prom_gauge (p, S_P "in_flight", "Events sent, not yet acknowledged.", (double) u.in_flight);
    mm_prom_counter (p, S_P "ack_timeouts_total", "ACK timeouts (each resends from the cursor).",
                     u.timeouts);
    mm_prom_counter (p, S_P "auth_refused_total",
                     "Handshakes the broker refused (this sensor's key unknown or revoked).",
                     u.auth_refused);
}

int
sn_metrics_render (const sn_sensor_t *sensor, const sn_capture_stats_t *cap, sn_uplink_t *up,
                   mm_buf_t *out)
{
    mm_buf_clear (out);
    mm_prom_t p = {out, false};
    const sn_decode_stats_t *d = sn_sensor_decode_stats (sensor);
    mm_prom_counter (&p, S_P "packets_total", "Packets read.", d->packets);
    mm_prom_family (&p, S_P "packets_dropped_total", "counter",
                    "Packets not analysed, by reason (capture: lost by the kernel).");
    for (int r = 0; r < SN_DROP_COUNT_; r++)
        mm_prom_sample (&p, S_P "packets_dropped_total", "reason", sn_drop_name ((sn_drop_t) r),
                        (double) d->drops[r]);
    if (cap) {
        mm_prom_sample (&p, S_P "packets_dropped_total", "reason", "capture",
                        (double) cap->dropped);
        mm_prom_sample (&p, S_P "packets_dropped_total", "reason", "interface",
                        (double) cap->if_dropped);
    }
    mm_prom_gauge (&p, S_P "flows", "Flows in the table now.",
                   (double) sn_sensor_flow_stats (sensor)->active);
    const sn_sensor_stats_t *s = sn_sensor_stats (sensor);
    mm_prom_counter (&p, S_P "events_total", "Events produced (all kinds).", s->events);
    mm_prom_counter (&p, S_P "parser_errors_total", "Streams a protocol parser gave up on.",
                     s->parser_errors);
    const sn_detect_t *detect = sn_sensor_detect (sensor);
    if (detect) {
        const sn_detect_stats_t *ds = sn_detect_stats (detect);
        mm_prom_family (&p, S_P "findings_total", "counter", "Findings raised, by severity.");
        for (unsigned v = MM_SEV_INFO; v <= MM_SEV_FATAL; v++)
            mm_prom_sample (&p, S_P "findings_total", "severity", mm_sev_name (v),
                            (double) ds->by_severity[v]);
    }
    if (up)
        s_uplink (&p, up);
    return mm_prom_failed (&p) ? -1 : 0;
}
