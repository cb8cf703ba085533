/*  sn_det_dnst through the engine: a tunnel (many unique, encoded-looking names under one
    domain) is one medium finding per client and domain; a DGA's NXDOMAIN burst is another;
    long names and TXT volume alone are low; CDNs, DNSBL lookups, DKIM, reverse and mDNS
    names are not reported; a flood of domains costs no memory. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>
#include <sys/resource.h>

#include "sn_detect.h"

#define S_NS ((uint64_t) 1000000000)
#define S_MS ((uint64_t) 1000000)
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
    char err[256];
    cr_assert_eq (sn_config_defaults (&cfg, err, sizeof err), 0, "%s", err);
    cfg.scan = cfg.brute = cfg.exposed = cfg.ioc = cfg.beacon = cfg.lateral = false;
    cfg.exfil = cfg.cleartext = false;
}

TestSuite (sn_det_dnst, .init = s_setup);

static uint64_t s_rng = 0x9E3779B97F4A7C15ULL;
static uint32_t
s_rand (uint32_t n)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return (uint32_t) ((s_rng >> 11) % n);
}

static void
s_random (char *buf, size_t len, const char *alphabet)
{
    size_t k = strlen (alphabet);
    for (size_t i = 0; i < len; i++)
        buf[i] = alphabet[s_rand ((uint32_t) k)];
    buf[len] = 0;
}

//  A DNS query (rcode < 0) or response from `client` to its resolver.
static void
s_dns (sn_detect_t *d, const char *client, const char *name, uint16_t qtype, int rcode,
       uint16_t port, uint64_t ts)
{
    mm_event_t ev;
    memset (&ev, 0, sizeof ev);
    ev.kind = MM_KIND_DNS;
    ev.ts = ts;
    ev.proto = 17;
    ev.src.len = ev.dst.len = 4;
    cr_assert_eq (inet_pton (AF_INET, client, ev.src.b), 1);
    inet_pton (AF_INET, "192.168.1.1", ev.dst.b);
    ev.has = MM_EV_HAS_PORTS | MM_EV_HAS_DNS;
    ev.sport = 53000;
    ev.dport = port;
    ev.dns.has = MM_DNS_HAS_QTYPE;
    ev.dns.qname = mm_str (name);
    ev.dns.qtype = qtype;
    if (rcode >= 0) {
        ev.dns.has |= MM_DNS_HAS_RCODE;
        ev.dns.rcode = (uint16_t) rcode;
    }
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

//  The newest revision of the only finding of `detector`.
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

static const char s_hex[] = "0123456789abcdef";
static const char s_b32[] = "abcdefghijklmnopqrstuvwxyz234567";

Test (sn_det_dnst, a_tunnel_of_hex_labels_is_one_medium_finding)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    uint64_t t0 = 1700000000ULL * S_NS;
    for (int i = 0; i < 150; i++) {
        char label[61], name[128];
        s_random (label, 60, s_hex);
        snprintf (name, sizeof name, "%s.t.Evil-Tunnel.com", label);
        uint16_t qtype = i % 3 == 0 ? 16 : 5;  //  TXT and CNAME, as dnscat2 mixes them
        uint64_t ts = t0 + (uint64_t) i * 500 * S_MS;
        s_dns (d, "192.168.1.20", name, qtype, -1, 53, ts);
        s_dns (d, "192.168.1.20", name, qtype, 0, 53, ts + 30 * S_MS);
    }
    sn_detect_flush (d);
    const mm_event_t *ev = s_newest ("dns.tunnel");
    cr_assert_eq (ev->severity, MM_SEV_MEDIUM);
    cr_assert_eq (ev->finding.category, MM_CAT_DNS_TUNNEL);
    cr_assert_eq (ev->dst.len, 0, "no target: the resolver is not to blame");
    cr_assert_eq (ev->direction, MM_DIR_OUTBOUND);
    cr_assert_eq (ev->finding.evidence.count, 150u, "queries, not responses");
    uint32_t u = ev->finding.evidence.distinct_hosts;
    cr_assert (u >= 140 && u <= 160, "%u unique names", u);
    cr_assert_eq (ev->finding.evidence.bytes, 150u * 61, "label and 't', dots aside");
    cr_assert_eq (ev->finding.evidence.first_ts, t0);
    cr_assert (strstr (out.message[0], "under evil-tunnel.com"), "%s", out.message[0]);
    //  Raised when about the 100th unique name came (the count is estimated beyond 16).
    uint64_t at = out.ev[0].finding.evidence.count;
    cr_assert (at >= 95 && at <= 105, "raised at %llu", (unsigned long long) at);
    //  Its long names and its TXT queries are part of the tunnel, not findings of their own.
    cr_assert_eq (s_count ("dns.long_name"), 0u);
    cr_assert_eq (s_count ("dns.txt_volume"), 0u);
    cr_assert_eq (s_count ("dns.nxdomain_burst"), 0u);
    sn_detect_destroy (&d);
}

Test (sn_det_dnst, short_high_entropy_names_are_a_tunnel_too)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    uint64_t t0 = 1700000000ULL * S_NS;
    //  Base32 in two 20-character labels: neither long name nor long label, but 5 bits a
    //  character of randomness (the threshold is 4.00 bits over 24 characters or more).
    for (int i = 0; i < 120; i++) {
        char a[21], b[21], name[96];
        s_random (a, 20, s_b32);
        s_random (b, 20, s_b32);
        snprintf (name, sizeof name, "%s.%s.x.example-exfil.net", a, b);
        s_dns (d, "192.168.1.21", name, 1, -1, 53, t0 + (uint64_t) i * S_NS);
    }
    sn_detect_flush (d);
    const mm_event_t *ev = s_newest ("dns.tunnel");
    cr_assert_eq (ev->finding.evidence.count, 120u);
    cr_assert_eq (s_count ("dns.long_name"), 0u);
    sn_detect_destroy (&d);
}

Test (sn_det_dnst, many_plain_names_of_a_cdn_or_a_dnsbl_are_not_a_tunnel)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    uint64_t t0 = 1700000000ULL * S_NS;
    for (int i = 0; i < 300; i++) {
        char name[128];
        uint64_t ts = t0 + (uint64_t) i * 200 * S_MS;
        snprintf (name, sizeof name, "img%d-static.eu-west-1.cdn.example.com", i);
        s_dns (d, "192.168.1.22", name, 1, -1, 53, ts);
        //  A mail server asking a blocklist about the addresses that connect to it: NXDOMAIN
        //  means "not listed". IPv4 and IPv6 (32 nibbles) lookups.
        snprintf (name, sizeof name, "%d.%d.113.203.bl.spamcop.net", i % 250, i / 250);
        s_dns (d, "192.168.1.23", name, 1, -1, 53, ts);
        s_dns (d, "192.168.1.23", name, 1, 3, 53, ts + 10 * S_MS);
        char nib[65];
        s_random (nib, 32, s_hex);
        char v6[160];
        size_t o = 0;
        for (int k = 0; k < 32; k++)
            o += (size_t) snprintf (v6 + o, sizeof v6 - o, "%c.", nib[k]);
        snprintf (v6 + o, sizeof v6 - o, "bl.spamcop.net");
        s_dns (d, "192.168.1.23", v6, 1, -1, 53, ts);
        s_dns (d, "192.168.1.23", v6, 1, 3, 53, ts + 10 * S_MS);
    }
    sn_detect_flush (d);
    cr_assert_eq (out.n, 0u, "%s", out.n ? out.message[0] : "");
    sn_detect_destroy (&d);
}

Test (sn_det_dnst, service_reverse_and_local_names_are_never_counted)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    uint64_t t0 = 1700000000ULL * S_NS;
    for (int i = 0; i < 200; i++) {
        char name[200], key[64];
        uint64_t ts = t0 + (uint64_t) i * 100 * S_MS;
        s_random (key, 60, s_b32);
        snprintf (name, sizeof name, "%s._domainkey.example.com", key);  //  DKIM
        s_dns (d, "192.168.1.24", name, 16, -1, 53, ts);
        snprintf (name, sizeof name, "%d.2.0.192.in-addr.arpa", i);  //  reverse
        s_dns (d, "192.168.1.24", name, 12, -1, 53, ts);
        s_dns (d, "192.168.1.24", name, 12, 3, 53, ts);
        snprintf (name, sizeof name, "%s-%d._googlecast._tcp.local", key, i);  //  mDNS
        s_dns (d, "192.168.1.24", name, 33, -1, 5353, ts);
        snprintf (name, sizeof name, "%s.printer.local", key);  //  .local over port 53
        s_dns (d, "192.168.1.24", name, 1, -1, 53, ts);
    }
    sn_detect_flush (d);
    cr_assert_eq (out.n, 0u, "%s", out.n ? out.message[0] : "");
    sn_detect_destroy (&d);
}

Test (sn_det_dnst, nxdomain_for_many_domains_is_a_dga_burst)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    uint64_t t0 = 1700000000ULL * S_NS;
    static const char *tld[] = {"com", "net", "info", "biz"};
    for (int i = 0; i < 80; i++) {
        char label[17], name[32];
        s_random (label, 10 + s_rand (7), "abcdefghijklmnopqrstuvwxyz");
        snprintf (name, sizeof name, "%s.%s", label, tld[i % 4]);
        uint64_t ts = t0 + (uint64_t) i * 700 * S_MS;
        s_dns (d, "192.168.1.25", name, 1, -1, 53, ts);
        s_dns (d, "192.168.1.25", name, 1, 3, 53, ts + 20 * S_MS);
    }
    sn_detect_flush (d);
    const mm_event_t *ev = s_newest ("dns.nxdomain_burst");
    cr_assert_eq (ev->severity, MM_SEV_MEDIUM);
    cr_assert_eq (ev->finding.n_attack, 1u);
    cr_assert_eq (ev->finding.evidence.count, 80u);
    uint32_t u = ev->finding.evidence.distinct_hosts;
    cr_assert (u >= 76 && u <= 84, "%u domains", u);
    //  Raised at about the 50th domain.
    uint64_t at = out.ev[0].finding.evidence.count;
    cr_assert (at >= 47 && at <= 53, "raised at %llu", (unsigned long long) at);
    cr_assert_eq (s_count ("dns.tunnel"), 0u);
    sn_detect_destroy (&d);
}

Test (sn_det_dnst, one_name_answered_nxdomain_again_and_again_is_no_dga)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    uint64_t t0 = 1700000000ULL * S_NS;
    for (int i = 0; i < 500; i++) {
        char name[64];
        snprintf (name, sizeof name, "host%d.corp.example.com", i % 7);  //  a search suffix
        s_dns (d, "192.168.1.26", name, 1, 3, 53, t0 + (uint64_t) i * 100 * S_MS);
        s_dns (d, "192.168.1.26", "wpad.example.lan", 1, 3, 53, t0 + (uint64_t) i * 100 * S_MS);
    }
    sn_detect_flush (d);
    cr_assert_eq (out.n, 0u, "%s", out.n ? out.message[0] : "");
    sn_detect_destroy (&d);
}

Test (sn_det_dnst, txt_volume_alone_is_low_and_waits_for_its_window)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    uint64_t t0 = 1700000000ULL * S_NS;
    for (int i = 0; i < 60; i++) {
        char name[64];
        snprintf (name, sizeof name, "example%d.org", i % 20);  //  SPF-like lookups
        s_dns (d, "192.168.1.27", name, 16, -1, 53, t0 + (uint64_t) i * S_NS);
    }
    cr_assert_eq (out.n, 0u, "nothing before the window ends");
    //  The next window starts: the last one is judged.
    s_dns (d, "192.168.1.27", "example.org", 1, -1, 53, t0 + 400 * S_NS);
    cr_assert_eq (out.n, 1u);
    sn_detect_flush (d);
    const mm_event_t *ev = s_newest ("dns.txt_volume");
    cr_assert_eq (ev->severity, MM_SEV_LOW);
    cr_assert_eq (ev->finding.evidence.count, 60u);
    cr_assert_eq (ev->finding.evidence.first_ts, t0);
    cr_assert_eq (ev->finding.evidence.last_ts, t0 + 59 * S_NS);
    cr_assert_eq (s_count ("dns.tunnel"), 0u);
    sn_detect_destroy (&d);
}

Test (sn_det_dnst, a_few_long_names_are_one_low_finding_at_the_end)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    uint64_t t0 = 1700000000ULL * S_NS;
    char label[64], name[128];
    s_random (label, 56, s_b32);
    snprintf (name, sizeof name, "%s.data.example-leak.org", label);
    s_dns (d, "192.168.1.28", name, 1, -1, 53, t0);
    s_random (label, 56, s_b32);
    snprintf (name, sizeof name, "%s.data.example-leak.org", label);
    s_dns (d, "192.168.1.28", name, 1, -1, 53, t0 + S_NS);
    s_dns (d, "192.168.1.28", "www.example-leak.org", 1, -1, 53, t0 + 2 * S_NS);
    cr_assert_eq (out.n, 0u);
    sn_detect_flush (d);
    const mm_event_t *ev = s_newest ("dns.long_name");
    cr_assert_eq (ev->severity, MM_SEV_LOW);
    cr_assert_eq (ev->finding.evidence.count, 2u);
    cr_assert_eq (ev->finding.evidence.distinct_hosts, 3u);
    cr_assert_str_eq (out.message[0], "192.168.1.28 asked for 2 long names under example-leak.org "
                                      "(longest name 78, longest label 56)");
    sn_detect_destroy (&d);
}

Test (sn_det_dnst, clients_outside_home_net_are_not_followed)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    uint64_t t0 = 1700000000ULL * S_NS;
    for (int i = 0; i < 150; i++) {
        char label[61], name[128];
        s_random (label, 60, s_hex);
        snprintf (name, sizeof name, "%s.t.evil-tunnel.com", label);
        s_dns (d, "203.0.113.50", name, 16, -1, 53, t0 + (uint64_t) i * S_NS);
    }
    sn_detect_flush (d);
    cr_assert_eq (out.n, 0u);
    sn_detect_destroy (&d);
}

//  allow_clients: an inside resolver that forwards everyone's queries (or a mail server doing
//  blocklist lookups) is never judged; the same tunnel from another client still is.
Test (sn_det_dnst, allowed_clients_are_not_judged)
{
    char err[256];
    cr_assert_eq (mm_netlist_parse (&cfg.dnst_allow_clients, "192.168.1.20/32", err, sizeof err), 0,
                  "%s", err);
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    uint64_t t0 = 1700000000ULL * S_NS;
    for (int i = 0; i < 150; i++) {
        char label[61], name[128];
        s_random (label, 60, s_hex);
        snprintf (name, sizeof name, "%s.t.evil-tunnel.com", label);
        s_dns (d, "192.168.1.20", name, 16, -1, 53, t0 + (uint64_t) i * S_NS);
        snprintf (name, sizeof name, "x%d.dga%d.com", i, i);
        s_dns (d, "192.168.1.20", name, 1, 3, 53, t0 + (uint64_t) i * S_NS);
    }
    sn_detect_flush (d);
    cr_assert_eq (out.n, 0u, "%s", out.n ? out.message[0] : "");
    sn_detect_destroy (&d);

    memset (&out, 0, sizeof out);
    d = sn_detect_new (&cfg, s_emit, &out);
    for (int i = 0; i < 150; i++) {
        char label[61], name[128];
        s_random (label, 60, s_hex);
        snprintf (name, sizeof name, "%s.t.evil-tunnel.com", label);
        s_dns (d, "192.168.1.21", name, 16, -1, 53, t0 + (uint64_t) i * S_NS);
    }
    sn_detect_flush (d);
    cr_assert_eq (s_count ("dns.tunnel"), 1u);
    sn_detect_destroy (&d);
}

//  entropy_min_len: names whose random part is shorter than it are not judged on entropy. The
//  41-character base32 names of short_high_entropy_names_are_a_tunnel_too are no tunnel when
//  64 characters are needed.
Test (sn_det_dnst, entropy_min_len_setting)
{
    cfg.dnst_entropy_min_len = 64;
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    uint64_t t0 = 1700000000ULL * S_NS;
    for (int i = 0; i < 120; i++) {
        char a[21], b[21], name[96];
        s_random (a, 20, s_b32);
        s_random (b, 20, s_b32);
        snprintf (name, sizeof name, "%s.%s.x.example-exfil.net", a, b);
        s_dns (d, "192.168.1.21", name, 1, -1, 53, t0 + (uint64_t) i * S_NS);
    }
    sn_detect_flush (d);
    cr_assert_eq (out.n, 0u, "%s", out.n ? out.message[0] : "");
    sn_detect_destroy (&d);
}

static long
s_maxrss_kb (void)
{
    struct rusage ru;
    cr_assert_eq (getrusage (RUSAGE_SELF, &ru), 0);
    return ru.ru_maxrss;
}

Test (sn_det_dnst, a_flood_of_domains_and_clients_costs_no_memory)
{
    cfg.dnst_max_tracked = 1024;
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    uint64_t t0 = 1700000000ULL * S_NS;
    char name[64], client[32];
    for (uint32_t i = 0; i < 20000; i++) {  //  every slot used once
        snprintf (name, sizeof name, "a%u.warm%u.com", i, i);
        snprintf (client, sizeof client, "10.0.%u.%u", (i >> 8) & 255, i & 255);
        s_dns (d, client, name, 1, -1, 53, t0 + i * 1000ULL);
        s_dns (d, client, name, 1, 3, 53, t0 + i * 1000ULL);
    }
    long before = s_maxrss_kb ();
    for (uint32_t i = 0; i < 200000; i++) {
        snprintf (name, sizeof name, "a%u.flood%u.com", i, i);
        snprintf (client, sizeof client, "10.1.%u.%u", (i >> 8) & 255, i & 255);
        s_dns (d, client, name, 16, -1, 53, t0 + S_NS + i * 1000ULL);
        s_dns (d, client, name, 16, 3, 53, t0 + S_NS + i * 1000ULL);
    }
    long after = s_maxrss_kb ();
    cr_assert (after - before < 512, "grew by %ld KiB", after - before);
    sn_detect_flush (d);
    cr_assert_eq (out.total, 0u, "%s", out.n ? out.message[0] : "");
    sn_detect_destroy (&d);
}
