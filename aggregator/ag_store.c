/*  ag_store: the aggregator's durable store over RocksDB (see ag_store.h for the layout and the
    guarantees). Every batch is one WriteBatch written with the WAL and sync=true: what the
    aggregator ACKs is on disk. Owner: aggregator/ (ingest). */
#include "ag_store.h"

#include <czmq.h>
#include <errno.h>
#include <rocksdb/c.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mm_event.h"

#define AG_STORE_VERSION 1u

enum {
    CF_DEFAULT,
    CF_EV,
    CF_SENSOR,
    CF_HWM,
    CF_DOWN,
    CF_FINDING,
    CF_TIMELINE,
    CF_SIGHT,
    CF_WARN,
    CF_COUNT
};
static const char *const s_cf_names[CF_COUNT] = {"default", "ev",       "sensor", "hwm", "down",
                                                 "finding", "timeline", "sight",  "warn"};
#define KEY_META 'M'  //  'M' | key -> value (AG_KV_META)

#define KEY_DOWN_HEAD 'D'  //  'D' | u8 len | broker -> u64 last index | u64 acked

#define KEY_MAX (1 + MM_ID_MAX + 8)

//  A broker seen in the current batch and its running high-water mark.
typedef struct {
    mm_str_t broker;
    uint64_t hwm;
    size_t ack;  //  index in the caller's acks
} s_seen_t;

struct ag_store {
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_options_t *opts_expiry;  //  finding, timeline, sight, warn: the expiry filter
    rocksdb_options_t *opts_ev;      //  ev: the retention filter
    rocksdb_options_t *opts_index;   //  sensor: the index entries' expiry
    rocksdb_options_t *opts_log;     //  finding, timeline: expiry, vector memtable
    rocksdb_compactionfilter_t *filter_expiry, *filter_ev, *filter_index;
    ag_store_retention_t retention;
    rocksdb_column_family_handle_t *cf[CF_COUNT];
    rocksdb_writeoptions_t *wo;
    rocksdb_readoptions_t *ro;
    rocksdb_writebatch_t *batch;
    //  sensor id -> uint64_t, the highest seq in the sensor index: an event above it cannot be
    //  a (sensor, seq) duplicate, so only one at or below it costs a read. One entry per
    //  sensor, loaded from the index on first sight, dropped whole if a write fails.
    zhashx_t *seq_max;
    ag_store_stats_t stats;
    char error[512];
};

static void
s_put_u64 (uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t) (v & 0xff);
        v >>= 8;
    }
}

static uint64_t
s_get_u64 (const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static void s_error (ag_store_t *self, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static void
s_error (ag_store_t *self, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (self->error, sizeof self->error, fmt, args);
    va_end (args);
}

static int
s_rocks_error (ag_store_t *self, const char *what, char *err)
{
    s_error (self, "%s: %s", what, err);
    rocksdb_free (err);
    self->stats.errors++;
    return -1;
}

//  Ends a walk: the iterator's error (if any) recorded, the iterator and its read options
//  (NULL: the store's own) freed. 0, or -1.
static int
s_iter_end (ag_store_t *self, rocksdb_iterator_t *it, rocksdb_readoptions_t *ro, const char *what)
{
    char *err = NULL;
    rocksdb_iter_get_error (it, &err);
    rocksdb_iter_destroy (it);
    if (ro)
        rocksdb_readoptions_destroy (ro);
    return err ? s_rocks_error (self, what, err) : 0;
}

//  u8 len | id | u64 n. Returns the key length.
static size_t
s_key (uint8_t *key, mm_str_t id, uint64_t n)
{
    key[0] = (uint8_t) id.len;
    memcpy (key + 1, id.ptr, id.len);
    s_put_u64 (key + 1 + id.len, n);
    return 1 + id.len + 8;
}

//  Reads an 8-byte value (absent: 0). 0 or -1.
static int
s_get_u64_cf (ag_store_t *self, int cf, const void *key, size_t key_len, uint64_t *v)
{
    char *err = NULL;
    size_t len = 0;
    char *value =
        rocksdb_get_cf (self->db, self->ro, self->cf[cf], (const char *) key, key_len, &len, &err);
    if (err)
        return s_rocks_error (self, "read", err);
    *v = 0;
    if (!value)
        return 0;
    int rc = 0;
    if (len == 8)
        *v = s_get_u64 ((const uint8_t *) value);
    else {
        s_error (self, "corrupt value in %s: %zu bytes", s_cf_names[cf], len);
        self->stats.errors++;
        rc = -1;
    }
    rocksdb_free (value);
    return rc;
}

//  ---------------------------------------------------------------------------------------------
//  Retention by compaction filters. They run on RocksDB's background threads and see only
//  their state (the retention, fixed at open) and the record.

static uint64_t
s_wall_ns (void)
{
    struct timespec t;
    clock_gettime (CLOCK_REALTIME, &t);
    return (uint64_t) t.tv_sec * 1000000000u + (uint64_t) t.tv_nsec;
}

//  Records that start with their expiry.
static unsigned char
s_filter_expiry (void *state, int level, const char *key, size_t klen, const char *val, size_t vlen,
                 char **new_val, size_t *new_vlen, unsigned char *changed)
{
    (void) state, (void) level, (void) key, (void) klen, (void) new_val, (void) new_vlen;
    *changed = 0;
    if (vlen < 8)
        return 0;
    uint64_t expires = s_get_u64 ((const uint8_t *) val);
    return expires != 0 && expires < s_wall_ns ();
}

//  When an event of `kind` at `ts` expires (0: never).
static uint64_t
s_event_expiry (const ag_store_retention_t *r, uint8_t kind, uint64_t ts)
{
    uint32_t days = kind == MM_KIND_FINDING ? r->findings_days : r->events_days;
    if (ts == 0 || days == 0)
        return 0;
    return ts + (uint64_t) days * 86400u * 1000000000u;
}

//  Events by their kind's retention.
static unsigned char
s_filter_ev (void *state, int level, const char *key, size_t klen, const char *val, size_t vlen,
             char **new_val, size_t *new_vlen, unsigned char *changed)
{
    (void) level, (void) key, (void) klen, (void) new_val, (void) new_vlen;
    *changed = 0;
    uint64_t ts;
    uint8_t kind;
    if (mm_event_peek ((const uint8_t *) val, vlen, &ts, &kind) == -1)
        return 0;
    uint64_t expires = s_event_expiry ((const ag_store_retention_t *) state, kind, ts);
    return expires != 0 && expires < s_wall_ns ();
}

//  The expiry at the end of a sensor index entry (0: none, format 1).
static uint64_t
s_index_expiry (const uint8_t *v, size_t vlen)
{
    return vlen >= 1 && vlen == 1u + v[0] + 16u ? s_get_u64 (v + 1 + v[0] + 8) : 0;
}

//  Sensor index entries by the expiry they carry (their event's).
static unsigned char
s_filter_index (void *state, int level, const char *key, size_t klen, const char *val, size_t vlen,
                char **new_val, size_t *new_vlen, unsigned char *changed)
{
    (void) state, (void) level, (void) key, (void) klen, (void) new_val, (void) new_vlen;
    *changed = 0;
    uint64_t expires = s_index_expiry ((const uint8_t *) val, vlen);
    return expires != 0 && expires < s_wall_ns ();
}

//  RocksDB calls a filter's destructor unconditionally; the state is ours (or none).
static void
s_filter_state_free (void *state)
{
    (void) state;
}

static const char *
s_filter_expiry_name (void *state)
{
    (void) state;
    return "mimamori.expiry";
}

static const char *
s_filter_ev_name (void *state)
{
    (void) state;
    return "mimamori.event-retention";
}

static const char *
s_filter_index_name (void *state)
{
    (void) state;
    return "mimamori.index-retention";
}

static ag_store_t *
s_open (const char *path, const ag_store_retention_t *retention, bool read_only, char *err_out,
        size_t err_size)
{
    ag_store_t *self = calloc (1, sizeof *self);
    if (!self) {
        if (err_out && err_size)
            snprintf (err_out, err_size, "out of memory");
        return NULL;
    }
    self->retention = retention
                          ? *retention
                          : (ag_store_retention_t){AG_STORE_FINDINGS_DAYS, AG_STORE_EVENTS_DAYS};
    self->opts = rocksdb_options_create ();
    rocksdb_options_set_create_if_missing (self->opts, 1);
    rocksdb_options_set_create_missing_column_families (self->opts, 1);
    rocksdb_options_set_max_background_jobs (self->opts, 2);
    //  A crash can tear the WAL's tail, never a synced (acknowledged) record.
    rocksdb_options_set_wal_recovery_mode (self->opts, rocksdb_point_in_time_recovery);
    rocksdb_options_set_max_log_file_size (self->opts, 1u << 20);
    rocksdb_options_set_keep_log_file_num (self->opts, 4);
    self->wo = rocksdb_writeoptions_create ();
    rocksdb_writeoptions_set_sync (self->wo, 1);
    self->ro = rocksdb_readoptions_create ();
    self->batch = rocksdb_writebatch_create ();
    //  One writer thread: no concurrent memtable writes, which a vector memtable (below)
    //  cannot take.
    rocksdb_options_set_allow_concurrent_memtable_write (self->opts, 0);
    //  Filters are per column family: copies of the options, each with its filter.
    self->opts_expiry = rocksdb_options_create_copy (self->opts);
    self->opts_ev = rocksdb_options_create_copy (self->opts);
    self->opts_index = rocksdb_options_create_copy (self->opts);
    self->filter_expiry = rocksdb_compactionfilter_create (NULL, s_filter_state_free,
                                                           s_filter_expiry, s_filter_expiry_name);
    self->filter_ev = rocksdb_compactionfilter_create (&self->retention, s_filter_state_free,
                                                       s_filter_ev, s_filter_ev_name);
    rocksdb_options_set_compaction_filter (self->opts_expiry, self->filter_expiry);
    self->filter_index = rocksdb_compactionfilter_create (NULL, s_filter_state_free, s_filter_index,
                                                          s_filter_index_name);
    rocksdb_options_set_compaction_filter (self->opts_ev, self->filter_ev);
    rocksdb_options_set_compaction_filter (self->opts_index, self->filter_index);
    //  The correlation's logs (findings by time, timelines) keep their memtable as a vector
    //  sorted at flush: an insert is an append instead of a skip-list search. They are only
    //  ever read by scans (mimamori query), which sort it once. Events and their index stay
    //  in skip lists: they are read one key at a time (duplicates, tools), and a vector
    //  would sort itself for every such read.
    self->opts_log = rocksdb_options_create_copy (self->opts_expiry);
    rocksdb_options_set_memtable_vector_rep (self->opts_log);
    const rocksdb_options_t *cf_opts[CF_COUNT];
    for (int cf = 0; cf < CF_COUNT; cf++)
        cf_opts[cf] = cf == CF_FINDING || cf == CF_TIMELINE ? self->opts_log
                      : cf >= CF_FINDING                    ? self->opts_expiry
                      : cf == CF_EV                         ? self->opts_ev
                      : cf == CF_SENSOR                     ? self->opts_index
                                                            : self->opts;
    char *err = NULL;
    if (read_only)
        self->db = rocksdb_open_for_read_only_column_families (
            self->opts, path, CF_COUNT, s_cf_names, cf_opts, self->cf, 0, &err);
    else
        self->db = rocksdb_open_column_families (self->opts, path, CF_COUNT, s_cf_names, cf_opts,
                                                 self->cf, &err);
    if (err) {
        s_error (self, "open %s: %s", path, err);
        rocksdb_free (err);
        self->db = NULL;
        goto failed;
    }
    //  Format version: written on creation, checked afterwards.
    uint8_t v[4] = {0, 0, 0, AG_STORE_VERSION};
    size_t len = 0;
    char *value = rocksdb_get_cf (self->db, self->ro, self->cf[CF_DEFAULT], "v", 1, &len, &err);
    if (err) {
        s_rocks_error (self, "read version", err);
        goto failed;
    }
    if (value) {
        bool ok = len == 4 && memcmp (value, v, 4) == 0;
        rocksdb_free (value);
        if (!ok) {
            s_error (self, "%s: unknown store format", path);
            goto failed;
        }
    }
    else if (read_only) {
        s_error (self, "%s: no store here", path);
        goto failed;
    }
    else {
        rocksdb_writebatch_clear (self->batch);
        rocksdb_writebatch_put_cf (self->batch, self->cf[CF_DEFAULT], "v", 1, (const char *) v, 4);
        rocksdb_write (self->db, self->wo, self->batch, &err);
        if (err) {
            s_rocks_error (self, "write version", err);
            goto failed;
        }
    }
    return self;
failed:
    if (err_out && err_size)
        snprintf (err_out, err_size, "%s", self->error);
    ag_store_destroy (&self);
    return NULL;
}

ag_store_t *
ag_store_new (const char *path, char *err, size_t err_size)
{
    return s_open (path, NULL, false, err, err_size);
}

ag_store_t *
ag_store_new_retention (const char *path, const ag_store_retention_t *retention, char *err,
                        size_t err_size)
{
    return s_open (path, retention, false, err, err_size);
}

ag_store_t *
ag_store_open_readonly (const char *path, char *err, size_t err_size)
{
    //  RocksDB would make the directory of a wrong path (for its log) before failing: a reader
    //  must leave no trace, so a path that is not a directory is refused here.
    struct stat st;
    if (stat (path, &st) != 0 || !S_ISDIR (st.st_mode)) {
        snprintf (err, err_size, "%s: no store there (%s)", path,
                  errno ? strerror (errno) : "not a directory");
        return NULL;
    }
    return s_open (path, NULL, true, err, err_size);
}

void
ag_store_destroy (ag_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ag_store_t *self = *self_p;
    if (self->db) {
        for (int cf = 0; cf < CF_COUNT; cf++)
            if (self->cf[cf])
                rocksdb_column_family_handle_destroy (self->cf[cf]);
        rocksdb_close (self->db);
    }
    if (self->opts)
        rocksdb_options_destroy (self->opts);
    if (self->opts_expiry)
        rocksdb_options_destroy (self->opts_expiry);
    if (self->opts_ev)
        rocksdb_options_destroy (self->opts_ev);
    if (self->opts_index)
        rocksdb_options_destroy (self->opts_index);
    if (self->opts_log)
        rocksdb_options_destroy (self->opts_log);
    //  The options do not own their filters.
    if (self->filter_expiry)
        rocksdb_compactionfilter_destroy (self->filter_expiry);
    if (self->filter_ev)
        rocksdb_compactionfilter_destroy (self->filter_ev);
    if (self->filter_index)
        rocksdb_compactionfilter_destroy (self->filter_index);
    if (self->wo)
        rocksdb_writeoptions_destroy (self->wo);
    if (self->ro)
        rocksdb_readoptions_destroy (self->ro);
    if (self->batch)
        rocksdb_writebatch_destroy (self->batch);
    zhashx_destroy (&self->seq_max);
    free (self);
    *self_p = NULL;
}

uint64_t
ag_store_hwm (ag_store_t *self, mm_str_t broker)
{
    if (broker.len == 0 || broker.len > MM_ID_MAX)
        return 0;
    uint64_t v;
    return s_get_u64_cf (self, CF_HWM, broker.ptr, broker.len, &v) == 0 ? v : UINT64_MAX;
}

static void
s_free_item (void **item)
{
    free (*item);
    *item = NULL;
}

//  The highest seq of `sensor` in the index (0: none), from memory or read once. NULL on error.
static uint64_t *
s_seq_max (ag_store_t *self, mm_str_t sensor)
{
    char id[MM_ID_MAX + 1];
    snprintf (id, sizeof id, "%.*s", (int) sensor.len, sensor.ptr);
    if (!self->seq_max) {
        self->seq_max = zhashx_new ();
        if (!self->seq_max)
            return NULL;
        zhashx_set_destructor (self->seq_max, s_free_item);
    }
    uint64_t *max = zhashx_lookup (self->seq_max, id);
    if (max)
        return max;
    uint8_t lower[KEY_MAX], upper[KEY_MAX];
    size_t llen = s_key (lower, sensor, 0), ulen = s_key (upper, sensor, UINT64_MAX);
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create ();
    rocksdb_readoptions_set_iterate_lower_bound (ro, (const char *) lower, llen);
    rocksdb_readoptions_set_iterate_upper_bound (ro, (const char *) upper, ulen);
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf (self->db, ro, self->cf[CF_SENSOR]);
    rocksdb_iter_seek_to_last (it);
    uint64_t v = 0;
    if (rocksdb_iter_valid (it)) {
        size_t klen = 0;
        const uint8_t *k = (const uint8_t *) rocksdb_iter_key (it, &klen);
        if (klen == llen)
            v = s_get_u64 (k + klen - 8);
    }
    char *err = NULL;
    rocksdb_iter_get_error (it, &err);
    rocksdb_iter_destroy (it);
    rocksdb_readoptions_destroy (ro);
    if (err) {
        s_rocks_error (self, "read the sensor index", err);
        return NULL;
    }
    max = malloc (sizeof *max);
    if (!max)
        return NULL;
    *max = v;
    if (zhashx_insert (self->seq_max, id, max) != 0) {
        free (max);
        return NULL;
    }
    return max;
}

static bool
s_item_valid (const ag_store_item_t *it)
{
    return it->broker.len > 0 && it->broker.len <= MM_ID_MAX && it->sensor.len > 0 &&
           it->sensor.len <= MM_ID_MAX && it->index > 0 && it->seq > 0 && it->len > 0 && it->data;
}

int
ag_store_put_events (ag_store_t *self, const ag_store_item_t *items, size_t n, ag_store_ack_t *acks,
                     size_t acks_max, size_t *n_acks)
{
    *n_acks = 0;
    //  Brokers are few (one per region): a linear table of those seen in this batch.
    s_seen_t *seen = calloc (acks_max ? acks_max : 1, sizeof *seen);
    if (!seen) {
        s_error (self, "out of memory");
        return -1;
    }
    size_t n_seen = 0;
    ag_store_stats_t delta = {0};
    rocksdb_writebatch_clear (self->batch);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        const ag_store_item_t *it = &items[i];
        if (!s_item_valid (it)) {
            delta.invalid++;
            continue;
        }
        s_seen_t *b = NULL;
        for (size_t j = 0; j < n_seen && !b; j++)
            if (seen[j].broker.len == it->broker.len &&
                memcmp (seen[j].broker.ptr, it->broker.ptr, it->broker.len) == 0)
                b = &seen[j];
        if (!b) {
            if (n_seen == acks_max) {
                s_error (self, "more brokers in the batch than acks_max (%zu)", acks_max);
                rc = -1;
                goto done;
            }
            b = &seen[n_seen];
            b->broker = it->broker;
            b->ack = n_seen++;
            if (s_get_u64_cf (self, CF_HWM, it->broker.ptr, it->broker.len, &b->hwm) == -1) {
                rc = -1;
                goto done;
            }
            acks[b->ack] = (ag_store_ack_t){.broker = it->broker, .hwm = b->hwm};
        }
        ag_store_ack_t *a = &acks[b->ack];
        if (it->index <= b->hwm) {
            a->duplicates++;
            continue;
        }
        if (it->index > b->hwm + 1) {
            a->out_of_order++;
            continue;
        }
        uint8_t key[KEY_MAX], skey[KEY_MAX];
        size_t klen = s_key (key, it->broker, it->index);
        size_t sklen = s_key (skey, it->sensor, it->seq);
        //  The broker dedups by (sensor, seq); a second copy here means it failed to. Kept
        //  (the event log is by broker index) and counted, the index entry left to the first.
        //  Above the sensor's highest seq it cannot be a copy: no read (the usual case).
        uint64_t *max = s_seq_max (self, it->sensor);
        if (!max) {
            rc = -1;
            goto done;
        }
        char *err = NULL, *prev = NULL;
        size_t vlen = 0;
        if (it->seq <= *max)
            prev = rocksdb_get_cf (self->db, self->ro, self->cf[CF_SENSOR], (const char *) skey,
                                   sklen, &vlen, &err);
        else
            *max = it->seq;
        if (err) {
            rc = s_rocks_error (self, "read", err);
            goto done;
        }
        if (prev) {
            rocksdb_free (prev);
            delta.seq_duplicates++;
        }
        else {
            //  u8 len | broker | u64 index | u64 expiry: the filter drops it with its event.
            uint8_t sval[KEY_MAX + 8];
            memcpy (sval, key, klen);
            s_put_u64 (sval + klen, s_event_expiry (&self->retention, it->kind, it->ts));
            rocksdb_writebatch_put_cf (self->batch, self->cf[CF_SENSOR], (const char *) skey, sklen,
                                       (const char *) sval, klen + 8);
        }
        rocksdb_writebatch_put_cf (self->batch, self->cf[CF_EV], (const char *) key, klen,
                                   (const char *) it->data, it->len);
        b->hwm = it->index;
        a->hwm = it->index;
        a->stored++;
    }
    for (size_t j = 0; j < n_seen; j++) {
        const ag_store_ack_t *a = &acks[seen[j].ack];
        delta.events += a->stored;
        delta.duplicates += a->duplicates;
        delta.out_of_order += a->out_of_order;
        if (a->stored) {
            uint8_t v[8];
            s_put_u64 (v, seen[j].hwm);
            rocksdb_writebatch_put_cf (self->batch, self->cf[CF_HWM], seen[j].broker.ptr,
                                       seen[j].broker.len, (const char *) v, 8);
        }
    }
    if (delta.events) {
        char *err = NULL;
        rocksdb_write (self->db, self->wo, self->batch, &err);
        if (err) {
            rc = s_rocks_error (self, "write batch", err);
            goto done;
        }
        self->stats.batches++;
    }
    self->stats.events += delta.events;
    self->stats.duplicates += delta.duplicates;
    self->stats.out_of_order += delta.out_of_order;
    self->stats.seq_duplicates += delta.seq_duplicates;
    self->stats.invalid += delta.invalid;
    *n_acks = n_seen;
done:
    if (rc == -1) {
        *n_acks = 0;
        //  The maxima may have moved for events that were not written: read them again.
        if (self->seq_max)
            zhashx_purge (self->seq_max);
    }
    rocksdb_writebatch_clear (self->batch);
    free (seen);
    return rc;
}

int64_t
ag_store_each (ag_store_t *self, ag_store_each_fn *fn, void *arg)
{
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf (self->db, self->ro, self->cf[CF_SENSOR]);
    int64_t count = 0;
    int rc = 0;
    for (rocksdb_iter_seek_to_first (it); rocksdb_iter_valid (it) && rc == 0;
         rocksdb_iter_next (it)) {
        size_t klen, vlen;
        const uint8_t *k = (const uint8_t *) rocksdb_iter_key (it, &klen);
        const uint8_t *v = (const uint8_t *) rocksdb_iter_value (it, &vlen);
        //  Index entries of format 1 have no expiry; later ones end with it.
        uint64_t expires = s_index_expiry (v, vlen);
        if (vlen >= 1 && vlen == 1u + v[0] + 16u)
            vlen -= 8;
        if (klen < 10 || klen != 1u + k[0] + 8u || vlen < 10 || vlen != 1u + v[0] + 8u) {
            s_error (self, "corrupt key in the sensor index");
            self->stats.errors++;
            count = -1;
            break;
        }
        mm_str_t sensor = {.ptr = (const char *) k + 1, .len = k[0]};
        mm_str_t broker = {.ptr = (const char *) v + 1, .len = v[0]};
        uint64_t seq = s_get_u64 (k + 1 + k[0]);
        uint64_t index = s_get_u64 (v + 1 + v[0]);
        char *err = NULL;
        size_t dlen = 0;
        char *data = rocksdb_get_cf (self->db, self->ro, self->cf[CF_EV], (const char *) v, vlen,
                                     &dlen, &err);
        if (err) {
            s_rocks_error (self, "read event", err);
            count = -1;
            break;
        }
        if (!data && expires && expires < s_wall_ns ())
            continue;  //  expired, its event compacted away before its index entry
        count++;
        rc = fn (arg, sensor, seq, broker, index, (const uint8_t *) data, data ? dlen : 0);
        if (data)
            rocksdb_free (data);
    }
    if (count >= 0) {
        char *err = NULL;
        rocksdb_iter_get_error (it, &err);
        if (err)
            count = s_rocks_error (self, "iterate", err);
    }
    rocksdb_iter_destroy (it);
    return count;
}

void
ag_store_stats (const ag_store_t *self, ag_store_stats_t *stats)
{
    *stats = self->stats;
}

const char *
ag_store_error (const ag_store_t *self)
{
    return self->error;
}

//  --------------------------------------------------------------------------------------------
//  Down queues

static size_t
s_down_head_key (uint8_t *key, mm_str_t broker)
{
    key[0] = KEY_DOWN_HEAD;
    key[1] = (uint8_t) broker.len;
    memcpy (key + 2, broker.ptr, broker.len);
    return 2 + broker.len;
}

//  Reads a queue head. 1 (found), 0 (no such broker), -1.
static int
s_down_head (ag_store_t *self, mm_str_t broker, uint64_t *last, uint64_t *acked)
{
    uint8_t key[2 + MM_ID_MAX];
    size_t klen = s_down_head_key (key, broker);
    char *err = NULL;
    size_t len = 0;
    char *value = rocksdb_get_cf (self->db, self->ro, self->cf[CF_DEFAULT], (const char *) key,
                                  klen, &len, &err);
    if (err)
        return s_rocks_error (self, "read down queue", err);
    *last = *acked = 0;
    if (!value)
        return 0;
    int rc = 1;
    if (len == 16) {
        *last = s_get_u64 ((const uint8_t *) value);
        *acked = s_get_u64 ((const uint8_t *) value + 8);
    }
    else {
        s_error (self, "corrupt down queue head (%zu bytes)", len);
        self->stats.errors++;
        rc = -1;
    }
    rocksdb_free (value);
    return rc;
}

static void
s_down_head_put (ag_store_t *self, mm_str_t broker, uint64_t last, uint64_t acked)
{
    uint8_t key[2 + MM_ID_MAX], v[16];
    size_t klen = s_down_head_key (key, broker);
    s_put_u64 (v, last);
    s_put_u64 (v + 8, acked);
    rocksdb_writebatch_put_cf (self->batch, self->cf[CF_DEFAULT], (const char *) key, klen,
                               (const char *) v, 16);
}

static int
s_write_batch (ag_store_t *self, const char *what)
{
    char *err = NULL;
    rocksdb_write (self->db, self->wo, self->batch, &err);
    rocksdb_writebatch_clear (self->batch);
    return err ? s_rocks_error (self, what, err) : 0;
}

static bool
s_broker_ok (mm_str_t broker)
{
    return broker.len > 0 && broker.len <= MM_ID_MAX;
}

int
ag_store_down_register (ag_store_t *self, mm_str_t broker)
{
    if (!s_broker_ok (broker)) {
        s_error (self, "down: invalid broker id");
        return -1;
    }
    uint64_t last, acked;
    int found = s_down_head (self, broker, &last, &acked);
    if (found != 0)
        return found == 1 ? 0 : -1;
    rocksdb_writebatch_clear (self->batch);
    s_down_head_put (self, broker, 0, 0);
    return s_write_batch (self, "register broker") == 0 ? 1 : -1;
}

//  Adds `n` messages to every registered broker's queue in self->batch (not written). The
//  number of brokers, or -1.
static int
s_down_queue_batch (ag_store_t *self, const ag_store_msg_t *msgs, size_t n)
{
    for (size_t m = 0; m < n; m++)
        if (!msgs[m].data || msgs[m].len == 0 || msgs[m].len > MM_MSG_MAX) {
            s_error (self, "down: invalid message size %zu", msgs[m].len);
            return -1;
        }
    const char lower[1] = {KEY_DOWN_HEAD}, upper[1] = {KEY_DOWN_HEAD + 1};
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create ();
    rocksdb_readoptions_set_iterate_lower_bound (ro, lower, 1);
    rocksdb_readoptions_set_iterate_upper_bound (ro, upper, 1);
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf (self->db, ro, self->cf[CF_DEFAULT]);
    int queued = 0, rc = 0;
    for (rocksdb_iter_seek (it, lower, 1); rocksdb_iter_valid (it); rocksdb_iter_next (it)) {
        size_t klen, vlen;
        const uint8_t *k = (const uint8_t *) rocksdb_iter_key (it, &klen);
        const uint8_t *v = (const uint8_t *) rocksdb_iter_value (it, &vlen);
        if (klen < 3 || klen != 2u + k[1] || vlen != 16) {
            s_error (self, "corrupt down queue head");
            self->stats.errors++;
            rc = -1;
            break;
        }
        mm_str_t broker = {.ptr = (const char *) k + 2, .len = k[1]};
        uint64_t last = s_get_u64 (v), acked = s_get_u64 (v + 8);
        for (size_t m = 0; m < n; m++) {
            uint8_t key[KEY_MAX];
            size_t mlen = s_key (key, broker, ++last);
            rocksdb_writebatch_put_cf (self->batch, self->cf[CF_DOWN], (const char *) key, mlen,
                                       (const char *) msgs[m].data, msgs[m].len);
        }
        s_down_head_put (self, broker, last, acked);
        queued++;
    }
    if (s_iter_end (self, it, ro, "read down queues") == -1)
        rc = -1;
    return rc == 0 ? queued : -1;
}

int
ag_store_down_queue (ag_store_t *self, const uint8_t *data, size_t len)
{
    ag_store_msg_t msg = {data, len};
    return ag_store_write (self, NULL, 0, &msg, 1);
}

int
ag_store_down_state (ag_store_t *self, mm_str_t broker, uint64_t *last, uint64_t *acked)
{
    if (!s_broker_ok (broker))
        return -1;
    return s_down_head (self, broker, last, acked) == 1 ? 0 : -1;
}

int
ag_store_down_read (ag_store_t *self, mm_str_t broker, uint64_t from, uint32_t max,
                    ag_store_down_fn *fn, void *arg)
{
    if (!s_broker_ok (broker) || from == 0)
        return -1;
    uint8_t lower[KEY_MAX], upper[KEY_MAX];
    size_t llen = s_key (lower, broker, from);
    size_t ulen = s_key (upper, broker, UINT64_MAX);
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create ();
    rocksdb_readoptions_set_iterate_lower_bound (ro, (const char *) lower, llen);
    rocksdb_readoptions_set_iterate_upper_bound (ro, (const char *) upper, ulen);
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf (self->db, ro, self->cf[CF_DOWN]);
    int visited = 0;
    for (rocksdb_iter_seek (it, (const char *) lower, llen);
         rocksdb_iter_valid (it) && (uint32_t) visited < max; rocksdb_iter_next (it)) {
        size_t klen, vlen;
        const uint8_t *k = (const uint8_t *) rocksdb_iter_key (it, &klen);
        const char *v = rocksdb_iter_value (it, &vlen);
        if (klen != llen)
            break;
        visited++;
        if (fn (arg, s_get_u64 (k + klen - 8), (const uint8_t *) v, vlen) != 0)
            break;
    }
    if (s_iter_end (self, it, ro, "read down queue") == -1)
        return -1;
    return visited;
}

int
ag_store_down_ack (ag_store_t *self, mm_str_t broker, uint64_t upto)
{
    uint64_t last, acked;
    if (!s_broker_ok (broker) || s_down_head (self, broker, &last, &acked) != 1)
        return -1;
    if (upto <= acked)
        return 0;
    if (upto > last) {
        s_error (self, "down: ack %llu beyond the last index %llu", (unsigned long long) upto,
                 (unsigned long long) last);
        return -1;
    }
    uint8_t lower[KEY_MAX], upper[KEY_MAX];
    size_t llen = s_key (lower, broker, acked + 1);
    size_t ulen = s_key (upper, broker, upto + 1);
    rocksdb_writebatch_clear (self->batch);
    rocksdb_writebatch_delete_range_cf (self->batch, self->cf[CF_DOWN], (const char *) lower, llen,
                                        (const char *) upper, ulen);
    s_down_head_put (self, broker, last, upto);
    return s_write_batch (self, "acknowledge down messages");
}

//  --------------------------------------------------------------------------------------------
//  Correlation records

static int
s_kv_cf (uint8_t kv)
{
    switch (kv) {
    case AG_KV_FINDING: return CF_FINDING;
    case AG_KV_TIMELINE: return CF_TIMELINE;
    case AG_KV_SIGHT: return CF_SIGHT;
    case AG_KV_WARN: return CF_WARN;
    case AG_KV_META: return CF_DEFAULT;
    default: return -1;
    }
}

//  The stored key: meta records live in the default family behind their own prefix, so no
//  key of theirs can clash with the version or a down queue head.
static size_t
s_kv_key (uint8_t kv, const void *key, size_t klen, uint8_t *out)
{
    if (kv != AG_KV_META) {
        memcpy (out, key, klen);
        return klen;
    }
    out[0] = KEY_META;
    memcpy (out + 1, key, klen);
    return klen + 1;
}

int
ag_store_write (ag_store_t *self, const ag_store_put_t *puts, size_t n_puts,
                const ag_store_msg_t *down, size_t n_down)
{
    rocksdb_writebatch_clear (self->batch);
    int rc = 0;
    for (size_t i = 0; i < n_puts && rc == 0; i++) {
        const ag_store_put_t *p = &puts[i];
        int cf = s_kv_cf (p->kv);
        if (cf < 0 || !p->key || p->klen == 0 || p->klen > AG_STORE_KEY_MAX) {
            s_error (self, "invalid record (kind %u, key of %zu bytes)", p->kv, p->klen);
            rc = -1;
            break;
        }
        uint8_t key[AG_STORE_KEY_MAX + 1];
        size_t klen = s_kv_key (p->kv, p->key, p->klen, key);
        if (!p->val) {
            rocksdb_writebatch_delete_cf (self->batch, self->cf[cf], (const char *) key, klen);
            continue;
        }
        //  The expiry and the value as two parts of one value: no copy to join them.
        uint8_t exp[8];
        s_put_u64 (exp, p->expires);
        const char *kparts[1] = {(const char *) key}, *vparts[2] = {(const char *) exp, p->val};
        size_t ksizes[1] = {klen}, vsizes[2] = {8, p->vlen};
        bool meta = p->kv == AG_KV_META;
        rocksdb_writebatch_putv_cf (self->batch, self->cf[cf], 1, kparts, ksizes, meta ? 1 : 2,
                                    meta ? vparts + 1 : vparts, meta ? vsizes + 1 : vsizes);
    }
    int queued = 0;
    if (rc == 0 && n_down > 0)
        queued = s_down_queue_batch (self, down, n_down);
    if (rc == 0 && queued >= 0 && rocksdb_writebatch_count (self->batch) > 0)
        rc = s_write_batch (self, "write correlation records");
    rocksdb_writebatch_clear (self->batch);
    return rc == 0 && queued >= 0 ? queued : -1;
}

int
ag_store_get (ag_store_t *self, uint8_t kv, const void *key, size_t klen, mm_buf_t *out)
{
    int cf = s_kv_cf (kv);
    if (cf < 0 || !key || klen == 0 || klen > AG_STORE_KEY_MAX)
        return -1;
    uint8_t k[AG_STORE_KEY_MAX + 1];
    size_t kl = s_kv_key (kv, key, klen, k);
    char *err = NULL;
    size_t len = 0;
    char *value =
        rocksdb_get_cf (self->db, self->ro, self->cf[cf], (const char *) k, kl, &len, &err);
    if (err)
        return s_rocks_error (self, "read record", err);
    if (!value)
        return 0;
    size_t skip = kv == AG_KV_META ? 0 : 8;
    int rc = 1;
    if (len < skip)
        rc = -1;
    else if (skip && s_get_u64 ((const uint8_t *) value) != 0 &&
             s_get_u64 ((const uint8_t *) value) < s_wall_ns ())
        rc = 0;  //  expired, not compacted away yet
    else if (mm_buf_append (out, value + skip, len - skip) == -1)
        rc = -1;
    rocksdb_free (value);
    return rc;
}

int64_t
ag_store_scan (ag_store_t *self, uint8_t kv, const void *from, size_t flen, const void *to,
               size_t tlen, ag_store_kv_fn *fn, void *arg)
{
    int cf = s_kv_cf (kv);
    if (cf < 0 || flen > AG_STORE_KEY_MAX || tlen > AG_STORE_KEY_MAX)
        return -1;
    uint8_t lo[AG_STORE_KEY_MAX + 1], hi[AG_STORE_KEY_MAX + 2];
    size_t lolen = kv == AG_KV_META || flen ? s_kv_key (kv, from ? from : "", flen, lo) : 0;
    size_t hilen = 0;
    if (to && tlen)
        hilen = s_kv_key (kv, to, tlen, hi);
    else if (kv == AG_KV_META) {
        hi[0] = KEY_META + 1;
        hilen = 1;
    }
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create ();
    if (hilen)
        rocksdb_readoptions_set_iterate_upper_bound (ro, (const char *) hi, hilen);
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf (self->db, ro, self->cf[cf]);
    if (lolen)
        rocksdb_iter_seek (it, (const char *) lo, lolen);
    else
        rocksdb_iter_seek_to_first (it);
    uint64_t now = s_wall_ns ();
    size_t skip = kv == AG_KV_META ? 0 : 8, kskip = kv == AG_KV_META ? 1 : 0;
    int64_t count = 0;
    for (; rocksdb_iter_valid (it); rocksdb_iter_next (it)) {
        size_t klen, vlen;
        const uint8_t *k = (const uint8_t *) rocksdb_iter_key (it, &klen);
        const uint8_t *v = (const uint8_t *) rocksdb_iter_value (it, &vlen);
        if (vlen < skip || klen <= kskip)
            continue;
        uint64_t expires = skip ? s_get_u64 (v) : 0;
        if (expires && expires < now)
            continue;
        count++;
        if (fn (arg, k + kskip, klen - kskip, v + skip, vlen - skip, expires) != 0)
            break;
    }
    if (s_iter_end (self, it, ro, "scan records") == -1)
        return -1;
    return count;
}

int64_t
ag_store_events_after (ag_store_t *self, mm_str_t broker, uint64_t after, ag_store_event_fn *fn,
                       void *arg)
{
    if (!s_broker_ok (broker) || after == UINT64_MAX)
        return -1;
    uint8_t lower[KEY_MAX], upper[KEY_MAX];
    size_t llen = s_key (lower, broker, after + 1);
    size_t ulen = s_key (upper, broker, UINT64_MAX);
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create ();
    rocksdb_readoptions_set_iterate_upper_bound (ro, (const char *) upper, ulen);
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf (self->db, ro, self->cf[CF_EV]);
    int64_t count = 0;
    for (rocksdb_iter_seek (it, (const char *) lower, llen); rocksdb_iter_valid (it);
         rocksdb_iter_next (it)) {
        size_t klen, vlen;
        const uint8_t *k = (const uint8_t *) rocksdb_iter_key (it, &klen);
        const uint8_t *v = (const uint8_t *) rocksdb_iter_value (it, &vlen);
        if (klen != 1u + broker.len + 8u)
            continue;
        count++;
        if (fn (arg, s_get_u64 (k + 1 + broker.len), v, vlen) != 0)
            break;
    }
    if (s_iter_end (self, it, ro, "read events") == -1)
        return -1;
    return count;
}

int
ag_store_event_get (ag_store_t *self, mm_str_t broker, uint64_t index, mm_buf_t *out)
{
    if (!s_broker_ok (broker))
        return -1;
    uint8_t key[KEY_MAX];
    size_t klen = s_key (key, broker, index);
    char *err = NULL;
    size_t len = 0;
    char *value =
        rocksdb_get_cf (self->db, self->ro, self->cf[CF_EV], (const char *) key, klen, &len, &err);
    if (err)
        return s_rocks_error (self, "read event", err);
    if (!value)
        return 0;
    int rc = mm_buf_append (out, value, len) == 0 ? 1 : -1;
    rocksdb_free (value);
    return rc;
}

int
ag_store_brokers (ag_store_t *self, ag_store_broker_fn *fn, void *arg)
{
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf (self->db, self->ro, self->cf[CF_HWM]);
    int n = 0;
    for (rocksdb_iter_seek_to_first (it); rocksdb_iter_valid (it); rocksdb_iter_next (it)) {
        size_t klen, vlen;
        const char *k = rocksdb_iter_key (it, &klen);
        const uint8_t *v = (const uint8_t *) rocksdb_iter_value (it, &vlen);
        if (vlen != 8 || klen == 0 || klen > MM_ID_MAX)
            continue;
        n++;
        if (fn (arg, (mm_str_t){.ptr = k, .len = (uint32_t) klen}, s_get_u64 (v)) != 0)
            break;
    }
    if (s_iter_end (self, it, NULL, "read brokers") == -1)
        return -1;
    return n;
}

int
ag_store_compact (ag_store_t *self)
{
    int cfs[] = {CF_EV, CF_SENSOR, CF_FINDING, CF_TIMELINE, CF_SIGHT, CF_WARN};
    for (size_t i = 0; i < sizeof cfs / sizeof cfs[0]; i++)
        rocksdb_compact_range_cf (self->db, self->cf[cfs[i]], NULL, 0, NULL, 0);
    return 0;
}
