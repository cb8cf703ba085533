/*  bk_forward: the broker's link to the aggregator (see bk_forward.h). Owner: broker/.
    State: `next` is the next log index to send; in flight is (cursor, next). */
#include "bk_forward.h"

#include <errno.h>
#include <string.h>

#include "mm_ack.h"
#include "mm_log.h"

#define S_LOG_MS 1000

struct bk_forward_t {
    bk_store_t *store;
    mm_cert_t *cert;
    mm_curve_client_t *client;
    uint32_t window;
    uint32_t ack_timeout_ms;
    uint64_t next;        //  next index to send
    int64_t progress_ms;  //  last time the cursor moved or sending started from it
    bool blocked;         //  the last send met EAGAIN
    bk_forward_down_fn *on_down;
    bk_forward_mark_fn *down_mark;
    void *down_arg;
    int64_t presence_ms;  //  last down ACK sent
    uint64_t handshakes_seen, auth_failures_seen;
    mm_buf_t frame;
    int64_t log_ms;
    bk_forward_stats_t stats;
};

bk_forward_t *
bk_forward_new (const bk_forward_config_t *config, bk_store_t *store)
{
    if (!config || !store || !config->endpoint || !config->aggregator_cert ||
        !config->cert_secret) {
        mm_log_error ("bk_forward: endpoint, aggregator_cert and cert_secret are required");
        return NULL;
    }
    bk_forward_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->store = store;
    self->window = config->window ? config->window : BK_FORWARD_WINDOW_DEFAULT;
    self->ack_timeout_ms =
        config->ack_timeout_ms ? config->ack_timeout_ms : BK_FORWARD_ACK_TIMEOUT_DEFAULT;
    self->on_down = config->on_down;
    self->down_mark = config->down_mark;
    self->down_arg = config->down_arg;
    char err[512];
    mm_cert_t *agg = mm_cert_load (config->aggregator_cert, err, sizeof err);
    if (!agg) {
        mm_log_error ("bk_forward: %s", err);
        goto fail;
    }
    if (mm_cert_identity (agg)->role != MM_ROLE_AGGREGATOR) {
        mm_log_error ("bk_forward: %s is not an aggregator certificate", config->aggregator_cert);
        mm_cert_destroy (&agg);
        goto fail;
    }
    self->cert = mm_cert_load (config->cert_secret, err, sizeof err);
    if (!self->cert || !mm_cert_has_secret (self->cert)) {
        mm_log_error ("bk_forward: %s: %s", config->cert_secret,
                      self->cert ? "no secret key" : err);
        mm_cert_destroy (&agg);
        goto fail;
    }
    self->client = mm_curve_client_new (config->endpoint, self->cert, mm_cert_public_txt (agg));
    mm_cert_destroy (&agg);
    if (!self->client)
        goto fail;
    zsock_set_rcvtimeo (mm_curve_client_sock (self->client), 0);
    self->next = bk_store_forward_cursor (store) + 1;
    self->progress_ms = zclock_mono ();
    mm_log_info ("bk_forward: forwarding to %s from log index %llu", config->endpoint,
                 (unsigned long long) self->next);
    return self;
fail:
    bk_forward_destroy (&self);
    return NULL;
}

void
bk_forward_destroy (bk_forward_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bk_forward_t *self = *self_p;
    mm_curve_client_destroy (&self->client);
    mm_cert_destroy (&self->cert);
    mm_buf_free (&self->frame);
    free (self);
    *self_p = NULL;
}

//  Tells the aggregator the down mark: an ACK, also when nothing came (presence).
static void
s_send_down_ack (bk_forward_t *self, uint64_t mark)
{
    mm_ack_t ack = {.ts = (uint64_t) zclock_time () * 1000000u,
                    .sensor = mm_str (mm_cert_identity (self->cert)->id),
                    .seq = mark};
    mm_error_t err;
    mm_buf_clear (&self->frame);
    if (mm_ack_encode (&ack, &self->frame, &err) == 0 &&
        mm_curve_client_send (self->client, self->frame.data, self->frame.len) == 0) {
        self->stats.down_acks++;
        self->presence_ms = zclock_mono ();
    }
    //  Not connected: the next presence ACK goes when it is.
}

//  A down frame: handed to the owner, then acknowledged with the mark it returns.
static void
s_on_down (bk_forward_t *self, zframe_t *f)
{
    uint64_t index;
    const uint8_t *msg;
    size_t len;
    self->stats.down++;
    if (mm_index_split (zframe_data (f), zframe_size (f), &index, &msg, &len) == -1) {
        self->stats.down_bad++;
        return;
    }
    if (!self->on_down)
        return;
    uint64_t mark = self->on_down (self->down_arg, index, msg, len);
    if (mark)
        s_send_down_ack (self, mark);
}

static void
s_take_acks (bk_forward_t *self)
{
    const char *me = mm_cert_identity (self->cert)->id;
    zframe_t *f;
    while ((f = mm_curve_client_recv (self->client))) {
        if (mm_index_is (zframe_data (f), zframe_size (f))) {
            s_on_down (self, f);
            zframe_destroy (&f);
            continue;
        }
        mm_ack_t ack;
        mm_error_t err;
        uint64_t cursor = bk_store_forward_cursor (self->store);
        //  An ACK past what this run sent can answer a previous run (before a restart): it
        //  is trusted up to what the store holds, since the aggregator only acks what it has.
        int rc = mm_ack_decode (&ack, zframe_data (f), zframe_size (f), &err);
        if (rc == -1 || !mm_str_eq (ack.sensor, me) ||
            ack.seq > bk_store_last_index (self->store)) {
            self->stats.bad_acks++;
            zframe_destroy (&f);
            continue;
        }
        zframe_destroy (&f);
        if (ack.seq <= cursor) {
            self->stats.stale_acks++;
            //  The aggregator holds nothing past the cursor: what we sent after it was lost
            //  (a reconnect drops the queue). Resend now rather than at the timeout.
            if (ack.seq == cursor && self->next > cursor + 1 &&
                zclock_mono () - self->progress_ms >= self->ack_timeout_ms / 4) {
                self->next = cursor + 1;
                self->stats.rewinds++;
                self->progress_ms = zclock_mono ();
            }
            continue;
        }
        if (bk_store_ack_forward (self->store, ack.seq) == -1) {
            self->stats.errors++;
            if (zclock_mono () - self->log_ms >= S_LOG_MS) {
                self->log_ms = zclock_mono ();
                mm_log_error ("bk_forward: cannot move the cursor to %llu: %s",
                              (unsigned long long) ack.seq, bk_store_error (self->store));
            }
            continue;
        }
        self->stats.acks++;
        self->progress_ms = zclock_mono ();
        if (self->next <= ack.seq)
            self->next = ack.seq + 1;
    }
}

static int
s_send_one (void *arg, uint64_t index, mm_str_t sensor, uint64_t seq, const uint8_t *data,
            size_t len)
{
    (void) sensor, (void) seq;
    bk_forward_t *self = arg;
    uint8_t prefix[MM_INDEX_LEN];
    mm_index_put (prefix, index);
    mm_buf_clear (&self->frame);
    if (mm_buf_append (&self->frame, prefix, sizeof prefix) == -1 ||
        mm_buf_append (&self->frame, data, len) == -1)
        return -1;
    if (mm_curve_client_send (self->client, self->frame.data, self->frame.len) == -1) {
        self->blocked = true;  //  not connected, or the queue is full: try again later
        return -1;
    }
    self->stats.sent++;
    self->next = index + 1;
    return 0;
}

//  A new connection: what was in flight may be lost (resend from the cursor now) and the
//  aggregator must learn where we are (presence ACK now). A refused handshake is said plainly.
static void
s_connection_events (bk_forward_t *self)
{
    mm_curve_client_events_t ev;
    mm_curve_client_events (self->client, &ev);
    if (ev.handshakes > self->handshakes_seen) {
        bool again = self->handshakes_seen > 0;  //  the first connection replaces none
        self->handshakes_seen = ev.handshakes;
        self->presence_ms = 0;
        uint64_t cursor = bk_store_forward_cursor (self->store);
        if (again && self->next > cursor + 1) {
            self->next = cursor + 1;
            self->stats.rewinds++;
        }
        self->progress_ms = zclock_mono ();
    }
    if (ev.auth_failures > self->auth_failures_seen) {
        self->auth_failures_seen = ev.auth_failures;
        if ((ev.auth_failures & (ev.auth_failures - 1)) == 0)  //  1, 2, 4, 8... times
            mm_log_error ("bk_forward: the aggregator refused this broker's key (ZAP status %u, "
                          "%llu times): is its certificate in the aggregator's allow-list, or "
                          "revoked?",
                          ev.last_auth_status, (unsigned long long) ev.auth_failures);
    }
}

int
bk_forward_run_once (bk_forward_t *self)
{
    s_connection_events (self);
    s_take_acks (self);
    if (self->down_mark && zclock_mono () - self->presence_ms >= BK_FORWARD_PRESENCE_MS)
        s_send_down_ack (self, self->down_mark (self->down_arg));
    uint64_t cursor = bk_store_forward_cursor (self->store);
    uint64_t last = bk_store_last_index (self->store);
    if (self->next <= cursor)
        self->next = cursor + 1;
    int64_t now = zclock_mono ();
    if (self->next > cursor + 1 && now - self->progress_ms >= self->ack_timeout_ms) {
        //  In flight and no progress: lost in a reconnect, or the aggregator restarted.
        self->next = cursor + 1;
        self->stats.rewinds++;
        self->progress_ms = now;
    }
    if (self->next == cursor + 1)
        self->progress_ms = self->next > last ? now : self->progress_ms;
    uint64_t in_flight = self->next - 1 - cursor;
    if (self->next > last || in_flight >= self->window)
        return 0;
    uint64_t room = self->window - in_flight;
    size_t max = room < BK_FORWARD_SEND_MAX ? (size_t) room : BK_FORWARD_SEND_MAX;
    bool from_cursor = self->next == cursor + 1;
    uint64_t before = self->stats.sent;
    self->blocked = false;
    if (bk_store_read_forward (self->store, self->next, max, s_send_one, self) == -1) {
        self->stats.errors++;
        return -1;
    }
    //  The timeout counts from when the oldest event in flight was (re)sent.
    if (from_cursor && self->stats.sent > before)
        self->progress_ms = now;
    return (int) (self->stats.sent - before);
}

zsock_t *
bk_forward_sock (bk_forward_t *self)
{
    return mm_curve_client_sock (self->client);
}

void
bk_forward_stats (const bk_forward_t *self, bk_forward_stats_t *stats)
{
    *stats = self->stats;
}
