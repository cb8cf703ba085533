/*  ag_sim_sensor: a simulated sensor over the real uplink (sensor/sn_uplink: spool,
    retransmission, heartbeats) for fault_mesh.sh (test tool, not installed). Owner:
    tests/aggregator/. Unlike bk_sim_sensor, which sends over a bare mm_curve client, it keeps a
    spool, so it survives a broker killed with -9 and can itself be killed and restarted.

      ag_sim_sensor ENDPOINT BROKER.cert SENSOR.cert_secret SPOOL COUNT RATE HB_MS ACK_MS
                    TIMEOUT_S [stay]

    Publishes events COUNT in all, RATE a second (0: as fast as it can), and waits until the
    broker has acknowledged all of them. Event k is a finding of detector "sim.seq" whose
    message is "event k", published with seq k: on a restart on the same SPOOL it continues
    with the seq the spool hands out next (everything below it was published before), so
    event k always carries seq k whatever was killed when. HB_MS and ACK_MS are the uplink's
    heartbeat interval and ACK timeout.

    Prints on stdout: "start K" (the first event this run publishes; COUNT + 1 if none is
    left), "acked COUNT" once everything is acknowledged (or "acked N of COUNT (timeout|
    interrupted)"), and a last line "stats ..." of the uplink's counters. Exit 0: everything
    acknowledged within TIMEOUT_S (counted from the start of this run); 1: not; 2: bad
    arguments or setup. With "stay" it does not exit when done: it goes on heartbeating (so
    its broker does not see it fall silent) until SIGTERM or SIGINT, then exits 0 if done. */
#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_uplink.h"

#define S_DETECTOR "sim.seq"
#define S_PUBLISH_BURST 256  //  events published between two polls when behind the rate
#define S_POLL_MAX_MS 5      //  longest wait in a poll while events are due or unacknowledged
#define S_STAY_POLL_MS 50

//  Signal handlers can only reach a global.
static volatile sig_atomic_t s_interrupted;

static void
s_on_signal (int sig)
{
    (void) sig;
    s_interrupted = 1;
}

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

//  Publishes event `k`, which must be the seq the spool hands out next. 0 or -1 (said why).
static int
s_publish (sn_uplink_t *up, mm_event_t *ev, uint64_t k, uint64_t wall_ns)
{
    char msg[64];
    snprintf (msg, sizeof msg, "event %" PRIu64, k);
    memset (ev, 0, sizeof *ev);
    ev->ts = wall_ns;
    ev->kind = MM_KIND_FINDING;
    ev->severity = MM_SEV_INFO;
    ev->confidence = 100;
    ev->has = MM_EV_HAS_FINDING;
    ev->finding.detector = mm_str (S_DETECTOR);
    ev->finding.detector_version = 1;
    ev->finding.category = MM_CAT_POLICY;
    ev->finding.message = mm_str (msg);
    if (sn_uplink_publish (up, ev) == -1) {
        fprintf (stderr, "ag_sim_sensor: event %" PRIu64 " not published: %s\n", k,
                 strerror (errno));
        return -1;
    }
    //  The uplink numbers events itself; if it ever put something else (a spool-overflow
    //  report) in between, event k would not carry seq k and the test could not say so.
    if (ev->seq != k) {
        fprintf (stderr, "ag_sim_sensor: event %" PRIu64 " got seq %" PRIu64 "\n", k, ev->seq);
        return -1;
    }
    return 0;
}

int
main (int argc, char **argv)
{
    uint64_t count, rate, hb_ms, ack_ms, timeout_s;
    bool stay = argc == 11 && strcmp (argv[10], "stay") == 0;
    if ((argc != 10 && !stay) || s_u64 (argv[5], &count) == -1 || s_u64 (argv[6], &rate) == -1 ||
        s_u64 (argv[7], &hb_ms) == -1 || s_u64 (argv[8], &ack_ms) == -1 ||
        s_u64 (argv[9], &timeout_s) == -1 || count == 0 || rate > 10000000 || hb_ms == 0 ||
        hb_ms > 3600000 || ack_ms == 0 || ack_ms > 600000 || timeout_s > 86400) {
        fprintf (stderr, "usage: ag_sim_sensor ENDPOINT BROKER.cert SENSOR.cert_secret SPOOL "
                         "COUNT RATE HB_MS ACK_MS TIMEOUT_S [stay] (see the source)\n");
        return 2;
    }
    //  Log lines to stderr: stdout carries the results. Our own signal handlers: CZMQ's
    //  first socket would otherwise install its own.
    zsys_set_logstream (stderr);
    zsys_handler_set (NULL);
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);

    sn_uplink_config_t cfg = {
        .endpoint = argv[1],
        .broker_cert = argv[2],
        .cert = argv[3],
        .spool_dir = argv[4],
        .heartbeat_ms = (uint32_t) hb_ms,
        .ack_timeout_ms = (uint32_t) ack_ms,
        .version = "ag_sim_sensor",
    };
    sn_uplink_t *up = sn_uplink_new (&cfg);
    mm_event_t *ev = malloc (sizeof *ev);
    if (!up || !ev) {
        fprintf (stderr, "ag_sim_sensor: cannot start the uplink (see above)\n");
        sn_uplink_destroy (&up);
        free (ev);
        return 2;
    }
    //  Everything below the spool's next seq was published by an earlier run.
    uint64_t first = sn_spool_next_seq (sn_uplink_spool (up));
    if (first > count + 1) {
        fprintf (stderr,
                 "ag_sim_sensor: the spool is at seq %" PRIu64 ", beyond COUNT %" PRIu64 "\n",
                 first, count);
        sn_uplink_destroy (&up);
        free (ev);
        return 2;
    }
    printf ("start %" PRIu64 "\n", first);
    fflush (stdout);

    int64_t t0 = zclock_mono ();
    int64_t deadline = t0 + (int64_t) timeout_s * 1000;
    uint64_t next = first;
    sn_uplink_stats_t st;
    sn_uplink_stats (up, &st);
    int rc = 1;
    bool done = false;
    while (!s_interrupted) {
        int64_t now = zclock_mono ();
        //  Event k is due (k - first) / rate seconds after the start of this run.
        for (int burst = 0; next <= count && burst < S_PUBLISH_BURST; burst++) {
            int64_t due = rate ? t0 + (int64_t) ((next - first) * 1000 / rate) : now;
            if (due > now)
                break;
            if (s_publish (up, ev, next, (uint64_t) zclock_time () * 1000000u) == -1)
                goto end;
            next++;
        }
        sn_uplink_health_t health = {
            .uptime_s = (uint64_t) (now - t0) / 1000,
            .events = next - first,
        };
        int wait = S_POLL_MAX_MS;
        if (next <= count && rate) {
            int64_t due = t0 + (int64_t) ((next - first) * 1000 / rate);
            wait = due <= now ? 0 : due - now < S_POLL_MAX_MS ? (int) (due - now) : S_POLL_MAX_MS;
        }
        else if (next <= count)
            wait = 0;
        else if (done)
            wait = S_STAY_POLL_MS;
        if (sn_uplink_poll (up, 0, wait, &health) == -1) {
            fprintf (stderr, "ag_sim_sensor: spool I/O error\n");
            goto end;
        }
        sn_uplink_stats (up, &st);
        if (!done && next > count && st.acked_seq >= count) {
            done = true;
            printf ("acked %" PRIu64 "\n", count);
            fflush (stdout);
            if (!stay)
                break;
        }
        if (!done && zclock_mono () >= deadline) {
            printf ("acked %" PRIu64 " of %" PRIu64 " (timeout)\n", st.acked_seq, count);
            goto end;
        }
    }
    if (done)
        rc = 0;
    else
        printf ("acked %" PRIu64 " of %" PRIu64 " (interrupted)\n", st.acked_seq, count);
end:
    sn_uplink_stats (up, &st);
    printf ("stats published %" PRIu64 " sent %" PRIu64 " resent %" PRIu64 " timeouts %" PRIu64
            " acks %" PRIu64 " acks_bad %" PRIu64 " heartbeats %" PRIu64
            " heartbeats_failed %" PRIu64 " send_again %" PRIu64 " publish_failed %" PRIu64 "\n",
            st.published, st.sent, st.resent, st.timeouts, st.acks, st.acks_bad, st.heartbeats,
            st.heartbeats_failed, st.send_again, st.publish_failed);
    sn_uplink_destroy (&up);
    free (ev);
    return rc;
}
