/*  mimamori-aggregator: the centre. Today (issue 5): accepts brokers over CURVE, stores the
    events they forward durably and acknowledges them (ag_ingest). main() only reads the
    settings and flags, starts the ZAP handler and drives ingest until SIGINT/SIGTERM.
    Owner: aggregator/. */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_ingest.h"
#include "ag_registry.h"
#include "mm_config.h"

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
    S_STR ("down", "inbox", inbox, "",
           "directory of *.msg files (one encoded WARNING or WATCHLIST each) to send down to "
           "every broker; each is queued durably and deleted (empty: none)"),
};
#define S_TABLE_LEN (sizeof s_table / sizeof s_table[0])

int
main (int argc, char **argv)
{
    s_config_t cfg;
    int rc = mm_config_daemon_args ("mimamori-aggregator", MIMAMORI_VERSION,
                                    "Accepts brokers over CurveZMQ, stores the events they forward "
                                    "durably, acknowledges\nthem.",
                                    s_table, S_TABLE_LEN, &cfg, argc, argv);
    if (rc != -1)
        return rc;
    //  Stop on SIGINT/SIGTERM: the loop below checks between rounds (every 100 ms at most).
    if (mm_daemon_stop_signals () == -1) {
        fprintf (stderr, "%s: cannot install the signal handlers\n", "mimamori-aggregator");
        return 1;
    }

    //  A registry that does not load stops the start: correlating against no registry, or a
    //  half-read one, would warn the wrong companies.
    ag_registry_watch_t *registry = NULL;
    if (cfg.registry[0]) {
        char err[4096];
        registry = ag_registry_watch_new (cfg.registry, err, sizeof err);
        if (!registry) {
            fprintf (stderr, "mimamori-aggregator: the registry does not load:\n%s", err);
            return 2;
        }
        const ag_registry_t *r = ag_registry_watch_current (registry);
        fprintf (stderr,
                 "mimamori-aggregator: registry %s: %zu providers, %zu orgs, %zu chains, %zu "
                 "links, %zu sensors\n",
                 cfg.registry, ag_registry_providers (r), ag_registry_orgs (r),
                 ag_registry_chains (r), ag_registry_edges (r), ag_registry_sensors (r));
    }
    mm_curve_auth_t *auth = mm_curve_auth_new ();
    if (!auth) {
        fprintf (stderr, "mimamori-aggregator: cannot start the ZAP handler\n");
        ag_registry_watch_destroy (&registry);
        return 1;
    }
    ag_ingest_config_t icfg = {
        .id = cfg.id,
        .endpoint = cfg.bind,
        .allow_dir = cfg.cert_dir,
        .revoke_file = cfg.revoke_file,
        .cert_secret = cfg.cert_secret,
        .store_path = cfg.store_path,
    };
    ag_ingest_t *ingest = ag_ingest_new (&icfg, auth);
    if (!ingest) {
        mm_curve_auth_destroy (&auth);
        ag_registry_watch_destroy (&registry);
        return 1;
    }
    //  Tests and supervisors read the bound endpoint from this line (the port may be "*").
    fprintf (stderr, "mimamori-aggregator: listening on %s\n", ag_ingest_endpoint (ingest));
    //  A summary line now and then while frames arrive (the same line as at exit).
    int64_t next_stats = zclock_mono () + (int64_t) cfg.stats_s * 1000;
    uint64_t frames_then = 0;
    while (!mm_daemon_stopping ()) {
        ag_ingest_run_once (ingest, 100);  //  a failed write is counted, logged and resent
        ag_down_inbox (ag_ingest_down (ingest), cfg.inbox);
        if (registry)
            ag_registry_watch_check (registry, false);  //  logs a reload or a refusal
        if (zclock_mono () >= next_stats) {
            next_stats = zclock_mono () + (int64_t) cfg.stats_s * 1000;
            ag_ingest_stats_t st;
            ag_ingest_stats (ingest, &st);
            if (st.frames != frames_then)
                ag_ingest_summary (ingest, stderr);
            frames_then = st.frames;
        }
    }
    ag_ingest_summary (ingest, stderr);
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
    ag_ingest_destroy (&ingest);
    ag_registry_watch_destroy (&registry);
    mm_curve_auth_destroy (&auth);
    return 0;
}
