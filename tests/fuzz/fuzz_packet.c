/*  fuzz_packet: libFuzzer target for the sensor's whole packet path (sn_sensor: link, network
    and transport decoding, the flow table, in-order stream delivery, protocol detection and
    every application parser, every detector with its lowest thresholds, event building and
    JSON rendering).
    Input: byte 0 picks the link type; then frames, each a 2-byte big-endian length and that
    many bytes, all in one flow table so state carries across packets. Each frame is 1 ms
    after the previous one; at the end every flow is flushed. Every emitted event must encode
    to a valid message and render to one JSON line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_json.h"
#include "sn_sensor.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const int s_links[] = {1, 113, 276, 101, 228, 229, 0, 108, 9, 104, 12, 105};

static void
s_on_event (void *arg, const mm_event_t *ev)
{
    (void) arg;
    mm_buf_t buf = MM_BUF_INIT;
    mm_error_t err;
    //  Whatever the sensor produces from hostile traffic must be a valid message.
    if (mm_event_encode (ev, &buf, &err) == -1) {
        fprintf (stderr, "INVARIANT VIOLATED: the sensor built an invalid event: %s\n", err.reason);
        __builtin_trap ();
    }
    size_t wire = buf.len;
    if (mm_event_to_json (ev, &buf) == -1 || buf.data[buf.len - 1] != '\n' ||
        memchr (buf.data + wire, '\n', buf.len - wire - 1))
        __builtin_trap ();
    mm_buf_free (&buf);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static sn_config_t cfg;
    static bool ready;
    if (!ready) {
        char err[256];
        if (sn_config_defaults (&cfg, err, sizeof err) == -1)
            abort ();
        cfg.max_flows = 1024;  //  small, so eviction is exercised too
        //  Detectors with the lowest thresholds and the smallest state, so short inputs reach
        //  their findings, suppression, revisions and recycling.
        cfg.max_findings = 16;
        cfg.update_quiet = cfg.update_interval = 1;
        cfg.scan_ports = cfg.scan_hosts = 2;
        cfg.scan_max_tracked = cfg.brute_max_tracked = cfg.beacon_max_tracked = 16;
        cfg.dnst_max_tracked = cfg.exfil_max_tracked = 16;
        cfg.exposed_max_tracked = cfg.cleartext_max_tracked = 16;
        cfg.brute_ftp_failures = cfg.brute_ssh_attempts = cfg.brute_attempts = 1;
        cfg.beacon_min_connections = 3;
        cfg.dnst_unique_subdomains = cfg.dnst_txt_null = cfg.dnst_nxdomain = 2;
        cfg.dnst_name_len = 16;
        cfg.dnst_label_len = 8;
        cfg.exfil_bytes_mb = cfg.exfil_ratio_min_mb = 1;
        cfg.exfil_ratio = 2;
        ready = true;
    }
    if (size < 1)
        return 0;
    int link = s_links[data[0] % (sizeof s_links / sizeof s_links[0])];
    sn_sensor_t *sensor = sn_sensor_new (&cfg, s_on_event, NULL);
    if (!sensor)
        abort ();
    uint64_t ts = 1700000000000000000ULL;
    size_t off = 1;
    while (off + 2 <= size) {
        size_t len = (size_t) data[off] << 8 | data[off + 1];
        off += 2;
        if (len > size - off)
            len = size - off;
        //  A private copy, so ASan catches any read past the frame's end.
        uint8_t *frame = malloc (len ? len : 1);
        if (!frame)
            abort ();
        memcpy (frame, data + off, len);
        sn_sensor_packet (sensor, link, frame, (uint32_t) len, ts);
        free (frame);
        off += len;
        ts += 1000000;
    }
    sn_sensor_flush (sensor);
    sn_sensor_destroy (&sensor);
    return 0;
}
