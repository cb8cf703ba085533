/*  mm_event: EVENT, the normalized security event every sensor produces.
    A plain value struct rather than an opaque object: the sensor fills one per flow or record
    on its packet path, so it must cost no allocation, and decoders fill caller storage.
    Strings are borrowed (see mm_proto.h). `has` masks say which optional fields are present
    where zero is a meaningful value (port 0, DNS rcode 0, SMB command 0). */
#ifndef MM_EVENT_H
#define MM_EVENT_H

#include "mm_proto.h"

//  Keys of the EVENT map (header keys 0..5 are in mm_proto.h).
enum {
    MM_EK_KIND = 10,
    MM_EK_SEV = 11,
    MM_EK_CONF = 12,
    MM_EK_PROTO = 20,
    MM_EK_SRC = 21,
    MM_EK_SPORT = 22,
    MM_EK_DST = 23,
    MM_EK_DPORT = 24,
    MM_EK_DIR = 25,
    MM_EK_COMMUNITY_ID = 26,
    MM_EK_FLOW_ID = 27,
    MM_EK_VLAN = 28,
    MM_EK_APP = 29,
    MM_EK_PKTS_ORIG = 30,
    MM_EK_PKTS_RESP = 31,
    MM_EK_BYTES_ORIG = 32,
    MM_EK_BYTES_RESP = 33,
    MM_EK_DURATION = 34,
    MM_EK_STATE = 35,
    MM_EK_TCP_FLAGS_ORIG = 36,
    MM_EK_TCP_FLAGS_RESP = 37,
    MM_EK_DNS = 40,
    MM_EK_TLS = 41,
    MM_EK_HTTP = 42,
    MM_EK_SSH = 43,
    MM_EK_SMB = 44,
    MM_EK_KRB = 45,
    MM_EK_FINDING = 50,
};

typedef struct {
    uint16_t type;   //  RR type (1 A, 5 CNAME, 28 AAAA, ...)
    mm_str_t value;  //  address as text, or the target name
    uint32_t ttl;
} mm_dns_answer_t;

#define MM_DNS_HAS_QTYPE (1u << 0)
#define MM_DNS_HAS_RCODE (1u << 1)  //  set for responses; rcode 0 is NOERROR
typedef struct {
    uint32_t has;
    mm_str_t qname;
    uint16_t qtype;
    uint16_t rcode;
    uint32_t n_answers;
    mm_dns_answer_t answers[MM_DNS_ANSWERS_MAX];
} mm_dns_t;

#define MM_TLS_HAS_JA3 (1u << 0)
#define MM_TLS_HAS_CERT_SHA1 (1u << 1)
#define MM_TLS_HAS_JA3S (1u << 2)
typedef struct {
    uint32_t has;
    mm_str_t sni;
    uint16_t version;  //  highest offered (ClientHello), e.g. 0x0304 for TLS 1.3
    uint32_t n_alpn;
    mm_str_t alpn[MM_ALPN_MAX];
    uint8_t ja3[16];  //  MD5 of the JA3 string
    mm_str_t ja4;
    uint8_t cert_sha1[20];
    mm_str_t subject;
    mm_str_t issuer;
    uint8_t ja3s[16];  //  MD5 of the JA3S string (ServerHello)
} mm_tls_t;

typedef struct {
    mm_str_t method;
    mm_str_t host;
    mm_str_t uri;
    mm_str_t user_agent;
    uint16_t status;
    mm_str_t content_type;
    uint64_t request_len;  //  body bytes
    uint64_t response_len;
} mm_http_t;

#define MM_SSH_HAS_HASSH (1u << 0)
#define MM_SSH_HAS_HASSH_SERVER (1u << 1)
typedef struct {
    uint32_t has;
    mm_str_t client;  //  banner, e.g. "SSH-2.0-OpenSSH_9.2p1"
    mm_str_t server;
    uint8_t hassh[16];
    uint8_t hassh_server[16];
} mm_ssh_t;

#define MM_SMB_HAS_COMMAND (1u << 0)  //  command 0 is NEGOTIATE
#define MM_SMB_HAS_STATUS (1u << 1)   //  status 0 is STATUS_SUCCESS
#define MM_SMB_HAS_ACCESS (1u << 2)
#define MM_SMB_HAS_DISPOSITION (1u << 3)  //  disposition 0 is FILE_SUPERSEDE
typedef struct {
    uint32_t has;
    uint16_t command;  //  SMB2 command code (3 TREE_CONNECT, 5 CREATE, ...)
    mm_str_t share;    //  e.g. "\\\\host\\ADMIN$"
    mm_str_t file;
    uint32_t status;       //  NT status
    uint32_t access;       //  CREATE: DesiredAccess mask (FILE_WRITE_DATA 0x2, GENERIC_WRITE...)
    uint32_t disposition;  //  CREATE: CreateDisposition (1 FILE_OPEN, 2 FILE_CREATE, ...)
} mm_smb_t;

#define MM_KRB_HAS_ETYPE (1u << 0)
#define MM_KRB_HAS_ERROR (1u << 1)  //  error code 0 is KDC_ERR_NONE
typedef struct {
    uint32_t has;
    uint8_t msg_type;  //  10 AS-REQ, 11 AS-REP, 12 TGS-REQ, 13 TGS-REP, 30 KRB-ERROR
    mm_str_t cname;    //  client principal
    mm_str_t realm;
    mm_str_t sname;       //  service principal, e.g. "MSSQLSvc/db1.corp.local:1433"
    uint16_t etype;       //  ticket encryption type (23 = RC4-HMAC: weak, kerberoasting)
    uint32_t error_code;  //  KRB-ERROR
} mm_krb_t;

typedef struct {
    uint8_t type;  //  mm_ioc_type_t
    mm_str_t value;
    mm_str_t feed;
} mm_ioc_t;

typedef struct {
    uint64_t count;  //  occurrences folded into this finding
    uint32_t distinct_ports;
    uint32_t distinct_hosts;
    uint32_t window_s;
    uint32_t period_ms;  //  beacon period
    uint32_t jitter_ms;  //  beacon jitter (spread of intervals)
    uint64_t bytes;
    uint64_t first_ts;  //  ns since the epoch
    uint64_t last_ts;
} mm_evidence_t;

#define MM_FINDING_HAS_IOC (1u << 0)
#define MM_FINDING_HAS_EVIDENCE (1u << 1)
#define MM_FINDING_HAS_ACTION (1u << 2)
//  A finding is raised once per suppression window and later events revise it: (sensor, id)
//  names it, `revision` counts its updates (0 first), and the newest revision's evidence holds.
typedef struct {
    uint32_t has;
    uint64_t id;        //  sensor-local finding id (the seq of the event that raised it)
    uint32_t revision;  //  0 when raised, +1 per update
    mm_str_t detector;  //  e.g. "scan.port"
    uint16_t detector_version;
    uint8_t category;  //  mm_category_t
    uint32_t n_attack;
    mm_str_t attack[MM_ATTACK_MAX];  //  ATT&CK technique ids, e.g. "T1046"
    mm_str_t message;
    mm_ioc_t ioc;
    mm_evidence_t evidence;
    uint8_t action;  //  mm_action_t the sensor took itself (MM_ACTION_BLOCK)
} mm_finding_t;

//  One has-bit per field whose zero is meaningful, so a decoder never invents a value that
//  was not sent; the group masks are for writers that set (or test) a whole group.
#define MM_EV_HAS_SPORT (1u << 0)
#define MM_EV_HAS_DPORT (1u << 1)
#define MM_EV_HAS_PKTS_ORIG (1u << 2)
#define MM_EV_HAS_PKTS_RESP (1u << 3)
#define MM_EV_HAS_BYTES_ORIG (1u << 4)
#define MM_EV_HAS_BYTES_RESP (1u << 5)
#define MM_EV_HAS_DURATION (1u << 6)
#define MM_EV_HAS_TCP_FLAGS_ORIG (1u << 7)
#define MM_EV_HAS_TCP_FLAGS_RESP (1u << 8)
#define MM_EV_HAS_DNS (1u << 9)
#define MM_EV_HAS_TLS (1u << 10)
#define MM_EV_HAS_HTTP (1u << 11)
#define MM_EV_HAS_SSH (1u << 12)
#define MM_EV_HAS_SMB (1u << 13)
#define MM_EV_HAS_FINDING (1u << 14)
#define MM_EV_HAS_KRB (1u << 15)
#define MM_EV_HAS_PORTS (MM_EV_HAS_SPORT | MM_EV_HAS_DPORT)
#define MM_EV_HAS_COUNTERS                                                                         \
    (MM_EV_HAS_PKTS_ORIG | MM_EV_HAS_PKTS_RESP | MM_EV_HAS_BYTES_ORIG | MM_EV_HAS_BYTES_RESP |     \
     MM_EV_HAS_DURATION)
#define MM_EV_HAS_TCP_FLAGS (MM_EV_HAS_TCP_FLAGS_ORIG | MM_EV_HAS_TCP_FLAGS_RESP)

typedef struct {
    uint32_t has;
    //  Envelope: (sensor, seq) is the event's identity and dedup key.
    uint64_t ts;  //  event time, ns since the Unix epoch (UTC)
    mm_str_t sensor;
    mm_str_t org;
    uint64_t seq;        //  per-sensor, starts at 1
    uint8_t kind;        //  mm_kind_t
    uint8_t severity;    //  mm_sev_t
    uint8_t confidence;  //  0..100
    //  Connection.
    uint8_t proto;  //  IP protocol number
    mm_addr_t src;  //  originator
    uint16_t sport;
    mm_addr_t dst;  //  responder
    uint16_t dport;
    uint8_t direction;      //  mm_dir_t
    mm_str_t community_id;  //  Community ID v1, "1:..."
    uint64_t flow_id;       //  sensor-local
    uint32_t n_vlan;
    uint16_t vlan[MM_VLAN_MAX];
    mm_str_t app;  //  application protocol, e.g. "dns", "tls"
    uint64_t pkts_orig;
    uint64_t pkts_resp;
    uint64_t bytes_orig;
    uint64_t bytes_resp;
    uint64_t duration_us;
    uint8_t state;           //  mm_state_t
    uint8_t tcp_flags_orig;  //  OR of TCP flags seen from each side
    uint8_t tcp_flags_resp;
    //  Per-protocol metadata and findings; each present when its has-bit is set.
    mm_dns_t dns;
    mm_tls_t tls;
    mm_http_t http;
    mm_ssh_t ssh;
    mm_smb_t smb;
    mm_krb_t krb;
    mm_finding_t finding;
} mm_event_t;

//  Appends the encoding of `ev` to `out`. 0, or -1 with `err` filled and `out` unchanged
//  (the encoder refuses anything the decoder would reject).
int mm_event_encode (const mm_event_t *ev, mm_buf_t *out, mm_error_t *err);

//  Decodes `data` into `ev`; strings in `ev` point into `data`. 0, or -1 with `err` filled.
int mm_event_decode (mm_event_t *ev, const uint8_t *data, size_t len, mm_error_t *err);

//  The time (key 2) and kind (key 10) of an EVENT, read without decoding the rest (stores and
//  filters that only sort events by kind and age). Absent keys give 0. 0, or -1 if the bytes
//  are not a MessagePack map of keys and values.
int mm_event_peek (const uint8_t *data, size_t len, uint64_t *ts, uint8_t *kind);

//  The sender (key 3, pointing into `data`) and kind of an EVENT, the same way (the
//  aggregator's per-sensor health on every stored event). An absent sensor is empty. It stops
//  at the second of the two keys: the rest of the event is not checked.
int mm_event_peek_sensor (const uint8_t *data, size_t len, mm_str_t *sensor, uint8_t *kind);

#endif
