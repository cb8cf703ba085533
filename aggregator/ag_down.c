/*  ag_down: the aggregator's down path (see ag_down.h). Owner: aggregator/.
    In memory per broker: its connection, the queue bounds (mirrors of the store's head, so a
    round costs no read) and the send position. The messages are only in the store. */
#include "ag_down.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mm_warning.h"
#include "mm_watchlist.h"
#include "mm_log.h"

#define S_LOG_MS 1000
#define S_SEND_MAX 64  //  frames to one broker per round

typedef struct {
    char id[MM_ID_MAX + 1];
    char pubkey[MM_CERT_KEY_TXT + 1];
    zframe_t *rid;        //  NULL: not connected as far as we know
    uint64_t last;        //  last index queued
    uint64_t acked;       //  last index the broker holds
    uint64_t next;        //  next index to send
    int64_t progress_ms;  //  last time the queue moved or sending restarted
} s_broker_t;

struct ag_down_t {
    char id[MM_ID_MAX + 1];
    ag_store_t *store;
    mm_curve_server_t *server;
    zhashx_t *brokers;  //  broker id -> s_broker_t, registered ones only
    mm_warning_t warning;
    mm_watchlist_t watchlist;
    mm_buf_t frame;
    int64_t inbox_ms;
    int64_t log_ms;
    ag_down_stats_t stats;
};

static void
s_broker_free (void **item)
{
    s_broker_t *b = *item;
    if (b) {
        zframe_destroy (&b->rid);
        free (b);
        *item = NULL;
    }
}

ag_down_t *
ag_down_new (ag_store_t *store, mm_curve_server_t *server, const char *id)
{
    ag_down_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->store = store;
    self->server = server;
    snprintf (self->id, sizeof self->id, "%s", id ? id : "");
    self->brokers = zhashx_new ();
    if (!self->brokers) {
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->brokers, s_broker_free);
    return self;
}

void
ag_down_destroy (ag_down_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ag_down_t *self = *self_p;
    zhashx_destroy (&self->brokers);
    mm_buf_free (&self->frame);
    free (self);
    *self_p = NULL;
}

//  The state of a registered broker, loaded from the store on first use; NULL if it has never
//  announced itself (`register_it` makes it known).
static s_broker_t *
s_broker (ag_down_t *self, const char *id, bool register_it)
{
    s_broker_t *b = zhashx_lookup (self->brokers, id);
    if (b)
        return b;
    uint64_t last, acked;
    if (ag_store_down_state (self->store, mm_str (id), &last, &acked) == -1) {
        if (!register_it)
            return NULL;
        int rc = ag_store_down_register (self->store, mm_str (id));
        if (rc == -1) {
            self->stats.errors++;
            return NULL;
        }
        self->stats.brokers++;
        mm_log_info ("ag_down: %s: broker %s registered: it gets every down message from now on",
                     self->id, id);
        last = acked = 0;
    }
    b = calloc (1, sizeof *b);
    if (!b)
        return NULL;
    snprintf (b->id, sizeof b->id, "%s", id);
    b->last = last;
    b->acked = acked;
    b->next = acked + 1;
    b->progress_ms = zclock_mono ();
    if (zhashx_insert (self->brokers, id, b) != 0) {
        free (b);
        return NULL;
    }
    return b;
}

static void
s_connection (s_broker_t *b, const mm_identity_t *peer, zframe_t *rid)
{
    if (b->rid && zframe_eq (b->rid, rid) && strcmp (b->pubkey, peer->pubkey) == 0)
        return;
    //  A new connection: what was in flight on the old one is gone; start from the oldest.
    zframe_destroy (&b->rid);
    b->rid = zframe_dup (rid);
    snprintf (b->pubkey, sizeof b->pubkey, "%s", peer->pubkey);
    b->next = b->acked + 1;
    b->progress_ms = zclock_mono ();
}

void
ag_down_seen (ag_down_t *self, const mm_identity_t *peer, zframe_t *rid)
{
    s_broker_t *b = s_broker (self, peer->id, false);
    if (b && rid)
        s_connection (b, peer, rid);
}

void
ag_down_on_ack (ag_down_t *self, const mm_identity_t *peer, zframe_t *rid, const mm_ack_t *ack)
{
    if (!mm_str_eq (ack->sensor, peer->id)) {
        self->stats.bad_acks++;
        return;
    }
    s_broker_t *b = s_broker (self, peer->id, true);
    if (!b)
        return;
    if (rid)
        s_connection (b, peer, rid);
    if (ack->seq <= b->acked)
        return;  //  presence, or progress already known
    if (ack->seq > b->last) {
        self->stats.bad_acks++;
        return;
    }
    if (ag_store_down_ack (self->store, mm_str (b->id), ack->seq) == -1) {
        self->stats.errors++;
        return;
    }
    self->stats.acks++;
    b->acked = ack->seq;
    b->progress_ms = zclock_mono ();
    if (b->next <= b->acked)
        b->next = b->acked + 1;
}

//  Reads the recipient of a down message, to refuse what a broker could not route.
static const char *
s_invalid (ag_down_t *self, const uint8_t *msg, size_t len)
{
    mm_msg_type_t type;
    mm_error_t err;
    if (len > MM_MSG_MAX || mm_msg_peek (msg, len, &type, &err) == -1)
        return "not a protocol message";
    if (type == MM_MSG_WARNING) {
        if (mm_warning_decode (&self->warning, msg, len, &err) == -1)
            return "a WARNING that does not decode";
        return self->warning.org.len ? NULL : "a WARNING without a recipient org";
    }
    if (type == MM_MSG_WATCHLIST)
        return mm_watchlist_decode (&self->watchlist, msg, len, &err) == -1
                   ? "a WATCHLIST that does not decode"
                   : NULL;
    return "not a WARNING or WATCHLIST";
}

int
ag_down_queue (ag_down_t *self, const uint8_t *msg, size_t len)
{
    const char *why = s_invalid (self, msg, len);
    if (why) {
        self->stats.unqueued++;
        mm_log_warning ("ag_down: %s: down message refused: %s", self->id, why);
        return -1;
    }
    int n = ag_store_down_queue (self->store, msg, len);
    if (n == -1) {
        self->stats.errors++;
        mm_log_error ("ag_down: %s: down message not queued: %s", self->id,
                      ag_store_error (self->store));
        return -1;
    }
    if (n == 0) {
        self->stats.unqueued++;
        return 0;
    }
    ag_down_note_queued (self, 1);
    return n;
}

void
ag_down_note_queued (ag_down_t *self, size_t n)
{
    self->stats.queued += n;
    //  Every registered broker got the next indexes: mirror them (brokers not loaded yet read
    //  their head from the store when they are).
    for (s_broker_t *b = zhashx_first (self->brokers); b; b = zhashx_next (self->brokers))
        b->last += n;
}

typedef struct {
    ag_down_t *self;
    s_broker_t *b;
} s_burst_t;

static int
s_send_one (void *arg, uint64_t index, const uint8_t *data, size_t len)
{
    s_burst_t *burst = arg;
    ag_down_t *self = burst->self;
    s_broker_t *b = burst->b;
    uint8_t prefix[MM_INDEX_LEN];
    mm_index_put (prefix, index);
    mm_buf_clear (&self->frame);
    if (mm_buf_append (&self->frame, prefix, sizeof prefix) == -1 ||
        mm_buf_append (&self->frame, data, len) == -1)
        return -1;
    if (mm_curve_server_send (self->server, b->rid, b->pubkey, self->frame.data, self->frame.len) ==
        -1) {
        self->stats.send_errors++;
        if (errno != EAGAIN)
            zframe_destroy (&b->rid);  //  gone or revoked: wait for its next frame
        return -1;
    }
    self->stats.sent++;
    b->next = index + 1;
    return 0;
}

void
ag_down_run (ag_down_t *self)
{
    int64_t now = zclock_mono ();
    for (s_broker_t *b = zhashx_first (self->brokers); b; b = zhashx_next (self->brokers)) {
        if (!b->rid || b->acked >= b->last)
            continue;
        if (b->next > b->acked + 1 && now - b->progress_ms >= AG_DOWN_RESEND_MS) {
            b->next = b->acked + 1;  //  no ACK moved: lost in a reconnect, or broker restarted
            b->progress_ms = now;
            self->stats.rewinds++;
        }
        uint64_t in_flight = b->next - 1 - b->acked;
        if (b->next > b->last || in_flight >= AG_DOWN_WINDOW)
            continue;
        if (b->next == b->acked + 1)
            b->progress_ms = now;  //  the timeout counts from the oldest one's sending
        uint64_t room = AG_DOWN_WINDOW - in_flight;
        s_burst_t burst = {.self = self, .b = b};
        if (ag_store_down_read (self->store, mm_str (b->id), b->next,
                                (uint32_t) (room < S_SEND_MAX ? room : S_SEND_MAX), s_send_one,
                                &burst) == -1)
            self->stats.errors++;
    }
}

//  Reads one inbox file (at most MM_MSG_MAX bytes). 0, or -1 with `why`.
static int
s_read_file (const char *path, mm_buf_t *buf, const char **why)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        *why = strerror (errno);
        return -1;
    }
    uint8_t chunk[4096];
    size_t n;
    int rc = 0;
    mm_buf_clear (buf);
    while ((n = fread (chunk, 1, sizeof chunk, f)) > 0) {
        if (buf->len + n > MM_MSG_MAX) {
            *why = "larger than a message can be";
            rc = -1;
            break;
        }
        if (mm_buf_append (buf, chunk, n) == -1) {
            *why = "out of memory";
            rc = -1;
            break;
        }
    }
    if (rc == 0 && ferror (f)) {
        *why = "read error";
        rc = -1;
    }
    fclose (f);
    return rc;
}

static void
s_inbox_file (ag_down_t *self, const char *dir, const char *name)
{
    char path[2048], bad[2060];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    mm_buf_t buf = MM_BUF_INIT;
    const char *why = NULL;
    int rc = s_read_file (path, &buf, &why);
    if (rc == 0) {
        rc = ag_down_queue (self, buf.data, buf.len);
        if (rc == 0) {
            mm_buf_free (&buf);
            return;  //  no broker yet: the file stays for the next look
        }
        why = rc == -1 ? "not a valid WARNING or WATCHLIST, or the store failed (see above)" : NULL;
    }
    mm_buf_free (&buf);
    if (!why) {
        self->stats.inbox_files++;
        if (unlink (path) != 0)
            mm_log_error ("ag_down: %s: cannot remove %s: %s: it will be queued again", self->id,
                          path, strerror (errno));
        return;
    }
    self->stats.inbox_bad++;
    snprintf (bad, sizeof bad, "%s.bad", path);
    mm_log_warning ("ag_down: %s: inbox file %s: %s (renamed .bad)", self->id, path, why);
    if (rename (path, bad) != 0)
        mm_log_error ("ag_down: %s: cannot rename %s: %s", self->id, path, strerror (errno));
}

void
ag_down_inbox (ag_down_t *self, const char *dir)
{
    if (!dir || !dir[0])
        return;
    int64_t now = zclock_mono ();
    if (self->inbox_ms && now - self->inbox_ms < AG_DOWN_INBOX_MS)
        return;
    self->inbox_ms = now;
    DIR *d = opendir (dir);
    if (!d) {
        if (now - self->log_ms >= 60 * S_LOG_MS) {
            self->log_ms = now;
            mm_log_warning ("ag_down: %s: inbox %s: %s", self->id, dir, strerror (errno));
        }
        return;
    }
    //  Names first, then files in name order, so tools can order their messages by name.
    zlistx_t *names = zlistx_new ();
    if (!names) {
        closedir (d);
        return;
    }
    zlistx_set_destructor (names, (zlistx_destructor_fn *) zstr_free);
    zlistx_set_comparator (names, (zlistx_comparator_fn *) strcmp);
    struct dirent *e;
    while ((e = readdir (d))) {
        size_t len = strlen (e->d_name);
        char *copy = NULL;
        if (e->d_name[0] != '.' && len > 4 && strcmp (e->d_name + len - 4, ".msg") == 0 &&
            (copy = strdup (e->d_name)))
            zlistx_add_end (names, copy);
    }
    closedir (d);
    zlistx_sort (names);
    for (char *name = zlistx_first (names); name; name = zlistx_next (names))
        s_inbox_file (self, dir, name);
    zlistx_destroy (&names);
}

void
ag_down_stats (const ag_down_t *self, ag_down_stats_t *stats)
{
    *stats = self->stats;
}
