/*  ag_lateral: see ag_lateral.h. The correlation runs on a worker thread (an actor), one round
    behind the ingest: while the worker correlates round N, the ingest's thread stores round
    N+1; then it writes what round N produced and hands N+1 over. A round (s_round_t) is owned
    by one thread at a time and handed over through the actor's pipe, which orders the
    memory; the correlation's state (ag_correlate, the registry it reads, the serial, `now`)
    is touched by the ingest's thread only while the worker is idle (s_join). Each round
    collects records and messages in arenas (offsets, since the arenas grow). */
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
#include "mm_log.h"

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

typedef struct {
    size_t broker, blen, data, len;  //  into the round's input arena
    uint64_t index;
} s_item_t;

//  One round. In: the findings the ingest stored, and how far each broker's log got. Out: the
//  records, down messages and console notices correlating them produced.
typedef struct {
    mm_buf_t in;
    s_item_t *items;
    size_t n_items, max_items;
    s_cursor_t cursors[S_CURSORS_MAX];
    size_t n_cursors;
    uint64_t now;    //  wall ns the round is correlated at
    bool full;       //  also the sightings (and then the cursors)
    bool rewrite;    //  every sighting and warning whole (records were lost)
    mm_buf_t arena;  //  record keys and values
    mm_buf_t msgs;   //  encoded messages
    s_put_t *puts;
    size_t n_puts, max_puts;
    s_msg_t *down_msgs;
    size_t n_down, max_down;
    s_notice_t *notices;
    size_t n_notices, max_notices;
} s_round_t;

struct ag_lateral_t {
    ag_lateral_config_t cfg;
    ag_store_t *store;
    ag_down_t *down;
    ag_console_t *console;
    ag_registry_watch_t *watch;
    ag_allow_t *allow;
    ag_psl_t *psl;
    ag_correlate_t *cor;
    zactor_t *worker;
    bool busy;  //  the worker has `work`
    s_round_t rounds[4];
    s_round_t *next;  //  collecting on the ingest's thread
    s_round_t *work;  //  the worker's, or (idle) written by the ingest's thread
    s_round_t *done;  //  the worker's last round, written while it does the next one
    s_round_t *kept;  //  output of rounds whose write failed, tried again first
    s_round_t *out;   //  where the sink writes: `work`
    mm_event_t ev;    //  the worker's decode
    s_cursor_t cursors[S_CURSORS_MAX];  //  written rounds' cursors, for the next full commit
    size_t n_cursors;
    uint64_t serial;    //  WATCHLIST serials: wall ns, never repeated
    uint64_t now;       //  wall ns of the round being correlated
    uint64_t notified;  //  wall ns the finding being correlated was notified to its SOC (0: not)
    int64_t next_compact_ms;
    int64_t next_tick_ms;
    int64_t next_full_ms;
    bool rewrite_due;          //  a round's records were given up: the next round writes all again
    ag_lateral_stats_t stats;  //  each field written by one thread; read after s_join
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
s_round_put (s_round_t *r, uint8_t kv, const void *key, size_t klen, const void *val, size_t vlen,
             uint64_t expires)
{
    if (s_grow ((void **) &r->puts, &r->max_puts, r->n_puts, sizeof *r->puts) == -1)
        return;
    s_put_t *p = &r->puts[r->n_puts];
    p->kv = kv;
    p->key = r->arena.len;
    p->klen = klen;
    if (mm_buf_append (&r->arena, key, klen) == -1)
        return;
    p->val = r->arena.len;
    p->vlen = vlen;
    if (mm_buf_append (&r->arena, val, vlen) == -1)
        return;
    p->expires = expires;
    r->n_puts++;
}

static void
s_put (ag_lateral_t *self, uint8_t kv, const void *key, size_t klen, const void *val, size_t vlen,
       uint64_t expires)
{
    s_round_put (self->out, kv, key, klen, val, vlen, expires);
}

//  Appends the message the round's `msgs` grew by since `off` to the down messages.
static void
s_down (ag_lateral_t *self, size_t off)
{
    s_round_t *r = self->out;
    if (s_grow ((void **) &r->down_msgs, &r->max_down, r->n_down, sizeof *r->down_msgs) == -1)
        return;
    r->down_msgs[r->n_down++] = (s_msg_t){off, r->msgs.len - off};
}

static void
s_notice (ag_lateral_t *self, const char *provider, const char *region, uint64_t ts, size_t off)
{
    s_round_t *r = self->out;
    if (!self->console ||
        s_grow ((void **) &r->notices, &r->max_notices, r->n_notices, sizeof *r->notices) == -1)
        return;
    s_notice_t *n = &r->notices[r->n_notices++];
    snprintf (n->provider, sizeof n->provider, "%s", provider);
    snprintf (n->region, sizeof n->region, "%s", region);
    n->ts = ts;
    n->off = off;
    n->len = r->msgs.len - off;
}

//  How far `broker`'s log got, into `cursors` (n of them).
static void
s_cursor (s_cursor_t *cursors, size_t *n, const char *broker, size_t blen, uint64_t index)
{
    for (size_t i = 0; i < *n; i++)
        if (strlen (cursors[i].broker) == blen && memcmp (cursors[i].broker, broker, blen) == 0) {
            if (index > cursors[i].index)
                cursors[i].index = index;
            return;
        }
    if (*n < S_CURSORS_MAX) {
        s_cursor_t *c = &cursors[(*n)++];
        snprintf (c->broker, sizeof c->broker, "%.*s", (int) blen, broker);
        c->index = index;
    }
}

static void
s_round_clear (s_round_t *r)
{
    mm_buf_clear (&r->in);
    mm_buf_clear (&r->arena);
    mm_buf_clear (&r->msgs);
    r->n_items = r->n_cursors = r->n_puts = r->n_down = r->n_notices = 0;
    r->full = r->rewrite = false;
    r->now = 0;
}

static bool
s_round_empty (const s_round_t *r)
{
    return r->n_items == 0 && r->n_cursors == 0 && r->n_puts == 0 && r->n_down == 0 &&
           r->n_notices == 0 && !r->full;
}

static void
s_round_free (s_round_t *r)
{
    mm_buf_free (&r->in);
    mm_buf_free (&r->arena);
    mm_buf_free (&r->msgs);
    free (r->items);
    free (r->puts);
    free (r->down_msgs);
    free (r->notices);
    memset (r, 0, sizeof *r);
}

//  The output of `src` after that of `dst` (a round whose write failed takes the next one's).
//  -1 if memory ran out (then `dst` is as it was).
static int
s_round_absorb (s_round_t *dst, const s_round_t *src)
{
    size_t arena0 = dst->arena.len, msgs0 = dst->msgs.len;
    size_t puts0 = dst->n_puts, down0 = dst->n_down, notices0 = dst->n_notices;
    if (mm_buf_append (&dst->arena, src->arena.data, src->arena.len) == -1 ||
        mm_buf_append (&dst->msgs, src->msgs.data, src->msgs.len) == -1)
        goto fail;
    for (size_t i = 0; i < src->n_puts; i++) {
        if (s_grow ((void **) &dst->puts, &dst->max_puts, dst->n_puts, sizeof *dst->puts) == -1)
            goto fail;
        s_put_t p = src->puts[i];
        p.key += arena0, p.val += arena0;
        dst->puts[dst->n_puts++] = p;
    }
    for (size_t i = 0; i < src->n_down; i++) {
        if (s_grow ((void **) &dst->down_msgs, &dst->max_down, dst->n_down,
                    sizeof *dst->down_msgs) == -1)
            goto fail;
        dst->down_msgs[dst->n_down++] =
            (s_msg_t){src->down_msgs[i].off + msgs0, src->down_msgs[i].len};
    }
    for (size_t i = 0; i < src->n_notices; i++) {
        if (s_grow ((void **) &dst->notices, &dst->max_notices, dst->n_notices,
                    sizeof *dst->notices) == -1)
            goto fail;
        s_notice_t n = src->notices[i];
        n.off += msgs0;
        dst->notices[dst->n_notices++] = n;
    }
    for (size_t i = 0; i < src->n_cursors; i++)
        s_cursor (dst->cursors, &dst->n_cursors, src->cursors[i].broker,
                  strlen (src->cursors[i].broker), src->cursors[i].index);
    dst->full = dst->full || src->full;
    return 0;
fail:
    dst->arena.len = arena0, dst->msgs.len = msgs0;
    dst->n_puts = puts0, dst->n_down = down0, dst->n_notices = notices0;
    return -1;
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
        size_t off = self->out->msgs.len;
        mm_error_t err;
        if (mm_watchlist_encode (&wl, &self->out->msgs, &err) == -1) {
            mm_log_error ("ag_lateral: a WATCHLIST for %s does not encode: %s", org, err.reason);
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
    size_t off = self->out->msgs.len;
    mm_error_t err;
    if (mm_warning_encode (w, &self->out->msgs, &err) == -1) {
        mm_log_error ("ag_lateral: a WARNING for %s does not encode: %s", org, err.reason);
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
    s_put (self, AG_KV_TIMELINE, key, k, self->out->msgs.data + off, self->out->msgs.len - off,
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
    self->notified = inc->notified;  //  the finding being correlated (s_finding)
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
    size_t off = self->out->msgs.len;
    mm_error_t err;
    if (mm_incident_encode (&m, &self->out->msgs, &err) == -1) {
        mm_log_error ("ag_lateral: an INCIDENT for %s does not encode: %s", inc->org, err.reason);
        return;
    }
    s_notice (self, inc->provider, m.region.ptr, m.ts, off);
    self->stats.incidents++;
}

//  ---------------------------------------------------------------------------------------------
//  Correlating a round (the worker)

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
    //  What the statistics read without the EVENT: category, severity, and the seconds from
    //  detection to the SOC's notification + 1 (0: not notified).
    uint8_t val[sizeof ptr + 7];
    memcpy (val, ptr, plen);
    uint64_t delay = 0;
    if (self->notified)
        delay = (self->notified > ev->ts ? (self->notified - ev->ts) / S_NS : 0) + 1;
    if (delay > UINT32_MAX)
        delay = UINT32_MAX;
    val[plen] = 1;  //  the tail's version
    val[plen + 1] = ev->finding.category;
    val[plen + 2] = ev->severity;
    for (int i = 0; i < 4; i++)
        val[plen + 3 + (size_t) i] = (uint8_t) (delay >> (24 - 8 * i));
    s_put (self, AG_KV_FINDING, key, k, val, plen + 7, expires);
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

static void
s_finding (ag_lateral_t *self, mm_str_t broker, uint64_t index, const uint8_t *data, size_t len)
{
    mm_error_t err;
    if (mm_event_decode (&self->ev, data, len, &err) == -1) {
        self->stats.bad++;  //  the ingest decoded it already: a store problem if ever
        return;
    }
    if (self->ev.kind != MM_KIND_FINDING || !(self->ev.has & MM_EV_HAS_FINDING))
        return;
    self->stats.findings++;
    self->notified = 0;
    //  A broker's own findings (a silent sensor) are about the mesh, not about a threat.
    if (self->ev.sensor.len == broker.len &&
        memcmp (self->ev.sensor.ptr, broker.ptr, broker.len) == 0)
        self->stats.broker_findings++;
    else
        ag_correlate_event (self->cor, &self->ev, self->now);
    //  After the correlation: the record says whether (and when) its SOC was notified.
    s_finding_records (self, broker, index);
}

static void
s_record (void *arg, uint8_t kv, const void *key, size_t klen, const uint8_t *val, size_t vlen,
          uint64_t expires)
{
    s_put ((ag_lateral_t *) arg, kv, key, klen, val, vlen, expires);
}

//  The round's findings through the correlation, then the records it changed (the sightings
//  too in a full round) into the round's output.
static void
s_correlate_round (ag_lateral_t *self, s_round_t *r)
{
    self->out = r;
    self->now = r->now;
    for (size_t i = 0; i < r->n_items; i++) {
        const s_item_t *it = &r->items[i];
        mm_str_t broker = {(const char *) r->in.data + it->broker, (uint32_t) it->blen};
        s_finding (self, broker, it->index, r->in.data + it->data, it->len);
    }
    if (r->rewrite)
        ag_correlate_rewrite_all (self->cor);
    ag_correlate_flush (self->cor, r->full, s_record, self);
}

//  The worker: a signal on the pipe is a round to correlate (self->work), answered with a
//  signal when it is done; anything else ($TERM) ends it.
static void
s_worker (zsock_t *pipe, void *arg)
{
    ag_lateral_t *self = (ag_lateral_t *) arg;
    zsock_signal (pipe, 0);
    while (true) {
        zmsg_t *msg = zmsg_recv (pipe);
        bool round = msg && zmsg_signal (msg) >= 0;
        zmsg_destroy (&msg);
        if (!round)
            break;
        struct timespec t0, t1;
        clock_gettime (CLOCK_THREAD_CPUTIME_ID, &t0);
        s_correlate_round (self, self->work);
        clock_gettime (CLOCK_THREAD_CPUTIME_ID, &t1);
        self->stats.worker_cpu_ns +=
            (uint64_t) ((t1.tv_sec - t0.tv_sec) * (int64_t) S_NS + (t1.tv_nsec - t0.tv_nsec));
        zsock_signal (pipe, 0);
    }
}

//  ---------------------------------------------------------------------------------------------
//  Writing a round (the ingest's thread)

static int
s_write (ag_lateral_t *self, s_round_t *r)
{
    ag_store_put_t *puts = (ag_store_put_t *) calloc (r->n_puts + 1, sizeof *puts);
    ag_store_msg_t *msgs = (ag_store_msg_t *) calloc (r->n_down + 1, sizeof *msgs);
    int rc = -1;
    if (puts && msgs) {
        for (size_t i = 0; i < r->n_puts; i++) {
            const s_put_t *p = &r->puts[i];
            puts[i] = (ag_store_put_t){p->kv,   r->arena.data + p->key,
                                       p->klen, r->arena.data + p->val,
                                       p->vlen, p->expires};
        }
        for (size_t i = 0; i < r->n_down; i++)
            msgs[i] = (ag_store_msg_t){r->msgs.data + r->down_msgs[i].off, r->down_msgs[i].len};
        rc = ag_store_write (self->store, puts, r->n_puts, msgs, r->n_down);
    }
    free (puts);
    free (msgs);
    return rc;
}

//  A round whose write failed: kept (with any earlier one) for the next commit. The
//  correlation already counts these warnings as told and these records as written; the
//  cursors did not move. Only a store that stays broken for long makes it too big to keep.
static void
s_keep (ag_lateral_t *self, s_round_t *r)
{
    self->stats.commit_errors++;
    mm_log_error ("ag_lateral: correlation records and %zu down messages not written (kept, "
                  "tried again with the next round): %s",
                  r->n_down, ag_store_error (self->store));
    if (r->arena.len + r->msgs.len < S_KEEP_MAX) {
        s_round_t t = *self->kept;  //  the kept buffers (empty) take r's place
        *self->kept = *r;
        *r = t;
        return;
    }
    mm_log_error ("ag_lateral: %zu bytes of unwritten records and %zu down messages given up; "
                  "the correlation's records will be written whole again",
                  r->arena.len + r->msgs.len, r->n_down);
    self->stats.dropped_rounds++;
    self->rewrite_due = true;
}

//  Round `r`'s output, after whatever earlier rounds left unwritten, in one synced write:
//  records and down messages together. A `full` round also writes the cursors of every round
//  written since the last full one: until then a crash replays the events since the last full
//  one into the sightings as they were written then. Then the consoles. Clears `r`.
static void
s_commit (ag_lateral_t *self, s_round_t *r)
{
    if (!s_round_empty (self->kept)) {
        if (s_round_absorb (self->kept, r) == -1) {
            mm_log_error ("ag_lateral: out of memory keeping an unwritten round: given up; the "
                          "correlation's records will be written whole again");
            self->stats.dropped_rounds++;
            self->rewrite_due = true;
            s_round_clear (r);
            return;
        }
        s_round_t t = *self->kept;  //  r takes the whole, the kept buffers get r's (reused)
        *self->kept = *r;
        *r = t;
        s_round_clear (self->kept);
    }
    size_t n_cursors = self->n_cursors;  //  given back if the write fails
    s_cursor_t saved[S_CURSORS_MAX];
    memcpy (saved, self->cursors, n_cursors * sizeof *saved);
    for (size_t i = 0; i < r->n_cursors; i++)
        s_cursor (self->cursors, &self->n_cursors, r->cursors[i].broker,
                  strlen (r->cursors[i].broker), r->cursors[i].index);
    for (size_t i = 0; r->full && i < self->n_cursors; i++) {
        char key[sizeof S_CURSOR + MM_ID_MAX];
        int klen = snprintf (key, sizeof key, S_CURSOR "%s", self->cursors[i].broker);
        uint8_t v[8];
        s_u64 (v, self->cursors[i].index);
        s_round_put (r, AG_KV_META, key, (size_t) klen, v, 8, 0);
    }
    if (r->n_puts == 0 && r->n_down == 0 && r->n_notices == 0) {
        s_round_clear (r);  //  (cursors are puts: a full commit with cursors always writes)
        return;
    }
    int rc = s_write (self, r);
    if (rc == -1) {
        self->n_cursors = n_cursors;  //  r's cursors go with it into the kept round
        memcpy (self->cursors, saved, n_cursors * sizeof *saved);
        s_keep (self, r);
        s_round_clear (r);
        return;
    }
    self->stats.commits++;
    if (r->n_down && rc == 0) {
        self->stats.no_broker++;
        mm_log_warning ("ag_lateral: no broker has registered yet: %zu down messages dropped",
                        r->n_down);
    }
    if (r->n_down && rc > 0 && self->down) {
        ag_down_note_queued (self->down, r->n_down);
        ag_down_run (self->down);  //  now: a tick's commit would wait for the next poll
    }
    for (size_t i = 0; i < r->n_notices; i++) {
        const s_notice_t *n = &r->notices[i];
        ag_console_publish (self->console, n->provider, n->region, n->ts, r->msgs.data + n->off,
                            n->len);
    }
    if (r->full)
        self->n_cursors = 0;
    s_round_clear (r);
}

static void
s_wait (ag_lateral_t *self)
{
    int64_t t0 = zclock_usecs ();
    zsock_wait (self->worker);
    self->stats.wait_ns += (uint64_t) (zclock_usecs () - t0) * 1000u;
    self->busy = false;
}

//  Waits for the worker's round and writes it. Afterwards the worker is idle and the
//  correlation is this thread's until the next s_start; `work` is empty and is `out`.
static void
s_join (ag_lateral_t *self)
{
    if (self->busy) {
        s_wait (self);
        s_commit (self, self->work);
    }
    self->out = self->work;
}

static bool
s_full_due (ag_lateral_t *self)
{
    bool full = zclock_mono () >= self->next_full_ms;
    if (full)
        self->next_full_ms = zclock_mono () + S_FULL_MS;
    return full;
}

//  Hands the collected round to the worker (which must be idle).
static void
s_start (ag_lateral_t *self)
{
    s_round_t *r = self->next;
    self->next = self->work;
    self->work = r;
    r->now = s_wall_ns ();
    r->full = s_full_due (self) || self->rewrite_due;
    r->rewrite = self->rewrite_due;
    self->rewrite_due = false;
    self->busy = true;
    zsock_signal (self->worker, 0);
}

//  What the ingest's thread changed in the correlation itself (tick, revocation, the end of a
//  replay), written now: the worker must be idle.
static void
s_commit_now (ag_lateral_t *self, bool full)
{
    s_join (self);
    s_round_t *r = self->work;
    r->full = r->full || full || self->rewrite_due;
    if (self->rewrite_due)
        ag_correlate_rewrite_all (self->cor);
    self->rewrite_due = false;
    ag_correlate_flush (self->cor, r->full, s_record, self);
    s_commit (self, r);
}

void
ag_lateral_on_stored (void *arg, mm_str_t broker, uint64_t index, const uint8_t *data, size_t len)
{
    ag_lateral_t *self = (ag_lateral_t *) arg;
    s_round_t *r = self->next;
    self->stats.events++;
    s_cursor (r->cursors, &r->n_cursors, broker.ptr, broker.len, index);
    //  Most events are flows and protocol records: their kind says so without a decode.
    uint64_t ts;
    uint8_t kind;
    if (mm_event_peek (data, len, &ts, &kind) == 0 && kind != MM_KIND_FINDING)
        return;
    if (s_grow ((void **) &r->items, &r->max_items, r->n_items, sizeof *r->items) == -1)
        return;  //  (its cursor moves with the round: a crash would not bring it back)
    s_item_t *it = &r->items[r->n_items];
    it->broker = r->in.len;
    it->blen = broker.len;
    it->index = index;
    if (mm_buf_append (&r->in, broker.ptr, broker.len) == -1)
        return;
    it->data = r->in.len;
    it->len = len;
    if (mm_buf_append (&r->in, data, len) == -1)
        return;
    r->n_items++;
}

//  The worker's previous round is written after it has the new one: the write (this thread)
//  and the correlation (the worker) overlap, and so do the next round's events.
void
ag_lateral_on_round (void *arg)
{
    ag_lateral_t *self = (ag_lateral_t *) arg;
    s_round_t *written = NULL;
    if (self->busy) {
        s_wait (self);
        written = self->work;  //  `done` is empty: it takes the worker's output
        self->work = self->done;
        self->done = written;
    }
    self->out = self->work;
    //  Only flows: nothing to correlate, their cursors wait for the next full commit.
    bool start = !s_round_empty (self->next) &&
                 (self->next->n_items > 0 || zclock_mono () >= self->next_full_ms);
    if (start)
        s_start (self);
    if (written)
        s_commit (self, written);
    if (!start && !s_round_empty (self->next))
        s_commit (self, self->next);
}

void *
ag_lateral_wake_sock (ag_lateral_t *self)
{
    return self->worker;
}

void
ag_lateral_on_wake (void *arg)
{
    ag_lateral_t *self = (ag_lateral_t *) arg;
    if (self->busy && (zsock_events (self->worker) & ZMQ_POLLIN))
        s_join (self);
}

void
ag_lateral_sync (ag_lateral_t *self)
{
    s_join (self);
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
    mm_log_info ("ag_lateral: correlating %llu events of broker %s stored after the last run",
                 (unsigned long long) (hwm - cursor), r->broker);
    return ag_store_events_after (self->store, broker, cursor, s_replay_event, r) < 0 ? -1 : 0;
}

int64_t
ag_lateral_replay (ag_lateral_t *self)
{
    s_replay_t r = {.self = self};
    int rc = ag_store_brokers (self->store, s_replay_broker, &r);
    s_commit_now (self, true);
    self->stats.replayed += (uint64_t) r.n;
    return rc < 0 ? -1 : r.n;
}

//  ---------------------------------------------------------------------------------------------
//  Time, revocations

void
ag_lateral_tick (ag_lateral_t *self)
{
    //  The correlation's tick walks every warning: once a second is plenty for digests
    //  (minutes), revisions (minutes), lifetimes (days) and a registry edited by hand. The
    //  worker is idle meanwhile (a reload frees the registry it reads).
    if (zclock_mono () < self->next_tick_ms)
        return;
    self->next_tick_ms = zclock_mono () + 1000;
    s_join (self);
    if (ag_registry_watch_check (self->watch, false) == 1)
        ag_correlate_set_registry (self->cor, s_registry (self));
    self->now = s_wall_ns ();
    ag_correlate_tick (self->cor, self->now);
    s_commit_now (self, s_full_due (self));
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
    s_join (self);
    self->now = s_wall_ns ();
    int n = ag_correlate_revoke (self->cor, id, self->now);
    s_commit_now (self, false);
    if (n >= 0)
        mm_log_info ("ag_lateral: warning %s revoked: %d earlier recipients told", id, n);
    else
        mm_log_warning ("ag_lateral: no active warning %s to revoke", id);
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
        mm_log_error ("ag_lateral: cannot remove %s: the revocations in it would repeat", path);
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
    self->next = &self->rounds[0];
    self->work = self->out = &self->rounds[1];
    self->done = &self->rounds[2];
    self->kept = &self->rounds[3];
    self->store = store;
    self->down = down;
    self->console = console;
    char err[4096];
    self->watch = ag_registry_watch_new (cfg->registry, err, sizeof err);
    if (!self->watch) {
        mm_log_error ("ag_lateral: the registry does not load:\n%s", err);
        goto fail;
    }
    self->allow = ag_allow_new ();
    if (!self->allow)
        goto fail;
    if (cfg->allow_dir && cfg->allow_dir[0] &&
        ag_allow_load_dir (self->allow, cfg->allow_dir, err, sizeof err) == -1) {
        mm_log_error ("ag_lateral: allowlists in %s refused:\n%s", cfg->allow_dir, err);
        goto fail;
    }
    const char *psl = cfg->psl && cfg->psl[0] ? cfg->psl : AG_PSL_DEFAULT_PATH;
    self->psl = ag_psl_load (psl, err, sizeof err);
    if (!self->psl) {
        mm_log_error ("ag_lateral: the Public Suffix List %s does not load: %s", psl, err);
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
    mm_log_info ("ag_lateral: %lld warnings restored, %zu allowlist entries", (long long) n,
                 ag_allow_entries (self->allow));
    self->worker = zactor_new (s_worker, self);
    if (!self->worker)
        goto fail;
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
    if (self->worker) {
        s_commit_now (self, true);  //  what the last round left, sightings and cursors too
        zactor_destroy (&self->worker);
    }
    ag_correlate_destroy (&self->cor);
    ag_psl_destroy (&self->psl);
    ag_allow_destroy (&self->allow);
    ag_registry_watch_destroy (&self->watch);
    for (size_t i = 0; i < sizeof self->rounds / sizeof self->rounds[0]; i++)
        s_round_free (&self->rounds[i]);
    free (self);
    *self_p = NULL;
}

ag_correlate_t *
ag_lateral_correlate (ag_lateral_t *self)
{
    s_join (self);
    return self->cor;
}

const ag_registry_t *
ag_lateral_registry (ag_lateral_t *self)
{
    return s_registry (self);
}

void
ag_lateral_stats (ag_lateral_t *self, ag_lateral_stats_t *stats)
{
    s_join (self);
    *stats = self->stats;
}

void
ag_lateral_summary (ag_lateral_t *self, FILE *out)
{
    s_join (self);
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
