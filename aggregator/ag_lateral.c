/*  ag_lateral: see ag_lateral.h. A round collects records and messages in arenas (offsets,
    since the arenas grow), then writes them at once. */
#include "ag_lateral.h"

#include <czmq.h>
#include <dirent.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mm_event.h"
#include "mm_incident.h"
#include "mm_watchlist.h"

#define S_NS 1000000000ull
#define S_CURSOR "cursor/"
#define S_REPLAY_BATCH 4096
#define S_FULL_MS 1000           //  sightings and cursors are written this often
#define S_CURSORS_MAX 1024       //  brokers (regions) in one full commit
#define S_KEEP_MAX (256u << 20)  //  unwritten round kept at most (bytes)

typedef struct {
    uint8_t kv;
    size_t key, klen, val, vlen;  //  offsets into the round's arena
    uint64_t expires;
} s_put_t;

typedef struct {
    size_t off, len;  //  into the message arena
} s_msg_t;

typedef struct {
    char provider[MM_ID_MAX + 1];
    char region[MM_ID_MAX + 1];
    uint64_t ts;
    size_t off, len;  //  into the message arena
} s_notice_t;

typedef struct {
    char broker[MM_ID_MAX + 1];
    uint64_t index;
} s_cursor_t;

struct ag_lateral_t {
    ag_lateral_config_t cfg;
    ag_store_t *store;
    ag_down_t *down;
    ag_console_t *console;
    ag_registry_watch_t *watch;
    ag_allow_t *allow;
    ag_psl_t *psl;
    ag_correlate_t *cor;
    mm_event_t ev;
    //  The round.
    mm_buf_t arena;  //  record keys and values
    mm_buf_t msgs;   //  encoded messages
    s_put_t *puts;
    size_t n_puts, max_puts;
    s_msg_t *down_msgs;
    size_t n_down, max_down;
    s_notice_t *notices;
    size_t n_notices, max_notices;
    s_cursor_t cursors[S_CURSORS_MAX];  //  brokers moved since the last full commit
    size_t n_cursors;
    uint64_t serial;  //  WATCHLIST serials: wall ns, never repeated
    uint64_t now;     //  wall ns of the current round
    int64_t next_compact_ms;
    int64_t next_tick_ms;
    int64_t next_full_ms;
    ag_lateral_stats_t stats;
};

static uint64_t
s_wall_ns (void)
{
    struct timespec t;
    clock_gettime (CLOCK_REALTIME, &t);
    return (uint64_t) t.tv_sec * S_NS + (uint64_t) t.tv_nsec;
}

static void
s_u64 (uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t) v;
}

static uint64_t
s_get_u64 (const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

//  ---------------------------------------------------------------------------------------------
//  The round's collections

static int
s_grow (void **v, size_t *max, size_t n, size_t size)
{
    if (n < *max)
        return 0;
    size_t m = *max ? *max * 2 : 64;
    void *p = realloc (*v, m * size);
    if (!p)
        return -1;
    *v = p;
    *max = m;
    return 0;
}

static void
s_put (ag_lateral_t *self, uint8_t kv, const void *key, size_t klen, const void *val, size_t vlen,
       uint64_t expires)
{
    if (s_grow ((void **) &self->puts, &self->max_puts, self->n_puts, sizeof *self->puts) == -1)
        return;
    s_put_t *p = &self->puts[self->n_puts];
    p->kv = kv;
    p->key = self->arena.len;
    p->klen = klen;
    if (mm_buf_append (&self->arena, key, klen) == -1)
        return;
    p->val = self->arena.len;
    p->vlen = vlen;
    if (mm_buf_append (&self->arena, val, vlen) == -1)
        return;
    p->expires = expires;
    self->n_puts++;
}

//  Appends the message `self->msgs` grew by since `off` to the down messages.
static void
s_down (ag_lateral_t *self, size_t off)
{
    if (s_grow ((void **) &self->down_msgs, &self->max_down, self->n_down,
                sizeof *self->down_msgs) == -1)
        return;
    self->down_msgs[self->n_down++] = (s_msg_t){off, self->msgs.len - off};
}

static void
s_notice (ag_lateral_t *self, const char *provider, const char *region, uint64_t ts, size_t off)
{
    if (!self->console || s_grow ((void **) &self->notices, &self->max_notices, self->n_notices,
                                  sizeof *self->notices) == -1)
        return;
    s_notice_t *n = &self->notices[self->n_notices++];
    snprintf (n->provider, sizeof n->provider, "%s", provider);
    snprintf (n->region, sizeof n->region, "%s", region);
    n->ts = ts;
    n->off = off;
    n->len = self->msgs.len - off;
}

static const ag_registry_t *
s_registry (const ag_lateral_t *self)
{
    return ag_registry_watch_current (self->watch);
}

//  The provider and region names of an org, for the consoles; false if it is not registered.
static bool
s_soc_of (const ag_lateral_t *self, const char *org, const char **provider, const char **region)
{
    const ag_registry_t *reg = s_registry (self);
    int32_t i = ag_registry_org_index (reg, org);
    if (i < 0)
        return false;
    const ag_org_t *o = ag_registry_org_at (reg, (size_t) i);
    *provider = ag_registry_provider_at (reg, o->provider)->id;
    *region = ag_region_name (o->region);
    return true;
}

//  ---------------------------------------------------------------------------------------------
//  What the correlation decides

static void
s_watchlist_entry (const mm_warning_t *w, uint64_t expires, mm_wl_entry_t *e)
{
    memset (e, 0, sizeof *e);
    e->op = w->status == MM_WSTATUS_REVOKED ? MM_WL_REVOKE : MM_WL_ADD;
    e->type = w->indicator.type;
    e->value = w->indicator.value;
    e->category = w->category;
    e->severity = w->severity;
    e->feed = mm_str ("lateral");
    e->expires = expires ? expires : w->valid_until;
    e->warning_id = w->id;
    //  The sensor blocks only if its own configuration lets it; the warning says whether
    //  blocking is the advice.
    e->action = w->action.code == MM_ACTION_BLOCK ? MM_ACTION_BLOCK : 0;
}

static uint64_t
s_next_serial (ag_lateral_t *self)
{
    uint64_t now = s_wall_ns ();
    self->serial = now > self->serial ? now : self->serial + 1;
    return self->serial;
}

//  `expires`: the entries' expiry (0: each warning's valid-until).
static void
s_queue_watchlist (ag_lateral_t *self, const char *org, const mm_warning_t *const *ws, size_t n,
                   uint64_t expires)
{
    static mm_watchlist_t wl;  //  big (MM_WATCHLIST_MAX entries): one thread uses it
    for (size_t start = 0; start < n; start += MM_WATCHLIST_MAX) {
        //  Only the header: every entry used is filled whole below (the message is 20 KB).
        memset (&wl, 0, offsetof (mm_watchlist_t, entries));
        wl.ts = self->now;
        wl.org = mm_str (org);
        wl.serial = s_next_serial (self);
        for (size_t i = start; i < n && wl.n_entries < MM_WATCHLIST_MAX; i++)
            s_watchlist_entry (ws[i], expires, &wl.entries[wl.n_entries++]);
        size_t off = self->msgs.len;
        mm_error_t err;
        if (mm_watchlist_encode (&wl, &self->msgs, &err) == -1) {
            zsys_error ("ag_lateral: a WATCHLIST for %s does not encode: %s", org, err.reason);
            continue;
        }
        s_down (self, off);
        self->stats.watchlists++;
    }
}

//  One warning copy: down to the org's sensors, to its SOC's consoles, into its timeline.
static void
s_warning_copy (ag_lateral_t *self, const mm_warning_t *w, bool to_sensors)
{
    char org[MM_ID_MAX + 1];
    snprintf (org, sizeof org, "%.*s", (int) w->org.len, w->org.ptr);
    size_t off = self->msgs.len;
    mm_error_t err;
    if (mm_warning_encode (w, &self->msgs, &err) == -1) {
        zsys_error ("ag_lateral: a WARNING for %s does not encode: %s", org, err.reason);
        return;
    }
    if (to_sensors) {
        s_down (self, off);
        self->stats.warnings++;
    }
    const char *provider, *region;
    if (s_soc_of (self, org, &provider, &region))
        s_notice (self, provider, region, w->ts, off);
    //  The org's timeline: what it was told, as it was told.
    uint8_t key[1 + MM_ID_MAX + 8 + 1 + 64 + 4];
    size_t k = 0, olen = strlen (org), idlen = w->id.len < 64 ? w->id.len : 64;
    key[k++] = (uint8_t) olen;
    memcpy (key + k, org, olen), k += olen;
    s_u64 (key + k, self->now), k += 8;
    key[k++] = 'W';
    memcpy (key + k, w->id.ptr, idlen), k += idlen;
    uint8_t rev[4] = {(uint8_t) (w->revision >> 24), (uint8_t) (w->revision >> 16),
                      (uint8_t) (w->revision >> 8), (uint8_t) w->revision};
    memcpy (key + k, rev, 4), k += 4;
    uint64_t keep = (uint64_t) self->cfg.correlate.keep_days * 86400u * S_NS;
    s_put (self, AG_KV_TIMELINE, key, k, self->msgs.data + off, self->msgs.len - off,
           self->now + keep);
}

static void
s_on_warning (void *arg, const mm_warning_t *w, const mm_indicator_t *earlier, uint64_t matcher)
{
    ag_lateral_t *self = (ag_lateral_t *) arg;
    s_warning_copy (self, w, true);
    if (!matcher)
        return;  //  its sensors' matchers hold the entry already
    char org[MM_ID_MAX + 1];
    snprintf (org, sizeof org, "%.*s", (int) w->org.len, w->org.ptr);
    if (!earlier) {
        s_queue_watchlist (self, org, &w, 1, matcher);
        return;
    }
    //  A revocation takes back what earlier revisions put in the matchers too.
    mm_warning_t before = *w;
    before.indicator = *earlier;
    const mm_warning_t *both[2] = {w, &before};
    s_queue_watchlist (self, org, both, 2, matcher);
}

//  Held-back warnings: their indicators reach the sensors' matchers in one WATCHLIST (the
//  matcher must not wait for a rate limit that is there for people), and the SOC sees each.
static void
s_on_digest (void *arg, const char *org, const mm_warning_t *const *ws, size_t n)
{
    ag_lateral_t *self = (ag_lateral_t *) arg;
    for (size_t i = 0; i < n; i++)
        s_warning_copy (self, ws[i], false);
    s_queue_watchlist (self, org, ws, n, 0);
}

static void
s_on_incident (void *arg, const ag_incident_t *inc)
{
    ag_lateral_t *self = (ag_lateral_t *) arg;
    mm_incident_t m;
    memset (&m, 0, sizeof m);
    m.ts = inc->notified;
    m.sensor = mm_str (inc->sensor);
    m.org = mm_str (inc->org);
    m.provider = mm_str (inc->provider);
    m.region = mm_str (ag_region_name (inc->region));
    m.seen = inc->ts;
    m.finding_id = inc->finding_id;
    m.kind = inc->quarantine ? MM_INC_QUARANTINE : MM_INC_FINDING;
    m.severity = inc->severity;
    m.confidence = inc->confidence;
    m.category = inc->category;
    m.detector = mm_str (inc->detector);
    m.message = mm_str (inc->message[0] ? inc->message : inc->detector);
    if (inc->ioc_type && inc->ioc_value[0]) {
        m.has |= MM_INC_HAS_IOC;
        m.ioc.type = inc->ioc_type;
        m.ioc.value = mm_str (inc->ioc_value);
    }
    m.action.code = inc->action;
    m.action.text_ja = mm_str (inc->action_ja);
    m.action.text_en = mm_str (inc->action_en);
    size_t off = self->msgs.len;
    mm_error_t err;
    if (mm_incident_encode (&m, &self->msgs, &err) == -1) {
        zsys_error ("ag_lateral: an INCIDENT for %s does not encode: %s", inc->org, err.reason);
        return;
    }
    s_notice (self, inc->provider, m.region.ptr, m.ts, off);
    self->stats.incidents++;
}

//  ---------------------------------------------------------------------------------------------
//  Rounds

static void
s_cursor (ag_lateral_t *self, mm_str_t broker, uint64_t index)
{
    for (size_t i = 0; i < self->n_cursors; i++)
        if (mm_str_eq (broker, self->cursors[i].broker)) {
            if (index > self->cursors[i].index)
                self->cursors[i].index = index;
            return;
        }
    if (self->n_cursors < sizeof self->cursors / sizeof self->cursors[0]) {
        s_cursor_t *c = &self->cursors[self->n_cursors++];
        snprintf (c->broker, sizeof c->broker, "%.*s", (int) broker.len, broker.ptr);
        c->index = index;
    }
}

static void
s_record (void *arg, uint8_t kv, const void *key, size_t klen, const uint8_t *val, size_t vlen,
          uint64_t expires)
{
    s_put ((ag_lateral_t *) arg, kv, key, klen, val, vlen, expires);
}

static void
s_round_clear (ag_lateral_t *self)
{
    mm_buf_clear (&self->arena);
    mm_buf_clear (&self->msgs);
    self->n_puts = self->n_down = self->n_notices = 0;  //  cursors wait for a full commit
}

//  The round's records and down messages in one synced write; then the consoles. A `full`
//  commit also writes the sightings and the cursors: until then a crash replays the events
//  since the last full one into the sightings as they were written then.
static void
s_commit (ag_lateral_t *self, bool full)
{
    ag_correlate_flush (self->cor, full, s_record, self);
    for (size_t i = 0; full && i < self->n_cursors; i++) {
        char key[sizeof S_CURSOR + MM_ID_MAX];
        int klen = snprintf (key, sizeof key, S_CURSOR "%s", self->cursors[i].broker);
        uint8_t v[8];
        s_u64 (v, self->cursors[i].index);
        s_put (self, AG_KV_META, key, (size_t) klen, v, 8, 0);
    }
    if (self->n_puts == 0 && self->n_down == 0 && self->n_notices == 0)
        return;  //  (cursors are puts: a full commit with cursors always writes)
    ag_store_put_t *puts = (ag_store_put_t *) calloc (self->n_puts + 1, sizeof *puts);
    ag_store_msg_t *msgs = (ag_store_msg_t *) calloc (self->n_down + 1, sizeof *msgs);
    int rc = -1;
    if (puts && msgs) {
        for (size_t i = 0; i < self->n_puts; i++) {
            const s_put_t *p = &self->puts[i];
            puts[i] = (ag_store_put_t){p->kv,   self->arena.data + p->key,
                                       p->klen, self->arena.data + p->val,
                                       p->vlen, p->expires};
        }
        for (size_t i = 0; i < self->n_down; i++)
            msgs[i] =
                (ag_store_msg_t){self->msgs.data + self->down_msgs[i].off, self->down_msgs[i].len};
        rc = ag_store_write (self->store, puts, self->n_puts, msgs, self->n_down);
    }
    free (puts);
    free (msgs);
    if (rc == -1) {
        //  Kept for the next commit: the correlation already counts these warnings as told
        //  and these records as written. The cursors did not move either. Only a store that
        //  stays broken for long makes the round too big to keep.
        self->stats.commit_errors++;
        zsys_error ("ag_lateral: correlation records and %zu down messages not written (kept, "
                    "tried again with the next round): %s",
                    self->n_down, ag_store_error (self->store));
        if (self->arena.len + self->msgs.len < S_KEEP_MAX)
            return;
        zsys_error ("ag_lateral: %zu bytes of unwritten records: dropped; the events past the "
                    "cursors will be correlated again at the next start",
                    self->arena.len + self->msgs.len);
        self->stats.dropped_rounds++;
    }
    else {
        self->stats.commits++;
        if (self->n_down && rc == 0) {
            self->stats.no_broker++;
            zsys_warning ("ag_lateral: no broker has registered yet: %zu down messages dropped",
                          self->n_down);
        }
        if (self->n_down && rc > 0 && self->down)
            ag_down_note_queued (self->down, self->n_down);
        for (size_t i = 0; i < self->n_notices; i++) {
            const s_notice_t *n = &self->notices[i];
            ag_console_publish (self->console, n->provider, n->region, n->ts,
                                self->msgs.data + n->off, n->len);
        }
        if (full)
            self->n_cursors = 0;
    }
    s_round_clear (self);
}

//  A full commit once a second, a light one otherwise.
static void
s_commit_due (ag_lateral_t *self)
{
    bool full = zclock_mono () >= self->next_full_ms;
    if (full)
        self->next_full_ms = zclock_mono () + S_FULL_MS;
    s_commit (self, full);
}

//  A finding's records: by time, and in its org's timeline.
static void
s_finding_records (ag_lateral_t *self, mm_str_t broker, uint64_t index)
{
    const mm_event_t *ev = &self->ev;
    uint8_t ptr[1 + MM_ID_MAX + 8];
    ptr[0] = (uint8_t) broker.len;
    memcpy (ptr + 1, broker.ptr, broker.len);
    s_u64 (ptr + 1 + broker.len, index);
    size_t plen = 1 + broker.len + 8;
    uint64_t expires = ev->ts + (uint64_t) self->cfg.correlate.keep_days * 86400u * S_NS;
    uint8_t key[1 + MM_ID_MAX + 8 + 1 + 1 + MM_ID_MAX + 8];
    size_t k = 0;
    s_u64 (key, ev->ts), k = 8;
    key[k++] = (uint8_t) ev->sensor.len;
    memcpy (key + k, ev->sensor.ptr, ev->sensor.len), k += ev->sensor.len;
    s_u64 (key + k, ev->seq), k += 8;
    s_put (self, AG_KV_FINDING, key, k, ptr, plen, expires);
    char sensor[MM_ID_MAX + 1];
    snprintf (sensor, sizeof sensor, "%.*s", (int) ev->sensor.len, ev->sensor.ptr);
    const ag_registry_t *reg = s_registry (self);
    int32_t o = ag_registry_sensor_org (reg, sensor);
    if (o < 0)
        return;
    const char *org = ag_registry_org_at (reg, (size_t) o)->id;
    size_t olen = strlen (org);
    k = 0;
    key[k++] = (uint8_t) olen;
    memcpy (key + k, org, olen), k += olen;
    s_u64 (key + k, ev->ts), k += 8;
    key[k++] = 'F';
    key[k++] = (uint8_t) ev->sensor.len;
    memcpy (key + k, ev->sensor.ptr, ev->sensor.len), k += ev->sensor.len;
    s_u64 (key + k, ev->seq), k += 8;
    s_put (self, AG_KV_TIMELINE, key, k, ptr, plen, expires);
}

void
ag_lateral_on_stored (void *arg, mm_str_t broker, uint64_t index, const uint8_t *data, size_t len)
{
    ag_lateral_t *self = (ag_lateral_t *) arg;
    self->stats.events++;
    if (self->now == 0)
        self->now = s_wall_ns ();
    s_cursor (self, broker, index);
    //  Most events are flows and protocol records: their kind says so without a decode.
    uint64_t ts;
    uint8_t kind;
    if (mm_event_peek (data, len, &ts, &kind) == 0 && kind != MM_KIND_FINDING)
        return;
    mm_error_t err;
    if (mm_event_decode (&self->ev, data, len, &err) == -1) {
        self->stats.bad++;  //  the ingest decoded it already: a store problem if ever
        return;
    }
    if (self->ev.kind != MM_KIND_FINDING || !(self->ev.has & MM_EV_HAS_FINDING))
        return;
    self->stats.findings++;
    s_finding_records (self, broker, index);
    //  A broker's own findings (a silent sensor) are about the mesh, not about a threat.
    if (self->ev.sensor.len == broker.len &&
        memcmp (self->ev.sensor.ptr, broker.ptr, broker.len) == 0) {
        self->stats.broker_findings++;
        return;
    }
    ag_correlate_event (self->cor, &self->ev, self->now);
}

void
ag_lateral_on_round (void *arg)
{
    ag_lateral_t *self = (ag_lateral_t *) arg;
    s_commit_due (self);
    self->now = 0;
}

//  ---------------------------------------------------------------------------------------------
//  Replay at start

typedef struct {
    ag_lateral_t *self;
    char broker[MM_ID_MAX + 1];
    size_t in_round;
    int64_t n;
} s_replay_t;

static int
s_replay_event (void *arg, uint64_t index, const uint8_t *data, size_t len)
{
    s_replay_t *r = (s_replay_t *) arg;
    ag_lateral_on_stored (r->self, mm_str (r->broker), index, data, len);
    r->n++;
    if (++r->in_round >= S_REPLAY_BATCH) {
        ag_lateral_on_round (r->self);
        r->in_round = 0;
    }
    return 0;
}

static int
s_replay_broker (void *arg, mm_str_t broker, uint64_t hwm)
{
    s_replay_t *r = (s_replay_t *) arg;
    ag_lateral_t *self = r->self;
    snprintf (r->broker, sizeof r->broker, "%.*s", (int) broker.len, broker.ptr);
    char key[sizeof S_CURSOR + MM_ID_MAX];
    int klen = snprintf (key, sizeof key, S_CURSOR "%s", r->broker);
    mm_buf_t v = {0};
    int got = ag_store_get (self->store, AG_KV_META, key, (size_t) klen, &v);
    uint64_t cursor = got == 1 && v.len == 8 ? s_get_u64 (v.data) : 0;
    mm_buf_free (&v);
    if (got == -1)
        return -1;
    if (cursor >= hwm)
        return 0;
    zsys_info ("ag_lateral: correlating %llu events of broker %s stored after the last run",
               (unsigned long long) (hwm - cursor), r->broker);
    return ag_store_events_after (self->store, broker, cursor, s_replay_event, r) < 0 ? -1 : 0;
}

int64_t
ag_lateral_replay (ag_lateral_t *self)
{
    s_replay_t r = {.self = self};
    int rc = ag_store_brokers (self->store, s_replay_broker, &r);
    s_commit (self, true);
    self->now = 0;
    self->stats.replayed += (uint64_t) r.n;
    return rc < 0 ? -1 : r.n;
}

//  ---------------------------------------------------------------------------------------------
//  Time, revocations

void
ag_lateral_tick (ag_lateral_t *self)
{
    if (ag_registry_watch_check (self->watch, false) == 1)
        ag_correlate_set_registry (self->cor, s_registry (self));
    //  The correlation's tick walks every warning: once a second is plenty for digests
    //  (minutes), revisions (minutes) and lifetimes (days).
    if (zclock_mono () < self->next_tick_ms)
        return;
    self->next_tick_ms = zclock_mono () + 1000;
    self->now = s_wall_ns ();
    ag_correlate_tick (self->cor, self->now);
    s_commit_due (self);
    self->now = 0;
    //  Retention is RocksDB's compaction; a quiet store compacts rarely on its own.
    if (zclock_mono () >= self->next_compact_ms) {
        if (self->next_compact_ms)
            ag_store_compact (self->store);
        self->next_compact_ms = zclock_mono () + 86400 * 1000;
    }
}

int
ag_lateral_revoke (ag_lateral_t *self, const char *id)
{
    self->now = s_wall_ns ();
    int n = ag_correlate_revoke (self->cor, id, self->now);
    s_commit (self, false);
    self->now = 0;
    if (n >= 0)
        zsys_info ("ag_lateral: warning %s revoked: %d earlier recipients told", id, n);
    else
        zsys_warning ("ag_lateral: no active warning %s to revoke", id);
    return n;
}

static void
s_revoke_file (ag_lateral_t *self, const char *path)
{
    FILE *f = fopen (path, "r");
    if (!f)
        return;
    char line[256];
    while (fgets (line, sizeof line, f)) {
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        size_t n = strcspn (s, " \t\r\n#");
        s[n] = '\0';
        if (n)
            ag_lateral_revoke (self, s);
    }
    fclose (f);
    if (remove (path) != 0)
        zsys_error ("ag_lateral: cannot remove %s: the revocations in it would repeat", path);
}

void
ag_lateral_revoke_inbox (ag_lateral_t *self, const char *dir)
{
    if (!dir || !dir[0])
        return;
    DIR *d = opendir (dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir (d))) {
        size_t n = strlen (e->d_name);
        if (e->d_name[0] == '.' || n < 8 || strcmp (e->d_name + n - 7, ".revoke") != 0)
            continue;
        char path[4096];
        snprintf (path, sizeof path, "%s/%s", dir, e->d_name);
        s_revoke_file (self, path);
    }
    closedir (d);
}

//  ---------------------------------------------------------------------------------------------
//  Life

ag_lateral_t *
ag_lateral_new (const ag_lateral_config_t *cfg, ag_store_t *store, ag_down_t *down,
                ag_console_t *console)
{
    ag_lateral_t *self = (ag_lateral_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = *cfg;
    self->store = store;
    self->down = down;
    self->console = console;
    char err[4096];
    self->watch = ag_registry_watch_new (cfg->registry, err, sizeof err);
    if (!self->watch) {
        zsys_error ("ag_lateral: the registry does not load:\n%s", err);
        goto fail;
    }
    self->allow = ag_allow_new ();
    if (!self->allow)
        goto fail;
    if (cfg->allow_dir && cfg->allow_dir[0] &&
        ag_allow_load_dir (self->allow, cfg->allow_dir, err, sizeof err) == -1) {
        zsys_error ("ag_lateral: allowlists in %s refused:\n%s", cfg->allow_dir, err);
        goto fail;
    }
    const char *psl = cfg->psl && cfg->psl[0] ? cfg->psl : AG_PSL_DEFAULT_PATH;
    self->psl = ag_psl_load (psl, err, sizeof err);
    if (!self->psl) {
        zsys_error ("ag_lateral: the Public Suffix List %s does not load: %s", psl, err);
        goto fail;
    }
    ag_correlate_sink_t sink = {
        .arg = self, .warning = s_on_warning, .digest = s_on_digest, .incident = s_on_incident};
    self->cor =
        ag_correlate_new (&cfg->correlate, s_registry (self), self->allow, self->psl, &sink);
    if (!self->cor)
        goto fail;
    int64_t n = ag_correlate_restore (self->cor, store, s_wall_ns ());
    if (n < 0)
        goto fail;
    zsys_info ("ag_lateral: %lld warnings restored, %zu allowlist entries", (long long) n,
               ag_allow_entries (self->allow));
    return self;
fail:
    ag_lateral_destroy (&self);
    return NULL;
}

void
ag_lateral_destroy (ag_lateral_t **self_p)
{
    ag_lateral_t *self = *self_p;
    if (!self)
        return;
    if (self->cor)
        s_commit (self, true);  //  what the last round left, sightings and cursors too
    ag_correlate_destroy (&self->cor);
    ag_psl_destroy (&self->psl);
    ag_allow_destroy (&self->allow);
    ag_registry_watch_destroy (&self->watch);
    mm_buf_free (&self->arena);
    mm_buf_free (&self->msgs);
    free (self->puts);
    free (self->down_msgs);
    free (self->notices);
    free (self);
    *self_p = NULL;
}

ag_correlate_t *
ag_lateral_correlate (ag_lateral_t *self)
{
    return self->cor;
}

void
ag_lateral_stats (const ag_lateral_t *self, ag_lateral_stats_t *stats)
{
    *stats = self->stats;
}

void
ag_lateral_summary (const ag_lateral_t *self, FILE *out)
{
    const ag_lateral_stats_t *s = &self->stats;
    ag_correlate_stats_t c;
    ag_correlate_stats (self->cor, &c);
    fprintf (out,
             "mimamori-aggregator: correlation: %llu findings (%llu unregistered, %llu without "
             "indicator, %llu allowlisted, %llu from quarantined sensors, %llu over quota), "
             "%llu sightings, %llu groups, %llu warnings (R1 %llu, R2 %llu, R3 %llu, R4 %llu), "
             "%llu notices, %llu digested in %llu digests, %llu revoked, %llu expired, "
             "%llu incidents; down: %llu WARNING, %llu WATCHLIST; %llu commits (%llu failed), "
             "%llu replayed\n",
             (unsigned long long) c.findings, (unsigned long long) c.unregistered,
             (unsigned long long) c.no_indicator, (unsigned long long) c.allowlisted,
             (unsigned long long) c.quarantined, (unsigned long long) c.quota_refused,
             (unsigned long long) c.sightings, (unsigned long long) c.indicators,
             (unsigned long long) c.warnings, (unsigned long long) c.rule[1],
             (unsigned long long) c.rule[2], (unsigned long long) c.rule[3],
             (unsigned long long) c.rule[4], (unsigned long long) c.notices,
             (unsigned long long) c.digested, (unsigned long long) c.digests,
             (unsigned long long) c.revoked, (unsigned long long) c.expired,
             (unsigned long long) c.incidents, (unsigned long long) s->warnings,
             (unsigned long long) s->watchlists, (unsigned long long) s->commits,
             (unsigned long long) s->commit_errors, (unsigned long long) s->replayed);
}
