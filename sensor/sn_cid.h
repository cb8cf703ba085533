/*  sn_cid: Community ID v1 (https://github.com/corelight/community-id-spec), the flow hash that
    joins Mimamori's events with Suricata's and Zeek's. Owner: sensor. */
#ifndef SN_CID_H
#define SN_CID_H

#include <stdbool.h>
#include <stdint.h>

#include "mm_proto.h"

#define SN_CID_LEN 30  //  "1:" + base64 of a 20-byte SHA-1

//  A Community ID calculator for one seed. It holds the SHA-1 implementation fetched once:
//  OpenSSL 3 otherwise looks the algorithm up (under a lock) on every digest.
typedef struct sn_cid sn_cid_t;

sn_cid_t *sn_cid_new (uint16_t seed);
void sn_cid_destroy (sn_cid_t **self_p);

//  Computes the Community ID of a flow seen from `src` to `dst`. For TCP, UDP and SCTP the
//  ports are used; for ICMP and ICMPv6 pass the type as `sport` and the code as `dport`; other
//  protocols ignore the ports. Writes SN_CID_LEN characters and a NUL to `out`. 0 or -1.
int sn_cid_compute (sn_cid_t *self, const mm_addr_t *src, const mm_addr_t *dst, uint8_t proto,
                    uint16_t sport, uint16_t dport, char out[SN_CID_LEN + 1]);

//  ICMP/ICMPv6 types that come in request/reply pairs (echo, timestamp, router and neighbour
//  discovery, ...): true and *other set to the counterpart type. Such exchanges are one
//  conversation; Community ID and the flow table both key them by (type, counterpart).
bool sn_cid_icmp_counterpart (uint8_t proto, uint16_t type, uint16_t *other);

//  One-off form of the same (tests, tools): makes and destroys a calculator.
int sn_cid (uint16_t seed, const mm_addr_t *src, const mm_addr_t *dst, uint8_t proto,
            uint16_t sport, uint16_t dport, char out[SN_CID_LEN + 1]);

#endif
