/*  ag_console: see ag_console.h. Consoles are few (one or two per provider and region): a
    list, walked per message. The ring is a fixed array of owned copies. */
#include "ag_console.h"

#include <czmq.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mm_ack.h"
#include "mm_log.h"

#define S_DOMAIN "consoles"

typedef struct {
    char pubkey[MM_CERT_KEY_TXT + 1];
    char id[MM_ID_MAX + 1];
    char provider[MM_ID_MAX + 1];  //  the certificate's org
    char region[MM_ID_MAX + 1];
    zframe_t *rid;
    int64_t heard_ms;  //  monotonic
} s_console_t;

typedef struct {
    char provider[MM_ID_MAX + 1];
    char region[MM_ID_MAX + 1];
    uint64_t ts;
    uint8_t *msg;
    size_t len;
} s_kept_t;

struct ag_console_t {
    mm_curve_server_t *server;
    zlistx_t *consoles;  //  s_console_t (owned)
    s_kept_t *ring;      //  AG_CONSOLE_RING
    size_t ring_next, ring_n;
    zhashx_t *states;  //  key -> s_kept_t (owned): the newest state message of each key
    ag_console_stats_t stats;
};

static void
s_kept_free (void **item)
{
    s_kept_t *k = (s_kept_t *) *item;
    if (k) {
        free (k->msg);
        free (k);
    }
    *item = NULL;
}

static void
s_console_free (void **item)
{
    s_console_t *c = (s_console_t *) *item;
    if (c) {
        zframe_destroy (&c->rid);
        free (c);
    }
    *item = NULL;
}

ag_console_t *
ag_console_new (mm_curve_auth_t *auth, const mm_cert_t *cert, const char *endpoint,
                const char *allow_dir, const char *revoke_file)
{
    ag_console_t *self = (ag_console_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    mm_curve_server_config_t cfg = {
        .endpoint = endpoint,
        .domain = S_DOMAIN,
        .allow_dir = allow_dir,
        .revoke_file = revoke_file && revoke_file[0] ? revoke_file : NULL,
        .roles = MM_ROLE_BIT (MM_ROLE_CONSOLE),
    };
    self->server = mm_curve_server_new (auth, cert, &cfg);
    self->consoles = zlistx_new ();
    self->ring = (s_kept_t *) calloc (AG_CONSOLE_RING, sizeof *self->ring);
    self->states = zhashx_new ();
    if (!self->server || !self->consoles || !self->ring || !self->states) {
        ag_console_destroy (&self);
        return NULL;
    }
    zlistx_set_destructor (self->consoles, s_console_free);
    zhashx_set_destructor (self->states, s_kept_free);
    zsock_set_rcvtimeo (mm_curve_server_sock (self->server), 0);
    mm_log_info ("ag_console: SOC consoles on %s (allow-list %s)",
                 mm_curve_server_endpoint (self->server), allow_dir);
    return self;
}

void
ag_console_destroy (ag_console_t **self_p)
{
    ag_console_t *self = *self_p;
    if (!self)
        return;
    zlistx_destroy (&self->consoles);
    zhashx_destroy (&self->states);
    if (self->ring)
        for (size_t i = 0; i < AG_CONSOLE_RING; i++)
            free (self->ring[i].msg);
    free (self->ring);
    mm_curve_server_destroy (&self->server);
    free (self);
    *self_p = NULL;
}

const char *
ag_console_endpoint (ag_console_t *self)
{
    return mm_curve_server_endpoint (self->server);
}

zsock_t *
ag_console_sock (ag_console_t *self)
{
    return mm_curve_server_sock (self->server);
}

static bool
s_entitled (const s_console_t *c, const char *provider, const char *region)
{
    return strcmp (c->provider, provider) == 0 && strcmp (c->region, region) == 0;
}

//  0, or -1 if the console is gone or refused (it is then forgotten by the caller).
static int
s_send (ag_console_t *self, s_console_t *c, const uint8_t *msg, size_t len)
{
    if (mm_curve_server_send (self->server, c->rid, c->pubkey, msg, len) == 0) {
        self->stats.sent++;
        return 0;
    }
    self->stats.send_errors++;
    return errno == EAGAIN ? 0 : -1;  //  a full queue drops this one; a gone peer goes
}

static bool s_send_entitled (ag_console_t *self, const char *provider, const char *region,
                             const uint8_t *msg, size_t len);

void
ag_console_publish (ag_console_t *self, const char *provider, const char *region, uint64_t ts,
                    const uint8_t *msg, size_t len)
{
    self->stats.published++;
    s_kept_t *k = &self->ring[self->ring_next];
    uint8_t *copy = (uint8_t *) malloc (len);
    if (copy) {
        free (k->msg);
        memcpy (copy, msg, len);
        snprintf (k->provider, sizeof k->provider, "%s", provider);
        snprintf (k->region, sizeof k->region, "%s", region);
        k->ts = ts;
        k->msg = copy;
        k->len = len;
        self->ring_next = (self->ring_next + 1) % AG_CONSOLE_RING;
        if (self->ring_n < AG_CONSOLE_RING)
            self->ring_n++;
    }
    if (!s_send_entitled (self, provider, region, msg, len))
        self->stats.unmatched++;
}

//  Sends `msg` to every connected console entitled to it, forgetting those that are gone.
//  True if one was entitled.
static bool
s_send_entitled (ag_console_t *self, const char *provider, const char *region, const uint8_t *msg,
                 size_t len)
{
    bool matched = false;
    s_console_t *c = (s_console_t *) zlistx_first (self->consoles);
    while (c) {
        s_console_t *next = (s_console_t *) zlistx_next (self->consoles);
        if (s_entitled (c, provider, region)) {
            matched = true;
            if (s_send (self, c, msg, len) == -1) {
                mm_log_info ("ag_console: console %s is gone", c->id);
                zlistx_delete (self->consoles, zlistx_find (self->consoles, c));
            }
        }
        c = next;
    }
    return matched;
}

void
ag_console_state (ag_console_t *self, const char *provider, const char *region, const char *key,
                  const uint8_t *msg, size_t len)
{
    s_kept_t *k = (s_kept_t *) calloc (1, sizeof *k);
    uint8_t *copy = (uint8_t *) malloc (len ? len : 1);
    if (!k || !copy) {
        free (k);
        free (copy);
        return;  //  the next report of this key brings it
    }
    memcpy (copy, msg, len);
    snprintf (k->provider, sizeof k->provider, "%s", provider);
    snprintf (k->region, sizeof k->region, "%s", region);
    k->msg = copy;
    k->len = len;
    zhashx_update (self->states, key, k);  //  the earlier one goes through the destructor
    s_send_entitled (self, provider, region, msg, len);
}

//  What a console missed: the kept messages of its provider and region newer than `since`,
//  oldest first.
static void
s_catch_up (ag_console_t *self, s_console_t *c, uint64_t since)
{
    size_t start = (self->ring_next + AG_CONSOLE_RING - self->ring_n) % AG_CONSOLE_RING;
    for (size_t i = 0; i < self->ring_n; i++) {
        const s_kept_t *k = &self->ring[(start + i) % AG_CONSOLE_RING];
        if (k->msg && k->ts > since && s_entitled (c, k->provider, k->region) &&
            s_send (self, c, k->msg, k->len) == -1)
            return;
    }
}

static void
s_on_hello (ag_console_t *self, zframe_t **rid_p, const mm_identity_t *peer, const uint8_t *data,
            size_t len)
{
    mm_ack_t ack;
    mm_error_t err;
    if (mm_ack_decode (&ack, data, len, &err) == -1) {
        self->stats.bad++;
        return;
    }
    self->stats.hellos++;
    s_console_t *c = (s_console_t *) zlistx_first (self->consoles);
    while (c && strcmp (c->pubkey, peer->pubkey) != 0)
        c = (s_console_t *) zlistx_next (self->consoles);
    bool fresh = !c;
    if (fresh) {
        c = (s_console_t *) calloc (1, sizeof *c);
        if (!c || !zlistx_add_end (self->consoles, c)) {
            free (c);
            return;
        }
        snprintf (c->pubkey, sizeof c->pubkey, "%s", peer->pubkey);
    }
    //  What it may see comes from its certificate now, never from what it sends.
    snprintf (c->id, sizeof c->id, "%s", peer->id);
    snprintf (c->provider, sizeof c->provider, "%s", peer->org);
    snprintf (c->region, sizeof c->region, "%s", peer->region);
    zframe_destroy (&c->rid);
    c->rid = *rid_p;
    *rid_p = NULL;
    c->heard_ms = zclock_mono ();
    if (fresh) {
        mm_log_info ("ag_console: console %s (provider %s, region %s) connected", c->id,
                     c->provider, c->region);
        s_catch_up (self, c, ack.seq);
        //  Then the current states (each sensor's health) it is entitled to.
        for (s_kept_t *k = (s_kept_t *) zhashx_first (self->states); k;
             k = (s_kept_t *) zhashx_next (self->states))
            if (s_entitled (c, k->provider, k->region) && s_send (self, c, k->msg, k->len) == -1)
                break;
    }
}

void
ag_console_run (ag_console_t *self)
{
    for (int i = 0; i < 1000; i++) {
        zframe_t *rid = NULL;
        mm_identity_t peer;
        zframe_t *frame = mm_curve_server_recv (self->server, &rid, &peer);
        if (!frame)
            break;
        s_on_hello (self, &rid, &peer, zframe_data (frame), zframe_size (frame));
        zframe_destroy (&frame);
        zframe_destroy (&rid);
    }
    int64_t now = zclock_mono ();
    s_console_t *c = (s_console_t *) zlistx_first (self->consoles);
    while (c) {
        s_console_t *next = (s_console_t *) zlistx_next (self->consoles);
        if (now - c->heard_ms > AG_CONSOLE_SILENT_MS) {
            mm_log_info ("ag_console: console %s went silent", c->id);
            zlistx_delete (self->consoles, zlistx_find (self->consoles, c));
        }
        c = next;
    }
}

void
ag_console_stats (const ag_console_t *self, ag_console_stats_t *stats)
{
    *stats = self->stats;
    stats->consoles = zlistx_size (self->consoles);
    stats->states = zhashx_size (self->states);
}
