/*  mimamori-console: a regional SOC's web console (issue 8). Connects to the aggregator's
    console feed over CURVE with the SOC's console certificate (so it receives its provider's
    and region's INCIDENTs and WARNINGs only, see ag_console.h), optionally reads the
    statistics (a file `mimamori-stats table` writes, or the CURVE feed of `mimamori-stats
    serve`), and serves a page with everything on it on a local address: open incidents with
    what to do, active lateral warnings, per-company timelines, the statistics with charts.
    The page, its script and style are inside the program (no external asset, works offline).
    Owner: aggregator/. One loop thread; the HTTP server's thread only hands out pages.

    Pages: /  /app.js  /style.css  /api/state.json (ag_soc_render, refreshed within 250 ms of
    a change)  /metrics (Prometheus). With [console] print, every message is also printed as
    one line on stdout (ops/run's live view). */
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ag_soc.h"
#include "mm_ack.h"
#include "mm_cert.h"
#include "mm_check.h"
#include "mm_config.h"
#include "mm_curve.h"
#include "mm_httpd.h"
#include "mm_incident.h"
#include "mm_prom.h"
#include "mm_warning.h"

#ifndef MIMAMORI_VERSION
#define MIMAMORI_VERSION "0.0.0"
#endif

#define S_PROG "mimamori-console"
#define S_HELLO_MS 2000  //  ag_console forgets a console silent for 10 s
#define S_RENDER_MS 250  //  the page's data is at most this old
#define S_STATS_POLL_MS 2000

//  The page's files, generated from aggregator/console/ at build time (console_assets.c).
typedef struct {
    const char *path;
    const char *type;
    const unsigned char *data;
    size_t len;
} mm_asset_t;
extern const mm_asset_t mm_console_assets[];
extern const size_t mm_console_assets_len;

typedef struct {
    char aggregator[256];
    char aggregator_cert[1024];
    char cert_secret[1024];
    char listen[128];
    uint64_t max_items;
    bool print;
    char stats_file[1024];
    char stats_feed[256];
    char stats_cert[1024];
} s_config_t;

#define S_STR(...) MM_CFG_ITEM_STR (s_config_t, __VA_ARGS__)
#define S_UINT(...) MM_CFG_ITEM_UINT (s_config_t, __VA_ARGS__)
#define S_BOOL(...) MM_CFG_ITEM_BOOL (s_config_t, __VA_ARGS__)

static const mm_cfg_item_t s_table[] = {
    S_STR ("console", "aggregator", aggregator, "tcp://127.0.0.1:7103",
           "the aggregator's console endpoint ([consoles] bind there)"),
    S_STR ("console", "aggregator_cert", aggregator_cert, "/etc/mimamori/aggregator.cert",
           "the aggregator's public certificate"),
    S_STR ("console", "cert_secret", cert_secret, "/etc/mimamori/console.cert_secret",
           "this console's secret certificate (role console, org = the provider, region = the "
           "SOC's region; mode 0600)"),
    S_STR ("console", "listen", listen, "127.0.0.1:8080",
           "where the page is served (HOST:PORT, an IP address; no TLS and no login: keep it "
           "on loopback or behind the host's access control)"),
    S_UINT ("console", "max_items", max_items, 10, 100000, "2000",
            "incidents and warnings kept each (the newest)"),
    S_BOOL ("console", "print", print, "false",
            "also print one line per incident or warning on stdout (a live view in a terminal)"),
    S_STR ("stats", "file", stats_file, "",
           "statistics rows (JSON lines of mimamori-stats table), re-read when they change "
           "(empty: none)"),
    S_STR ("stats", "feed", stats_feed, "",
           "the statistics feed (mimamori-stats serve --bind; empty: none)"),
    S_STR ("stats", "feed_cert", stats_cert, "", "the statistics server's public certificate"),
};
#define S_TABLE_LEN (sizeof s_table / sizeof s_table[0])

//  A CURVE link that says hello now and then: the aggregator's console feed or the
//  statistics feed. Both servers take an mm_ack as the hello.
typedef struct {
    mm_curve_client_t *client;
    int64_t next_hello;
    uint64_t frames;
    int64_t last_frame;  //  zclock_mono of the newest frame, 0: none yet
} s_link_t;

static int
s_link_open (s_link_t *link, const char *endpoint, const char *server_cert, const mm_cert_t *me)
{
    char err[512];
    mm_cert_t *server = mm_cert_load (server_cert, err, sizeof err);
    if (!server) {
        fprintf (stderr, S_PROG ": %s (the server's public certificate)\n", err);
        return -1;
    }
    link->client = mm_curve_client_new (endpoint, me, mm_cert_public_txt (server));
    mm_cert_destroy (&server);
    if (!link->client) {
        fprintf (stderr, S_PROG ": cannot connect to %s\n", endpoint);
        return -1;
    }
    return 0;
}

static void
s_link_hello (s_link_t *link, const mm_cert_t *me, uint64_t newest)
{
    if (!link->client || zclock_mono () < link->next_hello)
        return;
    mm_ack_t ack = {.ts = (uint64_t) zclock_time () * 1000000u,
                    .sensor = mm_str (mm_cert_identity (me)->id),
                    .seq = newest};
    mm_buf_t hello = MM_BUF_INIT;
    mm_error_t e;
    if (mm_ack_encode (&ack, &hello, &e) == 0)
        mm_curve_client_send (link->client, hello.data, hello.len);  //  tried again soon
    mm_buf_free (&hello);
    link->next_hello = zclock_mono () + S_HELLO_MS;
}

//  The time of day of `ns` in the host's zone, for the printed lines.
static void
s_clock (uint64_t ns, char *out, size_t outlen)
{
    time_t t = (time_t) (ns / 1000000000u);
    struct tm tm;
    localtime_r (&t, &tm);
    strftime (out, outlen, "%H:%M:%S", &tm);
}

static void
s_print (const uint8_t *data, size_t len)
{
    mm_msg_type_t type;
    mm_error_t err;
    char when[16];
    if (mm_msg_peek (data, len, &type, &err) == -1)
        return;
    if (type == MM_MSG_INCIDENT) {
        mm_incident_t inc;
        if (mm_incident_decode (&inc, data, len, &err) == -1)
            return;
        s_clock (inc.ts, when, sizeof when);
        printf ("%s  INCIDENT  %-8s %-10.*s %.*s\n          -> %.*s\n", when,
                mm_sev_name (inc.severity), (int) inc.org.len, inc.org.ptr, (int) inc.message.len,
                inc.message.ptr, (int) inc.action.text_ja.len, inc.action.text_ja.ptr);
    }
    else if (type == MM_MSG_WARNING) {
        mm_warning_t w;
        if (mm_warning_decode (&w, data, len, &err) == -1)
            return;
        s_clock (w.ts, when, sizeof when);
        printf ("%s  WARNING   %-8s to %-10.*s %s %.*s (%s; seen at %u companies)\n", when,
                mm_sev_name (w.severity), (int) w.org.len, w.org.ptr, mm_wstatus_name (w.status),
                (int) w.indicator.value.len, w.indicator.value.ptr, mm_relation_name (w.relation),
                w.evidence.orgs);
    }
    fflush (stdout);
}

static int
s_publish_assets (mm_httpd_t *http)
{
    for (size_t i = 0; i < mm_console_assets_len; i++) {
        const mm_asset_t *a = &mm_console_assets[i];
        if (mm_httpd_publish (http, a->path, a->type, a->data, a->len) == -1)
            return -1;
    }
    return 0;
}

//  Re-reads the statistics file when its time or size changed.
static void
s_stats_file (ag_soc_t *soc, const char *path, struct stat *seen)
{
    struct stat st;
    if (!path[0] || stat (path, &st) == -1)
        return;
    if (st.st_mtim.tv_sec == seen->st_mtim.tv_sec && st.st_mtim.tv_nsec == seen->st_mtim.tv_nsec &&
        st.st_size == seen->st_size)
        return;
    *seen = st;
    char *text = NULL;
    size_t len = 0;
    FILE *f = fopen (path, "r");
    if (f) {
        text = (char *) malloc ((size_t) st.st_size + 1);
        len = text ? fread (text, 1, (size_t) st.st_size, f) : 0;
        fclose (f);
    }
    if (!text || ag_soc_take_stats (soc, text, len) == -1)
        fprintf (stderr, S_PROG ": %s: no statistics rows in it (kept the previous ones)\n", path);
    free (text);
}

static void
s_metrics (mm_httpd_t *http, ag_soc_t *soc, const s_link_t *feed)
{
    ag_soc_stats_t s;
    ag_soc_stats (soc, &s);
    mm_httpd_stats_t h;
    mm_httpd_stats (http, &h);
    mm_buf_t out = MM_BUF_INIT;
    mm_prom_t p = {&out, false};
    mm_prom_counter (&p, "mimamori_console_incidents_total", "INCIDENTs received.", s.incidents);
    mm_prom_counter (&p, "mimamori_console_warnings_total",
                     "WARNINGs received (revisions included).", s.warnings);
    mm_prom_counter (&p, "mimamori_console_bad_frames_total",
                     "Frames or statistics rows that did not decode.", s.bad);
    mm_prom_counter (&p, "mimamori_console_dropped_total", "Oldest items pushed out by max_items.",
                     s.dropped);
    mm_prom_gauge (&p, "mimamori_console_feed_age_seconds",
                   "Seconds since the aggregator's feed last sent a frame (-1: never).",
                   feed->last_frame ? (double) (zclock_mono () - feed->last_frame) / 1000.0 : -1);
    mm_prom_counter (&p, "mimamori_console_http_requests_total", "Pages served.", h.requests);
    if (!mm_prom_failed (&p))
        mm_httpd_publish (http, "/metrics", "text/plain; version=0.0.4; charset=utf-8", out.data,
                          out.len);
    mm_buf_free (&out);
}

//  --check-config: what each setting names, looked at as the console will use it.
static void
s_check (const void *arg, mm_check_t *c)
{
    const s_config_t *cfg = (const s_config_t *) arg;
    mm_check_cert (c, "[console] cert_secret", cfg->cert_secret, true, MM_ROLE_CONSOLE);
    mm_check_endpoint (c, "[console] aggregator", cfg->aggregator);
    mm_check_cert (c, "[console] aggregator_cert", cfg->aggregator_cert, false, MM_ROLE_AGGREGATOR);
    mm_check_listen (c, "[console] listen", cfg->listen);
    if (!cfg->listen[0])
        mm_check_fix (c, "[console] listen", "empty: the console needs an address to serve on");
    mm_check_file (c, "[stats] file", cfg->stats_file, true);
    if (cfg->stats_feed[0]) {
        mm_check_endpoint (c, "[stats] feed", cfg->stats_feed);
        mm_check_cert (c, "[stats] feed_cert", cfg->stats_cert, false, MM_ROLE_NONE);
    }
}

//  `text` as a JSON string's inside: quotes, backslashes and control characters escaped.
static void
s_json_text (char *out, size_t outlen, const char *text)
{
    size_t o = 0;
    for (const char *c = text; *c && o + 7 < outlen; c++) {
        unsigned char ch = (unsigned char) *c;
        if (ch == '"' || ch == '\\') {
            out[o++] = '\\';
            out[o++] = (char) ch;
        }
        else if (ch < 0x20)
            o += (size_t) snprintf (out + o, outlen - o, "\\u%04x", ch);
        else
            out[o++] = (char) ch;
    }
    out[o] = 0;
}

static int
s_run (const s_config_t *cfg)
{
    char err[512];
    int exit_code = 1;
    mm_cert_t *me = mm_cert_load (cfg->cert_secret, err, sizeof err);
    ag_soc_t *soc = ag_soc_new ((size_t) cfg->max_items);
    mm_httpd_t *http = NULL;
    s_link_t feed = {0}, stats = {0};
    mm_buf_t page = MM_BUF_INIT;
    if (!me) {
        fprintf (stderr, S_PROG ": %s (set [console] cert_secret)\n", err);
        goto done;
    }
    if (!soc)
        goto done;
    const mm_identity_t *id = mm_cert_identity (me);
    if (id->role != MM_ROLE_CONSOLE) {
        fprintf (stderr, S_PROG ": %s is a %s certificate; a console needs role console\n",
                 cfg->cert_secret, mm_role_name (id->role));
        exit_code = 2;
        goto done;
    }
    http = mm_httpd_new (cfg->listen, err, sizeof err);
    if (!http) {
        fprintf (stderr, S_PROG ": %s (set [console] listen)\n", err);
        goto done;
    }
    if (s_publish_assets (http) == -1 ||
        s_link_open (&feed, cfg->aggregator, cfg->aggregator_cert, me) == -1)
        goto done;
    if (cfg->stats_feed[0] && s_link_open (&stats, cfg->stats_feed, cfg->stats_cert, me) == -1)
        goto done;
    char console_json[2048], aggregator[600];
    s_json_text (aggregator, sizeof aggregator, cfg->aggregator);
    //  Tests and ops/run read the page's address from this line.
    fprintf (stderr, S_PROG ": %s (provider %s, region %s) serving http://%s/ (port %u)\n", id->id,
             id->org, id->region, cfg->listen, mm_httpd_port (http));
    struct stat stats_seen = {0};
    int64_t next_render = 0, next_stats = 0;
    mm_buf_t rows = MM_BUF_INIT;
    while (!mm_daemon_stopping ()) {
        s_link_hello (&feed, me, ag_soc_newest (soc));
        s_link_hello (&stats, me, 0);
        zpoller_t *poller = zpoller_new (mm_curve_client_sock (feed.client), NULL);
        if (stats.client)
            zpoller_add (poller, mm_curve_client_sock (stats.client));
        void *which = zpoller_wait (poller, 100);
        zpoller_destroy (&poller);
        if (which == mm_curve_client_sock (feed.client)) {
            zframe_t *f = mm_curve_client_recv (feed.client);
            if (f) {
                feed.frames++;
                feed.last_frame = zclock_mono ();
                if (ag_soc_take (soc, zframe_data (f), zframe_size (f)) == 0 && cfg->print)
                    s_print (zframe_data (f), zframe_size (f));
                zframe_destroy (&f);
            }
        }
        else if (stats.client && which == mm_curve_client_sock (stats.client)) {
            zframe_t *f = mm_curve_client_recv (stats.client);
            if (f) {
                //  A publication is a burst of rows; a pause of more than a second starts
                //  the next one.
                if (zclock_mono () - stats.last_frame > 1000)
                    mm_buf_clear (&rows);
                stats.last_frame = zclock_mono ();
                //  Only rows join the burst (a stray frame would be counted again with
                //  every later row).
                static const char tag[] = "{\"schema\":\"mimamori.stats";
                if (zframe_size (f) > sizeof tag &&
                    memcmp (zframe_data (f), tag, sizeof tag - 1) == 0 &&
                    mm_buf_append (&rows, zframe_data (f), zframe_size (f)) == 0 &&
                    mm_buf_append (&rows, "\n", 1) == 0)
                    ag_soc_take_stats (soc, (const char *) rows.data, rows.len);
                zframe_destroy (&f);
            }
        }
        if (zclock_mono () >= next_stats) {
            s_stats_file (soc, cfg->stats_file, &stats_seen);
            next_stats = zclock_mono () + S_STATS_POLL_MS;
        }
        if (zclock_mono () >= next_render) {
            int64_t age = feed.last_frame ? (zclock_mono () - feed.last_frame) / 1000 : -1;
            snprintf (console_json, sizeof console_json,
                      "{\"id\":\"%s\",\"provider\":\"%s\",\"region\":\"%s\",\"aggregator\":\"%s\","
                      "\"feed_frames\":%llu,\"feed_age_s\":%lld,\"version\":\"%s\"}",
                      id->id, id->org, id->region, aggregator, (unsigned long long) feed.frames,
                      (long long) age, MIMAMORI_VERSION);
            if (ag_soc_render (soc, console_json, (uint64_t) zclock_time () * 1000000u, &page) == 0)
                mm_httpd_publish (http, "/api/state.json", "application/json; charset=utf-8",
                                  page.data, page.len);
            s_metrics (http, soc, &feed);
            next_render = zclock_mono () + S_RENDER_MS;
        }
    }
    mm_buf_free (&rows);
    ag_soc_stats_t s;
    ag_soc_stats (soc, &s);
    fprintf (stderr,
             S_PROG ": %llu incidents, %llu warnings (%llu revisions replaced), %llu "
                    "duplicates, %llu bad frames, %llu statistics rows\n",
             (unsigned long long) s.incidents, (unsigned long long) s.warnings,
             (unsigned long long) s.replaced, (unsigned long long) s.duplicates,
             (unsigned long long) s.bad, (unsigned long long) s.stats_rows);
    exit_code = 0;
done:
    mm_buf_free (&page);
    mm_curve_client_destroy (&feed.client);
    mm_curve_client_destroy (&stats.client);
    mm_httpd_destroy (&http);
    ag_soc_destroy (&soc);
    mm_cert_destroy (&me);
    return exit_code;
}

int
main (int argc, char **argv)
{
    s_config_t cfg;
    int rc = mm_config_daemon_args (S_PROG, MIMAMORI_VERSION,
                                    "A regional SOC's web console: its provider's and region's "
                                    "incidents and lateral\nwarnings from the aggregator over "
                                    "CurveZMQ, and the statistics, on a local page.",
                                    s_table, S_TABLE_LEN, &cfg, s_check, argc, argv);
    if (rc != -1)
        return rc;
    if (mm_daemon_stop_signals () == -1) {
        fprintf (stderr, S_PROG ": cannot install the signal handlers\n");
        return 1;
    }
    return s_run (&cfg);
}
