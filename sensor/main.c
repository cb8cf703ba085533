/*  mimamori-sensor: watches a company's network traffic and reports what it sees.
    main() only reads the configuration and flags, opens the capture and drives the packet path
    (sn_sensor); events go out as JSON Lines (later issues add publishing to the broker). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mm_json.h"
#include "sn_capture.h"
#include "sn_config.h"
#include "sn_sensor.h"

#ifndef MIMAMORI_VERSION
#define MIMAMORI_VERSION "0.0.0"
#endif

//  The only global state: signal handlers can only reach a global.
static volatile sig_atomic_t s_interrupted;
static volatile sig_atomic_t s_reload;  //  SIGHUP: re-read indicator feeds

static void
s_on_signal (int sig)
{
    if (sig == SIGHUP)
        s_reload = 1;
    else
        s_interrupted = 1;
}

typedef struct {
    FILE *out;
    mm_buf_t line;
    uint64_t write_errors;
} s_output_t;

static void
s_on_event (void *arg, const mm_event_t *ev)
{
    s_output_t *o = arg;
    if (!o->out)
        return;
    mm_buf_clear (&o->line);
    if (mm_event_to_json (ev, &o->line) == -1 ||
        fwrite (o->line.data, 1, o->line.len, o->out) != o->line.len)
        o->write_errors++;
}

static void
s_usage (FILE *out)
{
    fprintf (
        out,
        "usage: mimamori-sensor [options] -r FILE [FILE...]   analyse capture files\n"
        "       mimamori-sensor [options] -i IFACE              capture live\n"
        "\n"
        "  -r, --read FILE        read a pcap or pcapng file (repeatable; more files may follow)\n"
        "  -i, --interface IFACE  capture live on IFACE (needs CAP_NET_RAW, not root)\n"
        "  -f, --filter EXPR      BPF filter, tcpdump syntax\n"
        "  -s, --snaplen N        bytes captured per packet (live)\n"
        "      --no-promisc       do not put the interface in promiscuous mode\n"
        "      --buffer-mb N      kernel capture buffer in MiB (live)\n"
        "      --realtime         replay files at their own pace\n"
        "      --speed X          with --realtime: X times faster (e.g. 10)\n"
        "      --jsonl FILE       write events as JSON Lines to FILE ('-': stdout)\n"
        "      --home-net CIDRS   the company's networks, e.g. '10.0.0.0/8,192.168.1.0/24'\n"
        "      --sensor-id ID     this sensor's id\n"
        "      --org-id ID        the company's id\n"
        "      --no-flows         no flow records, only protocol records\n"
        "      --stats-interval S live capture: a summary with capture drops every S seconds\n"
        "                         on stderr (default 300; 0: only at the end)\n"
        "  -c, --config FILE      settings file (INI); flags override it\n"
        "      --print-config     print every setting with its default and exit\n"
        "  -q, --quiet            no summary on stderr at the end\n"
        "  -V, --version          print the version and exit\n"
        "  -h, --help             this help\n");
}

enum {
    O_NO_PROMISC = 256,
    O_BUFFER_MB,
    O_REALTIME,
    O_SPEED,
    O_JSONL,
    O_HOME_NET,
    O_SENSOR_ID,
    O_ORG_ID,
    O_NO_FLOWS,
    O_PRINT_CONFIG,
    O_STATS_INTERVAL,
};

static const struct option s_options[] = {
    {"read", required_argument, NULL, 'r'},
    {"interface", required_argument, NULL, 'i'},
    {"filter", required_argument, NULL, 'f'},
    {"snaplen", required_argument, NULL, 's'},
    {"no-promisc", no_argument, NULL, O_NO_PROMISC},
    {"buffer-mb", required_argument, NULL, O_BUFFER_MB},
    {"realtime", no_argument, NULL, O_REALTIME},
    {"speed", required_argument, NULL, O_SPEED},
    {"jsonl", required_argument, NULL, O_JSONL},
    {"home-net", required_argument, NULL, O_HOME_NET},
    {"sensor-id", required_argument, NULL, O_SENSOR_ID},
    {"org-id", required_argument, NULL, O_ORG_ID},
    {"no-flows", no_argument, NULL, O_NO_FLOWS},
    {"config", required_argument, NULL, 'c'},
    {"print-config", no_argument, NULL, O_PRINT_CONFIG},
    {"stats-interval", required_argument, NULL, O_STATS_INTERVAL},
    {"quiet", no_argument, NULL, 'q'},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static uint64_t
s_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

//  --realtime: wait until this frame's moment, scaled by the speed factor.
typedef struct {
    bool on;
    double speed;
    bool started;
    uint64_t first_ts, first_wall;
} s_pacer_t;

static void
s_pace (s_pacer_t *p, uint64_t ts)
{
    if (!p->on)
        return;
    if (!p->started) {
        p->started = true;
        p->first_ts = ts;
        p->first_wall = s_now_ns ();
        return;
    }
    if (ts <= p->first_ts)
        return;
    uint64_t due = p->first_wall + (uint64_t) ((double) (ts - p->first_ts) / p->speed);
    for (;;) {
        uint64_t now = s_now_ns ();
        if (now >= due || s_interrupted)
            return;
        uint64_t wait = due - now;
        struct timespec req = {(time_t) (wait / 1000000000u), (long) (wait % 1000000000u)};
        nanosleep (&req, NULL);
    }
}

static void
s_summary (const sn_sensor_t *sensor, const sn_capture_stats_t *cap, uint64_t write_errors)
{
    const sn_decode_stats_t *d = sn_sensor_decode_stats (sensor);
    const sn_flow_stats_t *f = sn_sensor_flow_stats (sensor);
    const sn_sensor_stats_t *s = sn_sensor_stats (sensor);
    fprintf (
        stderr,
        "mimamori-sensor: packets %llu (ipv4 %llu, ipv6 %llu, tcp %llu, udp %llu, icmp %llu,"
        " tunnels %llu); flows %llu (evicted %llu, stream gaps %llu); events %llu (flow %llu,"
        " dns %llu, tls %llu, http %llu, ssh %llu, smb %llu); parser errors %llu",
        (unsigned long long) d->packets, (unsigned long long) d->ipv4, (unsigned long long) d->ipv6,
        (unsigned long long) d->tcp, (unsigned long long) d->udp, (unsigned long long) d->icmp,
        (unsigned long long) d->tunnels, (unsigned long long) f->created,
        (unsigned long long) f->evicted, (unsigned long long) f->stream_gaps,
        (unsigned long long) s->events, (unsigned long long) s->events_by_kind[MM_KIND_FLOW],
        (unsigned long long) s->events_by_kind[MM_KIND_DNS],
        (unsigned long long) s->events_by_kind[MM_KIND_TLS],
        (unsigned long long) s->events_by_kind[MM_KIND_HTTP],
        (unsigned long long) s->events_by_kind[MM_KIND_SSH],
        (unsigned long long) s->events_by_kind[MM_KIND_SMB], (unsigned long long) s->parser_errors);
    fprintf (stderr,
             "; dns not parsed: malformed %llu, split over TCP segments %llu; parsers refused %llu",
             (unsigned long long) s->dns_malformed, (unsigned long long) s->dns_tcp_split,
             (unsigned long long) s->parsers_refused);
    sn_detect_t *det = sn_sensor_detect (sensor);
    if (det) {
        const sn_detect_stats_t *ds = sn_detect_stats (det);
        fprintf (
            stderr,
            "; findings %llu (critical %llu, high %llu, medium %llu, low %llu, info %llu;"
            " revisions %llu, folded %llu, forgotten early %llu)",
            (unsigned long long) ds->raised, (unsigned long long) ds->by_severity[MM_SEV_CRITICAL],
            (unsigned long long) ds->by_severity[MM_SEV_HIGH],
            (unsigned long long) ds->by_severity[MM_SEV_MEDIUM],
            (unsigned long long) ds->by_severity[MM_SEV_LOW],
            (unsigned long long) ds->by_severity[MM_SEV_INFO], (unsigned long long) ds->updates,
            (unsigned long long) ds->suppressed, (unsigned long long) ds->recycled);
    }
    fprintf (stderr, "; dropped:");
    for (int r = 0; r < SN_DROP_COUNT_; r++)
        fprintf (stderr, " %s %llu", sn_drop_name ((sn_drop_t) r),
                 (unsigned long long) d->drops[r]);
    if (cap)
        fprintf (stderr, "; capture drops %llu (interface %llu)", (unsigned long long) cap->dropped,
                 (unsigned long long) cap->if_dropped);
    if (write_errors)
        fprintf (stderr, "; output write errors %llu", (unsigned long long) write_errors);
    fprintf (stderr, "\n");
}

//  Runs one capture to its end (file) or until interrupted (live). A live capture prints a
//  summary with the kernel's drop counts every `stats_s` seconds (0: never), so a sensor that
//  runs for weeks shows its health in the journal. 0, or -1 on a read error.
static int
s_run_capture (sn_capture_t *cap, const char *name, sn_sensor_t *sensor, s_pacer_t *pacer,
               uint64_t stats_s, const uint64_t *write_errors)
{
    uint64_t next_stats = s_now_ns () + stats_s * 1000000000u, packets = 0;
    int link = sn_capture_link (cap);
    if (!sn_decode_link_supported (link))
        fprintf (stderr,
                 "mimamori-sensor: %s: link type %s is not decoded; its packets are "
                 "counted as unsupported_link\n",
                 name, sn_capture_link_name (cap));
    char err[512];
    sn_frame_t frame;
    int rc;
    while (!s_interrupted && (rc = sn_capture_next (cap, &frame, err, sizeof err)) >= 0) {
        if (s_reload) {
            s_reload = 0;
            sn_detect_t *detect = sn_sensor_detect (sensor);
            if (detect)
                sn_detect_reload (detect);
        }
        if (rc == 0) {  //  live read timeout: let idle flows end
            struct timespec ts;
            clock_gettime (CLOCK_REALTIME, &ts);
            sn_sensor_tick (sensor, (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec);
        }
        else {
            s_pace (pacer, frame.ts_ns);
            sn_sensor_packet (sensor, link, frame.data, frame.caplen, frame.ts_ns);
        }
        //  The clock is read on idle timeouts and once per 1,024 packets, not per packet.
        if (stats_s && (rc == 0 || (++packets & 0x3ff) == 0) && s_now_ns () >= next_stats) {
            sn_capture_stats_t cs;
            if (sn_capture_stats (cap, &cs) == 0)
                s_summary (sensor, &cs, *write_errors);
            next_stats = s_now_ns () + stats_s * 1000000000u;
        }
    }
    if (!s_interrupted && err[0]) {
        //  A truncated or corrupt file: keep what was read, say so, go on with the next one.
        fprintf (stderr, "mimamori-sensor: %s: %s (packets before this point were analysed)\n",
                 name, err);
        return -1;
    }
    return 0;
}

int
main (int argc, char **argv)
{
    sn_config_t cfg;
    char err[512];
    if (sn_config_defaults (&cfg, err, sizeof err) == -1) {
        fprintf (stderr, "mimamori-sensor: %s\n", err);
        return 1;
    }
    const char **files = calloc ((size_t) argc, sizeof *files);
    if (!files)
        return 1;
    size_t n_files = 0;
    //  Two passes over the flags: the config file first (wherever -c appears, in any of its
    //  forms), then every other flag over it.
    opterr = 0;
    int opt;
    while ((opt = getopt_long (argc, argv, "r:i:f:s:c:qVh", s_options, NULL)) != -1)
        if (opt == 'c' && mm_config_load (sn_config_table, sn_config_table_len, &cfg, optarg, err,
                                          sizeof err) == -1) {
            fprintf (stderr, "mimamori-sensor: %s\n", err);
            free (files);
            return 2;
        }
    optind = 0;  //  glibc: start a fresh scan
    opterr = 1;
    s_pacer_t pacer = {.speed = 1.0};
    bool quiet = false;
    uint64_t stats_s = 300;
    while ((opt = getopt_long (argc, argv, "r:i:f:s:c:qVh", s_options, NULL)) != -1) {
        const char *section = NULL, *key = NULL, *value = optarg;
        switch (opt) {
        case 'r': files[n_files++] = optarg; break;
        case 'i': section = "capture", key = "interface"; break;
        case 'f': section = "capture", key = "filter"; break;
        case 's': section = "capture", key = "snaplen"; break;
        case O_NO_PROMISC: section = "capture", key = "promiscuous", value = "false"; break;
        case O_BUFFER_MB: section = "capture", key = "buffer_mb"; break;
        case O_REALTIME: pacer.on = true; break;
        case O_SPEED: {
            char *end;
            errno = 0;
            pacer.speed = strtod (optarg, &end);
            if (errno || end == optarg || *end || !(pacer.speed > 0) || pacer.speed > 1e6) {
                fprintf (stderr, "mimamori-sensor: --speed '%s' is not a factor > 0\n", optarg);
                free (files);
                return 2;
            }
            break;
        }
        case O_JSONL: section = "output", key = "jsonl"; break;
        case O_HOME_NET: section = "sensor", key = "home_net"; break;
        case O_SENSOR_ID: section = "sensor", key = "id"; break;
        case O_ORG_ID: section = "sensor", key = "org"; break;
        case O_NO_FLOWS: section = "output", key = "flows", value = "false"; break;
        case O_STATS_INTERVAL: {
            char *end;
            errno = 0;
            unsigned long long v = strtoull (optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-' || v > 86400) {
                fprintf (stderr, "mimamori-sensor: --stats-interval '%s' is not 0..86400\n",
                         optarg);
                free (files);
                return 2;
            }
            stats_s = v;
            break;
        }
        case 'c': break;  //  loaded above
        case O_PRINT_CONFIG:
            mm_config_print (sn_config_table, sn_config_table_len, stdout);
            free (files);
            return 0;
        case 'q': quiet = true; break;
        case 'V':
            printf ("mimamori-sensor %s\n", MIMAMORI_VERSION);
            free (files);
            return 0;
        case 'h':
            s_usage (stdout);
            free (files);
            return 0;
        default:
            s_usage (stderr);
            free (files);
            return 2;
        }
        if (section && mm_config_set (sn_config_table, sn_config_table_len, &cfg, section, key,
                                      value, err, sizeof err) == -1) {
            fprintf (stderr, "mimamori-sensor: %s\n", err);
            free (files);
            return 2;
        }
    }
    //  Files may also follow the options: mimamori-sensor --jsonl - -r a.pcap b.pcap
    while (n_files && optind < argc)
        files[n_files++] = argv[optind++];
    if (optind < argc || (n_files == 0) == (cfg.interface[0] == 0)) {
        fprintf (stderr, "mimamori-sensor: give capture files (-r) or an interface (-i), not both"
                         "\n");
        s_usage (stderr);
        free (files);
        return 2;
    }

    s_output_t output = {NULL, MM_BUF_INIT, 0};
    if (cfg.jsonl[0]) {
        output.out = strcmp (cfg.jsonl, "-") == 0 ? stdout : fopen (cfg.jsonl, "w");
        if (!output.out) {
            fprintf (stderr, "mimamori-sensor: %s: %s\n", cfg.jsonl, strerror (errno));
            free (files);
            return 1;
        }
        //  Events are small and many: write them in large blocks.
        setvbuf (output.out, NULL, _IOFBF, 1 << 20);
    }
    sn_sensor_t *sensor = sn_sensor_new (&cfg, s_on_event, &output);
    if (!sensor) {
        fprintf (stderr, "mimamori-sensor: cannot allocate %llu flows\n",
                 (unsigned long long) cfg.max_flows);
        free (files);
        return 1;
    }
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
    sa.sa_flags = SA_RESTART;  //  a reload request must not cut a capture read short
    sigaction (SIGHUP, &sa, NULL);

    int status = 0;
    sn_capture_stats_t cstats = {0};
    bool live = n_files == 0;
    if (live) {
        sn_capture_t *cap =
            sn_capture_open_live (cfg.interface, cfg.filter, (int) cfg.snaplen, cfg.promiscuous,
                                  (int) cfg.buffer_mb, err, sizeof err);
        if (!cap) {
            fprintf (stderr, "mimamori-sensor: %s\n", err);
            status = 1;
        }
        else {
            if (s_run_capture (cap, cfg.interface, sensor, &pacer, quiet ? 0 : stats_s,
                               &output.write_errors) == -1)
                status = 1;
            sn_capture_stats (cap, &cstats);
            sn_capture_destroy (&cap);
        }
    }
    for (size_t i = 0; i < n_files && !s_interrupted; i++) {
        //  Each file is paced from its own start: captures made years apart must not wait
        //  for the gap between them.
        pacer.started = false;
        sn_capture_t *cap = sn_capture_open_file (files[i], cfg.filter, err, sizeof err);
        if (!cap) {
            fprintf (stderr, "mimamori-sensor: %s\n", err);
            status = 1;
            continue;
        }
        if (s_run_capture (cap, files[i], sensor, &pacer, 0, &output.write_errors) == -1)
            status = 1;
        sn_capture_destroy (&cap);
    }
    sn_sensor_flush (sensor);
    if (output.out && fflush (output.out) != 0)
        output.write_errors++;
    if (!quiet)
        s_summary (sensor, live ? &cstats : NULL, output.write_errors);
    if (output.out && output.out != stdout)
        fclose (output.out);
    sn_sensor_destroy (&sensor);
    mm_buf_free (&output.line);
    free (files);
    return output.write_errors ? 1 : status;
}
