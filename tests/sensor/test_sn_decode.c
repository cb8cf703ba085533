/*  sn_decode: frames assembled byte by byte here (every link type, VLAN/QinQ, MPLS, PPPoE, GRE,
    ERSPAN, VXLAN, IP-in-IP, IPv4 options and fragments, IPv6 extension headers, padding, snap
    length cuts, hostile and truncated input), then real captures of four link types counted
    against an independent classification. */
#define _DEFAULT_SOURCE  //  libpcap's headers need the BSD u_int types
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sn_decode.h"

//  ---------------------------------------------------------------------------------------------
//  Frame assembly: each layer is built from its payload outwards.

typedef struct {
    uint8_t b[4096];
    uint32_t n;
} s_frame_t;

static void
s_put (s_frame_t *f, const void *p, uint32_t n)
{
    cr_assert (f->n + n <= sizeof f->b);
    memcpy (f->b + f->n, p, n);
    f->n += n;
}

static void
s_u8 (s_frame_t *f, unsigned v)
{
    uint8_t b = (uint8_t) v;
    s_put (f, &b, 1);
}

static void
s_u16 (s_frame_t *f, unsigned v)
{
    s_u8 (f, v >> 8);
    s_u8 (f, v & 0xff);
}

static void
s_u32 (s_frame_t *f, uint32_t v)
{
    s_u16 (f, v >> 16);
    s_u16 (f, v & 0xffff);
}

static void
s_append (s_frame_t *f, const s_frame_t *inner)
{
    s_put (f, inner->b, inner->n);
}

static mm_addr_t
s_addr (const char *text)
{
    mm_addr_t a = {0};
    if (inet_pton (AF_INET, text, a.b) == 1)
        a.len = 4;
    else if (inet_pton (AF_INET6, text, a.b) == 1)
        a.len = 16;
    cr_assert (a.len, "bad address %s", text);
    return a;
}

static s_frame_t
s_bytes (const char *text)
{
    s_frame_t f = {.n = 0};
    s_put (&f, text, (uint32_t) strlen (text));
    return f;
}

static s_frame_t
s_tcp (uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
       const s_frame_t *data)
{
    s_frame_t f = {.n = 0};
    s_u16 (&f, sport);
    s_u16 (&f, dport);
    s_u32 (&f, seq);
    s_u32 (&f, ack);
    s_u8 (&f, 5 << 4);
    s_u8 (&f, flags);
    s_u16 (&f, 65535);  //  window
    s_u16 (&f, 0);      //  checksum: not verified by the decoder
    s_u16 (&f, 0);
    if (data)
        s_append (&f, data);
    return f;
}

static s_frame_t
s_udp (uint16_t sport, uint16_t dport, const s_frame_t *data)
{
    s_frame_t f = {.n = 0};
    s_u16 (&f, sport);
    s_u16 (&f, dport);
    s_u16 (&f, 8 + (data ? data->n : 0));
    s_u16 (&f, 0);
    if (data)
        s_append (&f, data);
    return f;
}

//  IPv4 with `opt_words` 32-bit words of options (NOPs) and the flags/offset field `frag`.
static s_frame_t
s_ipv4x (uint8_t proto, const char *src, const char *dst, const s_frame_t *l4, uint16_t frag,
         unsigned opt_words)
{
    s_frame_t f = {.n = 0};
    mm_addr_t s = s_addr (src), d = s_addr (dst);
    uint32_t hl = 20 + opt_words * 4;
    s_u8 (&f, 0x40 | (hl / 4));
    s_u8 (&f, 0);
    s_u16 (&f, hl + l4->n);
    s_u16 (&f, 0x1234);  //  id
    s_u16 (&f, frag);
    s_u8 (&f, 64);
    s_u8 (&f, proto);
    s_u16 (&f, 0);
    s_put (&f, s.b, 4);
    s_put (&f, d.b, 4);
    for (unsigned i = 0; i < opt_words * 4; i++)
        s_u8 (&f, 1);  //  NOP
    s_append (&f, l4);
    return f;
}

static s_frame_t
s_ipv4 (uint8_t proto, const char *src, const char *dst, const s_frame_t *l4)
{
    return s_ipv4x (proto, src, dst, l4, 0x4000, 0);  //  DF
}

static s_frame_t
s_ipv6 (uint8_t nh, const char *src, const char *dst, const s_frame_t *l4)
{
    s_frame_t f = {.n = 0};
    mm_addr_t s = s_addr (src), d = s_addr (dst);
    s_u32 (&f, 0x60000000);
    s_u16 (&f, l4->n);
    s_u8 (&f, nh);
    s_u8 (&f, 64);
    s_put (&f, s.b, 16);
    s_put (&f, d.b, 16);
    s_append (&f, l4);
    return f;
}

static s_frame_t
s_eth (uint16_t type, const s_frame_t *l3)
{
    static const uint8_t macs[12] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
                                     0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb};
    s_frame_t f = {.n = 0};
    s_put (&f, macs, 12);
    s_u16 (&f, type);
    s_append (&f, l3);
    return f;
}

//  Ethernet with one 802.1Q tag.
static s_frame_t
s_eth_vlan (uint16_t tci, uint16_t type, const s_frame_t *l3)
{
    s_frame_t inner = {.n = 0};
    s_u16 (&inner, tci);
    s_u16 (&inner, type);
    s_append (&inner, l3);
    return s_eth (0x8100, &inner);
}

//  A prefix of raw bytes in front of `inner`.
static s_frame_t
s_hdr (const uint8_t *hdr, uint32_t n, const s_frame_t *inner)
{
    s_frame_t f = {.n = 0};
    s_put (&f, hdr, n);
    s_append (&f, inner);
    return f;
}

static s_frame_t
s_gre (uint16_t flags, uint16_t type, const s_frame_t *inner)
{
    s_frame_t f = {.n = 0};
    s_u16 (&f, flags);
    s_u16 (&f, type);
    if (flags & 0x8000)
        s_u32 (&f, 0xdead0000);  //  checksum + reserved
    if (flags & 0x2000)
        s_u32 (&f, 0x00001234);  //  key
    if (flags & 0x1000)
        s_u32 (&f, 7);  //  sequence
    s_append (&f, inner);
    return f;
}

//  The packet most tests carry: IPv4 10.0.0.1:40000 -> 10.0.0.2:80, SYN-free PSH+ACK, "hello".
static s_frame_t
s_tcp4_hello (void)
{
    s_frame_t data = s_bytes ("hello");
    s_frame_t tcp = s_tcp (40000, 80, 1000, 2000, 0x18, &data);
    return s_ipv4 (6, "10.0.0.1", "10.0.0.2", &tcp);
}

//  ---------------------------------------------------------------------------------------------
//  Checks

static sn_decode_stats_t stats;
static sn_pkt_t pkt;

static void
s_setup (void)
{
    memset (&stats, 0, sizeof stats);
}

static sn_decode_rc_t
s_decode (int link, const s_frame_t *f)
{
    return sn_decode (link, f->b, f->n, &pkt, &stats);
}

static void
s_assert_addr (const mm_addr_t *a, const char *text)
{
    mm_addr_t e = s_addr (text);
    cr_assert_eq (a->len, e.len, "address length %u, expected %s", a->len, text);
    cr_assert (memcmp (a->b, e.b, e.len) == 0, "address differs from %s", text);
}

//  Exactly one drop, for `reason`, and nothing else counted as dropped.
static void
s_assert_dropped (sn_decode_rc_t rc, sn_drop_t reason)
{
    cr_assert_eq (rc, SN_DECODE_DROP);
    for (int i = 0; i < SN_DROP_COUNT_; i++)
        cr_assert_eq (stats.drops[i], i == (int) reason ? 1u : 0u, "drops[%s] = %lu",
                      sn_drop_name ((sn_drop_t) i), (unsigned long) stats.drops[i]);
}

static void
s_assert_no_drops (void)
{
    for (int i = 0; i < SN_DROP_COUNT_; i++)
        cr_assert_eq (stats.drops[i], 0u, "drops[%s] = %lu", sn_drop_name ((sn_drop_t) i),
                      (unsigned long) stats.drops[i]);
}

//  The "hello" segment of s_tcp4_hello, found at byte `ip_off` of frame `f`.
static void
s_assert_hello (const s_frame_t *f, uint32_t ip_off)
{
    cr_assert_eq (pkt.ip_version, 4);
    cr_assert_eq (pkt.proto, 6);
    s_assert_addr (&pkt.src, "10.0.0.1");
    s_assert_addr (&pkt.dst, "10.0.0.2");
    cr_assert_eq (pkt.sport, 40000);
    cr_assert_eq (pkt.dport, 80);
    cr_assert (pkt.has_ports);
    cr_assert_eq (pkt.tcp_flags, 0x18);
    cr_assert_eq (pkt.tcp_seq, 1000u);
    cr_assert_eq (pkt.tcp_ack, 2000u);
    cr_assert_eq (pkt.ip_len, 45u);
    cr_assert_eq (pkt.payload, f->b + ip_off + 40, "payload at %td, expected %u",
                  pkt.payload - f->b, ip_off + 40);
    cr_assert_eq (pkt.payload_len, 5u);
    cr_assert_eq (pkt.payload_wire_len, 5u);
    cr_assert (memcmp (pkt.payload, "hello", 5) == 0);
    cr_assert_not (pkt.fragment);
}

TestSuite (sn_decode, .init = s_setup);

//  ---------------------------------------------------------------------------------------------
//  Link layers

Test (sn_decode, ethernet_ipv4_tcp)
{
    s_frame_t ip = s_tcp4_hello (), f = s_eth (0x0800, &ip);
    cr_assert_eq (s_decode (SN_LINK_ETHERNET, &f), SN_DECODE_OK);
    s_assert_hello (&f, 14);
    cr_assert_eq (pkt.n_vlan, 0);
    cr_assert_eq (pkt.tunnel_depth, 0);
    cr_assert_eq (stats.packets, 1u);
    cr_assert_eq (stats.ipv4, 1u);
    cr_assert_eq (stats.tcp, 1u);
    cr_assert_eq (stats.udp + stats.icmp + stats.vlan + stats.tunnels, 0u);
    s_assert_no_drops ();
}

Test (sn_decode, ethernet_ipv6_udp)
{
    s_frame_t data = s_bytes ("query"), udp = s_udp (5353, 53, &data);
    s_frame_t ip = s_ipv6 (17, "2001:db8::1", "2001:db8::2", &udp), f = s_eth (0x86dd, &ip);
    cr_assert_eq (s_decode (SN_LINK_ETHERNET, &f), SN_DECODE_OK);
    cr_assert_eq (pkt.ip_version, 6);
    cr_assert_eq (pkt.proto, 17);
    s_assert_addr (&pkt.src, "2001:db8::1");
    s_assert_addr (&pkt.dst, "2001:db8::2");
    cr_assert_eq (pkt.sport, 5353);
    cr_assert_eq (pkt.dport, 53);
    cr_assert_eq (pkt.ip_len, 40u + 8 + 5);
    cr_assert_eq (pkt.payload, f.b + 14 + 40 + 8);
    cr_assert_eq (pkt.payload_len, 5u);
    cr_assert_eq (pkt.payload_wire_len, 5u);
    cr_assert_eq (pkt.tcp_flags, 0);
    cr_assert_eq (stats.ipv6, 1u);
    cr_assert_eq (stats.udp, 1u);
}

Test (sn_decode, vlan_single_masks_priority_bits)
{
    s_frame_t ip = s_tcp4_hello (), f = s_eth_vlan (0xa000 | 42, 0x0800, &ip);
    cr_assert_eq (s_decode (SN_LINK_ETHERNET, &f), SN_DECODE_OK);
    s_assert_hello (&f, 18);
    cr_assert_eq (pkt.n_vlan, 1);
    cr_assert_eq (pkt.vlan[0], 42);
    cr_assert_eq (stats.vlan, 1u);
}

Test (sn_decode, qinq_two_vlan_ids)
{
    s_frame_t ip = s_tcp4_hello (), inner = {.n = 0};
    s_u16 (&inner, 100);  //  outer S-tag (0x88a8) TCI
    s_u16 (&inner, 0x8100);
    s_u16 (&inner, 0x2000 | 200);  //  inner C-tag, PCP 1
    s_u16 (&inner, 0x0800);
    s_append (&inner, &ip);
    s_frame_t f = s_eth (0x88a8, &inner);
    cr_assert_eq (s_decode (SN_LINK_ETHERNET, &f), SN_DECODE_OK);
    s_assert_hello (&f, 22);
    cr_assert_eq (pkt.n_vlan, 2);
    cr_assert_eq (pkt.vlan[0], 100);
    cr_assert_eq (pkt.vlan[1], 200);
    cr_assert_eq (stats.vlan, 2u);
}

Test (sn_decode, three_vlan_tags_keep_first_two)
{
    s_frame_t ip = s_tcp4_hello (), inner = {.n = 0};
    s_u16 (&inner, 1);
    s_u16 (&inner, 0x8100);
    s_u16 (&inner, 2);
    s_u16 (&inner, 0x8100);
    s_u16 (&inner, 3);
    s_u16 (&inner, 0x0800);
    s_append (&inner, &ip);
    s_frame_t f = s_eth (0x9100, &inner);
    cr_assert_eq (s_decode (SN_LINK_ETHERNET, &f), SN_DECODE_OK);
    s_assert_hello (&f, 26);
    cr_assert_eq (pkt.n_vlan, MM_VLAN_MAX);
    cr_assert_eq (pkt.vlan[0], 1);
    cr_assert_eq (pkt.vlan[1], 2);
    cr_assert_eq (stats.vlan, 3u);
}

Test (sn_decode, mpls_two_labels_then_ipv4)
{
    s_frame_t ip = s_tcp4_hello (), inner = {.n = 0};
    s_u32 (&inner, (16u << 12) | (0u << 8) | 64);  //  label 16, S=0
    s_u32 (&inner, (17u << 12) | (1u << 8) | 64);  //  label 17, S=1
    s_append (&inner, &ip);
    s_frame_t f = s_eth (0x8847, &inner);
    cr_assert_eq (s_decode (SN_LINK_ETHERNET, &f), SN_DECODE_OK);
    s_assert_hello (&f, 22);
    cr_assert_eq (stats.mpls, 1u);
    cr_assert_eq (pkt.tunnel_depth, 0);
}

Test (sn_decode, mpls_pseudowire_control_word_then_ethernet)
{
    s_frame_t ip = s_tcp4_hello (), eth = s_eth_vlan (7, 0x0800, &ip), inner = {.n = 0};
    s_u32 (&inner, (300u << 12) | (1u << 8) | 64);  //  bottom of stack
    s_u32 (&inner, 0x00000000);                     //  control word (first nibble 0)
    s_append (&inner, &eth);
    s_frame_t f = s_eth (0x8848, &inner);
    cr_assert_eq (s_decode (SN_LINK_ETHERNET, &f), SN_DECODE_OK);
    s_assert_hello (&f, 14 + 8 + 18);
    cr_assert_eq (pkt.n_vlan, 1);
    cr_assert_eq (pkt.vlan[0], 7);
    cr_assert_eq (stats.mpls, 1u);
}

Test (sn_decode, mpls_unknown_payload_and_truncated_stack)
{
    s_frame_t inner = {.n = 0};
    s_u32 (&inner, (16u << 12) | (1u << 8) | 64);
    s_u32 (&inner, 0x90000000);  //  nibble 9: neither IP nor a control word
    s_frame_t f = s_eth (0x8847, &inner);
    s_assert_dropped (s_decode (SN_LINK_ETHERNET, &f), SN_DROP_NOT_IP);

    //  No bottom-of-stack label before the frame ends.
    s_setup ();
    s_frame_t cut = {.n = 0};
    s_u32 (&cut, (16u << 12) | 64);
    s_u32 (&cut, (17u << 12) | 64);
    f = s_eth (0x8847, &cut);
    s_assert_dropped (s_decode (SN_LINK_ETHERNET, &f), SN_DROP_TRUNCATED);
}

Test (sn_decode, pppoe_session_ipv4_and_ipv6)
{
    s_frame_t ip = s_tcp4_hello (), inner = {.n = 0};
    s_u8 (&inner, 0x11);  //  version 1, type 1
    s_u8 (&inner, 0x00);  //  session data
    s_u16 (&inner, 0x4242);
    s_u16 (&inner, 2 + ip.n);
    s_u16 (&inner, 0x0021);
    s_append (&inner, &ip);
    s_frame_t f = s_eth (0x8864, &inner);
    cr_assert_eq (s_decode (SN_LINK_ETHERNET, &f), SN_DECODE_OK);
    s_assert_hello (&f, 22);
    cr_assert_eq (stats.pppoe, 1u);

    s_frame_t udp = s_udp (1, 2, NULL), ip6 = s_ipv6 (17, "fe80::1", "fe80::2", &udp);
    inner.n = 0;
    s_u16 (&inner, 0x1100);
    s_u16 (&inner, 0x4242);
    s_u16 (&inner, 2 + ip6.n);
    s_u16 (&inner, 0x0057);
    s_append (&inner, &ip6);
    f = s_eth (0x8864, &inner);
    cr_assert_eq (s_decode (SN_LINK_ETHERNET, &f), SN_DECODE_OK);
    cr_assert_eq (pkt.ip_version, 6);
    cr_assert_eq (pkt.proto, 17);
    cr_assert_eq (stats.pppoe, 2u);

    //  LCP (0xc021) is PPP control, not IP.
    inner.n = 0;
    s_u16 (&inner, 0x1100);
    s_u16 (&inner, 0x4242);
    s_u16 (&inner, 6);
    s_u16 (&inner, 0xc021);
    s_u32 (&inner, 0x01010004);
    f = s_eth (0x8864, &inner);
    s_assert_dropped (s_decode (SN_LINK_ETHERNET, &f), SN_DROP_NOT_IP);
}

Test (sn_decode, linux_sll)
{
    s_frame_t ip = s_tcp4_hello (), f = {.n = 0};
    s_u16 (&f, 0);  //  packet type: to us
    s_u16 (&f, 1);  //  ARPHRD_ETHER
    s_u16 (&f, 6);
    s_put (&f, "\x00\x11\x22\x33\x44\x55\x00\x00", 8);
    s_u16 (&f, 0x0800);
    s_append (&f, &ip);
    cr_assert_eq (s_decode (SN_LINK_SLL, &f), SN_DECODE_OK);
    s_assert_hello (&f, 16);
    s_assert_no_drops ();
}

Test (sn_decode, linux_sll2_with_vlan)
{
    s_frame_t ip = s_tcp4_hello (), f = {.n = 0};
    s_u16 (&f, 0x8100);  //  protocol first in SLL2
    s_u16 (&f, 0);       //  reserved
    s_u32 (&f, 3);       //  interface index
    s_u16 (&f, 1);       //  ARPHRD_ETHER
    s_u8 (&f, 4);        //  packet type: outgoing
    s_u8 (&f, 6);
    s_put (&f, "\x00\x11\x22\x33\x44\x55\x00\x00", 8);
    s_u16 (&f, 9);  //  VLAN tag follows the header
    s_u16 (&f, 0x0800);
    s_append (&f, &ip);
    cr_assert_eq (s_decode (SN_LINK_SLL2, &f), SN_DECODE_OK);
    s_assert_hello (&f, 24);
    cr_assert_eq (pkt.n_vlan, 1);
    cr_assert_eq (pkt.vlan[0], 9);
}

Test (sn_decode, raw_ip_link_types)
{
    s_frame_t ip4 = s_tcp4_hello ();
    s_frame_t udp = s_udp (1000, 2000, NULL), ip6 = s_ipv6 (17, "::1", "::2", &udp);
    const int raw[] = {SN_LINK_RAW_OLD, SN_LINK_RAW_BSD, SN_LINK_RAW};
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        cr_assert_eq (s_decode (raw[i], &ip4), SN_DECODE_OK, "link %d", raw[i]);
        s_assert_hello (&ip4, 0);
        cr_assert_eq (s_decode (raw[i], &ip6), SN_DECODE_OK, "link %d", raw[i]);
        cr_assert_eq (pkt.ip_version, 6);
        cr_assert_eq (pkt.sport, 1000);
        cr_assert_eq (pkt.payload_len, 0u);
    }
    cr_assert_eq (s_decode (SN_LINK_IPV4, &ip4), SN_DECODE_OK);
    s_assert_hello (&ip4, 0);
    cr_assert_eq (s_decode (SN_LINK_IPV6, &ip6), SN_DECODE_OK);
    cr_assert_eq (pkt.ip_version, 6);
    s_assert_no_drops ();
    cr_assert_eq (stats.ipv4, 4u);
    cr_assert_eq (stats.ipv6, 4u);

    //  LINKTYPE_IPV4 and _IPV6 promise one version: the other one is malformed.
    s_setup ();
    s_assert_dropped (s_decode (SN_LINK_IPV4, &ip6), SN_DROP_MALFORMED);
    s_setup ();
    s_assert_dropped (s_decode (SN_LINK_IPV6, &ip4), SN_DROP_MALFORMED);
    //  Version 5 on a raw link.
    s_setup ();
    s_frame_t bad = ip4;
    bad.b[0] = 0x55;
    s_assert_dropped (s_decode (SN_LINK_RAW, &bad), SN_DROP_MALFORMED);
}

Test (sn_decode, null_and_loop_address_families)
{
    s_frame_t ip4 = s_tcp4_hello ();
    s_frame_t udp = s_udp (1, 2, NULL), ip6 = s_ipv6 (17, "::1", "::2", &udp);
    static const uint8_t le2[4] = {2, 0, 0, 0}, be2[4] = {0, 0, 0, 2};
    s_frame_t f = s_hdr (le2, 4, &ip4);
    cr_assert_eq (s_decode (SN_LINK_NULL, &f), SN_DECODE_OK);  //  little-endian capturer
    s_assert_hello (&f, 4);
    f = s_hdr (be2, 4, &ip4);
    cr_assert_eq (s_decode (SN_LINK_NULL, &f), SN_DECODE_OK);  //  big-endian capturer
    s_assert_hello (&f, 4);
    f = s_hdr (be2, 4, &ip4);
    cr_assert_eq (s_decode (SN_LINK_LOOP, &f), SN_DECODE_OK);  //  LOOP is network order
    s_assert_hello (&f, 4);
    //  AF_INET6 is 10 on Linux, 24/28/30 on the BSDs and macOS.
    const uint8_t fams[] = {10, 24, 28, 30};
    for (size_t i = 0; i < sizeof fams; i++) {
        uint8_t le[4] = {fams[i], 0, 0, 0}, be[4] = {0, 0, 0, fams[i]};
        f = s_hdr (le, 4, &ip6);
        cr_assert_eq (s_decode (SN_LINK_NULL, &f), SN_DECODE_OK, "family %u", fams[i]);
        cr_assert_eq (pkt.ip_version, 6);
        f = s_hdr (be, 4, &ip6);
        cr_assert_eq (s_decode (SN_LINK_LOOP, &f), SN_DECODE_OK, "family %u", fams[i]);
        cr_assert_eq (pkt.ip_version, 6);
    }
    s_assert_no_drops ();
    static const uint8_t ipx[4] = {23, 0, 0, 0};
    f = s_hdr (ipx, 4, &ip4);
    s_assert_dropped (s_decode (SN_LINK_NULL, &f), SN_DROP_NOT_IP);
}

Test (sn_decode, ppp_framings)
{
    s_frame_t ip4 = s_tcp4_hello ();
    static const uint8_t hdlc[4] = {0xff, 0x03, 0x00, 0x21}, bare[2] = {0x00, 0x21},
                         comp[1] = {0x21}, hdlc_comp[3] = {0xff, 0x03, 0x21};
    s_frame_t f = s_hdr (hdlc, 4, &ip4);
    cr_assert_eq (s_decode (SN_LINK_PPP, &f), SN_DECODE_OK);
    s_assert_hello (&f, 4);
    f = s_hdr (bare, 2, &ip4);
    cr_assert_eq (s_decode (SN_LINK_PPP, &f), SN_DECODE_OK);
    s_assert_hello (&f, 2);
    f = s_hdr (comp, 1, &ip4);
    cr_assert_eq (s_decode (SN_LINK_PPP, &f), SN_DECODE_OK);
    s_assert_hello (&f, 1);
    f = s_hdr (hdlc_comp, 3, &ip4);
    cr_assert_eq (s_decode (SN_LINK_PPP, &f), SN_DECODE_OK);
    s_assert_hello (&f, 3);
    s_frame_t udp = s_udp (1, 2, NULL), ip6 = s_ipv6 (17, "::1", "::2", &udp);
    static const uint8_t v6[4] = {0xff, 0x03, 0x00, 0x57};
    f = s_hdr (v6, 4, &ip6);
    cr_assert_eq (s_decode (SN_LINK_PPP, &f), SN_DECODE_OK);
    cr_assert_eq (pkt.ip_version, 6);
    s_assert_no_drops ();
    //  Compressed datagrams (CCP, 0x00fd) are opaque.
    static const uint8_t ccp[4] = {0xff, 0x03, 0x00, 0xfd};
    f = s_hdr (ccp, 4, &ip4);
    s_assert_dropped (s_decode (SN_LINK_PPP, &f), SN_DROP_ENCRYPTED);
}

Test (sn_decode, cisco_hdlc)
{
    s_frame_t ip4 = s_tcp4_hello ();
    static const uint8_t hdr[4] = {0x0f, 0x00, 0x08, 0x00};
    s_frame_t f = s_hdr (hdr, 4, &ip4);
    cr_assert_eq (s_decode (SN_LINK_CHDLC, &f), SN_DECODE_OK);
    s_assert_hello (&f, 4);
    s_frame_t udp = s_udp (1, 2, NULL), ip6 = s_ipv6 (17, "::1", "::2", &udp);
    static const uint8_t hdr6[4] = {0x8f, 0x00, 0x86, 0xdd};
    f = s_hdr (hdr6, 4, &ip6);
    cr_assert_eq (s_decode (SN_LINK_CHDLC, &f), SN_DECODE_OK);
    cr_assert_eq (pkt.ip_version, 6);
}

Test (sn_decode, unsupported_link_80211)
{
    s_frame_t ip4 = s_tcp4_hello ();
    cr_assert_not (sn_decode_link_supported (105));
    s_assert_dropped (s_decode (105, &ip4), SN_DROP_UNSUPPORTED_LINK);
    cr_assert_eq (stats.packets, 1u);
    const int ok[] = {0, 1, 9, 12, 14, 101, 104, 108, 113, 228, 229, 276};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        cr_assert (sn_decode_link_supported (ok[i]), "link %d", ok[i]);
    cr_assert_not (sn_decode_link_supported (127));  //  radiotap
}

Test (sn_decode, drop_names)
{
    cr_assert_str_eq (sn_drop_name (SN_DROP_TRUNCATED), "truncated");
    cr_assert_str_eq (sn_drop_name (SN_DROP_MALFORMED), "malformed");
    cr_assert_str_eq (sn_drop_name (SN_DROP_UNSUPPORTED_LINK), "unsupported_link");
    cr_assert_str_eq (sn_drop_name (SN_DROP_NOT_IP), "not_ip");
    cr_assert_str_eq (sn_drop_name (SN_DROP_FRAGMENT), "fragment");
    cr_assert_str_eq (sn_drop_name (SN_DROP_TUNNEL_DEPTH), "tunnel_depth");
    cr_assert_str_eq (sn_drop_name (SN_DROP_ENCRYPTED), "encrypted");
    cr_assert_str_eq (sn_drop_name (SN_DROP_COUNT_), "unknown");
    cr_assert_str_eq (sn_drop_name ((sn_drop_t) -1), "unknown");
}

//  ---------------------------------------------------------------------------------------------
//  Tunnels

Test (sn_decode, gre_key_and_sequence_carrying_ipv4)
{
    s_frame_t inner = s_tcp4_hello (), gre = s_gre (0x3000, 0x0800, &inner);
    s_frame_t outer = s_ipv4 (47, "192.0.2.1", "192.0.2.2", &gre), f = s_eth (0x0800, &outer);
    cr_assert_eq (s_decode (SN_LINK_ETHERNET, &f), SN_DECODE_OK);
    s_assert_hello (&f, 14 + 20 + 12);  //  the inner packet, not the tunnel endpoints
    cr_assert_eq (pkt.tunnel_depth, 1);
    cr_assert_eq (stats.tunnels, 1u);
    cr_assert_eq (stats.ipv4, 2u);
    cr_assert_eq (stats.tcp, 1u);
    cr_assert_eq (stats.other_transport, 0u);

    //  With the checksum too: 16 bytes of GRE header.
    gre = s_gre (0xb000, 0x0800, &inner);
    outer = s_ipv4 (47, "192.0.2.1", "192.0.2.2", &gre);
    f = s_eth (0x0800, &outer);
    cr_assert_eq (s_decode (SN_LINK_ETHERNET, &f), SN_DECODE_OK);
    s_assert_hello (&f, 14 + 20 + 16);
    s_assert_no_drops ();
}

Test (sn_decode, gre_ipv6_inside_ipv6)
{
    s_frame_t data = s_bytes ("x"), udp = s_udp (7, 9, &data);
    s_frame_t inner = s_ipv6 (17, "2001:db8:1::1", "2001:db8:1::2", &udp);
    s_frame_t gre = s_gre (0x0000, 0x86dd, &inner);
    s_frame_t outer = s_ipv6 (47, "2001:db8::a", "2001:db8::b", &gre);
    cr_assert_eq (s_decode (SN_LINK_RAW, &outer), SN_DECODE_OK);
    s_assert_addr (&pkt.src, "2001:db8:1::1");
    s_assert_addr (&pkt.dst, "2001:db8:1::2");
    cr_assert_eq (pkt.ip_len, 40u + 9);
    cr_assert_eq (pkt.payload, outer.b + 40 + 4 + 40 + 8);
    cr_assert_eq (pkt.payload_len, 1u);
    cr_assert_eq (pkt.tunnel_depth, 1);
}

Test (sn_decode, gre_transparent_ethernet)
{
    s_frame_t ip = s_tcp4_hello (), eth = s_eth_vlan (55, 0x0800, &ip);
    s_frame_t gre = s_gre (0x2000, 0x6558, &eth);
    s_frame_t outer = s_ipv4 (47, "192.0.2.1", "192.0.2.2", &gre), f = s_eth (0x0800, &outer);
    cr_assert_eq (s_decode (SN_LINK_ETHERNET, &f), SN_DECODE_OK);
    s_assert_hello (&f, 14 + 20 + 8 + 18);
    cr_assert_eq (pkt.tunnel_depth, 1);
    cr_assert_eq (pkt.n_vlan, 1);
    cr_assert_eq (pkt.vlan[0], 55);
}

Test (sn_decode, erspan_type2_and_type3)
{
    s_frame_t ip = s_tcp4_hello (), eth = s_eth_vlan (10, 0x0800, &ip), span = {.n = 0};
    s_u32 (&span, 0x1000000a);  //  ver 1 (type II), VLAN 0, session 10
    s_u32 (&span, 0x00000000);  //  index
    s_append (&span, &eth);
    s_frame_t gre = s_gre (0x1000, 0x88be, &span);
    s_frame_t outer = s_ipv4 (47, "192.0.2.1", "192.0.2.2", &gre), f = s_eth (0x0800, &outer);
    cr_assert_eq (s_decode (SN_LINK_ETHERNET, &f), SN_DECODE_OK);
    s_assert_hello (&f, 14 + 20 + 8 + 8 + 18);
    cr_assert_eq (pkt.tunnel_depth, 1);
    cr_assert_eq (pkt.n_vlan, 1);
    cr_assert_eq (pkt.vlan[0], 10);

    //  Type III, without and with the 8-byte platform sub-header (O bit, last of byte 11).
    for (int o = 0; o <= 1; o++) {
        span.n = 0;
        s_u32 (&span, 0x2000000a);
        s_u32 (&span, 0x12345678);  //  timestamp
        s_u32 (&span, (uint32_t) o);
        if (o) {
            s_u32 (&span, 0x08000000);
            s_u32 (&span, 0);
        }
        s_append (&span, &eth);
        gre = s_gre (0x1000, 0x22eb, &span);
        outer = s_ipv4 (47, "192.0.2.1", "192.0.2.2", &gre);
        f = s_eth (0x0800, &outer);
        cr_assert_eq (s_decode (SN_LINK_ETHERNET, &f), SN_DECODE_OK, "O bit %d", o);
        s_assert_hello (&f, 14 + 20 + 8 + (o ? 20u : 12u) + 18);
    }
    s_assert_no_drops ();
}

Test (sn_decode, vxlan)
{
    s_frame_t ip = s_tcp4_hello (), eth = s_eth (0x0800, &ip), vx = {.n = 0};
    s_u32 (&vx, 0x08000000);  //  I flag
    s_u32 (&vx, 0x00123400);  //  VNI 0x1234
    s_append (&vx, &eth);
    s_frame_t udp = s_udp (51000, 4789, &vx);
    s_frame_t outer = s_ipv4 (17, "192.0.2.1", "192.0.2.2", &udp), f = s_eth (0x0800, &outer);
    cr_assert_eq (s_decode (SN_LINK_ETHERNET, &f), SN_DECODE_OK);
    s_assert_hello (&f, 14 + 20 + 8 + 8 + 14);
    cr_assert_eq (pkt.tunnel_depth, 1);
    cr_assert_eq (stats.udp, 1u);
    cr_assert_eq (stats.tcp, 1u);
    cr_assert_eq (stats.tunnels, 1u);

    //  Without the I flag it is just UDP to port 4789.
    s_setup ();
    f.b[14 + 20 + 8] = 0;
    cr_assert_eq (s_decode (SN_LINK_ETHERNET, &f), SN_DECODE_OK);
    cr_assert_eq (pkt.proto, 17);
    cr_assert_eq (pkt.dport, 4789);
    cr_assert_eq (pkt.tunnel_depth, 0);
    cr_assert_eq (pkt.payload_len, vx.n);
    s_assert_addr (&pkt.src, "192.0.2.1");
}

Test (sn_decode, ip_in_ip)
{
    s_frame_t inner = s_tcp4_hello ();
    s_frame_t outer = s_ipv4 (4, "192.0.2.1", "192.0.2.2", &inner), f = s_eth (0x0800, &outer);
    cr_assert_eq (s_decode (SN_LINK_ETHERNET, &f), SN_DECODE_OK);
    s_assert_hello (&f, 34);
    cr_assert_eq (pkt.tunnel_depth, 1);

    //  6in4 and 4in6.
    s_frame_t udp = s_udp (1, 2, NULL), in6 = s_ipv6 (17, "2001:db8::1", "2001:db8::2", &udp);
    outer = s_ipv4 (41, "192.0.2.1", "192.0.2.2", &in6);
    cr_assert_eq (s_decode (SN_LINK_RAW, &outer), SN_DECODE_OK);
    cr_assert_eq (pkt.ip_version, 6);
    s_assert_addr (&pkt.src, "2001:db8::1");
    cr_assert_eq (pkt.tunnel_depth, 1);
    s_frame_t out6 = s_ipv6 (4, "2001:db8::a", "2001:db8::b", &inner);
    cr_assert_eq (s_decode (SN_LINK_RAW, &out6), SN_DECODE_OK);
    s_assert_hello (&out6, 40);
    cr_assert_eq (pkt.tunnel_depth, 1);
    cr_assert_eq (stats.tunnels, 3u);
}

Test (sn_decode, tunnel_nesting_limit)
{
    //  SN_TUNNEL_MAX tunnels are taken off; one more is refused.
    s_frame_t p = s_tcp4_hello ();
    for (int i = 0; i < SN_TUNNEL_MAX; i++)
        p = s_ipv4 (4, "192.0.2.1", "192.0.2.2", &p);
    cr_assert_eq (s_decode (SN_LINK_RAW, &p), SN_DECODE_OK);
    s_assert_hello (&p, 20u * SN_TUNNEL_MAX);
    cr_assert_eq (pkt.tunnel_depth, SN_TUNNEL_MAX);
    s_assert_no_drops ();

    s_setup ();
    p = s_ipv4 (4, "192.0.2.1", "192.0.2.2", &p);
    s_assert_dropped (s_decode (SN_LINK_RAW, &p), SN_DROP_TUNNEL_DEPTH);

    //  Mixed kinds count alike: GRE in VXLAN in IPIP in GRE.
    s_setup ();
    s_frame_t q = s_tcp4_hello ();
    q = s_gre (0, 0x0800, &q);
    q = s_ipv4 (47, "192.0.2.3", "192.0.2.4", &q);
    q = s_eth (0x0800, &q);
    s_frame_t vx = {.n = 0};
    s_u32 (&vx, 0x08000000);
    s_u32 (&vx, 0x00000100);
    s_append (&vx, &q);
    q = s_udp (1, 4789, &vx);
    q = s_ipv4 (17, "192.0.2.5", "192.0.2.6", &q);
    q = s_ipv4 (4, "192.0.2.7", "192.0.2.8", &q);
    q = s_gre (0, 0x0800, &q);
    q = s_ipv4 (47, "192.0.2.9", "192.0.2.10", &q);
    s_assert_dropped (s_decode (SN_LINK_RAW, &q), SN_DROP_TUNNEL_DEPTH);
}

Test (sn_decode, pptp_gre_v1_and_esp_are_encrypted)
{
    s_frame_t ppp = {.n = 0};
    s_u32 (&ppp, 0xff030021);
    s_frame_t gre = {.n = 0};
    s_u16 (&gre, 0x3001);  //  K and S, version 1
    s_u16 (&gre, 0x880b);
    s_u16 (&gre, 4);  //  payload length
    s_u16 (&gre, 0x0042);
    s_u32 (&gre, 1);
    s_append (&gre, &ppp);
    s_frame_t ip = s_ipv4 (47, "192.0.2.1", "192.0.2.2", &gre), f = s_eth (0x0800, &ip);
    s_assert_dropped (s_decode (SN_LINK_ETHERNET, &f), SN_DROP_ENCRYPTED);

    s_setup ();
    s_frame_t esp = {.n = 0};
    s_u32 (&esp, 0x1000);  //  SPI
    s_u32 (&esp, 1);
    ip = s_ipv4 (50, "192.0.2.1", "192.0.2.2", &esp);
    f = s_eth (0x0800, &ip);
    s_assert_dropped (s_decode (SN_LINK_ETHERNET, &f), SN_DROP_ENCRYPTED);
    s_setup ();
    ip = s_ipv6 (50, "2001:db8::1", "2001:db8::2", &esp);
    s_assert_dropped (s_decode (SN_LINK_RAW, &ip), SN_DROP_ENCRYPTED);
}

Test (sn_decode, gre_malformed_and_non_ip)
{
    s_frame_t inner = s_tcp4_hello ();
    s_frame_t gre = s_gre (0x4000, 0x0800, &inner);  //  routing present: refused
    s_frame_t ip = s_ipv4 (47, "192.0.2.1", "192.0.2.2", &gre);
    s_assert_dropped (s_decode (SN_LINK_RAW, &ip), SN_DROP_MALFORMED);
    s_setup ();
    gre = s_gre (0x0002, 0x0800, &inner);  //  version 2
    ip = s_ipv4 (47, "192.0.2.1", "192.0.2.2", &gre);
    s_assert_dropped (s_decode (SN_LINK_RAW, &ip), SN_DROP_MALFORMED);
    s_setup ();
    gre = s_gre (0x0000, 0x0806, &inner);  //  ARP inside GRE
    ip = s_ipv4 (47, "192.0.2.1", "192.0.2.2", &gre);
    s_assert_dropped (s_decode (SN_LINK_RAW, &ip), SN_DROP_NOT_IP);
    //  Key flag set but the key missing.
    s_setup ();
    s_frame_t short_gre = {.n = 0};
    s_u16 (&short_gre, 0x2000);
    s_u16 (&short_gre, 0x0800);
    s_u16 (&short_gre, 0x0001);
    ip = s_ipv4 (47, "192.0.2.1", "192.0.2.2", &short_gre);
    s_assert_dropped (s_decode (SN_LINK_RAW, &ip), SN_DROP_TRUNCATED);
}

//  ---------------------------------------------------------------------------------------------
//  IPv4

Test (sn_decode, ipv4_options_ihl6)
{
    s_frame_t data = s_bytes ("hello"), tcp = s_tcp (40000, 80, 1000, 2000, 0x18, &data);
    s_frame_t ip = s_ipv4x (6, "10.0.0.1", "10.0.0.2", &tcp, 0, 1), f = s_eth (0x0800, &ip);
    cr_assert_eq (ip.b[0], 0x46);
    cr_assert_eq (s_decode (SN_LINK_ETHERNET, &f), SN_DECODE_OK);
    cr_assert_eq (pkt.sport, 40000);
    cr_assert_eq (pkt.dport, 80);
    cr_assert_eq (pkt.tcp_seq, 1000u);
    cr_assert_eq (pkt.ip_len, 49u);
    cr_assert_eq (pkt.payload, f.b + 14 + 24 + 20);
    cr_assert_eq (pkt.payload_len, 5u);
    cr_assert (memcmp (pkt.payload, "hello", 5) == 0);
}

Test (sn_decode, ipv4_header_errors)
{
    s_frame_t ip = s_tcp4_hello (), bad = ip;
    bad.b[0] = 0x44;  //  IHL 16 bytes
    s_assert_dropped (s_decode (SN_LINK_RAW, &bad), SN_DROP_MALFORMED);
    s_setup ();
    bad = ip;
    bad.b[2] = 0;
    bad.b[3] = 19;  //  total length below the header
    s_assert_dropped (s_decode (SN_LINK_RAW, &bad), SN_DROP_MALFORMED);
    s_setup ();
    bad = ip;
    bad.b[0] = 0x4f;  //  60-byte header in a 45-byte packet
    bad.n = 45;
    bad.b[2] = 0;
    bad.b[3] = 60;
    s_assert_dropped (s_decode (SN_LINK_RAW, &bad), SN_DROP_TRUNCATED);
    s_setup ();
    bad = ip;
    bad.b[32] = 0x40;  //  TCP data offset 4 words
    s_assert_dropped (s_decode (SN_LINK_RAW, &bad), SN_DROP_MALFORMED);
    s_setup ();
    bad = ip;
    bad.b[32] = 0xf0;  //  TCP data offset 60 bytes, 25 there
    s_assert_dropped (s_decode (SN_LINK_RAW, &bad), SN_DROP_TRUNCATED);
}

Test (sn_decode, ethernet_padding_stops_at_ip_length)
{
    //  A bare ACK is 54 bytes of Ethernet: the NIC pads it to 60 with junk.
    s_frame_t tcp = s_tcp (40000, 80, 1000, 2000, 0x10, NULL);
    s_frame_t ip = s_ipv4 (6, "10.0.0.1", "10.0.0.2", &tcp), f = s_eth (0x0800, &ip);
    s_put (&f, "\xde\xad\xbe\xef\x00\x01", 6);
    cr_assert_eq (f.n, 60u);
    cr_assert_eq (s_decode (SN_LINK_ETHERNET, &f), SN_DECODE_OK);
    cr_assert_eq (pkt.ip_len, 40u);
    cr_assert_eq (pkt.payload_len, 0u);
    cr_assert_eq (pkt.payload_wire_len, 0u);

    //  UDP with 2 bytes of data: the padding is not payload either.
    s_frame_t data = s_bytes ("hi"), udp = s_udp (1234, 53, &data);
    ip = s_ipv4 (17, "10.0.0.1", "10.0.0.2", &udp);
    f = s_eth (0x0800, &ip);
    while (f.n < 60)
        s_u8 (&f, 0xee);
    cr_assert_eq (s_decode (SN_LINK_ETHERNET, &f), SN_DECODE_OK);
    cr_assert_eq (pkt.ip_len, 30u);
    cr_assert_eq (pkt.payload_len, 2u);
    cr_assert_eq (pkt.payload_wire_len, 2u);

    //  IPv6: the payload length bounds it the same way.
    s_frame_t tcp6 = s_tcp (1, 2, 3, 4, 0x10, NULL);
    s_frame_t ip6 = s_ipv6 (6, "fe80::1", "fe80::2", &tcp6);
    f = s_eth (0x86dd, &ip6);
    s_put (&f, "\xee\xee\xee\xee", 4);
    cr_assert_eq (s_decode (SN_LINK_ETHERNET, &f), SN_DECODE_OK);
    cr_assert_eq (pkt.ip_len, 60u);
    cr_assert_eq (pkt.payload_len, 0u);
    cr_assert_eq (pkt.payload_wire_len, 0u);
}

Test (sn_decode, snap_length_cut)
{
    s_frame_t data = {.n = 0};
    for (int i = 0; i < 100; i++)
        s_u8 (&data, (unsigned) i);
    s_frame_t tcp = s_tcp (40000, 443, 1, 2, 0x18, &data);
    s_frame_t ip = s_ipv4 (6, "10.0.0.1", "10.0.0.2", &tcp), f = s_eth (0x0800, &ip);
    f.n -= 30;  //  snaplen 84
    cr_assert_eq (s_decode (SN_LINK_ETHERNET, &f), SN_DECODE_OK);
    cr_assert_eq (pkt.ip_len, 140u);
    cr_assert_eq (pkt.payload_len, 70u);
    cr_assert_eq (pkt.payload_wire_len, 100u);
    cr_assert_eq (pkt.payload, f.b + 54);

    s_frame_t udp = s_udp (5000, 5001, &data);
    ip = s_ipv4 (17, "10.0.0.1", "10.0.0.2", &udp);
    f = s_eth (0x0800, &ip);
    f.n = 14 + 20 + 8 + 10;
    cr_assert_eq (s_decode (SN_LINK_ETHERNET, &f), SN_DECODE_OK);
    cr_assert_eq (pkt.ip_len, 128u);
    cr_assert_eq (pkt.payload_len, 10u);
    cr_assert_eq (pkt.payload_wire_len, 100u);
    s_assert_no_drops ();
}

Test (sn_decode, ipv4_fragments)
{
    //  First fragment (MF, offset 0): UDP header says 1008 bytes, 24 of them in this fragment.
    s_frame_t l4 = {.n = 0};
    s_u16 (&l4, 5353);
    s_u16 (&l4, 53);
    s_u16 (&l4, 1008);
    s_u16 (&l4, 0);
    for (int i = 0; i < 16; i++)
        s_u8 (&l4, 'a');
    s_frame_t ip = s_ipv4x (17, "10.0.0.1", "10.0.0.2", &l4, 0x2000, 0), f = s_eth (0x0800, &ip);
    cr_assert_eq (s_decode (SN_LINK_ETHERNET, &f), SN_DECODE_OK);
    cr_assert (pkt.fragment);
    cr_assert_eq (pkt.proto, 17);
    cr_assert_eq (pkt.sport, 5353);
    cr_assert_eq (pkt.dport, 53);
    cr_assert_eq (pkt.ip_len, 44u);
    cr_assert_eq (pkt.payload_len, 16u);
    cr_assert_eq (pkt.payload_wire_len, 1000u);
    cr_assert_eq (stats.fragments_first, 1u);
    s_assert_no_drops ();

    //  A later fragment (offset 3 * 8 bytes, MF still set, then the last one).
    s_frame_t rest = s_bytes ("later bytes of the datagram");
    ip = s_ipv4x (17, "10.0.0.1", "10.0.0.2", &rest, 0x2003, 0);
    f = s_eth (0x0800, &ip);
    s_assert_dropped (s_decode (SN_LINK_ETHERNET, &f), SN_DROP_FRAGMENT);
    ip = s_ipv4x (17, "10.0.0.1", "10.0.0.2", &rest, 0x0080, 0);
    f = s_eth (0x0800, &ip);
    cr_assert_eq (s_decode (SN_LINK_ETHERNET, &f), SN_DECODE_DROP);
    cr_assert_eq (stats.drops[SN_DROP_FRAGMENT], 2u);
    cr_assert_eq (stats.fragments_first, 1u);

    //  A first fragment of a tunnel protocol is not opened: the inner header may be cut.
    s_setup ();
    s_frame_t inner = s_tcp4_hello ();
    ip = s_ipv4x (4, "192.0.2.1", "192.0.2.2", &inner, 0x2000, 0);
    cr_assert_eq (s_decode (SN_LINK_RAW, &ip), SN_DECODE_OK);
    cr_assert (pkt.fragment);
    cr_assert_eq (pkt.proto, 4);
    cr_assert_eq (pkt.tunnel_depth, 0);
    cr_assert_not (pkt.has_ports);
    cr_assert_eq (stats.other_transport, 1u);
}

Test (sn_decode, icmp_type_code_in_ports)
{
    s_frame_t icmp = {.n = 0};
    s_u8 (&icmp, 3);  //  destination unreachable
    s_u8 (&icmp, 1);  //  host unreachable
    s_u16 (&icmp, 0);
    s_u32 (&icmp, 0);
    s_frame_t ip = s_ipv4 (1, "10.0.0.254", "10.0.0.1", &icmp);
    cr_assert_eq (s_decode (SN_LINK_RAW, &ip), SN_DECODE_OK);
    cr_assert_eq (pkt.proto, 1);
    cr_assert_eq (pkt.sport, 3);
    cr_assert_eq (pkt.dport, 1);
    cr_assert (pkt.has_ports);
    cr_assert_eq (pkt.payload, ip.b + 24);
    cr_assert_eq (pkt.payload_len, 4u);
    cr_assert_eq (stats.icmp, 1u);

    icmp.n = 0;
    s_u8 (&icmp, 128);  //  ICMPv6 echo request
    s_u8 (&icmp, 0);
    s_u16 (&icmp, 0);
    s_u32 (&icmp, 0x00010002);
    ip = s_ipv6 (58, "2001:db8::1", "2001:db8::2", &icmp);
    cr_assert_eq (s_decode (SN_LINK_RAW, &ip), SN_DECODE_OK);
    cr_assert_eq (pkt.proto, 58);
    cr_assert_eq (pkt.sport, 128);
    cr_assert_eq (pkt.dport, 0);
    cr_assert_eq (stats.icmp, 2u);
}

Test (sn_decode, sctp_and_other_transports)
{
    s_frame_t sctp = {.n = 0};
    s_u16 (&sctp, 2905);
    s_u16 (&sctp, 2906);
    s_u32 (&sctp, 0xabcd);
    s_u32 (&sctp, 0);
    s_u32 (&sctp, 0x00000004);  //  a chunk
    s_frame_t ip = s_ipv4 (132, "10.0.0.1", "10.0.0.2", &sctp);
    cr_assert_eq (s_decode (SN_LINK_RAW, &ip), SN_DECODE_OK);
    cr_assert_eq (pkt.proto, 132);
    cr_assert_eq (pkt.sport, 2905);
    cr_assert_eq (pkt.dport, 2906);
    cr_assert_eq (pkt.payload_len, 4u);
    cr_assert_eq (stats.sctp, 1u);

    s_frame_t ospf = s_bytes ("OSPF hello body");
    ip = s_ipv4 (89, "10.0.0.1", "224.0.0.5", &ospf);
    cr_assert_eq (s_decode (SN_LINK_RAW, &ip), SN_DECODE_OK);
    cr_assert_eq (pkt.proto, 89);
    cr_assert_not (pkt.has_ports);
    cr_assert_eq (pkt.sport, 0);
    cr_assert_eq (pkt.payload, ip.b + 20);
    cr_assert_eq (pkt.payload_len, ospf.n);
    cr_assert_eq (stats.other_transport, 1u);
}

Test (sn_decode, arp_and_other_non_ip)
{
    s_frame_t arp = {.n = 0};
    s_put (&arp, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);
    s_put (&arp, "\x02\x00\x00\x00\x00\x01\xc0\x00\x02\x01", 10);  //  sender MAC, IP
    s_put (&arp, "\x00\x00\x00\x00\x00\x00\xc0\x00\x02\x63", 10);  //  target
    s_frame_t f = s_eth (0x0806, &arp);
    //  A request is handed out as ARP (for sweep detection) and still counted as no-flow.
    sn_decode_rc_t rc = s_decode (SN_LINK_ETHERNET, &f);
    cr_assert_eq (rc, SN_DECODE_ARP);
    cr_assert_eq (stats.drops[SN_DROP_NOT_IP], 1u);
    cr_assert_eq (stats.arp, 1u);
    cr_assert_eq (pkt.sport, 1u);
    s_assert_addr (&pkt.src, "192.0.2.1");
    s_assert_addr (&pkt.dst, "192.0.2.99");
    cr_assert_eq (pkt.arp_sha[5], 1u);

    //  ARP for another protocol or cut short is only counted.
    s_setup ();
    s_frame_t short_arp = {.n = 0};
    s_put (&short_arp, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);
    f = s_eth (0x0806, &short_arp);
    s_assert_dropped (s_decode (SN_LINK_ETHERNET, &f), SN_DROP_NOT_IP);
    cr_assert_eq (stats.arp, 1u);

    s_setup ();
    f = s_eth (0x88cc, &arp);  //  LLDP
    s_assert_dropped (s_decode (SN_LINK_ETHERNET, &f), SN_DROP_NOT_IP);
    cr_assert_eq (stats.arp, 0u);

    s_setup ();
    f = s_eth (0x0026, &arp);  //  802.3 length field: LLC (STP)
    s_assert_dropped (s_decode (SN_LINK_ETHERNET, &f), SN_DROP_NOT_IP);
}

//  ---------------------------------------------------------------------------------------------
//  IPv6 extension headers

//  Hop-by-hop (8 bytes) -> destination options (16 bytes) -> fragment -> UDP.
static s_frame_t
s_ipv6_ext_chain (uint16_t frag_field)
{
    s_frame_t ext = {.n = 0};
    s_u8 (&ext, 60);  //  next: destination options
    s_u8 (&ext, 0);
    s_put (&ext, "\x01\x04\x00\x00\x00\x00", 6);  //  PadN
    s_u8 (&ext, 44);                              //  next: fragment
    s_u8 (&ext, 1);                               //  16 bytes
    s_put (&ext, "\x01\x0c", 2);
    for (int i = 0; i < 12; i++)
        s_u8 (&ext, 0);
    s_u8 (&ext, 17);  //  next: UDP
    s_u8 (&ext, 0);
    s_u16 (&ext, frag_field);
    s_u32 (&ext, 0xcafe);  //  identification
    s_frame_t data = s_bytes ("fragment data"), udp = {.n = 0};
    s_u16 (&udp, 33000);
    s_u16 (&udp, 53);
    s_u16 (&udp, 1500);  //  the whole datagram
    s_u16 (&udp, 0);
    s_append (&udp, &data);
    s_append (&ext, &udp);
    return s_ipv6 (0, "2001:db8::1", "2001:db8::2", &ext);
}

Test (sn_decode, ipv6_extension_headers_first_fragment)
{
    s_frame_t ip = s_ipv6_ext_chain (0x0001);  //  offset 0, M
    s_frame_t f = s_eth_vlan (3, 0x86dd, &ip);
    cr_assert_eq (s_decode (SN_LINK_ETHERNET, &f), SN_DECODE_OK);
    cr_assert_eq (pkt.ip_version, 6);
    cr_assert_eq (pkt.proto, 17);
    cr_assert (pkt.fragment);
    cr_assert_eq (pkt.sport, 33000);
    cr_assert_eq (pkt.dport, 53);
    cr_assert_eq (pkt.ip_len, 40u + 8 + 16 + 8 + 8 + 13);
    cr_assert_eq (pkt.payload, f.b + 18 + 40 + 32 + 8);
    cr_assert_eq (pkt.payload_len, 13u);
    cr_assert_eq (pkt.payload_wire_len, 1492u);
    cr_assert_eq (pkt.n_vlan, 1);
    cr_assert_eq (pkt.vlan[0], 3);
    cr_assert_eq (stats.fragments_first, 1u);
    s_assert_no_drops ();
}

Test (sn_decode, ipv6_extension_headers_later_fragment)
{
    s_frame_t ip = s_ipv6_ext_chain ((uint16_t) (185 << 3));  //  offset 1480, last
    s_frame_t f = s_eth (0x86dd, &ip);
    s_assert_dropped (s_decode (SN_LINK_ETHERNET, &f), SN_DROP_FRAGMENT);
    cr_assert_eq (stats.fragments_first, 0u);
}

Test (sn_decode, ipv6_atomic_fragment_is_not_a_fragment)
{
    s_frame_t ip = s_ipv6_ext_chain (0x0000);  //  RFC 6946: offset 0, no M
    cr_assert_eq (s_decode (SN_LINK_RAW, &ip), SN_DECODE_OK);
    cr_assert_not (pkt.fragment);
    cr_assert_eq (pkt.proto, 17);
    cr_assert_eq (stats.fragments_first, 0u);
}

Test (sn_decode, ipv6_extension_chain_past_capture_is_truncated)
{
    //  A hop-by-hop header claiming 88 bytes, in a 64-byte capture of a bigger packet.
    s_frame_t ext = {.n = 0};
    s_u8 (&ext, 6);
    s_u8 (&ext, 10);
    for (int i = 0; i < 86; i++)
        s_u8 (&ext, 0);
    s_frame_t tcp = s_tcp (1, 2, 3, 4, 0x02, NULL);
    s_append (&ext, &tcp);
    s_frame_t ip = s_ipv6 (0, "2001:db8::1", "2001:db8::2", &ext);
    ip.n = 64;
    s_assert_dropped (s_decode (SN_LINK_RAW, &ip), SN_DROP_TRUNCATED);
    //  The same when the payload length itself stops inside the chain.
    s_setup ();
    ip = s_ipv6 (0, "2001:db8::1", "2001:db8::2", &ext);
    ip.b[4] = 0;
    ip.b[5] = 40;
    s_assert_dropped (s_decode (SN_LINK_RAW, &ip), SN_DROP_TRUNCATED);
    //  And the full packet decodes.
    s_setup ();
    ip = s_ipv6 (0, "2001:db8::1", "2001:db8::2", &ext);
    cr_assert_eq (s_decode (SN_LINK_RAW, &ip), SN_DECODE_OK);
    cr_assert_eq (pkt.proto, 6);
    cr_assert_eq (pkt.tcp_flags, 0x02);
}

Test (sn_decode, ipv6_no_next_header)
{
    s_frame_t empty = {.n = 0};
    s_frame_t ip = s_ipv6 (59, "2001:db8::1", "2001:db8::2", &empty);
    cr_assert_eq (s_decode (SN_LINK_RAW, &ip), SN_DECODE_OK);
    cr_assert_eq (pkt.proto, 59);
    cr_assert_not (pkt.has_ports);
    cr_assert_eq (pkt.ip_len, 40u);
    cr_assert_eq (stats.other_transport, 1u);
}

//  ---------------------------------------------------------------------------------------------
//  Truncation: every prefix, in a buffer of exactly that size so ASan sees any over-read.

static sn_decode_rc_t
s_decode_exact (int link, const uint8_t *bytes, uint32_t n, uint8_t **copy)
{
    *copy = malloc (n ? n : 1);
    cr_assert_not_null (*copy);
    memcpy (*copy, bytes, n);
    return sn_decode (link, *copy, n, &pkt, &stats);
}

Test (sn_decode, every_prefix_of_vlan_ipv6_tcp)
{
    s_frame_t data = s_bytes ("GET / HTTP/1.1\r\n");
    s_frame_t tcp = s_tcp (50000, 80, 0xfffffff0u, 77, 0x18, &data);
    s_frame_t ip = s_ipv6 (6, "2001:db8::1", "2001:db8::2", &tcp);
    s_frame_t f = s_eth_vlan (99, 0x86dd, &ip);
    const uint32_t hdrs = 14 + 4 + 40 + 20;
    for (uint32_t n = 0; n < f.n; n++) {
        uint8_t *copy;
        sn_decode_rc_t rc = s_decode_exact (SN_LINK_ETHERNET, f.b, n, &copy);
        if (n < hdrs) {
            cr_assert_eq (rc, SN_DECODE_DROP, "prefix %u", n);
        }
        else {
            cr_assert_eq (rc, SN_DECODE_OK, "prefix %u", n);
            cr_assert_eq (pkt.sport, 50000);
            cr_assert_eq (pkt.tcp_seq, 0xfffffff0u);
            cr_assert_eq (pkt.n_vlan, 1);
            cr_assert_eq (pkt.vlan[0], 99);
            cr_assert_eq (pkt.payload, copy + hdrs);
            cr_assert_eq (pkt.payload_len, n - hdrs);
            cr_assert_eq (pkt.payload_wire_len, data.n);
            cr_assert_eq (pkt.ip_len, 40u + 20 + data.n);
        }
        free (copy);
    }
    //  Every short prefix was dropped as truncated, nothing else.
    cr_assert_eq (stats.drops[SN_DROP_TRUNCATED], hdrs);
    cr_assert_eq (stats.packets, f.n);
}

//  Any frame's prefixes on its link: dropped, or a packet that stays inside the buffer.
static void
s_sweep (int link, const s_frame_t *f)
{
    for (uint32_t n = 0; n <= f->n; n++) {
        uint8_t *copy;
        sn_decode_rc_t rc = s_decode_exact (link, f->b, n, &copy);
        if (rc == SN_DECODE_OK) {
            cr_assert (pkt.ip_version == 4 || pkt.ip_version == 6, "prefix %u", n);
            cr_assert_eq (pkt.src.len, pkt.ip_version == 4 ? 4 : 16);
            if (pkt.payload_len) {
                cr_assert (pkt.payload >= copy && pkt.payload + pkt.payload_len <= copy + n,
                           "link %d prefix %u: payload outside the capture", link, n);
            }
            cr_assert_leq (pkt.payload_len, pkt.payload_wire_len, "prefix %u", n);
            cr_assert_leq (pkt.tunnel_depth, SN_TUNNEL_MAX);
            cr_assert_leq (pkt.n_vlan, MM_VLAN_MAX);
        }
        free (copy);
    }
}

Test (sn_decode, every_prefix_of_tunnels_and_links)
{
    s_frame_t hello = s_tcp4_hello ();
    s_frame_t eth = s_eth_vlan (5, 0x0800, &hello);
    //  GRE (all options) -> ERSPAN II -> Ethernet/VLAN -> IPv4/TCP.
    s_frame_t span = {.n = 0};
    s_u32 (&span, 0x10000001);
    s_u32 (&span, 0);
    s_append (&span, &eth);
    s_frame_t g = s_gre (0xb000, 0x88be, &span);
    s_frame_t o = s_ipv4 (47, "192.0.2.1", "192.0.2.2", &g), f = s_eth (0x0800, &o);
    s_sweep (SN_LINK_ETHERNET, &f);
    //  VXLAN over IPv6.
    s_frame_t vx = {.n = 0};
    s_u32 (&vx, 0x08000000);
    s_u32 (&vx, 0x00000100);
    s_append (&vx, &eth);
    s_frame_t u = s_udp (1, 4789, &vx);
    o = s_ipv6 (17, "2001:db8::1", "2001:db8::2", &u);
    f = s_eth (0x86dd, &o);
    s_sweep (SN_LINK_ETHERNET, &f);
    //  MPLS pseudowire, PPPoE, IPv6 extension chain, SLL, SLL2, PPP, NULL, CHDLC.
    s_frame_t mp = {.n = 0};
    s_u32 (&mp, (16u << 12) | 64);
    s_u32 (&mp, (17u << 12) | (1u << 8) | 64);
    s_u32 (&mp, 0);
    s_append (&mp, &eth);
    f = s_eth (0x8847, &mp);
    s_sweep (SN_LINK_ETHERNET, &f);
    s_frame_t pp = {.n = 0};
    s_u16 (&pp, 0x1100);
    s_u16 (&pp, 1);
    s_u16 (&pp, 2 + hello.n);
    s_u16 (&pp, 0x0021);
    s_append (&pp, &hello);
    f = s_eth (0x8864, &pp);
    s_sweep (SN_LINK_ETHERNET, &f);
    f = s_ipv6_ext_chain (0x0001);
    s_sweep (SN_LINK_RAW, &f);
    s_sweep (SN_LINK_IPV6, &f);
    static const uint8_t sll[16] = {0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00};
    f = s_hdr (sll, 16, &hello);
    s_sweep (SN_LINK_SLL, &f);
    static const uint8_t sll2[20] = {0x08, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6};
    f = s_hdr (sll2, 20, &hello);
    s_sweep (SN_LINK_SLL2, &f);
    static const uint8_t ppp[4] = {0xff, 0x03, 0x00, 0x21}, nul[4] = {2, 0, 0, 0},
                         hdlc[4] = {0x0f, 0, 0x08, 0};
    f = s_hdr (ppp, 4, &hello);
    s_sweep (SN_LINK_PPP, &f);
    f = s_hdr (nul, 4, &hello);
    s_sweep (SN_LINK_NULL, &f);
    f = s_hdr (hdlc, 4, &hello);
    s_sweep (SN_LINK_CHDLC, &f);
    s_sweep (SN_LINK_IPV4, &hello);
}

Test (sn_decode, random_bytes_never_escape_the_buffer)
{
    //  Deterministic xorshift noise, with a valid-looking start on each link type now and then.
    uint32_t x = 2463534242u;
    const int links[] = {0, 1, 9, 12, 104, 108, 113, 228, 229, 276};
    s_frame_t hello = s_tcp4_hello ();
    for (int round = 0; round < 4000; round++) {
        s_frame_t f = {.n = 0};
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        uint32_t n = x % 200;
        for (uint32_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            s_u8 (&f, x & 0xff);
        }
        if (round & 1) {
            //  Make the noise plausibly IP at a few offsets to get past the first checks.
            uint32_t at = x % 24;
            if (at < f.n)
                f.b[at] = (x & 0x100) ? 0x45 : 0x60;
            if (f.n > 13) {
                f.b[12] = 0x08;
                f.b[13] = 0x00;
            }
            if (round % 7 == 1 && f.n > hello.n + 4)
                memcpy (f.b + 4, hello.b, 10);
        }
        s_sweep (links[(unsigned) round % (sizeof links / sizeof links[0])], &f);
    }
    cr_assert_gt (stats.packets, 0u);
}

//  ---------------------------------------------------------------------------------------------
//  Real captures, counted with libpcap.
//
//  The expected counts were established independently of sn_decode, by a throwaway Python
//  program that parses the pcap/pcapng file format and every header itself (link header, VLAN,
//  IPv4 IHL/total length/fragment offset, IPv6 extension headers, minimal transport header and
//  TCP data offset), and cross-checked by hand on the odd packets:
//  - reasm_crash_anon.pcapng (SLL, 209 packets): 207 TCP; packet 87 (1-based) is cut by the
//    capture inside its TCP header (IP total length 52, TCP data offset 32 bytes, only 20
//    captured): truncated; packet 95 has a TCP data offset of 0: malformed.
//  - linux_dlt_sll2.pcap (SLL2, 6 packets): 2 ICMP and 2 ICMPv6 echo packets, one ARP and one
//    RARP (ethertype 0x8035): the Zeek test core/linuxsll2.zeek prints the same ARP request
//    and the two ICMP echo exchanges.
//  - connect-with-header.pcap (NULL, little-endian AF_INET, 58 packets): all TCP.
//  - ocs.pcap (LINKTYPE_RAW 101, which libpcap reports as DLT_RAW 12 on Linux, 946 packets):
//    938 TCP and 8 UDP, nothing dropped (its nDPI .out lists TCP and DNS/UDP flows only).

#define S_CORPUS "/work/shared/corpus"

typedef struct {
    const char *path;
    int link;  //  LINKTYPE as libpcap reports it here
    uint32_t packets, ok, tcp, udp, icmp, arp;
    uint64_t drops[SN_DROP_COUNT_];
} s_capture_t;

static void
s_count_capture (const s_capture_t *e)
{
    struct stat st;
    if (stat (S_CORPUS, &st) != 0)
        cr_skip_test ("corpus %s is absent on this machine", S_CORPUS);
    char path[512];
    snprintf (path, sizeof path, "%s/%s", S_CORPUS, e->path);
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline (path, err);
    cr_assert_not_null (pc, "%s: %s", path, err);
    cr_assert_eq (pcap_datalink (pc), e->link, "%s: link %d", e->path, pcap_datalink (pc));
    struct pcap_pkthdr *h;
    const u_char *bytes;
    uint32_t n = 0, ok = 0;
    while (pcap_next_ex (pc, &h, &bytes) == 1) {
        n++;
        //  Copy to an exact-size buffer so ASan catches a read past the capture.
        uint8_t *copy = malloc (h->caplen ? h->caplen : 1);
        cr_assert_not_null (copy);
        memcpy (copy, bytes, h->caplen);
        if (sn_decode (pcap_datalink (pc), copy, h->caplen, &pkt, &stats) == SN_DECODE_OK) {
            ok++;
            if (pkt.payload_len)
                cr_assert (pkt.payload >= copy &&
                           pkt.payload + pkt.payload_len <= copy + h->caplen);
        }
        free (copy);
    }
    pcap_close (pc);
    cr_assert_eq (n, e->packets, "%s: %u packets", e->path, n);
    cr_assert_eq (ok, e->ok, "%s: %u decoded", e->path, ok);
    cr_assert_eq (stats.packets, e->packets);
    cr_assert_eq (stats.tcp, e->tcp, "%s: tcp %lu", e->path, (unsigned long) stats.tcp);
    cr_assert_eq (stats.udp, e->udp, "%s: udp %lu", e->path, (unsigned long) stats.udp);
    cr_assert_eq (stats.icmp, e->icmp, "%s: icmp %lu", e->path, (unsigned long) stats.icmp);
    cr_assert_eq (stats.arp, e->arp);
    for (int i = 0; i < SN_DROP_COUNT_; i++)
        cr_assert_eq (stats.drops[i], e->drops[i], "%s: drops[%s] = %lu", e->path,
                      sn_drop_name ((sn_drop_t) i), (unsigned long) stats.drops[i]);
}

Test (sn_decode, corpus_linux_sll)
{
    s_capture_t e = {.path = "nDPI/tests/cfgs/default/pcap/reasm_crash_anon.pcapng",
                     .link = SN_LINK_SLL,
                     .packets = 209,
                     .ok = 207,
                     .tcp = 207,
                     .drops = {[SN_DROP_TRUNCATED] = 1, [SN_DROP_MALFORMED] = 1}};
    s_count_capture (&e);
}

Test (sn_decode, corpus_linux_sll2)
{
    s_capture_t e = {.path = "zeek/testing/btest/Traces/linux_dlt_sll2.pcap",
                     .link = SN_LINK_SLL2,
                     .packets = 6,
                     .ok = 4,
                     .icmp = 4,
                     .arp = 1,
                     .drops = {[SN_DROP_NOT_IP] = 2}};
    s_count_capture (&e);
    cr_assert_eq (stats.ipv4, 2u);
    cr_assert_eq (stats.ipv6, 2u);
}

Test (sn_decode, corpus_null)
{
    s_capture_t e = {.path = "zeek/testing/btest/Traces/http/connect-with-header.pcap",
                     .link = SN_LINK_NULL,
                     .packets = 58,
                     .ok = 58,
                     .tcp = 58};
    s_count_capture (&e);
}

Test (sn_decode, corpus_rawip)
{
    s_capture_t e = {.path = "nDPI/tests/cfgs/default/pcap/ocs.pcap",
                     .link = SN_LINK_RAW_OLD,
                     .packets = 946,
                     .ok = 946,
                     .tcp = 938,
                     .udp = 8};
    s_count_capture (&e);
}
