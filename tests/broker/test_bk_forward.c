/*  Tests of bk_forward: the broker's forward log sent to a stand-in aggregator (an mm_curve
    server in the same thread) over loopback: the window bounds what is in flight, an ACK
    timeout rewinds to the durable cursor, cumulative ACKs move the cursor, a restart resumes
    from it, ACKs naming another broker are refused. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bk_forward.h"
#include "mm_ack.h"
#include "mm_event.h"
#include "mm_sample.h"

static struct {
    char dir[64];
    char allow[96], keys[96], store[96], secret[128], agg_public[128];
    mm_curve_auth_t *auth;
    mm_cert_t *agg;
    mm_curve_server_t *server;
    bk_store_t *st;
} s;

static void
s_setup (void)
{
    memset (&s, 0, sizeof s);
    snprintf (s.dir, sizeof s.dir, "/tmp/mm-bk-forward-XXXXXX");
    cr_assert_not_null (mkdtemp (s.dir));
    snprintf (s.allow, sizeof s.allow, "%.60s/allow", s.dir);
    snprintf (s.keys, sizeof s.keys, "%.60s/keys", s.dir);
    snprintf (s.store, sizeof s.store, "%.60s/store", s.dir);
    cr_assert_eq (zsys_dir_create ("%s", s.allow), 0);
    cr_assert_eq (zsys_dir_create ("%s", s.keys), 0);
    char err[256], path[256];
    s.agg = mm_cert_new (MM_ROLE_AGGREGATOR, "centre", NULL, NULL, err, sizeof err);
    cr_assert_not_null (s.agg, "%s", err);
    cr_assert_eq (mm_cert_save_pair (s.agg, s.keys, false, err, sizeof err), 0, "%s", err);
    snprintf (s.agg_public, sizeof s.agg_public, "%.90s/centre.cert", s.keys);
    mm_cert_t *b = mm_cert_new (MM_ROLE_BROKER, "b-kanto", NULL, "kanto", err, sizeof err);
    cr_assert_not_null (b, "%s", err);
    cr_assert_eq (mm_cert_save_pair (b, s.keys, false, err, sizeof err), 0, "%s", err);
    snprintf (path, sizeof path, "%.90s/b-kanto.cert", s.allow);
    cr_assert_eq (mm_cert_save_public (b, path, false, err, sizeof err), 0, "%s", err);
    mm_cert_destroy (&b);
    snprintf (s.secret, sizeof s.secret, "%.90s/b-kanto.cert_secret", s.keys);
    s.auth = mm_curve_auth_new ();
    cr_assert_not_null (s.auth);
    mm_curve_server_config_t cfg = {.endpoint = "tcp://127.0.0.1:*",
                                    .domain = "brokers",
                                    .allow_dir = s.allow,
                                    .roles = MM_ROLE_BIT (MM_ROLE_BROKER)};
    s.server = mm_curve_server_new (s.auth, s.agg, &cfg);
    cr_assert_not_null (s.server);
    zsock_set_rcvtimeo (mm_curve_server_sock (s.server), 5);
    s.st = bk_store_new (s.store, NULL, err, sizeof err);
    cr_assert_not_null (s.st, "%s", err);
    //  100 events of s1 in the forward log (indexes 1..100).
    mm_buf_t buf = MM_BUF_INIT;
    for (uint64_t seq = 1; seq <= 100; seq++) {
        mm_event_t ev;
        mm_sample_event (&ev, MM_KIND_FLOW);
        ev.sensor = mm_str ("s1");
        ev.seq = seq;
        mm_error_t merr;
        mm_buf_clear (&buf);
        cr_assert_eq (mm_event_encode (&ev, &buf, &merr), 0);
        bk_store_item_t it = {
            .sensor = mm_str ("s1"), .seq = seq, .data = buf.data, .len = buf.len};
        bk_store_ack_t ack;
        size_t n;
        cr_assert_eq (bk_store_put_events (s.st, &it, 1, &ack, 1, &n), 0);
    }
    mm_buf_free (&buf);
}

static void
s_teardown (void)
{
    bk_store_destroy (&s.st);
    mm_curve_server_destroy (&s.server);
    mm_curve_auth_destroy (&s.auth);
    mm_cert_destroy (&s.agg);
    char cmd[160];
    snprintf (cmd, sizeof cmd, "rm -rf '%.60s'", s.dir);
    cr_expect_eq (system (cmd), 0);
}

TestSuite (bk_forward, .init = s_setup, .fini = s_teardown, .timeout = 60);

static bk_forward_t *
s_forward (uint32_t window, uint32_t timeout_ms)
{
    bk_forward_config_t cfg = {.endpoint = mm_curve_server_endpoint (s.server),
                               .aggregator_cert = s.agg_public,
                               .cert_secret = s.secret,
                               .window = window,
                               .ack_timeout_ms = timeout_ms};
    bk_forward_t *f = bk_forward_new (&cfg, s.st);
    cr_assert_not_null (f);
    return f;
}

//  Receives one forwarded frame (running the forwarder meanwhile): its index, or 0 if none
//  came within `ms`. Keeps the routing id and key for ACKs.
static zframe_t *s_rid;
static char s_key[MM_CERT_KEY_TXT + 1];

static uint64_t
s_recv (bk_forward_t *f, int ms)
{
    int64_t end = zclock_mono () + ms;
    while (zclock_mono () < end) {
        bk_forward_run_once (f);
        zframe_t *rid = NULL;
        mm_identity_t peer;
        zframe_t *fr = mm_curve_server_recv (s.server, &rid, &peer);
        if (!fr)
            continue;
        cr_assert_gt (zframe_size (fr), 8);
        uint64_t index = 0;
        for (int i = 0; i < 8; i++)
            index = (index << 8) | zframe_data (fr)[i];
        mm_event_t *ev = malloc (sizeof *ev);
        mm_error_t err;
        cr_assert_eq (mm_event_decode (ev, zframe_data (fr) + 8, zframe_size (fr) - 8, &err), 0);
        cr_expect_eq (ev->seq, index);  //  one sensor: index == seq here
        free (ev);
        cr_expect_str_eq (peer.id, "b-kanto");
        zframe_destroy (&s_rid);
        s_rid = rid;
        snprintf (s_key, sizeof s_key, "%s", peer.pubkey);
        zframe_destroy (&fr);
        return index;
    }
    return 0;
}

static void
s_ack (const char *broker, uint64_t upto)
{
    mm_ack_t ack = {.sensor = mm_str (broker), .seq = upto};
    mm_buf_t b = MM_BUF_INIT;
    mm_error_t err;
    cr_assert_eq (mm_ack_encode (&ack, &b, &err), 0);
    cr_assert_eq (mm_curve_server_send (s.server, s_rid, s_key, b.data, b.len), 0);
    mm_buf_free (&b);
}

Test (bk_forward, window_timeout_rewind_ack)
{
    bk_forward_t *f = s_forward (30, 300);
    //  The window: 1..30, then nothing more without an ACK.
    for (uint64_t i = 1; i <= 30; i++)
        cr_assert_eq (s_recv (f, 5000), i);
    int64_t t0 = zclock_mono ();
    //  No ACK: after the timeout everything is sent again from the cursor.
    cr_assert_eq (s_recv (f, 3000), 1);
    cr_expect_geq (zclock_mono () - t0, 250, "rewound before the timeout");
    for (uint64_t i = 2; i <= 30; i++)
        cr_assert_eq (s_recv (f, 5000), i);
    //  A foreign broker's ACK is refused; ours moves the cursor and opens the window.
    s_ack ("b-other", 30);
    s_ack ("b-kanto", 30);
    uint64_t got = 0;
    for (uint64_t want = 31; want <= 100; want++) {
        got = s_recv (f, 5000);
        cr_assert_eq (got, want);
        if (want % 10 == 0)
            s_ack ("b-kanto", want);
    }
    int64_t end = zclock_mono () + 2000;
    while (bk_store_forward_cursor (s.st) < 100 && zclock_mono () < end) {
        bk_forward_run_once (f);
        zclock_sleep (5);
    }
    cr_expect_eq (bk_store_forward_cursor (s.st), 100);
    bk_forward_stats_t st;
    bk_forward_stats (f, &st);
    cr_expect_geq (st.rewinds, 1);
    cr_expect_eq (st.bad_acks, 1);
    cr_expect_geq (st.acks, 2);
    bk_forward_destroy (&f);
    bk_forward_destroy (&f);
    zframe_destroy (&s_rid);
}

Test (bk_forward, resumes_from_cursor)
{
    cr_assert_eq (bk_store_ack_forward (s.st, 60), 0);
    bk_forward_t *f = s_forward (0, 0);
    for (uint64_t i = 61; i <= 100; i++)
        cr_assert_eq (s_recv (f, 5000), i);
    s_ack ("b-kanto", 100);
    int64_t end = zclock_mono () + 2000;
    while (bk_store_forward_cursor (s.st) < 100 && zclock_mono () < end) {
        bk_forward_run_once (f);
        zclock_sleep (5);
    }
    cr_expect_eq (bk_store_forward_cursor (s.st), 100);
    bk_forward_destroy (&f);
    zframe_destroy (&s_rid);
}
