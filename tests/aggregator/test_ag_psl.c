/*  ag_psl: the Public Suffix List algorithm on a small list (normal, wildcard and exception
    rules, as in publicsuffix.org's own test cases), then Debian's full list. */
#include <criterion/criterion.h>
#include <string.h>

#include "ag_psl.h"

static void
s_expect (const ag_psl_t *psl, const char *name, const char *registered)
{
    char out[256];
    int rc = ag_psl_registered (psl, name, out, sizeof out);
    if (!registered)
        cr_expect_eq (rc, -1, "%s: want none, got %s", name, rc == 0 ? out : "-");
    else {
        cr_expect_eq (rc, 0, "%s: want %s, got none", name, registered);
        if (rc == 0)
            cr_expect_str_eq (out, registered, "%s", name);
    }
}

Test (ag_psl, the_algorithm_on_a_small_list)
{
    const char *list = "// a comment\n"
                       "com\n"
                       "jp\n"
                       "co.jp\n"
                       "*.kawasaki.jp\n"
                       "!city.kawasaki.jp\n"
                       "*.ck\n"
                       "!www.ck\n"
                       "example.net extra words ignored\n";
    char err[256];
    ag_psl_t *psl = ag_psl_parse (list, strlen (list), err, sizeof err);
    cr_assert_not_null (psl, "%s", err);
    cr_expect_eq (ag_psl_rules (psl), 8);
    s_expect (psl, "com", NULL);
    s_expect (psl, "example.com", "example.com");
    s_expect (psl, "WWW.Example.COM.", "example.com");
    s_expect (psl, "a.b.example.com", "example.com");
    s_expect (psl, "co.jp", NULL);
    s_expect (psl, "example.co.jp", "example.co.jp");
    s_expect (psl, "mail.example.co.jp", "example.co.jp");
    s_expect (psl, "kawasaki.jp", "kawasaki.jp");  //  "jp" is the suffix (no rule for it)
    s_expect (psl, "c.kawasaki.jp", NULL);         //  a public suffix by the wildcard
    s_expect (psl, "b.c.kawasaki.jp", "b.c.kawasaki.jp");
    s_expect (psl, "a.b.c.kawasaki.jp", "b.c.kawasaki.jp");
    s_expect (psl, "city.kawasaki.jp", "city.kawasaki.jp");  //  the exception
    s_expect (psl, "www.city.kawasaki.jp", "city.kawasaki.jp");
    s_expect (psl, "www.ck", "www.ck");
    s_expect (psl, "www.www.ck", "www.ck");
    s_expect (psl, "test.ck", NULL);
    s_expect (psl, "b.test.ck", "b.test.ck");
    s_expect (psl, "example.example", "example.example");  //  the implicit "*" rule
    s_expect (psl, "example", NULL);
    s_expect (psl, "", NULL);
    s_expect (psl, "a..example.com", NULL);
    s_expect (psl, ".example.com", NULL);
    s_expect (psl, "exa mple.com", NULL);
    char out[64];
    cr_expect_eq (ag_psl_suffix (psl, "mail.example.co.jp", out, sizeof out), 0);
    cr_expect_str_eq (out, "co.jp");
    cr_expect_eq (ag_psl_registered (psl, "mail.example.co.jp", out, 5), -1, "too small");
    ag_psl_destroy (&psl);
    cr_expect_null (psl);
    cr_expect_null (ag_psl_parse ("// only comments\n", 17, err, sizeof err));
}

Test (ag_psl, debians_list)
{
    char err[256];
    ag_psl_t *psl = ag_psl_load (AG_PSL_DEFAULT_PATH, err, sizeof err);
    cr_assert_not_null (psl, "%s (ops/bootstrap installs the publicsuffix package)", err);
    cr_expect_gt (ag_psl_rules (psl), 5000);
    s_expect (psl, "www.example.co.jp", "example.co.jp");
    s_expect (psl, "mail.example.tokyo.jp", "example.tokyo.jp");
    s_expect (psl, "www.city.kawasaki.jp", "city.kawasaki.jp");
    s_expect (psl, "a.evil.example.com", "example.com");
    s_expect (psl, "foo.github.io", "foo.github.io");  //  the private section counts
    s_expect (psl, "x.y.s3.amazonaws.com", "y.s3.amazonaws.com");
    s_expect (psl, "co.uk", NULL);
    ag_psl_destroy (&psl);
    cr_expect_null (ag_psl_load ("/nonexistent/psl.dat", err, sizeof err));
    cr_expect (strstr (err, "publicsuffix"));
}
