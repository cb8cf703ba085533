/*  mimamori-aggregator: the centre. Accepts brokers over CURVE, stores the events they forward
    durably and acknowledges them (ag_ingest); with a registry, correlates the findings across
    companies and sends lateral warnings down to partners' sensors and incident notifications
    and warnings to the regional SOC consoles (ag_lateral, ag_console). main() only reads the
    settings and flags, starts the ZAP handler and drives the loop until SIGINT/SIGTERM.
    Owner: aggregator/. */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_console.h"
#include "ag_health.h"
#include "ag_ingest.h"
#include "ag_lateral.h"
#include "ag_metrics.h"
#include "ag_registry.h"
#include "mm_check.h"
#include "mm_config.h"
#include "mm_prom.h"

#ifndef MIMAMORI_VERSION
#define MIMAMORI_VERSION "0.0.0"
#endif

typedef struct {
    char id[MM_ID_MAX + 1];
    char bind[256];
    char cert_dir[1024];
    char revoke_file[1024];
    char cert_secret[1024];
    char store_path[1024];
    uint64_t stats_s;
    char inbox[1024];
    char registry[1024];
    char allowlists[1024];
    char psl[1024];
    char revoke_inbox[1024];
    uint64_t window_h, k_anon, quarantine_s, notice_burst, digest_s;
    uint64_t findings_days, events_days;
    char console_bind[256];
    char console_dir[1024];
    char console_revoke[1024];
    char metrics[128];
    uint64_t quiet_s, health_refresh_s;
} s_config_t;

#define S_STR(...) MM_CFG_ITEM_STR (s_config_t, __VA_ARGS__)
#define S_UINT(...) MM_CFG_ITEM_UINT (s_config_t, __VA_ARGS__)

static const mm_cfg_item_t s_table[] = {
    S_STR ("aggregator", "id", id, "",
           "this aggregator's id in log lines (empty: the certificate's id)"),
    S_STR ("brokers", "bind", bind, "tcp://0.0.0.0:7100", "where brokers connect (CURVE ROUTER)"),
    S_STR ("brokers", "cert_dir", cert_dir, "/etc/mimamori/brokers",
           "allowed broker certificates (*.cert); changes apply within a second, no restart"),
    S_STR ("brokers", "revoke_file", revoke_file, "",
           "revocation file: one Z85 key or id a line (empty: none)"),
    S_STR ("keys", "cert_secret", cert_secret, "/etc/mimamori/aggregator.cert_secret",
           "this aggregator's secret certificate (mode 0600)"),
    S_STR ("store", "path", store_path, "/var/lib/mimamori/aggregator", "RocksDB store directory"),
    S_UINT ("aggregator", "stats_s", stats_s, 1, 86400, "60",
            "seconds between summary lines while frames arrive"),
    S_STR ("registry", "path", registry, "",
           "the registry of providers, companies, supply chains and sensors (docs/registry.md); "
           "re-read within a second of a change, a broken file refused (empty: none)"),
    S_STR ("correlate", "allowlists", allowlists, "",
           "directory of *.list allowlists (public resolvers, CDNs, top sites...; "
           "aggregator/allowlists in the source tree); built-in special-purpose ranges and every "
           "registered company's own addresses and domains are always in (empty: those only)"),
    S_STR ("correlate", "psl", psl, "/usr/share/publicsuffix/public_suffix_list.dat",
           "the Public Suffix List (Debian package publicsuffix)"),
    S_STR ("correlate", "revoke_inbox", revoke_inbox, "",
           "directory where *.revoke files (warning ids, one a line) revoke false positives: "
           "every earlier recipient is told (empty: none)"),
    S_UINT ("correlate", "window_h", window_h, 1, 8760, "72",
            "hours within which sightings at several companies make a campaign (R2-R4)"),
    S_UINT ("correlate", "k_anon", k_anon, 1, 100, "2",
            "a warning says \"direct supplier/customer\" only to a company with at least this "
            "many partners in that role"),
    S_UINT ("correlate", "quarantine_s", quarantine_s, 60, 604800, "3600",
            "seconds a sensor that floods new indicators counts for nothing"),
    S_UINT ("correlate", "notice_burst", notice_burst, 1, 10000, "10",
            "warnings a company may get at once; more wait for its digest"),
    S_UINT ("correlate", "digest_s", digest_s, 10, 86400, "600",
            "seconds between digests of held-back warnings"),
    S_UINT ("store", "findings_days", findings_days, 1, 3650, "400",
            "days findings, sightings and warnings are kept (RocksDB compaction drops them)"),
    S_UINT ("store", "events_days", events_days, 1, 3650, "30",
            "days other events (flows, DNS, TLS, HTTP...) are kept"),
    S_STR ("consoles", "bind", console_bind, "",
           "where regional SOC consoles connect (CURVE; empty: no consoles)"),
    S_STR ("consoles", "cert_dir", console_dir, "/etc/mimamori/consoles",
           "allowed console certificates (role console, org = the provider, region = its "
           "region): a console gets only its provider's and region's notifications"),
    S_STR ("consoles", "revoke_file", console_revoke, "", "revoked console keys or ids"),
    S_UINT ("consoles", "quiet_s", quiet_s, 60, 604800, "900",
            "seconds without an event before a sensor its broker has not called silent shows "
            "as quiet on the consoles"),
    S_UINT ("consoles", "health_refresh_s", health_refresh_s, 5, 86400, "60",
            "seconds between consoles' reports of a sensor whose state did not change"),
    S_STR ("down", "inbox", inbox, "",
           "directory of *.msg files (one encoded WARNING or WATCHLIST each) to send down to "
           "every broker; each is queued durably and deleted (empty: none)"),
    S_STR ("metrics", "listen", metrics, "",
           "Prometheus /metrics on HOST:PORT, e.g. 127.0.0.1:9101 (empty: none)"),
};
#define S_TABLE_LEN (sizeof s_table / sizeof s_table[0])

//  --check-config: what each setting names, looked at as the aggregator will use it.
static void
s_check (const void *arg, mm_check_t *c)
{
    const s_config_t *cfg = (const s_config_t *) arg;
    mm_check_cert (c, "[keys] cert_secret", cfg->cert_secret, true, MM_ROLE_AGGREGATOR);
    mm_check_endpoint (c, "[brokers] bind", cfg->bind);
    mm_check_cert_dir (c, "[brokers] cert_dir", cfg->cert_dir);
    mm_check_file (c, "[brokers] revoke_file", cfg->revoke_file, true);
    mm_check_state_dir (c, "[store] path", cfg->store_path);
    if (cfg->registry[0]) {
        char err[4096];
        size_t n_errors = 0;
        ag_registry_t *reg = ag_registry_load (cfg->registry, err, sizeof err, &n_errors);
        if (reg)
            mm_check_ok (c, "[registry] path",
                         "%s: %zu providers, %zu companies, %zu supply chains, %zu sensors",
                         cfg->registry, ag_registry_providers (reg), ag_registry_orgs (reg),
                         ag_registry_chains (reg), ag_registry_sensors (reg));
        else
            mm_check_fix (c, "[registry] path", "%s does not load (%zu errors):\n%s", cfg->registry,
                          n_errors, err);
        ag_registry_destroy (&reg);
        mm_check_file (c, "[correlate] psl", cfg->psl, false);
    }
    else
        mm_check_ok (c, "[registry] path", "none: events are stored, nothing is correlated");
    if (cfg->console_bind[0]) {
        mm_check_endpoint (c, "[consoles] bind", cfg->console_bind);
        mm_check_cert_dir (c, "[consoles] cert_dir", cfg->console_dir);
    }
    else
        mm_check_ok (c, "[consoles] bind", "none: no SOC console gets incidents");
    mm_check_listen (c, "[metrics] listen", cfg->metrics);
}

//  ag_ingest has one set of hooks: the sensors' health and the correlation both take them.
typedef struct {
    ag_lateral_t *lateral;
    ag_health_t *health;
} s_hooks_t;

static void
s_on_stored (void *arg, mm_str_t broker, uint64_t index, const uint8_t *data, size_t len)
{
    s_hooks_t *h = (s_hooks_t *) arg;
    if (h->health)
        ag_health_on_stored (h->health, broker, data, len, (uint64_t) zclock_time () * 1000000u);
    ag_lateral_on_stored (h->lateral, broker, index, data, len);
}

static void
s_on_round (void *arg)
{
    ag_lateral_on_round (((s_hooks_t *) arg)->lateral);
}

static void
s_on_wake (void *arg)
{
    ag_lateral_on_wake (((s_hooks_t *) arg)->lateral);
}

int
main (int argc, char **argv)
{
    s_config_t cfg;
    int rc = mm_config_daemon_args ("mimamori-aggregator", MIMAMORI_VERSION,
                                    "Accepts brokers over CurveZMQ, stores the events they forward "
                                    "durably, acknowledges\nthem; correlates findings across "
                                    "companies and warns their partners.",
                                    s_table, S_TABLE_LEN, &cfg, s_check, argc, argv);
    if (rc != -1)
        return rc;
    //  Stop on SIGINT/SIGTERM: the loop below checks between rounds (every 100 ms at most).
    if (mm_daemon_stop_signals () == -1) {
        fprintf (stderr, "%s: cannot install the signal handlers\n", "mimamori-aggregator");
        return 1;
    }

    mm_curve_auth_t *auth = mm_curve_auth_new ();
    if (!auth) {
        fprintf (stderr, "mimamori-aggregator: cannot start the ZAP handler\n");
        return 1;
    }
    ag_store_retention_t retention = {(uint32_t) cfg.findings_days, (uint32_t) cfg.events_days};
    ag_ingest_config_t icfg = {
        .id = cfg.id,
        .endpoint = cfg.bind,
        .allow_dir = cfg.cert_dir,
        .revoke_file = cfg.revoke_file,
        .cert_secret = cfg.cert_secret,
        .store_path = cfg.store_path,
        .retention = &retention,
    };
    ag_ingest_t *ingest = ag_ingest_new (&icfg, auth);
    ag_console_t *console = NULL;
    ag_lateral_t *lateral = NULL;
    s_hooks_t hooks = {NULL, NULL};
    mm_httpd_t *http = NULL;
    mm_buf_t metrics = MM_BUF_INIT;
    int exit_code = 1;
    if (!ingest)
        goto done;
    if (cfg.console_bind[0]) {
        char err[512];
        mm_cert_t *cert = mm_cert_load (cfg.cert_secret, err, sizeof err);
        console = cert ? ag_console_new (auth, cert, cfg.console_bind, cfg.console_dir,
                                         cfg.console_revoke)
                       : NULL;
        mm_cert_destroy (&cert);
        if (!console)
            goto done;
        fprintf (stderr, "mimamori-aggregator: consoles on %s\n", ag_console_endpoint (console));
    }
    //  A registry that does not load stops the start: correlating against no registry, or a
    //  half-read one, would warn the wrong companies.
    if (cfg.registry[0]) {
        ag_lateral_config_t lcfg = {
            .registry = cfg.registry, .allow_dir = cfg.allowlists, .psl = cfg.psl};
        ag_correlate_config_default (&lcfg.correlate);
        lcfg.correlate.window_s = (uint32_t) cfg.window_h * 3600;
        lcfg.correlate.k_anon = (uint32_t) cfg.k_anon;
        lcfg.correlate.quarantine_s = (uint32_t) cfg.quarantine_s;
        lcfg.correlate.notice_burst = (uint32_t) cfg.notice_burst;
        lcfg.correlate.digest_s = (uint32_t) cfg.digest_s;
        lcfg.correlate.keep_days = (uint32_t) cfg.findings_days;
        lateral =
            ag_lateral_new (&lcfg, ag_ingest_store (ingest), ag_ingest_down (ingest), console);
        if (!lateral) {
            exit_code = 2;
            goto done;
        }
        fprintf (stderr, "mimamori-aggregator: correlating with registry %s\n", cfg.registry);
        if (ag_lateral_replay (lateral) < 0)
            goto done;
        hooks.lateral = lateral;
        //  Sensor health needs the registry (which sensors, whose consoles) and consoles.
        if (console &&
            !(hooks.health = ag_health_new ((uint32_t) cfg.quiet_s, (uint32_t) cfg.health_refresh_s,
                                            (uint64_t) zclock_time () * 1000000u)))
            goto done;
        ag_ingest_set_hooks (ingest, s_on_stored, s_on_round, &hooks);
        if (ag_ingest_set_wake (ingest, ag_lateral_wake_sock (lateral), s_on_wake) == -1) {
            fprintf (stderr, "mimamori-aggregator: cannot watch the correlation's worker\n");
            goto done;
        }
    }
    bool metrics_failed;
    //  A metrics port that cannot be had is said, not fatal: storing events matters more.
    http = mm_prom_listen ("mimamori-aggregator", cfg.metrics, &metrics_failed);
    //  Tests and supervisors read the bound endpoint from this line (the port may be "*").
    fprintf (stderr, "mimamori-aggregator: listening on %s\n", ag_ingest_endpoint (ingest));
    int64_t next_metrics = 0, next_health = 0;
    //  A summary line now and then while frames arrive (the same line as at exit).
    int64_t next_stats = zclock_mono () + (int64_t) cfg.stats_s * 1000;
    uint64_t frames_then = 0;
    while (!mm_daemon_stopping ()) {
        ag_ingest_run_once (ingest, 100);  //  a failed write is counted, logged and resent
        ag_down_inbox (ag_ingest_down (ingest), cfg.inbox);
        if (console)
            ag_console_run (console);
        if (lateral) {
            ag_lateral_revoke_inbox (lateral, cfg.revoke_inbox);
            ag_lateral_tick (lateral);
        }
        if (hooks.health && zclock_mono () >= next_health) {
            ag_health_tick (hooks.health, ag_lateral_registry (lateral), console,
                            (uint64_t) zclock_time () * 1000000u);
            next_health = zclock_mono () + 2000;
        }
        if (http && zclock_mono () >= next_metrics) {
            if (ag_metrics_render (ingest, lateral, console, hooks.health, &metrics) == 0)
                mm_prom_publish (http, &metrics);
            next_metrics = zclock_mono () + MM_PROM_INTERVAL_MS;
        }
        if (zclock_mono () >= next_stats) {
            next_stats = zclock_mono () + (int64_t) cfg.stats_s * 1000;
            ag_ingest_stats_t st;
            ag_ingest_stats (ingest, &st);
            if (st.frames != frames_then) {
                ag_ingest_summary (ingest, stderr);
                if (lateral)
                    ag_lateral_summary (lateral, stderr);
            }
            frames_then = st.frames;
        }
    }
    ag_ingest_summary (ingest, stderr);
    if (lateral)
        ag_lateral_summary (lateral, stderr);
    ag_down_stats_t ds;
    ag_down_stats (ag_ingest_down (ingest), &ds);
    fprintf (stderr,
             "mimamori-aggregator: down: %llu queued, %llu refused, %llu brokers registered, %llu "
             "sent, %llu rewinds, %llu acks, %llu bad acks, %llu send errors, %llu store errors, "
             "inbox %llu files (%llu bad)\n",
             (unsigned long long) ds.queued, (unsigned long long) ds.unqueued,
             (unsigned long long) ds.brokers, (unsigned long long) ds.sent,
             (unsigned long long) ds.rewinds, (unsigned long long) ds.acks,
             (unsigned long long) ds.bad_acks, (unsigned long long) ds.send_errors,
             (unsigned long long) ds.errors, (unsigned long long) ds.inbox_files,
             (unsigned long long) ds.inbox_bad);
    if (console) {
        ag_console_stats_t cs;
        ag_console_stats (console, &cs);
        fprintf (stderr,
                 "mimamori-aggregator: consoles: %llu connected, %llu offered, %llu sent, %llu "
                 "for no console, %llu send errors\n",
                 (unsigned long long) cs.consoles, (unsigned long long) cs.published,
                 (unsigned long long) cs.sent, (unsigned long long) cs.unmatched,
                 (unsigned long long) cs.send_errors);
    }
    exit_code = 0;
done:
    mm_httpd_destroy (&http);
    mm_buf_free (&metrics);
    if (ingest)
        ag_ingest_set_wake (ingest, NULL, NULL);  //  the worker's pipe goes with `lateral`
    ag_lateral_destroy (&lateral);
    ag_health_destroy (&hooks.health);
    ag_console_destroy (&console);
    ag_ingest_destroy (&ingest);
    mm_curve_auth_destroy (&auth);
    return exit_code;
}
