/*  Tests of st_source: periods in Asia/Tokyo (ISO weeks, days, the 53rd week), and a period's
    findings read from a store: the period's bounds, the registry's view of each sensor, the
    records it cannot count, the delay to notification. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_period.h"
#include "st_source.h"

#define S_NS 1000000000ull

Test (st_source, periods_are_tokyo_weeks_and_days)
{
    uint64_t from, to;
    const char *kind;
    //  2026-W47: Monday 16 November 00:00 in Tokyo = 15 November 15:00 UTC.
    cr_assert_eq (mm_period_parse ("2026-W47", &from, &to, &kind), 0);
    cr_expect_eq (from, 1794754800ull * S_NS);
    cr_expect_eq (to - from, 7 * 86400ull * S_NS);
    cr_expect_str_eq (kind, "week");
    cr_assert_eq (mm_period_parse ("2026-11-18", &from, &to, &kind), 0);
    cr_expect_eq (from, 1794927600ull * S_NS);
    cr_expect_eq (to - from, 86400ull * S_NS);
    cr_expect_str_eq (kind, "day");
    //  2026 has 53 ISO weeks (1 January 2026 is a Thursday); 2027 has 52.
    cr_expect_eq (mm_period_parse ("2026-W53", &from, &to, &kind), 0);
    cr_expect_eq (mm_period_parse ("2027-W53", &from, &to, &kind), -1);
    cr_expect_eq (mm_period_parse ("2024-02-29", &from, &to, &kind), 0);
    const char *bad[] = {"2026-W00",   "2026-W54",   "2026-W4",    "2026-02-29",
                         "2026-13-01", "2026-00-10", "2026-1-01",  "W47",
                         "",           "2026-W47x",  "1969-12-31", "2026-11-31"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq (mm_period_parse (bad[i], &from, &to, &kind), -1, "accepted %s", bad[i]);
    char w[16];
    mm_period_week_of (1794754800ull * S_NS, w, sizeof w);
    cr_expect_str_eq (w, "2026-W47");
    mm_period_week_of (1794754800ull * S_NS - 1, w, sizeof w);
    cr_expect_str_eq (w, "2026-W46");
    mm_period_week_of (1798729200ull * S_NS, w, sizeof w);  //  1 January 2027 in Tokyo
    cr_expect_str_eq (w, "2026-W53");
}

static st_row_t s_rows[256];
static size_t s_n;

static int
s_keep (void *arg, const st_row_t *row)
{
    (void) arg;
    if (s_n < 256)
        s_rows[s_n++] = *row;
    return 0;
}

//  A finding record as ag_lateral writes it (ag_lateral.h, AG_KV_FINDING).
static void
s_record (ag_store_t *st, uint64_t ts, const char *sensor, uint64_t seq, int tail, uint8_t cat,
          uint8_t sev, uint32_t delay)
{
    uint8_t key[64], val[64];
    size_t k = 0, v = 0, sl = strlen (sensor);
    for (int i = 7; i >= 0; i--)
        key[k++] = (uint8_t) (ts >> (8 * i));
    key[k++] = (uint8_t) sl;
    memcpy (key + k, sensor, sl), k += sl;
    for (int i = 7; i >= 0; i--)
        key[k++] = (uint8_t) (seq >> (8 * i));
    val[v++] = 7;
    memcpy (val + v, "b-kanto", 7), v += 7;
    memset (val + v, 0, 7), val[v + 7] = (uint8_t) seq, v += 8;
    if (tail) {
        val[v++] = (uint8_t) tail;
        val[v++] = cat;
        val[v++] = sev;
        for (int i = 3; i >= 0; i--)
            val[v++] = (uint8_t) (delay >> (8 * i));
    }
    ag_store_put_t put = {AG_KV_FINDING, key, k, val, v, 0};
    cr_assert_eq (ag_store_write (st, &put, 1, NULL, 0), 0);
}

Test (st_source, a_periods_findings_come_from_the_store)
{
    char dir[] = "/tmp/mm-st-source-XXXXXX", err[4096];
    cr_assert_not_null (mkdtemp (dir));
    ag_store_t *st = ag_store_new (dir, err, sizeof err);
    cr_assert_not_null (st, "%s", err);
    size_t n_errors;
    ag_registry_t *reg =
        ag_registry_load (MM_TEST_DATA "/registry/sample.reg", err, sizeof err, &n_errors);
    cr_assert_not_null (reg, "%s", err);
    uint64_t from, to;
    const char *kind;
    cr_assert_eq (mm_period_parse ("2026-W47", &from, &to, &kind), 0);
    //  In the week: org-01 twice (one notified 61 s after detection), org-02, org-04 (all
    //  Kanto, manufacturing, network sensors).
    s_record (st, from, "s-01", 1, 1, 5, 4, 62);
    s_record (st, from + 10 * S_NS, "s-01", 2, 1, 5, 4, 0);
    s_record (st, from + 20 * S_NS, "s-02", 3, 1, 5, 4, 0);
    s_record (st, to - 1, "s-04", 4, 1, 5, 4, 0);
    //  Not counted: outside the week, a sensor nobody knows, sensor health, an old record,
    //  a damaged tail.
    s_record (st, from - 1, "s-01", 5, 1, 5, 4, 0);
    s_record (st, to, "s-01", 6, 1, 5, 4, 0);
    s_record (st, from + 30 * S_NS, "s-zz", 7, 1, 5, 4, 0);
    s_record (st, from + 40 * S_NS, "s-03", 8, 1, 12, 4, 0);
    s_record (st, from + 50 * S_NS, "s-03", 9, 0, 0, 0, 0);
    s_record (st, from + 60 * S_NS, "s-03", 10, 2, 5, 4, 0);
    st_table_t *t = st_table_new ();
    st_source_stats_t ss;
    cr_assert_eq (st_source_read (st, reg, from, to, t, &ss), 0);
    cr_expect_eq (ss.records, 8);
    cr_expect_eq (ss.added, 4);
    cr_expect_eq (ss.unregistered, 1);
    cr_expect_eq (ss.not_counted, 1);
    cr_expect_eq (ss.old_format, 1);
    cr_expect_eq (ss.bad, 1);
    st_rules_t rules;
    st_rules_default (&rules);
    rules.k = 1, rules.min_providers = 1, rules.dom1_pct = rules.dom2_pct = 100;
    s_n = 0;
    cr_assert_eq (st_table_publish (t, &rules, "2026-W47", s_keep, NULL), 0);
    const st_row_t *cell = NULL;
    for (size_t i = 0; i < s_n; i++)
        if (s_rows[i].region == 3 && s_rows[i].industry == 'E')
            cell = &s_rows[i];
    cr_assert_not_null (cell);
    cr_expect_eq (cell->orgs, 3);
    cr_expect_eq (cell->alerts, 4);
    cr_expect_eq (cell->incidents, 1);
    cr_expect_eq (cell->median_minutes, 1);
    cr_expect_eq (cell->sensor_type, 1);
    cr_expect_eq (cell->category, 5);
    cr_expect_eq (cell->severity, 4);
    cr_expect_eq (cell->providers, 1);
    st_table_destroy (&t);
    ag_registry_destroy (&reg);
    ag_store_destroy (&st);
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq (system (cmd), 0);
}
