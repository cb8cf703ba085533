/*  bk_down: the broker's down path (see bk_down.h). Owner: broker/.
    State per sensor, in memory: the connection to deliver on (from its last frame) and
    whether copies may be waiting; the copies themselves are only in the store. */
#include "bk_down.h"

#include <errno.h>
#include <string.h>

#include "mm_warning.h"
#include "mm_watchlist.h"
#include "mm_log.h"

#define S_LOG_MS 1000

typedef struct {
    char id[MM_ID_MAX + 1];
    char pubkey[MM_CERT_KEY_TXT + 1];
    zframe_t *rid;            //  NULL: not connected as far as we know
    bool waiting;             //  copies may be held for it
    uint64_t sent_upto;       //  highest held id of the last burst
    int64_t sent_ms;          //  when the last burst went (0: nothing unacknowledged)
    uint64_t confirmed_upto;  //  the sensor's last ACK applied (held ids are never reused)
} s_peer_t;

//  Recipients of one message, gathered from the allow-list.
typedef struct {
    mm_str_t org, sensor;
    bool everyone;  //  a WATCHLIST without an org
    zhashx_t *ids;  //  distinct recipient ids (the certificate directory may hold two
                    //  certificates of one sensor while its key is rotated)
} s_match_t;

struct bk_down_t {
    char broker[MM_ID_MAX + 1];
    bk_store_t *store;
    mm_curve_server_t *server;
    zhashx_t *peers;  //  sensor id -> s_peer_t
    mm_warning_t warning;
    mm_watchlist_t watchlist;  //  large (256 entries): here rather than on the stack
    mm_buf_t frame;
    int64_t log_ms;
    int64_t run_ms;  //  last delivery pass
    bool due;        //  something changed since: the next pass may not wait
    bk_down_stats_t stats;
};

#define S_RUN_EVERY_MS 100  //  delivery passes without a change: resends are due in seconds

static void
s_peer_free (void **item)
{
    s_peer_t *p = *item;
    if (p) {
        zframe_destroy (&p->rid);
        free (p);
        *item = NULL;
    }
}

bk_down_t *
bk_down_new (bk_store_t *store, mm_curve_server_t *server, const char *broker_id)
{
    bk_down_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->store = store;
    self->server = server;
    snprintf (self->broker, sizeof self->broker, "%s", broker_id ? broker_id : "");
    self->peers = zhashx_new ();
    if (!self->peers) {
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->peers, s_peer_free);
    return self;
}

void
bk_down_destroy (bk_down_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bk_down_t *self = *self_p;
    zhashx_destroy (&self->peers);
    mm_buf_free (&self->frame);
    free (self);
    *self_p = NULL;
}

//  The state of sensor `id`, made on first use. A sensor first met here may have copies held
//  from before a restart: the store says.
static s_peer_t *
s_peer (bk_down_t *self, const char *id)
{
    s_peer_t *p = zhashx_lookup (self->peers, id);
    if (p)
        return p;
    p = calloc (1, sizeof *p);
    if (!p)
        return NULL;
    snprintf (p->id, sizeof p->id, "%s", id);
    int64_t held = bk_store_held_count (self->store, mm_str (id));
    p->waiting = held != 0;  //  an error (-1) counts as "maybe": the next burst finds out
    if (zhashx_insert (self->peers, id, p) != 0) {
        free (p);
        return NULL;
    }
    return p;
}

void
bk_down_seen (bk_down_t *self, const mm_identity_t *peer, zframe_t *rid)
{
    s_peer_t *p = s_peer (self, peer->id);
    if (!p || !rid)
        return;
    if (p->rid && zframe_eq (p->rid, rid) && strcmp (p->pubkey, peer->pubkey) == 0)
        return;
    //  A new connection (the sensor restarted or reconnected): what was in flight on the old
    //  one is lost, so the next burst starts from the oldest copy at once.
    zframe_destroy (&p->rid);
    p->rid = zframe_dup (rid);
    snprintf (p->pubkey, sizeof p->pubkey, "%s", peer->pubkey);
    p->sent_ms = 0;
    self->due = self->due || p->waiting;
}

static int
s_match_one (void *arg, const mm_identity_t *ident)
{
    s_match_t *m = arg;
    if (!m->everyone && !mm_str_eq (m->org, ident->org))
        return 0;
    if (m->sensor.len && !mm_str_eq (m->sensor, ident->id))
        return 0;
    zhashx_insert (m->ids, ident->id, (void *) 1);  //  a repeat id is simply not inserted
    return 0;
}

//  Reads the recipient fields of a down message. 0, or -1 (not a WARNING/WATCHLIST, or does
//  not decode) with `why` set.
static int
s_address (bk_down_t *self, const uint8_t *msg, size_t len, s_match_t *m, mm_error_t *errp,
           const char **why, const char **kind)
{
    mm_msg_type_t type;
    mm_error_t *e = errp;
    *why = NULL;
    if (mm_msg_peek (msg, len, &type, e) == -1) {
        *why = e->reason;
        return -1;
    }
    if (type == MM_MSG_WARNING) {
        *kind = "WARNING";
        if (mm_warning_decode (&self->warning, msg, len, e) == -1) {
            *why = e->reason;
            return -1;
        }
        if (self->warning.org.len == 0) {
            *why = "a WARNING without a recipient org";
            return -1;
        }
        m->org = self->warning.org;
        m->sensor = self->warning.sensor;
        return 0;
    }
    if (type == MM_MSG_WATCHLIST) {
        *kind = "WATCHLIST";
        if (mm_watchlist_decode (&self->watchlist, msg, len, e) == -1) {
            *why = e->reason;
            return -1;
        }
        m->org = self->watchlist.org;
        m->sensor = self->watchlist.sensor;
        m->everyone = m->org.len == 0 && m->sensor.len == 0;
        return 0;
    }
    *why = "not a WARNING or WATCHLIST";
    return -1;
}

uint64_t
bk_down_take (bk_down_t *self, uint64_t index, const uint8_t *msg, size_t len)
{
    uint64_t hwm = bk_store_down_hwm (self->store);
    if (index <= hwm) {
        self->stats.repeats++;
        return hwm;
    }
    s_match_t m = {.ids = zhashx_new ()};
    if (!m.ids)
        return 0;
    const char *why = NULL, *kind = "message";
    mm_error_t err;
    if (s_address (self, msg, len, &m, &err, &why, &kind) == 0)
        mm_curve_allow_each (mm_curve_server_allow (self->server), s_match_one, &m);
    //  A bad message is taken with no recipient: the link moves past it (logged below).
    size_t n = why ? 0 : zhashx_size (m.ids);
    mm_str_t *to = n ? calloc (n, sizeof *to) : NULL;
    size_t k = 0;
    if (n && !to) {
        zhashx_destroy (&m.ids);
        return 0;
    }
    for (void *v = zhashx_first (m.ids); v && k < n; v = zhashx_next (m.ids))
        to[k++] = mm_str ((const char *) zhashx_cursor (m.ids));
    size_t refused = 0;
    int rc = bk_store_hold_down (self->store, index, to, n, msg, len, &refused);
    if (rc == 1) {
        for (size_t i = 0; i < n; i++) {
            char id[MM_ID_MAX + 1];
            snprintf (id, sizeof id, "%.*s", (int) to[i].len, to[i].ptr);
            s_peer_t *p = s_peer (self, id);
            if (p)
                p->waiting = true;
            self->due = true;
        }
    }
    free (to);
    zhashx_destroy (&m.ids);
    if (rc == -1) {
        self->stats.errors++;
        if (zclock_mono () - self->log_ms >= S_LOG_MS) {
            self->log_ms = zclock_mono ();
            mm_log_error ("bk_down: %s: down message %llu not held: %s", self->broker,
                          (unsigned long long) index, bk_store_error (self->store));
        }
        return 0;
    }
    self->stats.taken++;
    self->stats.held += n - refused;
    self->stats.refused += refused;
    if (why) {
        self->stats.bad++;
        mm_log_warning ("bk_down: %s: down message %llu from the aggregator refused: %s",
                        self->broker, (unsigned long long) index, why);
    }
    else if (n == 0) {
        self->stats.no_recipient++;
        mm_log_info ("bk_down: %s: %s %llu for org '%.*s' has no sensor here", self->broker, kind,
                     (unsigned long long) index, (int) m.org.len, m.org.ptr);
    }
    else
        mm_log_info ("bk_down: %s: %s %llu for org '%.*s' held for %zu sensors%s", self->broker,
                     kind, (unsigned long long) index, (int) m.org.len, m.org.ptr, n - refused,
                     refused ? " (some queues full: see the warning)" : "");
    if (refused)
        mm_log_warning ("bk_down: %s: %zu sensors' down queues are full: %s %llu not held for "
                        "them (they have not taken their messages for a long time)",
                        self->broker, refused, kind, (unsigned long long) index);
    return index;
}

void
bk_down_on_ack (bk_down_t *self, const mm_identity_t *peer, const mm_ack_t *ack)
{
    if (!mm_str_eq (ack->sensor, peer->id)) {
        self->stats.bad_acks++;
        return;
    }
    s_peer_t *p = s_peer (self, peer->id);
    //  A repeat of a confirmation already applied (the sensor answers resends too): nothing
    //  left to delete, no store walk.
    if (p && ack->seq <= p->confirmed_upto)
        return;
    int removed = bk_store_ack_held (self->store, mm_str (peer->id), ack->seq);
    if (removed < 0) {
        self->stats.errors++;
        return;
    }
    self->stats.confirmed += (uint64_t) removed;
    if (p)
        p->confirmed_upto = ack->seq;
    if (p && ack->seq >= p->sent_upto) {
        p->sent_ms = 0;  //  the burst is through: the next one may go at once
        p->waiting = bk_store_held_count (self->store, mm_str (peer->id)) != 0;
        self->due = self->due || p->waiting;
    }
}

typedef struct {
    bk_down_t *self;
    s_peer_t *p;
} s_burst_t;

static int
s_send_copy (void *arg, uint64_t id, const uint8_t *data, size_t len)
{
    s_burst_t *b = arg;
    bk_down_t *self = b->self;
    uint8_t prefix[MM_INDEX_LEN];
    mm_index_put (prefix, id);
    mm_buf_clear (&self->frame);
    if (mm_buf_append (&self->frame, prefix, sizeof prefix) == -1 ||
        mm_buf_append (&self->frame, data, len) == -1)
        return BK_HELD_STOP;
    if (mm_curve_server_send (self->server, b->p->rid, b->p->pubkey, self->frame.data,
                              self->frame.len) == -1) {
        self->stats.send_errors++;
        //  Gone or no longer allowed: wait for its next frame. Full: try at the next burst.
        if (errno != EAGAIN)
            zframe_destroy (&b->p->rid);
        return BK_HELD_STOP;
    }
    self->stats.delivered++;
    b->p->sent_upto = id;
    return BK_HELD_KEEP;
}

void
bk_down_run (bk_down_t *self)
{
    //  Called after every broker round: the walk over the sensors runs when something changed
    //  or every S_RUN_EVERY_MS, not per frame batch.
    int64_t now = zclock_mono ();
    if (!self->due && now - self->run_ms < S_RUN_EVERY_MS)
        return;
    self->due = false;
    self->run_ms = now;
    for (s_peer_t *p = zhashx_first (self->peers); p; p = zhashx_next (self->peers)) {
        if (!p->waiting || !p->rid || (p->sent_ms && now - p->sent_ms < BK_DOWN_RESEND_MS))
            continue;
        s_burst_t b = {.self = self, .p = p};
        int visited =
            bk_store_peek_held (self->store, mm_str (p->id), 1, BK_DOWN_SEND_MAX, s_send_copy, &b);
        if (visited < 0) {
            self->stats.errors++;
            continue;
        }
        if (visited == 0)
            p->waiting = false;
        else
            p->sent_ms = now;
    }
}

void
bk_down_stats (const bk_down_t *self, bk_down_stats_t *stats)
{
    *stats = self->stats;
}
