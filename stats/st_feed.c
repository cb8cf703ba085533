/*  st_feed: see st_feed.h. */
#include "st_feed.h"

#include <czmq.h>
#include <string.h>

typedef struct {
    zframe_t *rid;
    char pubkey[41];
    int64_t seen_ms;
    bool current;  //  has the current rows
} s_peer_t;

struct st_feed_t {
    mm_curve_server_t *server;
    mm_buf_t rows;
    s_peer_t peers[ST_FEED_PEERS_MAX];
    size_t n_peers;
    st_feed_stats_t stats;
};

st_feed_t *
st_feed_new (mm_curve_auth_t *auth, const mm_cert_t *cert, const char *endpoint,
             const char *allow_dir, const char *revoke_file)
{
    st_feed_t *self = (st_feed_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    mm_curve_server_config_t cfg = {.endpoint = endpoint,
                                    .domain = "stats",
                                    .allow_dir = allow_dir,
                                    .revoke_file = revoke_file,
                                    .roles = MM_ROLE_BIT (MM_ROLE_CONSOLE)};
    self->server = mm_curve_server_new (auth, cert, &cfg);
    if (!self->server) {
        free (self);
        return NULL;
    }
    return self;
}

static void
s_forget (st_feed_t *self, size_t i)
{
    zframe_destroy (&self->peers[i].rid);
    self->peers[i] = self->peers[--self->n_peers];
    memset (&self->peers[self->n_peers], 0, sizeof self->peers[0]);
}

void
st_feed_destroy (st_feed_t **self_p)
{
    st_feed_t *self = *self_p;
    if (!self)
        return;
    while (self->n_peers)
        s_forget (self, 0);
    mm_curve_server_destroy (&self->server);
    mm_buf_free (&self->rows);
    free (self);
    *self_p = NULL;
}

const char *
st_feed_endpoint (st_feed_t *self)
{
    return mm_curve_server_endpoint (self->server);
}

//  Every current row to one subscriber; false if one could not be sent (tried again whole
//  at its next hello: rows are idempotent, a table replaces the last).
static bool
s_send_all (st_feed_t *self, s_peer_t *p)
{
    const uint8_t *d = self->rows.data, *end = d + self->rows.len;
    while (d < end) {
        const uint8_t *nl = (const uint8_t *) memchr (d, '\n', (size_t) (end - d));
        size_t n = nl ? (size_t) (nl - d) : (size_t) (end - d);
        if (n && mm_curve_server_send (self->server, p->rid, p->pubkey, d, n) == -1) {
            self->stats.send_errors++;
            return false;
        }
        self->stats.frames_sent += n > 0;
        d += n + (nl != NULL);
    }
    return true;
}

int
st_feed_publish (st_feed_t *self, const uint8_t *lines, size_t len)
{
    mm_buf_clear (&self->rows);
    if (mm_buf_append (&self->rows, lines, len) == -1)
        return -1;
    self->stats.publications++;
    for (size_t i = 0; i < self->n_peers; i++)
        self->peers[i].current = s_send_all (self, &self->peers[i]);
    return 0;
}

void
st_feed_run_once (st_feed_t *self, int timeout_ms)
{
    zsock_t *sock = mm_curve_server_sock (self->server);
    zsock_set_rcvtimeo (sock, timeout_ms);
    int64_t now = zclock_mono ();
    while (true) {
        zframe_t *rid = NULL;
        mm_identity_t peer;
        zframe_t *frame = mm_curve_server_recv (self->server, &rid, &peer);
        if (!frame)
            break;
        zframe_destroy (&frame);
        self->stats.hellos++;
        now = zclock_mono ();
        size_t i = 0;
        while (i < self->n_peers && strcmp (self->peers[i].pubkey, peer.pubkey) != 0)
            i++;
        if (i == self->n_peers) {
            if (self->n_peers == ST_FEED_PEERS_MAX) {
                zframe_destroy (&rid);
                continue;
            }
            self->n_peers++;
            snprintf (self->peers[i].pubkey, sizeof self->peers[i].pubkey, "%s", peer.pubkey);
            self->peers[i].current = false;
        }
        s_peer_t *p = &self->peers[i];
        zframe_destroy (&p->rid);
        p->rid = rid;
        p->seen_ms = now;
        if (!p->current)
            p->current = s_send_all (self, p);
        zsock_set_rcvtimeo (sock, 0);  //  the rest of what waits, then back
    }
    for (size_t i = 0; i < self->n_peers;)
        if (now - self->peers[i].seen_ms > ST_FEED_SILENT_MS)
            s_forget (self, i);
        else
            i++;
    self->stats.subscribers = self->n_peers;
}

void
st_feed_stats (const st_feed_t *self, st_feed_stats_t *stats)
{
    *stats = self->stats;
}
