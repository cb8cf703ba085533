/*  sn_det_cleartext: passwords that leave the company in clear text (issue 4, detector 9):
    Telnet sessions, FTP USER/PASS, HTTP Basic authorization, and POP3/IMAP/SMTP logins sent
    from an inside client to an outside server. Informational: for the weekly report. Findings
    name the user where the protocol shows it, never the password. Owner: sensor. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_detect.h"
#include "sn_track.h"

#define S_NS 1000000000ULL

//  Bytes of one client segment searched: commands and request headers come first.
#define S_SCAN_MAX 4096
#define S_USER_MAX 64

//  Connection state (a user name, an AUTH exchange) outlives a quiet connection by this much;
//  the flow record's end removes it sooner.
#define S_CONN_IDLE_NS (3600ULL * S_NS)

typedef enum { S_C_TELNET = 0, S_C_FTP, S_C_HTTP, S_C_MAIL } s_what_t;

static const sn_det_info_t s_info[] = {
    {"cleartext.telnet", 1, MM_CAT_POLICY, MM_SEV_INFO, 60, {"T1552", "T1040"}},
    {"cleartext.ftp", 1, MM_CAT_POLICY, MM_SEV_INFO, 90, {"T1552", "T1040"}},
    {"cleartext.http_basic", 1, MM_CAT_POLICY, MM_SEV_INFO, 95, {"T1552", "T1040"}},
    {"cleartext.mail", 1, MM_CAT_POLICY, MM_SEV_INFO, 90, {"T1552", "T1040"}},
};

//  Per connection: the user a USER command named (FTP, POP3), and what was reported.
typedef struct {
    char user[S_USER_MAX + 1];
    uint8_t telnet_reported;
    uint8_t sasl;  //  S_SASL_*: the next client line answers an AUTH command
} s_conn_t;

//  AUTH PLAIN or LOGIN without an initial response: the credentials follow on the next line.
#define S_SASL_PLAIN 1
#define S_SASL_LOGIN 2

typedef struct {
    uint64_t count;
    uint64_t first_ts;
} s_count_t;

typedef struct {
    sn_detect_t *engine;
    const sn_config_t *cfg;
    sn_track_t *conns;
    sn_track_t *counts;
} s_clear_t;

//  ---------------------------------------------------------------------------------------------
//  Text helpers

static bool
s_prefix_ci (const uint8_t *p, size_t n, const char *word)
{
    size_t len = strlen (word);
    if (n < len)
        return false;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = p[i];
        if (c >= 'A' && c <= 'Z')
            c = (uint8_t) (c + 32);
        if (c != (uint8_t) word[i])
            return false;
    }
    return true;
}

static size_t
s_line (const uint8_t *p, const uint8_t *end, const uint8_t **next)
{
    const uint8_t *nl = memchr (p, '\n', (size_t) (end - p));
    *next = nl ? nl + 1 : end;
    size_t n = (size_t) ((nl ? nl : end) - p);
    if (n && p[n - 1] == '\r')
        n--;
    return n;
}

//  The next space-separated word of p[*at..n): its start and length.
static size_t
s_word (const uint8_t *p, size_t n, size_t *at)
{
    size_t i = *at;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    size_t start = i;
    while (i < n && p[i] != ' ' && p[i] != '\t')
        i++;
    *at = start;
    return i - start;
}

//  A user name for a message: printable ASCII only (the rest becomes '?'), quotes stripped,
//  cut at S_USER_MAX.
static void
s_user_copy (char *out, const uint8_t *p, size_t n)
{
    if (n >= 2 && p[0] == '"' && p[n - 1] == '"')
        p++, n -= 2;
    if (n > S_USER_MAX)
        n = S_USER_MAX;
    for (size_t i = 0; i < n; i++)
        out[i] = p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\'' ? (char) p[i] : '?';
    out[n] = 0;
}

static int
s_b64_value (uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

//  Decodes base64 into `out` (at most `size` bytes; the rest is dropped). Stops at the first
//  character that is not base64. Returns the bytes written.
static size_t
s_b64_decode (const uint8_t *in, size_t n, uint8_t *out, size_t size)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t w = 0;
    for (size_t i = 0; i < n && w < size; i++) {
        int v = s_b64_value (in[i]);
        if (v < 0)
            break;
        acc = (acc << 6) | (uint32_t) v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[w++] = (uint8_t) (acc >> bits);
        }
    }
    return w;
}

//  Passwords pass through these buffers: they are wiped before the function returns, in a
//  way the compiler may not leave out.
static void
s_wipe (void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n--)
        *v++ = 0;
}

//  The user of base64 "user:password" (HTTP Basic) or "authzid\0user\0password" (SASL PLAIN).
static void
s_b64_user (const uint8_t *in, size_t n, bool sasl_plain, char *user)
{
    uint8_t buf[3 * S_USER_MAX];
    size_t len = s_b64_decode (in, n, buf, sizeof buf);
    size_t start = 0, end = len;
    if (sasl_plain) {
        const uint8_t *nul = memchr (buf, 0, len);
        start = nul ? (size_t) (nul - buf) + 1 : len;
        const uint8_t *nul2 = memchr (buf + start, 0, len - start);
        end = nul2 ? (size_t) (nul2 - buf) : len;
    }
    else {
        const uint8_t *colon = memchr (buf, ':', len);
        end = colon ? (size_t) (colon - buf) : len;
    }
    s_user_copy (user, buf + start, end - start);
    s_wipe (buf, sizeof buf);
}

//  ---------------------------------------------------------------------------------------------
//  Reporting

static void
s_report (s_clear_t *self, s_what_t what, const sn_det_pkt_t *p, const char *detail)
{
    const sn_flow_t *f = p->flow;
    uint8_t key[SN_TRACK_KEY_MAX];
    size_t n = sn_track_key_pair (key, &f->orig, &f->resp, f->resp_port);
    key[n++] = (uint8_t) what;
    bool created;
    s_count_t *c = sn_track_get (self->counts, key, n, p->ts, &created);
    if (created)
        c->first_ts = p->ts;
    c->count++;
    sn_alert_t a;
    memset (&a, 0, sizeof a);
    a.info = &s_info[what];
    a.ts = p->ts;
    a.proto = 6;
    a.src = f->orig;
    a.dst = f->resp;
    a.has_dport = true;
    a.dport = f->resp_port;
    a.evidence.count = c->count;
    a.evidence.first_ts = c->first_ts;
    a.evidence.last_ts = p->ts;
    char d[64];
    sn_detect_addr_str (&f->resp, d, sizeof d);
    snprintf (a.message, sizeof a.message, "%s to outside server %s:%u in clear text", detail, d,
              f->resp_port);
    sn_detect_raise (self->engine, &a);
}

static s_conn_t *
s_conn (s_clear_t *self, const sn_flow_t *f, uint64_t ts)
{
    return sn_track_get (self->conns, &f->id, sizeof f->id, ts, NULL);
}

//  ---------------------------------------------------------------------------------------------
//  Protocols

//  Telnet: whatever the client types, login and password included, once its option
//  negotiation (IAC sequences, RFC 854) is over.
static void
s_telnet (s_clear_t *self, const sn_det_pkt_t *p, const uint8_t *data, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (data[i] != 0xff)
            break;
        if (i + 1 < n && data[i + 1] == 0xfa) {  //  IAC SB ... IAC SE
            const uint8_t *se = memchr (data + i + 2, 0xf0, n - i - 2);
            i = se ? (size_t) (se - data) + 1 : n;
        }
        else
            i += i + 1 < n && data[i + 1] >= 0xfb ? 3 : 2;  //  IAC WILL/WONT/DO/DONT x, IAC x
    }
    if (i >= n)
        return;  //  negotiation only
    s_conn_t *c = s_conn (self, p->flow, p->ts);
    if (c->telnet_reported)
        return;
    c->telnet_reported = 1;
    s_report (self, S_C_TELNET, p, "Telnet session (login and keystrokes)");
}

static bool
s_anonymous (const char *user)
{
    return strcmp (user, "anonymous") == 0 || strcmp (user, "ftp") == 0;
}

//  FTP, POP3 (USER/PASS), IMAP (LOGIN, AUTHENTICATE PLAIN/LOGIN) and SMTP (AUTH PLAIN/LOGIN).
static void
s_commands (s_clear_t *self, const sn_det_pkt_t *p, const uint8_t *data, size_t len)
{
    uint16_t port = p->flow->resp_port;
    bool ftp = port == 21, pop = port == 110, imap = port == 143;
    const uint8_t *end = data + len;
    const char *proto = ftp ? "FTP" : pop ? "POP3" : imap ? "IMAP" : "SMTP";
    s_conn_t *sc = ftp ? NULL : sn_track_find (self->conns, &p->flow->id, sizeof p->flow->id);
    for (const uint8_t *line = data, *next; line < end; line = next) {
        size_t n = s_line (line, end, &next);
        char detail[160];
        size_t at = 0;
        if (sc && sc->sasl) {
            //  The answer to AUTH PLAIN (authzid, user, password) or AUTH LOGIN (the user).
            char user[S_USER_MAX + 1] = "?";
            size_t k = s_word (line, n, &at);
            if (k && !(k == 1 && line[at] == '*'))  //  "*" cancels the exchange
                s_b64_user (line + at, k, sc->sasl == S_SASL_PLAIN, user);
            snprintf (detail, sizeof detail, "%s AUTH %s login as '%s'", proto,
                      sc->sasl == S_SASL_PLAIN ? "PLAIN" : "LOGIN", user);
            sc->sasl = 0;
            s_report (self, S_C_MAIL, p, detail);
            continue;
        }
        if (imap) {
            //  "tag LOGIN user password" / "tag AUTHENTICATE PLAIN [initial response]"
            size_t k = s_word (line, n, &at);  //  the tag
            if (k == 0)
                continue;
            at += k;
            while (at < n && line[at] == ' ')
                at++;
            line += at, n -= at;
            at = 0;
        }
        if ((ftp || pop) && s_prefix_ci (line, n, "user ")) {
            at = 5;
            size_t k = s_word (line, n, &at);
            s_user_copy (s_conn (self, p->flow, p->ts)->user, line + at, k);
        }
        else if ((ftp || pop) && s_prefix_ci (line, n, "pass")) {
            s_conn_t *c = s_conn (self, p->flow, p->ts);
            if (ftp && s_anonymous (c->user))
                continue;  //  the "password" of anonymous FTP is an e-mail address by custom
            snprintf (detail, sizeof detail, "%s login as '%s'", proto, c->user[0] ? c->user : "?");
            s_report (self, ftp ? S_C_FTP : S_C_MAIL, p, detail);
        }
        else if (imap && s_prefix_ci (line, n, "login ")) {
            at = 6;
            size_t k = s_word (line, n, &at);
            char user[S_USER_MAX + 1];
            s_user_copy (user, line + at, k);
            snprintf (detail, sizeof detail, "IMAP login as '%s'", user);
            s_report (self, S_C_MAIL, p, detail);
        }
        else if (!ftp &&
                 (s_prefix_ci (line, n, "auth ") || s_prefix_ci (line, n, "authenticate "))) {
            at = s_prefix_ci (line, n, "auth ") ? 5 : 13;
            size_t k = s_word (line, n, &at);
            bool plain = k == 5 && s_prefix_ci (line + at, k, "plain");
            if (!plain && !(k == 5 && s_prefix_ci (line + at, k, "login")))
                continue;  //  CRAM-MD5, XOAUTH2...: no password on the wire
            at += k;
            k = s_word (line, n, &at);
            if (k == 0 || (k == 1 && line[at] == '=')) {
                sc = s_conn (self, p->flow, p->ts);
                sc->sasl = plain ? S_SASL_PLAIN : S_SASL_LOGIN;
                continue;
            }
            //  An initial response (RFC 4954): PLAIN carries all, LOGIN the user.
            char user[S_USER_MAX + 1];
            s_b64_user (line + at, k, plain, user);
            snprintf (detail, sizeof detail, "%s AUTH %s login as '%s'", proto,
                      plain ? "PLAIN" : "LOGIN", user);
            s_report (self, S_C_MAIL, p, detail);
        }
    }
}

static bool
s_http_request (const uint8_t *p, size_t n)
{
    //  Most segments are not requests: one look at the first byte settles them.
    if (n < 4 || !memchr ("GPHDOC", p[0], 6))
        return false;
    static const char *methods[] = {"GET ",     "POST ",  "HEAD ",    "PUT ",     "DELETE ",
                                    "OPTIONS ", "PATCH ", "CONNECT ", "PROPFIND "};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        size_t len = strlen (methods[i]);
        if (n >= len && memcmp (p, methods[i], len) == 0)
            return true;
    }
    return false;
}

//  HTTP: an Authorization (or Proxy-Authorization) header with the Basic scheme (RFC 7617).
static void
s_http (s_clear_t *self, const sn_det_pkt_t *p, const uint8_t *data, size_t len)
{
    const uint8_t *end = data + len;
    char user[S_USER_MAX + 1] = "";
    char host[80] = "";
    bool basic = false, proxy = false;
    const uint8_t *line = data, *next;
    s_line (line, end, &next);  //  the request line
    for (line = next; line < end; line = next) {
        size_t n = s_line (line, end, &next);
        if (n == 0)
            break;  //  end of the headers
        size_t at = 0;
        if (s_prefix_ci (line, n, "authorization:") ||
            s_prefix_ci (line, n, "proxy-authorization:")) {
            bool is_proxy = line[0] == 'p' || line[0] == 'P';
            at = is_proxy ? 20 : 14;
            size_t k = s_word (line, n, &at);
            if (k != 5 || !s_prefix_ci (line + at, k, "basic"))
                continue;
            at += k;
            k = s_word (line, n, &at);
            basic = true;
            proxy = is_proxy;
            s_b64_user (line + at, k, false, user);
        }
        else if (s_prefix_ci (line, n, "host:")) {
            at = 5;
            size_t k = s_word (line, n, &at);
            if (k >= sizeof host)
                k = sizeof host - 1;
            s_user_copy (host, line + at, k);
        }
    }
    if (!basic)
        return;
    char detail[200];
    snprintf (detail, sizeof detail, "HTTP Basic %scredentials of user '%s'%s%s sent",
              proxy ? "proxy " : "", user, host[0] ? " for host " : "", host);
    s_report (self, S_C_HTTP, p, detail);
}

static void
s_packet (void *self_, const sn_det_pkt_t *p)
{
    s_clear_t *self = self_;
    const sn_pkt_t *pkt = p->pkt;
    //  Client to server, from inside to outside, with data.
    if (p->flow->proto != 6 || p->dir != 0 || pkt->payload_len == 0 || !p->orig_home ||
        p->resp_home)
        return;
    if (mm_netlist_contains (&self->cfg->cleartext_allow, &p->flow->resp))
        return;  //  a server whose clear-text logins the company accepts
    const uint8_t *data = pkt->payload;
    size_t n = pkt->payload_len < S_SCAN_MAX ? pkt->payload_len : S_SCAN_MAX;
    if (s_http_request (data, n)) {
        s_http (self, p, data, n);
        return;
    }
    switch (p->flow->resp_port) {
    case 23: s_telnet (self, p, data, n); break;
    case 21:
    case 25:
    case 110:
    case 143:
    case 587: s_commands (self, p, data, n); break;
    default: break;
    }
}

static void
s_event (void *self_, const mm_event_t *ev)
{
    s_clear_t *self = self_;
    //  Only the ports s_packet reads hold per-connection state.
    if (ev->kind == MM_KIND_FLOW && (ev->dport == 21 || ev->dport == 23 || ev->dport == 25 ||
                                     ev->dport == 110 || ev->dport == 143 || ev->dport == 587))
        sn_track_remove (self->conns, &ev->flow_id, sizeof ev->flow_id);
}

//  ---------------------------------------------------------------------------------------------
//  Life cycle

static void
s_tick (void *self_, uint64_t now_ns)
{
    s_clear_t *self = self_;
    sn_track_expire (self->conns, now_ns);
    sn_track_expire (self->counts, now_ns);
}

static void
s_destroy (void **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_clear_t *self = *self_p;
    sn_track_destroy (&self->conns);
    sn_track_destroy (&self->counts);
    free (self);
    *self_p = NULL;
}

static void *
s_create (const sn_config_t *cfg, sn_detect_t *engine)
{
    if (!cfg->cleartext)
        return NULL;
    s_clear_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->engine = engine;
    self->cfg = cfg;
    //  Bounded state ([cleartext] max_tracked each): connections whose user name we hold, and
    //  counts per finding key. An office has few such connections; when there are more the
    //  least recently seen are forgotten, which only costs a user name in a message or a count
    //  that restarts. A count lives as long as the engine keeps its finding open.
    uint32_t cap = (uint32_t) cfg->cleartext_max_tracked;
    self->conns = sn_track_new (cap, sizeof (s_conn_t), S_CONN_IDLE_NS, NULL, NULL);
    self->counts = sn_track_new (cap, sizeof (s_count_t), cfg->suppress_window * S_NS, NULL, NULL);
    if (!self->conns || !self->counts) {
        s_destroy ((void **) &self);
        return NULL;
    }
    return self;
}

const sn_det_class_t sn_det_cleartext = {
    .name = "cleartext",
    .create = s_create,
    .destroy = s_destroy,
    .packet = s_packet,
    .event = s_event,
    .tick = s_tick,
};
