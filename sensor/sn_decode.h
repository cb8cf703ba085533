/*  sn_decode: from captured bytes to the fields the flow table and the parsers need. Link
    layers (Ethernet with 802.1Q/QinQ, MPLS, PPPoE; Linux cooked SLL and SLL2; raw IPv4/IPv6;
    BSD null/loop; PPP; Cisco HDLC), tunnels (GRE incl. transparent Ethernet and ERSPAN, VXLAN,
    IP-in-IP), IPv4 with options, IPv6 with extension headers, TCP, UDP, ICMP, ICMPv6, SCTP.
    Fragments are not reassembled: a first fragment is decoded (its transport header is there),
    later fragments are counted and dropped. Whatever cannot be decoded is counted by reason,
    never trusted. No allocation; the packet view borrows the captured bytes. Owner: sensor. */
#ifndef SN_DECODE_H
#define SN_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "mm_proto.h"

//  libpcap link-layer types we decode (LINKTYPE_* numbers as they appear in files).
#define SN_LINK_NULL 0
#define SN_LINK_ETHERNET 1
#define SN_LINK_PPP 9
#define SN_LINK_RAW_OLD 12  //  DLT_RAW on most systems
#define SN_LINK_RAW_BSD 14  //  DLT_RAW on some BSDs
#define SN_LINK_RAW 101
#define SN_LINK_CHDLC 104
#define SN_LINK_LOOP 108
#define SN_LINK_SLL 113
#define SN_LINK_IPV4 228
#define SN_LINK_IPV6 229
#define SN_LINK_SLL2 276

//  Why a packet gave no flow (index into sn_decode_stats_t.drops).
typedef enum {
    SN_DROP_TRUNCATED = 0,     //  a header is cut short by the capture
    SN_DROP_MALFORMED,         //  a header contradicts itself (lengths, versions)
    SN_DROP_UNSUPPORTED_LINK,  //  a link type we do not decode
    SN_DROP_NOT_IP,            //  ARP, LLDP, STP, IPX, ... (ARP is counted separately too)
    SN_DROP_FRAGMENT,          //  a non-first fragment (no transport header to key a flow)
    SN_DROP_TUNNEL_DEPTH,      //  tunnels nested deeper than SN_TUNNEL_MAX
    SN_DROP_ENCRYPTED,         //  ESP or PPTP payload
    SN_DROP_COUNT_
} sn_drop_t;

#define SN_TUNNEL_MAX 3

typedef struct {
    uint64_t packets;
    uint64_t ipv4, ipv6, tcp, udp, icmp, sctp, other_transport;
    uint64_t vlan, mpls, pppoe, tunnels, fragments_first, arp;
    uint64_t drops[SN_DROP_COUNT_];
} sn_decode_stats_t;

//  A decoded packet. For ICMP and ICMPv6, sport holds the type and dport the code.
typedef struct {
    uint8_t ip_version;  //  4 or 6
    uint8_t proto;       //  transport protocol
    mm_addr_t src, dst;
    uint16_t sport, dport;
    bool has_ports;  //  TCP, UDP, SCTP (and ICMP type/code)
    uint8_t tcp_flags;
    uint32_t tcp_seq, tcp_ack;
    uint32_t ip_len;            //  IP datagram length from its header (what Zeek counts)
    const uint8_t *payload;     //  transport payload as captured
    uint32_t payload_len;       //  captured bytes of it
    uint32_t payload_wire_len;  //  its length on the wire (from the IP/UDP lengths)
    bool fragment;              //  first fragment: payload incomplete
    uint8_t n_vlan;
    uint16_t vlan[MM_VLAN_MAX];
    uint8_t tunnel_depth;  //  how many tunnels were taken off
    uint8_t arp_sha[6];    //  SN_DECODE_ARP only
} sn_pkt_t;

//  SN_DECODE_ARP: an Ethernet/IPv4 ARP packet (no flow; counted as a NOT_IP drop and in arp):
//  src and dst hold the sender and target IPv4 addresses, sport the op, arp_sha the sender MAC.
typedef enum { SN_DECODE_OK = 0, SN_DECODE_DROP = -1, SN_DECODE_ARP = 1 } sn_decode_rc_t;

//  Decodes one captured frame of link type `link`. On SN_DECODE_OK `pkt` describes the (inner
//  most) IP packet; on SN_DECODE_DROP the reason was counted in `stats`.
sn_decode_rc_t sn_decode (int link, const uint8_t *data, uint32_t caplen, sn_pkt_t *pkt,
                          sn_decode_stats_t *stats);

//  Name of a drop reason, for logs and counters.
const char *sn_drop_name (sn_drop_t reason);

//  True if we decode this link type.
bool sn_decode_link_supported (int link);

#endif
