/*  st_output: see st_output.h. */
#include "st_output.h"

#include <stdio.h>
#include <string.h>

#include "st_taxonomy.h"

void
st_why_names (uint32_t why, char *out, size_t size)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {{ST_WHY_K, "k"},
                 {ST_WHY_PROVIDERS, "providers"},
                 {ST_WHY_DOMINANCE, "dominance"},
                 {ST_WHY_COMPLEMENTARY, "complementary"}};
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (why & names[i].bit) {
            int w = snprintf (out + n, size - n, "%s%s", n ? "+" : "", names[i].name);
            if (w < 0 || (size_t) w >= size - n)
                return;
            n += (size_t) w;
        }
}

//  A JSON string: quotes, backslashes and control characters escaped.
static int
s_jstr (mm_buf_t *out, const char *s)
{
    int rc = mm_buf_append (out, "\"", 1);
    for (const unsigned char *p = (const unsigned char *) s; *p && rc == 0; p++) {
        if (*p == '"' || *p == '\\')
            rc = mm_buf_appendf (out, "\\%c", *p);
        else if (*p < 0x20)
            rc = mm_buf_appendf (out, "\\u%04x", *p);
        else
            rc = mm_buf_append (out, p, 1);
    }
    return rc | mm_buf_append (out, "\"", 1);
}

static int
s_jkey (mm_buf_t *out, const char *key, const char *value)
{
    return mm_buf_appendf (out, ",\"%s\":", key) | s_jstr (out, value);
}

//  A measure, or null when suppressed.
static int
s_jnum (mm_buf_t *out, const char *key, bool hidden, long long v)
{
    return hidden ? mm_buf_appendf (out, ",\"%s\":null", key)
                  : mm_buf_appendf (out, ",\"%s\":%lld", key, v);
}

static int
s_jwhy (mm_buf_t *out, const char *key, uint32_t why)
{
    char names[96];
    st_why_names (why, names, sizeof names);
    int rc = mm_buf_appendf (out, ",\"%s\":[", key);
    const char *p = names;
    for (bool first = true; *p && rc == 0; first = false) {
        size_t n = strcspn (p, "+");
        rc = mm_buf_appendf (out, "%s\"%.*s\"", first ? "" : ",", (int) n, p);
        p += n + (p[n] == '+');
    }
    return rc | mm_buf_append (out, "]", 1);
}

int
st_jsonl_row (const st_meta_t *meta, const st_row_t *row, mm_buf_t *out)
{
    size_t start = out->len;
    const st_rules_t *r = meta->rules;
    const st_class_t *c = st_taxonomy_class (row->category);
    char industry[2] = {(char) row->industry, 0};
    bool hidden = row->suppressed, ahidden = row->alerts_suppressed;
    int rc = mm_buf_appendf (out, "{\"schema\":\"%s\"", ST_SCHEMA) |
             s_jkey (out, "period", meta->period) | s_jkey (out, "period_kind", meta->period_kind) |
             s_jkey (out, "level", meta->level) |
             s_jkey (out, "region", st_region_name (row->region)) |
             s_jkey (out, "region_ja", st_region_ja (row->region)) |
             s_jkey (out, "industry", row->industry ? industry : "all") |
             s_jkey (out, "industry_en", st_industry_en (row->industry)) |
             s_jkey (out, "industry_ja", st_industry_ja (row->industry)) |
             s_jkey (out, "sensor_type", st_sensor_type_name (row->sensor_type)) |
             s_jkey (out, "sensor_type_ja", st_sensor_type_ja (row->sensor_type)) |
             s_jkey (out, "category", c ? c->name : "other") |
             s_jkey (out, "category_en", c ? c->label_en : "Other") |
             s_jkey (out, "category_ja", c ? c->label_ja : "その他") |
             s_jkey (out, "rsit", c ? c->rsit : "other/other") |
             s_jkey (out, "attack_tactic", c ? c->tactic : "") |
             s_jkey (out, "severity", st_severity_name (row->severity)) |
             s_jkey (out, "severity_ja", st_severity_ja (row->severity)) |
             s_jnum (out, "orgs_affected", hidden, row->orgs) |
             s_jnum (out, "providers_contributing", hidden, row->providers) |
             s_jnum (out, "alerts", ahidden, (long long) row->alerts) |
             s_jnum (out, "incidents_notified", ahidden, (long long) row->incidents) |
             s_jnum (out, "median_minutes_to_notify", ahidden || row->median_minutes < 0,
                     row->median_minutes) |
             mm_buf_appendf (out, ",\"suppressed\":%s", hidden ? "true" : "false") |
             s_jwhy (out, "suppressed_why", row->why) |
             mm_buf_appendf (out, ",\"alerts_suppressed\":%s", ahidden ? "true" : "false") |
             s_jwhy (out, "alerts_suppressed_why", row->alerts_why) |
             mm_buf_appendf (out,
                             ",\"protection\":{\"k\":%u,\"dominance\":[[1,%u],[2,%u]],"
                             "\"min_providers\":%u,\"clip\":%u,\"complementary\":%s,",
                             r->k, r->dom1_pct, r->dom2_pct, r->min_providers, r->clip,
                             r->complementary ? "true" : "false");
    if (row->noised)
        rc |= mm_buf_appendf (out,
                              "\"noise\":{\"mechanism\":\"discrete-laplace\",\"epsilon\":\"%u/%u\","
                              "\"applied_to\":[\"orgs_affected\",\"alerts\","
                              "\"incidents_notified\"]}}}\n",
                              r->eps_num, r->eps_den);
    else
        rc |= mm_buf_appendf (out, "\"noise\":null}}\n");
    if (rc) {
        out->len = start;
        return -1;
    }
    return 0;
}

static const char *s_csv_columns =
    "schema,period,period_kind,level,region,region_ja,industry,industry_en,industry_ja,"
    "sensor_type,sensor_type_ja,category,category_en,category_ja,rsit,attack_tactic,severity,"
    "severity_ja,orgs_affected,providers_contributing,alerts,incidents_notified,"
    "median_minutes_to_notify,suppressed,suppressed_why,alerts_suppressed,"
    "alerts_suppressed_why,k,dominance,min_providers,clip,complementary,noise_epsilon\r\n";

int
st_csv_header (mm_buf_t *out)
{
    return mm_buf_append (out, s_csv_columns, strlen (s_csv_columns));
}

//  A CSV field: quoted when it holds a comma, quote or line break (quotes doubled).
static int
s_cstr (mm_buf_t *out, const char *s, bool last)
{
    int rc = 0;
    if (strpbrk (s, ",\"\r\n")) {
        rc = mm_buf_append (out, "\"", 1);
        for (const char *p = s; *p && rc == 0; p++)
            rc = *p == '"' ? mm_buf_append (out, "\"\"", 2) : mm_buf_append (out, p, 1);
        rc |= mm_buf_append (out, "\"", 1);
    }
    else
        rc = mm_buf_append (out, s, strlen (s));
    return rc | mm_buf_append (out, last ? "\r\n" : ",", last ? 2 : 1);
}

static int
s_cnum (mm_buf_t *out, bool hidden, long long v)
{
    return hidden ? mm_buf_append (out, ",", 1) : mm_buf_appendf (out, "%lld,", v);
}

int
st_csv_row (const st_meta_t *meta, const st_row_t *row, mm_buf_t *out)
{
    size_t start = out->len;
    const st_rules_t *r = meta->rules;
    const st_class_t *c = st_taxonomy_class (row->category);
    char industry[2] = {(char) row->industry, 0}, why[96], awhy[96], dom[32], eps[32];
    st_why_names (row->why, why, sizeof why);
    st_why_names (row->alerts_why, awhy, sizeof awhy);
    snprintf (dom, sizeof dom, "(1,%u)(2,%u)", r->dom1_pct, r->dom2_pct);
    snprintf (eps, sizeof eps, "%u/%u", r->eps_num, r->eps_den);
    bool hidden = row->suppressed, ahidden = row->alerts_suppressed;
    int rc = s_cstr (out, ST_SCHEMA, false) | s_cstr (out, meta->period, false) |
             s_cstr (out, meta->period_kind, false) | s_cstr (out, meta->level, false) |
             s_cstr (out, st_region_name (row->region), false) |
             s_cstr (out, st_region_ja (row->region), false) |
             s_cstr (out, row->industry ? industry : "all", false) |
             s_cstr (out, st_industry_en (row->industry), false) |
             s_cstr (out, st_industry_ja (row->industry), false) |
             s_cstr (out, st_sensor_type_name (row->sensor_type), false) |
             s_cstr (out, st_sensor_type_ja (row->sensor_type), false) |
             s_cstr (out, c ? c->name : "other", false) |
             s_cstr (out, c ? c->label_en : "Other", false) |
             s_cstr (out, c ? c->label_ja : "その他", false) |
             s_cstr (out, c ? c->rsit : "other/other", false) |
             s_cstr (out, c ? c->tactic : "", false) |
             s_cstr (out, st_severity_name (row->severity), false) |
             s_cstr (out, st_severity_ja (row->severity), false) | s_cnum (out, hidden, row->orgs) |
             s_cnum (out, hidden, row->providers) | s_cnum (out, ahidden, (long long) row->alerts) |
             s_cnum (out, ahidden, (long long) row->incidents) |
             s_cnum (out, ahidden || row->median_minutes < 0, row->median_minutes) |
             s_cstr (out, hidden ? "true" : "false", false) | s_cstr (out, why, false) |
             s_cstr (out, ahidden ? "true" : "false", false) | s_cstr (out, awhy, false) |
             mm_buf_appendf (out, "%u,", r->k) | s_cstr (out, dom, false) |
             mm_buf_appendf (out, "%u,%u,", r->min_providers, r->clip) |
             s_cstr (out, r->complementary ? "true" : "false", false) |
             s_cstr (out, row->noised ? eps : "", true);
    if (rc) {
        out->len = start;
        return -1;
    }
    return 0;
}
