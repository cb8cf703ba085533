/*  ag_metrics: mimamori-aggregator's figures as Prometheus text (see ag_metrics.h). */
#include "ag_metrics.h"

#include "ag_correlate.h"
#include "ag_down.h"
#include "mm_prom.h"

#define S_P "mimamori_aggregator_"

static void
s_ingest (mm_prom_t *p, ag_ingest_t *ingest)
{
    ag_ingest_stats_t st;
    ag_ingest_stats (ingest, &st);
    mm_prom_counter (p, S_P "frames_total", "Frames from allowed brokers.", st.frames);
    mm_prom_counter (p, S_P "events_stored_total", "New events stored durably.", st.stored);
    mm_prom_counter (p, S_P "events_duplicate_total",
                     "Events already stored (a broker resent them), acknowledged again.",
                     st.duplicates);
    mm_prom_family (p, S_P "events_dropped_total", "counter",
                    "Frames not stored, by reason (out of order ones are resent by the broker).");
    mm_prom_sample (p, S_P "events_dropped_total", "reason", "bad_frame", (double) st.bad);
    mm_prom_sample (p, S_P "events_dropped_total", "reason", "out_of_order",
                    (double) st.out_of_order);
    mm_prom_counter (p, S_P "store_errors_total",
                     "Store writes that failed (nothing acknowledged).", st.store_errors);
    mm_prom_counter (p, S_P "acks_total", "ACKs sent to brokers.", st.acks);
    mm_prom_summary (p, S_P "sensor_to_store_seconds",
                     "From a sensor making an event to the event durable here (live sensors).",
                     ag_ingest_latency_hist (ingest));
    ag_down_stats_t ds;
    ag_down_stats (ag_ingest_down (ingest), &ds);
    mm_prom_gauge (p, S_P "brokers", "Brokers registered since start.", (double) ds.brokers);
    mm_prom_counter (p, S_P "down_queued_total", "WARNINGs and WATCHLISTs queued for the brokers.",
                     ds.queued);
    mm_prom_counter (p, S_P "down_sent_total", "Down frames sent to brokers (resends included).",
                     ds.sent);
    mm_prom_counter (p, S_P "down_errors_total", "Down store errors.", ds.errors);
}

static void
s_lateral (mm_prom_t *p, ag_lateral_t *lateral)
{
    ag_lateral_stats_t ls;
    ag_lateral_stats (lateral, &ls);
    ag_correlate_stats_t cs;
    ag_correlate_stats (ag_lateral_correlate (lateral), &cs);
    mm_prom_counter (p, S_P "findings_total", "Findings correlated.", cs.findings);
    mm_prom_family (p, S_P "findings_skipped_total", "counter",
                    "Findings not correlated, by reason.");
    mm_prom_sample (p, S_P "findings_skipped_total", "reason", "unregistered",
                    (double) cs.unregistered);
    mm_prom_sample (p, S_P "findings_skipped_total", "reason", "no_indicator",
                    (double) cs.no_indicator);
    mm_prom_sample (p, S_P "findings_skipped_total", "reason", "allowlisted",
                    (double) cs.allowlisted);
    mm_prom_sample (p, S_P "findings_skipped_total", "reason", "quarantined",
                    (double) cs.quarantined);
    mm_prom_sample (p, S_P "findings_skipped_total", "reason", "over_quota",
                    (double) cs.quota_refused);
    mm_prom_sample (p, S_P "findings_skipped_total", "reason", "bad", (double) ls.bad);
    mm_prom_counter (p, S_P "incidents_total", "Incident notifications to SOC consoles.",
                     ls.incidents);
    mm_prom_counter (p, S_P "warnings_sent_total",
                     "Lateral WARNING messages sent down (revisions and revocations included).",
                     ls.warnings);
    mm_prom_counter (p, S_P "watchlists_sent_total", "WATCHLIST messages sent down.",
                     ls.watchlists);
    mm_prom_gauge (p, S_P "warnings", "Warnings known now.", (double) cs.warnings);
    mm_prom_counter (p, S_P "warnings_revoked_total", "Warnings revoked.", cs.revoked);
    mm_prom_family (p, S_P "rule_fired_total", "counter",
                    "Times a correlation rule added recipients or escalated.");
    static const char *const rules[] = {NULL, "r1", "r2", "r3", "r4"};
    for (int r = 1; r <= 4; r++)
        mm_prom_sample (p, S_P "rule_fired_total", "rule", rules[r], (double) cs.rule[r]);
    mm_prom_counter (p, S_P "quarantines_total", "Sensors quarantined for flooding indicators.",
                     cs.quarantines);
    mm_prom_counter (p, S_P "commit_errors_total", "Correlation writes that failed.",
                     ls.commit_errors);
    mm_prom_gauge (p, S_P "correlation_cpu_seconds", "CPU time of the correlation's worker.",
                   (double) ls.worker_cpu_ns / 1e9);
}

int
ag_metrics_render (ag_ingest_t *ingest, ag_lateral_t *lateral, ag_console_t *console,
                   const ag_health_t *health, mm_buf_t *out)
{
    mm_buf_clear (out);
    mm_prom_t p = {out, false};
    s_ingest (&p, ingest);
    if (lateral)
        s_lateral (&p, lateral);
    if (console) {
        ag_console_stats_t cs;
        ag_console_stats (console, &cs);
        mm_prom_gauge (&p, S_P "consoles", "SOC consoles connected now.", (double) cs.consoles);
        mm_prom_counter (&p, S_P "console_sent_total", "Frames sent to SOC consoles.", cs.sent);
        mm_prom_counter (&p, S_P "console_send_errors_total", "Frames a console could not take.",
                         cs.send_errors);
    }
    if (health) {
        ag_health_stats_t hs;
        ag_health_stats (health, &hs);
        mm_prom_family (&p, S_P "sensors", "gauge", "Registered sensors by health state.");
        mm_prom_sample (&p, S_P "sensors", "state", "ok", (double) hs.ok);
        mm_prom_sample (&p, S_P "sensors", "state", "quiet", (double) hs.quiet);
        mm_prom_sample (&p, S_P "sensors", "state", "silent", (double) hs.silent);
        mm_prom_sample (&p, S_P "sensors", "state", "unheard", (double) hs.unheard);
    }
    return mm_prom_failed (&p) ? -1 : 0;
}
