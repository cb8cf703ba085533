/*  bk_metrics: mimamori-broker's figures as Prometheus text (see bk_metrics.h). */
#include "bk_metrics.h"

#include "bk_down.h"
#include "bk_store.h"
#include "mm_prom.h"

#define S_P "mimamori_broker_"

int
bk_metrics_render (bk_broker_t *broker, bk_forward_t *forward, mm_buf_t *out)
{
    mm_buf_clear (out);
    mm_prom_t p = {out, false};
    bk_broker_stats_t st;
    bk_broker_stats (broker, &st);
    mm_prom_counter (&p, S_P "frames_total", "Frames from allowed sensors.", st.frames);
    mm_prom_counter (&p, S_P "events_stored_total", "New events stored durably.", st.events);
    mm_prom_counter (&p, S_P "events_duplicate_total",
                     "Events already stored (resent), acknowledged again.", st.duplicates);
    mm_prom_counter (&p, S_P "events_restamped_total",
                     "Events whose body named another sensor or org: restamped from the key.",
                     st.corrected);
    mm_prom_family (&p, S_P "events_dropped_total", "counter",
                    "Events not stored, by reason (the sensor resends those not acknowledged).");
    mm_prom_sample (&p, S_P "events_dropped_total", "reason", "store_full", (double) st.refused);
    mm_prom_sample (&p, S_P "events_dropped_total", "reason", "out_of_order",
                    (double) st.out_of_order);
    mm_prom_sample (&p, S_P "events_dropped_total", "reason", "spool_gap", (double) st.gaps);
    mm_prom_family (&p, S_P "frames_bad_total", "counter", "Frames refused, by reason.");
    for (int r = 0; r < BK_BAD_COUNT_; r++)
        mm_prom_sample (&p, S_P "frames_bad_total", "reason", bk_bad_name ((bk_bad_t) r),
                        (double) st.bad[r]);
    mm_prom_counter (&p, S_P "heartbeats_total", "Valid HEARTBEATs.", st.heartbeats);
    mm_prom_counter (&p, S_P "store_errors_total",
                     "Store writes that failed (nothing acknowledged).", st.store_errors);
    mm_prom_counter (&p, S_P "acks_total", "ACKs sent to sensors.", st.acks);
    mm_prom_gauge (&p, S_P "sensors", "Distinct sensors heard since start.", (double) st.sensors);
    mm_prom_gauge (&p, S_P "sensors_silent", "Sensors silent now (no heartbeat for 3 intervals).",
                   (double) (st.silent >= st.back ? st.silent - st.back : 0));
    mm_prom_counter (&p, S_P "sensor_silences_total", "sensor.silent findings raised.", st.silent);
    bk_store_t *store = bk_broker_store (broker);
    mm_prom_gauge (&p, S_P "store_bytes", "Size of the store on disk.",
                   (double) bk_store_size (store));
    mm_prom_gauge (&p, S_P "store_full", "1 while the store refuses new events (its bound).",
                   bk_store_full (store) ? 1 : 0);
    uint64_t last = bk_store_last_index (store), cursor = bk_store_forward_cursor (store);
    mm_prom_gauge (&p, S_P "forward_backlog",
                   "Events stored and not yet acknowledged by the aggregator.",
                   (double) (last > cursor ? last - cursor : 0));
    if (forward) {
        bk_forward_stats_t fs;
        bk_forward_stats (forward, &fs);
        mm_prom_counter (&p, S_P "forward_sent_total", "Frames sent to the aggregator.", fs.sent);
        mm_prom_counter (&p, S_P "forward_rewinds_total",
                         "ACK timeouts: sending restarted from the durable cursor.", fs.rewinds);
        mm_prom_counter (&p, S_P "forward_errors_total", "Store errors while forwarding.",
                         fs.errors);
    }
    bk_down_stats_t ds;
    bk_down_stats (bk_broker_down (broker), &ds);
    mm_prom_counter (&p, S_P "down_taken_total",
                     "WARNINGs and WATCHLISTs received from the aggregator.", ds.taken);
    mm_prom_counter (&p, S_P "down_delivered_total",
                     "Copies sent to sensors (warnings sent down, resends included).",
                     ds.delivered);
    mm_prom_counter (&p, S_P "down_confirmed_total", "Copies acknowledged by sensors.",
                     ds.confirmed);
    mm_prom_family (&p, S_P "down_dropped_total", "counter", "Down copies not held, by reason.");
    mm_prom_sample (&p, S_P "down_dropped_total", "reason", "queue_full", (double) ds.refused);
    mm_prom_sample (&p, S_P "down_dropped_total", "reason", "bad", (double) ds.bad);
    return mm_prom_failed (&p) ? -1 : 0;
}
