/*  Community ID against the values Suricata computed for the same flows
    (suricata-verify tests community-id-ipv4 and community-id-ipv6, test.yaml; both run with
    community-id-seed: 7 in their suricata.yaml). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "sn_cid.h"

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

static void
s_expect (uint16_t seed, const char *src, uint16_t sport, const char *dst, uint16_t dport,
          uint8_t proto, const char *expected)
{
    mm_addr_t s = s_addr (src), d = s_addr (dst);
    char cid[SN_CID_LEN + 1];
    cr_assert_eq (sn_cid (seed, &s, &d, proto, sport, dport, cid), 0);
    cr_assert_str_eq (cid, expected, "%s:%u -> %s:%u", src, sport, dst, dport);
    //  Both directions of a flow have the same ID.
    cr_assert_eq (sn_cid (seed, &d, &s, proto, dport, sport, cid), 0);
    cr_assert_str_eq (cid, expected, "reversed %s:%u -> %s:%u", src, sport, dst, dport);
}

Test (sn_cid, suricata_ipv4)
{
    s_expect (7, "172.26.0.39", 35958, "172.217.14.206", 443, 6, "1:IwiTNfuO7aCaamMijl+7/X9uLx0=");
}

Test (sn_cid, suricata_ipv6)
{
    s_expect (7, "2600:1f13:f8:d400:3a6:303c:e011:18eb", 60202, "2607:f8b0:400a:800::200e", 443, 6,
              "1:ptJhMvufAbB5nLDNW77cB800wFM=");
    s_expect (7, "2600:1f13:f8:d400:3a6:303c:e011:18eb", 33892, "2001:4860:4860::8888", 443, 6,
              "1:PGf+a0eBbs1OhuPtJmsF0Sm51v4=");
}

//  Seed 0 (the default): the same flow computed independently from the spec's layout
//  (seed, addresses, protocol, zero, ports; SHA-1; base64) with Python's hashlib.
Test (sn_cid, seed_zero)
{
    s_expect (0, "172.26.0.39", 35958, "172.217.14.206", 443, 6, "1:0rRFlkfZsYZ0l7PqLoMEAxHMqrI=");
}

Test (sn_cid, icmp_echo_pairs_and_one_way)
{
    mm_addr_t a = s_addr ("192.0.2.1"), b = s_addr ("198.51.100.2");
    char req[SN_CID_LEN + 1], rep[SN_CID_LEN + 1], unreach[SN_CID_LEN + 1];
    cr_assert_eq (sn_cid (0, &a, &b, 1, 8, 0, req), 0);  //  echo request
    cr_assert_eq (sn_cid (0, &b, &a, 1, 0, 0, rep), 0);  //  echo reply, other way
    cr_assert_str_eq (req, rep, "request and reply are one flow");
    cr_assert_eq (sn_cid (0, &a, &b, 1, 3, 1, unreach), 0);  //  unreachable: one-way
    cr_assert_str_neq (unreach, req);
    char back[SN_CID_LEN + 1];
    cr_assert_eq (sn_cid (0, &b, &a, 1, 3, 1, back), 0);
    cr_assert_str_neq (unreach, back, "one-way types are not reordered");
}

Test (sn_cid, rejects_mixed_families)
{
    mm_addr_t a = s_addr ("192.0.2.1"), b = s_addr ("2001:db8::1");
    char cid[SN_CID_LEN + 1];
    cr_assert_eq (sn_cid (0, &a, &b, 6, 1, 2, cid), -1);
}
