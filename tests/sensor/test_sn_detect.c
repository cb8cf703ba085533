/*  sn_detect: the engine's rules, with every detector module switched off so only the
    findings raised here go through: suppression to one finding per (detector, source, target,
    subject), revisions carrying the newest evidence, escalation, ids, the severity policy. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "sn_detect.h"

#define S_NS 1000000000ULL
#define S_MAX 64

typedef struct {
    size_t n;
    uint64_t seq;
    mm_event_t ev[S_MAX];
    char detector[S_MAX][32];
} s_out_t;

static s_out_t out;
static sn_config_t cfg;

static uint64_t
s_emit (void *arg, mm_event_t *ev)
{
    s_out_t *o = arg;
    ev->seq = ++o->seq;
    if (ev->finding.id == 0)
        ev->finding.id = ev->seq;
    if (o->n < S_MAX) {
        o->ev[o->n] = *ev;
        snprintf (o->detector[o->n], sizeof o->detector[0], "%.*s", (int) ev->finding.detector.len,
                  ev->finding.detector.ptr);
        o->n++;
    }
    return ev->seq;
}

static void
s_setup (void)
{
    memset (&out, 0, sizeof out);
    char err[256];
    cr_assert_eq (sn_config_defaults (&cfg, err, sizeof err), 0, "%s", err);
    //  Only the engine: the modules would react to nothing here anyway, but keep it pure.
    cfg.scan = cfg.brute = cfg.exposed = cfg.ioc = cfg.beacon = cfg.dnst = cfg.lateral = false;
    cfg.exfil = cfg.cleartext = false;
}

TestSuite (sn_detect, .init = s_setup);

static const sn_det_info_t s_info = {"test.scan", 3,  MM_CAT_SCAN,
                                     MM_SEV_LOW,  60, {"T1046", "T1595.001"}};

static sn_alert_t
s_alert (const char *src, const char *dst, uint64_t ts, uint32_t ports)
{
    sn_alert_t a;
    memset (&a, 0, sizeof a);
    a.info = &s_info;
    a.ts = ts;
    a.proto = 6;
    a.src.len = a.dst.len = 4;
    inet_pton (AF_INET, src, a.src.b);
    inet_pton (AF_INET, dst, a.dst.b);
    a.evidence.distinct_ports = ports;
    a.evidence.count = ports;
    a.evidence.window_s = 60;
    snprintf (a.message, sizeof a.message, "%s probed %u ports on %s", src, ports, dst);
    return a;
}

Test (sn_detect, first_detection_raises_at_once_with_defaults)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    cr_assert_not_null (d);
    sn_alert_t a = s_alert ("203.0.113.9", "192.168.1.5", 100 * S_NS, 15);
    sn_detect_raise (d, &a);
    cr_assert_eq (out.n, 1u);
    const mm_event_t *ev = &out.ev[0];
    cr_assert_eq (ev->kind, MM_KIND_FINDING);
    cr_assert_eq (ev->severity, MM_SEV_LOW);
    cr_assert_eq (ev->confidence, 60);
    cr_assert_eq (ev->direction, MM_DIR_INBOUND);
    cr_assert_eq (ev->ts, 100 * S_NS);
    cr_assert_str_eq (out.detector[0], "test.scan");
    cr_assert_eq (ev->finding.id, ev->seq);
    cr_assert_eq (ev->finding.revision, 0u);
    cr_assert_eq (ev->finding.detector_version, 3);
    cr_assert_eq (ev->finding.category, MM_CAT_SCAN);
    cr_assert_eq (ev->finding.n_attack, 2u);
    cr_assert_eq (ev->finding.evidence.distinct_ports, 15u);
    cr_assert_eq (ev->finding.evidence.first_ts, 100 * S_NS);
    cr_assert (ev->finding.has & MM_FINDING_HAS_EVIDENCE);
    cr_assert_not (ev->finding.has & MM_FINDING_HAS_IOC);
    cr_assert_eq (sn_detect_stats (d)->raised, 1u);
    cr_assert_eq (sn_detect_stats (d)->by_severity[MM_SEV_LOW], 1u);
    sn_detect_destroy (&d);
    cr_assert_null (d);
}

Test (sn_detect, a_thousand_port_scan_is_one_finding_revised_to_a_thousand)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    for (uint32_t p = 15; p <= 1000; p++) {
        sn_alert_t a = s_alert ("203.0.113.9", "192.168.1.5", 100 * S_NS + p * 1000000ULL, p);
        sn_detect_raise (d, &a);
    }
    //  Raised once at once; the growing evidence waits for a quiet moment.
    cr_assert_eq (out.n, 1u);
    cr_assert_eq (sn_detect_stats (d)->suppressed, 985u);
    sn_detect_tick (d, 102 * S_NS);  //  detections stopped ~1 s ago: not quiet yet
    cr_assert_eq (out.n, 1u);
    sn_detect_tick (d, 102 * S_NS + cfg.update_quiet * S_NS);
    cr_assert_eq (out.n, 2u);
    const mm_finding_t *f = &out.ev[1].finding;
    cr_assert_eq (f->id, out.ev[0].finding.id);
    cr_assert_eq (f->revision, 1u);
    cr_assert_eq (f->evidence.distinct_ports, 1000u);
    cr_assert_eq (f->evidence.first_ts, 100 * S_NS + 15 * 1000000ULL);
    cr_assert_eq (f->evidence.last_ts, 100 * S_NS + 1000 * 1000000ULL);
    //  Nothing new: no further revision, even when the finding closes.
    sn_detect_tick (d, 200 * S_NS);
    sn_detect_flush (d);
    cr_assert_eq (out.n, 2u);
    sn_detect_destroy (&d);
}

Test (sn_detect, other_targets_or_subjects_are_other_findings)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    sn_alert_t a = s_alert ("203.0.113.9", "192.168.1.5", S_NS, 15);
    sn_detect_raise (d, &a);
    a = s_alert ("203.0.113.9", "192.168.1.6", S_NS, 15);
    sn_detect_raise (d, &a);
    a.subject = 42;
    sn_detect_raise (d, &a);
    a.has_dport = true;
    a.dport = 3389;
    sn_detect_raise (d, &a);
    cr_assert_eq (out.n, 4u);
    for (size_t i = 1; i < 4; i++)
        cr_assert_neq (out.ev[i].finding.id, out.ev[i - 1].finding.id);
    cr_assert_eq (out.ev[3].dport, 3389);
    cr_assert (out.ev[3].has & MM_EV_HAS_DPORT);
    sn_detect_destroy (&d);
}

Test (sn_detect, escalation_goes_out_at_once_and_never_goes_back)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    sn_alert_t a = s_alert ("192.168.1.7", "192.168.1.5", S_NS, 15);
    sn_detect_raise (d, &a);
    cr_assert_eq (out.ev[0].direction, MM_DIR_INTERNAL);
    a.severity = MM_SEV_HIGH;
    a.ts = 2 * S_NS;
    sn_detect_raise (d, &a);
    cr_assert_eq (out.n, 2u);
    cr_assert_eq (out.ev[1].severity, MM_SEV_HIGH);
    cr_assert_eq (out.ev[1].finding.revision, 1u);
    a.severity = MM_SEV_LOW;  //  a later, milder detection does not lower it
    a.ts = 3 * S_NS;
    a.evidence.distinct_ports = 20;
    sn_detect_raise (d, &a);
    sn_detect_flush (d);
    cr_assert_eq (out.n, 3u);
    cr_assert_eq (out.ev[2].severity, MM_SEV_HIGH);
    cr_assert_eq (out.ev[2].finding.revision, 2u);
    cr_assert_eq (out.ev[2].finding.evidence.distinct_ports, 20u);
    sn_detect_destroy (&d);
}

Test (sn_detect, a_long_detection_is_revised_every_update_interval)
{
    cfg.update_interval = 600;
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    //  A detection every 10 s for an hour: never quiet, so revisions come from the interval.
    for (uint64_t t = 0; t <= 3600; t += 10) {
        sn_alert_t a = s_alert ("198.51.100.1", "192.168.1.5", (1000 + t) * S_NS, 15);
        a.evidence.count = t / 10 + 1;
        sn_detect_raise (d, &a);
        sn_detect_tick (d, (1000 + t) * S_NS);
    }
    cr_assert_eq (out.n, 1u + 6u, "%zu events", out.n);
    for (size_t i = 1; i < out.n; i++) {
        cr_assert_eq (out.ev[i].finding.revision, i);
        cr_assert_gt (out.ev[i].finding.evidence.count, out.ev[i - 1].finding.evidence.count);
    }
    sn_detect_destroy (&d);
}

Test (sn_detect, after_the_suppression_window_a_new_finding_is_raised)
{
    cfg.suppress_window = 3600;
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    sn_alert_t a = s_alert ("203.0.113.9", "192.168.1.5", S_NS, 15);
    sn_detect_raise (d, &a);
    sn_detect_tick (d, 3602 * S_NS);
    a.ts = 3603 * S_NS;
    sn_detect_raise (d, &a);
    cr_assert_eq (out.n, 2u);
    cr_assert_neq (out.ev[1].finding.id, out.ev[0].finding.id);
    cr_assert_eq (out.ev[1].finding.revision, 0u);
    sn_detect_destroy (&d);
}

Test (sn_detect, open_findings_are_bounded_and_the_recycled_one_is_reported)
{
    cfg.max_findings = 16;
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    char dst[32];
    for (int i = 0; i < 17; i++) {
        snprintf (dst, sizeof dst, "192.168.2.%d", i + 1);
        sn_alert_t a = s_alert ("203.0.113.9", dst, S_NS + (unsigned long long) i, 15);
        sn_detect_raise (d, &a);
        if (i == 0) {  //  the first one grows, so forgetting it must send its revision
            a.evidence.distinct_ports = 99;
            sn_detect_raise (d, &a);
        }
    }
    cr_assert_eq (sn_detect_stats (d)->recycled, 1u);
    cr_assert_eq (out.n, 18u);
    size_t last = out.n - 1;
    bool revised = false;
    for (size_t i = 0; i <= last; i++)
        if (out.ev[i].finding.revision == 1 && out.ev[i].finding.evidence.distinct_ports == 99)
            revised = true;
    cr_assert (revised);
    sn_detect_destroy (&d);
}

Test (sn_detect, indicator_and_message_are_copied_and_cleaned)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    sn_alert_t a = s_alert ("192.168.1.5", "198.51.100.7", S_NS, 0);
    char value[64] = "evil.example", feed[16] = "feed-a";
    a.ioc_type = MM_IOC_DOMAIN;
    a.ioc_value = value;
    a.ioc_feed = feed;
    snprintf (a.message, sizeof a.message, "line one\nline two");
    sn_detect_raise (d, &a);
    memset (value, 'x', sizeof value - 1);  //  the caller's buffers may change right after
    const mm_finding_t *f = &out.ev[0].finding;
    cr_assert (f->has & MM_FINDING_HAS_IOC);
    cr_assert_eq (f->ioc.type, MM_IOC_DOMAIN);
    cr_assert_eq (f->ioc.value.len, 12u);
    cr_assert_eq (out.ev[0].direction, MM_DIR_OUTBOUND);
    cr_assert_null (memchr (f->message.ptr, '\n', f->message.len));
    sn_detect_destroy (&d);
}

Test (sn_detect, severity_policy)
{
    cr_assert (sn_detect_is_immediate (MM_SEV_HIGH));
    cr_assert (sn_detect_is_immediate (MM_SEV_CRITICAL));
    cr_assert_not (sn_detect_is_immediate (MM_SEV_MEDIUM));
    cr_assert_not (sn_detect_is_immediate (MM_SEV_INFO));
}

Test (sn_detect, registered_domains)
{
    char out_name[256];
    const struct {
        const char *in, *want;
    } cases[] = {
        {"a.b.Example.COM", "example.com"},
        {"www.example.co.jp", "example.co.jp"},
        {"example.co.jp.", "example.co.jp"},
        {"x.y.z.example.ne.jp", "example.ne.jp"},
        {"com", "com"},
        {"example.com", "example.com"},
        {"deep.sub.example.org", "example.org"},
        {"foo.bar.com.au", "bar.com.au"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sn_detect_registered_domain (cases[i].in, strlen (cases[i].in), out_name, sizeof out_name);
        cr_assert_str_eq (out_name, cases[i].want, "%s", cases[i].in);
    }
}

//  The defence blocks a finding's offender, and only when it is outside: the scanner (AUTO:
//  the source), the called C2 server (DST), never a DNS resolver (NONE) nor an inside host.
Test (sn_detect, the_defence_blocks_the_outside_offender_only)
{
    cfg.block = true;
    snprintf (cfg.block_nft, sizeof cfg.block_nft, "true");  //  an nft that accepts anything
    cfg.block_min_severity = MM_SEV_HIGH;
    const struct {
        const char *src, *dst;
        uint8_t offender;
        const char *blocked;  //  NULL: nothing
    } cases[] = {
        {"203.0.113.9", "192.168.1.5", SN_OFFENDER_AUTO, "203.0.113.9"},
        {"192.168.1.5", "203.0.113.10", SN_OFFENDER_AUTO, NULL},
        {"192.168.1.5", "203.0.113.11", SN_OFFENDER_DST, "203.0.113.11"},
        {"192.168.1.5", "203.0.113.12", SN_OFFENDER_NONE, NULL},
        {"192.168.1.5", "192.168.1.6", SN_OFFENDER_DST, NULL},
        {"203.0.113.13", "192.168.1.5", SN_OFFENDER_DST, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset (&out, 0, sizeof out);
        sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
        cr_assert_not_null (d);
        sn_alert_t a = s_alert (cases[i].src, cases[i].dst, S_NS, 15);
        a.severity = MM_SEV_CRITICAL;
        a.offender = cases[i].offender;
        sn_detect_raise (d, &a);
        size_t blocks = 0;
        char who[64] = "";
        for (size_t k = 0; k < out.n; k++)
            if (strcmp (out.detector[k], "defence.block") == 0) {
                blocks++;
                cr_assert_eq (out.ev[k].finding.action, MM_ACTION_BLOCK);
                sn_detect_addr_str (&out.ev[k].src, who, sizeof who);
            }
        if (cases[i].blocked) {
            cr_assert_eq (blocks, 1u, "case %zu", i);
            cr_assert_str_eq (who, cases[i].blocked, "case %zu", i);
        }
        else
            cr_assert_eq (blocks, 0u, "case %zu blocked %s", i, who);
        sn_detect_destroy (&d);
    }
}

//  One future-dated packet (a bad timestamp, or a clock set back afterwards) must not stop the
//  engine's ticks for the rest of the capture: an ARP sweep still needs them to be judged.
Test (sn_detect, a_future_timestamp_does_not_stop_the_clock)
{
    cfg.scan = true;
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    sn_det_arp_t arp = {.op = 1, .sender_ip = {.len = 4, .b = {192, 168, 1, 247}}};
    arp.target_ip.len = 4;
    memcpy (arp.target_ip.b, "\xc0\xa8\x01\x01", 4);
    arp.ts = 4000000000ULL * S_NS;  //  year 2096
    sn_detect_arp (d, &arp);
    for (uint8_t i = 2; i < 60; i++) {
        arp.target_ip.b[3] = i;
        arp.ts = 1700000000ULL * S_NS + (uint64_t) i * 100000000ULL;
        sn_detect_arp (d, &arp);
    }
    size_t sweeps = 0;
    for (size_t k = 0; k < out.n; k++)
        sweeps += strcmp (out.detector[k], "scan.arp_sweep") == 0;
    cr_assert_geq (sweeps, 1u, "the sweep was judged as time went on");
    sn_detect_destroy (&d);
}
