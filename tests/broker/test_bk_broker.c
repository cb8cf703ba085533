/*  Tests of bk_broker: simulated CURVE sensors against a broker running in a thread, over
    loopback. ACKs cumulative after the durable write, dedup across a restart, restamping from
    the certificate, bad frames isolated (fault test 5), unknown keys refused (fault test 4). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bk_broker.h"
#include "mm_heartbeat.h"
#include "mm_sample.h"
#include "mm_warning.h"
#include "sn_uplink.h"

typedef struct {
    char dir[64];
    char allow[128], keys[128], store[128], secret[160];
    mm_curve_auth_t *auth;
    mm_cert_t *broker_cert;
    bk_broker_t *broker;
    char endpoint[256];
    char revoke[160];
    uint64_t store_max;
    uint32_t heartbeat_ms, start_grace_ms;
    mm_curve_server_stats_t sock_stats;  //  the broker's socket counters, kept at s_stop
    pthread_t thread;
    atomic_int stop;
    bool running;
} s_env_t;

static void *
s_run (void *arg)
{
    s_env_t *e = arg;
    while (!atomic_load (&e->stop))
        bk_broker_run_once (e->broker, 20);
    return NULL;
}

//  Makes the broker (on `endpoint`, or an ephemeral port) and runs it in a thread; the socket
//  moves to that thread (thread creation is a full barrier) and back at the join.
static void
s_start (s_env_t *e, const char *endpoint)
{
    bk_broker_config_t cfg = {
        .endpoint = endpoint ? endpoint : "tcp://127.0.0.1:*",
        .allow_dir = e->allow,
        .cert_secret = e->secret,
        .store_path = e->store,
        .revoke_file = e->revoke,
        .store_max_bytes = e->store_max,
        .heartbeat_ivl_ms = e->heartbeat_ms,
        .start_grace_ms = e->start_grace_ms,
    };
    e->broker = bk_broker_new (&cfg, e->auth);
    cr_assert_not_null (e->broker);
    snprintf (e->endpoint, sizeof e->endpoint, "%s", bk_broker_endpoint (e->broker));
    atomic_store (&e->stop, 0);
    cr_assert_eq (pthread_create (&e->thread, NULL, s_run, e), 0);
    e->running = true;
}

static void
s_stop (s_env_t *e, bk_broker_stats_t *stats)
{
    if (!e->running)
        return;
    atomic_store (&e->stop, 1);
    pthread_join (e->thread, NULL);
    e->running = false;
    if (stats)
        bk_broker_stats (e->broker, stats);
    bk_broker_socket_stats (e->broker, &e->sock_stats);
    bk_broker_destroy (&e->broker);
}

static mm_cert_t *
s_sensor_cert (s_env_t *e, const char *id, const char *org, bool allowed)
{
    char err[256], path[256];
    mm_cert_t *c = mm_cert_new (MM_ROLE_SENSOR, id, org, "kanto", err, sizeof err);
    cr_assert_not_null (c, "%s", err);
    if (allowed) {
        snprintf (path, sizeof path, "%s/%s.cert", e->allow, id);
        cr_assert_eq (mm_cert_save_public (c, path, false, err, sizeof err), 0, "%s", err);
    }
    return c;
}

static void
s_setup (s_env_t *e)
{
    memset (e, 0, sizeof *e);
    snprintf (e->dir, sizeof e->dir, "/tmp/mm-bk-broker-XXXXXX");
    cr_assert_not_null (mkdtemp (e->dir));
    snprintf (e->allow, sizeof e->allow, "%s/allow", e->dir);
    snprintf (e->keys, sizeof e->keys, "%s/keys", e->dir);
    snprintf (e->store, sizeof e->store, "%s/store", e->dir);
    snprintf (e->revoke, sizeof e->revoke, "%s/revoked", e->dir);
    cr_assert_eq (zsys_dir_create ("%s", e->allow), 0);
    cr_assert_eq (zsys_dir_create ("%s", e->keys), 0);
    char err[256];
    e->broker_cert = mm_cert_new (MM_ROLE_BROKER, "b-kanto", NULL, "kanto", err, sizeof err);
    cr_assert_not_null (e->broker_cert, "%s", err);
    cr_assert_eq (mm_cert_save_pair (e->broker_cert, e->keys, false, err, sizeof err), 0, "%s",
                  err);
    snprintf (e->secret, sizeof e->secret, "%s/b-kanto.cert_secret", e->keys);
    e->auth = mm_curve_auth_new ();
    cr_assert_not_null (e->auth);
}

static void
s_teardown (s_env_t *e)
{
    s_stop (e, NULL);
    mm_curve_auth_destroy (&e->auth);
    mm_cert_destroy (&e->broker_cert);
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", e->dir);
    cr_expect_eq (system (cmd), 0);
}

static mm_curve_client_t *
s_client (s_env_t *e, const mm_cert_t *cert)
{
    mm_curve_client_t *c =
        mm_curve_client_new (e->endpoint, cert, mm_cert_public_txt (e->broker_cert));
    cr_assert_not_null (c);
    return c;
}

//  Sends raw bytes, retrying while no connection is up. 0, or -1 after `timeout_ms`.
static int
s_send_raw (mm_curve_client_t *c, const void *data, size_t len, int timeout_ms)
{
    int64_t end = zclock_mono () + timeout_ms;
    while (mm_curve_client_send (c, data, len) == -1) {
        if (errno != EAGAIN || zclock_mono () >= end)
            return -1;
        zclock_sleep (5);
    }
    return 0;
}

static void
s_encode_event (mm_buf_t *out, const char *sensor, const char *org, uint64_t seq)
{
    mm_event_t ev;
    mm_sample_event (&ev, MM_KIND_FLOW);
    ev.sensor = mm_str (sensor);
    ev.org = mm_str (org);
    ev.seq = seq;
    mm_error_t err;
    mm_buf_clear (out);
    cr_assert_eq (mm_event_encode (&ev, out, &err), 0, "%s", err.reason);
}

static void
s_send_events (mm_curve_client_t *c, const char *sensor, const char *org, uint64_t from,
               uint64_t to)
{
    mm_buf_t b = MM_BUF_INIT;
    for (uint64_t seq = from; seq <= to; seq++) {
        s_encode_event (&b, sensor, org, seq);
        cr_assert_eq (s_send_raw (c, b.data, b.len, 5000), 0, "send seq %llu",
                      (unsigned long long) seq);
    }
    mm_buf_free (&b);
}

//  Reads ACKs until one says `want` (within `timeout_ms`). Checks every ACK names `sensor` and
//  never goes backwards or past `want`. Returns the last seq acknowledged.
static uint64_t
s_wait_ack (mm_curve_client_t *c, const char *sensor, uint64_t want, int timeout_ms)
{
    int64_t end = zclock_mono () + timeout_ms;
    uint64_t last = 0;
    while (last < want) {
        int64_t left = end - zclock_mono ();
        if (left <= 0)
            break;
        zsock_set_rcvtimeo (mm_curve_client_sock (c), (int) (left < 100 ? left : 100));
        zframe_t *f = mm_curve_client_recv (c);
        if (!f)
            continue;
        mm_ack_t ack;
        mm_error_t err;
        cr_assert_eq (mm_ack_decode (&ack, zframe_data (f), zframe_size (f), &err), 0, "%s",
                      err.reason);
        cr_expect (mm_str_eq (ack.sensor, sensor), "ACK for %.*s", (int) ack.sensor.len,
                   ack.sensor.ptr);
        cr_expect_geq (ack.seq, last, "ACK went backwards");
        cr_expect_leq (ack.seq, want, "ACK beyond what was sent");
        last = ack.seq;
        zframe_destroy (&f);
    }
    return last;
}

typedef struct {
    uint64_t count;
    uint64_t next_seq;  //  seqs must be 1, 2, 3... once each
    bool ordered;
    const char *want_sensor, *want_org;
    bool stamped;
} s_scan_t;

static int
s_scan_fn (void *arg, uint64_t index, mm_str_t sensor, uint64_t seq, const uint8_t *data,
           size_t len)
{
    (void) index;
    s_scan_t *s = arg;
    if (!mm_str_eq (sensor, s->want_sensor))
        return 0;
    s->count++;
    if (seq != s->next_seq)
        s->ordered = false;
    s->next_seq = seq + 1;
    mm_event_t ev;
    mm_error_t err;
    if (mm_event_decode (&ev, data, len, &err) == -1 || !mm_str_eq (ev.sensor, s->want_sensor) ||
        !mm_str_eq (ev.org, s->want_org) || ev.seq != seq)
        s->stamped = false;
    return 0;
}

//  Reads the stored events of `sensor` (broker stopped): count, order, stamping.
static s_scan_t
s_scan_store (s_env_t *e, const char *sensor, const char *org)
{
    char err[256];
    bk_store_t *st = bk_store_new (e->store, NULL, err, sizeof err);
    cr_assert_not_null (st, "%s", err);
    s_scan_t s = {0, 1, true, sensor, org, true};
    cr_assert_geq (bk_store_read_forward (st, 0, 1000000, s_scan_fn, &s), 0);
    bk_store_destroy (&st);
    return s;
}

Test (bk_broker, acks_cumulative_and_dedup_across_restart)
{
    s_env_t e;
    s_setup (&e);
    mm_cert_t *a = s_sensor_cert (&e, "s-a", "org-a", true);
    s_start (&e, NULL);
    mm_curve_client_t *c = s_client (&e, a);
    s_send_events (c, "s-a", "org-a", 1, 200);
    cr_expect_eq (s_wait_ack (c, "s-a", 200, 5000), 200);
    //  A heartbeat is remembered.
    mm_heartbeat_t hb;
    mm_sample_heartbeat (&hb);
    mm_buf_t b = MM_BUF_INIT;
    mm_error_t err;
    cr_assert_eq (mm_heartbeat_encode (&hb, &b, &err), 0);
    cr_assert_eq (s_send_raw (c, b.data, b.len, 2000), 0);
    zclock_sleep (500);  //  the heartbeat reaches the broker thread
    bk_broker_stats_t st;
    char endpoint[256];
    snprintf (endpoint, sizeof endpoint, "%s", e.endpoint);
    //  Stop: the heartbeat was seen, 200 stored.
    atomic_store (&e.stop, 1);
    pthread_join (e.thread, NULL);
    e.running = false;
    cr_expect_geq (bk_broker_last_seen (e.broker, "s-a"), 0, "heartbeat not remembered");
    bk_broker_stats (e.broker, &st);
    bk_broker_destroy (&e.broker);
    cr_expect_eq (st.events, 200);
    cr_expect_eq (st.heartbeats, 1);
    cr_expect_eq (st.duplicates, 0);

    //  Restart on the same port; the sensor resends 101..200 (as if the ACKs were lost) and
    //  goes on to 250: duplicates are acknowledged, not stored twice.
    s_start (&e, endpoint);
    s_send_events (c, "s-a", "org-a", 101, 250);
    cr_expect_eq (s_wait_ack (c, "s-a", 250, 10000), 250);
    s_stop (&e, &st);
    cr_expect_eq (st.events, 50);
    cr_expect_eq (st.duplicates, 100);
    cr_expect_geq (st.acks, 1);
    s_scan_t s = s_scan_store (&e, "s-a", "org-a");
    cr_expect_eq (s.count, 250, "stored %llu", (unsigned long long) s.count);
    cr_expect (s.ordered, "seqs not 1..250 once each");
    cr_expect (s.stamped);
    mm_buf_free (&b);
    mm_curve_client_destroy (&c);
    mm_cert_destroy (&a);
    s_teardown (&e);
}

Test (bk_broker, other_org_is_restamped)
{
    s_env_t e;
    s_setup (&e);
    mm_cert_t *b = s_sensor_cert (&e, "s-b", "org-b", true);
    s_start (&e, NULL);
    mm_curve_client_t *c = s_client (&e, b);
    //  The body claims another sensor of another company.
    s_send_events (c, "s-a", "org-a", 1, 10);
    cr_expect_eq (s_wait_ack (c, "s-b", 10, 5000), 10);
    //  The body names the right sensor but the wrong org: corrected too.
    s_send_events (c, "s-b", "org-x", 11, 12);
    cr_expect_eq (s_wait_ack (c, "s-b", 12, 5000), 12);
    bk_broker_stats_t st;
    s_stop (&e, &st);
    cr_expect_eq (st.corrected, 12);
    s_scan_t s = s_scan_store (&e, "s-b", "org-b");
    cr_expect_eq (s.count, 12);
    cr_expect (s.stamped, "stored bytes not stamped with the certificate's sensor and org");
    cr_expect_eq (s_scan_store (&e, "s-a", "org-a").count, 0);
    mm_curve_client_destroy (&c);
    mm_cert_destroy (&b);
    s_teardown (&e);
}

Test (bk_broker, bad_frames_do_not_stop_others)
{
    s_env_t e;
    s_setup (&e);
    mm_cert_t *bad = s_sensor_cert (&e, "s-bad", "org-a", true);
    mm_cert_t *good = s_sensor_cert (&e, "s-good", "org-b", true);
    s_start (&e, NULL);
    mm_curve_client_t *cb = s_client (&e, bad);
    mm_curve_client_t *cg = s_client (&e, good);
    mm_buf_t ev = MM_BUF_INIT, ack = MM_BUF_INIT;
    s_encode_event (&ev, "s-bad", "org-a", 1);
    //  A WARNING: only the aggregator sends those (an ACK from a sensor is valid: it confirms
    //  down messages).
    mm_warning_t w;
    mm_sample_warning (&w);
    mm_error_t err;
    cr_assert_eq (mm_warning_encode (&w, &ack, &err), 0);
    size_t big_len = MM_MSG_MAX + 100;  //  under the socket's limit: reaches the broker
    uint8_t *big = calloc (1, big_len);
    cr_assert_not_null (big);
    memset (big, 0x81, big_len);
    const char garbage[] = "\xc1\xff garbage \x00\x01";
    uint64_t next = 1;
    for (int round = 0; round < 20; round++) {
        cr_assert_eq (s_send_raw (cb, garbage, sizeof garbage - 1, 5000), 0);
        cr_assert_eq (s_send_raw (cb, ev.data, ev.len / 2, 5000), 0);  //  truncated
        cr_assert_eq (s_send_raw (cb, big, big_len, 5000), 0);         //  oversized
        cr_assert_eq (s_send_raw (cb, ack.data, ack.len, 5000), 0);    //  wrong type
        cr_assert_eq (s_send_raw (cb, "", 0, 5000), 0);                //  empty
        s_send_events (cg, "s-good", "org-b", next, next + 9);
        next += 10;
    }
    cr_expect_eq (s_wait_ack (cg, "s-good", 200, 5000), 200, "the good sensor stalled");
    //  The bad sender is still connected and served.
    s_send_events (cb, "s-bad", "org-a", 1, 3);
    cr_expect_eq (s_wait_ack (cb, "s-bad", 3, 5000), 3, "the bad sender was cut off");
    bk_broker_stats_t st;
    s_stop (&e, &st);
    cr_log_info ("bad: %llu oversized %llu truncated %llu malformed %llu type, %llu frames",
                 (unsigned long long) st.bad[BK_BAD_OVERSIZED],
                 (unsigned long long) st.bad[BK_BAD_TRUNCATED],
                 (unsigned long long) st.bad[BK_BAD_MALFORMED],
                 (unsigned long long) st.bad[BK_BAD_TYPE], (unsigned long long) st.frames);
    cr_expect_eq (st.bad[BK_BAD_OVERSIZED], 20);
    cr_expect_eq (st.bad[BK_BAD_TRUNCATED], 40);  //  a cut event, and the empty frame
    cr_expect_eq (st.bad[BK_BAD_MALFORMED], 20);  //  garbage
    cr_expect_eq (st.frames, 303);
    cr_expect_eq (st.bad[BK_BAD_TYPE], 20);
    cr_expect_eq (st.events, 203);
    cr_expect_eq (s_scan_store (&e, "s-good", "org-b").count, 200);
    free (big);
    mm_buf_free (&ev);
    mm_buf_free (&ack);
    mm_curve_client_destroy (&cb);
    mm_curve_client_destroy (&cg);
    mm_cert_destroy (&bad);
    mm_cert_destroy (&good);
    s_teardown (&e);
}

Test (bk_broker, unknown_key_gets_nothing)
{
    s_env_t e;
    s_setup (&e);
    mm_cert_t *known = s_sensor_cert (&e, "s-known", "org-a", true);
    mm_cert_t *stranger = s_sensor_cert (&e, "s-stranger", "org-a", false);
    s_start (&e, NULL);
    mm_curve_client_t *ck = s_client (&e, known);
    mm_curve_client_t *cu = s_client (&e, stranger);
    mm_buf_t b = MM_BUF_INIT;
    s_encode_event (&b, "s-stranger", "org-a", 1);
    //  The handshake is refused, so no connection ever comes up (ZMQ_IMMEDIATE: EAGAIN).
    cr_expect_eq (s_send_raw (cu, b.data, b.len, 1500), -1, "an unknown key got a connection");
    zsock_set_rcvtimeo (mm_curve_client_sock (cu), 200);
    zframe_t *f = mm_curve_client_recv (cu);
    cr_expect_null (f, "an unknown key got an answer");
    zframe_destroy (&f);
    s_send_events (ck, "s-known", "org-a", 1, 5);
    cr_expect_eq (s_wait_ack (ck, "s-known", 5, 5000), 5);
    bk_broker_stats_t st;
    s_stop (&e, &st);
    cr_expect_eq (st.events, 5);
    cr_expect_eq (s_scan_store (&e, "s-stranger", "org-a").count, 0);
    mm_curve_auth_stats_t as;
    cr_assert_eq (mm_curve_auth_stats (e.auth, &as), 0);
    cr_expect_geq (as.refused_unknown, 1);
    mm_buf_free (&b);
    mm_curve_client_destroy (&ck);
    mm_curve_client_destroy (&cu);
    mm_cert_destroy (&known);
    mm_cert_destroy (&stranger);
    s_teardown (&e);
}

//  Reads ACKs for `ms` milliseconds; returns the highest seen.
static uint64_t
s_drain_acks (mm_curve_client_t *c, int ms)
{
    uint64_t last = 0;
    int64_t end = zclock_mono () + ms;
    zsock_set_rcvtimeo (mm_curve_client_sock (c), 50);
    while (zclock_mono () < end) {
        zframe_t *f = mm_curve_client_recv (c);
        mm_ack_t ack;
        mm_error_t err;
        if (f && mm_ack_decode (&ack, zframe_data (f), zframe_size (f), &err) == 0 &&
            ack.seq > last)
            last = ack.seq;
        zframe_destroy (&f);
    }
    return last;
}

Test (bk_broker, revoked_key_stops_within_5s)
{
    s_env_t e;
    s_setup (&e);
    mm_cert_t *a = s_sensor_cert (&e, "s-a", "org-a", true);
    s_start (&e, NULL);
    mm_curve_client_t *c = s_client (&e, a);
    s_send_events (c, "s-a", "org-a", 1, 10);
    cr_expect_eq (s_wait_ack (c, "s-a", 10, 5000), 10);
    //  Revoked while connected: from 5 s on, nothing it sends is stored or acknowledged.
    FILE *f = fopen (e.revoke, "w");
    cr_assert_not_null (f);
    fprintf (f, "# test\n%s\n", mm_cert_public_txt (a));
    cr_assert_eq (fclose (f), 0);
    zclock_sleep (5000);
    mm_buf_t b = MM_BUF_INIT;
    //  The connection itself stays up (libzmq cannot close one ROUTER peer): every send goes
    //  out, and the broker's socket drops each one as revoked.
    for (uint64_t seq = 11; seq <= 20; seq++) {
        s_encode_event (&b, "s-a", "org-a", seq);
        cr_expect_eq (s_send_raw (c, b.data, b.len, 2000), 0);
    }
    cr_expect_eq (s_drain_acks (c, 500), 0, "a revoked key got an ACK");
    bk_broker_stats_t st;
    s_stop (&e, &st);
    cr_expect_eq (st.events, 10);
    cr_expect_eq (e.sock_stats.dropped_revoked, 10, "dropped as revoked: %llu",
                  (unsigned long long) e.sock_stats.dropped_revoked);
    cr_expect_eq (s_scan_store (&e, "s-a", "org-a").count, 10);
    mm_buf_free (&b);
    mm_curve_client_destroy (&c);
    mm_cert_destroy (&a);
    s_teardown (&e);
}

Test (bk_broker, full_store_acks_only_what_is_stored)
{
    s_env_t e;
    s_setup (&e);
    e.store_max = 1;  //  full as soon as anything is written
    mm_cert_t *a = s_sensor_cert (&e, "s-a", "org-a", true);
    s_start (&e, NULL);
    mm_curve_client_t *c = s_client (&e, a);
    s_send_events (c, "s-a", "org-a", 1, 50);
    uint64_t acked = s_drain_acks (c, 1000);
    bk_broker_stats_t st;
    s_stop (&e, &st);
    cr_expect_gt (st.refused, 0, "nothing refused");
    cr_expect_eq (st.events + st.refused, 50);
    //  What was acknowledged is exactly what is on disk.
    cr_expect_eq (acked, st.events);
    s_scan_t s = s_scan_store (&e, "s-a", "org-a");
    cr_expect_eq (s.count, acked);
    cr_expect (s.ordered);
    mm_curve_client_destroy (&c);
    mm_cert_destroy (&a);
    s_teardown (&e);
}

//  A hole is refused (the broker may have lost those events in a crash: the sensor must resend
//  them); only the sensor's own word, the hole its heartbeat declares, makes the broker skip it.
Test (bk_broker, holes_wait_for_the_resend_or_the_sensor_floor)
{
    s_env_t e;
    s_setup (&e);
    mm_cert_t *cert = s_sensor_cert (&e, "s-h", "org-a", true);
    s_start (&e, NULL);
    mm_curve_client_t *c = s_client (&e, cert);
    s_send_events (c, "s-h", "org-a", 1, 3);
    s_send_events (c, "s-h", "org-a", 7, 9);  //  4..6 missing
    cr_expect_eq (s_wait_ack (c, "s-h", 3, 5000), 3);
    zclock_sleep (300);
    cr_expect_eq (bk_store_hwm (bk_broker_store (e.broker), mm_str ("s-h")), 3);
    //  The sensor's spool bound dropped 4..6: its heartbeat says so.
    mm_heartbeat_t hb;
    mm_sample_heartbeat (&hb);
    hb.sensor = mm_str ("s-h");
    hb.org = mm_str ("org-a");
    hb.hole_from = 4;
    hb.hole_to = 6;
    mm_buf_t b = MM_BUF_INIT;
    mm_error_t err;
    cr_assert_eq (mm_heartbeat_encode (&hb, &b, &err), 0, "%s", err.reason);
    cr_assert_eq (s_send_raw (c, b.data, b.len, 5000), 0);
    s_send_events (c, "s-h", "org-a", 7, 9);
    cr_expect_eq (s_wait_ack (c, "s-h", 9, 5000), 9);
    bk_broker_stats_t st;
    s_stop (&e, &st);
    cr_expect_eq (st.out_of_order, 3);
    cr_expect_eq (st.gaps, 1);
    cr_expect_eq (st.events, 6);
    s_scan_t s = s_scan_store (&e, "s-h", "org-a");
    cr_expect_eq (s.count, 6);
    mm_buf_free (&b);
    mm_curve_client_destroy (&c);
    mm_cert_destroy (&cert);
    s_teardown (&e);
}

//  The files a real sensor uplink needs against the broker of `e`: its secret certificate
//  (saved here), the broker's public one, a spool directory, and an endpoint on a port the
//  broker binds later (20000-31999, outside the kernel's ephemeral range; `salt` keeps two
//  tests of one process apart).
typedef struct {
    char secret[256], broker_pub[256], spool[256], endpoint[64];
} s_uplink_files_t;

static sn_uplink_config_t
s_uplink_config (s_env_t *e, const mm_cert_t *cert, int salt, s_uplink_files_t *files)
{
    char err[256];
    const char *id = mm_cert_identity (cert)->id;
    cr_assert_eq (mm_cert_save_pair (cert, e->keys, false, err, sizeof err), 0, "%s", err);
    snprintf (files->secret, sizeof files->secret, "%s/%s.cert_secret", e->keys, id);
    snprintf (files->broker_pub, sizeof files->broker_pub, "%s/b-kanto.cert", e->keys);
    snprintf (files->spool, sizeof files->spool, "%s/spool-%s", e->dir, id);
    snprintf (files->endpoint, sizeof files->endpoint, "tcp://127.0.0.1:%d",
              20000 + (int) ((getpid () + salt) % 12000));
    return (sn_uplink_config_t){
        .endpoint = files->endpoint,
        .broker_cert = files->broker_pub,
        .cert = files->secret,
        .spool_dir = files->spool,
        .heartbeat_ms = 200,
        .ack_timeout_ms = 1000,
    };
}

//  Polls the uplink until the broker has acknowledged `last` (or 20 s pass); the ACKed mark.
static uint64_t
s_uplink_until_acked (sn_uplink_t *up, uint64_t last)
{
    sn_uplink_stats_t st;
    int64_t end = zclock_mono () + 20000;
    do {
        sn_uplink_poll (up, 0, 20, NULL);
        sn_uplink_stats (up, &st);
    } while (st.acked_seq < last && zclock_mono () < end);
    return st.acked_seq;
}

//  The real uplink against the real broker, when the sensor's spool bound dropped its oldest
//  events before the broker was there: the broker refuses what follows the hole until the
//  sensor's heartbeat says those seqs are gone, then takes everything that survived. Without
//  the floor the stream would stall for good; with a lenient broker a crash could lose events.
Test (bk_broker, uplink_spool_overflow_then_broker_skips_the_hole)
{
    s_env_t e;
    s_setup (&e);
    mm_cert_t *cert = s_sensor_cert (&e, "s-ov", "org-a", true);
    s_uplink_files_t files;
    sn_uplink_config_t cfg = s_uplink_config (&e, cert, 0, &files);
    cfg.spool = (sn_spool_opts_t){.max_bytes = 16384, .segment_bytes = 4096};
    sn_uplink_t *up = sn_uplink_new (&cfg);
    cr_assert_not_null (up);
    for (int i = 0; i < 600; i++) {
        mm_event_t ev;
        mm_sample_event (&ev, MM_KIND_FLOW);
        ev.sensor = ev.org = (mm_str_t){0};
        cr_assert_eq (sn_uplink_publish (up, &ev), 0);
        if (i % 50 == 0)
            sn_uplink_poll (up, 0, 0, NULL);
    }
    sn_uplink_poll (up, 0, 0, NULL);
    sn_spool_stats_t ss;
    sn_spool_stats (sn_uplink_spool (up), &ss);
    cr_assert_gt (ss.dropped, 0, "the bound did not drop anything");
    s_start (&e, files.endpoint);
    uint64_t last = ss.next_seq - 1;  //  nothing more is published
    uint64_t acked = s_uplink_until_acked (up, last);
    cr_expect_eq (acked, last, "stalled at %" PRIu64 " of %" PRIu64, acked, last);
    sn_uplink_destroy (&up);
    bk_broker_stats_t bs;
    s_stop (&e, &bs);
    cr_expect_eq (bs.gaps, 1, "the hole was skipped once, on the sensor's word");
    //  Everything stored is what survived: every seq above the hole, once, in order.
    s_scan_t s = s_scan_store (&e, "s-ov", "org-a");
    cr_expect_eq (s.next_seq, last + 1);
    cr_expect_eq (s.count + ss.dropped, last,
                  "stored %" PRIu64 " + dropped %" PRIu64 " != %" PRIu64, s.count, ss.dropped,
                  last);
    mm_cert_destroy (&cert);
    s_teardown (&e);
}

typedef struct {
    int silent;
    char message[MM_TEXT_MAX + 1];
} s_silent_t;

static int
s_silent_fn (void *arg, uint64_t index, mm_str_t sensor, uint64_t seq, const uint8_t *data,
             size_t len)
{
    (void) index, (void) seq;
    s_silent_t *s = arg;
    mm_event_t ev;
    mm_error_t err;
    if (!mm_str_eq (sensor, "b-kanto") || mm_event_decode (&ev, data, len, &err) == -1 ||
        !mm_str_eq (ev.finding.detector, "sensor.silent"))
        return 0;
    s->silent++;
    snprintf (s->message, sizeof s->message, "%.*s", (int) ev.finding.message.len,
              ev.finding.message.ptr);
    cr_expect (mm_str_eq (ev.org, "org-a"));
    return 0;
}

//  A sensor that died while the broker was down is noticed after the broker's restart: it had
//  stored events before, it is still allowed, and no heartbeat comes within 3 intervals.
Test (bk_broker, sensor_dead_across_a_broker_restart_is_silent)
{
    s_env_t e;
    s_setup (&e);
    e.heartbeat_ms = 200;
    mm_cert_t *cert = s_sensor_cert (&e, "s-dead", "org-a", true);
    s_start (&e, NULL);
    mm_curve_client_t *c = s_client (&e, cert);
    s_send_events (c, "s-dead", "org-a", 1, 5);
    cr_expect_eq (s_wait_ack (c, "s-dead", 5, 5000), 5);
    mm_curve_client_destroy (&c);
    s_stop (&e, NULL);
    //  Back up with a grace of 1 s for reconnecting: not silent yet after 3 intervals.
    e.start_grace_ms = 1000;
    s_start (&e, NULL);
    zclock_sleep (3 * 200 + 300);
    bk_broker_stats_t st;
    bk_broker_stats (e.broker, &st);
    cr_expect_eq (st.silent, 0, "raised within the reconnect grace");
    //  The sensor never returns.
    zclock_sleep (1000);
    s_stop (&e, &st);
    cr_expect_eq (st.silent, 1);
    char err[256];
    bk_store_t *store = bk_store_new (e.store, NULL, err, sizeof err);
    cr_assert_not_null (store, "%s", err);
    s_silent_t s = {0};
    cr_assert_geq (bk_store_read_forward (store, 0, 1000000, s_silent_fn, &s), 0);
    bk_store_destroy (&store);
    cr_expect_eq (s.silent, 1);
    cr_expect (strstr (s.message, "s-dead") && strstr (s.message, "since the broker started"), "%s",
               s.message);
    mm_cert_destroy (&cert);
    s_teardown (&e);
}

//  A hole in the middle of the spool (here: two records damaged on disk, skipped at the
//  spool's recovery) is found by the uplink while sending and declared in its heartbeat; the
//  broker skips it and everything else arrives.
Test (bk_broker, uplink_spool_damage_hole_is_skipped)
{
    s_env_t e;
    s_setup (&e);
    mm_cert_t *cert = s_sensor_cert (&e, "s-dmg", "org-a", true);
    s_uplink_files_t files;
    sn_uplink_config_t cfg = s_uplink_config (&e, cert, 5000, &files);
    const char *spool = files.spool;
    sn_uplink_t *up = sn_uplink_new (&cfg);
    cr_assert_not_null (up);
    for (int i = 0; i < 10; i++) {
        mm_event_t ev;
        mm_sample_event (&ev, MM_KIND_FLOW);
        ev.sensor = ev.org = (mm_str_t){0};
        cr_assert_eq (sn_uplink_publish (up, &ev), 0);
    }
    sn_uplink_destroy (&up);
    //  Damage records 5 and 6 (equal sizes: seqs 1..10 encode alike) in the one segment.
    char seg[512] = "";
    DIR *d = opendir (spool);
    cr_assert_not_null (d);
    struct dirent *de;
    while ((de = readdir (d)))
        if (strstr (de->d_name, ".seg"))
            snprintf (seg, sizeof seg, "%s/%s", spool, de->d_name);
    closedir (d);
    cr_assert (seg[0]);
    FILE *f = fopen (seg, "r+b");
    cr_assert_not_null (f);
    cr_assert_eq (fseek (f, 0, SEEK_END), 0);
    long size = ftell (f);
    long rec = (size - 16) / 10;
    cr_assert_eq (16 + rec * 10, size, "records of unequal size");
    for (long k = 4; k <= 5; k++) {
        cr_assert_eq (fseek (f, 16 + k * rec + 20, SEEK_SET), 0);
        cr_assert_eq (fputc (0xee, f), 0xee);
        cr_assert_eq (fputc (0x11, f), 0x11);
    }
    cr_assert_eq (fclose (f), 0);

    up = sn_uplink_new (&cfg);
    cr_assert_not_null (up);
    sn_spool_stats_t ss;
    sn_spool_stats (sn_uplink_spool (up), &ss);
    cr_assert_eq (ss.corrupt_events, 2, "the spool did not skip the two damaged records");
    s_start (&e, files.endpoint);
    uint64_t acked = s_uplink_until_acked (up, 10);
    cr_expect_eq (acked, 10, "stalled at %" PRIu64, acked);
    sn_uplink_destroy (&up);
    bk_broker_stats_t bs;
    s_stop (&e, &bs);
    cr_expect_eq (bs.gaps, 1);
    s_scan_t s = s_scan_store (&e, "s-dmg", "org-a");
    cr_expect_eq (s.count, 8);
    cr_expect_eq (s.next_seq, 11);
    mm_cert_destroy (&cert);
    s_teardown (&e);
}
