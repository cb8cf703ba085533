/*  Tests of st_top: the top indicators from the correlation's own sighting records (written by
    ag_correlate on the sample registry): listed only with at least k companies of at least two
    providers in the period, most companies first; the rows pass verify, and rows that break
    the rule do not. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_period.h"
#include "ag_allow.h"
#include "ag_correlate.h"
#include "ag_psl.h"
#include "st_source.h"
#include "st_top.h"
#include "st_verify.h"

#define S_NS 1000000000ull

typedef struct {
    ag_store_put_t puts[512];
    uint8_t keys[512][300];
    uint8_t vals[512][4096];
    size_t n;
} s_records_t;

static void
s_keep (void *arg, uint8_t kv, const void *key, size_t klen, const uint8_t *val, size_t vlen,
        uint64_t expires)
{
    s_records_t *r = (s_records_t *) arg;
    cr_assert_lt (r->n, 512);
    cr_assert_leq (klen, sizeof r->keys[0]);
    cr_assert_leq (vlen, sizeof r->vals[0]);
    memcpy (r->keys[r->n], key, klen);
    memcpy (r->vals[r->n], val, vlen);
    r->puts[r->n] = (ag_store_put_t){kv, r->keys[r->n], klen, r->vals[r->n], vlen, expires};
    r->n++;
}

static void
s_find (ag_correlate_t *cor, int org, uint64_t ts, const char *value, uint64_t now)
{
    static uint64_t seq;
    char sensor[16];
    snprintf (sensor, sizeof sensor, "s-%02d", org);
    mm_event_t ev;
    memset (&ev, 0, sizeof ev);
    ev.has = MM_EV_HAS_FINDING;
    ev.kind = MM_KIND_FINDING;
    ev.ts = ts;
    ev.sensor = mm_str (sensor);
    ev.seq = ++seq;
    ev.severity = MM_SEV_MEDIUM;
    ev.confidence = 70;
    ev.finding.id = seq;
    ev.finding.category = MM_CAT_C2_BEACON;
    ev.finding.has = MM_FINDING_HAS_IOC;
    ev.finding.ioc.type = MM_IOC_IP;
    ev.finding.ioc.value = mm_str (value);
    cr_assert_geq (ag_correlate_event (cor, &ev, now), 0);
}

Test (st_top, listed_only_with_k_companies_of_two_providers)
{
    char dir[] = "/tmp/mm-st-top-XXXXXX", err[4096];
    cr_assert_not_null (mkdtemp (dir));
    ag_store_t *st = ag_store_new (dir, err, sizeof err);
    cr_assert_not_null (st, "%s", err);
    size_t n_errors;
    ag_registry_t *reg =
        ag_registry_load (MM_TEST_DATA "/registry/sample.reg", err, sizeof err, &n_errors);
    cr_assert_not_null (reg, "%s", err);
    ag_allow_t *allow = ag_allow_new ();
    ag_psl_t *psl = ag_psl_load (AG_PSL_DEFAULT_PATH, err, sizeof err);
    cr_assert_not_null (psl, "%s", err);
    ag_correlate_sink_t sink = {0};
    ag_correlate_t *cor = ag_correlate_new (NULL, reg, allow, psl, &sink);
    cr_assert_not_null (cor);
    uint64_t from, to;
    const char *kind;
    cr_assert_eq (mm_period_parse ("2026-W47", &from, &to, &kind), 0);
    uint64_t t = from + 3600 * S_NS, now = to + 3600 * S_NS;
    //  A: 6 companies of both providers (org-12..14 east, org-16..18 west): listed.
    //  B: 7 companies of one provider: not listed. C: 4 of both: fewer than k.
    //  D: 8 of both, the week before: not in the period.
    int a[] = {12, 13, 14, 16, 17, 18}, b[] = {1, 2, 3, 4, 5, 6, 7}, c[] = {12, 16, 17, 13};
    int d[] = {1, 2, 3, 16, 17, 18, 19, 20};
    for (size_t i = 0; i < 6; i++)
        s_find (cor, a[i], t + i * S_NS, "45.33.32.156", now);
    for (size_t i = 0; i < 7; i++)
        s_find (cor, b[i], t + i * S_NS, "91.92.93.94", now);
    for (size_t i = 0; i < 4; i++)
        s_find (cor, c[i], t + i * S_NS, "185.220.101.5", now);
    for (size_t i = 0; i < 8; i++)
        s_find (cor, d[i], from - 86400 * S_NS + i * S_NS, "77.88.99.11", now);
    static s_records_t recs;
    recs.n = 0;
    ag_correlate_flush (cor, true, s_keep, &recs);
    cr_assert_eq (ag_store_write (st, recs.puts, recs.n, NULL, 0), 0);
    st_top_row_t *rows;
    st_top_stats_t ts;
    long n = st_top_read (st, reg, from, to, 5, 2, 100, &rows, &ts);
    cr_assert_eq (n, 1);
    cr_expect_str_eq (rows[0].value, "45.33.32.156");
    cr_expect_eq (rows[0].type, MM_IOC_IP);
    cr_expect_eq (rows[0].orgs, 6);
    cr_expect_eq (rows[0].providers, 2);
    cr_expect_eq (ts.groups, 4);
    cr_expect_eq (ts.in_period, 3);
    //  k 4 lists C too, after A (most companies first); the week before lists D alone.
    free (rows);
    cr_assert_eq (st_top_read (st, reg, from, to, 4, 2, 100, &rows, &ts), 2);
    cr_expect_str_eq (rows[1].value, "185.220.101.5");
    free (rows);
    cr_assert_eq (st_top_read (st, reg, from - 7 * 86400 * S_NS, from, 5, 2, 100, &rows, &ts), 1);
    cr_expect_str_eq (rows[0].value, "77.88.99.11");
    free (rows);
    //  As published: verify passes the row, refuses one with too few companies or providers.
    cr_assert_eq (st_top_read (st, reg, from, to, 5, 2, 100, &rows, &ts), 1);
    st_rules_t rules;
    st_rules_default (&rules);
    st_meta_t meta = {"2026-W47", "week", "council", &rules};
    mm_buf_t b1 = {0};
    cr_assert_eq (st_top_jsonl (&meta, &rows[0], &b1), 0);
    st_policy_t pol;
    st_policy_default (&pol);
    size_t nrows;
    cr_expect_eq (
        st_verify_buffer ("top", (const char *) b1.data, b1.len, &pol, &nrows, err, sizeof err), 0,
        "%s", err);
    cr_expect_eq (nrows, 1);
    rows[0].orgs = 4;
    mm_buf_clear (&b1);
    cr_assert_eq (st_top_jsonl (&meta, &rows[0], &b1), 0);
    cr_expect_eq (
        st_verify_buffer ("top", (const char *) b1.data, b1.len, &pol, NULL, err, sizeof err), -1);
    cr_expect (strstr (err, "fewer than 5 companies"), "%s", err);
    rows[0].orgs = 6, rows[0].providers = 1;
    mm_buf_clear (&b1);
    cr_assert_eq (st_top_jsonl (&meta, &rows[0], &b1), 0);
    cr_expect_eq (
        st_verify_buffer ("top", (const char *) b1.data, b1.len, &pol, NULL, err, sizeof err), -1);
    cr_expect (strstr (err, "fewer than 2 providers"), "%s", err);
    mm_buf_free (&b1);
    free (rows);
    ag_correlate_destroy (&cor);
    ag_psl_destroy (&psl);
    ag_allow_destroy (&allow);
    ag_registry_destroy (&reg);
    ag_store_destroy (&st);
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq (system (cmd), 0);
}
