/*  st_source: see st_source.h. */
#include "st_source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "st_taxonomy.h"

#define S_NS 1000000000ull
#define S_DAY (86400ull * S_NS)
#define S_JST (9ull * 3600 * S_NS)  //  Asia/Tokyo is UTC+9, without summer time

static uint64_t
s_be (const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

typedef struct {
    const ag_registry_t *registry;
    st_table_t *table;
    st_source_stats_t *stats;
    char last_sensor[MM_ID_MAX + 1];  //  consecutive findings of one sensor: one lookup
    const ag_sensor_t *last;
} s_read_t;

static int
s_one (void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
       uint64_t expires)
{
    (void) expires;
    s_read_t *ctx = (s_read_t *) arg;
    st_source_stats_t *st = ctx->stats;
    st->records++;
    //  key: u64 ts | u8 len | sensor | u64 seq; value: u8 len | broker | u64 index | tail
    if (klen < 8 + 1 + 8 || key[8] == 0 || key[8] > MM_ID_MAX || klen != 8u + 1 + key[8] + 8 ||
        vlen < 1 || (size_t) val[0] + 9 > vlen) {
        st->bad++;
        return 0;
    }
    size_t tail = (size_t) val[0] + 9;
    if (vlen == tail) {
        st->old_format++;
        return 0;
    }
    if (vlen != tail + 7 || val[tail] != 1) {
        st->bad++;
        return 0;
    }
    if (!st_taxonomy_class (val[tail + 1])) {
        st->not_counted++;  //  about a sensor itself (a broker's silent-sensor findings too)
        return 0;
    }
    char sensor[MM_ID_MAX + 1];
    memcpy (sensor, key + 9, key[8]);
    sensor[key[8]] = '\0';
    if (strcmp (sensor, ctx->last_sensor) != 0) {
        memcpy (ctx->last_sensor, sensor, (size_t) key[8] + 1);
        ctx->last = ag_registry_sensor (ctx->registry, sensor);
    }
    const ag_sensor_t *s = ctx->last;
    const ag_org_t *o = s ? ag_registry_org_at (ctx->registry, s->org) : NULL;
    if (!o) {
        st->unregistered++;
        return 0;
    }
    uint32_t delay = (uint32_t) s_be (val + tail + 3, 4);
    st_finding_t f = {.org = s->org,
                      .provider = (uint16_t) o->provider,
                      .region = o->region,
                      .industry = (uint8_t) o->industry,
                      .sensor_type = s->type,
                      .category = val[tail + 1],
                      .severity = val[tail + 2],
                      .notified = delay > 0,
                      .notify_minutes = delay ? (delay - 1) / 60 : 0};
    if (st_table_add (ctx->table, &f) == -1) {
        st->not_counted++;
        return 0;
    }
    st->added++;
    return 0;
}

int
st_source_read (ag_store_t *store, const ag_registry_t *registry, uint64_t from_ns, uint64_t to_ns,
                st_table_t *table, st_source_stats_t *stats)
{
    memset (stats, 0, sizeof *stats);
    uint8_t lo[8], hi[8];
    for (int i = 0; i < 8; i++) {
        lo[i] = (uint8_t) (from_ns >> (56 - 8 * i));
        hi[i] = (uint8_t) (to_ns >> (56 - 8 * i));
    }
    s_read_t ctx = {.registry = registry, .table = table, .stats = stats};
    return ag_store_scan (store, AG_KV_FINDING, lo, 8, hi, 8, s_one, &ctx) < 0 ? -1 : 0;
}
