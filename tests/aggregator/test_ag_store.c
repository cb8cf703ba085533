/*  Tests of ag_store: exact dedup by (broker, log index) with a durable high-water mark,
    out-of-order refusal, the (sensor, seq) index, survival across reopen. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include "ag_store.h"
#include "mm_event.h"

static char s_dir[64];

static void
s_setup (void)
{
    snprintf (s_dir, sizeof s_dir, "/tmp/mm-ag-store-XXXXXX");
    cr_assert_not_null (mkdtemp (s_dir));
}

static void
s_teardown (void)
{
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    cr_expect_eq (system (cmd), 0);
}

TestSuite (ag_store, .init = s_setup, .fini = s_teardown);

static ag_store_item_t
s_item (const char *broker, uint64_t index, const char *sensor, uint64_t seq)
{
    static const uint8_t data[] = "event";
    return (ag_store_item_t){
        .broker = mm_str (broker),
        .index = index,
        .sensor = mm_str (sensor),
        .seq = seq,
        .data = data,
        .len = sizeof data,
    };
}

static int
s_count (void *arg, mm_str_t sensor, uint64_t seq, mm_str_t broker, uint64_t index,
         const uint8_t *data, size_t len)
{
    (void) sensor, (void) seq, (void) broker, (void) index;
    cr_expect_eq (len, 6);
    cr_expect (data && memcmp (data, "event", 6) == 0);
    (*(int *) arg)++;
    return 0;
}

Test (ag_store, dedup_and_order)
{
    char path[128], err[256];
    snprintf (path, sizeof path, "%s/db", s_dir);
    ag_store_t *st = ag_store_new (path, err, sizeof err);
    cr_assert_not_null (st, "%s", err);
    ag_store_item_t items[] = {
        s_item ("b1", 1, "s1", 1), s_item ("b1", 2, "s2", 1),
        s_item ("b2", 1, "s3", 1), s_item ("b1", 2, "s2", 1),  //  duplicate in the same batch
        s_item ("b1", 4, "s1", 3),                             //  gap: refused
        s_item ("b2", 2, "s3", 2),
    };
    ag_store_ack_t acks[6];
    size_t n_acks;
    cr_assert_eq (ag_store_put_events (st, items, 6, acks, 6, &n_acks), 0);
    cr_assert_eq (n_acks, 2);
    cr_expect (mm_str_eq (acks[0].broker, "b1"));
    cr_expect_eq (acks[0].hwm, 2);
    cr_expect_eq (acks[0].stored, 2);
    cr_expect_eq (acks[0].duplicates, 1);
    cr_expect_eq (acks[0].out_of_order, 1);
    cr_expect_eq (acks[1].hwm, 2);
    cr_expect_eq (acks[1].stored, 2);
    //  The resend from the cursor: 1..2 duplicates, 3..4 stored.
    ag_store_item_t again[] = {s_item ("b1", 2, "s2", 1), s_item ("b1", 3, "s1", 2),
                               s_item ("b1", 4, "s1", 3)};
    cr_assert_eq (ag_store_put_events (st, again, 3, acks, 3, &n_acks), 0);
    cr_expect_eq (acks[0].hwm, 4);
    cr_expect_eq (acks[0].stored, 2);
    cr_expect_eq (acks[0].duplicates, 1);
    int n = 0;
    cr_expect_eq (ag_store_each (st, s_count, &n), 6);
    cr_expect_eq (n, 6);
    ag_store_stats_t stats;
    ag_store_stats (st, &stats);
    cr_expect_eq (stats.events, 6);
    cr_expect_eq (stats.seq_duplicates, 0);
    ag_store_destroy (&st);
    ag_store_destroy (&st);  //  idempotent

    //  Durable: the marks and events survive a reopen.
    st = ag_store_new (path, err, sizeof err);
    cr_assert_not_null (st, "%s", err);
    cr_expect_eq (ag_store_hwm (st, mm_str ("b1")), 4);
    cr_expect_eq (ag_store_hwm (st, mm_str ("b2")), 2);
    cr_expect_eq (ag_store_hwm (st, mm_str ("b3")), 0);
    n = 0;
    cr_expect_eq (ag_store_each (st, s_count, &n), 6);
    cr_assert_eq (ag_store_put_events (st, again, 3, acks, 3, &n_acks), 0);
    cr_expect_eq (acks[0].duplicates, 3);
    cr_expect_eq (acks[0].stored, 0);
    ag_store_destroy (&st);
}

Test (ag_store, seq_duplicate_and_invalid_counted)
{
    char path[128], err[256];
    snprintf (path, sizeof path, "%s/db", s_dir);
    ag_store_t *st = ag_store_new (path, err, sizeof err);
    cr_assert_not_null (st, "%s", err);
    ag_store_item_t items[] = {s_item ("b1", 1, "s1", 1), s_item ("b1", 2, "s1", 1),
                               s_item ("", 3, "s1", 2), s_item ("b1", 3, "s1", 0)};
    ag_store_ack_t acks[4];
    size_t n_acks;
    cr_assert_eq (ag_store_put_events (st, items, 2, acks, 4, &n_acks), 0);
    cr_assert_eq (ag_store_put_events (st, items + 2, 2, acks, 4, &n_acks), 0);
    ag_store_stats_t stats;
    ag_store_stats (st, &stats);
    cr_expect_eq (stats.events, 2);
    cr_expect_eq (stats.invalid, 2);
    int n = 0;
    cr_expect_eq (ag_store_each (st, s_count, &n), 1);
    //  The second copy of (s1, 1) came in a separate batch: counted.
    cr_assert_eq (ag_store_put_events (st, (ag_store_item_t[]){s_item ("b1", 3, "s1", 1)}, 1, acks,
                                       1, &n_acks),
                  0);
    ag_store_stats (st, &stats);
    cr_expect_eq (stats.seq_duplicates, 1);
    ag_store_destroy (&st);
    //  After a reopen the sensor's highest seq is read back from the index: a copy of (s1, 1)
    //  through another broker is still caught, and (s1, 2) is new.
    st = ag_store_new (path, err, sizeof err);
    cr_assert_not_null (st, "%s", err);
    ag_store_item_t more[] = {s_item ("b2", 1, "s1", 1), s_item ("b2", 2, "s1", 2)};
    cr_assert_eq (ag_store_put_events (st, more, 2, acks, 4, &n_acks), 0);
    ag_store_stats (st, &stats);
    cr_expect_eq (stats.seq_duplicates, 1);
    cr_expect_eq (stats.events, 2);
    n = 0;
    cr_expect_eq (ag_store_each (st, s_count, &n), 2);
    ag_store_destroy (&st);
}

typedef struct {
    uint64_t index[8];
    char first[8];
    int n;
} s_down_ctx_t;

static int
s_down_cb (void *arg, uint64_t index, const uint8_t *data, size_t len)
{
    s_down_ctx_t *c = arg;
    cr_assert (len > 0 && c->n < 8);
    c->index[c->n] = index;
    c->first[c->n++] = (char) data[0];
    return 0;
}

Test (ag_store, down_queues_per_registered_broker)
{
    char err[256];
    ag_store_t *st = ag_store_new (s_dir, err, sizeof err);
    cr_assert_not_null (st, "%s", err);
    //  Nobody registered: nothing queued.
    cr_assert_eq (ag_store_down_queue (st, (const uint8_t *) "a", 1), 0);
    cr_assert_eq (ag_store_down_register (st, mm_str ("b-kanto")), 1);
    cr_assert_eq (ag_store_down_register (st, mm_str ("b-kanto")), 0);
    cr_assert_eq (ag_store_down_queue (st, (const uint8_t *) "b", 1), 1);
    cr_assert_eq (ag_store_down_register (st, mm_str ("b-kinki")), 1);
    cr_assert_eq (ag_store_down_queue (st, (const uint8_t *) "c", 1), 2);
    cr_assert_eq (ag_store_down_queue (st, (const uint8_t *) "d", 1), 2);
    uint64_t last, acked;
    cr_assert_eq (ag_store_down_state (st, mm_str ("b-kanto"), &last, &acked), 0);
    cr_assert_eq (last, 3);
    cr_assert_eq (acked, 0);
    cr_assert_eq (ag_store_down_state (st, mm_str ("b-nobody"), &last, &acked), -1);
    s_down_ctx_t c = {0};
    cr_assert_eq (ag_store_down_read (st, mm_str ("b-kanto"), 1, 8, s_down_cb, &c), 3);
    cr_assert_eq (memcmp (c.first, "bcd", 3), 0);
    cr_assert_eq (c.index[2], 3);
    memset (&c, 0, sizeof c);
    cr_assert_eq (ag_store_down_read (st, mm_str ("b-kinki"), 1, 8, s_down_cb, &c), 2);
    cr_assert_eq (memcmp (c.first, "cd", 2), 0);
    cr_assert_eq (c.index[0], 1);
    //  Acks: beyond the last refused, then 2 deletes 1..2, and that survives a reopen.
    cr_assert_eq (ag_store_down_ack (st, mm_str ("b-kanto"), 4), -1);
    cr_assert_eq (ag_store_down_ack (st, mm_str ("b-kanto"), 2), 0);
    ag_store_destroy (&st);
    st = ag_store_new (s_dir, err, sizeof err);
    cr_assert_not_null (st, "%s", err);
    cr_assert_eq (ag_store_down_state (st, mm_str ("b-kanto"), &last, &acked), 0);
    cr_assert_eq (acked, 2);
    memset (&c, 0, sizeof c);
    cr_assert_eq (ag_store_down_read (st, mm_str ("b-kanto"), 1, 8, s_down_cb, &c), 1);
    cr_assert_eq (c.first[0], 'd');
    cr_assert_eq (c.index[0], 3);
    ag_store_destroy (&st);
}

static int
s_collect (void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
           uint64_t expires)
{
    (void) expires;
    char *out = (char *) arg;
    size_t n = strlen (out);
    snprintf (out + n, 256 - n, "%.*s=%.*s;", (int) klen, (const char *) key, (int) vlen,
              (const char *) val);
    return 0;
}

static int
s_count_down (void *arg, uint64_t index, const uint8_t *data, size_t len)
{
    (void) index, (void) data, (void) len;
    (*(int *) arg)++;
    return 0;
}

//  Correlation records and down messages go in one write; expired records are not read.
Test (ag_store, records_with_expiry_and_down_messages_in_one_write)
{
    char path[128], err[256];
    snprintf (path, sizeof path, "%s/db", s_dir);
    ag_store_t *st = ag_store_new (path, err, sizeof err);
    cr_assert_not_null (st, "%s", err);
    cr_assert_eq (ag_store_down_register (st, mm_str ("b-east")), 1);
    cr_assert_eq (ag_store_down_register (st, mm_str ("b-west")), 1);
    uint64_t far = 4000000000ull * 1000000000ull;
    ag_store_put_t puts[] = {
        {AG_KV_SIGHT, "a:1", 3, "one", 3, far},
        {AG_KV_SIGHT, "a:2", 3, "two", 3, 0},
        {AG_KV_SIGHT, "a:3", 3, "old", 3, 1},  //  expired long ago
        {AG_KV_META, "cursor", 6, "42", 2, 0},
    };
    uint8_t m1[] = {0x81, 0x01, 0x04}, m2[] = {0x81, 0x01, 0x05};
    ag_store_msg_t down[] = {{m1, sizeof m1}, {m2, sizeof m2}};
    cr_assert_eq (ag_store_write (st, puts, 4, down, 2), 2);
    uint64_t last, acked;
    cr_assert_eq (ag_store_down_state (st, mm_str ("b-west"), &last, &acked), 0);
    cr_expect_eq (last, 2);
    int n = 0;
    cr_expect_eq (ag_store_down_read (st, mm_str ("b-east"), 1, 10, s_count_down, &n), 2);
    mm_buf_t buf = {0};
    cr_expect_eq (ag_store_get (st, AG_KV_SIGHT, "a:1", 3, &buf), 1);
    cr_expect (buf.len == 3 && memcmp (buf.data, "one", 3) == 0);
    mm_buf_clear (&buf);
    cr_expect_eq (ag_store_get (st, AG_KV_SIGHT, "a:3", 3, &buf), 0);
    cr_expect_eq (ag_store_get (st, AG_KV_SIGHT, "a:9", 3, &buf), 0);
    cr_expect_eq (ag_store_get (st, AG_KV_META, "cursor", 6, &buf), 1);
    cr_expect (buf.len == 2 && memcmp (buf.data, "42", 2) == 0);
    mm_buf_free (&buf);
    char seen[256] = "";
    cr_expect_eq (ag_store_scan (st, AG_KV_SIGHT, NULL, 0, NULL, 0, s_collect, seen), 2);
    cr_expect_str_eq (seen, "a:1=one;a:2=two;");
    seen[0] = '\0';
    cr_expect_eq (ag_store_scan (st, AG_KV_SIGHT, "a:2", 3, "a:3", 3, s_collect, seen), 1);
    cr_expect_str_eq (seen, "a:2=two;");
    seen[0] = '\0';
    cr_expect_eq (ag_store_scan (st, AG_KV_META, NULL, 0, NULL, 0, s_collect, seen), 1);
    cr_expect_str_eq (seen, "cursor=42;");
    //  A delete, and a record of no known kind refused (nothing written).
    ag_store_put_t del = {AG_KV_SIGHT, "a:1", 3, NULL, 0, 0};
    cr_expect_eq (ag_store_write (st, &del, 1, NULL, 0), 0);
    ag_store_put_t bad = {99, "x", 1, "y", 1, 0};
    cr_expect_eq (ag_store_write (st, &bad, 1, down, 1), -1);
    cr_assert_eq (ag_store_down_state (st, mm_str ("b-west"), &last, &acked), 0);
    cr_expect_eq (last, 2);
    seen[0] = '\0';
    cr_expect_eq (ag_store_scan (st, AG_KV_SIGHT, NULL, 0, NULL, 0, s_collect, seen), 1);
    ag_store_destroy (&st);
}

static int
s_count_any (void *arg, mm_str_t sensor, uint64_t seq, mm_str_t broker, uint64_t index,
             const uint8_t *data, size_t len)
{
    (void) sensor, (void) seq, (void) broker, (void) index, (void) data, (void) len;
    (*(int *) arg)++;
    return 0;
}

static int
s_sum_index (void *arg, uint64_t index, const uint8_t *data, size_t len)
{
    (void) data, (void) len;
    *(uint64_t *) arg += index;
    return 0;
}

static int
s_broker_hwm (void *arg, mm_str_t broker, uint64_t hwm)
{
    cr_expect (mm_str_eq (broker, "b-1"));
    *(uint64_t *) arg = hwm;
    return 0;
}

//  A flow record older than its retention goes at the next compaction; a finding of the same
//  age stays (400 days against 30); replay reads what follows a cursor.
Test (ag_store, retention_by_compaction_and_replay)
{
    char path[128], err[256];
    snprintf (path, sizeof path, "%s/db", s_dir);
    ag_store_t *st = ag_store_new (path, err, sizeof err);
    cr_assert_not_null (st, "%s", err);
    //  Real EVENTs: the filter reads their time and kind.
    uint64_t now = (uint64_t) time (NULL) * 1000000000ull;
    uint64_t old = now - 40ull * 86400 * 1000000000ull;  //  40 days ago
    mm_buf_t flow = {0}, finding = {0};
    mm_event_t ev;
    memset (&ev, 0, sizeof ev);
    ev.ts = old;
    ev.sensor = mm_str ("s-1");
    ev.org = mm_str ("org-1");
    ev.seq = 1;
    ev.kind = MM_KIND_FLOW;
    mm_error_t e;
    cr_assert_eq (mm_event_encode (&ev, &flow, &e), 0, "%s", e.reason);
    ev.seq = 2;
    ev.kind = MM_KIND_FINDING;
    ev.has = MM_EV_HAS_FINDING;
    ev.severity = MM_SEV_LOW;
    ev.finding.detector = mm_str ("scan.port");
    ev.finding.category = MM_CAT_SCAN;
    ev.finding.message = mm_str ("a port scan");
    cr_assert_eq (mm_event_encode (&ev, &finding, &e), 0, "%s", e.reason);
    ag_store_item_t items[] = {
        {mm_str ("b-1"), 1, mm_str ("s-1"), 1, old, MM_KIND_FLOW, flow.data, flow.len},
        {mm_str ("b-1"), 2, mm_str ("s-1"), 2, old, MM_KIND_FINDING, finding.data, finding.len},
    };
    ag_store_ack_t acks[2];
    size_t n_acks;
    cr_assert_eq (ag_store_put_events (st, items, 2, acks, 2, &n_acks), 0);
    uint64_t sum = 0;
    cr_expect_eq (ag_store_events_after (st, mm_str ("b-1"), 0, s_sum_index, &sum), 2);
    cr_expect_eq (sum, 3);
    sum = 0;
    cr_expect_eq (ag_store_events_after (st, mm_str ("b-1"), 1, s_sum_index, &sum), 1);
    cr_expect_eq (sum, 2);
    uint64_t hwm = 0;
    cr_expect_eq (ag_store_brokers (st, s_broker_hwm, &hwm), 1);
    cr_expect_eq (hwm, 2);
    cr_assert_eq (ag_store_compact (st), 0);
    int n = 0;
    cr_expect_eq (ag_store_each (st, s_count_any, &n), 1);  //  the finding only
    cr_expect_eq (n, 1);
    sum = 0;
    cr_expect_eq (ag_store_events_after (st, mm_str ("b-1"), 0, s_sum_index, &sum), 1);
    cr_expect_eq (sum, 2);
    //  The high-water mark stays: the flow's index is not stored again if a broker resends it.
    cr_expect_eq (ag_store_hwm (st, mm_str ("b-1")), 2);
    mm_buf_free (&flow);
    mm_buf_free (&finding);
    ag_store_destroy (&st);
}
