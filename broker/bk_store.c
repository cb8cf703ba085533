/*  bk_store: the broker's durable store over RocksDB (see bk_store.h for the layout and the
    guarantees). Every write that an acknowledgement depends on is one WriteBatch written with
    the WAL and sync=true, so what we ACK is on disk whatever happens after.
    Owner: the broker's store actor. */
#include "bk_store.h"

#include <inttypes.h>
#include <rocksdb/c.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BK_STORE_VERSION 1u

enum { CF_DEFAULT, CF_FWD, CF_HWM, CF_HELD, CF_COUNT };
static const char *const s_cf_names[CF_COUNT] = {"default", "fwd", "hwm", "held"};

//  Keys in the default column family.
#define KEY_VERSION "v"
#define KEY_CURSOR "c"
#define KEY_DOWN_HWM "d"
#define S_DELETE_EVERY_MS 1000        //  acknowledged events are deleted this often,
#define S_DELETE_EVERY_EVENTS 20000u  //  or after this many more were acknowledged
#define KEY_HELD_HEAD 'h'             //  'h' | u8 len | sensor -> u64 next id | u64 count

//  Largest sensor key prefix: u8 len + MM_ID_MAX bytes; plus a u64 makes a held key.
#define PREFIX_MAX (1 + MM_ID_MAX)
#define HELD_KEY_MAX (PREFIX_MAX + 8)

struct bk_store {
    rocksdb_t *db;
    rocksdb_options_t *db_opts;
    rocksdb_options_t *cf_opts[CF_COUNT];
    rocksdb_column_family_handle_t *cf[CF_COUNT];
    rocksdb_cache_t *cache;
    rocksdb_writeoptions_t *wo;         //  sync = true, WAL on: every write we make is acknowledged
    rocksdb_writeoptions_t *wo_nosync;  //  deletes of acknowledged events (redone if lost)
    rocksdb_readoptions_t *ro;
    rocksdb_writebatch_t *batch;  //  reused by every write (cleared first)
    bk_store_config_t config;
    uint64_t last_index;    //  last forward log index assigned
    uint64_t cursor;        //  last forward index acknowledged
    uint64_t down_hwm;      //  last aggregator down index taken
    uint64_t deleted_upto;  //  the acknowledged range is tombstoned up to here (<= cursor)
    int64_t delete_ms;      //  when the last tombstone was written (monotonic ms)
    uint64_t held;          //  held messages, all sensors
    bool full;
    uint64_t size;  //  last measured
    bk_store_stats_t stats;
    //  Per-batch table of sensors (open addressing, -1 empty), grown as batches need.
    int32_t *slots;
    size_t slots_cap;
    char error[512];
};

//  --------------------------------------------------------------------------------------------
//  Small helpers

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

static void s_error (bk_store_t *self, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static void
s_error (bk_store_t *self, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (self->error, sizeof self->error, fmt, args);
    va_end (args);
}

//  Records a RocksDB error (and frees RocksDB's string): returns -1 so callers can return it.
static int
s_rocks_error (bk_store_t *self, const char *what, char *err)
{
    s_error (self, "%s: %s", what, err ? err : "unknown RocksDB error");
    rocksdb_free (err);
    self->stats.errors++;
    return -1;
}

static bool
s_sensor_ok (mm_str_t sensor)
{
    return sensor.ptr && sensor.len > 0 && sensor.len <= MM_ID_MAX;
}

//  u8 len | sensor: the per-sensor key prefix (the length keeps "ab" apart from "abc").
static size_t
s_prefix (uint8_t *key, mm_str_t sensor)
{
    key[0] = (uint8_t) sensor.len;
    memcpy (key + 1, sensor.ptr, sensor.len);
    return 1 + sensor.len;
}

static size_t
s_held_key (uint8_t *key, mm_str_t sensor, uint64_t id)
{
    size_t len = s_prefix (key, sensor);
    s_put_u64 (key + len, id);
    return len + 8;
}

static size_t
s_held_head_key (uint8_t *key, mm_str_t sensor)
{
    key[0] = KEY_HELD_HEAD;
    return 1 + s_prefix (key + 1, sensor);
}

//  Reads an 8-byte (or 16-byte, for `b`) big-endian value; absent gives zeros. 0 or -1.
static int
s_get_u64s (bk_store_t *self, int cf, const void *key, size_t key_len, uint64_t *a, uint64_t *b)
{
    char *err = NULL;
    size_t len = 0;
    char *value =
        rocksdb_get_cf (self->db, self->ro, self->cf[cf], (const char *) key, key_len, &len, &err);
    if (err)
        return s_rocks_error (self, "read", err);
    *a = 0;
    if (b)
        *b = 0;
    if (!value)
        return 0;
    size_t want = b ? 16 : 8;
    if (len != want) {
        rocksdb_free (value);
        s_error (self, "corrupt value in column family %s: %zu bytes, expected %zu", s_cf_names[cf],
                 len, want);
        self->stats.errors++;
        return -1;
    }
    *a = s_get_u64 ((const uint8_t *) value);
    if (b)
        *b = s_get_u64 ((const uint8_t *) value + 8);
    rocksdb_free (value);
    return 0;
}

static int
s_write (bk_store_t *self, const char *what)
{
    char *err = NULL;
    rocksdb_write (self->db, self->wo, self->batch, &err);
    if (err)
        return s_rocks_error (self, what, err);
    return 0;
}

//  --------------------------------------------------------------------------------------------
//  Options. Memory is bounded on purpose: the broker's reads are the tail of the forward log
//  (still in the memtables, or just flushed) and point lookups of a few thousand HWMs, so a
//  large block cache buys nothing; the memtables are what absorbs ingest. Worst case is about
//  cache + 3 x write_buffer (fwd) + 2 x 4 MB (hwm) + 2 x 2 MB (held, default), with index and
//  filter blocks charged to the cache rather than growing with the number of files.

static rocksdb_options_t *
s_cf_options (bk_store_t *self, int cf)
{
    rocksdb_options_t *opts = rocksdb_options_create ();
    rocksdb_block_based_table_options_t *table = rocksdb_block_based_options_create ();
    rocksdb_block_based_options_set_block_cache (table, self->cache);
    rocksdb_block_based_options_set_cache_index_and_filter_blocks (table, 1);
    rocksdb_block_based_options_set_pin_l0_filter_and_index_blocks_in_cache (table, 1);
    rocksdb_options_set_level_compaction_dynamic_level_bytes (opts, 1);
    switch (cf) {
    case CF_FWD:
        //  The bulk of the data: sequential keys, read by iteration (a bloom filter would not
        //  help), LZ4 because MessagePack events with repeated strings compress cheaply.
        rocksdb_options_set_write_buffer_size (opts, self->config.write_buffer_bytes);
        rocksdb_options_set_max_write_buffer_number (opts, 3);
        rocksdb_options_set_compression (opts, rocksdb_lz4_compression);
        break;
    case CF_HWM:
        //  One small entry per sensor, rewritten by every batch: point lookups, hence a bloom.
        rocksdb_block_based_options_set_filter_policy (table,
                                                       rocksdb_filterpolicy_create_bloom (10));
        rocksdb_options_set_write_buffer_size (opts, 4u << 20);
        rocksdb_options_set_max_write_buffer_number (opts, 2);
        rocksdb_options_set_compression (opts, rocksdb_no_compression);
        break;
    default:
        //  held and default: small and rarely written.
        rocksdb_options_set_write_buffer_size (opts, 2u << 20);
        rocksdb_options_set_max_write_buffer_number (opts, 2);
        rocksdb_options_set_compression (opts, rocksdb_no_compression);
        break;
    }
    rocksdb_options_set_block_based_table_factory (opts, table);
    rocksdb_block_based_options_destroy (table);
    return opts;
}

static void
s_db_options (bk_store_t *self)
{
    rocksdb_options_t *opts = rocksdb_options_create ();
    rocksdb_options_set_create_if_missing (opts, 1);
    rocksdb_options_set_create_missing_column_families (opts, 1);
    //  Two background jobs: the target machines have two cores and ingest must keep one.
    rocksdb_options_set_max_background_jobs (opts, 2);
    //  A crash can tear the WAL's tail, never an acknowledged (synced) record: recover up to
    //  the first damaged record, which is exactly what was durable.
    rocksdb_options_set_wal_recovery_mode (opts, rocksdb_point_in_time_recovery);
    //  The small column families (held, default) are written rarely; without this cap their
    //  unflushed entries would keep every WAL file alive. It also bounds the WAL on disk.
    rocksdb_options_set_max_total_wal_size (opts, 4 * (uint64_t) self->config.write_buffer_bytes);
    //  Bounds the file descriptors and table readers; index blocks live in the cache anyway.
    rocksdb_options_set_max_open_files (opts, 256);
    //  RocksDB's own LOG: bounded (a few MB) but kept, it is what explains a stall.
    rocksdb_options_set_max_log_file_size (opts, 1u << 20);
    rocksdb_options_set_keep_log_file_num (opts, 4);
    self->db_opts = opts;
}

//  --------------------------------------------------------------------------------------------
//  Open and close

void
bk_store_config_defaults (bk_store_config_t *config)
{
    config->max_bytes = BK_STORE_MAX_BYTES_DEFAULT;
    config->cache_bytes = BK_STORE_CACHE_DEFAULT;
    config->write_buffer_bytes = BK_STORE_WRITE_BUFFER_DEFAULT;
    config->held_max = BK_STORE_HELD_MAX_DEFAULT;
}

//  Reads the format version (writing it into a new store), the cursor, the last log index
//  and the number of held messages. 0 or -1.
//  Read options for the forward log above the cursor (`lower` = cursor + 1). Range tombstones
//  are ignored: every one covers [0, cursor + 1) at most, all below the lower bound, so the
//  result is the same, without RocksDB fragmenting them for each new iterator.
static rocksdb_readoptions_t *
s_forward_readoptions (const uint8_t lower[8])
{
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create ();
    rocksdb_readoptions_set_iterate_lower_bound (ro, (const char *) lower, 8);
    rocksdb_readoptions_set_ignore_range_deletions (ro, 1);
    return ro;
}

static int
s_load (bk_store_t *self)
{
    char *err = NULL;
    size_t len = 0;
    char *value =
        rocksdb_get_cf (self->db, self->ro, self->cf[CF_DEFAULT], KEY_VERSION, 1, &len, &err);
    if (err)
        return s_rocks_error (self, "read version", err);
    if (value) {
        uint32_t version = 0;
        if (len == 4)
            version = (uint32_t) ((uint8_t) value[0]) << 24 |
                      (uint32_t) ((uint8_t) value[1]) << 16 | (uint32_t) ((uint8_t) value[2]) << 8 |
                      (uint32_t) ((uint8_t) value[3]);
        rocksdb_free (value);
        if (version != BK_STORE_VERSION) {
            s_error (self, "store format version %u is not %u (a newer or foreign database?)",
                     version, BK_STORE_VERSION);
            return -1;
        }
    }
    else {
        const char v[4] = {0, 0, 0, (char) BK_STORE_VERSION};
        rocksdb_writebatch_clear (self->batch);
        rocksdb_writebatch_put_cf (self->batch, self->cf[CF_DEFAULT], KEY_VERSION, 1, v, 4);
        if (s_write (self, "write version") != 0)
            return -1;
    }
    if (s_get_u64s (self, CF_DEFAULT, KEY_CURSOR, 1, &self->cursor, NULL) != 0)
        return -1;
    if (s_get_u64s (self, CF_DEFAULT, KEY_DOWN_HWM, 1, &self->down_hwm, NULL) != 0)
        return -1;

    //  The last index is the last key of the forward log, or the cursor when the aggregator
    //  has acknowledged (and we deleted) everything. The lower bound keeps SeekToLast from
    //  walking back through deleted keys not yet compacted away.
    uint8_t lower[8];
    s_put_u64 (lower, self->cursor + 1);
    rocksdb_readoptions_t *ro = s_forward_readoptions (lower);
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf (self->db, ro, self->cf[CF_FWD]);
    rocksdb_iter_seek_to_last (it);
    self->last_index = self->cursor;
    int rc = 0;
    if (rocksdb_iter_valid (it)) {
        size_t klen = 0;
        const char *key = rocksdb_iter_key (it, &klen);
        if (klen != 8) {
            s_error (self, "corrupt forward log key (%zu bytes)", klen);
            rc = -1;
        }
        else
            self->last_index = s_get_u64 ((const uint8_t *) key);
    }
    rocksdb_iter_get_error (it, &err);
    rocksdb_iter_destroy (it);
    rocksdb_readoptions_destroy (ro);
    if (err)
        return s_rocks_error (self, "read forward log", err);
    if (rc != 0)
        return rc;

    //  Held messages: one head per sensor that ever had any, so this is O(sensors).
    const char hlow[1] = {KEY_HELD_HEAD}, hhigh[1] = {KEY_HELD_HEAD + 1};
    ro = rocksdb_readoptions_create ();
    rocksdb_readoptions_set_iterate_lower_bound (ro, hlow, 1);
    rocksdb_readoptions_set_iterate_upper_bound (ro, hhigh, 1);
    it = rocksdb_create_iterator_cf (self->db, ro, self->cf[CF_DEFAULT]);
    self->held = 0;
    for (rocksdb_iter_seek (it, hlow, 1); rocksdb_iter_valid (it); rocksdb_iter_next (it)) {
        size_t vlen = 0;
        const char *v = rocksdb_iter_value (it, &vlen);
        if (vlen != 16) {
            s_error (self, "corrupt held queue head (%zu bytes)", vlen);
            rc = -1;
            break;
        }
        self->held += s_get_u64 ((const uint8_t *) v + 8);
    }
    rocksdb_iter_get_error (it, &err);
    rocksdb_iter_destroy (it);
    rocksdb_readoptions_destroy (ro);
    if (err)
        return s_rocks_error (self, "read held queues", err);
    return rc;
}

bk_store_t *
bk_store_new (const char *path, const bk_store_config_t *config, char *err_out, size_t err_size)
{
    if (err_out && err_size)
        err_out[0] = '\0';
    bk_store_t *self = calloc (1, sizeof *self);
    if (!self) {
        if (err_out && err_size)
            snprintf (err_out, err_size, "out of memory");
        return NULL;
    }
    if (config)
        self->config = *config;
    else
        bk_store_config_defaults (&self->config);
    if (self->config.write_buffer_bytes < (1u << 20))
        self->config.write_buffer_bytes = 1u << 20;
    if (self->config.cache_bytes < (1u << 20))
        self->config.cache_bytes = 1u << 20;

    self->cache = rocksdb_cache_create_lru (self->config.cache_bytes);
    s_db_options (self);
    for (int cf = 0; cf < CF_COUNT; cf++)
        self->cf_opts[cf] = s_cf_options (self, cf);
    self->wo = rocksdb_writeoptions_create ();
    rocksdb_writeoptions_set_sync (self->wo, 1);
    rocksdb_writeoptions_disable_WAL (self->wo, 0);
    self->wo_nosync = rocksdb_writeoptions_create ();
    self->ro = rocksdb_readoptions_create ();
    self->batch = rocksdb_writebatch_create ();

    char *err = NULL;
    self->db = rocksdb_open_column_families (self->db_opts, path, CF_COUNT, s_cf_names,
                                             (const rocksdb_options_t *const *) self->cf_opts,
                                             self->cf, &err);
    if (err) {
        s_error (self, "open %s: %s", path, err);
        rocksdb_free (err);
        self->db = NULL;
        goto failed;
    }
    if (s_load (self) != 0)
        goto failed;
    return self;

failed:
    if (err_out && err_size)
        snprintf (err_out, err_size, "%s", self->error);
    bk_store_destroy (&self);
    return NULL;
}

void
bk_store_destroy (bk_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bk_store_t *self = *self_p;
    if (self->db) {
        for (int cf = 0; cf < CF_COUNT; cf++)
            if (self->cf[cf])
                rocksdb_column_family_handle_destroy (self->cf[cf]);
        rocksdb_close (self->db);
    }
    for (int cf = 0; cf < CF_COUNT; cf++)
        if (self->cf_opts[cf])
            rocksdb_options_destroy (self->cf_opts[cf]);
    if (self->db_opts)
        rocksdb_options_destroy (self->db_opts);
    if (self->cache)
        rocksdb_cache_destroy (self->cache);
    if (self->wo)
        rocksdb_writeoptions_destroy (self->wo);
    if (self->wo_nosync)
        rocksdb_writeoptions_destroy (self->wo_nosync);
    if (self->ro)
        rocksdb_readoptions_destroy (self->ro);
    if (self->batch)
        rocksdb_writebatch_destroy (self->batch);
    free (self->slots);
    free (self);
    *self_p = NULL;
}

const char *
bk_store_error (const bk_store_t *self)
{
    return self->error;
}

//  --------------------------------------------------------------------------------------------
//  Size and the disk bound

uint64_t
bk_store_size (bk_store_t *self)
{
    uint64_t total = 0;
    for (int cf = 0; cf < CF_COUNT; cf++) {
        uint64_t sst = 0, mem = 0;
        if (rocksdb_property_int_cf (self->db, self->cf[cf], "rocksdb.total-sst-files-size",
                                     &sst) != 0 ||
            rocksdb_property_int_cf (self->db, self->cf[cf], "rocksdb.cur-size-all-mem-tables",
                                     &mem) != 0) {
            s_error (self, "size: RocksDB property unavailable");
            self->stats.errors++;
            return 0;
        }
        total += sst + mem;
    }
    self->size = total;
    return total;
}

//  Asks for a background compaction of what the aggregator has acknowledged, so that deleted
//  events stop counting against the bound.
static void s_delete_acknowledged (bk_store_t *self);

static void
s_suggest_compaction (bk_store_t *self)
{
    uint8_t lo[8], hi[8];
    s_put_u64 (lo, 0);
    s_put_u64 (hi, self->cursor + 1);
    char *err = NULL;
    rocksdb_suggest_compact_range_cf (self->db, self->cf[CF_FWD], (const char *) lo, 8,
                                      (const char *) hi, 8, &err);
    if (err)
        s_rocks_error (self, "suggest compaction", err);
}

bool
bk_store_full (bk_store_t *self)
{
    uint64_t max = self->config.max_bytes;
    if (max == 0)
        return false;
    uint64_t size = bk_store_size (self);
    if (!self->full && size >= max) {
        self->full = true;
        s_suggest_compaction (self);
    }
    else if (self->full && size < max - max / 10)
        self->full = false;
    return self->full;
}

void
bk_store_compact (bk_store_t *self)
{
    s_delete_acknowledged (self);
    uint8_t hi[8];
    s_put_u64 (hi, self->cursor + 1);
    rocksdb_compact_range_cf (self->db, self->cf[CF_FWD], NULL, 0, (const char *) hi, 8);
    bk_store_size (self);
}

//  --------------------------------------------------------------------------------------------
//  Ingest

static uint32_t
s_hash (mm_str_t s)
{
    uint32_t h = 2166136261u;  //  FNV-1a: sensor ids come from certificates, not attackers
    for (uint32_t i = 0; i < s.len; i++)
        h = (h ^ (uint8_t) s.ptr[i]) * 16777619u;
    return h;
}

static bool
s_same (mm_str_t a, mm_str_t b)
{
    return a.len == b.len && memcmp (a.ptr, b.ptr, a.len) == 0;
}

//  Makes room for a table of at least 2n slots, all empty. 0 or -1.
static int
s_slots_reset (bk_store_t *self, size_t n, size_t *mask)
{
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    if (cap > self->slots_cap) {
        int32_t *slots = realloc (self->slots, cap * sizeof *slots);
        if (!slots) {
            s_error (self, "out of memory (batch of %zu)", n);
            return -1;
        }
        self->slots = slots;
        self->slots_cap = cap;
    }
    memset (self->slots, 0xff, cap * sizeof *self->slots);
    *mask = cap - 1;
    return 0;
}

int
bk_store_put_events (bk_store_t *self, const bk_store_item_t *items, size_t n, bk_store_ack_t *acks,
                     size_t acks_max, size_t *n_acks)
{
    *n_acks = 0;
    if (n > INT32_MAX) {
        s_error (self, "batch of %zu events is too large", n);
        return -1;
    }
    size_t mask = 0;
    if (s_slots_reset (self, n, &mask) != 0)
        return -1;
    //  Measured once per batch: the whole batch is accepted or refused as new events.
    bool full = bk_store_full (self);
    rocksdb_writebatch_clear (self->batch);
    uint64_t index = self->last_index;
    uint64_t invalid = 0, bytes = 0;
    size_t count = 0;

    for (size_t i = 0; i < n; i++) {
        const bk_store_item_t *item = &items[i];
        if (!s_sensor_ok (item->sensor) || item->seq == 0 || !item->data || item->len == 0 ||
            item->len > BK_STORE_VALUE_MAX) {
            invalid++;
            continue;
        }
        //  Find (or add) this sensor's entry; its hwm runs ahead as the batch is built.
        size_t slot = s_hash (item->sensor) & mask;
        while (self->slots[slot] >= 0 && !s_same (acks[self->slots[slot]].sensor, item->sensor))
            slot = (slot + 1) & mask;
        bk_store_ack_t *ack;
        if (self->slots[slot] >= 0)
            ack = &acks[self->slots[slot]];
        else {
            if (count == acks_max) {
                s_error (self, "batch has more than %zu sensors (acks array too small)", acks_max);
                return -1;
            }
            ack = &acks[count];
            memset (ack, 0, sizeof *ack);
            ack->sensor = item->sensor;
            if (s_get_u64s (self, CF_HWM, item->sensor.ptr, item->sensor.len, &ack->hwm, NULL) != 0)
                return -1;
            self->slots[slot] = (int32_t) count++;
        }
        if (item->seq <= ack->hwm) {
            ack->duplicates++;
            continue;
        }
        if (full) {
            ack->refused++;
            continue;
        }
        if (item->seq > ack->hwm + 1) {
            ack->out_of_order++;
            continue;
        }
        ack->hwm = item->seq;
        ack->stored++;
        bytes += item->len;

        //  fwd: index -> len | sensor | seq | event, gathered without an intermediate copy.
        uint8_t key[8], head[1], seq[8];
        s_put_u64 (key, ++index);
        head[0] = (uint8_t) item->sensor.len;
        s_put_u64 (seq, item->seq);
        const char *kparts[1] = {(const char *) key};
        const size_t klens[1] = {8};
        const char *vparts[4] = {(const char *) head, item->sensor.ptr, (const char *) seq,
                                 (const char *) item->data};
        const size_t vlens[4] = {1, item->sensor.len, 8, item->len};
        rocksdb_writebatch_putv_cf (self->batch, self->cf[CF_FWD], 1, kparts, klens, 4, vparts,
                                    vlens);
    }
    self->stats.invalid += invalid;

    uint64_t stored = index - self->last_index;
    for (size_t j = 0; j < count; j++) {
        if (acks[j].stored == 0)
            continue;
        uint8_t value[8];
        s_put_u64 (value, acks[j].hwm);
        rocksdb_writebatch_put_cf (self->batch, self->cf[CF_HWM], acks[j].sensor.ptr,
                                   acks[j].sensor.len, (const char *) value, 8);
    }
    //  One synced write for the whole batch: events, HWMs and log indexes commit together.
    if (stored > 0 && s_write (self, "write batch") != 0)
        return -1;

    if (stored > 0) {
        self->last_index = index;
        self->stats.batches++;
    }
    self->stats.events += stored;
    self->stats.bytes += bytes;
    for (size_t j = 0; j < count; j++) {
        self->stats.duplicates += acks[j].duplicates;
        self->stats.refused += acks[j].refused;
        self->stats.out_of_order += acks[j].out_of_order;
    }
    *n_acks = count;
    return 0;
}

int
bk_store_skip (bk_store_t *self, mm_str_t sensor, uint64_t from, uint64_t to,
               uint64_t *skipped_from)
{
    uint64_t hwm = bk_store_hwm (self, sensor);
    if (hwm == UINT64_MAX)
        return -1;
    if (from == 0 || to < from || to <= hwm || to == UINT64_MAX || hwm + 1 < from)
        return 0;
    uint8_t value[8];
    s_put_u64 (value, to);
    rocksdb_writebatch_clear (self->batch);
    rocksdb_writebatch_put_cf (self->batch, self->cf[CF_HWM], sensor.ptr, sensor.len,
                               (const char *) value, 8);
    if (s_write (self, "skip a hole") != 0)
        return -1;
    self->stats.gaps++;
    self->stats.missing += to - hwm;
    if (skipped_from)
        *skipped_from = hwm + 1;
    return 1;
}

uint64_t
bk_store_hwm (bk_store_t *self, mm_str_t sensor)
{
    if (!s_sensor_ok (sensor)) {
        s_error (self, "invalid sensor id");
        return UINT64_MAX;
    }
    uint64_t hwm = 0;
    if (s_get_u64s (self, CF_HWM, sensor.ptr, sensor.len, &hwm, NULL) != 0)
        return UINT64_MAX;
    return hwm;
}

//  --------------------------------------------------------------------------------------------
//  Forward log

int
bk_store_read_forward (bk_store_t *self, uint64_t from_index, size_t max, bk_store_forward_fn *fn,
                       void *arg)
{
    uint64_t start = from_index > self->cursor ? from_index : self->cursor + 1;
    if (max == 0 || start > self->last_index)
        return 0;
    if (max > INT32_MAX)
        max = INT32_MAX;
    uint8_t lower[8];
    s_put_u64 (lower, start);
    rocksdb_readoptions_t *ro = s_forward_readoptions (lower);
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf (self->db, ro, self->cf[CF_FWD]);
    int count = 0, rc = 0;
    for (rocksdb_iter_seek (it, (const char *) lower, 8); rocksdb_iter_valid (it);
         rocksdb_iter_next (it)) {
        size_t klen = 0, vlen = 0;
        const uint8_t *key = (const uint8_t *) rocksdb_iter_key (it, &klen);
        const uint8_t *value = (const uint8_t *) rocksdb_iter_value (it, &vlen);
        if (klen != 8 || vlen < 1 || vlen < 1u + value[0] + 8u + 1u) {
            s_error (self, "corrupt forward log entry (key %zu bytes, value %zu bytes)", klen,
                     vlen);
            self->stats.errors++;
            rc = -1;
            break;
        }
        size_t slen = value[0];
        mm_str_t sensor = {(const char *) value + 1, (uint32_t) slen};
        uint64_t seq = s_get_u64 (value + 1 + slen);
        count++;
        if (fn (arg, s_get_u64 (key), sensor, seq, value + 1 + slen + 8, vlen - 1 - slen - 8) !=
                0 ||
            (size_t) count >= max)
            break;
    }
    char *err = NULL;
    rocksdb_iter_get_error (it, &err);
    rocksdb_iter_destroy (it);
    rocksdb_readoptions_destroy (ro);
    if (err)
        return s_rocks_error (self, "read forward log", err);
    return rc == 0 ? count : -1;
}

static int64_t
s_mono_ms (void)
{
    struct timespec t;
    clock_gettime (CLOCK_MONOTONIC, &t);
    return (int64_t) t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

//  Deletes the acknowledged range: one tombstone over [0, cursor], then whole SST files below
//  the cursor (a metadata change, no I/O on the data); the rest goes at compaction. The
//  tombstone starts at 0, not at the last one: deleting whole files can drop an older
//  tombstone while keys it covered survive in a file that straddles it; each new tombstone
//  covers them again. A failure costs space only: counted, kept as the last error.
static void
s_delete_acknowledged (bk_store_t *self)
{
    self->delete_ms = s_mono_ms ();
    if (self->deleted_upto >= self->cursor)
        return;
    uint8_t from[8], to[8], cursor[8];
    s_put_u64 (from, 0);
    s_put_u64 (to, self->cursor + 1);
    s_put_u64 (cursor, self->cursor);
    rocksdb_writebatch_clear (self->batch);
    rocksdb_writebatch_delete_range_cf (self->batch, self->cf[CF_FWD], (const char *) from, 8,
                                        (const char *) to, 8);
    //  Not synced: a lost tombstone is written again after a restart (the cursor is durable).
    char *err = NULL;
    rocksdb_write (self->db, self->wo_nosync, self->batch, &err);
    rocksdb_writebatch_clear (self->batch);
    if (err) {
        s_rocks_error (self, "delete acknowledged events", err);
        return;
    }
    self->deleted_upto = self->cursor;
    rocksdb_delete_file_in_range_cf (self->db, self->cf[CF_FWD], (const char *) from, 8,
                                     (const char *) cursor, 8, &err);
    if (err)
        s_rocks_error (self, "delete acknowledged files", err);
}

int
bk_store_ack_forward (bk_store_t *self, uint64_t upto)
{
    if (upto <= self->cursor)
        return 0;
    if (upto > self->last_index) {
        s_error (self, "ack of index %" PRIu64 " beyond the last index %" PRIu64, upto,
                 self->last_index);
        return -1;
    }
    //  The cursor is durable at every ACK; the acknowledged events themselves are deleted once
    //  a second or every 20,000 events (S_DELETE_EVERY_*), whichever comes first. Why: each DeleteRange is a range tombstone,
    //  and RocksDB re-fragments every tombstone of the memtable for each iterator it opens; one
    //  per ACK (hundreds a second) made forwarding quadratic (81 % of the broker's CPU at
    //  10,000 events/s, measured with perf). Readers skip tombstones anyway (see
    //  s_forward_readoptions), so a delayed delete changes nothing they see.
    uint8_t cursor[8];
    s_put_u64 (cursor, upto);
    rocksdb_writebatch_clear (self->batch);
    rocksdb_writebatch_put_cf (self->batch, self->cf[CF_DEFAULT], KEY_CURSOR, 1,
                               (const char *) cursor, 8);
    if (s_write (self, "ack forward") != 0)
        return -1;
    self->cursor = upto;
    if (self->full || self->cursor - self->deleted_upto >= S_DELETE_EVERY_EVENTS ||
        s_mono_ms () - self->delete_ms >= S_DELETE_EVERY_MS)
        s_delete_acknowledged (self);
    if (self->full)
        s_suggest_compaction (self);
    return 0;
}

uint64_t
bk_store_forward_cursor (const bk_store_t *self)
{
    return self->cursor;
}

uint64_t
bk_store_last_index (const bk_store_t *self)
{
    return self->last_index;
}

//  --------------------------------------------------------------------------------------------
//  Held down messages

int
bk_store_hold (bk_store_t *self, mm_str_t sensor, const uint8_t *data, size_t len)
{
    if (!s_sensor_ok (sensor) || !data || len == 0 || len > BK_STORE_VALUE_MAX) {
        s_error (self, "hold: invalid sensor id or message size %zu", len);
        return -1;
    }
    uint8_t head_key[1 + PREFIX_MAX];
    size_t head_len = s_held_head_key (head_key, sensor);
    uint64_t next = 0, count = 0;
    if (s_get_u64s (self, CF_DEFAULT, head_key, head_len, &next, &count) != 0)
        return -1;
    if (count >= self->config.held_max) {
        self->stats.held_refused++;
        s_error (self, "hold: %" PRIu64 " messages already held for sensor %.*s", count,
                 (int) sensor.len, sensor.ptr);
        return -1;
    }
    if (next == 0)
        next = 1;
    uint8_t key[HELD_KEY_MAX], head[16];
    size_t key_len = s_held_key (key, sensor, next);
    s_put_u64 (head, next + 1);
    s_put_u64 (head + 8, count + 1);
    rocksdb_writebatch_clear (self->batch);
    rocksdb_writebatch_put_cf (self->batch, self->cf[CF_HELD], (const char *) key, key_len,
                               (const char *) data, len);
    rocksdb_writebatch_put_cf (self->batch, self->cf[CF_DEFAULT], (const char *) head_key, head_len,
                               (const char *) head, 16);
    if (s_write (self, "hold") != 0)
        return -1;
    self->held++;
    return 0;
}

//  Walks `sensor`'s held messages with id in [1, upto]. With `fn`, each goes to it and those it
//  reports sent are deleted; without, all of them are. Then one synced write updates the
//  queue head. Returns the number removed, or -1.
static int
s_held_walk (bk_store_t *self, mm_str_t sensor, uint64_t from, uint64_t upto, bk_store_held_fn *fn,
             void *arg, bool peek, uint32_t max)
{
    if (!s_sensor_ok (sensor)) {
        s_error (self, "held: invalid sensor id");
        return -1;
    }
    uint8_t head_key[1 + PREFIX_MAX];
    size_t head_len = s_held_head_key (head_key, sensor);
    uint64_t next = 0, count = 0;
    if (s_get_u64s (self, CF_DEFAULT, head_key, head_len, &next, &count) != 0)
        return -1;
    if (count == 0)
        return 0;
    if (upto >= next)
        upto = next - 1;

    if (from == 0)
        from = 1;
    if (from > upto)
        return 0;
    uint8_t lower[HELD_KEY_MAX], upper[HELD_KEY_MAX];
    size_t lower_len = s_held_key (lower, sensor, from);
    size_t upper_len = s_held_key (upper, sensor, upto + 1);
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create ();
    rocksdb_readoptions_set_iterate_lower_bound (ro, (const char *) lower, lower_len);
    rocksdb_readoptions_set_iterate_upper_bound (ro, (const char *) upper, upper_len);
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf (self->db, ro, self->cf[CF_HELD]);
    rocksdb_writebatch_clear (self->batch);
    uint64_t removed = 0, visited = 0;
    int rc = 0;
    for (rocksdb_iter_seek (it, (const char *) lower, lower_len);
         rocksdb_iter_valid (it) && (!peek || visited < max); rocksdb_iter_next (it)) {
        size_t klen = 0, vlen = 0;
        const char *key = rocksdb_iter_key (it, &klen);
        const char *value = rocksdb_iter_value (it, &vlen);
        if (klen != lower_len) {
            s_error (self, "corrupt held key (%zu bytes)", klen);
            self->stats.errors++;
            rc = -1;
            break;
        }
        if (fn) {
            uint64_t id = s_get_u64 ((const uint8_t *) key + klen - 8);
            visited++;
            int verdict = fn (arg, id, (const uint8_t *) value, vlen);
            if (verdict < 0)
                break;
            if (verdict > 0 || peek)
                continue;
        }
        rocksdb_writebatch_delete_cf (self->batch, self->cf[CF_HELD], key, klen);
        removed++;
    }
    char *err = NULL;
    rocksdb_iter_get_error (it, &err);
    rocksdb_iter_destroy (it);
    rocksdb_readoptions_destroy (ro);
    if (err)
        rc = s_rocks_error (self, "read held messages", err);
    if (peek)
        return rc != 0 ? rc : (int) visited;
    if (rc != 0 || removed == 0)
        return rc;
    if (removed > count) {
        s_error (self, "held queue of %.*s counts %" PRIu64 " but holds more", (int) sensor.len,
                 sensor.ptr, count);
        self->stats.errors++;
        return -1;
    }
    uint8_t head[16];
    s_put_u64 (head, next);
    s_put_u64 (head + 8, count - removed);
    rocksdb_writebatch_put_cf (self->batch, self->cf[CF_DEFAULT], (const char *) head_key, head_len,
                               (const char *) head, 16);
    if (s_write (self, "remove held messages") != 0)
        return -1;
    self->held -= removed;
    return (int) removed;
}

int
bk_store_take_held (bk_store_t *self, mm_str_t sensor, bk_store_held_fn *fn, void *arg)
{
    return s_held_walk (self, sensor, 1, UINT64_MAX - 1, fn, arg, false, 0);
}

int
bk_store_ack_held (bk_store_t *self, mm_str_t sensor, uint64_t upto)
{
    if (upto == UINT64_MAX)
        upto = UINT64_MAX - 1;
    return s_held_walk (self, sensor, 1, upto, NULL, NULL, false, 0);
}

int
bk_store_peek_held (bk_store_t *self, mm_str_t sensor, uint64_t from, uint32_t max,
                    bk_store_held_fn *fn, void *arg)
{
    if (!fn || max == 0)
        return 0;
    return s_held_walk (self, sensor, from, UINT64_MAX - 1, fn, arg, true, max);
}

int
bk_store_hold_down (bk_store_t *self, uint64_t index, const mm_str_t *sensors, size_t n,
                    const uint8_t *data, size_t len, size_t *refused)
{
    *refused = 0;
    if (index == 0 || !data || len == 0 || len > BK_STORE_VALUE_MAX) {
        s_error (self, "hold down: invalid index or message size %zu", len);
        return -1;
    }
    if (index <= self->down_hwm)
        return 0;
    rocksdb_writebatch_clear (self->batch);
    uint64_t held = 0;
    for (size_t i = 0; i < n; i++) {
        if (!s_sensor_ok (sensors[i])) {
            s_error (self, "hold down: invalid sensor id");
            return -1;
        }
        uint8_t head_key[1 + PREFIX_MAX];
        size_t head_len = s_held_head_key (head_key, sensors[i]);
        uint64_t next = 0, count = 0;
        if (s_get_u64s (self, CF_DEFAULT, head_key, head_len, &next, &count) != 0)
            return -1;
        if (count >= self->config.held_max) {
            self->stats.held_refused++;
            (*refused)++;
            continue;
        }
        if (next == 0)
            next = 1;
        uint8_t key[HELD_KEY_MAX], head[16];
        size_t key_len = s_held_key (key, sensors[i], next);
        s_put_u64 (head, next + 1);
        s_put_u64 (head + 8, count + 1);
        rocksdb_writebatch_put_cf (self->batch, self->cf[CF_HELD], (const char *) key, key_len,
                                   (const char *) data, len);
        rocksdb_writebatch_put_cf (self->batch, self->cf[CF_DEFAULT], (const char *) head_key,
                                   head_len, (const char *) head, 16);
        held++;
    }
    uint8_t mark[8];
    s_put_u64 (mark, index);
    rocksdb_writebatch_put_cf (self->batch, self->cf[CF_DEFAULT], KEY_DOWN_HWM, 1,
                               (const char *) mark, 8);
    if (s_write (self, "hold down message") != 0)
        return -1;
    self->held += held;
    self->down_hwm = index;
    return 1;
}

uint64_t
bk_store_down_hwm (const bk_store_t *self)
{
    return self->down_hwm;
}

int64_t
bk_store_held_count (bk_store_t *self, mm_str_t sensor)
{
    if (!s_sensor_ok (sensor)) {
        s_error (self, "held: invalid sensor id");
        return -1;
    }
    uint8_t head_key[1 + PREFIX_MAX];
    size_t head_len = s_held_head_key (head_key, sensor);
    uint64_t next = 0, count = 0;
    if (s_get_u64s (self, CF_DEFAULT, head_key, head_len, &next, &count) != 0)
        return -1;
    return (int64_t) count;
}

//  --------------------------------------------------------------------------------------------
//  Stats

void
bk_store_stats (bk_store_t *self, bk_store_stats_t *stats)
{
    bool full = bk_store_full (self);
    if (self->config.max_bytes == 0)
        bk_store_size (self);
    *stats = self->stats;
    stats->last_index = self->last_index;
    stats->forward_cursor = self->cursor;
    stats->forward_backlog = self->last_index - self->cursor;
    stats->held = self->held;
    stats->size_bytes = self->size;
    stats->max_bytes = self->config.max_bytes;
    stats->full = full;
}
