/*  mm_event: the EVENT schema and its cross-field rules (see mm_event.h).
    Field names follow Zeek/EVE where one exists; docs/protocol.md is generated from these
    tables. A new key is added at the end of its block; a key is never reused. */
#include "mm_event.h"

#include <stdio.h>

#include "mm_schema.h"

static const mm_field_t s_answer_fields[] = {
    [1] = MM_FD_UINT (mm_dns_answer_t, type, "type", 0, UINT16_MAX, MM_FF_REQUIRED, MM_NOBIT,
                      "RR type"),
    [2] = MM_FD_STR (mm_dns_answer_t, value, "value", MM_NAME_MAX, 0,
                     "address as text, target name or text; absent for types not rendered"),
    [3] = MM_FD_UINT (mm_dns_answer_t, ttl, "ttl", 0, UINT32_MAX, MM_FF_REQUIRED, MM_NOBIT,
                      "seconds"),
};
static const mm_schema_t s_answer_schema =
    MM_SCHEMA ("event.dns.answers", 0, mm_dns_answer_t, s_answer_fields, -1, NULL);

static const mm_field_t s_dns_fields[] = {
    [1] = MM_FD_STR (mm_dns_t, qname, "qname", MM_NAME_MAX, 0, "query name"),
    [2] = MM_FD_UINT (mm_dns_t, qtype, "qtype", 0, UINT16_MAX, 0, MM_DNS_HAS_QTYPE, "query type"),
    [3] = MM_FD_UINT (mm_dns_t, rcode, "rcode", 0, 4095, 0, MM_DNS_HAS_RCODE,
                      "response code (with EDNS extension); absent for unanswered queries"),
    [4] = MM_FD_ARR_MAP (mm_dns_t, answers, n_answers, "answers", MM_DNS_ANSWERS_MAX,
                         &s_answer_schema, 0, "array of answer maps {1 type, 2 value, 3 ttl}"),
};
static const mm_schema_t s_dns_schema =
    MM_SCHEMA ("event.dns", 0, mm_dns_t, s_dns_fields, (int) offsetof (mm_dns_t, has), NULL);

static const mm_field_t s_tls_fields[] = {
    [1] = MM_FD_STR (mm_tls_t, sni, "sni", MM_NAME_MAX, 0, "server name indication"),
    [2] = MM_FD_UINT (mm_tls_t, version, "version", 0, UINT16_MAX, 0, MM_NOBIT,
                      "highest version offered, e.g. 0x0304"),
    [3] = MM_FD_ARR_STR (mm_tls_t, alpn, n_alpn, "alpn", MM_ALPN_MAX, MM_ID_MAX, 0,
                         "ALPN protocols offered"),
    [4] = MM_FD_BIN (mm_tls_t, ja3, "ja3", MM_TLS_HAS_JA3, "JA3 (MD5 of the JA3 string)"),
    [5] = MM_FD_STR (mm_tls_t, ja4, "ja4", MM_ID_MAX, 0, "JA4 fingerprint"),
    [6] = MM_FD_BIN (mm_tls_t, cert_sha1, "cert_sha1", MM_TLS_HAS_CERT_SHA1,
                     "SHA-1 of the server certificate"),
    [7] = MM_FD_STR (mm_tls_t, subject, "subject", MM_TEXT_MAX, 0, "certificate subject"),
    [8] = MM_FD_STR (mm_tls_t, issuer, "issuer", MM_TEXT_MAX, 0, "certificate issuer"),
    [9] = MM_FD_BIN (mm_tls_t, ja3s, "ja3s", MM_TLS_HAS_JA3S, "JA3S (MD5 of the JA3S string)"),
};
static const mm_schema_t s_tls_schema =
    MM_SCHEMA ("event.tls", 0, mm_tls_t, s_tls_fields, (int) offsetof (mm_tls_t, has), NULL);

static const mm_field_t s_http_fields[] = {
    [1] = MM_FD_STR (mm_http_t, method, "method", MM_SHORT_MAX, 0, "request method"),
    [2] = MM_FD_STR (mm_http_t, host, "host", MM_NAME_MAX, 0, "Host header"),
    [3] = MM_FD_STR (mm_http_t, uri, "uri", MM_LONG_MAX, 0, "request target"),
    [4] = MM_FD_STR (mm_http_t, user_agent, "user_agent", MM_TEXT_MAX, 0, "User-Agent header"),
    [5] = MM_FD_UINT (mm_http_t, status, "status", 0, 999, 0, MM_NOBIT, "response status code"),
    [6] = MM_FD_STR (mm_http_t, content_type, "content_type", MM_NAME_MAX, 0,
                     "response Content-Type"),
    [7] = MM_FD_UINT (mm_http_t, request_len, "request_len", 0, UINT64_MAX, 0, MM_NOBIT,
                      "request body bytes"),
    [8] = MM_FD_UINT (mm_http_t, response_len, "response_len", 0, UINT64_MAX, 0, MM_NOBIT,
                      "response body bytes"),
};
static const mm_schema_t s_http_schema =
    MM_SCHEMA ("event.http", 0, mm_http_t, s_http_fields, -1, NULL);

static const mm_field_t s_ssh_fields[] = {
    [1] = MM_FD_STR (mm_ssh_t, client, "client", MM_NAME_MAX, 0, "client banner"),
    [2] = MM_FD_STR (mm_ssh_t, server, "server", MM_NAME_MAX, 0, "server banner"),
    [3] = MM_FD_BIN (mm_ssh_t, hassh, "hassh", MM_SSH_HAS_HASSH, "HASSH (MD5)"),
    [4] = MM_FD_BIN (mm_ssh_t, hassh_server, "hassh_server", MM_SSH_HAS_HASSH_SERVER,
                     "HASSHServer (MD5)"),
};
static const mm_schema_t s_ssh_schema =
    MM_SCHEMA ("event.ssh", 0, mm_ssh_t, s_ssh_fields, (int) offsetof (mm_ssh_t, has), NULL);

static const mm_field_t s_smb_fields[] = {
    [1] = MM_FD_UINT (mm_smb_t, command, "command", 0, UINT16_MAX, 0, MM_SMB_HAS_COMMAND,
                      "SMB2 command code"),
    [2] = MM_FD_STR (mm_smb_t, share, "share", MM_NAME_MAX, 0, "TREE_CONNECT share path"),
    [3] = MM_FD_STR (mm_smb_t, file, "file", MM_LONG_MAX, 0, "CREATE file name"),
    [4] = MM_FD_UINT (mm_smb_t, status, "status", 0, UINT32_MAX, 0, MM_SMB_HAS_STATUS,
                      "NT status of the response"),
    [5] = MM_FD_UINT (mm_smb_t, access, "access", 0, UINT32_MAX, 0, MM_SMB_HAS_ACCESS,
                      "CREATE DesiredAccess mask"),
    [6] = MM_FD_UINT (mm_smb_t, disposition, "disposition", 0, UINT32_MAX, 0,
                      MM_SMB_HAS_DISPOSITION, "CREATE CreateDisposition (0..5)"),
};
static const mm_schema_t s_smb_schema =
    MM_SCHEMA ("event.smb", 0, mm_smb_t, s_smb_fields, (int) offsetof (mm_smb_t, has), NULL);

static const mm_field_t s_krb_fields[] = {
    [1] = MM_FD_UINT (mm_krb_t, msg_type, "msg_type", 0, UINT8_MAX, 0, MM_NOBIT,
                      "Kerberos message type (10 AS-REQ ... 30 KRB-ERROR)"),
    [2] = MM_FD_STR (mm_krb_t, cname, "cname", MM_NAME_MAX, 0, "client principal"),
    [3] = MM_FD_STR (mm_krb_t, realm, "realm", MM_NAME_MAX, 0, "realm"),
    [4] = MM_FD_STR (mm_krb_t, sname, "sname", MM_NAME_MAX, 0, "service principal"),
    [5] = MM_FD_UINT (mm_krb_t, etype, "etype", 0, UINT16_MAX, 0, MM_KRB_HAS_ETYPE,
                      "ticket encryption type"),
    [6] = MM_FD_UINT (mm_krb_t, error_code, "error_code", 0, UINT32_MAX, 0, MM_KRB_HAS_ERROR,
                      "KRB-ERROR code"),
};
static const mm_schema_t s_krb_schema =
    MM_SCHEMA ("event.krb", 0, mm_krb_t, s_krb_fields, (int) offsetof (mm_krb_t, has), NULL);

static const mm_field_t s_ioc_fields[] = {
    [1] = MM_FD_UINT (mm_ioc_t, type, "type", 1, UINT8_MAX, MM_FF_REQUIRED | MM_FF_ENUM_NAMED,
                      MM_NOBIT, "indicator type"),
    [2] = MM_FD_STR (mm_ioc_t, value, "value", MM_LONG_MAX, MM_FF_REQUIRED,
                     "the indicator as matched, normalized"),
    [3] = MM_FD_STR (mm_ioc_t, feed, "feed", MM_ID_MAX, 0, "feed the indicator came from"),
};
static const mm_schema_t s_ioc_schema =
    MM_SCHEMA ("event.finding.ioc", 0, mm_ioc_t, s_ioc_fields, -1, NULL);

static const mm_field_t s_evidence_fields[] = {
    [1] = MM_FD_UINT (mm_evidence_t, count, "count", 0, UINT64_MAX, 0, MM_NOBIT,
                      "occurrences folded into the finding"),
    [2] = MM_FD_UINT (mm_evidence_t, distinct_ports, "distinct_ports", 0, UINT32_MAX, 0, MM_NOBIT,
                      "distinct destination ports"),
    [3] = MM_FD_UINT (mm_evidence_t, distinct_hosts, "distinct_hosts", 0, UINT32_MAX, 0, MM_NOBIT,
                      "distinct hosts"),
    [4] = MM_FD_UINT (mm_evidence_t, window_s, "window_s", 0, UINT32_MAX, 0, MM_NOBIT,
                      "detection window, seconds"),
    [5] = MM_FD_UINT (mm_evidence_t, period_ms, "period_ms", 0, UINT32_MAX, 0, MM_NOBIT,
                      "beacon period, ms"),
    [6] = MM_FD_UINT (mm_evidence_t, jitter_ms, "jitter_ms", 0, UINT32_MAX, 0, MM_NOBIT,
                      "beacon jitter, ms"),
    [7] = MM_FD_UINT (mm_evidence_t, bytes, "bytes", 0, UINT64_MAX, 0, MM_NOBIT, "bytes involved"),
    [8] = MM_FD_UINT (mm_evidence_t, first_ts, "first_ts", 0, UINT64_MAX, 0, MM_NOBIT,
                      "first occurrence, ns since the epoch"),
    [9] = MM_FD_UINT (mm_evidence_t, last_ts, "last_ts", 0, UINT64_MAX, 0, MM_NOBIT,
                      "last occurrence, ns since the epoch"),
};
static const mm_schema_t s_evidence_schema =
    MM_SCHEMA ("event.finding.evidence", 0, mm_evidence_t, s_evidence_fields, -1, NULL);

static const mm_field_t s_finding_fields[] = {
    [1] = MM_FD_STR (mm_finding_t, detector, "detector", MM_ID_MAX, MM_FF_REQUIRED,
                     "detector id, e.g. scan.port"),
    [2] = MM_FD_UINT (mm_finding_t, detector_version, "detector_version", 0, UINT16_MAX, 0,
                      MM_NOBIT, "detector version"),
    [3] = MM_FD_UINT (mm_finding_t, category, "category", 1, UINT8_MAX,
                      MM_FF_REQUIRED | MM_FF_ENUM_NAMED, MM_NOBIT, "finding category"),
    [4] = MM_FD_ARR_STR (mm_finding_t, attack, n_attack, "attack", MM_ATTACK_MAX, MM_SHORT_MAX, 0,
                         "ATT&CK technique ids"),
    [5] = MM_FD_STR (mm_finding_t, message, "message", MM_TEXT_MAX, MM_FF_REQUIRED,
                     "short human-readable message"),
    [6] = MM_FD_MAP (mm_finding_t, ioc, "ioc", &s_ioc_schema, 0, MM_FINDING_HAS_IOC,
                     "matched indicator {1 type, 2 value, 3 feed}"),
    [7] = MM_FD_MAP (mm_finding_t, evidence, "evidence", &s_evidence_schema, 0,
                     MM_FINDING_HAS_EVIDENCE, "evidence counters"),
    [8] = MM_FD_UINT (mm_finding_t, id, "id", 0, UINT64_MAX, 0, MM_NOBIT,
                      "sensor-local finding id: the seq of the event that raised it"),
    [9] = MM_FD_UINT (mm_finding_t, revision, "revision", 0, UINT32_MAX, 0, MM_NOBIT,
                      "0 when raised, +1 for each update of its evidence"),
    [10] = MM_FD_UINT (mm_finding_t, action, "action", 1, UINT8_MAX, MM_FF_ENUM_NAMED,
                       MM_FINDING_HAS_ACTION, "action the sensor took itself (block)"),
};
static const mm_schema_t s_finding_schema = MM_SCHEMA (
    "event.finding", 0, mm_finding_t, s_finding_fields, (int) offsetof (mm_finding_t, has), NULL);

//  A kind promises its metadata: a dns event without its dns map is of no use downstream.
static int
s_event_validate (const void *obj, size_t offset, mm_error_t *err)
{
    const mm_event_t *ev = obj;
    static const struct {
        uint8_t kind;
        uint32_t bit;
        unsigned key;
    } needs[] = {
        {MM_KIND_DNS, MM_EV_HAS_DNS, MM_EK_DNS},
        {MM_KIND_TLS, MM_EV_HAS_TLS, MM_EK_TLS},
        {MM_KIND_HTTP, MM_EV_HAS_HTTP, MM_EK_HTTP},
        {MM_KIND_SSH, MM_EV_HAS_SSH, MM_EK_SSH},
        {MM_KIND_SMB, MM_EV_HAS_SMB, MM_EK_SMB},
        {MM_KIND_KRB, MM_EV_HAS_KRB, MM_EK_KRB},
        {MM_KIND_FINDING, MM_EV_HAS_FINDING, MM_EK_FINDING},
    };
    for (size_t i = 0; i < sizeof needs / sizeof needs[0]; i++)
        if (ev->kind == needs[i].kind && !(ev->has & needs[i].bit))
            return mm_error_set (err, MM_ERR_MISSING, offset, "event",
                                 "kind %s requires its %s map (key %u)", mm_kind_name (ev->kind),
                                 mm_kind_name (ev->kind), needs[i].key);
    if (ev->src.len && ev->dst.len && ev->src.len != ev->dst.len)
        return mm_error_set (err, MM_ERR_INVALID, offset, "event",
                             "source and destination addresses are of different families");
    return 0;
}

static const mm_field_t s_event_fields[] = {
    [MM_K_TS] = MM_FD_UINT (mm_event_t, ts, "ts", 1, UINT64_MAX, MM_FF_REQUIRED, MM_NOBIT,
                            "event time, ns since the Unix epoch (UTC)"),
    [MM_K_SENSOR] = MM_FD_STR (mm_event_t, sensor, "sensor", MM_ID_MAX, MM_FF_REQUIRED,
                               "sensor id (the broker overwrites it from the CURVE key)"),
    [MM_K_ORG] = MM_FD_STR (mm_event_t, org, "org", MM_ID_MAX, MM_FF_REQUIRED,
                            "organisation id (the broker overwrites it from the CURVE key)"),
    [MM_K_SEQ] = MM_FD_UINT (mm_event_t, seq, "seq", 1, UINT64_MAX, MM_FF_REQUIRED, MM_NOBIT,
                             "per-sensor sequence number; (sensor, seq) is the dedup key"),
    [MM_EK_KIND] = MM_FD_UINT (mm_event_t, kind, "kind", 1, UINT8_MAX,
                               MM_FF_REQUIRED | MM_FF_ENUM_NAMED, MM_NOBIT, "event kind"),
    [MM_EK_SEV] = MM_FD_UINT (mm_event_t, severity, "severity", 0, 6,
                              MM_FF_REQUIRED | MM_FF_ENUM_NAMED, MM_NOBIT, "OCSF severity_id"),
    [MM_EK_CONF] =
        MM_FD_UINT (mm_event_t, confidence, "confidence", 0, 100, 0, MM_NOBIT, "confidence 0..100"),
    [MM_EK_PROTO] =
        MM_FD_UINT (mm_event_t, proto, "proto", 0, UINT8_MAX, 0, MM_NOBIT, "IP protocol number"),
    [MM_EK_SRC] = MM_FD_ADDR (mm_event_t, src, "src", 0, "originator address, 4 or 16 bytes"),
    [MM_EK_SPORT] = MM_FD_UINT (mm_event_t, sport, "sport", 0, UINT16_MAX, 0, MM_EV_HAS_SPORT,
                                "originator port"),
    [MM_EK_DST] = MM_FD_ADDR (mm_event_t, dst, "dst", 0, "responder address, 4 or 16 bytes"),
    [MM_EK_DPORT] = MM_FD_UINT (mm_event_t, dport, "dport", 0, UINT16_MAX, 0, MM_EV_HAS_DPORT,
                                "responder port"),
    [MM_EK_DIR] = MM_FD_UINT (mm_event_t, direction, "direction", 0, 4, MM_FF_ENUM_NAMED, MM_NOBIT,
                              "direction relative to home_net"),
    [MM_EK_COMMUNITY_ID] =
        MM_FD_STR (mm_event_t, community_id, "community_id", MM_ID_MAX, 0, "Community ID v1"),
    [MM_EK_FLOW_ID] = MM_FD_UINT (mm_event_t, flow_id, "flow_id", 0, UINT64_MAX, 0, MM_NOBIT,
                                  "sensor-local flow id"),
    [MM_EK_VLAN] = MM_FD_ARR_U16 (mm_event_t, vlan, n_vlan, "vlan", MM_VLAN_MAX, 0, 4095,
                                  "VLAN ids, outer first"),
    [MM_EK_APP] =
        MM_FD_STR (mm_event_t, app, "app", MM_SHORT_MAX, 0, "application protocol, e.g. dns, tls"),
    [MM_EK_PKTS_ORIG] = MM_FD_UINT (mm_event_t, pkts_orig, "pkts_orig", 0, UINT64_MAX, 0,
                                    MM_EV_HAS_PKTS_ORIG, "packets from the originator"),
    [MM_EK_PKTS_RESP] = MM_FD_UINT (mm_event_t, pkts_resp, "pkts_resp", 0, UINT64_MAX, 0,
                                    MM_EV_HAS_PKTS_RESP, "packets from the responder"),
    [MM_EK_BYTES_ORIG] = MM_FD_UINT (mm_event_t, bytes_orig, "bytes_orig", 0, UINT64_MAX, 0,
                                     MM_EV_HAS_BYTES_ORIG, "IP bytes from the originator"),
    [MM_EK_BYTES_RESP] = MM_FD_UINT (mm_event_t, bytes_resp, "bytes_resp", 0, UINT64_MAX, 0,
                                     MM_EV_HAS_BYTES_RESP, "IP bytes from the responder"),
    [MM_EK_DURATION] = MM_FD_UINT (mm_event_t, duration_us, "duration_us", 0, UINT64_MAX, 0,
                                   MM_EV_HAS_DURATION, "duration, microseconds"),
    [MM_EK_STATE] = MM_FD_UINT (mm_event_t, state, "state", 0, MM_STATE_OTH, MM_FF_ENUM_NAMED,
                                MM_NOBIT, "connection state (Zeek conn_state)"),
    [MM_EK_TCP_FLAGS_ORIG] =
        MM_FD_UINT (mm_event_t, tcp_flags_orig, "tcp_flags_orig", 0, UINT8_MAX, 0,
                    MM_EV_HAS_TCP_FLAGS_ORIG, "OR of TCP flags from the originator"),
    [MM_EK_TCP_FLAGS_RESP] =
        MM_FD_UINT (mm_event_t, tcp_flags_resp, "tcp_flags_resp", 0, UINT8_MAX, 0,
                    MM_EV_HAS_TCP_FLAGS_RESP, "OR of TCP flags from the responder"),
    [MM_EK_DNS] =
        MM_FD_MAP (mm_event_t, dns, "dns", &s_dns_schema, 0, MM_EV_HAS_DNS, "DNS metadata"),
    [MM_EK_TLS] =
        MM_FD_MAP (mm_event_t, tls, "tls", &s_tls_schema, 0, MM_EV_HAS_TLS, "TLS metadata"),
    [MM_EK_HTTP] =
        MM_FD_MAP (mm_event_t, http, "http", &s_http_schema, 0, MM_EV_HAS_HTTP, "HTTP metadata"),
    [MM_EK_SSH] =
        MM_FD_MAP (mm_event_t, ssh, "ssh", &s_ssh_schema, 0, MM_EV_HAS_SSH, "SSH metadata"),
    [MM_EK_SMB] =
        MM_FD_MAP (mm_event_t, smb, "smb", &s_smb_schema, 0, MM_EV_HAS_SMB, "SMB metadata"),
    [MM_EK_KRB] =
        MM_FD_MAP (mm_event_t, krb, "krb", &s_krb_schema, 0, MM_EV_HAS_KRB, "Kerberos metadata"),
    [MM_EK_FINDING] = MM_FD_MAP (mm_event_t, finding, "finding", &s_finding_schema, 0,
                                 MM_EV_HAS_FINDING, "detection finding"),
};

const mm_schema_t mm_event_schema = MM_SCHEMA ("event", MM_MSG_EVENT, mm_event_t, s_event_fields,
                                               (int) offsetof (mm_event_t, has), s_event_validate);

int
mm_event_encode (const mm_event_t *ev, mm_buf_t *out, mm_error_t *err)
{
    return mm_schema_encode_msg (&mm_event_schema, ev, out, err);
}

int
mm_event_decode (mm_event_t *ev, const uint8_t *data, size_t len, mm_error_t *err)
{
    return mm_schema_decode_msg (&mm_event_schema, ev, data, len, err);
}

int
mm_event_peek (const uint8_t *data, size_t len, uint64_t *ts, uint8_t *kind)
{
    mm_rd_t rd;
    mm_rd_init (&rd, data, len);
    mm_error_t err;
    uint32_t n;
    *ts = 0;
    *kind = 0;
    if (mm_rd_map (&rd, &n, &err, "event") == -1)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        unsigned key;
        uint64_t v;
        if (mm_rd_key (&rd, &key, &err, "key") == -1)
            return -1;
        if (key == MM_K_TS || key == MM_EK_KIND) {
            if (mm_rd_uint (&rd, &v, &err, "value") == -1)
                return -1;
            if (key == MM_K_TS)
                *ts = v;
            else
                *kind = v > 255 ? 0 : (uint8_t) v;
        }
        else if (mm_rd_skip (&rd, 8, &err, "value") == -1)
            return -1;
    }
    return 0;
}

int
mm_event_peek_sensor (const uint8_t *data, size_t len, mm_str_t *sensor, uint8_t *kind)
{
    mm_rd_t rd;
    mm_rd_init (&rd, data, len);
    mm_error_t err;
    uint32_t n;
    *sensor = (mm_str_t){"", 0};
    *kind = 0;
    if (mm_rd_map (&rd, &n, &err, "event") == -1)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        unsigned key;
        if (mm_rd_key (&rd, &key, &err, "key") == -1)
            return -1;
        if (key == MM_K_SENSOR) {
            const char *ptr;
            uint32_t slen;
            if (mm_rd_str (&rd, &ptr, &slen, &err, "sensor") == -1)
                return -1;
            *sensor = (mm_str_t){ptr, slen};
        }
        else if (key == MM_EK_KIND) {
            uint64_t v;
            if (mm_rd_uint (&rd, &v, &err, "kind") == -1)
                return -1;
            *kind = v > 255 ? 0 : (uint8_t) v;
        }
        else if (mm_rd_skip (&rd, 8, &err, "value") == -1)
            return -1;
    }
    return 0;
}
