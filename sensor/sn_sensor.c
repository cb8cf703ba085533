/*  sn_sensor: the packet path (see sn_sensor.h).
    A TCP flow's application protocol is recognised from its first payload bytes, not from its
    ports, so TLS on 8443 or SSH on 2222 are seen for what they are. Datagram protocols have no
    handshake to recognise and go by port: DNS (53, 5353, 5355, also over TCP), Kerberos (88,
    also over TCP), QUIC (UDP 443, client Initials only). */
#include "sn_sensor.h"

#include <stdlib.h>
#include <string.h>

#include "sn_cid.h"
#include "sn_detect.h"
#include "sn_dns.h"
#include "sn_http.h"
#include "sn_krb.h"
#include "sn_quic.h"
#include "sn_smb.h"
#include "sn_ssh.h"
#include "sn_tls.h"

typedef enum {
    S_APP_NONE = 0,  //  not recognised yet
    S_APP_DNS,
    S_APP_TLS,
    S_APP_HTTP,
    S_APP_SSH,
    S_APP_SMB,
    S_APP_QUIC,
    S_APP_KRB,
    S_APP_OTHER,  //  payload seen, no parser of ours wanted it
} s_app_t;

static const char *s_app_names[] = {NULL, "dns", "tls", "http", "ssh", "smb", "quic", "krb5", NULL};

struct sn_sensor {
    sn_config_t cfg;
    sn_event_fn *fn;
    void *arg;
    sn_flow_table_t *flows;
    sn_cid_t *cid;
    sn_detect_t *detect;  //  NULL when [detect] enabled = false
    sn_decode_stats_t dstats;
    sn_sensor_stats_t stats;
    uint64_t seq;
    sn_flow_t *current;  //  the flow whose parser is calling back
    uint64_t parsers_active;
    uint64_t now_ns;
    sn_dns_msg_t dns;          //  scratch: one DNS message at a time
    sn_krb_msg_t krb;          //  scratch: one Kerberos message at a time
    sn_tls_info_t quic_hello;  //  scratch: the ClientHello of a QUIC flow being reported
};

static void s_flow_end (void *arg, sn_flow_t *flow, sn_end_t reason);
static uint64_t s_publish (void *arg, mm_event_t *ev);

sn_sensor_t *
sn_sensor_new (const sn_config_t *cfg, sn_event_fn *fn, void *arg)
{
    sn_sensor_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = *cfg;
    self->fn = fn;
    self->arg = arg;
    sn_flow_config_t fc = {
        .max_flows = (uint32_t) cfg->max_flows,
        .tcp_established_s = (uint32_t) cfg->tcp_established_timeout,
        .tcp_other_s = (uint32_t) cfg->tcp_other_timeout,
        .udp_s = (uint32_t) cfg->udp_timeout,
        .other_s = (uint32_t) cfg->other_timeout,
        .active_tcp_s = (uint32_t) cfg->tcp_active_timeout,
        .active_udp_s = (uint32_t) cfg->udp_active_timeout,
        .active_other_s = (uint32_t) cfg->other_active_timeout,
    };
    self->flows = sn_flow_table_new (&fc, s_flow_end, self);
    self->cid = sn_cid_new ((uint16_t) cfg->community_id_seed);
    //  The engine keeps a pointer to our copy of the configuration.
    if (cfg->detect)
        self->detect = sn_detect_new (&self->cfg, s_publish, self);
    if (!self->flows || !self->cid || (cfg->detect && !self->detect)) {
        sn_sensor_destroy (&self);
        return NULL;
    }
    return self;
}

//  ---------------------------------------------------------------------------------------------
//  Events

static uint8_t
s_direction (const sn_sensor_t *self, const sn_flow_t *f)
{
    const mm_netlist_t *home = &self->cfg.home_net;
    if (home->n == 0)
        return MM_DIR_UNKNOWN;
    bool o = mm_netlist_contains (home, &f->orig), r = mm_netlist_contains (home, &f->resp);
    return o ? (r ? MM_DIR_INTERNAL : MM_DIR_OUTBOUND) : (r ? MM_DIR_INBOUND : MM_DIR_EXTERNAL);
}

//  The envelope and connection fields every event of `f` shares. `cid` is the caller's buffer.
static void
s_event_init (sn_sensor_t *self, mm_event_t *ev, const sn_flow_t *f, uint8_t kind, uint64_t ts,
              char cid[SN_CID_LEN + 1])
{
    memset (ev, 0, sizeof *ev);
    ev->ts = ts ? ts : 1;
    ev->sensor = mm_str (self->cfg.id);
    ev->org = mm_str (self->cfg.org);
    ev->kind = kind;
    ev->severity = MM_SEV_INFO;
    ev->proto = f->proto;
    ev->src = f->orig;
    ev->dst = f->resp;
    if (f->proto == 6 || f->proto == 17 || f->proto == 132 || f->proto == 1 || f->proto == 58) {
        ev->has |= MM_EV_HAS_PORTS;
        ev->sport = f->orig_port;
        ev->dport = f->resp_port;
    }
    ev->direction = s_direction (self, f);
    if (sn_cid_compute (self->cid, &f->orig, &f->resp, f->proto, f->orig_port, f->resp_port, cid) ==
        0)
        ev->community_id = (mm_str_t){cid, SN_CID_LEN};
    ev->flow_id = f->id;
    ev->n_vlan = f->n_vlan;
    memcpy (ev->vlan, f->vlans, sizeof ev->vlan);
    if (f->app_kind < S_APP_OTHER && s_app_names[f->app_kind])
        ev->app = mm_str (s_app_names[f->app_kind]);
}

//  Every event leaves through here: it gets its seq, and a new finding (id 0) gets that seq as
//  its id, so (sensor, id) names the finding in all its revisions.
static uint64_t
s_publish (void *arg, mm_event_t *ev)
{
    sn_sensor_t *self = arg;
    ev->seq = ++self->seq;
    if (ev->kind == MM_KIND_FINDING && ev->finding.id == 0)
        ev->finding.id = ev->seq;
    self->stats.events++;
    if (ev->kind <= MM_KIND_FINDING)
        self->stats.events_by_kind[ev->kind]++;
    if (self->fn)
        self->fn (self->arg, ev);
    return ev->seq;
}

//  Metadata events: detectors see each before it goes out.
static void
s_emit (sn_sensor_t *self, mm_event_t *ev)
{
    if (self->detect)
        sn_detect_event (self->detect, ev);
    s_publish (self, ev);
}

//  Flow records feed the detectors even when they are not sent ([output] flows = false).
static void
s_emit_flow (sn_sensor_t *self, const sn_flow_t *f)
{
    if (!self->detect && !self->cfg.flows)
        return;  //  nobody wants it: skip the Community ID hash and the event
    mm_event_t ev;
    char cid[SN_CID_LEN + 1];
    s_event_init (self, &ev, f, MM_KIND_FLOW, f->first_ns, cid);
    ev.has |= MM_EV_HAS_COUNTERS;
    ev.pkts_orig = f->pkts[0];
    ev.pkts_resp = f->pkts[1];
    ev.bytes_orig = f->ip_bytes[0];
    ev.bytes_resp = f->ip_bytes[1];
    ev.duration_us = (f->last_ns - f->first_ns) / 1000u;
    ev.state = sn_flow_conn_state (f);
    if (f->proto == 6) {
        ev.has |= MM_EV_HAS_TCP_FLAGS;
        ev.tcp_flags_orig = f->tcp_flags[0];
        ev.tcp_flags_resp = f->tcp_flags[1];
    }
    if (self->detect)
        sn_detect_event (self->detect, &ev);
    if (self->cfg.flows)
        s_publish (self, &ev);
}

//  Parser callbacks: they run inside sn_*_feed/flush, for self->current.

static void
s_on_http (void *arg, const sn_http_record_t *rec)
{
    sn_sensor_t *self = arg;
    mm_event_t ev;
    char cid[SN_CID_LEN + 1];
    s_event_init (self, &ev, self->current, MM_KIND_HTTP, self->now_ns, cid);
    ev.has |= MM_EV_HAS_HTTP;
    sn_http_to_event (rec, &ev.http);
    s_emit (self, &ev);
}

static void
s_on_smb (void *arg, const sn_smb_record_t *rec)
{
    sn_sensor_t *self = arg;
    mm_event_t ev;
    char cid[SN_CID_LEN + 1];
    s_event_init (self, &ev, self->current, MM_KIND_SMB, self->now_ns, cid);
    ev.has |= MM_EV_HAS_SMB;
    sn_smb_to_event (rec, &ev.smb);
    s_emit (self, &ev);
}

static void
s_emit_tls (sn_sensor_t *self, sn_flow_t *f, const sn_tls_t *tls)
{
    const sn_tls_info_t *info = sn_tls_info (tls);
    if (!info->client_hello && !info->server_hello && !info->certificate)
        return;
    mm_event_t ev;
    char cid[SN_CID_LEN + 1];
    s_event_init (self, &ev, f, MM_KIND_TLS, self->now_ns, cid);
    ev.has |= MM_EV_HAS_TLS;
    sn_tls_to_event (info, &ev.tls);
    s_emit (self, &ev);
}

static void
s_emit_ssh (sn_sensor_t *self, sn_flow_t *f, const sn_ssh_t *ssh)
{
    const sn_ssh_info_t *info = sn_ssh_info (ssh);
    if (!info->client_len && !info->server_len)
        return;
    mm_event_t ev;
    char cid[SN_CID_LEN + 1];
    s_event_init (self, &ev, f, MM_KIND_SSH, self->now_ns, cid);
    ev.has |= MM_EV_HAS_SSH;
    sn_ssh_to_event (info, &ev.ssh);
    s_emit (self, &ev);
}

//  ---------------------------------------------------------------------------------------------
//  Application parsers

//  Ends a flow's parser: reports what it still holds, frees it. Idempotent.
static void
s_app_close (sn_sensor_t *self, sn_flow_t *f)
{
    if (!f->app)
        return;
    self->current = f;
    switch (f->app_kind) {
    case S_APP_TLS: {
        sn_tls_t *tls = f->app;
        if (!f->app_done)
            s_emit_tls (self, f, tls);
        sn_tls_destroy (&tls);
        break;
    }
    case S_APP_HTTP: {
        sn_http_t *http = f->app;
        sn_http_flush (http);
        sn_http_destroy (&http);
        break;
    }
    case S_APP_SSH: {
        sn_ssh_t *ssh = f->app;
        if (!f->app_done)
            s_emit_ssh (self, f, ssh);
        sn_ssh_destroy (&ssh);
        break;
    }
    case S_APP_SMB: {
        sn_smb_t *smb = f->app;
        sn_smb_flush (smb);
        sn_smb_destroy (&smb);
        break;
    }
    case S_APP_DNS:
    case S_APP_KRB: free (f->app); break;  //  the TCP framer's state (s_framed)
    case S_APP_QUIC: {
        //  Nothing to report: the ClientHello is reported as soon as it is complete.
        sn_quic_t *quic = f->app;
        sn_quic_destroy (&quic);
        break;
    }
    default: break;
    }
    f->app = NULL;
    f->app_done = 1;
    self->parsers_active--;
}

static bool
s_is_http_request (const uint8_t *p, uint32_t n)
{
    static const char *methods[] = {"GET ",     "POST ",  "HEAD ",    "PUT ",  "DELETE ",
                                    "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        size_t len = strlen (methods[i]);
        if (n >= len && memcmp (p, methods[i], len) == 0)
            return true;
    }
    return false;
}

//  Parser state is capped in number, so hostile traffic (thousands of half-finished
//  handshakes) cannot grow memory past max_parsers times the largest parser's buffers.
static bool
s_parser_take (sn_sensor_t *self)
{
    if (self->parsers_active >= self->cfg.max_parsers) {
        self->stats.parsers_refused++;
        return false;
    }
    self->parsers_active++;
    return true;
}

//  Recognises the protocol from the first payload of either side and creates its parser.
static void
s_app_detect (sn_sensor_t *self, sn_flow_t *f, int dir, const uint8_t *p, uint32_t n)
{
    const sn_config_t *c = &self->cfg;
    s_app_t app = S_APP_OTHER;
    if (c->tls && n >= 3 && p[0] == 0x16 && p[1] == 0x03 && p[2] <= 0x04)
        app = S_APP_TLS;
    else if (c->ssh && n >= 4 && memcmp (p, "SSH-", 4) == 0)
        app = S_APP_SSH;
    else if (c->http && ((dir == 0 && s_is_http_request (p, n)) ||
                         (dir == 1 && n >= 7 && memcmp (p, "HTTP/1.", 7) == 0)))
        app = S_APP_HTTP;
    else if (c->smb && n >= 8 && p[0] == 0x00 && p[5] == 'S' && p[6] == 'M' && p[7] == 'B' &&
             (p[4] == 0xfe || p[4] == 0xff || p[4] == 0xfd))
        app = S_APP_SMB;
    else if (c->ssh && dir == 1 && (f->orig_port == 22 || f->resp_port == 22))
        app = S_APP_SSH;  //  servers may send lines before their banner (RFC 4253 4.2)
    if (app != S_APP_OTHER && !s_parser_take (self))
        app = S_APP_OTHER;
    switch (app) {
    case S_APP_TLS: f->app = sn_tls_new (); break;
    case S_APP_SSH: f->app = sn_ssh_new (); break;
    case S_APP_HTTP: f->app = sn_http_new (s_on_http, self); break;
    case S_APP_SMB: f->app = sn_smb_new (s_on_smb, self); break;
    default: break;
    }
    if (app != S_APP_OTHER && !f->app)
        self->parsers_active--;  //  allocation failed: the slot goes back
    f->app_kind = (uint8_t) (f->app || app == S_APP_OTHER ? app : S_APP_OTHER);
    if (!f->app)
        f->app_done = 1;
}

static void
s_app_feed (sn_sensor_t *self, sn_flow_t *f, int dir, const uint8_t *p, uint32_t n)
{
    self->current = f;
    int rc = 0;
    bool done = false;
    switch (f->app_kind) {
    case S_APP_TLS:
        rc = sn_tls_feed (f->app, dir, p, n);
        if (rc == 0 && sn_tls_done (f->app)) {
            s_emit_tls (self, f, f->app);
            done = true;
        }
        break;
    case S_APP_SSH:
        rc = sn_ssh_feed (f->app, dir, p, n);
        if (rc == 0 && sn_ssh_done (f->app)) {
            s_emit_ssh (self, f, f->app);
            done = true;
        }
        break;
    case S_APP_HTTP: rc = sn_http_feed (f->app, dir, p, n); break;
    case S_APP_SMB: rc = sn_smb_feed (f->app, dir, p, n); break;
    default: return;
    }
    if (rc == -1)
        self->stats.parser_errors++;
    if (done) {
        //  Reported already: free the parser now rather than at the end of the flow.
        f->app_done = 1;
        s_app_close (self, f);
    }
    else if (rc == -1)
        s_app_close (self, f);
}

static void
s_dns (sn_sensor_t *self, sn_flow_t *f, const uint8_t *msg, uint32_t len, uint64_t ts)
{
    const char *reason;
    if (sn_dns_parse (msg, len, &self->dns, &reason) == -1) {
        self->stats.dns_malformed++;
        return;
    }
    f->app_kind = S_APP_DNS;
    mm_event_t ev;
    char cid[SN_CID_LEN + 1];
    s_event_init (self, &ev, f, MM_KIND_DNS, ts, cid);
    ev.has |= MM_EV_HAS_DNS;
    sn_dns_to_event (&self->dns, &ev.dns);
    s_emit (self, &ev);
}

//  QUIC on UDP 443: the client's Initial packets carry its TLS ClientHello, reported as a TLS
//  event with app "quic". A flow gets a parser on its first client datagram that looks like an
//  Initial; one whose first few client datagrams do not is left alone.
static void
s_quic (sn_sensor_t *self, sn_flow_t *f, const uint8_t *p, uint32_t n)
{
    if (f->app_done)
        return;
    if (f->app_kind == S_APP_NONE) {
        if (!sn_quic_is_initial (p, n)) {
            if (f->pkts[0] >= 4) {
                f->app_kind = S_APP_OTHER;
                f->app_done = 1;
            }
            return;
        }
        if (!s_parser_take (self)) {
            f->app_kind = S_APP_OTHER;
            f->app_done = 1;
            return;
        }
        f->app = sn_quic_new ();
        f->app_kind = S_APP_QUIC;
        if (!f->app) {
            self->parsers_active--;
            f->app_done = 1;
            return;
        }
    }
    if (f->app_kind != S_APP_QUIC || !f->app)
        return;
    self->current = f;
    int rc = sn_quic_feed (f->app, p, n, &self->quic_hello);
    if (rc == 1) {
        mm_event_t ev;
        char cid[SN_CID_LEN + 1];
        s_event_init (self, &ev, f, MM_KIND_TLS, self->now_ns, cid);
        ev.has |= MM_EV_HAS_TLS;
        sn_tls_to_event (&self->quic_hello, &ev.tls);
        s_emit (self, &ev);
    }
    else if (rc == -1)
        self->stats.parser_errors++;
    if (rc != 0) {
        f->app_done = 1;
        s_app_close (self, f);
    }
}

static bool
s_dns_port (uint16_t port)
{
    return port == 53 || port == 5353 || port == 5355;
}

//  Kerberos on port 88: like DNS, one event per message and no per-flow state. Datagrams that
//  are not Kerberos count as parser errors.
static void
s_krb_emit (sn_sensor_t *self, sn_flow_t *f, uint64_t ts)
{
    f->app_kind = S_APP_KRB;
    mm_event_t ev;
    char cid[SN_CID_LEN + 1];
    s_event_init (self, &ev, f, MM_KIND_KRB, ts, cid);
    ev.has |= MM_EV_HAS_KRB;
    sn_krb_to_event (&self->krb, &ev.krb);
    s_emit (self, &ev);
}

static void
s_krb (sn_sensor_t *self, sn_flow_t *f, const uint8_t *msg, uint32_t len, uint64_t ts)
{
    if (sn_krb_parse (msg, len, &self->krb) == -1) {
        self->stats.parser_errors++;
        return;
    }
    s_krb_emit (self, f, ts);
}

//  DNS and Kerberos over TCP: messages behind a length prefix (2 bytes for DNS, RFC 1035
//  4.2.2; 4 for Kerberos, RFC 4120 7.2.2). The framer follows message boundaries in each
//  direction with a few bytes of state and no message buffer: a message that lies whole in one
//  delivered chunk is parsed; one that does not is skipped exactly (Kerberos still reads the
//  start of it: a reply's ticket name and encryption type come first). So a message's tail is
//  never taken for a message, whatever its bytes say.
typedef struct {
    uint8_t hdr[4];
    uint8_t hdr_have;  //  bytes of the length prefix seen
    uint32_t msg_len;  //  of the current message
    uint32_t left;     //  bytes of it still to come
} s_framer_t;

typedef struct {
    s_framer_t dir[2];
} s_framing_t;

static void
s_framed_message (sn_sensor_t *self, sn_flow_t *f, bool krb, const uint8_t *p, uint32_t n,
                  bool whole, uint64_t ts)
{
    if (!krb) {
        if (whole)
            s_dns (self, f, p, n, ts);
        else
            self->stats.dns_tcp_split++;
    }
    else if (whole)
        s_krb (self, f, p, n, ts);
    else if (sn_krb_parse_partial (p, n, &self->krb) == 0)
        s_krb_emit (self, f, ts);
}

static void
s_framed (sn_sensor_t *self, sn_flow_t *f, bool krb, int dir, const uint8_t *p, uint32_t n,
          uint64_t ts)
{
    if (f->app_done)
        return;
    if (!f->app) {
        if (!s_parser_take (self)) {
            f->app_done = 1;
            return;
        }
        f->app = calloc (1, sizeof (s_framing_t));
        if (!f->app) {
            self->parsers_active--;
            f->app_done = 1;
            return;
        }
        f->app_kind = krb ? S_APP_KRB : S_APP_DNS;
    }
    s_framer_t *fr = &((s_framing_t *) f->app)->dir[dir];
    uint8_t hsize = krb ? 4 : 2;
    uint32_t max = krb ? SN_KRB_RECORD_MAX : 65535;
    while (n > 0) {
        if (fr->left == 0) {
            uint32_t need = (uint32_t) (hsize - fr->hdr_have);
            uint32_t take = need < n ? need : n;
            memcpy (fr->hdr + fr->hdr_have, p, take);
            fr->hdr_have = (uint8_t) (fr->hdr_have + take);
            p += take;
            n -= take;
            if (fr->hdr_have < hsize)
                return;
            uint32_t len = 0;
            for (int i = 0; i < hsize; i++)
                len = len << 8 | fr->hdr[i];
            fr->hdr_have = 0;
            if (len == 0 || len > max) {
                //  Not this protocol's framing: stop reading the flow rather than guess.
                self->stats.parser_errors++;
                f->app_done = 1;
                return;
            }
            fr->msg_len = fr->left = len;
            continue;
        }
        if (fr->left == fr->msg_len)  //  the message starts here
            s_framed_message (self, f, krb, p, n < fr->left ? n : fr->left, n >= fr->left, ts);
        uint32_t k = fr->left < n ? fr->left : n;
        p += k;
        n -= k;
        fr->left -= k;
    }
}

//  ---------------------------------------------------------------------------------------------
//  Packet path

void
sn_sensor_packet (sn_sensor_t *self, int link, const uint8_t *data, uint32_t caplen, uint64_t ts_ns)
{
    sn_pkt_t pkt;
    sn_decode_rc_t rc = sn_decode (link, data, caplen, &pkt, &self->dstats);
    if (rc == SN_DECODE_ARP && self->detect) {
        sn_det_arp_t arp = {
            .op = pkt.sport, .sender_ip = pkt.src, .target_ip = pkt.dst, .ts = ts_ns};
        memcpy (arp.sender_mac, pkt.arp_sha, sizeof arp.sender_mac);
        sn_detect_arp (self->detect, &arp);
    }
    if (rc != SN_DECODE_OK)
        return;
    self->now_ns = ts_ns;
    int dir;
    sn_flow_t *f = sn_flow_update (self->flows, &pkt, ts_ns, &dir);
    if (self->detect)
        sn_detect_packet (self->detect, &pkt, f, dir, ts_ns);
    if (pkt.payload_len == 0 || pkt.fragment)
        return;
    if (pkt.proto == 17) {
        if (self->cfg.dns && (s_dns_port (f->orig_port) || s_dns_port (f->resp_port)))
            s_dns (self, f, pkt.payload, pkt.payload_len, ts_ns);
        else if (self->cfg.krb && (f->orig_port == 88 || f->resp_port == 88))
            s_krb (self, f, pkt.payload, pkt.payload_len, ts_ns);
        else if (self->cfg.tls && dir == 0 && (f->orig_port == 443 || f->resp_port == 443))
            s_quic (self, f, pkt.payload, pkt.payload_len);
        return;
    }
    if (pkt.proto != 6 || (f->app_done && !f->app))
        return;
    const uint8_t *p;
    uint32_t n = sn_flow_stream (self->flows, f, dir, &pkt, &p);
    if (n == 0)
        return;
    if (self->cfg.dns && (f->orig_port == 53 || f->resp_port == 53)) {
        s_framed (self, f, false, dir, p, n, ts_ns);
        return;
    }
    if (self->cfg.krb && (f->orig_port == 88 || f->resp_port == 88)) {
        s_framed (self, f, true, dir, p, n, ts_ns);
        return;
    }
    if (f->app_kind == S_APP_NONE)
        s_app_detect (self, f, dir, p, n);
    if (f->app)
        s_app_feed (self, f, dir, p, n);
}

static void
s_flow_end (void *arg, sn_flow_t *f, sn_end_t reason)
{
    sn_sensor_t *self = arg;
    if (reason != SN_END_ACTIVE)
        s_app_close (self, f);
    s_emit_flow (self, f);
}

void
sn_sensor_tick (sn_sensor_t *self, uint64_t now_ns)
{
    sn_flow_expire (self->flows, now_ns);
    if (self->detect)
        sn_detect_tick (self->detect, now_ns);
}

void
sn_sensor_flush (sn_sensor_t *self)
{
    sn_flow_flush (self->flows);
    if (self->detect)
        sn_detect_flush (self->detect);
}

void
sn_sensor_destroy (sn_sensor_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sn_sensor_t *self = *self_p;
    //  Flows still open are ended (their parsers freed) without being reported.
    self->fn = NULL;
    if (self->flows)
        sn_flow_flush (self->flows);
    sn_detect_destroy (&self->detect);
    sn_flow_table_destroy (&self->flows);
    sn_cid_destroy (&self->cid);
    free (self);
    *self_p = NULL;
}

const sn_sensor_stats_t *
sn_sensor_stats (const sn_sensor_t *self)
{
    return &self->stats;
}

const sn_decode_stats_t *
sn_sensor_decode_stats (const sn_sensor_t *self)
{
    return &self->dstats;
}

const sn_flow_stats_t *
sn_sensor_flow_stats (const sn_sensor_t *self)
{
    return sn_flow_stats (self->flows);
}

sn_detect_t *
sn_sensor_detect (const sn_sensor_t *self)
{
    return self->detect;
}
