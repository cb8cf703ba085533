/*  bk_sim_sensor: a simulated sensor for broker_sensors.sh (test tool, not installed).
    Owner: tests/broker/. Sends EVENTs over mm_curve and waits for the cumulative ACK, or counts
    what a stopped broker's store holds for a sensor.

      bk_sim_sensor send ENDPOINT BROKER.cert SENSOR.cert_secret FROM TO [SENSOR ORG]
          sends seq FROM..TO (the body claims SENSOR/ORG if given, else the certificate's),
          prints "acked N" with the last ACK seen; exit 0 if N == TO within 10 s (or
          BK_SIM_TIMEOUT_MS), else 1
      bk_sim_sensor count STORE SENSOR ORG
          prints "stored N ordered|unordered stamped|unstamped" for SENSOR's events */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bk_store.h"
#include "mm_curve.h"
#include "mm_sample.h"

static int
s_u64 (const char *text, uint64_t *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull (text, &end, 10);
    if (errno || end == text || *end || text[0] == '-')
        return -1;
    *v = x;
    return 0;
}

static int
s_send (int argc, char **argv)
{
    uint64_t from, to;
    if ((argc != 7 && argc != 9) || s_u64 (argv[5], &from) == -1 || s_u64 (argv[6], &to) == -1 ||
        from == 0 || to < from)
        return 2;
    char err[256];
    mm_cert_t *server = mm_cert_load (argv[3], err, sizeof err);
    mm_cert_t *me = server ? mm_cert_load (argv[4], err, sizeof err) : NULL;
    if (!me) {
        fprintf (stderr, "bk_sim_sensor: %s\n", err);
        mm_cert_destroy (&server);
        return 2;
    }
    const mm_identity_t *id = mm_cert_identity (me);
    const char *claim_sensor = argc == 9 ? argv[7] : id->id;
    const char *claim_org = argc == 9 ? argv[8] : id->org;
    mm_curve_client_t *c = mm_curve_client_new (argv[2], me, mm_cert_public_txt (server));
    int rc = 1;
    uint64_t acked = 0;
    mm_buf_t b = MM_BUF_INIT;
    uint64_t timeout_ms = 10000;  //  BK_SIM_TIMEOUT_MS shortens it (the unknown-key check)
    const char *t = getenv ("BK_SIM_TIMEOUT_MS");
    if (t && (s_u64 (t, &timeout_ms) == -1 || timeout_ms > 600000))
        timeout_ms = 10000;
    int64_t end = zclock_mono () + (int64_t) timeout_ms;
    for (uint64_t seq = from; c && seq <= to; seq++) {
        mm_event_t ev;
        mm_sample_event (&ev, MM_KIND_FLOW);
        ev.sensor = mm_str (claim_sensor);
        ev.org = mm_str (claim_org);
        ev.seq = seq;
        mm_error_t merr;
        mm_buf_clear (&b);
        if (mm_event_encode (&ev, &b, &merr) == -1)
            goto done;
        while (mm_curve_client_send (c, b.data, b.len) == -1) {
            if (errno != EAGAIN || zclock_mono () >= end)
                goto done;
            zclock_sleep (5);
        }
    }
    while (c && acked < to && zclock_mono () < end) {
        zsock_set_rcvtimeo (mm_curve_client_sock (c), 100);
        zframe_t *f = mm_curve_client_recv (c);
        mm_ack_t ack;
        mm_error_t merr;
        if (f && mm_ack_decode (&ack, zframe_data (f), zframe_size (f), &merr) == 0 &&
            mm_str_eq (ack.sensor, id->id) && ack.seq > acked)
            acked = ack.seq;
        zframe_destroy (&f);
    }
    rc = acked == to ? 0 : 1;
done:
    printf ("acked %llu\n", (unsigned long long) acked);
    mm_buf_free (&b);
    mm_curve_client_destroy (&c);
    mm_cert_destroy (&me);
    mm_cert_destroy (&server);
    return rc;
}

typedef struct {
    const char *sensor, *org;
    uint64_t count, next;
    bool ordered, stamped;
} s_count_t;

static int
s_count_fn (void *arg, uint64_t index, mm_str_t sensor, uint64_t seq, const uint8_t *data,
            size_t len)
{
    (void) index;
    s_count_t *s = arg;
    if (!mm_str_eq (sensor, s->sensor))
        return 0;
    s->count++;
    if (seq != s->next)
        s->ordered = false;
    s->next = seq + 1;
    mm_event_t ev;
    mm_error_t err;
    if (mm_event_decode (&ev, data, len, &err) == -1 || !mm_str_eq (ev.sensor, s->sensor) ||
        !mm_str_eq (ev.org, s->org))
        s->stamped = false;
    return 0;
}

static int
s_count (int argc, char **argv)
{
    if (argc != 5)
        return 2;
    char err[256];
    bk_store_t *st = bk_store_new (argv[2], NULL, err, sizeof err);
    if (!st) {
        fprintf (stderr, "bk_sim_sensor: %s\n", err);
        return 1;
    }
    s_count_t s = {argv[3], argv[4], 0, 1, true, true};
    int rc = bk_store_read_forward (st, 0, 100000000, s_count_fn, &s) == -1 ? 1 : 0;
    printf ("stored %llu %s %s\n", (unsigned long long) s.count,
            s.ordered ? "ordered" : "unordered", s.stamped ? "stamped" : "unstamped");
    bk_store_destroy (&st);
    return rc;
}

int
main (int argc, char **argv)
{
    if (argc > 1 && strcmp (argv[1], "send") == 0)
        return s_send (argc, argv);
    if (argc > 1 && strcmp (argv[1], "count") == 0)
        return s_count (argc, argv);
    fprintf (stderr, "usage: bk_sim_sensor send|count ... (see the source)\n");
    return 2;
}
