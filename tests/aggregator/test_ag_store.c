/*  Tests of ag_store: exact dedup by (broker, log index) with a durable high-water mark,
    out-of-order refusal, the (sensor, seq) index, survival across reopen. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_store.h"

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
