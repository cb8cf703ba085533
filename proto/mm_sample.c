/*  mm_sample: example messages (see mm_sample.h). Addresses are from the documentation ranges
    (RFC 5737, RFC 3849); times are around 2026-11-22. */
#include "mm_sample.h"

#include <string.h>

const uint8_t mm_sample_kinds[MM_SAMPLE_EVENT_KINDS] = {MM_KIND_FLOW, MM_KIND_DNS,    MM_KIND_TLS,
                                                        MM_KIND_HTTP, MM_KIND_SSH,    MM_KIND_SMB,
                                                        MM_KIND_KRB,  MM_KIND_FINDING};

static const uint64_t s_t0 = 1795330800000000000ULL;  //  2026-11-22T07:00:00Z (16:00 in Tokyo)

static void
s_envelope (mm_event_t *ev, uint8_t kind)
{
    memset (ev, 0, sizeof *ev);
    ev->ts = s_t0 + 123456789;
    ev->sensor = mm_str ("s-kanto-0001");
    ev->org = mm_str ("org-0001");
    ev->seq = 42;
    ev->kind = kind;
    ev->severity = MM_SEV_INFO;
    ev->proto = 6;
    ev->src.len = 4;
    memcpy (ev->src.b, "\xc0\x00\x02\x0a", 4);  //  192.0.2.10
    ev->dst.len = 4;
    memcpy (ev->dst.b, "\xc6\x33\x64\x07", 4);  //  198.51.100.7
    ev->has |= MM_EV_HAS_PORTS;
    ev->sport = 51515;
    ev->dport = 443;
    ev->direction = MM_DIR_OUTBOUND;
    ev->community_id = mm_str ("1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
    ev->flow_id = 1234567890123ULL;
}

void
mm_sample_event (mm_event_t *ev, uint8_t kind)
{
    s_envelope (ev, kind);
    switch (kind) {
    case MM_KIND_FLOW:
        ev->has |= MM_EV_HAS_COUNTERS | MM_EV_HAS_TCP_FLAGS;
        ev->n_vlan = 2;
        ev->vlan[0] = 100;
        ev->vlan[1] = 4095;
        ev->app = mm_str ("tls");
        ev->pkts_orig = 12;
        ev->pkts_resp = 0;  //  zero counters are information: must survive
        ev->bytes_orig = 1840;
        ev->bytes_resp = 0;
        ev->duration_us = 2500000;
        ev->state = MM_STATE_S0;
        ev->tcp_flags_orig = 0x02;
        ev->tcp_flags_resp = 0;
        break;
    case MM_KIND_DNS:
        ev->proto = 17;
        ev->src.len = 16;
        memcpy (ev->src.b, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);  //  2001:db8::1
        ev->dst.len = 16;
        memcpy (ev->dst.b, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x35", 16);
        ev->sport = 0;  //  port 0 is legal and must survive
        ev->dport = 53;
        ev->app = mm_str ("dns");
        ev->has |= MM_EV_HAS_DNS;
        ev->dns.has = MM_DNS_HAS_QTYPE | MM_DNS_HAS_RCODE;
        ev->dns.qname = mm_str ("www.example.co.jp");
        ev->dns.qtype = 1;
        ev->dns.rcode = 0;
        ev->dns.n_answers = 2;
        ev->dns.answers[0] = (mm_dns_answer_t){5, mm_str ("cdn.example.net"), 300};
        ev->dns.answers[1] = (mm_dns_answer_t){1, mm_str ("203.0.113.80"), 0};
        break;
    case MM_KIND_TLS:
        ev->app = mm_str ("tls");
        ev->has |= MM_EV_HAS_TLS;
        ev->tls.has = MM_TLS_HAS_JA3 | MM_TLS_HAS_CERT_SHA1 | MM_TLS_HAS_JA3S;
        ev->tls.sni = mm_str ("login.example.jp");
        ev->tls.version = 0x0304;
        ev->tls.n_alpn = 2;
        ev->tls.alpn[0] = mm_str ("h2");
        ev->tls.alpn[1] = mm_str ("http/1.1");
        memcpy (ev->tls.ja3, "\x77\x3e\x1f\x58\x5f\x97\x2a\x6b\x1c\x0b\xd8\xe2\x0e\x38\x9a\xe0",
                16);
        ev->tls.ja4 = mm_str ("t13d1516h2_8daaf6152771_02713d6af862");
        memcpy (ev->tls.cert_sha1,
                "\x01\x23\x45\x67\x89\xab\xcd\xef\x01\x23\x45\x67\x89\xab\xcd\xef\x01\x23\x45\x67",
                20);
        ev->tls.subject = mm_str ("CN=login.example.jp");
        ev->tls.issuer = mm_str ("CN=Example CA,O=Example");
        memcpy (ev->tls.ja3s, "\x15\xaf\x97\x7c\xe2\x5d\xe4\x52\xb9\x6a\xff\xa2\xad\xdb\x13\x16",
                16);
        break;
    case MM_KIND_HTTP:
        ev->dport = 80;
        ev->app = mm_str ("http");
        ev->has |= MM_EV_HAS_HTTP;
        ev->http.method = mm_str ("POST");
        ev->http.host = mm_str ("upload.example.com");
        ev->http.uri = mm_str ("/api/v1/files?name=%E8%A6%8B%E5%AE%88%E3%82%8A");
        ev->http.user_agent = mm_str ("Mozilla/5.0 (Windows NT 10.0; Win64; x64)");
        ev->http.status = 200;
        ev->http.content_type = mm_str ("application/json");
        ev->http.request_len = 10485760;
        ev->http.response_len = 17;
        break;
    case MM_KIND_SSH:
        ev->dport = 22;
        ev->direction = MM_DIR_INBOUND;
        ev->app = mm_str ("ssh");
        ev->has |= MM_EV_HAS_SSH;
        ev->ssh.has = MM_SSH_HAS_HASSH | MM_SSH_HAS_HASSH_SERVER;
        ev->ssh.client = mm_str ("SSH-2.0-libssh_0.9.6");
        ev->ssh.server = mm_str ("SSH-2.0-OpenSSH_9.2p1 Debian-2");
        memcpy (ev->ssh.hassh, "\xec\x7f\x28\x51\x89\xa6\x1a\x6c\x4c\x2f\x0a\x81\x25\x61\x8d\x1a",
                16);
        memcpy (ev->ssh.hassh_server,
                "\xb1\x2d\x2b\x70\x4c\x58\x4b\xcc\x8c\x9d\x04\x3b\x12\x65\x64\x82", 16);
        break;
    case MM_KIND_SMB:
        ev->dport = 445;
        ev->direction = MM_DIR_INTERNAL;
        ev->dst.b[0] = 10;  //  an internal host, 10.51.100.7
        ev->app = mm_str ("smb");
        ev->has |= MM_EV_HAS_SMB;
        ev->smb.has = MM_SMB_HAS_COMMAND | MM_SMB_HAS_STATUS;
        ev->smb.command = 3;  //  TREE_CONNECT
        ev->smb.share = mm_str ("\\\\FILESRV01\\ADMIN$");
        ev->smb.file = mm_str ("Windows\\Temp\\psexesvc.exe");
        ev->smb.status = 0;  //  STATUS_SUCCESS is zero and must survive
        break;
    case MM_KIND_KRB:
        ev->proto = 17;
        ev->dport = 88;
        ev->direction = MM_DIR_INTERNAL;
        ev->dst.b[0] = 10;  //  the domain controller, 10.51.100.7
        ev->app = mm_str ("krb5");
        ev->has |= MM_EV_HAS_KRB;
        ev->krb.has = MM_KRB_HAS_ETYPE;
        ev->krb.msg_type = 13;  //  TGS-REP
        ev->krb.cname = mm_str ("alice");
        ev->krb.realm = mm_str ("CORP.EXAMPLE.JP");
        ev->krb.sname = mm_str ("MSSQLSvc/db1.corp.example.jp:1433");
        ev->krb.etype = 23;  //  RC4-HMAC: the kerberoasting sign
        break;
    case MM_KIND_FINDING: mm_sample_finding (ev); break;
    default: break;
    }
}

void
mm_sample_finding (mm_event_t *ev)
{
    s_envelope (ev, MM_KIND_FINDING);
    ev->severity = MM_SEV_HIGH;
    ev->confidence = 90;
    ev->direction = MM_DIR_OUTBOUND;
    ev->has |= MM_EV_HAS_FINDING;
    mm_finding_t *f = &ev->finding;
    f->has = MM_FINDING_HAS_IOC | MM_FINDING_HAS_EVIDENCE;
    f->id = 17;
    f->revision = 1;
    f->detector = mm_str ("beacon");
    f->detector_version = 1;
    f->category = MM_CAT_C2_BEACON;
    f->n_attack = 2;
    f->attack[0] = mm_str ("T1071.001");
    f->attack[1] = mm_str ("T1573");
    f->message = mm_str ("periodic connections to a known C2 address every 60 s");
    f->ioc.type = MM_IOC_IP;
    f->ioc.value = mm_str ("198.51.100.7");
    f->ioc.feed = mm_str ("abuse-ch-feodo");
    f->evidence.count = 48;
    f->evidence.distinct_ports = 1;
    f->evidence.distinct_hosts = 1;
    f->evidence.window_s = 3600;
    f->evidence.period_ms = 60000;
    f->evidence.jitter_ms = 850;
    f->evidence.bytes = 98304;
    f->evidence.first_ts = s_t0 - 2820000000000ULL;
    f->evidence.last_ts = s_t0;
}

void
mm_sample_heartbeat (mm_heartbeat_t *hb)
{
    memset (hb, 0, sizeof *hb);
    hb->ts = s_t0;
    hb->sensor = mm_str ("s-kanto-0001");
    hb->org = mm_str ("org-0001");
    hb->seq = 41;
    hb->uptime_s = 86400;
    hb->packets = 123456789;
    hb->drops = 0;
    hb->flows = 2048;
    hb->events = 5120;
    hb->spool_depth = 3;
    hb->spool_bytes = 612;
    hb->spool_dropped = 0;
    hb->version = mm_str ("0.1.0");
}

void
mm_sample_ack (mm_ack_t *ack)
{
    memset (ack, 0, sizeof *ack);
    ack->ts = s_t0 + 1000000;
    ack->sensor = mm_str ("s-kanto-0001");
    ack->seq = 42;
}

void
mm_sample_warning (mm_warning_t *w)
{
    memset (w, 0, sizeof *w);
    w->has = MM_WARN_HAS_EVIDENCE | MM_WARN_HAS_ACTION;
    w->ts = s_t0 + 5000000000ULL;
    w->org = mm_str ("org-0007");
    w->id = mm_str ("w-2026-000123");
    w->revision = 2;
    w->status = MM_WSTATUS_UPDATED;
    w->valid_until = s_t0 + 7 * 86400 * 1000000000ULL;
    w->indicator.type = MM_IOC_DOMAIN;
    w->indicator.value = mm_str ("update-check.example.net");
    w->indicator.match = MM_MATCH_SUBDOMAINS;
    w->severity = MM_SEV_CRITICAL;
    w->confidence = 85;
    w->category = MM_CAT_C2_BEACON;
    w->n_tactics = 1;
    w->tactics[0] = mm_str ("TA0011");
    w->n_techniques = 1;
    w->techniques[0] = mm_str ("T1071.001");
    w->evidence.orgs = 2;
    w->evidence.providers = 1;
    w->evidence.sightings = 96;
    w->evidence.first_seen = s_t0 - 3600000000000ULL;
    w->evidence.last_seen = s_t0;
    w->action.code = MM_ACTION_BLOCK;
    w->action.text_ja = mm_str ("この宛先への通信を遮断し、通信した端末を調査してください。");
    w->action.text_en = mm_str ("Block this destination and examine the hosts that contacted it.");
    w->relation = MM_REL_DIRECT_SUPPLIER;
    w->tlp = MM_TLP_AMBER;
    w->dedup_key = mm_str ("6f1ed002ab5595859014ebf0951522d9");
}

void
mm_sample_watchlist (mm_watchlist_t *wl)
{
    memset (wl, 0, sizeof *wl);
    wl->ts = s_t0 + 6000000000ULL;
    wl->org = mm_str ("org-0007");
    wl->serial = 17;
    wl->n_entries = 2;
    wl->entries[0] = (mm_wl_entry_t){
        .op = MM_WL_ADD,
        .type = MM_IOC_DOMAIN,
        .value = mm_str ("update-check.example.net"),
        .category = MM_CAT_C2_BEACON,
        .severity = MM_SEV_CRITICAL,
        .feed = mm_str ("lateral"),
        .expires = s_t0 + 7 * 86400 * 1000000000ULL,
        .warning_id = mm_str ("w-2026-000123"),
    };
    wl->entries[1] = (mm_wl_entry_t){
        .op = MM_WL_REVOKE,
        .type = MM_IOC_IP,
        .value = mm_str ("203.0.113.66"),
        .feed = mm_str ("lateral"),
    };
}

void
mm_sample_incident (mm_incident_t *inc)
{
    memset (inc, 0, sizeof *inc);
    inc->has = MM_INC_HAS_IOC;
    inc->seen = s_t0 + 123456789;  //  the sample finding's ts
    inc->ts = inc->seen + 250000000ULL;
    inc->sensor = mm_str ("s-kanto-0001");
    inc->org = mm_str ("org-0001");
    inc->provider = mm_str ("p-east");
    inc->region = mm_str ("kanto");
    inc->finding_id = 17;
    inc->kind = MM_INC_FINDING;
    inc->severity = MM_SEV_HIGH;
    inc->confidence = 90;
    inc->category = MM_CAT_C2_BEACON;
    inc->detector = mm_str ("beacon");
    inc->message = mm_str ("periodic connections to a known C2 address every 60 s");
    inc->ioc.type = MM_IOC_IP;
    inc->ioc.value = mm_str ("198.51.100.7");
    inc->ioc.feed = mm_str ("abuse-ch-feodo");
    inc->action.code = MM_ACTION_BLOCK;
    inc->action.text_ja = mm_str ("この宛先への通信を遮断し、通信していた端末をネットワークから"
                                  "外してください。");
    inc->action.text_en = mm_str (
        "Block traffic to this destination and disconnect the computers that talked to it.");
}

void
mm_sample_health (mm_health_t *h)
{
    memset (h, 0, sizeof *h);
    h->ts = s_t0 + 600000000000ULL;
    h->sensor = mm_str ("s-kanto-0001");
    h->org = mm_str ("org-0001");
    h->region = mm_str ("kanto");
    h->state = MM_HEALTH_SILENT;
    h->last_seen = s_t0;
    h->since = s_t0 + 30000000000ULL;
    h->events = 5120;
}
