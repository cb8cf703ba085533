/*  st_top: see st_top.h. */
#include "st_top.h"

#include <stdlib.h>
#include <string.h>

#include "ag_correlate.h"
#include "mm_proto.h"

typedef struct {
    ag_store_t *store;
    const ag_registry_t *registry;
    uint64_t from, to;
    uint32_t k, min_providers;
    st_top_row_t *rows;
    size_t n, max_rows;
    st_top_stats_t *stats;
    uint8_t *providers;  //  scratch: one flag per provider
    bool failed;
} s_ctx_t;

static int
s_group (void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
         uint64_t expires)
{
    (void) expires;
    s_ctx_t *c = (s_ctx_t *) arg;
    if (ag_correlate_record_is_entry (key, klen))
        return 0;  //  read with its record
    c->stats->groups++;
    ag_sight_view_t head;
    if (ag_correlate_sight_view (val, vlen, &head) == -1) {
        c->stats->bad++;
        return 0;
    }
    if (head.last < c->from || head.first >= c->to)
        return 0;
    c->stats->in_period++;
    char skey[AG_INDICATOR_MAX + 32];
    if (klen >= sizeof skey)
        return 0;
    memcpy (skey, key, klen);
    skey[klen] = '\0';
    ag_sight_view_t v;
    ag_seen_view_t *seen = NULL;
    int got = ag_correlate_sight_read (c->store, skey, &v, &seen);
    if (got == -1)
        return c->failed = true, -1;
    if (got != 1) {
        c->stats->bad += got == -2;
        return 0;
    }
    size_t np = ag_registry_providers (c->registry);
    memset (c->providers, 0, np ? np : 1);
    uint32_t orgs = 0, providers = 0;
    for (uint32_t i = 0; i < v.n_seen; i++) {
        const ag_seen_view_t *e = &seen[i];
        if (e->last < c->from || e->first >= c->to)
            continue;
        int32_t o = ag_registry_org_index (c->registry, e->org);
        if (o < 0)
            continue;  //  a company no longer registered is not counted
        orgs++;
        uint32_t p = ag_registry_org_at (c->registry, (size_t) o)->provider;
        if (p < np && !c->providers[p]) {
            c->providers[p] = 1;
            providers++;
        }
    }
    free (seen);
    if (orgs < c->k || providers < c->min_providers)
        return 0;
    if (c->n == c->max_rows) {
        size_t m = c->max_rows ? c->max_rows * 2 : 16;
        st_top_row_t *r = (st_top_row_t *) realloc (c->rows, m * sizeof *r);
        if (!r)
            return c->failed = true, -1;
        c->rows = r;
        c->max_rows = m;
    }
    st_top_row_t *r = &c->rows[c->n++];
    bool group = v.mixed;
    r->type = group ? (v.type == MM_IOC_DOMAIN ? MM_IOC_DOMAIN : MM_IOC_CIDR) : v.type;
    if (group && v.type != MM_IOC_DOMAIN && v.type != MM_IOC_IP && v.type != MM_IOC_CIDR)
        r->type = v.type, group = false;  //  hashes have no group but themselves
    snprintf (r->value, sizeof r->value, "%s", group ? v.group : v.value);
    r->orgs = orgs;
    r->providers = providers;
    c->stats->listed++;
    return 0;
}

static int
s_by_orgs (const void *a, const void *b)
{
    const st_top_row_t *x = (const st_top_row_t *) a, *y = (const st_top_row_t *) b;
    if (x->orgs != y->orgs)
        return x->orgs > y->orgs ? -1 : 1;
    if (x->providers != y->providers)
        return x->providers > y->providers ? -1 : 1;
    return strcmp (x->value, y->value);
}

long
st_top_read (ag_store_t *store, const ag_registry_t *registry, uint64_t from_ns, uint64_t to_ns,
             uint32_t k, uint32_t min_providers, size_t max, st_top_row_t **rows,
             st_top_stats_t *stats)
{
    memset (stats, 0, sizeof *stats);
    *rows = NULL;
    s_ctx_t c = {.store = store,
                 .registry = registry,
                 .from = from_ns,
                 .to = to_ns,
                 .k = k ? k : 1,
                 .min_providers = min_providers < 2 ? 2 : min_providers,
                 .stats = stats};
    size_t np = ag_registry_providers (registry);
    c.providers = (uint8_t *) calloc (np ? np : 1, 1);
    if (!c.providers)
        return -1;
    int64_t rc = ag_store_scan (store, AG_KV_SIGHT, NULL, 0, NULL, 0, s_group, &c);
    free (c.providers);
    if (rc < 0 || c.failed) {
        free (c.rows);
        return -1;
    }
    if (c.n)
        qsort (c.rows, c.n, sizeof *c.rows, s_by_orgs);
    *rows = c.rows;
    return (long) (c.n < max ? c.n : max);
}

int
st_top_jsonl (const st_meta_t *meta, const st_top_row_t *row, mm_buf_t *out)
{
    size_t start = out->len;
    const char *type = mm_ioc_type_name (row->type);
    int rc = mm_buf_appendf (out,
                             "{\"schema\":\"%s\",\"period\":\"%s\",\"period_kind\":\"%s\","
                             "\"level\":\"%s\",\"indicator_type\":\"%s\",\"indicator\":\"",
                             ST_TOP_SCHEMA, meta->period, meta->period_kind, meta->level,
                             type ? type : "?");
    //  Normal forms are printable ASCII without quotes or backslashes; anything else is
    //  escaped all the same.
    for (const unsigned char *p = (const unsigned char *) row->value; *p && rc == 0; p++)
        rc = *p == '"' || *p == '\\' ? mm_buf_appendf (out, "\\%c", *p)
             : *p < 0x20             ? mm_buf_appendf (out, "\\u%04x", *p)
                                     : mm_buf_append (out, p, 1);
    rc |= mm_buf_appendf (out,
                          "\",\"orgs_affected\":%u,\"providers_contributing\":%u,"
                          "\"protection\":{\"k\":%u,\"min_providers\":%u}}\n",
                          row->orgs, row->providers, meta->rules->k,
                          meta->rules->min_providers < 2 ? 2 : meta->rules->min_providers);
    if (rc) {
        out->len = start;
        return -1;
    }
    return 0;
}
