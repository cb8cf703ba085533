/*  ag_registry: the sample registry (tests/data/registry/sample.reg: 2 providers, 30 orgs in
    Kanto and Kinki, 3 chains) loads and answers; every kind of mistake is refused with its line
    and reason; a changed file is reloaded without a restart, a broken one refused. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ag_registry.h"

#ifndef MM_TEST_DATA
#define MM_TEST_DATA "tests/data"
#endif

static ag_registry_t *
s_sample (void)
{
    char err[4096];
    size_t n = 0;
    ag_registry_t *r = ag_registry_load (MM_TEST_DATA "/registry/sample.reg", err, sizeof err, &n);
    cr_assert_not_null (r, "%zu errors:\n%s", n, err);
    return r;
}

static bool
s_has (const uint32_t *list, size_t n, uint32_t v)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == v)
            return true;
    return false;
}

Test (ag_registry, sample_loads_and_answers)
{
    ag_registry_t *r = s_sample ();
    cr_expect_eq (ag_registry_providers (r), 2);
    cr_expect_eq (ag_registry_orgs (r), 30);
    cr_expect_eq (ag_registry_chains (r), 3);
    cr_expect_eq (ag_registry_sensors (r), 30);
    cr_expect_eq (ag_registry_edges (r), 9 + 11 + 11);
    int32_t o1 = ag_registry_org_index (r, "org-01"), o2 = ag_registry_org_index (r, "org-02");
    int32_t o4 = ag_registry_org_index (r, "org-04"), o5 = ag_registry_org_index (r, "org-05");
    int32_t o9 = ag_registry_org_index (r, "org-09"), o20 = ag_registry_org_index (r, "org-20");
    cr_assert (o1 >= 0 && o2 >= 0 && o4 >= 0 && o5 >= 0 && o9 >= 0 && o20 >= 0);
    cr_expect_eq (ag_registry_org_index (r, "org-99"), -1);
    const ag_org_t *org1 = ag_registry_org_at (r, (size_t) o1);
    cr_expect_eq (org1->pref, 14);
    cr_expect_str_eq (ag_region_name (org1->region), "kanto");
    cr_expect_str_eq (ag_region_name (ag_registry_org_at (r, (size_t) o20)->region), "kinki");
    cr_expect_str_eq (ag_registry_provider_at (r, org1->provider)->id, "p-east");
    cr_expect_str_eq (org1->name, "Company 01");
    //  org-02 supplies org-01 and is supplied by org-04 and org-05 (chain c-auto).
    uint32_t out[64];
    size_t n = ag_registry_customers (r, (uint32_t) o2, out, 64);
    cr_expect_eq (n, 1);
    cr_expect (s_has (out, n, (uint32_t) o1));
    n = ag_registry_suppliers (r, (uint32_t) o2, out, 64);
    cr_expect_eq (n, 2);
    cr_expect (s_has (out, n, (uint32_t) o4) && s_has (out, n, (uint32_t) o5));
    cr_expect_eq (ag_registry_suppliers (r, (uint32_t) o2, out, 1), 2, "counts beyond max");
    //  org-09 is in two chains.
    n = ag_registry_org_chains (r, (uint32_t) o9, out, 64);
    cr_expect_eq (n, 2);
    cr_expect (s_has (out, n, (uint32_t) ag_registry_chain_index (r, "c-auto")));
    cr_expect (s_has (out, n, (uint32_t) ag_registry_chain_index (r, "c-food")));
    cr_expect_eq (
        ag_registry_chain_members (r, (uint32_t) ag_registry_chain_index (r, "c-food"), out, 64),
        12);
    cr_expect_eq (ag_registry_chain_at (r, (size_t) ag_registry_chain_index (r, "c-auto"))->owner,
                  o1);
    //  Own addresses and domains (subdomains included, look-alikes not).
    mm_addr_t a = {.len = 4, .b = {198, 51, 100, 3}};
    cr_expect (ag_registry_org_owns_addr (r, (uint32_t) o1, &a));
    a.b[3] = 9;
    cr_expect (!ag_registry_org_owns_addr (r, (uint32_t) o1, &a));
    cr_expect (ag_registry_org_owns_addr (r, (uint32_t) o2, &a));
    cr_expect (ag_registry_org_owns_domain (r, (uint32_t) o1, "org01.example.co.jp"));
    cr_expect (ag_registry_org_owns_domain (r, (uint32_t) o1, "Mail.ORG01.example.co.jp."));
    cr_expect (!ag_registry_org_owns_domain (r, (uint32_t) o1, "evilorg01.example.co.jp"));
    cr_expect (!ag_registry_org_owns_domain (r, (uint32_t) o1, "example.co.jp"));
    cr_expect_eq (ag_registry_sensor_org (r, "s-07"), ag_registry_org_index (r, "org-07"));
    cr_expect_eq (ag_registry_sensor_org (r, "s-99"), -1);
    ag_registry_destroy (&r);
    cr_expect_null (r);
}

Test (ag_registry, prefectures_map_to_the_8_regions)
{
    const struct {
        unsigned pref;
        const char *region;
    } cases[] = {{1, "hokkaido"}, {2, "tohoku"},   {7, "tohoku"},   {8, "kanto"},   {14, "kanto"},
                 {15, "chubu"},   {23, "chubu"},   {24, "kinki"},   {30, "kinki"},  {31, "chugoku"},
                 {35, "chugoku"}, {36, "shikoku"}, {39, "shikoku"}, {40, "kyushu"}, {47, "kyushu"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_expect_str_eq (ag_region_name (ag_region_of_pref (cases[i].pref)), cases[i].region,
                          "pref %u", cases[i].pref);
    cr_expect_eq (ag_region_of_pref (0), AG_REGION_NONE);
    cr_expect_eq (ag_region_of_pref (48), AG_REGION_NONE);
}

//  Each bad text and the reason its error must give (the line is checked too).
Test (ag_registry, mistakes_are_refused_with_line_and_reason)
{
    const char *good = "provider p1\n"
                       "org a provider=p1 pref=13 industry=E size=small\n"
                       "org b provider=p1 pref=27 industry=e size=micro domains=B.example\n"
                       "chain c1 owner=a\n"
                       "member c1 a\n"
                       "member c1 b tier=1\n"
                       "edge b -> a chain=c1 link=vpn\n"
                       "sensor s1 org=a\n";
    const struct {
        const char *add;  //  appended as line 9
        const char *why;
    } cases[] = {
        {"widget w1", "unknown declaration 'widget'"},
        {"org c pref=13 industry=E size=small", "provider= is required"},
        {"org c provider=p1 pref=48 industry=E size=small", "prefecture code 1..47"},
        {"org c provider=p1 pref=13 industry=Z size=small", "JSIC major division"},
        {"org c provider=p1 pref=13 industry=E size=huge", "micro, small, medium or large"},
        {"org c provider=p9 pref=13 industry=E size=small", "provider 'p9' is not declared"},
        {"org a provider=p1 pref=13 industry=E size=small", "org 'a' is declared twice"},
        {"org c provider=p1 pref=13 industry=E size=small nets=10.0.0.0/33", "nets="},
        {"org c provider=p1 pref=13 industry=E size=small domains=bad_name.example",
         "is not a domain name"},
        {"org c provider=p1 pref=13 industry=E size=small colour=red", "unknown key"},
        {"org c provider=p1 name=\"unclosed pref=13", "a quote is not closed"},
        {"org -c provider=p1 pref=13 industry=E size=small", "is not an id"},
        {"member c9 a", "chain 'c9' is not declared"},
        {"member c1 a", "a is already in chain c1 (line 5)"},
        {"edge a -> a chain=c1 link=vpn", "cannot supply itself"},
        {"edge a -> b chain=c1 link=carrier-pigeon", "link= must be"},
        {"edge a b chain=c1 link=vpn", "edge SUPPLIER -> CUSTOMER"},
        {"edge b -> a chain=c1 link=edi\nchain c2\nedge a -> b chain=c2 link=edi",
         "a is not a member of chain c2"},
        {"edge b -> a chain=c1 link=vpn", "is already declared (line 7)"},
        {"sensor s2 org=zz", "org 'zz' is not declared"},
        {"sensor s1 org=a", "sensor 's1' is declared twice"},
        {"chain c3 owner=nobody", "owner 'nobody' is not a declared org"},
    };
    char err[4096];
    size_t n = 0;
    ag_registry_t *r = ag_registry_parse ("t.reg", good, strlen (good), err, sizeof err, &n);
    cr_assert_not_null (r, "the good text: %s", err);
    ag_registry_destroy (&r);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[2048];
        snprintf (text, sizeof text, "%s%s\n", good, cases[i].add);
        r = ag_registry_parse ("t.reg", text, strlen (text), err, sizeof err, &n);
        cr_expect_null (r, "accepted: %s", cases[i].add);
        ag_registry_destroy (&r);
        cr_expect_geq (n, 1);
        cr_expect (strstr (err, cases[i].why), "'%s': want '%s', got: %s", cases[i].add,
                   cases[i].why, err);
        bool named =
            strncmp (err, "t.reg:", 6) == 0 && (strstr (err, ":9: ") || strstr (err, ":11: "));
        cr_expect (named, "'%s': the line is not named: %s", cases[i].add, err);
    }
}

Test (ag_registry, many_errors_are_capped_and_counted)
{
    char text[8192] = "";
    size_t used = 0;
    for (int i = 0; i < 50; i++)
        used += (size_t) snprintf (text + used, sizeof text - used, "nonsense\n");
    char err[8192];
    size_t n = 0;
    cr_assert_null (ag_registry_parse ("t.reg", text, strlen (text), err, sizeof err, &n));
    cr_expect_eq (n, 50);
    cr_expect (strstr (err, "t.reg:1: unknown declaration"));
    cr_expect (strstr (err, "t.reg:20: unknown declaration"));
    cr_expect (!strstr (err, "t.reg:21: "), "more than 20 listed");
    cr_expect (strstr (err, "50 errors in all"));
    //  A missing file is an error too.
    cr_expect_null (ag_registry_load ("/nonexistent/x.reg", err, sizeof err, &n));
    cr_expect (strstr (err, "/nonexistent/x.reg: No such file"));
}

static void
s_write (const char *path, const char *text)
{
    char tmp[256];
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen (tmp, "w");
    cr_assert_not_null (f);
    cr_assert_eq (fputs (text, f) >= 0, true);
    cr_assert_eq (fclose (f), 0);
    cr_assert_eq (rename (tmp, path), 0);
}

Test (ag_registry, reload_without_restart_and_refusal_keeps_the_old)
{
    char dir[] = "/tmp/mm-registry-XXXXXX";
    cr_assert_not_null (mkdtemp (dir));
    char path[128];
    snprintf (path, sizeof path, "%s/r.reg", dir);
    s_write (path, "provider p1\norg a provider=p1 pref=13 industry=E size=small\n");
    char err[4096];
    ag_registry_watch_t *w = ag_registry_watch_new (path, err, sizeof err);
    cr_assert_not_null (w, "%s", err);
    cr_expect_eq (ag_registry_orgs (ag_registry_watch_current (w)), 1);
    cr_expect_eq (ag_registry_watch_check (w, true), 1, "forced: read again");
    cr_expect_eq (ag_registry_watch_check (w, false), 0, "unchanged, and within the second");
    s_write (path, "provider p1\norg a provider=p1 pref=13 industry=E size=small\n"
                   "org b provider=p1 pref=27 industry=E size=small\n");
    sleep (1);
    cr_expect_eq (ag_registry_watch_check (w, false), 1);
    cr_expect_eq (ag_registry_orgs (ag_registry_watch_current (w)), 2);
    s_write (path, "provider p1\norg a provider=p1 pref=99 industry=E size=small\n");
    sleep (1);
    cr_expect_eq (ag_registry_watch_check (w, false), -1, "a broken file is refused");
    cr_expect_eq (ag_registry_orgs (ag_registry_watch_current (w)), 2, "the old one stays");
    cr_expect_eq (ag_registry_watch_check (w, false), 0, "refused once, not again and again");
    ag_registry_watch_destroy (&w);
    cr_expect_null (ag_registry_watch_new ("/nonexistent/r.reg", err, sizeof err));
    unlink (path);
    rmdir (dir);
}

//  The example in docs/registry.md is a registry that loads (the document cannot drift).
Test (ag_registry, the_documented_example_loads)
{
    FILE *f = fopen (MM_DOCS "/registry.md", "r");
    cr_assert_not_null (f);
    static char doc[65536];
    size_t len = fread (doc, 1, sizeof doc - 1, f);
    fclose (f);
    doc[len] = 0;
    char *start = strstr (doc, "# Two providers");
    cr_assert_not_null (start, "the example is gone from docs/registry.md");
    char *end = strstr (start, "```");
    cr_assert_not_null (end);
    char err[4096];
    size_t n = 0;
    ag_registry_t *r =
        ag_registry_parse ("registry.md", start, (size_t) (end - start), err, sizeof err, &n);
    cr_assert_not_null (r, "the documented example does not load:\n%s", err);
    cr_expect_eq (ag_registry_orgs (r), 4);
    cr_expect_eq (ag_registry_edges (r), 3);
    uint32_t out[8];
    int32_t maker = ag_registry_org_index (r, "maker");
    cr_expect_eq (ag_registry_suppliers (r, (uint32_t) maker, out, 8), 2);
    ag_registry_destroy (&r);
}
