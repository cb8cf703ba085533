/*  bench_console: what issue 8 adds to the hot paths and what the console and the report cost,
    each beside the work it sits next to, measured in the same run (CPU time, best of 5):
      1. health on the aggregator's ingest path: ag_health_on_stored per stored event (a peek
         for the sender, a hash lookup) beside mm_event_decode of the same event (what the
         correlation already pays for every event);
      2. the console's document: ag_soc_render of 2,000 incidents, 2,000 warnings and 1,000
         sensors' health beside mm_msg_to_json of the same 5,000 messages (the JSON it holds);
      3. a weekly report: ag_report_take + ag_report_html over 10,000 findings and 100
         warnings beside mm_event_to_json of the same findings (what `mimamori query org`
         prints).
    Usage: bench_console [ROUNDS]. Owner: tests/bench. Figures: docs/performance.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ag_health.h"
#include "ag_registry.h"
#include "ag_report.h"
#include "ag_soc.h"
#include "mm_health.h"
#include "mm_json.h"
#include "mm_sample.h"

#define S_EVENTS 1000000
#define S_SENSORS 1000
#define S_ITEMS 2000
#define S_FINDINGS 10000

static double
s_cpu (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

//  Encoded messages, one after the other, with their lengths.
typedef struct {
    mm_buf_t data;
    size_t *len;
    size_t n;
} s_msgs_t;

static void
s_add (s_msgs_t *m, size_t before)
{
    m->len[m->n++] = m->data.len - before;
}

static void
s_events (s_msgs_t *m)
{
    m->len = calloc (S_EVENTS, sizeof *m->len);
    mm_event_t ev;
    mm_error_t err;
    char id[32];
    for (size_t i = 0; i < S_EVENTS; i++) {
        mm_sample_event (&ev, i % 7 == 6 ? MM_KIND_FINDING : MM_KIND_FLOW);
        if (ev.kind == MM_KIND_FINDING)
            mm_sample_finding (&ev);
        snprintf (id, sizeof id, "s-%04zu", i % S_SENSORS);
        ev.sensor = mm_str (id);
        ev.seq = i + 1;
        size_t before = m->data.len;
        if (mm_event_encode (&ev, &m->data, &err) == -1)
            exit (1);
        s_add (m, before);
    }
}

static double
s_best (double (*fn) (void *), void *arg, int rounds)
{
    double best = 1e30;
    for (int r = 0; r < rounds; r++) {
        double t = fn (arg);
        if (t < best)
            best = t;
    }
    return best;
}

static s_msgs_t s_ev;
static mm_event_t s_scratch;

static double
s_run_health (void *arg)
{
    (void) arg;
    ag_health_t *h = ag_health_new (900, 60, 1);
    double t0 = s_cpu ();
    const uint8_t *p = s_ev.data.data;
    for (size_t i = 0; i < s_ev.n; p += s_ev.len[i], i++)
        ag_health_on_stored (h, mm_str ("b-kanto"), p, s_ev.len[i], i + 1);
    double t = s_cpu () - t0;
    ag_health_destroy (&h);
    return t;
}

static double
s_run_decode (void *arg)
{
    (void) arg;
    mm_error_t err;
    double t0 = s_cpu ();
    const uint8_t *p = s_ev.data.data;
    for (size_t i = 0; i < s_ev.n; p += s_ev.len[i], i++)
        if (mm_event_decode (&s_scratch, p, s_ev.len[i], &err) == -1)
            exit (1);
    return s_cpu () - t0;
}

//  The console's feed: incidents, warnings (each a new id), health.
static s_msgs_t s_feed;

static void
s_feed_make (void)
{
    s_feed.len = calloc (2 * S_ITEMS + S_SENSORS, sizeof *s_feed.len);
    mm_error_t err;
    char id[64];
    for (size_t i = 0; i < S_ITEMS; i++) {
        mm_incident_t inc;
        mm_sample_incident (&inc);
        inc.ts += i * 1000000000ull;
        inc.finding_id = i + 1;
        size_t before = s_feed.data.len;
        mm_incident_encode (&inc, &s_feed.data, &err);
        s_add (&s_feed, before);
        mm_warning_t w;
        mm_sample_warning (&w);
        snprintf (id, sizeof id, "w-%06zu", i);
        w.id = mm_str (id);
        w.ts += i * 1000000000ull;
        before = s_feed.data.len;
        mm_warning_encode (&w, &s_feed.data, &err);
        s_add (&s_feed, before);
    }
    for (size_t i = 0; i < S_SENSORS; i++) {
        mm_health_t h;
        mm_sample_health (&h);
        snprintf (id, sizeof id, "s-%04zu", i);
        h.sensor = mm_str (id);
        size_t before = s_feed.data.len;
        mm_health_encode (&h, &s_feed.data, &err);
        s_add (&s_feed, before);
    }
}

static ag_soc_t *s_soc;
static size_t s_doc_len;

static double
s_run_render (void *arg)
{
    (void) arg;
    mm_buf_t out = MM_BUF_INIT;
    double t0 = s_cpu ();
    for (int i = 0; i < 10; i++)
        ag_soc_render (s_soc, "{}", 0, &out);
    double t = (s_cpu () - t0) / 10;
    s_doc_len = out.len;
    mm_buf_free (&out);
    return t;
}

static double
s_run_feed_json (void *arg)
{
    (void) arg;
    mm_buf_t out = MM_BUF_INIT;
    mm_error_t err;
    double t0 = s_cpu ();
    const uint8_t *p = s_feed.data.data;
    for (size_t i = 0; i < s_feed.n; p += s_feed.len[i], i++)
        mm_msg_to_json (p, s_feed.len[i], &out, &err);
    double t = s_cpu () - t0;
    mm_buf_free (&out);
    return t;
}

static ag_registry_t *s_reg;
static s_msgs_t s_week;  //  10,000 findings of one org, then 100 warnings
static size_t s_page_len;

static double
s_run_report (void *arg)
{
    (void) arg;
    double t0 = s_cpu ();
    ag_report_t *r = ag_report_new (s_reg, 0, "2026-W47", 0, UINT64_MAX / 2, UINT64_MAX / 4);
    const uint8_t *p = s_week.data.data;
    for (size_t i = 0; i < s_week.n; p += s_week.len[i], i++)
        ag_report_take (r, i < S_FINDINGS ? 'F' : 'W', p, s_week.len[i]);
    mm_buf_t out = MM_BUF_INIT;
    ag_report_html (r, &out);
    double t = s_cpu () - t0;
    s_page_len = out.len;
    mm_buf_free (&out);
    ag_report_destroy (&r);
    return t;
}

static double
s_run_week_json (void *arg)
{
    (void) arg;
    mm_buf_t out = MM_BUF_INIT;
    mm_error_t err;
    double t0 = s_cpu ();
    const uint8_t *p = s_week.data.data;
    for (size_t i = 0; i < s_week.n; p += s_week.len[i], i++)
        mm_msg_to_json (p, s_week.len[i], &out, &err);
    double t = s_cpu () - t0;
    mm_buf_free (&out);
    return t;
}

int
main (int argc, char **argv)
{
    int rounds = argc > 1 ? (int) strtol (argv[1], NULL, 10) : 5;
    if (rounds < 1)
        rounds = 5;
    s_events (&s_ev);
    double health = s_best (s_run_health, NULL, rounds);
    double decode = s_best (s_run_decode, NULL, rounds);
    printf ("health on ingest: %.0f ns/event (peek + lookup) beside %.0f ns/event full decode: "
            "ratio %.2f (%d events, %d sensors)\n",
            health / S_EVENTS * 1e9, decode / S_EVENTS * 1e9, health / decode, S_EVENTS, S_SENSORS);

    s_feed_make ();
    s_soc = ag_soc_new (S_ITEMS);
    const uint8_t *p = s_feed.data.data;
    for (size_t i = 0; i < s_feed.n; p += s_feed.len[i], i++)
        ag_soc_take (s_soc, p, s_feed.len[i]);
    double render = s_best (s_run_render, NULL, rounds);
    double json = s_best (s_run_feed_json, NULL, rounds);
    printf ("console document: %.2f ms per render (%zu KB; %d incidents, %d warnings, %d sensors) "
            "beside %.2f ms to render the same messages as JSON lines: ratio %.2f\n",
            render * 1e3, s_doc_len / 1024, S_ITEMS, S_ITEMS, S_SENSORS, json * 1e3, render / json);

    static const char reg[] = "provider p name=\"P\"\norg o provider=p pref=13 industry=E "
                              "size=small name=\"A\"\nsensor s-kanto-0001 org=o\n";
    char err[256];
    size_t nerr;
    s_reg = ag_registry_parse ("b.reg", reg, strlen (reg), err, sizeof err, &nerr);
    s_week.len = calloc (S_FINDINGS + 100, sizeof *s_week.len);
    mm_error_t e;
    for (size_t i = 0; i < S_FINDINGS; i++) {
        mm_event_t ev;
        mm_sample_finding (&ev);
        ev.finding.id = i % 500 + 1;  //  500 findings, 20 revisions each
        ev.finding.revision = (uint32_t) (i / 500);
        ev.severity = i % 50 ? MM_SEV_MEDIUM : MM_SEV_HIGH;
        size_t before = s_week.data.len;
        mm_event_encode (&ev, &s_week.data, &e);
        s_add (&s_week, before);
    }
    for (size_t i = 0; i < 100; i++) {
        mm_warning_t w;
        mm_sample_warning (&w);
        char id[32];
        snprintf (id, sizeof id, "w-%zu", i);
        w.id = mm_str (id);
        size_t before = s_week.data.len;
        mm_warning_encode (&w, &s_week.data, &e);
        s_add (&s_week, before);
    }
    double report = s_best (s_run_report, NULL, rounds);
    double wjson = s_best (s_run_week_json, NULL, rounds);
    printf ("weekly report: %.2f ms (%d findings with revisions, 100 warnings; %zu KB page) "
            "beside %.2f ms to print the same timeline as JSON lines: ratio %.2f\n",
            report * 1e3, S_FINDINGS, s_page_len / 1024, wjson * 1e3, report / wjson);
    ag_soc_destroy (&s_soc);
    ag_registry_destroy (&s_reg);
    return 0;
}
