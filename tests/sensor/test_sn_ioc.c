/*  sn_ioc: the indicator set (every type, subdomains, longest network, IPv6, expiry, removal,
    limits, memory) and its feed loaders (plain, CSV, nDPI JA3/SHA-1/categories/risky domains,
    Suricata iprep, datasets and datarep) with their malformed lines, WATCHLIST add/revoke, and
    copying a file's entries between sets (what a reload does when a file is refused). Feed
    samples are inline, in the formats of the corpus files they come from. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sn_ioc.h"

static sn_ioc_t *set;
static sn_ioc_match_t m;

static void
s_setup (void)
{
    set = sn_ioc_new (0);
    cr_assert (set);
}

static void
s_teardown (void)
{
    sn_ioc_destroy (&set);
    cr_assert_null (set);
}

TestSuite (sn_ioc, .init = s_setup, .fini = s_teardown);

static int
s_add (const char *value)
{
    const char *why = NULL;
    return sn_ioc_add (set, 0, value, strlen (value), NULL, &why);
}

static int
s_add_typed (uint8_t type, const char *value, uint8_t category, uint8_t severity)
{
    sn_ioc_meta_t meta = {.category = category, .severity = severity, .feed = "test"};
    const char *why = NULL;
    return sn_ioc_add (set, type, value, strlen (value), &meta, &why);
}

static bool
s_match (const char *value)
{
    memset (&m, 0, sizeof m);
    return sn_ioc_match_text (set, 0, value, strlen (value), 0, &m);
}

static mm_addr_t
s_ip (const char *text)
{
    mm_addr_t a = {0};
    if (inet_pton (AF_INET, text, a.b) == 1)
        a.len = 4;
    else if (inet_pton (AF_INET6, text, a.b) == 1)
        a.len = 16;
    return a;
}

static bool
s_addr (const char *text)
{
    mm_addr_t a = s_ip (text);
    memset (&m, 0, sizeof m);
    return sn_ioc_match_addr (set, &a, 0, &m);
}

static bool
s_domain (const char *name)
{
    memset (&m, 0, sizeof m);
    return sn_ioc_match_domain (set, name, strlen (name), 0, &m);
}

static bool
s_url (const char *host, const char *uri)
{
    memset (&m, 0, sizeof m);
    return sn_ioc_match_url (set, host, strlen (host), uri, strlen (uri), 0, &m);
}

//  Case-insensitive strstr (strcasestr is a GNU extension).
static bool
s_has (const char *hay, const char *needle)
{
    size_t n = strlen (needle);
    for (; hay && *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && (hay[i] | 0x20) == (needle[i] | 0x20))
            i++;
        if (i == n)
            return true;
    }
    return false;
}

static int
s_load (const char *name, const char *text, sn_ioc_report_t *rep)
{
    return sn_ioc_load_buffer (set, name, text, strlen (text), rep);
}

//  ---------------------------------------------------------------------------------------------
//  Matching

Test (sn_ioc, ipv4_and_ipv6_addresses)
{
    cr_assert_eq (s_add ("192.0.2.7"), 0);
    cr_assert_eq (s_add ("2001:db8::7"), 0);
    cr_assert_eq (s_add ("192.0.2.7"), 1, "a second add is a duplicate");
    cr_assert (s_addr ("192.0.2.7"));
    cr_assert_str_eq (m.value, "192.0.2.7");
    cr_assert_eq (m.type, MM_IOC_IP);
    cr_assert_eq (m.category, MM_CAT_IOC_MATCH);
    cr_assert_eq (m.severity, MM_SEV_MEDIUM, "unsaid category: ioc_match, medium");
    cr_assert (s_addr ("2001:db8::7"));
    cr_assert_str_eq (m.value, "2001:db8::7");
    cr_assert_not (s_addr ("192.0.2.8"));
    cr_assert_not (s_addr ("2001:db8::8"));
    cr_assert_not (s_addr ("::ffff:192.0.2.8"));
    //  IPv4-mapped IPv6 is IPv4, as an entry (Suricata "ip" datasets) and as a lookup.
    cr_assert (s_addr ("::ffff:192.0.2.7"));
    cr_assert_eq (s_add ("::ffff:198.51.100.1"), 0);
    cr_assert (s_addr ("198.51.100.1"));
    cr_assert_str_eq (m.value, "198.51.100.1");
    cr_assert_eq (sn_ioc_size (set), 3);
    cr_assert_eq (sn_ioc_count (set, MM_IOC_IP), 3);
}

Test (sn_ioc, networks_longest_match_first)
{
    cr_assert_eq (s_add_typed (MM_IOC_CIDR, "10.0.0.0/8", MM_CAT_SCAN, 0), 0);
    cr_assert_eq (s_add_typed (MM_IOC_CIDR, "10.1.0.0/16", MM_CAT_IOC_MATCH, 0), 0);
    cr_assert_eq (s_add_typed (MM_IOC_CIDR, "10.1.2.3/24", MM_CAT_MALWARE, 0), 0);
    cr_assert (s_addr ("10.1.2.200"));
    cr_assert_str_eq (m.value, "10.1.2.0/24", "host bits are cleared; the longest wins");
    cr_assert_eq (m.type, MM_IOC_CIDR);
    cr_assert_eq (m.category, MM_CAT_MALWARE);
    cr_assert_eq (m.severity, MM_SEV_HIGH);
    cr_assert (s_addr ("10.1.9.9"));
    cr_assert_str_eq (m.value, "10.1.0.0/16");
    cr_assert (s_addr ("10.200.0.1"));
    cr_assert_str_eq (m.value, "10.0.0.0/8");
    cr_assert_eq (m.severity, MM_SEV_LOW, "scan lists are low");
    cr_assert_not (s_addr ("11.0.0.1"));
    //  An exact address beats any network.
    cr_assert_eq (s_add ("10.1.2.5"), 0);
    cr_assert (s_addr ("10.1.2.5"));
    cr_assert_str_eq (m.value, "10.1.2.5");
    //  A /32 is an address.
    cr_assert_eq (s_add ("203.0.113.9/32"), 0);
    cr_assert (s_addr ("203.0.113.9"));
    cr_assert_eq (m.type, MM_IOC_IP);
    //  Networks as text: the network itself, or one that holds it.
    cr_assert (s_match ("10.1.2.0/25"));
    cr_assert_str_eq (m.value, "10.1.2.0/24");
    cr_assert_not (s_match ("11.0.0.0/8"));
}

Test (sn_ioc, ipv6_networks)
{
    cr_assert_eq (s_add ("2001:db8::/32"), 0);
    cr_assert_eq (s_add ("[2001:db8:1::1]/127"), 0);  //  nDPI's bracketed form
    cr_assert_eq (s_add ("2001:db8:1:2::/64"), 0);
    cr_assert (s_addr ("2001:db8:1::"));
    cr_assert_str_eq (m.value, "2001:db8:1::/127");
    cr_assert (s_addr ("2001:db8:1::1"));
    cr_assert_str_eq (m.value, "2001:db8:1::/127");
    cr_assert (s_addr ("2001:db8:1::2"));
    cr_assert_str_eq (m.value, "2001:db8::/32");
    cr_assert (s_addr ("2001:db8:1:2::99"));
    cr_assert_str_eq (m.value, "2001:db8:1:2::/64");
    cr_assert_not (s_addr ("2001:db9::1"));
    cr_assert_not (s_addr ("192.0.2.1"), "IPv4 never matches an IPv6 network");
    cr_assert_eq (sn_ioc_count (set, MM_IOC_CIDR), 3);
}

Test (sn_ioc, domains_match_every_subdomain)
{
    cr_assert_eq (s_add ("evil.com"), 0);
    cr_assert (s_domain ("evil.com"));
    cr_assert_str_eq (m.value, "evil.com");
    cr_assert_eq (m.type, MM_IOC_DOMAIN);
    cr_assert (s_domain ("a.b.evil.com"));
    cr_assert_str_eq (m.value, "evil.com");
    cr_assert (s_domain ("A.B.EVIL.COM."), "case and the trailing dot do not matter");
    cr_assert_not (s_domain ("notevil.com"));
    cr_assert_not (s_domain ("evil.com.au"));
    cr_assert_not (s_domain ("com"));
    cr_assert_not (s_domain (""));
    cr_assert_not (s_domain ("."));
    //  The most specific entry wins.
    cr_assert_eq (s_add_typed (MM_IOC_DOMAIN, "c2.evil.com", MM_CAT_MALWARE, MM_SEV_CRITICAL), 0);
    cr_assert (s_domain ("x.C2.evil.com"));
    cr_assert_str_eq (m.value, "c2.evil.com");
    cr_assert_eq (m.severity, MM_SEV_CRITICAL);
    cr_assert (s_domain ("x.c3.evil.com"));
    cr_assert_str_eq (m.value, "evil.com");
    //  Entry forms: "*.x", ".x", "X." and upper case are the same domain.
    cr_assert_eq (s_add ("*.Bad.Example."), 0);
    cr_assert_eq (s_add (".bad.example"), 1);
    cr_assert (s_domain ("www.bad.example"));
    cr_assert_str_eq (m.value, "bad.example");
}

Test (sn_ioc, top_level_domains_are_policy)
{
    cr_assert_eq (s_add (".tk"), 0);
    cr_assert (s_domain ("whois.dot.tk"));
    cr_assert_str_eq (m.value, "tk");
    cr_assert_eq (m.category, MM_CAT_POLICY);
    cr_assert_eq (m.severity, MM_SEV_LOW);
    cr_assert_eq (s_add ("localhost"), -1, "a bare single label is refused");
    const char *why = NULL;
    cr_assert_eq (sn_ioc_add (set, 0, "evil", 4, NULL, &why), -1);
    cr_assert (why && strstr (why, "single label"), "%s", why);
}

Test (sn_ioc, urls_host_path_and_query)
{
    cr_assert_eq (s_add ("http://Evil.COM:80/dl/x.exe?id=1#top"), 0);
    cr_assert_eq (s_add ("https://evil.com:443/gate"), 0);
    cr_assert_eq (s_add ("http://user:pw@other.example:8080/a"), 0);
    cr_assert_eq (s_add ("evil.org/path"), 0, "no scheme: a path makes it a URL");
    cr_assert_eq (sn_ioc_count (set, MM_IOC_URL), 4);
    cr_assert (s_url ("evil.com", "/dl/x.exe?id=1"));
    cr_assert_str_eq (m.value, "evil.com/dl/x.exe?id=1");
    cr_assert_eq (m.type, MM_IOC_URL);
    cr_assert_not (s_url ("evil.com", "/dl/x.exe?id=2"), "an entry with a query needs it");
    cr_assert_not (s_url ("evil.com", "/dl/x.exe"));
    cr_assert (s_url ("EVIL.com:80", "/gate?anything=1"), "no query in the entry: any query");
    cr_assert_str_eq (m.value, "evil.com/gate");
    cr_assert (s_url ("", "http://evil.com/gate"), "absolute form (proxies)");
    cr_assert_not (s_url ("evil.com", "/GATE"), "paths are case-sensitive");
    cr_assert (s_url ("other.example:8080", "/a#frag"));
    cr_assert_not (s_url ("other.example", "/a"), "a port other than 80 is kept");
    cr_assert (s_url ("evil.org", "/path"));
    cr_assert_not (s_url ("evil.com", "*"));
    cr_assert (s_match ("HTTP://EVIL.COM/gate?x"));
    //  A URL typed as such without a path is the site's root.
    cr_assert_eq (s_add_typed (MM_IOC_URL, "root.example", 0, 0), 0);
    cr_assert (s_url ("root.example", "/"));
}

Test (sn_ioc, fingerprints)
{
    cr_assert_eq (s_add ("E7D705A3286E19EA42F587B344EE6865"), 0);
    cr_assert_eq (sn_ioc_count (set, MM_IOC_JA3), 1, "32 hex digits: JA3");
    uint8_t ja3[16] = {0xe7, 0xd7, 0x05, 0xa3, 0x28, 0x6e, 0x19, 0xea,
                       0x42, 0xf5, 0x87, 0xb3, 0x44, 0xee, 0x68, 0x65};
    cr_assert (sn_ioc_match_ja3 (set, ja3, 0, &m));
    cr_assert_str_eq (m.value, "e7d705a3286e19ea42f587b344ee6865");
    cr_assert_eq (m.type, MM_IOC_JA3);
    ja3[15] ^= 1;
    cr_assert_not (sn_ioc_match_ja3 (set, ja3, 0, &m));

    cr_assert_eq (s_add ("T13D1516H2_8daaf6152771_e5627efa2ab1"), 0);
    cr_assert (sn_ioc_match_ja4 (set, "t13d1516h2_8daaf6152771_e5627efa2ab1", 36, 0, &m));
    cr_assert_eq (m.type, MM_IOC_JA4);
    cr_assert_not (sn_ioc_match_ja4 (set, "t13d1516h2_8daaf6152771_e5627efa2ab2", 36, 0, &m));

    cr_assert_eq (s_add ("A4:FB:65:F8:A1:57:FE:0D:C0:17:C1:B5:51:62:63:3A:18:73:A0:B4"), 0);
    cr_assert_eq (s_add ("a4fb65f8a157fe0dc017c1b55162633a1873a0b4"), 1, "the same SHA-1");
    uint8_t sha1[20] = {0xa4, 0xfb, 0x65, 0xf8, 0xa1, 0x57, 0xfe, 0x0d, 0xc0, 0x17,
                        0xc1, 0xb5, 0x51, 0x62, 0x63, 0x3a, 0x18, 0x73, 0xa0, 0xb4};
    cr_assert (sn_ioc_match_cert_sha1 (set, sha1, 0, &m));
    cr_assert_eq (m.type, MM_IOC_CERT_SHA1);
    cr_assert_str_eq (m.value, "a4fb65f8a157fe0dc017c1b55162633a1873a0b4");

    cr_assert_eq (s_add ("d4c9d9027326271a89ce51fcaf328ed673f17be33469ff979e8ab8dd501e664f"), 0);
    cr_assert_eq (sn_ioc_count (set, MM_IOC_SHA256), 1);
    cr_assert (s_match ("D4C9D9027326271A89CE51FCAF328ED673F17BE33469FF979E8AB8DD501E664F"));
    //  The same bytes as different types never meet: a JA3 is not found as a SHA-1.
    cr_assert_not (
        sn_ioc_match_text (set, MM_IOC_CERT_SHA1, "e7d705a3286e19ea42f587b344ee6865", 32, 0, &m));
}

Test (sn_ioc, bad_values_say_why)
{
    static const struct {
        const char *text;
        uint8_t type;
        const char *why;
    } cases[] = {
        {"1.2.3.4/33", 0, "prefix"},
        {"1.2.3.0/0", 0, "/0"},
        {"1.2.3.4/", 0, "prefix"},
        {"256.1.1.1", 0, "address"},
        {"a..b.com", 0, "empty label"},
        {"bad_char!.com", 0, "bad character"},
        {"1.2.3", 0, "address"},
        {"", 0, "empty"},
        {"abc", MM_IOC_JA3, "JA3"},
        {"abc", MM_IOC_JA4, "JA4"},
        {"12", MM_IOC_CERT_SHA1, "SHA-1"},
        {"x", MM_IOC_SHA256, "SHA-256"},
        {"evil.com", MM_IOC_IP, "address"},
        {"://x/y", MM_IOC_URL, "scheme"},
        {"evil.com", 99, "unknown"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *why = NULL;
        int rc = sn_ioc_add (set, cases[i].type, cases[i].text, strlen (cases[i].text), NULL, &why);
        cr_assert_eq (rc, -1, "'%s' was accepted", cases[i].text);
        cr_assert (s_has (why, cases[i].why), "'%s': %s", cases[i].text, why);
    }
    cr_assert_eq (sn_ioc_size (set), 0);
}

Test (sn_ioc, remove_and_add_again)
{
    cr_assert_eq (s_add ("192.0.2.1"), 0);
    cr_assert_eq (s_add ("10.0.0.0/8"), 0);
    cr_assert_eq (s_add ("evil.com"), 0);
    cr_assert_eq (sn_ioc_remove (set, 0, "192.0.2.1", 9), 0);
    cr_assert_eq (sn_ioc_remove (set, 0, "192.0.2.1", 9), -1);
    cr_assert_not (s_addr ("192.0.2.1"));
    cr_assert_eq (sn_ioc_remove (set, MM_IOC_CIDR, "10.0.0.0/8", 10), 0);
    cr_assert_not (s_addr ("10.1.1.1"), "the network's prefix length is gone too");
    cr_assert (s_domain ("a.evil.com"));
    cr_assert_eq (s_add ("192.0.2.1"), 0);
    cr_assert (s_addr ("192.0.2.1"));
    cr_assert_eq (sn_ioc_size (set), 2);
}

Test (sn_ioc, expiry_hides_entries)
{
    sn_ioc_meta_t meta = {.category = MM_CAT_MALWARE, .expires = 1000, .feed = "w"};
    cr_assert_eq (sn_ioc_add (set, 0, "198.51.100.5", 12, &meta, NULL), 0);
    mm_addr_t a = s_ip ("198.51.100.5");
    cr_assert (sn_ioc_match_addr (set, &a, 999, &m));
    cr_assert_eq (m.expires, 1000);
    cr_assert_not (sn_ioc_match_addr (set, &a, 1000, &m));
    cr_assert (sn_ioc_match_addr (set, &a, 0, &m), "now 0: no expiry");
}

Test (sn_ioc, limit_is_kept)
{
    sn_ioc_t *small = sn_ioc_new (3);
    cr_assert (small);
    const char *why = NULL;
    cr_assert_eq (sn_ioc_add (small, 0, "1.1.1.1", 7, NULL, &why), 0);
    cr_assert_eq (sn_ioc_add (small, 0, "2.2.2.2", 7, NULL, &why), 0);
    cr_assert_eq (sn_ioc_add (small, 0, "a.example", 9, NULL, &why), 0);
    cr_assert_eq (sn_ioc_add (small, 0, "3.3.3.3", 7, NULL, &why), -1);
    cr_assert (strstr (why, "full"), "%s", why);
    cr_assert_eq (sn_ioc_add (small, 0, "1.1.1.1", 7, NULL, &why), 1, "duplicates still fine");
    sn_ioc_report_t rep;
    cr_assert_eq (sn_ioc_load_buffer (small, "more", "4.4.4.4\n5.5.5.5\n", 16, &rep), 0);
    cr_assert_eq (rep.dropped, 2);
    cr_assert_eq (sn_ioc_size (small), 3);
    sn_ioc_destroy (&small);
}

//  Many entries: every one is found, near misses are not (the full value is compared), and an
//  indicator costs well under 100 bytes.
Test (sn_ioc, many_entries_no_false_positives_small_memory)
{
    char text[64];
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        int kind = i % 4;
        if (kind == 0)
            snprintf (text, sizeof text, "%d.%d.%d.%d", 11 + i % 200, (i >> 8) & 255, i & 255,
                      (i >> 16) & 255);
        else if (kind == 1)
            snprintf (text, sizeof text, "host%d.example%d.com", i, i % 97);
        else if (kind == 2)
            snprintf (text, sizeof text, "%032x", (unsigned) i * 2654435761u);
        else
            snprintf (text, sizeof text, "2001:db8:%x:%x::1", i >> 16, i & 0xffff);
        int rc = s_add (text);
        cr_assert (rc == 0 || rc == 1, "%s", text);
    }
    uint64_t size = sn_ioc_size (set);
    cr_assert_gt (size, (uint64_t) n * 99 / 100);
    double per = (double) sn_ioc_memory (set) / (double) size;
    cr_assert_lt (per, 100.0, "%.1f bytes per indicator", per);
    for (int i = 0; i < n / 4; i += 7) {
        snprintf (text, sizeof text, "host%d.example%d.com", i * 4 + 1, (i * 4 + 1) % 97);
        cr_assert (s_match (text), "%s", text);
        snprintf (text, sizeof text, "host%d.example%d.com", i * 4 + 1, (i * 4 + 2) % 97);
        cr_assert_not (s_match (text), "%s", text);
        snprintf (text, sizeof text, "2001:db8:%x:%x::1", (i * 4 + 3) >> 16, (i * 4 + 3) & 0xffff);
        cr_assert (s_match (text), "%s", text);
        snprintf (text, sizeof text, "2001:db8:%x:%x::2", (i * 4 + 3) >> 16, (i * 4 + 3) & 0xffff);
        cr_assert_not (s_match (text), "%s", text);
    }
}

//  ---------------------------------------------------------------------------------------------
//  Loaders

Test (sn_ioc, plain_list_with_every_type_and_bad_lines)
{
    static const char text[] = "# a plain list: one indicator per line, type guessed\r\n"
                               "\r\n"
                               "192.0.2.1\r\n"
                               "198.51.100.0/24 ; SBL123456\n"
                               "2001:db8::bad\n"
                               "evil.example # phishing\n"
                               "http://evil.example/gate.php\n"
                               "e7d705a3286e19ea42f587b344ee6865\n"
                               "a4fb65f8a157fe0dc017c1b55162633a1873a0b4\n"
                               "t13d1516h2_8daaf6152771_e5627efa2ab1\n"
                               "0.0.0.0 ads.example tracker.example localhost\n"
                               "127.0.0.1\tsinkholed.example\n"
                               "not a valid line at all !\n"
                               "999.1.1.1\n"
                               "1.2.3.4/40\n"
                               "ok.example\n";
    sn_ioc_report_t rep;
    cr_assert_eq (s_load ("lists/bad-stuff.txt", text, &rep), 0, "%s", rep.failure);
    cr_assert_str_eq (rep.format, "plain");
    cr_assert_eq (rep.lines, 16);
    cr_assert_eq (rep.added, 12);
    cr_assert_eq (rep.bad, 3);
    cr_assert_eq (rep.n_errors, 3);
    cr_assert (strstr (rep.errors[0], "lists/bad-stuff.txt:13: "), "%s", rep.errors[0]);
    cr_assert (strstr (rep.errors[1], ":14: ") && strstr (rep.errors[1], "address"), "%s",
               rep.errors[1]);
    cr_assert (strstr (rep.errors[2], ":15: ") && strstr (rep.errors[2], "prefix"), "%s",
               rep.errors[2]);
    cr_assert (s_addr ("198.51.100.77"));
    cr_assert_str_eq (m.feed, "bad-stuff", "the feed is the file name without extension");
    cr_assert (s_domain ("www.evil.example"));
    cr_assert (s_url ("evil.example", "/gate.php"));
    cr_assert (s_domain ("tracker.example"));
    cr_assert (s_domain ("sinkholed.example"));
    cr_assert_not (s_domain ("localhost"));
    cr_assert_not (s_addr ("0.0.0.0"), "a hosts file's sinkhole address is not an entry");
    cr_assert (s_match ("T13D1516H2_8DAAF6152771_E5627EFA2AB1"));
    cr_assert (s_domain ("ok.example"));
}

Test (sn_ioc, bad_lines_are_counted_but_only_five_quoted)
{
    char text[2048];
    size_t len = (size_t) snprintf (text, sizeof text, "good.example\nalso-good.example\n");
    for (int i = 0; i < 8; i++)
        len += (size_t) snprintf (text + len, sizeof text - len, "bad line here\n");
    for (int i = 0; i < 10; i++)
        len += (size_t) snprintf (text + len, sizeof text - len, "h%d.example\n", i);
    sn_ioc_report_t rep;
    cr_assert_eq (s_load ("x", text, &rep), 0);
    cr_assert_eq (rep.bad, 8);
    cr_assert_eq (rep.n_errors, SN_IOC_ERRORS_MAX);
    cr_assert_eq (rep.added, 12);
}

Test (sn_ioc, directives_set_category_severity_block_feed)
{
    static const char text[] =
        "# mimamori: category=malware severity=critical block=yes feed=feodo\n"
        "192.0.2.10\n"
        "# mimamori: category=scan severity=low block=no\n"
        "192.0.2.20\n"
        "# mimamori: colour=blue\n";
    sn_ioc_report_t rep;
    cr_assert_eq (s_load ("f.txt", text, &rep), 0);
    cr_assert (s_addr ("192.0.2.10"));
    cr_assert_eq (m.category, MM_CAT_MALWARE);
    cr_assert_eq (m.severity, MM_SEV_CRITICAL);
    cr_assert (m.block);
    cr_assert_str_eq (m.feed, "feodo");
    cr_assert (s_addr ("192.0.2.20"));
    cr_assert_eq (m.category, MM_CAT_SCAN);
    cr_assert_eq (m.severity, MM_SEV_LOW);
    cr_assert_not (m.block);
    cr_assert_eq (rep.bad, 1, "an unknown directive is a bad line");
}

Test (sn_ioc, csv_with_header_category_severity_block)
{
    static const char text[] = "type,value,category,severity,block\n"
                               "ip,192.0.2.1,malware,high,true\n"
                               "cidr,10.9.0.0/16,scan,,\n"
                               "domain,\"c2.example\",C&C,critical,1\n"
                               "url,http://dl.example/x.exe,malware,medium,no\n"
                               "ja3,e7d705a3286e19ea42f587b344ee6865,,low\n"
                               "ja4,t13d1516h2_8daaf6152771_e5627efa2ab1\n"
                               "cert_sha1,a4fb65f8a157fe0dc017c1b55162633a1873a0b4,botnet\n"
                               "ipv6,2001:db8::1,7\n"
                               "ip,192.0.2.2,malware,urgent\n"
                               "colour,blue\n"
                               "ip,not-an-ip\n";
    sn_ioc_report_t rep;
    cr_assert_eq (s_load ("local.csv", text, &rep), 0, "%s", rep.failure);
    cr_assert_str_eq (rep.format, "csv");
    cr_assert_eq (rep.added, 8);
    cr_assert_eq (rep.bad, 3);
    cr_assert (strstr (rep.errors[0], "local.csv:10: bad severity"), "%s", rep.errors[0]);
    cr_assert (strstr (rep.errors[1], "unknown indicator type"), "%s", rep.errors[1]);
    cr_assert (s_addr ("192.0.2.1"));
    cr_assert_eq (m.category, MM_CAT_MALWARE);
    cr_assert_eq (m.severity, MM_SEV_HIGH);
    cr_assert (m.block);
    cr_assert (s_addr ("10.9.1.1"));
    cr_assert_eq (m.category, MM_CAT_SCAN);
    cr_assert_eq (m.severity, MM_SEV_LOW);
    cr_assert (s_domain ("x.c2.example"));
    cr_assert_eq (m.category, MM_CAT_MALWARE);
    cr_assert_eq (m.severity, MM_SEV_CRITICAL);
    cr_assert (s_url ("dl.example", "/x.exe"));
    cr_assert_not (m.block);
    cr_assert (s_match ("e7d705a3286e19ea42f587b344ee6865"));
    cr_assert_eq (m.severity, MM_SEV_LOW);
    cr_assert (s_match ("a4fb65f8a157fe0dc017c1b55162633a1873a0b4"));
    cr_assert_eq (m.category, MM_CAT_MALWARE);
    cr_assert (s_addr ("2001:db8::1"));
    cr_assert_eq (m.category, MM_CAT_LATERAL_MOVEMENT, "categories by number too");
}

//  The head of nDPI's example/ja3_fingerprints.csv (abuse.ch SSLBL).
Test (sn_ioc, ndpi_ja3_csv)
{
    static const char text[] =
        "################################################################\n"
        "# abuse.ch Suricata JA3 Fingerprint Blacklist (CSV)            #\n"
        "################################################################\n"
        "#\n"
        "# ja3_md5,Firstseen,Lastseen,Listingreason\n"
        "b386946a5a44d1ddcc843bc75336dfce,2017-07-14 18:08:15,2019-07-27 20:42:54,Dridex\n"
        "dff8a0aa1c904aaea76c5bf624e88333,2018-03-18 09:41:15,2020-10-27 09:50:24,Tofsee\n"
        "nothex,2018-03-18 09:41:15,2020-10-27 09:50:24,Broken\n";
    sn_ioc_report_t rep;
    cr_assert_eq (s_load ("example/ja3_fingerprints.csv", text, &rep), 0, "%s", rep.failure);
    cr_assert_str_eq (rep.format, "ndpi-ja3");
    cr_assert_eq (rep.added, 2);
    cr_assert_eq (rep.bad, 1);
    cr_assert (s_match ("dff8a0aa1c904aaea76c5bf624e88333"));
    cr_assert_eq (m.category, MM_CAT_MALWARE);
    cr_assert_eq (m.severity, MM_SEV_MEDIUM, "a JA3 alone is never an incident");
    cr_assert_str_eq (m.feed, "ja3_fingerprints");
}

//  The head of nDPI's example/sha1_fingerprints.csv (abuse.ch SSLBL).
Test (sn_ioc, ndpi_sha1_csv)
{
    static const char text[] =
        "# Listingdate,SHA1,Listingreason\n"
        "#The first entry (and only the first one) is fake.\n"
        "1970-01-01 00:00:00,0DDB34F875632C7E1EC09D75827F82D2336DFEB6, Fake\n"
        "2022-07-02 07:02:11,3784422d67a6ae0c82d60eeaf3850960a9896cb2,AsyncRAT C&C\n";
    sn_ioc_report_t rep;
    cr_assert_eq (s_load ("sha1_fingerprints.csv", text, &rep), 0, "%s", rep.failure);
    cr_assert_str_eq (rep.format, "ndpi-sha1");
    cr_assert_eq (rep.added, 2);
    uint8_t sha1[20] = {0x0d, 0xdb, 0x34, 0xf8, 0x75, 0x63, 0x2c, 0x7e, 0x1e, 0xc0,
                        0x9d, 0x75, 0x82, 0x7f, 0x82, 0xd2, 0x33, 0x6d, 0xfe, 0xb6};
    cr_assert (sn_ioc_match_cert_sha1 (set, sha1, 0, &m));
    cr_assert_eq (m.category, MM_CAT_MALWARE);
    cr_assert_eq (m.severity, MM_SEV_HIGH);
}

//  nDPI's example/risky_domains.txt: top-level domains, a policy matter.
Test (sn_ioc, ndpi_risky_domains)
{
    static const char text[] = "# https://www.spamhaus.org/statistics/tlds/\n"
                               ".fail\n.viajes\n.exposed\n.london\n.work\n.gq\n.ml\n.surk\n.tk\n"
                               ".xyz\n";
    sn_ioc_report_t rep;
    cr_assert_eq (s_load ("risky_domains.txt", text, &rep), 0, "%s", rep.failure);
    cr_assert_eq (rep.added, 10);
    cr_assert (s_domain ("whois.dot.tk"));
    cr_assert_eq (m.category, MM_CAT_POLICY);
    cr_assert_eq (m.severity, MM_SEV_LOW);
    cr_assert_not (s_domain ("example.com"));
}

//  nDPI's example/categories.txt: "name<TAB>category id"; 100 is malware.
Test (sn_ioc, ndpi_categories)
{
    static const char text[] = "#  Format: name\\tcategory_id\n"
                               "internetbadguys.com\t100\n"
                               "144.139.247.220\t100\n"
                               "172.30.69.0/24\t100\n"
                               "[2001:1670:8:40a6:a08e:332b:aa69:18dc]\t100\n"
                               "[2001:db8:1::1]/127\t100\n"
                               "allowed.example\t104\n"
                               "broken line\n";
    sn_ioc_report_t rep;
    cr_assert_eq (s_load ("categories.txt", text, &rep), 0, "%s", rep.failure);
    cr_assert_str_eq (rep.format, "ndpi-categories");
    cr_assert_eq (rep.added, 5);
    cr_assert_eq (rep.skipped, 1, "an 'allowed site' is not an indicator");
    cr_assert_eq (rep.bad, 1);
    cr_assert (s_addr ("172.30.69.103"));
    cr_assert_eq (m.category, MM_CAT_MALWARE);
    cr_assert (s_addr ("2001:db8:1::1"));
    cr_assert (s_addr ("2001:1670:8:40a6:a08e:332b:aa69:18dc"));
    cr_assert (s_domain ("www.internetbadguys.com"));
    cr_assert_not (s_domain ("allowed.example"));
}

//  Suricata IP reputation: a categories file, then reputation files that use it.
Test (sn_ioc, suricata_iprep)
{
    static const char cats[] = "1,BadHosts,Known bad hosts\n"
                               "2,CnC,Command and control servers\n"
                               "3,Scanners,Mass scanners\n";
    static const char reps[] = "192.0.2.1,1,101\n"
                               "198.51.100.0/24,2,88\n"
                               "203.0.113.5,3,10\n"
                               "2001:db8::5,2,127\n"
                               "192.0.2.9,1,0\n"
                               "192.0.2.10,1,300\n";
    sn_ioc_report_t rep;
    cr_assert_eq (s_load ("iprep/categories.txt", cats, &rep), 0, "%s", rep.failure);
    cr_assert_str_eq (rep.format, "iprep-categories");
    cr_assert_eq (rep.added, 0);
    cr_assert_eq (s_load ("iprep/reputation.list", reps, &rep), 0, "%s", rep.failure);
    cr_assert_str_eq (rep.format, "iprep");
    cr_assert_eq (rep.added, 4);
    cr_assert_eq (rep.skipped, 1, "score 0 means no data");
    cr_assert_eq (rep.bad, 1, "scores go to 127");
    cr_assert (s_addr ("192.0.2.1"));
    cr_assert_eq (m.category, MM_CAT_IOC_MATCH);
    cr_assert (s_addr ("198.51.100.200"));
    cr_assert_eq (m.category, MM_CAT_MALWARE, "CnC");
    cr_assert_eq (m.severity, MM_SEV_HIGH);
    cr_assert (s_addr ("203.0.113.5"));
    cr_assert_eq (m.category, MM_CAT_SCAN);
    cr_assert (s_addr ("2001:db8::5"));
    cr_assert_not (s_addr ("192.0.2.9"));
}

//  Suricata datarep files, as in suricata-verify datarep-01/02 (base64 strings, md5, sha256).
Test (sn_ioc, suricata_datarep)
{
    sn_ioc_report_t rep;
    cr_assert_eq (s_load ("dns_string.rep", "Z29vZ2xlLmNvbQ==,255\n", &rep), 0, "%s", rep.failure);
    cr_assert_str_eq (rep.format, "datarep");
    cr_assert (s_domain ("www.google.com"));
    cr_assert_str_eq (m.value, "google.com");
    cr_assert_eq (s_load ("dns_md5.rep",
                          "1d5920f4b44b27a802bd77c4f0536f5a,255\n"
                          "5ababd603b22780302dd8d83498e5172,100\n",
                          &rep),
                  0);
    cr_assert_eq (rep.added, 2);
    cr_assert_eq (sn_ioc_count (set, MM_IOC_JA3), 2, "an md5 is held as a JA3");
    cr_assert_eq (s_load ("dns_sha256.rep",
                          "d4c9d9027326271a89ce51fcaf328ed673f17be33469ff979e8ab8dd501e664f,255\n",
                          &rep),
                  0);
    cr_assert_eq (sn_ioc_count (set, MM_IOC_SHA256), 1);
}

//  suricata-verify datarep-03-bad-reputation, datarep-bad-datarep-string/-value and
//  datasets-datarep-mix: Suricata refuses these files; so do we, leaving nothing of them.
Test (sn_ioc, suricata_bad_datarep_files_are_refused)
{
    static const char *const files[] = {
        "1d5920f4b44b27a802bd77c4f0536f5a,65536\n5ababd603b22780302dd8d83498e5172,111.0\n",
        "Z29vZ2xlLm;NvbQ==,1\n",
        "Z29vZ2xlLmNvbQ==,-1\n",
        "Z29vZ2xlLmNvbQ==,1\nYmxhaA==\n",
    };
    sn_ioc_report_t rep;
    cr_assert_eq (s_load ("good.txt", "kept.example\n", &rep), 0);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        cr_assert_eq (s_load ("bad.rep", files[i], &rep), -1, "file %zu", i);
        cr_assert (strstr (rep.failure, "refused"), "%s", rep.failure);
        cr_assert_gt (rep.bad, 0);
    }
    cr_assert_eq (sn_ioc_size (set), 1, "nothing of a refused file stays");
    cr_assert_not (s_domain ("google.com"));
    cr_assert (s_domain ("kept.example"));
}

//  Suricata dataset files: one base64 string, md5, sha256 or address per line.
Test (sn_ioc, suricata_datasets)
{
    sn_ioc_report_t rep;
    //  datasets-match-subdomain/domains.lst: ".evil.com".
    cr_assert_eq (s_load ("domains.lst", "LmV2aWwuY29t\n", &rep), 0, "%s", rep.failure);
    cr_assert (s_domain ("sub.mail.evil.com"));
    cr_assert_str_eq (m.value, "evil.com");
    //  datasets-09-load: ipv4 and ip (IPv4-mapped) lists.
    cr_assert_eq (s_load ("datasets-ipv4.csv", "82.165.177.154\n", &rep), 0);
    cr_assert_eq (s_load ("datasets-ip.csv", "::ffff:82.165.177.154\n", &rep), 0);
    cr_assert_eq (rep.duplicates, 1, "the same address");
    cr_assert (s_addr ("82.165.177.154"));
    //  datasets-08-state-ipv6: fully written IPv6.
    cr_assert_eq (s_load ("state.csv", "0004:0005:0000:0000:0000:0000:0000:0006\n", &rep), 0);
    cr_assert (s_addr ("4:5::6"));
    //  datasets-02-load: a user agent ("curl/7.43.0") is no indicator type: refused.
    cr_assert_eq (s_load ("datasets.csv", "Y3VybC83LjQzLjA=\n", &rep), -1);
    cr_assert (strstr (rep.errors[0], "decodes to no indicator type"), "%s", rep.errors[0]);
    //  datasets-invalid-encoding.
    cr_assert_eq (s_load ("datasets.csv", "Y3VybC83Lj!QzLjA=\n", &rep), -1);
    cr_assert (strstr (rep.errors[0], "base64"), "%s", rep.errors[0]);
}

Test (sn_ioc, unrecognised_and_unreadable_files)
{
    sn_ioc_report_t rep;
    cr_assert_eq (s_load ("page.html", "<html><body>502 Bad Gateway</body></html>\n", &rep), -1);
    cr_assert (strstr (rep.failure, "page.html: 1 of 1 data lines are bad"), "%s", rep.failure);
    cr_assert_eq (s_load ("odd.csv", "a,b,c,d\n", &rep), -1);
    cr_assert (strstr (rep.failure, "odd.csv:1: format not recognised"), "%s", rep.failure);
    cr_assert_eq (sn_ioc_load_file (set, "/nonexistent/feed.txt", &rep), -1);
    cr_assert (strstr (rep.failure, "No such file"), "%s", rep.failure);
    cr_assert_eq (sn_ioc_load_file (set, "/", &rep), -1);
    cr_assert_eq (s_load ("empty.txt", "# nothing yet\n\n", &rep), 0, "an empty feed is fine");
    cr_assert_str_eq (rep.format, "empty");
    //  A binary file.
    static const char bin[] = "\x01\x02\x03\x00\x04\n";
    cr_assert_eq (sn_ioc_load_buffer (set, "bin", bin, sizeof bin - 1, &rep), -1);
    cr_assert_eq (sn_ioc_size (set), 0);
}

Test (sn_ioc, load_file_from_disk)
{
    char path[] = "/tmp/test_sn_ioc_XXXXXX";
    int fd = mkstemp (path);
    cr_assert_geq (fd, 0);
    static const char text[] = "type,value,category\nip,192.0.2.77,malware\n";
    cr_assert_eq (write (fd, text, sizeof text - 1), (ssize_t) sizeof text - 1);
    close (fd);
    sn_ioc_report_t rep;
    cr_assert_eq (sn_ioc_load_file (set, path, &rep), 0, "%s", rep.failure);
    cr_assert (s_addr ("192.0.2.77"));
    cr_assert_str_eq (m.feed, strrchr (path, '/') + 1);
    unlink (path);
}

//  What a reload does with a file that is refused or unchanged: its entries move to the new
//  set, the other file's do not.
Test (sn_ioc, copy_feed_moves_one_files_entries)
{
    sn_ioc_report_t rep;
    cr_assert_eq (s_load ("/feeds/a.txt",
                          "# mimamori: category=malware block=yes\n192.0.2.1\n"
                          "evil.example\n10.0.0.0/8\n",
                          &rep),
                  0);
    cr_assert_eq (s_load ("/feeds/b.txt", "192.0.2.2\n", &rep), 0);
    sn_ioc_t *next = sn_ioc_new (0);
    cr_assert (next);
    cr_assert_eq (sn_ioc_copy_feed (next, set, "/feeds/a.txt"), 3);
    mm_addr_t a = s_ip ("10.2.3.4");
    cr_assert (sn_ioc_match_addr (next, &a, 0, &m));
    cr_assert_eq (m.category, MM_CAT_MALWARE);
    cr_assert (m.block);
    cr_assert_str_eq (m.feed, "a");
    a = s_ip ("192.0.2.2");
    cr_assert_not (sn_ioc_match_addr (next, &a, 0, &m));
    cr_assert_eq (sn_ioc_copy_feed (next, set, "/feeds/none.txt"), 0);
    sn_ioc_destroy (&next);
}

//  ---------------------------------------------------------------------------------------------
//  WATCHLIST

static void
s_entry (mm_watchlist_t *wl, uint8_t op, uint8_t type, const char *value, uint8_t category,
         uint8_t severity, uint64_t expires)
{
    mm_wl_entry_t *e = &wl->entries[wl->n_entries++];
    memset (e, 0, sizeof *e);
    e->op = op;
    e->type = type;
    e->value = mm_str (value);
    e->category = category;
    e->severity = severity;
    e->feed = mm_str ("lateral");
    e->expires = expires;
}

Test (sn_ioc, watchlist_add_update_revoke_expire)
{
    static mm_watchlist_t wl;
    memset (&wl, 0, sizeof wl);
    wl.ts = 1000;
    wl.serial = 5;
    s_entry (&wl, MM_WL_ADD, MM_IOC_IP, "192.0.2.50", MM_CAT_LATERAL_MOVEMENT, 0, 0);
    s_entry (&wl, MM_WL_ADD, MM_IOC_DOMAIN, "c2.example", MM_CAT_MALWARE, MM_SEV_CRITICAL, 5000);
    s_entry (&wl, MM_WL_ADD, MM_IOC_CIDR, "198.51.100.0/24", 0, 0, 0);
    s_entry (&wl, MM_WL_ADD, MM_IOC_IP, "not-an-ip", 0, 0, 0);
    s_entry (&wl, MM_WL_ADD, MM_IOC_IP, "192.0.2.51", 0, 0, 900);  //  expired already
    sn_ioc_report_t rep;
    memset (&rep, 0, sizeof rep);
    cr_assert_eq (sn_ioc_apply_watchlist (set, &wl, &rep), 4);
    cr_assert_eq (rep.bad, 1);
    cr_assert (strstr (rep.errors[0], "watchlist 5 entry 3"), "%s", rep.errors[0]);
    cr_assert (s_addr ("192.0.2.50"));
    cr_assert_eq (m.category, MM_CAT_LATERAL_MOVEMENT);
    cr_assert_str_eq (m.feed, "lateral");
    cr_assert (s_domain ("x.c2.example"));
    cr_assert_eq (m.severity, MM_SEV_CRITICAL);
    cr_assert_not (s_addr ("192.0.2.51"));
    cr_assert_eq (sn_ioc_size (set), 3);

    //  Update (meta replaced) and revoke.
    memset (&wl, 0, sizeof wl);
    wl.ts = 2000;
    wl.serial = 6;
    s_entry (&wl, MM_WL_ADD, MM_IOC_IP, "192.0.2.50", MM_CAT_MALWARE, MM_SEV_HIGH, 0);
    s_entry (&wl, MM_WL_REVOKE, MM_IOC_CIDR, "198.51.100.0/24", 0, 0, 0);
    s_entry (&wl, MM_WL_REVOKE, MM_IOC_IP, "203.0.113.1", 0, 0, 0);  //  never added: fine
    cr_assert_eq (sn_ioc_apply_watchlist (set, &wl, NULL), 3);
    cr_assert (s_addr ("192.0.2.50"));
    cr_assert_eq (m.category, MM_CAT_MALWARE);
    cr_assert_eq (m.severity, MM_SEV_HIGH);
    cr_assert_not (m.block);
    cr_assert_not (s_addr ("198.51.100.9"));

    //  The aggregator may ask for blocking (the sensor's [block] defence decides if it can).
    memset (&wl, 0, sizeof wl);
    wl.ts = 2500;
    wl.serial = 6;
    s_entry (&wl, MM_WL_ADD, MM_IOC_IP, "192.0.2.50", MM_CAT_MALWARE, MM_SEV_HIGH, 0);
    wl.entries[0].action = MM_ACTION_BLOCK;
    cr_assert_eq (sn_ioc_apply_watchlist (set, &wl, NULL), 1);
    cr_assert (s_addr ("192.0.2.50"));
    cr_assert (m.block);

    //  An older list is ignored; a later one drops what expired.
    wl.serial = 4;
    cr_assert_eq (sn_ioc_apply_watchlist (set, &wl, NULL), -1);
    memset (&wl, 0, sizeof wl);
    wl.ts = 6000;
    wl.serial = 7;
    cr_assert_eq (sn_ioc_apply_watchlist (set, &wl, NULL), 0);
    cr_assert_not (s_domain ("c2.example"));
    cr_assert_eq (sn_ioc_size (set), 1);
}

//  A revocation takes back only what its own feed pushed: the same value pushed first by
//  another feed (an operator's list) keeps matching, with that feed's meta.
Test (sn_ioc, a_revocation_takes_back_only_its_own_feeds_entry)
{
    static mm_watchlist_t wl;
    memset (&wl, 0, sizeof wl);
    wl.ts = 1000;
    wl.serial = 1;
    s_entry (&wl, MM_WL_ADD, MM_IOC_IP, "192.0.2.60", MM_CAT_MALWARE, MM_SEV_HIGH, 0);
    wl.entries[0].feed = mm_str ("ops");
    s_entry (&wl, MM_WL_ADD, MM_IOC_IP, "192.0.2.60", MM_CAT_C2_BEACON, MM_SEV_CRITICAL, 0);
    s_entry (&wl, MM_WL_ADD, MM_IOC_IP, "192.0.2.61", MM_CAT_C2_BEACON, MM_SEV_CRITICAL, 0);
    cr_assert_eq (sn_ioc_apply_watchlist (set, &wl, NULL), 3);
    cr_assert (s_addr ("192.0.2.60"));
    cr_expect_str_eq (m.feed, "ops");  //  the first claim stays
    cr_expect_eq (m.category, MM_CAT_MALWARE);
    memset (&wl, 0, sizeof wl);
    wl.ts = 2000;
    wl.serial = 2;
    s_entry (&wl, MM_WL_REVOKE, MM_IOC_IP, "192.0.2.60", 0, 0, 0);  //  feed "lateral"
    s_entry (&wl, MM_WL_REVOKE, MM_IOC_IP, "192.0.2.61", 0, 0, 0);
    cr_assert_eq (sn_ioc_apply_watchlist (set, &wl, NULL), 2);
    cr_expect (s_addr ("192.0.2.60"));
    cr_expect_str_eq (m.feed, "ops");
    cr_expect_not (s_addr ("192.0.2.61"));
    //  Its own feed's revocation takes it.
    memset (&wl, 0, sizeof wl);
    wl.ts = 3000;
    wl.serial = 3;
    s_entry (&wl, MM_WL_REVOKE, MM_IOC_IP, "192.0.2.60", 0, 0, 0);
    wl.entries[0].feed = mm_str ("ops");
    cr_assert_eq (sn_ioc_apply_watchlist (set, &wl, NULL), 1);
    cr_expect_not (s_addr ("192.0.2.60"));
    //  A revocation naming no feed takes it whatever pushed it.
    memset (&wl, 0, sizeof wl);
    wl.ts = 4000;
    wl.serial = 4;
    s_entry (&wl, MM_WL_ADD, MM_IOC_IP, "192.0.2.62", 0, 0, 0);
    cr_assert_eq (sn_ioc_apply_watchlist (set, &wl, NULL), 1);
    cr_expect (s_addr ("192.0.2.62"));
    memset (&wl, 0, sizeof wl);
    wl.ts = 5000;
    wl.serial = 5;
    s_entry (&wl, MM_WL_REVOKE, MM_IOC_IP, "192.0.2.62", 0, 0, 0);
    wl.entries[0].feed = mm_str ("");
    cr_assert_eq (sn_ioc_apply_watchlist (set, &wl, NULL), 1);
    cr_expect_not (s_addr ("192.0.2.62"));
}

//  Months of WATCHLIST traffic (every entry with its own expiry, each revoked or expired
//  later) must not leave the set bigger than what it holds.
Test (sn_ioc, watchlist_churn_keeps_memory_bounded)
{
    sn_ioc_t *wset = sn_ioc_new (0);
    cr_assert_not_null (wset);
    static mm_watchlist_t wl;
    char value[32], previous[32];  //  entries borrow their strings: one buffer each
    uint64_t after_warmup = 0;
    for (uint32_t i = 0; i < 20000; i++) {
        memset (&wl, 0, sizeof wl);
        wl.ts = 1000 + i;
        wl.serial = i + 1;
        snprintf (value, sizeof value, "192.0.%u.%u", (i / 250) % 250, i % 250 + 1);
        s_entry (&wl, MM_WL_ADD, MM_IOC_IP, value, MM_CAT_MALWARE, MM_SEV_HIGH, 1000000 + i);
        if (i) {
            snprintf (previous, sizeof previous, "192.0.%u.%u", ((i - 1) / 250) % 250,
                      (i - 1) % 250 + 1);
            s_entry (&wl, MM_WL_REVOKE, MM_IOC_IP, previous, 0, 0, 0);
        }
        cr_assert_geq (sn_ioc_apply_watchlist (wset, &wl, NULL), 1);
        if (i == 1000)
            after_warmup = sn_ioc_memory (wset);
    }
    cr_assert_eq (sn_ioc_size (wset), 1, "%llu held", (unsigned long long) sn_ioc_size (wset));
    uint64_t end = sn_ioc_memory (wset);
    cr_assert_leq (end, after_warmup + 16384, "%llu bytes after 20,000 updates, %llu after 1,000",
                   (unsigned long long) end, (unsigned long long) after_warmup);
    sn_ioc_destroy (&wset);
}
