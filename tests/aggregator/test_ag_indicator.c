/*  ag_indicator: normal forms by type and the groups rule R2 counts by. */
#include <criterion/criterion.h>
#include <string.h>

#include "ag_indicator.h"
#include "mm_proto.h"

static void
s_norm (uint8_t type, const char *in, const char *want)
{
    char out[AG_INDICATOR_MAX];
    const char *why = NULL;
    int rc = ag_indicator_normalize (type, in, out, sizeof out, &why);
    if (!want) {
        cr_expect_eq (rc, -1, "'%s' accepted as '%s'", in, rc == 0 ? out : "");
        cr_expect (why && *why, "'%s': no reason", in);
        return;
    }
    cr_expect_eq (rc, 0, "'%s' refused: %s", in, why ? why : "?");
    if (rc == 0)
        cr_expect_str_eq (out, want, "'%s'", in);
}

Test (ag_indicator, normal_forms)
{
    s_norm (MM_IOC_IP, "198.51.100.7", "198.51.100.7");
    s_norm (MM_IOC_IP, "2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1");
    s_norm (MM_IOC_IP, "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1");  //  RFC 5952: first run
    s_norm (MM_IOC_IP, "::ffff:198.51.100.7", "198.51.100.7");
    s_norm (MM_IOC_IP, "198.51.100.256", NULL);
    s_norm (MM_IOC_IP, "example.com", NULL);
    s_norm (MM_IOC_CIDR, "10.1.2.3/8", "10.0.0.0/8");
    s_norm (MM_IOC_CIDR, "2001:DB8:abcd:1234::1/48", "2001:db8:abcd::/48");
    s_norm (MM_IOC_CIDR, "10.0.0.0/33", NULL);
    s_norm (MM_IOC_CIDR, "10.0.0.0", NULL);
    s_norm (MM_IOC_DOMAIN, "Mail.Evil.EXAMPLE.", "mail.evil.example");
    s_norm (MM_IOC_DOMAIN, "a..example", NULL);
    s_norm (MM_IOC_DOMAIN, "exa mple.com", NULL);
    s_norm (MM_IOC_URL, "HTTP://Evil.Example:80/Path/X?q=A", "http://evil.example/Path/X?q=A");
    s_norm (MM_IOC_URL, "https://EVIL.example:8443/a", "https://evil.example:8443/a");
    s_norm (MM_IOC_URL, "https://[2001:DB8::1]:443/", "https://[2001:db8::1]/");
    s_norm (MM_IOC_URL, "evil.example/path", NULL);
    s_norm (MM_IOC_URL, "http://user@evil.example/", NULL);
    s_norm (MM_IOC_URL, "http://evil.example:x/", NULL);
    s_norm (MM_IOC_JA3, "E7D705A3286E19EA42F587B344EE6865", "e7d705a3286e19ea42f587b344ee6865");
    s_norm (MM_IOC_JA3, "e7d705a3", NULL);
    s_norm (MM_IOC_CERT_SHA1, "0123456789ABCDEF0123456789ABCDEF01234567",
            "0123456789abcdef0123456789abcdef01234567");
    s_norm (MM_IOC_SHA256, "zz", NULL);
    s_norm (MM_IOC_JA4, "T13D1516H2_8DAAF6152771_B186095E22B6",
            "t13d1516h2_8daaf6152771_b186095e22b6");
    s_norm (MM_IOC_JA4, "t13d-x", NULL);
    s_norm (99, "x", NULL);
}

static void
s_group (const ag_psl_t *psl, uint8_t type, const char *norm, const char *want)
{
    char out[AG_INDICATOR_MAX];
    int rc = ag_indicator_group (psl, type, norm, out, sizeof out);
    if (!want) {
        cr_expect_eq (rc, -1, "'%s' grouped as '%s'", norm, rc == 0 ? out : "");
        return;
    }
    cr_expect_eq (rc, 0, "'%s' has no group", norm);
    if (rc == 0)
        cr_expect_str_eq (out, want, "'%s'", norm);
}

Test (ag_indicator, groups)
{
    const char *list = "com\njp\nco.jp\nexample\n";
    char err[128];
    ag_psl_t *psl = ag_psl_parse (list, strlen (list), err, sizeof err);
    cr_assert_not_null (psl, "%s", err);
    s_group (psl, MM_IOC_IP, "198.51.100.7", "198.51.100.0/24");
    s_group (psl, MM_IOC_IP, "2001:db8:abcd:12::1", "2001:db8:abcd::/48");
    s_group (psl, MM_IOC_DOMAIN, "a.evil.example", "evil.example");
    s_group (psl, MM_IOC_DOMAIN, "b.evil.example", "evil.example");
    s_group (psl, MM_IOC_DOMAIN, "mail.shop.co.jp", "shop.co.jp");
    s_group (psl, MM_IOC_DOMAIN, "co.jp", NULL);  //  a public suffix groups nothing
    s_group (psl, MM_IOC_URL, "https://x.evil.example:8443/a", "evil.example");
    s_group (psl, MM_IOC_URL, "http://198.51.100.7/a", "http://198.51.100.7/a");
    s_group (psl, MM_IOC_JA3, "e7d705a3286e19ea42f587b344ee6865",
             "e7d705a3286e19ea42f587b344ee6865");
    s_group (NULL, MM_IOC_DOMAIN, "a.evil.example", "a.evil.example");
    ag_psl_destroy (&psl);
}
