/*  sn_det_cleartext through the detector engine: passwords that leave the company in clear
    text (Telnet, FTP, HTTP Basic, POP3/IMAP/SMTP) are reported with the user, never the
    password; traffic that stays inside or comes in is not. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "sn_detect.h"

#define S_NS 1000000000ULL
#define S_T0 1700000000000000000ULL

typedef struct {
    char detector[48];
    uint64_t id;
    uint32_t revision;
    uint8_t severity;
    mm_addr_t src, dst;
    uint16_t dport;
    mm_evidence_t evidence;
    char message[256];
} s_found_t;

static s_found_t s_found[256];
static int s_n_found;
static uint64_t s_seq;
static sn_config_t s_cfg;

static uint64_t
s_emit (void *arg, mm_event_t *ev)
{
    (void) arg;
    ev->seq = ++s_seq;
    if (ev->finding.id == 0)
        ev->finding.id = ev->seq;
    cr_assert_lt (s_n_found, 256);
    s_found_t *f = &s_found[s_n_found++];
    memset (f, 0, sizeof *f);
    snprintf (f->detector, sizeof f->detector, "%.*s", (int) ev->finding.detector.len,
              ev->finding.detector.ptr);
    f->id = ev->finding.id;
    f->revision = ev->finding.revision;
    f->severity = ev->severity;
    f->src = ev->src;
    f->dst = ev->dst;
    f->dport = ev->dport;
    f->evidence = ev->finding.evidence;
    snprintf (f->message, sizeof f->message, "%.*s", (int) ev->finding.message.len,
              ev->finding.message.ptr);
    return ev->seq;
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
s_addr_is (const mm_addr_t *a, const char *text)
{
    mm_addr_t b = s_ip (text);
    return a->len == b.len && memcmp (a->b, b.b, b.len) == 0;
}

static int
s_findings (const char *detector, const s_found_t **newest)
{
    uint64_t ids[256];
    int n = 0;
    const s_found_t *last = NULL;
    for (int i = 0; i < s_n_found; i++) {
        if (strcmp (s_found[i].detector, detector) != 0)
            continue;
        bool seen = false;
        for (int j = 0; j < n; j++)
            seen |= ids[j] == s_found[i].id;
        if (!seen)
            ids[n++] = s_found[i].id;
        last = &s_found[i];
    }
    if (newest)
        *newest = last;
    return n;
}

static void
s_defaults (void)
{
    char err[256];
    cr_assert_eq (sn_config_defaults (&s_cfg, err, sizeof err), 0, "%s", err);
    //  Only this detector: the others have their own tests.
    s_cfg.scan = false;
    s_cfg.brute = false;
    s_cfg.exposed = false;
    s_cfg.ioc = false;
    s_cfg.beacon = false;
    s_cfg.dnst = false;
    s_cfg.lateral = false;
    s_cfg.exfil = false;
}

static sn_detect_t *
s_engine (void)
{
    s_n_found = 0;
    s_seq = 0;
    sn_detect_t *d = sn_detect_new (&s_cfg, s_emit, NULL);
    cr_assert (d);
    return d;
}

static sn_flow_t
s_flow (uint64_t id, const char *client, const char *server, uint16_t sport)
{
    sn_flow_t f;
    memset (&f, 0, sizeof f);
    f.id = id;
    f.proto = 6;
    f.ip_version = 4;
    f.orig = s_ip (client);
    f.resp = s_ip (server);
    f.orig_port = (uint16_t) (40000 + id);
    f.resp_port = sport;
    return f;
}

//  A client segment (dir 0) or a server one (dir 1); the engine marks the flow's sides as
//  inside or outside home_net on its first packet.
static void
s_seg (sn_detect_t *d, sn_flow_t *f, int dir, const void *data, size_t len, uint64_t ts)
{
    sn_pkt_t pkt;
    memset (&pkt, 0, sizeof pkt);
    pkt.ip_version = 4;
    pkt.proto = 6;
    pkt.src = dir ? f->resp : f->orig;
    pkt.dst = dir ? f->orig : f->resp;
    pkt.sport = dir ? f->resp_port : f->orig_port;
    pkt.dport = dir ? f->orig_port : f->resp_port;
    pkt.has_ports = true;
    pkt.tcp_flags = 0x18;
    pkt.ip_len = (uint32_t) (40 + len);
    pkt.payload = data;
    pkt.payload_len = pkt.payload_wire_len = (uint32_t) len;
    f->pkts[dir]++;
    f->ip_bytes[dir] += pkt.ip_len;
    sn_detect_packet (d, &pkt, f, dir, ts);
}

static void
s_text (sn_detect_t *d, sn_flow_t *f, int dir, const char *text, uint64_t ts)
{
    s_seg (d, f, dir, text, strlen (text), ts);
}

TestSuite (sn_det_cleartext, .init = s_defaults);

//  "user:s3cret" in base64, with the odd spacing and case some clients use.
Test (sn_det_cleartext, http_basic_names_the_user_not_the_password)
{
    sn_detect_t *d = s_engine ();
    sn_flow_t f = s_flow (1, "10.0.0.2", "198.51.100.10", 8080);
    const char *req = "GET /admin HTTP/1.1\r\nHost: router.example.net:8080\r\n"
                      "AUTHORIZATION:  basic  dXNlcjpzM2NyZXQ=\r\nAccept: */*\r\n\r\n";
    s_text (d, &f, 0, req, S_T0);
    s_text (d, &f, 1, "HTTP/1.1 200 OK\r\n\r\n", S_T0);
    s_text (d, &f, 0, req, S_T0 + S_NS);
    sn_detect_flush (d);
    const s_found_t *found;
    cr_assert_eq (s_findings ("cleartext.http_basic", &found), 1);
    cr_assert_eq (found->severity, MM_SEV_INFO);
    cr_assert (s_addr_is (&found->src, "10.0.0.2") && s_addr_is (&found->dst, "198.51.100.10"));
    cr_assert_eq (found->dport, 8080);
    cr_assert_eq (found->evidence.count, 2, "two requests");
    cr_assert_str_eq (found->message,
                      "HTTP Basic credentials of user 'user' for host router.example.net:8080 sent "
                      "to outside server 198.51.100.10:8080 in clear text");
    for (int i = 0; i < s_n_found; i++)
        cr_assert_null (strstr (s_found[i].message, "s3cret"));
    sn_detect_destroy (&d);
}

//  Other schemes, a header in the body, and requests that stay inside or come in from outside
//  are not reported.
Test (sn_det_cleartext, only_basic_auth_leaving_the_company)
{
    sn_detect_t *d = s_engine ();
    const char *basic = "POST /x HTTP/1.1\r\nAuthorization: Basic dXNlcjpzM2NyZXQ=\r\n\r\n";
    sn_flow_t inside = s_flow (1, "10.0.0.2", "192.168.1.10", 80);
    s_text (d, &inside, 0, basic, S_T0);
    sn_flow_t inbound = s_flow (2, "198.51.100.10", "10.0.0.2", 80);
    s_text (d, &inbound, 0, basic, S_T0);
    sn_flow_t other = s_flow (3, "10.0.0.2", "198.51.100.10", 80);
    s_text (d, &other, 0, "GET / HTTP/1.1\r\nAuthorization: Bearer abc.def\r\n\r\n", S_T0);
    s_text (
        d, &other, 0,
        "POST / HTTP/1.1\r\nContent-Length: 40\r\n\r\nAuthorization: Basic dXNlcjpzM2NyZXQ=", S_T0);
    sn_flow_t reply = s_flow (4, "10.0.0.2", "198.51.100.10", 80);
    s_text (d, &reply, 1, "HTTP/1.1 401 x\r\nAuthorization: Basic dXNlcjpzM2NyZXQ=\r\n\r\n", S_T0);
    sn_detect_flush (d);
    cr_assert_eq (s_n_found, 0, "%s", s_n_found ? s_found[0].message : "");
    sn_detect_destroy (&d);
}

Test (sn_det_cleartext, ftp_user_and_pass)
{
    sn_detect_t *d = s_engine ();
    sn_flow_t f = s_flow (1, "10.0.0.2", "203.0.113.21", 21);
    s_text (d, &f, 1, "220 ready\r\n", S_T0);
    s_text (d, &f, 0, "USER bob\r\n", S_T0);
    s_text (d, &f, 0, "PASS hunter2\r\n", S_T0);
    //  Anonymous FTP sends an e-mail address as its password: not a credential.
    sn_flow_t anon = s_flow (2, "10.0.0.2", "203.0.113.22", 21);
    s_text (d, &anon, 0, "USER anonymous\r\nPASS guest@example.com\r\n", S_T0);
    const s_found_t *found;
    cr_assert_eq (s_findings ("cleartext.ftp", &found), 1);
    cr_assert (s_addr_is (&found->dst, "203.0.113.21"));
    cr_assert_str_eq (found->message,
                      "FTP login as 'bob' to outside server 203.0.113.21:21 in clear text");
    cr_assert_null (strstr (found->message, "hunter2"));
    cr_assert_eq (found->severity, MM_SEV_INFO);
    sn_detect_destroy (&d);
}

//  Telnet: once per connection, when the client sends more than option negotiation.
Test (sn_det_cleartext, telnet_session_once)
{
    sn_detect_t *d = s_engine ();
    sn_flow_t f = s_flow (1, "10.0.0.2", "203.0.113.23", 23);
    static const uint8_t iac[] = {0xff, 0xfd, 0x03, 0xff, 0xfb, 0x18, 0xff,
                                  0xfa, 0x18, 0x00, 'x',  't',  0xff, 0xf0};
    s_seg (d, &f, 0, iac, sizeof iac, S_T0);
    cr_assert_eq (s_n_found, 0, "negotiation only");
    s_text (d, &f, 0, "r", S_T0 + 1);
    s_text (d, &f, 0, "o", S_T0 + 2);
    s_text (d, &f, 0, "ot\r\n", S_T0 + 3);
    sn_flow_t g = s_flow (2, "10.0.0.2", "203.0.113.23", 23);
    s_text (d, &g, 0, "admin\r\n", S_T0 + S_NS);
    sn_detect_flush (d);
    const s_found_t *found;
    cr_assert_eq (s_findings ("cleartext.telnet", &found), 1);
    cr_assert_eq (found->evidence.count, 2, "two sessions");
    cr_assert_eq (found->severity, MM_SEV_INFO);
    sn_detect_destroy (&d);
}

//  POP3 USER/PASS, IMAP LOGIN, SMTP AUTH PLAIN with and without an initial response, AUTH
//  LOGIN, and CRAM-MD5 (no password on the wire: not reported).
Test (sn_det_cleartext, mail_logins)
{
    sn_detect_t *d = s_engine ();
    sn_flow_t pop = s_flow (1, "10.0.0.2", "203.0.113.110", 110);
    s_text (d, &pop, 0, "USER alice@example.jp\r\n", S_T0);
    s_text (d, &pop, 0, "PASS pw1\r\n", S_T0);
    sn_flow_t imap = s_flow (2, "10.0.0.2", "203.0.113.143", 143);
    s_text (d, &imap, 0, "a001 LOGIN \"carol\" \"pw2\"\r\n", S_T0);
    //  "\0dave\0pw3" and "dave" in base64.
    sn_flow_t smtp = s_flow (3, "10.0.0.2", "203.0.113.25", 587);
    s_text (d, &smtp, 0, "EHLO me\r\nAUTH PLAIN AGRhdmUAcHcz\r\n", S_T0);
    sn_flow_t smtp2 = s_flow (4, "10.0.0.2", "203.0.113.26", 25);
    s_text (d, &smtp2, 0, "AUTH PLAIN\r\n", S_T0);
    s_text (d, &smtp2, 1, "334 \r\n", S_T0);
    s_text (d, &smtp2, 0, "AGRhdmUAcHcz\r\n", S_T0);
    sn_flow_t smtp3 = s_flow (5, "10.0.0.2", "203.0.113.27", 25);
    s_text (d, &smtp3, 0, "AUTH LOGIN\r\n", S_T0);
    s_text (d, &smtp3, 0, "ZGF2ZQ==\r\n", S_T0);
    sn_flow_t cram = s_flow (6, "10.0.0.2", "203.0.113.28", 25);
    s_text (d, &cram, 0, "AUTH CRAM-MD5\r\n", S_T0);
    s_text (d, &cram, 0, "ZGF2ZSBhYmNkZWY=\r\n", S_T0);
    sn_detect_flush (d);
    cr_assert_eq (s_findings ("cleartext.mail", NULL), 5);
    static const char *want[] = {
        "POP3 login as 'alice@example.jp' to outside server 203.0.113.110:110 in clear text",
        "IMAP login as 'carol' to outside server 203.0.113.143:143 in clear text",
        "SMTP AUTH PLAIN login as 'dave' to outside server 203.0.113.25:587 in clear text",
        "SMTP AUTH PLAIN login as 'dave' to outside server 203.0.113.26:25 in clear text",
        "SMTP AUTH LOGIN login as 'dave' to outside server 203.0.113.27:25 in clear text",
    };
    for (size_t k = 0; k < 5; k++) {
        bool seen = false;
        for (int i = 0; i < s_n_found; i++)
            seen |= strcmp (s_found[i].message, want[k]) == 0;
        cr_assert (seen, "%s", want[k]);
    }
    for (int i = 0; i < s_n_found; i++)
        cr_assert (!strstr (s_found[i].message, "pw"), "%s", s_found[i].message);
    sn_detect_destroy (&d);
}

Test (sn_det_cleartext, disabled)
{
    s_cfg.cleartext = false;
    sn_detect_t *d = s_engine ();
    sn_flow_t f = s_flow (1, "10.0.0.2", "203.0.113.21", 21);
    s_text (d, &f, 0, "USER bob\r\nPASS hunter2\r\n", S_T0);
    cr_assert_eq (s_n_found, 0);
    sn_detect_destroy (&d);
}

//  allow: outside servers whose clear-text logins the company accepts (a partner's legacy FTP)
//  are never reported; other servers still are.
Test (sn_det_cleartext, allowed_servers_are_not_reported)
{
    char err[256];
    cr_assert_eq (mm_netlist_parse (&s_cfg.cleartext_allow, "203.0.113.21/32", err, sizeof err), 0,
                  "%s", err);
    sn_detect_t *d = s_engine ();
    sn_flow_t f = s_flow (1, "10.0.0.2", "203.0.113.21", 21);
    s_text (d, &f, 0, "USER bob\r\nPASS hunter2\r\n", S_T0);
    sn_flow_t h = s_flow (2, "10.0.0.2", "203.0.113.21", 80);
    s_text (d, &h, 0, "GET / HTTP/1.1\r\nAuthorization: Basic dXNlcjpzM2NyZXQ=\r\n\r\n", S_T0);
    cr_assert_eq (s_n_found, 0, "%s", s_n_found ? s_found[0].message : "");
    sn_flow_t g = s_flow (3, "10.0.0.2", "203.0.113.22", 21);
    s_text (d, &g, 0, "USER bob\r\nPASS hunter2\r\n", S_T0);
    const s_found_t *found;
    cr_assert_eq (s_findings ("cleartext.ftp", &found), 1);
    cr_assert (s_addr_is (&found->dst, "203.0.113.22"));
    sn_detect_destroy (&d);
}

//  max_tracked bounds the connections whose user name is held: with 16, a USER followed by 20
//  other logins before its PASS is forgotten (the finding then names no user); by default it
//  is remembered.
Test (sn_det_cleartext, max_tracked_setting)
{
    for (int round = 0; round < 2; round++) {
        if (round == 1)
            s_cfg.cleartext_max_tracked = 16;
        sn_detect_t *d = s_engine ();
        sn_flow_t f = s_flow (1, "10.0.0.2", "203.0.113.21", 21);
        s_text (d, &f, 0, "USER bob\r\n", S_T0);
        for (uint64_t i = 0; i < 20; i++) {
            sn_flow_t g = s_flow (100 + i, "10.0.0.3", "203.0.113.30", 21);
            s_text (d, &g, 0, "USER carol\r\n", S_T0 + 1 + i);
        }
        s_text (d, &f, 0, "PASS hunter2\r\n", S_T0 + S_NS);
        const s_found_t *found = NULL;
        for (int i = 0; i < s_n_found; i++)
            if (s_addr_is (&s_found[i].dst, "203.0.113.21"))
                found = &s_found[i];
        cr_assert (found);
        cr_assert (strstr (found->message, round == 0 ? "login as 'bob'" : "login as '?'"), "%s",
                   found->message);
        sn_detect_destroy (&d);
    }
}
