/*  mm_proto: header peeking, string helpers and enumeration names (see mm_proto.h). */
#include "mm_proto.h"

#include <string.h>

#include "mm_wire.h"

mm_str_t
mm_str (const char *cstr)
{
    mm_str_t s = {cstr, cstr ? (uint32_t) strnlen (cstr, UINT32_MAX) : 0};
    return s;
}

bool
mm_str_eq (mm_str_t s, const char *cstr)
{
    size_t n = strlen (cstr);
    return s.len == n && (n == 0 || memcmp (s.ptr, cstr, n) == 0);
}

int
mm_msg_peek (const uint8_t *data, size_t len, mm_msg_type_t *type, mm_error_t *err)
{
    if (err)
        err->code = MM_OK;
    if (len > MM_MSG_MAX)
        return mm_error_set (err, MM_ERR_TOO_BIG, 0, NULL,
                             "message of %zu bytes exceeds the limit of %d", len, MM_MSG_MAX);
    mm_rd_t rd;
    mm_rd_init (&rd, data, len);
    uint32_t n;
    if (mm_rd_map (&rd, &n, err, "message") == -1)
        return -1;
    uint64_t seen[2] = {0, 0};
    uint64_t version = 0, msg_type = 0;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *key_at = rd.p;
        unsigned key;
        if (mm_rd_key (&rd, &key, err, "message") == -1)
            return -1;
        if ((seen[key >> 6] >> (key & 63)) & 1)
            return mm_error_set (err, MM_ERR_DUPLICATE, (size_t) (key_at - data), "message",
                                 "key %u appears twice", key);
        seen[key >> 6] |= 1ULL << (key & 63);
        int rc;
        if (key == MM_K_VERSION)
            rc = mm_rd_uint (&rd, &version, err, "message.v");
        else if (key == MM_K_TYPE)
            rc = mm_rd_uint (&rd, &msg_type, err, "message.type");
        else
            rc = mm_rd_skip (&rd, MM_DEPTH_MAX - 1, err, "message");
        if (rc == -1)
            return -1;
    }
    if (rd.p != rd.end)
        return mm_error_set (err, MM_ERR_TRAILING, mm_rd_offset (&rd), NULL,
                             "%zu bytes follow the end of the message", (size_t) (rd.end - rd.p));
    if (!(seen[0] & (1u << MM_K_VERSION)))
        return mm_error_set (err, MM_ERR_MISSING, 0, "message", "required key 0 (v) is absent");
    if (version != MM_PROTO_VERSION)
        return mm_error_set (err, MM_ERR_VERSION, 0, "message",
                             "schema version %llu; this decoder knows version %d",
                             (unsigned long long) version, MM_PROTO_VERSION);
    if (!(seen[0] & (1u << MM_K_TYPE)))
        return mm_error_set (err, MM_ERR_MISSING, 0, "message", "required key 1 (type) is absent");
    if (msg_type < MM_MSG_EVENT || msg_type > MM_MSG_TYPE_MAX)
        return mm_error_set (err, MM_ERR_MSG_TYPE, 0, "message", "unknown message type %llu",
                             (unsigned long long) msg_type);
    *type = (mm_msg_type_t) msg_type;
    return 0;
}

//  Enumeration names. Arrays indexed by value; gaps are NULL.
#define S_NAME_FN(fn, table)                                                                       \
    const char *fn (unsigned v)                                                                    \
    {                                                                                              \
        return v < sizeof table / sizeof table[0] ? table[v] : NULL;                               \
    }

static const char *s_msg_types[] = {NULL,      "event",     "heartbeat", "ack",
                                    "warning", "watchlist", "incident",  "health"};
static const char *s_kinds[] = {
    [MM_KIND_FLOW] = "flow", [MM_KIND_DNS] = "dns",        [MM_KIND_TLS] = "tls",
    [MM_KIND_HTTP] = "http", [MM_KIND_SSH] = "ssh",        [MM_KIND_SMB] = "smb",
    [MM_KIND_KRB] = "krb5",  [MM_KIND_FINDING] = "finding"};
static const char *s_sevs[] = {"unknown", "informational", "low",  "medium",
                               "high",    "critical",      "fatal"};
static const char *s_dirs[] = {"unknown", "inbound", "outbound", "internal", "external"};
static const char *s_states[] = {NULL,   "S0",   "S1",     "SF",    "REJ", "S2",  "S3",
                                 "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH",  "SHR", "OTH"};
static const char *s_categories[] = {NULL,           "scan",      "brute_force", "exposed_service",
                                     "ioc_match",    "c2_beacon", "dns_tunnel",  "lateral_movement",
                                     "exfiltration", "exploit",   "policy",      "malware",
                                     "sensor"};
static const char *s_ioc_types[] = {NULL,  "ip",  "cidr",      "domain", "url",
                                    "ja3", "ja4", "cert_sha1", "sha256"};
static const char *s_wstatus[] = {NULL, "active", "updated", "revoked"};
static const char *s_matches[] = {NULL, "exact", "subdomains", "registered_domain", "prefix"};
static const char *s_relations[] = {NULL,         "direct_supplier",      "direct_customer",
                                    "same_chain", "same_region_industry", "undisclosed"};
static const char *s_tlps[] = {NULL,        "TLP:CLEAR",        "TLP:GREEN",
                               "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"};
static const char *s_actions[] = {NULL,    "block",  "monitor", "hunt", "reset_credentials",
                                  "patch", "isolate"};
static const char *s_wl_ops[] = {NULL, "add", "revoke"};
static const char *s_inc_kinds[] = {NULL, "finding", "quarantine"};
static const char *s_health_states[] = {NULL, "ok", "quiet", "silent", "unheard"};

S_NAME_FN (mm_msg_type_name, s_msg_types)
S_NAME_FN (mm_kind_name, s_kinds)
S_NAME_FN (mm_sev_name, s_sevs)
S_NAME_FN (mm_dir_name, s_dirs)
S_NAME_FN (mm_state_name, s_states)
S_NAME_FN (mm_category_name, s_categories)
S_NAME_FN (mm_ioc_type_name, s_ioc_types)
S_NAME_FN (mm_wstatus_name, s_wstatus)
S_NAME_FN (mm_match_name, s_matches)
S_NAME_FN (mm_relation_name, s_relations)
S_NAME_FN (mm_tlp_name, s_tlps)
S_NAME_FN (mm_action_name, s_actions)
S_NAME_FN (mm_wl_op_name, s_wl_ops)
S_NAME_FN (mm_inc_kind_name, s_inc_kinds)
S_NAME_FN (mm_health_state_name, s_health_states)

void
mm_index_put (uint8_t out[MM_INDEX_LEN], uint64_t index)
{
    for (int i = 0; i < MM_INDEX_LEN; i++)
        out[i] = (uint8_t) (index >> (56 - 8 * i));
}

bool
mm_index_is (const uint8_t *data, size_t len)
{
    return len > 0 && data[0] == 0;
}

int
mm_index_split (const uint8_t *data, size_t len, uint64_t *index, const uint8_t **msg,
                size_t *msg_len)
{
    if (len <= MM_INDEX_LEN)
        return -1;
    uint64_t v = 0;
    for (int i = 0; i < MM_INDEX_LEN; i++)
        v = (v << 8) | data[i];
    if (v == 0 || v > MM_INDEX_MAX)
        return -1;
    *index = v;
    *msg = data + MM_INDEX_LEN;
    *msg_len = len - MM_INDEX_LEN;
    return 0;
}
