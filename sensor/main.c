/*  mimamori-sensor: watches a company's network traffic and reports what it sees.
    main() only reads the configuration and flags, opens the capture and drives the packet path
    (sn_sensor); events go out as JSON Lines and, with [uplink] enabled, to the regional broker
    (sn_uplink), which also feeds WATCHLISTs to the detectors and WARNINGs to the log. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <czmq.h>

#include "mm_cert.h"
#include "mm_check.h"
#include "mm_json.h"
#include "mm_prom.h"
#include "sn_capture.h"
#include "sn_config.h"
#include "sn_ioc.h"
#include "sn_metrics.h"
#include "sn_sensor.h"
#include "sn_uplink.h"
#include "sn_wlstore.h"

#ifndef MIMAMORI_VERSION
#define MIMAMORI_VERSION "0.0.0"
#endif

//  The only global state: signal handlers can only reach a global.
static volatile sig_atomic_t s_interrupted;
static volatile sig_atomic_t s_reload;  //  SIGHUP: re-read indicator feeds

static void
s_on_signal (int sig)
{
    if (sig == SIGHUP)
        s_reload = 1;
    else
        s_interrupted = 1;
}

//  At most S_LOG_BURST lines of one kind a minute, then a count of what was left out: a broker
//  (or an aggregator behind it) that floods must not flood the journal.
#define S_LOG_BURST 10
#define S_LOG_PERIOD_MS 60000

typedef struct {
    const char *what;
    int64_t start_ms;
    unsigned shown;
    uint64_t suppressed;
} s_limit_t;

static bool
s_limit_ok (s_limit_t *l, int64_t now_ms)
{
    if (now_ms - l->start_ms >= S_LOG_PERIOD_MS) {
        if (l->suppressed)
            fprintf (stderr, "mimamori-sensor: %llu %s lines not shown in the last minute\n",
                     (unsigned long long) l->suppressed, l->what);
        l->start_ms = now_ms, l->shown = 0, l->suppressed = 0;
    }
    if (l->shown < S_LOG_BURST) {
        l->shown++;
        return true;
    }
    l->suppressed++;
    return false;
}

//  Text from the network goes to the log without control bytes (no forged log lines).
static void
s_put_clean (mm_str_t str, size_t max)
{
    size_t n = str.len < max ? str.len : max;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) str.ptr[i];
        fputc (c < 0x20 || c == 0x7f ? '?' : c, stderr);
    }
    if (n < str.len)
        fputs ("...", stderr);
}

//  The uplink and what the capture loop hands it.
typedef struct {
    sn_uplink_t *up;
    sn_sensor_t *sensor;
    mm_event_t *scratch;  //  a copy of each event: publish writes seq, sensor and org into it
    uint64_t start_ns;
    uint64_t drops;         //  capture drops, refreshed at most once a second (live)
    int64_t drops_read_ms;  //  when
    uint64_t poll_errors;   //  spool I/O errors reported by sn_uplink_poll (counted there too)
    uint64_t watchlists_refused;  //  the ioc detector is off or refused the list
    sn_wlstore_t *wls;            //  the watchlist entries taken, kept across restarts
    s_limit_t warn_log, list_log;
} s_link_t;

typedef struct {
    FILE *out;
    mm_buf_t line;
    uint64_t write_errors;
    s_link_t *link;  //  NULL: no uplink
} s_output_t;

static void
s_on_event (void *arg, const mm_event_t *ev)
{
    s_output_t *o = arg;
    if (o->out) {
        mm_buf_clear (&o->line);
        if (mm_event_to_json (ev, &o->line) == -1 ||
            fwrite (o->line.data, 1, o->line.len, o->out) != o->line.len)
            o->write_errors++;
    }
    if (o->link) {
        //  The certificate names the sensor to the broker (the broker would restamp a body
        //  that says otherwise): empty fields are filled from it by the uplink.
        *o->link->scratch = *ev;
        o->link->scratch->sensor.len = 0;
        o->link->scratch->org.len = 0;
        //  A failure is counted by the uplink (publish_failed) and reported in the summary.
        sn_uplink_publish (o->link->up, o->link->scratch);
    }
}

//  A WATCHLIST replayed from the sensor's own copy at start.
static void
s_replay_watchlist (void *arg, const mm_watchlist_t *wl)
{
    s_link_t *l = arg;
    sn_detect_t *detect = sn_sensor_detect (l->sensor);
    if (!detect || sn_det_ioc_watchlist (detect, wl) == -1)
        l->watchlists_refused++;
}

//  A WATCHLIST from the broker: kept on disk first (the broker forgets it on our ACK), then
//  applied.
static int
s_on_watchlist (void *arg, const mm_watchlist_t *wl)
{
    s_link_t *l = arg;
    if (sn_wlstore_append (l->wls, wl) == -1) {
        if (s_limit_ok (&l->list_log, zclock_mono ()))
            fprintf (stderr,
                     "mimamori-sensor: watchlist serial %llu not stored (%s): not acknowledged, "
                     "the broker sends it again\n",
                     (unsigned long long) wl->serial, strerror (errno));
        return -1;
    }
    sn_detect_t *detect = sn_sensor_detect (l->sensor);
    int rc = detect ? sn_det_ioc_watchlist (detect, wl) : -1;
    if (rc == -1)
        l->watchlists_refused++;
    if (s_limit_ok (&l->list_log, zclock_mono ()))
        fprintf (stderr, "mimamori-sensor: watchlist serial %llu (%u entries) %s\n",
                 (unsigned long long) wl->serial, wl->n_entries,
                 rc == -1 ? "not applied (the ioc detector is off or refused it)" : "applied");
    return 0;
}

static void
s_on_warning (void *arg, const mm_warning_t *w)
{
    s_link_t *l = arg;
    if (!s_limit_ok (&l->warn_log, zclock_mono ()))
        return;
    fprintf (stderr, "mimamori-sensor: WARNING ");
    s_put_clean (w->id, 64);
    fprintf (stderr, " rev %u, %s, %s ", w->revision, mm_sev_name (w->severity),
             mm_ioc_type_name (w->indicator.type));
    s_put_clean (w->indicator.value, 256);
    if (w->has & MM_WARN_HAS_ACTION) {
        fprintf (stderr, ": ");
        s_put_clean (w->action.text_en.len ? w->action.text_en : w->action.text_ja, 512);
    }
    fputc ('\n', stderr);
}

//  Calls sn_uplink_poll with the figures of the heartbeat, without waiting. Cheap when nothing
//  is due (a clock read, a getsockopt, a few compares); the capture's drop counters are read
//  at most once a second.
static void
s_link_poll (s_link_t *l, sn_capture_t *cap, int timeout_ms)
{
    int64_t now_ms = zclock_mono ();
    if (cap && now_ms - l->drops_read_ms >= 1000) {
        sn_capture_stats_t cs;
        if (sn_capture_stats (cap, &cs) == 0)
            l->drops = cs.dropped;
        l->drops_read_ms = now_ms;
    }
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    uint64_t now_ns = (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
    sn_uplink_health_t h = {
        .uptime_s = (now_ns - l->start_ns) / 1000000000u,
        .packets = sn_sensor_decode_stats (l->sensor)->packets,
        .drops = l->drops,
        .flows = sn_sensor_flow_stats (l->sensor)->active,
        .events = sn_sensor_stats (l->sensor)->events,
    };
    if (sn_uplink_poll (l->up, now_ms, timeout_ms, &h) == -1)
        l->poll_errors++;
}

//  End of the capture files: polls until the broker has acknowledged everything, the bound
//  passes or a signal comes. What is left stays in the spool for the next start.
static void
s_link_drain (s_link_t *l, uint64_t drain_s)
{
    int64_t deadline = zclock_mono () + (int64_t) drain_s * 1000;
    while (!s_interrupted) {
        sn_uplink_stats_t st;
        sn_uplink_stats (l->up, &st);
        if (st.spool_depth == 0 && st.in_flight == 0)
            return;
        if (zclock_mono () >= deadline)
            break;
        s_link_poll (l, NULL, 100);
    }
    sn_uplink_stats_t st;
    sn_uplink_stats (l->up, &st);
    if (st.spool_depth)
        fprintf (stderr,
                 "mimamori-sensor: [uplink] %llu events not acknowledged (drain_s %llu); they "
                 "stay in the spool and are sent at the next start\n",
                 (unsigned long long) st.spool_depth, (unsigned long long) drain_s);
}

//  Loads one certificate named by an [uplink] setting, so a missing or unreadable file is
//  reported by the setting's name before any socket exists. 0 or -1 (printed).
static int
s_check_cert (const char *key, const char *path, bool secret)
{
    char err[512];
    mm_cert_t *c = mm_cert_load (path, err, sizeof err);
    if (!c) {
        fprintf (stderr, "mimamori-sensor: [uplink] %s: %s: %s\n", key, path, err);
        return -1;
    }
    bool ok = !secret || mm_cert_has_secret (c);
    mm_cert_destroy (&c);
    if (!ok)
        fprintf (stderr,
                 "mimamori-sensor: [uplink] %s: %s holds no secret key (give the "
                 "ID.cert_secret file)\n",
                 key, path);
    return ok ? 0 : -1;
}

static sn_uplink_t *
s_uplink_new (const sn_config_t *cfg, s_link_t *link)
{
    if (s_check_cert ("broker_cert", cfg->uplink_broker_cert, false) == -1 ||
        s_check_cert ("cert_secret", cfg->uplink_cert_secret, true) == -1)
        return NULL;
    sn_uplink_config_t ucfg = {
        .endpoint = cfg->uplink_broker,
        .broker_cert = cfg->uplink_broker_cert,
        .cert = cfg->uplink_cert_secret,
        .spool_dir = cfg->uplink_spool_dir,
        .spool = {.max_bytes = cfg->uplink_spool_max_mb << 20,
                  .sync_interval_ms = (uint32_t) cfg->uplink_fsync_interval_ms},
        .window = (uint32_t) cfg->uplink_window,
        .heartbeat_ms = (uint32_t) (cfg->uplink_heartbeat_s * 1000),
        .ack_timeout_ms = (uint32_t) cfg->uplink_ack_timeout_ms,
        .version = MIMAMORI_VERSION,
        .on_watchlist = s_on_watchlist,
        .on_warning = s_on_warning,
        .arg = link,
    };
    sn_spool_sync_parse (cfg->uplink_fsync, &ucfg.spool.sync);  //  checked by sn_config_check
    sn_uplink_t *up = sn_uplink_new (&ucfg);
    if (!up) {
        fprintf (stderr,
                 "mimamori-sensor: [uplink] cannot start (spool_dir %s, broker %s): see the line "
                 "above\n",
                 cfg->uplink_spool_dir, cfg->uplink_broker);
        return NULL;
    }
    //  The watchlist entries taken before a restart, back into the matcher before anything new
    //  comes (the spool directory exists now).
    char err[512];
    link->wls =
        sn_wlstore_new (cfg->uplink_spool_dir, 0, s_replay_watchlist, link, err, sizeof err);
    if (!link->wls) {
        fprintf (stderr, "mimamori-sensor: [uplink] watchlist store: %s\n", err);
        sn_uplink_destroy (&up);
        return NULL;
    }
    sn_wlstore_stats_t ws;
    sn_wlstore_stats (link->wls, &ws);
    if (ws.replayed)
        fprintf (stderr, "mimamori-sensor: %llu watchlist messages replayed from %s/%s\n",
                 (unsigned long long) ws.replayed, cfg->uplink_spool_dir, SN_WLSTORE_FILE);
    return up;
}

static void
s_usage (FILE *out)
{
    fprintf (
        out,
        "usage: mimamori-sensor [options] -r FILE [FILE...]   analyse capture files\n"
        "       mimamori-sensor [options] -i IFACE              capture live\n"
        "\n"
        "  -r, --read FILE        read a pcap or pcapng file (repeatable; more files may follow)\n"
        "  -i, --interface IFACE  capture live on IFACE (needs CAP_NET_RAW, not root)\n"
        "  -f, --filter EXPR      BPF filter, tcpdump syntax\n"
        "  -s, --snaplen N        bytes captured per packet (live)\n"
        "      --no-promisc       do not put the interface in promiscuous mode\n"
        "      --buffer-mb N      kernel capture buffer in MiB (live)\n"
        "      --realtime         replay files at their own pace\n"
        "      --speed X          with --realtime: X times faster (e.g. 10)\n"
        "      --retime           replay files as if they happened now (their times moved\n"
        "                         by one offset: the first packet at the start)\n"
        "      --jsonl FILE       write events as JSON Lines to FILE ('-': stdout)\n"
        "      --home-net CIDRS   the company's networks, e.g. '10.0.0.0/8,192.168.1.0/24'\n"
        "      --sensor-id ID     this sensor's id\n"
        "      --org-id ID        the company's id\n"
        "      --no-flows         no flow records, only protocol records\n"
        "      --stay             with [uplink]: after the files (or with none), stay\n"
        "                         connected to the broker (heartbeats, warnings) until\n"
        "                         SIGINT or SIGTERM\n"
        "      --stats-interval S live capture: a summary with capture drops every S seconds\n"
        "                         on stderr (default 300; 0: only at the end)\n"
        "  -c, --config FILE      settings file (INI); flags override it\n"
        "      --check-config     read the settings and flags, look at every file, key,\n"
        "                         address and interface they name, say what is wrong, exit\n"
        "      --print-config     print every setting with its default and exit\n"
        "  -q, --quiet            no summary on stderr at the end\n"
        "  -V, --version          print the version and exit\n"
        "  -h, --help             this help\n"
        "\n"
        "Exit status: 0 done (or stopped by SIGINT/SIGTERM; --help, --version, --print-config,\n"
        "a clean --check-config); 1 a capture, output or uplink failure; 2 a bad flag or\n"
        "settings file, or a --check-config with something to fix.\n");
}

enum {
    O_NO_PROMISC = 256,
    O_BUFFER_MB,
    O_REALTIME,
    O_RETIME,
    O_SPEED,
    O_JSONL,
    O_HOME_NET,
    O_SENSOR_ID,
    O_ORG_ID,
    O_NO_FLOWS,
    O_STAY,
    O_CHECK_CONFIG,
    O_PRINT_CONFIG,
    O_STATS_INTERVAL,
};

static const struct option s_options[] = {
    {"read", required_argument, NULL, 'r'},
    {"interface", required_argument, NULL, 'i'},
    {"filter", required_argument, NULL, 'f'},
    {"snaplen", required_argument, NULL, 's'},
    {"no-promisc", no_argument, NULL, O_NO_PROMISC},
    {"buffer-mb", required_argument, NULL, O_BUFFER_MB},
    {"realtime", no_argument, NULL, O_REALTIME},
    {"retime", no_argument, NULL, O_RETIME},
    {"speed", required_argument, NULL, O_SPEED},
    {"jsonl", required_argument, NULL, O_JSONL},
    {"home-net", required_argument, NULL, O_HOME_NET},
    {"sensor-id", required_argument, NULL, O_SENSOR_ID},
    {"org-id", required_argument, NULL, O_ORG_ID},
    {"no-flows", no_argument, NULL, O_NO_FLOWS},
    {"stay", no_argument, NULL, O_STAY},
    {"check-config", no_argument, NULL, O_CHECK_CONFIG},
    {"config", required_argument, NULL, 'c'},
    {"print-config", no_argument, NULL, O_PRINT_CONFIG},
    {"stats-interval", required_argument, NULL, O_STATS_INTERVAL},
    {"quiet", no_argument, NULL, 'q'},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static uint64_t
s_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

//  --realtime: wait until this frame's moment, scaled by the speed factor.
typedef struct {
    bool on;
    double speed;
    bool started;
    uint64_t first_ts, first_wall;
    //  --retime: every frame's time moved by one offset, so the first frame is now.
    bool retime, shifted;
    int64_t shift;
} s_pacer_t;

//  --retime: the frame's time, moved so that the replay happens now (sample captures are
//  years old: their findings would be past every retention and outside every window).
static uint64_t
s_retime (s_pacer_t *p, uint64_t ts)
{
    if (!p->retime)
        return ts;
    if (!p->shifted) {
        struct timespec now;
        clock_gettime (CLOCK_REALTIME, &now);
        p->shift =
            (int64_t) ((uint64_t) now.tv_sec * 1000000000u + (uint64_t) now.tv_nsec) - (int64_t) ts;
        p->shifted = true;
    }
    return (uint64_t) ((int64_t) ts + p->shift);
}

static void
s_pace (s_pacer_t *p, uint64_t ts)
{
    if (!p->on)
        return;
    if (!p->started) {
        p->started = true;
        p->first_ts = ts;
        p->first_wall = s_now_ns ();
        return;
    }
    if (ts <= p->first_ts)
        return;
    uint64_t due = p->first_wall + (uint64_t) ((double) (ts - p->first_ts) / p->speed);
    for (;;) {
        uint64_t now = s_now_ns ();
        if (now >= due || s_interrupted)
            return;
        uint64_t wait = due - now;
        struct timespec req = {(time_t) (wait / 1000000000u), (long) (wait % 1000000000u)};
        nanosleep (&req, NULL);
    }
}

static void
s_summary (const sn_sensor_t *sensor, const sn_capture_stats_t *cap, uint64_t write_errors,
           s_link_t *link)
{
    const sn_decode_stats_t *d = sn_sensor_decode_stats (sensor);
    const sn_flow_stats_t *f = sn_sensor_flow_stats (sensor);
    const sn_sensor_stats_t *s = sn_sensor_stats (sensor);
    fprintf (
        stderr,
        "mimamori-sensor: packets %llu (ipv4 %llu, ipv6 %llu, tcp %llu, udp %llu, icmp %llu,"
        " tunnels %llu); flows %llu (evicted %llu, stream gaps %llu); events %llu (flow %llu,"
        " dns %llu, tls %llu, http %llu, ssh %llu, smb %llu); parser errors %llu",
        (unsigned long long) d->packets, (unsigned long long) d->ipv4, (unsigned long long) d->ipv6,
        (unsigned long long) d->tcp, (unsigned long long) d->udp, (unsigned long long) d->icmp,
        (unsigned long long) d->tunnels, (unsigned long long) f->created,
        (unsigned long long) f->evicted, (unsigned long long) f->stream_gaps,
        (unsigned long long) s->events, (unsigned long long) s->events_by_kind[MM_KIND_FLOW],
        (unsigned long long) s->events_by_kind[MM_KIND_DNS],
        (unsigned long long) s->events_by_kind[MM_KIND_TLS],
        (unsigned long long) s->events_by_kind[MM_KIND_HTTP],
        (unsigned long long) s->events_by_kind[MM_KIND_SSH],
        (unsigned long long) s->events_by_kind[MM_KIND_SMB], (unsigned long long) s->parser_errors);
    fprintf (stderr,
             "; dns not parsed: malformed %llu, split over TCP segments %llu; parsers refused %llu",
             (unsigned long long) s->dns_malformed, (unsigned long long) s->dns_tcp_split,
             (unsigned long long) s->parsers_refused);
    sn_detect_t *det = sn_sensor_detect (sensor);
    if (det) {
        const sn_detect_stats_t *ds = sn_detect_stats (det);
        fprintf (
            stderr,
            "; findings %llu (critical %llu, high %llu, medium %llu, low %llu, info %llu;"
            " revisions %llu, folded %llu, forgotten early %llu)",
            (unsigned long long) ds->raised, (unsigned long long) ds->by_severity[MM_SEV_CRITICAL],
            (unsigned long long) ds->by_severity[MM_SEV_HIGH],
            (unsigned long long) ds->by_severity[MM_SEV_MEDIUM],
            (unsigned long long) ds->by_severity[MM_SEV_LOW],
            (unsigned long long) ds->by_severity[MM_SEV_INFO], (unsigned long long) ds->updates,
            (unsigned long long) ds->suppressed, (unsigned long long) ds->recycled);
    }
    fprintf (stderr, "; dropped:");
    for (int r = 0; r < SN_DROP_COUNT_; r++)
        fprintf (stderr, " %s %llu", sn_drop_name ((sn_drop_t) r),
                 (unsigned long long) d->drops[r]);
    if (cap)
        fprintf (stderr, "; capture drops %llu (interface %llu)", (unsigned long long) cap->dropped,
                 (unsigned long long) cap->if_dropped);
    if (write_errors)
        fprintf (stderr, "; output write errors %llu", (unsigned long long) write_errors);
    if (link) {
        sn_uplink_stats_t u;
        sn_uplink_stats (link->up, &u);
        fprintf (stderr,
                 "; uplink: published %llu, acked %llu, still spooled %llu (resent %llu,"
                 " heartbeats %llu, watchlists %llu, warnings %llu",
                 (unsigned long long) u.published, (unsigned long long) u.acked,
                 (unsigned long long) u.spool_depth, (unsigned long long) u.resent,
                 (unsigned long long) u.heartbeats, (unsigned long long) u.watchlists,
                 (unsigned long long) u.warnings);
        if (u.publish_failed)
            fprintf (stderr, ", publish failed %llu", (unsigned long long) u.publish_failed);
        if (u.overflow_events)
            fprintf (stderr, ", dropped by the spool bound %llu",
                     (unsigned long long) u.overflow_events);
        if (link->watchlists_refused)
            fprintf (stderr, ", watchlists not applied %llu",
                     (unsigned long long) link->watchlists_refused);
        if (link->poll_errors)
            fprintf (stderr, ", spool errors %llu", (unsigned long long) link->poll_errors);
        fprintf (stderr, ")");
    }
    fprintf (stderr, "\n");
}

//  --check-config: the settings as the sensor will use them. 0, or 2 with FIX lines.
static int
s_check_config (const sn_config_t *cfg, const char *file, size_t n_files, bool stay)
{
    char err[512];
    mm_check_t c = {stdout, 0};
    printf ("mimamori-sensor: %s parses; what its settings name:\n", file ? file : "no -c file");
    if (sn_config_check (cfg, err, sizeof err) == -1)
        mm_check_fix (&c, "settings", "%s", err);
    if (!cfg->interface[0] && n_files == 0 && !stay)
        mm_check_fix (&c, "[capture] interface",
                      "not set, and no capture file given: the sensor has nothing to watch (set "
                      "the interface that sees the company's traffic)");
    if (!cfg->uplink && !cfg->jsonl[0])
        mm_check_fix (&c, "[uplink] enabled",
                      "false, and no [output] jsonl: the sensor's events would go nowhere (enable "
                      "[uplink] with its broker)");
    if (cfg->interface[0]) {
        char path[256];
        snprintf (path, sizeof path, "/sys/class/net/%s", cfg->interface);
        if (access (path, F_OK) == 0)
            mm_check_ok (&c, "[capture] interface", "%s (needs CAP_NET_RAW and CAP_NET_ADMIN)",
                         cfg->interface);
        else
            mm_check_fix (&c, "[capture] interface", "%s: no such interface here (ip link)",
                          cfg->interface);
    }
    //  Feeds: a comma-separated list of files.
    char feeds[sizeof cfg->ioc_feeds];
    snprintf (feeds, sizeof feeds, "%s", cfg->ioc_feeds);
    char *save = NULL;
    for (char *f = strtok_r (feeds, ",", &save); f; f = strtok_r (NULL, ",", &save)) {
        while (*f == ' ')
            f++;
        mm_check_file (&c, "[ioc] feeds", f, false);
    }
    if (cfg->uplink) {
        mm_check_endpoint (&c, "[uplink] broker", cfg->uplink_broker);
        mm_check_cert (&c, "[uplink] broker_cert", cfg->uplink_broker_cert, false, MM_ROLE_BROKER);
        mm_check_cert (&c, "[uplink] cert_secret", cfg->uplink_cert_secret, true, MM_ROLE_SENSOR);
        mm_check_state_dir (&c, "[uplink] spool_dir", cfg->uplink_spool_dir);
    }
    else
        mm_check_ok (&c, "[uplink] enabled", "false: events only to [output] jsonl");
    mm_check_listen (&c, "[metrics] listen", cfg->metrics);
    return mm_check_done (&c, "mimamori-sensor", file);
}

//  The /metrics page ([metrics] listen), rendered between packets about once a second.
typedef struct {
    mm_httpd_t *http;
    int64_t next;
    mm_buf_t text;
} s_metrics_t;

static void
s_metrics_tick (s_metrics_t *mx, const sn_sensor_t *sensor, sn_capture_t *cap, s_link_t *lk,
                bool live)
{
    if (!mx->http || zclock_mono () < mx->next)
        return;
    sn_capture_stats_t cs;
    bool have_cap = live && sn_capture_stats (cap, &cs) == 0;
    if (sn_metrics_render (sensor, have_cap ? &cs : NULL, lk ? lk->up : NULL, &mx->text) == 0)
        mm_prom_publish (mx->http, &mx->text);
    mx->next = zclock_mono () + MM_PROM_INTERVAL_MS;
}

//  Runs one capture to its end (file) or until interrupted (live). A live capture prints a
//  summary with the kernel's drop counts every `stats_s` seconds (0: never), so a sensor that
//  runs for weeks shows its health in the journal. 0, or -1 on a read error.
static int
s_run_capture (sn_capture_t *cap, const char *name, sn_sensor_t *sensor, s_pacer_t *pacer,
               uint64_t stats_s, const uint64_t *write_errors, s_link_t *lk, bool live,
               s_metrics_t *mx)
{
    uint64_t next_stats = s_now_ns () + stats_s * 1000000000u, packets = 0;
    int link = sn_capture_link (cap);
    if (!sn_decode_link_supported (link))
        fprintf (stderr,
                 "mimamori-sensor: %s: link type %s is not decoded; its packets are "
                 "counted as unsupported_link\n",
                 name, sn_capture_link_name (cap));
    char err[512];
    sn_frame_t frame;
    int rc;
    while (!s_interrupted && (rc = sn_capture_next (cap, &frame, err, sizeof err)) >= 0) {
        if (s_reload) {
            s_reload = 0;
            sn_detect_t *detect = sn_sensor_detect (sensor);
            if (detect)
                sn_detect_reload (detect);
        }
        if (rc == 0) {  //  live read timeout: let idle flows end
            struct timespec ts;
            clock_gettime (CLOCK_REALTIME, &ts);
            sn_sensor_tick (sensor, (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec);
        }
        else {
            s_pace (pacer, frame.ts_ns);
            sn_sensor_packet (sensor, link, frame.data, frame.caplen,
                              s_retime (pacer, frame.ts_ns));
        }
        if (rc > 0)
            packets++;
        //  The uplink takes ACKs and sends what is due on every idle timeout and every 256
        //  packets (publish itself sends new events at once); on every packet when paced,
        //  where packets are slow and the cost does not matter.
        if (lk && (rc == 0 || pacer->on || (packets & 0xff) == 0))
            s_link_poll (lk, live ? cap : NULL, 0);
        if (rc == 0 || (packets & 0xff) == 0)
            s_metrics_tick (mx, sensor, cap, lk, live);
        //  The clock is read on idle timeouts and once per 1,024 packets, not per packet.
        if (stats_s && (rc == 0 || (packets & 0x3ff) == 0) && s_now_ns () >= next_stats) {
            sn_capture_stats_t cs;
            if (sn_capture_stats (cap, &cs) == 0)
                s_summary (sensor, &cs, *write_errors, lk);
            next_stats = s_now_ns () + stats_s * 1000000000u;
        }
    }
    if (!s_interrupted && err[0]) {
        //  A truncated or corrupt file: keep what was read, say so, go on with the next one.
        fprintf (stderr, "mimamori-sensor: %s: %s (packets before this point were analysed)\n",
                 name, err);
        return -1;
    }
    return 0;
}

int
main (int argc, char **argv)
{
    sn_config_t cfg;
    char err[512];
    if (sn_config_defaults (&cfg, err, sizeof err) == -1) {
        fprintf (stderr, "mimamori-sensor: %s\n", err);
        return 1;
    }
    const char **files = calloc ((size_t) argc, sizeof *files);
    if (!files)
        return 1;
    size_t n_files = 0;
    //  Two passes over the flags: the config file first (wherever -c appears, in any of its
    //  forms), then every other flag over it.
    opterr = 0;
    int opt;
    const char *config_file = NULL;
    while ((opt = getopt_long (argc, argv, "r:i:f:s:c:qVh", s_options, NULL)) != -1)
        if (opt == 'c' && mm_config_load (sn_config_table, sn_config_table_len, &cfg,
                                          config_file = optarg, err, sizeof err) == -1) {
            fprintf (stderr, "mimamori-sensor: %s\n", err);
            free (files);
            return 2;
        }
    optind = 0;  //  glibc: start a fresh scan
    opterr = 1;
    s_pacer_t pacer = {.speed = 1.0};
    bool quiet = false, stay = false, checking = false;
    uint64_t stats_s = 300;
    while ((opt = getopt_long (argc, argv, "r:i:f:s:c:qVh", s_options, NULL)) != -1) {
        const char *section = NULL, *key = NULL, *value = optarg;
        switch (opt) {
        case 'r': files[n_files++] = optarg; break;
        case 'i': section = "capture", key = "interface"; break;
        case 'f': section = "capture", key = "filter"; break;
        case 's': section = "capture", key = "snaplen"; break;
        case O_NO_PROMISC: section = "capture", key = "promiscuous", value = "false"; break;
        case O_BUFFER_MB: section = "capture", key = "buffer_mb"; break;
        case O_REALTIME: pacer.on = true; break;
        case O_RETIME: pacer.retime = true; break;
        case O_SPEED: {
            char *end;
            errno = 0;
            pacer.speed = strtod (optarg, &end);
            if (errno || end == optarg || *end || !(pacer.speed > 0) || pacer.speed > 1e6) {
                fprintf (stderr, "mimamori-sensor: --speed '%s' is not a factor > 0\n", optarg);
                free (files);
                return 2;
            }
            break;
        }
        case O_JSONL: section = "output", key = "jsonl"; break;
        case O_HOME_NET: section = "sensor", key = "home_net"; break;
        case O_SENSOR_ID: section = "sensor", key = "id"; break;
        case O_ORG_ID: section = "sensor", key = "org"; break;
        case O_NO_FLOWS: section = "output", key = "flows", value = "false"; break;
        case O_STATS_INTERVAL: {
            char *end;
            errno = 0;
            unsigned long long v = strtoull (optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-' || v > 86400) {
                fprintf (stderr, "mimamori-sensor: --stats-interval '%s' is not 0..86400\n",
                         optarg);
                free (files);
                return 2;
            }
            stats_s = v;
            break;
        }
        case 'c': break;  //  loaded above
        case O_PRINT_CONFIG:
            mm_config_print (sn_config_table, sn_config_table_len, stdout);
            free (files);
            return 0;
        case 'q': quiet = true; break;
        case O_STAY: stay = true; break;
        case O_CHECK_CONFIG: checking = true; break;
        case 'V':
            printf ("mimamori-sensor %s\n", MIMAMORI_VERSION);
            free (files);
            return 0;
        case 'h':
            s_usage (stdout);
            free (files);
            return 0;
        default:
            s_usage (stderr);
            free (files);
            return 2;
        }
        if (section && mm_config_set (sn_config_table, sn_config_table_len, &cfg, section, key,
                                      value, err, sizeof err) == -1) {
            fprintf (stderr, "mimamori-sensor: %s\n", err);
            free (files);
            return 2;
        }
    }
    //  Files may also follow the options: mimamori-sensor --jsonl - -r a.pcap b.pcap
    while (n_files && optind < argc)
        files[n_files++] = argv[optind++];
    if (checking) {
        int rc = s_check_config (&cfg, config_file, n_files, stay);
        free (files);
        return rc;
    }
    //  --stay alone (no file, no interface) only keeps the link: a sensor waiting for warnings.
    bool link_only = stay && n_files == 0 && cfg.interface[0] == 0;
    if (optind < argc || (!link_only && (n_files == 0) == (cfg.interface[0] == 0))) {
        fprintf (stderr, "mimamori-sensor: give capture files (-r) or an interface (-i), not both"
                         "\n");
        s_usage (stderr);
        free (files);
        return 2;
    }

    if (sn_config_check (&cfg, err, sizeof err) == -1) {
        fprintf (stderr, "mimamori-sensor: %s\n", err);
        free (files);
        return 2;
    }
    if (stay && !cfg.uplink) {
        fprintf (stderr, "mimamori-sensor: --stay needs [uplink] enabled = true (a broker to "
                         "stay connected to)\n");
        free (files);
        return 2;
    }

    s_output_t output = {NULL, MM_BUF_INIT, 0, NULL};
    if (cfg.jsonl[0]) {
        output.out = strcmp (cfg.jsonl, "-") == 0 ? stdout : fopen (cfg.jsonl, "w");
        if (!output.out) {
            fprintf (stderr, "mimamori-sensor: %s: %s\n", cfg.jsonl, strerror (errno));
            free (files);
            return 1;
        }
        //  Events are small and many: write them in large blocks.
        setvbuf (output.out, NULL, _IOFBF, 1 << 20);
    }
    sn_sensor_t *sensor = sn_sensor_new (&cfg, s_on_event, &output);
    if (!sensor) {
        fprintf (stderr, "mimamori-sensor: cannot allocate %llu flows\n",
                 (unsigned long long) cfg.max_flows);
        free (files);
        return 1;
    }
    s_link_t link = {.sensor = sensor, .start_ns = s_now_ns ()};
    link.warn_log.what = "WARNING", link.list_log.what = "watchlist";
    if (cfg.uplink) {
        //  Before the first CZMQ socket: otherwise CZMQ installs its own SIGINT/SIGTERM
        //  handler over ours. Its log lines go to stderr, not into a JSON Lines stdout.
        zsys_handler_set (NULL);
        zsys_set_logstream (stderr);
        link.scratch = calloc (1, sizeof *link.scratch);
        link.up = link.scratch ? s_uplink_new (&cfg, &link) : NULL;
        if (!link.up) {
            free (link.scratch);
            sn_sensor_destroy (&sensor);
            if (output.out && output.out != stdout)
                fclose (output.out);
            mm_buf_free (&output.line);
            free (files);
            return 1;
        }
        output.link = &link;
    }
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
    sa.sa_flags = SA_RESTART;  //  a reload request must not cut a capture read short
    sigaction (SIGHUP, &sa, NULL);

    int status = 0;
    s_metrics_t metrics = {.text = MM_BUF_INIT};
    bool metrics_failed;
    //  A metrics port that cannot be had is said, not fatal: capturing matters more.
    metrics.http = mm_prom_listen ("mimamori-sensor", cfg.metrics, &metrics_failed);
    sn_capture_stats_t cstats = {0};
    bool live = n_files == 0 && !link_only;
    if (live) {
        sn_capture_t *cap =
            sn_capture_open_live (cfg.interface, cfg.filter, (int) cfg.snaplen, cfg.promiscuous,
                                  (int) cfg.buffer_mb, err, sizeof err);
        if (!cap) {
            fprintf (stderr, "mimamori-sensor: %s\n", err);
            status = 1;
        }
        else {
            if (s_run_capture (cap, cfg.interface, sensor, &pacer, quiet ? 0 : stats_s,
                               &output.write_errors, output.link, true, &metrics) == -1)
                status = 1;
            sn_capture_stats (cap, &cstats);
            sn_capture_destroy (&cap);
        }
    }
    for (size_t i = 0; i < n_files && !s_interrupted; i++) {
        //  Each file is paced from its own start: captures made years apart must not wait
        //  for the gap between them.
        pacer.started = false;
        sn_capture_t *cap = sn_capture_open_file (files[i], cfg.filter, err, sizeof err);
        if (!cap) {
            fprintf (stderr, "mimamori-sensor: %s\n", err);
            status = 1;
            continue;
        }
        if (s_run_capture (cap, files[i], sensor, &pacer, 0, &output.write_errors, output.link,
                           false, &metrics) == -1)
            status = 1;
        sn_capture_destroy (&cap);
    }
    sn_sensor_flush (sensor);
    if (output.out && fflush (output.out) != 0)
        output.write_errors++;
    if (output.link && !live)
        s_link_drain (output.link, cfg.uplink_drain_s);
    if (stay && output.link && !s_interrupted) {
        fprintf (stderr, "mimamori-sensor: staying connected to the broker until SIGINT/SIGTERM\n");
        while (!s_interrupted) {
            s_link_poll (output.link, NULL, 200);
            s_metrics_tick (&metrics, sensor, NULL, output.link, false);
        }
    }
    mm_httpd_destroy (&metrics.http);
    mm_buf_free (&metrics.text);
    if (!quiet)
        s_summary (sensor, live ? &cstats : NULL, output.write_errors, output.link);
    if (output.out && output.out != stdout)
        fclose (output.out);
    uint64_t publish_failed = 0;
    if (output.link) {
        sn_uplink_stats_t u;
        sn_uplink_stats (link.up, &u);
        publish_failed = u.publish_failed;
        sn_uplink_destroy (&link.up);  //  linger 1 s; the spool is synced and closed cleanly
        sn_wlstore_destroy (&link.wls);
        free (link.scratch);
    }
    sn_sensor_destroy (&sensor);
    mm_buf_free (&output.line);
    free (files);
    return output.write_errors || publish_failed ? 1 : status;
}
