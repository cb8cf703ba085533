/*  console_sim: a regional SOC console for tests (not installed). Owner: tests/aggregator/.
      console_sim ENDPOINT AGGREGATOR.cert CONSOLE.cert_secret SECONDS
    Connects to the aggregator's console endpoint, says hello every 500 ms (an ACK of the
    newest message's time) and prints every message it receives as one JSON line on stdout,
    flushed at once, for SECONDS (or until SIGTERM). A frame that is JSON text already (the
    statistics feed's rows, mimamori-stats serve) is printed as it is. Exit 0, or 2 for bad arguments. */
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_ack.h"
#include "mm_cert.h"
#include "mm_curve.h"
#include "mm_incident.h"
#include "mm_json.h"
#include "mm_warning.h"

//  The `ts` of a message (header key 2), 0 if it has none.
static uint64_t
s_ts (const uint8_t *data, size_t len)
{
    mm_msg_type_t type;
    mm_error_t err;
    if (mm_msg_peek (data, len, &type, &err) == -1)
        return 0;
    if (type == MM_MSG_WARNING) {
        mm_warning_t w;
        return mm_warning_decode (&w, data, len, &err) == 0 ? w.ts : 0;
    }
    if (type == MM_MSG_INCIDENT) {
        mm_incident_t inc;
        return mm_incident_decode (&inc, data, len, &err) == 0 ? inc.ts : 0;
    }
    return 0;
}

int
main (int argc, char **argv)
{
    long seconds = argc == 5 ? strtol (argv[4], NULL, 10) : 0;
    if (seconds <= 0) {
        fprintf (stderr,
                 "usage: console_sim ENDPOINT AGGREGATOR.cert CONSOLE.cert_secret SECONDS\n");
        return 2;
    }
    zsys_init ();
    char err[512];
    mm_cert_t *server = mm_cert_load (argv[2], err, sizeof err);
    mm_cert_t *me = mm_cert_load (argv[3], err, sizeof err);
    if (!server || !me) {
        fprintf (stderr, "console_sim: %s\n", err);
        return 2;
    }
    mm_curve_client_t *client = mm_curve_client_new (argv[1], me, mm_cert_public_txt (server));
    if (!client)
        return 2;
    zsock_set_rcvtimeo (mm_curve_client_sock (client), 100);
    int64_t end = zclock_mono () + (int64_t) seconds * 1000, next_hello = 0;
    uint64_t newest = 0;
    mm_buf_t out = MM_BUF_INIT, hello = MM_BUF_INIT;
    while (zclock_mono () < end && !zsys_interrupted) {
        if (zclock_mono () >= next_hello) {
            mm_ack_t ack = {.ts = (uint64_t) zclock_time () * 1000000u,
                            .sensor = mm_str (mm_cert_identity (me)->id),
                            .seq = newest};
            mm_error_t e;
            mm_buf_clear (&hello);
            if (mm_ack_encode (&ack, &hello, &e) == 0)
                mm_curve_client_send (client, hello.data, hello.len);  //  tried again soon
            next_hello = zclock_mono () + 500;
        }
        zframe_t *f = mm_curve_client_recv (client);
        if (!f)
            continue;
        mm_error_t e;
        mm_buf_clear (&out);
        if (mm_msg_to_json (zframe_data (f), zframe_size (f), &out, &e) == 0)
            fwrite (out.data, 1, out.len, stdout);
        else if (zframe_size (f) > 0 && zframe_data (f)[0] == '{') {
            fwrite (zframe_data (f), 1, zframe_size (f), stdout);
            fputc ('\n', stdout);
        }
        fflush (stdout);
        uint64_t ts = s_ts (zframe_data (f), zframe_size (f));
        if (ts > newest)
            newest = ts;
        zframe_destroy (&f);
    }
    mm_buf_free (&out);
    mm_buf_free (&hello);
    mm_curve_client_destroy (&client);
    mm_cert_destroy (&server);
    mm_cert_destroy (&me);
    return 0;
}
