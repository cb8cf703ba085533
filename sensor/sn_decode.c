/*  sn_decode: link, network and transport decoding (see sn_decode.h).
    Every reader checks the remaining length before it touches a byte; every loop consumes
    bytes, so none can run longer than the packet; tunnels recurse at most SN_TUNNEL_MAX deep. */
#include "sn_decode.h"

#include <string.h>

typedef struct {
    sn_pkt_t *pkt;
    sn_decode_stats_t *stats;
} s_ctx_t;

static inline uint16_t
s_be16 (const uint8_t *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}

static inline uint32_t
s_be32 (const uint8_t *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static sn_decode_rc_t
s_drop (s_ctx_t *c, sn_drop_t reason)
{
    c->stats->drops[reason]++;
    return SN_DECODE_DROP;
}

static sn_decode_rc_t s_ethertype (s_ctx_t *c, uint16_t type, const uint8_t *p, uint32_t len);
static sn_decode_rc_t s_ethernet (s_ctx_t *c, const uint8_t *p, uint32_t len);
static sn_decode_rc_t s_ip (s_ctx_t *c, const uint8_t *p, uint32_t len);

//  A tunnel's inner packet replaces the outer one: flows are the conversations inside.
static sn_decode_rc_t
s_tunnel (s_ctx_t *c, bool ethernet, const uint8_t *p, uint32_t len)
{
    if (c->pkt->tunnel_depth >= SN_TUNNEL_MAX)
        return s_drop (c, SN_DROP_TUNNEL_DEPTH);
    c->pkt->tunnel_depth++;
    c->stats->tunnels++;
    return ethernet ? s_ethernet (c, p, len) : s_ip (c, p, len);
}

//  ---------------------------------------------------------------------------------------------
//  Transport

static sn_decode_rc_t
s_gre (s_ctx_t *c, const uint8_t *p, uint32_t len)
{
    if (len < 4)
        return s_drop (c, SN_DROP_TRUNCATED);
    uint16_t flags = s_be16 (p), type = s_be16 (p + 2);
    unsigned version = flags & 7;
    if (version == 1)  //  PPTP's enhanced GRE carries PPP, usually MPPE-encrypted
        return s_drop (c, SN_DROP_ENCRYPTED);
    if (version != 0 || (flags & 0x4000))  //  unknown version, or source routing (deprecated)
        return s_drop (c, SN_DROP_MALFORMED);
    uint32_t hdr = 4u + ((flags & 0x8000) ? 4u : 0u) + ((flags & 0x2000) ? 4u : 0u) +
                   ((flags & 0x1000) ? 4u : 0u);
    if (len < hdr)
        return s_drop (c, SN_DROP_TRUNCATED);
    p += hdr;
    len -= hdr;
    switch (type) {
    case 0x6558: return s_tunnel (c, true, p, len);  //  transparent Ethernet bridging
    case 0x88be:  //  ERSPAN type I (no sequence number, no header) or II (8-byte header)
        if (!(flags & 0x1000))
            return s_tunnel (c, true, p, len);
        if (len < 8)
            return s_drop (c, SN_DROP_TRUNCATED);
        return s_tunnel (c, true, p + 8, len - 8);
    case 0x22eb: {  //  ERSPAN type III: 12 bytes, +8 with the optional sub-header (O bit)
        if (len < 12)
            return s_drop (c, SN_DROP_TRUNCATED);
        uint32_t skip = (p[11] & 1) ? 20 : 12;
        if (len < skip)
            return s_drop (c, SN_DROP_TRUNCATED);
        return s_tunnel (c, true, p + skip, len - skip);
    }
    case 0x0800:
    case 0x86dd: return s_tunnel (c, false, p, len);
    default: return s_drop (c, SN_DROP_NOT_IP);
    }
}

//  `len` is what the capture holds of the transport segment, `wire_len` its size on the wire.
static sn_decode_rc_t
s_transport (s_ctx_t *c, uint8_t proto, const uint8_t *p, uint32_t len, uint32_t wire_len)
{
    sn_pkt_t *pkt = c->pkt;
    pkt->proto = proto;
    switch (proto) {
    case 6: {
        if (len < 20)
            return s_drop (c, SN_DROP_TRUNCATED);
        uint32_t doff = (uint32_t) (p[12] >> 4) * 4;
        if (doff < 20)
            return s_drop (c, SN_DROP_MALFORMED);
        if (doff > len)
            return s_drop (c, SN_DROP_TRUNCATED);
        c->stats->tcp++;
        pkt->sport = s_be16 (p);
        pkt->dport = s_be16 (p + 2);
        pkt->has_ports = true;
        pkt->tcp_seq = s_be32 (p + 4);
        pkt->tcp_ack = s_be32 (p + 8);
        pkt->tcp_flags = p[13];
        pkt->payload = p + doff;
        pkt->payload_len = len - doff;
        pkt->payload_wire_len = wire_len > doff ? wire_len - doff : 0;
        return SN_DECODE_OK;
    }
    case 17: {
        if (len < 8)
            return s_drop (c, SN_DROP_TRUNCATED);
        uint16_t ulen = s_be16 (p + 4);
        c->stats->udp++;
        pkt->sport = s_be16 (p);
        pkt->dport = s_be16 (p + 2);
        pkt->has_ports = true;
        //  A UDP length shorter than the datagram trims padding; longer means a cut capture.
        uint32_t data_wire = ulen >= 8 ? (uint32_t) ulen - 8 : (wire_len > 8 ? wire_len - 8 : 0);
        pkt->payload = p + 8;
        pkt->payload_len = len - 8 < data_wire ? len - 8 : data_wire;
        pkt->payload_wire_len = data_wire;
        //  VXLAN (RFC 7348): the I flag says a VNI is present; the inner frame is Ethernet.
        if (pkt->dport == 4789 && pkt->payload_len >= 8 && (pkt->payload[0] & 0x08) &&
            !pkt->fragment)
            return s_tunnel (c, true, pkt->payload + 8, pkt->payload_len - 8);
        return SN_DECODE_OK;
    }
    case 1:
    case 58:
        if (len < 4)
            return s_drop (c, SN_DROP_TRUNCATED);
        c->stats->icmp++;
        pkt->sport = p[0];  //  type
        pkt->dport = p[1];  //  code
        pkt->has_ports = true;
        pkt->payload = p + 4;
        pkt->payload_len = len - 4;
        pkt->payload_wire_len = wire_len > 4 ? wire_len - 4 : 0;
        return SN_DECODE_OK;
    case 132:
        if (len < 12)
            return s_drop (c, SN_DROP_TRUNCATED);
        c->stats->sctp++;
        pkt->sport = s_be16 (p);
        pkt->dport = s_be16 (p + 2);
        pkt->has_ports = true;
        pkt->payload = p + 12;
        pkt->payload_len = len - 12;
        pkt->payload_wire_len = wire_len > 12 ? wire_len - 12 : 0;
        return SN_DECODE_OK;
    case 47:
        if (pkt->fragment)
            break;
        return s_gre (c, p, len);
    case 4:
    case 41:
        if (pkt->fragment)
            break;
        return s_tunnel (c, false, p, len);
    case 50: return s_drop (c, SN_DROP_ENCRYPTED);
    default: break;
    }
    //  Any other protocol (or a fragmented tunnel) is a flow without ports.
    c->stats->other_transport++;
    pkt->payload = p;
    pkt->payload_len = len;
    pkt->payload_wire_len = wire_len;
    return SN_DECODE_OK;
}

//  ---------------------------------------------------------------------------------------------
//  Network

static void
s_reset_l3 (sn_pkt_t *pkt)
{
    //  A tunnel's outer header must not leak into the inner packet.
    pkt->proto = 0;
    pkt->sport = pkt->dport = 0;
    pkt->has_ports = false;
    pkt->tcp_flags = 0;
    pkt->tcp_seq = pkt->tcp_ack = 0;
    pkt->payload = NULL;
    pkt->payload_len = pkt->payload_wire_len = 0;
    pkt->fragment = false;
}

static sn_decode_rc_t
s_ipv4 (s_ctx_t *c, const uint8_t *p, uint32_t len)
{
    if (len < 20)
        return s_drop (c, SN_DROP_TRUNCATED);
    uint32_t ihl = (uint32_t) (p[0] & 0x0f) * 4;
    uint32_t total = s_be16 (p + 2);
    if ((p[0] >> 4) != 4 || ihl < 20 || total < ihl)
        return s_drop (c, SN_DROP_MALFORMED);
    if (ihl > len)
        return s_drop (c, SN_DROP_TRUNCATED);
    uint16_t frag = s_be16 (p + 6);
    if (frag & 0x1fff)  //  a later fragment: no transport header to key a flow
        return s_drop (c, SN_DROP_FRAGMENT);
    sn_pkt_t *pkt = c->pkt;
    s_reset_l3 (pkt);
    c->stats->ipv4++;
    pkt->ip_version = 4;
    pkt->src.len = pkt->dst.len = 4;
    memcpy (pkt->src.b, p + 12, 4);
    memcpy (pkt->dst.b, p + 16, 4);
    pkt->ip_len = total;
    if (frag & 0x2000) {
        pkt->fragment = true;
        c->stats->fragments_first++;
    }
    //  Ethernet pads short frames: the IP length, not the capture, says where the packet ends.
    uint32_t end = total < len ? total : len;
    return s_transport (c, p[9], p + ihl, end - ihl, total - ihl);
}

static bool
s_ipv6_ext (uint8_t nh)
{
    return nh == 0 || nh == 43 || nh == 60 || nh == 135 || nh == 139 || nh == 140;
}

static sn_decode_rc_t
s_ipv6 (s_ctx_t *c, const uint8_t *p, uint32_t len)
{
    if (len < 40)
        return s_drop (c, SN_DROP_TRUNCATED);
    if ((p[0] >> 4) != 6)
        return s_drop (c, SN_DROP_MALFORMED);
    sn_pkt_t *pkt = c->pkt;
    uint32_t plen = s_be16 (p + 4);
    //  Payload length 0 is a jumbogram (or a bad header): trust the capture then.
    uint32_t wire = plen ? plen : len - 40;
    uint32_t avail = len - 40 < wire ? len - 40 : wire;
    uint8_t nh = p[6];
    const uint8_t *q = p + 40;
    bool first_fragment = false;
    //  Each extension header consumes at least 8 bytes, so this ends with the packet.
    while (s_ipv6_ext (nh) || nh == 44 || nh == 51) {
        uint32_t hlen;
        if (avail < 8)
            return s_drop (c, SN_DROP_TRUNCATED);
        if (nh == 44) {
            hlen = 8;
            uint16_t off = s_be16 (q + 2);
            if (off & 0xfff8)
                return s_drop (c, SN_DROP_FRAGMENT);
            if (off & 1)
                first_fragment = true;
        }
        else if (nh == 51)
            hlen = ((uint32_t) q[1] + 2) * 4;
        else
            hlen = ((uint32_t) q[1] + 1) * 8;
        if (hlen > avail)
            return s_drop (c, SN_DROP_TRUNCATED);
        nh = q[0];
        q += hlen;
        avail -= hlen;
        wire = wire > hlen ? wire - hlen : 0;
    }
    s_reset_l3 (pkt);
    c->stats->ipv6++;
    pkt->ip_version = 6;
    pkt->src.len = pkt->dst.len = 16;
    memcpy (pkt->src.b, p + 8, 16);
    memcpy (pkt->dst.b, p + 24, 16);
    pkt->ip_len = 40 + (plen ? plen : len - 40);
    if (first_fragment) {
        pkt->fragment = true;
        c->stats->fragments_first++;
    }
    if (nh == 59) {  //  no next header
        c->stats->other_transport++;
        pkt->proto = 59;
        return SN_DECODE_OK;
    }
    return s_transport (c, nh, q, avail, wire);
}

static sn_decode_rc_t
s_ip (s_ctx_t *c, const uint8_t *p, uint32_t len)
{
    if (len < 1)
        return s_drop (c, SN_DROP_TRUNCATED);
    switch (p[0] >> 4) {
    case 4: return s_ipv4 (c, p, len);
    case 6: return s_ipv6 (c, p, len);
    default: return s_drop (c, SN_DROP_MALFORMED);
    }
}

//  ---------------------------------------------------------------------------------------------
//  Link

static sn_decode_rc_t
s_mpls (s_ctx_t *c, const uint8_t *p, uint32_t len)
{
    c->stats->mpls++;
    //  Labels until the bottom-of-stack bit; each takes 4 bytes, so the loop is bounded.
    for (;;) {
        if (len < 4)
            return s_drop (c, SN_DROP_TRUNCATED);
        bool bottom = p[2] & 1;
        p += 4;
        len -= 4;
        if (bottom)
            break;
    }
    if (len < 1)
        return s_drop (c, SN_DROP_TRUNCATED);
    switch (p[0] >> 4) {
    case 4:
    case 6: return s_ip (c, p, len);
    case 0:  //  pseudowire control word, then an Ethernet frame
        if (len < 4)
            return s_drop (c, SN_DROP_TRUNCATED);
        return s_ethernet (c, p + 4, len - 4);
    default: return s_drop (c, SN_DROP_NOT_IP);
    }
}

static sn_decode_rc_t
s_ppp_proto (s_ctx_t *c, uint16_t proto, const uint8_t *p, uint32_t len)
{
    switch (proto) {
    case 0x0021: return s_ipv4 (c, p, len);
    case 0x0057: return s_ipv6 (c, p, len);
    case 0x00fd:  //  compressed
    case 0x0053: return s_drop (c, SN_DROP_ENCRYPTED);
    default: return s_drop (c, SN_DROP_NOT_IP);
    }
}

//  ARP gives no flow (counted as not IP) but host sweeps show in it, so Ethernet/IPv4 ARP is
//  handed out as such: src/dst are the sender and target protocol addresses, sport the op.
static sn_decode_rc_t
s_arp (s_ctx_t *c, const uint8_t *p, uint32_t len)
{
    c->stats->arp++;
    sn_decode_rc_t rc = s_drop (c, SN_DROP_NOT_IP);
    if (len < 28 || s_be16 (p) != 1 || s_be16 (p + 2) != 0x0800 || p[4] != 6 || p[5] != 4)
        return rc;
    sn_pkt_t *pkt = c->pkt;
    pkt->sport = s_be16 (p + 6);
    memcpy (pkt->arp_sha, p + 8, 6);
    pkt->src.len = 4;
    memcpy (pkt->src.b, p + 14, 4);
    pkt->dst.len = 4;
    memcpy (pkt->dst.b, p + 24, 4);
    return SN_DECODE_ARP;
}

static sn_decode_rc_t
s_ethertype (s_ctx_t *c, uint16_t type, const uint8_t *p, uint32_t len)
{
    sn_pkt_t *pkt = c->pkt;
    //  VLAN tags, possibly stacked (QinQ); each takes 4 bytes.
    while (type == 0x8100 || type == 0x88a8 || type == 0x9100) {
        if (len < 4)
            return s_drop (c, SN_DROP_TRUNCATED);
        c->stats->vlan++;
        if (pkt->n_vlan < MM_VLAN_MAX)
            pkt->vlan[pkt->n_vlan++] = s_be16 (p) & 0x0fff;
        type = s_be16 (p + 2);
        p += 4;
        len -= 4;
    }
    switch (type) {
    case 0x0800: return s_ipv4 (c, p, len);
    case 0x86dd: return s_ipv6 (c, p, len);
    case 0x8847:
    case 0x8848: return s_mpls (c, p, len);
    case 0x8864:  //  PPPoE session: 6-byte header, then the PPP protocol
        if (len < 8)
            return s_drop (c, SN_DROP_TRUNCATED);
        c->stats->pppoe++;
        return s_ppp_proto (c, s_be16 (p + 6), p + 8, len - 8);
    case 0x0806: return s_arp (c, p, len);
    default: return s_drop (c, SN_DROP_NOT_IP);
    }
}

static sn_decode_rc_t
s_ethernet (s_ctx_t *c, const uint8_t *p, uint32_t len)
{
    if (len < 14)
        return s_drop (c, SN_DROP_TRUNCATED);
    uint16_t type = s_be16 (p + 12);
    if (type < 0x0600)  //  an 802.3 length: LLC/SNAP frames (STP, ...) carry no IP for us
        return s_drop (c, SN_DROP_NOT_IP);
    return s_ethertype (c, type, p + 14, len - 14);
}

static sn_decode_rc_t
s_null (s_ctx_t *c, const uint8_t *p, uint32_t len, bool network_order)
{
    if (len < 4)
        return s_drop (c, SN_DROP_TRUNCATED);
    //  DLT_NULL stores the address family in the capturing host's byte order.
    uint32_t be = s_be32 (p),
             le = (uint32_t) p[3] << 24 | (uint32_t) p[2] << 16 | (uint32_t) p[1] << 8 | p[0];
    uint32_t fam = network_order ? be : (be < 256 ? be : le);
    p += 4;
    len -= 4;
    if (fam == 2)
        return s_ipv4 (c, p, len);
    if (fam == 10 || fam == 24 || fam == 28 || fam == 30)  //  AF_INET6: Linux, BSDs, macOS
        return s_ipv6 (c, p, len);
    return s_drop (c, SN_DROP_NOT_IP);
}

static sn_decode_rc_t
s_ppp (s_ctx_t *c, const uint8_t *p, uint32_t len)
{
    if (len >= 2 && p[0] == 0xff && p[1] == 0x03) {  //  HDLC address and control
        p += 2;
        len -= 2;
    }
    if (len < 1)
        return s_drop (c, SN_DROP_TRUNCATED);
    //  The protocol field is one byte when compressed (odd first byte), else two.
    if (p[0] & 1)
        return s_ppp_proto (c, p[0], p + 1, len - 1);
    if (len < 2)
        return s_drop (c, SN_DROP_TRUNCATED);
    return s_ppp_proto (c, s_be16 (p), p + 2, len - 2);
}

bool
sn_decode_link_supported (int link)
{
    switch (link) {
    case SN_LINK_NULL:
    case SN_LINK_ETHERNET:
    case SN_LINK_PPP:
    case SN_LINK_RAW_OLD:
    case SN_LINK_RAW_BSD:
    case SN_LINK_RAW:
    case SN_LINK_CHDLC:
    case SN_LINK_LOOP:
    case SN_LINK_SLL:
    case SN_LINK_IPV4:
    case SN_LINK_IPV6:
    case SN_LINK_SLL2: return true;
    default: return false;
    }
}

sn_decode_rc_t
sn_decode (int link, const uint8_t *data, uint32_t caplen, sn_pkt_t *pkt, sn_decode_stats_t *stats)
{
    s_ctx_t c = {pkt, stats};
    memset (pkt, 0, sizeof *pkt);
    stats->packets++;
    switch (link) {
    case SN_LINK_ETHERNET: return s_ethernet (&c, data, caplen);
    case SN_LINK_RAW_OLD:
    case SN_LINK_RAW_BSD:
    case SN_LINK_RAW: return s_ip (&c, data, caplen);
    case SN_LINK_IPV4: return s_ipv4 (&c, data, caplen);
    case SN_LINK_IPV6: return s_ipv6 (&c, data, caplen);
    case SN_LINK_NULL: return s_null (&c, data, caplen, false);
    case SN_LINK_LOOP: return s_null (&c, data, caplen, true);
    case SN_LINK_SLL:
        if (caplen < 16)
            return s_drop (&c, SN_DROP_TRUNCATED);
        return s_ethertype (&c, s_be16 (data + 14), data + 16, caplen - 16);
    case SN_LINK_SLL2:
        if (caplen < 20)
            return s_drop (&c, SN_DROP_TRUNCATED);
        return s_ethertype (&c, s_be16 (data), data + 20, caplen - 20);
    case SN_LINK_PPP: return s_ppp (&c, data, caplen);
    case SN_LINK_CHDLC:
        if (caplen < 4)
            return s_drop (&c, SN_DROP_TRUNCATED);
        return s_ethertype (&c, s_be16 (data + 2), data + 4, caplen - 4);
    default: return s_drop (&c, SN_DROP_UNSUPPORTED_LINK);
    }
}

const char *
sn_drop_name (sn_drop_t reason)
{
    static const char *names[SN_DROP_COUNT_] = {
        [SN_DROP_TRUNCATED] = "truncated",
        [SN_DROP_MALFORMED] = "malformed",
        [SN_DROP_UNSUPPORTED_LINK] = "unsupported_link",
        [SN_DROP_NOT_IP] = "not_ip",
        [SN_DROP_FRAGMENT] = "fragment",
        [SN_DROP_TUNNEL_DEPTH] = "tunnel_depth",
        [SN_DROP_ENCRYPTED] = "encrypted",
    };
    return (unsigned) reason < SN_DROP_COUNT_ ? names[reason] : "unknown";
}
