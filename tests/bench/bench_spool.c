/*  bench_spool: the sensor's spool on this machine's disk. Appends of 200-byte events under
    each fsync policy (always is run for a bounded time: one fdatasync per event), acks per
    second (one event per ack, then 100), retransmission reads, recovery at open (every record
    checked), and the checksum's speed. Usage: bench_spool [N events] [parent directory]
    (default 500000, $TMPDIR or /tmp); the spool directory is removed at the end. Prints
    Markdown for docs/performance.md. Owner: sensor. */
#define _GNU_SOURCE  //  mkdtemp
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sn_spool.h"

#define S_EVENT 200
#define S_ALWAYS_SECONDS 3.0

static char s_dir[512];

static double
s_wall (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
s_clear (void)
{
    DIR *d = opendir (s_dir);
    if (!d)
        return;
    struct dirent *e;
    char path[sizeof s_dir + 256 + 1];
    while ((e = readdir (d)))
        if (strcmp (e->d_name, ".") && strcmp (e->d_name, "..")) {
            snprintf (path, sizeof path, "%s/%s", s_dir, e->d_name);
            unlink (path);
        }
    closedir (d);
}

static sn_spool_t *
s_open (sn_spool_sync_t sync)
{
    sn_spool_opts_t o = {.sync = sync};
    sn_spool_t *sp = sn_spool_new (s_dir, &o);
    if (!sp) {
        fprintf (stderr, "bench_spool: cannot open %s: %s\n", s_dir, strerror (errno));
        exit (1);
    }
    return sp;
}

//  Appends up to n events (or for at most `seconds`); returns how many. *worst (if given):
//  the slowest append, each one timed.
static uint64_t
s_fill (sn_spool_t *sp, uint64_t n, double seconds, double *elapsed, double *worst)
{
    uint8_t ev[S_EVENT];
    for (size_t i = 0; i < sizeof ev; i++)
        ev[i] = (uint8_t) (i * 37 + 11);
    double t0 = s_wall ();
    uint64_t i = 0;
    for (; i < n; i++) {
        uint64_t seq = sn_spool_next_seq (sp);
        memcpy (ev, &seq, 8);
        double a = worst ? s_wall () : 0;
        if (sn_spool_append (sp, seq, ev, sizeof ev) != 0) {
            fprintf (stderr, "bench_spool: append: %s\n", strerror (errno));
            exit (1);
        }
        if (worst && s_wall () - a > *worst)
            *worst = s_wall () - a;
        if (seconds > 0 && (i & 63) == 0 && s_wall () - t0 > seconds)
            break;
    }
    *elapsed = s_wall () - t0;
    return i;
}

static void
s_policy (sn_spool_sync_t sync, uint64_t n)
{
    s_clear ();
    sn_spool_t *sp = s_open (sync);
    double secs;
    uint64_t done =
        s_fill (sp, n, sync == SN_SPOOL_SYNC_ALWAYS ? S_ALWAYS_SECONDS : 0, &secs, NULL);
    sn_spool_stats_t st;
    sn_spool_stats (sp, &st);
    printf ("| %s | %lu | %.3f | %.0f | %.1f | %.2f | %lu |\n", sn_spool_sync_name (sync),
            (unsigned long) done, secs, (double) done / secs,
            (double) done * (S_EVENT + 16) / secs / 1e6, secs / (double) done * 1e6,
            (unsigned long) st.fsyncs);
    sn_spool_destroy (&sp);
}

int
main (int argc, char **argv)
{
    uint64_t n = 500000;
    if (argc > 1) {
        char *end;
        errno = 0;
        n = strtoull (argv[1], &end, 10);
        if (errno || *end || n < 1000) {
            fprintf (stderr, "usage: bench_spool [N events >= 1000] [parent directory]\n");
            return 2;
        }
    }
    const char *parent = argc > 2 ? argv[2] : getenv ("TMPDIR");
    snprintf (s_dir, sizeof s_dir, "%s/bench-spool-XXXXXX", parent ? parent : "/tmp");
    if (!mkdtemp (s_dir)) {
        fprintf (stderr, "bench_spool: mkdtemp %s: %s\n", s_dir, strerror (errno));
        return 1;
    }

    printf ("## Spool: %lu events of %d bytes in %s (segments 4 MiB, bound 256 MiB)\n\n",
            (unsigned long) n, S_EVENT, s_dir);
    printf ("| policy | events | s | appends/s | MB/s | us/append | fsyncs |\n");
    printf ("|---|---|---|---|---|---|---|\n");
    s_policy (SN_SPOOL_SYNC_NEVER, n);
    s_policy (SN_SPOOL_SYNC_INTERVAL, n);
    s_policy (SN_SPOOL_SYNC_ALWAYS, n);

    //  Acks, reads and recovery on a spool of n events.
    s_clear ();
    sn_spool_t *sp = s_open (SN_SPOOL_SYNC_INTERVAL);
    double secs;
    double worst = 0;
    s_fill (sp, n, 0, &secs, &worst);
    sn_spool_destroy (&sp);

    double t0 = s_wall ();
    sp = s_open (SN_SPOOL_SYNC_INTERVAL);
    double open_s = s_wall () - t0;
    sn_spool_stats_t st;
    sn_spool_stats (sp, &st);

    t0 = s_wall ();
    uint64_t seq, got = 0;
    const uint8_t *data;
    size_t len;
    sn_spool_seek (sp, 0);
    while (sn_spool_next (sp, &seq, &data, &len) == 1)
        got++;
    double read_s = s_wall () - t0;

    //  Acks: each timed, so those that delete a segment (unlink, directory fsync) show apart.
    uint64_t half = n / 2, acks100 = 0, slow = 0;
    double ack1_s = 0, ack100_s = 0, slow_s = 0;
    for (uint64_t s = 1; s <= n; s += s <= half ? 1 : 100) {
        double a = s_wall ();
        if (sn_spool_ack (sp, s) != 0) {
            fprintf (stderr, "bench_spool: ack: %s\n", strerror (errno));
            return 1;
        }
        double d = s_wall () - a;
        if (d > 100e-6) {
            slow++;
            slow_s += d;
        }
        else if (s <= half)
            ack1_s += d;
        else {
            ack100_s += d;
            acks100++;
        }
    }
    sn_spool_stats_t after;
    sn_spool_stats (sp, &after);
    sn_spool_destroy (&sp);

    printf ("\n| operation | figure |\n|---|---|\n");
    printf ("| slowest append, policy interval (its fdatasync or a segment change) | %.2f ms |\n",
            worst * 1e3);
    printf ("| recovery at open (%lu events, %.1f MB, every record checked) | %.3f s, %.0f "
            "MB/s |\n",
            (unsigned long) st.depth, (double) st.disk_bytes / 1e6, open_s,
            (double) st.disk_bytes / 1e6 / open_s);
    printf ("| retransmission reads (seek 0, next to the end) | %.0f events/s |\n",
            (double) got / read_s);
    printf ("| acks, one event each (not deleting a segment) | %.0f acks/s |\n",
            (double) (half - slow) / ack1_s);
    printf ("| acks, 100 events each (not deleting a segment) | %.0f acks/s |\n",
            (double) acks100 / ack100_s);
    printf ("| acks slower than 100 us (%lu deleted a segment: unlink, directory fsync) | %lu, "
            "%.2f ms each |\n",
            (unsigned long) (st.segments - after.segments), (unsigned long) slow,
            slow ? slow_s / (double) slow * 1e3 : 0.0);

    static uint8_t big[1 << 20];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t) (i * 131);
    uint32_t c = 0;
    t0 = s_wall ();
    for (int i = 0; i < 256; i++)
        c ^= sn_spool_crc32c (c, big, sizeof big);
    double hw = s_wall () - t0;
    t0 = s_wall ();
    for (int i = 0; i < 16; i++)
        c ^= sn_spool_crc32c_sw (c, big, sizeof big);
    double sw = s_wall () - t0;
    printf ("| crc32c, dispatched (SSE4.2 here) | %.0f MB/s |\n", 256 * 1.048576 / hw);
    printf ("| crc32c, table | %.0f MB/s (check %08x) |\n", 16 * 1.048576 / sw, c);

    s_clear ();
    rmdir (s_dir);
    return 0;
}
