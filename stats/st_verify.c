/*  st_verify: see st_verify.h. Both formats fill the same row (by field name: the CSV columns
    are the JSON fields, the protection flattened), which is checked when it ends; the tables'
    relations are checked when the file ends. */
#include "st_verify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_proto.h"
#include "st_audit.h"
#include "st_json.h"
#include "st_output.h"
#include "st_table.h"
#include "st_taxonomy.h"

enum { M_ORGS, M_PROVIDERS, M_ALERTS, M_INCIDENTS, M_MEDIAN, M_COUNT };

typedef struct {
    long line;
    char period[32], period_kind[8], level[16];
    int region, industry, sensor, category, severity;  //  -1: not given
    char region_ja[64], industry_en[96], industry_ja[96], sensor_ja[64], category_en[96],
        category_ja[96], rsit[64], tactic[16], severity_ja[32];
    bool has[M_COUNT];
    long long val[M_COUNT];
    int suppressed, alerts_suppressed, complementary;  //  -1: not given
    long long k, dom[2][2], min_providers, clip;
    bool noise_null, noise_given, eps_given;
    unsigned eps_num, eps_den;
    bool top;      //  a top-indicators row (ST_TOP_SCHEMA)
    int ioc_type;  //  its indicator's type, -1: not given
    bool indicator_ok, indicator_given;
    uint32_t given;  //  bits of the fields given
} s_row_t;

typedef struct {
    char key[96];
    bool present[9][27], sup[9][27], asup[9][27];
    long line[9][27];
} s_group_t;

typedef struct {
    const char *name;
    const st_policy_t *policy;
    s_row_t row;
    s_group_t *groups;
    size_t n_groups, max_groups;
    size_t rows;
    char *err;
    size_t err_size;
    char why[256];  //  the field-level failure, if any
} s_ctx_t;

//  Fields every row must give (bits of `given`).
enum {
    F_SCHEMA = 1u << 0,
    F_PERIOD = 1u << 1,
    F_KIND = 1u << 2,
    F_LEVEL = 1u << 3,
    F_REGION = 1u << 4,
    F_INDUSTRY = 1u << 5,
    F_SENSOR = 1u << 6,
    F_CATEGORY = 1u << 7,
    F_SEVERITY = 1u << 8,
    F_SUPPRESSED = 1u << 9,
    F_ASUPPRESSED = 1u << 10,
    F_K = 1u << 11,
    F_DOM = 1u << 12,
    F_PROVIDERS = 1u << 13,
    F_CLIP = 1u << 14,
    F_COMPLEMENTARY = 1u << 15,
    F_NOISE = 1u << 16,
    F_MEASURES = 1u << 17,  //  all five measure fields (null or a number)
    F_ALL = (1u << 18) - 1
};

void
st_policy_default (st_policy_t *policy)
{
    policy->k = 5;
    policy->dom1_pct = 60;
    policy->dom2_pct = 85;
    policy->council_min_providers = 2;
    policy->max_eps_num = 1;
    policy->max_eps_den = 1;
}

static int s_failf (s_ctx_t *c, long line, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static int
s_failf (s_ctx_t *c, long line, const char *fmt, ...)
{
    char why[384];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (why, sizeof why, fmt, ap);
    va_end (ap);
    snprintf (c->err, c->err_size, "%s:%ld: %s", c->name, line, why);
    return -1;
}

static void
s_row_reset (s_row_t *r, long line)
{
    memset (r, 0, sizeof *r);
    r->line = line;
    r->region = r->industry = r->sensor = r->category = r->severity = -1;
    r->suppressed = r->alerts_suppressed = r->complementary = -1;
    r->k = r->min_providers = r->clip = -1;
    r->ioc_type = -1;
    for (int i = 0; i < 2; i++)
        r->dom[i][0] = r->dom[i][1] = -1;
}

//  A whole non-negative number (as JSON writes it, or a CSV field); -1 if not one.
static long long
s_count (const char *v)
{
    if (!*v || strlen (v) > 18)
        return -1;
    for (const char *p = v; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    if (v[0] == '0' && v[1])
        return -1;
    return strtoll (v, NULL, 10);
}

static int
s_lookup (const char *v, const char *(*name) (uint8_t), int lo, int hi)
{
    for (int i = lo; i <= hi; i++) {
        const char *n = name ((uint8_t) i);
        if (n && strcmp (n, v) == 0)
            return i;
    }
    return -1;
}

static bool
s_period_ok (const char *v)
{
    //  2026-W47 or 2026-11-18
    size_t n = strlen (v);
    if (n == 8)
        return v[4] == '-' && v[5] == 'W' && strspn (v, "0123456789") == 4 &&
               strspn (v + 6, "0123456789") == 2;
    if (n == 10)
        return v[4] == '-' && v[7] == '-' && strspn (v, "0123456789") == 4 &&
               strspn (v + 5, "0123456789") == 2 && strspn (v + 8, "0123456789") == 2;
    return false;
}

static bool
s_why_ok (const char *v)
{
    return strcmp (v, "k") == 0 || strcmp (v, "providers") == 0 || strcmp (v, "dominance") == 0 ||
           strcmp (v, "complementary") == 0;
}

//  "k+dominance" (CSV) or "" (none).
static bool
s_why_list_ok (const char *v)
{
    char buf[256];
    snprintf (buf, sizeof buf, "%s", v);
    for (char *save = NULL, *t = strtok_r (buf, "+", &save); t; t = strtok_r (NULL, "+", &save))
        if (!s_why_ok (t))
            return false;
    return true;
}

static int
s_bool (const char *v, bool json_true, bool json_false)
{
    if (json_true || strcmp (v, "true") == 0)
        return 1;
    if (json_false || strcmp (v, "false") == 0)
        return 0;
    return -1;
}

static bool
s_copy (char *dst, size_t size, const char *v)
{
    if (strlen (v) >= size)
        return false;
    memcpy (dst, v, strlen (v) + 1);
    return true;
}

//  One field of the current row; false (with c->why) if it has no place in a row. A CSV field
//  comes as a string, or as null when empty.
static bool
s_field (s_ctx_t *c, const char *path, st_json_type_t type, const char *v, bool csv)
{
    s_row_t *r = &c->row;
    bool str = type == ST_JSON_STRING, null = type == ST_JSON_NULL;
    bool t = type == ST_JSON_TRUE, f = type == ST_JSON_FALSE;
    static const char *measures[M_COUNT] = {"orgs_affected", "providers_contributing", "alerts",
                                            "incidents_notified", "median_minutes_to_notify"};
    for (int m = 0; m < M_COUNT; m++)
        if (strcmp (path, measures[m]) == 0) {
            r->given |= F_MEASURES;
            if (null)
                return true;
            long long n = s_count (v);
            if (n < 0 || r->has[m])
                return snprintf (c->why, sizeof c->why, "%s is not a count", path), false;
            r->has[m] = true;
            r->val[m] = n;
            return true;
        }
    if (strcmp (path, "schema") == 0 && strcmp (v, ST_SCHEMA) == 0)
        return r->given |= F_SCHEMA, true;
    if (strcmp (path, "schema") == 0 && strcmp (v, ST_TOP_SCHEMA) == 0 && !csv)
        return r->top = true, r->given |= F_SCHEMA, true;
    if (strcmp (path, "indicator_type") == 0 && str) {
        for (unsigned ty = 1; ty < 32; ty++)
            if (mm_ioc_type_name (ty) && strcmp (mm_ioc_type_name (ty), v) == 0)
                r->ioc_type = (int) ty;
        return r->ioc_type >= 0 ||
               (snprintf (c->why, sizeof c->why, "indicator type '%.32s' unknown", v), false);
    }
    if (strcmp (path, "indicator") == 0 && str) {
        //  A normal form: printable ASCII, no spaces (names are punycode, addresses text).
        r->indicator_given = true;
        r->indicator_ok = *v != '\0';
        for (const char *q = v; *q; q++)
            r->indicator_ok &= *q > 0x20 && *q < 0x7f;
        return true;
    }
    if (strcmp (path, "period") == 0 && s_period_ok (v))
        return r->given |= F_PERIOD, s_copy (r->period, sizeof r->period, v);
    if (strcmp (path, "period_kind") == 0 && (strcmp (v, "week") == 0 || strcmp (v, "day") == 0))
        return r->given |= F_KIND, s_copy (r->period_kind, sizeof r->period_kind, v);
    if (strcmp (path, "level") == 0 && (strcmp (v, "council") == 0 || strcmp (v, "provider") == 0))
        return r->given |= F_LEVEL, s_copy (r->level, sizeof r->level, v);
    if (strcmp (path, "region") == 0 && (r->region = s_lookup (v, st_region_name, 0, 8)) >= 0)
        return r->given |= F_REGION, true;
    if (strcmp (path, "industry") == 0) {
        if (strcmp (v, "all") == 0)
            r->industry = 0;
        else if (strlen (v) == 1 && v[0] >= 'A' && v[0] <= 'T')
            r->industry = v[0];
        else
            return snprintf (c->why, sizeof c->why, "industry '%.32s' unknown", v), false;
        return r->given |= F_INDUSTRY, true;
    }
    if (strcmp (path, "sensor_type") == 0 &&
        (r->sensor = s_lookup (v, st_sensor_type_name, 1, 2)) >= 0)
        return r->given |= F_SENSOR, true;
    if (strcmp (path, "category") == 0) {
        const st_class_t *k = st_taxonomy_by_name (v);
        if (!k)
            return snprintf (c->why, sizeof c->why, "category '%.32s' unknown", v), false;
        r->category = k->category;
        return r->given |= F_CATEGORY, true;
    }
    if (strcmp (path, "severity") == 0 && (r->severity = s_lookup (v, st_severity_name, 0, 6)) >= 0)
        return r->given |= F_SEVERITY, true;
    //  Labels: checked against the key fields when the row ends.
    struct {
        const char *name;
        char *dst;
        size_t size;
    } labels[] = {{"region_ja", r->region_ja, sizeof r->region_ja},
                  {"industry_en", r->industry_en, sizeof r->industry_en},
                  {"industry_ja", r->industry_ja, sizeof r->industry_ja},
                  {"sensor_type_ja", r->sensor_ja, sizeof r->sensor_ja},
                  {"category_en", r->category_en, sizeof r->category_en},
                  {"category_ja", r->category_ja, sizeof r->category_ja},
                  {"rsit", r->rsit, sizeof r->rsit},
                  {"attack_tactic", r->tactic, sizeof r->tactic},
                  {"severity_ja", r->severity_ja, sizeof r->severity_ja}};
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (strcmp (path, labels[i].name) == 0 && (str || (csv && null)))
            return s_copy (labels[i].dst, labels[i].size, v) ||
                   (snprintf (c->why, sizeof c->why, "%s too long", path), false);
    if (strcmp (path, "suppressed") == 0 && (r->suppressed = s_bool (v, t, f)) >= 0)
        return r->given |= F_SUPPRESSED, true;
    if (strcmp (path, "alerts_suppressed") == 0 && (r->alerts_suppressed = s_bool (v, t, f)) >= 0)
        return r->given |= F_ASUPPRESSED, true;
    if ((strncmp (path, "suppressed_why[", 15) == 0 ||
         strncmp (path, "alerts_suppressed_why[", 22) == 0) &&
        str && s_why_ok (v))
        return true;
    if ((strcmp (path, "suppressed_why") == 0 || strcmp (path, "alerts_suppressed_why") == 0) &&
        s_why_list_ok (v))
        return true;  //  (CSV)
    const char *p = strncmp (path, "protection.", 11) == 0 ? path + 11 : path;
    long long n = s_count (v);
    if (strcmp (p, "k") == 0 && n >= 0)
        return r->k = n, r->given |= F_K, true;
    if (strcmp (p, "min_providers") == 0 && n >= 0)
        return r->min_providers = n, r->given |= F_PROVIDERS, true;
    if (strcmp (p, "clip") == 0 && n >= 0)
        return r->clip = n, r->given |= F_CLIP, true;
    if (strcmp (p, "complementary") == 0 && (r->complementary = s_bool (v, t, f)) >= 0)
        return r->given |= F_COMPLEMENTARY, true;
    unsigned a, b;
    char tail;
    if (sscanf (p, "dominance[%u][%u]%c", &a, &b, &tail) == 2 && a < 2 && b < 2 && n >= 0) {
        r->dom[a][b] = n;
        return r->given |= F_DOM, true;
    }
    if (strcmp (p, "dominance") == 0) {  //  (CSV) "(1,60)(2,85)"
        long long d1, d2, d3, d4;
        char end;
        if (sscanf (v, "(%lld,%lld)(%lld,%lld)%c", &d1, &d2, &d3, &d4, &end) == 4) {
            r->dom[0][0] = d1, r->dom[0][1] = d2, r->dom[1][0] = d3, r->dom[1][1] = d4;
            return r->given |= F_DOM, true;
        }
    }
    if (strcmp (p, "noise") == 0 && null)
        return r->noise_null = true, r->given |= F_NOISE, true;
    if (strcmp (p, "noise.mechanism") == 0 && strcmp (v, "discrete-laplace") == 0)
        return r->noise_given = true, r->given |= F_NOISE, true;
    if (strcmp (p, "noise.epsilon") == 0 || strcmp (p, "noise_epsilon") == 0) {
        unsigned en, ed;
        char end;
        if (csv && null)
            return r->noise_null = true, r->given |= F_NOISE, true;  //  none
        if (sscanf (v, "%u/%u%c", &en, &ed, &end) == 2 && en > 0 && ed > 0) {
            r->eps_num = en, r->eps_den = ed;
            return r->eps_given = r->noise_given = true, r->given |= F_NOISE, true;
        }
        return snprintf (c->why, sizeof c->why, "noise epsilon '%.32s' is not num/den", v), false;
    }
    if (strncmp (p, "noise.applied_to[", 17) == 0 &&
        (strcmp (v, "orgs_affected") == 0 || strcmp (v, "alerts") == 0 ||
         strcmp (v, "incidents_notified") == 0))
        return true;
    if (!c->why[0])
        snprintf (c->why, sizeof c->why,
                  "field '%.64s' (value '%.32s') is not one of the schema's: nothing else may be "
                  "published",
                  path, v);
    return false;
}

static int
s_json_field (void *arg, const char *path, st_json_type_t type, const char *value)
{
    s_ctx_t *c = (s_ctx_t *) arg;
    return s_field (c, path, type, value, false) ? 0 : 1;
}

static s_group_t *
s_group (s_ctx_t *c, const s_row_t *r)
{
    char key[96];
    snprintf (key, sizeof key, "%s|%s|%d|%d|%d", r->period, r->level, r->sensor, r->category,
              r->severity);
    for (size_t i = 0; i < c->n_groups; i++)
        if (strcmp (c->groups[i].key, key) == 0)
            return &c->groups[i];
    if (c->n_groups == c->max_groups) {
        size_t m = c->max_groups ? c->max_groups * 2 : 16;
        s_group_t *g = (s_group_t *) realloc (c->groups, m * sizeof *g);
        if (!g)
            return NULL;
        c->groups = g;
        c->max_groups = m;
    }
    s_group_t *g = &c->groups[c->n_groups++];
    memset (g, 0, sizeof *g);
    snprintf (g->key, sizeof g->key, "%s", key);
    return g;
}

//  A top-indicators row: listed only with >= k companies of >= 2 providers.
static int
s_top_end (s_ctx_t *c)
{
    const s_row_t *r = &c->row;
    const st_policy_t *pol = c->policy;
    long line = r->line;
    uint32_t need = F_SCHEMA | F_PERIOD | F_KIND | F_LEVEL | F_K | F_PROVIDERS | F_MEASURES;
    if ((r->given & need) != need || r->ioc_type < 0 || !r->indicator_given)
        return s_failf (c, line, "a top-indicators row without all of its schema's fields");
    if (r->given & ~need)
        return s_failf (c, line, "a field of the cells' schema in a top-indicators row");
    if (!r->indicator_ok)
        return s_failf (c, line, "the indicator is not a normal form (printable ASCII)");
    if (r->k < pol->k || r->min_providers < 2)
        return s_failf (c, line,
                        "top indicators with k = %lld, min_providers = %lld (policy: %u, 2)", r->k,
                        r->min_providers, pol->k);
    if (!r->has[M_ORGS] || r->val[M_ORGS] < pol->k)
        return s_failf (c, line, "an indicator listed with fewer than %u companies", pol->k);
    if (!r->has[M_PROVIDERS] || r->val[M_PROVIDERS] < 2)
        return s_failf (c, line, "an indicator listed with fewer than 2 providers");
    if (r->has[M_ALERTS] || r->has[M_INCIDENTS] || r->has[M_MEDIAN])
        return s_failf (c, line, "a measure of the cells' schema in a top-indicators row");
    c->rows++;
    return 0;
}

//  The checks of one row once all its fields are in.
static int
s_row_end (s_ctx_t *c)
{
    const s_row_t *r = &c->row;
    const st_policy_t *pol = c->policy;
    long line = r->line;
    if (r->top)
        return s_top_end (c);
    if (r->ioc_type >= 0 || r->indicator_given)
        return s_failf (c, line, "a field of the top indicators' schema in a cells row");
    if ((r->given & F_ALL) != F_ALL)
        return s_failf (c, line, "a row without all of the schema's fields (0x%x missing)",
                        F_ALL & ~r->given);
    const st_class_t *k = st_taxonomy_class ((uint8_t) r->category);
    if (strcmp (r->region_ja, st_region_ja ((uint8_t) r->region)) != 0 ||
        strcmp (r->industry_en, st_industry_en ((uint8_t) r->industry)) != 0 ||
        strcmp (r->industry_ja, st_industry_ja ((uint8_t) r->industry)) != 0 ||
        strcmp (r->sensor_ja, st_sensor_type_ja ((uint8_t) r->sensor)) != 0 ||
        strcmp (r->category_en, k->label_en) != 0 || strcmp (r->category_ja, k->label_ja) != 0 ||
        strcmp (r->rsit, k->rsit) != 0 || strcmp (r->tactic, k->tactic) != 0 ||
        strcmp (r->severity_ja, st_severity_ja ((uint8_t) r->severity)) != 0)
        return s_failf (c, line,
                        "a label is not the label of its value (free text may not be "
                        "published)");
    if (r->k < pol->k)
        return s_failf (c, line, "protection k = %lld, the policy asks for at least %u", r->k,
                        pol->k);
    if (r->dom[0][0] != 1 || r->dom[1][0] != 2 || r->dom[0][1] > pol->dom1_pct ||
        r->dom[1][1] > pol->dom2_pct || r->dom[0][1] < 0 || r->dom[1][1] < 0)
        return s_failf (c, line, "dominance rule weaker than the policy's (1,%u)(2,%u)",
                        pol->dom1_pct, pol->dom2_pct);
    bool council = strcmp (r->level, "council") == 0;
    if (council && r->min_providers < pol->council_min_providers)
        return s_failf (c, line, "council level with min_providers = %lld (policy: %u)",
                        r->min_providers, pol->council_min_providers);
    if (r->complementary != 1)
        return s_failf (c, line, "complementary suppression was not applied");
    if ((r->noise_given && !r->eps_given) || (r->noise_given && r->noise_null))
        return s_failf (c, line, "noise stated without its epsilon");
    if (r->noise_given &&
        (uint64_t) r->eps_num * pol->max_eps_den > (uint64_t) pol->max_eps_num * r->eps_den)
        return s_failf (c, line, "noise epsilon %u/%u above the policy's %u/%u", r->eps_num,
                        r->eps_den, pol->max_eps_num, pol->max_eps_den);
    if (r->suppressed && !r->alerts_suppressed)
        return s_failf (c, line, "a suppressed cell with its alert measures published");
    if (r->suppressed && (r->has[M_ORGS] || r->has[M_PROVIDERS]))
        return s_failf (c, line, "a suppressed cell with a number");
    if (r->alerts_suppressed && (r->has[M_ALERTS] || r->has[M_INCIDENTS] || r->has[M_MEDIAN]))
        return s_failf (c, line, "suppressed alert measures with a number");
    if (!r->suppressed && (!r->has[M_ORGS] || !r->has[M_PROVIDERS]))
        return s_failf (c, line, "a published cell without its company count");
    if (!r->suppressed && r->val[M_ORGS] < pol->k)
        return s_failf (c, line, "%lld companies published (k = %u): a small cell", r->val[M_ORGS],
                        pol->k);
    if (!r->suppressed && council && r->val[M_PROVIDERS] < pol->council_min_providers)
        return s_failf (c, line, "%lld provider(s) published at council level (at least %u)",
                        r->val[M_PROVIDERS], pol->council_min_providers);
    s_group_t *g = s_group (c, r);
    if (!g)
        return s_failf (c, line, "out of memory");
    int i = r->industry ? r->industry - 'A' + 1 : 0;
    if (g->present[r->region][i])
        return s_failf (c, line, "the same cell again (first on line %ld)", g->line[r->region][i]);
    g->present[r->region][i] = true;
    g->sup[r->region][i] = r->suppressed == 1;
    g->asup[r->region][i] = r->alerts_suppressed == 1;
    g->line[r->region][i] = line;
    c->rows++;
    return 0;
}

//  No suppressed cell recoverable from the published ones (st_audit: any combination of the
//  rows and columns, which covers a lone suppressed member and linked blocks alike).
static int
s_relations (s_ctx_t *c)
{
    for (size_t n = 0; n < c->n_groups; n++) {
        const s_group_t *g = &c->groups[n];
        for (int alerts = 0; alerts < 2; alerts++) {
            bool rec[9][27];
            int found = st_audit (g->present, alerts ? g->asup : g->sup, rec);
            if (found < 0)
                return s_failf (c, 0, "out of memory");
            for (int r = 0; r < 9 && found; r++)
                for (int i = 0; i < 27; i++)
                    if (rec[r][i])
                        return s_failf (c, g->line[r][i],
                                        "a suppressed %s recoverable from the published cells of "
                                        "its table (by adding and subtracting rows and columns)",
                                        alerts ? "alert measure" : "cell");
        }
    }
    return 0;
}

//  Splits one CSV line into fields (RFC 4180), unquoting in place. The number of fields, or
//  -1 if the quoting is broken.
static int
s_csv_split (char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        fields[n++] = p;
        char *out = p;
        if (*p == '"') {
            p++;
            while (true) {
                if (!*p)
                    return -1;
                if (*p == '"' && p[1] == '"')
                    *out++ = '"', p += 2;
                else if (*p == '"') {
                    p++;
                    break;
                }
                else
                    *out++ = *p++;
            }
            if (*p && *p != ',')
                return -1;
        }
        else {
            while (*p && *p != ',') {
                if (*p == '"')
                    return -1;
                *out++ = *p++;
            }
        }
        char sep = *p;
        *out = '\0';
        if (!sep)
            return n;
        p++;
    }
    return -1;
}

int
st_verify_buffer (const char *name, const char *data, size_t len, const st_policy_t *policy,
                  size_t *rows, char *err, size_t err_size)
{
    s_ctx_t c = {.name = name, .policy = policy, .err = err, .err_size = err_size};
    err[0] = '\0';
    mm_buf_t header = {0};
    char *line = (char *) malloc (len + 1);
    int rc = line && st_csv_header (&header) == 0 ? 0 : s_failf (&c, 0, "out of memory");
    bool csv = len > 0 && data[0] != '{';
    char *columns[64];
    int n_columns = 0;
    long lineno = 0;
    for (size_t pos = 0; pos < len && rc == 0;) {
        const char *nl = memchr (data + pos, '\n', len - pos);
        size_t n = nl ? (size_t) (nl - (data + pos)) : len - pos;
        memcpy (line, data + pos, n);
        line[n] = '\0';
        pos += n + (nl != NULL);
        lineno++;
        if (n && line[n - 1] == '\r')
            line[--n] = '\0';
        if (memchr (line, '\0', n))
            rc = s_failf (&c, lineno, "a NUL byte");
        else if (csv && lineno == 1) {
            if (header.len < 2 || n != header.len - 2 || memcmp (line, header.data, n) != 0)
                rc = s_failf (&c, 1, "not the statistics' CSV header (%s)", ST_SCHEMA);
            else if ((n_columns = s_csv_split (line, columns, 64)) < 0)
                rc = s_failf (&c, 1, "bad header");
            else {
                //  Keep the names: the row lines reuse the buffer.
                static char names[2048];
                memcpy (names, header.data, header.len - 2);
                names[header.len - 2] = '\0';
                n_columns = s_csv_split (names, columns, 64);
            }
        }
        else if (n == 0)
            continue;
        else if (!csv) {
            s_row_reset (&c.row, lineno);
            c.why[0] = '\0';
            char jerr[128];
            int w = st_json_walk (line, n, s_json_field, &c, jerr, sizeof jerr);
            if (w == -1 && !c.why[0])
                rc = s_failf (&c, lineno, "%s", jerr);
            else if (w != 0)
                rc = s_failf (&c, lineno, "%s", c.why);
            else
                rc = s_row_end (&c);
        }
        else {
            char *fields[64];
            s_row_reset (&c.row, lineno);
            c.why[0] = '\0';
            int nf = s_csv_split (line, fields, 64);
            if (nf != n_columns)
                rc = s_failf (&c, lineno, "%d fields, the header has %d", nf, n_columns);
            for (int f = 0; f < nf && rc == 0; f++) {
                bool empty = !fields[f][0];
                if (!s_field (&c, columns[f], empty ? ST_JSON_NULL : ST_JSON_STRING, fields[f],
                              true))
                    rc = s_failf (&c, lineno, "%s", c.why);
            }
            if (rc == 0)
                rc = s_row_end (&c);
        }
    }
    if (rc == 0 && csv && lineno == 0)
        rc = s_failf (&c, 0, "empty file");
    if (rc == 0)
        rc = s_relations (&c);
    if (rows)
        *rows = c.rows;
    free (line);
    free (c.groups);
    mm_buf_free (&header);
    return rc;
}

int
st_verify_file (const char *path, const st_policy_t *policy, size_t *rows, char *err,
                size_t err_size)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        snprintf (err, err_size, "%s: %s", path, strerror (errno));
        return -1;
    }
    mm_buf_t b = {0};
    char chunk[65536];
    size_t n;
    int rc = 0;
    while ((n = fread (chunk, 1, sizeof chunk, f)) > 0 && rc == 0)
        rc = mm_buf_append (&b, chunk, n);
    bool bad = ferror (f) != 0;
    fclose (f);
    if (rc || bad) {
        mm_buf_free (&b);
        snprintf (err, err_size, "%s: %s", path, rc ? "out of memory" : "read error");
        return -1;
    }
    rc = st_verify_buffer (path, (const char *) b.data, b.len, policy, rows, err, err_size);
    mm_buf_free (&b);
    return rc;
}
