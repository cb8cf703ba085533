/*  ag_ingest: the broker-facing side of mimamori-aggregator (see ag_ingest.h for the wire).
    Owner: aggregator/. Receive a round, validate, store once (synced), then ACK each broker. */
#include "ag_ingest.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "mm_ack.h"
#include "mm_event.h"
#include "mm_log.h"

#define S_DOMAIN "brokers"
#define S_LOG_MS 1000  //  at most one line a second per kind of trouble

typedef struct {
    char broker[MM_ID_MAX + 1];
    char pubkey[MM_CERT_KEY_TXT + 1];
    char sensor[MM_ID_MAX + 1];
    zframe_t *rid;
    uint64_t index, seq;
    uint64_t ts;   //  the event's own time, ns since the epoch
    uint8_t kind;  //  mm_kind_t
    size_t off, len;
} s_item_t;

struct ag_ingest_t {
    char id[MM_ID_MAX + 1];
    mm_cert_t *cert;
    ag_store_t *store;
    mm_curve_server_t *server;
    ag_down_t *down;
    zpoller_t *poller;
    uint32_t batch_max;
    s_item_t *items;
    size_t n_items;
    ag_store_item_t *store_items;
    ag_store_ack_t *acks;
    mm_buf_t arena;
    mm_buf_t out;
    mm_event_t ev;
    int64_t log_bad_ms, log_store_ms, log_ack_ms;
    ag_ingest_stats_t stats;
    mm_hist_t latency;
    uint64_t latency_skipped;
    uint8_t *fresh;       //  batch_max: item i was stored by this round (not a duplicate)
    uint8_t *slot_taken;  //  batch_max: slot k of the round's new ranges has its item
    ag_ingest_stored_fn *on_stored;
    ag_ingest_round_fn *on_round;
    void *hook_arg;
    void *wake_sock;
    ag_ingest_wake_fn *on_wake;
};

#define S_LATENCY_PAST_NS (3600ull * 1000000000ull)  //  older events: replayed, not live
#define S_LATENCY_AHEAD_NS (60ull * 1000000000ull)   //  a sensor clock this far ahead: skewed

static bool
s_may_log (int64_t *last_ms)
{
    int64_t now = zclock_mono ();
    if (*last_ms && now - *last_ms < S_LOG_MS)
        return false;
    *last_ms = now;
    return true;
}

ag_ingest_t *
ag_ingest_new (const ag_ingest_config_t *config, mm_curve_auth_t *auth)
{
    if (!config || !auth || !config->endpoint || !config->allow_dir || !config->cert_secret ||
        !config->store_path) {
        mm_log_error ("ag_ingest: endpoint, allow_dir, cert_secret and store_path are required");
        return NULL;
    }
    ag_ingest_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    char err[512];
    self->batch_max = config->batch_max ? config->batch_max : AG_INGEST_BATCH_DEFAULT;
    self->cert = mm_cert_load (config->cert_secret, err, sizeof err);
    if (!self->cert) {
        mm_log_error ("ag_ingest: %s", err);
        goto fail;
    }
    if (!mm_cert_has_secret (self->cert)) {
        mm_log_error ("ag_ingest: %s holds no secret key", config->cert_secret);
        goto fail;
    }
    const char *id = config->id && config->id[0] ? config->id : mm_cert_identity (self->cert)->id;
    snprintf (self->id, sizeof self->id, "%s", id);
    self->store = ag_store_new_retention (config->store_path, config->retention, err, sizeof err);
    if (!self->store) {
        mm_log_error ("ag_ingest: store %s: %s", config->store_path, err);
        goto fail;
    }
    mm_curve_server_config_t ccfg = {
        .endpoint = config->endpoint,
        .domain = S_DOMAIN,
        .allow_dir = config->allow_dir,
        .revoke_file = config->revoke_file && config->revoke_file[0] ? config->revoke_file : NULL,
        .roles = MM_ROLE_BIT (MM_ROLE_BROKER),
    };
    self->server = mm_curve_server_new (auth, self->cert, &ccfg);
    if (!self->server)
        goto fail;
    self->down = ag_down_new (self->store, self->server, self->id);
    if (!self->down)
        goto fail;
    zsock_set_rcvtimeo (mm_curve_server_sock (self->server), 0);
    self->poller = zpoller_new (mm_curve_server_sock (self->server), NULL);
    self->items = calloc (self->batch_max, sizeof *self->items);
    self->store_items = calloc (self->batch_max, sizeof *self->store_items);
    self->acks = calloc (self->batch_max, sizeof *self->acks);
    self->fresh = calloc (self->batch_max, 1);
    self->slot_taken = calloc (self->batch_max, 1);
    if (!self->poller || !self->items || !self->store_items || !self->acks || !self->fresh ||
        !self->slot_taken)
        goto fail;
    mm_log_info ("ag_ingest: %s: accepting brokers on %s (allow-list %s)", self->id,
                 mm_curve_server_endpoint (self->server), config->allow_dir);
    return self;
fail:
    ag_ingest_destroy (&self);
    return NULL;
}

static void
s_clear_round (ag_ingest_t *self)
{
    for (size_t i = 0; i < self->n_items; i++)
        zframe_destroy (&self->items[i].rid);
    self->n_items = 0;
    mm_buf_clear (&self->arena);
}

void
ag_ingest_destroy (ag_ingest_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ag_ingest_t *self = *self_p;
    if (self->items)
        s_clear_round (self);
    zpoller_destroy (&self->poller);
    ag_down_destroy (&self->down);
    mm_curve_server_destroy (&self->server);
    ag_store_destroy (&self->store);
    mm_cert_destroy (&self->cert);
    free (self->items);
    free (self->store_items);
    free (self->acks);
    free (self->fresh);
    free (self->slot_taken);
    mm_buf_free (&self->arena);
    mm_buf_free (&self->out);
    free (self);
    *self_p = NULL;
}

static void
s_bad (ag_ingest_t *self, const mm_identity_t *peer, const char *why)
{
    self->stats.bad++;
    if (s_may_log (&self->log_bad_ms))
        mm_log_warning ("ag_ingest: %s: bad frame from broker %s: %s (%llu bad so far)", self->id,
                        peer->id, why, (unsigned long long) self->stats.bad);
}

//  A protocol message from a broker: the ACK of its down mark (ag_down).
static void
s_on_message (ag_ingest_t *self, zframe_t *rid, const mm_identity_t *peer, const uint8_t *data,
              size_t len)
{
    mm_msg_type_t type;
    mm_ack_t ack;
    mm_error_t err;
    if (mm_msg_peek (data, len, &type, &err) == -1 || type != MM_MSG_ACK ||
        mm_ack_decode (&ack, data, len, &err) == -1) {
        s_bad (self, peer, "neither an indexed event nor a down ACK");
        return;
    }
    ag_down_on_ack (self->down, peer, rid, &ack);
}

static void
s_on_frame (ag_ingest_t *self, zframe_t **rid_p, const mm_identity_t *peer, zframe_t *frame)
{
    const uint8_t *data = zframe_data (frame);
    size_t len = zframe_size (frame);
    if (!mm_index_is (data, len)) {
        s_on_message (self, *rid_p, peer, data, len);
        return;
    }
    ag_down_seen (self->down, peer, *rid_p);
    uint64_t index;
    if (mm_index_split (data, len, &index, &data, &len) == -1) {
        s_bad (self, peer, "no valid log index before the event");
        return;
    }
    mm_error_t err;
    if (mm_event_decode (&self->ev, data, len, &err) == -1) {
        s_bad (self, peer, err.reason);
        return;
    }
    if (self->ev.sensor.len == 0 || self->ev.sensor.len > MM_ID_MAX || self->ev.seq == 0) {
        s_bad (self, peer, "event without sensor or seq");
        return;
    }
    s_item_t *it = &self->items[self->n_items];
    it->off = self->arena.len;
    if (mm_buf_append (&self->arena, data, len) == -1) {
        mm_log_error ("ag_ingest: %s: out of memory", self->id);
        return;
    }
    snprintf (it->broker, sizeof it->broker, "%s", peer->id);
    snprintf (it->pubkey, sizeof it->pubkey, "%s", peer->pubkey);
    snprintf (it->sensor, sizeof it->sensor, "%.*s", (int) self->ev.sensor.len,
              self->ev.sensor.ptr);
    it->rid = *rid_p;
    *rid_p = NULL;
    it->index = index;
    it->seq = self->ev.seq;
    it->ts = self->ev.ts;
    it->kind = self->ev.kind;
    it->len = len;
    self->n_items++;
}

static const s_item_t *
s_last_item (const ag_ingest_t *self, mm_str_t broker)
{
    for (size_t i = self->n_items; i-- > 0;) {
        const s_item_t *it = &self->items[i];
        if (strlen (it->broker) == broker.len && memcmp (it->broker, broker.ptr, broker.len) == 0)
            return it;
    }
    return NULL;
}

static void
s_send_ack (ag_ingest_t *self, const ag_store_ack_t *a)
{
    const s_item_t *it = s_last_item (self, a->broker);
    if (!it)
        return;
    mm_ack_t ack = {.ts = (uint64_t) zclock_time () * 1000000u, .sensor = a->broker, .seq = a->hwm};
    mm_error_t err;
    mm_buf_clear (&self->out);
    if (mm_ack_encode (&ack, &self->out, &err) == 0 &&
        mm_curve_server_send (self->server, it->rid, it->pubkey, self->out.data, self->out.len) ==
            0) {
        self->stats.acks++;
        return;
    }
    //  The broker times out and resends from its cursor; the next ACK covers it.
    self->stats.ack_errors++;
    if (s_may_log (&self->log_ack_ms))
        mm_log_warning ("ag_ingest: %s: ACK %llu to broker %s not sent: %s", self->id,
                        (unsigned long long) a->hwm, it->broker, strerror (errno));
}

static uint64_t
s_now_ns (void)
{
    struct timespec t;
    clock_gettime (CLOCK_REALTIME, &t);
    return (uint64_t) t.tv_sec * 1000000000u + (uint64_t) t.tv_nsec;
}

//  Marks the round's new events, each once (a round may hold an index twice: a resend, or one
//  that was out of order and came again). The new ones of a broker are the `stored` indexes
//  up to its mark, contiguous.
static void
s_mark_fresh (ag_ingest_t *self, size_t n_acks)
{
    memset (self->fresh, 0, self->batch_max);
    memset (self->slot_taken, 0, self->batch_max);
    for (size_t i = 0; i < self->n_items; i++) {
        const s_item_t *it = &self->items[i];
        size_t base = 0;  //  the slots of earlier brokers' new ranges
        const ag_store_ack_t *a = NULL;
        for (size_t k = 0; k < n_acks && !a; k++) {
            if (mm_str_eq (self->acks[k].broker, it->broker))
                a = &self->acks[k];
            else
                base += self->acks[k].stored;
        }
        if (!a || it->index > a->hwm || it->index + a->stored <= a->hwm)
            continue;
        size_t slot = base + (size_t) (a->stored - (a->hwm - it->index) - 1);
        if (slot >= self->batch_max || self->slot_taken[slot])
            continue;  //  a copy of an index already marked
        self->slot_taken[slot] = 1;
        self->fresh[i] = 1;
    }
}

//  Latency of the round's new events.
static void
s_measure (ag_ingest_t *self)
{
    uint64_t now = s_now_ns ();
    for (size_t i = 0; i < self->n_items; i++) {
        const s_item_t *it = &self->items[i];
        if (!self->fresh[i])
            continue;
        if (it->ts + S_LATENCY_PAST_NS < now || it->ts > now + S_LATENCY_AHEAD_NS) {
            self->latency_skipped++;
            continue;
        }
        mm_hist_add (&self->latency, it->ts < now ? (now - it->ts) / 1000 : 0);
    }
}

//  The round's new events to the owner's hooks (correlation), after the ACKs.
static void
s_hooks (ag_ingest_t *self)
{
    if (self->on_stored)
        for (size_t i = 0; i < self->n_items; i++)
            if (self->fresh[i]) {
                const s_item_t *it = &self->items[i];
                self->on_stored (self->hook_arg, mm_str (it->broker), it->index,
                                 self->arena.data + it->off, it->len);
            }
    if (self->on_round)
        self->on_round (self->hook_arg);
}

static int
s_flush (ag_ingest_t *self)
{
    if (self->n_items == 0)
        return 0;
    for (size_t i = 0; i < self->n_items; i++) {
        const s_item_t *it = &self->items[i];
        self->store_items[i] = (ag_store_item_t){
            .broker = mm_str (it->broker),
            .index = it->index,
            .sensor = mm_str (it->sensor),
            .seq = it->seq,
            .ts = it->ts,
            .kind = it->kind,
            .data = self->arena.data + it->off,
            .len = it->len,
        };
    }
    size_t n_acks = 0;
    if (ag_store_put_events (self->store, self->store_items, self->n_items, self->acks,
                             self->batch_max, &n_acks) == -1) {
        self->stats.store_errors++;
        if (s_may_log (&self->log_store_ms))
            mm_log_error ("ag_ingest: %s: store write failed, %zu events not acknowledged: %s",
                          self->id, self->n_items, ag_store_error (self->store));
        s_clear_round (self);
        return -1;
    }
    self->stats.batches++;
    s_mark_fresh (self, n_acks);
    s_measure (self);
    for (size_t i = 0; i < n_acks; i++) {
        const ag_store_ack_t *a = &self->acks[i];
        self->stats.stored += a->stored;
        self->stats.duplicates += a->duplicates;
        self->stats.out_of_order += a->out_of_order;
        s_send_ack (self, a);
    }
    s_hooks (self);
    s_clear_round (self);
    return 0;
}

int
ag_ingest_run_once (ag_ingest_t *self, int timeout_ms)
{
    void *which = zpoller_wait (self->poller, timeout_ms);
    zsock_t *sock = mm_curve_server_sock (self->server);
    int handled = 0, rc = 0;
    if (which && (which == sock || (zsock_events (sock) & ZMQ_POLLIN))) {
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
            if (!(zsock_events (sock) & ZMQ_POLLIN))
                break;
        }
        rc = s_flush (self);
    }
    //  Asked every time, not only when the poller names it: it names the first socket ready,
    //  and brokers' traffic would keep a finished round waiting.
    if (self->wake_sock && (zsock_events (self->wake_sock) & ZMQ_POLLIN))
        self->on_wake (self->hook_arg);
    ag_down_run (self->down);  //  resends are due on time, not on traffic
    return rc == -1 ? -1 : handled;
}

const char *
ag_ingest_endpoint (ag_ingest_t *self)
{
    return mm_curve_server_endpoint (self->server);
}

ag_down_t *
ag_ingest_down (ag_ingest_t *self)
{
    return self->down;
}

ag_store_t *
ag_ingest_store (ag_ingest_t *self)
{
    return self->store;
}

void
ag_ingest_set_hooks (ag_ingest_t *self, ag_ingest_stored_fn *on_stored,
                     ag_ingest_round_fn *on_round, void *arg)
{
    self->on_stored = on_stored;
    self->on_round = on_round;
    self->hook_arg = arg;
}

int
ag_ingest_set_wake (ag_ingest_t *self, void *sock, ag_ingest_wake_fn *on_wake)
{
    if (self->wake_sock)
        zpoller_remove (self->poller, self->wake_sock);
    self->wake_sock = NULL;
    self->on_wake = NULL;
    if (!sock)
        return 0;
    if (zpoller_add (self->poller, sock) == -1)
        return -1;
    self->wake_sock = sock;
    self->on_wake = on_wake;
    return 0;
}

void
ag_ingest_stats (const ag_ingest_t *self, ag_ingest_stats_t *stats)
{
    *stats = self->stats;
}

const mm_hist_t *
ag_ingest_latency_hist (const ag_ingest_t *self)
{
    return &self->latency;
}

void
ag_ingest_latency (const ag_ingest_t *self, ag_latency_t *lat)
{
    lat->n = self->latency.count;
    lat->skipped = self->latency_skipped;
    lat->p50_us = mm_hist_quantile (&self->latency, 0.50);
    lat->p90_us = mm_hist_quantile (&self->latency, 0.90);
    lat->p99_us = mm_hist_quantile (&self->latency, 0.99);
    lat->max_us = self->latency.max_us;
}

void
ag_ingest_latency_reset (ag_ingest_t *self)
{
    mm_hist_reset (&self->latency);
    self->latency_skipped = 0;
}

void
ag_ingest_summary (const ag_ingest_t *self, FILE *out)
{
    const ag_ingest_stats_t *s = &self->stats;
    mm_curve_server_stats_t c;
    mm_curve_server_stats (self->server, &c);
    ag_store_stats_t ss;
    ag_store_stats (self->store, &ss);
    ag_latency_t lat;
    ag_ingest_latency (self, &lat);
    fprintf (out,
             "mimamori-aggregator: %s: %llu frames, %llu stored, %llu duplicates, %llu out of "
             "order, %llu seq duplicates, %llu bad frames, %llu batches, %llu store errors, %llu "
             "acks (%llu not sent); "
             "socket dropped %llu unknown key, %llu revoked, %llu role, %llu framing; "
             "latency sensor->store: %llu events, p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f "
             "ms (%llu not live)\n",
             self->id, (unsigned long long) s->frames, (unsigned long long) s->stored,
             (unsigned long long) s->duplicates, (unsigned long long) s->out_of_order,
             (unsigned long long) ss.seq_duplicates, (unsigned long long) s->bad,
             (unsigned long long) s->batches, (unsigned long long) s->store_errors,
             (unsigned long long) s->acks, (unsigned long long) s->ack_errors,
             (unsigned long long) c.dropped_unknown, (unsigned long long) c.dropped_revoked,
             (unsigned long long) c.dropped_role, (unsigned long long) c.dropped_framing,
             (unsigned long long) lat.n, (double) lat.p50_us / 1000.0, (double) lat.p90_us / 1000.0,
             (double) lat.p99_us / 1000.0, (double) lat.max_us / 1000.0,
             (unsigned long long) lat.skipped);
}
