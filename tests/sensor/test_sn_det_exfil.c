/*  sn_det_exfil through the engine: one finding per (host, destination), medium for a sharp
    upload/download ratio alone, high (escalated in place) for uploads over the volume
    threshold within the sliding window, every byte of the flow records counted once
    (active-timeout reports included); allowlisted, inbound and internal traffic is not
    judged; state stays bounded. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>
#include <sys/resource.h>

#include "sn_detect.h"

#define S_NS ((uint64_t) 1000000000)
#define S_MIB ((uint64_t) 1048576)
#define S_MAX 256

typedef struct {
    size_t n, total;
    uint64_t seq;
    mm_event_t ev[S_MAX];
    char detector[S_MAX][32];
    char message[S_MAX][MM_TEXT_MAX];
} s_out_t;

static s_out_t out;
static sn_config_t cfg;
static uint64_t s_flow_id;

static uint64_t
s_emit (void *arg, mm_event_t *ev)
{
    s_out_t *o = arg;
    ev->seq = ++o->seq;
    if (ev->finding.id == 0)
        ev->finding.id = ev->seq;
    o->total++;
    if (o->n < S_MAX) {
        o->ev[o->n] = *ev;
        snprintf (o->detector[o->n], sizeof o->detector[0], "%.*s", (int) ev->finding.detector.len,
                  ev->finding.detector.ptr);
        snprintf (o->message[o->n], sizeof o->message[0], "%.*s", (int) ev->finding.message.len,
                  ev->finding.message.ptr);
        o->n++;
    }
    return ev->seq;
}

static void
s_setup (void)
{
    memset (&out, 0, sizeof out);
    s_flow_id = 0;
    char err[256];
    cr_assert_eq (sn_config_defaults (&cfg, err, sizeof err), 0, "%s", err);
    cfg.scan = cfg.brute = cfg.exposed = cfg.ioc = cfg.beacon = cfg.dnst = false;
    cfg.lateral = cfg.cleartext = false;
}

TestSuite (sn_det_exfil, .init = s_setup);

//  A flow record (or an active-timeout report) starting at `ts`, lasting `dur_s`.
static void
s_flow (sn_detect_t *d, const char *src, const char *dst, uint16_t dport, uint64_t ts,
        uint64_t dur_s, uint64_t up, uint64_t down)
{
    mm_event_t ev;
    memset (&ev, 0, sizeof ev);
    ev.kind = MM_KIND_FLOW;
    ev.ts = ts;
    ev.proto = 6;
    ev.src.len = ev.dst.len = 4;
    cr_assert_eq (inet_pton (AF_INET, src, ev.src.b), 1);
    cr_assert_eq (inet_pton (AF_INET, dst, ev.dst.b), 1);
    ev.has = MM_EV_HAS_PORTS | MM_EV_HAS_COUNTERS;
    ev.sport = 50000;
    ev.dport = dport;
    ev.flow_id = ++s_flow_id;
    ev.bytes_orig = up;
    ev.bytes_resp = down;
    ev.pkts_orig = up / 1400 + 1;
    ev.pkts_resp = down / 1400 + 1;
    ev.duration_us = dur_s * 1000000;
    sn_detect_event (d, &ev);
}

static size_t
s_count (const char *detector)
{
    size_t n = 0;
    uint64_t seen[S_MAX];
    for (size_t i = 0; i < out.n; i++) {
        if (strcmp (out.detector[i], detector) != 0)
            continue;
        bool dup = false;
        for (size_t k = 0; k < n; k++)
            dup = dup || seen[k] == out.ev[i].finding.id;
        if (!dup)
            seen[n++] = out.ev[i].finding.id;
    }
    return n;
}

static const mm_event_t *
s_newest (const char *detector)
{
    cr_assert_eq (s_count (detector), 1u, "%zu findings of %s", s_count (detector), detector);
    const mm_event_t *ev = NULL;
    for (size_t i = 0; i < out.n; i++)
        if (strcmp (out.detector[i], detector) == 0)
            ev = &out.ev[i];
    return ev;
}

Test (sn_det_exfil, uploads_over_the_volume_threshold_are_one_finding_escalated_to_high)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    uint64_t t0 = 1700000000ULL * S_NS;
    //  Six uploads of 100 MiB, five minutes apart: the first is a sharp ratio (100 MiB up, 1
    //  down), the fifth makes 500 MiB within the hour.
    for (int i = 0; i < 6; i++)
        s_flow (d, "192.168.1.30", "198.51.100.9", 443, t0 + (uint64_t) i * 300 * S_NS, 60,
                100 * S_MIB, S_MIB);
    cr_assert_eq (out.n, 2u, "raised medium, escalated at once, the sixth folded into it");
    cr_assert_eq (out.ev[0].severity, MM_SEV_MEDIUM);
    cr_assert_eq (out.ev[0].finding.evidence.bytes, 100 * S_MIB);
    cr_assert_eq (out.ev[1].severity, MM_SEV_HIGH);
    cr_assert_eq (out.ev[1].finding.revision, 1u);
    cr_assert_eq (out.ev[1].finding.evidence.bytes, 500 * S_MIB);
    cr_assert_eq (out.ev[1].finding.evidence.count, 5u);
    cr_assert_str_eq (out.message[1], "192.168.1.30 sent 512000 KiB to 198.51.100.9 (port 443) "
                                      "within 3600 s, 100.0 times what came back");
    sn_detect_flush (d);
    const mm_event_t *ev = s_newest ("exfil.upload");
    cr_assert_eq (ev->severity, MM_SEV_HIGH);
    cr_assert (sn_detect_is_immediate (ev->severity));
    cr_assert_eq (ev->finding.category, MM_CAT_EXFILTRATION);
    cr_assert_eq (ev->direction, MM_DIR_OUTBOUND);
    cr_assert_eq (ev->finding.evidence.bytes, 600 * S_MIB);
    cr_assert_eq (ev->finding.evidence.count, 6u);
    cr_assert_eq (ev->finding.evidence.window_s, 3600u);
    cr_assert_eq (ev->finding.evidence.first_ts, t0);
    cr_assert_eq (ev->finding.evidence.last_ts, t0 + 1560 * S_NS);
    sn_detect_destroy (&d);
}

Test (sn_det_exfil, active_timeout_reports_of_one_long_flow_add_up_once)
{
    cfg.exfil_bytes_mb = 300;
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    uint64_t t0 = 1700000000ULL * S_NS;
    //  One 50-minute upload reported every 1,800 s and at its end: 3 x 120 MiB.
    s_flow (d, "192.168.1.31", "203.0.113.40", 22, t0, 1800, 120 * S_MIB, 40 * S_MIB);
    s_flow (d, "192.168.1.31", "203.0.113.40", 22, t0 + 1800 * S_NS, 1800, 120 * S_MIB, 40 * S_MIB);
    cr_assert_eq (out.n, 0u, "240 MiB, ratio 3: not yet");
    s_flow (d, "192.168.1.31", "203.0.113.40", 22, t0 + 3600 * S_NS, 600, 120 * S_MIB, 40 * S_MIB);
    sn_detect_flush (d);
    const mm_event_t *ev = s_newest ("exfil.upload");
    cr_assert_eq (ev->severity, MM_SEV_HIGH);
    cr_assert_eq (ev->finding.evidence.bytes, 360 * S_MIB);
    cr_assert_eq (ev->dport, 0, "no port in the key");
    cr_assert (strstr (out.message[0], "(port 22)"), "%s", out.message[0]);
    sn_detect_destroy (&d);
}

Test (sn_det_exfil, the_window_slides_so_old_uploads_fall_out)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    uint64_t t0 = 1700000000ULL * S_NS;
    //  300 MiB, then 300 MiB 70 minutes later: never 500 within an hour (ratio: 300 MiB up,
    //  300 MiB down, nothing sharp).
    s_flow (d, "192.168.1.32", "203.0.113.41", 443, t0, 10, 300 * S_MIB, 300 * S_MIB);
    s_flow (d, "192.168.1.32", "203.0.113.41", 443, t0 + 4200 * S_NS, 10, 300 * S_MIB, 300 * S_MIB);
    cr_assert_eq (out.n, 0u, "%s", out.n ? out.message[0] : "");
    //  ...but 300 more 40 minutes after that makes 600 within the hour.
    s_flow (d, "192.168.1.32", "203.0.113.41", 443, t0 + 6600 * S_NS, 10, 300 * S_MIB, 300 * S_MIB);
    sn_detect_flush (d);
    const mm_event_t *ev = s_newest ("exfil.upload");
    cr_assert_eq (ev->severity, MM_SEV_HIGH);
    cr_assert_eq (ev->finding.evidence.bytes, 900 * S_MIB, "evidence: every byte seen");
    sn_detect_destroy (&d);
}

Test (sn_det_exfil, a_sharp_ratio_alone_is_medium)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    uint64_t t0 = 1700000000ULL * S_NS;
    s_flow (d, "192.168.1.33", "203.0.113.42", 443, t0, 30, 30 * S_MIB, S_MIB);
    cr_assert_eq (out.n, 0u, "30 MiB: below ratio_min_mb");
    s_flow (d, "192.168.1.33", "203.0.113.42", 443, t0 + 60 * S_NS, 30, 30 * S_MIB, S_MIB / 2);
    sn_detect_flush (d);
    const mm_event_t *ev = s_newest ("exfil.upload");
    cr_assert_eq (ev->severity, MM_SEV_MEDIUM);
    cr_assert_eq (ev->confidence, 40);
    cr_assert_eq (ev->finding.evidence.bytes, 60 * S_MIB);
    cr_assert_eq (ev->finding.evidence.count, 2u);
    cr_assert_str_eq (out.message[0], "192.168.1.33 sent 61440 KiB to 203.0.113.42 (port 443) "
                                      "within 3600 s, 40.0 times what came back");
    sn_detect_destroy (&d);
}

Test (sn_det_exfil, balanced_or_small_traffic_is_not_judged)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    uint64_t t0 = 1700000000ULL * S_NS;
    //  A video call: 400 MiB each way. A small upload with nothing back.
    s_flow (d, "192.168.1.34", "203.0.113.43", 3478, t0, 3000, 400 * S_MIB, 400 * S_MIB);
    s_flow (d, "192.168.1.34", "203.0.113.44", 443, t0, 10, 40 * S_MIB, 0);
    sn_detect_flush (d);
    cr_assert_eq (out.n, 0u, "%s", out.n ? out.message[0] : "");
    sn_detect_destroy (&d);
}

Test (sn_det_exfil, allowlisted_inbound_and_internal_transfers_are_not_judged)
{
    char err[256];
    cr_assert_eq (mm_netlist_parse (&cfg.exfil_allow, "198.51.100.0/24", err, sizeof err), 0);
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    uint64_t t0 = 1700000000ULL * S_NS;
    s_flow (d, "192.168.1.35", "198.51.100.77", 443, t0, 10, 900 * S_MIB, 0);  //  the backup
    s_flow (d, "203.0.113.45", "192.168.1.35", 443, t0, 10, 900 * S_MIB, 0);   //  inbound
    s_flow (d, "192.168.1.35", "192.168.1.36", 445, t0, 10, 900 * S_MIB, 0);   //  internal
    sn_detect_flush (d);
    cr_assert_eq (out.n, 0u, "%s", out.n ? out.message[0] : "");
    sn_detect_destroy (&d);
}

Test (sn_det_exfil, uploads_to_other_places_are_other_findings)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    uint64_t t0 = 1700000000ULL * S_NS;
    s_flow (d, "192.168.1.37", "203.0.113.50", 443, t0, 10, 600 * S_MIB, S_MIB);
    s_flow (d, "192.168.1.37", "203.0.113.51", 443, t0, 10, 600 * S_MIB, S_MIB);
    s_flow (d, "192.168.1.38", "203.0.113.50", 443, t0, 10, 600 * S_MIB, S_MIB);
    //  Split over ports, one place: one finding.
    s_flow (d, "192.168.1.39", "203.0.113.52", 443, t0, 10, 300 * S_MIB, S_MIB);
    s_flow (d, "192.168.1.39", "203.0.113.52", 8443, t0, 10, 300 * S_MIB, S_MIB);
    sn_detect_flush (d);
    cr_assert_eq (s_count ("exfil.upload"), 4u);
    cr_assert_eq (sn_detect_stats (d)->raised, 4u);
    //  Raised high at once, but the split one: medium on its ratio, then escalated.
    cr_assert_eq (sn_detect_stats (d)->by_severity[MM_SEV_HIGH], 3u);
    cr_assert_eq (sn_detect_stats (d)->by_severity[MM_SEV_MEDIUM], 1u);
    cr_assert_eq (out.n, 5u);
    cr_assert_eq (out.ev[4].severity, MM_SEV_HIGH);
    cr_assert_eq (out.ev[4].finding.revision, 1u);
    sn_detect_destroy (&d);
}

static long
s_maxrss_kb (void)
{
    struct rusage ru;
    cr_assert_eq (getrusage (RUSAGE_SELF, &ru), 0);
    return ru.ru_maxrss;
}

Test (sn_det_exfil, a_flood_of_destinations_costs_no_memory)
{
    cfg.exfil_max_tracked = 1024;
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    uint64_t t0 = 1700000000ULL * S_NS;
    char dst[32];
    for (uint32_t i = 0; i < 20000; i++) {
        snprintf (dst, sizeof dst, "100.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        s_flow (d, "192.168.1.40", dst, 443, t0 + i * 1000ULL, 1, 1000, 1000);
    }
    long before = s_maxrss_kb ();
    for (uint32_t i = 0; i < 200000; i++) {
        snprintf (dst, sizeof dst, "101.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        s_flow (d, "192.168.1.40", dst, 443, t0 + S_NS + i * 1000ULL, 1, 40 * S_MIB, 0);
    }
    long after = s_maxrss_kb ();
    cr_assert (after - before < 512, "grew by %ld KiB", after - before);
    sn_detect_flush (d);
    cr_assert_eq (out.total, 0u, "%s", out.n ? out.message[0] : "");
    sn_detect_destroy (&d);
}
