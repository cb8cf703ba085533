/*  sn_krb: parses one Kerberos 5 message (a UDP payload, or one TCP record without its 4-byte
    length) into message type, client and service principal, realm, ticket encryption type and
    error code: what a SOC needs to see kerberoasting (RC4, etype 23, service tickets) and
    password spraying (KDC_ERR_PREAUTH_FAILED). Pure function, no allocation, no recursion: a
    small DER reader walks the fixed shape of RFC 4120's messages. Owner: sensor.

    Messages: AS-REQ (10), AS-REP (11), TGS-REQ (12), TGS-REP (13), KRB-ERROR (30); anything
    else (AP-REQ, KRB-PRIV, ...) is refused. pvno must be 5 and the inner msg-type must equal
    the APPLICATION tag. DER only: indefinite lengths, lengths over 4 bytes and high tag
    numbers are refused; every length is checked against its parent's.

    Fields, as Suricata's EVE krb5 record and Zeek's kerberos.log show them:
    - requests: cname and realm from KDC-REQ-BODY (cname is absent from most TGS-REQs), sname
      from KDC-REQ-BODY. No etype is reported for a request (Suricata's EVE shows "<none>": a
      request only lists what the client accepts, the KDC picks); the list itself is kept in
      `etypes` (first SN_KRB_ETYPES_MAX, client's order of preference) for detectors, e.g. a
      request offering RC4 only.
    - replies: cname and crealm of the KDC-REP, sname of the ticket, and as `etype` the
      ticket's enc-part etype: the key of the service account, what a kerberoaster cracks
      (Suricata's "ticket_encryption", Zeek's "cipher"). Suricata's "encryption" is the
      reply's own enc-part etype (the session key's); it is kept in `session_etype`.
    - KRB-ERROR: error-code, cname, crealm (the server realm if crealm is absent), sname.
    Principal names are their name-string components joined by '/' ("krbtgt/CORP.LOCAL");
    at most SN_KRB_COMPONENTS_MAX components are read. Text is shown as sn_dns shows names:
    bytes 0x20..0x7e as they are except '\\' (\x5c), every other byte as \xNN; text that
    would pass SN_KRB_NAME_MAX is cut there (at a character boundary) and `cut` says so.

    sn_krb_parse_partial reads the first bytes of a longer message (a TCP record whose tail
    is in later segments): the fields wholly inside those bytes are filled, the rest stay
    unset. The ticket's sname and etype come before its cipher text, so a TGS-REP's first
    segment is enough to see an RC4 service ticket. */
#ifndef SN_KRB_H
#define SN_KRB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm_event.h"

#define SN_KRB_NAME_MAX 255       //  text of a principal or realm, without the NUL
#define SN_KRB_ETYPES_MAX 16      //  request etypes kept
#define SN_KRB_COMPONENTS_MAX 16  //  name-string components read
#define SN_KRB_RECORD_MAX 65535   //  largest TCP record we look at (Suricata caps at 16384)

typedef struct {
    uint8_t msg_type;  //  10, 11, 12, 13 or 30
    bool partial;      //  parsed from a prefix: fields after the cut are unset
    bool cut;          //  some text was cut at SN_KRB_NAME_MAX
    uint16_t cname_len, realm_len, sname_len;
    char cname[SN_KRB_NAME_MAX + 1];  //  NUL-terminated; "" when absent
    char realm[SN_KRB_NAME_MAX + 1];
    char sname[SN_KRB_NAME_MAX + 1];
    bool has_etype;  //  replies: the ticket's encryption type
    int32_t etype;
    bool has_session_etype;  //  replies: the reply enc-part's encryption type
    int32_t session_etype;
    uint8_t n_etypes;  //  requests: etypes kept (of n_etypes_declared)
    uint16_t n_etypes_declared;
    int32_t etypes[SN_KRB_ETYPES_MAX];
    bool has_error;  //  KRB-ERROR
    uint32_t error_code;
} sn_krb_msg_t;

//  0, or -1 if the bytes are not one well-formed Kerberos message of a type we read.
//  Bytes after the message are ignored.
int sn_krb_parse (const uint8_t *data, size_t len, sn_krb_msg_t *out);

//  As sn_krb_parse, but `data` may be the first `len` bytes of a longer message: 0 when the
//  message type is known (msg_type set, `partial` set if the message runs past `len`), -1 if
//  what is there is not Kerberos.
int sn_krb_parse_partial (const uint8_t *data, size_t len, sn_krb_msg_t *out);

//  Fills `krb` (and its has-bits) from `msg`; strings borrow from `msg`. An etype outside
//  0..65535 (negative ones are private use) leaves MM_KRB_HAS_ETYPE unset.
void sn_krb_to_event (const sn_krb_msg_t *msg, mm_krb_t *krb);

#endif
