/*  mimamori: the centre operators' tool over the aggregator's store: what was seen of an
    indicator, an org's timeline, the warnings, and exports (STIX 2.1, JSON Lines) for SIEMs.
    Opens the store read-only, so it runs beside mimamori-aggregator. main() only reads the
    command line; ag_query does the work. Owner: aggregator/. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ag_query.h"
#include "ag_report.h"
#include "mm_check.h"
#include "mm_proto.h"

#ifndef MIMAMORI_VERSION
#define MIMAMORI_VERSION "0.0.0"
#endif

#define S_DEFAULT_STORE "/var/lib/mimamori/aggregator"

//  Exit codes (documented in --help and docs/correlation.md).
enum { S_OK = 0, S_NOTHING = 1, S_USAGE = 2 };

typedef struct {
    const char *store, *registry, *psl;
    const char *type, *since, *until, *stix, *jsonl;
    const char *org, *week, *output;
    bool active, json, check;
    const char *words[4];
    int n_words;
} s_args_t;

static void
s_usage (FILE *out)
{
    fprintf (
        out,
        "Usage: mimamori [-s STORE] COMMAND ...\n"
        "Reads the store of mimamori-aggregator (read-only; works while it runs).\n"
        "\n"
        "  query indicator VALUE [--type TYPE]\n"
        "      the sightings of VALUE's group (its /24 or /48, registered domain, or itself),\n"
        "      one JSON line per episode, with the orgs that saw it; TYPE is one of ip, cidr,\n"
        "      domain, url, ja3, ja4, sha1, sha256 (guessed when absent)\n"
        "  query org ID [--since TIME] [--until TIME]\n"
        "      the org's findings and the warnings it received, in time order, one JSON\n"
        "      line each; TIME is YYYY-MM-DD (midnight UTC) or RFC 3339; since <= t < until\n"
        "  warnings [--active] [--json]\n"
        "      every warning (--active: not revoked and still valid), a table or JSON lines\n"
        "  export [--stix FILE|-] [--jsonl FILE|-] [-r REGISTRY]\n"
        "      the active warnings and their sightings as a STIX 2.1 bundle and/or JSON\n"
        "      Lines, without org ids; --jsonl counts providers with the registry (-r)\n"
        "  report --org ID --week YYYY-Www -r REGISTRY [-o FILE]\n"
        "      the company's weekly report (週次レポート) in plain Japanese, one HTML page\n"
        "      (print it, or turn it into PDF: docs/operations.md); the week in Japan's time\n"
        "\n"
        "Options:\n"
        "  -s, --store DIR       the aggregator's [store] path (default " S_DEFAULT_STORE ")\n"
        "  -r, --registry FILE   the aggregator's [registry] path (export --jsonl, report)\n"
        "  -o, --output FILE     where the report goes (default: stdout)\n"
        "      --check-config    look at the store, the registry and the PSL given, say\n"
        "                        what is wrong, run nothing\n"
        "      --psl FILE        the Public Suffix List (default " AG_PSL_DEFAULT_PATH ")\n"
        "  -V, --version         print the version\n"
        "  -h, --help            print this help\n"
        "\n"
        "Exit status: 0 ok; 1 nothing found, or the store (registry, PSL) cannot be read;\n"
        "2 a usage error. An export with no active warning is an empty bundle (0).\n");
}

static int s_usage_error (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

static int
s_usage_error (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    fprintf (stderr, "mimamori: ");
    vfprintf (stderr, fmt, ap);
    fprintf (stderr, "\nTry 'mimamori --help'.\n");
    va_end (ap);
    return S_USAGE;
}

//  Fills `a` from the command line. -1 to go on, else the exit code.
static int
s_parse (int argc, char **argv, s_args_t *a)
{
    enum {
        O_PSL = 256,
        O_TYPE,
        O_SINCE,
        O_UNTIL,
        O_ACTIVE,
        O_JSON,
        O_STIX,
        O_JSONL,
        O_ORG,
        O_WEEK,
        O_CHECK
    };
    static const struct option options[] = {
        {"store", required_argument, NULL, 's'},
        {"registry", required_argument, NULL, 'r'},
        {"psl", required_argument, NULL, O_PSL},
        {"type", required_argument, NULL, O_TYPE},
        {"since", required_argument, NULL, O_SINCE},
        {"until", required_argument, NULL, O_UNTIL},
        {"active", no_argument, NULL, O_ACTIVE},
        {"json", no_argument, NULL, O_JSON},
        {"stix", required_argument, NULL, O_STIX},
        {"jsonl", required_argument, NULL, O_JSONL},
        {"org", required_argument, NULL, O_ORG},
        {"week", required_argument, NULL, O_WEEK},
        {"output", required_argument, NULL, 'o'},
        {"check-config", no_argument, NULL, O_CHECK},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset (a, 0, sizeof *a);
    a->store = S_DEFAULT_STORE;
    a->psl = AG_PSL_DEFAULT_PATH;
    opterr = 0;
    int opt;
    //  Options may come before or after the command words (getopt_long permutes).
    while ((opt = getopt_long (argc, argv, ":s:r:o:Vh", options, NULL)) != -1) {
        switch (opt) {
        case 's': a->store = optarg; break;
        case 'r': a->registry = optarg; break;
        case O_PSL: a->psl = optarg; break;
        case O_TYPE: a->type = optarg; break;
        case O_SINCE: a->since = optarg; break;
        case O_UNTIL: a->until = optarg; break;
        case O_ACTIVE: a->active = true; break;
        case O_JSON: a->json = true; break;
        case O_STIX: a->stix = optarg; break;
        case O_JSONL: a->jsonl = optarg; break;
        case O_ORG: a->org = optarg; break;
        case O_WEEK: a->week = optarg; break;
        case 'o': a->output = optarg; break;
        case O_CHECK: a->check = true; break;
        case 'V': printf ("mimamori %s\n", MIMAMORI_VERSION); return S_OK;
        case 'h': s_usage (stdout); return S_OK;
        case ':': return s_usage_error ("'%s' needs a value", argv[optind - 1]);
        default: return s_usage_error ("unknown option '%s'", argv[optind - 1]);
        }
    }
    for (int i = optind; i < argc; i++) {
        if (a->n_words == 4)
            return s_usage_error ("unexpected argument '%s'", argv[i]);
        a->words[a->n_words++] = argv[i];
    }
    if (a->n_words == 0 && !a->check)
        return s_usage_error ("%s", "a command is needed: query, warnings, export or report");
    return -1;
}

//  The options a command does not take are mistakes worth pointing out.
static int
s_only (const s_args_t *a, const char *cmd, bool type, bool range, bool list, bool export)
{
    const char *bad = !type && a->type                   ? "--type"
                      : !range && (a->since || a->until) ? "--since/--until"
                      : !list && (a->active || a->json)  ? "--active/--json"
                      : !export && (a->stix || a->jsonl) ? "--stix/--jsonl"
                                                         : NULL;
    if (!bad)
        return -1;
    fprintf (stderr, "mimamori: %s does not apply to '%s'\nTry 'mimamori --help'.\n", bad, cmd);
    return S_USAGE;
}

static ag_query_t *
s_open (const s_args_t *a)
{
    char err[1024];
    ag_query_t *q = ag_query_new (a->store, err, sizeof err);
    if (!q)
        fprintf (stderr,
                 "mimamori: cannot open the store %s read-only: %s\n"
                 "(give the aggregator's [store] path with -s DIR)\n",
                 a->store, err);
    return q;
}

//  What did not parse or is gone, so nobody takes a short answer for the whole truth.
static void
s_report (const ag_query_t *q)
{
    ag_query_stats_t st;
    ag_query_stats (q, &st);
    if (st.bad)
        fprintf (stderr,
                 "mimamori: %llu record%s did not parse and %s skipped (a damaged store, or "
                 "records of a newer version)\n",
                 (unsigned long long) st.bad, st.bad == 1 ? "" : "s", st.bad == 1 ? "was" : "were");
    if (st.missing)
        fprintf (stderr, "mimamori: %llu finding%s whose event is no longer stored (expired)\n",
                 (unsigned long long) st.missing, st.missing == 1 ? "" : "s");
    if (st.no_sight)
        fprintf (stderr, "mimamori: %llu active warning%s without a sighting record\n",
                 (unsigned long long) st.no_sight, st.no_sight == 1 ? "" : "s");
}

static int
s_query_indicator (const s_args_t *a)
{
    if (a->n_words != 3)
        return s_usage_error ("%s", "usage: mimamori query indicator VALUE [--type TYPE]");
    const char *value = a->words[2];
    uint8_t type = a->type ? ag_query_type_by_name (a->type) : ag_query_guess_type (value);
    if (!type)
        return s_usage_error ("unknown --type '%s' (ip, cidr, domain, url, ja3, ja4, sha1, sha256)",
                              a->type);
    ag_psl_t *psl = NULL;
    char err[1024];
    if (type == MM_IOC_DOMAIN || type == MM_IOC_URL) {
        if (!(psl = ag_psl_load (a->psl, err, sizeof err))) {
            fprintf (stderr,
                     "mimamori: the Public Suffix List %s does not load: %s\n"
                     "(install Debian's publicsuffix package, or give the list with --psl FILE)\n",
                     a->psl, err);
            return S_NOTHING;
        }
    }
    ag_query_t *q = s_open (a);
    int rc = S_NOTHING;
    if (q) {
        ag_query_set_psl (q, psl);
        int64_t n = ag_query_indicator (q, type, value, stdout, err, sizeof err);
        if (n == -2)
            rc = s_usage_error ("%s", err);
        else if (n < 0)
            fprintf (stderr, "mimamori: %s\n", ag_query_error (q));
        else if (n == 0)
            fprintf (stderr, "mimamori: no sightings of %s's group in %s\n", value, a->store);
        else
            rc = S_OK;
        s_report (q);
    }
    ag_query_destroy (&q);
    ag_psl_destroy (&psl);
    return rc;
}

static int
s_time_arg (const char *name, const char *text, uint64_t *ns)
{
    if (!text)
        return 0;
    if (ag_query_parse_time (text, ns) == -1) {
        fprintf (stderr,
                 "mimamori: %s '%s' is not a time: give YYYY-MM-DD (UTC) or RFC 3339, e.g. "
                 "2026-11-19T10:00:00Z or 2026-11-19T19:00:00+09:00\n",
                 name, text);
        return -1;
    }
    return 0;
}

static int
s_query_org (const s_args_t *a)
{
    if (a->n_words != 3)
        return s_usage_error ("%s", "usage: mimamori query org ID [--since TIME] [--until TIME]");
    uint64_t since = 0, until = 0;
    if (s_time_arg ("--since", a->since, &since) == -1 ||
        s_time_arg ("--until", a->until, &until) == -1)
        return S_USAGE;
    if (a->until && until <= since)
        return s_usage_error ("--until '%s' is not after --since", a->until);
    size_t len = strlen (a->words[2]);
    if (len == 0 || len > MM_ID_MAX)
        return s_usage_error ("an org id has 1 to 64 characters: '%s'", a->words[2]);
    ag_query_t *q = s_open (a);
    int rc = S_NOTHING;
    if (q) {
        int64_t n = ag_query_org (q, a->words[2], since, until, stdout);
        if (n < 0)
            fprintf (stderr, "mimamori: %s\n", ag_query_error (q));
        else if (n == 0)
            fprintf (stderr, "mimamori: nothing in the timeline of %s%s\n", a->words[2],
                     a->since || a->until ? " in that time range" : "");
        else
            rc = S_OK;
        s_report (q);
    }
    ag_query_destroy (&q);
    return rc;
}

static int
s_warnings (const s_args_t *a)
{
    if (a->n_words != 1)
        return s_usage_error ("unexpected argument '%s'", a->words[1]);
    ag_query_t *q = s_open (a);
    int rc = S_NOTHING;
    if (q) {
        int64_t n = ag_query_warnings (q, a->active, a->json, stdout);
        if (n < 0)
            fprintf (stderr, "mimamori: %s\n", ag_query_error (q));
        else if (n == 0)
            fprintf (stderr, "mimamori: no %swarnings in %s\n", a->active ? "active " : "",
                     a->store);
        else
            rc = S_OK;
        s_report (q);
    }
    ag_query_destroy (&q);
    return rc;
}

//  One export into `path` ("-": stdout). A file is written beside its place and renamed into
//  it, so a SIEM polling the path never reads half a bundle.
static int
s_export_one (ag_query_t *q, const ag_registry_t *reg, bool stix, const char *path)
{
    char tmp[4096];
    FILE *out = stdout;
    if (strcmp (path, "-") != 0) {
        snprintf (tmp, sizeof tmp, "%s.tmp", path);
        if (!(out = fopen (tmp, "w"))) {
            fprintf (stderr, "mimamori: cannot write %s: %s\n", tmp, strerror (errno));
            return -1;
        }
    }
    int64_t n = stix ? ag_query_export_stix (q, out) : ag_query_export_jsonl (q, reg, out);
    int rc = n < 0 ? -1 : 0;
    if (n < 0)
        fprintf (stderr, "mimamori: %s\n", ag_query_error (q));
    if (out == stdout) {
        if (fflush (out) != 0)
            rc = -1;
        return rc;
    }
    if (fclose (out) != 0 && rc == 0) {
        fprintf (stderr, "mimamori: cannot write %s: %s\n", tmp, strerror (errno));
        rc = -1;
    }
    if (rc == 0 && rename (tmp, path) != 0) {
        fprintf (stderr, "mimamori: cannot rename %s to %s: %s\n", tmp, path, strerror (errno));
        rc = -1;
    }
    if (rc != 0)
        remove (tmp);
    else
        fprintf (stderr, "mimamori: %lld active warnings exported to %s\n", (long long) n, path);
    return rc;
}

static int
s_export (const s_args_t *a)
{
    if (a->n_words != 1)
        return s_usage_error ("unexpected argument '%s'", a->words[1]);
    if (!a->stix && !a->jsonl)
        return s_usage_error ("%s", "export needs --stix FILE and/or --jsonl FILE ('-': stdout)");
    if (a->stix && a->jsonl && strcmp (a->stix, "-") == 0 && strcmp (a->jsonl, "-") == 0)
        return s_usage_error ("%s", "only one of --stix and --jsonl can go to stdout");
    if (a->jsonl && !a->registry)
        return s_usage_error ("%s", "export --jsonl counts providers: give the registry with -r "
                                    "FILE (the aggregator's [registry] path)");
    ag_registry_t *reg = NULL;
    if (a->jsonl) {
        char err[4096];
        size_t n_errors = 0;
        if (!(reg = ag_registry_load (a->registry, err, sizeof err, &n_errors))) {
            fprintf (stderr, "mimamori: the registry %s does not load:\n%s\n", a->registry, err);
            return S_NOTHING;
        }
    }
    ag_query_t *q = s_open (a);
    int rc = S_NOTHING;
    if (q) {
        rc = S_OK;
        if (a->stix && s_export_one (q, reg, true, a->stix) == -1)
            rc = S_NOTHING;
        if (rc == S_OK && a->jsonl && s_export_one (q, reg, false, a->jsonl) == -1)
            rc = S_NOTHING;
        s_report (q);
    }
    ag_query_destroy (&q);
    ag_registry_destroy (&reg);
    return rc;
}

//  Writes `len` bytes to `path` through a temporary file renamed into place. 0, or -1.
static int
s_write_file (const char *path, const void *data, size_t len)
{
    char tmp[4096];
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen (tmp, "w");
    if (!f) {
        fprintf (stderr, "mimamori: cannot write %s: %s\n", tmp, strerror (errno));
        return -1;
    }
    bool ok = fwrite (data, 1, len, f) == len;
    ok = fclose (f) == 0 && ok;
    if (!ok || rename (tmp, path) != 0) {
        fprintf (stderr, "mimamori: cannot write %s: %s\n", path, strerror (errno));
        remove (tmp);
        return -1;
    }
    return 0;
}

static int
s_report_cmd (const s_args_t *a)
{
    if (a->n_words != 1)
        return s_usage_error ("unexpected argument '%s'", a->words[1]);
    if (a->type || a->since || a->until || a->active || a->json || a->stix || a->jsonl)
        return s_usage_error ("%s", "report takes --org, --week, -r and -o only");
    if (!a->org || !a->week || !a->registry)
        return s_usage_error ("%s", "report needs --org ID, --week YYYY-Www (e.g. 2026-W47) and "
                                    "-r REGISTRY");
    uint64_t since, until;
    if (ag_report_week (a->week, &since, &until) == -1)
        return s_usage_error ("'%s' is not an ISO week: YYYY-Www, e.g. 2026-W47", a->week);
    char err[4096];
    size_t n_errors = 0;
    ag_registry_t *reg = ag_registry_load (a->registry, err, sizeof err, &n_errors);
    if (!reg) {
        fprintf (stderr, "mimamori: the registry %s does not load:\n%s\n", a->registry, err);
        return S_NOTHING;
    }
    int32_t org = ag_registry_org_index (reg, a->org);
    if (org < 0) {
        fprintf (stderr, "mimamori: no company '%s' in %s\n", a->org, a->registry);
        ag_registry_destroy (&reg);
        return S_NOTHING;
    }
    ag_query_t *q = s_open (a);
    ag_report_t *report = q ? ag_report_new (reg, (uint32_t) org, a->week, since, until,
                                             (uint64_t) time (NULL) * (uint64_t) 1000000000)
                            : NULL;
    mm_buf_t page = MM_BUF_INIT;
    int rc = S_NOTHING;
    //  From 30 days before the week: a silence still open when the week began started earlier.
    uint64_t lookback =
        since > 30ull * 86400 * 1000000000ull ? since - 30ull * 86400 * 1000000000ull : 0;
    if (report && ag_query_org_each (q, a->org, lookback, until, ag_report_take, report) >= 0 &&
        ag_report_html (report, &page) == 0) {
        if (!a->output || strcmp (a->output, "-") == 0)
            rc = fwrite (page.data, 1, page.len, stdout) == page.len ? S_OK : S_NOTHING;
        else if (s_write_file (a->output, page.data, page.len) == 0) {
            fprintf (stderr, "mimamori: weekly report of %s for %s written to %s\n", a->org,
                     a->week, a->output);
            rc = S_OK;
        }
    }
    else if (q)
        fprintf (stderr, "mimamori: %s\n",
                 ag_query_error (q)[0] ? ag_query_error (q) : "out of memory");
    if (report && ag_report_bad (report))
        fprintf (stderr, "mimamori: %llu timeline items did not decode (left out)\n",
                 (unsigned long long) ag_report_bad (report));
    if (q)
        s_report (q);
    mm_buf_free (&page);
    ag_report_destroy (&report);
    ag_query_destroy (&q);
    ag_registry_destroy (&reg);
    return rc;
}

//  Runs the command the words name; its exit code.
static int
s_run (const s_args_t *a)
{
    const char *cmd = a->words[0];
    bool query = strcmp (cmd, "query") == 0;
    if (query && a->n_words >= 2 && strcmp (a->words[1], "indicator") == 0)
        return s_only (a, "query indicator", true, false, false, false) == -1
                   ? s_query_indicator (a)
                   : S_USAGE;
    if (query && a->n_words >= 2 && strcmp (a->words[1], "org") == 0)
        return s_only (a, "query org", false, true, false, false) == -1 ? s_query_org (a) : S_USAGE;
    if (query)
        return s_usage_error ("%s", "query what? 'query indicator VALUE' or 'query org ID'");
    if (strcmp (cmd, "warnings") == 0)
        return s_only (a, cmd, false, false, true, false) == -1 ? s_warnings (a) : S_USAGE;
    if (strcmp (cmd, "export") == 0)
        return s_only (a, cmd, false, false, false, true) == -1 ? s_export (a) : S_USAGE;
    if (strcmp (cmd, "report") == 0)
        return s_report_cmd (a);
    if (a->org || a->week || a->output)
        return s_usage_error ("%s", "--org, --week and -o are for report");
    return s_usage_error ("unknown command '%s' (query, warnings, export, report)", cmd);
}

//  --check-config: the store, the registry and the PSL it would read. 0, or 2.
static int
s_check (const s_args_t *a)
{
    mm_check_t c = {stdout, 0};
    printf ("mimamori: what its flags name:\n");
    char err[4096];
    ag_store_t *store = ag_store_open_readonly (a->store, err, sizeof err);
    if (store)
        mm_check_ok (&c, "-s STORE", "%s (opens read-only)", a->store);
    else
        mm_check_fix (&c, "-s STORE", "%s", err);
    ag_store_destroy (&store);
    if (a->registry) {
        size_t n_errors = 0;
        ag_registry_t *reg = ag_registry_load (a->registry, err, sizeof err, &n_errors);
        if (reg)
            mm_check_ok (&c, "-r REGISTRY", "%s: %zu companies", a->registry,
                         ag_registry_orgs (reg));
        else
            mm_check_fix (&c, "-r REGISTRY", "%s does not load:\n%s", a->registry, err);
        ag_registry_destroy (&reg);
    }
    mm_check_file (&c, "--psl", a->psl, false);
    return mm_check_done (&c, "mimamori", "its flags");
}

int
main (int argc, char **argv)
{
    s_args_t a;
    int rc = s_parse (argc, argv, &a);
    if (rc < 0)
        rc = a.check ? s_check (&a) : s_run (&a);
    //  Output that did not reach its reader (a full disk, a closed pipe) is a failure too.
    if (fflush (stdout) != 0 || ferror (stdout)) {
        fprintf (stderr, "mimamori: cannot write the output: %s\n", strerror (errno));
        return rc == S_USAGE ? rc : S_NOTHING;
    }
    return rc;
}
