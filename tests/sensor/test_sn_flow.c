/*  sn_flow: synthetic packets with explicit timestamps drive keying, originator choice, Zeek's
    conn_state, idle/active timeouts, eviction, in-order stream delivery and flush; then real
    captures go through sn_decode and the table and are compared with Zeek's conn.log baselines.
    Tests marked "REGRESSION" pin bugs found by these tests and since fixed in sn_flow. */
#define _DEFAULT_SOURCE  //  libpcap's headers need the BSD u_int types
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sn_flow.h"

#define S_SEC 1000000000ull
#define S_MS 1000000ull

//  TCP flags
#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

//  ---------------------------------------------------------------------------------------------
//  What the end callback saw.

#define S_ENDS_MAX 64

typedef struct {
    sn_flow_t flow;  //  a copy: the flow is only valid during the call
    sn_end_t reason;
    uint8_t conn_state;
} s_end_rec_t;

static s_end_rec_t ends[S_ENDS_MAX];
static size_t n_ends;
static uint64_t n_ends_total;

static void
s_on_end (void *arg, sn_flow_t *flow, sn_end_t reason)
{
    (void) arg;
    n_ends_total++;
    if (n_ends < S_ENDS_MAX) {
        ends[n_ends].flow = *flow;
        ends[n_ends].reason = reason;
        ends[n_ends].conn_state = sn_flow_conn_state (flow);
        n_ends++;
    }
}

static sn_flow_table_t *table;

static sn_flow_table_t *
s_table (uint32_t max_flows)
{
    sn_flow_config_t cfg;
    sn_flow_config_defaults (&cfg);
    cfg.max_flows = max_flows;
    n_ends = 0;
    n_ends_total = 0;
    sn_flow_table_destroy (&table);
    table = sn_flow_table_new (&cfg, s_on_end, NULL);
    cr_assert_not_null (table);
    return table;
}

static void
s_fini (void)
{
    sn_flow_table_destroy (&table);
    sn_flow_table_destroy (&table);  //  idempotent
    cr_assert_null (table);
}

TestSuite (sn_flow, .fini = s_fini);

//  ---------------------------------------------------------------------------------------------
//  Synthetic packets

static mm_addr_t
s_addr (const char *text)
{
    mm_addr_t a = {0};
    if (inet_pton (AF_INET, text, a.b) == 1)
        a.len = 4;
    else if (inet_pton (AF_INET6, text, a.b) == 1)
        a.len = 16;
    cr_assert (a.len, "bad address %s", text);
    return a;
}

static sn_pkt_t
s_pkt (uint8_t proto, const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
    sn_pkt_t p;
    memset (&p, 0, sizeof p);
    p.proto = proto;
    p.src = s_addr (src);
    p.dst = s_addr (dst);
    p.ip_version = p.src.len == 4 ? 4 : 6;
    p.sport = sport;
    p.dport = dport;
    p.has_ports = true;
    p.ip_len = p.ip_version == 4 ? 28 : 48;
    return p;
}

//  The client 10.0.0.1:40000 and the server 10.0.0.2:80; dir 0 is client -> server.
static sn_pkt_t
s_tcp (int from_server, uint8_t flags, uint32_t seq, const char *data)
{
    sn_pkt_t p = from_server ? s_pkt (6, "10.0.0.2", 80, "10.0.0.1", 40000)
                             : s_pkt (6, "10.0.0.1", 40000, "10.0.0.2", 80);
    p.tcp_flags = flags;
    p.tcp_seq = seq;
    p.payload = (const uint8_t *) data;
    p.payload_len = data ? (uint32_t) strlen (data) : 0;
    p.payload_wire_len = p.payload_len;
    p.ip_len = 40 + p.payload_len;
    return p;
}

static sn_flow_t *
s_update (const sn_pkt_t *p, uint64_t now_ns, int expect_dir)
{
    int dir = -1;
    sn_flow_t *f = sn_flow_update (table, p, now_ns, &dir);
    cr_assert_not_null (f);
    if (expect_dir >= 0)
        cr_assert_eq (dir, expect_dir);
    return f;
}

//  ---------------------------------------------------------------------------------------------
//  Keying and originator

Test (sn_flow, both_directions_are_one_flow)
{
    s_table (64);
    sn_pkt_t syn = s_tcp (0, F_SYN, 100, NULL), synack = s_tcp (1, F_SYN | F_ACK, 500, NULL),
             ack = s_tcp (0, F_ACK, 101, NULL), data = s_tcp (1, F_ACK | F_PSH, 501, "HTTP/1.1");
    sn_flow_t *f = s_update (&syn, 1 * S_SEC, 0);
    cr_assert_eq (s_update (&synack, 1 * S_SEC + 10 * S_MS, 1), f);
    cr_assert_eq (s_update (&ack, 1 * S_SEC + 20 * S_MS, 0), f);
    cr_assert_eq (s_update (&data, 1 * S_SEC + 30 * S_MS, 1), f);
    cr_assert_eq (f->pkts[0], 2u);
    cr_assert_eq (f->pkts[1], 2u);
    cr_assert_eq (f->ip_bytes[0], 80u);
    cr_assert_eq (f->ip_bytes[1], 40u + 48);
    cr_assert_eq (f->tcp_flags[0], F_SYN | F_ACK);
    cr_assert_eq (f->tcp_flags[1], F_SYN | F_ACK | F_PSH);
    cr_assert_eq (f->first_ns, 1 * S_SEC);
    cr_assert_eq (f->last_ns, 1 * S_SEC + 30 * S_MS);
    mm_addr_t a = s_addr ("10.0.0.1"), b = s_addr ("10.0.0.2");
    cr_assert (memcmp (&f->orig, &a, sizeof a) == 0);
    cr_assert (memcmp (&f->resp, &b, sizeof b) == 0);
    cr_assert_eq (f->orig_port, 40000);
    cr_assert_eq (f->resp_port, 80);
    cr_assert_eq (f->proto, 6);
    cr_assert_eq (f->ip_version, 4);
    const sn_flow_stats_t *st = sn_flow_stats (table);
    cr_assert_eq (st->created, 1u);
    cr_assert_eq (st->active, 1u);
    cr_assert_eq (st->ended, 0u);
}

Test (sn_flow, same_addresses_different_ports_or_protocol_are_different_flows)
{
    s_table (64);
    sn_pkt_t a = s_pkt (17, "10.0.0.1", 1000, "10.0.0.2", 53);
    sn_pkt_t b = s_pkt (17, "10.0.0.1", 1001, "10.0.0.2", 53);
    sn_pkt_t c = s_pkt (6, "10.0.0.1", 1000, "10.0.0.2", 53);
    //  Same endpoints, ports crossed: 10.0.0.1:53 -> 10.0.0.2:1000 is another conversation.
    sn_pkt_t d = s_pkt (17, "10.0.0.1", 53, "10.0.0.2", 1000);
    //  Equal addresses (loopback): only the ports tell the sides apart.
    sn_pkt_t e = s_pkt (17, "127.0.0.1", 5000, "127.0.0.1", 6000);
    sn_pkt_t e_back = s_pkt (17, "127.0.0.1", 6000, "127.0.0.1", 5000);
    sn_flow_t *fa = s_update (&a, S_SEC, 0), *fb = s_update (&b, S_SEC, 0);
    sn_flow_t *fc = s_update (&c, S_SEC, 0), *fd = s_update (&d, S_SEC, 0);
    sn_flow_t *fe = s_update (&e, S_SEC, 0);
    cr_assert_eq (s_update (&e_back, S_SEC, 1), fe);
    cr_assert (fa != fb && fa != fc && fa != fd && fb != fc && fb != fd && fc != fd);
    cr_assert_eq (sn_flow_stats (table)->created, 5u);
    //  IPv6.
    sn_pkt_t v6 = s_pkt (17, "2001:db8::1", 1, "2001:db8::2", 2);
    sn_pkt_t v6_back = s_pkt (17, "2001:db8::2", 2, "2001:db8::1", 1);
    sn_flow_t *f6 = s_update (&v6, S_SEC, 0);
    cr_assert_eq (s_update (&v6_back, S_SEC, 1), f6);
    cr_assert_eq (f6->ip_version, 6);
    cr_assert_eq (sn_flow_stats (table)->created, 6u);
}

Test (sn_flow, first_synack_flips_originator)
{
    s_table (64);
    sn_pkt_t synack = s_tcp (1, F_SYN | F_ACK, 500, NULL), ack = s_tcp (0, F_ACK, 101, NULL);
    sn_flow_t *f = s_update (&synack, S_SEC, 1);
    mm_addr_t client = s_addr ("10.0.0.1");
    cr_assert (memcmp (&f->orig, &client, sizeof client) == 0);
    cr_assert_eq (f->orig_port, 40000);
    cr_assert_eq (f->resp_port, 80);
    cr_assert_eq (f->pkts[1], 1u);
    cr_assert_eq (f->pkts[0], 0u);
    cr_assert_eq (s_update (&ack, S_SEC + 1, 0), f);
    cr_assert_eq (f->pkts[0], 1u);
    //  A first plain SYN or a first data packet does not flip.
    sn_pkt_t data = s_pkt (6, "10.0.0.9", 80, "10.0.0.8", 5555);
    data.tcp_flags = F_ACK | F_PSH;
    sn_flow_t *g = s_update (&data, S_SEC, 0);
    cr_assert_eq (g->orig_port, 80);
    //  Nor does a first UDP packet, whatever the ports.
    sn_pkt_t dns = s_pkt (17, "10.0.0.53", 53, "10.0.0.1", 33333);
    cr_assert_eq (s_update (&dns, S_SEC, 0)->orig_port, 53);
}

Test (sn_flow, vlan_distinguishes_flows)
{
    s_table (64);
    sn_pkt_t a = s_pkt (17, "10.0.0.1", 1000, "10.0.0.2", 53), b = a, c = a;
    b.n_vlan = 1;
    b.vlan[0] = 10;
    c.n_vlan = 1;
    c.vlan[0] = 20;
    sn_flow_t *fa = s_update (&a, S_SEC, 0), *fb = s_update (&b, S_SEC, 0);
    sn_flow_t *fc = s_update (&c, S_SEC, 0);
    cr_assert (fa != fb && fb != fc && fa != fc);
    cr_assert_eq (fb->vlan, 10);
    cr_assert_eq (fb->n_vlan, 1);
    cr_assert_eq (fb->vlans[0], 10);
    //  The reply on VLAN 20 finds its own flow.
    sn_pkt_t c_back = s_pkt (17, "10.0.0.2", 53, "10.0.0.1", 1000);
    c_back.n_vlan = 1;
    c_back.vlan[0] = 20;
    cr_assert_eq (s_update (&c_back, S_SEC, 1), fc);
    cr_assert_eq (fc->pkts[1], 1u);
    cr_assert_eq (fa->pkts[1], 0u);
    cr_assert_eq (sn_flow_stats (table)->created, 3u);
}

//  ---------------------------------------------------------------------------------------------
//  conn_state

typedef struct {
    int from_server;
    uint8_t flags;
    const char *data;
} s_step_t;

//  Runs `steps` on a fresh table and returns the flow's conn_state (the flow stays valid).
static uint8_t
s_run (const s_step_t *steps, size_t n, sn_flow_t **out)
{
    s_table (16);
    sn_flow_t *f = NULL;
    uint32_t seq[2] = {1000, 9000};
    for (size_t i = 0; i < n; i++) {
        int d = steps[i].from_server;
        sn_pkt_t p = s_tcp (d, steps[i].flags, seq[d], steps[i].data);
        seq[d] += p.payload_len + ((steps[i].flags & (F_SYN | F_FIN)) ? 1u : 0u);
        f = s_update (&p, S_SEC + i * S_MS, -1);
    }
    if (out)
        *out = f;
    return sn_flow_conn_state (f);
}

#define S_RUN(...)                                                                                 \
    s_run ((const s_step_t[]){__VA_ARGS__},                                                        \
           sizeof ((const s_step_t[]){__VA_ARGS__}) / sizeof (s_step_t), NULL)

//  Names as Zeek logs them, for readable failures.
static const char *
s_state_name (uint8_t s)
{
    static const char *names[] = {"NONE", "S0",   "S1",     "SF",    "REJ", "S2",  "S3",
                                  "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH",  "SHR", "OTH"};
    return s < sizeof names / sizeof names[0] ? names[s] : "?";
}

#define S_STATE_EQ(got, want)                                                                      \
    do {                                                                                           \
        uint8_t g_ = (got);                                                                        \
        cr_assert_eq (g_, want, "conn_state %s, expected %s", s_state_name (g_),                   \
                      s_state_name (want));                                                        \
    } while (0)

//  The cases Zeek's base/protocols/conn/main.zeek documents for conn_state.
Test (sn_flow, conn_state_classic_tcp)
{
    //  S0: a SYN, no reply.
    S_STATE_EQ (S_RUN ({0, F_SYN, NULL}), MM_STATE_S0);
    //  REJ: the responder answers the SYN with RST-ACK.
    S_STATE_EQ (S_RUN ({0, F_SYN, NULL}, {1, F_RST | F_ACK, NULL}), MM_STATE_REJ);
    //  S1: established, not terminated.
    S_STATE_EQ (S_RUN ({0, F_SYN, NULL}, {1, F_SYN | F_ACK, NULL}, {0, F_ACK, NULL}), MM_STATE_S1);
    S_STATE_EQ (S_RUN ({0, F_SYN, NULL}, {1, F_SYN | F_ACK, NULL}, {0, F_ACK, NULL},
                       {0, F_ACK | F_PSH, "GET /"}, {1, F_ACK | F_PSH, "200"}),
                MM_STATE_S1);
    //  SF: handshake, data, FIN from both.
    S_STATE_EQ (S_RUN ({0, F_SYN, NULL}, {1, F_SYN | F_ACK, NULL}, {0, F_ACK, NULL},
                       {0, F_ACK | F_PSH, "GET /"}, {1, F_ACK | F_PSH, "200"},
                       {0, F_FIN | F_ACK, NULL}, {1, F_FIN | F_ACK, NULL}, {0, F_ACK, NULL}),
                MM_STATE_SF);
    //  S2 / S3: established, then only the originator / only the responder closed.
    S_STATE_EQ (S_RUN ({0, F_SYN, NULL}, {1, F_SYN | F_ACK, NULL}, {0, F_ACK, NULL},
                       {0, F_FIN | F_ACK, NULL}),
                MM_STATE_S2);
    S_STATE_EQ (S_RUN ({0, F_SYN, NULL}, {1, F_SYN | F_ACK, NULL}, {0, F_ACK, NULL},
                       {1, F_FIN | F_ACK, NULL}),
                MM_STATE_S3);
    //  RSTO / RSTR: established, then a reset from the originator / the responder.
    S_STATE_EQ (
        S_RUN ({0, F_SYN, NULL}, {1, F_SYN | F_ACK, NULL}, {0, F_ACK, NULL}, {0, F_RST, NULL}),
        MM_STATE_RSTO);
    S_STATE_EQ (S_RUN ({0, F_SYN, NULL}, {1, F_SYN | F_ACK, NULL}, {0, F_ACK, NULL},
                       {0, F_ACK | F_PSH, "x"}, {1, F_RST | F_ACK, NULL}),
                MM_STATE_RSTR);
    //  SH: SYN then FIN from the originator, no SYN-ACK.
    S_STATE_EQ (S_RUN ({0, F_SYN, NULL}, {0, F_FIN, NULL}), MM_STATE_SH);
    //  SHR / RSTRH: we saw the responder's SYN-ACK (no SYN), then its FIN / RST.
    S_STATE_EQ (S_RUN ({1, F_SYN | F_ACK, NULL}, {1, F_FIN | F_ACK, NULL}), MM_STATE_SHR);
    S_STATE_EQ (S_RUN ({1, F_SYN | F_ACK, NULL}, {1, F_RST, NULL}), MM_STATE_RSTRH);
    //  RSTOS0: SYN then RST from the originator, no SYN-ACK.
    S_STATE_EQ (S_RUN ({0, F_SYN, NULL}, {0, F_RST, NULL}), MM_STATE_RSTOS0);
    //  OTH: midstream traffic, no SYN seen.
    S_STATE_EQ (S_RUN ({0, F_ACK | F_PSH, "abc"}, {1, F_ACK, NULL}, {0, F_ACK | F_PSH, "d"}),
                MM_STATE_OTH);
}

//  Zeek's own baseline for four tiny traces (Traces/tcp/*.pcap, test
//  scripts/base/protocols/conn/conn_state-RST-behavior, Baseline/.../out):
//    single-rst "R, OTH"; syn-then-rst "SR, RSTOS0"; syn-then-ack-then-rst "SaR, RSTOS0";
//    syn-then-stuff-then-rst "SaFR, OTH". History letters: upper case originator, lower case
//  responder; "a" is a pure ACK from the responder.
Test (sn_flow, conn_state_rst_behavior_like_zeek)
{
    S_STATE_EQ (S_RUN ({0, F_RST, NULL}), MM_STATE_OTH);
    S_STATE_EQ (S_RUN ({0, F_SYN, NULL}, {0, F_RST, NULL}), MM_STATE_RSTOS0);
    S_STATE_EQ (S_RUN ({0, F_SYN, NULL}, {1, F_ACK, NULL}, {0, F_RST, NULL}), MM_STATE_RSTOS0);
}

//  REGRESSION (sn_flow_conn_state): history "SaFR" (orig SYN, resp ACK, orig FIN, orig RST) is
//  OTH in Zeek (Baseline scripts.base.protocols.conn.conn_state-RST-behavior/out, line 5; Zeek
//  gives RSTOS0 only when the history matches /^?S[^HAFGIQ]*R.*/, i.e. no FIN/ACK/data from the
//  originator between SYN and RST), but sn_flow_conn_state returns RSTOS0 because it only checks
//  that the originator ever sent a SYN. Fails until fixed.
Test (sn_flow, conn_state_syn_fin_rst_is_oth_like_zeek)
{
    S_STATE_EQ (S_RUN ({0, F_SYN, NULL}, {1, F_ACK, NULL}, {0, F_FIN, NULL}, {0, F_RST, NULL}),
                MM_STATE_OTH);
}

Test (sn_flow, conn_state_udp_and_icmp)
{
    //  UDP SF: both sides sent; S0: only the originator.
    s_table (16);
    sn_pkt_t q = s_pkt (17, "10.0.0.1", 33333, "10.0.0.53", 53);
    sn_pkt_t r = s_pkt (17, "10.0.0.53", 53, "10.0.0.1", 33333);
    sn_flow_t *f = s_update (&q, S_SEC, 0);
    S_STATE_EQ (sn_flow_conn_state (f), MM_STATE_S0);
    s_update (&r, S_SEC + 1, 1);
    S_STATE_EQ (sn_flow_conn_state (f), MM_STATE_SF);
    //  UDP SHR (only the responder sent) cannot come out of sn_flow_update, whose originator
    //  is always the first sender for UDP; the derivation itself is checked on a flow record.
    sn_flow_t shr;
    memset (&shr, 0, sizeof shr);
    shr.proto = 17;
    shr.tcp_state[1] = SN_TCP_ESTABLISHED;
    S_STATE_EQ (sn_flow_conn_state (&shr), MM_STATE_SHR);
    shr.tcp_state[1] = SN_TCP_INACTIVE;
    S_STATE_EQ (sn_flow_conn_state (&shr), MM_STATE_OTH);
    //  ICMP is always OTH (as in Zeek's conn.log).
    sn_pkt_t echo = s_pkt (1, "10.0.0.1", 8, "10.0.0.2", 0);
    f = s_update (&echo, S_SEC, 0);
    S_STATE_EQ (sn_flow_conn_state (f), MM_STATE_OTH);
    sn_pkt_t unreach = s_pkt (58, "2001:db8::1", 1, "2001:db8::2", 4);
    f = s_update (&unreach, S_SEC, 0);
    S_STATE_EQ (sn_flow_conn_state (f), MM_STATE_OTH);
}

Test (sn_flow, pkts_and_ip_bytes_per_direction)
{
    s_table (16);
    sn_pkt_t up = s_pkt (17, "10.1.1.1", 5000, "10.2.2.2", 6000);
    sn_pkt_t down = s_pkt (17, "10.2.2.2", 6000, "10.1.1.1", 5000);
    sn_flow_t *f = NULL;
    for (uint32_t i = 0; i < 10; i++) {
        up.ip_len = 100 + i;
        f = s_update (&up, S_SEC + i * S_MS, 0);
        if (i % 3 == 0) {
            down.ip_len = 1500;
            s_update (&down, S_SEC + i * S_MS + 1, 1);
        }
    }
    cr_assert_eq (f->pkts[0], 10u);
    cr_assert_eq (f->ip_bytes[0], 10u * 100 + 45);
    cr_assert_eq (f->pkts[1], 4u);
    cr_assert_eq (f->ip_bytes[1], 6000u);
}

//  ---------------------------------------------------------------------------------------------
//  Timeouts

Test (sn_flow, udp_idle_timeout)
{
    s_table (16);  //  defaults: udp 60 s
    sn_pkt_t u = s_pkt (17, "10.0.0.1", 1111, "10.0.0.2", 2222);
    sn_pkt_t other = s_pkt (17, "10.0.0.3", 1111, "10.0.0.4", 2222);
    sn_flow_t *f = s_update (&u, 100 * S_SEC, 0);
    uint64_t id = f->id;
    sn_flow_expire (table, 160 * S_SEC);  //  exactly 60 s idle: not yet
    cr_assert_eq (n_ends, 0u);
    s_update (&other, 160 * S_SEC + 500 * S_MS, 0);
    cr_assert_eq (n_ends, 0u);
    //  The next packet more than 60 s later expires it, through the callback.
    s_update (&other, 161 * S_SEC + 1, 0);
    cr_assert_eq (n_ends, 1u);
    cr_assert_eq (ends[0].reason, SN_END_IDLE);
    cr_assert_eq (ends[0].flow.id, id);
    cr_assert_eq (ends[0].flow.orig_port, 1111);
    cr_assert_eq (ends[0].flow.pkts[0], 1u);
    const sn_flow_stats_t *st = sn_flow_stats (table);
    cr_assert_eq (st->ended, 1u);
    cr_assert_eq (st->active, 1u);
    cr_assert_eq (st->evicted, 0u);
    //  The same 5-tuple again is a new flow.
    f = s_update (&u, 162 * S_SEC, 0);
    cr_assert_neq (f->id, id);
    cr_assert_eq (st->created, 3u);
}

Test (sn_flow, tcp_idle_timeouts_by_state)
{
    s_table (16);  //  defaults: established 600 s, unfinished/closed 30 s
    sn_pkt_t syn = s_tcp (0, F_SYN, 1, NULL), synack = s_tcp (1, F_SYN | F_ACK, 1, NULL),
             ack = s_tcp (0, F_ACK, 2, NULL);
    s_update (&syn, 0, 0);
    s_update (&synack, 1 * S_MS, 1);
    sn_flow_t *est = s_update (&ack, 2 * S_MS, 0);
    uint64_t est_id = est->id;
    //  A lone SYN on another port: unfinished handshake.
    sn_pkt_t lone = s_pkt (6, "10.0.0.5", 5555, "10.0.0.6", 22);
    lone.tcp_flags = F_SYN;
    uint64_t lone_id = s_update (&lone, 0, 0)->id;
    sn_flow_expire (table, 29 * S_SEC);
    cr_assert_eq (n_ends, 0u);
    sn_flow_expire (table, 31 * S_SEC);
    cr_assert_eq (n_ends, 1u);
    cr_assert_eq (ends[0].flow.id, lone_id);
    cr_assert_eq (ends[0].reason, SN_END_IDLE);
    S_STATE_EQ (ends[0].conn_state, MM_STATE_S0);
    //  The established flow outlives the UDP and unfinished-TCP timeouts...
    sn_flow_expire (table, 120 * S_SEC);
    sn_flow_expire (table, 600 * S_SEC);
    cr_assert_eq (n_ends, 1u);
    //  ...and ends once idle for longer than tcp_established_s.
    sn_flow_expire (table, 601 * S_SEC);
    cr_assert_eq (n_ends, 2u);
    cr_assert_eq (ends[1].flow.id, est_id);
    cr_assert_eq (ends[1].reason, SN_END_IDLE);
    S_STATE_EQ (ends[1].conn_state, MM_STATE_S1);
    cr_assert_eq (sn_flow_stats (table)->active, 0u);
}

Test (sn_flow, closed_tcp_uses_short_timeout)
{
    s_table (16);
    const s_step_t steps[] = {{0, F_SYN, NULL},         {1, F_SYN | F_ACK, NULL}, {0, F_ACK, NULL},
                              {0, F_FIN | F_ACK, NULL}, {1, F_FIN | F_ACK, NULL}, {0, F_ACK, NULL}};
    sn_flow_t *f;
    S_STATE_EQ (s_run (steps, sizeof steps / sizeof steps[0], &f), MM_STATE_SF);
    sn_flow_expire (table, 40 * S_SEC);  //  > 30 s after the last packet
    cr_assert_eq (n_ends, 1u);
    S_STATE_EQ (ends[0].conn_state, MM_STATE_SF);
}

//  Active timeouts are per protocol: a UDP flow is reported at its 10 s while a TCP flow of the
//  same age, under a 0 (never) TCP active timeout, is not.
Test (sn_flow, active_timeouts_are_per_protocol)
{
    sn_flow_config_t cfg;
    sn_flow_config_defaults (&cfg);
    cfg.max_flows = 16;
    cfg.active_udp_s = 10;
    cfg.active_tcp_s = 0;
    n_ends = 0;
    table = sn_flow_table_new (&cfg, s_on_end, NULL);
    cr_assert_not_null (table);
    sn_pkt_t u = s_pkt (17, "10.0.0.1", 1, "10.0.0.2", 2),
             t = s_pkt (6, "10.0.0.1", 3, "10.0.0.2", 4);
    t.tcp_flags = 0x10;
    s_update (&u, 0, 0);
    s_update (&t, 0, 0);
    for (uint64_t sec = 1; sec <= 12; sec++) {
        s_update (&u, sec * S_SEC, 0);
        s_update (&t, sec * S_SEC, 0);
    }
    cr_assert_eq (n_ends, 1u);
    cr_assert_eq (ends[0].reason, SN_END_ACTIVE);
    cr_assert_eq (ends[0].flow.proto, 17);
    sn_flow_table_destroy (&table);
}

Test (sn_flow, active_timeout_reports_and_resets)
{
    sn_flow_config_t cfg;
    sn_flow_config_defaults (&cfg);
    cfg.max_flows = 16;
    cfg.active_udp_s = 10;
    n_ends = 0;
    table = sn_flow_table_new (&cfg, s_on_end, NULL);
    cr_assert_not_null (table);
    sn_pkt_t u = s_pkt (17, "10.0.0.1", 1, "10.0.0.2", 2),
             back = s_pkt (17, "10.0.0.2", 2, "10.0.0.1", 1);
    sn_flow_t *f = s_update (&u, 0, 0);
    uint64_t id = f->id;
    s_update (&back, 4 * S_SEC, 1);
    s_update (&u, 9 * S_SEC, 0);
    cr_assert_eq (n_ends, 0u);
    //  10 s after the start: reported with what it had, then counts afresh.
    cr_assert_eq (s_update (&u, 10 * S_SEC, 0), f);
    cr_assert_eq (n_ends, 1u);
    cr_assert_eq (ends[0].reason, SN_END_ACTIVE);
    cr_assert_eq (ends[0].flow.pkts[0], 2u);
    cr_assert_eq (ends[0].flow.pkts[1], 1u);
    cr_assert_eq (ends[0].flow.ip_bytes[0], 56u);
    cr_assert_eq (ends[0].flow.first_ns, 0u);
    cr_assert_eq (f->id, id);
    cr_assert_eq (f->first_ns, 10 * S_SEC);
    cr_assert_eq (f->pkts[0], 1u);
    cr_assert_eq (f->pkts[1], 0u);
    cr_assert_eq (f->ip_bytes[0], 28u);
    cr_assert_eq (f->ip_bytes[1], 0u);
    const sn_flow_stats_t *st = sn_flow_stats (table);
    cr_assert_eq (st->active_reports, 1u);
    cr_assert_eq (st->ended, 0u);
    cr_assert_eq (st->active, 1u);
    //  The next report comes 10 s after the reset, not before.
    s_update (&back, 19 * S_SEC, 1);
    cr_assert_eq (n_ends, 1u);
    s_update (&back, 20 * S_SEC, 1);
    cr_assert_eq (n_ends, 2u);
    cr_assert_eq (ends[1].reason, SN_END_ACTIVE);
    cr_assert_eq (ends[1].flow.pkts[1], 1u);
    cr_assert_eq (st->active_reports, 2u);
}

//  ---------------------------------------------------------------------------------------------
//  Eviction and size

Test (sn_flow, full_table_evicts_stalest)
{
    s_table (8);
    //  Flow i (port 1000 + i) is first seen at i seconds; classes mixed (UDP, TCP SYN, ICMP) so
    //  the stalest must be found across LRU lists.
    for (uint32_t i = 0; i < 20; i++) {
        uint8_t proto = i % 3 == 0 ? 17 : i % 3 == 1 ? 6 : 132;
        sn_pkt_t p = s_pkt (proto, "10.0.0.1", (uint16_t) (1000 + i), "10.0.0.2", 80);
        p.tcp_flags = proto == 6 ? F_SYN : 0;
        s_update (&p, (uint64_t) i * S_SEC, 0);
        cr_assert_leq (sn_flow_stats (table)->active, 8u);
        if (i == 7) {
            //  The table is full: refresh the oldest (flow 0) so that flow 1 goes first.
            sn_pkt_t p0 = s_pkt (17, "10.0.0.2", 80, "10.0.0.1", 1000);
            s_update (&p0, (uint64_t) i * S_SEC + 1, 1);
        }
    }
    const sn_flow_stats_t *st = sn_flow_stats (table);
    cr_assert_eq (st->created, 20u);
    cr_assert_eq (st->evicted, 12u);
    cr_assert_eq (st->ended, 12u);
    cr_assert_eq (st->active, 8u);
    cr_assert_eq (n_ends, 12u);
    //  Order: flows 1..7, then 0 (refreshed just after 7 was created), then 8..11.
    const uint16_t expect[12] = {1001, 1002, 1003, 1004, 1005, 1006,
                                 1007, 1000, 1008, 1009, 1010, 1011};
    for (size_t i = 0; i < 12; i++) {
        cr_assert_eq (ends[i].reason, SN_END_EVICTED);
        cr_assert_eq (ends[i].flow.orig_port, expect[i], "eviction %zu: port %u", i,
                      ends[i].flow.orig_port);
    }
    //  The survivors are the 8 most recent; finding them creates nothing.
    for (uint32_t i = 12; i < 20; i++) {
        uint8_t proto = i % 3 == 0 ? 17 : i % 3 == 1 ? 6 : 132;
        sn_pkt_t p = s_pkt (proto, "10.0.0.1", (uint16_t) (1000 + i), "10.0.0.2", 80);
        s_update (&p, 30 * S_SEC, 0);
    }
    cr_assert_eq (st->created, 20u);
    cr_assert_eq (st->evicted, 12u);
}

Test (sn_flow, flow_record_is_small)
{
    //  100,000 flows in 64 MB: a few hundred bytes each at most, table overhead included.
    cr_assert_leq (sizeof (sn_flow_t), 256u, "sn_flow_t is %zu bytes", sizeof (sn_flow_t));
}

Test (sn_flow, many_flows_no_quadratic_behaviour, .timeout = 30)
{
    s_table (131072);
    sn_pkt_t p = s_pkt (17, "10.0.0.0", 0, "192.168.0.1", 53);
    for (uint32_t i = 0; i < 100000; i++) {
        //  Sources and ports walk in lockstep, the kind of pattern a naive hash piles up.
        p.src.b[1] = (uint8_t) (i >> 16);
        p.src.b[2] = (uint8_t) (i >> 8);
        p.src.b[3] = (uint8_t) i;
        p.sport = (uint16_t) (i * 7);
        int dir;
        cr_assert_not_null (sn_flow_update (table, &p, S_SEC + i, &dir));
    }
    const sn_flow_stats_t *st = sn_flow_stats (table);
    cr_assert_eq (st->created, 100000u);
    cr_assert_eq (st->active, 100000u);
    cr_assert_eq (st->evicted, 0u);
    //  Every one is found again from the other side.
    for (uint32_t i = 0; i < 100000; i += 97) {
        sn_pkt_t r = s_pkt (17, "192.168.0.1", 53, "10.0.0.0", 0);
        r.dst.b[1] = (uint8_t) (i >> 16);
        r.dst.b[2] = (uint8_t) (i >> 8);
        r.dst.b[3] = (uint8_t) i;
        r.dport = (uint16_t) (i * 7);
        int dir;
        sn_flow_t *f = sn_flow_update (table, &r, 2 * S_SEC, &dir);
        cr_assert_eq (dir, 1);
        cr_assert_eq (f->pkts[0], 1u);
    }
    cr_assert_eq (st->created, 100000u);
    sn_flow_flush (table);
    cr_assert_eq (st->active, 0u);
    cr_assert_eq (n_ends_total, 100000u);
}

Test (sn_flow, flush_ends_everything)
{
    s_table (16);
    sn_pkt_t a = s_pkt (17, "10.0.0.1", 1, "10.0.0.2", 2);
    sn_pkt_t b = s_tcp (0, F_SYN, 1, NULL);
    sn_pkt_t c = s_pkt (1, "10.0.0.1", 8, "10.0.0.2", 0);
    s_update (&a, S_SEC, 0);
    s_update (&b, S_SEC, 0);
    s_update (&c, S_SEC, 0);
    sn_flow_flush (table);
    cr_assert_eq (n_ends, 3u);
    for (size_t i = 0; i < 3; i++)
        cr_assert_eq (ends[i].reason, SN_END_SHUTDOWN);
    const sn_flow_stats_t *st = sn_flow_stats (table);
    cr_assert_eq (st->active, 0u);
    cr_assert_eq (st->ended, 3u);
    cr_assert_eq (st->evicted, 0u);
    sn_flow_flush (table);  //  nothing left
    cr_assert_eq (n_ends, 3u);
    //  The table is usable again.
    s_update (&a, 2 * S_SEC, 0);
    cr_assert_eq (st->active, 1u);
    cr_assert_eq (st->created, 4u);
}

Test (sn_flow, bad_configs)
{
    sn_flow_config_t cfg;
    sn_flow_config_defaults (&cfg);
    cr_assert_eq (cfg.max_flows, 262144u);
    cr_assert_eq (cfg.tcp_established_s, 600u);
    cr_assert_eq (cfg.tcp_other_s, 30u);
    cr_assert_eq (cfg.udp_s, 60u);
    cr_assert_eq (cfg.other_s, 60u);
    cr_assert_eq (cfg.active_tcp_s, 1800u);
    cr_assert_eq (cfg.active_udp_s, 1800u);
    cr_assert_eq (cfg.active_other_s, 1800u);
    cfg.max_flows = 0;
    cr_assert_null (sn_flow_table_new (&cfg, NULL, NULL));
    cr_assert_null (sn_flow_table_new (NULL, NULL, NULL));
    //  No callback is fine.
    cfg.max_flows = 2;
    sn_flow_table_t *t = sn_flow_table_new (&cfg, NULL, NULL);
    cr_assert_not_null (t);
    for (uint16_t i = 0; i < 5; i++) {
        sn_pkt_t p = s_pkt (17, "10.0.0.1", i, "10.0.0.2", 2);
        int dir;
        sn_flow_update (t, &p, S_SEC, &dir);
    }
    cr_assert_eq (sn_flow_stats (t)->evicted, 3u);
    sn_flow_flush (t);
    sn_flow_table_destroy (&t);
    cr_assert_null (t);
}

//  ---------------------------------------------------------------------------------------------
//  In-order stream delivery

//  Delivers `data` at `seq` from the client and returns what came out as a string.
static const char *
s_stream (sn_flow_t *f, uint8_t flags, uint32_t seq, const char *data)
{
    static char out[256];
    sn_pkt_t p = s_tcp (0, flags, seq, data);
    const uint8_t *bytes;
    uint32_t n = sn_flow_stream (table, f, 0, &p, &bytes);
    cr_assert_lt (n, sizeof out);
    if (n) {
        cr_assert (bytes >= p.payload && bytes + n <= p.payload + p.payload_len);
        memcpy (out, bytes, n);
    }
    else
        cr_assert_null (bytes);
    out[n] = 0;
    return out;
}

static sn_flow_t *
s_stream_flow (uint32_t isn)
{
    s_table (16);
    sn_pkt_t syn = s_tcp (0, F_SYN, isn, NULL);
    return s_update (&syn, S_SEC, 0);
}

Test (sn_flow, stream_in_order_retransmission_overlap)
{
    sn_flow_t *f = s_stream_flow (1000);
    cr_assert_str_eq (s_stream (f, F_ACK | F_PSH, 1001, "hello "), "hello ");
    cr_assert_str_eq (s_stream (f, F_ACK | F_PSH, 1007, "world"), "world");
    //  An exact retransmission gives nothing.
    cr_assert_str_eq (s_stream (f, F_ACK | F_PSH, 1007, "world"), "");
    cr_assert_str_eq (s_stream (f, F_ACK | F_PSH, 1001, "hello "), "");
    //  An overlap gives only its new bytes.
    cr_assert_str_eq (s_stream (f, F_ACK | F_PSH, 1009, "rld!!"), "!!");
    cr_assert_str_eq (s_stream (f, F_ACK | F_PSH, 1014, "?"), "?");
    //  An empty segment changes nothing.
    cr_assert_str_eq (s_stream (f, F_ACK, 1015, NULL), "");
    cr_assert_str_eq (s_stream (f, F_ACK | F_PSH, 1015, "end"), "end");
    cr_assert_eq (sn_flow_stats (table)->stream_gaps, 0u);
}

Test (sn_flow, stream_gap_stops_direction)
{
    sn_flow_t *f = s_stream_flow (1000);
    cr_assert_str_eq (s_stream (f, F_ACK | F_PSH, 1001, "abc"), "abc");
    //  1004..1009 missing.
    cr_assert_str_eq (s_stream (f, F_ACK | F_PSH, 1010, "xyz"), "");
    cr_assert_eq (sn_flow_stats (table)->stream_gaps, 1u);
    //  Even the missing bytes arriving late do not restart it.
    cr_assert_str_eq (s_stream (f, F_ACK | F_PSH, 1004, "defghi"), "");
    cr_assert_eq (sn_flow_stats (table)->stream_gaps, 1u);
    //  The other direction is independent.
    sn_pkt_t r = s_tcp (1, F_ACK | F_PSH, 5000, "reply");
    const uint8_t *bytes;
    cr_assert_eq (sn_flow_stream (table, f, 1, &r, &bytes), 5u);
    cr_assert (memcmp (bytes, "reply", 5) == 0);
}

Test (sn_flow, stream_syn_with_data_counts_one)
{
    //  A SYN carrying data (TCP Fast Open): its data starts at ISN + 1.
    sn_flow_t *f = s_stream_flow (1000);
    cr_assert_str_eq (s_stream (f, F_SYN, 1000, "tfo"), "tfo");
    cr_assert_str_eq (s_stream (f, F_ACK | F_PSH, 1004, "next"), "next");
    cr_assert_eq (sn_flow_stats (table)->stream_gaps, 0u);
}

Test (sn_flow, stream_wraps_at_2_pow_32)
{
    sn_flow_t *f = s_stream_flow (0xfffffff9u);
    cr_assert_str_eq (s_stream (f, F_ACK | F_PSH, 0xfffffffau, "0123"), "0123");
    //  Crosses the wrap: 0xfffffffe, 0xffffffff, 0, 1.
    cr_assert_str_eq (s_stream (f, F_ACK | F_PSH, 0xfffffffeu, "4567"), "4567");
    cr_assert_str_eq (s_stream (f, F_ACK | F_PSH, 2, "89"), "89");
    //  Retransmission and overlap across the wrap.
    cr_assert_str_eq (s_stream (f, F_ACK | F_PSH, 0xfffffffeu, "4567"), "");
    cr_assert_str_eq (s_stream (f, F_ACK | F_PSH, 0xffffffffu, "56789AB"), "AB");
    cr_assert_eq (sn_flow_stats (table)->stream_gaps, 0u);
    //  A gap after the wrap is still a gap.
    cr_assert_str_eq (s_stream (f, F_ACK | F_PSH, 100, "late"), "");
    cr_assert_eq (sn_flow_stats (table)->stream_gaps, 1u);
}

Test (sn_flow, stream_snaplen_cut_is_a_gap)
{
    sn_flow_t *f = s_stream_flow (1);
    sn_pkt_t p = s_tcp (0, F_ACK | F_PSH, 2, "captured");
    p.payload_wire_len = 1400;  //  the rest was cut by the snap length
    const uint8_t *bytes;
    cr_assert_eq (sn_flow_stream (table, f, 0, &p, &bytes), 8u);
    cr_assert_eq (sn_flow_stats (table)->stream_gaps, 1u);
    cr_assert_str_eq (s_stream (f, F_ACK | F_PSH, 10, "more"), "");
}

//  REGRESSION (sn_flow_stream): the SYN's sequence number is not recorded, because a SYN
//  without payload returns before seq_known is set; the first *data* segment seen then
//  becomes the start of the stream. If the first data segment after the handshake is lost
//  (or arrives out of order), the parsers get the stream from the middle, with no gap counted.
//  Reproducer: SYN seq=1000 (no data), then data "world" at seq=1006 ("hello" at 1001..1005
//  never seen). Expected: 0 bytes, stream_gaps 1. Actual: "world" delivered, stream_gaps 0.
//  Fails until fixed.
Test (sn_flow, stream_gap_right_after_syn)
{
    sn_flow_t *f = s_stream_flow (1000);
    cr_assert_str_eq (s_stream (f, F_SYN, 1000, NULL), "");
    cr_assert_str_eq (s_stream (f, F_ACK | F_PSH, 1006, "world"), "");
    cr_assert_eq (sn_flow_stats (table)->stream_gaps, 1u);
}

//  ---------------------------------------------------------------------------------------------
//  Real captures against Zeek's conn.log

#define S_ZEEK "/work/shared/corpus/zeek/testing/btest"

//  Decodes and tracks a whole capture, then flushes: the ended flows are in `ends`.
static void
s_replay (const char *trace)
{
    struct stat st;
    if (stat (S_ZEEK, &st) != 0)
        cr_skip_test ("corpus %s is absent on this machine", S_ZEEK);
    char path[512], err[PCAP_ERRBUF_SIZE];
    snprintf (path, sizeof path, "%s/Traces/%s", S_ZEEK, trace);
    pcap_t *pc = pcap_open_offline (path, err);
    cr_assert_not_null (pc, "%s: %s", path, err);
    s_table (1024);
    sn_decode_stats_t ds;
    memset (&ds, 0, sizeof ds);
    struct pcap_pkthdr *h;
    const u_char *bytes;
    while (pcap_next_ex (pc, &h, &bytes) == 1) {
        sn_pkt_t p;
        if (sn_decode (pcap_datalink (pc), bytes, h->caplen, &p, &ds) != SN_DECODE_OK)
            continue;
        uint64_t ts = (uint64_t) h->ts.tv_sec * S_SEC + (uint64_t) h->ts.tv_usec * 1000u;
        int dir;
        sn_flow_update (table, &p, ts, &dir);
    }
    pcap_close (pc);
    sn_flow_flush (table);
}

typedef struct {
    const char *orig;
    uint16_t orig_p;
    const char *resp;
    uint16_t resp_p;
    uint8_t proto;
    uint8_t state;
    uint64_t orig_pkts, orig_ip_bytes, resp_pkts, resp_ip_bytes;
} s_conn_t;

static const s_end_rec_t *
s_find (const s_conn_t *c)
{
    mm_addr_t o = s_addr (c->orig), r = s_addr (c->resp);
    for (size_t i = 0; i < n_ends; i++) {
        const sn_flow_t *f = &ends[i].flow;
        if (f->proto == c->proto && f->orig_port == c->orig_p && f->resp_port == c->resp_p &&
            memcmp (&f->orig, &o, sizeof o) == 0 && memcmp (&f->resp, &r, sizeof r) == 0)
            return &ends[i];
    }
    return NULL;
}

static void
s_assert_conn (const s_conn_t *c)
{
    const s_end_rec_t *e = s_find (c);
    cr_assert_not_null (e, "no flow %s:%u -> %s:%u/%u", c->orig, c->orig_p, c->resp, c->resp_p,
                        c->proto);
    S_STATE_EQ (e->conn_state, c->state);
    cr_assert_eq (e->flow.pkts[0], c->orig_pkts, "%s:%u orig_pkts", c->orig, c->orig_p);
    cr_assert_eq (e->flow.ip_bytes[0], c->orig_ip_bytes, "%s:%u orig_ip_bytes", c->orig, c->orig_p);
    cr_assert_eq (e->flow.pkts[1], c->resp_pkts, "%s:%u resp_pkts", c->orig, c->orig_p);
    cr_assert_eq (e->flow.ip_bytes[1], c->resp_ip_bytes, "%s:%u resp_ip_bytes", c->orig, c->orig_p);
    cr_assert_eq (e->reason, SN_END_SHUTDOWN);
}

//  Traces/tunnels/gre-sample.pcap (Ethernet / IPv4 / GRE / IPv4) against
//  Baseline/core.tunnels.gre/conn.log, lines 9-13 (conn_state, orig_pkts, orig_ip_bytes,
//  resp_pkts, resp_ip_bytes).
Test (sn_flow, zeek_gre_sample_tcp_udp)
{
    s_replay ("tunnels/gre-sample.pcap");
    const s_conn_t conns[] = {
        {"66.59.111.190", 40264, "172.28.2.3", 22, 6, MM_STATE_SF, 12, 1584, 10, 2199},
        {"66.59.111.190", 37675, "172.28.2.3", 53, 17, MM_STATE_S0, 2, 122, 0, 0},
        {"66.59.111.190", 123, "18.26.4.105", 123, 17, MM_STATE_SF, 1, 76, 1, 76},
        {"66.59.111.190", 123, "66.59.111.182", 123, 17, MM_STATE_SF, 1, 76, 1, 76},
        {"66.59.111.190", 123, "129.170.17.4", 123, 17, MM_STATE_SF, 1, 76, 1, 76},
        //  Line 15: ICMP port unreachable (type 3, code 3), as Zeek keys it.
        {"172.28.2.3", 3, "66.59.111.190", 3, 1, MM_STATE_OTH, 2, 178, 0, 0},
    };
    for (size_t i = 0; i < sizeof conns / sizeof conns[0]; i++)
        s_assert_conn (&conns[i]);
}

//  REGRESSION (sn_flow keying of ICMP): Zeek makes an echo request and its reply one
//  connection (Baseline/core.tunnels.gre/conn.log line 14: 66.59.111.190 8 -> 172.28.2.3 0,
//  icmp, OTH, orig 4 pkts / 336 bytes, resp 4 pkts / 336 bytes). sn_flow keys ICMP by
//  (type, code) as ports, so the replies (type 0, code 0) form a second flow
//  172.28.2.3:0 -> 66.59.111.190:0 with 4/336 and the request flow has resp 0/0: per-direction
//  counts and flow counts never match Zeek for ping. Fails until fixed.
Test (sn_flow, zeek_gre_sample_icmp_echo_is_one_flow)
{
    s_replay ("tunnels/gre-sample.pcap");
    const s_conn_t echo = {"66.59.111.190", 8, "172.28.2.3", 0, 1, MM_STATE_OTH, 4, 336, 4, 336};
    s_assert_conn (&echo);
}

//  Traces/tcp/syn-then-rst.pcap etc. against
//  Baseline/scripts.base.protocols.conn.conn_state-RST-behavior/out ("SR, RSTOS0", ...).
Test (sn_flow, zeek_rst_traces)
{
    s_replay ("tcp/single-rst.pcap");
    cr_assert_eq (n_ends, 1u);
    S_STATE_EQ (ends[0].conn_state, MM_STATE_OTH);
    s_replay ("tcp/syn-then-rst.pcap");
    cr_assert_eq (n_ends, 1u);
    S_STATE_EQ (ends[0].conn_state, MM_STATE_RSTOS0);
    s_replay ("tcp/syn-then-ack-then-rst.pcap");
    cr_assert_eq (n_ends, 1u);
    S_STATE_EQ (ends[0].conn_state, MM_STATE_RSTOS0);
}

//  REGRESSION: see conn_state_syn_fin_rst_is_oth_like_zeek; this is the real trace
//  (Traces/tcp/syn-then-stuff-then-rst.pcap, Zeek: "SaFR, OTH"). sn_flow says RSTOS0.
Test (sn_flow, zeek_rst_trace_syn_fin_rst)
{
    s_replay ("tcp/syn-then-stuff-then-rst.pcap");
    cr_assert_eq (n_ends, 1u);
    S_STATE_EQ (ends[0].conn_state, MM_STATE_OTH);
}
