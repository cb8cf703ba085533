/*  Tests of st_table: synthetic populations built to break a naive table, each stopped by a
    rule (a cell with one company, one dominant company, a differencing attack through the
    region and industry margins, a provider with a distinctive customer mix), memory that does
    not grow with findings, and noise that is the same for the same cell. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "st_audit.h"
#include "st_table.h"

#define KANTO 3
#define KINKI 5
#define C 4  //  a taxonomy class
#define SEV 3

static st_table_t *s_t;
static st_row_t s_rows[4096];
static size_t s_n;

static void
s_start (void)
{
    s_t = st_table_new ();
    cr_assert_not_null (s_t);
    s_n = 0;
}

static void
s_stop (void)
{
    st_table_destroy (&s_t);
}

TestSuite (st_table, .init = s_start, .fini = s_stop);

//  `n` alerts of company `org` (provider `prov`) in region `r`, industry `ind`.
static void
s_alerts (uint32_t org, uint16_t prov, uint8_t r, char ind, int n)
{
    for (int k = 0; k < n; k++) {
        st_finding_t f = {.org = org,
                          .provider = prov,
                          .region = r,
                          .industry = (uint8_t) ind,
                          .sensor_type = 1,
                          .category = C,
                          .severity = SEV};
        cr_assert_eq (st_table_add (s_t, &f), 0);
    }
}

static int
s_keep (void *arg, const st_row_t *row)
{
    (void) arg;
    cr_assert_lt (s_n, 4096);
    s_rows[s_n++] = *row;
    return 0;
}

static void
s_publish (const st_rules_t *rules)
{
    s_n = 0;
    cr_assert_eq (st_table_publish (s_t, rules, "2026-W47", s_keep, NULL), 0);
}

static const st_row_t *
s_row (uint8_t r, char ind)
{
    for (size_t i = 0; i < s_n; i++)
        if (s_rows[i].region == r && s_rows[i].industry == (ind ? (uint8_t) ind : ST_ALL))
            return &s_rows[i];
    return NULL;
}

//  The attacker: every published number is known, an absent cell is a known 0, and each
//  margin is the sum of its cells. Whatever relation has exactly one unknown gives it away;
//  repeat until nothing more falls. True if any suppressed company count (or, with `alerts`,
//  alert count) is recovered.
static bool
s_attack (bool alerts)
{
    //  known[r][i]: r 0..8, i 0..26 (0: all)
    bool known[9][27];
    bool present[9][27];
    memset (present, 0, sizeof present);
    for (int r = 0; r < 9; r++)
        for (int i = 0; i < 27; i++)
            known[r][i] = true;  //  absent: 0
    for (size_t k = 0; k < s_n; k++) {
        const st_row_t *row = &s_rows[k];
        int r = row->region, i = row->industry ? row->industry - 'A' + 1 : 0;
        present[r][i] = true;
        known[r][i] = alerts ? !row->alerts_suppressed : !row->suppressed;
    }
    bool hidden[9][27];
    memcpy (hidden, known, sizeof hidden);
    bool changed = true;
    while (changed) {
        changed = false;
        for (int r = 0; r < 9; r++) {
            int unknown = 0;
            for (int i = 0; i < 27; i++)
                unknown += !known[r][i];
            if (unknown == 1)
                for (int i = 0; i < 27; i++)
                    if (!known[r][i])
                        known[r][i] = changed = true;
        }
        for (int i = 0; i < 27; i++) {
            int unknown = 0;
            for (int r = 0; r < 9; r++)
                unknown += !known[r][i];
            if (unknown == 1)
                for (int r = 0; r < 9; r++)
                    if (!known[r][i])
                        known[r][i] = changed = true;
        }
    }
    for (int r = 0; r < 9; r++)
        for (int i = 0; i < 27; i++)
            if (present[r][i] && !hidden[r][i] && known[r][i])
                return true;
    return false;
}

//  A background of safe cells: in Kanto and Kinki, industries E, F, G, each with 6 companies of
//  two providers, 3 alerts each.
static void
s_background (void)
{
    uint32_t org = 100;
    const uint8_t regions[] = {KANTO, KINKI};
    for (int r = 0; r < 2; r++)
        for (char ind = 'E'; ind <= 'G'; ind++)
            for (int k = 0; k < 6; k++, org++)
                s_alerts (org, (uint16_t) (1 + k % 2), regions[r], ind, 3);
}

Test (st_table, a_cell_with_one_company_is_suppressed_and_cannot_be_recovered)
{
    s_background ();
    s_alerts (1, 1, KANTO, 'H', 40);  //  the only company of industry H in Kanto
    st_rules_t rules;
    st_rules_default (&rules);
    rules.min_providers = 1;  //  rule 3 has tests of its own
    s_publish (&rules);
    const st_row_t *h = s_row (KANTO, 'H');
    cr_assert_not_null (h);
    cr_expect (h->suppressed);
    cr_expect (h->why & ST_WHY_K);
    cr_expect_eq (h->orgs, 0);
    cr_expect_eq (h->alerts, 0);
    //  Its industry's total has the same single company: suppressed too.
    cr_expect (s_row (ST_ALL, 'H')->suppressed);
    //  Kanto's total is published, so another Kanto cell had to go with it.
    const st_row_t *kanto = s_row (KANTO, 0);
    cr_expect_not (kanto->suppressed);
    cr_expect_eq (kanto->orgs, 19);
    size_t complementary = 0;
    for (size_t i = 0; i < s_n; i++)
        complementary += (s_rows[i].why & ST_WHY_COMPLEMENTARY) != 0;
    cr_expect_geq (complementary, 1);
    cr_expect_not (s_attack (false), "a suppressed company count was recovered");
    cr_expect_not (s_attack (true), "a suppressed alert count was recovered");
    //  Without complementary suppression the same attack works: the test can tell.
    rules.complementary = false;
    s_publish (&rules);
    cr_expect (s_attack (false));
}

//  One company with 1,000 alerts among five with one each: the company count may be told,
//  the alerts (even clipped to 100 a company: 100 of 105) may not.
Test (st_table, one_dominant_company_hides_the_alerts)
{
    s_background ();
    s_alerts (1, 1, KANTO, 'E', 1000);
    st_rules_t rules;
    st_rules_default (&rules);
    rules.min_providers = 1;  //  rule 3 has tests of its own
    s_publish (&rules);
    const st_row_t *e = s_row (KANTO, 'E');
    cr_assert_not_null (e);
    cr_expect_not (e->suppressed);
    cr_expect_eq (e->orgs, 7);
    cr_expect (e->alerts_suppressed);
    cr_expect (e->alerts_why & ST_WHY_DOMINANCE);
    cr_expect_eq (e->alerts, 0);
    cr_expect_not (s_attack (true), "the dominated alert count was recovered");
    //  Two companies with 45 % each (top two 90 % > 85 %) hide it too; 40 % alone does not.
    s_alerts (2, 2, KINKI, 'F', 300);  //  Kinki F: 6 x 3 + 100 + 100 -> 2 of 218
    s_alerts (3, 1, KINKI, 'F', 300);
    s_publish (&rules);
    const st_row_t *f = s_row (KINKI, 'F');
    cr_expect (f->alerts_why & ST_WHY_DOMINANCE);
    const st_row_t *g = s_row (KINKI, 'G');
    cr_expect_not (g->alerts_why & ST_WHY_DOMINANCE);
}

//  The differencing attack: Kanto's total, Kanto x E and Kanto x G published, Kanto x F (one
//  company) suppressed: F = total - E - G, unless a second cell of the row (and of F's
//  column) is suppressed as well.
Test (st_table, the_differencing_attack_through_margins_fails)
{
    uint32_t org = 1;
    for (int k = 0; k < 7; k++)
        s_alerts (org++, (uint16_t) (1 + k % 2), KANTO, 'E', 2);
    s_alerts (org++, 1, KANTO, 'F', 9);
    for (int k = 0; k < 6; k++)
        s_alerts (org++, (uint16_t) (1 + k % 2), KANTO, 'G', 2);
    for (int k = 0; k < 8; k++)
        s_alerts (org++, (uint16_t) (1 + k % 2), KINKI, 'F', 2);
    for (int k = 0; k < 5; k++)
        s_alerts (org++, (uint16_t) (1 + k % 2), KINKI, 'E', 2);
    st_rules_t rules;
    st_rules_default (&rules);
    rules.min_providers = 1;  //  rule 3 has tests of its own
    s_publish (&rules);
    cr_expect (s_row (KANTO, 'F')->suppressed);
    cr_expect_not (s_row (KANTO, 0)->suppressed);
    //  Every relation: no row or column with exactly one suppressed member.
    cr_expect_not (s_attack (false));
    cr_expect_not (s_attack (true));
    //  The smallest other cell of the row went: Kanto x G (6 companies) rather than E (7).
    cr_expect (s_row (KANTO, 'G')->suppressed);
    cr_expect (s_row (KANTO, 'G')->why & ST_WHY_COMPLEMENTARY);
}

//  Provider 3 alone serves industry H: every H cell would show its customer mix to its
//  competitors, so they are suppressed even with enough companies.
Test (st_table, a_provider_with_a_distinctive_customer_mix_is_not_shown)
{
    s_background ();
    for (uint32_t k = 0; k < 8; k++)
        s_alerts (200 + k, 3, k < 4 ? KANTO : KINKI, 'H', 2);
    st_rules_t rules;
    st_rules_default (&rules);
    s_publish (&rules);
    const st_row_t *h = s_row (ST_ALL, 'H');
    cr_assert_not_null (h);
    cr_expect (h->suppressed);
    cr_expect (h->why & ST_WHY_PROVIDERS);
    cr_expect_not (h->why & ST_WHY_K);
    cr_expect (s_row (KANTO, 'H')->suppressed);
    cr_expect_not (s_attack (false));
    //  At a provider's own level (min_providers 1) the same cells are published.
    rules.min_providers = 1;
    s_publish (&rules);
    cr_expect_not (s_row (ST_ALL, 'H')->suppressed);
    cr_expect_eq (s_row (ST_ALL, 'H')->orgs, 8);
    cr_expect_eq (s_row (ST_ALL, 'H')->providers, 1);
}

//  A provider knows its own customers: subtracting them from a published cell must not leave
//  it a few companies of a competitor. 8 of East and 1 of West: suppressed, though 9 companies
//  of 2 providers; 8 and 5: published (Chubu's 5 and 5 go for the complementary). And one company's incidents (not its alerts) hide the
//  alert measures.
Test (st_table, a_provider_cannot_subtract_its_own_customers)
{
    for (uint32_t k = 0; k < 8; k++)
        s_alerts (10 + k, 1, KANTO, 'E', 3);
    s_alerts (50, 2, KANTO, 'E', 3);
    for (uint32_t k = 0; k < 8; k++)
        s_alerts (20 + k, 1, KINKI, 'E', 3);
    for (uint32_t k = 0; k < 5; k++)
        s_alerts (60 + k, 2, KINKI, 'E', 3);
    //  Chubu E (5 and 5), the smallest: what complementary suppression takes for Kanto's.
    for (uint32_t k = 0; k < 10; k++)
        s_alerts (80 + k, (uint16_t) (1 + k % 2), 4, 'E', 3);
    st_rules_t rules;
    st_rules_default (&rules);
    s_publish (&rules);
    const st_row_t *kanto = s_row (KANTO, 'E'), *kinki = s_row (KINKI, 'E');
    cr_assert (kanto && kinki);
    cr_expect (kanto->suppressed);
    cr_expect (kanto->why & ST_WHY_PROVIDERS);
    cr_expect_not (kanto->why & ST_WHY_K);
    cr_expect_not (kinki->suppressed);
    cr_expect_eq (kinki->orgs, 13);
    cr_expect_not (s_attack (false));
    //  Incidents: one company has all 4 of Kinki E's (its alerts are only 4 of 43).
    for (int k = 0; k < 4; k++) {
        st_finding_t f = {.org = 60,
                          .provider = 2,
                          .region = KINKI,
                          .industry = 'E',
                          .sensor_type = 1,
                          .category = C,
                          .severity = SEV,
                          .notified = true,
                          .notify_minutes = 7};
        cr_assert_eq (st_table_add (s_t, &f), 0);
    }
    s_publish (&rules);
    kinki = s_row (KINKI, 'E');
    cr_expect_not (kinki->suppressed);
    cr_expect (kinki->alerts_suppressed);
    cr_expect (kinki->alerts_why & ST_WHY_DOMINANCE);
    cr_expect_eq (kinki->incidents, 0);
    cr_expect_eq (kinki->median_minutes, -1);
}

//  The review's attack on the singleton rule: two 2x2 blocks of one-company cells linked by a
//  fifth (Hokkaido/Tohoku x A/B, Chubu/Kinki x C/D, Tohoku x C). Every row and column has two
//  suppressed members or none, yet rows + rows - columns - columns isolates the link. The
//  full audit suppresses more until nothing can be solved.
Test (st_table, linked_blocks_of_small_cells_cannot_be_solved)
{
    uint32_t org = 1;
    const int regions[] = {1, 2, 4, 5};
    for (int r = 0; r < 4; r++)  //  a big safe cell per region (industry F) ...
        for (int k = 0; k < 12; k++)
            s_alerts (org++, (uint16_t) (1 + k % 2), (uint8_t) regions[r], 'F', 2);
    for (char ind = 'A'; ind <= 'D'; ind++)  //  ... and per industry (region 7)
        for (int k = 0; k < 12; k++)
            s_alerts (org++, (uint16_t) (1 + k % 2), 7, ind, 2);
    int blocks[][2] = {{1, 'A'}, {1, 'B'}, {2, 'A'}, {2, 'B'}, {4, 'C'},
                       {4, 'D'}, {5, 'C'}, {5, 'D'}, {2, 'C'}};
    for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++)
        s_alerts (org++, 1, (uint8_t) blocks[b][0], (char) blocks[b][1], 5 + (int) b);
    st_rules_t rules;
    st_rules_default (&rules);
    rules.min_providers = 1;  //  rule 3 has tests of its own
    s_publish (&rules);
    for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++)
        cr_expect (s_row ((uint8_t) blocks[b][0], (char) blocks[b][1])->suppressed);
    //  The full solver on what was published recovers nothing, for either measure.
    bool present[9][27], sup[9][27], asup[9][27], rec[9][27];
    memset (present, 0, sizeof present);
    memset (sup, 0, sizeof sup);
    memset (asup, 0, sizeof asup);
    for (size_t k = 0; k < s_n; k++) {
        const st_row_t *row = &s_rows[k];
        int r = row->region, i = row->industry ? row->industry - 'A' + 1 : 0;
        present[r][i] = true;
        sup[r][i] = row->suppressed;
        asup[r][i] = row->alerts_suppressed;
    }
    cr_expect_eq (st_audit (present, sup, rec), 0);
    cr_expect_eq (st_audit (present, asup, rec), 0);
    cr_expect_not (s_attack (false));
}

//  Measures: alerts clipped per company, incidents, the median delay, providers.
Test (st_table, measures_are_exact_on_a_safe_cell)
{
    for (uint32_t k = 0; k < 6; k++)
        for (uint32_t a = 0; a < 3 + k; a++) {
            st_finding_t f = {.org = k,
                              .provider = (uint16_t) (k % 3),
                              .region = KANTO,
                              .industry = 'E',
                              .sensor_type = 2,
                              .category = C,
                              .severity = 5,
                              .notified = a == 0,
                              .notify_minutes = k};
            cr_assert_eq (st_table_add (s_t, &f), 0);
        }
    st_finding_t big = {.org = 9,
                        .provider = 1,
                        .region = KANTO,
                        .industry = 'E',
                        .sensor_type = 2,
                        .category = C,
                        .severity = 5};
    for (int a = 0; a < 150; a++)
        cr_assert_eq (st_table_add (s_t, &big), 0);
    st_rules_t rules;
    st_rules_default (&rules);
    rules.dom1_pct = 100, rules.dom2_pct = 100;  //  measure, not judge
    rules.min_providers = 1;
    s_publish (&rules);
    const st_row_t *e = s_row (KANTO, 'E');
    cr_assert_not_null (e);
    cr_expect_eq (e->orgs, 7);
    cr_expect_eq (e->alerts, 3 + 4 + 5 + 6 + 7 + 8 + 100);  //  the 150 clipped to 100
    cr_expect_eq (e->incidents, 6);
    cr_expect_eq (e->median_minutes, 2);  //  delays 0..5: the lower median
    cr_expect_eq (e->providers, 3);
    cr_expect_eq (e->sensor_type, 2);
    cr_expect_eq (e->severity, 5);
    //  Out-of-range findings are refused.
    st_finding_t bad = big;
    bad.region = 9;
    cr_expect_eq (st_table_add (s_t, &bad), -1);
    bad = big, bad.industry = 'a';
    cr_expect_eq (st_table_add (s_t, &bad), -1);
    bad = big, bad.category = 0;
    cr_expect_eq (st_table_add (s_t, &bad), -1);
}

//  Memory follows cells and companies, not findings: a million more findings of the same
//  companies add nothing.
Test (st_table, memory_does_not_grow_with_findings)
{
    s_background ();
    size_t before = st_table_memory (s_t);
    for (int round = 0; round < 27778; round++)
        s_background ();  //  36 findings a round
    cr_expect_geq (st_table_findings (s_t), 1000000);
    cr_expect_eq (st_table_memory (s_t), before);
    cr_expect_eq (st_table_cells (s_t), 6);
}

//  Noise: the same cell gets the same published numbers every time; the numbers move; a
//  suppressed cell stays without numbers.
Test (st_table, noise_is_the_same_for_the_same_cell)
{
    s_background ();
    s_alerts (1, 1, KANTO, 'H', 40);
    static const uint8_t secret[ST_NOISE_KEY_LEN] = "test secret for the noise tests";
    st_rules_t rules;
    st_rules_default (&rules);
    rules.eps_num = 1, rules.eps_den = 2, rules.secret = secret;
    s_publish (&rules);
    static st_row_t first[4096];
    size_t n = s_n;
    memcpy (first, s_rows, n * sizeof *first);
    s_publish (&rules);
    cr_assert_eq (s_n, n);
    cr_expect_eq (memcmp (first, s_rows, n * sizeof *first), 0);
    int moved = 0;
    for (size_t i = 0; i < n; i++) {
        cr_expect_eq (s_rows[i].noised, !s_rows[i].suppressed);
        if (s_rows[i].suppressed)
            cr_expect_eq (s_rows[i].orgs, 0);
        else
            moved += s_rows[i].orgs != 6 && s_rows[i].orgs != 12 && s_rows[i].orgs != 18 &&
                     s_rows[i].orgs != 36;
    }
    cr_expect_gt (moved, 0);
    //  Rules that make no sense are refused.
    rules.secret = NULL;
    cr_expect_eq (st_table_publish (s_t, &rules, "w", s_keep, NULL), -1);
    st_rules_default (&rules);
    rules.k = 0;
    cr_expect_eq (st_table_publish (s_t, &rules, "w", s_keep, NULL), -1);
}
