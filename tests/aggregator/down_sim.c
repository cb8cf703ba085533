/*  down_sim: test tool for down_mesh.sh (not installed). Owner: tests/aggregator/.
      down_sim put INBOX NAME watchlist|warning ORG|- SENSOR|- SERIAL
          writes one encoded WATCHLIST (serial SERIAL, one entry "evil-SERIAL.example") or
          WARNING (id w-SERIAL) for ORG ('-': none) and SENSOR ('-': every sensor of the org)
          into the aggregator's inbox as NAME.msg (written aside, then renamed: the aggregator
          never sees half a file)
      down_sim listen ENDPOINT BROKER.cert SENSOR.cert_secret SPOOL_DIR SECONDS
          runs a sensor uplink (heartbeats every 200 ms, no events) for SECONDS and prints each
          message the broker delivers, one a line: "watchlist SERIAL ORG" or "warning ID ORG",
          flushed at once (" revoked" after a revoked warning); exit 0 */
#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_sample.h"
#include "mm_warning.h"
#include "mm_watchlist.h"
#include "sn_uplink.h"

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

static const char *
s_opt (const char *arg)
{
    return strcmp (arg, "-") == 0 ? NULL : arg;
}

static int
s_put (int argc, char **argv)
{
    uint64_t serial;
    if (argc != 8 || s_u64 (argv[7], &serial) == -1)
        return 2;
    const char *org = s_opt (argv[5]), *sensor = s_opt (argv[6]);
    uint64_t now = (uint64_t) zclock_time () * 1000000u;
    char value[64], wid[32];
    snprintf (value, sizeof value, "evil-%llu.example", (unsigned long long) serial);
    snprintf (wid, sizeof wid, "w-%llu", (unsigned long long) serial);
    mm_buf_t b = MM_BUF_INIT;
    mm_error_t err;
    int rc;
    if (strcmp (argv[4], "watchlist") == 0) {
        static mm_watchlist_t wl;  //  large
        memset (&wl, 0, sizeof wl);
        wl.ts = now;
        wl.org = mm_str (org);
        wl.sensor = mm_str (sensor);
        wl.serial = serial;
        wl.n_entries = 1;
        wl.entries[0] = (mm_wl_entry_t){.op = MM_WL_ADD,
                                        .type = MM_IOC_DOMAIN,
                                        .value = mm_str (value),
                                        .category = MM_CAT_C2_BEACON,
                                        .severity = MM_SEV_HIGH,
                                        .feed = mm_str ("lateral")};
        rc = mm_watchlist_encode (&wl, &b, &err);
    }
    else if (strcmp (argv[4], "warning") == 0) {
        mm_warning_t w;
        mm_sample_warning (&w);
        w.ts = now;
        w.org = mm_str (org);
        w.sensor = mm_str (sensor);
        w.id = mm_str (wid);
        rc = mm_warning_encode (&w, &b, &err);
    }
    else
        return 2;
    if (rc == -1) {
        fprintf (stderr, "down_sim: encode: %s\n", err.reason);
        return 1;
    }
    char tmp[1024], path[1024];
    snprintf (tmp, sizeof tmp, "%s/.%s.tmp", argv[2], argv[3]);
    snprintf (path, sizeof path, "%s/%s.msg", argv[2], argv[3]);
    FILE *f = fopen (tmp, "wb");
    if (!f || fwrite (b.data, 1, b.len, f) != b.len || fclose (f) != 0 || rename (tmp, path)) {
        fprintf (stderr, "down_sim: %s: %s\n", path, strerror (errno));
        return 1;
    }
    mm_buf_free (&b);
    return 0;
}

static int
s_on_watchlist (void *arg, const mm_watchlist_t *wl)
{
    (void) arg;
    printf ("watchlist %llu %.*s\n", (unsigned long long) wl->serial, (int) wl->org.len,
            wl->org.ptr);
    fflush (stdout);
    return 0;
}

static void
s_on_warning (void *arg, const mm_warning_t *w)
{
    (void) arg;
    printf ("warning %.*s %.*s%s\n", (int) w->id.len, w->id.ptr, (int) w->org.len, w->org.ptr,
            w->status == MM_WSTATUS_REVOKED ? " revoked" : "");
    fflush (stdout);
}

static int
s_listen (int argc, char **argv)
{
    uint64_t seconds;
    if (argc != 7 || s_u64 (argv[6], &seconds) == -1)
        return 2;
    sn_uplink_config_t cfg = {
        .endpoint = argv[2],
        .broker_cert = argv[3],
        .cert = argv[4],
        .spool_dir = argv[5],
        .heartbeat_ms = 200,
        .version = "down_sim",
        .on_watchlist = s_on_watchlist,
        .on_warning = s_on_warning,
    };
    sn_uplink_t *up = sn_uplink_new (&cfg);
    if (!up)
        return 1;
    int64_t end = zclock_mono () + (int64_t) seconds * 1000;
    while (zclock_mono () < end && !zsys_interrupted)
        sn_uplink_poll (up, 0, 50, NULL);
    sn_uplink_destroy (&up);
    return 0;
}

int
main (int argc, char **argv)
{
    zsys_set_logstream (stderr);
    if (argc > 1 && strcmp (argv[1], "put") == 0)
        return s_put (argc, argv);
    if (argc > 1 && strcmp (argv[1], "listen") == 0)
        return s_listen (argc, argv);
    fprintf (stderr, "usage: down_sim put|listen ... (see the source)\n");
    return 2;
}
