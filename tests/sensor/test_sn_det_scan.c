/*  sn_det_scan: synthetic probes through real flows (sn_flow_table) and the detector engine:
    vertical scans, host sweeps, ICMP and ARP sweeps, what counts as a failed probe (refusal,
    unreachable, no answer within a tick) and what does not (open ports, answered hosts, UDP
    replies, traceroute, multicast), suppression into one finding per scan, and bounded state
    under a flood of sources. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "sn_det_scan.h"
#include "sn_detect.h"
#include "sn_flow.h"

#define S_SEC 1000000000ull
#define S_MS 1000000ull
#define T0 (1700000000ull * S_SEC)

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10
#define F_URG 0x20

//  ---------------------------------------------------------------------------------------------
//  What the engine emitted: copies, as the event is only valid during the call.

#define S_MAX 4096

typedef struct {
    char detector[32];
    char category[8];
    uint8_t cat;
    uint64_t id;
    uint32_t revision;
    uint8_t severity, confidence;
    mm_addr_t src, dst;
    mm_evidence_t ev;
    char message[512];
    char attack[32];
} s_rec_t;

static s_rec_t recs[S_MAX];
static size_t n_recs;
static uint64_t seq;

static uint64_t
s_emit (void *arg, mm_event_t *ev)
{
    (void) arg;
    ev->seq = ++seq;
    if (ev->finding.id == 0)
        ev->finding.id = ev->seq;
    if (n_recs < S_MAX) {
        s_rec_t *r = &recs[n_recs++];
        memset (r, 0, sizeof *r);
        snprintf (r->detector, sizeof r->detector, "%.*s", (int) ev->finding.detector.len,
                  ev->finding.detector.ptr);
        r->cat = ev->finding.category;
        r->id = ev->finding.id;
        r->revision = ev->finding.revision;
        r->severity = ev->severity;
        r->confidence = ev->confidence;
        r->src = ev->src;
        r->dst = ev->dst;
        r->ev = ev->finding.evidence;
        snprintf (r->message, sizeof r->message, "%.*s", (int) ev->finding.message.len,
                  ev->finding.message.ptr);
        if (ev->finding.n_attack)
            snprintf (r->attack, sizeof r->attack, "%.*s", (int) ev->finding.attack[0].len,
                      ev->finding.attack[0].ptr);
    }
    return ev->seq;
}

//  Distinct findings of `detector` (optionally from `src`, to `dst`; dst "" = no target).
static size_t
s_findings (const char *detector, const char *src, const char *dst)
{
    uint64_t ids[S_MAX];
    size_t n = 0;
    for (size_t i = 0; i < n_recs; i++) {
        const s_rec_t *r = &recs[i];
        if (strcmp (r->detector, detector) != 0)
            continue;
        char buf[64];
        if (src && strcmp (sn_detect_addr_str (&r->src, buf, sizeof buf), src) != 0)
            continue;
        if (dst) {
            if (dst[0] == 0 ? r->dst.len != 0
                            : strcmp (sn_detect_addr_str (&r->dst, buf, sizeof buf), dst) != 0)
                continue;
        }
        bool seen = false;
        for (size_t j = 0; j < n; j++)
            seen |= ids[j] == r->id;
        if (!seen)
            ids[n++] = r->id;
    }
    return n;
}

//  The newest revision of the first finding of `detector`.
static const s_rec_t *
s_newest (const char *detector)
{
    const s_rec_t *best = NULL;
    for (size_t i = 0; i < n_recs; i++)
        if (strcmp (recs[i].detector, detector) == 0 &&
            (!best || (recs[i].id == best->id && recs[i].revision >= best->revision)))
            best = &recs[i];
    return best;
}

//  ---------------------------------------------------------------------------------------------
//  The engine and a flow table, fed with packets.

static sn_config_t cfg;
static sn_detect_t *engine;
static sn_flow_table_t *flows;

static void
s_start (void)
{
    n_recs = 0;
    seq = 0;
    engine = sn_detect_new (&cfg, s_emit, NULL);
    cr_assert (engine);
    sn_flow_config_t fc;
    sn_flow_config_defaults (&fc);
    flows = sn_flow_table_new (&fc, NULL, NULL);
    cr_assert (flows);
}

static void
s_setup (void)
{
    char err[256];
    cr_assert_eq (sn_config_defaults (&cfg, err, sizeof err), 0, "%s", err);
    s_start ();
}

static void
s_teardown (void)
{
    sn_detect_destroy (&engine);
    sn_flow_table_destroy (&flows);
}

static mm_addr_t
s_ip (const char *text)
{
    mm_addr_t a = {0};
    if (inet_pton (AF_INET, text, a.b) == 1)
        a.len = 4;
    else if (inet_pton (AF_INET6, text, a.b) == 1)
        a.len = 16;
    return a;
}

static mm_addr_t
s_ipn (const char *prefix, unsigned n)
{
    char buf[64];
    snprintf (buf, sizeof buf, "%s%u", prefix, n);
    return s_ip (buf);
}

static void
s_feed (sn_pkt_t *pkt, uint64_t ts)
{
    int dir;
    sn_flow_t *f = sn_flow_update (flows, pkt, ts, &dir);
    sn_detect_packet (engine, pkt, f, dir, ts);
}

static void
s_tcp (mm_addr_t src, uint16_t sport, mm_addr_t dst, uint16_t dport, uint8_t flags, uint64_t ts)
{
    sn_pkt_t p;
    memset (&p, 0, sizeof p);
    p.ip_version = src.len == 4 ? 4 : 6;
    p.proto = 6;
    p.src = src;
    p.dst = dst;
    p.sport = sport;
    p.dport = dport;
    p.has_ports = true;
    p.tcp_flags = flags;
    p.ip_len = 40;
    s_feed (&p, ts);
}

static void
s_udp (mm_addr_t src, uint16_t sport, mm_addr_t dst, uint16_t dport, uint64_t ts)
{
    static const uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    sn_pkt_t p;
    memset (&p, 0, sizeof p);
    p.ip_version = 4;
    p.proto = 17;
    p.src = src;
    p.dst = dst;
    p.sport = sport;
    p.dport = dport;
    p.has_ports = true;
    p.ip_len = 36;
    p.payload = data;
    p.payload_len = p.payload_wire_len = 8;
    s_feed (&p, ts);
}

static void
s_icmp (mm_addr_t src, mm_addr_t dst, uint8_t type, uint8_t code, const uint8_t *payload,
        uint32_t len, uint64_t ts)
{
    sn_pkt_t p;
    memset (&p, 0, sizeof p);
    p.ip_version = 4;
    p.proto = 1;
    p.src = src;
    p.dst = dst;
    p.sport = type;
    p.dport = code;
    p.has_ports = true;
    p.ip_len = 28 + len;
    p.payload = payload;
    p.payload_len = p.payload_wire_len = len;
    s_feed (&p, ts);
}

//  ICMP unreachable from `from` to `prober` about its packet to `target` (proto, dport).
static void
s_unreachable (mm_addr_t from, mm_addr_t prober, mm_addr_t target, uint8_t proto, uint16_t sport,
               uint16_t dport, uint8_t code, uint64_t ts)
{
    uint8_t q[4 + 20 + 8] = {0};
    uint8_t *ip = q + 4, *t = ip + 20;
    ip[0] = 0x45;
    ip[9] = proto;
    memcpy (ip + 12, prober.b, 4);
    memcpy (ip + 16, target.b, 4);
    if (proto == 1) {
        t[0] = 8;  //  echo request
    }
    else {
        t[0] = (uint8_t) (sport >> 8), t[1] = (uint8_t) sport;
        t[2] = (uint8_t) (dport >> 8), t[3] = (uint8_t) dport;
    }
    s_icmp (from, prober, 3, code, q, sizeof q, ts);
}

static void
s_arp (const char *sender, const char *target, uint16_t op, uint64_t ts)
{
    sn_det_arp_t a;
    memset (&a, 0, sizeof a);
    a.op = op;
    a.sender_ip = s_ip (sender);
    a.target_ip = s_ip (target);
    a.ts = ts;
    sn_detect_arp (engine, &a);
}

static void
s_ticks (uint64_t from, unsigned seconds)
{
    for (unsigned i = 1; i <= seconds; i++)
        sn_detect_tick (engine, from + i * S_SEC);
}

TestSuite (sn_det_scan, .init = s_setup, .fini = s_teardown);

//  ---------------------------------------------------------------------------------------------
//  Vertical scans

//  The example: 1,000 ports refused in a second are ONE finding whose newest revision
//  says 1,000 ports, from the scanner to its target, low severity (nothing answered).
Test (sn_det_scan, thousand_port_scan_is_one_finding)
{
    mm_addr_t scanner = s_ip ("192.0.2.9"), target = s_ip ("10.0.0.5");
    uint64_t ts = T0;
    for (uint16_t port = 1; port <= 1000; port++) {
        s_tcp (scanner, 40000, target, port, F_SYN, ts);
        s_tcp (target, port, scanner, 40000, F_RST | F_ACK, ts + 100000);
        ts += S_MS;
    }
    sn_detect_flush (engine);
    cr_assert_eq (s_findings ("scan.port", "192.0.2.9", "10.0.0.5"), 1);
    cr_assert_eq (s_findings ("scan.port", NULL, NULL), 1);
    cr_assert_eq (s_findings ("scan.sweep", NULL, NULL), 0, "one target is no sweep");
    const s_rec_t *r = s_newest ("scan.port");
    cr_assert (r->revision >= 1);
    cr_assert_eq (r->ev.count, 1000);
    //  distinct counts are exact to 16, then estimated (+-3 % here), never above the probes
    cr_assert (r->ev.distinct_ports >= 970 && r->ev.distinct_ports <= 1000, "%u",
               r->ev.distinct_ports);
    cr_assert_eq (r->ev.distinct_hosts, 1);
    cr_assert_eq (r->ev.window_s, 60);
    cr_assert_eq (r->ev.first_ts, T0);
    cr_assert_eq (r->ev.last_ts, T0 + 999 * S_MS);
    cr_assert_eq (r->severity, MM_SEV_LOW);
    cr_assert_eq (r->cat, MM_CAT_SCAN);
    cr_assert_str_eq (r->attack, "T1595.001");
    //  The estimate is deterministic (sn_distinct's hash is not keyed): for these ports it
    //  reaches 1,000 and is held to the number of probes.
    cr_assert_str_eq (r->message,
                      "192.0.2.9 probed 1,000 ports on 10.0.0.5 in 1 s (1,000 refused, 0 open)");
}

//  Refusals are answers: the finding is raised at the 15th refused port, before any tick.
Test (sn_det_scan, refusals_report_at_once)
{
    mm_addr_t scanner = s_ip ("192.0.2.9"), target = s_ip ("10.0.0.5");
    for (uint16_t i = 0; i < 15; i++) {
        s_tcp (scanner, 40000, target, (uint16_t) (100 + i), F_SYN, T0 + i * 10000);
        s_tcp (target, (uint16_t) (100 + i), scanner, 40000, F_RST | F_ACK, T0 + i * 10000 + 5000);
        cr_assert_eq (s_findings ("scan.port", NULL, NULL), i == 14 ? 1u : 0u, "after %u", i);
    }
    const s_rec_t *r = s_newest ("scan.port");
    cr_assert_eq (r->ev.distinct_ports, 15);
    cr_assert_eq (r->ev.count, 15);
    cr_assert_eq (r->revision, 0);
}

//  A filtered host answers nothing: the probes count once a tick has passed over them.
Test (sn_det_scan, unanswered_probes_count_after_a_tick)
{
    mm_addr_t scanner = s_ip ("192.0.2.9"), target = s_ip ("10.0.0.5");
    sn_detect_tick (engine, T0);
    for (uint16_t i = 0; i < 20; i++)
        s_tcp (scanner, 40000, target, (uint16_t) (1000 + i), F_SYN, T0 + 100 * S_MS + i * S_MS);
    cr_assert_eq (s_findings ("scan.port", NULL, NULL), 0);
    sn_detect_tick (engine, T0 + S_SEC);  //  snapshot: these probes are now a tick old
    cr_assert_eq (s_findings ("scan.port", NULL, NULL), 0);
    sn_detect_tick (engine, T0 + 2 * S_SEC);
    cr_assert_eq (s_findings ("scan.port", "192.0.2.9", "10.0.0.5"), 1);
    cr_assert_eq (s_newest ("scan.port")->ev.distinct_ports, 20);
}

//  A target that answered SYN-ACK on some port makes an inbound scan medium: there is
//  something to find.
Test (sn_det_scan, answered_scan_is_medium)
{
    mm_addr_t scanner = s_ip ("192.0.2.9"), target = s_ip ("10.0.0.5");
    for (uint16_t i = 0; i < 20; i++) {
        uint16_t port = (uint16_t) (20 + i);
        s_tcp (scanner, 40000, target, port, F_SYN, T0 + i * S_MS);
        s_tcp (target, port, scanner, 40000, port == 22 ? (F_SYN | F_ACK) : (F_RST | F_ACK),
               T0 + i * S_MS + 1000);
    }
    sn_detect_flush (engine);
    const s_rec_t *r = s_newest ("scan.port");
    cr_assert (r);
    cr_assert_eq (r->severity, MM_SEV_MEDIUM);
    cr_assert (strstr (r->message, "(19 refused, 1 open)"), "%s", r->message);
}

//  Internal scans are lateral movement (T1046), high.
Test (sn_det_scan, internal_scan_is_lateral_movement)
{
    mm_addr_t scanner = s_ip ("10.0.0.66"), target = s_ip ("10.0.0.5");
    for (uint16_t i = 0; i < 16; i++) {
        s_tcp (scanner, 40000, target, (uint16_t) (1 + i), F_SYN, T0 + i * S_MS);
        s_tcp (target, (uint16_t) (1 + i), scanner, 40000, F_RST | F_ACK, T0 + i * S_MS + 1000);
    }
    const s_rec_t *r = s_newest ("scan.port");
    cr_assert (r);
    cr_assert_eq (r->severity, MM_SEV_HIGH);
    cr_assert_eq (r->cat, MM_CAT_LATERAL_MOVEMENT);
    cr_assert_str_eq (r->attack, "T1046");
}

//  NULL, FIN and Xmas probes are probes (nmap -sN/-sF/-sX), with top confidence.
Test (sn_det_scan, stealth_probes)
{
    mm_addr_t scanner = s_ip ("192.0.2.9"), target = s_ip ("10.0.0.5");
    static const uint8_t kinds[3] = {0, F_FIN, F_FIN | F_PSH | F_URG};
    for (uint16_t i = 0; i < 15; i++) {
        s_tcp (scanner, 40000, target, (uint16_t) (3000 + i), kinds[i % 3], T0 + i * S_MS);
        s_tcp (target, (uint16_t) (3000 + i), scanner, 40000, F_RST | F_ACK, T0 + i * S_MS + 1000);
    }
    const s_rec_t *r = s_newest ("scan.port");
    cr_assert (r);
    cr_assert_eq (r->confidence, 95);
    cr_assert (strstr (r->message, "NULL/FIN/Xmas"), "%s", r->message);
}

//  UDP: ICMP port unreachable quoting the datagram is the refusal.
Test (sn_det_scan, udp_port_unreachable_is_a_refusal)
{
    mm_addr_t scanner = s_ip ("192.0.2.9"), target = s_ip ("10.0.0.5");
    for (uint16_t i = 0; i < 15; i++) {
        uint16_t port = (uint16_t) (2000 + i);
        s_udp (scanner, 50000, target, port, T0 + i * S_MS);
        s_unreachable (target, scanner, target, 17, 50000, port, 3, T0 + i * S_MS + 1000);
    }
    cr_assert_eq (s_findings ("scan.port", "192.0.2.9", "10.0.0.5"), 1);
    cr_assert (strstr (s_newest ("scan.port")->message, "(15 refused"), "%s",
               s_newest ("scan.port")->message);
}

//  An unreachable that quotes someone else's packet is not the prober's answer.
Test (sn_det_scan, unreachable_must_quote_the_prober)
{
    mm_addr_t scanner = s_ip ("192.0.2.9"), target = s_ip ("10.0.0.5"), other = s_ip ("192.0.2.77");
    for (uint16_t i = 0; i < 15; i++) {
        uint16_t port = (uint16_t) (2000 + i);
        s_udp (scanner, 50000, target, port, T0 + i * S_MS);
        s_unreachable (target, other, target, 17, 50000, port, 3, T0 + i * S_MS + 1000);
    }
    cr_assert_eq (s_findings ("scan.port", NULL, NULL), 0, "no refusal counted, no tick passed");
}

//  ---------------------------------------------------------------------------------------------
//  What must stay quiet

//  FTP passive data connections, a Windows client and its domain controller: many ports of
//  one host, all answered. Only failed probes count.
Test (sn_det_scan, open_ports_do_not_count)
{
    mm_addr_t client = s_ip ("10.0.0.7"), server = s_ip ("10.0.0.2");
    for (uint16_t i = 0; i < 40; i++) {
        uint16_t port = (uint16_t) (50000 + i);
        s_tcp (client, (uint16_t) (40000 + i), server, port, F_SYN, T0 + i * 100 * S_MS);
        s_tcp (server, port, client, (uint16_t) (40000 + i), F_SYN | F_ACK,
               T0 + i * 100 * S_MS + S_MS);
    }
    s_ticks (T0 + 4 * S_SEC, 3);
    sn_detect_flush (engine);
    cr_assert_eq (n_recs, 0, "%s", n_recs ? recs[0].message : "");
}

//  A browser opening connections to 40 CDN hosts on 443, all answered: no sweep.
Test (sn_det_scan, browser_many_hosts_is_quiet)
{
    mm_addr_t client = s_ip ("10.0.0.7");
    for (unsigned i = 0; i < 40; i++) {
        mm_addr_t host = s_ipn ("198.51.100.", 1 + i);
        s_tcp (client, (uint16_t) (40000 + i), host, 443, F_SYN, T0 + i * 10 * S_MS);
        s_tcp (host, 443, client, (uint16_t) (40000 + i), F_SYN | F_ACK,
               T0 + i * 10 * S_MS + 30 * S_MS);
    }
    s_ticks (T0 + S_SEC, 3);
    sn_detect_flush (engine);
    cr_assert_eq (n_recs, 0, "%s", n_recs ? recs[0].message : "");
}

//  Datagrams from a well-known port to ephemeral ones are answers whose questions we missed;
//  traceroute's ports are answered by port unreachable by design; multicast and broadcast
//  reach many hosts by design; ACK-first TCP is a connection older than the capture.
Test (sn_det_scan, replies_traceroute_multicast_midstream_are_not_probes)
{
    mm_addr_t a = s_ip ("10.0.0.7"), dns = s_ip ("10.0.0.1"), far = s_ip ("203.0.113.50");
    uint64_t ts = T0;
    for (uint16_t i = 0; i < 40; i++) {
        s_udp (dns, 53, a, (uint16_t) (30000 + i), ts);     //  DNS answers, questions missed
        s_udp (a, 45000, far, (uint16_t) (33434 + i), ts);  //  traceroute
        s_unreachable (far, a, far, 17, 45000, (uint16_t) (33434 + i), 3, ts + 1000);
        s_udp (a, 5353, s_ipn ("224.0.0.", 1 + i), 5353, ts);                      //  multicast
        s_udp (a, (uint16_t) (47000 + i), s_ipn ("10.0.0.", 255), 137, ts);        //  broadcast
        s_tcp (a, (uint16_t) (41000 + i), far, (uint16_t) (7000 + i), F_ACK, ts);  //  midstream
        ts += 10 * S_MS;
    }
    s_ticks (ts, 3);
    sn_detect_flush (engine);
    cr_assert_eq (n_recs, 0, "%s", n_recs ? recs[0].message : "");
}

//  Sources in [scan] allow are never reported.
Test (sn_det_scan, allowlisted_source)
{
    char err[256];
    cr_assert_eq (mm_netlist_parse (&cfg.scan_allow, "192.0.2.0/28", err, sizeof err), 0, "%s",
                  err);
    mm_addr_t scanner = s_ip ("192.0.2.9"), target = s_ip ("10.0.0.5");
    for (uint16_t i = 0; i < 30; i++) {
        s_tcp (scanner, 40000, target, (uint16_t) (1 + i), F_SYN, T0 + i * S_MS);
        s_tcp (target, (uint16_t) (1 + i), scanner, 40000, F_RST | F_ACK, T0 + i * S_MS + 1000);
    }
    sn_detect_flush (engine);
    cr_assert_eq (n_recs, 0);
}

//  The window tumbles: 10 refused ports, a pause longer than the window, 10 more: no scan
//  at 15 ports per 60 s.
Test (sn_det_scan, window_resets_unreported_counts)
{
    mm_addr_t scanner = s_ip ("192.0.2.9"), target = s_ip ("10.0.0.5");
    for (uint16_t i = 0; i < 20; i++) {
        uint64_t ts = T0 + (i < 10 ? 0 : 70 * S_SEC) + i * S_MS;
        s_tcp (scanner, 40000, target, (uint16_t) (1 + i), F_SYN, ts);
        s_tcp (target, (uint16_t) (1 + i), scanner, 40000, F_RST | F_ACK, ts + 1000);
    }
    sn_detect_flush (engine);
    cr_assert_eq (n_recs, 0, "%s", n_recs ? recs[0].message : "");
}

Test (sn_det_scan, disabled)
{
    s_teardown ();
    cfg.scan = false;
    s_start ();
    cr_assert_null (sn_detect_module (engine, "scan"));
}

//  ---------------------------------------------------------------------------------------------
//  Sweeps

//  An inside host sweeping the LAN for SMB: lateral movement, high, one finding without a
//  target, counting the hosts.
Test (sn_det_scan, internal_smb_sweep_is_high)
{
    mm_addr_t scanner = s_ip ("10.0.0.66");
    sn_detect_tick (engine, T0);
    for (unsigned i = 1; i <= 50; i++)
        s_tcp (scanner, (uint16_t) (40000 + i), s_ipn ("10.0.1.", i), 445, F_SYN,
               T0 + i * 2 * S_MS);
    s_ticks (T0, 3);
    sn_detect_flush (engine);
    cr_assert_eq (s_findings ("scan.sweep", "10.0.0.66", ""), 1);
    cr_assert_eq (s_findings ("scan.port", NULL, NULL), 0);
    const s_rec_t *r = s_newest ("scan.sweep");
    cr_assert_eq (r->severity, MM_SEV_HIGH);
    cr_assert_eq (r->cat, MM_CAT_LATERAL_MOVEMENT);
    cr_assert_eq (r->ev.count, 50);
    cr_assert (r->ev.distinct_hosts >= 48 && r->ev.distinct_hosts <= 50, "%u",
               r->ev.distinct_hosts);
    cr_assert_eq (r->ev.distinct_ports, 1);
    cr_assert (strstr (r->message, "on 445/tcp"), "%s", r->message);
}

//  Outbound: a worm's port is high (likely infected), a P2P-like port medium.
Test (sn_det_scan, outbound_sweeps)
{
    mm_addr_t bot = s_ip ("10.0.0.66"), p2p = s_ip ("10.0.0.67");
    sn_detect_tick (engine, T0);
    for (unsigned i = 1; i <= 12; i++) {
        s_tcp (bot, (uint16_t) (40000 + i), s_ipn ("203.0.113.", i), 23, F_SYN, T0 + i * S_MS);
        s_tcp (p2p, (uint16_t) (40000 + i), s_ipn ("198.51.100.", i), 6881, F_SYN, T0 + i * S_MS);
    }
    s_ticks (T0, 3);
    cr_assert_eq (s_findings ("scan.sweep", "10.0.0.66", ""), 1);
    cr_assert_eq (s_findings ("scan.sweep", "10.0.0.67", ""), 1);
    for (size_t i = 0; i < n_recs; i++) {
        char buf[64];
        sn_detect_addr_str (&recs[i].src, buf, sizeof buf);
        cr_assert_eq (recs[i].severity,
                      strcmp (buf, "10.0.0.66") == 0 ? MM_SEV_HIGH : MM_SEV_MEDIUM, "%s",
                      recs[i].message);
    }
}

//  One source scanning 20 ports on each of 12 hosts: 8 targets get findings of their own,
//  the rest fold into one finding without a target; the sweep of each port is one finding.
Test (sn_det_scan, many_targets_fold)
{
    mm_addr_t scanner = s_ip ("192.0.2.9");
    uint64_t ts = T0;
    for (unsigned h = 1; h <= 12; h++)
        for (uint16_t p = 1; p <= 20; p++) {
            mm_addr_t target = s_ipn ("10.0.2.", h);
            s_tcp (scanner, 40000, target, p, F_SYN, ts);
            s_tcp (target, p, scanner, 40000, F_RST | F_ACK, ts + 1000);
            ts += S_MS;
        }
    sn_detect_flush (engine);
    size_t alone = 0;
    for (unsigned h = 1; h <= 12; h++) {
        char t[32];
        snprintf (t, sizeof t, "10.0.2.%u", h);
        alone += s_findings ("scan.port", "192.0.2.9", t);
    }
    cr_assert_eq (alone, 8);
    cr_assert_eq (s_findings ("scan.port", "192.0.2.9", ""), 1);
    cr_assert_eq (s_findings ("scan.sweep", "192.0.2.9", ""), 1);
    const s_rec_t *r = NULL;
    for (size_t i = 0; i < n_recs; i++)
        if (strcmp (recs[i].detector, "scan.port") == 0 && recs[i].dst.len == 0)
            r = &recs[i];  //  the newest: emitted last
    cr_assert (r);
    cr_assert_eq (r->ev.distinct_hosts, 12);
    cr_assert_eq (r->ev.distinct_ports, 20);
    cr_assert_eq (r->ev.count, 240);
}

//  targets_alone: how many targets of one source get scan.port findings of their own. At 2,
//  the scan of many_targets_fold gives 2 findings with a target and one without.
Test (sn_det_scan, targets_alone_setting)
{
    s_teardown ();
    cfg.scan_targets_alone = 2;
    s_start ();
    mm_addr_t scanner = s_ip ("192.0.2.9");
    uint64_t ts = T0;
    for (unsigned h = 1; h <= 12; h++)
        for (uint16_t p = 1; p <= 20; p++) {
            mm_addr_t target = s_ipn ("10.0.2.", h);
            s_tcp (scanner, 40000, target, p, F_SYN, ts);
            s_tcp (target, p, scanner, 40000, F_RST | F_ACK, ts + 1000);
            ts += S_MS;
        }
    sn_detect_flush (engine);
    size_t alone = 0;
    for (unsigned h = 1; h <= 12; h++) {
        char t[32];
        snprintf (t, sizeof t, "10.0.2.%u", h);
        alone += s_findings ("scan.port", "192.0.2.9", t);
    }
    cr_assert_eq (alone, 2);
    cr_assert_eq (s_findings ("scan.port", "192.0.2.9", ""), 1);
    const s_rec_t *r = NULL;
    for (size_t i = 0; i < n_recs; i++)
        if (strcmp (recs[i].detector, "scan.port") == 0 && recs[i].dst.len == 0)
            r = &recs[i];
    cr_assert (r);
    cr_assert_eq (r->ev.distinct_hosts, 12, "the source's totals, all targets");
}

//  worm_ports: an outbound sweep on a port of the list is high; take 23 out and the same sweep
//  (Mirai-like, as in Slips' test7) is medium; a port added makes its sweep high.
Test (sn_det_scan, worm_ports_setting)
{
    s_teardown ();
    snprintf (cfg.scan_worm_ports, sizeof cfg.scan_worm_ports, "22, 445, 6881-6889");
    s_start ();
    mm_addr_t bot = s_ip ("10.0.0.66"), p2p = s_ip ("10.0.0.67");
    sn_detect_tick (engine, T0);
    for (unsigned i = 1; i <= 12; i++) {
        s_tcp (bot, (uint16_t) (40000 + i), s_ipn ("203.0.113.", i), 23, F_SYN, T0 + i * S_MS);
        s_tcp (p2p, (uint16_t) (40000 + i), s_ipn ("198.51.100.", i), 6881, F_SYN, T0 + i * S_MS);
    }
    s_ticks (T0, 3);
    cr_assert_eq (s_findings ("scan.sweep", "10.0.0.66", ""), 1);
    cr_assert_eq (s_findings ("scan.sweep", "10.0.0.67", ""), 1);
    for (size_t i = 0; i < n_recs; i++) {
        char buf[64];
        sn_detect_addr_str (&recs[i].src, buf, sizeof buf);
        cr_assert_eq (recs[i].severity,
                      strcmp (buf, "10.0.0.67") == 0 ? MM_SEV_HIGH : MM_SEV_MEDIUM, "%s",
                      recs[i].message);
    }
}

//  A worm_ports list that cannot be read disables the detector (the reason on stderr) rather
//  than guess; an empty one is valid (no sweep is high for its port).
Test (sn_det_scan, bad_worm_ports_disable)
{
    s_teardown ();
    snprintf (cfg.scan_worm_ports, sizeof cfg.scan_worm_ports, "23,telnet");
    s_start ();
    cr_assert_null (sn_detect_module (engine, "scan"));
    s_teardown ();
    snprintf (cfg.scan_worm_ports, sizeof cfg.scan_worm_ports, "445-22");
    s_start ();
    cr_assert_null (sn_detect_module (engine, "scan"));
    s_teardown ();
    cfg.scan_worm_ports[0] = 0;
    s_start ();
    cr_assert_not_null (sn_detect_module (engine, "scan"));
}

//  Echo requests to 30 hosts: 5 answer, a router says host unreachable for 25.
Test (sn_det_scan, icmp_sweep)
{
    mm_addr_t scanner = s_ip ("192.0.2.9"), router = s_ip ("10.0.0.1");
    static const uint8_t echo[8] = {0, 1, 0, 1, 'p', 'i', 'n', 'g'};
    for (unsigned i = 1; i <= 30; i++) {
        mm_addr_t host = s_ipn ("10.0.3.", i);
        s_icmp (scanner, host, 8, 0, echo, sizeof echo, T0 + i * S_MS);
        if (i <= 5)
            s_icmp (host, scanner, 0, 0, echo, sizeof echo, T0 + i * S_MS + 1000);
        else
            s_unreachable (router, scanner, host, 1, 0, 0, 1, T0 + i * S_MS + 1000);
    }
    cr_assert_eq (s_findings ("scan.icmp_sweep", "192.0.2.9", ""), 1);
    sn_detect_flush (engine);
    const s_rec_t *r = s_newest ("scan.icmp_sweep");
    cr_assert_eq (r->ev.distinct_hosts, 30);
    cr_assert_eq (r->severity, MM_SEV_LOW);
    cr_assert (strstr (r->message, "(5 answered, 25 unreachable)"), "%s", r->message);
    cr_assert_eq (s_findings ("scan.sweep", NULL, NULL), 0);
}

//  Repeated pings to one host are monitoring, not a sweep (suricata-verify's
//  threshold-rule-flow capture has the same shape).
Test (sn_det_scan, pinging_one_host_is_quiet)
{
    cfg.scan_hosts = 2;
    mm_addr_t a = s_ip ("192.168.0.89"), b = s_ip ("192.168.0.1");
    static const uint8_t echo[8] = {0, 1, 0, 1, 'p', 'i', 'n', 'g'};
    for (unsigned i = 0; i < 10; i++)
        s_icmp (a, b, 8, 0, echo, sizeof echo, T0 + i * S_SEC);
    sn_detect_flush (engine);
    cr_assert_eq (n_recs, 0);
}

//  ARP: requests for 60 addresses, 3 replies; the sweep shows after a tick.
Test (sn_det_scan, arp_sweep)
{
    char t[32];
    for (unsigned i = 1; i <= 60; i++) {
        snprintf (t, sizeof t, "192.168.1.%u", i);
        s_arp ("192.168.1.247", t, 1, T0 + i * S_MS);
        if (i <= 3)
            s_arp (t, "192.168.1.247", 2, T0 + i * S_MS + 1000);
    }
    s_arp ("192.168.1.247", "192.168.1.247", 1, T0 + 100 * S_MS);  //  announcement: ignored
    s_arp ("0.0.0.0", "192.168.1.200", 1, T0 + 100 * S_MS);        //  probe: ignored
    s_ticks (T0, 2);
    cr_assert_eq (s_findings ("scan.arp_sweep", "192.168.1.247", ""), 1);
    cr_assert_eq (n_recs, 1);
    const s_rec_t *r = s_newest ("scan.arp_sweep");
    cr_assert_eq (r->severity, MM_SEV_MEDIUM);
    cr_assert_eq (r->cat, MM_CAT_LATERAL_MOVEMENT);
    cr_assert_str_eq (r->attack, "T1018");
    cr_assert (r->ev.distinct_hosts >= 58 && r->ev.distinct_hosts <= 60, "%u",
               r->ev.distinct_hosts);
    cr_assert (strstr (r->message, "performing an ARP scan"), "%s", r->message);
    cr_assert (strstr (r->message, "3 answered"), "%s", r->message);
}

//  ---------------------------------------------------------------------------------------------
//  Bounded state

//  100,000 sources, each probing one target on 20 ports: state never exceeds the tables'
//  capacity; the least recently touched entries are recycled.
Test (sn_det_scan, flood_of_sources_is_bounded)
{
    s_teardown ();
    cfg.scan_max_tracked = 1024;
    s_start ();
    mm_addr_t target = s_ip ("10.0.0.5");
    sn_det_scan_stats_t st;
    uint64_t ts = T0;
    for (uint32_t s = 0; s < 100000; s++) {
        mm_addr_t src = {.len = 4,
                         .b = {100, (uint8_t) (s >> 16), (uint8_t) (s >> 8), (uint8_t) s}};
        s_tcp (src, 40000, target, (uint16_t) (1 + s % 20), F_SYN, ts);
        ts += 10000;  //  10 us: 100,000 sources in one second
        if (s % 10000 == 0) {
            sn_det_scan_stats (sn_detect_module (engine, "scan"), &st);
            cr_assert_leq (st.tracked, st.capacity);
        }
    }
    sn_det_scan_stats (sn_detect_module (engine, "scan"), &st);
    cr_assert_eq (st.capacity, 3 * 1024);
    cr_assert_leq (st.tracked, st.capacity);
    cr_assert_geq (st.recycled, 100000 - 3 * 1024);
    cr_assert_eq (st.probes, 100000);
}

//  An inside resolver whose queries go unanswered by 20 authoritative servers is no sweep;
//  the same datagrams from outside to 20 inside hosts are.
Test (sn_det_scan, resolver_timeouts_are_not_a_sweep)
{
    mm_addr_t resolver = s_ip ("10.0.0.53"), prober = s_ip ("192.0.2.9");
    sn_detect_tick (engine, T0);
    for (unsigned i = 1; i <= 20; i++) {
        s_udp (resolver, (uint16_t) (30000 + i), s_ipn ("203.0.113.", i), 53, T0 + i * S_MS);
        s_udp (prober, (uint16_t) (30000 + i), s_ipn ("10.0.4.", i), 53, T0 + i * S_MS);
    }
    s_ticks (T0, 3);
    cr_assert_eq (s_findings ("scan.sweep", "10.0.0.53", NULL), 0);
    cr_assert_eq (s_findings ("scan.sweep", "192.0.2.9", ""), 1);
    cr_assert_eq (s_newest ("scan.sweep")->severity, MM_SEV_LOW);
}

//  Inside UDP discovery (SNMP, printers) is medium; a TCP sweep inside is high.
Test (sn_det_scan, internal_udp_sweep_is_medium)
{
    mm_addr_t a = s_ip ("10.0.0.66");
    sn_detect_tick (engine, T0);
    for (unsigned i = 1; i <= 20; i++)
        s_udp (a, (uint16_t) (30000 + i), s_ipn ("10.0.5.", i), 161, T0 + i * S_MS);
    s_ticks (T0, 3);
    const s_rec_t *r = s_newest ("scan.sweep");
    cr_assert (r);
    cr_assert_eq (r->severity, MM_SEV_MEDIUM);
    cr_assert (strstr (r->message, "on 161/udp"), "%s", r->message);
}
