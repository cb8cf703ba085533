/*  mm_json: JSON Lines rendering (see mm_json.h).
    A tiny writer keeps commas and nesting straight; each message has one function that lays
    out its fields. Memory errors are remembered in the writer and checked once at the end. */
#include "mm_json.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define S_DEPTH 8

typedef struct {
    mm_buf_t *out;
    size_t start;  //  where this line began, to undo on failure
    int depth;
    bool first[S_DEPTH];  //  no comma needed yet at this level
    bool failed;
} s_jw_t;

//  Most pieces are a few bytes: copy them in place, and leave growth to mm_buf_append.
static inline void
s_raw (s_jw_t *jw, const char *text, size_t len)
{
    mm_buf_t *out = jw->out;
    if (len <= out->cap - out->len) {
        if (len)
            memcpy (out->data + out->len, text, len);
        out->len += len;
    }
    else if (!jw->failed && mm_buf_append (out, text, len) == -1)
        jw->failed = true;
}

//  Length of the valid UTF-8 sequence at p (1..4), or 0 if it is not one.
static size_t
s_utf8_len (const uint8_t *p, size_t left)
{
    uint8_t b = p[0];
    size_t n;
    uint32_t cp;
    if (b < 0x80)
        return 1;
    if (b >= 0xc2 && b <= 0xdf) {
        n = 2;
        cp = b & 0x1f;
    }
    else if (b >= 0xe0 && b <= 0xef) {
        n = 3;
        cp = b & 0x0f;
    }
    else if (b >= 0xf0 && b <= 0xf4) {
        n = 4;
        cp = b & 0x07;
    }
    else
        return 0;
    if (left < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    //  Overlong forms, UTF-16 surrogates and values past U+10FFFF are not valid UTF-8.
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

static void
s_string (s_jw_t *jw, const char *ptr, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *p = (const uint8_t *) ptr;
    s_raw (jw, "\"", 1);
    size_t run = 0;  //  bytes at p[i - run .. i) that need no escaping
    for (size_t i = 0; i < len;) {
        uint8_t b = p[i];
        //  Printable ASCII is nearly all there is: take it without the UTF-8 decoder.
        if (b >= 0x20 && b < 0x80 && b != '"' && b != '\\') {
            i++;
            run++;
            continue;
        }
        size_t n = s_utf8_len (p + i, len - i);
        if (n > 1 || (n == 1 && b >= 0x20 && b != '"' && b != '\\')) {
            i += n;
            run += n;
            continue;
        }
        s_raw (jw, (const char *) p + i - run, run);
        run = 0;
        char esc[8];
        if (n == 0) {
            //  Not UTF-8: keep the byte visible, as Zeek does. (Text that literally reads \xHH
            //  renders the same: this is for people; the wire message stays exact.)
            memcpy (esc, "\\\\x", 3);
            esc[3] = hex[b >> 4];
            esc[4] = hex[b & 15];
            s_raw (jw, esc, 5);
        }
        else if (b == '"' || b == '\\') {
            esc[0] = '\\';
            esc[1] = (char) b;
            s_raw (jw, esc, 2);
        }
        else if (b == '\n')
            s_raw (jw, "\\n", 2);
        else if (b == '\r')
            s_raw (jw, "\\r", 2);
        else if (b == '\t')
            s_raw (jw, "\\t", 2);
        else {
            memcpy (esc, "\\u00", 4);
            esc[4] = hex[b >> 4];
            esc[5] = hex[b & 15];
            s_raw (jw, esc, 6);
        }
        i++;
    }
    s_raw (jw, (const char *) p + len - run, run);
    s_raw (jw, "\"", 1);
}

//  Writes the comma and key that come before a value (key NULL inside arrays).
static void
s_key (s_jw_t *jw, const char *key)
{
    if (!jw->first[jw->depth])
        s_raw (jw, ",", 1);
    jw->first[jw->depth] = false;
    if (key) {
        s_string (jw, key, strlen (key));
        s_raw (jw, ":", 1);
    }
}

static void
s_open (s_jw_t *jw, const char *key, char bracket)
{
    if (jw->depth > 0)
        s_key (jw, key);
    s_raw (jw, &bracket, 1);
    if (jw->depth + 1 < S_DEPTH)
        jw->depth++;
    jw->first[jw->depth] = true;
}

static void
s_close (s_jw_t *jw, char bracket)
{
    s_raw (jw, &bracket, 1);
    if (jw->depth > 0)
        jw->depth--;
}

static void
s_str (s_jw_t *jw, const char *key, mm_str_t v)
{
    if (v.len == 0)
        return;
    s_key (jw, key);
    s_string (jw, v.ptr, v.len);
}

static void
s_cstr (s_jw_t *jw, const char *key, const char *v)
{
    s_key (jw, key);
    s_string (jw, v, strlen (v));
}

static void
s_uint (s_jw_t *jw, const char *key, uint64_t v)
{
    //  By hand: snprintf costs hundreds of instructions for what is a few divisions.
    char num[24];
    size_t n = sizeof num;
    do {
        num[--n] = (char) ('0' + v % 10);
        v /= 10;
    } while (v);
    s_key (jw, key);
    s_raw (jw, num + n, sizeof num - n);
}

//  An enumeration: its name, or its number when this version has no name for it.
static void
s_enum (s_jw_t *jw, const char *key, const char *name, unsigned v)
{
    if (name)
        s_cstr (jw, key, name);
    else
        s_uint (jw, key, v);
}

static void
s_hex (s_jw_t *jw, const char *key, const uint8_t *bytes, size_t n, bool colons)
{
    static const char hex[] = "0123456789abcdef";
    char text[3 * 32];
    size_t len = 0;
    for (size_t i = 0; i < n && i < 32; i++) {
        if (colons && i)
            text[len++] = ':';
        text[len++] = hex[bytes[i] >> 4];
        text[len++] = hex[bytes[i] & 15];
    }
    s_key (jw, key);
    s_string (jw, text, len);
}

static void
s_ip (s_jw_t *jw, const char *key, const mm_addr_t *a)
{
    if (a->len != 4 && a->len != 16)
        return;
    char text[INET6_ADDRSTRLEN];
    if (!inet_ntop (a->len == 4 ? AF_INET : AF_INET6, a->b, text, sizeof text))
        return;
    s_cstr (jw, key, text);
}

//  RFC 3339 UTC with nanoseconds, e.g. "2026-11-22T06:46:00.123456789Z".
static void
s_time (s_jw_t *jw, const char *key, uint64_t ns)
{
    time_t secs = (time_t) (ns / 1000000000u);
    struct tm tm;
    char text[64];
    if (!gmtime_r (&secs, &tm)) {
        s_uint (jw, key, ns);
        return;
    }
    size_t n = strftime (text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf (text + n, sizeof text - n, ".%09uZ", (unsigned) (ns % 1000000000u));
    s_cstr (jw, key, text);
}

static void
s_str_array (s_jw_t *jw, const char *key, const mm_str_t *v, uint32_t n)
{
    if (n == 0)
        return;
    s_open (jw, key, '[');
    for (uint32_t i = 0; i < n; i++) {
        s_key (jw, NULL);
        s_string (jw, v[i].ptr, v[i].len);
    }
    s_close (jw, ']');
}

static void
s_begin (s_jw_t *jw, mm_buf_t *out)
{
    memset (jw, 0, sizeof *jw);
    jw->out = out;
    jw->start = out->len;
    s_open (jw, NULL, '{');
}

static int
s_end (s_jw_t *jw)
{
    s_close (jw, '}');
    s_raw (jw, "\n", 1);
    if (jw->failed) {
        mm_buf_truncate (jw->out, jw->start);
        return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------------------------------------
//  Names EVE uses for protocol numbers and codes

static const char *
s_proto_name (unsigned p)
{
    switch (p) {
    case 1: return "ICMP";
    case 6: return "TCP";
    case 17: return "UDP";
    case 47: return "GRE";
    case 50: return "ESP";
    case 58: return "IPv6-ICMP";
    case 132: return "SCTP";
    default: return NULL;
    }
}

static const char *
s_rrtype_name (unsigned t)
{
    switch (t) {
    case 1: return "A";
    case 2: return "NS";
    case 5: return "CNAME";
    case 6: return "SOA";
    case 12: return "PTR";
    case 15: return "MX";
    case 16: return "TXT";
    case 28: return "AAAA";
    case 33: return "SRV";
    case 35: return "NAPTR";
    case 43: return "DS";
    case 46: return "RRSIG";
    case 48: return "DNSKEY";
    case 64: return "SVCB";
    case 65: return "HTTPS";
    case 255: return "ANY";
    default: return NULL;
    }
}

static const char *
s_rcode_name (unsigned r)
{
    static const char *names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                  "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                  "NXRRSET", "NOTAUTH", "NOTZONE"};
    return r < sizeof names / sizeof names[0] ? names[r] : NULL;
}

static const char *
s_tls_version_name (unsigned v)
{
    switch (v) {
    case 0x0300: return "SSLv3";
    case 0x0301: return "TLS 1.0";
    case 0x0302: return "TLS 1.1";
    case 0x0303: return "TLS 1.2";
    case 0x0304: return "TLS 1.3";
    default: return NULL;
    }
}

static const char *
s_smb_command_name (unsigned c)
{
    static const char *names[] = {
        "NEGOTIATE",     "SESSION_SETUP", "LOGOFF",   "TREE_CONNECT", "TREE_DISCONNECT",
        "CREATE",        "CLOSE",         "FLUSH",    "READ",         "WRITE",
        "LOCK",          "IOCTL",         "CANCEL",   "ECHO",         "QUERY_DIRECTORY",
        "CHANGE_NOTIFY", "QUERY_INFO",    "SET_INFO", "OPLOCK_BREAK"};
    return c < sizeof names / sizeof names[0] ? names[c] : NULL;
}

//  ---------------------------------------------------------------------------------------------
//  EVENT

static void
s_event_flow (s_jw_t *jw, const mm_event_t *ev)
{
    if (!(ev->has & (MM_EV_HAS_COUNTERS | MM_EV_HAS_TCP_FLAGS)) && !ev->state)
        return;
    s_open (jw, "flow", '{');
    if (ev->has & MM_EV_HAS_PKTS_ORIG)
        s_uint (jw, "pkts_toserver", ev->pkts_orig);
    if (ev->has & MM_EV_HAS_PKTS_RESP)
        s_uint (jw, "pkts_toclient", ev->pkts_resp);
    if (ev->has & MM_EV_HAS_BYTES_ORIG)
        s_uint (jw, "bytes_toserver", ev->bytes_orig);
    if (ev->has & MM_EV_HAS_BYTES_RESP)
        s_uint (jw, "bytes_toclient", ev->bytes_resp);
    if (ev->has & MM_EV_HAS_DURATION)
        s_uint (jw, "duration_us", ev->duration_us);
    if (ev->state)
        s_enum (jw, "conn_state", mm_state_name (ev->state), ev->state);
    if (ev->has & MM_EV_HAS_TCP_FLAGS_ORIG)
        s_hex (jw, "tcp_flags_ts", &ev->tcp_flags_orig, 1, false);
    if (ev->has & MM_EV_HAS_TCP_FLAGS_RESP)
        s_hex (jw, "tcp_flags_tc", &ev->tcp_flags_resp, 1, false);
    s_close (jw, '}');
}

static void
s_event_dns (s_jw_t *jw, const mm_dns_t *d)
{
    s_open (jw, "dns", '{');
    s_str (jw, "rrname", d->qname);
    if (d->has & MM_DNS_HAS_QTYPE)
        s_enum (jw, "rrtype", s_rrtype_name (d->qtype), d->qtype);
    if (d->has & MM_DNS_HAS_RCODE)
        s_enum (jw, "rcode", s_rcode_name (d->rcode), d->rcode);
    if (d->n_answers) {
        s_open (jw, "answers", '[');
        for (uint32_t i = 0; i < d->n_answers; i++) {
            const mm_dns_answer_t *a = &d->answers[i];
            s_open (jw, NULL, '{');
            s_enum (jw, "rrtype", s_rrtype_name (a->type), a->type);
            s_str (jw, "rdata", a->value);
            s_uint (jw, "ttl", a->ttl);
            s_close (jw, '}');
        }
        s_close (jw, ']');
    }
    s_close (jw, '}');
}

static void
s_event_tls (s_jw_t *jw, const mm_tls_t *t)
{
    s_open (jw, "tls", '{');
    s_str (jw, "sni", t->sni);
    if ((t->version & 0xff00) == 0x7f00) {
        //  TLS 1.3 drafts (0x7fNN) as Suricata names them, e.g. "TLS 1.3 draft-28".
        char draft[32];
        snprintf (draft, sizeof draft, "TLS 1.3 draft-%u", (unsigned) (t->version & 0xff));
        s_cstr (jw, "version", draft);
    }
    else if (t->version)
        s_enum (jw, "version", s_tls_version_name (t->version), t->version);
    s_str_array (jw, "alpn", t->alpn, t->n_alpn);
    if (t->has & MM_TLS_HAS_JA3) {
        s_open (jw, "ja3", '{');
        s_hex (jw, "hash", t->ja3, sizeof t->ja3, false);
        s_close (jw, '}');
    }
    s_str (jw, "ja4", t->ja4);
    if (t->has & MM_TLS_HAS_JA3S) {
        s_open (jw, "ja3s", '{');
        s_hex (jw, "hash", t->ja3s, sizeof t->ja3s, false);
        s_close (jw, '}');
    }
    if (t->has & MM_TLS_HAS_CERT_SHA1)
        s_hex (jw, "fingerprint", t->cert_sha1, sizeof t->cert_sha1, true);
    s_str (jw, "subject", t->subject);
    s_str (jw, "issuerdn", t->issuer);
    s_close (jw, '}');
}

static void
s_event_http (s_jw_t *jw, const mm_http_t *h)
{
    s_open (jw, "http", '{');
    s_str (jw, "hostname", h->host);
    s_str (jw, "url", h->uri);
    s_str (jw, "http_user_agent", h->user_agent);
    s_str (jw, "http_method", h->method);
    if (h->status)
        s_uint (jw, "status", h->status);
    s_str (jw, "http_content_type", h->content_type);
    if (h->request_len)
        s_uint (jw, "request_body_len", h->request_len);
    if (h->response_len)
        s_uint (jw, "response_body_len", h->response_len);
    s_close (jw, '}');
}

//  EVE splits a banner "SSH-2.0-OpenSSH_9.2p1 Debian" into proto_version "2.0" and
//  software_version "OpenSSH_9.2p1 Debian"; a banner not of that form goes whole into the
//  software version.
static void
s_ssh_side (s_jw_t *jw, const char *key, mm_str_t banner, const uint8_t *hassh, bool has_hassh)
{
    if (!banner.len && !has_hassh)
        return;
    s_open (jw, key, '{');
    if (banner.len > 4 && memcmp (banner.ptr, "SSH-", 4) == 0) {
        const char *dash = memchr (banner.ptr + 4, '-', banner.len - 4);
        if (dash) {
            s_str (jw, "proto_version",
                   (mm_str_t){banner.ptr + 4, (uint32_t) (dash - banner.ptr - 4)});
            s_str (jw, "software_version",
                   (mm_str_t){dash + 1, (uint32_t) (banner.ptr + banner.len - dash - 1)});
        }
        else
            s_str (jw, "software_version", banner);
    }
    else
        s_str (jw, "software_version", banner);
    if (has_hassh) {
        s_open (jw, "hassh", '{');
        s_hex (jw, "hash", hassh, 16, false);
        s_close (jw, '}');
    }
    s_close (jw, '}');
}

static void
s_event_ssh (s_jw_t *jw, const mm_ssh_t *s)
{
    s_open (jw, "ssh", '{');
    s_ssh_side (jw, "client", s->client, s->hassh, s->has & MM_SSH_HAS_HASSH);
    s_ssh_side (jw, "server", s->server, s->hassh_server, s->has & MM_SSH_HAS_HASSH_SERVER);
    s_close (jw, '}');
}

static void
s_event_smb (s_jw_t *jw, const mm_smb_t *s)
{
    s_open (jw, "smb", '{');
    if (s->has & MM_SMB_HAS_COMMAND)
        s_enum (jw, "command", s_smb_command_name (s->command), s->command);
    s_str (jw, "share", s->share);
    s_str (jw, "filename", s->file);
    if (s->has & MM_SMB_HAS_STATUS) {
        char code[16];
        snprintf (code, sizeof code, "0x%08x", (unsigned) s->status);
        s_cstr (jw, "status_code", code);
    }
    if (s->has & MM_SMB_HAS_DISPOSITION) {
        static const char *names[] = {"FILE_SUPERSEDE", "FILE_OPEN",      "FILE_CREATE",
                                      "FILE_OPEN_IF",   "FILE_OVERWRITE", "FILE_OVERWRITE_IF"};
        s_enum (jw, "disposition", s->disposition < 6 ? names[s->disposition] : NULL,
                s->disposition);
    }
    if (s->has & MM_SMB_HAS_ACCESS) {
        char mask[16];
        snprintf (mask, sizeof mask, "0x%08x", (unsigned) s->access);
        s_cstr (jw, "desired_access", mask);
    }
    s_close (jw, '}');
}

//  EVE's krb5 record; etypes 1, 3, 23 and 24 (DES and RC4) are weak, as Suricata flags them.
static void
s_event_krb (s_jw_t *jw, const mm_krb_t *k)
{
    static const char *msg_types[] = {[10] = "KRB_AS_REQ",
                                      [11] = "KRB_AS_REP",
                                      [12] = "KRB_TGS_REQ",
                                      [13] = "KRB_TGS_REP",
                                      [30] = "KRB_ERROR"};
    s_open (jw, "krb5", '{');
    if (k->msg_type)
        s_enum (jw, "msg_type",
                k->msg_type < sizeof msg_types / sizeof msg_types[0] ? msg_types[k->msg_type]
                                                                     : NULL,
                k->msg_type);
    s_str (jw, "cname", k->cname);
    s_str (jw, "realm", k->realm);
    s_str (jw, "sname", k->sname);
    if (k->has & MM_KRB_HAS_ETYPE) {
        s_uint (jw, "encryption", k->etype);
        s_key (jw, "weak_encryption");
        bool weak = k->etype == 1 || k->etype == 3 || k->etype == 23 || k->etype == 24;
        s_raw (jw, weak ? "true" : "false", weak ? 4 : 5);
    }
    if (k->has & MM_KRB_HAS_ERROR)
        s_uint (jw, "error_code", k->error_code);
    s_close (jw, '}');
}

static void
s_event_finding (s_jw_t *jw, const mm_finding_t *f)
{
    //  EVE calls a detection an alert; SIEM rules that key on event_type "alert" keep working.
    s_open (jw, "alert", '{');
    s_str (jw, "signature", f->message);
    s_enum (jw, "category", mm_category_name (f->category), f->category);
    s_str (jw, "detector", f->detector);
    if (f->id)
        s_uint (jw, "finding_id", f->id);
    if (f->revision)
        s_uint (jw, "revision", f->revision);
    if (f->has & MM_FINDING_HAS_ACTION)
        s_enum (jw, "action", mm_action_name (f->action), f->action);
    if (f->detector_version)
        s_uint (jw, "detector_version", f->detector_version);
    s_str_array (jw, "attack", f->attack, f->n_attack);
    if (f->has & MM_FINDING_HAS_IOC) {
        s_open (jw, "indicator", '{');
        s_enum (jw, "type", mm_ioc_type_name (f->ioc.type), f->ioc.type);
        s_str (jw, "value", f->ioc.value);
        s_str (jw, "feed", f->ioc.feed);
        s_close (jw, '}');
    }
    if (f->has & MM_FINDING_HAS_EVIDENCE) {
        const mm_evidence_t *e = &f->evidence;
        s_open (jw, "evidence", '{');
        if (e->count)
            s_uint (jw, "count", e->count);
        if (e->distinct_ports)
            s_uint (jw, "distinct_ports", e->distinct_ports);
        if (e->distinct_hosts)
            s_uint (jw, "distinct_hosts", e->distinct_hosts);
        if (e->window_s)
            s_uint (jw, "window_s", e->window_s);
        if (e->period_ms)
            s_uint (jw, "period_ms", e->period_ms);
        if (e->jitter_ms)
            s_uint (jw, "jitter_ms", e->jitter_ms);
        if (e->bytes)
            s_uint (jw, "bytes", e->bytes);
        if (e->first_ts)
            s_time (jw, "first_seen", e->first_ts);
        if (e->last_ts)
            s_time (jw, "last_seen", e->last_ts);
        s_close (jw, '}');
    }
    s_close (jw, '}');
}

int
mm_event_to_json (const mm_event_t *ev, mm_buf_t *out)
{
    s_jw_t jw;
    s_begin (&jw, out);
    s_time (&jw, "timestamp", ev->ts);
    s_enum (&jw, "event_type", ev->kind == MM_KIND_FINDING ? "alert" : mm_kind_name (ev->kind),
            ev->kind);
    s_str (&jw, "sensor_id", ev->sensor);
    s_str (&jw, "org_id", ev->org);
    s_uint (&jw, "seq", ev->seq);
    s_enum (&jw, "severity", mm_sev_name (ev->severity), ev->severity);
    s_uint (&jw, "severity_id", ev->severity);
    if (ev->confidence)
        s_uint (&jw, "confidence", ev->confidence);
    if (ev->flow_id)
        s_uint (&jw, "flow_id", ev->flow_id);
    s_str (&jw, "community_id", ev->community_id);
    s_ip (&jw, "src_ip", &ev->src);
    if (ev->has & MM_EV_HAS_SPORT)
        s_uint (&jw, "src_port", ev->sport);
    s_ip (&jw, "dest_ip", &ev->dst);
    if (ev->has & MM_EV_HAS_DPORT)
        s_uint (&jw, "dest_port", ev->dport);
    if (ev->proto)
        s_enum (&jw, "proto", s_proto_name (ev->proto), ev->proto);
    if (ev->direction)
        s_enum (&jw, "direction", mm_dir_name (ev->direction), ev->direction);
    if (ev->n_vlan) {
        s_open (&jw, "vlan", '[');
        for (uint32_t i = 0; i < ev->n_vlan; i++)
            s_uint (&jw, NULL, ev->vlan[i]);
        s_close (&jw, ']');
    }
    s_str (&jw, "app_proto", ev->app);
    s_event_flow (&jw, ev);
    if (ev->has & MM_EV_HAS_DNS)
        s_event_dns (&jw, &ev->dns);
    if (ev->has & MM_EV_HAS_TLS)
        s_event_tls (&jw, &ev->tls);
    if (ev->has & MM_EV_HAS_HTTP)
        s_event_http (&jw, &ev->http);
    if (ev->has & MM_EV_HAS_SSH)
        s_event_ssh (&jw, &ev->ssh);
    if (ev->has & MM_EV_HAS_SMB)
        s_event_smb (&jw, &ev->smb);
    if (ev->has & MM_EV_HAS_KRB)
        s_event_krb (&jw, &ev->krb);
    if (ev->has & MM_EV_HAS_FINDING)
        s_event_finding (&jw, &ev->finding);
    return s_end (&jw);
}

//  ---------------------------------------------------------------------------------------------
//  Control messages

int
mm_heartbeat_to_json (const mm_heartbeat_t *hb, mm_buf_t *out)
{
    s_jw_t jw;
    s_begin (&jw, out);
    s_time (&jw, "timestamp", hb->ts);
    s_cstr (&jw, "event_type", "heartbeat");
    s_str (&jw, "sensor_id", hb->sensor);
    s_str (&jw, "org_id", hb->org);
    s_open (&jw, "heartbeat", '{');
    s_str (&jw, "version", hb->version);
    s_uint (&jw, "uptime_s", hb->uptime_s);
    s_uint (&jw, "last_seq", hb->seq);
    s_uint (&jw, "packets", hb->packets);
    s_uint (&jw, "capture_drops", hb->drops);
    s_uint (&jw, "flows", hb->flows);
    s_uint (&jw, "events", hb->events);
    s_open (&jw, "spool", '{');
    s_uint (&jw, "depth", hb->spool_depth);
    s_uint (&jw, "bytes", hb->spool_bytes);
    s_uint (&jw, "dropped", hb->spool_dropped);
    s_close (&jw, '}');
    s_close (&jw, '}');
    return s_end (&jw);
}

int
mm_ack_to_json (const mm_ack_t *ack, mm_buf_t *out)
{
    s_jw_t jw;
    s_begin (&jw, out);
    if (ack->ts)
        s_time (&jw, "timestamp", ack->ts);
    s_cstr (&jw, "event_type", "ack");
    s_str (&jw, "sensor_id", ack->sensor);
    s_uint (&jw, "seq", ack->seq);
    return s_end (&jw);
}

int
mm_warning_to_json (const mm_warning_t *w, mm_buf_t *out)
{
    s_jw_t jw;
    s_begin (&jw, out);
    s_time (&jw, "timestamp", w->ts);
    s_cstr (&jw, "event_type", "warning");
    s_str (&jw, "org_id", w->org);
    s_open (&jw, "warning", '{');
    s_str (&jw, "id", w->id);
    s_uint (&jw, "revision", w->revision);
    s_enum (&jw, "status", mm_wstatus_name (w->status), w->status);
    if (w->valid_until)
        s_time (&jw, "valid_until", w->valid_until);
    s_open (&jw, "indicator", '{');
    s_enum (&jw, "type", mm_ioc_type_name (w->indicator.type), w->indicator.type);
    s_str (&jw, "value", w->indicator.value);
    s_enum (&jw, "match", mm_match_name (w->indicator.match), w->indicator.match);
    s_close (&jw, '}');
    s_enum (&jw, "severity", mm_sev_name (w->severity), w->severity);
    s_uint (&jw, "severity_id", w->severity);
    if (w->confidence)
        s_uint (&jw, "confidence", w->confidence);
    if (w->category)
        s_enum (&jw, "category", mm_category_name (w->category), w->category);
    s_str_array (&jw, "tactics", w->tactics, w->n_tactics);
    s_str_array (&jw, "techniques", w->techniques, w->n_techniques);
    if (w->has & MM_WARN_HAS_EVIDENCE) {
        s_open (&jw, "evidence", '{');
        s_uint (&jw, "orgs", w->evidence.orgs);
        s_uint (&jw, "providers", w->evidence.providers);
        s_uint (&jw, "sightings", w->evidence.sightings);
        if (w->evidence.first_seen)
            s_time (&jw, "first_seen", w->evidence.first_seen);
        if (w->evidence.last_seen)
            s_time (&jw, "last_seen", w->evidence.last_seen);
        s_close (&jw, '}');
    }
    if (w->has & MM_WARN_HAS_ACTION) {
        s_open (&jw, "action", '{');
        s_enum (&jw, "code", mm_action_name (w->action.code), w->action.code);
        s_str (&jw, "text_ja", w->action.text_ja);
        s_str (&jw, "text_en", w->action.text_en);
        s_close (&jw, '}');
    }
    if (w->relation)
        s_enum (&jw, "relation", mm_relation_name (w->relation), w->relation);
    if (w->tlp)
        s_enum (&jw, "tlp", mm_tlp_name (w->tlp), w->tlp);
    s_str (&jw, "dedup_key", w->dedup_key);
    s_close (&jw, '}');
    return s_end (&jw);
}

int
mm_watchlist_to_json (const mm_watchlist_t *wl, mm_buf_t *out)
{
    s_jw_t jw;
    s_begin (&jw, out);
    s_time (&jw, "timestamp", wl->ts);
    s_cstr (&jw, "event_type", "watchlist");
    s_str (&jw, "org_id", wl->org);
    s_open (&jw, "watchlist", '{');
    s_uint (&jw, "serial", wl->serial);
    s_open (&jw, "entries", '[');
    for (uint32_t i = 0; i < wl->n_entries; i++) {
        const mm_wl_entry_t *e = &wl->entries[i];
        s_open (&jw, NULL, '{');
        s_enum (&jw, "op", mm_wl_op_name (e->op), e->op);
        s_enum (&jw, "type", mm_ioc_type_name (e->type), e->type);
        s_str (&jw, "value", e->value);
        if (e->category)
            s_enum (&jw, "category", mm_category_name (e->category), e->category);
        if (e->severity)
            s_enum (&jw, "severity", mm_sev_name (e->severity), e->severity);
        s_str (&jw, "feed", e->feed);
        if (e->expires)
            s_time (&jw, "expires", e->expires);
        s_str (&jw, "warning_id", e->warning_id);
        if (e->action)
            s_enum (&jw, "action", mm_action_name (e->action), e->action);
        s_close (&jw, '}');
    }
    s_close (&jw, ']');
    s_close (&jw, '}');
    return s_end (&jw);
}

//  The hit org's own SOC reads this: it names the org and the sensor, unlike a WARNING.
int
mm_incident_to_json (const mm_incident_t *inc, mm_buf_t *out)
{
    s_jw_t jw;
    s_begin (&jw, out);
    s_time (&jw, "timestamp", inc->ts);
    s_cstr (&jw, "event_type", "incident");
    s_str (&jw, "sensor_id", inc->sensor);
    s_str (&jw, "org_id", inc->org);
    s_open (&jw, "incident", '{');
    s_enum (&jw, "kind", mm_inc_kind_name (inc->kind), inc->kind);
    s_str (&jw, "provider", inc->provider);
    s_str (&jw, "region", inc->region);
    s_time (&jw, "seen", inc->seen);
    if (inc->finding_id)
        s_uint (&jw, "finding_id", inc->finding_id);
    s_enum (&jw, "severity", mm_sev_name (inc->severity), inc->severity);
    s_uint (&jw, "severity_id", inc->severity);
    if (inc->confidence)
        s_uint (&jw, "confidence", inc->confidence);
    s_enum (&jw, "category", mm_category_name (inc->category), inc->category);
    s_str (&jw, "detector", inc->detector);
    s_str (&jw, "message", inc->message);
    if (inc->has & MM_INC_HAS_IOC) {
        s_open (&jw, "indicator", '{');
        s_enum (&jw, "type", mm_ioc_type_name (inc->ioc.type), inc->ioc.type);
        s_str (&jw, "value", inc->ioc.value);
        s_str (&jw, "feed", inc->ioc.feed);
        s_close (&jw, '}');
    }
    s_open (&jw, "action", '{');
    s_enum (&jw, "code", mm_action_name (inc->action.code), inc->action.code);
    s_str (&jw, "text_ja", inc->action.text_ja);
    s_str (&jw, "text_en", inc->action.text_en);
    s_close (&jw, '}');
    s_close (&jw, '}');
    return s_end (&jw);
}

//  A console reads this: the sensor, its company, and what the aggregator knows of it.
int
mm_health_to_json (const mm_health_t *h, mm_buf_t *out)
{
    s_jw_t jw;
    s_begin (&jw, out);
    s_time (&jw, "timestamp", h->ts);
    s_cstr (&jw, "event_type", "health");
    s_str (&jw, "sensor_id", h->sensor);
    s_str (&jw, "org_id", h->org);
    s_open (&jw, "health", '{');
    s_str (&jw, "region", h->region);
    s_enum (&jw, "state", mm_health_state_name (h->state), h->state);
    if (h->last_seen)
        s_time (&jw, "last_seen", h->last_seen);
    if (h->since)
        s_time (&jw, "since", h->since);
    s_uint (&jw, "events", h->events);
    s_close (&jw, '}');
    return s_end (&jw);
}

int
mm_msg_to_json (const uint8_t *data, size_t len, mm_buf_t *out, mm_error_t *err)
{
    mm_msg_type_t type;
    if (mm_msg_peek (data, len, &type, err) == -1)
        return -1;
    //  The watchlist struct is large (MM_WATCHLIST_MAX entries): keep it off the stack.
    union {
        mm_event_t ev;
        mm_heartbeat_t hb;
        mm_ack_t ack;
        mm_warning_t w;
        mm_watchlist_t wl;
        mm_incident_t inc;
        mm_health_t health;
    } *msg = malloc (sizeof *msg);
    if (!msg)
        return mm_error_set (err, MM_ERR_NOMEM, MM_NO_OFFSET, NULL, "out of memory");
    int rc = -1;
    switch (type) {
    case MM_MSG_EVENT:
        if (mm_event_decode (&msg->ev, data, len, err) == 0)
            rc = mm_event_to_json (&msg->ev, out);
        else
            goto cleanup;
        break;
    case MM_MSG_HEARTBEAT:
        if (mm_heartbeat_decode (&msg->hb, data, len, err) == 0)
            rc = mm_heartbeat_to_json (&msg->hb, out);
        else
            goto cleanup;
        break;
    case MM_MSG_ACK:
        if (mm_ack_decode (&msg->ack, data, len, err) == 0)
            rc = mm_ack_to_json (&msg->ack, out);
        else
            goto cleanup;
        break;
    case MM_MSG_WARNING:
        if (mm_warning_decode (&msg->w, data, len, err) == 0)
            rc = mm_warning_to_json (&msg->w, out);
        else
            goto cleanup;
        break;
    case MM_MSG_WATCHLIST:
        if (mm_watchlist_decode (&msg->wl, data, len, err) == 0)
            rc = mm_watchlist_to_json (&msg->wl, out);
        else
            goto cleanup;
        break;
    case MM_MSG_INCIDENT:
        if (mm_incident_decode (&msg->inc, data, len, err) == 0)
            rc = mm_incident_to_json (&msg->inc, out);
        else
            goto cleanup;
        break;
    case MM_MSG_HEALTH:
        if (mm_health_decode (&msg->health, data, len, err) == 0)
            rc = mm_health_to_json (&msg->health, out);
        else
            goto cleanup;
        break;
    }
    if (rc == -1)
        mm_error_set (err, MM_ERR_NOMEM, MM_NO_OFFSET, NULL, "out of memory while rendering JSON");
cleanup:
    free (msg);
    return rc;
}
