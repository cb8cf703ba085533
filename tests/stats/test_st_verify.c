/*  Tests of st_verify and st_json: a protected publication passes in both formats; a file
    made without protection, or edited after (a company id added, a label turned into free
    text, a number under a suppressed cell, a complementary cell removed), is rejected with
    the offending line. */
#define _GNU_SOURCE  //  memmem
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "st_json.h"
#include "st_output.h"
#include "st_verify.h"

#define KANTO 3
#define KINKI 5

static st_table_t *s_t;
static mm_buf_t s_jsonl, s_csv;
static st_meta_t s_meta;
static st_rules_t s_rules;

static int
s_write (void *arg, const st_row_t *row)
{
    (void) arg;
    cr_assert_eq (st_jsonl_row (&s_meta, row, &s_jsonl), 0);
    cr_assert_eq (st_csv_row (&s_meta, row, &s_csv), 0);
    return 0;
}

static void
s_alerts (uint32_t org, uint16_t prov, uint8_t r, char ind, int n)
{
    for (int k = 0; k < n; k++) {
        st_finding_t f = {.org = org,
                          .provider = prov,
                          .region = r,
                          .industry = (uint8_t) ind,
                          .sensor_type = 1,
                          .category = 2,
                          .severity = 3};
        cr_assert_eq (st_table_add (s_t, &f), 0);
    }
}

//  A population with a one-company cell, published with `rules`, into both buffers.
static void
s_publish (const st_rules_t *rules, const char *level)
{
    s_t = st_table_new ();
    cr_assert_not_null (s_t);
    uint32_t org = 100;
    for (char ind = 'E'; ind <= 'G'; ind++)
        for (int k = 0; k < 6; k++, org++) {
            s_alerts (org, (uint16_t) (1 + k % 2), KANTO, ind, 3);
            s_alerts (org + 1000, (uint16_t) (1 + k % 2), KINKI, ind, 3);
        }
    s_alerts (1, 1, KANTO, 'H', 40);
    s_rules = *rules;
    s_meta = (st_meta_t){"2026-W47", "week", level, &s_rules};
    mm_buf_free (&s_jsonl);
    mm_buf_free (&s_csv);
    cr_assert_eq (st_csv_header (&s_csv), 0);
    cr_assert_eq (st_table_publish (s_t, rules, "2026-W47", s_write, NULL), 0);
    st_table_destroy (&s_t);
}

static int
s_verify (const mm_buf_t *b, char *err, size_t size, size_t *rows)
{
    st_policy_t pol;
    st_policy_default (&pol);
    return st_verify_buffer ("pub", (const char *) b->data, b->len, &pol, rows, err, size);
}

//  `b` with `from` replaced by `to` (first occurrence) into `out`.
static void
s_edit (const mm_buf_t *b, const char *from, const char *to, mm_buf_t *out)
{
    mm_buf_clear (out);
    const char *s = (const char *) b->data;
    const char *at = memmem (s, b->len, from, strlen (from));
    cr_assert_not_null (at, "'%s' not in the file", from);
    cr_assert_eq (mm_buf_append (out, s, (size_t) (at - s)), 0);
    cr_assert_eq (mm_buf_append (out, to, strlen (to)), 0);
    size_t rest = (size_t) (at - s) + strlen (from);
    cr_assert_eq (mm_buf_append (out, s + rest, b->len - rest), 0);
}

Test (st_verify, a_protected_publication_passes_in_both_formats)
{
    st_rules_t rules;
    st_rules_default (&rules);
    s_publish (&rules, "council");
    char err[512];
    size_t rows = 0;
    cr_expect_eq (s_verify (&s_jsonl, err, sizeof err, &rows), 0, "%s", err);
    cr_expect_gt (rows, 10);
    size_t csv_rows = 0;
    cr_expect_eq (s_verify (&s_csv, err, sizeof err, &csv_rows), 0, "%s", err);
    cr_expect_eq (csv_rows, rows);
    //  MM_STATS_SEEDS=DIR writes these two files there: the fuzz_stats seeds.
    const char *seeds = getenv ("MM_STATS_SEEDS");
    for (int i = 0; seeds && i < 2; i++) {
        char path[512];
        snprintf (path, sizeof path, "%s/week.%s", seeds, i ? "csv" : "jsonl");
        FILE *f = fopen (path, "wb");
        cr_assert_not_null (f, "%s", path);
        const mm_buf_t *b = i ? &s_csv : &s_jsonl;
        cr_assert_eq (fwrite (b->data, 1, b->len, f), b->len);
        cr_assert_eq (fclose (f), 0);
    }
    //  With noise too.
    static const uint8_t secret[ST_NOISE_KEY_LEN] = "verify test secret, not for use";
    rules.eps_num = 1, rules.eps_den = 2, rules.secret = secret;
    s_publish (&rules, "council");
    cr_expect_eq (s_verify (&s_jsonl, err, sizeof err, NULL), 0, "%s", err);
    cr_expect_eq (s_verify (&s_csv, err, sizeof err, NULL), 0, "%s", err);
}

Test (st_verify, a_file_made_without_protection_is_rejected)
{
    st_rules_t rules;
    st_rules_default (&rules);
    rules.k = 1, rules.min_providers = 0, rules.complementary = false;
    rules.dom1_pct = rules.dom2_pct = 100;
    s_publish (&rules, "council");
    char err[512];
    cr_expect_eq (s_verify (&s_jsonl, err, sizeof err, NULL), -1);
    cr_expect (strstr (err, "pub:1: protection k = 1"), "%s", err);
    cr_expect_eq (s_verify (&s_csv, err, sizeof err, NULL), -1);
    cr_expect (strstr (err, "pub:2: protection k = 1"), "%s", err);
    //  Claiming the protection without applying it: the one-company cell gives it away.
    mm_buf_t fake = {0}, tmp = {0};
    cr_assert_eq (mm_buf_append (&tmp, s_jsonl.data, s_jsonl.len), 0);
    for (int i = 0; i < 200; i++) {
        const char *s = (const char *) tmp.data;
        if (!memmem (s, tmp.len, "\"k\":1,", 6))
            break;
        s_edit (&tmp, "\"k\":1,\"dominance\":[[1,100],[2,100]],\"min_providers\":0",
                "\"k\":5,\"dominance\":[[1,60],[2,85]],\"min_providers\":2", &fake);
        mm_buf_clear (&tmp);
        cr_assert_eq (mm_buf_append (&tmp, fake.data, fake.len), 0);
    }
    for (int i = 0; i < 200 && memmem (tmp.data, tmp.len, "\"complementary\":false", 21); i++) {
        s_edit (&tmp, "\"complementary\":false", "\"complementary\":true", &fake);
        mm_buf_clear (&tmp);
        cr_assert_eq (mm_buf_append (&tmp, fake.data, fake.len), 0);
    }
    cr_expect_eq (s_verify (&tmp, err, sizeof err, NULL), -1);
    cr_expect (strstr (err, "1 companies published (k = 5): a small cell"), "%s", err);
    mm_buf_free (&fake);
    mm_buf_free (&tmp);
}

Test (st_verify, edits_after_publication_are_rejected)
{
    st_rules_t rules;
    st_rules_default (&rules);
    s_publish (&rules, "council");
    char err[512];
    mm_buf_t e = {0};
    //  A company's id travels along.
    s_edit (&s_jsonl, "\"period\":", "\"org_id\":\"org-01\",\"period\":", &e);
    cr_expect_eq (s_verify (&e, err, sizeof err, NULL), -1);
    cr_expect (strstr (err, "pub:1: field 'org_id'"), "%s", err);
    //  A label turned into free text.
    s_edit (&s_jsonl, "\"region_ja\":\"関東\"", "\"region_ja\":\"関東 (Maker Co.)\"", &e);
    cr_expect_eq (s_verify (&e, err, sizeof err, NULL), -1);
    cr_expect (strstr (err, "a label is not the label of its value"), "%s", err);
    //  A number under a suppressed cell.
    s_edit (&s_jsonl, "\"orgs_affected\":null", "\"orgs_affected\":1", &e);
    cr_expect_eq (s_verify (&e, err, sizeof err, NULL), -1);
    cr_expect (strstr (err, "a suppressed cell with a number"), "%s", err);
    //  The complementary cell removed: the one-company cell alone in its row again.
    const char *s = (const char *) s_jsonl.data;
    const char *at = strstr (s, "\"suppressed_why\":[\"complementary\"]");
    cr_assert_not_null (at);
    const char *start = at, *end = strchr (at, '\n');
    while (start > s && start[-1] != '\n')
        start--;
    mm_buf_clear (&e);
    cr_assert_eq (mm_buf_append (&e, s, (size_t) (start - s)), 0);
    cr_assert_eq (mm_buf_append (&e, end + 1, s_jsonl.len - (size_t) (end + 1 - s)), 0);
    cr_expect_eq (s_verify (&e, err, sizeof err, NULL), -1);
    cr_expect (strstr (err, "recoverable from the published cells"), "%s", err);
    //  The same cell twice; a CSV with another header; not JSON at all.
    mm_buf_clear (&e);
    const char *nl = strchr (s, '\n');
    cr_assert_eq (mm_buf_append (&e, s, (size_t) (nl + 1 - s)), 0);
    cr_assert_eq (mm_buf_append (&e, s, (size_t) (nl + 1 - s)), 0);
    cr_expect_eq (s_verify (&e, err, sizeof err, NULL), -1);
    cr_expect (strstr (err, "pub:2: the same cell again (first on line 1)"), "%s", err);
    s_edit (&s_csv, "schema,period", "schema,org_id,period", &e);
    cr_expect_eq (s_verify (&e, err, sizeof err, NULL), -1);
    cr_expect (strstr (err, "pub:1: not the statistics' CSV header"), "%s", err);
    mm_buf_clear (&e);
    cr_assert_eq (mm_buf_append (&e, "{\"schema\":", 10), 0);
    cr_expect_eq (s_verify (&e, err, sizeof err, NULL), -1);
    cr_expect (strstr (err, "pub:1: invalid JSON"), "%s", err);
    //  A noised row is no excuse for a small cell, nor a huge epsilon for noise.
    st_rules_default (&rules);
    static const uint8_t secret[ST_NOISE_KEY_LEN] = "verify test secret, not for use";
    rules.eps_num = 1, rules.eps_den = 2, rules.secret = secret;
    s_publish (&rules, "council");
    cr_assert_eq (s_verify (&s_jsonl, err, sizeof err, NULL), 0, "%s", err);
    const char *row = strstr ((const char *) s_jsonl.data, "\"orgs_affected\":");
    while (row && row[16] == 'n')  //  the first published one
        row = strstr (row + 1, "\"orgs_affected\":");
    cr_assert_not_null (row);
    char was[40];
    snprintf (was, sizeof was, "%.*s", (int) strcspn (row, ","), row);
    s_edit (&s_jsonl, was, "\"orgs_affected\":1", &e);
    cr_expect_eq (s_verify (&e, err, sizeof err, NULL), -1);
    cr_expect (strstr (err, "1 companies published (k = 5)"), "%s", err);
    s_edit (&s_jsonl, "\"epsilon\":\"1/2\"", "\"epsilon\":\"1000000/1\"", &e);
    cr_expect_eq (s_verify (&e, err, sizeof err, NULL), -1);
    cr_expect (strstr (err, "noise epsilon 1000000/1 above the policy's 1/1"), "%s", err);
    //  A provider's own level may show one provider; the council's may not.
    st_rules_default (&rules);
    rules.min_providers = 1;
    s_publish (&rules, "provider");
    cr_expect_eq (s_verify (&s_jsonl, err, sizeof err, NULL), 0, "%s", err);
    s_publish (&rules, "council");
    cr_expect_eq (s_verify (&s_jsonl, err, sizeof err, NULL), -1);
    cr_expect (strstr (err, "council level with min_providers = 1"), "%s", err);
    mm_buf_free (&e);
    mm_buf_free (&s_jsonl);
    mm_buf_free (&s_csv);
}

typedef struct {
    char seen[16][160];
    int n;
} s_paths_t;

static int
s_path (void *arg, const char *path, st_json_type_t type, const char *value)
{
    s_paths_t *p = (s_paths_t *) arg;
    if (p->n < 16)
        snprintf (p->seen[p->n++], sizeof p->seen[0], "%s=%d:%s", path, (int) type, value);
    return 0;
}

Test (st_json, scalars_come_with_their_paths)
{
    const char *t =
        " {\"a\":1,\"p\":{\"k\":-5e2,\"d\":[[1,60],[]]},\"s\":\"x\\u00e9\\ud83d\\ude00\\n\","
        "\"n\":null,\"b\":true} ";
    s_paths_t p = {0};
    char err[128];
    cr_assert_eq (st_json_walk (t, strlen (t), s_path, &p, err, sizeof err), 0, "%s", err);
    cr_assert_eq (p.n, 7);
    cr_expect_str_eq (p.seen[0], "a=1:1");
    cr_expect_str_eq (p.seen[1], "p.k=1:-5e2");
    cr_expect_str_eq (p.seen[2], "p.d[0][0]=1:1");
    cr_expect_str_eq (p.seen[3], "p.d[0][1]=1:60");
    cr_expect_str_eq (p.seen[4], "s=0:xé\xf0\x9f\x98\x80\n");
    cr_expect_str_eq (p.seen[5], "n=4:");
    cr_expect_str_eq (p.seen[6], "b=2:");
    const char *bad[] = {"",
                         "{",
                         "{\"a\"}",
                         "{\"a\":01}",
                         "[1,]",
                         "{\"a\":1}x",
                         "\"\\ud800\"",
                         "\"\\u0000\"",
                         "tru",
                         "{\"a\":\"\x01\"}",
                         "[[[[[[[[[[1]]]]]]]]]]",
                         "{\"a\":1,}",
                         "-",
                         "1.e5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p.n = 0;
        cr_expect_eq (st_json_walk (bad[i], strlen (bad[i]), s_path, &p, err, sizeof err), -1,
                      "accepted: %s", bad[i]);
    }
}
