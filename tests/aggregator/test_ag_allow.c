/*  ag_allow: the allowlist gate: the built-in special-purpose list, the shipped list files,
    refused files, parent domains, CIDR inside and around, URL hosts, hashes, and a large list. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ag_allow.h"
#include "mm_proto.h"

#ifndef MM_ALLOWLISTS
#define MM_ALLOWLISTS "aggregator/allowlists"
#endif

#define S_BUILTIN 39  //  15 IPv4 ranges, 12 IPv6 ranges, 12 special-use names

//  Expects `norm` of `type` to be allowlisted by list `want` (NULL: not allowlisted).
static void
s_match (const ag_allow_t *gate, uint8_t type, const char *norm, const char *want)
{
    const char *got = ag_allow_match (gate, type, norm);
    if (!want)
        cr_expect_null (got, "%s %s: allowlisted by '%s'", mm_ioc_type_name (type), norm,
                        got ? got : "");
    else {
        cr_expect_not_null (got, "%s %s: not allowlisted", mm_ioc_type_name (type), norm);
        if (got)
            cr_expect_str_eq (got, want, "%s %s", mm_ioc_type_name (type), norm);
    }
}

//  Writes `text` to a new file `name` in a new temporary directory; returns its path.
static char *
s_write (char *dir, const char *name, const char *text)
{
    static char path[512];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen (path, "w");
    cr_assert_not_null (f);
    cr_assert_eq (fputs (text, f) >= 0, true);
    cr_assert_eq (fclose (f), 0);
    return path;
}

static void
s_rmdir (const char *dir, const char *const *names)
{
    char path[512];
    for (; *names; names++) {
        snprintf (path, sizeof path, "%s/%s", dir, *names);
        unlink (path);
    }
    rmdir (dir);
}

Test (ag_allow, builtin_special_purpose)
{
    ag_allow_t *gate = ag_allow_new ();
    cr_assert_not_null (gate);
    cr_expect_eq (ag_allow_entries (gate), S_BUILTIN);
    const char *sp = "special-purpose";
    //  Every IPv4 range: its first and last address, and the addresses just outside.
    const char *v4[][2] = {{"0.0.0.0", "0.255.255.255"},       {"10.0.0.0", "10.255.255.255"},
                           {"100.64.0.0", "100.127.255.255"},  {"127.0.0.0", "127.255.255.255"},
                           {"169.254.0.0", "169.254.255.255"}, {"172.16.0.0", "172.31.255.255"},
                           {"192.0.0.0", "192.0.0.255"},       {"192.0.2.0", "192.0.2.255"},
                           {"192.88.99.0", "192.88.99.255"},   {"192.168.0.0", "192.168.255.255"},
                           {"198.18.0.0", "198.19.255.255"},   {"198.51.100.0", "198.51.100.255"},
                           {"203.0.113.0", "203.0.113.255"},   {"224.0.0.0", "239.255.255.255"},
                           {"240.0.0.0", "255.255.255.255"}};
    for (size_t i = 0; i < sizeof v4 / sizeof v4[0]; i++) {
        s_match (gate, MM_IOC_IP, v4[i][0], sp);
        s_match (gate, MM_IOC_IP, v4[i][1], sp);
    }
    const char *outside[] = {
        "1.0.0.0",         "9.255.255.255", "11.0.0.0",        "100.63.255.255",  "100.128.0.0",
        "126.255.255.255", "128.0.0.0",     "169.253.255.255", "169.255.0.0",     "172.15.255.255",
        "172.32.0.0",      "192.0.1.0",     "192.0.3.0",       "192.88.98.255",   "192.88.100.0",
        "192.167.255.255", "192.169.0.0",   "198.17.255.255",  "198.20.0.0",      "198.51.99.255",
        "198.51.101.0",    "203.0.112.255", "203.0.114.0",     "223.255.255.255", "8.8.8.8"};
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++)
        s_match (gate, MM_IOC_IP, outside[i], NULL);

    //  Every IPv6 range, and neighbours.
    const char *v6[] = {
        "::",        "::1",          "::ffff:0:1",       "64:ff9b::808:808", "64:ff9b:1::1",
        "100::ffff", "2001::1",      "2001:1ff:ffff::1", "2001:db8::1",      "2002:c000:204::1",
        "fc00::1",   "fdff:ffff::1", "fe80::1",          "febf:ffff::1",     "ff02::1",
        "ffff::1"};
    for (size_t i = 0; i < sizeof v6 / sizeof v6[0]; i++)
        s_match (gate, MM_IOC_IP, v6[i], sp);
    const char *v6_out[] = {
        "::2",         "64:ff9b::1:0:0:0", "64:ff9b:2::1", "100:0:0:1::", "2001:200::1",
        "2001:db9::1", "2003::1",          "fe00::1",      "fec0::1",     "2001:4860:4860::8888"};
    for (size_t i = 0; i < sizeof v6_out / sizeof v6_out[0]; i++)
        s_match (gate, MM_IOC_IP, v6_out[i], NULL);
    //  A mapped address that did not come through normalisation: both ways.
    s_match (gate, MM_IOC_IP, "::ffff:8.8.8.8", sp);

    //  Every special-use name, a name under it, and look-alikes that are not.
    const char *names[] = {"localhost",   "invalid",     "test",         "example",
                           "example.com", "example.net", "example.org",  "local",
                           "onion",       "home.arpa",   "in-addr.arpa", "ip6.arpa"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char sub[300];
        s_match (gate, MM_IOC_DOMAIN, names[i], sp);
        snprintf (sub, sizeof sub, "a.b.%s", names[i]);
        s_match (gate, MM_IOC_DOMAIN, sub, sp);
        snprintf (sub, sizeof sub, "%s.jp", names[i]);
        s_match (gate, MM_IOC_DOMAIN, sub, NULL);
    }
    s_match (gate, MM_IOC_DOMAIN, "arpa", NULL);
    s_match (gate, MM_IOC_DOMAIN, "com", NULL);
    ag_allow_destroy (&gate);
    cr_expect_null (gate);
    ag_allow_destroy (&gate);  //  idempotent
}

Test (ag_allow, add_refuses_what_is_no_entry)
{
    ag_allow_t *gate = ag_allow_new ();
    cr_assert_not_null (gate);
    char why[256];
    cr_expect_eq (ag_allow_add_why (gate, "10.1.2.3/8", "x", why, sizeof why), -1);
    cr_expect_str_eq (why, "'10.1.2.3/8' has host bits set (the network is 10.0.0.0/8)");
    cr_expect_eq (ag_allow_add_why (gate, "2001:db8::1/32", "x", why, sizeof why), -1);
    cr_expect_str_eq (why, "'2001:db8::1/32' has host bits set (the network is 2001:db8::/32)");
    cr_expect_eq (ag_allow_add_why (gate, "10.0.0.0/33", "x", why, sizeof why), -1);
    cr_expect_str_eq (why, "'33' is not a prefix length 0..32");
    cr_expect_eq (ag_allow_add_why (gate, "10.0.0.0/", "x", why, sizeof why), -1);
    cr_expect_str_eq (why, "'' is not a prefix length 0..32");
    cr_expect_eq (ag_allow_add_why (gate, "1.2.3", "x", why, sizeof why), -1);
    cr_expect_str_eq (why, "'1.2.3' is not an IPv4 or IPv6 address");
    cr_expect_eq (ag_allow_add_why (gate, "::ffff:8.8.8.8", "x", why, sizeof why), -1);
    cr_expect_str_eq (why, "'::ffff:8.8.8.8' is an IPv4-mapped address: write it as IPv4");
    cr_expect_eq (ag_allow_add_why (gate, "*.example.jp", "x", why, sizeof why), -1);
    cr_expect_str_eq (why, "'*.example.jp' is not an address, network, domain name or hash (a "
                           "character a domain name cannot hold)");
    cr_expect_eq (ag_allow_add_why (gate, "", "x", why, sizeof why), -1);
    cr_expect_str_eq (why, "an empty entry");
    cr_expect_eq (ag_allow_add (gate, "a..b", "x"), -1);
    cr_expect_eq (ag_allow_add (gate, "8.8.8.8", ""), -1);
    cr_expect_eq (ag_allow_add (gate, NULL, "x"), -1);
    cr_expect_eq (ag_allow_add (NULL, "8.8.8.8", "x"), -1);
    cr_expect_eq (ag_allow_entries (gate), S_BUILTIN);

    //  Accepted spellings: upper case and a trailing dot on names, upper-case hex.
    cr_expect_eq (ag_allow_add (gate, "Corp.Example.JP.", "org-own"), 0);
    s_match (gate, MM_IOC_DOMAIN, "mail.corp.example.jp", "org-own");
    cr_expect_eq (ag_allow_add (gate, "0123456789ABCDEF0123456789ABCDEF01234567", "org-own"), 0);
    s_match (gate, MM_IOC_CERT_SHA1, "0123456789abcdef0123456789abcdef01234567", "org-own");
    //  A duplicate keeps its first list and is counted once.
    cr_expect_eq (ag_allow_add (gate, "10.0.0.0/8", "org-own"), 0);
    s_match (gate, MM_IOC_IP, "10.1.2.3", "special-purpose");
    cr_expect_eq (ag_allow_entries (gate), S_BUILTIN + 2);
    ag_allow_destroy (&gate);
}

//  Entries, loaded alone, of each shipped file.
static const struct {
    const char *file, *list;
    size_t entries;
} s_shipped[] = {{"cdn-cloud.list", "cdn-cloud", 43},
                 {"empty-hashes.list", "empty-hashes", 3},
                 {"public-resolvers.list", "public-resolvers", 39},
                 {"top-sites.list", "top-sites", 43}};

Test (ag_allow, shipped_files_load_clean)
{
    char err[4096];
    for (size_t i = 0; i < sizeof s_shipped / sizeof s_shipped[0]; i++) {
        ag_allow_t *gate = ag_allow_new ();
        cr_assert_not_null (gate);
        char path[512];
        snprintf (path, sizeof path, "%s/%s", MM_ALLOWLISTS, s_shipped[i].file);
        cr_expect_eq (ag_allow_load_file (gate, path, err, sizeof err), 0, "%s: %s", path, err);
        cr_expect_str_eq (err, "");
        cr_expect_eq (ag_allow_entries (gate), S_BUILTIN + s_shipped[i].entries, "%s", path);
        ag_allow_destroy (&gate);
    }
    ag_allow_t *gate = ag_allow_new ();
    cr_assert_not_null (gate);
    cr_expect_eq (ag_allow_load_dir (gate, MM_ALLOWLISTS, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq (err, "");
    cr_expect_eq (ag_allow_entries (gate), S_BUILTIN + 43 + 3 + 39 + 43);

    s_match (gate, MM_IOC_IP, "8.8.8.8", "public-resolvers");
    s_match (gate, MM_IOC_IP, "8.8.8.9", NULL);
    s_match (gate, MM_IOC_IP, "2001:4860:4860::8844", "public-resolvers");
    s_match (gate, MM_IOC_IP, "208.67.222.222", "public-resolvers");
    s_match (gate, MM_IOC_DOMAIN, "public.dns.iij.jp", "public-resolvers");
    s_match (gate, MM_IOC_DOMAIN, "dns.iij.jp", NULL);
    //  1.1.1.1 is both a resolver and in no CDN range here: the resolver list names it.
    s_match (gate, MM_IOC_IP, "1.1.1.1", "public-resolvers");
    s_match (gate, MM_IOC_IP, "104.16.132.229", "cdn-cloud");
    s_match (gate, MM_IOC_IP, "104.27.255.255", "cdn-cloud");
    s_match (gate, MM_IOC_IP, "104.28.0.1", NULL);
    s_match (gate, MM_IOC_IP, "104.32.0.1", NULL);
    s_match (gate, MM_IOC_IP, "2606:4700::6810:84e5", "cdn-cloud");
    s_match (gate, MM_IOC_IP, "151.101.1.69", "cdn-cloud");
    s_match (gate, MM_IOC_DOMAIN, "www.google.com", "top-sites");
    s_match (gate, MM_IOC_DOMAIN, "download.windowsupdate.com", "top-sites");
    s_match (gate, MM_IOC_DOMAIN, "news.yahoo.co.jp", "top-sites");
    s_match (gate, MM_IOC_DOMAIN, "yahoo.co.jp.evil.example.jp", NULL);
    s_match (gate, MM_IOC_DOMAIN, "evil-bucket.s3.amazonaws.com", NULL);  //  left out on purpose
    s_match (gate, MM_IOC_SHA256,
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "empty-hashes");
    ag_allow_destroy (&gate);
}

Test (ag_allow, bad_file_is_refused_whole)
{
    char dir[] = "/tmp/mm-allow-XXXXXX";
    cr_assert_not_null (mkdtemp (dir));
    const char *text = "# an operator's list\n"
                       "198.51.7.0/24\n"  //  line 2: good (not special: 198.51.7)
                       "\n"
                       "partner.example.jp   # a comment after an entry\n"
                       "10.1.2.3/8\n"  //  line 5
                       "two words\n"   //  line 6
                       "  \t\n"
                       "300.1.2.3\r\n"  //  line 8, CRLF
                       "good.example.jp\n"
                       "exa$mple.jp";  //  line 10, no final newline
    char *path = s_write (dir, "org-own.list", text);
    char want[1024];
    snprintf (want, sizeof want,
              "%s:5: '10.1.2.3/8' has host bits set (the network is 10.0.0.0/8)\n"
              "%s:6: more than one entry on the line\n"
              "%s:8: '300.1.2.3' is not an IPv4 or IPv6 address\n"
              "%s:10: 'exa$mple.jp' is not an address, network, domain name or hash (a "
              "character a domain name cannot hold)",
              path, path, path, path);
    ag_allow_t *gate = ag_allow_new ();
    cr_assert_not_null (gate);
    char err[2048];
    cr_expect_eq (ag_allow_load_file (gate, path, err, sizeof err), -1);
    cr_expect_str_eq (err, want);
    cr_expect_eq (ag_allow_entries (gate), S_BUILTIN);
    s_match (gate, MM_IOC_IP, "198.51.7.1", NULL);
    s_match (gate, MM_IOC_DOMAIN, "partner.example.jp", NULL);

    //  More than 20 bad lines: the first 20, then how many more.
    char many[2048];
    size_t used = 0;
    for (int i = 0; i < 25; i++)
        used += (size_t) snprintf (many + used, sizeof many - used, "bad entry\n");
    path = s_write (dir, "many.list", many);
    cr_expect_eq (ag_allow_load_file (gate, path, err, sizeof err), -1);
    int lines = 1;
    for (const char *p = err; *p; p++)
        lines += *p == '\n';
    cr_expect_eq (lines, 21);
    char last[600];
    snprintf (last, sizeof last, "\n%s: 5 more errors", path);
    cr_expect_str_eq (strrchr (err, '\n'), last);
    snprintf (last, sizeof last, "%s:1: more than one entry on the line\n", path);
    cr_expect_eq (strncmp (err, last, strlen (last)), 0, "%s", err);

    //  The good file loads under its name; a directory loads the rest and reports the refused.
    const char *files[] = {"org-own.list", "many.list", "a-good.list", "notes.txt", NULL};
    s_write (dir, "a-good.list", "203.0.114.0/24\nsupplier.example.jp\n");
    s_write (dir, "notes.txt", "not a list\n");
    cr_expect_eq (ag_allow_load_dir (gate, dir, err, sizeof err), -1);
    cr_expect_eq (ag_allow_entries (gate), S_BUILTIN + 2);
    s_match (gate, MM_IOC_IP, "203.0.114.9", "a-good");
    s_match (gate, MM_IOC_DOMAIN, "www.supplier.example.jp", "a-good");
    //  many.list's 21 lines, then org-own.list's 4 (sorted by name; the good file adds none).
    lines = 1;
    for (const char *p = err; *p; p++)
        lines += *p == '\n';
    cr_expect_eq (lines, 25);
    cr_expect_str_eq (strstr (err, want), want);
    s_rmdir (dir, files);

    cr_expect_eq (ag_allow_load_file (gate, "/nonexistent/x.list", err, sizeof err), -1);
    cr_expect_str_eq (err, "/nonexistent/x.list: No such file or directory");
    cr_expect_eq (ag_allow_load_dir (gate, "/nonexistent", err, sizeof err), -1);
    cr_expect_str_eq (err, "/nonexistent: No such file or directory");
    ag_allow_destroy (&gate);
}

Test (ag_allow, domains_match_their_parents)
{
    ag_allow_t *gate = ag_allow_new ();
    cr_assert_not_null (gate);
    cr_assert_eq (ag_allow_add (gate, "corp.co.jp", "org-own"), 0);
    cr_assert_eq (ag_allow_add (gate, "vpn.partner.jp", "org-own"), 0);
    s_match (gate, MM_IOC_DOMAIN, "sub.example.com", "special-purpose");
    s_match (gate, MM_IOC_DOMAIN, "notexample.com", NULL);
    s_match (gate, MM_IOC_DOMAIN, "example.com.evil.jp", NULL);
    s_match (gate, MM_IOC_DOMAIN, "corp.co.jp", "org-own");
    s_match (gate, MM_IOC_DOMAIN, "a.b.c.corp.co.jp", "org-own");
    s_match (gate, MM_IOC_DOMAIN, "co.jp", NULL);
    s_match (gate, MM_IOC_DOMAIN, "xcorp.co.jp", NULL);
    s_match (gate, MM_IOC_DOMAIN, "vpn.partner.jp", "org-own");
    s_match (gate, MM_IOC_DOMAIN, "partner.jp", NULL);  //  a parent of an entry is not
    s_match (gate, MM_IOC_DOMAIN, "www.partner.jp", NULL);
    s_match (gate, MM_IOC_DOMAIN, "", NULL);
    //  The longest listed parent names the list.
    cr_assert_eq (ag_allow_add (gate, "lab.corp.co.jp", "lab"), 0);
    s_match (gate, MM_IOC_DOMAIN, "x.lab.corp.co.jp", "lab");
    s_match (gate, MM_IOC_DOMAIN, "x.corp.co.jp", "org-own");
    ag_allow_destroy (&gate);
}

Test (ag_allow, cidr_inside_and_containing)
{
    ag_allow_t *gate = ag_allow_new ();
    cr_assert_not_null (gate);
    cr_assert_eq (ag_allow_add (gate, "8.8.8.8", "public-resolvers"), 0);
    cr_assert_eq (ag_allow_add (gate, "2001:4860:4860::8888", "public-resolvers"), 0);
    cr_assert_eq (ag_allow_add (gate, "104.16.0.0/13", "cdn-cloud"), 0);
    //  Inside a listed network.
    s_match (gate, MM_IOC_CIDR, "10.1.0.0/16", "special-purpose");
    s_match (gate, MM_IOC_CIDR, "104.20.0.0/16", "cdn-cloud");
    s_match (gate, MM_IOC_CIDR, "104.16.0.0/13", "cdn-cloud");
    s_match (gate, MM_IOC_CIDR, "2001:db8:1::/48", "special-purpose");
    //  Containing a listed address or network.
    s_match (gate, MM_IOC_CIDR, "8.8.8.8/32", "public-resolvers");
    s_match (gate, MM_IOC_CIDR, "8.8.8.0/24", "public-resolvers");
    s_match (gate, MM_IOC_CIDR, "8.8.0.0/16", "public-resolvers");
    s_match (gate, MM_IOC_CIDR, "104.0.0.0/8", "cdn-cloud");
    s_match (gate, MM_IOC_CIDR, "2001:4860::/32", "public-resolvers");
    s_match (gate, MM_IOC_CIDR, "0.0.0.0/0", "special-purpose");
    //  Neither.
    s_match (gate, MM_IOC_CIDR, "8.8.9.0/24", NULL);
    s_match (gate, MM_IOC_CIDR, "104.24.0.0/14", NULL);
    s_match (gate, MM_IOC_CIDR, "2001:4861::/32", NULL);
    s_match (gate, MM_IOC_CIDR, "11.0.0.0/8", NULL);
    s_match (gate, MM_IOC_CIDR, "8.8.8.8", NULL);  //  not a CIDR
    ag_allow_destroy (&gate);
}

Test (ag_allow, url_hosts)
{
    ag_allow_t *gate = ag_allow_new ();
    cr_assert_not_null (gate);
    cr_assert_eq (ag_allow_add (gate, "google.com", "top-sites"), 0);
    cr_assert_eq (ag_allow_add (gate, "2606:4700:4700::1111", "public-resolvers"), 0);
    s_match (gate, MM_IOC_URL, "https://www.google.com/search?q=x", "top-sites");
    s_match (gate, MM_IOC_URL, "http://google.com:8080/", "top-sites");
    s_match (gate, MM_IOC_URL, "https://google.com.evil.jp/login", NULL);
    s_match (gate, MM_IOC_URL, "https://evil.jp/google.com", NULL);
    s_match (gate, MM_IOC_URL, "https://evil.jp/?u=https://google.com", NULL);
    s_match (gate, MM_IOC_URL, "https://[2001:db8::1]/", "special-purpose");
    s_match (gate, MM_IOC_URL, "https://[2606:4700:4700::1111]:8443/dns-query", "public-resolvers");
    s_match (gate, MM_IOC_URL, "https://[2606:4700:4700::1112]/", NULL);
    s_match (gate, MM_IOC_URL, "http://192.168.1.1:8080/admin", "special-purpose");
    s_match (gate, MM_IOC_URL, "http://198.51.7.1/x", NULL);
    s_match (gate, MM_IOC_URL, "ftp://files.example.net", "special-purpose");
    s_match (gate, MM_IOC_URL, "http://evil.jp@www.google.com/", "top-sites");  //  the host
    s_match (gate, MM_IOC_URL, "www.google.com/", NULL);                        //  no scheme
    s_match (gate, MM_IOC_URL, "http://[2606:4700:4700::1111/", NULL);          //  not closed
    ag_allow_destroy (&gate);
}

Test (ag_allow, hashes_are_exact)
{
    ag_allow_t *gate = ag_allow_new ();
    cr_assert_not_null (gate);
    const char *sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    cr_assert_eq (ag_allow_add (gate, sha256, "empty-hashes"), 0);
    cr_assert_eq (ag_allow_add (gate, "da39a3ee5e6b4b0d3255bfef95601890afd80709", "empty-hashes"),
                  0);
    cr_assert_eq (ag_allow_add (gate, "d41d8cd98f00b204e9800998ecf8427e", "empty-hashes"), 0);
    s_match (gate, MM_IOC_SHA256, sha256, "empty-hashes");
    s_match (gate, MM_IOC_CERT_SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709", "empty-hashes");
    s_match (gate, MM_IOC_JA3, "d41d8cd98f00b204e9800998ecf8427e", "empty-hashes");
    s_match (gate, MM_IOC_SHA256,
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b856", NULL);
    s_match (gate, MM_IOC_SHA256, "e3b0c44298fc1c149afbf4c8996fb924", NULL);  //  a prefix
    s_match (gate, MM_IOC_JA3, "d41d8cd98f00b204e9800998ecf8427f", NULL);
    s_match (gate, MM_IOC_JA4, "t13d1516h2_8daaf6152771_b186095e22b6", NULL);
    //  A hash is no name and a name no hash.
    s_match (gate, MM_IOC_DOMAIN, "d41d8cd98f00b204e9800998ecf8427e", NULL);
    s_match (gate, MM_IOC_SHA256, "example.com", NULL);
    s_match (gate, 99, "d41d8cd98f00b204e9800998ecf8427e", NULL);
    cr_expect_eq (ag_allow_entries (gate), S_BUILTIN + 3);
    ag_allow_destroy (&gate);
}

Test (ag_allow, ten_thousand_entries)
{
    enum { N = 10000 };
    ag_allow_t *gate = ag_allow_new ();
    cr_assert_not_null (gate);
    //  One list file of N addresses, N /24s, N names and N hashes, loaded in one go.
    size_t cap = (size_t) N * 4 * 80, len = 0;
    char *text = malloc (cap);
    cr_assert_not_null (text);
    for (int i = 0; i < N; i++) {
        len += (size_t) snprintf (text + len, cap - len, "45.%d.%d.1\n", i / 256, i % 256);
        len += (size_t) snprintf (text + len, cap - len, "46.%d.%d.0/24\n", i / 256, i % 256);
        len += (size_t) snprintf (text + len, cap - len, "host%d.corp%d.example.jp\n", i, i % 97);
        len += (size_t) snprintf (text + len, cap - len, "%064x\n", (unsigned) i * 2654435761u);
    }
    char err[256];
    cr_assert_eq (ag_allow_load_text (gate, text, len, "big.list", "big", err, sizeof err), 0, "%s",
                  err);
    free (text);
    cr_expect_eq (ag_allow_entries (gate), S_BUILTIN + 4 * N);
    char q[128];
    size_t hits = 0, misses = 0;
    for (int i = 0; i < N; i++) {
        snprintf (q, sizeof q, "45.%d.%d.1", i / 256, i % 256);
        hits += ag_allow_match (gate, MM_IOC_IP, q) != NULL;
        snprintf (q, sizeof q, "45.%d.%d.2", i / 256, i % 256);
        misses += ag_allow_match (gate, MM_IOC_IP, q) == NULL;
        snprintf (q, sizeof q, "46.%d.%d.77", i / 256, i % 256);
        hits += ag_allow_match (gate, MM_IOC_IP, q) != NULL;
        snprintf (q, sizeof q, "www.host%d.corp%d.example.jp", i, i % 97);
        hits += ag_allow_match (gate, MM_IOC_DOMAIN, q) != NULL;
        snprintf (q, sizeof q, "host%d.corp%d.example.jp", i + N, (i + N) % 97);
        misses += ag_allow_match (gate, MM_IOC_DOMAIN, q) == NULL;
        snprintf (q, sizeof q, "%064x", (unsigned) i * 2654435761u);
        hits += ag_allow_match (gate, MM_IOC_SHA256, q) != NULL;
        snprintf (q, sizeof q, "%063x1", (unsigned) i * 2654435761u);
        misses += ag_allow_match (gate, MM_IOC_SHA256, q) == NULL;
    }
    cr_expect_eq (hits, 4 * N);
    cr_expect_eq (misses, 3 * N);
    s_match (gate, MM_IOC_IP, "45.39.16.1", NULL);  //  the first address after the list
    s_match (gate, MM_IOC_IP, "45.0.0.1", "big");
    s_match (gate, MM_IOC_CIDR, "46.0.0.0/16", "big");
    s_match (gate, MM_IOC_CIDR, "46.0.0.128/25", "big");

    //  A mix of look-ups against the big gate: the answers, not the speed (bench_correlate
    //  measures that).
    const char *mix[][2] = {{"45.7.7.1", "ip"},
                            {"203.0.114.9", "ip"},
                            {"2001:db8::1", "ip"},
                            {"mail.host5.corp5.example.jp", "domain"},
                            {"a.b.c.d.evil.example.jp", "domain"},
                            {"https://www.host9.corp9.example.jp/x", "url"}};
    size_t found = 0;
    for (size_t k = 0; k < sizeof mix / sizeof mix[0]; k++) {
        uint8_t type = mix[k][1][0] == 'i'   ? MM_IOC_IP
                       : mix[k][1][0] == 'd' ? MM_IOC_DOMAIN
                                             : MM_IOC_URL;
        found += ag_allow_match (gate, type, mix[k][0]) != NULL;
    }
    cr_expect_eq (found, 4);  //  45.7.7.1, 2001:db8::1, the host5 name, the URL
    ag_allow_destroy (&gate);
}
