/*  Scenario tests of ag_correlate on the sample registry (tests/data/registry/sample.reg: 2
    providers, 30 orgs in Kanto and Kinki, chains c-auto 01-10, c-food 09-20, c-elec 19-30).
    Every warning the correlator decides is recorded and checked against the rules. */
#define _GNU_SOURCE  //  memmem
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_allow.h"
#include "ag_correlate.h"
#include "mm_buf.h"

#define S_NS 1000000000ul
#define T0 (1795000000ul * S_NS)    //  2026-11-19, the findings' time
#define NOW0 (1795400000ul * S_NS)  //  wall time of the tests
#define S_MAX 4096

typedef struct {
    char org[MM_ID_MAX + 1];
    char id[64];
    uint32_t revision;
    uint8_t status, relation, severity, match, type, tlp, confidence;
    uint32_t orgs, providers;
    uint64_t sightings;
    char value[256];
    bool digest;
    uint8_t bytes[4096];  //  the encoded WARNING
    size_t len;
} s_rec_t;

static s_rec_t s_recs[S_MAX];
static size_t s_n;
static ag_incident_t s_incs[64];
static char s_inc_orgs[64][MM_ID_MAX + 1];
static size_t s_n_inc, s_n_quarantine;
static size_t s_digests;

static ag_registry_t *s_reg;
static ag_allow_t *s_allow;
static ag_psl_t *s_psl;
static ag_correlate_t *s_cor;

static void
s_record (const mm_warning_t *w, bool digest)
{
    cr_assert_lt (s_n, S_MAX);
    s_rec_t *r = &s_recs[s_n++];
    memset (r, 0, sizeof *r);
    snprintf (r->org, sizeof r->org, "%.*s", (int) w->org.len, w->org.ptr);
    snprintf (r->id, sizeof r->id, "%.*s", (int) w->id.len, w->id.ptr);
    snprintf (r->value, sizeof r->value, "%.*s", (int) w->indicator.value.len,
              w->indicator.value.ptr);
    r->revision = w->revision;
    r->status = w->status;
    r->relation = w->relation;
    r->severity = w->severity;
    r->match = w->indicator.match;
    r->type = w->indicator.type;
    r->tlp = w->tlp;
    r->confidence = w->confidence;
    r->orgs = w->evidence.orgs;
    r->providers = w->evidence.providers;
    r->sightings = w->evidence.sightings;
    r->digest = digest;
    mm_buf_t buf = {0};
    mm_error_t err;
    cr_assert_eq (mm_warning_encode (w, &buf, &err), 0, "%s", err.reason);
    cr_assert_lt (buf.len, sizeof r->bytes);
    memcpy (r->bytes, buf.data, buf.len);
    r->len = buf.len;
    mm_buf_free (&buf);
}

static char s_earlier[256];  //  the last `earlier` value given with a warning
static uint64_t s_matcher;   //  the last `matcher` given with a warning
static size_t s_matcher_n;   //  warnings given with a `matcher`

static void
s_on_warning (void *arg, const mm_warning_t *w, const mm_indicator_t *earlier, uint64_t matcher)
{
    (void) arg;
    s_record (w, false);
    s_matcher = matcher;
    s_matcher_n += matcher != 0;
    if (earlier)
        snprintf (s_earlier, sizeof s_earlier, "%.*s", (int) earlier->value.len,
                  earlier->value.ptr);
}

static void
s_on_digest (void *arg, const char *org, const mm_warning_t *const *ws, size_t n)
{
    (void) arg;
    s_digests++;
    for (size_t i = 0; i < n; i++) {
        cr_assert (mm_str_eq (ws[i]->org, org));
        s_record (ws[i], true);
    }
}

static void
s_on_incident (void *arg, const ag_incident_t *inc)
{
    (void) arg;
    if (inc->quarantine)
        s_n_quarantine++;
    if (s_n_inc < 64) {
        s_incs[s_n_inc] = *inc;
        snprintf (s_inc_orgs[s_n_inc], sizeof s_inc_orgs[0], "%s", inc->org);
    }
    s_n_inc++;
}

//  The sample registry, with `extra` lines added.
static ag_registry_t *
s_registry (const char *extra)
{
    FILE *f = fopen (MM_TEST_DATA "/registry/sample.reg", "rb");
    cr_assert_not_null (f);
    static char text[1 << 16];
    size_t n = fread (text, 1, sizeof text - 1024, f);
    fclose (f);
    n += (size_t) snprintf (text + n, sizeof text - n, "\n%s\n", extra ? extra : "");
    char err[2048];
    ag_registry_t *r = ag_registry_parse ("sample.reg", text, n, err, sizeof err, NULL);
    cr_assert_not_null (r, "%s", err);
    return r;
}

static void
s_start_with (const ag_correlate_config_t *cfg)
{
    s_n = s_n_inc = s_n_quarantine = s_digests = s_matcher_n = 0;
    s_reg = s_registry ("sensor s-03e org=org-03 type=endpoint");
    s_allow = ag_allow_new ();
    cr_assert_not_null (s_allow);
    char err[2048];
    cr_assert_eq (ag_allow_load_dir (s_allow, MM_ALLOWLISTS, err, sizeof err), 0, "%s", err);
    s_psl = ag_psl_load (AG_PSL_DEFAULT_PATH, err, sizeof err);
    cr_assert_not_null (s_psl, "%s", err);
    ag_correlate_sink_t sink = {
        .warning = s_on_warning, .digest = s_on_digest, .incident = s_on_incident};
    s_cor = ag_correlate_new (cfg, s_reg, s_allow, s_psl, &sink);
    cr_assert_not_null (s_cor);
}

static void
s_start (void)
{
    s_start_with (NULL);
}

static void
s_stop (void)
{
    ag_correlate_destroy (&s_cor);
    ag_psl_destroy (&s_psl);
    ag_allow_destroy (&s_allow);
    ag_registry_destroy (&s_reg);
}

//  A finding from `sensor` about indicator `value` of `type`.
static int
s_find (const char *sensor, uint64_t ts, uint8_t sev, uint8_t conf, uint8_t category, uint8_t type,
        const char *value, uint64_t now)
{
    static uint64_t seq;
    mm_event_t ev;
    memset (&ev, 0, sizeof ev);
    ev.has = MM_EV_HAS_FINDING;
    ev.kind = MM_KIND_FINDING;
    ev.ts = ts;
    ev.sensor = mm_str (sensor);
    ev.org = mm_str ("org-99");  //  what a message claims never counts
    ev.seq = ++seq;
    ev.severity = sev;
    ev.confidence = conf;
    ev.finding.id = seq;
    ev.finding.detector = mm_str ("ioc.match");
    ev.finding.category = category;
    ev.finding.n_attack = 1;
    ev.finding.attack[0] = mm_str ("T1071");
    ev.finding.message = mm_str ("test");
    if (type) {
        ev.finding.has = MM_FINDING_HAS_IOC;
        ev.finding.ioc.type = type;
        ev.finding.ioc.value = mm_str (value);
    }
    return ag_correlate_event (s_cor, &ev, now);
}

#define C2 MM_CAT_C2_BEACON
#define IP MM_IOC_IP

//  Distinct orgs that got anything, as a sorted, comma-joined list.
static const char *
s_recipients (void)
{
    static char out[4096];
    char seen[64][MM_ID_MAX + 1];
    size_t n = 0;
    for (size_t i = 0; i < s_n; i++) {
        bool dup = false;
        for (size_t k = 0; k < n && !dup; k++)
            dup = strcmp (seen[k], s_recs[i].org) == 0;
        if (!dup && n < 64)
            snprintf (seen[n++], sizeof seen[0], "%.64s", s_recs[i].org);
    }
    qsort (seen, n, sizeof seen[0], (int (*) (const void *, const void *)) strcmp);
    size_t len = 0;
    out[0] = '\0';
    for (size_t k = 0; k < n && len < sizeof out; k++)
        len += (size_t) snprintf (out + len, sizeof out - len, "%s%s", k ? "," : "", seen[k]);
    return out;
}

static const s_rec_t *
s_last_for (const char *org)
{
    for (size_t i = s_n; i-- > 0;)
        if (strcmp (s_recs[i].org, org) == 0)
            return &s_recs[i];
    return NULL;
}

static bool
s_contains (const s_rec_t *r, const char *needle)
{
    return memmem (r->bytes, r->len, needle, strlen (needle)) != NULL;
}

TestSuite (ag_correlate, .init = s_start, .fini = s_stop);

Test (ag_correlate, single_hit_warns_only_direct_partners)
{
    //  org-03 supplies org-01 and is supplied by org-06 and org-07.
    cr_assert_eq (s_find ("s-03", T0, MM_SEV_HIGH, 90, C2, IP, "45.33.32.156", NOW0), 0);
    cr_expect_str_eq (s_recipients (), "org-01,org-06,org-07");
    cr_expect_eq (s_n, 3);
    const s_rec_t *r = s_last_for ("org-01");
    cr_assert_not_null (r);
    cr_expect_eq (r->revision, 1);
    cr_expect_eq (r->status, MM_WSTATUS_ACTIVE);
    cr_expect_eq (r->severity, MM_SEV_HIGH);
    cr_expect_str_eq (r->value, "45.33.32.156");
    cr_expect_eq (r->match, MM_MATCH_EXACT);
    cr_expect_eq (r->tlp, MM_TLP_AMBER);
    //  org-01 has two suppliers (org-02, org-03): "a direct supplier" names neither.
    cr_expect_eq (r->relation, MM_REL_DIRECT_SUPPLIER);
    cr_expect_eq (r->orgs, 1);
    cr_expect_eq (r->sightings, 1);
    //  org-06's only partner is org-03: nothing in its copy may point there.
    r = s_last_for ("org-06");
    cr_expect_eq (r->relation, MM_REL_UNDISCLOSED);
    cr_expect_eq (r->orgs, 0);
    cr_expect_eq (r->providers, 0);
    //  The hit org's own SOC hears of it at once.
    cr_expect_eq (s_n_inc, 1);
    cr_expect_str_eq (s_inc_orgs[0], "org-03");
    cr_expect_str_eq (s_incs[0].provider, "p-east");
    cr_expect_eq (s_incs[0].notified, NOW0);
    for (size_t i = 0; i < s_n; i++) {
        cr_expect_not (s_contains (&s_recs[i], "org-03"));
        cr_expect_not (s_contains (&s_recs[i], "s-03"));
        cr_expect_not (s_contains (&s_recs[i], "Company 03"));
    }
}

Test (ag_correlate, low_confidence_single_sensor_warns_nobody_two_sensors_do)
{
    cr_assert_eq (s_find ("s-03", T0, MM_SEV_HIGH, 50, C2, IP, "45.33.32.156", NOW0), 0);
    cr_expect_eq (s_n, 0);
    cr_expect_eq (s_n_inc, 1);  //  still severe: its own SOC is told
    //  The org's second sensor confirms it: R1.
    cr_assert_eq (s_find ("s-03e", T0 + S_NS, MM_SEV_HIGH, 50, C2, IP, "45.33.32.156", NOW0), 0);
    cr_expect_str_eq (s_recipients (), "org-01,org-06,org-07");
}

Test (ag_correlate, org_with_one_supplier_cannot_learn_who_was_hit)
{
    //  org-05's only supplier is org-10 (it also supplies org-02).
    cr_assert_eq (
        s_find ("s-10", T0, MM_SEV_CRITICAL, 95, C2, MM_IOC_DOMAIN, "Update.Evil-CDN.xyz.", NOW0),
        0);
    const s_rec_t *r = s_last_for ("org-05");
    cr_assert_not_null (r);
    cr_expect_neq (r->relation, MM_REL_DIRECT_SUPPLIER);
    cr_expect_eq (r->relation, MM_REL_SAME_CHAIN);
    cr_expect_str_eq (r->value, "update.evil-cdn.xyz");
    cr_expect_eq (r->match, MM_MATCH_SUBDOMAINS);
    for (size_t i = 0; i < s_n; i++) {
        cr_expect_not (s_contains (&s_recs[i], "org-10"));
        cr_expect_not (s_contains (&s_recs[i], "Company 10"));
        cr_expect_not (s_contains (&s_recs[i], "org10.example"));
    }
    //  org-10's partners: customers org-05 and org-09, suppliers org-12 and org-13.
    cr_expect_str_eq (s_recipients (), "org-05,org-09,org-12,org-13");
}

Test (ag_correlate, two_orgs_of_a_chain_are_a_campaign)
{
    //  org-12 and org-15 are both in c-food and not partners; medium: no R1.
    cr_assert_eq (s_find ("s-12", T0, MM_SEV_MEDIUM, 70, C2, IP, "45.33.32.156", NOW0), 0);
    cr_expect_eq (s_n, 0);
    cr_assert_eq (
        s_find ("s-15", T0 + 3600 * S_NS, MM_SEV_MEDIUM, 70, C2, IP, "45.33.32.7", NOW0 + S_NS), 0);
    //  Every c-food member (org-09 .. org-20), nobody else.
    cr_expect_str_eq (s_recipients (), "org-09,org-10,org-11,org-12,org-13,org-14,org-15,org-16,"
                                       "org-17,org-18,org-19,org-20");
    const s_rec_t *r = s_last_for ("org-09");
    cr_expect_eq (r->relation, MM_REL_SAME_CHAIN);
    cr_expect_eq (r->severity, MM_SEV_HIGH);  //  medium + 1
    cr_expect_eq (r->orgs, 2);
    cr_expect_eq (r->providers, 1);
    //  Two addresses of one /24: the warning names the /24.
    cr_expect_str_eq (r->value, "45.33.32.0/24");
    cr_expect_eq (r->type, MM_IOC_CIDR);
    cr_expect_eq (r->match, MM_MATCH_PREFIX);
    ag_correlate_stats_t st;
    ag_correlate_stats (s_cor, &st);
    cr_expect_eq (st.rule[2], 1);
    cr_expect_eq (st.rule[1] + st.rule[3] + st.rule[4], 0);
}

Test (ag_correlate, outside_the_window_is_no_campaign)
{
    cr_assert_eq (s_find ("s-12", T0, MM_SEV_MEDIUM, 70, C2, IP, "45.33.32.156", NOW0), 0);
    cr_assert_eq (
        s_find ("s-15", T0 + 73 * 3600 * S_NS, MM_SEV_MEDIUM, 70, C2, IP, "45.33.32.156", NOW0), 0);
    cr_expect_eq (s_n, 0);
}

Test (ag_correlate, seen_at_a_then_at_its_partner_is_critical_spread)
{
    //  org-04 supplies org-02 (remote maintenance).
    cr_assert_eq (s_find ("s-04", T0, MM_SEV_MEDIUM, 70, C2, IP, "45.33.32.156", NOW0), 0);
    cr_assert_eq (
        s_find ("s-02", T0 + 600 * S_NS, MM_SEV_MEDIUM, 70, C2, IP, "45.33.32.156", NOW0 + S_NS),
        0);
    const s_rec_t *r = s_last_for ("org-04");
    cr_assert_not_null (r);
    cr_expect_eq (r->severity, MM_SEV_CRITICAL);
    r = s_last_for ("org-01");  //  org-02's customer
    cr_assert_not_null (r);
    cr_expect_eq (r->severity, MM_SEV_CRITICAL);
    ag_correlate_stats_t st;
    ag_correlate_stats (s_cor, &st);
    cr_expect_eq (st.rule[3], 1);
    //  The same pair the other way round in time is spread too; a pair that is no link is not.
    for (size_t i = 0; i < s_n; i++)
        cr_expect (strncmp (s_recs[i].org, "org-", 4) == 0 &&
                       (int) strtol (s_recs[i].org + 4, NULL, 10) <= 10,
                   "%s is not in c-auto", s_recs[i].org);
}

Test (ag_correlate, regional_advisory_needs_three_orgs_two_providers_two_chains)
{
    //  Kinki: org-17 (c-food, p-west), org-21 (c-elec, p-east), org-26 (c-elec, p-west).
    cr_assert_eq (s_find ("s-17", T0, MM_SEV_MEDIUM, 70, C2, IP, "45.33.32.156", NOW0), 0);
    cr_assert_eq (s_find ("s-21", T0 + S_NS, MM_SEV_MEDIUM, 70, C2, IP, "45.33.32.156", NOW0), 0);
    cr_expect_eq (s_n, 0);  //  different chains, two orgs: nothing yet
    cr_assert_eq (s_find ("s-26", T0 + 2 * S_NS, MM_SEV_MEDIUM, 70, C2, IP, "45.33.32.156", NOW0),
                  0);
    //  org-18 is in Kinki and only in c-food: it hears of it as a regional advisory.
    const s_rec_t *r = s_last_for ("org-18");
    cr_assert_not_null (r);
    cr_expect_eq (r->relation, MM_REL_SAME_REGION_INDUSTRY);
    //  org-22 is in c-elec, where org-21 and org-26 make a chain campaign.
    r = s_last_for ("org-22");
    cr_assert_not_null (r);
    cr_expect_eq (r->relation, MM_REL_SAME_CHAIN);
    cr_expect_eq (r->providers, 2);
    //  Nobody in Kanto.
    for (size_t i = 0; i < s_n; i++)
        cr_expect_geq ((int) strtol (s_recs[i].org + 4, NULL, 10), 16, "%s is not in Kinki",
                       s_recs[i].org);
    ag_correlate_stats_t st;
    ag_correlate_stats (s_cor, &st);
    cr_expect_eq (st.rule[4], 1);
}

Test (ag_correlate, allowlisted_indicators_never_warn)
{
    const char *values[] = {"8.8.8.8",
                            "10.1.2.3",
                            "198.51.100.35",
                            "www.google.com",
                            "org05.example.co.jp",
                            "mail.org05.example.co.jp"};
    uint8_t types[] = {IP, IP, IP, MM_IOC_DOMAIN, MM_IOC_DOMAIN, MM_IOC_DOMAIN};
    for (size_t i = 0; i < 6; i++)
        for (int s = 1; s <= 30; s++) {
            char sensor[16];
            snprintf (sensor, sizeof sensor, "s-%02d", s);
            cr_assert_eq (s_find (sensor, T0 + (uint64_t) s * S_NS, MM_SEV_CRITICAL, 100, C2,
                                  types[i], values[i], NOW0),
                          0);
        }
    cr_expect_eq (s_n, 0);
    ag_correlate_stats_t st;
    ag_correlate_stats (s_cor, &st);
    cr_expect_eq (st.allowlisted, 180);
    cr_expect_eq (st.sightings, 0);
    cr_expect_eq (st.incidents, 180);  //  its own SOC still hears of every severe finding
}

//  Two addresses next to Google's resolver make a campaign, but the warning must not name
//  their /24: blocking 8.8.8.0/24 would cut 8.8.8.8 off. It names the first address instead.
Test (ag_correlate, a_group_holding_an_allowlisted_address_is_never_named)
{
    cr_assert_eq (s_find ("s-12", T0, MM_SEV_MEDIUM, 70, C2, IP, "8.8.8.9", NOW0), 0);
    cr_assert_eq (s_find ("s-15", T0 + S_NS, MM_SEV_MEDIUM, 70, C2, IP, "8.8.8.10", NOW0), 0);
    cr_assert_eq (s_n, 12);
    for (size_t i = 0; i < s_n; i++) {
        cr_expect_str_eq (s_recs[i].value, "8.8.8.9");
        cr_expect_eq (s_recs[i].type, MM_IOC_IP);
        cr_expect_eq (s_recs[i].match, MM_MATCH_EXACT);
    }
}

Test (ag_correlate, a_flooding_sensor_is_quarantined)
{
    //  s-07 makes up 1,000 severe indicators; org-07's only partner is org-03.
    for (int i = 0; i < 1000; i++) {
        char ip[32];
        snprintf (ip, sizeof ip, "45.%d.%d.9", 40 + i / 250, i % 250);
        s_find ("s-07", T0 + (uint64_t) i * S_NS, MM_SEV_HIGH, 90, C2, IP, ip, NOW0);
    }
    ag_correlate_stats_t st;
    ag_correlate_stats (s_cor, &st);
    cr_expect_eq (st.quarantines, 1);
    cr_expect_eq (st.incidents, 1000);  //  its own SOC hears of every severe finding
    cr_expect_eq (st.sightings, 200);   //  the burst it was allowed
    cr_expect_eq (st.quarantined, 800);
    cr_expect_eq (s_n_quarantine, 1);
    //  Only org-03 hears anything, and only 10 notices at once; the rest waits for a digest.
    cr_expect_str_eq (s_recipients (), "org-03");
    cr_expect_eq (s_n, 10);
    cr_expect_eq (st.digested, 190);
    //  Nothing beyond R1: no campaign, no advisory.
    cr_expect_eq (st.rule[2] + st.rule[3] + st.rule[4], 0);
    //  The quarantined sensor's next finding counts nothing, even a real one.
    cr_expect_eq (
        s_find ("s-07", T0 + 5000 * S_NS, MM_SEV_HIGH, 90, C2, IP, "45.33.32.156", NOW0 + S_NS),
        -1);
    ag_correlate_stats (s_cor, &st);
    cr_expect_eq (st.sightings, 200);
    //  One digest for org-03 with the held warnings, after digest_s.
    ag_correlate_tick (s_cor, NOW0 + 601 * S_NS);
    cr_expect_eq (s_digests, 1);
    cr_expect_eq (s_n, 200);
    cr_expect_str_eq (s_recipients (), "org-03");
}

Test (ag_correlate, later_sightings_revise_the_same_warning)
{
    cr_assert_eq (s_find ("s-03", T0, MM_SEV_HIGH, 90, C2, IP, "45.33.32.156", NOW0), 0);
    cr_expect_eq (s_n, 3);
    //  The same indicator again soon after: counts move, no new notice yet.
    cr_assert_eq (s_find ("s-03", T0 + S_NS, MM_SEV_LOW, 90, C2, IP, "45.33.32.156", NOW0 + S_NS),
                  0);
    cr_expect_eq (s_n, 3);
    //  update_s later the tick sends revision 2 with the new counts; severity did not fall.
    ag_correlate_tick (s_cor, NOW0 + 601 * S_NS);
    cr_expect_eq (s_n, 6);
    const s_rec_t *r = s_last_for ("org-01");
    cr_expect_eq (r->revision, 2);
    cr_expect_eq (r->status, MM_WSTATUS_UPDATED);
    cr_expect_eq (r->sightings, 2);
    cr_expect_eq (r->severity, MM_SEV_HIGH);
    cr_expect_str_eq (r->id, s_recs[0].id);
    //  A critical sighting escalates at once.
    cr_assert_eq (s_find ("s-03", T0 + 2 * S_NS, MM_SEV_CRITICAL, 90, C2, IP, "45.33.32.156",
                          NOW0 + 602 * S_NS),
                  0);
    r = s_last_for ("org-01");
    cr_expect_eq (r->revision, 3);
    cr_expect_eq (r->severity, MM_SEV_CRITICAL);
    cr_expect_eq (s_n, 9);
}

Test (ag_correlate, revocation_reaches_every_earlier_recipient)
{
    cr_assert_eq (s_find ("s-12", T0, MM_SEV_MEDIUM, 70, C2, IP, "45.33.32.156", NOW0), 0);
    cr_assert_eq (s_find ("s-15", T0 + S_NS, MM_SEV_MEDIUM, 70, C2, IP, "45.33.32.156", NOW0), 0);
    cr_assert_eq (s_n, 12);
    char id[64];
    snprintf (id, sizeof id, "%s", s_recs[0].id);
    char before[4096];
    snprintf (before, sizeof before, "%s", s_recipients ());
    size_t n = s_n;
    cr_expect_eq (ag_correlate_revoke (s_cor, id, NOW0 + 10 * S_NS), 12);
    cr_expect_eq (s_n, n + 12);
    for (size_t i = n; i < s_n; i++) {
        cr_expect_str_eq (s_recs[i].id, id);
        cr_expect_eq (s_recs[i].status, MM_WSTATUS_REVOKED);
        cr_expect_eq (s_recs[i].revision, 2);
    }
    cr_expect_str_eq (s_recipients (), before);
    //  A revoked indicator stays quiet, and cannot be revoked twice.
    cr_expect_eq (s_find ("s-16", T0 + 2 * S_NS, MM_SEV_CRITICAL, 99, C2, IP, "45.33.32.156",
                          NOW0 + 20 * S_NS),
                  0);
    cr_expect_eq (s_n, n + 12);
    cr_expect_eq (ag_correlate_revoke (s_cor, id, NOW0), -1);
    cr_expect_eq (ag_correlate_revoke (s_cor, "nope", NOW0), -1);
}

Test (ag_correlate, warnings_expire_per_indicator_type)
{
    cr_assert_eq (s_find ("s-03", T0, MM_SEV_HIGH, 90, C2, IP, "45.33.32.156", NOW0), 0);
    cr_assert_eq (s_find ("s-03", T0, MM_SEV_HIGH, 90, C2, MM_IOC_DOMAIN, "c2.evil-cdn.xyz", NOW0),
                  0);
    ag_correlate_stats_t st;
    ag_correlate_stats (s_cor, &st);
    cr_expect_eq (st.warnings, 2);
    ag_correlate_tick (s_cor, NOW0 + 7 * 86400 * S_NS + S_NS);  //  IPs: 7 days
    ag_correlate_stats (s_cor, &st);
    cr_expect_eq (st.expired, 1);
    cr_expect_eq (st.warnings, 1);
    ag_correlate_tick (s_cor, NOW0 + 30 * 86400 * S_NS + S_NS);  //  domains: 30 days
    ag_correlate_stats (s_cor, &st);
    cr_expect_eq (st.expired, 2);
    cr_expect_eq (st.warnings, 0);
}

Test (ag_correlate, unregistered_sensors_and_local_categories_count_nothing)
{
    cr_expect_eq (s_find ("s-99", T0, MM_SEV_CRITICAL, 99, C2, IP, "45.33.32.156", NOW0), -1);
    cr_expect_eq (s_find ("s-03", T0, MM_SEV_HIGH, 99, MM_CAT_SCAN, IP, "45.33.32.156", NOW0), 0);
    cr_expect_eq (s_find ("s-03", T0, MM_SEV_HIGH, 99, C2, IP, "not-an-ip", NOW0), -1);
    ag_correlate_stats_t st;
    ag_correlate_stats (s_cor, &st);
    cr_expect_eq (st.unregistered, 1);
    cr_expect_eq (st.local_category, 1);
    cr_expect_eq (st.bad_indicator, 1);
    cr_expect_eq (s_n, 0);
}

//  True if registry orgs `a` and `b` share a chain.
static bool
s_share_chain (uint32_t a, uint32_t b)
{
    uint32_t chains[8];
    size_t nc = ag_registry_org_chains (s_reg, a, chains, 8);
    for (size_t c = 0; c < nc && c < 8; c++)
        if (ag_registry_is_member (s_reg, b, chains[c]))
            return true;
    return false;
}

//  Many findings across the registry, in four /24s: every warning an org receives is about a
//  group that an org sharing one of its chains saw (or, for a regional advisory, an org of
//  its region or industry). No org ever hears of a chain it is not in.
Test (ag_correlate, no_org_hears_of_a_chain_it_is_not_in)
{
    srand (7);
    uint64_t saw[4] = {0};  //  per /24: bit n set if org-n saw it
    for (int i = 0; i < 600; i++) {
        int org = 1 + rand () % 30, net = rand () % 4;
        char sensor[16], ip[32];
        snprintf (sensor, sizeof sensor, "s-%02d", org);
        snprintf (ip, sizeof ip, "45.33.%d.%d", net, 1 + rand () % 3);
        s_find (sensor, T0 + (uint64_t) i * 60 * S_NS, (uint8_t) (2 + rand () % 3), 60, C2, IP, ip,
                NOW0 + (uint64_t) i * S_NS);
        saw[net] |= 1ull << org;
    }
    cr_assert_gt (s_n, 30);
    for (size_t i = 0; i < s_n; i++) {
        const s_rec_t *rec = &s_recs[i];
        int net = (int) strtol (rec->value + strlen ("45.33."), NULL, 10);
        cr_assert (net >= 0 && net < 4);
        int32_t r = ag_registry_org_index (s_reg, rec->org);
        cr_assert_geq (r, 0);
        const ag_org_t *ro = ag_registry_org_at (s_reg, (size_t) r);
        bool ok = false;
        for (int org = 1; org <= 30 && !ok; org++) {
            if (!(saw[net] & (1ull << org)))
                continue;
            char id[16];
            snprintf (id, sizeof id, "org-%02d", org);
            int32_t h = ag_registry_org_index (s_reg, id);
            const ag_org_t *ho = ag_registry_org_at (s_reg, (size_t) h);
            if (rec->relation == MM_REL_SAME_REGION_INDUSTRY)
                ok = ho->region == ro->region || ho->industry == ro->industry;
            else
                ok = s_share_chain ((uint32_t) r, (uint32_t) h);
        }
        cr_expect (ok, "%s got %s (relation %u) but shares no chain with an org that saw it",
                   rec->org, rec->value, rec->relation);
    }
}

Test (ag_correlate, incident_once_per_finding)
{
    mm_event_t ev;
    memset (&ev, 0, sizeof ev);
    ev.has = MM_EV_HAS_FINDING;
    ev.kind = MM_KIND_FINDING;
    ev.ts = T0;
    ev.sensor = mm_str ("s-20");
    ev.seq = 5;
    ev.severity = MM_SEV_CRITICAL;
    ev.finding.id = 5;
    ev.finding.category = MM_CAT_LATERAL_MOVEMENT;
    cr_expect_eq (ag_correlate_event (s_cor, &ev, NOW0), 0);
    ev.seq = 6;
    ev.finding.revision = 1;  //  the same finding, revised
    cr_expect_eq (ag_correlate_event (s_cor, &ev, NOW0), 0);
    cr_expect_eq (s_n_inc, 1);
    cr_expect_str_eq (s_inc_orgs[0], "org-20");
    cr_expect_str_eq (s_incs[0].provider, "p-west");
    cr_expect_eq (s_incs[0].region, AG_REGION_KINKI);
    cr_expect_eq (s_incs[0].category, MM_CAT_LATERAL_MOVEMENT);
    ev.severity = MM_SEV_MEDIUM;
    ev.finding.id = 9;
    cr_expect_eq (ag_correlate_event (s_cor, &ev, NOW0), 0);
    cr_expect_eq (s_n_inc, 1);
}

typedef struct {
    ag_store_put_t puts[256];
    uint8_t keys[256][300];
    uint8_t vals[256][4096];
    size_t n;
} s_records_t;

static void
s_keep (void *arg, uint8_t kv, const void *key, size_t klen, const uint8_t *val, size_t vlen,
        uint64_t expires)
{
    s_records_t *r = (s_records_t *) arg;
    cr_assert_lt (r->n, 256);
    cr_assert_leq (klen, sizeof r->keys[0]);
    cr_assert_leq (vlen, sizeof r->vals[0]);
    memcpy (r->keys[r->n], key, klen);
    memcpy (r->vals[r->n], val, vlen);
    r->puts[r->n] = (ag_store_put_t){kv, r->keys[r->n], klen, r->vals[r->n], vlen, expires};
    r->n++;
}

static int
s_count_warning (void *arg, const mm_warning_t *w, size_t recipients)
{
    (void) w;
    *(size_t *) arg += recipients;
    return 0;
}

//  The state survives a restart: a warning revised after it keeps its id and revision count,
//  and a revocation after it still reaches everyone who heard of it before.
Test (ag_correlate, state_survives_a_restart)
{
    char dir[] = "/tmp/mm-ag-correlate-XXXXXX";
    cr_assert_not_null (mkdtemp (dir));
    char err[256];
    ag_store_t *st = ag_store_new (dir, err, sizeof err);
    cr_assert_not_null (st, "%s", err);
    cr_assert_eq (s_find ("s-12", T0, MM_SEV_MEDIUM, 70, C2, IP, "45.33.32.156", NOW0), 0);
    cr_assert_eq (s_find ("s-15", T0 + S_NS, MM_SEV_MEDIUM, 70, C2, IP, "45.33.32.156", NOW0), 0);
    cr_assert_eq (s_n, 12);
    static s_records_t recs;
    recs.n = 0;
    //  The sight, its two orgs' entries; the warning, its recipients' entry.
    cr_expect_eq (ag_correlate_flush (s_cor, true, s_keep, &recs), 5);
    cr_assert_eq (ag_store_write (st, recs.puts, recs.n, NULL, 0), 0);
    cr_expect_eq (ag_correlate_flush (s_cor, true, s_keep, &recs), 0);  //  nothing changed since
    char id[64];
    snprintf (id, sizeof id, "%s", s_recs[0].id);

    //  A new correlator on the same registry, from the store.
    ag_correlate_destroy (&s_cor);
    ag_correlate_sink_t sink = {
        .warning = s_on_warning, .digest = s_on_digest, .incident = s_on_incident};
    s_cor = ag_correlate_new (NULL, s_reg, s_allow, s_psl, &sink);
    cr_assert_not_null (s_cor);
    cr_expect_eq (ag_correlate_restore (s_cor, st, NOW0 + 10 * S_NS), 1);
    size_t recipients = 0;
    cr_expect_eq (ag_correlate_each_warning (s_cor, s_count_warning, &recipients), 1);
    cr_expect_eq (recipients, 12);
    //  A third org of the chain: the same warning, revision 2, three orgs.
    cr_assert_eq (
        s_find ("s-16", T0 + 2 * S_NS, MM_SEV_MEDIUM, 70, C2, IP, "45.33.32.156", NOW0 + 20 * S_NS),
        0);
    const s_rec_t *r = s_last_for ("org-09");
    cr_assert_not_null (r);
    cr_expect_str_eq (r->id, id);
    cr_expect_eq (r->revision, 2);
    cr_expect_eq (r->orgs, 3);
    cr_expect_eq (r->sightings, 3);
    size_t n = s_n;
    cr_expect_eq (ag_correlate_revoke (s_cor, id, NOW0 + 30 * S_NS), 12);
    cr_expect_eq (s_n, n + 12);
    ag_store_destroy (&st);
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq (system (cmd), 0);
}

//  How many of `r`'s records are of kind `kv`, and of those how many entries (key with a NUL).
static size_t
s_count (const s_records_t *r, uint8_t kv, size_t *entries)
{
    size_t n = 0;
    *entries = 0;
    for (size_t i = 0; i < r->n; i++)
        if (r->puts[i].kv == kv) {
            n++;
            *entries += memchr (r->puts[i].key, 0, r->puts[i].klen) != NULL;
        }
    return n;
}

//  Records are written by the part that changed (an org's sightings, recipients added) and
//  come back whole: the orgs' counts, every recipient once with what it was sent, also when a
//  warning outliving its recipients' entries rewrote them and an older entry is still there.
Test (ag_correlate, records_are_written_by_part_and_read_back_whole)
{
    char dir[] = "/tmp/mm-ag-correlate-XXXXXX";
    cr_assert_not_null (mkdtemp (dir));
    char err[256];
    ag_store_t *st = ag_store_new (dir, err, sizeof err);
    cr_assert_not_null (st, "%s", err);
    static s_records_t recs;
    size_t entries;
    //  Two orgs of chain-a: a campaign warning to its 12 members.
    cr_assert_eq (s_find ("s-12", T0, MM_SEV_MEDIUM, 70, C2, IP, "45.33.32.156", NOW0), 0);
    cr_assert_eq (s_find ("s-15", T0 + S_NS, MM_SEV_MEDIUM, 70, C2, IP, "45.33.32.156", NOW0), 0);
    recs.n = 0;
    cr_expect_eq (ag_correlate_flush (s_cor, true, s_keep, &recs), 5);
    cr_expect_eq (s_count (&recs, AG_KV_SIGHT, &entries), 3);
    cr_expect_eq (entries, 2);
    cr_expect_eq (s_count (&recs, AG_KV_WARN, &entries), 2);
    cr_expect_eq (entries, 1);
    cr_assert_eq (ag_store_write (st, recs.puts, recs.n, NULL, 0), 0);
    //  org-12 sees it again: the sight and org-12's entry, not org-15's.
    cr_assert_eq (s_find ("s-12", T0 + 2 * S_NS, MM_SEV_MEDIUM, 70, C2, IP, "45.33.32.156", NOW0),
                  0);
    recs.n = 0;
    ag_correlate_flush (s_cor, true, s_keep, &recs);
    cr_expect_eq (s_count (&recs, AG_KV_SIGHT, &entries), 2);
    cr_expect_eq (entries, 1);
    for (size_t i = 0; i < recs.n; i++)
        if (recs.puts[i].kv == AG_KV_SIGHT && memchr (recs.puts[i].key, 0, recs.puts[i].klen))
            cr_expect (memmem (recs.puts[i].key, recs.puts[i].klen, "org-12", 6) != NULL);
    cr_expect_eq (s_count (&recs, AG_KV_WARN, &entries), 0);  //  counts alone: no revision
    cr_assert_eq (ag_store_write (st, recs.puts, recs.n, NULL, 0), 0);
    //  A third org, eight days later by the wall clock: revision 2 is valid 8 days longer than
    //  the recipients' entry was written for, so the recipients are written again, whole.
    uint64_t later = NOW0 + 8 * 86400 * S_NS;
    cr_assert_eq (s_find ("s-16", T0 + 3 * S_NS, MM_SEV_MEDIUM, 70, C2, IP, "45.33.32.156", later),
                  0);
    recs.n = 0;
    ag_correlate_flush (s_cor, true, s_keep, &recs);
    cr_expect_eq (s_count (&recs, AG_KV_WARN, &entries), 2);
    cr_expect_eq (entries, 1);
    const char *id = NULL;
    for (size_t i = 0; i < recs.n; i++)
        if (recs.puts[i].kv == AG_KV_WARN && !memchr (recs.puts[i].key, 0, recs.puts[i].klen))
            id = (const char *) recs.puts[i].key;
    cr_assert_not_null (id);
    char wid[33];
    snprintf (wid, sizeof wid, "%.32s", id);
    cr_assert_eq (ag_store_write (st, recs.puts, recs.n, NULL, 0), 0);
    //  An older entry the rewrite covers (as if written for recipients 4..5 before): restored
    //  as what it covers, never twice, never its (made-up) orgs.
    uint8_t stale_key[64], stale[64];
    size_t k = strlen (wid), v = 0;
    memcpy (stale_key, wid, k);
    stale_key[k++] = 0;
    memcpy (stale_key + k, "\0\0\0\4", 4), k += 4;
    stale[v++] = 2;  //  the record version
    memcpy (stale + v, "\0\0\0\2", 4), v += 4;
    for (int i = 0; i < 2; i++) {
        memcpy (stale + v, "\0\6org-zz\x05\0", 10);
        v += 10;
    }
    ag_store_put_t put = {AG_KV_WARN, stale_key, k, stale, v, UINT64_MAX / 2};
    cr_assert_eq (ag_store_write (st, &put, 1, NULL, 0), 0);

    //  A new correlator from the store.
    ag_correlate_destroy (&s_cor);
    ag_correlate_sink_t sink = {
        .warning = s_on_warning, .digest = s_on_digest, .incident = s_on_incident};
    s_cor = ag_correlate_new (NULL, s_reg, s_allow, s_psl, &sink);
    cr_assert_not_null (s_cor);
    cr_expect_eq (ag_correlate_restore (s_cor, st, later + 10 * S_NS), 1);
    size_t recipients = 0;
    cr_expect_eq (ag_correlate_each_warning (s_cor, s_count_warning, &recipients), 1);
    cr_expect_eq (recipients, 12);
    //  The sightings, whole: three orgs, org-12 twice.
    ag_sight_view_t sv;
    ag_seen_view_t *seen = NULL;
    char skey[AG_INDICATOR_MAX + 32];
    cr_assert_eq (ag_correlate_group_key (s_psl, IP, "45.33.32.156", skey, sizeof skey), 0);
    snprintf (skey + strlen (skey), sizeof skey - strlen (skey), "|%016llx",
              (unsigned long long) T0);
    cr_assert_eq (ag_correlate_sight_read (st, skey, &sv, &seen), 1);
    cr_expect_eq (sv.n_seen, 3);
    cr_expect_eq (sv.count, 4);
    for (uint32_t i = 0; i < sv.n_seen; i++)
        cr_expect_eq (seen[i].count, strcmp (seen[i].org, "org-12") == 0 ? 2u : 1u, "%s",
                      seen[i].org);
    free (seen);
    //  Every recipient was sent revision 2: a revision 3 (counts alone: update_s later) goes to
    //  all 12 as the next one (none is held back or told twice), and a revocation reaches the
    //  same 12.
    size_t n = s_n;
    cr_assert_eq (s_find ("s-17", T0 + 4 * S_NS, MM_SEV_MEDIUM, 70, C2, IP, "45.33.32.156",
                          later + 700 * S_NS),
                  0);
    cr_expect_eq (s_n, n + 12, "%zu", s_n - n);
    for (size_t i = n; i < s_n; i++)
        cr_expect_eq (s_recs[i].revision, 3, "%u", s_recs[i].revision);
    n = s_n;
    cr_expect_eq (ag_correlate_revoke (s_cor, wid, later + 800 * S_NS), 12);
    cr_expect_eq (s_n, n + 12);
    ag_store_destroy (&st);
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq (system (cmd), 0);
}

//  Two warnings on one indicator (two categories) both put it in the partners' matchers:
//  revoking one tells them so, but takes nothing out of the matchers while the other holds
//  it; revoking the other then does.
Test (ag_correlate, a_revocation_leaves_what_another_warning_holds)
{
    cr_assert_eq (s_find ("s-03", T0, MM_SEV_HIGH, 90, C2, IP, "45.33.32.156", NOW0), 0);
    cr_assert_eq (
        s_find ("s-03", T0 + S_NS, MM_SEV_HIGH, 90, MM_CAT_MALWARE, IP, "45.33.32.156", NOW0), 0);
    cr_assert_eq (s_n, 6);  //  org-01, org-06, org-07, once per warning
    cr_expect_eq (s_matcher_n, 6);
    char first[64], second[64];
    snprintf (first, sizeof first, "%s", s_recs[0].id);
    snprintf (second, sizeof second, "%s", s_recs[5].id);
    cr_assert_str_neq (first, second);
    s_matcher_n = 0;
    cr_expect_eq (ag_correlate_revoke (s_cor, first, NOW0 + 10 * S_NS), 3);
    cr_expect_eq (s_n, 9);  //  each partner is told of the revocation
    cr_expect_eq (s_recs[8].status, MM_WSTATUS_REVOKED);
    cr_expect_eq (s_matcher_n, 0);  //  and no matcher loses the indicator
    cr_expect_eq (ag_correlate_revoke (s_cor, second, NOW0 + 20 * S_NS), 3);
    cr_expect_eq (s_n, 12);
    cr_expect_eq (s_matcher_n, 3);  //  the last holder gone: the matchers drop it
}

//  The same after a restart (which does not keep what each matcher holds), and a correlator
//  that lost records writes everything whole again when asked.
Test (ag_correlate, a_revocation_after_a_restart_leaves_what_another_warning_holds)
{
    char dir[] = "/tmp/mm-ag-correlate-XXXXXX";
    cr_assert_not_null (mkdtemp (dir));
    char err[256];
    ag_store_t *st = ag_store_new (dir, err, sizeof err);
    cr_assert_not_null (st, "%s", err);
    cr_assert_eq (s_find ("s-03", T0, MM_SEV_HIGH, 90, C2, IP, "45.33.32.156", NOW0), 0);
    cr_assert_eq (
        s_find ("s-03", T0 + S_NS, MM_SEV_HIGH, 90, MM_CAT_MALWARE, IP, "45.33.32.156", NOW0), 0);
    cr_assert_eq (s_n, 6);
    char first[64];
    snprintf (first, sizeof first, "%s", s_recs[0].id);
    static s_records_t recs;
    recs.n = 0;
    //  One sight and one org's part; two warnings, each with its recipients.
    cr_expect_eq (ag_correlate_flush (s_cor, true, s_keep, &recs), 6);
    cr_assert_eq (ag_store_write (st, recs.puts, recs.n, NULL, 0), 0);
    recs.n = 0;
    cr_expect_eq (ag_correlate_flush (s_cor, true, s_keep, &recs), 0);
    ag_correlate_rewrite_all (s_cor);
    cr_expect_eq (ag_correlate_flush (s_cor, true, s_keep, &recs), 6);

    ag_correlate_destroy (&s_cor);
    ag_correlate_sink_t sink = {
        .warning = s_on_warning, .digest = s_on_digest, .incident = s_on_incident};
    s_cor = ag_correlate_new (NULL, s_reg, s_allow, s_psl, &sink);
    cr_assert_not_null (s_cor);
    cr_expect_eq (ag_correlate_restore (s_cor, st, NOW0 + 5 * S_NS), 2);
    size_t n = s_n;
    s_matcher_n = 0;
    cr_expect_eq (ag_correlate_revoke (s_cor, first, NOW0 + 10 * S_NS), 3);
    cr_expect_eq (s_n, n + 3);
    cr_expect_eq (s_matcher_n, 0);
    ag_store_destroy (&st);
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq (system (cmd), 0);
}

//  The review's findings, each a test.

//  org-03 has 2 suppliers (org-06, org-07) and 1 customer (org-01). Were suppliers' hits told
//  "direct supplier" and the customer's "same chain", "same chain" would name org-01.
Test (ag_correlate, the_relation_cannot_be_narrowed_by_elimination)
{
    cr_assert_eq (s_find ("s-01", T0, MM_SEV_HIGH, 90, C2, IP, "45.33.32.156", NOW0), 0);
    const s_rec_t *r = s_last_for ("org-03");
    cr_assert_not_null (r);
    cr_expect_eq (r->relation, MM_REL_SAME_CHAIN);
    cr_assert_eq (s_find ("s-06", T0, MM_SEV_HIGH, 90, C2, IP, "45.33.40.7", NOW0), 0);
    r = s_last_for ("org-03");
    cr_expect_str_eq (r->value, "45.33.40.7");
    cr_expect_eq (r->relation, MM_REL_SAME_CHAIN);
}

//  A public suffix is no one company's threat: no warning would block a whole dynamic-DNS
//  provider (and its group is undefined).
Test (ag_correlate, a_public_suffix_is_not_correlated)
{
    cr_expect_eq (s_find ("s-03", T0, MM_SEV_HIGH, 90, C2, MM_IOC_DOMAIN, "duckdns.org", NOW0), -1);
    cr_expect_eq (s_n, 0);
    ag_correlate_stats_t st;
    ag_correlate_stats (s_cor, &st);
    cr_expect_eq (st.bad_indicator, 1);
    cr_expect_eq (st.sightings, 0);
}

//  A sensor whose clock is a week ahead does not move everyone's window.
Test (ag_correlate, a_sensor_clock_ahead_does_not_move_the_window)
{
    cr_assert_eq (
        s_find ("s-30", NOW0 + 7 * 86400 * S_NS, MM_SEV_LOW, 50, C2, IP, "45.33.50.1", NOW0), 0);
    ag_correlate_tick (s_cor, NOW0 + S_NS);
    cr_assert_eq (s_find ("s-12", NOW0 - 3600 * S_NS, MM_SEV_MEDIUM, 70, C2, IP, "45.33.32.156",
                          NOW0 + 2 * S_NS),
                  0);
    cr_assert_eq (s_find ("s-15", NOW0 - 1800 * S_NS, MM_SEV_MEDIUM, 70, C2, IP, "45.33.32.156",
                          NOW0 + 3 * S_NS),
                  0);
    ag_correlate_stats_t st;
    ag_correlate_stats (s_cor, &st);
    cr_expect_eq (st.clock_ahead, 1);
    cr_expect_eq (s_n, 12);
    const s_rec_t *r = s_last_for ("org-09");
    cr_assert_not_null (r);
    cr_expect_eq (r->orgs, 2);
}

//  A domain covers its subdomains: one with a listed name under it is allowlisted
//  (org05.example.co.jp is org-05's own), and so is a group holding one.
Test (ag_correlate, a_domain_over_an_allowlisted_name_is_allowlisted)
{
    cr_expect_eq (s_find ("s-12", T0, MM_SEV_HIGH, 90, C2, MM_IOC_DOMAIN, "example.co.jp", NOW0),
                  0);
    cr_expect_eq (s_n, 0);
    ag_correlate_stats_t st;
    ag_correlate_stats (s_cor, &st);
    cr_expect_eq (st.allowlisted, 1);
    //  Two names under it at two orgs of c-food: the campaign names the first, not the group.
    cr_assert_eq (
        s_find ("s-12", T0, MM_SEV_MEDIUM, 70, C2, MM_IOC_DOMAIN, "a.example.co.jp", NOW0), 0);
    cr_assert_eq (
        s_find ("s-15", T0, MM_SEV_MEDIUM, 70, C2, MM_IOC_DOMAIN, "b.example.co.jp", NOW0), 0);
    cr_assert_eq (s_n, 12);
    for (size_t i = 0; i < s_n; i++) {
        cr_expect_str_eq (s_recs[i].value, "a.example.co.jp");
        cr_expect_eq (s_recs[i].match, MM_MATCH_SUBDOMAINS);
    }
}

//  One org seeing two addresses of a /24 does not make its partners block the /24.
Test (ag_correlate, one_org_with_two_values_does_not_name_the_group)
{
    cr_assert_eq (s_find ("s-03", T0, MM_SEV_HIGH, 90, C2, IP, "45.33.32.1", NOW0), 0);
    cr_assert_eq (s_find ("s-03", T0 + S_NS, MM_SEV_CRITICAL, 90, C2, IP, "45.33.32.2", NOW0), 0);
    cr_assert_gt (s_n, 3);
    for (size_t i = 0; i < s_n; i++)
        cr_expect_str_eq (s_recs[i].value, "45.33.32.1");
}

//  Revisions of a warning a company already has do not spend its notices: a new warning still
//  goes at once.
Test (ag_correlate, revisions_do_not_spend_the_notice_budget)
{
    for (int i = 0; i < 5; i++) {
        char ip[32];
        snprintf (ip, sizeof ip, "45.33.%d.1", 60 + i);
        cr_assert_eq (s_find ("s-03", T0, MM_SEV_HIGH, 90, C2, IP, ip, NOW0), 0);
    }
    for (int round = 1; round <= 3; round++) {
        for (int i = 0; i < 5; i++) {
            char ip[32];
            snprintf (ip, sizeof ip, "45.33.%d.1", 60 + i);
            cr_assert_eq (s_find ("s-03", T0 + (uint64_t) round * S_NS, MM_SEV_HIGH, 90, C2, IP, ip,
                                  NOW0 + (uint64_t) round * 601 * S_NS - S_NS),
                          0);
        }
        ag_correlate_tick (s_cor, NOW0 + (uint64_t) round * 601 * S_NS);
    }
    size_t before = s_n;
    cr_assert_eq (
        s_find ("s-03", T0 + 9 * S_NS, MM_SEV_HIGH, 90, C2, IP, "45.33.99.1", NOW0 + 1900 * S_NS),
        0);
    const s_rec_t *r = s_last_for ("org-01");
    cr_expect_str_eq (r->value, "45.33.99.1");
    cr_expect_eq (s_n, before + 3);  //  org-01, org-06, org-07 at once
    ag_correlate_stats_t st;
    ag_correlate_stats (s_cor, &st);
    cr_expect_eq (st.digested, 0);
}

//  A revocation of a warning that names its group also takes back the first value.
Test (ag_correlate, a_revocation_takes_back_the_earlier_value_too)
{
    cr_assert_eq (s_find ("s-12", T0, MM_SEV_MEDIUM, 70, C2, IP, "45.33.32.1", NOW0), 0);
    cr_assert_eq (s_find ("s-15", T0 + S_NS, MM_SEV_MEDIUM, 70, C2, IP, "45.33.32.7", NOW0), 0);
    cr_assert_eq (s_n, 12);
    cr_expect_str_eq (s_recs[0].value, "45.33.32.0/24");
    s_earlier[0] = '\0';
    cr_expect_eq (ag_correlate_revoke (s_cor, s_recs[0].id, NOW0 + S_NS), 12);
    cr_expect_str_eq (s_earlier, "45.33.32.1");
}

//  R4 by industry: org-02 (Kanto, c-auto, p-east), org-11 (Kanto, c-food, p-east) and
//  org-22 (Kinki, c-elec, p-west) are all industry E and partners of none of the others:
//  every industry-E company hears of it, nobody else.
Test (ag_correlate, an_industry_advisory_reaches_exactly_that_industry)
{
    cr_assert_eq (s_find ("s-02", T0, MM_SEV_MEDIUM, 70, C2, IP, "45.33.32.156", NOW0), 0);
    cr_assert_eq (s_find ("s-11", T0 + S_NS, MM_SEV_MEDIUM, 70, C2, IP, "45.33.32.156", NOW0), 0);
    cr_expect_eq (s_n, 0);
    cr_assert_eq (s_find ("s-22", T0 + 2 * S_NS, MM_SEV_MEDIUM, 70, C2, IP, "45.33.32.156", NOW0),
                  0);
    cr_expect_str_eq (s_recipients (), "org-01,org-02,org-04,org-05,org-07,org-08,org-10,org-11,"
                                       "org-13,org-14,org-16,org-17,org-19,org-20,org-22,org-23,"
                                       "org-25,org-26,org-28,org-29");
    for (size_t i = 0; i < s_n; i++)
        cr_expect_eq (s_recs[i].relation, MM_REL_SAME_REGION_INDUSTRY);
    const s_rec_t *r = s_last_for ("org-29");
    cr_expect_eq (r->orgs, 3);
    cr_expect_eq (r->providers, 2);
    cr_expect_eq (r->tlp, MM_TLP_GREEN);
    ag_correlate_stats_t st;
    ag_correlate_stats (s_cor, &st);
    cr_expect_eq (st.rule[4], 1);
}

//  A recipient whose evidence counts are withheld gets no confidence raised by them either.
Test (ag_correlate, withheld_copies_do_not_reveal_counts_through_confidence)
{
    //  org-25 (c-elec) saw it first; then org-03 (c-auto): two orgs, no chain in common.
    cr_assert_eq (s_find ("s-25", T0, MM_SEV_MEDIUM, 60, C2, IP, "45.33.32.156", NOW0), 0);
    cr_assert_eq (s_find ("s-03", T0 + S_NS, MM_SEV_HIGH, 80, C2, IP, "45.33.32.156", NOW0), 0);
    //  org-06 supplies org-03 only: undisclosed, counts withheld, confidence the finding's.
    const s_rec_t *r = s_last_for ("org-06");
    cr_assert_not_null (r);
    cr_expect_eq (r->relation, MM_REL_UNDISCLOSED);
    cr_expect_eq (r->orgs, 0);
    cr_expect_eq (r->confidence, 80);
    r = s_last_for ("org-01");
    cr_expect_eq (r->relation, MM_REL_DIRECT_SUPPLIER);
    cr_expect_eq (r->orgs, 2);
    cr_expect_eq (r->confidence, 90);  //  80 + 10 for the second org
}

//  The sensors' matchers get the entry when it changes, not with every revision: first with
//  half a lifetime to spare, again only when the warning would outlive it, when it comes to
//  name its group, and when it is revoked.
Test (ag_correlate, the_matchers_get_an_entry_only_when_it_changes)
{
    const uint64_t ip_ttl = 7ull * 86400 * S_NS;
    cr_assert_eq (s_find ("s-03", T0, MM_SEV_HIGH, 90, C2, IP, "45.33.32.1", NOW0), 0);
    cr_expect_eq (s_n, 3);
    cr_expect_eq (s_matcher_n, 3);
    cr_expect_eq (s_matcher, NOW0 + ip_ttl + ip_ttl / 2);
    //  A count revision 10 minutes later: the copies go, the matchers keep what they have.
    cr_assert_eq (s_find ("s-03", T0 + S_NS, MM_SEV_HIGH, 90, C2, IP, "45.33.32.1", NOW0), 0);
    ag_correlate_tick (s_cor, NOW0 + 601 * S_NS);
    cr_expect_eq (s_n, 6);
    cr_expect_eq (s_matcher_n, 3);
    //  Four days on, a revision would outlive the entry (NOW0 + 10.5 days): sent again.
    cr_assert_eq (s_find ("s-03", T0 + 2 * S_NS, MM_SEV_HIGH, 90, C2, IP, "45.33.32.1",
                          NOW0 + 4 * 86400 * S_NS),
                  0);
    ag_correlate_tick (s_cor, NOW0 + 4 * 86400 * S_NS + 601 * S_NS);
    cr_expect_eq (s_n, 9);
    cr_expect_eq (s_matcher_n, 6);
    //  Revoked: every matcher is told.
    cr_expect_eq (ag_correlate_revoke (s_cor, s_recs[0].id, NOW0 + 5 * 86400 * S_NS), 3);
    cr_expect_eq (s_matcher_n, 9);
}
