/*  sn_det_beacon through the engine: a strictly periodic and a jittered beacon are found once
    each, with their period and jitter; human-like browsing, allowlisted places, inbound and
    mid-stream traffic are not; a name keeps a beacon whole across rotating addresses; a
    flood of destinations costs no memory. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sn_detect.h"
#include "sn_ioc.h"

#define S_NS 1000000000ULL
#define S_MS 1000000ULL
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
    cfg.scan = cfg.brute = cfg.exposed = cfg.ioc = cfg.dnst = cfg.lateral = false;
    cfg.exfil = cfg.cleartext = false;
}

TestSuite (sn_det_beacon, .init = s_setup);

static mm_addr_t
s_addr (const char *text)
{
    mm_addr_t a = {.len = 4};
    cr_assert_eq (inet_pton (AF_INET, text, a.b), 1);
    return a;
}

//  A new connection's first packet (a SYN for TCP); returns its flow id.
static uint64_t
s_conn_flags (sn_detect_t *d, const char *host, const char *dst, uint16_t dport, uint8_t proto,
              uint8_t flags, uint64_t ts)
{
    sn_flow_t f;
    memset (&f, 0, sizeof f);
    f.orig = s_addr (host);
    f.resp = s_addr (dst);
    f.orig_port = (uint16_t) (40000 + s_flow_id % 20000);
    f.resp_port = dport;
    f.proto = proto;
    f.ip_version = 4;
    f.id = ++s_flow_id;
    f.first_ns = f.last_ns = ts;
    f.pkts[0] = 1;
    sn_pkt_t p;
    memset (&p, 0, sizeof p);
    p.ip_version = 4;
    p.proto = proto;
    p.src = f.orig;
    p.dst = f.resp;
    p.sport = f.orig_port;
    p.dport = dport;
    p.has_ports = true;
    p.tcp_flags = flags;
    sn_detect_packet (d, &p, &f, 0, ts);
    return f.id;
}

static uint64_t
s_conn (sn_detect_t *d, const char *host, const char *dst, uint16_t dport, uint64_t ts)
{
    return s_conn_flags (d, host, dst, dport, 6, 0x02, ts);
}

static void
s_event_init (mm_event_t *ev, uint8_t kind, const char *src, const char *dst, uint16_t dport,
              uint64_t flow_id, uint64_t ts)
{
    memset (ev, 0, sizeof *ev);
    ev->kind = kind;
    ev->ts = ts;
    ev->proto = 6;
    ev->src = s_addr (src);
    ev->dst = s_addr (dst);
    ev->has = MM_EV_HAS_PORTS;
    ev->sport = 40000;
    ev->dport = dport;
    ev->flow_id = flow_id;
}

static void
s_sni (sn_detect_t *d, const char *host, const char *dst, uint64_t flow_id, const char *name,
       uint64_t ts)
{
    mm_event_t ev;
    s_event_init (&ev, MM_KIND_TLS, host, dst, 443, flow_id, ts);
    ev.has |= MM_EV_HAS_TLS;
    ev.tls.sni = mm_str (name);
    sn_detect_event (d, &ev);
}

static void
s_flow_record (sn_detect_t *d, const char *host, const char *dst, uint16_t dport, uint64_t flow_id,
               uint64_t ts, uint64_t up, uint64_t down)
{
    mm_event_t ev;
    s_event_init (&ev, MM_KIND_FLOW, host, dst, dport, flow_id, ts);
    ev.has |= MM_EV_HAS_COUNTERS;
    ev.bytes_orig = up;
    ev.bytes_resp = down;
    ev.pkts_orig = ev.pkts_resp = 5;
    ev.duration_us = 100000;
    sn_detect_event (d, &ev);
}

//  A fixed pseudo-random sequence in [0, 1), so the tests are repeatable.
static uint64_t s_rng = 88172645463325252ULL;
static double
s_uniform (void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return (double) (s_rng >> 11) / 9007199254740992.0;
}

//  Every finding event is of one finding: returns its index of the newest revision.
static size_t
s_one_finding (const char *detector)
{
    cr_assert_gt (out.n, 0u, "no finding");
    for (size_t i = 0; i < out.n; i++) {
        cr_assert_str_eq (out.detector[i], detector);
        cr_assert_eq (out.ev[i].finding.id, out.ev[0].finding.id, "event %zu: another finding", i);
        cr_assert_eq (out.ev[i].finding.revision, i);
    }
    return out.n - 1;
}

Test (sn_det_beacon, a_strictly_periodic_2s_beacon_is_one_finding_with_its_period)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    cr_assert_not_null (d);
    uint64_t t0 = 1700000000ULL * S_NS;
    for (int i = 0; i < 60; i++)
        s_conn (d, "192.168.1.10", "203.0.113.5", 443, t0 + (uint64_t) i * 2 * S_NS);
    sn_detect_flush (d);
    size_t last = s_one_finding ("beacon");
    cr_assert_eq (sn_detect_stats (d)->raised, 1u);
    const mm_event_t *first = &out.ev[0];
    cr_assert_eq (first->severity, MM_SEV_MEDIUM);
    cr_assert_eq (first->finding.category, MM_CAT_C2_BEACON);
    cr_assert_eq (first->direction, MM_DIR_OUTBOUND);
    cr_assert_eq (first->finding.evidence.count, 10u, "raised at min_connections");
    cr_assert_eq (first->finding.evidence.period_ms, 2000u);
    cr_assert_eq (first->finding.evidence.jitter_ms, 0u);
    const mm_event_t *ev = &out.ev[last];
    mm_addr_t host = s_addr ("192.168.1.10"), dst = s_addr ("203.0.113.5");
    cr_assert_eq (memcmp (&ev->src, &host, sizeof host), 0);
    cr_assert_eq (memcmp (&ev->dst, &dst, sizeof dst), 0);
    cr_assert (ev->has & MM_EV_HAS_DPORT);
    cr_assert_eq (ev->dport, 443);
    cr_assert_eq (ev->finding.evidence.count, 60u);
    cr_assert_eq (ev->finding.evidence.period_ms, 2000u);
    cr_assert_eq (ev->finding.evidence.window_s, 118u);
    cr_assert_eq (ev->finding.evidence.first_ts, t0);
    cr_assert_eq (ev->finding.evidence.last_ts, t0 + 118 * S_NS);
    cr_assert_str_eq (out.message[last], "192.168.1.10 calls 203.0.113.5 port 443 every 2000 ms, "
                                         "jitter 0 ms, 60 times in 118 s");
    sn_detect_destroy (&d);
}

Test (sn_det_beacon, a_beacon_jittered_between_2_and_3_s_is_found)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    uint64_t t = 1700000000ULL * S_NS;
    for (int i = 0; i < 64; i++) {
        s_conn (d, "192.168.1.11", "198.51.100.7", 8443, t);
        t += (uint64_t) ((2.0 + s_uniform ()) * 1e9);
    }
    sn_detect_flush (d);
    size_t last = s_one_finding ("beacon");
    const mm_evidence_t *e = &out.ev[last].finding.evidence;
    cr_assert_eq (e->count, 64u);
    cr_assert (e->period_ms >= 2300 && e->period_ms <= 2700, "period %u ms", e->period_ms);
    //  Uniform on [2, 3] s: an inter-quartile range near 0.5 s, 20 % of the period.
    cr_assert (e->jitter_ms >= 300 && e->jitter_ms * 100 <= 30 * e->period_ms, "jitter %u ms",
               e->jitter_ms);
    sn_detect_destroy (&d);
}

Test (sn_det_beacon, human_browsing_of_one_site_is_not_a_beacon)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    uint64_t t = 1700000000ULL * S_NS;
    //  Page loads at random moments (reading times log-normal, median ~20 s, long tail), each
    //  opening 1-6 connections within 0.8 s: 400 connections over about three hours.
    for (int n = 0; n < 400;) {
        int parts = 1 + (int) (s_uniform () * 6);
        uint64_t at = t;
        for (int k = 0; k < parts; k++, n++) {
            s_conn (d, "192.168.1.12", "203.0.113.20", 443, at);
            at += (uint64_t) (s_uniform () * 1.6e8);
        }
        double z = sqrt (-2 * log (1 - s_uniform ())) * cos (2 * 3.14159265358979 * s_uniform ());
        t += (uint64_t) (exp (3.0 + z) * 1e9) + S_NS;
    }
    sn_detect_flush (d);
    cr_assert_eq (out.n, 0u, "%s", out.n ? out.message[0] : "");
    sn_detect_destroy (&d);
}

Test (sn_det_beacon, a_name_keeps_a_beacon_whole_across_rotating_addresses)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    const char *addrs[] = {"198.51.100.10", "198.51.100.11", "198.51.100.12"};
    uint64_t t0 = 1700000000ULL * S_NS;
    for (int i = 0; i < 30; i++) {
        uint64_t ts = t0 + (uint64_t) i * 30 * S_NS;
        uint64_t id = s_conn (d, "192.168.1.13", addrs[i % 3], 443, ts);
        s_sni (d, "192.168.1.13", addrs[i % 3], id, "Telemetry.Example-C2.net", ts + 80 * S_MS);
    }
    sn_detect_flush (d);
    size_t last = s_one_finding ("beacon");
    const mm_event_t *ev = &out.ev[last];
    mm_addr_t first = s_addr ("198.51.100.10");
    cr_assert_eq (memcmp (&ev->dst, &first, sizeof first), 0, "the first address stays the target");
    cr_assert_eq (ev->finding.evidence.count, 30u);
    cr_assert_eq (ev->finding.evidence.period_ms, 30000u);
    cr_assert (strstr (out.message[last], "telemetry.example-c2.net (198.51.100.10 port 443)"),
               "%s", out.message[last]);
    sn_detect_destroy (&d);
}

Test (sn_det_beacon, a_dns_answer_names_the_addresses_before_the_connections)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    uint64_t t0 = 1700000000ULL * S_NS;
    mm_event_t ev;
    s_event_init (&ev, MM_KIND_DNS, "192.168.1.14", "192.168.1.1", 53, 0, t0 - S_NS);
    ev.proto = 17;
    ev.has |= MM_EV_HAS_DNS;
    ev.dns.has = MM_DNS_HAS_QTYPE | MM_DNS_HAS_RCODE;
    ev.dns.qname = mm_str ("c2.example.net");
    ev.dns.qtype = 1;
    ev.dns.n_answers = 2;
    ev.dns.answers[0] = (mm_dns_answer_t){1, mm_str ("203.0.113.7"), 60};
    ev.dns.answers[1] = (mm_dns_answer_t){1, mm_str ("203.0.113.8"), 60};
    sn_detect_event (d, &ev);
    //  Plain TCP, no TLS nor HTTP to name them: the DNS answer does.
    for (int i = 0; i < 20; i++)
        s_conn (d, "192.168.1.14", i % 2 ? "203.0.113.8" : "203.0.113.7", 4444,
                t0 + (uint64_t) i * 10 * S_NS);
    sn_detect_flush (d);
    size_t last = s_one_finding ("beacon");
    cr_assert_eq (out.ev[last].finding.evidence.count, 20u);
    cr_assert (strstr (out.message[last], "c2.example.net"), "%s", out.message[last]);
    sn_detect_destroy (&d);
}

Test (sn_det_beacon, fewer_connections_than_min_connections_are_not_judged)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    uint64_t t0 = 1700000000ULL * S_NS;
    for (int i = 0; i < 9; i++)
        s_conn (d, "192.168.1.15", "203.0.113.5", 443, t0 + (uint64_t) i * 5 * S_NS);
    sn_detect_flush (d);
    cr_assert_eq (out.n, 0u);
    sn_detect_destroy (&d);
    d = sn_detect_new (&cfg, s_emit, &out);
    for (int i = 0; i < 10; i++)
        s_conn (d, "192.168.1.15", "203.0.113.5", 443, t0 + (uint64_t) i * 5 * S_NS);
    sn_detect_flush (d);
    cr_assert_eq (out.n, 1u);
    cr_assert_eq (out.ev[0].finding.evidence.count, 10u);
    sn_detect_destroy (&d);
}

Test (sn_det_beacon, periods_outside_min_and_max_period_are_not_beacons)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    uint64_t t0 = 1700000000ULL * S_NS;
    for (int i = 0; i < 100; i++)  //  every 0.4 s: a burst merged into one, never a period
        s_conn (d, "192.168.1.16", "203.0.113.5", 443, t0 + (uint64_t) i * 400 * S_MS);
    for (int i = 0; i < 12; i++)  //  every 2 hours: beyond max_period (1 hour)
        s_conn (d, "192.168.1.16", "203.0.113.6", 443, t0 + (uint64_t) i * 7200 * S_NS);
    sn_detect_flush (d);
    cr_assert_eq (out.n, 0u, "%s", out.n ? out.message[0] : "");
    sn_detect_destroy (&d);
}

Test (sn_det_beacon, allowlisted_ports_names_networks_and_multicast_are_never_reported)
{
    char err[256];
    cr_assert_eq (mm_netlist_parse (&cfg.beacon_allow, "198.51.100.0/24", err, sizeof err), 0);
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    uint64_t t0 = 1700000000ULL * S_NS;
    for (int i = 0; i < 40; i++) {
        uint64_t ts = t0 + (uint64_t) i * 10 * S_NS;
        s_conn_flags (d, "192.168.1.17", "8.8.8.8", 53, 17, 0, ts);            //  DNS
        s_conn_flags (d, "192.168.1.17", "203.0.113.123", 123, 17, 0, ts);     //  NTP
        s_conn_flags (d, "192.168.1.17", "239.255.255.250", 1900, 17, 0, ts);  //  SSDP
        s_conn (d, "192.168.1.17", "198.51.100.50", 443, ts);  //  allowlisted network
        uint64_t id = s_conn (d, "192.168.1.17", "203.0.113.99", 443, ts);
        s_sni (d, "192.168.1.17", "203.0.113.99", id, "settings-win.data.microsoft.com",
               ts + 50 * S_MS);
    }
    sn_detect_flush (d);
    cr_assert_eq (out.n, 0u, "%s", out.n ? out.message[0] : "");
    sn_detect_destroy (&d);
}

Test (sn_det_beacon, inbound_internal_and_midstream_connections_do_not_count)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    uint64_t t0 = 1700000000ULL * S_NS;
    for (int i = 0; i < 40; i++) {
        uint64_t ts = t0 + (uint64_t) i * 10 * S_NS;
        s_conn (d, "203.0.113.5", "192.168.1.18", 22, ts);                  //  inbound
        s_conn (d, "192.168.1.18", "192.168.1.19", 445, ts);                //  internal
        s_conn_flags (d, "192.168.1.18", "203.0.113.5", 443, 6, 0x10, ts);  //  mid-stream ACK
        s_conn_flags (d, "192.168.1.18", "203.0.113.5", 0, 1, 0, ts);       //  ICMP
    }
    sn_detect_flush (d);
    cr_assert_eq (out.n, 0u, "%s", out.n ? out.message[0] : "");
    sn_detect_destroy (&d);
}

Test (sn_det_beacon, bytes_come_from_the_flow_records_of_its_connections)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    uint64_t t0 = 1700000000ULL * S_NS, pending_id = 0, pending_ts = 0;
    for (int i = 0; i < 20; i++) {
        uint64_t ts = t0 + (uint64_t) i * 60 * S_NS;
        uint64_t id = s_conn (d, "192.168.1.20", "203.0.113.30", 443, ts);
        s_sni (d, "192.168.1.20", "203.0.113.30", id, "cdn.example.com", ts + 40 * S_MS);
        //  Odd ones end at once (before the connection is judged), even ones a minute later.
        if (i % 2)
            s_flow_record (d, "192.168.1.20", "203.0.113.30", 443, id, ts, 600, 400);
        else
            pending_id = id, pending_ts = ts;
        if (i % 2 == 1)
            s_flow_record (d, "192.168.1.20", "203.0.113.30", 443, pending_id, pending_ts, 600,
                           400);
    }
    sn_detect_flush (d);
    size_t last = s_one_finding ("beacon");
    cr_assert_eq (out.ev[last].finding.evidence.bytes, 20000u);
    cr_assert_eq (out.ev[last].finding.evidence.count, 20u);
    cr_assert_eq (out.ev[last].finding.evidence.period_ms, 60000u);
    sn_detect_destroy (&d);
}

Test (sn_det_beacon, a_beacon_to_a_known_bad_address_or_name_is_high)
{
    char path[] = "/tmp/test_sn_det_beacon_feed_XXXXXX";
    int fd = mkstemp (path);
    cr_assert_geq (fd, 0);
    const char feed[] = "203.0.113.66\nevil-c2.example\n";
    cr_assert_eq (write (fd, feed, sizeof feed - 1), (ssize_t) (sizeof feed - 1));
    close (fd);
    cfg.ioc = true;
    snprintf (cfg.ioc_feeds, sizeof cfg.ioc_feeds, "%s", path);
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    cr_assert_not_null (d);
    uint64_t t0 = 1700000000ULL * S_NS;
    for (int i = 0; i < 12; i++) {
        uint64_t ts = t0 + (uint64_t) i * 30 * S_NS;
        s_conn (d, "192.168.1.22", "203.0.113.66", 443, ts);
        uint64_t id = s_conn (d, "192.168.1.23", "198.51.100.66", 443, ts);
        s_sni (d, "192.168.1.23", "198.51.100.66", id, "api.evil-c2.example", ts + 50 * S_MS);
        s_conn (d, "192.168.1.24", "203.0.113.67", 443, ts);  //  unknown: medium
    }
    sn_detect_flush (d);
    unlink (path);
    int seen = 0;
    for (size_t i = 0; i < out.n; i++) {
        const mm_event_t *ev = &out.ev[i];
        if (strcmp (out.detector[i], "beacon") != 0)
            continue;  //  the indicator matcher reports the contacts too
        char src[32];
        inet_ntop (AF_INET, ev->src.b, src, sizeof src);
        if (strcmp (src, "192.168.1.24") == 0) {
            cr_assert_eq (ev->severity, MM_SEV_MEDIUM);
            cr_assert_not (ev->finding.has & MM_FINDING_HAS_IOC);
            seen |= 4;
            continue;
        }
        cr_assert_eq (ev->severity, MM_SEV_HIGH, "%s", out.message[i]);
        cr_assert (ev->finding.has & MM_FINDING_HAS_IOC);
        cr_assert (strstr (out.message[i], "; known bad ("), "%s", out.message[i]);
        if (strcmp (src, "192.168.1.22") == 0) {
            cr_assert_eq (ev->finding.ioc.type, MM_IOC_IP);
            cr_assert (mm_str_eq (ev->finding.ioc.value, "203.0.113.66"));
            seen |= 1;
        }
        else {
            cr_assert_eq (ev->finding.ioc.type, MM_IOC_DOMAIN);
            cr_assert (mm_str_eq (ev->finding.ioc.value, "evil-c2.example"));
            seen |= 2;
        }
    }
    cr_assert_eq (seen, 7);
    sn_detect_destroy (&d);
}

static long
s_maxrss_kb (void)
{
    struct rusage ru;
    cr_assert_eq (getrusage (RUSAGE_SELF, &ru), 0);
    return ru.ru_maxrss;
}

Test (sn_det_beacon, a_flood_of_destinations_costs_no_memory_and_raises_nothing)
{
    cfg.beacon_max_tracked = 1024;
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    uint64_t t0 = 1700000000ULL * S_NS;
    //  Warm up: every table slot and the pending ring used once.
    for (uint32_t i = 0; i < 20000; i++) {
        char dst[32];
        snprintf (dst, sizeof dst, "100.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        uint64_t id = s_conn (d, "192.168.1.21", dst, 443, t0 + i * 1000ULL);
        char name[64];
        snprintf (name, sizeof name, "w%u.example.org", i);
        s_sni (d, "192.168.1.21", dst, id, name, t0 + i * 1000ULL);
    }
    long before = s_maxrss_kb ();
    //  200,000 more destinations in 20 s, each once, some named.
    for (uint32_t i = 0; i < 200000; i++) {
        char dst[32];
        snprintf (dst, sizeof dst, "101.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        uint64_t ts = t0 + S_NS + i * 100000ULL;
        uint64_t id = s_conn (d, "192.168.1.21", dst, (uint16_t) (1 + i % 60000), ts);
        if (i % 4 == 0) {
            char name[64];
            snprintf (name, sizeof name, "h%u.example.org", i);
            s_sni (d, "192.168.1.21", dst, id, name, ts);
        }
    }
    sn_detect_flush (d);
    long after = s_maxrss_kb ();
    cr_assert_eq (out.total, 0u);
    cr_assert (after - before < 512, "grew by %ld KiB", after - before);
    sn_detect_destroy (&d);
}
