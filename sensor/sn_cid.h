/*  sn_cid: Community ID v1 (https://github.com/corelight/community-id-spec), the flow hash that
    joins Mimamori's events with Suricata's and Zeek's. Owner: sensor. */
#ifndef SN_CID_H
#define SN_CID_H

#include <stdbool.h>
#include <stdint.h>

#include "mm_proto.h"

#define SN_CID_LEN 30  //  "1:" + base64 of a 20-byte SHA-1

//  Computes the Community ID of a flow seen from `src` to `dst`. For TCP, UDP and SCTP the
//  ports are used; for ICMP and ICMPv6 pass the type as `sport` and the code as `dport`; other
//  protocols ignore the ports. Writes SN_CID_LEN characters and a NUL to `out`. 0 or -1.
int sn_cid (uint16_t seed, const mm_addr_t *src, const mm_addr_t *dst, uint8_t proto,
            uint16_t sport, uint16_t dport, char out[SN_CID_LEN + 1]);

#endif
