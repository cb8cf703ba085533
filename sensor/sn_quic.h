/*  sn_quic: the TLS ClientHello of a QUIC connection (SNI, ALPN, JA3, JA4 with the "q" prefix),
    decrypted from the client's Initial packets (QUIC v1, v2 and drafts 23 to 34). Fed the
    client-to-server UDP datagrams of one flow; buffers at most SN_QUIC_CRYPTO_MAX bytes of CRYPTO
    data, allocated on the first Initial and freed as soon as the ClientHello is parsed.
    Owner: sensor. */
#ifndef SN_QUIC_H
#define SN_QUIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sn_tls.h"

#define SN_QUIC_CRYPTO_MAX 8192  //  largest ClientHello reassembled from CRYPTO frames
#define SN_QUIC_PACKET_MAX 4096  //  larger Initial packets are skipped (clients send ~1200-1500)
#define SN_QUIC_DGRAMS_MAX 16    //  datagrams fed without a complete ClientHello: give up

typedef struct sn_quic sn_quic_t;

sn_quic_t *sn_quic_new (void);
void sn_quic_destroy (sn_quic_t **self_p);

//  Cheap check, no decryption: `data` starts with a long-header Initial packet of a version
//  this parser knows. The sensor creates a parser for a flow on the first such datagram.
bool sn_quic_is_initial (const uint8_t *data, size_t len);

//  One client-to-server UDP datagram. Returns 1 when the ClientHello is complete: `info` is
//  then filled (zeroed first) and nothing more is needed; 0 when more datagrams are wanted
//  (datagrams that are not Initials, or do not authenticate, are skipped); -1 when the parser
//  gives up (malformed CRYPTO data, ClientHello too large, SN_QUIC_DGRAMS_MAX reached, or
//  called again after 1 or -1).
int sn_quic_feed (sn_quic_t *self, const uint8_t *data, size_t len, sn_tls_info_t *info);

//  The version of the first Initial (e.g. 0x00000001), 0 before one was decrypted.
uint32_t sn_quic_version (const sn_quic_t *self);

#endif
