/*  ag_health: registered sensors' health for the consoles (see ag_health.h). */
#include "ag_health.h"

#include <czmq.h>
#include <stdlib.h>
#include <string.h>

#include "mm_event.h"
#include "mm_health.h"

#define S_NS 1000000000ull
#define S_SILENT "sensor.silent"

typedef struct {
    uint64_t last_seen;  //  arrival of its newest event (0: none)
    uint64_t events;
    bool silent;         //  its broker says so
    uint64_t silent_at;  //  when it said so (or said it is back)
    uint8_t sent_state;  //  the state of the last HEALTH sent (0: none)
    uint64_t sent_at;
} s_sensor_t;

struct ag_health_t {
    uint32_t quiet_s, refresh_s;
    uint64_t started;
    zhashx_t *sensors;  //  sensor id -> s_sensor_t (owned)
    mm_event_t ev;      //  decoder scratch for findings
    mm_buf_t msg;
    ag_health_stats_t stats;
};

static void
s_sensor_free (void **item)
{
    free (*item);
    *item = NULL;
}

ag_health_t *
ag_health_new (uint32_t quiet_s, uint32_t refresh_s, uint64_t now)
{
    ag_health_t *self = (ag_health_t *) calloc (1, sizeof *self);
    if (!self || !(self->sensors = zhashx_new ())) {
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->sensors, s_sensor_free);
    self->quiet_s = quiet_s;
    self->refresh_s = refresh_s;
    self->started = now;
    return self;
}

void
ag_health_destroy (ag_health_t **self_p)
{
    ag_health_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->sensors);
    mm_buf_free (&self->msg);
    free (self);
    *self_p = NULL;
}

//  The entry of `id` (`len` bytes), made on first sight. NULL when out of memory.
static s_sensor_t *
s_entry (ag_health_t *self, const char *id, size_t len)
{
    char key[MM_ID_MAX + 1];
    if (len == 0 || len > MM_ID_MAX)
        return NULL;
    memcpy (key, id, len);
    key[len] = 0;
    s_sensor_t *s = (s_sensor_t *) zhashx_lookup (self->sensors, key);
    if (!s && (s = (s_sensor_t *) calloc (1, sizeof *s)) != NULL &&
        zhashx_insert (self->sensors, key, s) != 0) {
        free (s);
        s = NULL;
    }
    return s;
}

//  A broker's silence finding: "sensor ID silent: ..." (revision 0) or "sensor ID is
//  heartbeating again" (later revisions), bk_broker's own words.
static void
s_silence (ag_health_t *self, const mm_finding_t *f, uint64_t now)
{
    static const char head[] = "sensor ";
    if (f->message.len <= sizeof head || memcmp (f->message.ptr, head, sizeof head - 1) != 0) {
        self->stats.bad++;
        return;
    }
    const char *id = f->message.ptr + sizeof head - 1;
    size_t n = 0;
    while (id + n < f->message.ptr + f->message.len && id[n] != ' ')
        n++;
    s_sensor_t *s = s_entry (self, id, n);
    if (!s)
        return;
    s->silent = f->revision == 0;
    s->silent_at = now;
    self->stats.silences++;
}

void
ag_health_on_stored (ag_health_t *self, mm_str_t broker, const uint8_t *data, size_t len,
                     uint64_t now)
{
    mm_str_t sensor;
    uint8_t kind;
    if (mm_event_peek_sensor (data, len, &sensor, &kind) == -1) {
        self->stats.bad++;
        return;
    }
    self->stats.events++;
    //  Only the forwarding broker's own findings can be silences: a finding of any other
    //  sender (nearly all of them) needs no decoding here.
    bool from_broker =
        sensor.len == broker.len && broker.len && memcmp (sensor.ptr, broker.ptr, broker.len) == 0;
    if (kind == MM_KIND_FINDING && from_broker) {
        mm_error_t err;
        if (mm_event_decode (&self->ev, data, len, &err) == -1) {
            self->stats.bad++;
            return;
        }
        const mm_finding_t *f = &self->ev.finding;
        if (f->detector.len == sizeof S_SILENT - 1 &&
            memcmp (f->detector.ptr, S_SILENT, sizeof S_SILENT - 1) == 0) {
            s_silence (self, f, now);
            return;  //  the broker's own event: not a sign of the sensor's life
        }
    }
    if (from_broker)
        return;  //  a broker is not a sensor
    s_sensor_t *s = s_entry (self, sensor.ptr, sensor.len);
    if (s) {
        s->last_seen = now;
        s->events++;
    }
}

//  The state of one sensor and since when.
static uint8_t
s_state (const ag_health_t *self, const s_sensor_t *s, uint64_t now, uint64_t *since)
{
    if (s && s->silent) {
        *since = s->silent_at;
        return MM_HEALTH_SILENT;
    }
    if (!s || (!s->events && !s->silent_at)) {
        *since = self->started;
        return MM_HEALTH_UNHEARD;
    }
    //  Alive at its newest event, or when its broker said it heartbeats again.
    uint64_t alive = s->last_seen > s->silent_at ? s->last_seen : s->silent_at;
    uint64_t quiet = (uint64_t) self->quiet_s * S_NS;
    if (now > alive + quiet) {
        *since = alive + quiet;
        return MM_HEALTH_QUIET;
    }
    *since = s->silent_at;  //  when it came back, if it was ever silent (0: unknown)
    return MM_HEALTH_OK;
}

void
ag_health_tick (ag_health_t *self, const ag_registry_t *registry, ag_console_t *console,
                uint64_t now)
{
    uint64_t count[MM_HEALTH_UNHEARD + 1] = {0};
    for (size_t i = 0; i < ag_registry_sensors (registry); i++) {
        const ag_sensor_t *rs = ag_registry_sensor_at (registry, i);
        const ag_org_t *org = rs ? ag_registry_org_at (registry, rs->org) : NULL;
        if (!org)
            continue;
        s_sensor_t *s = s_entry (self, rs->id, strlen (rs->id));
        uint64_t since;
        uint8_t state = s_state (self, s, now, &since);
        count[state]++;
        if (!s || !console ||
            (state == s->sent_state && now < s->sent_at + (uint64_t) self->refresh_s * S_NS))
            continue;
        const ag_provider_t *prov = ag_registry_provider_at (registry, org->provider);
        mm_health_t h = {
            .ts = now,
            .sensor = mm_str (rs->id),
            .org = mm_str (org->id),
            .region = mm_str (ag_region_name (org->region)),
            .state = state,
            .last_seen = s->last_seen,
            .since = since,
            .events = s->events,
        };
        mm_error_t err;
        mm_buf_clear (&self->msg);
        if (!prov || mm_health_encode (&h, &self->msg, &err) == -1) {
            self->stats.bad++;
            continue;
        }
        ag_console_state (console, prov->id, ag_region_name (org->region), rs->id, self->msg.data,
                          self->msg.len);
        s->sent_state = state;
        s->sent_at = now;
        self->stats.reports++;
    }
    self->stats.ok = count[MM_HEALTH_OK];
    self->stats.quiet = count[MM_HEALTH_QUIET];
    self->stats.silent = count[MM_HEALTH_SILENT];
    self->stats.unheard = count[MM_HEALTH_UNHEARD];
}

void
ag_health_stats (const ag_health_t *self, ag_health_stats_t *stats)
{
    *stats = self->stats;
}
