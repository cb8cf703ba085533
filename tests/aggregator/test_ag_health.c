/*  ag_health: each registered sensor's state from stored events and the brokers' silence
    findings (the console delivery is tested end to end in run_mesh.sh and lateral_e2e.sh). */
#include <criterion/criterion.h>
#include <string.h>

#include "ag_health.h"
#include "mm_sample.h"

#define S_SEC 1000000000ull
#define S_T0 (1795000000ull * S_SEC)

static const char s_reg[] = "provider p name=\"P\"\n"
                            "org a provider=p pref=13 industry=E size=small\n"
                            "org b provider=p pref=27 industry=E size=small\n"
                            "sensor s-1 org=a\nsensor s-2 org=a\nsensor s-3 org=b\n";

static ag_registry_t *
s_registry (void)
{
    char err[512];
    size_t n;
    ag_registry_t *r = ag_registry_parse ("t.reg", s_reg, strlen (s_reg), err, sizeof err, &n);
    cr_assert_not_null (r, "%s", err);
    return r;
}

//  An EVENT of `sensor` (a flow), stored at `now`.
static void
s_event (ag_health_t *h, const char *sensor, uint64_t now)
{
    mm_event_t ev;
    mm_sample_event (&ev, MM_KIND_FLOW);
    ev.sensor = mm_str (sensor);
    mm_buf_t out = MM_BUF_INIT;
    mm_error_t err;
    cr_assert_eq (mm_event_encode (&ev, &out, &err), 0, "%s", err.detail);
    ag_health_on_stored (h, mm_str ("b-kanto"), out.data, out.len, now);
    mm_buf_free (&out);
}

//  A broker's silence finding about `sensor`: revision 0 raises it, 1 clears it.
static void
s_silence_from (ag_health_t *h, const char *sender, const char *sensor, uint32_t revision,
                uint64_t now)
{
    mm_event_t ev;
    mm_sample_finding (&ev);
    ev.sensor = mm_str (sender);
    char msg[128];
    snprintf (msg, sizeof msg,
              revision ? "sensor %s is heartbeating again"
                       : "sensor %s silent: no heartbeat for 30000 ms",
              sensor);
    ev.finding.detector = mm_str ("sensor.silent");
    ev.finding.category = MM_CAT_SENSOR;
    ev.finding.message = mm_str (msg);
    ev.finding.revision = revision;
    ev.finding.has &= ~MM_FINDING_HAS_IOC;
    mm_buf_t out = MM_BUF_INIT;
    mm_error_t err;
    cr_assert_eq (mm_event_encode (&ev, &out, &err), 0, "%s", err.detail);
    ag_health_on_stored (h, mm_str ("b-kanto"), out.data, out.len, now);
    mm_buf_free (&out);
}

static void
s_silence (ag_health_t *h, const char *sensor, uint32_t revision, uint64_t now)
{
    s_silence_from (h, "b-kanto", sensor, revision, now);
}

static void
s_expect (ag_health_t *h, const ag_registry_t *r, uint64_t now, uint64_t ok, uint64_t quiet,
          uint64_t silent, uint64_t unheard)
{
    ag_health_tick (h, r, NULL, now);
    ag_health_stats_t st;
    ag_health_stats (h, &st);
    cr_expect_eq (st.ok, ok, "ok %llu", (unsigned long long) st.ok);
    cr_expect_eq (st.quiet, quiet, "quiet %llu", (unsigned long long) st.quiet);
    cr_expect_eq (st.silent, silent, "silent %llu", (unsigned long long) st.silent);
    cr_expect_eq (st.unheard, unheard, "unheard %llu", (unsigned long long) st.unheard);
}

Test (ag_health, states_from_events_and_silences)
{
    ag_registry_t *r = s_registry ();
    ag_health_t *h = ag_health_new (900, 60, S_T0);
    cr_assert_not_null (h);
    //  Nothing yet: all three unheard.
    s_expect (h, r, S_T0, 0, 0, 0, 3);
    s_event (h, "s-1", S_T0 + S_SEC);
    s_event (h, "s-2", S_T0 + S_SEC);
    s_expect (h, r, S_T0 + 2 * S_SEC, 2, 0, 0, 1);
    //  s-2's broker says it stopped; the broker's own event is no sign of s-2's life, nor of
    //  the broker's (not a registered sensor).
    s_silence (h, "s-2", 0, S_T0 + 40 * S_SEC);
    s_expect (h, r, S_T0 + 41 * S_SEC, 1, 0, 1, 1);
    //  Fifteen minutes without an event: s-1 is quiet, s-2 still silent.
    s_expect (h, r, S_T0 + 902 * S_SEC, 0, 1, 1, 1);
    //  s-2 back (its broker hears it again: alive, though no event yet), s-1 sends again:
    //  both ok; fifteen minutes later both quiet.
    s_silence (h, "s-2", 1, S_T0 + 903 * S_SEC);
    s_event (h, "s-1", S_T0 + 903 * S_SEC);
    s_expect (h, r, S_T0 + 904 * S_SEC, 2, 0, 0, 1);
    s_expect (h, r, S_T0 + 1804 * S_SEC, 0, 2, 0, 1);
    ag_health_stats_t st;
    ag_health_stats (h, &st);
    cr_expect_eq (st.events, 5);  //  the brokers' two findings are stored events too
    cr_expect_eq (st.silences, 2);
    cr_expect_eq (st.bad, 0);
    ag_health_destroy (&h);
    cr_assert_null (h);
    ag_registry_destroy (&r);
}

Test (ag_health, garbage_is_counted_not_taken)
{
    ag_registry_t *r = s_registry ();
    ag_health_t *h = ag_health_new (900, 60, S_T0);
    static const uint8_t junk[] = {0xc1, 0x00, 0xff};
    ag_health_on_stored (h, mm_str ("b-kanto"), junk, sizeof junk, S_T0);
    ag_health_on_stored (h, mm_str ("b-kanto"), junk, 0, S_T0);
    //  A silence finding whose message does not name a sensor is counted bad.
    mm_event_t ev;
    mm_sample_finding (&ev);
    ev.sensor = mm_str ("b-kanto");
    ev.finding.detector = mm_str ("sensor.silent");
    ev.finding.message = mm_str ("something else");
    mm_buf_t out = MM_BUF_INIT;
    mm_error_t err;
    cr_assert_eq (mm_event_encode (&ev, &out, &err), 0, "%s", err.detail);
    ag_health_on_stored (h, mm_str ("b-kanto"), out.data, out.len, S_T0);
    mm_buf_free (&out);
    ag_health_stats_t st;
    ag_health_stats (h, &st);
    cr_expect_eq (st.bad, 3);
    cr_expect_eq (st.silences, 0);
    s_expect (h, r, S_T0, 0, 0, 0, 3);
    ag_health_destroy (&h);
    ag_registry_destroy (&r);
}

Test (ag_health, a_sensor_cannot_speak_for_another)
{
    //  s-1 (a sensor, through b-kanto) sends findings shaped like the broker's silences: s-2
    //  must stay ok, and s-1's own findings keep it alive.
    ag_registry_t *r = s_registry ();
    ag_health_t *h = ag_health_new (900, 60, S_T0);
    s_event (h, "s-1", S_T0 + S_SEC);
    s_event (h, "s-2", S_T0 + S_SEC);
    s_silence_from (h, "s-1", "s-2", 0, S_T0 + 2 * S_SEC);
    s_expect (h, r, S_T0 + 3 * S_SEC, 2, 0, 0, 1);
    ag_health_stats_t st;
    ag_health_stats (h, &st);
    cr_expect_eq (st.silences, 0);
    //  The broker itself is not a sensor: its own events are not counted as one.
    s_silence (h, "s-2", 0, S_T0 + 4 * S_SEC);
    s_expect (h, r, S_T0 + 5 * S_SEC, 1, 0, 1, 1);
    ag_health_destroy (&h);
    ag_registry_destroy (&r);
}
