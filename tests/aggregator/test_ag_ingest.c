/*  Tests of ag_ingest: a simulated CURVE broker against the aggregator's ingest running in a
    thread, over loopback. Cumulative ACKs by log index after the synced write, exact dedup of
    a resend, out-of-order frames refused, bad frames counted, non-broker keys refused. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_ingest.h"
#include "mm_ack.h"
#include "mm_event.h"
#include "mm_sample.h"

typedef struct {
    char dir[64];
    char allow[96], keys[96], store[96], secret[128];
    mm_curve_auth_t *auth;
    mm_cert_t *agg_cert;
    ag_ingest_t *ingest;
    char endpoint[256];
    pthread_t thread;
    atomic_int stop;
    bool running;
} s_env_t;

static s_env_t s_env;

static void *
s_run (void *arg)
{
    s_env_t *e = arg;
    while (!atomic_load (&e->stop))
        ag_ingest_run_once (e->ingest, 20);
    return NULL;
}

static void
s_start (s_env_t *e)
{
    ag_ingest_config_t cfg = {
        .endpoint = "tcp://127.0.0.1:*",
        .allow_dir = e->allow,
        .cert_secret = e->secret,
        .store_path = e->store,
    };
    e->ingest = ag_ingest_new (&cfg, e->auth);
    cr_assert_not_null (e->ingest);
    snprintf (e->endpoint, sizeof e->endpoint, "%s", ag_ingest_endpoint (e->ingest));
    atomic_store (&e->stop, 0);
    cr_assert_eq (pthread_create (&e->thread, NULL, s_run, e), 0);
    e->running = true;
}

static void
s_stop (s_env_t *e, ag_ingest_stats_t *stats)
{
    if (!e->running)
        return;
    atomic_store (&e->stop, 1);
    pthread_join (e->thread, NULL);
    e->running = false;
    if (stats)
        ag_ingest_stats (e->ingest, stats);
    ag_ingest_destroy (&e->ingest);
}

static void
s_setup (void)
{
    s_env_t *e = &s_env;
    memset (e, 0, sizeof *e);
    snprintf (e->dir, sizeof e->dir, "/tmp/mm-ag-ingest-XXXXXX");
    cr_assert_not_null (mkdtemp (e->dir));
    snprintf (e->allow, sizeof e->allow, "%.60s/allow", e->dir);
    snprintf (e->keys, sizeof e->keys, "%.60s/keys", e->dir);
    snprintf (e->store, sizeof e->store, "%.60s/store", e->dir);
    cr_assert_eq (zsys_dir_create ("%s", e->allow), 0);
    cr_assert_eq (zsys_dir_create ("%s", e->keys), 0);
    char err[256];
    e->agg_cert = mm_cert_new (MM_ROLE_AGGREGATOR, "centre", NULL, NULL, err, sizeof err);
    cr_assert_not_null (e->agg_cert, "%s", err);
    cr_assert_eq (mm_cert_save_pair (e->agg_cert, e->keys, false, err, sizeof err), 0, "%s", err);
    snprintf (e->secret, sizeof e->secret, "%.90s/centre.cert_secret", e->keys);
    e->auth = mm_curve_auth_new ();
    cr_assert_not_null (e->auth);
}

static void
s_teardown (void)
{
    s_env_t *e = &s_env;
    s_stop (e, NULL);
    mm_curve_auth_destroy (&e->auth);
    mm_cert_destroy (&e->agg_cert);
    char cmd[160];
    snprintf (cmd, sizeof cmd, "rm -rf '%.60s'", e->dir);
    cr_expect_eq (system (cmd), 0);
}

TestSuite (ag_ingest, .init = s_setup, .fini = s_teardown, .timeout = 60);

static mm_cert_t *
s_cert (mm_role_t role, const char *id, bool allowed)
{
    char err[256], path[512];
    const char *org = role == MM_ROLE_SENSOR ? "acme" : NULL;
    mm_cert_t *c = mm_cert_new (role, id, org, "kanto", err, sizeof err);
    cr_assert_not_null (c, "%s", err);
    if (allowed) {
        snprintf (path, sizeof path, "%s/%s.cert", s_env.allow, id);
        cr_assert_eq (mm_cert_save_public (c, path, false, err, sizeof err), 0, "%s", err);
    }
    return c;
}

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

//  Sends the frame [index][EVENT of `sensor`, `seq`].
static void
s_forward (mm_curve_client_t *c, uint64_t index, const char *sensor, uint64_t seq)
{
    mm_event_t ev;
    mm_sample_event (&ev, MM_KIND_FLOW);
    ev.sensor = mm_str (sensor);
    ev.seq = seq;
    //  The sample's time is years old (a replayed event for the latency figure); past 100 the
    //  events are "live".
    if (seq > 100)
        ev.ts = (uint64_t) zclock_time () * 1000000u;
    mm_buf_t b = MM_BUF_INIT;
    uint8_t prefix[8];
    for (int i = 7; i >= 0; i--)
        prefix[7 - i] = (uint8_t) (index >> (8 * i));
    cr_assert_eq (mm_buf_append (&b, prefix, 8), 0);
    mm_error_t err;
    cr_assert_eq (mm_event_encode (&ev, &b, &err), 0, "%s", err.reason);
    cr_assert_eq (s_send_raw (c, b.data, b.len, 5000), 0);
    mm_buf_free (&b);
}

//  Reads ACKs until one says `want`; each must name `broker` and never go backwards.
static uint64_t
s_wait_ack (mm_curve_client_t *c, const char *broker, uint64_t want, int timeout_ms)
{
    int64_t end = zclock_mono () + timeout_ms;
    uint64_t last = 0;
    while (last < want && zclock_mono () < end) {
        zsock_set_rcvtimeo (mm_curve_client_sock (c), 100);
        zframe_t *f = mm_curve_client_recv (c);
        if (!f)
            continue;
        mm_ack_t ack;
        mm_error_t err;
        cr_assert_eq (mm_ack_decode (&ack, zframe_data (f), zframe_size (f), &err), 0, "%s",
                      err.reason);
        cr_expect (mm_str_eq (ack.sensor, broker));
        cr_expect_geq (ack.seq, last, "ACK went backwards");
        last = ack.seq;
        zframe_destroy (&f);
    }
    return last;
}

static int
s_check_seq (void *arg, mm_str_t sensor, uint64_t seq, mm_str_t broker, uint64_t index,
             const uint8_t *data, size_t len)
{
    (void) broker, (void) data, (void) len;
    uint64_t *next = arg;
    cr_expect (mm_str_eq (sensor, "s1"));
    cr_expect_eq (seq, *next);
    cr_expect_eq (index, seq);
    (*next)++;
    return 0;
}

Test (ag_ingest, ack_dedup_resend)
{
    mm_cert_t *bc = s_cert (MM_ROLE_BROKER, "b-kanto", true);
    s_start (&s_env);
    mm_curve_client_t *c =
        mm_curve_client_new (s_env.endpoint, bc, mm_cert_public_txt (s_env.agg_cert));
    cr_assert_not_null (c);
    for (uint64_t i = 1; i <= 100; i++)
        s_forward (c, i, "s1", i);
    cr_expect_eq (s_wait_ack (c, "b-kanto", 100, 5000), 100);
    //  A rewind after a lost ACK: 51..100 again, 102 before 101 (out of order), then 101..102.
    for (uint64_t i = 51; i <= 100; i++)
        s_forward (c, i, "s1", i);
    s_forward (c, 102, "s1", 102);
    s_forward (c, 101, "s1", 101);
    s_forward (c, 102, "s1", 102);
    cr_expect_eq (s_wait_ack (c, "b-kanto", 102, 5000), 102);
    //  Garbage: too short, and an index with no event behind it.
    cr_assert_eq (s_send_raw (c, "abc", 3, 5000), 0);
    cr_assert_eq (s_send_raw (c, "\0\0\0\0\0\0\0\x67garbage", 15, 5000), 0);
    s_forward (c, 103, "s1", 103);
    cr_expect_eq (s_wait_ack (c, "b-kanto", 103, 5000), 103);
    mm_curve_client_destroy (&c);
    mm_cert_destroy (&bc);
    //  Latency: only new, live events count (101..103 once each, not their resends); the 100
    //  old-stamped ones are left out.
    ag_latency_t lat;
    ag_ingest_latency (s_env.ingest, &lat);
    cr_expect_eq (lat.n, 3);
    cr_expect_eq (lat.skipped, 100);
    cr_expect_lt (lat.max_us, 5000000u);
    ag_ingest_stats_t st;
    s_stop (&s_env, &st);
    cr_expect_eq (st.stored, 103);
    cr_expect_geq (st.duplicates, 50);
    cr_expect_geq (st.out_of_order, 1);
    cr_expect_eq (st.bad, 2);

    //  The store holds exactly s1 seq 1..103, once each.
    char err[256];
    ag_store_t *store = ag_store_new (s_env.store, err, sizeof err);
    cr_assert_not_null (store, "%s", err);
    uint64_t next = 1;
    cr_expect_eq (ag_store_each (store, s_check_seq, &next), 103);
    cr_expect_eq (next, 104);
    ag_store_destroy (&store);
}

Test (ag_ingest, sensor_key_refused)
{
    mm_cert_t *sc = s_cert (MM_ROLE_SENSOR, "s-intruder", true);
    s_start (&s_env);
    mm_curve_client_t *c =
        mm_curve_client_new (s_env.endpoint, sc, mm_cert_public_txt (s_env.agg_cert));
    cr_assert_not_null (c);
    //  The handshake is refused (role), so nothing is ever connected to send on.
    for (int i = 0; i < 20; i++) {
        if (mm_curve_client_send (c, "x", 1) == 0)
            break;
        zclock_sleep (50);
    }
    zclock_sleep (300);
    mm_curve_client_destroy (&c);
    mm_cert_destroy (&sc);
    ag_ingest_stats_t st;
    s_stop (&s_env, &st);
    cr_expect_eq (st.frames, 0);
    cr_expect_eq (st.stored, 0);
}
