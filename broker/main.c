/*  mimamori-broker: a regional broker. Accepts sensors over CURVE, stores their events durably
    and acknowledges them, watches their heartbeats (bk_broker), and forwards the store to the
    aggregator (bk_forward). main() only reads the settings and flags, starts the ZAP handler
    and drives both in one thread until SIGINT/SIGTERM. Owner: broker/. */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bk_broker.h"
#include "bk_forward.h"
#include "bk_metrics.h"
#include "mm_check.h"
#include "mm_config.h"
#include "mm_prom.h"
#include "mm_log.h"

#ifndef MIMAMORI_VERSION
#define MIMAMORI_VERSION "0.0.0"
#endif

typedef struct {
    char id[MM_ID_MAX + 1];
    char region[MM_ID_MAX + 1];
    char bind[256];
    char cert_dir[1024];
    char revoke_file[1024];
    char cert_secret[1024];
    char store_path[1024];
    uint64_t max_mb;
    uint64_t heartbeat_ms;
    uint64_t start_grace_ms;
    uint64_t stats_s;
    char agg_endpoint[256];
    char agg_cert[1024];
    uint64_t window;
    uint64_t ack_timeout_ms;
    char metrics[128];
} s_config_t;

#define S_STR(...) MM_CFG_ITEM_STR (s_config_t, __VA_ARGS__)
#define S_UINT(...) MM_CFG_ITEM_UINT (s_config_t, __VA_ARGS__)

static const mm_cfg_item_t s_table[] = {
    S_STR ("broker", "id", id, "", "this broker's id in log lines (empty: the certificate's id)"),
    S_STR ("broker", "region", region, "", "the region this broker serves (log lines)"),
    S_UINT ("broker", "stats_s", stats_s, 1, 86400, "60",
            "seconds between summary lines (counters, store size and backlog) while frames "
            "arrive or the store is full"),
    S_STR ("sensors", "bind", bind, "tcp://0.0.0.0:7001", "where sensors connect (CURVE ROUTER)"),
    S_STR ("sensors", "cert_dir", cert_dir, "/etc/mimamori/sensors",
           "allowed sensor certificates (*.cert); changes apply within a second, no restart"),
    S_STR ("sensors", "revoke_file", revoke_file, "",
           "revocation file: one Z85 key or id a line (empty: none)"),
    S_STR ("keys", "cert_secret", cert_secret, "/etc/mimamori/broker.cert_secret",
           "this broker's secret certificate (mode 0600)"),
    S_STR ("store", "path", store_path, "/var/lib/mimamori/broker", "RocksDB store directory"),
    S_UINT ("store", "max_mb", max_mb, 0, 1u << 24, "4096",
            "disk bound in MiB: over it new events are not acknowledged (0: none)"),
    S_UINT ("sensors", "heartbeat_ms", heartbeat_ms, 100, 3600000, "10000",
            "sensors' heartbeat interval: 3 without one raise sensor.silent"),
    S_UINT ("sensors", "start_grace_ms", start_grace_ms, 0, 3600000, "30000",
            "after a start, sensors known from the store get this long on top to reconnect "
            "(their back-off reaches 30 s) before they count as silent"),
    S_STR ("aggregator", "endpoint", agg_endpoint, "",
           "the aggregator, e.g. tcp://centre:7100 (empty: do not forward)"),
    S_STR ("aggregator", "aggregator_cert", agg_cert, "/etc/mimamori/aggregator.cert",
           "the aggregator's public certificate"),
    S_UINT ("aggregator", "window", window, 1, 1000000, "10000", "events in flight unacknowledged"),
    S_UINT ("aggregator", "ack_timeout_ms", ack_timeout_ms, 100, 600000, "5000",
            "no ACK progress for this long: resend from the durable cursor"),
    S_STR ("metrics", "listen", metrics, "",
           "Prometheus /metrics on HOST:PORT, e.g. 127.0.0.1:9102 (empty: none)"),
};
#define S_TABLE_LEN (sizeof s_table / sizeof s_table[0])

//  --check-config: what each setting names, looked at as the broker will use it.
static void
s_check (const void *arg, mm_check_t *c)
{
    const s_config_t *cfg = (const s_config_t *) arg;
    mm_check_cert (c, "[keys] cert_secret", cfg->cert_secret, true, MM_ROLE_BROKER);
    mm_check_endpoint (c, "[sensors] bind", cfg->bind);
    mm_check_cert_dir (c, "[sensors] cert_dir", cfg->cert_dir);
    mm_check_file (c, "[sensors] revoke_file", cfg->revoke_file, true);
    mm_check_state_dir (c, "[store] path", cfg->store_path);
    if (cfg->agg_endpoint[0]) {
        mm_check_endpoint (c, "[aggregator] endpoint", cfg->agg_endpoint);
        mm_check_cert (c, "[aggregator] aggregator_cert", cfg->agg_cert, false, MM_ROLE_AGGREGATOR);
    }
    else
        mm_check_ok (c, "[aggregator] endpoint", "none: events are stored, not forwarded");
    mm_check_listen (c, "[metrics] listen", cfg->metrics);
}

//  The forwarder hands the aggregator's down messages to the broker's down path.
static uint64_t
s_on_down (void *arg, uint64_t index, const uint8_t *msg, size_t len)
{
    return bk_down_take (bk_broker_down (arg), index, msg, len);
}

static uint64_t
s_down_mark (void *arg)
{
    return bk_store_down_hwm (bk_broker_store (arg));
}

int
main (int argc, char **argv)
{
    s_config_t cfg;
    int rc = mm_config_daemon_args (
        "mimamori-broker", MIMAMORI_VERSION,
        "Accepts sensors over CurveZMQ, stores their events durably, acknowledges them.", s_table,
        S_TABLE_LEN, &cfg, s_check, argc, argv);
    if (rc != -1)
        return rc;
    //  Stop on SIGINT/SIGTERM: the loop below checks between rounds (every 100 ms at most).
    if (mm_daemon_stop_signals () == -1) {
        fprintf (stderr, "%s: cannot install the signal handlers\n", "mimamori-broker");
        return 1;
    }

    mm_curve_auth_t *auth = mm_curve_auth_new ();
    if (!auth) {
        fprintf (stderr, "mimamori-broker: cannot start the ZAP handler\n");
        return 1;
    }
    bk_broker_config_t bcfg = {
        .id = cfg.id,
        .endpoint = cfg.bind,
        .allow_dir = cfg.cert_dir,
        .revoke_file = cfg.revoke_file,
        .cert_secret = cfg.cert_secret,
        .store_path = cfg.store_path,
        .store_max_bytes = cfg.max_mb << 20,
        .heartbeat_ivl_ms = (uint32_t) cfg.heartbeat_ms,
        .start_grace_ms = (uint32_t) cfg.start_grace_ms,
    };
    bk_broker_t *broker = bk_broker_new (&bcfg, auth);
    if (!broker) {
        mm_curve_auth_destroy (&auth);
        return 1;
    }
    //  Tests and supervisors read the bound endpoint from this line (the port may be "*").
    fprintf (stderr, "mimamori-broker: listening on %s\n", bk_broker_endpoint (broker));
    bk_forward_t *forward = NULL;
    if (cfg.agg_endpoint[0]) {
        bk_forward_config_t fcfg = {
            .endpoint = cfg.agg_endpoint,
            .aggregator_cert = cfg.agg_cert,
            .cert_secret = cfg.cert_secret,
            .window = (uint32_t) cfg.window,
            .ack_timeout_ms = (uint32_t) cfg.ack_timeout_ms,
            .on_down = s_on_down,
            .down_mark = s_down_mark,
            .down_arg = broker,
        };
        forward = bk_forward_new (&fcfg, bk_broker_store (broker));
        if (!forward) {
            bk_broker_destroy (&broker);
            mm_curve_auth_destroy (&auth);
            return 1;
        }
    }
    else
        mm_log_warning (
            "mimamori-broker: no [aggregator] endpoint: events are stored, not forwarded");
    int status = 0;
    bool metrics_failed;
    //  A metrics port that cannot be had is said, not fatal: storing events matters more.
    mm_httpd_t *http = mm_prom_listen ("mimamori-broker", cfg.metrics, &metrics_failed);
    mm_buf_t metrics = MM_BUF_INIT;
    int64_t next_metrics = 0;
    //  One thread: the store is not thread-safe. One poller on both sockets, so an ACK or a
    //  down message from the aggregator is taken as soon as it comes, not after a sensor
    //  round; 100 ms at most, for the timers (silence, resends, presence).
    zpoller_t *poller = zpoller_new (bk_broker_sock (broker), NULL);
    if (!poller || (forward && zpoller_add (poller, bk_forward_sock (forward)) == -1)) {
        fprintf (stderr, "mimamori-broker: cannot make a poller\n");
        status = 1;
    }
    //  A summary line now and then (the same lines as at exit), while something happens.
    int64_t next_stats = zclock_mono () + (int64_t) cfg.stats_s * 1000;
    uint64_t frames_then = 0;
    while (status == 0 && !mm_daemon_stopping ()) {
        zpoller_wait (poller, 100);
        bk_broker_run_once (broker, 0);  //  failures are counted and logged
        if (forward) {
            bk_forward_stats_t before, after;
            bk_forward_stats (forward, &before);
            bk_forward_run_once (forward);
            bk_forward_stats (forward, &after);
            //  A lateral warning just held for our sensors goes out now, not on the next
            //  wake-up (up to 100 ms later).
            if (after.down != before.down)
                bk_broker_deliver (broker);
        }
        if (http && zclock_mono () >= next_metrics) {
            if (bk_metrics_render (broker, forward, &metrics) == 0)
                mm_prom_publish (http, &metrics);
            next_metrics = zclock_mono () + MM_PROM_INTERVAL_MS;
        }
        if (zclock_mono () >= next_stats) {
            next_stats = zclock_mono () + (int64_t) cfg.stats_s * 1000;
            bk_broker_stats_t st;
            bk_broker_stats (broker, &st);
            if (st.frames != frames_then || bk_store_full (bk_broker_store (broker)))
                bk_broker_summary (broker, stderr);
            frames_then = st.frames;
        }
    }
    zpoller_destroy (&poller);
    mm_httpd_destroy (&http);
    mm_buf_free (&metrics);
    bk_broker_summary (broker, stderr);
    if (forward) {
        bk_forward_stats_t fs;
        bk_forward_stats (forward, &fs);
        fprintf (stderr,
                 "mimamori-broker: forward: %llu sent, %llu acks, %llu stale acks, %llu bad acks, "
                 "%llu rewinds, %llu errors, cursor %llu of %llu; down: %llu frames, %llu bad, "
                 "%llu acks\n",
                 (unsigned long long) fs.sent, (unsigned long long) fs.acks,
                 (unsigned long long) fs.stale_acks, (unsigned long long) fs.bad_acks,
                 (unsigned long long) fs.rewinds, (unsigned long long) fs.errors,
                 (unsigned long long) bk_store_forward_cursor (bk_broker_store (broker)),
                 (unsigned long long) bk_store_last_index (bk_broker_store (broker)),
                 (unsigned long long) fs.down, (unsigned long long) fs.down_bad,
                 (unsigned long long) fs.down_acks);
    }
    bk_forward_destroy (&forward);
    bk_broker_destroy (&broker);
    mm_curve_auth_destroy (&auth);
    return status;
}
