/*  sn_det_exposed: handshakes from outside to risky inside services through real flows and the
    engine, banners on other ports, HTTP admin panels from events; one finding per (inside
    host, port, service) with the outside addresses counted, not named as its source. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "sn_detect.h"
#include "sn_flow.h"

#define S_SEC 1000000000ull
#define S_MS 1000000ull
#define T0 (1700000000ull * S_SEC)

#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

#define S_MAX 256

typedef struct {
    char detector[32];
    uint64_t id;
    uint32_t revision;
    uint8_t severity, category;
    mm_addr_t src, dst;
    bool has_dport;
    uint16_t dport;
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
        r->id = ev->finding.id;
        r->revision = ev->finding.revision;
        r->severity = ev->severity;
        r->category = ev->finding.category;
        r->src = ev->src;
        r->dst = ev->dst;
        r->has_dport = ev->has & MM_EV_HAS_DPORT;
        r->dport = ev->dport;
        r->ev = ev->finding.evidence;
        snprintf (r->message, sizeof r->message, "%.*s", (int) ev->finding.message.len,
                  ev->finding.message.ptr);
        if (ev->finding.n_attack)
            snprintf (r->attack, sizeof r->attack, "%.*s", (int) ev->finding.attack[0].len,
                      ev->finding.attack[0].ptr);
    }
    return ev->seq;
}

static size_t
s_ids (void)
{
    uint64_t ids[S_MAX];
    size_t n = 0;
    for (size_t i = 0; i < n_recs; i++) {
        bool seen = false;
        for (size_t j = 0; j < n; j++)
            seen |= ids[j] == recs[i].id;
        if (!seen)
            ids[n++] = recs[i].id;
    }
    return n;
}

static const s_rec_t *
s_newest (void)
{
    return n_recs ? &recs[n_recs - 1] : NULL;
}

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
    cfg.scan = false;  //  this file is about exposure alone
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

static void
s_tcp (mm_addr_t src, uint16_t sport, mm_addr_t dst, uint16_t dport, uint8_t flags,
       const char *data, uint64_t ts)
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
    if (data) {
        p.payload = (const uint8_t *) data;
        p.payload_len = p.payload_wire_len = (uint32_t) strlen (data);
    }
    p.ip_len = 40 + p.payload_len;
    int dir;
    sn_flow_t *f = sn_flow_update (flows, &p, ts, &dir);
    sn_detect_packet (engine, &p, f, dir, ts);
}

//  A full handshake from client:cport to server:port, then optionally the server's banner.
static void
s_connect (const char *client, uint16_t cport, const char *server, uint16_t port,
           const char *banner, uint64_t ts)
{
    mm_addr_t c = s_ip (client), s = s_ip (server);
    s_tcp (c, cport, s, port, F_SYN, NULL, ts);
    s_tcp (s, port, c, cport, F_SYN | F_ACK, NULL, ts + S_MS);
    s_tcp (c, cport, s, port, F_ACK, NULL, ts + 2 * S_MS);
    if (banner)
        s_tcp (s, port, c, cport, F_PSH | F_ACK, banner, ts + 3 * S_MS);
}

static void
s_http (const char *client, const char *server, uint16_t port, const char *uri, uint16_t status,
        uint64_t ts)
{
    mm_event_t ev;
    memset (&ev, 0, sizeof ev);
    ev.ts = ts;
    ev.kind = MM_KIND_HTTP;
    ev.proto = 6;
    ev.src = s_ip (client);
    ev.dst = s_ip (server);
    ev.has = MM_EV_HAS_HTTP | MM_EV_HAS_PORTS;
    ev.sport = 45000;
    ev.dport = port;
    ev.http.method = mm_str ("GET");
    ev.http.uri = mm_str (uri);
    ev.http.status = status;
    sn_detect_event (engine, &ev);
}

TestSuite (sn_det_exposed, .init = s_setup, .fini = s_teardown);

//  RDP reached from five outside addresses, twice each: ONE finding about the service
//  (inside host and port, no source), high, counting 10 connections from 5 addresses.
Test (sn_det_exposed, rdp_from_outside_is_one_high_finding)
{
    char src[32];
    uint64_t ts = T0;
    for (unsigned round = 0; round < 2; round++)
        for (unsigned i = 1; i <= 5; i++) {
            snprintf (src, sizeof src, "203.0.113.%u", i);
            s_connect (src, (uint16_t) (50000 + round * 10 + i), "10.0.0.5", 3389, NULL, ts);
            ts += 100 * S_MS;
        }
    sn_detect_flush (engine);
    cr_assert_eq (s_ids (), 1);
    const s_rec_t *r = s_newest ();
    cr_assert_str_eq (r->detector, "exposed.service");
    cr_assert_eq (r->category, MM_CAT_EXPOSED_SERVICE);
    cr_assert_str_eq (r->attack, "T1133");
    cr_assert_eq (r->severity, MM_SEV_HIGH);
    cr_assert_eq (r->src.len, 0, "the finding has no single source");
    char dst[64];
    cr_assert_str_eq (sn_detect_addr_str (&r->dst, dst, sizeof dst), "10.0.0.5");
    cr_assert (r->has_dport);
    cr_assert_eq (r->dport, 3389);
    cr_assert_eq (r->ev.count, 10);
    cr_assert_eq (r->ev.distinct_hosts, 5);
    cr_assert_eq (r->ev.first_ts, T0 + 2 * S_MS);
    cr_assert_str_eq (r->message, "RDP (3389/tcp) on 10.0.0.5 is reachable from outside "
                                  "(handshake completed): 10 connections from 5 outside "
                                  "addresses, latest 203.0.113.5");
}

//  Two services on one host, and one service on two hosts: three findings.
Test (sn_det_exposed, one_finding_per_host_and_port)
{
    s_connect ("203.0.113.1", 50001, "10.0.0.5", 3306, NULL, T0);
    s_connect ("203.0.113.1", 50002, "10.0.0.5", 5432, NULL, T0 + S_SEC);
    s_connect ("203.0.113.1", 50003, "10.0.0.6", 3306, NULL, T0 + 2 * S_SEC);
    s_connect ("203.0.113.2", 50004, "10.0.0.6", 3306, NULL, T0 + 3 * S_SEC);
    sn_detect_flush (engine);
    cr_assert_eq (s_ids (), 3);
    for (size_t i = 0; i < n_recs; i++) {
        cr_assert_eq (recs[i].severity, MM_SEV_MEDIUM, "%s", recs[i].message);
        cr_assert_str_eq (recs[i].attack, "T1190");
    }
    cr_assert (strstr (s_newest ()->message, "MySQL (3306/tcp) on 10.0.0.6"), "%s",
               s_newest ()->message);
    cr_assert_eq (s_newest ()->ev.distinct_hosts, 2);
}

//  What is not an exposure: inside to inside, inside to outside, a handshake never
//  completed (a scan's SYN, SYN-ACK, RST), a refused connection, a port not listed.
Test (sn_det_exposed, quiet_cases)
{
    s_connect ("10.0.0.9", 50001, "10.0.0.5", 3389, NULL, T0);
    s_connect ("10.0.0.9", 50002, "203.0.113.1", 3389, NULL, T0);
    mm_addr_t out = s_ip ("203.0.113.1"), in = s_ip ("10.0.0.5");
    s_tcp (out, 50003, in, 445, F_SYN, NULL, T0);
    s_tcp (in, 445, out, 50003, F_SYN | F_ACK, NULL, T0 + S_MS);
    s_tcp (out, 50003, in, 445, F_RST, NULL, T0 + 2 * S_MS);
    s_tcp (out, 50004, in, 23, F_SYN, NULL, T0);
    s_tcp (in, 23, out, 50004, F_RST | F_ACK, NULL, T0 + S_MS);
    s_connect ("203.0.113.1", 50005, "10.0.0.5", 8080, NULL, T0);
    sn_detect_flush (engine);
    cr_assert_eq (n_recs, 0, "%s", n_recs ? recs[0].message : "");
}

//  VNC and Telnet on ports of their own are recognised by the server's first bytes.
Test (sn_det_exposed, banners_on_other_ports)
{
    s_connect ("95.237.48.208", 50001, "192.168.2.110", 6900, "RFB 003.008\n", T0);
    s_connect ("95.237.48.208", 50002, "192.168.2.111", 2300, "\xff\xfd\x18\xff\xfd\x20", T0);
    s_connect ("95.237.48.208", 50003, "192.168.2.112", 8000, "HTTP/1.1 200 OK\r\n", T0);
    sn_detect_flush (engine);
    cr_assert_eq (s_ids (), 2);
    cr_assert (strstr (recs[0].message, "VNC (6900/tcp) on 192.168.2.110"), "%s", recs[0].message);
    cr_assert (strstr (recs[0].message, "recognised by its banner"), "%s", recs[0].message);
    cr_assert_eq (recs[0].severity, MM_SEV_MEDIUM);
    cr_assert (strstr (recs[1].message, "Telnet (2300/tcp) on 192.168.2.111"), "%s",
               recs[1].message);
    cr_assert_eq (recs[1].severity, MM_SEV_HIGH);
}

//  Admin panels over HTTP: answered 2xx or 401 only; the public WordPress AJAX endpoint
//  and requests from inside do not count.
Test (sn_det_exposed, admin_panels)
{
    s_http ("203.0.113.7", "10.0.0.5", 80, "/wp-login.php", 200, T0);
    s_http ("203.0.113.8", "10.0.0.5", 80, "/wp-login.php?redirect_to=x", 200, T0 + S_SEC);
    s_http ("203.0.113.7", "10.0.0.5", 8080, "/manager/html", 401, T0);
    s_http ("203.0.113.7", "10.0.0.5", 80, "/phpmyadmin/", 404, T0);
    s_http ("203.0.113.7", "10.0.0.5", 80, "/wp-admin/admin-ajax.php", 200, T0);
    s_http ("203.0.113.7", "10.0.0.5", 443, "/remote/login?lang=en", 302, T0);
    s_http ("10.0.0.9", "10.0.0.5", 80, "/phpMyAdmin/index.php", 200, T0);
    s_http ("203.0.113.7", "10.0.0.5", 80, "/index.html", 200, T0);
    sn_detect_flush (engine);
    cr_assert_eq (s_ids (), 2);
    bool wp = false, tomcat = false;
    for (size_t i = 0; i < n_recs; i++) {
        const s_rec_t *r = &recs[i];
        cr_assert_eq (r->severity, MM_SEV_MEDIUM);
        cr_assert_eq (r->src.len, 0);
        if (strstr (r->message, "WordPress login (80/tcp) on 10.0.0.5") && r->dport == 80) {
            wp = true;
            if (r->revision > 0)
                cr_assert_eq (r->ev.distinct_hosts, 2);
        }
        if (strstr (r->message, "Tomcat Manager (8080/tcp)") && r->dport == 8080)
            tomcat = true;
    }
    cr_assert (wp && tomcat);
}

Test (sn_det_exposed, allowlisted_source)
{
    char err[256];
    cr_assert_eq (mm_netlist_parse (&cfg.exposed_allow, "203.0.113.0/24", err, sizeof err), 0, "%s",
                  err);
    s_connect ("203.0.113.1", 50001, "10.0.0.5", 3389, NULL, T0);
    s_http ("203.0.113.7", "10.0.0.5", 80, "/wp-login.php", 200, T0);
    sn_detect_flush (engine);
    cr_assert_eq (n_recs, 0);
}

//  [exposed] ports takes lists and ranges; a bad list disables the detector (and says so).
Test (sn_det_exposed, ports_setting)
{
    s_teardown ();
    snprintf (cfg.exposed_ports, sizeof cfg.exposed_ports, "8000-8010, 9999");
    s_start ();
    cr_assert (sn_detect_module (engine, "exposed"));
    s_connect ("203.0.113.1", 50001, "10.0.0.5", 8005, NULL, T0);
    s_connect ("203.0.113.1", 50002, "10.0.0.5", 3389, NULL, T0);
    sn_detect_flush (engine);
    cr_assert_eq (s_ids (), 1);
    cr_assert (strstr (recs[0].message, "port 8005 (8005/tcp)"), "%s", recs[0].message);
    s_teardown ();
    snprintf (cfg.exposed_ports, sizeof cfg.exposed_ports, "22,abc");
    s_start ();
    cr_assert_null (sn_detect_module (engine, "exposed"));
    s_teardown ();
    cfg.exposed = false;
    snprintf (cfg.exposed_ports, sizeof cfg.exposed_ports, "22");
    s_start ();
    cr_assert_null (sn_detect_module (engine, "exposed"));
}

//  20 inside hosts reached on 3306, then the first again from another address: the count of the
//  first host's finding, in its newest revision.
static uint64_t
s_first_host_count (void)
{
    char dst[32];
    uint64_t ts = T0;
    for (unsigned i = 1; i <= 20; i++, ts += S_SEC) {
        snprintf (dst, sizeof dst, "10.0.0.%u", i);
        s_connect ("203.0.113.1", (uint16_t) (50000 + i), dst, 3306, NULL, ts);
    }
    s_connect ("203.0.113.2", 51000, "10.0.0.1", 3306, NULL, ts);
    sn_detect_flush (engine);
    uint64_t count = 0;
    for (size_t i = 0; i < n_recs; i++)
        if (strcmp (sn_detect_addr_str (&recs[i].dst, dst, sizeof dst), "10.0.0.1") == 0)
            count = recs[i].ev.count;
    return count;
}

//  max_tracked bounds the services followed at once: beyond it the least recently reached is
//  forgotten, and its count starts again (its finding stays one finding in the engine).
Test (sn_det_exposed, max_tracked_setting)
{
    cr_assert_eq (s_first_host_count (), 2, "the default follows 1,024 services");
    cr_assert_eq (s_ids (), 20);
    s_teardown ();
    cfg.exposed_max_tracked = 16;
    s_start ();
    cr_assert_eq (s_first_host_count (), 1, "with 16, the first host was forgotten");
    cr_assert_eq (s_ids (), 20, "still one finding per service");
}
