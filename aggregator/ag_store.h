/*  ag_store: the aggregator's durable store (RocksDB). Keeps the EVENTs brokers forward, keyed
    by (broker id, broker log index), deduplicated exactly against a durable per-broker
    high-water mark, and indexed by (sensor, seq) so "exactly these events" can be checked.
    Owner: aggregator/ (ingest). One thread owns a store; it is not thread-safe.

    Guarantee: when ag_store_put_events returns 0, everything up to each returned high-water
    mark is on disk (one WriteBatch, WAL, fsync), so an ACK sent after it survives kill -9 and
    power cuts. A crash before the return costs nothing: the broker resends from its cursor.

    Layout (column families; integers big-endian so keys sort numerically):
      ev       u8 broker-len | broker | u64 log index -> EVENT bytes (as the broker sent them)
      sensor   u8 sensor-len | sensor | u64 seq -> u8 broker-len | broker | u64 log index
      hwm      broker -> u64 highest log index stored (every index <= it is stored)
      down     u8 broker-len | broker | u64 down index -> WARNING/WATCHLIST bytes, until the
               broker acknowledges them
      default  "v" -> u32 format version;
               "D" u8 broker-len | broker -> u64 last down index | u64 acked (a broker's down
               queue; its presence registers the broker);
               "M" key -> value: AG_KV_META records of ag_store_write (correlation cursors)
      finding, timeline, sight, warn: the correlation's records (ag_lateral.h has their keys);
               every value starts with a u64 expiry (ns since the epoch, 0: never)

    Retention is done by RocksDB's compactions, never by scans: a compaction filter drops
    records of finding/timeline/sight/warn past their expiry, events (ev) and their sensor
    index entries past their kind's retention (ag_store_retention_t), counted from the
    event's own time. Reads skip what has expired but is not compacted away yet. */
#ifndef AG_STORE_H
#define AG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm_buf.h"
#include "mm_proto.h"

typedef struct ag_store ag_store_t;

//  One forwarded event: the broker (from its certificate), the broker's log index, the event's
//  sensor and seq (from the body the broker restamped) and the EVENT bytes. Borrowed.
typedef struct {
    mm_str_t broker;
    uint64_t index;
    mm_str_t sensor;
    uint64_t seq;
    uint64_t ts;   //  the event's time (retention counts from it; 0: kept for ever)
    uint8_t kind;  //  mm_kind_t (findings are kept longer than flow records)
    const uint8_t *data;
    size_t len;
} ag_store_item_t;

//  How long events are kept, from their own time.
typedef struct {
    uint32_t findings_days;  //  findings (kind FINDING): 400
    uint32_t events_days;    //  every other kind (flows, DNS, TLS, HTTP...): 30
} ag_store_retention_t;
#define AG_STORE_FINDINGS_DAYS 400
#define AG_STORE_EVENTS_DAYS 30

//  The outcome of a batch for one broker. `hwm` is what to ACK: every index <= hwm is durable.
typedef struct {
    mm_str_t broker;        //  borrowed from the first item of this broker in the batch
    uint64_t hwm;           //  high-water mark after the batch
    uint32_t stored;        //  new events written
    uint32_t duplicates;    //  index <= hwm: already stored
    uint32_t out_of_order;  //  index > hwm + 1: not stored (the broker rewinds and resends)
} ag_store_ack_t;

typedef struct {
    uint64_t events;          //  events stored since open
    uint64_t batches;         //  synced writes
    uint64_t duplicates;      //  (broker, index) already stored
    uint64_t out_of_order;    //  refused: a gap before them
    uint64_t seq_duplicates;  //  new (broker, index) whose (sensor, seq) was already stored:
                              //  a broker-side dedup failure; stored under ev, counted here
    uint64_t invalid;         //  malformed items (empty ids, index or seq 0, no data)
    uint64_t errors;          //  RocksDB errors
} ag_store_stats_t;

//  Opens (creating if needed) the store in directory `path`. NULL on failure, with the reason
//  in `err` (if not NULL).
ag_store_t *ag_store_new (const char *path, char *err, size_t err_size);
//  The same with a retention other than the defaults (NULL: the defaults).
ag_store_t *ag_store_new_retention (const char *path, const ag_store_retention_t *retention,
                                    char *err, size_t err_size);
//  Opens an existing store read-only, also while mimamori-aggregator runs on it (RocksDB's
//  read-only mode takes no lock): a snapshot as of the open, for tools and tests. Writing
//  through it fails.
ag_store_t *ag_store_open_readonly (const char *path, char *err, size_t err_size);
void ag_store_destroy (ag_store_t **self_p);

//  Stores a batch of `n` items from one or more brokers in ONE atomic WriteBatch synced to
//  disk. Per broker, in item order: index <= hwm is a duplicate, index == hwm + 1 is stored,
//  index > hwm + 1 is out of order (not stored: exactness needs contiguous indexes, and a
//  broker that lost a message in a reconnect resends from its cursor). Fills one ack per
//  broker of the batch (`acks_max` >= distinct brokers; `n` always suffices). 0, or -1 (then
//  nothing may be acknowledged).
int ag_store_put_events (ag_store_t *self, const ag_store_item_t *items, size_t n,
                         ag_store_ack_t *acks, size_t acks_max, size_t *n_acks);

//  The high-water mark of `broker` (0 if none), or UINT64_MAX on error.
uint64_t ag_store_hwm (ag_store_t *self, mm_str_t broker);

//  Called for each event in (sensor, seq) order; strings and data valid during the call only.
//  Return 0 to go on, anything else to stop.
typedef int (ag_store_each_fn) (void *arg, mm_str_t sensor, uint64_t seq, mm_str_t broker,
                                uint64_t index, const uint8_t *data, size_t len);
//  Walks every event by (sensor, seq). The number visited, or -1.
int64_t ag_store_each (ag_store_t *self, ag_store_each_fn *fn, void *arg);

//  Down queues: one per broker that has announced itself, each numbered 1, 2, 3...
//  Registers `broker` (an empty queue). 1 if new, 0 if known, -1 on error.
int ag_store_down_register (ag_store_t *self, mm_str_t broker);
//  Queues one down message for every registered broker, in ONE synced write. The number of
//  brokers it was queued for, or -1 (nothing queued).
int ag_store_down_queue (ag_store_t *self, const uint8_t *data, size_t len);
//  A broker's queue: the last index assigned and the last acknowledged. 0, or -1 (unknown).
int ag_store_down_state (ag_store_t *self, mm_str_t broker, uint64_t *last, uint64_t *acked);
//  Calls `fn` for `broker`'s queued messages from index `from`, at most `max`, in order; a
//  non-zero return stops. The number visited, or -1.
typedef int (ag_store_down_fn) (void *arg, uint64_t index, const uint8_t *data, size_t len);
int ag_store_down_read (ag_store_t *self, mm_str_t broker, uint64_t from, uint32_t max,
                        ag_store_down_fn *fn, void *arg);
//  The broker holds every message up to `upto`: deletes them (one range tombstone, synced).
//  0, or -1 (unknown broker, `upto` beyond the last index, or a store error).
int ag_store_down_ack (ag_store_t *self, mm_str_t broker, uint64_t upto);

//  ---------------------------------------------------------------------------------------------
//  Records of the correlation (ag_lateral): written together with the down messages they cause
//  in one synced write, so a warning is queued if and only if its state is stored.

typedef enum {
    AG_KV_FINDING = 1,  //  findings by time
    AG_KV_TIMELINE,     //  per-org timelines
    AG_KV_SIGHT,        //  sightings by indicator group
    AG_KV_WARN,         //  warning state
    AG_KV_META,         //  small records without expiry (cursors)
    AG_KV_COUNT_
} ag_store_kv_t;

typedef struct {
    uint8_t kv;  //  ag_store_kv_t
    const void *key;
    size_t klen;      //  1..AG_STORE_KEY_MAX
    const void *val;  //  NULL: delete the key
    size_t vlen;
    uint64_t expires;  //  ns since the epoch, 0: never (ignored for AG_KV_META)
} ag_store_put_t;
#define AG_STORE_KEY_MAX 1024

typedef struct {
    const uint8_t *data;
    size_t len;
} ag_store_msg_t;

//  ONE synced write: every put, and every down message queued for every registered broker (in
//  order). The number of brokers the messages were queued for (0 if none is registered: the
//  messages are dropped, the puts written), or -1 (nothing written).
int ag_store_write (ag_store_t *self, const ag_store_put_t *puts, size_t n_puts,
                    const ag_store_msg_t *down, size_t n_down);
//  Reads a record: 1 (found and not expired; the value, without its expiry, appended to
//  `out`), 0 (none), -1 (error).
int ag_store_get (ag_store_t *self, uint8_t kv, const void *key, size_t klen, mm_buf_t *out);
//  Calls `fn` for each live record whose key is in [from, to) (to NULL: to the end), in key
//  order; values without their expiry. A non-zero return stops. The number visited, or -1.
typedef int (ag_store_kv_fn) (void *arg, const uint8_t *key, size_t klen, const uint8_t *val,
                              size_t vlen, uint64_t expires);
int64_t ag_store_scan (ag_store_t *self, uint8_t kv, const void *from, size_t flen, const void *to,
                       size_t tlen, ag_store_kv_fn *fn, void *arg);
//  Calls `fn` for `broker`'s events with index > `after`, in order (replay after a crash).
//  The number visited, or -1.
typedef int (ag_store_event_fn) (void *arg, uint64_t index, const uint8_t *data, size_t len);
int64_t ag_store_events_after (ag_store_t *self, mm_str_t broker, uint64_t after,
                               ag_store_event_fn *fn, void *arg);
//  One event by its (broker, log index) (the pointer AG_KV_FINDING and timeline records hold):
//  1 (appended to `out`), 0 (none: expired), -1.
int ag_store_event_get (ag_store_t *self, mm_str_t broker, uint64_t index, mm_buf_t *out);
//  Every broker with a high-water mark, for `fn` (its id as a string, and the mark).
typedef int (ag_store_broker_fn) (void *arg, mm_str_t broker, uint64_t hwm);
int ag_store_brokers (ag_store_t *self, ag_store_broker_fn *fn, void *arg);
//  Compacts the column families with retention now, so expired records go (daemons call it
//  once a day; RocksDB also does it as data arrives). 0, or -1.
int ag_store_compact (ag_store_t *self);

void ag_store_stats (const ag_store_t *self, ag_store_stats_t *stats);
//  The reason of the last failure; "" if none. Borrowed.
const char *ag_store_error (const ag_store_t *self);

#endif
