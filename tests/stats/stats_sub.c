/*  stats_sub: a subscriber of the statistics feed for tests (not installed). Owner: tests/stats.
      stats_sub ENDPOINT SERVER.cert SUBSCRIBER.cert_secret SECONDS
    Connects to mimamori-stats serve, says hello every 500 ms (an mm_ack) and prints every
    frame it receives as one line on stdout, flushed at once, for SECONDS. Exit 0, or 2 for bad
    arguments. */
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>

#include "mm_ack.h"
#include "mm_cert.h"
#include "mm_curve.h"

int
main (int argc, char **argv)
{
    long seconds = argc == 5 ? strtol (argv[4], NULL, 10) : 0;
    if (seconds <= 0) {
        fprintf (stderr, "usage: stats_sub ENDPOINT SERVER.cert SUBSCRIBER.cert_secret SECONDS\n");
        return 2;
    }
    zsys_init ();
    char err[512];
    mm_cert_t *server = mm_cert_load (argv[2], err, sizeof err);
    mm_cert_t *me = mm_cert_load (argv[3], err, sizeof err);
    if (!server || !me) {
        fprintf (stderr, "stats_sub: %s\n", err);
        return 2;
    }
    mm_curve_client_t *client = mm_curve_client_new (argv[1], me, mm_cert_public_txt (server));
    if (!client)
        return 2;
    zsock_set_rcvtimeo (mm_curve_client_sock (client), 100);
    int64_t end = zclock_mono () + (int64_t) seconds * 1000, next_hello = 0;
    mm_buf_t hello = MM_BUF_INIT;
    while (zclock_mono () < end && !zsys_interrupted) {
        if (zclock_mono () >= next_hello) {
            next_hello = zclock_mono () + 500;
            mm_ack_t ack = {.ts = (uint64_t) zclock_time () * 1000000u, .sensor = mm_str ("sub")};
            mm_error_t e;
            mm_buf_clear (&hello);
            if (mm_ack_encode (&ack, &hello, &e) == 0)
                mm_curve_client_send (client, hello.data, hello.len);
        }
        zframe_t *f = mm_curve_client_recv (client);
        if (!f)
            continue;
        fwrite (zframe_data (f), 1, zframe_size (f), stdout);
        fputc ('\n', stdout);
        fflush (stdout);
        zframe_destroy (&f);
    }
    mm_buf_free (&hello);
    mm_curve_client_destroy (&client);
    mm_cert_destroy (&me);
    mm_cert_destroy (&server);
    return 0;
}
