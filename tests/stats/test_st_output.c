/*  Tests of st_output: a row as a JSON line and a CSV line, with both languages' labels, the
    protections applied, and no number for what is suppressed. */
#include <criterion/criterion.h>
#include <string.h>

#include "st_output.h"

static st_rules_t s_rules;
static st_meta_t s_meta = {"2026-W47", "week", "council", &s_rules};

static st_row_t
s_row (void)
{
    st_row_t r;
    memset (&r, 0, sizeof r);
    r.region = 3;
    r.industry = 'F';
    r.sensor_type = 1;
    r.category = 2;  //  brute force
    r.severity = 4;
    r.orgs = 7;
    r.providers = 3;
    r.alerts = 212;
    r.incidents = 4;
    r.median_minutes = 2;
    return r;
}

Test (st_output, a_published_row_as_json_and_csv)
{
    st_rules_default (&s_rules);
    st_row_t r = s_row ();
    mm_buf_t b = {0};
    cr_assert_eq (st_jsonl_row (&s_meta, &r, &b), 0);
    cr_assert_eq (mm_buf_append (&b, "", 1), 0);
    const char *j = (const char *) b.data;
    cr_expect (strncmp (j, "{\"schema\":\"mimamori.stats/1\",\"period\":\"2026-W47\"", 48) == 0,
               "%s", j);
    cr_expect (strstr (j, "\"region\":\"kanto\",\"region_ja\":\"関東\""), "%s", j);
    cr_expect (strstr (j, "\"industry\":\"F\""), "%s", j);
    cr_expect (strstr (j, "\"category\":\"brute-force\""), "%s", j);
    cr_expect (strstr (j, "\"attack_tactic\":\"TA0006\""), "%s", j);
    cr_expect (strstr (j, "\"severity\":\"high\",\"severity_ja\":\"高\""), "%s", j);
    cr_expect (strstr (j, "\"orgs_affected\":7,\"providers_contributing\":3,\"alerts\":212,"
                          "\"incidents_notified\":4,\"median_minutes_to_notify\":2"),
               "%s", j);
    cr_expect (strstr (j, "\"suppressed\":false,\"suppressed_why\":[]"), "%s", j);
    cr_expect (strstr (j, "\"protection\":{\"k\":5,\"dominance\":[[1,60],[2,85]],"
                          "\"min_providers\":2,\"clip\":100,\"complementary\":true,"
                          "\"noise\":null}}\n"),
               "%s", j);
    cr_expect_eq (strchr (j, '\n'), j + strlen (j) - 1);  //  one line
    mm_buf_clear (&b);
    cr_assert_eq (st_csv_header (&b), 0);
    cr_assert_eq (st_csv_row (&s_meta, &r, &b), 0);
    cr_assert_eq (mm_buf_append (&b, "", 1), 0);
    const char *c = (const char *) b.data;
    cr_expect (strstr (c,
                       "\r\nmimamori.stats/1,2026-W47,week,council,kanto,関東,F,"
                       "\"Electricity, gas, heat supply and water\",電気・ガス・熱供給・水道業,"),
               "%s", c);
    cr_expect (strstr (c, ",7,3,212,4,2,false,,false,,5,\"(1,60)(2,85)\",2,100,true,\r\n"), "%s",
               c);
    //  The header and the row have as many columns (commas outside quotes).
    size_t cols[2] = {0, 0}, line = 0;
    bool quoted = false;
    for (const char *p = c; *p; p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (*p == ',' && !quoted)
            cols[line]++;
        else if (*p == '\n')
            line++;
    }
    cr_expect_eq (cols[0], cols[1]);
    mm_buf_free (&b);
}

Test (st_output, suppressed_measures_have_no_number)
{
    st_rules_default (&s_rules);
    s_rules.eps_num = 1, s_rules.eps_den = 2;
    st_row_t r = s_row ();
    r.suppressed = r.alerts_suppressed = true;
    r.why = ST_WHY_K | ST_WHY_COMPLEMENTARY;
    r.alerts_why = ST_WHY_K | ST_WHY_DOMINANCE;
    mm_buf_t b = {0};
    cr_assert_eq (st_jsonl_row (&s_meta, &r, &b), 0);
    cr_assert_eq (mm_buf_append (&b, "", 1), 0);
    const char *j = (const char *) b.data;
    cr_expect (strstr (j, "\"orgs_affected\":null,\"providers_contributing\":null,\"alerts\":null,"
                          "\"incidents_notified\":null,\"median_minutes_to_notify\":null"),
               "%s", j);
    cr_expect (strstr (j, "\"suppressed_why\":[\"k\",\"complementary\"]"), "%s", j);
    cr_expect (strstr (j, "\"alerts_suppressed_why\":[\"k\",\"dominance\"]"), "%s", j);
    cr_expect_null (strstr (j, "212"), "%s", j);
    //  Alerts alone, and noise stated.
    r = s_row ();
    r.alerts_suppressed = true;
    r.alerts_why = ST_WHY_DOMINANCE;
    r.noised = true;
    mm_buf_clear (&b);
    cr_assert_eq (st_jsonl_row (&s_meta, &r, &b), 0);
    cr_assert_eq (mm_buf_append (&b, "", 1), 0);
    j = (const char *) b.data;
    cr_expect (strstr (j, "\"orgs_affected\":7"), "%s", j);
    cr_expect (strstr (j, "\"alerts\":null"), "%s", j);
    cr_expect (strstr (j, "\"noise\":{\"mechanism\":\"discrete-laplace\",\"epsilon\":\"1/2\""),
               "%s", j);
    mm_buf_clear (&b);
    cr_assert_eq (st_csv_row (&s_meta, &r, &b), 0);
    cr_assert_eq (mm_buf_append (&b, "", 1), 0);
    cr_expect (strstr ((const char *) b.data, ",7,3,,,,false,,true,dominance,"), "%s", b.data);
    cr_expect (strstr ((const char *) b.data, ",1/2\r\n"), "%s", b.data);
    mm_buf_free (&b);
    //  A margin says "all".
    r = s_row ();
    r.region = ST_ALL;
    r.industry = ST_ALL;
    b = (mm_buf_t){0};
    cr_assert_eq (st_jsonl_row (&s_meta, &r, &b), 0);
    cr_assert_eq (mm_buf_append (&b, "", 1), 0);
    cr_expect (strstr ((const char *) b.data, "\"region\":\"all\",\"region_ja\":\"全国\","
                                              "\"industry\":\"all\""),
               "%s", b.data);
    mm_buf_free (&b);
}
