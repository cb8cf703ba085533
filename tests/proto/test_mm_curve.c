/*  mm_curve: CURVE sockets between nodes over loopback. Allowed keys get through with their
    identity; unknown, revoked, removed and wrong-server keys do not; a key removed or revoked
    while connected is dropped within 5 s (measured); socket options are what mm_curve.h says;
    allow-lists see every kind of change to their files. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <czmq.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mm_curve.h"

//  ---------------------------------------------------------------------------------------------
//  Fixture: a temporary tree root/{allow,allow2,other} and root/revoked, removed afterwards.

static char s_root[64], s_allow[128], s_allow2[128], s_other[128], s_revoke[128];

static void
s_setup (void)
{
    snprintf (s_root, sizeof s_root, "/tmp/mm-curve-test-XXXXXX");
    cr_assert_not_null (mkdtemp (s_root));
    snprintf (s_allow, sizeof s_allow, "%s/allow", s_root);
    snprintf (s_allow2, sizeof s_allow2, "%s/allow2", s_root);
    snprintf (s_other, sizeof s_other, "%s/other", s_root);
    snprintf (s_revoke, sizeof s_revoke, "%s/revoked", s_root);
    cr_assert_eq (mkdir (s_allow, 0700), 0);
    cr_assert_eq (mkdir (s_allow2, 0700), 0);
    cr_assert_eq (mkdir (s_other, 0700), 0);
}

static void
s_empty_dir (const char *dir)
{
    DIR *d = opendir (dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir (d))) {
        if (strcmp (e->d_name, ".") && strcmp (e->d_name, "..")) {
            char path[512];
            snprintf (path, sizeof path, "%s/%s", dir, e->d_name);
            unlink (path);
        }
    }
    closedir (d);
}

static void
s_teardown (void)
{
    s_empty_dir (s_allow);
    s_empty_dir (s_allow2);
    s_empty_dir (s_other);
    rmdir (s_allow);
    rmdir (s_allow2);
    rmdir (s_other);
    rmdir (s_revoke);  //  a test may leave a directory in its place
    s_empty_dir (s_root);
    rmdir (s_root);
}

TestSuite (mm_curve, .init = s_setup, .fini = s_teardown, .timeout = 40);
TestSuite (mm_curve_allow, .init = s_setup, .fini = s_teardown, .timeout = 40);

//  ---------------------------------------------------------------------------------------------
//  Helpers

static mm_cert_t *
s_cert (mm_role_t role, const char *id, const char *org, const char *region)
{
    char err[256];
    mm_cert_t *c = mm_cert_new (role, id, org, region, err, sizeof err);
    cr_assert_not_null (c, "%s", err);
    return c;
}

//  Puts the public certificate of `c` into `dir` as ID.cert.
static void
s_allow_cert (const char *dir, const mm_cert_t *c)
{
    char path[256], err[256];
    snprintf (path, sizeof path, "%s/%s.cert", dir, mm_cert_identity (c)->id);
    cr_assert_eq (mm_cert_save_public (c, path, true, err, sizeof err), 0, "%s", err);
}

static void
s_append (const char *path, const char *line)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    cr_assert_neq (fd, -1);
    cr_assert_eq (write (fd, line, strlen (line)), (ssize_t) strlen (line));
    close (fd);
}

static mm_curve_server_t *
s_server (mm_curve_auth_t *auth, const mm_cert_t *cert, const char *domain, const char *dir,
          const char *revoke, unsigned roles)
{
    mm_curve_server_config_t cfg = {
        .endpoint = "tcp://127.0.0.1:*",
        .domain = domain,
        .allow_dir = dir,
        .revoke_file = revoke,
        .roles = roles,
    };
    return mm_curve_server_new (auth, cert, &cfg);
}

//  Sends `text`, retrying while no connection is up. 0, or -1 after `timeout_ms`.
static int
s_send (mm_curve_client_t *client, const char *text, int timeout_ms)
{
    int64_t end = zclock_mono () + timeout_ms;
    while (mm_curve_client_send (client, text, strlen (text)) == -1) {
        if (errno != EAGAIN || zclock_mono () >= end)
            return -1;
        zclock_sleep (10);
    }
    return 0;
}

//  The next allowed message within `timeout_ms`, or NULL.
static zframe_t *
s_recv (mm_curve_server_t *server, zframe_t **rid, mm_identity_t *peer, int timeout_ms)
{
    int64_t end = zclock_mono () + timeout_ms;
    for (;;) {
        int64_t left = end - zclock_mono ();
        if (left <= 0)
            return NULL;
        zsock_set_rcvtimeo (mm_curve_server_sock (server), (int) (left < 100 ? left : 100));
        zframe_t *f = mm_curve_server_recv (server, rid, peer);
        if (f)
            return f;
    }
}

static bool
s_frame_eq (zframe_t *f, const char *text)
{
    return f && zframe_size (f) == strlen (text) &&
           memcmp (zframe_data (f), text, strlen (text)) == 0;
}

//  Waits until the handler has counted what `field` points into (a copy refreshed each poll).
static mm_curve_auth_stats_t
s_auth_wait (mm_curve_auth_t *auth, size_t offset, uint64_t at_least, int timeout_ms)
{
    mm_curve_auth_stats_t st = {0};
    int64_t end = zclock_mono () + timeout_ms;
    do {
        cr_assert_eq (mm_curve_auth_stats (auth, &st), 0);
        if (*(uint64_t *) ((char *) &st + offset) >= at_least)
            break;
        zclock_sleep (20);
    } while (zclock_mono () < end);
    return st;
}

//  A connected pair: server (broker key) for the "sensors" domain, a sensor client allowed in
//  s_allow, one message exchanged both ways.
typedef struct {
    mm_curve_auth_t *auth;
    mm_cert_t *server_cert, *client_cert;
    mm_curve_server_t *server;
    mm_curve_client_t *client;
    zframe_t *rid;
} s_pair_t;

static void
s_pair_up (s_pair_t *p, const char *revoke)
{
    memset (p, 0, sizeof *p);
    p->auth = mm_curve_auth_new ();
    cr_assert_not_null (p->auth);
    p->server_cert = s_cert (MM_ROLE_BROKER, "b-kanto", NULL, "kanto");
    p->client_cert = s_cert (MM_ROLE_SENSOR, "s-kanto-0001", "org-0001", "kanto");
    s_allow_cert (s_allow, p->client_cert);
    p->server = s_server (p->auth, p->server_cert, "sensors", s_allow, revoke,
                          MM_ROLE_BIT (MM_ROLE_SENSOR));
    cr_assert_not_null (p->server);
    p->client = mm_curve_client_new (mm_curve_server_endpoint (p->server), p->client_cert,
                                     mm_cert_public_txt (p->server_cert));
    cr_assert_not_null (p->client);
    cr_assert_eq (s_send (p->client, "hello", 5000), 0, "never connected");
    mm_identity_t peer;
    zframe_t *f = s_recv (p->server, &p->rid, &peer, 5000);
    cr_assert (s_frame_eq (f, "hello"));
    zframe_destroy (&f);
}

static void
s_pair_down (s_pair_t *p)
{
    zframe_destroy (&p->rid);
    mm_curve_client_destroy (&p->client);
    mm_curve_server_destroy (&p->server);
    mm_curve_auth_destroy (&p->auth);
    mm_cert_destroy (&p->server_cert);
    mm_cert_destroy (&p->client_cert);
}

//  ---------------------------------------------------------------------------------------------
//  Sockets

Test (mm_curve, allowed_client_exchanges_and_server_sees_its_identity)
{
    s_pair_t p;
    s_pair_up (&p, NULL);
    //  Both ways, in order.
    for (int i = 0; i < 100; i++) {
        char text[32];
        snprintf (text, sizeof text, "event %d", i);
        cr_assert_eq (s_send (p.client, text, 2000), 0);
        zframe_t *rid = NULL;
        mm_identity_t peer;
        zframe_t *f = s_recv (p.server, &rid, &peer, 5000);
        cr_assert (s_frame_eq (f, text), "message %d", i);
        //  Identity from the key: the current certificate...
        cr_assert_str_eq (peer.pubkey, mm_cert_public_txt (p.client_cert));
        cr_assert_eq (peer.role, MM_ROLE_SENSOR);
        cr_assert_str_eq (peer.id, "s-kanto-0001");
        cr_assert_str_eq (peer.org, "org-0001");
        cr_assert_str_eq (peer.region, "kanto");
        //  ... and the same from the connection's ZAP properties (User-Id and metadata).
        mm_identity_t hs;
        cr_assert_eq (mm_curve_peer_from_frame (f, &hs), 0);
        cr_assert_str_eq (hs.pubkey, peer.pubkey);
        cr_assert_eq (hs.role, MM_ROLE_SENSOR);
        cr_assert_str_eq (hs.id, "s-kanto-0001");
        cr_assert_str_eq (hs.org, "org-0001");
        cr_assert_str_eq (hs.region, "kanto");
        cr_assert_str_eq (zframe_meta (f, "User-Id"), peer.pubkey);

        snprintf (text, sizeof text, "ack %d", i);
        cr_assert_eq (mm_curve_server_send (p.server, rid, peer.pubkey, text, strlen (text)), 0);
        zsock_set_rcvtimeo (mm_curve_client_sock (p.client), 5000);
        zframe_t *back = mm_curve_client_recv (p.client);
        cr_assert (s_frame_eq (back, text));
        //  The client side has no ZAP: no User-Id on what it receives.
        cr_assert_eq (mm_curve_peer_from_frame (back, &hs), -1);
        zframe_destroy (&back);
        zframe_destroy (&f);
        zframe_destroy (&rid);
    }
    mm_curve_server_stats_t st;
    mm_curve_server_stats (p.server, &st);
    cr_expect_eq (st.delivered, 101);
    cr_expect_eq (st.received, 101);
    cr_expect_eq (st.dropped_unknown + st.dropped_revoked + st.dropped_framing, 0);
    cr_expect_eq (st.meta_changed, 0);
    mm_curve_auth_stats_t as;
    cr_assert_eq (mm_curve_auth_stats (p.auth, &as), 0);
    cr_expect_eq (as.accepted, 1);
    mm_curve_client_stats_t cs;
    mm_curve_client_stats (p.client, &cs);
    cr_expect_eq (cs.received, 100);
    s_pair_down (&p);
}

Test (mm_curve, unknown_key_is_refused_at_the_handshake)
{
    mm_curve_auth_t *auth = mm_curve_auth_new ();
    mm_cert_t *sc = s_cert (MM_ROLE_BROKER, "b1", NULL, "r");
    mm_cert_t *known = s_cert (MM_ROLE_SENSOR, "s1", "o", "r");
    mm_cert_t *stranger = s_cert (MM_ROLE_SENSOR, "s1", "o", "r");  //  same id, other key
    s_allow_cert (s_allow, known);
    mm_curve_server_t *server = s_server (auth, sc, "sensors", s_allow, NULL, 0);
    cr_assert_not_null (server);
    mm_curve_client_t *client =
        mm_curve_client_new (mm_curve_server_endpoint (server), stranger, mm_cert_public_txt (sc));
    cr_assert_not_null (client);
    mm_curve_auth_stats_t as =
        s_auth_wait (auth, offsetof (mm_curve_auth_stats_t, refused_unknown), 1, 5000);
    cr_assert_geq (as.refused_unknown, 1);
    cr_expect_eq (as.accepted, 0);
    //  Nothing can be sent (no connection ever completes) and nothing arrives.
    cr_expect_eq (s_send (client, "let me in", 1000), -1);
    zframe_t *rid = NULL;
    mm_identity_t peer;
    cr_expect_null (s_recv (server, &rid, &peer, 500));
    mm_curve_server_stats_t st;
    mm_curve_server_stats (server, &st);
    cr_expect_eq (st.received, 0);
    //  The client can tell a refusal from a server that is down (its socket monitor).
    mm_curve_client_events_t ev;
    mm_curve_client_events (client, &ev);
    cr_expect_geq (ev.auth_failures, 1);
    cr_expect_eq (ev.handshakes, 0);
    cr_expect_eq (ev.last_auth_status, 400);
    //  The known key connects: one handshake, no refusal.
    mm_curve_client_t *good =
        mm_curve_client_new (mm_curve_server_endpoint (server), known, mm_cert_public_txt (sc));
    cr_assert_not_null (good);
    cr_expect_eq (s_send (good, "hello", 5000), 0);
    mm_curve_client_events (good, &ev);
    cr_expect_eq (ev.handshakes, 1);
    cr_expect_eq (ev.auth_failures, 0);
    mm_curve_client_destroy (&good);
    mm_curve_client_destroy (&client);
    mm_curve_server_destroy (&server);
    mm_curve_auth_destroy (&auth);
    mm_cert_destroy (&sc);
    mm_cert_destroy (&known);
    mm_cert_destroy (&stranger);
}

//  A client without CURVE (the NULL mechanism, plaintext) never gets a message through: the
//  mechanisms do not match and libzmq drops the connection before any ZAP request.
Test (mm_curve, plaintext_client_gets_nothing_through)
{
    mm_curve_auth_t *auth = mm_curve_auth_new ();
    mm_cert_t *sc = s_cert (MM_ROLE_BROKER, "b1", NULL, "r");
    mm_curve_server_t *server = s_server (auth, sc, "sensors", s_allow, NULL, 0);
    cr_assert_not_null (server);
    zsock_t *plain = zsock_new (ZMQ_DEALER);
    cr_assert_not_null (plain);
    zsock_set_sndtimeo (plain, 0);
    cr_assert_eq (zsock_connect (plain, "%s", mm_curve_server_endpoint (server)), 0);
    for (int i = 0; i < 20; i++) {
        zstr_send (plain, "plaintext");
        zclock_sleep (25);
    }
    zframe_t *rid = NULL;
    mm_identity_t peer;
    cr_expect_null (s_recv (server, &rid, &peer, 1000));
    mm_curve_server_stats_t st;
    mm_curve_server_stats (server, &st);
    cr_expect_eq (st.received, 0);
    mm_curve_auth_stats_t as;
    cr_assert_eq (mm_curve_auth_stats (auth, &as), 0);
    cr_expect_eq (as.accepted, 0);
    zsock_destroy (&plain);
    mm_curve_server_destroy (&server);
    mm_curve_auth_destroy (&auth);
    mm_cert_destroy (&sc);
}

Test (mm_curve, wrong_server_key_gets_nothing_through)
{
    mm_curve_auth_t *auth = mm_curve_auth_new ();
    mm_cert_t *sc = s_cert (MM_ROLE_BROKER, "b1", NULL, "r");
    mm_cert_t *impostor = s_cert (MM_ROLE_BROKER, "b1", NULL, "r");
    mm_cert_t *cc = s_cert (MM_ROLE_SENSOR, "s1", "o", "r");
    s_allow_cert (s_allow, cc);
    mm_curve_server_t *server = s_server (auth, sc, "sensors", s_allow, NULL, 0);
    cr_assert_not_null (server);
    //  The client expects another server key: its HELLO cannot be opened by the server.
    mm_curve_client_t *client =
        mm_curve_client_new (mm_curve_server_endpoint (server), cc, mm_cert_public_txt (impostor));
    cr_assert_not_null (client);
    cr_expect_eq (s_send (client, "secret", 1500), -1);
    zframe_t *rid = NULL;
    mm_identity_t peer;
    cr_expect_null (s_recv (server, &rid, &peer, 300));
    mm_curve_server_stats_t st;
    mm_curve_server_stats (server, &st);
    cr_expect_eq (st.received, 0);
    mm_curve_client_stats_t cs;
    mm_curve_client_stats (client, &cs);
    cr_expect_eq (cs.sent, 0);
    cr_expect_gt (cs.send_again, 0);
    mm_curve_auth_stats_t as;
    cr_assert_eq (mm_curve_auth_stats (auth, &as), 0);
    cr_expect_eq (as.accepted, 0);  //  the handshake fails before ZAP is asked
    mm_curve_client_destroy (&client);
    mm_curve_server_destroy (&server);
    mm_curve_auth_destroy (&auth);
    mm_cert_destroy (&sc);
    mm_cert_destroy (&impostor);
    mm_cert_destroy (&cc);
}

//  Revokes the pair's client while it is connected, keeps it sending, and measures how long
//  until the server drops its messages. The check runs on every message, so the bound is the
//  allow-list's 1 s interval plus a scan.
static void
s_dropped_within_5s (void (*revoke) (s_pair_t *), const char *revoke_file, const char *how)
{
    s_pair_t p;
    s_pair_up (&p, revoke_file);
    int64_t t0 = zclock_mono ();
    revoke (&p);
    int64_t dropped_at = -1;
    uint64_t delivered_after = 0;
    while (dropped_at < 0 && zclock_mono () - t0 < 7000) {
        mm_curve_client_send (p.client, "x", 1);  //  EAGAIN is fine: the next one goes
        zframe_t *rid = NULL;
        mm_identity_t peer;
        zframe_t *f = s_recv (p.server, &rid, &peer, 20);
        delivered_after += f != NULL;
        zframe_destroy (&f);
        zframe_destroy (&rid);
        mm_curve_server_stats_t st;
        mm_curve_server_stats (p.server, &st);
        if (st.dropped_unknown + st.dropped_revoked > 0)
            dropped_at = zclock_mono ();
    }
    cr_assert_geq (dropped_at, 0, "%s: never dropped", how);
    int64_t ms = dropped_at - t0;
    cr_log_info ("%s: first message dropped %lld ms after the change (%llu delivered before)", how,
                 (long long) ms, (unsigned long long) delivered_after);
    cr_assert_lt (ms, 5000, "%s: took %lld ms", how, (long long) ms);
    //  From then on nothing of this key gets through, although the connection stays up.
    for (int i = 0; i < 20; i++) {
        mm_curve_client_send (p.client, "y", 1);
        zframe_t *rid = NULL;
        mm_identity_t peer;
        zframe_t *f = s_recv (p.server, &rid, &peer, 10);
        cr_assert_null (f, "%s: a message got through after the drop", how);
    }
    //  Nor does it get anything from the server.
    errno = 0;
    cr_expect_eq (
        mm_curve_server_send (p.server, p.rid, mm_cert_public_txt (p.client_cert), "ack", 3), -1);
    cr_expect_eq (errno, EACCES);
    mm_curve_server_stats_t st;
    mm_curve_server_stats (p.server, &st);
    cr_expect_gt (st.dropped_unknown + st.dropped_revoked, 1);
    cr_expect_eq (st.send_refused, 1);
    s_pair_down (&p);
}

static void
s_remove_cert (s_pair_t *p)
{
    char path[256];
    snprintf (path, sizeof path, "%s/%s.cert", s_allow, mm_cert_identity (p->client_cert)->id);
    cr_assert_eq (unlink (path), 0);
}

static void
s_revoke_key (s_pair_t *p)
{
    char line[64];
    snprintf (line, sizeof line, "%s\n", mm_cert_public_txt (p->client_cert));
    s_append (s_revoke, line);
}

static void
s_revoke_id (s_pair_t *p)
{
    char line[128];
    snprintf (line, sizeof line, "  %s   # stolen laptop\n", mm_cert_identity (p->client_cert)->id);
    s_append (s_revoke, line);
}

Test (mm_curve, removed_key_is_dropped_within_5s_while_connected)
{
    s_dropped_within_5s (s_remove_cert, NULL, "removed from the directory");
}

Test (mm_curve, revoked_key_is_dropped_within_5s_while_connected)
{
    s_append (s_revoke, "# revoked keys and ids, one a line\n");
    s_dropped_within_5s (s_revoke_key, s_revoke, "key in the revocation file");
}

Test (mm_curve, revoked_id_is_dropped_within_5s_while_connected)
{
    //  The revocation file does not exist yet when the server starts: created later, it counts.
    s_dropped_within_5s (s_revoke_id, s_revoke, "id in the revocation file");
}

Test (mm_curve, revoked_key_is_refused_at_the_handshake)
{
    mm_curve_auth_t *auth = mm_curve_auth_new ();
    mm_cert_t *sc = s_cert (MM_ROLE_BROKER, "b1", NULL, "r");
    mm_cert_t *cc = s_cert (MM_ROLE_SENSOR, "s1", "o", "r");
    s_allow_cert (s_allow, cc);
    char line[64];
    snprintf (line, sizeof line, "%s\n", mm_cert_public_txt (cc));
    s_append (s_revoke, line);
    mm_curve_server_t *server = s_server (auth, sc, "sensors", s_allow, s_revoke, 0);
    cr_assert_not_null (server);
    mm_curve_client_t *client =
        mm_curve_client_new (mm_curve_server_endpoint (server), cc, mm_cert_public_txt (sc));
    mm_curve_auth_stats_t as =
        s_auth_wait (auth, offsetof (mm_curve_auth_stats_t, refused_revoked), 1, 5000);
    cr_expect_geq (as.refused_revoked, 1);
    cr_expect_eq (as.accepted, 0);
    cr_expect_eq (s_send (client, "x", 500), -1);
    mm_curve_client_destroy (&client);
    mm_curve_server_destroy (&server);
    mm_curve_auth_destroy (&auth);
    mm_cert_destroy (&sc);
    mm_cert_destroy (&cc);
}

Test (mm_curve, socket_options_are_set)
{
    s_pair_t p;
    s_pair_up (&p, NULL);
    zsock_t *s = mm_curve_server_sock (p.server);
    zsock_t *c = mm_curve_client_sock (p.client);
    zsock_t *both[] = {s, c};
    for (int i = 0; i < 2; i++) {
        zsock_t *k = both[i];
        cr_expect_eq (zsock_mechanism (k), ZMQ_CURVE);
        cr_expect_eq (zsock_heartbeat_ivl (k), MM_CURVE_HEARTBEAT_IVL_MS);
        cr_expect_eq (zsock_heartbeat_timeout (k), MM_CURVE_HEARTBEAT_TIMEOUT_MS);
        cr_expect_eq (zsock_heartbeat_ttl (k), MM_CURVE_HEARTBEAT_TTL_MS);
        cr_expect_eq (zsock_reconnect_ivl (k), MM_CURVE_RECONNECT_IVL_MS);
        cr_expect_eq (zsock_reconnect_ivl_max (k), MM_CURVE_RECONNECT_IVL_MAX_MS);
        cr_expect_eq (zsock_handshake_ivl (k), MM_CURVE_HANDSHAKE_IVL_MS);
        cr_expect_eq (zsock_linger (k), MM_CURVE_LINGER_MS);
        cr_expect_eq (zsock_sndhwm (k), MM_CURVE_SNDHWM);
        cr_expect_eq (zsock_rcvhwm (k), MM_CURVE_RCVHWM);
        cr_expect_eq (zsock_maxmsgsize (k), MM_CURVE_MAXMSGSIZE);
    }
    cr_expect_eq (zsock_type (s), ZMQ_ROUTER);
    cr_expect_eq (zsock_curve_server (s), 1);
    cr_expect_eq (zsock_backlog (s), MM_CURVE_BACKLOG);
    char *domain = zsock_zap_domain (s);
    cr_expect_str_eq (domain, "sensors");
    zstr_free (&domain);
    int enforce = 0;
    size_t size = sizeof enforce;
    cr_expect_eq (zmq_getsockopt (zsock_resolve (s), 93 /* ZAP_ENFORCE_DOMAIN */, &enforce, &size),
                  0);
    cr_expect_eq (enforce, 1);
    cr_expect_eq (zsock_type (c), ZMQ_DEALER);
    cr_expect_eq (zsock_curve_server (c), 0);
    cr_expect_eq (zsock_immediate (c), 1);
    //  ROUTER_MANDATORY cannot be read back in libzmq 4.3.4; its effect can: a send to a peer
    //  that is not there fails loudly instead of vanishing.
    zframe_t *nobody = zframe_new ("\0\x12\x34\x56\x78", 5);
    errno = 0;
    cr_expect_eq (
        mm_curve_server_send (p.server, nobody, mm_cert_public_txt (p.client_cert), "x", 1), -1);
    cr_expect_eq (errno, EHOSTUNREACH);
    zframe_destroy (&nobody);
    mm_curve_server_stats_t st;
    mm_curve_server_stats (p.server, &st);
    cr_expect_eq (st.send_unreachable, 1);
    s_pair_down (&p);
}

Test (mm_curve, largest_message_passes_larger_one_is_cut_off)
{
    s_pair_t p;
    s_pair_up (&p, NULL);
    char *big = malloc (MM_MSG_MAX + 4096);
    memset (big, 'm', MM_MSG_MAX + 4096);
    //  MM_MSG_MAX bytes of payload: CURVE framing on top must not trip MAXMSGSIZE.
    cr_assert_eq (mm_curve_client_send (p.client, big, MM_MSG_MAX), 0);
    zframe_t *rid = NULL;
    mm_identity_t peer;
    zframe_t *f = s_recv (p.server, &rid, &peer, 5000);
    cr_assert_not_null (f);
    cr_expect_eq (zframe_size (f), MM_MSG_MAX);
    zframe_destroy (&f);
    zframe_destroy (&rid);
    //  Larger than MAXMSGSIZE: the server disconnects the peer before buffering it.
    cr_assert_eq (mm_curve_client_send (p.client, big, MM_CURVE_MAXMSGSIZE + 1), 0);
    cr_expect_null (s_recv (p.server, &rid, &peer, 1000));
    //  The client reconnects (1 s reconnect interval) and small messages flow again.
    cr_assert_eq (s_send (p.client, "again", 8000), 0);
    f = s_recv (p.server, &rid, &peer, 8000);
    cr_expect (s_frame_eq (f, "again"));
    zframe_destroy (&f);
    zframe_destroy (&rid);
    free (big);
    s_pair_down (&p);
}

Test (mm_curve, domains_keep_separate_allow_lists_and_roles)
{
    mm_curve_auth_t *auth = mm_curve_auth_new ();
    cr_assert_not_null (auth);
    mm_cert_t *bk = s_cert (MM_ROLE_BROKER, "b-kanto", NULL, "kanto");
    mm_cert_t *ag = s_cert (MM_ROLE_AGGREGATOR, "centre", NULL, NULL);
    mm_cert_t *sensor = s_cert (MM_ROLE_SENSOR, "s1", "o", "kanto");
    mm_cert_t *rogue = s_cert (MM_ROLE_BROKER, "b-rogue", NULL, "kanto");
    s_allow_cert (s_allow, sensor);
    s_allow_cert (s_allow, rogue);  //  in the sensors' directory, but not a sensor
    s_allow_cert (s_allow2, bk);
    //  One process, two servers: the broker's sensor socket and an aggregator-like socket.
    mm_curve_server_t *for_sensors =
        s_server (auth, bk, "sensors", s_allow, NULL, MM_ROLE_BIT (MM_ROLE_SENSOR));
    mm_curve_server_t *for_brokers =
        s_server (auth, ag, "brokers", s_allow2, NULL, MM_ROLE_BIT (MM_ROLE_BROKER));
    cr_assert (for_sensors && for_brokers);
    //  A domain names one allow-list: the same domain with another directory is refused, the
    //  same domain with the same list is shared.
    cr_expect_null (s_server (auth, bk, "sensors", s_allow2, NULL, MM_ROLE_BIT (MM_ROLE_SENSOR)));
    mm_curve_server_t *shared =
        s_server (auth, bk, "sensors", s_allow, NULL, MM_ROLE_BIT (MM_ROLE_SENSOR));
    cr_expect_not_null (shared);
    mm_curve_server_destroy (&shared);

    const char *ep_s = mm_curve_server_endpoint (for_sensors);
    const char *ep_b = mm_curve_server_endpoint (for_brokers);
    mm_curve_client_t *ok1 = mm_curve_client_new (ep_s, sensor, mm_cert_public_txt (bk));
    mm_curve_client_t *ok2 = mm_curve_client_new (ep_b, bk, mm_cert_public_txt (ag));
    mm_curve_client_t *wrong_domain = mm_curve_client_new (ep_b, sensor, mm_cert_public_txt (ag));
    mm_curve_client_t *wrong_role = mm_curve_client_new (ep_s, rogue, mm_cert_public_txt (bk));
    cr_assert (ok1 && ok2 && wrong_domain && wrong_role);
    cr_expect_eq (s_send (ok1, "from sensor", 5000), 0);
    cr_expect_eq (s_send (ok2, "from broker", 5000), 0);
    zframe_t *rid = NULL;
    mm_identity_t peer;
    zframe_t *f = s_recv (for_sensors, &rid, &peer, 5000);
    cr_expect (s_frame_eq (f, "from sensor"));
    cr_expect_eq (peer.role, MM_ROLE_SENSOR);
    zframe_destroy (&f);
    zframe_destroy (&rid);
    f = s_recv (for_brokers, &rid, &peer, 5000);
    cr_expect (s_frame_eq (f, "from broker"));
    cr_expect_eq (peer.role, MM_ROLE_BROKER);
    cr_expect_str_eq (peer.region, "kanto");
    zframe_destroy (&f);
    zframe_destroy (&rid);
    mm_curve_auth_stats_t as =
        s_auth_wait (auth, offsetof (mm_curve_auth_stats_t, refused_role), 1, 5000);
    as = s_auth_wait (auth, offsetof (mm_curve_auth_stats_t, refused_unknown), 1, 5000);
    cr_expect_geq (as.refused_role, 1);
    cr_expect_geq (as.refused_unknown, 1);
    cr_expect_eq (as.accepted, 2);
    cr_expect_eq (s_send (wrong_domain, "x", 300), -1);
    cr_expect_eq (s_send (wrong_role, "x", 300), -1);
    mm_curve_client_destroy (&ok1);
    mm_curve_client_destroy (&ok2);
    mm_curve_client_destroy (&wrong_domain);
    mm_curve_client_destroy (&wrong_role);
    mm_curve_server_destroy (&for_sensors);
    mm_curve_server_destroy (&for_brokers);
    mm_curve_auth_destroy (&auth);
    mm_cert_destroy (&bk);
    mm_cert_destroy (&ag);
    mm_cert_destroy (&sensor);
    mm_cert_destroy (&rogue);
}

Test (mm_curve, one_handler_per_process_and_no_server_without_one)
{
    mm_curve_auth_t *a = mm_curve_auth_new ();
    cr_assert_not_null (a);
    mm_curve_auth_t *b = mm_curve_auth_new ();
    cr_expect_null (b);
    mm_curve_auth_destroy (&a);
    mm_curve_auth_destroy (&a);  //  idempotent
    a = mm_curve_auth_new ();    //  the endpoint is free again
    cr_expect_not_null (a);

    mm_cert_t *sc = s_cert (MM_ROLE_BROKER, "b1", NULL, "r");
    mm_curve_server_config_t cfg = {
        .endpoint = "tcp://127.0.0.1:*", .domain = "sensors", .allow_dir = s_allow};
    cr_expect_null (mm_curve_server_new (NULL, sc, &cfg), "a server without ZAP");
    cfg.allow_dir = NULL;
    cr_expect_null (mm_curve_server_new (a, sc, &cfg), "a server without an allow-list");
    cfg.allow_dir = s_allow, cfg.domain = "";
    cr_expect_null (mm_curve_server_new (a, sc, &cfg), "a server without a ZAP domain");
    cfg.domain = "sensors", cfg.allow_dir = "/nonexistent/mimamori";
    cr_expect_null (mm_curve_server_new (a, sc, &cfg), "a missing allow-list directory");
    //  A public-only certificate cannot serve.
    char path[256], err[256];
    snprintf (path, sizeof path, "%s/b1.cert", s_other);
    cr_assert_eq (mm_cert_save_public (sc, path, false, err, sizeof err), 0);
    mm_cert_t *pub = mm_cert_load (path, err, sizeof err);
    cr_assert_not_null (pub);
    cfg.allow_dir = s_allow;
    cr_expect_null (mm_curve_server_new (a, pub, &cfg));
    cr_expect_null (mm_curve_client_new ("tcp://127.0.0.1:1", pub, mm_cert_public_txt (sc)));
    cr_expect_null (mm_curve_client_new ("tcp://127.0.0.1:1", sc, "not a key"));
    //  The failed attempts left no domain registered: the handler can stop.
    mm_curve_auth_destroy (&a);
    mm_cert_destroy (&pub);
    mm_cert_destroy (&sc);
}

//  ---------------------------------------------------------------------------------------------
//  Allow-lists on their own

Test (mm_curve_allow, counts_refused_files_and_ignores_others)
{
    mm_cert_t *good = s_cert (MM_ROLE_SENSOR, "s1", "o", "r");
    mm_cert_t *other = s_cert (MM_ROLE_SENSOR, "s2", "o", "r");
    s_allow_cert (s_allow, good);
    char path[256], err[256];
    //  Refused and counted: garbage, and a secret certificate under a public name.
    snprintf (path, sizeof path, "%s/garbage.cert", s_allow);
    s_append (path, "this is not a certificate\n");
    snprintf (path, sizeof path, "%s/leaked.cert", s_allow);
    cr_assert_eq (mm_cert_save_secret (other, path, false, err, sizeof err), 0);
    //  Ignored: hidden files (atomic-write leftovers), secret files, other names, directories.
    snprintf (path, sizeof path, "%s/.s2.cert.tmp-abcdef", s_allow);
    cr_assert_eq (mm_cert_save_public (other, path, false, err, sizeof err), 0);
    snprintf (path, sizeof path, "%s/s2.cert_secret", s_allow);
    cr_assert_eq (mm_cert_save_secret (other, path, false, err, sizeof err), 0);
    snprintf (path, sizeof path, "%s/README", s_allow);
    s_append (path, "allowed sensors of kanto\n");

    mm_curve_allow_t *allow = mm_curve_allow_new (s_allow, NULL, 0);
    cr_assert_not_null (allow);
    mm_curve_allow_stats_t st;
    mm_curve_allow_stats (allow, &st);
    cr_expect_eq (st.certs, 1);
    cr_expect_eq (st.invalid, 2);
    mm_identity_t id;
    cr_expect_eq (mm_curve_allow_check (allow, mm_cert_public_txt (good), &id), MM_CURVE_ALLOWED);
    cr_expect_str_eq (id.id, "s1");
    cr_expect_eq (mm_curve_allow_check (allow, mm_cert_public_txt (other), &id), MM_CURVE_UNKNOWN);
    cr_expect_eq (mm_curve_allow_check (allow, NULL, &id), MM_CURVE_UNKNOWN);
    cr_expect_eq (mm_curve_allow_check (allow, "short", &id), MM_CURVE_UNKNOWN);
    mm_curve_allow_stats (allow, &st);
    cr_expect_eq (st.allowed, 1);
    cr_expect_eq (st.denied_unknown, 3);
    mm_curve_allow_destroy (&allow);
    mm_curve_allow_destroy (&allow);

    //  Roles.
    allow = mm_curve_allow_new (s_allow, NULL, MM_ROLE_BIT (MM_ROLE_BROKER));
    cr_expect_eq (mm_curve_allow_check (allow, mm_cert_public_txt (good), &id), MM_CURVE_ROLE);
    mm_curve_allow_destroy (&allow);
    //  A directory that does not exist at start is an error, not an empty list.
    cr_expect_null (mm_curve_allow_new ("/nonexistent/mimamori", NULL, 0));
    mm_cert_destroy (&good);
    mm_cert_destroy (&other);
}

Test (mm_curve_allow, revocation_file_keys_ids_comments)
{
    mm_cert_t *a = s_cert (MM_ROLE_SENSOR, "s-a", "o", "r");
    mm_cert_t *b = s_cert (MM_ROLE_SENSOR, "s-b", "o", "r");
    mm_cert_t *c = s_cert (MM_ROLE_SENSOR, "s-c", "o", "r");
    s_allow_cert (s_allow, a);
    s_allow_cert (s_allow, b);
    s_allow_cert (s_allow, c);
    char text[512];
    snprintf (text, sizeof text,
              "# revoked 2026-11-22\n"
              "\n"
              "   %s   \r\n"
              "s-b # by id\n"
              "#comment-without-space\n"
              "not a key / nor an id\n"
              "s-c extra words\n",
              mm_cert_public_txt (a));
    s_append (s_revoke, text);
    mm_curve_allow_t *allow = mm_curve_allow_new (s_allow, s_revoke, 0);
    cr_assert_not_null (allow);
    mm_curve_allow_stats_t st;
    mm_curve_allow_stats (allow, &st);
    cr_expect_eq (st.revoked, 2);  //  a line with more than one word is refused whole
    cr_expect_eq (mm_curve_allow_check (allow, mm_cert_public_txt (a), NULL), MM_CURVE_REVOKED);
    cr_expect_eq (mm_curve_allow_check (allow, mm_cert_public_txt (b), NULL), MM_CURVE_REVOKED);
    cr_expect_eq (mm_curve_allow_check (allow, mm_cert_public_txt (c), NULL), MM_CURVE_ALLOWED);
    //  Unreadable (a directory in its place; tests may run as root, so no chmod): the previous
    //  list stays in force, and the error is counted.
    char moved[256];
    snprintf (moved, sizeof moved, "%s/revoked.keep", s_root);
    cr_assert_eq (rename (s_revoke, moved), 0);
    cr_assert_eq (mkdir (s_revoke, 0700), 0);
    cr_expect_eq (mm_curve_allow_refresh (allow), -1);
    cr_expect_eq (mm_curve_allow_check (allow, mm_cert_public_txt (a), NULL), MM_CURVE_REVOKED);
    mm_curve_allow_stats (allow, &st);
    cr_expect_geq (st.reload_errors, 1);
    cr_assert_eq (rmdir (s_revoke), 0);
    cr_assert_eq (rename (moved, s_revoke), 0);
    //  Emptied: everyone is back (revocation is the file's content, not a history).
    cr_assert_eq (truncate (s_revoke, 0), 0);
    cr_assert_eq (mm_curve_allow_refresh (allow), 0);
    cr_expect_eq (mm_curve_allow_check (allow, mm_cert_public_txt (a), NULL), MM_CURVE_ALLOWED);
    //  Removed directory: nobody (a missing list must never mean "anyone").
    s_empty_dir (s_allow);
    cr_assert_eq (rmdir (s_allow), 0);
    cr_assert_eq (mm_curve_allow_refresh (allow), 0);
    cr_expect_eq (mm_curve_allow_check (allow, mm_cert_public_txt (c), NULL), MM_CURVE_UNKNOWN);
    cr_assert_eq (mkdir (s_allow, 0700), 0);
    mm_curve_allow_destroy (&allow);
    mm_cert_destroy (&a);
    mm_cert_destroy (&b);
    mm_cert_destroy (&c);
}

//  Rewrites `path` in place (same inode) with `text`, then puts its mtime back: what zcertstore
//  cannot see when the size is the same (czmq #2113).
static void
s_rewrite_keep_mtime (const char *path, const char *text)
{
    struct stat before;
    cr_assert_eq (stat (path, &before), 0);
    int fd = open (path, O_WRONLY | O_TRUNC);
    cr_assert_neq (fd, -1);
    cr_assert_eq (write (fd, text, strlen (text)), (ssize_t) strlen (text));
    struct timespec times[2] = {before.st_atim, before.st_mtim};
    cr_assert_eq (futimens (fd, times), 0);
    close (fd);
    struct stat after;
    cr_assert_eq (stat (path, &after), 0);
    cr_assert_eq (after.st_ino, before.st_ino);
    cr_assert_eq (after.st_size, before.st_size);
    cr_assert_eq (after.st_mtim.tv_sec, before.st_mtim.tv_sec);
    cr_assert_eq (after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
}

static void
s_read (const char *path, char *buf, size_t cap)
{
    FILE *f = fopen (path, "r");
    cr_assert_not_null (f);
    size_t n = fread (buf, 1, cap - 1, f);
    buf[n] = 0;
    fclose (f);
}

Test (mm_curve_allow, same_size_same_mtime_replacement_is_seen)
{
    mm_cert_t *a = s_cert (MM_ROLE_SENSOR, "s1", "o", "r");
    mm_cert_t *b = s_cert (MM_ROLE_SENSOR, "s1", "o", "r");  //  same metadata: same size
    mm_cert_t *c = s_cert (MM_ROLE_SENSOR, "s1", "o", "r");
    s_allow_cert (s_allow, a);
    char path[256], text_b[1024], text_c[1024], other[256], err[256];
    snprintf (path, sizeof path, "%s/s1.cert", s_allow);
    snprintf (other, sizeof other, "%s/b.cert", s_other);
    cr_assert_eq (mm_cert_save_public (b, other, false, err, sizeof err), 0);
    s_read (other, text_b, sizeof text_b);
    snprintf (other, sizeof other, "%s/c.cert", s_other);
    cr_assert_eq (mm_cert_save_public (c, other, false, err, sizeof err), 0);
    s_read (other, text_c, sizeof text_c);

    mm_curve_allow_t *allow = mm_curve_allow_new (s_allow, NULL, 0);
    cr_assert_not_null (allow);
    mm_curve_allow_set_interval (allow, 1);
    cr_expect_eq (mm_curve_allow_check (allow, mm_cert_public_txt (a), NULL), MM_CURVE_ALLOWED);

    //  Within the "racy" window (just written): replaced in place, same size, same mtime, very
    //  likely within the same timestamp tick. Seen, because recent files are re-read.
    s_rewrite_keep_mtime (path, text_b);
    zclock_sleep (2);
    cr_expect_eq (mm_curve_allow_check (allow, mm_cert_public_txt (b), NULL), MM_CURVE_ALLOWED);
    cr_expect_eq (mm_curve_allow_check (allow, mm_cert_public_txt (a), NULL), MM_CURVE_UNKNOWN);

    //  Once everything is older than the window, an unchanged directory is not re-read...
    zclock_sleep (2300);
    mm_curve_allow_stats_t st;
    cr_assert_eq (mm_curve_allow_refresh (allow), 0);  //  the last racy re-read
    mm_curve_allow_stats (allow, &st);
    uint64_t reloads = st.reloads;
    cr_assert_eq (mm_curve_allow_refresh (allow), 0);
    cr_assert_eq (mm_curve_allow_refresh (allow), 0);
    mm_curve_allow_stats (allow, &st);
    cr_expect_eq (st.reloads, reloads, "an unchanged directory was read again");
    //  ... and the same kind of replacement is still seen, through the ctime and the stat data.
    s_rewrite_keep_mtime (path, text_c);
    zclock_sleep (2);
    cr_expect_eq (mm_curve_allow_check (allow, mm_cert_public_txt (c), NULL), MM_CURVE_ALLOWED);
    cr_expect_eq (mm_curve_allow_check (allow, mm_cert_public_txt (b), NULL), MM_CURVE_UNKNOWN);
    mm_curve_allow_stats (allow, &st);
    cr_expect_gt (st.reloads, reloads);
    mm_curve_allow_destroy (&allow);
    mm_cert_destroy (&a);
    mm_cert_destroy (&b);
    mm_cert_destroy (&c);
}

//  Z85 keys contain '#' (never as the first character of a key): neither the certificate files nor the
//  revocation file may read it as a comment.
Test (mm_curve_allow, keys_with_hash_characters)
{
    mm_cert_t *c = NULL;
    for (int i = 0; i < 500; i++) {
        c = s_cert (MM_ROLE_SENSOR, "s-hash", "o", "r");
        if (strchr (mm_cert_public_txt (c), '#'))
            break;
        mm_cert_destroy (&c);
    }
    cr_assert_not_null (c, "no key with a '#' in 500 tries");
    s_allow_cert (s_allow, c);
    char line[128];
    snprintf (line, sizeof line, "%s\n", mm_cert_public_txt (c));
    s_append (s_revoke, line);
    mm_curve_allow_t *allow = mm_curve_allow_new (s_allow, s_revoke, 0);
    cr_assert_not_null (allow);
    mm_curve_allow_stats_t st;
    mm_curve_allow_stats (allow, &st);
    cr_expect_eq (st.certs, 1, "the certificate with a '#' in its key did not load");
    cr_expect_eq (st.revoked, 1);
    cr_expect_eq (mm_curve_allow_check (allow, mm_cert_public_txt (c), NULL), MM_CURVE_REVOKED);
    mm_curve_allow_destroy (&allow);
    mm_cert_destroy (&c);
}

Test (mm_curve, changed_certificate_wins_over_the_handshake_copy)
{
    s_pair_t p;
    s_pair_up (&p, NULL);
    //  The same key re-issued with another region (by hand: the tool always makes new keys).
    char path[256], text[2048];
    snprintf (path, sizeof path, "%s/s-kanto-0001.cert", s_allow);
    s_read (path, text, sizeof text);
    char *at = strstr (text, "region = \"kanto\"");
    cr_assert_not_null (at);
    char moved[2048];
    snprintf (moved, sizeof moved, "%.*sregion = \"kansai\"%s", (int) (at - text), text,
              at + strlen ("region = \"kanto\""));
    char tmp[256];
    snprintf (tmp, sizeof tmp, "%s/.new", s_allow);
    s_append (tmp, moved);
    cr_assert_eq (rename (tmp, path), 0);
    int64_t end = zclock_mono () + 5000;
    mm_identity_t peer = {0};
    while (strcmp (peer.region, "kansai") && zclock_mono () < end) {
        cr_assert_eq (s_send (p.client, "m", 2000), 0);
        zframe_t *rid = NULL;
        zframe_t *f = s_recv (p.server, &rid, &peer, 2000);
        cr_assert_not_null (f);
        zframe_destroy (&f);
        zframe_destroy (&rid);
    }
    cr_assert_str_eq (peer.region, "kansai");
    mm_curve_server_stats_t st;
    mm_curve_server_stats (p.server, &st);
    cr_expect_geq (st.meta_changed, 1);
    s_pair_down (&p);
}

Test (mm_curve, multi_frame_messages_are_dropped_and_counted)
{
    s_pair_t p;
    s_pair_up (&p, NULL);
    //  A raw CURVE DEALER with the allowed key (test code only) sends what mm_curve never
    //  sends: two frames in one message. Dropped; the next single frame still arrives.
    zsock_t *raw = zsock_new (ZMQ_DEALER);
    zsock_set_curve_publickey_bin (raw, mm_cert_public_key (p.client_cert));
    zsock_set_curve_secretkey_bin (raw, mm_cert_secret_key (p.client_cert));
    zsock_set_curve_serverkey (raw, mm_cert_public_txt (p.server_cert));
    cr_assert_eq (zsock_connect (raw, "%s", mm_curve_server_endpoint (p.server)), 0);
    zstr_sendx (raw, "one", "two", NULL);
    zstr_send (raw, "single");
    zframe_t *rid = NULL;
    mm_identity_t peer;
    zframe_t *f = s_recv (p.server, &rid, &peer, 5000);
    cr_expect (s_frame_eq (f, "single"));
    zframe_destroy (&f);
    //  And the server to a client: a two-frame reply is dropped by the client.
    zframe_destroy (&rid);  //  the raw dealer's
    zsock_t *s = mm_curve_server_sock (p.server);
    zframe_t *to_client = zframe_dup (p.rid);
    zframe_send (&to_client, s, ZFRAME_MORE);
    zstr_sendx (s, "x", "y", NULL);
    cr_assert_eq (
        mm_curve_server_send (p.server, p.rid, mm_cert_public_txt (p.client_cert), "ok", 2), 0);
    zsock_set_rcvtimeo (mm_curve_client_sock (p.client), 5000);
    f = mm_curve_client_recv (p.client);
    cr_expect (s_frame_eq (f, "ok"));
    zframe_destroy (&f);
    mm_curve_server_stats_t st;
    mm_curve_server_stats (p.server, &st);
    cr_expect_eq (st.dropped_framing, 1);
    mm_curve_client_stats_t cs;
    mm_curve_client_stats (p.client, &cs);
    cr_expect_eq (cs.dropped_framing, 1);
    zsock_destroy (&raw);
    s_pair_down (&p);
}
