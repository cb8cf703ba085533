/*  sn_tls: TLS metadata from one TCP connection: the ClientHello (SNI, highest version offered,
    ALPN, JA3, JA4), the ServerHello (JA3S) and, for TLS 1.2 and older where it is visible, the
    server certificate (SHA-1, subject, issuer). Fed the in-order TCP payload of each direction;
    buffers at most SN_TLS_BUF_MAX bytes per direction and frees them once it has what it needs.
    Owner: sensor. */
#ifndef SN_TLS_H
#define SN_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm_event.h"

#define SN_TLS_BUF_MAX 32768  //  largest handshake message reassembled (certificate chains)

//  sni and alpn hold printable ASCII (other bytes become '?'), cut to their array size.
//  subject and issuer are X509_NAME_print_ex text with XN_FLAG_RFC2253 minus ASN1_STRFLGS_ESC_MSB
//  plus ASN1_STRFLGS_UTF8_CONVERT: RFC 2253 order and escaping ("CN=a,O=b\\, Inc.,C=US") in
//  UTF-8, cut to MM_TEXT_MAX bytes at a character boundary, control bytes as '?'.
typedef struct {
    bool client_hello;  //  which parts were seen
    bool server_hello;
    bool certificate;
    uint16_t version;  //  highest offered (supported_versions if present)
    uint16_t sni_len;
    char sni[256];
    uint32_t n_alpn;
    char alpn[MM_ALPN_MAX][MM_ID_MAX + 1];
    uint8_t ja3[16];  //  MD5 of the JA3 string (GREASE values removed)
    char ja4[40];     //  e.g. "t13d1516h2_8daaf6152771_02713d6af862"
    uint8_t ja3s[16];
    uint8_t cert_sha1[20];  //  of the first (leaf) certificate
    char subject[MM_TEXT_MAX + 1];
    char issuer[MM_TEXT_MAX + 1];
} sn_tls_info_t;

typedef struct sn_tls sn_tls_t;

//  `quic` is reserved for QUIC Initial parsing (JA4 "q" prefix); false for TCP.
sn_tls_t *sn_tls_new (void);
void sn_tls_destroy (sn_tls_t **self_p);

//  In-order payload bytes of one direction (0: client to server, 1: server to client).
//  Returns 0, or -1 once the stream is clearly not TLS or is malformed (then stop feeding).
int sn_tls_feed (sn_tls_t *self, int dir, const uint8_t *data, size_t len);

//  True when nothing more is expected (certificate seen, or the handshake went encrypted).
bool sn_tls_done (const sn_tls_t *self);

const sn_tls_info_t *sn_tls_info (const sn_tls_t *self);

//  Fills `tls` (and its has-bits) from what was seen; strings borrow from `info`.
void sn_tls_to_event (const sn_tls_info_t *info, mm_tls_t *tls);

//  Parses one ClientHello handshake message body (after the 4-byte handshake header) into
//  `info` (SNI, version, ALPN, JA3, JA4). For tests and for QUIC, which carries the same
//  message outside TLS records. 0 or -1.
int sn_tls_parse_client_hello (const uint8_t *body, size_t len, bool quic, sn_tls_info_t *info);

#endif
