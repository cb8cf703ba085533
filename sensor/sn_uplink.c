/*  sn_uplink: the sensor's link to its broker: spool first, then a windowed, non-blocking send
    over CURVE, cumulative ACKs, resend on timeout, heartbeats, WATCHLIST/WARNING delivery.
    Owner: sensor. See sn_uplink.h for the guarantees. */
#include "sn_uplink.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mm_ack.h"
#include "mm_cert.h"
#include "mm_curve.h"
#include "mm_heartbeat.h"
#include "mm_log.h"

#define S_PUBLISH_BUDGET 32  //  frames a publish may send: bounds its cost on the packet path
#define S_RECV_BURST 1000    //  messages one poll takes off the socket
#define S_TIMEOUT_MULT_MAX 8
#define S_HB_RETRY_MS 1000  //  a heartbeat that could not leave is tried again this soon

struct sn_uplink {
    mm_cert_t *cert;
    mm_curve_client_t *client;
    sn_spool_t *spool;
    char sensor[MM_ID_MAX + 1];
    char org[MM_ID_MAX + 1];
    char version[MM_SHORT_MAX + 1];
    uint32_t window, heartbeat_ms, ack_timeout_ms;
    sn_uplink_watchlist_fn *on_watchlist;
    sn_uplink_warning_fn *on_warning;
    void *arg;

    uint64_t acked;       //  highest cumulative ACK
    uint64_t floor;       //  max (acked, last seq dropped by the bound): below it nothing flies
    uint64_t sent_upto;   //  highest seq sent since the last rewind
    uint64_t max_sent;    //  highest seq ever sent by this process (or possibly by an earlier one)
    int64_t progress_ms;  //  when the ACK last moved, or the window last went from empty
    uint32_t timeout_mult;
    int64_t next_hb_ms;
    bool blocked;  //  the last send said EAGAIN: wait for POLLOUT before trying again
    bool in_overflow;

    //  Spool drops taken from the spool and not yet reported in a published finding.
    uint64_t ov_n, ov_first, ov_last;
    uint64_t ov_seq;  //  seq of the last report published (0: none)
    uint64_t ov_id;   //  the finding's id (seq of its first report)
    uint32_t ov_revision;
    bool ov_pending;  //  a drop not yet in a published report
    char ov_msg[MM_TEXT_MAX];

    uint64_t down_taken;  //  highest held id taken from the broker, contiguously (0: none yet)
    bool down_ack_due;    //  taken or repeated since the last ACK of held messages
    //  The first hole in the spool met while sending (seqs a power cut or damage took): the
    //  heartbeat declares it until the broker's ACK passes it.
    uint64_t hole_from, hole_to;
    uint64_t handshakes_seen, auth_failures_seen;  //  the client's connection events taken

    mm_buf_t buf;      //  encoded EVENT / HEARTBEAT
    mm_buf_t ack_buf;  //  encoded ACK of held messages
    mm_watchlist_t *wl;
    mm_warning_t *warn;
    sn_uplink_stats_t stats;
};

static uint64_t
s_wall_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

static bool
s_pow2 (uint64_t n)
{
    return n && !(n & (n - 1));
}

static uint64_t
s_in_flight (const sn_uplink_t *self)
{
    return self->sent_upto > self->floor ? self->sent_upto - self->floor : 0;
}

static void
s_set_floor (sn_uplink_t *self, uint64_t seq)
{
    if (seq > self->floor)
        self->floor = seq;
    if (self->sent_upto < self->floor)
        self->sent_upto = self->floor;
}

//  Sends what the window allows from the spool cursor, at most `budget` frames. Stops at the
//  first EAGAIN: the cursor goes back onto that record and the uplink waits for the socket to
//  become writable (one getsockopt per call meanwhile). 0, or -1 on a spool I/O error.
static int
s_pump (sn_uplink_t *self, uint32_t budget)
{
    if (self->blocked) {
        if (!(zsock_events (mm_curve_client_sock (self->client)) & ZMQ_POLLOUT))
            return 0;
        self->blocked = false;
    }
    while (budget-- > 0 && s_in_flight (self) < self->window) {
        uint64_t seq;
        const uint8_t *data;
        size_t len;
        int rc = sn_spool_next (self->spool, &seq, &data, &len);
        if (rc == 0)
            return 0;
        if (rc < 0)
            return -1;
        if (mm_curve_client_send (self->client, data, len) == -1) {
            self->stats.send_again++;
            sn_spool_seek (self->spool, seq);
            self->blocked = true;
            return 0;
        }
        if (seq <= self->max_sent)
            self->stats.resent++;
        else {
            self->stats.sent++;
            self->max_sent = seq;
        }
        if (s_in_flight (self) == 0)
            self->progress_ms = zclock_mono ();  //  the ACK timer starts with the first in flight
        if (seq > self->sent_upto + 1 && self->sent_upto >= self->floor &&
            self->hole_to <= self->acked) {
            //  The spool has nothing between: the broker would wait for it forever.
            self->hole_from = self->sent_upto + 1;
            self->hole_to = seq - 1;
            self->next_hb_ms = 0;
            mm_log_warning ("sn_uplink: seq %" PRIu64 "..%" PRIu64 " are not in the spool (a power "
                            "cut or a damaged spool): the broker is told to skip them",
                            self->hole_from, self->hole_to);
        }
        if (seq > self->sent_upto)
            self->sent_upto = seq;
    }
    return 0;
}

static int s_publish (sn_uplink_t *self, mm_event_t *ev, uint32_t budget);

//  Reports what the spool's bound dropped, in a finding that is itself spooled and sent. The
//  report is cumulative until the broker acknowledges it: if the bound drops the finding too,
//  the next one (a revision of the same finding) covers its range as well, so the counts
//  survive however many times the bound is hit while the broker is away.
static void
s_overflow (sn_uplink_t *self)
{
    if (self->in_overflow)
        return;
    if (self->ov_n && !self->ov_pending && self->ov_seq && self->acked >= self->ov_seq) {
        //  The last report is durable at the broker: the next drop starts a new finding.
        self->ov_n = self->ov_first = self->ov_last = self->ov_seq = self->ov_id = 0;
        self->ov_revision = 0;
    }
    self->in_overflow = true;
    //  Appending the finding may drop again (a tiny bound): a few rounds, then the rest waits
    //  for the next call with the count kept.
    for (int round = 0; round < 4; round++) {
        uint64_t first = 0, last = 0;
        uint64_t n = sn_spool_dropped_take (self->spool, &first, &last);
        if (n) {
            s_set_floor (self, last);
            self->next_hb_ms = 0;  //  tell the broker now (the heartbeat carries the floor)
            if (!self->ov_n || first < self->ov_first)
                self->ov_first = first;
            if (last > self->ov_last)
                self->ov_last = last;
            self->ov_n += n;
            self->stats.overflow_events += n;
            self->ov_pending = true;
        }
        if (!self->ov_pending)
            break;
        snprintf (self->ov_msg, sizeof self->ov_msg,
                  "spool size bound reached: %" PRIu64 " events lost (seq %" PRIu64 "-%" PRIu64 ")",
                  self->ov_n, self->ov_first, self->ov_last);
        mm_event_t ev;
        memset (&ev, 0, sizeof ev);
        ev.ts = s_wall_ns ();
        ev.kind = MM_KIND_FINDING;
        ev.severity = MM_SEV_MEDIUM;
        ev.confidence = 100;
        ev.has = MM_EV_HAS_FINDING;
        ev.finding.has = MM_FINDING_HAS_EVIDENCE;
        ev.finding.detector = mm_str (SN_UPLINK_OVERFLOW_DETECTOR);
        ev.finding.detector_version = 1;
        ev.finding.category = MM_CAT_SENSOR;
        ev.finding.message = mm_str (self->ov_msg);
        ev.finding.evidence.count = self->ov_n;
        uint64_t seq = sn_spool_next_seq (self->spool);
        ev.finding.id = self->ov_id ? self->ov_id : seq;
        ev.finding.revision = self->ov_revision;
        if (n)
            mm_log_warning ("sn_uplink: %s", self->ov_msg);
        if (s_publish (self, &ev, S_PUBLISH_BUDGET) == -1) {
            mm_log_error ("sn_uplink: cannot spool the overflow report (%s); kept for the next try",
                          strerror (errno));
            break;
        }
        self->ov_id = ev.finding.id;
        self->ov_revision++;
        self->ov_seq = seq;
        self->ov_pending = false;
        self->stats.overflow_findings++;
    }
    self->in_overflow = false;
}

static int
s_publish (sn_uplink_t *self, mm_event_t *ev, uint32_t budget)
{
    if (!ev->sensor.len)
        ev->sensor = mm_str (self->sensor);
    if (!ev->org.len)
        ev->org = mm_str (self->org);
    uint64_t seq = sn_spool_next_seq (self->spool);
    ev->seq = seq;
    if (ev->kind == MM_KIND_FINDING && !ev->finding.id)
        ev->finding.id = seq;
    mm_buf_clear (&self->buf);
    mm_error_t err;
    if (mm_event_encode (ev, &self->buf, &err) == -1) {
        if (s_pow2 (++self->stats.publish_failed))
            mm_log_error ("sn_uplink: event not encodable (%s; %" PRIu64 " refused so far)",
                          err.reason, self->stats.publish_failed);
        errno = EINVAL;
        return -1;
    }
    if (sn_spool_append (self->spool, seq, self->buf.data, self->buf.len) == -1) {
        int e = errno;
        if (s_pow2 (++self->stats.publish_failed))
            mm_log_error ("sn_uplink: spool append failed (%s; %" PRIu64 " refused so far)",
                          strerror (e), self->stats.publish_failed);
        errno = e;
        return -1;
    }
    self->stats.published++;
    s_pump (self, budget);
    s_overflow (self);
    return 0;
}

int
sn_uplink_publish (sn_uplink_t *self, mm_event_t *ev)
{
    if (!self || !ev) {
        errno = EINVAL;
        return -1;
    }
    return s_publish (self, ev, S_PUBLISH_BUDGET);
}

//  Everything unacknowledged goes again, from the first one (the broker dedups).
static void
s_rewind (sn_uplink_t *self, int64_t now)
{
    sn_spool_seek (self->spool, 0);
    self->sent_upto = self->floor;
    self->blocked = false;
    self->progress_ms = now;
}

static void
s_on_ack (sn_uplink_t *self, const uint8_t *data, size_t len, int64_t now)
{
    mm_ack_t ack;
    mm_error_t err;
    if (mm_ack_decode (&ack, data, len, &err) == -1) {
        self->stats.rx_bad++;
        return;
    }
    if (!mm_str_eq (ack.sensor, self->sensor) || ack.seq >= sn_spool_next_seq (self->spool)) {
        if (s_pow2 (++self->stats.acks_bad))
            mm_log_warning ("sn_uplink: ACK for %.*s seq %" PRIu64 " refused (we are %s, next seq "
                            "%" PRIu64 "; %" PRIu64 " so far)",
                            (int) ack.sensor.len, ack.sensor.ptr, ack.seq, self->sensor,
                            sn_spool_next_seq (self->spool), self->stats.acks_bad);
        return;
    }
    self->stats.acks++;
    if (ack.seq <= self->acked) {
        //  The same mark again while events fly: the broker lacks the next one (it restarted
        //  and lost what was not yet durable, or a reconnect lost frames) and refuses what
        //  follows a hole. Resend from the hole now rather than at the timeout (like TCP's
        //  fast retransmit), at most once per quarter timeout.
        if (ack.seq == self->acked && s_in_flight (self) > 0 &&
            now - self->progress_ms >= (int64_t) self->ack_timeout_ms / 4) {
            self->stats.fast_resends++;
            s_rewind (self, now);
        }
        return;
    }
    if (sn_spool_ack (self->spool, ack.seq) == -1 && errno == ERANGE) {
        self->stats.acks_bad++;
        return;
    }
    //  A segment that could not be deleted is the spool's problem (counted there); the ack
    //  itself holds.
    if (ack.seq > self->floor)
        self->stats.acked += ack.seq - self->floor;  //  seqs at or below the floor were dropped
    self->acked = ack.seq;
    s_set_floor (self, ack.seq);
    self->progress_ms = now;
    self->timeout_mult = 1;
}

//  A WATCHLIST or WARNING from the broker, handed to the owner. 0, -1 if it is not one, -2 if
//  the owner refused a WATCHLIST (it could not store it).
static int
s_on_down (sn_uplink_t *self, const uint8_t *data, size_t len)
{
    mm_msg_type_t type;
    mm_error_t err;
    if (mm_msg_peek (data, len, &type, &err) == -1) {
        if (s_pow2 (++self->stats.rx_bad))
            mm_log_warning ("sn_uplink: bad frame from the broker: %s", err.reason);
        return -1;
    }
    switch (type) {
    case MM_MSG_WATCHLIST:
        if (mm_watchlist_decode (self->wl, data, len, &err) == -1) {
            self->stats.rx_bad++;
            mm_log_warning ("sn_uplink: bad WATCHLIST from the broker: %s", err.reason);
            return -1;
        }
        if (self->on_watchlist && self->on_watchlist (self->arg, self->wl) == -1) {
            self->stats.watchlists_deferred++;
            return -2;  //  the owner could not keep it: not taken, the broker sends it again
        }
        self->stats.watchlists++;
        return 0;
    case MM_MSG_WARNING:
        if (mm_warning_decode (self->warn, data, len, &err) == -1) {
            self->stats.rx_bad++;
            mm_log_warning ("sn_uplink: bad WARNING from the broker: %s", err.reason);
            return -1;
        }
        self->stats.warnings++;
        if (self->on_warning)
            self->on_warning (self->arg, self->warn);
        return 0;
    default:
        if (s_pow2 (++self->stats.rx_bad))
            mm_log_warning ("sn_uplink: the broker sent a %s, which a sensor does not take",
                            mm_msg_type_name (type) ? mm_msg_type_name (type) : "message");
        return -1;
    }
}

//  Tells the broker which held messages we have taken (cumulative, like its ACKs to us).
static void
s_ack_down (sn_uplink_t *self)
{
    mm_ack_t ack = {.ts = s_wall_ns (), .sensor = mm_str (self->sensor), .seq = self->down_taken};
    mm_error_t err;
    mm_buf_clear (&self->ack_buf);
    if (mm_ack_encode (&ack, &self->ack_buf, &err) == 0 &&
        mm_curve_client_send (self->client, self->ack_buf.data, self->ack_buf.len) == 0)
        self->stats.down_acks++;
    //  Not sent: the broker sends the message again and we acknowledge the repeat.
}

//  An indexed frame: a held message numbered by the broker for us. Taken only in order, so
//  the cumulative ACK never covers one we did not see (a reconnect can lose a burst's tail;
//  the broker resends from the oldest it holds). The first one since our start sets the order.
static void
s_on_held (sn_uplink_t *self, const uint8_t *data, size_t len)
{
    uint64_t id;
    const uint8_t *msg;
    size_t msg_len;
    if (mm_index_split (data, len, &id, &msg, &msg_len) == -1) {
        if (s_pow2 (++self->stats.rx_bad))
            mm_log_warning ("sn_uplink: bad indexed frame from the broker");
        return;
    }
    if (self->down_taken && id <= self->down_taken) {
        self->stats.down_repeats++;  //  a resend: acknowledged again, not handled again
        self->down_ack_due = true;
        return;
    }
    if (self->down_taken && id != self->down_taken + 1) {
        self->stats.down_gaps++;  //  an earlier one was lost: wait for the resend
        return;
    }
    //  Taken even if it does not decode (counted and logged): otherwise it would come forever.
    //  Not taken if the owner could not make it durable (-2): no ACK, it comes again.
    if (s_on_down (self, msg, msg_len) == -2)
        return;
    self->down_taken = id;
    self->down_ack_due = true;  //  one cumulative ACK after the burst (sn_uplink_poll)
}

static void
s_on_frame (sn_uplink_t *self, zframe_t *frame, int64_t now)
{
    const uint8_t *data = zframe_data (frame);
    size_t len = zframe_size (frame);
    if (mm_index_is (data, len)) {
        s_on_held (self, data, len);
        return;
    }
    mm_msg_type_t type;
    mm_error_t err;
    if (mm_msg_peek (data, len, &type, &err) == 0 && type == MM_MSG_ACK)
        s_on_ack (self, data, len, now);
    else
        s_on_down (self, data, len);  //  bare WATCHLIST/WARNING: taken, nothing to confirm
}

static void
s_heartbeat (sn_uplink_t *self, int64_t now, const sn_uplink_health_t *health)
{
    sn_spool_stats_t ss;
    sn_spool_stats (self->spool, &ss);
    mm_heartbeat_t hb;
    memset (&hb, 0, sizeof hb);
    hb.ts = s_wall_ns ();
    hb.sensor = mm_str (self->sensor);
    hb.org = mm_str (self->org);
    hb.seq = ss.next_seq - 1;
    if (health) {
        hb.uptime_s = health->uptime_s;
        hb.packets = health->packets;
        hb.drops = health->drops;
        hb.flows = health->flows;
        hb.events = health->events;
    }
    hb.spool_depth = ss.depth;
    hb.spool_bytes = ss.depth_bytes;
    hb.spool_dropped = ss.dropped;
    hb.version = mm_str (self->version);
    //  Only when something was lost: the broker must not wait for seqs that will never come.
    //  The bound's drops are at the acknowledged mark; other holes are found while sending.
    if (self->floor > self->acked) {
        hb.hole_from = self->acked + 1;
        hb.hole_to = self->floor;
    }
    else if (self->hole_to > self->acked) {
        hb.hole_from = self->hole_from > self->acked ? self->hole_from : self->acked + 1;
        hb.hole_to = self->hole_to;
    }
    mm_buf_clear (&self->buf);
    mm_error_t err;
    if (mm_heartbeat_encode (&hb, &self->buf, &err) == -1 ||
        mm_curve_client_send (self->client, self->buf.data, self->buf.len) == -1) {
        self->stats.heartbeats_failed++;
        uint32_t retry = self->heartbeat_ms < S_HB_RETRY_MS ? self->heartbeat_ms : S_HB_RETRY_MS;
        self->next_hb_ms = now + retry;
        return;
    }
    self->stats.heartbeats++;
    self->next_hb_ms = now + self->heartbeat_ms;
}

//  A new connection (the broker restarted, or the link was re-made): what was in flight on
//  the old one may be lost, so everything unacknowledged goes again now, not at the timeout,
//  and a heartbeat goes at once so the broker learns the connection (its down copies). A
//  refused handshake is the broker refusing our key: said plainly, not taken for an outage.
static void
s_connection_events (sn_uplink_t *self, int64_t now)
{
    mm_curve_client_events_t ev;
    mm_curve_client_events (self->client, &ev);
    if (ev.handshakes > self->handshakes_seen) {
        //  The first connection replaces none: what flies went out on it (the monitor's event
        //  may be read after the first sends), so only a later one means frames were lost.
        bool again = self->handshakes_seen > 0;
        self->handshakes_seen = ev.handshakes;
        self->next_hb_ms = 0;
        if (again && s_in_flight (self) > 0) {
            self->stats.reconnect_resends++;
            s_rewind (self, now);
        }
    }
    if (ev.auth_failures > self->auth_failures_seen) {
        self->auth_failures_seen = ev.auth_failures;
        self->stats.auth_refused = ev.auth_failures;
        if (s_pow2 (ev.auth_failures))
            mm_log_error ("sn_uplink: the broker refused this sensor's key (ZAP status %u, %" PRIu64
                          " times): is %s's certificate in the broker's allow-list, or revoked?",
                          ev.last_auth_status, ev.auth_failures, self->sensor);
    }
}

int
sn_uplink_poll (sn_uplink_t *self, int64_t now_ms, int timeout_ms, const sn_uplink_health_t *health)
{
    if (!self) {
        errno = EINVAL;
        return -1;
    }
    zsock_t *sock = mm_curve_client_sock (self->client);
    if (timeout_ms > 0) {
        zmq_pollitem_t item = {zsock_resolve (sock), 0, ZMQ_POLLIN, 0};
        zmq_poll (&item, 1, timeout_ms);
        now_ms = 0;  //  time has passed
    }
    int64_t now = now_ms ? now_ms : zclock_mono ();
    for (int i = 0; i < S_RECV_BURST && (zsock_events (sock) & ZMQ_POLLIN); i++) {
        zframe_t *frame = mm_curve_client_recv (self->client);
        if (!frame)
            break;
        s_on_frame (self, frame, now);
        zframe_destroy (&frame);
    }
    //  One cumulative ACK for the burst: the broker deletes up to it in one synced write.
    if (self->down_ack_due) {
        self->down_ack_due = false;
        s_ack_down (self);
    }
    s_connection_events (self, now);
    //  No ACK moved for the timeout while events fly: the broker restarted, the connection
    //  dropped with frames in its queues, or the broker is stuck. Send everything again from
    //  the first unacknowledged (it dedups); back off if it keeps happening.
    if (s_in_flight (self) > 0 &&
        now - self->progress_ms >= (int64_t) self->ack_timeout_ms * self->timeout_mult) {
        self->stats.timeouts++;
        mm_log_info ("sn_uplink: no ACK for %" PRIu64 " ms with %" PRIu64 " events in flight: "
                     "resending from seq %" PRIu64,
                     (uint64_t) self->ack_timeout_ms * self->timeout_mult, s_in_flight (self),
                     self->floor + 1);
        s_rewind (self, now);
        if (self->timeout_mult < S_TIMEOUT_MULT_MAX)
            self->timeout_mult *= 2;
    }
    int rc = 0;
    if (s_pump (self, self->window) == -1)
        rc = -1;
    if (now >= self->next_hb_ms)
        s_heartbeat (self, now, health);
    if (sn_spool_tick (self->spool) == -1)
        rc = -1;
    s_overflow (self);
    return rc;
}

static mm_cert_t *
s_load (const char *path, const char *what)
{
    char err[256];
    mm_cert_t *c = path ? mm_cert_load (path, err, sizeof err) : NULL;
    if (!c)
        mm_log_error ("sn_uplink: %s certificate %s: %s", what, path ? path : "(none)",
                      path ? err : "not configured");
    return c;
}

sn_uplink_t *
sn_uplink_new (const sn_uplink_config_t *cfg)
{
    if (!cfg || !cfg->endpoint || !cfg->spool_dir) {
        mm_log_error ("sn_uplink: needs an endpoint, certificates and a spool directory");
        errno = EINVAL;
        return NULL;
    }
    sn_uplink_t *self = (sn_uplink_t *) calloc (1, sizeof *self);
    mm_cert_t *broker = NULL;
    if (!self)
        return NULL;
    self->wl = (mm_watchlist_t *) calloc (1, sizeof *self->wl);
    self->warn = (mm_warning_t *) calloc (1, sizeof *self->warn);
    if (!self->wl || !self->warn)
        goto fail;
    self->window = cfg->window ? cfg->window : SN_UPLINK_WINDOW;
    self->heartbeat_ms = cfg->heartbeat_ms ? cfg->heartbeat_ms : SN_UPLINK_HEARTBEAT_MS;
    self->ack_timeout_ms = cfg->ack_timeout_ms ? cfg->ack_timeout_ms : SN_UPLINK_ACK_TIMEOUT_MS;
    snprintf (self->version, sizeof self->version, "%s", cfg->version ? cfg->version : "unknown");
    self->on_watchlist = cfg->on_watchlist;
    self->on_warning = cfg->on_warning;
    self->arg = cfg->arg;
    self->timeout_mult = 1;

    self->cert = s_load (cfg->cert, "own");
    broker = s_load (cfg->broker_cert, "broker");
    if (!self->cert || !broker)
        goto fail;
    if (!mm_cert_has_secret (self->cert)) {
        mm_log_error ("sn_uplink: %s holds no secret key (give the ID.cert_secret file)",
                      cfg->cert);
        goto fail;
    }
    const mm_identity_t *id = mm_cert_identity (self->cert);
    snprintf (self->sensor, sizeof self->sensor, "%s", id->id);
    snprintf (self->org, sizeof self->org, "%s", id->org);
    if (!self->org[0]) {
        mm_log_error ("sn_uplink: %s names no org (not a sensor certificate?)", cfg->cert);
        goto fail;
    }

    self->spool = sn_spool_new (cfg->spool_dir, &cfg->spool);
    if (!self->spool) {
        mm_log_error ("sn_uplink: cannot open the spool %s: %s", cfg->spool_dir, strerror (errno));
        goto fail;
    }
    sn_spool_stats_t ss;
    sn_spool_stats (self->spool, &ss);
    self->acked = ss.acked_seq;
    self->floor = ss.oldest_unacked - 1;
    self->sent_upto = self->floor;
    //  What an earlier run left unacknowledged may have been sent: count it as resent.
    self->max_sent = ss.next_seq - 1;
    sn_spool_seek (self->spool, 0);

    self->client = mm_curve_client_new (cfg->endpoint, self->cert, mm_cert_public_txt (broker));
    if (!self->client)
        goto fail;
    mm_cert_destroy (&broker);
    self->progress_ms = self->next_hb_ms = zclock_mono ();
    s_overflow (self);  //  drops recorded before a restart
    return self;
fail:
    mm_cert_destroy (&broker);
    sn_uplink_destroy (&self);
    return NULL;
}

void
sn_uplink_destroy (sn_uplink_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sn_uplink_t *self = *self_p;
    mm_curve_client_destroy (&self->client);
    sn_spool_destroy (&self->spool);
    mm_cert_destroy (&self->cert);
    mm_buf_free (&self->buf);
    mm_buf_free (&self->ack_buf);
    free (self->wl);
    free (self->warn);
    free (self);
    *self_p = NULL;
}

void
sn_uplink_stats (sn_uplink_t *self, sn_uplink_stats_t *stats)
{
    *stats = self->stats;
    stats->acked_seq = self->acked;
    stats->in_flight = s_in_flight (self);
    sn_spool_stats_t ss;
    sn_spool_stats (self->spool, &ss);
    stats->spool_depth = ss.depth;
    self->stats.spool_depth = ss.depth;
}

sn_spool_t *
sn_uplink_spool (sn_uplink_t *self)
{
    return self->spool;
}
