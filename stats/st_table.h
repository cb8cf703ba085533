/*  st_table: one period's alert statistics and their disclosure control (issue 7,
    docs/statistics.md). Findings are added one by one into cells (region x industry x sensor
    type x category x severity); each cell keeps one contribution per company (alerts,
    incidents) and the notification delays, so memory grows with cells and the companies in
    them, never with findings. Publishing builds, for every (sensor type, category, severity),
    a fixed hierarchy of tables: region x industry, each region over all industries, each
    industry over all regions, and the national total (companies partition along region and
    industry, so each margin is the sum of its cells), then applies the rules:
      1. primary: a cell with fewer than k companies is suppressed;
      2. dominance: its alert measures (alerts, incidents, median delay) are suppressed if one
         company contributes more than dom1 % of the (clipped) alerts or of the incidents, or
         two more than dom2 %;
      3. a cell with fewer than min_providers providers is suppressed, and so is one where the
         companies outside its biggest provider are fewer than k (that provider could
         subtract its own customers and single out a competitor's);
      4. complementary: no suppressed cell may be recoverable from the published ones by any
         combination of the margin relations (a row or column and its total): the singleton
         rule, then the full audit (st_audit), each widening to a fixpoint, for the company
         counts and for the alert measures;
      5. optional discrete-Laplace noise on the published counts (st_noise), the same for the
         same cell every time; suppression is decided on the true values, and a noised company
         count is never published below k.
    Nothing identifying goes in: the caller gives company and provider numbers, never names.
    Owner: stats/. */
#ifndef ST_TABLE_H
#define ST_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "st_noise.h"

typedef struct st_table_t st_table_t;

//  One finding, as the statistics see it.
typedef struct {
    uint32_t org;             //  the company's number (any stable number; never published)
    uint16_t provider;        //  its provider's number
    uint8_t region;           //  1..8 (ag_region_t)
    uint8_t industry;         //  JSIC major division 'A'..'T'
    uint8_t sensor_type;      //  1 network (UTM type), 2 endpoint (EDR type)
    uint8_t category;         //  taxonomy class, 1..ST_CATEGORY_MAX
    uint8_t severity;         //  mm_severity_t
    bool notified;            //  an incident was notified immediately
    uint32_t notify_minutes;  //  detection -> notification, when notified
} st_finding_t;

#define ST_CATEGORY_MAX 31
#define ST_ALL 0  //  a margin: all regions, or all industries

typedef struct {
    uint32_t k;                 //  primary suppression: fewer companies than this (5)
    uint32_t dom1_pct;          //  dominance: one company above this share of alerts (60)
    uint32_t dom2_pct;          //  two companies above this share (85)
    uint32_t min_providers;     //  fewer providers than this: suppressed (2; 0 or 1: no rule)
    uint32_t clip;              //  alerts counted per company per cell at most (100)
    bool complementary;         //  rule 4 (true)
    uint32_t eps_num, eps_den;  //  noise epsilon num/den per cell and measure (0: no noise)
    const uint8_t *secret;      //  the noise's secret (ST_NOISE_KEY_LEN bytes) when noised
} st_rules_t;

void st_rules_default (st_rules_t *rules);

//  Why a cell, or its alert measures, are not published (bits).
#define ST_WHY_K 1u              //  fewer than k companies
#define ST_WHY_PROVIDERS 2u      //  fewer than min_providers providers
#define ST_WHY_DOMINANCE 4u      //  one or two companies dominate the alerts
#define ST_WHY_COMPLEMENTARY 8u  //  suppressed so another cannot be recovered

//  One published row. A suppressed measure is not given (its value here is 0).
typedef struct {
    uint8_t region, industry;  //  ST_ALL for a margin
    uint8_t sensor_type, category, severity;
    bool suppressed;         //  the whole cell (companies and alert measures)
    bool alerts_suppressed;  //  the alert measures only (implied by `suppressed`)
    uint32_t why;            //  ST_WHY_* of the cell
    uint32_t alerts_why;     //  ST_WHY_* of the alert measures
    bool noised;             //  orgs and alerts carry noise
    uint32_t orgs;           //  distinct companies affected
    uint64_t alerts;         //  alerts, clipped per company
    uint64_t incidents;      //  incidents notified immediately
    int32_t median_minutes;  //  detection -> notification (-1: no incident)
    uint32_t providers;      //  providers contributing
} st_row_t;

typedef int (st_row_fn) (void *arg, const st_row_t *row);

st_table_t *st_table_new (void);
void st_table_destroy (st_table_t **self_p);
//  0, or -1 (a field out of range, or memory).
int st_table_add (st_table_t *self, const st_finding_t *f);
//  Findings added, and cells (region x industry x sensor type x category x severity) held.
uint64_t st_table_findings (const st_table_t *self);
size_t st_table_cells (const st_table_t *self);
//  Bytes held for the cells (what the benchmark's memory bound is checked with).
size_t st_table_memory (const st_table_t *self);

//  Applies `rules` and calls `fn` for every row of the hierarchy that has a company, in a
//  fixed order (sensor type, category, severity; then the total, the regions, the industries,
//  region x industry). `label` (the period, e.g. "2026-W47") seeds the noise with the cell.
//  0, or -1 (memory, bad rules, or `fn` returned non-zero).
int st_table_publish (st_table_t *self, const st_rules_t *rules, const char *label, st_row_fn *fn,
                      void *arg);

#endif
