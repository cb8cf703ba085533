/*  mm_proto: the Mimamori wire format, common part.
    Every message is one ZeroMQ frame holding one MessagePack map with integer keys 0..127.
    Keys 0..5 are the same in every message (the header); the rest depend on the message type.
    docs/protocol.md is the specification; the schema tables in the .c files are its source.

    Decoded messages BORROW from the input: every mm_str_t points into the bytes that were
    decoded, so keep those bytes alive while you use the message (the decoders never allocate). */
#ifndef MM_PROTO_H
#define MM_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm_buf.h"
#include "mm_error.h"

#define MM_PROTO_VERSION 1

//  Limits. Every length on the wire is bounded by one of these; the decoder rejects more.
#define MM_MSG_MAX 65536  //  bytes in one message (also the sockets' ZMQ_MAXMSGSIZE)
#define MM_DEPTH_MAX 8    //  nesting of maps/arrays, counting the message map as 1
#define MM_ID_MAX 64      //  sensor/org/warning ids, feed names, Community ID, JA4, ALPN
#define MM_NAME_MAX 255   //  DNS names, hosts, SNI, SMB share, SSH banners, content type
#define MM_TEXT_MAX 512   //  user agent, certificate names, finding messages
#define MM_LONG_MAX 2048  //  URIs, file paths, indicator values, advice text
#define MM_SHORT_MAX 32   //  app protocol, HTTP method, ATT&CK ids, software versions
#define MM_DNS_ANSWERS_MAX 32
#define MM_ALPN_MAX 8
#define MM_ATTACK_MAX 8
#define MM_VLAN_MAX 2         //  outer and inner (QinQ)
#define MM_WATCHLIST_MAX 256  //  entries in one WATCHLIST message; senders split bigger lists

//  A borrowed string: not NUL-terminated, may hold any bytes (packet text is not always UTF-8).
//  len == 0 means absent; the protocol does not distinguish "" from absent.
typedef struct {
    const char *ptr;
    uint32_t len;
} mm_str_t;

//  Makes a borrowed string from a C string (NULL gives the absent string).
mm_str_t mm_str (const char *cstr);
//  True if `s` holds exactly the C string `cstr`.
bool mm_str_eq (mm_str_t s, const char *cstr);

//  An IPv4 (len 4) or IPv6 (len 16) address in network byte order; len 0 means absent.
typedef struct {
    uint8_t len;
    uint8_t b[16];
} mm_addr_t;

typedef enum {
    MM_MSG_EVENT = 1,
    MM_MSG_HEARTBEAT = 2,
    MM_MSG_ACK = 3,
    MM_MSG_WARNING = 4,
    MM_MSG_WATCHLIST = 5,
    MM_MSG_INCIDENT = 6,
    MM_MSG_HEALTH = 7,
} mm_msg_type_t;
//  The highest type this version knows; mm_msg_peek refuses anything above it.
#define MM_MSG_TYPE_MAX MM_MSG_HEALTH

//  Header keys, shared by every message type.
enum {
    MM_K_VERSION = 0,
    MM_K_TYPE = 1,
    MM_K_TS = 2,
    MM_K_SENSOR = 3,
    MM_K_ORG = 4,
    MM_K_SEQ = 5,
};

//  Indexed frames. Where a hop needs its own reliable numbering (broker -> aggregator events,
//  aggregator -> broker and broker -> sensor down messages), a message travels behind an
//  8-byte big-endian index: u64 index | message. An index is never 0 and always below 2^56,
//  so an indexed frame starts with a 0x00 byte, and a bare message (a MessagePack map,
//  0x80..0x8f or 0xde/0xdf) never does: a receiver tells the two apart by the first byte.
#define MM_INDEX_LEN 8
#define MM_INDEX_MAX ((UINT64_C (1) << 56) - 1)

//  Writes `index` big-endian into out[0..7].
void mm_index_put (uint8_t out[MM_INDEX_LEN], uint64_t index);
//  True if the frame starts like an indexed frame (first byte 0x00), whatever follows.
bool mm_index_is (const uint8_t *data, size_t len);
//  Splits an indexed frame: 0 with *index (1..MM_INDEX_MAX) and the message behind it, or -1
//  if the frame is too short, the index is 0 or too big, or nothing follows it.
int mm_index_split (const uint8_t *data, size_t len, uint64_t *index, const uint8_t **msg,
                    size_t *msg_len);

//  Reads the version and type of a message without decoding the rest (bounded, no allocation).
//  Returns 0 and sets *type, or -1 with `err` filled. Validates the whole message's framing
//  (it must be one well-formed map with nothing after it) but not its fields.
int mm_msg_peek (const uint8_t *data, size_t len, mm_msg_type_t *type, mm_error_t *err);

//  Enumerations and their names (the names are what JSON shows; unknown values show as numbers).

typedef enum {
    MM_KIND_FLOW = 1,
    MM_KIND_DNS = 2,
    MM_KIND_TLS = 3,
    MM_KIND_HTTP = 4,
    MM_KIND_SSH = 5,
    MM_KIND_SMB = 6,
    MM_KIND_KRB = 7,
    MM_KIND_FINDING = 16,
} mm_kind_t;

//  OCSF severity_id scale.
typedef enum {
    MM_SEV_UNKNOWN = 0,
    MM_SEV_INFO = 1,
    MM_SEV_LOW = 2,
    MM_SEV_MEDIUM = 3,
    MM_SEV_HIGH = 4,
    MM_SEV_CRITICAL = 5,
    MM_SEV_FATAL = 6,
} mm_sev_t;

//  Relative to the sensor's configured home networks.
typedef enum {
    MM_DIR_UNKNOWN = 0,
    MM_DIR_INBOUND = 1,
    MM_DIR_OUTBOUND = 2,
    MM_DIR_INTERNAL = 3,
    MM_DIR_EXTERNAL = 4,
} mm_dir_t;

//  Zeek conn.log conn_state values.
typedef enum {
    MM_STATE_NONE = 0,
    MM_STATE_S0,
    MM_STATE_S1,
    MM_STATE_SF,
    MM_STATE_REJ,
    MM_STATE_S2,
    MM_STATE_S3,
    MM_STATE_RSTO,
    MM_STATE_RSTR,
    MM_STATE_RSTOS0,
    MM_STATE_RSTRH,
    MM_STATE_SH,
    MM_STATE_SHR,
    MM_STATE_OTH,
} mm_state_t;

//  What a finding is about.
typedef enum {
    MM_CAT_NONE = 0,
    MM_CAT_SCAN = 1,
    MM_CAT_BRUTE_FORCE = 2,
    MM_CAT_EXPOSED_SERVICE = 3,
    MM_CAT_IOC_MATCH = 4,
    MM_CAT_C2_BEACON = 5,
    MM_CAT_DNS_TUNNEL = 6,
    MM_CAT_LATERAL_MOVEMENT = 7,
    MM_CAT_EXFILTRATION = 8,
    MM_CAT_EXPLOIT = 9,
    MM_CAT_POLICY = 10,
    MM_CAT_MALWARE = 11,
    MM_CAT_SENSOR = 12,  //  about the sensor itself (capture drops, spool overflow)
} mm_category_t;

typedef enum {
    MM_IOC_NONE = 0,
    MM_IOC_IP = 1,
    MM_IOC_CIDR = 2,
    MM_IOC_DOMAIN = 3,
    MM_IOC_URL = 4,
    MM_IOC_JA3 = 5,
    MM_IOC_JA4 = 6,
    MM_IOC_CERT_SHA1 = 7,
    MM_IOC_SHA256 = 8,
} mm_ioc_type_t;

typedef enum {
    MM_WSTATUS_ACTIVE = 1,
    MM_WSTATUS_UPDATED = 2,
    MM_WSTATUS_REVOKED = 3,
} mm_wstatus_t;

typedef enum {
    MM_MATCH_EXACT = 1,
    MM_MATCH_SUBDOMAINS = 2,         //  the domain and all names under it
    MM_MATCH_REGISTERED_DOMAIN = 3,  //  anything under the same registered domain
    MM_MATCH_PREFIX = 4,             //  an address prefix (CIDR, /24, /48 grouping)
} mm_match_t;

//  How the recipient relates to where the threat was seen; never who it was.
typedef enum {
    MM_REL_DIRECT_SUPPLIER = 1,
    MM_REL_DIRECT_CUSTOMER = 2,
    MM_REL_SAME_CHAIN = 3,
    MM_REL_SAME_REGION_INDUSTRY = 4,
    MM_REL_UNDISCLOSED = 5,
} mm_relation_t;

typedef enum {
    MM_TLP_CLEAR = 1,
    MM_TLP_GREEN = 2,
    MM_TLP_AMBER = 3,
    MM_TLP_AMBER_STRICT = 4,
    MM_TLP_RED = 5,
} mm_tlp_t;

typedef enum {
    MM_ACTION_BLOCK = 1,
    MM_ACTION_MONITOR = 2,
    MM_ACTION_HUNT = 3,
    MM_ACTION_RESET_CREDENTIALS = 4,
    MM_ACTION_PATCH = 5,
    MM_ACTION_ISOLATE = 6,
} mm_action_t;

typedef enum {
    MM_WL_ADD = 1,
    MM_WL_REVOKE = 2,
} mm_wl_op_t;

//  What an INCIDENT is about.
typedef enum {
    MM_INC_FINDING = 1,     //  a severe finding
    MM_INC_QUARANTINE = 2,  //  a sensor quarantined for flooding indicators
} mm_inc_kind_t;

//  A sensor's health, as the aggregator reports it to consoles (HEALTH).
typedef enum {
    MM_HEALTH_OK = 1,       //  its events arrive
    MM_HEALTH_QUIET = 2,    //  no event for a while, but its broker has not called it silent
    MM_HEALTH_SILENT = 3,   //  its broker has had no heartbeat from it for 3 intervals
    MM_HEALTH_UNHEARD = 4,  //  registered, and nothing of it since the aggregator started
} mm_health_state_t;

//  Name of an enumeration value, or NULL if the value has no name (yet).
const char *mm_msg_type_name (unsigned v);
const char *mm_kind_name (unsigned v);
const char *mm_sev_name (unsigned v);
const char *mm_dir_name (unsigned v);
const char *mm_state_name (unsigned v);
const char *mm_category_name (unsigned v);
const char *mm_ioc_type_name (unsigned v);
const char *mm_wstatus_name (unsigned v);
const char *mm_match_name (unsigned v);
const char *mm_relation_name (unsigned v);
const char *mm_tlp_name (unsigned v);
const char *mm_action_name (unsigned v);
const char *mm_wl_op_name (unsigned v);
const char *mm_inc_kind_name (unsigned v);
const char *mm_health_state_name (unsigned v);

#endif
