/*  ag_soc: a regional SOC console's state: incidents newest first and deduplicated, warnings
    replaced by later revisions, the max_items bound, the newest ts, bad frames, statistics rows
    of the newest period, and the rendered JSON document (checked with python3's json). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ag_soc.h"
#include "mm_ack.h"
#include "mm_incident.h"
#include "mm_sample.h"
#include "mm_warning.h"

#define S_T0 1763000000000000000ULL  //  2025-11-13, ns
#define S_SEC 1000000000ULL
#define S_CONSOLE "{\"id\":\"soc-kanto\",\"provider\":\"p-east\",\"region\":\"kanto\"}"

//  Encodes an incident of the sample with `sensor`, `finding_id`, `ts` and `message`.
static void
s_incident (mm_buf_t *out, const char *sensor, uint64_t finding_id, uint64_t ts,
            const char *message)
{
    mm_incident_t inc;
    mm_error_t err;
    mm_sample_incident (&inc);
    inc.sensor = mm_str (sensor);
    inc.finding_id = finding_id;
    inc.ts = ts;
    inc.message = mm_str (message);
    mm_buf_clear (out);
    cr_assert_eq (mm_incident_encode (&inc, out, &err), 0, "incident %s %llu: not encoded", sensor,
                  (unsigned long long) finding_id);
}

//  Encodes a warning of the sample for (`org`, `id`) at `revision`, `status` and `ts`.
static void
s_warning (mm_buf_t *out, const char *org, const char *id, uint32_t revision, uint8_t status,
           uint64_t ts)
{
    mm_warning_t w;
    mm_error_t err;
    mm_sample_warning (&w);
    w.org = mm_str (org);
    w.id = mm_str (id);
    w.revision = revision;
    w.status = status;
    w.ts = ts;
    mm_buf_clear (out);
    cr_assert_eq (mm_warning_encode (&w, out, &err), 0, "warning %s %s: not encoded", org, id);
}

static int
s_take (ag_soc_t *soc, const mm_buf_t *msg)
{
    return ag_soc_take (soc, msg->data, msg->len);
}

static void
s_take_incident (ag_soc_t *soc, const char *sensor, uint64_t finding_id, uint64_t ts,
                 const char *message)
{
    mm_buf_t msg = MM_BUF_INIT;
    s_incident (&msg, sensor, finding_id, ts, message);
    cr_expect_eq (s_take (soc, &msg), 0, "incident %s: not taken", message);
    mm_buf_free (&msg);
}

static void
s_take_warning (ag_soc_t *soc, const char *org, const char *id, uint32_t revision, uint8_t status,
                uint64_t ts)
{
    mm_buf_t msg = MM_BUF_INIT;
    s_warning (&msg, org, id, revision, status, ts);
    cr_expect_eq (s_take (soc, &msg), 0, "warning %s %s r%u: not taken", org, id,
                  (unsigned) revision);
    mm_buf_free (&msg);
}

//  Renders `soc` into a NUL-terminated string the caller frees.
static char *
s_render (ag_soc_t *soc)
{
    mm_buf_t out = MM_BUF_INIT;
    cr_assert_eq (ag_soc_render (soc, S_CONSOLE, S_T0 + 123456789, &out), 0);
    cr_assert_gt (out.len, 0);
    char *text = strndup ((const char *) out.data, out.len);
    mm_buf_free (&out);
    cr_assert_not_null (text);
    return text;
}

static size_t
s_count (const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr (p, needle)); p += strlen (needle))
        n++;
    return n;
}

static char *
s_write_tmp (const char *text)
{
    static const char tmpl[] = "/tmp/test_ag_soc_XXXXXX";
    char *path = strdup (tmpl);
    cr_assert_not_null (path);
    int fd = mkstemp (path);
    cr_assert_geq (fd, 0);
    FILE *f = fdopen (fd, "w");
    cr_assert_not_null (f);
    cr_assert_eq (fwrite (text, 1, strlen (text), f), strlen (text));
    cr_assert_eq (fclose (f), 0);
    return path;
}

//  Parses `json` with python3's json module and evaluates the Python expression `expr` on it
//  (`d`: the document; `x`: the text of `aux`, "" when NULL). 0 if it parses and `expr` is
//  true, 2 if it does not parse, 3 if `expr` is false.
static int
s_py (const char *json, const char *expr, const char *aux)
{
    cr_assert_null (strchr (expr, '\''), "expr must not hold single quotes");
    char *doc = s_write_tmp (json);
    char *extra = s_write_tmp (aux ? aux : "");
    char cmd[4096];
    snprintf (cmd, sizeof cmd,
              "python3 -c 'import json,sys\n"
              "try:\n"
              "    d = json.load(open(sys.argv[1], encoding=\"utf-8\"))\n"
              "except Exception as e:\n"
              "    print(\"not JSON:\", e); sys.exit(2)\n"
              "x = open(sys.argv[2], encoding=\"utf-8\", newline=\"\").read()\n"
              "sys.exit(0 if (%s) else 3)' %s %s",
              expr, doc, extra);
    int status = system (cmd);
    unlink (doc);
    unlink (extra);
    free (doc);
    free (extra);
    cr_assert (WIFEXITED (status), "python3 did not run");
    return WEXITSTATUS (status);
}

static void
s_expect_py (const char *json, const char *expr)
{
    int rc = s_py (json, expr, NULL);
    cr_expect_eq (rc, 0, "%s: %s\n%s", rc == 2 ? "not valid JSON" : "false", expr, json);
}

//  The position of `needle` in `text`, or -1.
static long
s_pos (const char *text, const char *needle)
{
    const char *p = strstr (text, needle);
    return p ? (long) (p - text) : -1;
}

Test (ag_soc, new_rejects_zero_max)
{
    ag_soc_t *soc = ag_soc_new (0);
    cr_expect_null (soc);
    ag_soc_destroy (&soc);
    soc = ag_soc_new (1);
    cr_assert_not_null (soc);
    cr_expect_eq (ag_soc_newest (soc), 0);
    ag_soc_destroy (&soc);
    cr_expect_null (soc);
}

Test (ag_soc, empty_renders_valid_json)
{
    ag_soc_t *soc = ag_soc_new (10);
    cr_assert_not_null (soc);
    cr_expect (ag_soc_changed (soc), "a new state is not rendered yet");
    char *text = s_render (soc);
    cr_expect_eq (strncmp (text, "{\"generated\":", 13), 0, "%s", text);
    cr_expect_not_null (strstr (text, "\"incidents\":["));
    cr_expect_not_null (strstr (text, "\"warnings\":["));
    cr_expect_not_null (strstr (text, "\"stats\":["));
    cr_expect_not_null (strstr (text, "\"counts\":{"));
    s_expect_py (text,
                 "d[\"generated\"] == 1763000000123 and d[\"console\"][\"id\"] == \"soc-kanto\""
                 " and d[\"incidents\"] == [] and d[\"warnings\"] == [] and d[\"stats\"] == []"
                 " and d[\"counts\"] == {\"incidents\": 0, \"warnings\": 0, \"dropped\": 0,"
                 " \"bad\": 0}");
    cr_expect_not (ag_soc_changed (soc), "changed right after a render");
    free (text);
    ag_soc_destroy (&soc);
}

Test (ag_soc, incidents_newest_first)
{
    ag_soc_t *soc = ag_soc_new (10);
    cr_assert_not_null (soc);
    const unsigned order[] = {3, 1, 5, 2, 4};
    for (size_t i = 0; i < 5; i++) {
        char msg[32];
        snprintf (msg, sizeof msg, "inc-ts-%u", order[i]);
        s_take_incident (soc, "s-kanto-0001", (uint64_t) (100 + order[i]),
                         S_T0 + (uint64_t) order[i] * S_SEC, msg);
    }
    ag_soc_stats_t st;
    ag_soc_stats (soc, &st);
    cr_expect_eq (st.incidents, 5);
    cr_expect_eq (st.duplicates, 0);
    cr_expect_eq (st.dropped, 0);
    cr_expect_eq (st.bad, 0);
    char *text = s_render (soc);
    long p5 = s_pos (text, "inc-ts-5"), p4 = s_pos (text, "inc-ts-4"),
         p3 = s_pos (text, "inc-ts-3"), p2 = s_pos (text, "inc-ts-2"),
         p1 = s_pos (text, "inc-ts-1");
    cr_expect (p5 >= 0 && p5 < p4 && p4 < p3 && p3 < p2 && p2 < p1, "not newest first:\n%s", text);
    s_expect_py (text, "[i[\"incident\"][\"message\"] for i in d[\"incidents\"]] =="
                       " [\"inc-ts-5\", \"inc-ts-4\", \"inc-ts-3\", \"inc-ts-2\", \"inc-ts-1\"]"
                       " and all(i[\"event_type\"] == \"incident\" for i in d[\"incidents\"])"
                       " and d[\"counts\"][\"incidents\"] == 5");
    free (text);
    ag_soc_destroy (&soc);
}

Test (ag_soc, incident_duplicate_counts_once)
{
    ag_soc_t *soc = ag_soc_new (10);
    cr_assert_not_null (soc);
    s_take_incident (soc, "s-kanto-0001", 17, S_T0 + S_SEC, "dup-a");
    char *first = s_render (soc);
    //  The same notification again (a catch-up after a reconnect): held once.
    s_take_incident (soc, "s-kanto-0001", 17, S_T0 + S_SEC, "dup-a");
    cr_expect_not (ag_soc_changed (soc), "a duplicate changed the state");
    ag_soc_stats_t st;
    ag_soc_stats (soc, &st);
    cr_expect_eq (st.incidents, 1);
    cr_expect_eq (st.duplicates, 1);
    char *text = s_render (soc);
    cr_expect_eq (s_count (text, "dup-a"), 1, "%s", text);
    cr_expect_str_eq (text, first);
    free (first);
    free (text);
    //  Another time of notice, another sensor, another finding: other notifications.
    s_take_incident (soc, "s-kanto-0001", 17, S_T0 + 2 * S_SEC, "dup-b");
    s_take_incident (soc, "s-kanto-0002", 17, S_T0 + S_SEC, "dup-c");
    s_take_incident (soc, "s-kanto-0001", 18, S_T0 + S_SEC, "dup-d");
    ag_soc_stats (soc, &st);
    cr_expect_eq (st.incidents, 4);
    cr_expect_eq (st.duplicates, 1);
    text = s_render (soc);
    s_expect_py (text, "len(d[\"incidents\"]) == 4 and d[\"counts\"][\"incidents\"] == 4");
    free (text);
    ag_soc_destroy (&soc);
}

Test (ag_soc, warning_later_revision_replaces)
{
    ag_soc_t *soc = ag_soc_new (10);
    cr_assert_not_null (soc);
    s_take_warning (soc, "org-0007", "w-2026-000123", 1, MM_WSTATUS_ACTIVE, S_T0 + S_SEC);
    s_take_warning (soc, "org-0007", "w-2026-000123", 2, MM_WSTATUS_REVOKED, S_T0 + 2 * S_SEC);
    ag_soc_stats_t st;
    ag_soc_stats (soc, &st);
    cr_expect_eq (st.warnings, 2);
    cr_expect_eq (st.replaced, 1);
    cr_expect_eq (st.duplicates, 0);
    char *text = s_render (soc);
    cr_expect_eq (s_count (text, "w-2026-000123"), 1, "rendered more than once:\n%s", text);
    cr_expect_not_null (strstr (text, "\"revoked\""), "%s", text);
    cr_expect_null (strstr (text, "\"active\""), "%s", text);
    s_expect_py (text, "len(d[\"warnings\"]) == 1"
                       " and d[\"warnings\"][0][\"warning\"][\"revision\"] == 2"
                       " and d[\"warnings\"][0][\"warning\"][\"status\"] == \"revoked\""
                       " and d[\"warnings\"][0][\"org_id\"] == \"org-0007\"");
    free (text);
    ag_soc_destroy (&soc);
}

Test (ag_soc, warning_earlier_or_same_revision_is_duplicate)
{
    ag_soc_t *soc = ag_soc_new (10);
    cr_assert_not_null (soc);
    s_take_warning (soc, "org-0007", "w-1", 3, MM_WSTATUS_UPDATED, S_T0 + 3 * S_SEC);
    mm_buf_t scratch = MM_BUF_INIT;
    cr_assert_eq (ag_soc_render (soc, S_CONSOLE, 0, &scratch), 0);
    mm_buf_free (&scratch);
    //  An earlier revision arriving late, and the same revision again.
    s_take_warning (soc, "org-0007", "w-1", 2, MM_WSTATUS_REVOKED, S_T0 + 4 * S_SEC);
    s_take_warning (soc, "org-0007", "w-1", 3, MM_WSTATUS_REVOKED, S_T0 + 5 * S_SEC);
    cr_expect_not (ag_soc_changed (soc), "a duplicate changed the state");
    ag_soc_stats_t st;
    ag_soc_stats (soc, &st);
    cr_expect_eq (st.warnings, 1);
    cr_expect_eq (st.replaced, 0);
    cr_expect_eq (st.duplicates, 2);
    char *text = s_render (soc);
    cr_expect_eq (s_count (text, "\"w-1\""), 1, "%s", text);
    cr_expect_null (strstr (text, "\"revoked\""), "an earlier revision replaced:\n%s", text);
    s_expect_py (text, "len(d[\"warnings\"]) == 1"
                       " and d[\"warnings\"][0][\"warning\"][\"revision\"] == 3"
                       " and d[\"warnings\"][0][\"warning\"][\"status\"] == \"updated\"");
    free (text);
    ag_soc_destroy (&soc);
}

Test (ag_soc, warning_same_id_other_org_is_separate)
{
    ag_soc_t *soc = ag_soc_new (10);
    cr_assert_not_null (soc);
    s_take_warning (soc, "org-a", "w-1", 1, MM_WSTATUS_ACTIVE, S_T0 + S_SEC);
    s_take_warning (soc, "org-b", "w-1", 1, MM_WSTATUS_ACTIVE, S_T0 + 2 * S_SEC);
    //  A revision for org-b only.
    s_take_warning (soc, "org-b", "w-1", 2, MM_WSTATUS_REVOKED, S_T0 + 3 * S_SEC);
    ag_soc_stats_t st;
    ag_soc_stats (soc, &st);
    cr_expect_eq (st.warnings, 3);
    cr_expect_eq (st.replaced, 1);
    cr_expect_eq (st.duplicates, 0);
    char *text = s_render (soc);
    s_expect_py (text, "[(w[\"org_id\"], w[\"warning\"][\"revision\"], w[\"warning\"][\"status\"])"
                       " for w in d[\"warnings\"]] =="
                       " [(\"org-b\", 2, \"revoked\"), (\"org-a\", 1, \"active\")]");
    free (text);
    ag_soc_destroy (&soc);
}

Test (ag_soc, warnings_newest_first)
{
    ag_soc_t *soc = ag_soc_new (10);
    cr_assert_not_null (soc);
    s_take_warning (soc, "org-0007", "w-b", 1, MM_WSTATUS_ACTIVE, S_T0 + 2 * S_SEC);
    s_take_warning (soc, "org-0007", "w-c", 1, MM_WSTATUS_ACTIVE, S_T0 + 3 * S_SEC);
    s_take_warning (soc, "org-0007", "w-a", 1, MM_WSTATUS_ACTIVE, S_T0 + 1 * S_SEC);
    //  A new revision of the oldest moves it to the front.
    s_take_warning (soc, "org-0007", "w-a", 2, MM_WSTATUS_UPDATED, S_T0 + 4 * S_SEC);
    char *text = s_render (soc);
    s_expect_py (text, "[w[\"warning\"][\"id\"] for w in d[\"warnings\"]] =="
                       " [\"w-a\", \"w-c\", \"w-b\"]");
    free (text);
    ag_soc_destroy (&soc);
}

Test (ag_soc, max_items_drops_oldest)
{
    ag_soc_t *soc = ag_soc_new (3);
    cr_assert_not_null (soc);
    const unsigned order[] = {2, 5, 1, 4, 3};
    for (size_t i = 0; i < 5; i++) {
        char msg[32], id[32];
        snprintf (msg, sizeof msg, "inc-ts-%u", order[i]);
        snprintf (id, sizeof id, "w-%u", order[i]);
        s_take_incident (soc, "s-kanto-0001", (uint64_t) order[i],
                         S_T0 + (uint64_t) order[i] * S_SEC, msg);
        s_take_warning (soc, "org-0007", id, 1, MM_WSTATUS_ACTIVE,
                        S_T0 + (uint64_t) order[i] * S_SEC);
    }
    ag_soc_stats_t st;
    ag_soc_stats (soc, &st);
    cr_expect_eq (st.incidents, 5);
    cr_expect_eq (st.warnings, 5);
    cr_expect_eq (st.dropped, 4, "2 incidents and 2 warnings pushed out, got %llu",
                  (unsigned long long) st.dropped);
    char *text = s_render (soc);
    cr_expect_null (strstr (text, "inc-ts-1"), "%s", text);
    cr_expect_null (strstr (text, "inc-ts-2"), "%s", text);
    cr_expect_null (strstr (text, "\"w-1\""), "%s", text);
    cr_expect_null (strstr (text, "\"w-2\""), "%s", text);
    s_expect_py (text, "[i[\"incident\"][\"message\"] for i in d[\"incidents\"]] =="
                       " [\"inc-ts-5\", \"inc-ts-4\", \"inc-ts-3\"]"
                       " and [w[\"warning\"][\"id\"] for w in d[\"warnings\"]] =="
                       " [\"w-5\", \"w-4\", \"w-3\"] and d[\"counts\"][\"dropped\"] == 4");
    free (text);
    //  One older than all held arrives when full: it is the one pushed out.
    s_take_incident (soc, "s-kanto-0001", 99, S_T0, "inc-ts-0");
    ag_soc_stats (soc, &st);
    cr_expect_eq (st.dropped, 5);
    text = s_render (soc);
    s_expect_py (text, "[i[\"incident\"][\"message\"] for i in d[\"incidents\"]] =="
                       " [\"inc-ts-5\", \"inc-ts-4\", \"inc-ts-3\"]");
    free (text);
    //  A newer one pushes the oldest held out.
    s_take_incident (soc, "s-kanto-0001", 6, S_T0 + 6 * S_SEC, "inc-ts-6");
    text = s_render (soc);
    s_expect_py (text, "[i[\"incident\"][\"message\"] for i in d[\"incidents\"]] =="
                       " [\"inc-ts-6\", \"inc-ts-5\", \"inc-ts-4\"]");
    free (text);
    ag_soc_destroy (&soc);
}

Test (ag_soc, max_items_one)
{
    ag_soc_t *soc = ag_soc_new (1);
    cr_assert_not_null (soc);
    s_take_incident (soc, "s-kanto-0001", 1, S_T0 + 1 * S_SEC, "inc-ts-1");
    s_take_incident (soc, "s-kanto-0001", 2, S_T0 + 2 * S_SEC, "inc-ts-2");
    s_take_warning (soc, "org-0007", "w-1", 1, MM_WSTATUS_ACTIVE, S_T0);
    s_take_warning (soc, "org-0007", "w-1", 2, MM_WSTATUS_REVOKED, S_T0 + S_SEC);
    ag_soc_stats_t st;
    ag_soc_stats (soc, &st);
    cr_expect_eq (st.dropped, 1);
    cr_expect_eq (st.replaced, 1);
    char *text = s_render (soc);
    s_expect_py (text,
                 "[i[\"incident\"][\"message\"] for i in d[\"incidents\"]] == [\"inc-ts-2\"]"
                 " and [w[\"warning\"][\"status\"] for w in d[\"warnings\"]] == [\"revoked\"]");
    free (text);
    ag_soc_destroy (&soc);
}

Test (ag_soc, newest_is_newest_ts_taken)
{
    ag_soc_t *soc = ag_soc_new (10);
    cr_assert_not_null (soc);
    cr_expect_eq (ag_soc_newest (soc), 0);
    s_take_incident (soc, "s-kanto-0001", 1, S_T0 + 5 * S_SEC, "a");
    cr_expect_eq (ag_soc_newest (soc), S_T0 + 5 * S_SEC);
    s_take_incident (soc, "s-kanto-0001", 2, S_T0 + 9 * S_SEC, "b");
    cr_expect_eq (ag_soc_newest (soc), S_T0 + 9 * S_SEC);
    s_take_incident (soc, "s-kanto-0001", 3, S_T0 + 7 * S_SEC, "c");
    cr_expect_eq (ag_soc_newest (soc), S_T0 + 9 * S_SEC, "an older one moved newest back");
    s_take_warning (soc, "org-0007", "w-1", 1, MM_WSTATUS_ACTIVE, S_T0 + 12 * S_SEC);
    cr_expect_eq (ag_soc_newest (soc), S_T0 + 12 * S_SEC);
    s_take_warning (soc, "org-0007", "w-2", 1, MM_WSTATUS_ACTIVE, S_T0 + 11 * S_SEC);
    cr_expect_eq (ag_soc_newest (soc), S_T0 + 12 * S_SEC);
    static const uint8_t junk[] = {0xff, 0xfe, 0x01};
    cr_expect_eq (ag_soc_take (soc, junk, sizeof junk), -1);
    cr_expect_eq (ag_soc_newest (soc), S_T0 + 12 * S_SEC);
    ag_soc_destroy (&soc);
}

Test (ag_soc, bad_frames_counted_state_unchanged)
{
    ag_soc_t *soc = ag_soc_new (10);
    cr_assert_not_null (soc);
    s_take_incident (soc, "s-kanto-0001", 1, S_T0 + S_SEC, "kept-incident");
    s_take_warning (soc, "org-0007", "w-1", 1, MM_WSTATUS_ACTIVE, S_T0 + 2 * S_SEC);
    char *before = s_render (soc);
    uint64_t newest = ag_soc_newest (soc);
    ag_soc_stats_t st0;
    ag_soc_stats (soc, &st0);

    static const uint8_t garbage[] = "this is not a message at all";
    cr_expect_eq (ag_soc_take (soc, garbage, sizeof garbage - 1), -1, "garbage taken");
    static const uint8_t bytes[] = {0xa1, 0x00, 0xff, 0x13, 0x37, 0x42, 0x00, 0x99};
    cr_expect_eq (ag_soc_take (soc, bytes, sizeof bytes), -1, "random bytes taken");
    static const uint8_t empty[1] = {0};
    cr_expect_eq (ag_soc_take (soc, empty, 0), -1, "an empty frame taken");
    //  A valid message of another type.
    mm_ack_t ack = {.ts = S_T0 + 99 * S_SEC, .sensor = mm_str ("s-kanto-0001"), .seq = 42};
    mm_buf_t msg = MM_BUF_INIT;
    mm_error_t err;
    cr_assert_eq (mm_ack_encode (&ack, &msg, &err), 0);
    cr_expect_eq (s_take (soc, &msg), -1, "an ACK taken");
    //  An incident cut short, and one with a byte more.
    s_incident (&msg, "s-kanto-0001", 2, S_T0 + 50 * S_SEC, "truncated");
    cr_expect_eq (ag_soc_take (soc, msg.data, msg.len - 1), -1, "a truncated incident taken");
    cr_assert_eq (mm_buf_append (&msg, "", 1), 0);
    cr_expect_eq (s_take (soc, &msg), -1, "an incident with a trailing byte taken");
    mm_buf_free (&msg);

    ag_soc_stats_t st;
    ag_soc_stats (soc, &st);
    cr_expect_eq (st.bad, st0.bad + 6, "bad %llu", (unsigned long long) st.bad);
    cr_expect_eq (st.incidents, st0.incidents);
    cr_expect_eq (st.warnings, st0.warnings);
    cr_expect_eq (st.duplicates, st0.duplicates);
    cr_expect_eq (st.dropped, st0.dropped);
    cr_expect_eq (ag_soc_newest (soc), newest);
    char *after = s_render (soc);
    //  Everything but the counts is as it was.
    const char *cb = strstr (before, "\"counts\""), *ca = strstr (after, "\"counts\"");
    cr_assert (cb && ca);
    cr_expect_eq (cb - before, ca - after);
    cr_expect_eq (strncmp (before, after, (size_t) (cb - before)), 0, "before:\n%s\nafter:\n%s",
                  before, after);
    cr_expect_null (strstr (after, "truncated"));
    s_expect_py (after, "d[\"counts\"][\"bad\"] == 6 and len(d[\"incidents\"]) == 1"
                        " and len(d[\"warnings\"]) == 1");
    free (before);
    free (after);
    ag_soc_destroy (&soc);
}

#define S_ROW(period, org, n)                                                                      \
    "{\"schema\":\"mimamori.stats/1\",\"period\":\"" period                                        \
    "\",\"period_kind\":\"week\",\"org\":\"" org "\",\"findings\":" #n "}"

Test (ag_soc, stats_newest_period_only)
{
    ag_soc_t *soc = ag_soc_new (10);
    cr_assert_not_null (soc);
    const char text[] = S_ROW ("2026-W46", "org-a", 1) "\n"  //
        S_ROW ("2026-W47", "org-a", 2) "\n"                  //
                                       "\n"                  //
                                       "not a row\n"         //
        S_ROW ("2026-W45", "org-b", 3) "\n"                  //
        S_ROW ("2026-W47", "org-b", 4);
    char *r0 = s_render (soc);
    free (r0);
    cr_expect_eq (ag_soc_take_stats (soc, text, strlen (text)), 0);
    cr_expect (ag_soc_changed (soc), "stats taken, not changed");
    ag_soc_stats_t st;
    ag_soc_stats (soc, &st);
    cr_expect_eq (st.stats_rows, 2);
    cr_expect_eq (st.bad, 1, "the one line that is no row (blank lines are not bad), got %llu",
                  (unsigned long long) st.bad);
    char *r = s_render (soc);
    cr_expect_eq (s_count (r, "mimamori.stats/1"), 2, "%s", r);
    cr_expect_null (strstr (r, "2026-W46"));
    cr_expect_null (strstr (r, "2026-W45"));
    s_expect_py (r, "[(s[\"period\"], s[\"org\"], s[\"findings\"]) for s in d[\"stats\"]] =="
                    " [(\"2026-W47\", \"org-a\", 2), (\"2026-W47\", \"org-b\", 4)]");
    free (r);

    //  A newer period replaces the rows (across a year too).
    const char next[] = S_ROW ("2025-W52", "org-a", 5) "\n" S_ROW ("2026-W48", "org-c", 6) "\n";
    cr_expect_eq (ag_soc_take_stats (soc, next, strlen (next)), 0);
    ag_soc_stats (soc, &st);
    cr_expect_eq (st.stats_rows, 1);
    r = s_render (soc);
    s_expect_py (r, "[(s[\"period\"], s[\"org\"]) for s in d[\"stats\"]] =="
                    " [(\"2026-W48\", \"org-c\")]");
    free (r);
    ag_soc_destroy (&soc);
}

Test (ag_soc, stats_without_rows_keeps_previous)
{
    ag_soc_t *soc = ag_soc_new (10);
    cr_assert_not_null (soc);
    const char text[] = S_ROW ("2026-W47", "org-a", 2) "\n" S_ROW ("2026-W47", "org-b", 3) "\n";
    cr_assert_eq (ag_soc_take_stats (soc, text, strlen (text)), 0);
    char *before = s_render (soc);
    ag_soc_stats_t st0;
    ag_soc_stats (soc, &st0);

    const char junk[] = "garbage\n{\"schema\":\"mimamori.other/1\",\"period\":\"2026-W49\"}\n"
                        "{\"schema\":\"mimamori.stats/1\",\"org\":\"org-z\"}\n"
                        "{\"schema\":\"mimamori.stats/1\",\"period\":\"2026-W50\"\n";
    cr_expect_eq (ag_soc_take_stats (soc, junk, strlen (junk)), -1);
    cr_expect_eq (ag_soc_take_stats (soc, "", 0), -1, "an empty text");
    ag_soc_stats_t st;
    ag_soc_stats (soc, &st);
    cr_expect_eq (st.stats_rows, st0.stats_rows);
    cr_expect_eq (st.bad, st0.bad + 4, "4 lines that are no rows, got %llu more",
                  (unsigned long long) (st.bad - st0.bad));
    char *after = s_render (soc);
    const char *sb = strstr (before, "\"stats\""), *sa = strstr (after, "\"stats\"");
    const char *cb = strstr (before, "\"counts\""), *ca = strstr (after, "\"counts\"");
    cr_assert (sb && sa && cb && ca);
    cr_expect_eq (cb - sb, ca - sa);
    cr_expect_eq (strncmp (sb, sa, (size_t) (cb - sb)), 0, "stats changed:\n%s\n%s", before, after);
    s_expect_py (after, "[s[\"org\"] for s in d[\"stats\"]] == [\"org-a\", \"org-b\"]");
    free (before);
    free (after);
    ag_soc_destroy (&soc);
}

Test (ag_soc, changed_after_take_not_after_render)
{
    ag_soc_t *soc = ag_soc_new (10);
    cr_assert_not_null (soc);
    char *r = s_render (soc);
    free (r);
    cr_expect_not (ag_soc_changed (soc));
    s_take_incident (soc, "s-kanto-0001", 1, S_T0 + S_SEC, "x");
    cr_expect (ag_soc_changed (soc), "an incident taken, not changed");
    cr_expect (ag_soc_changed (soc), "asking cleared it");
    r = s_render (soc);
    free (r);
    cr_expect_not (ag_soc_changed (soc));
    s_take_warning (soc, "org-0007", "w-1", 1, MM_WSTATUS_ACTIVE, S_T0);
    cr_expect (ag_soc_changed (soc), "a warning taken, not changed");
    r = s_render (soc);
    free (r);
    s_take_warning (soc, "org-0007", "w-1", 2, MM_WSTATUS_REVOKED, S_T0 + S_SEC);
    cr_expect (ag_soc_changed (soc), "a revision taken, not changed");
    r = s_render (soc);
    free (r);
    const char row[] = S_ROW ("2026-W47", "org-a", 1);
    cr_expect_eq (ag_soc_take_stats (soc, row, strlen (row)), 0);
    cr_expect (ag_soc_changed (soc), "stats taken, not changed");
    r = s_render (soc);
    free (r);
    cr_expect_not (ag_soc_changed (soc));
    ag_soc_destroy (&soc);
}

Test (ag_soc, render_escapes_text)
{
    ag_soc_t *soc = ag_soc_new (10);
    cr_assert_not_null (soc);
    const char *msg = "say \"hi\" \\ back\\slash\nnew line\r\ttab \x01 ctl "
                      "日本語のメッセージ ✓ end";
    s_take_incident (soc, "s-kanto-0001", 1, S_T0 + S_SEC, msg);
    //  A warning's Japanese advice, with quotes and a backslash in it.
    mm_warning_t w;
    mm_error_t err;
    mm_buf_t buf = MM_BUF_INIT;
    mm_sample_warning (&w);
    w.action.text_ja = mm_str ("「遮断」して \"C:\\temp\" を調べてください。\n二行目");
    cr_assert_eq (mm_warning_encode (&w, &buf, &err), 0);
    cr_expect_eq (s_take (soc, &buf), 0);
    mm_buf_free (&buf);
    char *text = s_render (soc);
    cr_expect_null (strchr (text + strlen ("{\"generated\":"), '\x01'), "a raw control byte");
    cr_expect_eq (s_py (text, "d[\"incidents\"][0][\"incident\"][\"message\"] == x", msg), 0,
                  "the message does not round-trip:\n%s", text);
    cr_expect_eq (
        s_py (text,
              "d[\"warnings\"][0][\"warning\"][\"action\"][\"text_ja\"] == x"
              " and d[\"counts\"][\"incidents\"] == 1 and d[\"counts\"][\"warnings\"] == 1",
              "「遮断」して \"C:\\temp\" を調べてください。\n二行目"),
        0, "the advice does not round-trip:\n%s", text);
    free (text);
    ag_soc_destroy (&soc);
}

Test (ag_soc, warning_keys_do_not_collide_across_the_separator)
{
    //  Org "a b" with id "c" and org "a" with id "b c" are two warnings.
    ag_soc_t *soc = ag_soc_new (10);
    cr_assert_not_null (soc);
    s_take_warning (soc, "a b", "c", 5, MM_WSTATUS_ACTIVE, S_T0 + S_SEC);
    s_take_warning (soc, "a", "b c", 1, MM_WSTATUS_ACTIVE, S_T0 + 2 * S_SEC);
    ag_soc_stats_t st;
    ag_soc_stats (soc, &st);
    cr_expect_eq (st.warnings, 2);
    cr_expect_eq (st.duplicates, 0);
    ag_soc_destroy (&soc);
}

Test (ag_soc, stats_weeks_only_and_crlf_lines)
{
    ag_soc_t *soc = ag_soc_new (10);
    cr_assert_not_null (soc);
    //  A day's row sorts after any week as text; it is not a weekly table's row and is left
    //  out. CRLF line ends (a file from elsewhere) are read like LF.
    const char text[] =
        S_ROW ("2026-W47", "x", 1) "\r\n"
                                   "{\"schema\":\"mimamori.stats/"
                                   "1\",\"period\":\"2026-11-25\",\"period_kind\":\"day\"}\r\n";
    cr_assert_eq (ag_soc_take_stats (soc, text, sizeof text - 1), 0);
    ag_soc_stats_t st;
    ag_soc_stats (soc, &st);
    cr_expect_eq (st.stats_rows, 1);
    char *r = s_render (soc);
    s_expect_py (r, "[s[\"period\"] for s in d[\"stats\"]] == [\"2026-W47\"]");
    free (r);
    ag_soc_destroy (&soc);
}

Test (ag_soc, a_damaged_row_is_left_out)
{
    //  A row cut short or with a stray character would make the page's document invalid.
    ag_soc_t *soc = ag_soc_new (10);
    cr_assert_not_null (soc);
    const char text[] = S_ROW ("2026-W47", "x",
                               1) "\n"
                                  "{\"schema\":\"mimamori.stats/"
                                  "1\",\"period\":\"2026-W47\",\"period_kind\":\"week\",\"x\":\"}\n"
                                  "{\"schema\":\"mimamori.stats/"
                                  "1\",\"period\":\"2026-W47\",\"period_kind\":\"week\"}}{}\n"
                                  //  An escaped NUL (found by fuzz_console): kept as a C
                                  //  string it would cut the row, and the page, short.
                                  "{\"schema\":\"mimamori.stats/1\",\"period\":\"2026-W47\","
                                  "\"period_kind\":\"week\",\"x\":\"\\\0\"}\n";
    cr_assert_eq (ag_soc_take_stats (soc, text, sizeof text - 1), 0);
    ag_soc_stats_t st;
    ag_soc_stats (soc, &st);
    cr_expect_eq (st.stats_rows, 1);
    cr_expect_eq (st.bad, 3);
    char *r = s_render (soc);
    s_expect_py (r, "len(d[\"stats\"]) == 1");
    free (r);
    ag_soc_destroy (&soc);
}
