/*  bk_store: dedup and high-water marks, holes, invalid items, reopening (HWMs, log index,
    cursor, held queues), the forward log (read, ack, delete), held messages, the disk bound,
    errors, a kill -9 crash test (every batch reported durable is there exactly once) and
    100,000 events from 10 sensors with random retransmissions. Each test has its own store in
    a temporary directory it removes. */
#define _XOPEN_SOURCE 700  //  nftw
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <rocksdb/c.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bk_store.h"
#include "mm_buf.h"
#include "mm_event.h"
#include "mm_sample.h"

static char dir[64];
static bk_store_t *store;

static int
s_rm (const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void) sb;
    (void) flag;
    (void) ftw;
    return remove (path);
}

static bk_store_t *
s_open (const bk_store_config_t *config)
{
    char err[512];
    bk_store_t *s = bk_store_new (dir, config, err, sizeof err);
    cr_assert_not_null (s, "open: %s", err);
    return s;
}

static void
s_setup (void)
{
    snprintf (dir, sizeof dir, "/tmp/mm-bkstore-XXXXXX");
    cr_assert_not_null (mkdtemp (dir));
    store = s_open (NULL);
}

static void
s_teardown (void)
{
    bk_store_destroy (&store);
    bk_store_destroy (&store);  //  idempotent
    cr_assert_null (store);
    nftw (dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite (bk_store, .init = s_setup, .fini = s_teardown, .timeout = 60);

//  --------------------------------------------------------------------------------------------
//  Helpers: events whose bytes say which (sensor, seq) they are, batches, a forward reader.

#define EVENT_SIZE 200
static const char *const sensors[] = {"sensor-00", "sensor-01", "sensor-02", "sensor-03",
                                      "sensor-04", "sensor-05", "sensor-06", "sensor-07",
                                      "sensor-08", "sensor-09"};
#define N_SENSORS 10

static void
s_event_bytes (uint8_t *out, int sensor, uint64_t seq)
{
    int len = snprintf ((char *) out, EVENT_SIZE, "%d:%" PRIu64 ":", sensor, seq);
    //  Pseudo-random filler, so compression cannot hide the volume.
    uint64_t x = seq * UINT64_C (0x9E3779B97F4A7C15) + (uint64_t) sensor + 1;
    for (int i = len; i < EVENT_SIZE; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out[i] = (uint8_t) x;
    }
}

typedef struct {
    size_t n;
    bk_store_item_t items[2048];
    uint8_t data[2048][EVENT_SIZE];
    bk_store_ack_t acks[2048];
    size_t n_acks;
} batch_t;

static void
s_add (batch_t *b, int sensor, uint64_t seq)
{
    cr_assert_lt (b->n, 2048);
    s_event_bytes (b->data[b->n], sensor, seq);
    b->items[b->n] = (bk_store_item_t){mm_str (sensors[sensor]), seq, b->data[b->n], EVENT_SIZE};
    b->n++;
}

static void
s_add_range (batch_t *b, int sensor, uint64_t from, uint64_t to)
{
    for (uint64_t seq = from; seq <= to; seq++)
        s_add (b, sensor, seq);
}

static int
s_put (bk_store_t *s, batch_t *b)
{
    int rc = bk_store_put_events (s, b->items, b->n, b->acks, b->n, &b->n_acks);
    if (rc != 0)
        cr_log_error ("put: %s", bk_store_error (s));
    return rc;
}

static const bk_store_ack_t *
s_ack_of (const batch_t *b, int sensor)
{
    for (size_t i = 0; i < b->n_acks; i++)
        if (mm_str_eq (b->acks[i].sensor, sensors[sensor]))
            return &b->acks[i];
    return NULL;
}

static int
s_sensor_index (mm_str_t sensor)
{
    for (int i = 0; i < N_SENSORS; i++)
        if (mm_str_eq (sensor, sensors[i]))
            return i;
    return -1;
}

//  Collects what the forward log delivers.
typedef struct {
    size_t n, stop_after;
    uint64_t index[4096];
    int sensor[4096];
    uint64_t seq[4096];
    bool bytes_ok;
} fwd_t;

static int
s_collect (void *arg, uint64_t index, mm_str_t sensor, uint64_t seq, const uint8_t *data,
           size_t len)
{
    fwd_t *f = arg;
    if (f->n >= 4096)
        return 1;
    int si = s_sensor_index (sensor);
    uint8_t want[EVENT_SIZE];
    if (si >= 0)
        s_event_bytes (want, si, seq);
    if (si < 0 || len != EVENT_SIZE || memcmp (want, data, len) != 0)
        f->bytes_ok = false;
    f->index[f->n] = index;
    f->sensor[f->n] = si;
    f->seq[f->n] = seq;
    f->n++;
    return f->stop_after && f->n >= f->stop_after ? 1 : 0;
}

static fwd_t *
s_read (bk_store_t *s, uint64_t from, size_t max)
{
    static fwd_t f;
    memset (&f, 0, sizeof f);
    f.bytes_ok = true;
    int n = bk_store_read_forward (s, from, max, s_collect, &f);
    cr_assert_geq (n, 0, "read_forward: %s", bk_store_error (s));
    cr_assert_eq ((size_t) n, f.n);
    cr_assert (f.bytes_ok);
    return &f;
}

//  --------------------------------------------------------------------------------------------
//  Ingest

Test (bk_store, put_dedup_hwm)
{
    static batch_t b;
    s_add_range (&b, 0, 1, 10);
    cr_assert_eq (s_put (store, &b), 0);
    cr_assert_eq (b.n_acks, 1);
    cr_assert (mm_str_eq (b.acks[0].sensor, "sensor-00"));
    cr_assert_eq (b.acks[0].hwm, 10);
    cr_assert_eq (b.acks[0].stored, 10);
    cr_assert_eq (b.acks[0].duplicates, 0);
    cr_assert_eq (b.acks[0].out_of_order, 0);

    //  The sensor retransmits from 5 (it never saw the ACK) and goes on to 15.
    b.n = 0;
    s_add_range (&b, 0, 5, 15);
    cr_assert_eq (s_put (store, &b), 0);
    cr_assert_eq (b.acks[0].hwm, 15);
    cr_assert_eq (b.acks[0].stored, 5);
    cr_assert_eq (b.acks[0].duplicates, 6);

    //  Everything again: nothing written, no batch, the same ACK.
    b.n = 0;
    s_add_range (&b, 0, 1, 15);
    cr_assert_eq (s_put (store, &b), 0);
    cr_assert_eq (b.acks[0].hwm, 15);
    cr_assert_eq (b.acks[0].stored, 0);
    cr_assert_eq (b.acks[0].duplicates, 15);

    cr_assert_eq (bk_store_hwm (store, mm_str ("sensor-00")), 15);
    cr_assert_eq (bk_store_hwm (store, mm_str ("sensor-01")), 0);
    bk_store_stats_t st;
    bk_store_stats (store, &st);
    cr_assert_eq (st.events, 15);
    cr_assert_eq (st.duplicates, 21);
    cr_assert_eq (st.batches, 2);
    cr_assert_eq (st.bytes, 15 * EVENT_SIZE);
    cr_assert_eq (st.last_index, 15);
    cr_assert_eq (st.forward_backlog, 15);
    cr_assert_eq (st.gaps, 0);
    cr_assert_eq (st.errors, 0);

    fwd_t *f = s_read (store, 0, 100);
    cr_assert_eq (f->n, 15);
    for (size_t i = 0; i < 15; i++) {
        cr_assert_eq (f->index[i], i + 1);
        cr_assert_eq (f->sensor[i], 0);
        cr_assert_eq (f->seq[i], i + 1);
    }
}

Test (bk_store, several_sensors_in_one_batch)
{
    static batch_t b;
    //  Interleaved, as frames from several sensors arrive at the broker.
    for (uint64_t seq = 1; seq <= 4; seq++)
        for (int s = 0; s < 3; s++)
            s_add (&b, s, seq);
    s_add (&b, 1, 2);  //  a late retransmission of sensor-01's seq 2
    cr_assert_eq (s_put (store, &b), 0);
    cr_assert_eq (b.n_acks, 3);
    for (int s = 0; s < 3; s++) {
        const bk_store_ack_t *a = s_ack_of (&b, s);
        cr_assert_not_null (a);
        cr_assert_eq (a->hwm, 4);
        cr_assert_eq (a->stored, 4);
        cr_assert_eq (a->duplicates, s == 1 ? 1 : 0);
    }
    fwd_t *f = s_read (store, 1, 100);
    cr_assert_eq (f->n, 12);
    for (size_t i = 0; i < 12; i++) {  //  log order is arrival order
        cr_assert_eq (f->index[i], i + 1);
        cr_assert_eq (f->sensor[i], (int) (i % 3));
        cr_assert_eq (f->seq[i], i / 3 + 1);
    }
}

Test (bk_store, holes_are_refused_until_filled_or_skipped)
{
    static batch_t b;
    s_add_range (&b, 0, 1, 3);
    s_add_range (&b, 0, 7, 8);  //  4..6 missing: the broker lost them (not durable) in a crash
    s_add_range (&b, 1, 5, 6);  //  a sensor whose 1..4 never arrived
    cr_assert_eq (s_put (store, &b), 0);
    const bk_store_ack_t *a0 = s_ack_of (&b, 0), *a1 = s_ack_of (&b, 1);
    cr_assert_eq (a0->hwm, 3);
    cr_assert_eq (a0->stored, 3);
    cr_assert_eq (a0->out_of_order, 2);
    cr_assert_eq (a1->hwm, 0);
    cr_assert_eq (a1->stored, 0);
    cr_assert_eq (a1->out_of_order, 2);
    //  The sensor resends from the hole: everything lands, in order.
    b.n = 0;
    s_add_range (&b, 0, 4, 8);
    cr_assert_eq (s_put (store, &b), 0);
    cr_assert_eq (b.acks[0].hwm, 8);
    cr_assert_eq (b.acks[0].stored, 5);
    //  Sensor 1 lost 1..4 to its spool bound and says so (its heartbeat's floor): skipped.
    uint64_t from = 0;
    cr_assert_eq (bk_store_skip (store, mm_str ("sensor-02"), 3, 9, &from), 0);  //  not reached
    cr_assert_eq (bk_store_skip (store, mm_str ("sensor-01"), 1, 4, &from), 1);
    cr_assert_eq (from, 1);
    cr_assert_eq (bk_store_skip (store, mm_str ("sensor-01"), 1, 3, &from), 0);  //  behind us
    b.n = 0;
    s_add_range (&b, 1, 5, 6);
    cr_assert_eq (s_put (store, &b), 0);
    cr_assert_eq (b.acks[0].hwm, 6);
    cr_assert_eq (b.acks[0].stored, 2);
    bk_store_stats_t st;
    bk_store_stats (store, &st);
    cr_assert_eq (st.out_of_order, 4);
    cr_assert_eq (st.gaps, 1);
    cr_assert_eq (st.missing, 4);
    cr_assert_eq (st.events, 10);
    //  What was skipped is not accepted later: the sensor dropped it for good.
    b.n = 0;
    s_add (&b, 1, 2);
    cr_assert_eq (s_put (store, &b), 0);
    cr_assert_eq (b.acks[0].duplicates, 1);
    cr_assert_eq (bk_store_last_index (store), 10);
}

Test (bk_store, invalid_items_are_skipped)
{
    static batch_t b;
    s_add_range (&b, 0, 1, 2);
    char long_id[MM_ID_MAX + 2];
    memset (long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    static uint8_t big[BK_STORE_VALUE_MAX + 1];
    uint8_t one = 1;
    const bk_store_item_t bad[] = {
        {mm_str ("sensor-00"), 0, &one, 1},                      //  seq 0
        {{NULL, 0}, 3, &one, 1},                                 //  no sensor
        {mm_str (long_id), 3, &one, 1},                          //  sensor id too long
        {mm_str ("sensor-00"), 3, NULL, 0},                      //  no data
        {mm_str ("sensor-00"), 3, big, BK_STORE_VALUE_MAX + 1},  //  too big
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        b.items[b.n++] = bad[i];
    s_add (&b, 0, 3);
    cr_assert_eq (s_put (store, &b), 0);
    cr_assert_eq (b.n_acks, 1);
    cr_assert_eq (b.acks[0].hwm, 3);
    cr_assert_eq (b.acks[0].stored, 3);
    bk_store_stats_t st;
    bk_store_stats (store, &st);
    cr_assert_eq (st.invalid, 5);
    cr_assert_eq (st.events, 3);
    //  A value of exactly the limit is fine.
    const bk_store_item_t max = {mm_str ("sensor-00"), 4, big, BK_STORE_VALUE_MAX};
    bk_store_ack_t ack;
    size_t n_acks = 0;
    cr_assert_eq (bk_store_put_events (store, &max, 1, &ack, 1, &n_acks), 0);
    cr_assert_eq (ack.stored, 1);
    cr_assert_eq (bk_store_hwm (store, mm_str (long_id)), UINT64_MAX);
}

Test (bk_store, too_small_ack_array_writes_nothing)
{
    static batch_t b;
    s_add (&b, 0, 1);
    s_add (&b, 1, 1);
    s_add (&b, 2, 1);
    cr_assert_eq (bk_store_put_events (store, b.items, b.n, b.acks, 2, &b.n_acks), -1);
    cr_assert (strstr (bk_store_error (store), "sensors"));
    cr_assert_eq (b.n_acks, 0);
    cr_assert_eq (bk_store_last_index (store), 0);
    cr_assert_eq (bk_store_hwm (store, mm_str ("sensor-00")), 0);
    cr_assert_eq (s_put (store, &b), 0);
    cr_assert_eq (bk_store_last_index (store), 3);
}

typedef struct {
    const mm_buf_t *want;
    int ok;
} decode_ctx_t;

static int
s_decode_check (void *arg, uint64_t index, mm_str_t sensor, uint64_t seq, const uint8_t *data,
                size_t len)
{
    decode_ctx_t *ctx = arg;
    mm_event_t ev;
    mm_error_t err;
    if (index == 1 && mm_str_eq (sensor, "sensor-07") && seq == 1 && len == ctx->want->len &&
        memcmp (data, ctx->want->data, len) == 0 && mm_event_decode (&ev, data, len, &err) == 0 &&
        ev.seq == 1)
        ctx->ok++;
    return 0;
}

Test (bk_store, real_events_round_trip)
{
    mm_event_t ev;
    mm_sample_event (&ev, MM_KIND_DNS);
    ev.sensor = mm_str ("sensor-07");
    ev.seq = 1;
    mm_buf_t buf = MM_BUF_INIT;
    mm_error_t err;
    cr_assert_eq (mm_event_encode (&ev, &buf, &err), 0, "%s", err.reason);
    bk_store_item_t item = {ev.sensor, ev.seq, buf.data, buf.len};
    bk_store_ack_t ack;
    size_t n_acks = 0;
    cr_assert_eq (bk_store_put_events (store, &item, 1, &ack, 1, &n_acks), 0);
    cr_assert_eq (ack.hwm, 1);
    decode_ctx_t ctx = {&buf, 0};
    cr_assert_eq (bk_store_read_forward (store, 1, 10, s_decode_check, &ctx), 1);
    cr_assert_eq (ctx.ok, 1);
    mm_buf_free (&buf);
}

//  --------------------------------------------------------------------------------------------
//  Reopening

static int
s_take_all (void *arg, uint64_t id, const uint8_t *data, size_t len)
{
    uint64_t *ids = arg;
    (void) data;
    (void) len;
    ids[++ids[0]] = id;
    return BK_HELD_SENT;
}

Test (bk_store, reopen_keeps_hwm_index_cursor_and_held)
{
    static batch_t b;
    s_add_range (&b, 0, 1, 20);
    s_add_range (&b, 1, 1, 5);
    cr_assert_eq (s_put (store, &b), 0);
    cr_assert_eq (bk_store_ack_forward (store, 12), 0);
    uint8_t msg[3] = {1, 2, 3};
    cr_assert_eq (bk_store_hold (store, mm_str ("sensor-03"), msg, 3), 0);
    cr_assert_eq (bk_store_hold (store, mm_str ("sensor-03"), msg, 2), 0);
    bk_store_destroy (&store);

    store = s_open (NULL);
    cr_assert_eq (bk_store_hwm (store, mm_str ("sensor-00")), 20);
    cr_assert_eq (bk_store_hwm (store, mm_str ("sensor-01")), 5);
    cr_assert_eq (bk_store_last_index (store), 25);
    cr_assert_eq (bk_store_forward_cursor (store), 12);
    cr_assert_eq (bk_store_held_count (store, mm_str ("sensor-03")), 2);
    bk_store_stats_t st;
    bk_store_stats (store, &st);
    cr_assert_eq (st.forward_backlog, 13);
    cr_assert_eq (st.held, 2);
    cr_assert_eq (st.events, 0);  //  counters are since open

    //  The forward log resumes after the cursor; new events continue the index.
    fwd_t *f = s_read (store, 0, 100);
    cr_assert_eq (f->n, 13);
    cr_assert_eq (f->index[0], 13);
    b.n = 0;
    s_add_range (&b, 0, 18, 22);  //  3 duplicates, 2 new
    cr_assert_eq (s_put (store, &b), 0);
    cr_assert_eq (b.acks[0].stored, 2);
    cr_assert_eq (bk_store_last_index (store), 27);
    f = s_read (store, 26, 100);
    cr_assert_eq (f->n, 2);
    cr_assert_eq (f->index[0], 26);
    cr_assert_eq (f->seq[0], 21);
    cr_assert_eq (f->seq[1], 22);

    //  Held ids keep increasing across a reopen.
    cr_assert_eq (bk_store_hold (store, mm_str ("sensor-03"), msg, 1), 0);
    uint64_t ids[8] = {0};
    cr_assert_eq (bk_store_take_held (store, mm_str ("sensor-03"), s_take_all, ids), 3);
    cr_assert_eq (ids[0], 3);
    cr_assert_eq (ids[1], 1);
    cr_assert_eq (ids[2], 2);
    cr_assert_eq (ids[3], 3);
}

Test (bk_store, reopen_after_everything_acked_continues_the_index)
{
    static batch_t b;
    s_add_range (&b, 0, 1, 50);
    cr_assert_eq (s_put (store, &b), 0);
    cr_assert_eq (bk_store_ack_forward (store, 50), 0);
    bk_store_compact (store);
    bk_store_destroy (&store);
    store = s_open (NULL);
    //  The log is empty: the last index comes from the cursor, never back to 1.
    cr_assert_eq (bk_store_last_index (store), 50);
    cr_assert_eq (bk_store_forward_cursor (store), 50);
    cr_assert_eq (s_read (store, 0, 10)->n, 0);
    b.n = 0;
    s_add_range (&b, 0, 51, 51);
    cr_assert_eq (s_put (store, &b), 0);
    fwd_t *f = s_read (store, 0, 10);
    cr_assert_eq (f->n, 1);
    cr_assert_eq (f->index[0], 51);
    cr_assert_eq (f->seq[0], 51);
}

//  --------------------------------------------------------------------------------------------
//  Forward log

Test (bk_store, forward_read_ack_delete)
{
    static batch_t b;
    for (int round = 0; round < 10; round++) {
        b.n = 0;
        s_add_range (&b, round % 2, (uint64_t) (round / 2) * 100 + 1,
                     (uint64_t) (round / 2) * 100 + 100);
        cr_assert_eq (s_put (store, &b), 0);
    }
    cr_assert_eq (bk_store_last_index (store), 1000);
    fwd_t *f = s_read (store, 1, 100);
    cr_assert_eq (f->n, 100);
    cr_assert_eq (f->index[99], 100);
    //  The callback can stop early (the one that stopped counts).
    static fwd_t g;
    memset (&g, 0, sizeof g);
    g.bytes_ok = true;
    g.stop_after = 7;
    cr_assert_eq (bk_store_read_forward (store, 500, 100, s_collect, &g), 7);
    cr_assert_eq (g.index[0], 500);
    cr_assert_eq (g.index[6], 506);
    //  Reading past the end gives nothing.
    cr_assert_eq (s_read (store, 1001, 10)->n, 0);

    cr_assert_eq (bk_store_ack_forward (store, 100), 0);
    cr_assert_eq (bk_store_forward_cursor (store), 100);
    f = s_read (store, 1, 5);  //  from below the cursor: starts after it
    cr_assert_eq (f->index[0], 101);
    cr_assert_eq (bk_store_ack_forward (store, 50), 0);  //  old ack: no-op
    cr_assert_eq (bk_store_forward_cursor (store), 100);
    cr_assert_eq (bk_store_ack_forward (store, 1001), -1);  //  beyond the log
    cr_assert (strstr (bk_store_error (store), "beyond"));
    cr_assert_eq (bk_store_forward_cursor (store), 100);

    bk_store_stats_t st;
    bk_store_stats (store, &st);
    cr_assert_eq (st.forward_backlog, 900);
    cr_assert_eq (bk_store_ack_forward (store, 1000), 0);
    bk_store_stats (store, &st);
    cr_assert_eq (st.forward_backlog, 0);
    cr_assert_eq (s_read (store, 0, 10)->n, 0);
    cr_assert_eq (st.errors, 0);
}

Test (bk_store, acknowledged_events_give_their_space_back)
{
    //  ~4 MB of events, flushed to SST files, then acknowledged and compacted.
    static batch_t b;
    uint64_t seq = 0;
    for (int round = 0; round < 20; round++) {
        b.n = 0;
        for (int i = 0; i < 1000; i++)
            s_add (&b, 0, ++seq);
        cr_assert_eq (s_put (store, &b), 0);
    }
    bk_store_compact (store);  //  flushes the memtable, so the data is in SST files
    uint64_t before = bk_store_size (store);
    cr_assert_gt (before, 1000000, "size %" PRIu64, before);
    cr_assert_eq (bk_store_ack_forward (store, seq), 0);
    bk_store_compact (store);
    uint64_t after = bk_store_size (store);
    cr_log_info ("size before ack %" PRIu64 ", after ack and compaction %" PRIu64, before, after);
    cr_assert_lt (after, before / 10, "size %" PRIu64 " -> %" PRIu64, before, after);
}

//  --------------------------------------------------------------------------------------------
//  Held messages

typedef struct {
    uint64_t ids[16];
    uint8_t first[16];
    size_t n;
    int mode;  //  0 all sent, 1 stop at the second, 2 keep all
} held_ctx_t;

static int
s_held_cb (void *arg, uint64_t id, const uint8_t *data, size_t len)
{
    held_ctx_t *ctx = arg;
    if (ctx->mode == 1 && ctx->n == 1)
        return BK_HELD_STOP;
    ctx->ids[ctx->n] = id;
    ctx->first[ctx->n] = len ? data[0] : 0;
    ctx->n++;
    return ctx->mode == 2 ? BK_HELD_KEEP : BK_HELD_SENT;
}

Test (bk_store, held_messages_in_order_per_sensor)
{
    mm_str_t s1 = mm_str ("sensor-01"), s2 = mm_str ("sensor-02"), s3 = mm_str ("sensor-03");
    for (uint8_t i = 1; i <= 3; i++) {
        uint8_t m[2] = {(uint8_t) (10 + i), 0};
        cr_assert_eq (bk_store_hold (store, s1, m, 2), 0);
        m[0] = (uint8_t) (20 + i);
        cr_assert_eq (bk_store_hold (store, s2, m, 2), 0);
    }
    cr_assert_eq (bk_store_held_count (store, s1), 3);
    cr_assert_eq (bk_store_held_count (store, s3), 0);
    bk_store_stats_t st;
    bk_store_stats (store, &st);
    cr_assert_eq (st.held, 6);

    held_ctx_t ctx = {.mode = 0};
    cr_assert_eq (bk_store_take_held (store, s1, s_held_cb, &ctx), 3);
    cr_assert_eq (ctx.n, 3);
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq (ctx.ids[i], i + 1);
        cr_assert_eq (ctx.first[i], 11 + i);
    }
    cr_assert_eq (bk_store_held_count (store, s1), 0);
    memset (&ctx, 0, sizeof ctx);
    cr_assert_eq (bk_store_take_held (store, s1, s_held_cb, &ctx), 0);
    cr_assert_eq (ctx.n, 0);

    //  Stopped at the second: the first is gone, the rest stay in order.
    memset (&ctx, 0, sizeof ctx);
    ctx.mode = 1;
    cr_assert_eq (bk_store_take_held (store, s2, s_held_cb, &ctx), 1);
    cr_assert_eq (ctx.first[0], 21);
    cr_assert_eq (bk_store_held_count (store, s2), 2);
    //  Sent but kept until acknowledged explicitly.
    memset (&ctx, 0, sizeof ctx);
    ctx.mode = 2;
    cr_assert_eq (bk_store_take_held (store, s2, s_held_cb, &ctx), 0);
    cr_assert_eq (ctx.n, 2);
    cr_assert_eq (ctx.first[0], 22);
    cr_assert_eq (ctx.first[1], 23);
    cr_assert_eq (bk_store_ack_held (store, s2, ctx.ids[0]), 1);
    cr_assert_eq (bk_store_held_count (store, s2), 1);
    cr_assert_eq (bk_store_ack_held (store, s2, UINT64_MAX), 1);
    cr_assert_eq (bk_store_held_count (store, s2), 0);
    bk_store_stats (store, &st);
    cr_assert_eq (st.held, 0);
    cr_assert_eq (st.errors, 0);
}

Test (bk_store, held_queue_is_bounded)
{
    bk_store_destroy (&store);
    bk_store_config_t config;
    bk_store_config_defaults (&config);
    config.held_max = 3;
    store = s_open (&config);
    mm_str_t s1 = mm_str ("sensor-01");
    uint8_t m = 7;
    for (int i = 0; i < 3; i++)
        cr_assert_eq (bk_store_hold (store, s1, &m, 1), 0);
    cr_assert_eq (bk_store_hold (store, s1, &m, 1), -1);
    cr_assert (strstr (bk_store_error (store), "already held"));
    cr_assert_eq (bk_store_hold (store, mm_str ("sensor-02"), &m, 1), 0);  //  per sensor
    cr_assert_eq (bk_store_hold (store, s1, &m, 0), -1);                   //  empty message
    bk_store_stats_t st;
    bk_store_stats (store, &st);
    cr_assert_eq (st.held_refused, 1);
    cr_assert_eq (st.held, 4);
    held_ctx_t ctx = {.mode = 0};
    cr_assert_eq (bk_store_take_held (store, s1, s_held_cb, &ctx), 3);
    cr_assert_eq (bk_store_hold (store, s1, &m, 1), 0);
}

//  --------------------------------------------------------------------------------------------
//  The disk bound

Test (bk_store, full_store_refuses_new_events_until_space_comes_back)
{
    bk_store_destroy (&store);
    bk_store_config_t config;
    bk_store_config_defaults (&config);
    config.max_bytes = 1u << 20;
    store = s_open (&config);
    cr_assert_not (bk_store_full (store));

    static batch_t b;
    uint64_t seq = 0;
    int batches = 0;
    while (!bk_store_full (store)) {
        cr_assert_lt (++batches, 100, "never full at %" PRIu64 " bytes", bk_store_size (store));
        b.n = 0;
        for (int i = 0; i < 1000; i++)
            s_add (&b, 0, ++seq);
        cr_assert_eq (s_put (store, &b), 0);
        cr_assert_eq (b.acks[0].hwm, seq);
    }
    //  Full: duplicates are still acknowledged, new events are refused and not acknowledged.
    b.n = 0;
    s_add (&b, 0, seq);
    s_add (&b, 0, seq + 1);
    s_add (&b, 1, 1);
    cr_assert_eq (s_put (store, &b), 0);
    cr_assert_eq (b.acks[0].hwm, seq);
    cr_assert_eq (b.acks[0].duplicates, 1);
    cr_assert_eq (b.acks[0].refused, 1);
    cr_assert_eq (s_ack_of (&b, 1)->hwm, 0);
    cr_assert_eq (s_ack_of (&b, 1)->refused, 1);
    bk_store_stats_t st;
    bk_store_stats (store, &st);
    cr_assert (st.full);
    cr_assert_eq (st.refused, 2);
    cr_assert_eq (bk_store_last_index (store), seq);

    //  The aggregator acknowledges everything: after compaction there is room again.
    cr_assert_eq (bk_store_ack_forward (store, seq), 0);
    bk_store_compact (store);
    cr_assert_not (bk_store_full (store), "size %" PRIu64, bk_store_size (store));
    cr_assert_eq (s_put (store, &b), 0);
    cr_assert_eq (b.acks[0].hwm, seq + 1);
    cr_assert_eq (s_ack_of (&b, 1)->hwm, 1);
}

//  --------------------------------------------------------------------------------------------
//  Errors

Test (bk_store, open_errors_are_reported)
{
    char err[512];
    char path[128];
    snprintf (path, sizeof path, "%s/file", dir);
    FILE *fp = fopen (path, "w");
    cr_assert_not_null (fp);
    fclose (fp);
    cr_assert_null (bk_store_new (path, NULL, err, sizeof err));
    cr_assert_neq (err[0], '\0');
    cr_log_info ("open on a file: %s", err);
    //  The store is open (and locked) already.
    cr_assert_null (bk_store_new (dir, NULL, err, sizeof err));
    cr_assert (strstr (err, "lock"), "%s", err);
}

Test (bk_store, foreign_format_version_is_refused)
{
    bk_store_destroy (&store);
    //  Rewrite the version key with plain RocksDB, as a newer broker would have.
    rocksdb_options_t *opts = rocksdb_options_create ();
    const char *names[4] = {"default", "fwd", "hwm", "held"};
    const rocksdb_options_t *cf_opts[4] = {opts, opts, opts, opts};
    rocksdb_column_family_handle_t *cfs[4];
    char *err = NULL;
    rocksdb_t *db = rocksdb_open_column_families (opts, dir, 4, names, cf_opts, cfs, &err);
    cr_assert_null (err, "%s", err);
    rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create ();
    const char v[4] = {0, 0, 0, 2};
    rocksdb_put_cf (db, wo, cfs[0], "v", 1, v, 4, &err);
    cr_assert_null (err);
    rocksdb_writeoptions_destroy (wo);
    for (int i = 0; i < 4; i++)
        rocksdb_column_family_handle_destroy (cfs[i]);
    rocksdb_close (db);
    rocksdb_options_destroy (opts);

    char text[512];
    cr_assert_null (bk_store_new (dir, NULL, text, sizeof text));
    cr_assert (strstr (text, "version"), "%s", text);
}

//  --------------------------------------------------------------------------------------------
//  Crash: a child writes batches and reports each one bk_store_put_events said was durable;
//  kill -9 at a random moment; the parent reopens. Every reported batch must be there exactly
//  once, whole batches only, log indexes contiguous and in arrival order, HWMs matching.

typedef struct {
    uint64_t hwm[N_SENSORS];
    uint64_t index;  //  events stored so far = last log index
} sim_t;

//  Batch k (1, 2, ...) of the deterministic stream: some sensors, a few new seqs each,
//  retransmissions of stored ones every 4th batch and a gap every 17th, interleaved. Updates
//  `sim` as the store would. New events are listed in `expect` (if not NULL) at their index.
typedef struct {
    int sensor;
    uint64_t seq;
} sim_ev_t;

static void
s_sim_batch (uint64_t k, sim_t *sim, batch_t *b, sim_ev_t *expect, size_t expect_max)
{
    uint64_t from[N_SENSORS], to[N_SENSORS];
    int in[N_SENSORS];
    int n_in = 0;
    for (int s = 0; s < N_SENSORS; s++) {
        if ((k + (uint64_t) s) % 3 != 0 && (uint64_t) s != k % N_SENSORS)
            continue;
        uint64_t m = 1 + (k * 7 + (uint64_t) s * 3) % 13;
        uint64_t first = sim->hwm[s] + 1;  //  no holes: the store refuses what follows one
        from[n_in] = (k % 4 == 0 && sim->hwm[s] >= 3) ? sim->hwm[s] - 2 : first;
        to[n_in] = first + m - 1;
        in[n_in++] = s;
    }
    if (b)
        b->n = 0;
    //  Round-robin over the sensors, one event each, until every range is done.
    for (bool more = true; more;) {
        more = false;
        for (int j = 0; j < n_in; j++) {
            if (from[j] > to[j])
                continue;
            int s = in[j];
            uint64_t seq = from[j]++;
            more = true;
            if (b)
                s_add (b, s, seq);
            if (seq > sim->hwm[s]) {
                sim->hwm[s] = seq;
                sim->index++;
                if (expect && sim->index < expect_max)
                    expect[sim->index] = (sim_ev_t){s, seq};
            }
        }
    }
}

typedef struct {
    uint32_t type;  //  1 batch durable, 2 forward ack durable
    uint64_t value;
} report_t;

static void
s_crash_child (int fd, uint64_t first_batch)
{
    char err[512];
    bk_store_t *s = bk_store_new (dir, NULL, err, sizeof err);
    if (!s)
        _exit (2);
    static batch_t b;
    sim_t sim = {{0}, 0};
    for (uint64_t k = 1; k < first_batch; k++)
        s_sim_batch (k, &sim, NULL, NULL, 0);
    for (uint64_t k = first_batch; k < first_batch + 100000; k++) {
        s_sim_batch (k, &sim, &b, NULL, 0);
        if (bk_store_put_events (s, b.items, b.n, b.acks, b.n, &b.n_acks) != 0)
            _exit (3);
        report_t r = {1, k};
        if (write (fd, &r, sizeof r) != sizeof r)
            _exit (4);
        if (k % 7 == 0 && bk_store_last_index (s) > 40) {
            uint64_t upto = bk_store_last_index (s) - 40;
            if (bk_store_ack_forward (s, upto) != 0)
                _exit (5);
            r = (report_t){2, upto};
            if (write (fd, &r, sizeof r) != sizeof r)
                _exit (4);
        }
    }
    _exit (0);
}

typedef struct {
    sim_ev_t *expect;
    uint64_t next;
    uint64_t bad;
} verify_t;

static int
s_verify_cb (void *arg, uint64_t index, mm_str_t sensor, uint64_t seq, const uint8_t *data,
             size_t len)
{
    verify_t *v = arg;
    uint8_t want[EVENT_SIZE];
    const sim_ev_t *e = &v->expect[index];
    s_event_bytes (want, e->sensor, e->seq);
    if (index != v->next || s_sensor_index (sensor) != e->sensor || seq != e->seq ||
        len != EVENT_SIZE || memcmp (data, want, len) != 0)
        v->bad++;
    v->next = index + 1;
    return 0;
}

Test (bk_store, kill_9_loses_nothing_acknowledged)
{
    bk_store_destroy (&store);
    enum { MAX_EVENTS = 400000 };
    sim_ev_t *expect = calloc (MAX_EVENTS, sizeof *expect);
    cr_assert_not_null (expect);
    uint64_t durable = 0;  //  batches found in the store so far
    uint64_t cursor_min = 0;
    srand ((unsigned) getpid ());

    for (int round = 0; round < 10; round++) {
        int fds[2];
        cr_assert_eq (pipe (fds), 0);
        pid_t pid = fork ();
        cr_assert_geq (pid, 0);
        if (pid == 0) {
            close (fds[0]);
            s_crash_child (fds[1], durable + 1);
        }
        close (fds[1]);
        //  Let it run for a random number of reported batches, then kill it mid-stream.
        int want = 20 + rand () % 300;
        uint64_t reported = durable, acked = cursor_min;
        report_t r;
        int got = 0;
        while (got < want && read (fds[0], &r, sizeof r) == sizeof r) {
            if (r.type == 1) {
                reported = r.value;
                got++;
            }
            else
                acked = r.value;
        }
        cr_assert_eq (got, want, "the child died early");
        //  Odd rounds wait a random moment, so the kill lands anywhere in a write.
        if (round % 2) {
            struct timespec pause = {0, (long) (rand () % 3000) * 1000};
            nanosleep (&pause, NULL);
        }
        kill (pid, SIGKILL);
        int status = 0;
        cr_assert_eq (waitpid (pid, &status, 0), pid);
        cr_assert (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL, "child status %d", status);
        //  Reports written before the kill are durable too.
        while (read (fds[0], &r, sizeof r) == sizeof r) {
            if (r.type == 1)
                reported = r.value;
            else
                acked = r.value;
        }
        close (fds[0]);

        store = s_open (NULL);
        uint64_t last = bk_store_last_index (store);
        //  Whole batches only: the last index must fall exactly on a batch boundary.
        sim_t sim = {{0}, 0};
        uint64_t k = 0;
        while (sim.index < last) {
            s_sim_batch (++k, &sim, NULL, expect, MAX_EVENTS);
            cr_assert_lt (sim.index, (uint64_t) MAX_EVENTS);
        }
        cr_assert_eq (sim.index, last, "last index %" PRIu64 " inside batch %" PRIu64, last, k);
        //  Every batch has new events, so the index names the batch: none reported durable
        //  may be missing.
        cr_assert_geq (k, reported,
                       "batch %" PRIu64 " was reported durable, store ends at %" PRIu64, reported,
                       k);
        for (int s = 0; s < N_SENSORS; s++)
            cr_assert_eq (bk_store_hwm (store, mm_str (sensors[s])), sim.hwm[s],
                          "sensor %d: hwm %" PRIu64 ", expected %" PRIu64, s,
                          bk_store_hwm (store, mm_str (sensors[s])), sim.hwm[s]);
        uint64_t cursor = bk_store_forward_cursor (store);
        cr_assert_geq (cursor, acked, "cursor %" PRIu64 " behind an acked %" PRIu64, cursor, acked);
        cr_assert_leq (cursor, last);
        //  Everything after the cursor is there, once, contiguous, in the expected order.
        verify_t v = {expect, cursor + 1, 0};
        int n = bk_store_read_forward (store, 0, MAX_EVENTS, s_verify_cb, &v);
        cr_assert_eq ((uint64_t) n, last - cursor, "read %d, backlog %" PRIu64, n, last - cursor);
        cr_assert_eq (v.bad, 0);
        cr_log_info ("round %d: reported %" PRIu64 ", store holds batches 1..%" PRIu64
                     " (index %" PRIu64 ", cursor %" PRIu64 ")",
                     round, reported, k, last, cursor);
        bk_store_destroy (&store);
        durable = k;
        cursor_min = cursor;
    }
    free (expect);
}

//  --------------------------------------------------------------------------------------------
//  Scale: 100,000 events from 10 sensors, each sensor sometimes starting over from a point it
//  already sent (a lost ACK), in random batches. Exactly 100,000 must be stored, once each.

static uint64_t rng = UINT64_C (0x9E3779B97F4A7C15);
static uint64_t
s_rand (void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

typedef struct {
    uint8_t *seen;  //  [sensor][seq]
    uint64_t last_seq[N_SENSORS];
    uint64_t twice, out_of_order, count;
} scale_t;

#define PER_SENSOR 10000

static int
s_scale_cb (void *arg, uint64_t index, mm_str_t sensor, uint64_t seq, const uint8_t *data,
            size_t len)
{
    scale_t *sc = arg;
    (void) index;
    (void) data;
    (void) len;
    int s = s_sensor_index (sensor);
    if (s < 0 || seq == 0 || seq > PER_SENSOR)
        return 1;
    if (sc->seen[(size_t) s * (PER_SENSOR + 1) + seq]++)
        sc->twice++;
    if (seq <= sc->last_seq[s])
        sc->out_of_order++;
    sc->last_seq[s] = seq;
    sc->count++;
    return 0;
}

Test (bk_store, hundred_thousand_events_with_retransmissions)
{
    static batch_t b;
    uint64_t sent[N_SENSORS] = {0};  //  what each sensor has sent (next new = sent + 1)
    uint64_t retransmitted = 0, total = 0, batches = 0;
    while (total < (uint64_t) N_SENSORS * PER_SENSOR) {
        b.n = 0;
        size_t target = 1 + s_rand () % 500;
        while (b.n < target && total < (uint64_t) N_SENSORS * PER_SENSOR) {
            int s = (int) (s_rand () % N_SENSORS);
            if (sent[s] == PER_SENSOR)
                continue;
            if (sent[s] > 0 && s_rand () % 8 == 0) {
                //  A lost ACK: the sensor starts over from a point it already sent.
                uint64_t back = 1 + s_rand () % 300;
                uint64_t from = sent[s] > back ? sent[s] - back + 1 : 1;
                s_add_range (&b, s, from, sent[s]);
                retransmitted += sent[s] - from + 1;
            }
            uint64_t chunk = 1 + s_rand () % 50;
            if (chunk > PER_SENSOR - sent[s])
                chunk = PER_SENSOR - sent[s];
            s_add_range (&b, s, sent[s] + 1, sent[s] + chunk);
            sent[s] += chunk;
            total += chunk;
        }
        cr_assert_eq (s_put (store, &b), 0);
        batches++;
        for (size_t j = 0; j < b.n_acks; j++)
            cr_assert_eq (b.acks[j].hwm, sent[s_sensor_index (b.acks[j].sensor)]);
    }
    bk_store_stats_t st;
    bk_store_stats (store, &st);
    cr_log_info ("%" PRIu64 " batches, %" PRIu64 " events retransmitted", batches, retransmitted);
    cr_assert_eq (st.events, 100000);
    cr_assert_eq (st.last_index, 100000);
    cr_assert_eq (st.duplicates, retransmitted);
    cr_assert_gt (retransmitted, 10000);
    cr_assert_eq (st.gaps, 0);
    for (int s = 0; s < N_SENSORS; s++)
        cr_assert_eq (bk_store_hwm (store, mm_str (sensors[s])), PER_SENSOR);

    scale_t sc = {0};
    sc.seen = calloc ((size_t) N_SENSORS * (PER_SENSOR + 1), 1);
    cr_assert_not_null (sc.seen);
    cr_assert_eq (bk_store_read_forward (store, 0, 200000, s_scale_cb, &sc), 100000);
    cr_assert_eq (sc.count, 100000);
    cr_assert_eq (sc.twice, 0);
    cr_assert_eq (sc.out_of_order, 0);
    free (sc.seen);
}

Test (bk_store, steady_forwarding_keeps_the_size_bounded)
{
    //  Small memtables so data reaches SST files; the aggregator acknowledges 5,000 behind.
    bk_store_destroy (&store);
    bk_store_config_t config;
    bk_store_config_defaults (&config);
    config.write_buffer_bytes = 1u << 20;
    store = s_open (&config);
    static batch_t b;
    uint64_t seq[N_SENSORS] = {0}, peak = 0;
    for (int round = 0; round < 200; round++) {
        b.n = 0;
        for (int i = 0; i < 1000; i++)
            s_add (&b, i % N_SENSORS, ++seq[i % N_SENSORS]);
        cr_assert_eq (s_put (store, &b), 0);
        if (bk_store_last_index (store) > 5000)
            cr_assert_eq (bk_store_ack_forward (store, bk_store_last_index (store) - 5000), 0);
        uint64_t size = bk_store_size (store);
        if (size > peak)
            peak = size;
        if (round % 20 == 19)
            cr_log_info ("after %d MB: size %" PRIu64 " bytes", (round + 1) / 5, size);
    }
    cr_log_info ("peak %" PRIu64 " bytes", peak);
    //  40 MB went through with a 1 MB backlog: measured peaks were 6 MB (8 MB without
    //  deleting whole files); an unbounded store would end near 40 MB.
    cr_assert_lt (peak, 16u << 20, "peak %" PRIu64, peak);
    bk_store_stats_t st;
    bk_store_stats (store, &st);
    cr_assert_eq (st.errors, 0);
    cr_assert_eq (st.forward_backlog, 5000);
}

//  --------------------------------------------------------------------------------------------
//  Down messages from the aggregator

typedef struct {
    uint64_t ids[8];
    uint8_t first[8];
    size_t n;
} peek_ctx_t;

static int
s_peek_cb (void *arg, uint64_t id, const uint8_t *data, size_t len)
{
    peek_ctx_t *c = arg;
    cr_assert (len > 0 && c->n < 8);
    c->ids[c->n] = id;
    c->first[c->n++] = data[0];
    return BK_HELD_KEEP;
}

Test (bk_store, down_messages_held_per_recipient_with_a_durable_mark)
{
    bk_store_destroy (&store);
    bk_store_config_t config;
    bk_store_config_defaults (&config);
    config.held_max = 2;
    store = s_open (&config);
    mm_str_t to[2] = {mm_str ("sensor-01"), mm_str ("sensor-02")};
    size_t refused = 9;
    uint8_t m = 1;
    cr_assert_eq (bk_store_down_hwm (store), 0);
    cr_assert_eq (bk_store_hold_down (store, 1, to, 2, &m, 1, &refused), 1);
    cr_assert_eq (refused, 0);
    cr_assert_eq (bk_store_down_hwm (store), 1);
    //  A resend of 1 writes nothing; 2 has no recipient but still moves the mark.
    cr_assert_eq (bk_store_hold_down (store, 1, to, 2, &m, 1, &refused), 0);
    m = 2;
    cr_assert_eq (bk_store_hold_down (store, 2, NULL, 0, &m, 1, &refused), 1);
    m = 3;
    cr_assert_eq (bk_store_hold_down (store, 3, to, 1, &m, 1, &refused), 1);
    //  sensor-01 is at held_max (2): refused for it, held for sensor-02.
    m = 4;
    cr_assert_eq (bk_store_hold_down (store, 4, to, 2, &m, 1, &refused), 1);
    cr_assert_eq (refused, 1);
    cr_assert_eq (bk_store_held_count (store, to[0]), 2);
    cr_assert_eq (bk_store_held_count (store, to[1]), 2);
    bk_store_stats_t st;
    bk_store_stats (store, &st);
    cr_assert_eq (st.held, 4);
    cr_assert_eq (st.held_refused, 1);

    //  The mark and the copies survive a reopen; peek reads in order and removes nothing.
    bk_store_destroy (&store);
    store = s_open (&config);
    cr_assert_eq (bk_store_down_hwm (store), 4);
    peek_ctx_t c = {0};
    cr_assert_eq (bk_store_peek_held (store, to[0], 1, 8, s_peek_cb, &c), 2);
    cr_assert_eq (c.first[0], 1);
    cr_assert_eq (c.first[1], 3);
    memset (&c, 0, sizeof c);
    cr_assert_eq (bk_store_peek_held (store, to[1], 1, 1, s_peek_cb, &c), 1);  //  max 1
    cr_assert_eq (c.first[0], 1);
    memset (&c, 0, sizeof c);
    cr_assert_eq (bk_store_peek_held (store, to[1], 2, 8, s_peek_cb, &c), 1);  //  from id 2
    cr_assert_eq (c.first[0], 4);
    cr_assert_eq (bk_store_held_count (store, to[1]), 2);
    cr_assert_eq (bk_store_ack_held (store, to[1], c.ids[0]), 2);
    cr_assert_eq (bk_store_held_count (store, to[1]), 0);
    cr_assert_eq (bk_store_hold_down (store, 0, to, 1, &m, 1, &refused), -1);  //  index 0
}
