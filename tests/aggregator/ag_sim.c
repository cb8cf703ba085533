/*  ag_sim: test tool for mesh.sh (not installed). Owner: tests/aggregator/.
      ag_sim dump STORE
          prints every event of an aggregator's store (read-only, also while it runs) in (sensor, seq) order, one a line:
          "SENSOR SEQ" and, for findings, " finding DETECTOR REVISION SEVERITY MESSAGE"
      ag_sim heartbeat ENDPOINT BROKER.cert SENSOR.cert_secret COUNT IVL_MS
          sends COUNT HEARTBEATs IVL_MS apart as that sensor, then stops (goes silent) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_store.h"
#include "mm_curve.h"
#include "mm_event.h"
#include "mm_heartbeat.h"

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
s_print (void *arg, mm_str_t sensor, uint64_t seq, mm_str_t broker, uint64_t index,
         const uint8_t *data, size_t len)
{
    (void) arg, (void) broker, (void) index;
    printf ("%.*s %llu", (int) sensor.len, sensor.ptr, (unsigned long long) seq);
    mm_event_t *ev = malloc (sizeof *ev);
    mm_error_t err;
    if (ev && data && mm_event_decode (ev, data, len, &err) == 0 && (ev->has & MM_EV_HAS_FINDING)) {
        const char *sev = mm_sev_name (ev->severity);
        printf (" finding %.*s %u %s %.*s", (int) ev->finding.detector.len,
                ev->finding.detector.ptr, ev->finding.revision, sev ? sev : "?",
                (int) ev->finding.message.len, ev->finding.message.ptr);
    }
    free (ev);
    printf ("\n");
    return 0;
}

static int
s_dump (int argc, char **argv)
{
    if (argc != 3)
        return 2;
    char err[512];
    ag_store_t *st = ag_store_open_readonly (argv[2], err, sizeof err);
    if (!st) {
        fprintf (stderr, "ag_sim: %s\n", err);
        return 1;
    }
    int rc = ag_store_each (st, s_print, NULL) < 0 ? 1 : 0;
    ag_store_destroy (&st);
    return rc;
}

static int
s_heartbeat (int argc, char **argv)
{
    uint64_t count, ivl;
    if (argc != 7 || s_u64 (argv[5], &count) == -1 || s_u64 (argv[6], &ivl) == -1 || ivl > 600000)
        return 2;
    char err[256];
    mm_cert_t *server = mm_cert_load (argv[3], err, sizeof err);
    mm_cert_t *me = server ? mm_cert_load (argv[4], err, sizeof err) : NULL;
    if (!me) {
        fprintf (stderr, "ag_sim: %s\n", err);
        mm_cert_destroy (&server);
        return 2;
    }
    const mm_identity_t *id = mm_cert_identity (me);
    mm_curve_client_t *c = mm_curve_client_new (argv[2], me, mm_cert_public_txt (server));
    mm_buf_t b = MM_BUF_INIT;
    uint64_t sent = 0;
    for (uint64_t i = 0; c && i < count; i++) {
        mm_heartbeat_t hb = {
            .ts = (uint64_t) zclock_time () * 1000000u,
            .sensor = mm_str (id->id),
            .org = mm_str (id->org),
            .uptime_s = i,
            .version = mm_str ("test"),
        };
        mm_error_t merr;
        mm_buf_clear (&b);
        if (mm_heartbeat_encode (&hb, &b, &merr) == -1)
            break;
        int64_t end = zclock_mono () + 5000;
        while (mm_curve_client_send (c, b.data, b.len) == -1 && zclock_mono () < end)
            zclock_sleep (5);
        sent++;
        if (i + 1 < count)
            zclock_sleep ((int) ivl);
    }
    zclock_sleep (200);  //  let the last one leave before the socket closes
    printf ("heartbeats %llu\n", (unsigned long long) sent);
    mm_buf_free (&b);
    mm_curve_client_destroy (&c);
    mm_cert_destroy (&me);
    mm_cert_destroy (&server);
    return sent == count ? 0 : 1;
}

int
main (int argc, char **argv)
{
    if (argc > 1 && strcmp (argv[1], "dump") == 0)
        return s_dump (argc, argv);
    if (argc > 1 && strcmp (argv[1], "heartbeat") == 0)
        return s_heartbeat (argc, argv);
    fprintf (stderr, "usage: ag_sim dump|heartbeat ... (see the source)\n");
    return 2;
}
