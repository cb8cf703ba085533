/*  bk_broker: the sensor-facing side of mimamori-broker (see bk_broker.h).
    Owner: broker/. Receive a round, validate, restamp, store once, then ACK. */
#include "bk_broker.h"

#include <errno.h>
#include <string.h>

#include "mm_ack.h"
#include "mm_event.h"
#include "mm_heartbeat.h"
#include "mm_log.h"

#define S_DOMAIN "sensors"
#define S_LOG_BAD_MS 1000    //  at most one line per second per reason
#define S_LOG_FULL_MS 60000  //  the store-full line: once a minute
#define S_LOG_OTHER_MS 1000  //  store errors, ACK failures

//  One EVENT of the round. Its bytes (as received, or restamped) are in the round's arena at
//  `off`; the routing id is kept to send the ACK on the connection the event came from.
typedef struct {
    char sensor[MM_ID_MAX + 1];
    char pubkey[MM_CERT_KEY_TXT + 1];
    zframe_t *rid;
    uint64_t seq;
    size_t off, len;
} s_item_t;

typedef struct {
    int64_t last_ms;  //  0: never logged
    uint64_t suppressed;
} s_ratelog_t;

typedef struct {
    int64_t last_heartbeat;       //  zclock_mono ms, -1: none yet
    int64_t last_heartbeat_wall;  //  zclock_time ms, for the finding's evidence
    uint64_t heartbeats;
    char org[MM_ID_MAX + 1];
    bool silent;          //  a sensor.silent finding is open
    bool heard;           //  a frame came from it since the broker started
    uint64_t finding_id;  //  the seq of the event that raised it
} s_sensor_t;

struct bk_broker_t {
    char id[MM_ID_MAX + 1];
    mm_cert_t *cert;
    bk_store_t *store;
    mm_curve_server_t *server;
    bk_down_t *down;
    zpoller_t *poller;
    uint32_t batch_max;
    uint32_t heartbeat_ivl_ms;
    uint32_t start_grace_ms;
    int64_t health_ms;  //  last health check
    s_item_t *items;    //  batch_max
    size_t n_items;
    bk_store_item_t *store_items;  //  batch_max
    bk_store_ack_t *acks;          //  batch_max
    mm_buf_t arena;                //  the round's event bytes
    mm_buf_t out;                  //  re-encoding and ACKs
    mm_event_t ev;                 //  large: decoded here rather than on the stack
    zhash_t *sensors;              //  sensor id -> s_sensor_t
    s_ratelog_t log_bad[BK_BAD_COUNT_];
    s_ratelog_t log_full, log_store, log_ack;
    bk_broker_stats_t stats;
};

static const char *s_bad_names[BK_BAD_COUNT_] = {"oversized", "truncated", "malformed", "type"};

const char *
bk_bad_name (bk_bad_t reason)
{
    return (unsigned) reason < BK_BAD_COUNT_ ? s_bad_names[reason] : "?";
}

//  True if a line may be written now; `*suppressed` gets how many were held back since.
static bool
s_ratelog (s_ratelog_t *r, int64_t interval_ms, uint64_t *suppressed)
{
    int64_t now = zclock_mono ();
    if (r->last_ms && now - r->last_ms < interval_ms) {
        r->suppressed++;
        return false;
    }
    r->last_ms = now;
    *suppressed = r->suppressed;
    r->suppressed = 0;
    return true;
}

//  The state of sensor `id`; `heard`: a frame came from it now (counted once).
static s_sensor_t *
s_sensor_get (bk_broker_t *self, const char *id, bool heard)
{
    s_sensor_t *s = zhash_lookup (self->sensors, id);
    if (!s) {
        s = calloc (1, sizeof *s);
        if (!s)
            return NULL;
        s->last_heartbeat = -1;
        if (zhash_insert (self->sensors, id, s) != 0) {
            free (s);
            return NULL;
        }
        zhash_freefn (self->sensors, id, free);
    }
    if (heard && !s->heard) {
        s->heard = true;
        self->stats.sensors++;
    }
    return s;
}

static s_sensor_t *
s_sensor (bk_broker_t *self, const char *id)
{
    return s_sensor_get (self, id, true);
}

//  A sensor this broker has stored events of before (its high-water mark is in the store) and
//  that is still allowed is expected to heartbeat: it is watched from the broker's start as if
//  it had heartbeated then, so one that died while the broker was down is noticed too.
static int
s_expect (void *arg, const mm_identity_t *ident)
{
    bk_broker_t *self = arg;
    uint64_t hwm = bk_store_hwm (self->store, mm_str (ident->id));
    if (hwm == 0 || hwm == UINT64_MAX)
        return 0;
    s_sensor_t *s = s_sensor_get (self, ident->id, false);
    if (s && s->last_heartbeat < 0) {
        s->last_heartbeat = zclock_mono ();
        s->last_heartbeat_wall = zclock_time ();
        snprintf (s->org, sizeof s->org, "%s", ident->org);
    }
    return 0;
}

bk_broker_t *
bk_broker_new (const bk_broker_config_t *config, mm_curve_auth_t *auth)
{
    if (!config || !auth || !config->endpoint || !config->allow_dir || !config->cert_secret ||
        !config->store_path) {
        mm_log_error ("bk_broker: endpoint, allow_dir, cert_secret and store_path are required");
        return NULL;
    }
    bk_broker_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    char err[256];
    self->batch_max = config->batch_max ? config->batch_max : BK_BROKER_BATCH_DEFAULT;
    self->heartbeat_ivl_ms =
        config->heartbeat_ivl_ms ? config->heartbeat_ivl_ms : BK_BROKER_HEARTBEAT_IVL_DEFAULT;
    self->start_grace_ms = config->start_grace_ms;
    self->cert = mm_cert_load (config->cert_secret, err, sizeof err);
    if (!self->cert) {
        mm_log_error ("bk_broker: %s", err);
        goto fail;
    }
    if (!mm_cert_has_secret (self->cert)) {
        mm_log_error ("bk_broker: %s holds no secret key", config->cert_secret);
        goto fail;
    }
    const char *id = config->id && config->id[0] ? config->id : mm_cert_identity (self->cert)->id;
    snprintf (self->id, sizeof self->id, "%s", id);
    bk_store_config_t scfg;
    bk_store_config_defaults (&scfg);
    scfg.max_bytes = config->store_max_bytes;
    self->store = bk_store_new (config->store_path, &scfg, err, sizeof err);
    if (!self->store) {
        mm_log_error ("bk_broker: store %s: %s", config->store_path, err);
        goto fail;
    }
    mm_curve_server_config_t ccfg = {
        .endpoint = config->endpoint,
        .domain = S_DOMAIN,
        .allow_dir = config->allow_dir,
        .revoke_file = config->revoke_file && config->revoke_file[0] ? config->revoke_file : NULL,
        .roles = MM_ROLE_BIT (MM_ROLE_SENSOR),
    };
    self->server = mm_curve_server_new (auth, self->cert, &ccfg);
    if (!self->server)
        goto fail;  //  mm_curve logged why
    self->down = bk_down_new (self->store, self->server, self->id);
    if (!self->down)
        goto fail;
    self->sensors = zhash_new ();
    if (!self->sensors)
        goto fail;
    mm_curve_allow_each (mm_curve_server_allow (self->server), s_expect, self);
    //  The round takes only what is already waiting; the poller does the waiting.
    zsock_set_rcvtimeo (mm_curve_server_sock (self->server), 0);
    self->poller = zpoller_new (mm_curve_server_sock (self->server), NULL);
    self->items = calloc (self->batch_max, sizeof *self->items);
    self->store_items = calloc (self->batch_max, sizeof *self->store_items);
    self->acks = calloc (self->batch_max, sizeof *self->acks);
    if (!self->poller || !self->items || !self->store_items || !self->acks)
        goto fail;
    mm_log_info ("bk_broker: %s: accepting sensors on %s (allow-list %s)", self->id,
                 mm_curve_server_endpoint (self->server), config->allow_dir);
    return self;
fail:
    bk_broker_destroy (&self);
    return NULL;
}

static void
s_clear_round (bk_broker_t *self)
{
    for (size_t i = 0; i < self->n_items; i++)
        zframe_destroy (&self->items[i].rid);
    self->n_items = 0;
    mm_buf_clear (&self->arena);
}

void
bk_broker_destroy (bk_broker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bk_broker_t *self = *self_p;
    s_clear_round (self);
    zpoller_destroy (&self->poller);
    bk_down_destroy (&self->down);
    mm_curve_server_destroy (&self->server);
    bk_store_destroy (&self->store);
    mm_cert_destroy (&self->cert);
    zhash_destroy (&self->sensors);
    free (self->items);
    free (self->store_items);
    free (self->acks);
    mm_buf_free (&self->arena);
    mm_buf_free (&self->out);
    free (self);
    *self_p = NULL;
}

static void
s_bad (bk_broker_t *self, bk_bad_t reason, const mm_identity_t *peer, const char *why)
{
    self->stats.bad[reason]++;
    uint64_t suppressed;
    if (s_ratelog (&self->log_bad[reason], S_LOG_BAD_MS, &suppressed))
        mm_log_warning ("bk_broker: %s: bad frame (%s) from sensor %s (%s): %s (%llu more of this "
                        "kind not logged)",
                        self->id, bk_bad_name (reason), peer->id, peer->org, why,
                        (unsigned long long) suppressed);
}

static bk_bad_t
s_reason (const mm_error_t *err)
{
    if (err->code == MM_ERR_TRUNCATED)
        return BK_BAD_TRUNCATED;
    if (err->code == MM_ERR_TOO_BIG)
        return BK_BAD_OVERSIZED;
    return BK_BAD_MALFORMED;
}

//  An EVENT: validated, restamped if needed, appended to the round. 0, or -1 (counted).
static int
s_on_event (bk_broker_t *self, zframe_t **rid_p, const mm_identity_t *peer, const uint8_t *data,
            size_t len)
{
    mm_error_t err;
    if (mm_event_decode (&self->ev, data, len, &err) == -1) {
        s_bad (self, s_reason (&err), peer, err.reason);
        return -1;
    }
    //  Identity comes from the key: a body that claims another sensor or org is restamped.
    if (!mm_str_eq (self->ev.sensor, peer->id) || !mm_str_eq (self->ev.org, peer->org)) {
        self->ev.sensor = mm_str (peer->id);
        self->ev.org = mm_str (peer->org);
        mm_buf_clear (&self->out);
        if (mm_event_encode (&self->ev, &self->out, &err) == -1) {
            //  Cannot happen for a decoded event with valid ids; refused rather than stored
            //  under the wrong name.
            s_bad (self, BK_BAD_MALFORMED, peer, err.reason);
            return -1;
        }
        self->stats.corrected++;
        data = self->out.data;
        len = self->out.len;
    }
    s_item_t *it = &self->items[self->n_items];
    it->off = self->arena.len;
    if (mm_buf_append (&self->arena, data, len) == -1) {
        mm_log_error ("bk_broker: %s: out of memory", self->id);
        return -1;
    }
    snprintf (it->sensor, sizeof it->sensor, "%s", peer->id);
    snprintf (it->pubkey, sizeof it->pubkey, "%s", peer->pubkey);
    it->rid = *rid_p;
    *rid_p = NULL;
    it->seq = self->ev.seq;
    it->len = len;
    self->n_items++;
    return 0;
}

//  The sensor will never send seqs hole_from..hole_to (lost on its side): the broker stops
//  waiting for them, durably, once it has everything before them.
static void
s_skip (bk_broker_t *self, const mm_identity_t *peer, uint64_t hole_from, uint64_t hole_to)
{
    uint64_t from = 0;
    int rc = bk_store_skip (self->store, mm_str (peer->id), hole_from, hole_to, &from);
    if (rc != 1) {
        if (rc == -1)
            self->stats.store_errors++;
        return;
    }
    self->stats.gaps++;
    mm_log_warning ("bk_broker: %s: sensor %s lost seq %llu..%llu (%llu events) on its side "
                    "(spool bound, power cut or damage): skipped",
                    self->id, peer->id, (unsigned long long) from, (unsigned long long) hole_to,
                    (unsigned long long) (hole_to - from + 1));
}

static void
s_on_heartbeat (bk_broker_t *self, const mm_identity_t *peer, const uint8_t *data, size_t len)
{
    mm_heartbeat_t hb;
    mm_error_t err;
    if (mm_heartbeat_decode (&hb, data, len, &err) == -1) {
        s_bad (self, s_reason (&err), peer, err.reason);
        return;
    }
    self->stats.heartbeats++;
    if (hb.hole_to)
        s_skip (self, peer, hb.hole_from, hb.hole_to);
    s_sensor_t *s = s_sensor (self, peer->id);
    if (s) {
        s->last_heartbeat = zclock_mono ();
        s->last_heartbeat_wall = zclock_time ();
        s->heartbeats++;
        snprintf (s->org, sizeof s->org, "%s", peer->org);
    }
}

//  A sensor confirms the down messages it has taken (bk_down).
static void
s_on_down_ack (bk_broker_t *self, const mm_identity_t *peer, const uint8_t *data, size_t len)
{
    mm_ack_t ack;
    mm_error_t err;
    if (mm_ack_decode (&ack, data, len, &err) == -1) {
        s_bad (self, s_reason (&err), peer, err.reason);
        return;
    }
    bk_down_on_ack (self->down, peer, &ack);
}

static void
s_on_frame (bk_broker_t *self, zframe_t **rid_p, const mm_identity_t *peer, zframe_t *frame)
{
    const uint8_t *data = zframe_data (frame);
    size_t len = zframe_size (frame);
    if (len > MM_MSG_MAX) {
        s_bad (self, BK_BAD_OVERSIZED, peer, "larger than the protocol's limit");
        return;
    }
    mm_msg_type_t type;
    mm_error_t err;
    if (mm_msg_peek (data, len, &type, &err) == -1) {
        s_bad (self, s_reason (&err), peer, err.reason);
        return;
    }
    //  Any valid frame tells the down path where the sensor is now.
    bk_down_seen (self->down, peer, *rid_p);
    if (type == MM_MSG_EVENT)
        s_on_event (self, rid_p, peer, data, len);
    else if (type == MM_MSG_HEARTBEAT)
        s_on_heartbeat (self, peer, data, len);
    else if (type == MM_MSG_ACK)
        s_on_down_ack (self, peer, data, len);
    else {
        const char *name = mm_msg_type_name ((unsigned) type);
        s_bad (self, BK_BAD_TYPE, peer, name ? name : "unknown type");
    }
}

//  The routing id and key of the last event of `sensor` in the round: the ACK goes back on the
//  connection the sensor used last.
static const s_item_t *
s_last_item (const bk_broker_t *self, mm_str_t sensor)
{
    for (size_t i = self->n_items; i-- > 0;) {
        const s_item_t *it = &self->items[i];
        if (strlen (it->sensor) == sensor.len && memcmp (it->sensor, sensor.ptr, sensor.len) == 0)
            return it;
    }
    return NULL;
}

static void
s_send_ack (bk_broker_t *self, const bk_store_ack_t *a)
{
    const s_item_t *it = s_last_item (self, a->sensor);
    if (!it)
        return;  //  cannot happen: every ack comes from an item
    mm_ack_t ack = {.ts = (uint64_t) zclock_time () * 1000000u, .sensor = a->sensor, .seq = a->hwm};
    mm_error_t err;
    mm_buf_clear (&self->out);
    if (mm_ack_encode (&ack, &self->out, &err) == 0 &&
        mm_curve_server_send (self->server, it->rid, it->pubkey, self->out.data, self->out.len) ==
            0) {
        self->stats.acks++;
        return;
    }
    //  The sensor resends what it has not seen acknowledged; the next ACK covers it.
    self->stats.ack_errors++;
    uint64_t suppressed;
    if (s_ratelog (&self->log_ack, S_LOG_OTHER_MS, &suppressed))
        mm_log_warning ("bk_broker: %s: ACK %llu to sensor %s not sent: %s (%llu more not logged)",
                        self->id, (unsigned long long) a->hwm, it->sensor, strerror (errno),
                        (unsigned long long) suppressed);
}

//  Stores the round's events in one synced write, then acknowledges each sensor.
static int
s_flush (bk_broker_t *self)
{
    if (self->n_items == 0)
        return 0;
    for (size_t i = 0; i < self->n_items; i++) {
        const s_item_t *it = &self->items[i];
        self->store_items[i] = (bk_store_item_t){
            .sensor = mm_str (it->sensor),
            .seq = it->seq,
            .data = self->arena.data + it->off,
            .len = it->len,
        };
    }
    size_t n_acks = 0;
    int rc = bk_store_put_events (self->store, self->store_items, self->n_items, self->acks,
                                  self->batch_max, &n_acks);
    if (rc == -1) {
        self->stats.store_errors++;
        uint64_t suppressed;
        if (s_ratelog (&self->log_store, S_LOG_OTHER_MS, &suppressed))
            mm_log_error ("bk_broker: %s: store write failed, %zu events not acknowledged: %s "
                          "(%llu more not logged)",
                          self->id, self->n_items, bk_store_error (self->store),
                          (unsigned long long) suppressed);
        s_clear_round (self);
        return -1;
    }
    self->stats.batches++;
    for (size_t i = 0; i < n_acks; i++) {
        const bk_store_ack_t *a = &self->acks[i];
        self->stats.events += a->stored;
        self->stats.duplicates += a->duplicates;
        self->stats.refused += a->refused;
        self->stats.out_of_order += a->out_of_order;
        char sensor[MM_ID_MAX + 1];
        snprintf (sensor, sizeof sensor, "%.*s", (int) a->sensor.len, a->sensor.ptr);
        s_sensor (self, sensor);
        //  Full store: what was refused stays in the sensor's spool. Nothing new is durable,
        //  so no ACK (an ACK of the old mark would be correct but tells the sensor nothing).
        if (a->refused && !a->stored)
            continue;
        s_send_ack (self, a);
    }
    if (self->stats.refused && bk_store_full (self->store)) {
        uint64_t suppressed;
        if (s_ratelog (&self->log_full, S_LOG_FULL_MS, &suppressed)) {
            bk_store_stats_t ss;
            bk_store_stats (self->store, &ss);
            mm_log_warning (
                "bk_broker: %s: store full (%llu of %llu bytes, %llu events waiting for "
                "the aggregator): events are not acknowledged, sensors keep them",
                self->id, (unsigned long long) ss.size_bytes, (unsigned long long) ss.max_bytes,
                (unsigned long long) ss.forward_backlog);
        }
    }
    s_clear_round (self);
    return 0;
}

//  Writes revision `back` (0: silent, 1: back) of the sensor.silent finding for `id` into the
//  store as an event of this broker's own stream. 0, or -1 (counted; the check retries).
static int
s_health_finding (bk_broker_t *self, const char *id, s_sensor_t *s, bool back, int64_t now)
{
    const char *me = mm_cert_identity (self->cert)->id;
    uint64_t hwm = bk_store_hwm (self->store, mm_str (me));
    if (hwm == UINT64_MAX) {
        self->stats.health_errors++;
        return -1;
    }
    char msg[256];
    if (back)
        snprintf (msg, sizeof msg, "sensor %s is heartbeating again", id);
    else if (s->heartbeats == 0)
        snprintf (msg, sizeof msg,
                  "sensor %s silent: no heartbeat in the %lld ms since the broker started (3 "
                  "intervals of %u ms and %u ms to reconnect)",
                  id, (long long) (now - s->last_heartbeat), self->heartbeat_ivl_ms,
                  self->start_grace_ms);
    else
        snprintf (msg, sizeof msg,
                  "sensor %s silent: no heartbeat for %lld ms (3 intervals of %u ms)", id,
                  (long long) (now - s->last_heartbeat), self->heartbeat_ivl_ms);
    uint64_t wall_ns = (uint64_t) zclock_time () * 1000000u;
    mm_event_t *ev = &self->ev;
    memset (ev, 0, sizeof *ev);
    ev->ts = wall_ns;
    ev->sensor = mm_str (me);
    ev->org = mm_str (s->org);
    ev->seq = hwm + 1;
    ev->kind = MM_KIND_FINDING;
    ev->severity = back ? MM_SEV_INFO : MM_SEV_HIGH;
    ev->confidence = 100;
    ev->has = MM_EV_HAS_FINDING;
    mm_finding_t *f = &ev->finding;
    f->has = MM_FINDING_HAS_EVIDENCE;
    f->id = back ? s->finding_id : ev->seq;
    f->revision = back ? 1 : 0;
    f->detector = mm_str ("sensor.silent");
    f->detector_version = 1;
    f->category = MM_CAT_SENSOR;
    f->message = mm_str (msg);
    f->evidence.count = 1;
    f->evidence.first_ts = (uint64_t) s->last_heartbeat_wall * 1000000u;
    f->evidence.last_ts = wall_ns;
    f->evidence.window_s = 3 * self->heartbeat_ivl_ms / 1000;
    mm_error_t err;
    mm_buf_clear (&self->out);
    if (mm_event_encode (ev, &self->out, &err) == -1) {
        mm_log_error ("bk_broker: %s: sensor.silent for %s not encoded: %s", self->id, id,
                      err.reason);
        self->stats.health_errors++;
        return -1;
    }
    bk_store_item_t item = {
        .sensor = mm_str (me), .seq = hwm + 1, .data = self->out.data, .len = self->out.len};
    bk_store_ack_t ack;
    size_t n_acks = 0;
    if (bk_store_put_events (self->store, &item, 1, &ack, 1, &n_acks) == -1 || n_acks != 1 ||
        ack.stored != 1) {
        self->stats.health_errors++;
        return -1;
    }
    if (back)
        self->stats.back++;
    else {
        self->stats.silent++;
        s->finding_id = hwm + 1;
    }
    mm_log_warning ("bk_broker: %s: %s (finding %s/%llu revision %u)", self->id, msg, me,
                    (unsigned long long) f->id, f->revision);
    return 0;
}

//  Raises or clears sensor.silent, checked every tenth of an interval (cheap: a walk of the
//  sensors known since start).
static void
s_check_health (bk_broker_t *self)
{
    int64_t now = zclock_mono ();
    int64_t every = self->heartbeat_ivl_ms / 10 > 0 ? self->heartbeat_ivl_ms / 10 : 1;
    if (now - self->health_ms < every)
        return;
    self->health_ms = now;
    int64_t limit = 3 * (int64_t) self->heartbeat_ivl_ms;
    for (s_sensor_t *s = zhash_first (self->sensors); s; s = zhash_next (self->sensors)) {
        if (s->last_heartbeat < 0)
            continue;
        //  Not heard since the broker started: the sensor may still be in its reconnect
        //  back-off, so it gets the grace on top.
        int64_t allowed = limit + (s->heartbeats == 0 ? (int64_t) self->start_grace_ms : 0);
        bool quiet = now - s->last_heartbeat > allowed;
        if (quiet != s->silent) {
            const char *id = zhash_cursor (self->sensors);
            if (s_health_finding (self, id, s, !quiet, now) == 0)
                s->silent = quiet;
        }
    }
}

int
bk_broker_run_once (bk_broker_t *self, int timeout_ms)
{
    s_check_health (self);
    if (!zpoller_wait (self->poller, timeout_ms)) {
        bk_down_run (self->down);  //  copies due for a resend go on time, not on traffic
        return 0;
    }
    int handled = 0;
    while (self->n_items < self->batch_max && handled < (int) self->batch_max) {
        zframe_t *rid = NULL;
        mm_identity_t peer;
        zframe_t *frame = mm_curve_server_recv (self->server, &rid, &peer);
        if (!frame)
            break;
        self->stats.frames++;
        handled++;
        s_on_frame (self, &rid, &peer, frame);
        zframe_destroy (&frame);
        zframe_destroy (&rid);
        if (!(zsock_events (mm_curve_server_sock (self->server)) & ZMQ_POLLIN))
            break;
    }
    int rc = s_flush (self);
    bk_down_run (self->down);
    return rc == -1 ? -1 : handled;
}

void
bk_broker_deliver (bk_broker_t *self)
{
    bk_down_run (self->down);
}

zsock_t *
bk_broker_sock (bk_broker_t *self)
{
    return mm_curve_server_sock (self->server);
}

const char *
bk_broker_endpoint (bk_broker_t *self)
{
    return mm_curve_server_endpoint (self->server);
}

void
bk_broker_stats (const bk_broker_t *self, bk_broker_stats_t *stats)
{
    *stats = self->stats;
}

void
bk_broker_socket_stats (const bk_broker_t *self, mm_curve_server_stats_t *stats)
{
    mm_curve_server_stats (self->server, stats);
}

int64_t
bk_broker_last_seen (bk_broker_t *self, const char *sensor)
{
    s_sensor_t *s = zhash_lookup (self->sensors, sensor);
    return s ? s->last_heartbeat : -1;
}

bk_store_t *
bk_broker_store (bk_broker_t *self)
{
    return self->store;
}

bk_down_t *
bk_broker_down (bk_broker_t *self)
{
    return self->down;
}

void
bk_broker_summary (const bk_broker_t *self, FILE *out)
{
    const bk_broker_stats_t *s = &self->stats;
    fprintf (out,
             "mimamori-broker: %s: %llu frames, %llu events stored, %llu duplicates, %llu out of "
             "order, %llu holes skipped, %llu corrected, %llu refused (store full), %llu "
             "heartbeats, bad frames: %llu oversized "
             "%llu truncated %llu malformed %llu type, %llu batches, %llu store errors, %llu acks "
             "(%llu not sent), %llu sensors, %llu silent, %llu back, %llu health errors",
             self->id, (unsigned long long) s->frames, (unsigned long long) s->events,
             (unsigned long long) s->duplicates, (unsigned long long) s->out_of_order,
             (unsigned long long) s->gaps, (unsigned long long) s->corrected,
             (unsigned long long) s->refused, (unsigned long long) s->heartbeats,
             (unsigned long long) s->bad[BK_BAD_OVERSIZED],
             (unsigned long long) s->bad[BK_BAD_TRUNCATED],
             (unsigned long long) s->bad[BK_BAD_MALFORMED],
             (unsigned long long) s->bad[BK_BAD_TYPE], (unsigned long long) s->batches,
             (unsigned long long) s->store_errors, (unsigned long long) s->acks,
             (unsigned long long) s->ack_errors, (unsigned long long) s->sensors,
             (unsigned long long) s->silent, (unsigned long long) s->back,
             (unsigned long long) s->health_errors);
    //  What the socket refused before it reached us (keys no longer allowed, framing).
    mm_curve_server_stats_t c;
    mm_curve_server_stats (self->server, &c);
    fprintf (out, "; socket dropped %llu unknown key, %llu revoked, %llu role, %llu framing",
             (unsigned long long) c.dropped_unknown, (unsigned long long) c.dropped_revoked,
             (unsigned long long) c.dropped_role, (unsigned long long) c.dropped_framing);
    bk_down_stats_t d;
    bk_down_stats (self->down, &d);
    fprintf (out,
             "; down: %llu taken, %llu repeats, %llu bad, %llu without recipient, %llu copies "
             "held, %llu refused (queue full), %llu sent, %llu confirmed, %llu send errors, %llu "
             "store errors\n",
             (unsigned long long) d.taken, (unsigned long long) d.repeats,
             (unsigned long long) d.bad, (unsigned long long) d.no_recipient,
             (unsigned long long) d.held, (unsigned long long) d.refused,
             (unsigned long long) d.delivered, (unsigned long long) d.confirmed,
             (unsigned long long) d.send_errors, (unsigned long long) d.errors);
    //  The store: what the disk bound and the forwarding backlog look like now.
    bk_store_stats_t ss;
    bk_store_stats (self->store, &ss);
    fprintf (out,
             "mimamori-broker: %s: store %llu of %llu bytes (%s), %llu events waiting for the "
             "aggregator, %llu down copies held\n",
             self->id, (unsigned long long) ss.size_bytes, (unsigned long long) ss.max_bytes,
             ss.full ? "FULL: new events refused" : "accepting",
             (unsigned long long) ss.forward_backlog, (unsigned long long) ss.held);
}
