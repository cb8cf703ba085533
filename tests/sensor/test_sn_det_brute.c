/*  sn_det_brute through the detector engine: failed logins counted from the servers' replies
    (FTP, SMB, MySQL, PostgreSQL, POP3, IMAP, SMTP), SSH and the encrypted services from the
    flow records, one finding per source however long the attack, and a critical finding when
    a login works after the guessing. */
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
    bool has_dport;
    uint16_t dport;
    mm_evidence_t evidence;
    char message[256];
    uint32_t n_attack;
    char attack[MM_ATTACK_MAX][16];
} s_found_t;

static s_found_t s_found[512];
static int s_n_found;
static uint64_t s_seq;

static uint64_t
s_emit (void *arg, mm_event_t *ev)
{
    (void) arg;
    ev->seq = ++s_seq;
    if (ev->finding.id == 0)
        ev->finding.id = ev->seq;
    cr_assert_lt (s_n_found, 512);
    s_found_t *f = &s_found[s_n_found++];
    memset (f, 0, sizeof *f);
    snprintf (f->detector, sizeof f->detector, "%.*s", (int) ev->finding.detector.len,
              ev->finding.detector.ptr);
    f->id = ev->finding.id;
    f->revision = ev->finding.revision;
    f->severity = ev->severity;
    f->src = ev->src;
    f->dst = ev->dst;
    f->has_dport = ev->has & MM_EV_HAS_DPORT;
    f->dport = ev->dport;
    f->evidence = ev->finding.evidence;
    snprintf (f->message, sizeof f->message, "%.*s", (int) ev->finding.message.len,
              ev->finding.message.ptr);
    f->n_attack = ev->finding.n_attack;
    for (uint32_t i = 0; i < ev->finding.n_attack; i++)
        snprintf (f->attack[i], sizeof f->attack[i], "%.*s", (int) ev->finding.attack[i].len,
                  ev->finding.attack[i].ptr);
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

//  Distinct findings of a detector, and the newest revision of the last one.
static int
s_findings (const char *detector, const s_found_t **newest)
{
    uint64_t ids[512];
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
        if (!last || s_found[i].id != last->id || s_found[i].revision >= last->revision)
            last = &s_found[i];
    }
    if (newest)
        *newest = last;
    return n;
}

static bool
s_has_attack (const s_found_t *f, const char *id)
{
    for (uint32_t i = 0; i < f->n_attack; i++)
        if (strcmp (f->attack[i], id) == 0)
            return true;
    return false;
}

static sn_config_t s_cfg;

static sn_detect_t *
s_engine (void)
{
    s_n_found = 0;
    s_seq = 0;
    sn_detect_t *d = sn_detect_new (&s_cfg, s_emit, NULL);
    cr_assert (d);
    return d;
}

static void
s_defaults (void)
{
    char err[256];
    cr_assert_eq (sn_config_defaults (&s_cfg, err, sizeof err), 0, "%s", err);
    //  Only this detector: the others have their own tests.
    s_cfg.scan = false;
    s_cfg.exposed = false;
    s_cfg.ioc = false;
    s_cfg.beacon = false;
    s_cfg.dnst = false;
    s_cfg.lateral = false;
    s_cfg.exfil = false;
    s_cfg.cleartext = false;
}

//  A TCP connection as the flow table would hand it over.
static sn_flow_t
s_flow (uint64_t id, const char *client, uint16_t cport, const char *server, uint16_t sport,
        uint64_t ts)
{
    sn_flow_t f;
    memset (&f, 0, sizeof f);
    f.id = id;
    f.proto = 6;
    f.ip_version = 4;
    f.orig = s_ip (client);
    f.resp = s_ip (server);
    f.orig_port = cport;
    f.resp_port = sport;
    f.first_ns = f.last_ns = ts;
    return f;
}

//  One segment of `f` with payload, counted into the flow first as the flow table does.
static void
s_seg (sn_detect_t *d, sn_flow_t *f, int dir, uint32_t seq, const void *data, size_t len,
       uint64_t ts)
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
    pkt.tcp_seq = seq;
    pkt.ip_len = (uint32_t) (40 + len);
    pkt.payload = data;
    pkt.payload_len = pkt.payload_wire_len = (uint32_t) len;
    f->pkts[dir]++;
    f->ip_bytes[dir] += pkt.ip_len;
    f->last_ns = ts;
    sn_detect_packet (d, &pkt, f, dir, ts);
}

static void
s_text (sn_detect_t *d, sn_flow_t *f, int dir, uint32_t seq, const char *text, uint64_t ts)
{
    s_seg (d, f, dir, seq, text, strlen (text), ts);
}

//  The flow record of a TCP connection that was answered (handshake, data both ways).
static mm_event_t
s_record (uint64_t id, const char *client, const char *server, uint16_t dport, const char *app,
          uint64_t bytes_orig, uint64_t bytes_resp, uint64_t duration_us, uint64_t ts)
{
    mm_event_t ev;
    memset (&ev, 0, sizeof ev);
    ev.kind = MM_KIND_FLOW;
    ev.ts = ts;
    ev.proto = 6;
    ev.src = s_ip (client);
    ev.dst = s_ip (server);
    ev.has = MM_EV_HAS_PORTS | MM_EV_HAS_COUNTERS | MM_EV_HAS_TCP_FLAGS;
    ev.sport = (uint16_t) (40000 + id % 20000);
    ev.dport = dport;
    ev.flow_id = id;
    ev.app = mm_str (app);
    ev.pkts_orig = 15;
    ev.pkts_resp = 14;
    ev.bytes_orig = bytes_orig;
    ev.bytes_resp = bytes_resp;
    ev.duration_us = duration_us;
    ev.state = MM_STATE_SF;
    ev.tcp_flags_orig = 0x1b;  //  SYN, FIN, PSH, ACK
    ev.tcp_flags_resp = 0x1b;
    return ev;
}

//  One failed FTP login: a connection whose PASS gets 530.
static void
s_ftp_fail (sn_detect_t *d, uint64_t id, const char *client, const char *server, uint64_t ts)
{
    sn_flow_t f = s_flow (id, client, (uint16_t) (50000 + id), server, 21, ts);
    s_text (d, &f, 1, 1000, "220 FTP server ready\r\n", ts);
    s_text (d, &f, 0, 1, "USER admin\r\n", ts + 1000);
    s_text (d, &f, 1, 1022, "331 Password required for admin\r\n", ts + 2000);
    s_text (d, &f, 0, 13, "PASS letmein\r\n", ts + 3000);
    s_text (d, &f, 1, 1056, "530 Login incorrect.\r\n", ts + 4000);
}

TestSuite (sn_det_brute, .init = s_defaults);

//  Zeek's FTP::Bruteforcing: 20 failed logins from one source within 15 minutes. The finding
//  comes at the 20th and is then revised: one finding, cumulative count.
Test (sn_det_brute, ftp_twenty_failures_make_one_finding)
{
    sn_detect_t *d = s_engine ();
    for (uint64_t i = 0; i < 19; i++)
        s_ftp_fail (d, i + 1, "203.0.113.7", "10.0.0.5", S_T0 + i * 2 * S_NS);
    cr_assert_eq (s_findings ("bruteforce.ftp", NULL), 0, "19 failures are not yet a finding");
    s_ftp_fail (d, 20, "203.0.113.7", "10.0.0.5", S_T0 + 37 * S_NS);
    const s_found_t *f;
    cr_assert_eq (s_findings ("bruteforce.ftp", &f), 1);
    cr_assert_eq (f->revision, 0);
    cr_assert_eq (f->evidence.count, 20);
    cr_assert_eq (f->evidence.distinct_hosts, 1);
    cr_assert_eq (f->evidence.window_s, 900);
    cr_assert_eq (f->severity, MM_SEV_MEDIUM, "from outside: medium");
    cr_assert (s_addr_is (&f->src, "203.0.113.7"));
    cr_assert (s_addr_is (&f->dst, "10.0.0.5"));
    cr_assert (f->has_dport && f->dport == 21);
    cr_assert_str_eq (f->message, "203.0.113.7 had 20 failed logins on 1 FTP server in 0m37s");
    cr_assert (s_has_attack (f, "T1110.001") && !s_has_attack (f, "T1021"));
    for (uint64_t i = 20; i < 30; i++)
        s_ftp_fail (d, i + 1, "203.0.113.7", "10.0.0.5", S_T0 + (40 + i) * S_NS);
    sn_detect_flush (d);
    cr_assert_eq (s_findings ("bruteforce.ftp", &f), 1, "still one finding");
    cr_assert_gt (f->revision, 0);
    cr_assert_eq (f->evidence.count, 30);
    cr_assert_eq (s_findings ("bruteforce.success", NULL), 0);
    sn_detect_destroy (&d);
}

//  A retransmitted reply is the same failure; a 530 that answers USER (not PASS) is not a
//  failed password, as in Zeek; a multi-line 530 counts once.
Test (sn_det_brute, ftp_retransmissions_and_non_pass_replies_do_not_count)
{
    s_cfg.brute_ftp_failures = 3;
    sn_detect_t *d = s_engine ();
    uint64_t ts = S_T0;
    sn_flow_t f = s_flow (1, "203.0.113.7", 50001, "10.0.0.5", 21, ts);
    s_text (d, &f, 0, 1, "USER a\r\n", ts);
    s_text (d, &f, 1, 100, "530 Please login with USER and PASS.\r\n", ts);
    s_text (d, &f, 0, 9, "PASS x\r\n", ts);
    s_text (d, &f, 1, 200, "530-Login incorrect.\r\n530 Try again.\r\n", ts);
    s_text (d, &f, 1, 200, "530-Login incorrect.\r\n530 Try again.\r\n", ts);  //  retransmitted
    s_text (d, &f, 0, 17, "PASS y\r\n", ts);
    s_text (d, &f, 1, 240, "530 Login incorrect.\r\n", ts);
    s_text (d, &f, 1, 240, "530 Login incorrect.\r\n", ts);  //  retransmitted
    s_text (d, &f, 1, 262, "530 Login incorrect.\r\n", ts);  //  no PASS before it
    cr_assert_eq (s_findings ("bruteforce.ftp", NULL), 0, "only 2 failed passwords so far");
    s_text (d, &f, 0, 25, "pass z\r\n", ts);
    s_text (d, &f, 1, 284, "530 Login incorrect.\r\n", ts);
    const s_found_t *found;
    cr_assert_eq (s_findings ("bruteforce.ftp", &found), 1);
    cr_assert_eq (found->evidence.count, 3);

    //  Replies that need no command before them (SMTP 535) rely on the sequence number alone.
    s_cfg.brute_attempts = 2;
    sn_flow_t g = s_flow (2, "203.0.113.7", 50002, "10.0.0.5", 25, ts);
    s_text (d, &g, 1, 4000, "535 5.7.8 Authentication failed\r\n", ts);
    s_text (d, &g, 1, 4000, "535 5.7.8 Authentication failed\r\n", ts);
    s_text (d, &g, 1, 3000, "535 5.7.8 Authentication failed\r\n", ts);  //  older
    cr_assert_eq (s_findings ("bruteforce.service", NULL), 0);
    s_text (d, &g, 1, 4040, "535 5.7.8 Authentication failed\r\n", ts);
    cr_assert_eq (s_findings ("bruteforce.service", &found), 1);
    cr_assert_eq (found->evidence.count, 2);
    sn_detect_destroy (&d);
}

//  The count is per window (fixed, from the first failure, as Zeek's SumStats epochs): 19 and
//  then 19 more a window later are two slow series, not an attack.
Test (sn_det_brute, ftp_failures_spread_over_windows_are_not_an_attack)
{
    sn_detect_t *d = s_engine ();
    for (uint64_t i = 0; i < 19; i++)
        s_ftp_fail (d, i + 1, "203.0.113.7", "10.0.0.5", S_T0 + i * 10 * S_NS);
    for (uint64_t i = 0; i < 19; i++)
        s_ftp_fail (d, 100 + i, "203.0.113.7", "10.0.0.5", S_T0 + (1000 + i * 10) * S_NS);
    sn_detect_flush (d);
    cr_assert_eq (s_n_found, 0);
    sn_detect_destroy (&d);
}

//  A 230 after the threshold's worth of failures: the guessing worked. Critical.
Test (sn_det_brute, ftp_login_after_failures_is_critical)
{
    sn_detect_t *d = s_engine ();
    for (uint64_t i = 0; i < 20; i++)
        s_ftp_fail (d, i + 1, "203.0.113.7", "10.0.0.5", S_T0 + i * S_NS);
    uint64_t ts = S_T0 + 30 * S_NS;
    sn_flow_t f = s_flow (99, "203.0.113.7", 50099, "10.0.0.5", 21, ts);
    s_text (d, &f, 0, 1, "USER admin\r\n", ts);
    s_text (d, &f, 0, 13, "PASS Summer2024\r\n", ts);
    s_text (d, &f, 1, 500, "230 User admin logged in.\r\n", ts);
    const s_found_t *f1;
    cr_assert_eq (s_findings ("bruteforce.success", &f1), 1);
    cr_assert_eq (f1->severity, MM_SEV_CRITICAL);
    cr_assert_eq (f1->evidence.count, 20);
    cr_assert (s_addr_is (&f1->src, "203.0.113.7") && s_addr_is (&f1->dst, "10.0.0.5"));
    cr_assert_str_eq (f1->message,
                      "203.0.113.7 logged in to FTP on 10.0.0.5:21 after 20 failed logins");
    cr_assert (s_has_attack (f1, "T1078"));
    sn_detect_destroy (&d);

    //  Without the failures, a login is just a login.
    d = s_engine ();
    f = s_flow (1, "203.0.113.8", 50001, "10.0.0.5", 21, ts);
    s_text (d, &f, 0, 1, "PASS Summer2024\r\n", ts);
    s_text (d, &f, 1, 500, "230 User admin logged in.\r\n", ts);
    cr_assert_eq (s_n_found, 0);
    sn_detect_destroy (&d);
}

//  From inside: high (a company machine guessing passwords), and lateral movement (T1021)
//  when the target is inside too.
Test (sn_det_brute, inside_sources_are_high)
{
    sn_detect_t *d = s_engine ();
    for (uint64_t i = 0; i < 20; i++)
        s_ftp_fail (d, i + 1, "10.0.0.9", "10.0.0.5", S_T0 + i * S_NS);
    for (uint64_t i = 0; i < 20; i++)
        s_ftp_fail (d, 100 + i, "192.168.1.20", "198.51.100.4", S_T0 + i * S_NS);
    const s_found_t *f = NULL;
    cr_assert_eq (s_findings ("bruteforce.ftp", NULL), 2);
    for (int i = 0; i < s_n_found; i++) {
        f = &s_found[i];
        cr_assert_eq (f->severity, MM_SEV_HIGH, "%s", f->message);
        bool lateral = s_addr_is (&f->src, "10.0.0.9");
        cr_assert_eq (s_has_attack (f, "T1021"), lateral, "%s", f->message);
    }
    sn_detect_destroy (&d);
}

//  One source failing on many servers (password spraying): one finding with no single target,
//  and the number of servers.
Test (sn_det_brute, spraying_many_servers_is_one_finding)
{
    sn_detect_t *d = s_engine ();
    char server[32];
    for (uint64_t i = 0; i < 25; i++) {
        snprintf (server, sizeof server, "10.0.1.%u", (unsigned) (i + 1));
        s_ftp_fail (d, i + 1, "203.0.113.7", server, S_T0 + i * S_NS);
    }
    sn_detect_flush (d);
    const s_found_t *f;
    cr_assert_eq (s_findings ("bruteforce.ftp", &f), 1);
    cr_assert_eq (f->dst.len, 0, "no single target");
    cr_assert_eq (f->evidence.count, 25);
    cr_assert_eq (f->evidence.distinct_hosts, 25);
    cr_assert (strstr (f->message, "on 25 FTP servers"), "%s", f->message);
    sn_detect_destroy (&d);
}

//  A source that reaches the threshold on one server and then moves on to others: the finding
//  raised early names that server, with the counts it had then; from the first failure on
//  another server the source's finding names no single target and counts the servers.
Test (sn_det_brute, source_moving_on_to_other_servers_loses_its_target)
{
    sn_detect_t *d = s_engine ();
    for (uint64_t i = 0; i < 20; i++)
        s_ftp_fail (d, i + 1, "203.0.113.7", "10.0.1.1", S_T0 + i * S_NS);
    const s_found_t *f;
    cr_assert_eq (s_findings ("bruteforce.ftp", &f), 1);
    cr_assert (s_addr_is (&f->dst, "10.0.1.1"));
    uint64_t first_id = f->id;
    for (uint64_t i = 0; i < 5; i++)
        s_ftp_fail (d, 100 + i, "203.0.113.7", "10.0.1.2", S_T0 + (30 + i) * S_NS);
    for (uint64_t i = 0; i < 5; i++)
        s_ftp_fail (d, 200 + i, "203.0.113.7", "10.0.1.1", S_T0 + (40 + i) * S_NS);
    sn_detect_flush (d);
    cr_assert_eq (s_findings ("bruteforce.ftp", &f), 2, "the early finding and the spraying one");
    cr_assert_neq (f->id, first_id);
    cr_assert_eq (f->dst.len, 0, "no single target once a second server was tried");
    cr_assert_eq (f->evidence.count, 30);
    cr_assert_eq (f->evidence.distinct_hosts, 2);
    cr_assert (strstr (f->message, "30 failed logins on 2 FTP servers"), "%s", f->message);
    //  The early finding was never revised with the other server's failures.
    for (int i = 0; i < s_n_found; i++) {
        if (s_found[i].id != first_id)
            continue;
        cr_assert (s_addr_is (&s_found[i].dst, "10.0.1.1"));
        cr_assert_eq (s_found[i].evidence.distinct_hosts, 1, "%s", s_found[i].message);
        cr_assert_eq (s_found[i].evidence.count, 20);
    }
    sn_detect_destroy (&d);
}

//  SSH is recognised by its banner on any port (app "ssh" in the flow record): connections
//  with a key exchange, few client bytes and no longer than a login may take are attempts.
Test (sn_det_brute, ssh_short_sessions_then_a_long_one)
{
    sn_detect_t *d = s_engine ();
    uint64_t ts = S_T0;
    for (uint64_t i = 0; i < 24; i++) {
        mm_event_t ev =
            s_record (i + 1, "203.0.113.50", "10.1.1.22", 2222, "ssh", 4169, 3705, 135000, ts);
        sn_detect_event (d, &ev);
        ts += S_NS / 8;
    }
    const s_found_t *f;
    cr_assert_eq (s_findings ("bruteforce.ssh", &f), 1);
    cr_assert_eq (f->evidence.count, 20, "raised at the 20th");
    cr_assert_eq (f->severity, MM_SEV_MEDIUM);
    cr_assert (s_addr_is (&f->dst, "10.1.1.22"));
    cr_assert (!f->has_dport, "SSH is one service whatever its port");
    cr_assert (strstr (f->message, "guessing SSH passwords: 20 short SSH sessions with 1 server"),
               "%s", f->message);
    cr_assert_eq (s_findings ("bruteforce.success", NULL), 0);

    //  Then the client sends more than a login takes: a session, reported from the packet
    //  that crosses the limit, before the flow ends.
    sn_flow_t flow = s_flow (100, "203.0.113.50", 41000, "10.1.1.22", 2222, ts);
    static uint8_t chunk[1400];
    uint32_t seq = 1;
    for (int i = 0; i < 6; i++, seq += sizeof chunk)
        s_seg (d, &flow, 0, seq, chunk, sizeof chunk, ts + (uint64_t) i * 1000);
    cr_assert_eq (s_findings ("bruteforce.success", &f), 1);
    cr_assert_eq (f->severity, MM_SEV_CRITICAL);
    cr_assert_eq (f->evidence.count, 24);
    cr_assert (f->has_dport && f->dport == 2222);
    //  Its flow record later says the same: still one finding.
    mm_event_t ev =
        s_record (100, "203.0.113.50", "10.1.1.22", 2222, "ssh", 35101, 4749, 311000, ts);
    sn_detect_event (d, &ev);
    sn_detect_flush (d);
    cr_assert_eq (s_findings ("bruteforce.success", NULL), 1);
    cr_assert_eq (s_findings ("bruteforce.ssh", &f), 1);
    cr_assert_eq (f->evidence.count, 24);
    sn_detect_destroy (&d);
}

//  Not attempts: banner grabs (no key exchange), sessions longer than LoginGraceTime, sessions
//  with more client bytes than a login, unanswered connections, and SSH records without app.
Test (sn_det_brute, ssh_what_is_not_a_guess)
{
    sn_detect_t *d = s_engine ();
    uint64_t ts = S_T0;
    for (uint64_t i = 0; i < 30; i++, ts += S_NS) {
        mm_event_t ev[5] = {
            s_record (i * 5 + 1, "203.0.113.50", "10.1.1.22", 22, "ssh", 400, 700, 50000, ts),
            s_record (i * 5 + 2, "203.0.113.51", "10.1.1.22", 22, "ssh", 4000, 4000, 200000000, ts),
            s_record (i * 5 + 3, "203.0.113.52", "10.1.1.22", 22, "ssh", 9000, 40000, 900000, ts),
            s_record (i * 5 + 4, "203.0.113.53", "10.1.1.22", 22, "ssh", 4000, 4000, 90000, ts),
            s_record (i * 5 + 5, "203.0.113.54", "10.1.1.22", 22, NULL, 4000, 4000, 90000, ts),
        };
        ev[3].tcp_flags_resp = 0x14;  //  RST-ACK: refused
        for (int k = 0; k < 5; k++)
            sn_detect_event (d, &ev[k]);
    }
    sn_detect_flush (d);
    cr_assert_eq (s_n_found, 0, "%s", s_n_found ? s_found[0].message : "");
    sn_detect_destroy (&d);
}

//  ssh_max_seconds is OpenSSH's LoginGraceTime: a server configured with a shorter one ends
//  failed logins sooner, and a session that outlasts the setting is no failed login.
Test (sn_det_brute, ssh_max_seconds_decides_what_is_short)
{
    sn_detect_t *d = s_engine ();
    uint64_t ts = S_T0;
    for (uint64_t i = 0; i < 20; i++, ts += 5 * S_NS) {
        mm_event_t ev =
            s_record (i + 1, "203.0.113.50", "10.1.1.22", 22, "ssh", 4169, 3705, 30000000, ts);
        sn_detect_event (d, &ev);
    }
    cr_assert_eq (s_findings ("bruteforce.ssh", NULL), 1, "30 s sessions: attempts by default");
    sn_detect_destroy (&d);

    s_cfg.brute_ssh_max_seconds = 30;
    d = s_engine ();
    ts = S_T0;
    for (uint64_t i = 0; i < 20; i++, ts += 5 * S_NS) {
        mm_event_t ev =
            s_record (i + 1, "203.0.113.50", "10.1.1.22", 22, "ssh", 4169, 3705, 30000000, ts);
        sn_detect_event (d, &ev);
    }
    sn_detect_flush (d);
    cr_assert_eq (s_n_found, 0, "with ssh_max_seconds = 30, a 30 s session is no attempt");
    sn_detect_destroy (&d);
}

//  ssh_kex_bytes: sessions that move less than it each way are banner grabs, not logins.
Test (sn_det_brute, ssh_kex_bytes_decides_what_is_a_banner_grab)
{
    sn_detect_t *d = s_engine ();
    uint64_t ts = S_T0;
    for (uint64_t i = 0; i < 20; i++, ts += S_NS) {
        mm_event_t ev =
            s_record (i + 1, "203.0.113.50", "10.1.1.22", 22, "ssh", 800, 900, 500000, ts);
        sn_detect_event (d, &ev);
    }
    sn_detect_flush (d);
    cr_assert_eq (s_n_found, 0, "800 bytes: no key exchange by default");
    sn_detect_destroy (&d);

    s_cfg.brute_ssh_kex_bytes = 500;
    d = s_engine ();
    ts = S_T0;
    for (uint64_t i = 0; i < 20; i++, ts += S_NS) {
        mm_event_t ev =
            s_record (i + 1, "203.0.113.50", "10.1.1.22", 22, "ssh", 800, 900, 500000, ts);
        sn_detect_event (d, &ev);
    }
    const s_found_t *f;
    cr_assert_eq (s_findings ("bruteforce.ssh", &f), 1);
    cr_assert_eq (f->evidence.count, 20);
    sn_detect_destroy (&d);
}

//  RDP and the other encrypted services: short answered connections per source and service.
Test (sn_det_brute, rdp_short_connections)
{
    sn_detect_t *d = s_engine ();
    uint64_t ts = S_T0;
    for (uint64_t i = 0; i < 40; i++, ts += S_NS) {
        //  Unanswered ones (a scan) and long sessions do not count.
        mm_event_t scan = s_record (1000 + i, "203.0.113.9", "10.0.0.3", 3389, NULL, 120, 0, 0, ts);
        scan.tcp_flags_resp = 0;
        sn_detect_event (d, &scan);
        mm_event_t session =
            s_record (2000 + i, "203.0.113.10", "10.0.0.3", 3389, "tls", 90000, 900000, 9000, ts);
        sn_detect_event (d, &session);
    }
    cr_assert_eq (s_n_found, 0);
    for (uint64_t i = 0; i < 20; i++, ts += S_NS) {
        mm_event_t ev =
            s_record (i + 1, "203.0.113.9", "10.0.0.3", 3389, NULL, 3200, 5100, 800000, ts);
        sn_detect_event (d, &ev);
    }
    const s_found_t *f;
    cr_assert_eq (s_findings ("bruteforce.service", &f), 1);
    cr_assert_eq (f->evidence.count, 20);
    cr_assert (f->has_dport && f->dport == 3389);
    cr_assert_eq (f->severity, MM_SEV_MEDIUM);
    cr_assert (strstr (f->message, "20 short RDP connections"), "%s", f->message);
    sn_detect_destroy (&d);

    //  From inside to an outside server: medium (clients polling a cloud service can look like
    //  this); to an inside server: high, lateral movement.
    d = s_engine ();
    for (uint64_t i = 0; i < 20; i++, ts += S_NS) {
        mm_event_t out =
            s_record (i + 1, "10.0.0.7", "198.51.100.20", 993, "tls", 2000, 4000, 100000, ts);
        mm_event_t in = s_record (i + 100, "10.0.0.7", "10.0.0.3", 5900, NULL, 300, 400, 1000, ts);
        sn_detect_event (d, &out);
        sn_detect_event (d, &in);
    }
    cr_assert_eq (s_findings ("bruteforce.service", NULL), 2);
    for (int i = 0; i < s_n_found; i++) {
        bool lateral = s_found[i].dport == 5900;
        cr_assert_eq (s_found[i].severity, lateral ? MM_SEV_HIGH : MM_SEV_MEDIUM, "%s",
                      s_found[i].message);
        cr_assert_eq (s_has_attack (&s_found[i], "T1021"), lateral);
    }
    sn_detect_destroy (&d);
}

//  Reply-parsed services never count from flow records (an application that connects to its
//  database for every request makes many short connections), nor does a port outside the list.
Test (sn_det_brute, reply_parsed_services_ignore_short_connections)
{
    sn_detect_t *d = s_engine ();
    uint64_t ts = S_T0;
    static const uint16_t ports[] = {21, 25, 445, 587, 3306, 5432, 8080};
    for (uint64_t i = 0; i < 50; i++, ts += S_NS)
        for (size_t k = 0; k < sizeof ports / sizeof ports[0]; k++) {
            mm_event_t ev = s_record (i * 10 + k + 1, "10.0.0.7", "10.0.0.3", ports[k], NULL, 500,
                                      900, 5000, ts);
            sn_detect_event (d, &ev);
        }
    sn_detect_flush (d);
    cr_assert_eq (s_n_found, 0);
    sn_detect_destroy (&d);
}

//  SMB2 SESSION_SETUP responses with STATUS_LOGON_FAILURE; one with STATUS_SUCCESS after them.
static void
s_smb2_setup (sn_detect_t *d, uint64_t id, uint32_t status, uint64_t ts)
{
    //  The top bit of `status` asks for a guest session (SessionFlags IS_GUEST) with status 0.
    bool guest = status == 0x80000000u;
    if (guest)
        status = 0;
    uint8_t msg[4 + 64 + 9];
    memset (msg, 0, sizeof msg);
    msg[3] = (uint8_t) (sizeof msg - 4);
    uint8_t *h = msg + 4;
    memcpy (h, "\xfeSMB", 4);
    h[4] = 64;
    h[8] = (uint8_t) status, h[9] = (uint8_t) (status >> 8);
    h[10] = (uint8_t) (status >> 16), h[11] = (uint8_t) (status >> 24);
    h[12] = 1;     //  SESSION_SETUP
    h[16] = 0x01;  //  SERVER_TO_REDIR
    h[64] = 9;     //  StructureSize
    h[66] = guest ? 0x01 : 0x00;
    sn_flow_t f = s_flow (id, "203.0.113.7", (uint16_t) (50000 + id), "10.0.0.4", 445, ts);
    s_seg (d, &f, 1, 7000, msg, sizeof msg, ts);
}

Test (sn_det_brute, smb_logon_failures)
{
    sn_detect_t *d = s_engine ();
    for (uint64_t i = 0; i < 19; i++)
        s_smb2_setup (d, i + 1, 0xC000006D, S_T0 + i * S_NS);
    s_smb2_setup (d, 50, 0xC0000016, S_T0 + 20 * S_NS);  //  MORE_PROCESSING_REQUIRED: neither
    cr_assert_eq (s_n_found, 0);
    s_smb2_setup (d, 51, 0xC000006A, S_T0 + 21 * S_NS);  //  WRONG_PASSWORD
    const s_found_t *f;
    cr_assert_eq (s_findings ("bruteforce.service", &f), 1);
    cr_assert_eq (f->evidence.count, 20);
    cr_assert (f->dport == 445);
    cr_assert_str_eq (f->message, "203.0.113.7 had 20 failed logins on 1 SMB server in 0m21s");
    s_smb2_setup (d, 52, 0x80000000u, S_T0 + 22 * S_NS);  //  a guest session: no password
    cr_assert_eq (s_findings ("bruteforce.success", NULL), 0);
    s_smb2_setup (d, 53, 0, S_T0 + 23 * S_NS);
    cr_assert_eq (s_findings ("bruteforce.success", &f), 1);
    cr_assert_eq (f->severity, MM_SEV_CRITICAL);
    sn_detect_destroy (&d);
}

//  The clear-text protocols' failure replies, each to a threshold of 2.
Test (sn_det_brute, database_and_mail_failure_replies)
{
    s_cfg.brute_attempts = 2;
    sn_detect_t *d = s_engine ();
    uint64_t ts = S_T0;
    //  MySQL ERR 1045 (Access denied).
    static const uint8_t mysql_err[] = {0x4a, 0,   0,   2,   0xff, 0x15, 0x04, '#',
                                        '2',  '8', '0', '0', '0',  'A',  'c',  'c'};
    //  PostgreSQL ErrorResponse, SQLSTATE 28P01.
    static const uint8_t pg_err[] = "E\0\0\0\x30SFATAL\0VFATAL\0C28P01\0Mpassword authentication";
    //  MSSQL TDS ERROR token 18456.
    static const uint8_t tds_err[] = {0x04, 0x01, 0x00, 0x40, 0,    0,    1,   0,
                                      0xaa, 0x30, 0x00, 0x18, 0x48, 0x00, 0x00};
    for (uint64_t i = 0; i < 2; i++, ts += S_NS) {
        sn_flow_t f = s_flow (10 + i, "203.0.113.7", 50010, "10.0.0.4", 3306, ts);
        s_seg (d, &f, 1, 100, mysql_err, sizeof mysql_err, ts);
        f = s_flow (20 + i, "203.0.113.7", 50020, "10.0.0.4", 5432, ts);
        s_seg (d, &f, 1, 100, pg_err, sizeof pg_err - 1, ts);
        f = s_flow (30 + i, "203.0.113.7", 50030, "10.0.0.4", 1433, ts);
        s_seg (d, &f, 1, 100, tds_err, sizeof tds_err, ts);
        f = s_flow (40 + i, "203.0.113.7", 50040, "10.0.0.4", 6379, ts);
        s_text (d, &f, 1, 100, "-WRONGPASS invalid username-password pair or user is disabled.\r\n",
                ts);
        f = s_flow (50 + i, "203.0.113.7", 50050, "10.0.0.4", 1521, ts);
        s_text (d, &f, 1, 100, "(DESCRIPTION=(ERR=1017)(VSNNUM=0)(ERROR_STACK=ORA-01017", ts);
        f = s_flow (60 + i, "203.0.113.7", 50060, "10.0.0.4", 25, ts);
        s_text (d, &f, 1, 100, "535 5.7.8 Error: authentication failed\r\n", ts);
        f = s_flow (70 + i, "203.0.113.7", 50070, "10.0.0.4", 23, ts);
        s_text (d, &f, 1, 100, "\r\nLogin incorrect\r\nlogin: ", ts);
        //  POP3 and IMAP: only the answer to a login command.
        f = s_flow (80 + i, "203.0.113.7", 50080, "10.0.0.4", 110, ts);
        s_text (d, &f, 1, 100, "-ERR unknown command\r\n", ts);
        s_text (d, &f, 0, 1, "USER bob\r\n", ts);
        s_text (d, &f, 1, 122, "+OK\r\n", ts);
        s_text (d, &f, 0, 11, "PASS x\r\n", ts);
        s_text (d, &f, 1, 127, "-ERR [AUTH] Authentication failed.\r\n", ts);
        f = s_flow (90 + i, "203.0.113.7", 50090, "10.0.0.4", 143, ts);
        s_text (d, &f, 0, 1, "a1 LOGIN bob x\r\n", ts);
        s_text (d, &f, 1, 100,
                "* OK still here\r\na2 NO not you\r\na1 NO [AUTHENTICATIONFAILED]\r\n", ts);
    }
    cr_assert_eq (s_findings ("bruteforce.service", NULL), 9);
    static const char *names[] = {"MySQL", "PostgreSQL", "MSSQL", "Redis", "Oracle",
                                  "SMTP",  "Telnet",     "POP3",  "IMAP"};
    for (size_t k = 0; k < 9; k++) {
        bool seen = false;
        for (int i = 0; i < s_n_found; i++) {
            char want[64];
            snprintf (want, sizeof want, "had 2 failed logins on 1 %s server", names[k]);
            seen |= strstr (s_found[i].message, want) != NULL;
        }
        cr_assert (seen, "%s", names[k]);
    }
    sn_detect_destroy (&d);
}

//  Allowed sources are never reported; a disabled detector reports nothing.
Test (sn_det_brute, allow_list_and_disabled)
{
    char err[256];
    cr_assert_eq (mm_netlist_parse (&s_cfg.brute_allow, "203.0.113.0/24", err, sizeof err), 0);
    sn_detect_t *d = s_engine ();
    for (uint64_t i = 0; i < 30; i++)
        s_ftp_fail (d, i + 1, "203.0.113.7", "10.0.0.5", S_T0 + i * S_NS);
    cr_assert_eq (s_n_found, 0);
    sn_detect_destroy (&d);

    s_defaults ();
    s_cfg.brute = false;
    d = s_engine ();
    for (uint64_t i = 0; i < 30; i++)
        s_ftp_fail (d, i + 1, "203.0.113.7", "10.0.0.5", S_T0 + i * S_NS);
    cr_assert_eq (s_n_found, 0);
    sn_detect_destroy (&d);
}

//  Memory is bounded: many more sources than max_tracked recycle entries (an attacker with many
//  addresses costs no more memory); one persistent source is still found.
Test (sn_det_brute, state_is_bounded)
{
    s_cfg.brute_max_tracked = 16;
    sn_detect_t *d = s_engine ();
    char src[32];
    for (uint64_t i = 0; i < 5000; i++) {
        snprintf (src, sizeof src, "198.18.%u.%u", (unsigned) (i / 250), (unsigned) (i % 250 + 1));
        s_ftp_fail (d, i + 1, src, "10.0.0.5", S_T0 + i * 1000);
    }
    cr_assert_eq (s_n_found, 0);
    for (uint64_t i = 0; i < 20; i++)
        s_ftp_fail (d, 9000 + i, "203.0.113.7", "10.0.0.5", S_T0 + S_NS + i * 1000);
    cr_assert_eq (s_findings ("bruteforce.ftp", NULL), 1);
    sn_detect_destroy (&d);
}

//  A malformed port list stops the detector (and says why) rather than guess.
Test (sn_det_brute, bad_port_list)
{
    snprintf (s_cfg.brute_ports, sizeof s_cfg.brute_ports, "22,abc");
    sn_detect_t *d = s_engine ();
    for (uint64_t i = 0; i < 30; i++)
        s_ftp_fail (d, i + 1, "203.0.113.7", "10.0.0.5", S_T0 + i * S_NS);
    cr_assert_eq (s_n_found, 0);
    sn_detect_destroy (&d);
}
