/*  sn_det_ioc through the engine: feed files on disk, real flows and synthetic DNS/TLS/HTTP
    events; the finding's detector, parties, indicator, category, severity and cumulative
    count; WATCHLIST entries; reloads (SIGHUP and changed files) that swap sets without losing
    WATCHLIST entries and keep a refused file's old entries; the `block` flag. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sn_detect.h"
#include "sn_flow.h"
#include "sn_ioc.h"

#define S_SEC 1000000000ull
#define S_MS 1000000ull
#define T0 (1700000000ull * S_SEC)
#define S_MAX 256

typedef struct {
    char detector[32];
    uint64_t id;
    uint32_t revision;
    uint8_t severity, category, action;
    mm_addr_t src, dst;
    uint8_t ioc_type;
    char ioc_value[300];
    char ioc_feed[80];
    uint64_t count;
    char message[300];
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
        const mm_finding_t *f = &ev->finding;
        snprintf (r->detector, sizeof r->detector, "%.*s", (int) f->detector.len, f->detector.ptr);
        r->id = f->id;
        r->revision = f->revision;
        r->severity = ev->severity;
        r->category = f->category;
        r->action = f->action;
        r->src = ev->src;
        r->dst = ev->dst;
        r->ioc_type = f->ioc.type;
        snprintf (r->ioc_value, sizeof r->ioc_value, "%.*s", (int) f->ioc.value.len,
                  f->ioc.value.ptr);
        snprintf (r->ioc_feed, sizeof r->ioc_feed, "%.*s", (int) f->ioc.feed.len, f->ioc.feed.ptr);
        r->count = f->evidence.count;
        snprintf (r->message, sizeof r->message, "%.*s", (int) f->message.len, f->message.ptr);
    }
    return ev->seq;
}

//  Distinct finding ids of one detector.
static size_t
s_findings (const char *detector)
{
    uint64_t ids[S_MAX];
    size_t n = 0;
    for (size_t i = 0; i < n_recs; i++) {
        if (strcmp (recs[i].detector, detector) != 0)
            continue;
        bool seen = false;
        for (size_t j = 0; j < n; j++)
            seen |= ids[j] == recs[i].id;
        if (!seen)
            ids[n++] = recs[i].id;
    }
    return n;
}

//  The newest record of a detector (and, if given, of an indicator value).
static const s_rec_t *
s_last (const char *detector, const char *value)
{
    for (size_t i = n_recs; i > 0; i--)
        if (strcmp (recs[i - 1].detector, detector) == 0 &&
            (!value || strcmp (recs[i - 1].ioc_value, value) == 0))
            return &recs[i - 1];
    return NULL;
}

static sn_config_t cfg;
static sn_detect_t *engine;
static sn_flow_table_t *flows;
static char feed_path[64];
static char feed2_path[64];

static void
s_write (const char *path, const char *text)
{
    //  Write then rename: the detector never reads a half-written file.
    char tmp[80];
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen (tmp, "w");
    cr_assert (f);
    cr_assert_eq (fputs (text, f) >= 0, true);
    cr_assert_eq (fclose (f), 0);
    cr_assert_eq (rename (tmp, path), 0);
}

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
    //  This file is about indicators alone.
    cfg.scan = cfg.brute = cfg.exposed = cfg.beacon = cfg.dnst = false;
    cfg.lateral = cfg.exfil = cfg.cleartext = false;
    snprintf (feed_path, sizeof feed_path, "/tmp/test_sn_det_ioc_%d_a.txt", (int) getpid ());
    snprintf (feed2_path, sizeof feed2_path, "/tmp/test_sn_det_ioc_%d_b.csv", (int) getpid ());
    snprintf (cfg.ioc_feeds, sizeof cfg.ioc_feeds, "%s, %s", feed_path, feed2_path);
    s_write (feed_path, "# mimamori: category=malware feed=c2list\n"
                        "203.0.113.66\n"
                        "198.51.100.0/24\n"
                        "evil.example\n"
                        "t13d1516h2_8daaf6152771_e5627efa2ab1\n");
    s_write (feed2_path, "type,value,category,severity,block\n"
                         "url,http://dl.example/payload.exe,malware,high,no\n"
                         "domain,dl.example,ioc_match,medium,no\n"
                         "ja3,e7d705a3286e19ea42f587b344ee6865,malware,,\n"
                         "cert_sha1,a4fb65f8a157fe0dc017c1b55162633a1873a0b4,malware,critical,\n"
                         "ip,192.0.2.200,scan,low,\n"
                         "ip,192.0.2.201,malware,high,yes\n");
}

static void
s_teardown (void)
{
    sn_detect_destroy (&engine);
    sn_flow_table_destroy (&flows);
    unlink (feed_path);
    unlink (feed2_path);
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

static bool
s_is (mm_addr_t a, const char *text)
{
    mm_addr_t b = s_ip (text);
    return a.len == b.len && memcmp (a.b, b.b, a.len) == 0;
}

//  A TCP SYN from src:sport to dst:dport (a new flow).
static void
s_syn (const char *src, uint16_t sport, const char *dst, uint16_t dport, uint64_t ts)
{
    sn_pkt_t p;
    memset (&p, 0, sizeof p);
    p.src = s_ip (src);
    p.dst = s_ip (dst);
    p.ip_version = p.src.len == 4 ? 4 : 6;
    p.proto = 6;
    p.sport = sport;
    p.dport = dport;
    p.has_ports = true;
    p.tcp_flags = 0x02;
    p.ip_len = 40;
    int dir;
    sn_flow_t *f = sn_flow_update (flows, &p, ts, &dir);
    sn_detect_packet (engine, &p, f, dir, ts);
}

static void
s_event_init (mm_event_t *ev, uint8_t kind, const char *src, const char *dst, uint16_t dport,
              uint64_t ts)
{
    memset (ev, 0, sizeof *ev);
    ev->ts = ts;
    ev->kind = kind;
    ev->proto = kind == MM_KIND_DNS ? 17 : 6;
    ev->src = s_ip (src);
    ev->dst = s_ip (dst);
    ev->has = MM_EV_HAS_PORTS;
    ev->sport = 50000;
    ev->dport = dport;
}

static void
s_dns (const char *client, const char *qname, bool response, uint64_t ts)
{
    mm_event_t ev;
    s_event_init (&ev, MM_KIND_DNS, client, "10.0.0.53", 53, ts);
    ev.has |= MM_EV_HAS_DNS;
    ev.dns.has = MM_DNS_HAS_QTYPE | (response ? MM_DNS_HAS_RCODE : 0);
    ev.dns.qname = mm_str (qname);
    ev.dns.qtype = 1;
    sn_detect_event (engine, &ev);
}

static void
s_wait_reload (uint64_t ts)
{
    struct timespec ms = {0, 1000 * 1000};
    for (int i = 0; i < 5000 && sn_det_ioc_reloading (engine); i++) {
        nanosleep (&ms, NULL);
        sn_detect_tick (engine, ts);
    }
    cr_assert_not (sn_det_ioc_reloading (engine), "the reload never finished");
}

TestSuite (sn_det_ioc, .init = s_setup, .fini = s_teardown);

//  An inside host calls a listed C2 address twice: ONE high finding, count 2 after flush.
Test (sn_det_ioc, flow_to_listed_address)
{
    s_start ();
    s_syn ("10.0.0.5", 40000, "203.0.113.66", 443, T0);
    s_syn ("10.0.0.5", 40001, "203.0.113.66", 443, T0 + S_SEC);
    s_syn ("10.0.0.5", 40002, "203.0.113.67", 443, T0 + 2 * S_SEC);  //  not listed
    sn_detect_flush (engine);
    cr_assert_eq (s_findings ("ioc.ip"), 1);
    const s_rec_t *r = s_last ("ioc.ip", NULL);
    cr_assert (s_is (r->src, "10.0.0.5"));
    cr_assert (s_is (r->dst, "203.0.113.66"));
    cr_assert_eq (r->severity, MM_SEV_HIGH);
    cr_assert_eq (r->category, MM_CAT_MALWARE);
    cr_assert_eq (r->ioc_type, MM_IOC_IP);
    cr_assert_str_eq (r->ioc_value, "203.0.113.66");
    cr_assert_str_eq (r->ioc_feed, "c2list");
    cr_assert_eq (r->count, 2);
    cr_assert (strstr (r->message, "destination 203.0.113.66"), "%s", r->message);
    cr_assert_eq (recs[0].revision, 0);
    cr_assert_eq (recs[0].count, 1, "raised at once, on the first flow");
}

//  A listed network, and the inbound rule: contact from outside is at most medium.
Test (sn_det_ioc, network_and_inbound_cap)
{
    s_start ();
    s_syn ("198.51.100.9", 50000, "10.0.0.8", 22, T0);
    sn_detect_flush (engine);
    cr_assert_eq (s_findings ("ioc.ip"), 1);
    const s_rec_t *r = s_last ("ioc.ip", NULL);
    cr_assert (s_is (r->src, "198.51.100.9"));
    cr_assert (s_is (r->dst, "10.0.0.8"));
    cr_assert_eq (r->ioc_type, MM_IOC_CIDR);
    cr_assert_str_eq (r->ioc_value, "198.51.100.0/24");
    cr_assert_eq (r->severity, MM_SEV_MEDIUM, "malware list, but inbound");
    cr_assert (strstr (r->message, "source 198.51.100.9"), "%s", r->message);
}

//  DNS: a query and its response are one sighting; a subdomain matches; answers are checked.
Test (sn_det_ioc, dns_names_and_answers)
{
    s_start ();
    s_dns ("10.0.0.5", "a.b.EVIL.example.", false, T0);
    s_dns ("10.0.0.5", "a.b.EVIL.example.", true, T0 + S_MS);
    s_dns ("10.0.0.5", "c.evil.example", false, T0 + S_SEC);
    s_dns ("10.0.0.6", "good.example", true, T0 + S_SEC);  //  response only, clean
    //  A response whose answers point at a listed address and a listed name.
    mm_event_t ev;
    s_event_init (&ev, MM_KIND_DNS, "10.0.0.6", "10.0.0.53", 53, T0 + 2 * S_SEC);
    ev.has |= MM_EV_HAS_DNS;
    ev.dns.has = MM_DNS_HAS_QTYPE | MM_DNS_HAS_RCODE;
    ev.dns.qname = mm_str ("innocent.example");
    ev.dns.n_answers = 3;
    ev.dns.answers[0] = (mm_dns_answer_t){5, mm_str ("cdn.evil.example"), 60};
    ev.dns.answers[1] = (mm_dns_answer_t){1, mm_str ("198.51.100.7"), 60};
    ev.dns.answers[2] = (mm_dns_answer_t){1, mm_str ("198.51.100.8"), 60};
    sn_detect_event (engine, &ev);
    sn_detect_flush (engine);
    //  (10.0.0.5, evil.example) and, for 10.0.0.6, evil.example (CNAME) and the network.
    cr_assert_eq (s_findings ("ioc.dns"), 3);
    const s_rec_t *r = NULL;
    for (size_t i = 0; i < n_recs; i++)
        if (s_is (recs[i].src, "10.0.0.5"))
            r = &recs[i];
    cr_assert (r);
    cr_assert_str_eq (r->ioc_value, "evil.example");
    cr_assert_eq (r->count, 2, "two queries; the response adds nothing");
    cr_assert (s_is (r->dst, "10.0.0.53"));
    r = s_last ("ioc.dns", "198.51.100.0/24");
    cr_assert (r);
    cr_assert_eq (r->count, 1, "two answers in one network: one sighting");
    cr_assert (strstr (r->message, "DNS answer 198.51.100.7"), "%s", r->message);
    r = NULL;
    for (size_t i = 0; i < n_recs; i++)
        if (s_is (recs[i].src, "10.0.0.6") && strcmp (recs[i].ioc_value, "evil.example") == 0)
            r = &recs[i];
    cr_assert (r);
    cr_assert (strstr (r->message, "CNAME cdn.evil.example"), "%s", r->message);
}

Test (sn_det_ioc, tls_sni_certificate_ja3_ja4)
{
    s_start ();
    mm_event_t ev;
    s_event_init (&ev, MM_KIND_TLS, "10.0.0.5", "192.0.2.99", 443, T0);
    ev.has |= MM_EV_HAS_TLS;
    ev.tls.sni = mm_str ("www.evil.example");
    ev.tls.has = MM_TLS_HAS_JA3 | MM_TLS_HAS_CERT_SHA1;
    static const uint8_t ja3[16] = {0xe7, 0xd7, 0x05, 0xa3, 0x28, 0x6e, 0x19, 0xea,
                                    0x42, 0xf5, 0x87, 0xb3, 0x44, 0xee, 0x68, 0x65};
    static const uint8_t sha1[20] = {0xa4, 0xfb, 0x65, 0xf8, 0xa1, 0x57, 0xfe, 0x0d, 0xc0, 0x17,
                                     0xc1, 0xb5, 0x51, 0x62, 0x63, 0x3a, 0x18, 0x73, 0xa0, 0xb4};
    memcpy (ev.tls.ja3, ja3, 16);
    memcpy (ev.tls.cert_sha1, sha1, 20);
    ev.tls.ja4 = mm_str ("t13d1516h2_8daaf6152771_e5627efa2ab1");
    sn_detect_event (engine, &ev);
    sn_detect_flush (engine);
    cr_assert_eq (s_findings ("ioc.tls"), 2, "SNI and certificate");
    cr_assert_eq (s_findings ("ioc.ja3"), 1);
    cr_assert_eq (s_findings ("ioc.ja4"), 1);
    const s_rec_t *r = s_last ("ioc.tls", "a4fb65f8a157fe0dc017c1b55162633a1873a0b4");
    cr_assert (r);
    cr_assert_eq (r->ioc_type, MM_IOC_CERT_SHA1);
    cr_assert_eq (r->severity, MM_SEV_CRITICAL);
    r = s_last ("ioc.tls", "evil.example");
    cr_assert (r);
    cr_assert_eq (r->ioc_type, MM_IOC_DOMAIN);
    r = s_last ("ioc.ja3", NULL);
    cr_assert_str_eq (r->ioc_value, "e7d705a3286e19ea42f587b344ee6865");
    cr_assert_eq (r->severity, MM_SEV_HIGH, "a CSV entry says malware, so high");
    r = s_last ("ioc.ja4", NULL);
    cr_assert_eq (r->ioc_type, MM_IOC_JA4);
    cr_assert (s_is (r->src, "10.0.0.5") && s_is (r->dst, "192.0.2.99"));
}

Test (sn_det_ioc, http_host_and_url)
{
    s_start ();
    mm_event_t ev;
    s_event_init (&ev, MM_KIND_HTTP, "10.0.0.5", "192.0.2.98", 80, T0);
    ev.has |= MM_EV_HAS_HTTP;
    ev.http.method = mm_str ("GET");
    ev.http.host = mm_str ("DL.example:80");
    ev.http.uri = mm_str ("/payload.exe?x=1");
    sn_detect_event (engine, &ev);
    ev.http.uri = mm_str ("/other");
    ev.ts += S_SEC;
    sn_detect_event (engine, &ev);
    sn_detect_flush (engine);
    cr_assert_eq (s_findings ("ioc.http"), 2, "the host and the URL are two indicators");
    const s_rec_t *r = s_last ("ioc.http", "dl.example/payload.exe");
    cr_assert (r);
    cr_assert_eq (r->ioc_type, MM_IOC_URL);
    cr_assert_eq (r->severity, MM_SEV_HIGH);
    cr_assert_eq (r->count, 1);
    r = s_last ("ioc.http", "dl.example");
    cr_assert (r);
    cr_assert_eq (r->severity, MM_SEV_MEDIUM);
    cr_assert_eq (r->count, 2);
}

//  WATCHLIST entries match, are revoked, and survive a reload of the feeds.
Test (sn_det_ioc, watchlist_and_reload)
{
    s_start ();
    static mm_watchlist_t wl;
    memset (&wl, 0, sizeof wl);
    wl.serial = 1;
    wl.n_entries = 2;
    wl.entries[0] = (mm_wl_entry_t){.op = MM_WL_ADD,
                                    .type = MM_IOC_IP,
                                    .value = mm_str ("10.0.0.77"),
                                    .category = MM_CAT_LATERAL_MOVEMENT,
                                    .severity = MM_SEV_HIGH,
                                    .feed = mm_str ("lateral")};
    wl.entries[1] =
        (mm_wl_entry_t){.op = MM_WL_ADD, .type = MM_IOC_DOMAIN, .value = mm_str ("pushed.example")};
    cr_assert_eq (sn_det_ioc_watchlist (engine, &wl), 2);
    s_syn ("10.0.0.5", 40000, "10.0.0.77", 445, T0);
    const s_rec_t *r = s_last ("ioc.ip", NULL);
    cr_assert (r);
    cr_assert_str_eq (r->ioc_feed, "lateral");
    cr_assert_eq (r->category, MM_CAT_LATERAL_MOVEMENT);
    cr_assert_eq (r->severity, MM_SEV_HIGH);

    //  A reload with a changed feed: the new entry is in, the removed one out, WATCHLIST kept.
    s_write (feed_path, "# mimamori: category=malware feed=c2list\n192.0.2.150\n");
    sn_detect_reload (engine);
    s_wait_reload (T0 + S_SEC);
    sn_ioc_match_t m;
    mm_addr_t a = s_ip ("192.0.2.150");
    cr_assert (sn_det_ioc_match_addr (engine, &a, 0, &m));
    a = s_ip ("203.0.113.66");
    cr_assert_not (sn_det_ioc_match_addr (engine, &a, 0, &m));
    cr_assert (sn_det_ioc_match_domain (engine, "x.pushed.example", 16, 0, &m));
    a = s_ip ("10.0.0.77");
    cr_assert (sn_det_ioc_match_addr (engine, &a, 0, &m));
    a = s_ip ("192.0.2.201");
    cr_assert (sn_det_ioc_match_addr (engine, &a, 0, &m), "the other file stays");

    //  Revoked: no longer matches.
    memset (&wl, 0, sizeof wl);
    wl.serial = 2;
    wl.n_entries = 1;
    wl.entries[0] =
        (mm_wl_entry_t){.op = MM_WL_REVOKE, .type = MM_IOC_IP, .value = mm_str ("10.0.0.77")};
    cr_assert_eq (sn_det_ioc_watchlist (engine, &wl), 1);
    a = s_ip ("10.0.0.77");
    cr_assert_not (sn_det_ioc_match_addr (engine, &a, 0, &m));
}

//  A reload that meets a broken file keeps that file's old entries (and says why on stderr);
//  a missing file likewise.
Test (sn_det_ioc, bad_file_keeps_old_entries)
{
    s_start ();
    s_write (feed_path, "<html>503 Service Unavailable</html>\n");
    sn_detect_reload (engine);
    s_wait_reload (T0);
    sn_ioc_match_t m;
    mm_addr_t a = s_ip ("203.0.113.66");
    cr_assert (sn_det_ioc_match_addr (engine, &a, 0, &m), "old entries kept");
    cr_assert_str_eq (m.feed, "c2list");
    unlink (feed2_path);
    sn_detect_reload (engine);
    s_wait_reload (T0);
    a = s_ip ("192.0.2.201");
    cr_assert (sn_det_ioc_match_addr (engine, &a, 0, &m), "a vanished file keeps its entries");
    a = s_ip ("203.0.113.66");
    cr_assert (sn_det_ioc_match_addr (engine, &a, 0, &m));
    //  Packets meanwhile are matched as before.
    s_syn ("10.0.0.5", 40000, "203.0.113.66", 443, T0 + S_SEC);
    cr_assert_eq (s_findings ("ioc.ip"), 1);
}

//  Without SIGHUP: a changed file is noticed within reload_check seconds (wall clock).
Test (sn_det_ioc, changed_file_is_reloaded_by_tick)
{
    cfg.ioc_reload_check = 1;
    s_start ();
    s_write (feed_path, "192.0.2.151\n");
    struct timespec pause = {1, 100 * 1000 * 1000};
    nanosleep (&pause, NULL);
    sn_detect_tick (engine, T0);
    s_wait_reload (T0);
    sn_ioc_match_t m;
    mm_addr_t a = s_ip ("192.0.2.151");
    cr_assert (sn_det_ioc_match_addr (engine, &a, 0, &m));
    char name[64];
    snprintf (name, sizeof name, "%s", strrchr (feed_path, '/') + 1);
    *strrchr (name, '.') = 0;
    cr_assert_str_eq (m.feed, name, "the file's name without extension");
}

//  A feed that is missing at start is picked up when it appears.
Test (sn_det_ioc, missing_feed_at_start)
{
    unlink (feed_path);
    cfg.ioc_reload_check = 1;
    s_start ();
    sn_ioc_match_t m;
    mm_addr_t a = s_ip ("203.0.113.66");
    cr_assert_not (sn_det_ioc_match_addr (engine, &a, 0, &m));
    s_write (feed_path, "203.0.113.66\n");
    struct timespec pause = {1, 100 * 1000 * 1000};
    nanosleep (&pause, NULL);
    sn_detect_tick (engine, T0);
    s_wait_reload (T0);
    cr_assert (sn_det_ioc_match_addr (engine, &a, 0, &m));
}

//  An entry marked `block` asks the engine to block (here with a harmless nft stand-in).
Test (sn_det_ioc, block_flag_reaches_the_engine)
{
    cfg.block = true;
    snprintf (cfg.block_nft, sizeof cfg.block_nft, "/bin/true");
    s_start ();
    s_syn ("10.0.0.5", 40000, "192.0.2.201", 443, T0);  //  block=yes
    s_syn ("10.0.0.5", 40001, "192.0.2.200", 443, T0);  //  block=no, low
    sn_detect_flush (engine);
    cr_assert_eq (s_findings ("ioc.ip"), 2);
    cr_assert_eq (s_findings ("defence.block"), 1);
    const s_rec_t *r = s_last ("defence.block", NULL);
    cr_assert (s_is (r->src, "192.0.2.201"));
    cr_assert_eq (r->action, MM_ACTION_BLOCK);
}

Test (sn_det_ioc, disabled_or_empty)
{
    cfg.ioc = false;
    s_start ();
    static mm_watchlist_t wl;
    memset (&wl, 0, sizeof wl);
    cr_assert_eq (sn_det_ioc_watchlist (engine, &wl), -1);
    sn_ioc_match_t m;
    mm_addr_t a = s_ip ("203.0.113.66");
    cr_assert_not (sn_det_ioc_match_addr (engine, &a, 0, &m));
    s_syn ("10.0.0.5", 40000, "203.0.113.66", 443, T0);
    sn_detect_flush (engine);
    cr_assert_eq (n_recs, 0);
    sn_detect_destroy (&engine);
    sn_flow_table_destroy (&flows);
    cfg.ioc = true;
    cfg.ioc_feeds[0] = 0;
    s_start ();
    s_syn ("10.0.0.5", 40000, "203.0.113.66", 443, T0);
    sn_detect_reload (engine);  //  nothing to reload
    sn_detect_flush (engine);
    cr_assert_eq (n_recs, 0);
}
