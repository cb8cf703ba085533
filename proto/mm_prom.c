/*  mm_prom: Prometheus text exposition (see mm_prom.h). */
#include "mm_prom.h"

#include "mm_log.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

bool
mm_prom_name_ok (const char *name)
{
    if (!name || !(isalpha ((unsigned char) name[0]) || name[0] == '_' || name[0] == ':'))
        return false;
    for (const char *c = name; *c; c++)
        if (!(isalnum ((unsigned char) *c) || *c == '_' || *c == ':'))
            return false;
    return true;
}

//  Label values are the code's own words: a lower-case letter, then letters, digits, '_' or
//  '-'. A backstop, not a proof: it refuses addresses (digits first, dots, colons), host
//  names (dots) and free text (spaces, capitals, non-ASCII), but an id like "org-01" has the
//  shape of a word, so callers pass constants only (reasons, rules, states, severities).
static bool
s_value_ok (const char *value)
{
    if (!islower ((unsigned char) value[0]) || strlen (value) > 32)
        return false;
    for (const char *c = value; *c; c++)
        if (!(islower ((unsigned char) *c) || isdigit ((unsigned char) *c) || *c == '_' ||
              *c == '-'))
            return false;
    return true;
}

static void
s_check (mm_prom_t *p, int rc)
{
    if (rc != 0)
        p->failed = true;
}

void
mm_prom_family (mm_prom_t *p, const char *name, const char *type, const char *help)
{
    if (!mm_prom_name_ok (name)) {
        p->failed = true;
        return;
    }
    //  HELP text escapes only backslash and newline; ours has neither.
    s_check (p, mm_buf_appendf (p->out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type));
}

//  Integers print exactly (a counter past 2^53 would lose digits as %g); others as %.6g.
static void
s_number (mm_prom_t *p, double v)
{
    if (isnan (v))
        s_check (p, mm_buf_appendf (p->out, "NaN\n"));
    else if (v == floor (v) && fabs (v) < 1e18)
        s_check (p, mm_buf_appendf (p->out, "%lld\n", (long long) v));
    else
        s_check (p, mm_buf_appendf (p->out, "%.6g\n", v));
}

void
mm_prom_sample (mm_prom_t *p, const char *name, const char *label, const char *value, double v)
{
    if (!mm_prom_name_ok (name) || (label && !mm_prom_name_ok (label))) {
        p->failed = true;
        return;
    }
    if (label)
        s_check (p, mm_buf_appendf (p->out, "%s{%s=\"%s\"} ", name, label,
                                    s_value_ok (value) ? value : "invalid"));
    else
        s_check (p, mm_buf_appendf (p->out, "%s ", name));
    s_number (p, v);
}

void
mm_prom_counter (mm_prom_t *p, const char *name, const char *help, uint64_t v)
{
    mm_prom_family (p, name, "counter", help);
    if (!mm_prom_name_ok (name))
        return;
    s_check (p, mm_buf_appendf (p->out, "%s %llu\n", name, (unsigned long long) v));
}

void
mm_prom_gauge (mm_prom_t *p, const char *name, const char *help, double v)
{
    mm_prom_family (p, name, "gauge", help);
    mm_prom_sample (p, name, NULL, NULL, v);
}

void
mm_prom_summary (mm_prom_t *p, const char *name, const char *help, const mm_hist_t *h)
{
    static const double qs[] = {0.5, 0.9, 0.99, 1.0};
    static const char *const qn[] = {"0.5", "0.9", "0.99", "1"};
    mm_prom_family (p, name, "summary", help);
    if (!mm_prom_name_ok (name))
        return;
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++)
        s_check (p, mm_buf_appendf (p->out, "%s{quantile=\"%s\"} %.6f\n", name, qn[i],
                                    (double) mm_hist_quantile (h, qs[i]) / 1e6));
    s_check (p, mm_buf_appendf (p->out, "%s_sum %.6f\n%s_count %llu\n", name,
                                (double) h->sum_us / 1e6, name, (unsigned long long) h->count));
}

bool
mm_prom_failed (const mm_prom_t *p)
{
    return p->failed;
}

mm_httpd_t *
mm_prom_listen (const char *prog, const char *listen, bool *failed)
{
    *failed = false;
    if (!listen[0])
        return NULL;
    char err[256];
    mm_httpd_t *http = mm_httpd_new (listen, err, sizeof err);
    if (!http) {
        mm_log_error ("%s: metrics: %s; running without /metrics (set [metrics] listen, or "
                      "leave it empty)",
                      prog, err);
        *failed = true;
        return NULL;
    }
    //  Tests and supervisors read the address from this line (the port may be 0).
    fprintf (stderr, "%s: metrics on http://%s/metrics (port %u)\n", prog, listen,
             mm_httpd_port (http));
    return http;
}

void
mm_prom_publish (mm_httpd_t *http, const mm_buf_t *text)
{
    if (http)
        mm_httpd_publish (http, "/metrics", "text/plain; version=0.0.4; charset=utf-8", text->data,
                          text->len);
}
