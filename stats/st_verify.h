/*  st_verify: `mimamori-stats verify FILE`, the check every output passes before it is
    published (docs/statistics.md "Verify"). It reads a JSON Lines or CSV file of rows (any
    file: it trusts nothing) and fails with the first offending row when:
      - a field is not one of the schema's (nothing else may travel: no company, host, address
        or sensor), or a value is not one of its vocabulary (labels must be the labels);
      - a published cell has fewer than the policy's k companies, or (council level) fewer
        than its minimum of providers;
      - a suppressed measure has a number, or a suppressed cell's alert measures do;
      - the row's stated protection is weaker than the policy (k, dominance thresholds,
        providers, complementary suppression off), noise is stated without its epsilon or with
        one above the policy's (noised company counts are published at k or more too);
      - a row or column of a table (a region's industries and its total, an industry's regions
        and its total, per period, level, sensor type, category and severity) has exactly one
        suppressed member: it could be recovered by subtraction.
    Dominance itself needs each company's contribution, which the file rightly does not hold:
    verify checks that the rule was applied at the policy's thresholds. Owner: stats/. */
#ifndef ST_VERIFY_H
#define ST_VERIFY_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t k;                         //  5
    uint32_t dom1_pct, dom2_pct;        //  60, 85: the stated thresholds may be lower, not higher
    uint32_t council_min_providers;     //  2
    uint32_t max_eps_num, max_eps_den;  //  1/1: noise weaker than this per cell is refused
} st_policy_t;

void st_policy_default (st_policy_t *policy);

//  0 if every row passes (`rows` counts them), -1 with `err` naming the line and the reason.
int st_verify_file (const char *path, const st_policy_t *policy, size_t *rows, char *err,
                    size_t err_size);
//  The same over a buffer (`name` for the messages).
int st_verify_buffer (const char *name, const char *data, size_t len, const st_policy_t *policy,
                      size_t *rows, char *err, size_t err_size);

#endif
