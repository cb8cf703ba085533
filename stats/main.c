/*  mimamori-stats: anonymised alert statistics for the providers' liaison council and IPA
    (issue 7, docs/statistics.md). `table` reads a period's findings from the aggregator's
    store (read-only, beside the running aggregator), applies the disclosure rules and writes
    JSON Lines and/or CSV, each file verified before it takes its name; `verify` checks any
    published file. main() only reads the command line. Owner: stats/. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <czmq.h>

#include "mm_period.h"
#include "ag_registry.h"
#include "ag_store.h"
#include "mm_check.h"
#include "mm_config.h"
#include "mm_prom.h"
#include "st_feed.h"
#include "st_output.h"
#include "st_source.h"
#include "st_table.h"
#include "st_top.h"
#include "st_verify.h"

#ifndef MIMAMORI_VERSION
#define MIMAMORI_VERSION "0.0.0"
#endif

#define S_DEFAULT_STORE "/var/lib/mimamori/aggregator"

//  Exit codes (in --help and docs/statistics.md).
enum { S_OK = 0, S_REFUSED = 1, S_USAGE = 2, S_FAILED = 3 };

typedef struct {
    const char *store, *registry, *period, *level, *jsonl, *csv, *top, *noise, *secret;
    const char *bind, *cert, *allow, *revoke, *metrics;
    bool check;  //  --check-config: look at what the flags name, run nothing
    uint32_t every_s;
    st_rules_t rules;
    st_policy_t policy;
} s_args_t;

static void
s_usage (FILE *out)
{
    fprintf (out,
             "Usage: mimamori-stats table -r REGISTRY --period PERIOD [--jsonl FILE] [--csv FILE]"
             " [--top FILE] [options]\n"
             "       mimamori-stats verify [--k N] FILE...\n"
             "       mimamori-stats serve -r REGISTRY --bind EP --cert FILE --allow DIR [options]\n"
             "\n"
             "  table    a period's alert statistics from the aggregator's store (read-only;\n"
             "           works while it runs): PERIOD is an ISO week (2026-W47) or a day\n"
             "           (2026-11-18), both in Asia/Tokyo. Each file is written as FILE.tmp,\n"
             "           verified, then renamed; a file verify refuses stays FILE.rejected.\n"
             "           --top FILE: the indicators seen by at least k companies of at least\n"
             "           2 providers in the period (JSON Lines)\n"
             "  verify   checks published files (JSON Lines or CSV) against every rule; prints\n"
             "           the first offending line\n"
             "  serve    the CURVE feed for providers and IPA: the last complete week's\n"
             "           council tables and top indicators (Asia/Tokyo), looked at every\n"
             "           --every seconds (3600), verified, to every subscriber (role console\n"
             "           certificates in --allow; --revoke FILE); --cert is its own\n"
             "           .cert_secret; until SIGTERM; --metrics HOST:PORT serves Prometheus\n"
             "           /metrics there\n"
             "  --check-config (with table or serve): look at the registry, the store and\n"
             "           what the flags name, say what is wrong, run nothing\n"
             "\n"
             "Options:\n"
             "  -s, --store DIR          the aggregator's [store] path (default " S_DEFAULT_STORE
             ")\n"
             "  -r, --registry FILE      the aggregator's [registry] path\n"
             "      --level LEVEL        council (default: for the liaison council and IPA) or\n"
             "                           provider (a provider's own: one provider allowed)\n"
             "      --k N                fewest companies a published cell may have (5)\n"
             "      --clip N             alerts counted per company per cell (100)\n"
             "      --noise NUM/DEN      discrete-Laplace noise, epsilon NUM/DEN per cell and\n"
             "                           measure (default: none); needs --secret\n"
             "      --secret FILE        the noise's secret (made, mode 0600, if missing)\n"
             "  -V, --version            print the version\n"
             "  -h, --help               print this help\n"
             "\n"
             "Exit codes: 0 done; 1 verify refused a file; 2 usage; 3 the store, the registry\n"
             "or a file failed.\n");
}

static int
s_number (const char *text, uint32_t lo, uint32_t hi, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul (text, &end, 10);
    if (errno || end == text || *end || v < lo || v > hi)
        return -1;
    *out = (uint32_t) v;
    return 0;
}

//  Writes `buf` to PATH.tmp, verifies it, renames it to PATH (or PATH.rejected).
static int
s_publish_file (const char *path, const mm_buf_t *buf, const st_policy_t *policy)
{
    char tmp[4096], rejected[4096], err[512];
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    snprintf (rejected, sizeof rejected, "%s.rejected", path);
    FILE *f = fopen (tmp, "wb");
    bool ok = f && (buf->len == 0 || fwrite (buf->data, 1, buf->len, f) == buf->len);
    if (f && fclose (f) != 0)
        ok = false;
    if (!ok) {
        fprintf (stderr, "mimamori-stats: cannot write %s: %s\n", tmp, strerror (errno));
        return S_FAILED;
    }
    size_t rows = 0;
    if (st_verify_file (tmp, policy, &rows, err, sizeof err) == -1) {
        rename (tmp, rejected);
        fprintf (stderr, "mimamori-stats: verify refused %s (kept as %s): %s\n", path, rejected,
                 err);
        return S_REFUSED;
    }
    if (rename (tmp, path) != 0) {
        fprintf (stderr, "mimamori-stats: cannot rename %s: %s\n", tmp, strerror (errno));
        return S_FAILED;
    }
    fprintf (stderr, "mimamori-stats: %s: %zu rows, verified\n", path, rows);
    return S_OK;
}

typedef struct {
    st_meta_t meta;
    mm_buf_t jsonl, csv;
    size_t rows, suppressed;
    bool failed;
} s_out_t;

static int
s_row (void *arg, const st_row_t *row)
{
    s_out_t *o = (s_out_t *) arg;
    o->rows++;
    o->suppressed += row->suppressed;
    if (st_jsonl_row (&o->meta, row, &o->jsonl) == -1 || st_csv_row (&o->meta, row, &o->csv) == -1)
        return o->failed = true, -1;
    return 0;
}

static int s_top_rows (const s_args_t *a, ag_store_t *store, const ag_registry_t *reg,
                       uint64_t from, uint64_t to, const st_meta_t *meta, mm_buf_t *b);

//  A period's rows (cells, then top indicators when `top` is set) into `jsonl` (and `csv`).
//  S_OK, or an exit code.
static int
s_build (const s_args_t *a, ag_store_t *store, const ag_registry_t *reg, const char *period,
         mm_buf_t *jsonl, mm_buf_t *csv, mm_buf_t *top)
{
    uint64_t from, to;
    const char *kind;
    if (mm_period_parse (period, &from, &to, &kind) == -1)
        return S_USAGE;
    st_table_t *table = st_table_new ();
    st_source_stats_t ss;
    s_out_t out = {.meta = {period, kind, a->level, &a->rules}};
    int rc = S_FAILED;
    if (!table || st_source_read (store, reg, from, to, table, &ss) == -1)
        fprintf (stderr, "mimamori-stats: reading the store failed: %s\n",
                 table ? ag_store_error (store) : "out of memory");
    else if ((csv && st_csv_header (&out.csv) == -1) ||
             st_table_publish (table, &a->rules, period, s_row, &out) == -1)
        fprintf (stderr, "mimamori-stats: %s\n", out.failed ? "out of memory" : "bad rules");
    else {
        fprintf (stderr,
                 "mimamori-stats: %s (%s): %llu findings read, %llu counted (%llu from sensors "
                 "the registry does not know, %llu not counted, %llu written before the "
                 "statistics' format, %llu damaged); %zu cells, %zu rows (%zu suppressed)\n",
                 period, kind, (unsigned long long) ss.records, (unsigned long long) ss.added,
                 (unsigned long long) ss.unregistered, (unsigned long long) ss.not_counted,
                 (unsigned long long) ss.old_format, (unsigned long long) ss.bad,
                 st_table_cells (table), out.rows, out.suppressed);
        rc = S_OK;
        if (mm_buf_append (jsonl, out.jsonl.data, out.jsonl.len) == -1 ||
            (csv && mm_buf_append (csv, out.csv.data, out.csv.len) == -1))
            rc = S_FAILED;
        if (top && rc == S_OK)
            rc = s_top_rows (a, store, reg, from, to, &out.meta, top);
    }
    mm_buf_free (&out.jsonl);
    mm_buf_free (&out.csv);
    st_table_destroy (&table);
    return rc;
}

//  The top indicators (st_top) into a->top, verified.
static int
s_top_rows (const s_args_t *a, ag_store_t *store, const ag_registry_t *reg, uint64_t from,
            uint64_t to, const st_meta_t *meta, mm_buf_t *b)
{
    st_top_row_t *rows = NULL;
    st_top_stats_t ts;
    long n = st_top_read (store, reg, from, to, a->rules.k, 2, 100, &rows, &ts);
    if (n < 0) {
        fprintf (stderr, "mimamori-stats: reading the sightings failed: %s\n",
                 ag_store_error (store));
        return S_FAILED;
    }
    int rc = 0;
    for (long i = 0; i < n && rc == 0; i++)
        rc = st_top_jsonl (meta, &rows[i], b);
    free (rows);
    fprintf (stderr,
             "mimamori-stats: top indicators: %llu groups, %llu seen in the period, %llu seen "
             "by enough companies and providers (%ld listed)\n",
             (unsigned long long) ts.groups, (unsigned long long) ts.in_period,
             (unsigned long long) ts.listed, n);
    if (rc != 0)
        fprintf (stderr, "mimamori-stats: out of memory\n");
    return rc == 0 ? S_OK : S_FAILED;
}

//  The noise's rules from --noise and --secret. S_OK or an exit code.
static int
s_noise (s_args_t *a, uint8_t secret[ST_NOISE_KEY_LEN])
{
    if (!a->noise)
        return S_OK;
    unsigned num, den;
    char end, err[512];
    if (sscanf (a->noise, "%u/%u%c", &num, &den, &end) != 2 || !num || !den || !a->secret) {
        fprintf (stderr, "mimamori-stats: --noise takes NUM/DEN (e.g. 1/2) and needs "
                         "--secret FILE\n");
        return S_USAGE;
    }
    if (st_noise_secret (a->secret, secret, err, sizeof err) == -1) {
        fprintf (stderr, "mimamori-stats: %s\n", err);
        return S_FAILED;
    }
    a->rules.eps_num = num, a->rules.eps_den = den, a->rules.secret = secret;
    return S_OK;
}

//  The registry and the store (read-only). S_OK or S_FAILED (said why).
static int
s_open (const s_args_t *a, ag_registry_t **reg, ag_store_t **store)
{
    char err[4096];
    size_t n_errors = 0;
    *reg = ag_registry_load (a->registry, err, sizeof err, &n_errors);
    if (!*reg) {
        fprintf (stderr, "mimamori-stats: the registry %s does not load:\n%s\n", a->registry, err);
        return S_FAILED;
    }
    *store = ag_store_open_readonly (a->store, err, sizeof err);
    if (!*store) {
        fprintf (stderr, "mimamori-stats: the store %s does not open: %s\n", a->store, err);
        ag_registry_destroy (reg);
        return S_FAILED;
    }
    return S_OK;
}

//  --check-config: what `table` or `serve` would read and use, looked at. 0, or 2.
static int
s_check (const s_args_t *a, const char *cmd)
{
    mm_check_t c = {stdout, 0};
    printf ("mimamori-stats %s: what its flags name:\n", cmd);
    if (!a->registry)
        mm_check_fix (&c, "-r REGISTRY", "not given (the aggregator's [registry] path)");
    else {
        char err[4096];
        size_t n_errors = 0;
        ag_registry_t *reg = ag_registry_load (a->registry, err, sizeof err, &n_errors);
        if (reg)
            mm_check_ok (&c, "-r REGISTRY", "%s: %zu providers, %zu companies", a->registry,
                         ag_registry_providers (reg), ag_registry_orgs (reg));
        else
            mm_check_fix (&c, "-r REGISTRY", "%s does not load:\n%s", a->registry, err);
        ag_registry_destroy (&reg);
    }
    char err[512];
    ag_store_t *store = ag_store_open_readonly (a->store, err, sizeof err);
    if (store)
        mm_check_ok (&c, "-s STORE", "%s (opens read-only)", a->store);
    else
        mm_check_fix (&c, "-s STORE", "%s", err);
    ag_store_destroy (&store);
    if (strcmp (cmd, "serve") == 0) {
        if (a->bind)
            mm_check_endpoint (&c, "--bind", a->bind);
        else
            mm_check_fix (&c, "--bind", "not given (where subscribers connect)");
        mm_check_cert (&c, "--cert", a->cert ? a->cert : "", true, MM_ROLE_NONE);
        mm_check_cert_dir (&c, "--allow", a->allow ? a->allow : "");
        mm_check_listen (&c, "--metrics", a->metrics ? a->metrics : "");
    }
    if (a->noise)
        mm_check_file (&c, "--secret", a->secret ? a->secret : "", false);
    return mm_check_done (&c, "mimamori-stats", "its flags");
}

static int
s_table (s_args_t *a)
{
    uint64_t from, to;
    const char *kind;
    if (!a->registry || !a->period || (!a->jsonl && !a->csv && !a->top)) {
        fprintf (stderr, "mimamori-stats: table needs -r REGISTRY, --period and --jsonl, --csv "
                         "or --top\n");
        return S_USAGE;
    }
    if (mm_period_parse (a->period, &from, &to, &kind) == -1) {
        fprintf (stderr, "mimamori-stats: '%s' is not a period (2026-W47 or 2026-11-18)\n",
                 a->period);
        return S_USAGE;
    }
    //  A week minus six published days gives back the seventh's suppressed cells: the council
    //  gets weeks; days are a provider's own.
    if (strcmp (kind, "day") == 0 && strcmp (a->level, "council") == 0) {
        fprintf (stderr, "mimamori-stats: a day's table is for --level provider only: with its "
                         "week and the other days published, its suppressed cells could be "
                         "recovered by subtraction\n");
        return S_USAGE;
    }
    uint8_t secret[ST_NOISE_KEY_LEN];
    int rc = s_noise (a, secret);
    ag_registry_t *reg = NULL;
    ag_store_t *store = NULL;
    if (rc == S_OK)
        rc = s_open (a, &reg, &store);
    mm_buf_t jsonl = {0}, csv = {0}, top = {0};
    if (rc == S_OK)
        rc = s_build (a, store, reg, a->period, &jsonl, &csv, a->top ? &top : NULL);
    if (rc == S_OK && a->jsonl)
        rc = s_publish_file (a->jsonl, &jsonl, &a->policy);
    if (rc == S_OK && a->csv)
        rc = s_publish_file (a->csv, &csv, &a->policy);
    if (rc == S_OK && a->top)
        rc = s_publish_file (a->top, &top, &a->policy);
    mm_buf_free (&jsonl);
    mm_buf_free (&csv);
    mm_buf_free (&top);
    ag_store_destroy (&store);
    ag_registry_destroy (&reg);
    return rc;
}

//  The last complete week's rows (Asia/Tokyo), verified, into `rows`. Only a complete period:
//  one published again with more findings would give away, by difference, the findings added
//  in between (the noise is the same for the same cell). No days: a week minus six published
//  days would give back the seventh's suppressed cells (no suppression spans periods yet).
//  S_OK or an exit code.
static int
s_current (const s_args_t *a, mm_buf_t *rows)
{
    ag_registry_t *reg = NULL;
    ag_store_t *store = NULL;
    int rc = s_open (a, &reg, &store);
    char week[16];
    mm_period_week_of ((uint64_t) (time (NULL) - 7 * 86400) * 1000000000ull, week, sizeof week);
    const char *periods[1] = {week};
    for (int i = 0; i < 1 && rc == S_OK; i++) {
        mm_buf_t part = {0}, top = {0};
        rc = s_build (a, store, reg, periods[i], &part, NULL, &top);
        if (rc == S_OK && (mm_buf_append (&part, top.data, top.len) == -1 ||
                           mm_buf_append (rows, part.data, part.len) == -1))
            rc = S_FAILED;
        mm_buf_free (&part);
        mm_buf_free (&top);
    }
    char err[512];
    if (rc == S_OK && st_verify_buffer ("feed", (const char *) rows->data, rows->len, &a->policy,
                                        NULL, err, sizeof err) == -1) {
        fprintf (stderr, "mimamori-stats: verify refused the feed's rows, not published: %s\n",
                 err);
        rc = S_REFUSED;
    }
    ag_store_destroy (&store);
    ag_registry_destroy (&reg);
    return rc;
}

//  The feed's figures as Prometheus text (serve --metrics).
static void
s_metrics (st_feed_t *feed, uint64_t rows, uint64_t failed, mm_buf_t *out)
{
    st_feed_stats_t fs;
    st_feed_stats (feed, &fs);
    mm_buf_clear (out);
    mm_prom_t p = {out, false};
    mm_prom_gauge (&p, "mimamori_stats_subscribers", "Feed subscribers known now.",
                   (double) fs.subscribers);
    mm_prom_counter (&p, "mimamori_stats_publications_total", "Tables published on the feed.",
                     fs.publications);
    mm_prom_gauge (&p, "mimamori_stats_rows", "Rows of the current publication.", (double) rows);
    mm_prom_counter (&p, "mimamori_stats_frames_sent_total", "Rows sent to subscribers.",
                     fs.frames_sent);
    mm_prom_counter (&p, "mimamori_stats_send_errors_total",
                     "Rows a subscriber could not take (it gets all at its next hello).",
                     fs.send_errors);
    mm_prom_counter (&p, "mimamori_stats_failed_total",
                     "Tables not published: the store unreadable or verify refused them.", failed);
    if (mm_prom_failed (&p))
        mm_buf_clear (out);
}

static int
s_serve (s_args_t *a)
{
    if (!a->registry || !a->bind || !a->cert || !a->allow) {
        fprintf (stderr, "mimamori-stats: serve needs -r REGISTRY, --bind, --cert and --allow\n");
        return S_USAGE;
    }
    //  Every subscriber gets the same rows: the council's, at the default policy or stricter.
    st_policy_t strict;
    st_policy_default (&strict);
    if (strcmp (a->level, "council") != 0 || a->rules.k < strict.k) {
        fprintf (stderr,
                 "mimamori-stats: serve publishes council tables only (no --level "
                 "provider, --k at least %u)\n",
                 strict.k);
        return S_USAGE;
    }
    uint8_t secret[ST_NOISE_KEY_LEN];
    int rc = s_noise (a, secret);
    if (rc != S_OK)
        return rc;
    char err[512];
    mm_cert_t *cert = mm_cert_load (a->cert, err, sizeof err);
    if (!cert) {
        fprintf (stderr, "mimamori-stats: %s\n", err);
        return S_FAILED;
    }
    if (mm_daemon_stop_signals () == -1) {
        mm_cert_destroy (&cert);
        return S_FAILED;
    }
    mm_curve_auth_t *auth = mm_curve_auth_new ();
    st_feed_t *feed = auth ? st_feed_new (auth, cert, a->bind, a->allow, a->revoke) : NULL;
    mm_cert_destroy (&cert);
    if (!feed) {
        mm_curve_auth_destroy (&auth);
        return S_FAILED;
    }
    bool metrics_failed;  //  said, not fatal: the feed matters more
    mm_httpd_t *http =
        mm_prom_listen ("mimamori-stats", a->metrics ? a->metrics : "", &metrics_failed);
    //  Tests and supervisors read the bound endpoint from this line (the port may be "*").
    fprintf (stderr, "mimamori-stats: listening on %s\n", st_feed_endpoint (feed));
    int64_t next = 0, next_metrics = 0;
    uint64_t published_rows = 0, failed = 0;
    mm_buf_t metrics = MM_BUF_INIT;
    while (!mm_daemon_stopping ()) {
        if (zclock_mono () >= next) {
            next = zclock_mono () + (int64_t) a->every_s * 1000;
            mm_buf_t rows = {0};
            if (s_current (a, &rows) == S_OK && st_feed_publish (feed, rows.data, rows.len) == 0) {
                fprintf (stderr, "mimamori-stats: published %zu bytes of rows\n", rows.len);
                published_rows = 0;
                for (size_t i = 0; i < rows.len; i++)
                    published_rows += rows.data[i] == '\n';
            }
            else
                failed++;
            mm_buf_free (&rows);
        }
        st_feed_run_once (feed, 200);
        if (http && zclock_mono () >= next_metrics) {
            s_metrics (feed, published_rows, failed, &metrics);
            mm_prom_publish (http, &metrics);
            next_metrics = zclock_mono () + MM_PROM_INTERVAL_MS;
        }
    }
    mm_httpd_destroy (&http);
    mm_buf_free (&metrics);
    st_feed_stats_t fs;
    st_feed_stats (feed, &fs);
    fprintf (stderr,
             "mimamori-stats: feed: %llu publications, %llu subscribers now, %llu hellos, %llu "
             "frames sent, %llu send errors\n",
             (unsigned long long) fs.publications, (unsigned long long) fs.subscribers,
             (unsigned long long) fs.hellos, (unsigned long long) fs.frames_sent,
             (unsigned long long) fs.send_errors);
    st_feed_destroy (&feed);
    mm_curve_auth_destroy (&auth);
    return S_OK;
}

static int
s_verify (const s_args_t *a, int argc, char **argv)
{
    if (argc == 0) {
        fprintf (stderr, "mimamori-stats: verify needs a FILE\n");
        return S_USAGE;
    }
    int rc = S_OK;
    for (int i = 0; i < argc; i++) {
        char err[512];
        size_t rows = 0;
        if (st_verify_file (argv[i], &a->policy, &rows, err, sizeof err) == -1) {
            fprintf (stderr, "mimamori-stats: REFUSED %s\n", err);
            rc = S_REFUSED;
        }
        else
            printf ("%s: %zu rows, every rule holds\n", argv[i], rows);
    }
    return rc;
}

int
main (int argc, char **argv)
{
    s_args_t a = {.store = S_DEFAULT_STORE, .level = "council", .every_s = 3600};
    st_rules_default (&a.rules);
    st_policy_default (&a.policy);
    static const struct option opts[] = {{"store", required_argument, NULL, 's'},
                                         {"registry", required_argument, NULL, 'r'},
                                         {"period", required_argument, NULL, 'p'},
                                         {"level", required_argument, NULL, 'l'},
                                         {"jsonl", required_argument, NULL, 'j'},
                                         {"csv", required_argument, NULL, 'c'},
                                         {"top", required_argument, NULL, 't'},
                                         {"k", required_argument, NULL, 'k'},
                                         {"clip", required_argument, NULL, 'C'},
                                         {"noise", required_argument, NULL, 'n'},
                                         {"secret", required_argument, NULL, 'S'},
                                         {"version", no_argument, NULL, 'V'},
                                         {"bind", required_argument, NULL, 'b'},
                                         {"cert", required_argument, NULL, 'e'},
                                         {"allow", required_argument, NULL, 'a'},
                                         {"revoke", required_argument, NULL, 'R'},
                                         {"every", required_argument, NULL, 'E'},
                                         {"metrics", required_argument, NULL, 'M'},
                                         {"check-config", no_argument, NULL, 'K'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long (argc, argv, "s:r:Vh", opts, NULL)) != -1) {
        switch (c) {
        case 's': a.store = optarg; break;
        case 'r': a.registry = optarg; break;
        case 'p': a.period = optarg; break;
        case 'j': a.jsonl = optarg; break;
        case 'c': a.csv = optarg; break;
        case 't': a.top = optarg; break;
        case 'b': a.bind = optarg; break;
        case 'e': a.cert = optarg; break;
        case 'a': a.allow = optarg; break;
        case 'R': a.revoke = optarg; break;
        case 'M': a.metrics = optarg; break;
        case 'K': a.check = true; break;
        case 'E':
            if (s_number (optarg, 1, 86400 * 7, &a.every_s) == -1) {
                fprintf (stderr, "mimamori-stats: --every takes seconds, 1 to 604800\n");
                return S_USAGE;
            }
            break;
        case 'n': a.noise = optarg; break;
        case 'S': a.secret = optarg; break;
        case 'l':
            if (strcmp (optarg, "council") != 0 && strcmp (optarg, "provider") != 0) {
                fprintf (stderr, "mimamori-stats: --level is council or provider\n");
                return S_USAGE;
            }
            a.level = optarg;
            break;
        case 'k':
        case 'C': {
            uint32_t v;
            if (s_number (optarg, 1, 1000000, &v) == -1) {
                fprintf (stderr, "mimamori-stats: --%s takes a number from 1\n",
                         c == 'k' ? "k" : "clip");
                return S_USAGE;
            }
            if (c == 'k')
                a.rules.k = a.policy.k = v;
            else
                a.rules.clip = v;
            break;
        }
        case 'V': printf ("mimamori-stats %s\n", MIMAMORI_VERSION); return S_OK;
        case 'h': s_usage (stdout); return S_OK;
        default: s_usage (stderr); return S_USAGE;
        }
    }
    //  A provider's own tables may show one provider; the council's never.
    a.rules.min_providers = strcmp (a.level, "provider") == 0 ? 1 : 2;
    if (optind >= argc) {
        s_usage (stderr);
        return S_USAGE;
    }
    const char *cmd = argv[optind++];
    if (a.check && (strcmp (cmd, "table") == 0 || strcmp (cmd, "serve") == 0) && optind == argc)
        return s_check (&a, cmd);
    if (strcmp (cmd, "table") == 0 && optind == argc)
        return s_table (&a);
    if (strcmp (cmd, "verify") == 0)
        return s_verify (&a, argc - optind, argv + optind);
    if (strcmp (cmd, "serve") == 0 && optind == argc)
        return s_serve (&a);
    s_usage (stderr);
    return S_USAGE;
}
