/*  bk_store: the broker's durable store (RocksDB). Dedups sensor EVENTs by (sensor, seq) against
    durable per-sensor high-water marks, keeps them in a forward log until the aggregator has
    acknowledged them, and holds down messages (WATCHLIST, WARNING) for sensors that are offline.
    Owner: the broker's store actor. One thread owns a store; it is not thread-safe.

    Guarantee: when bk_store_put_events returns 0, everything up to each returned high-water mark
    is on disk (WAL, fsync), so an ACK sent after it survives kill -9 and power cuts.

    Layout (column families; integers big-endian so keys sort numerically):
      fwd      u64 log index -> u8 sensor-len | sensor | u64 seq | EVENT bytes
               (the events themselves: stored once, deleted when the aggregator acks them)
      hwm      sensor -> u64 highest seq stored
      held     u8 sensor-len | sensor | u64 held id -> message bytes
      default  "v" -> u32 format version; "c" -> u64 forward cursor (last index acked);
               "h" u8 sensor-len | sensor -> u64 next held id | u64 held count;
               "d" -> u64 down high-water mark (last aggregator down index taken) */
#ifndef BK_STORE_H
#define BK_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm_proto.h"

typedef struct bk_store bk_store_t;

//  Largest stored message (EVENT or held message): the wire limit.
#define BK_STORE_VALUE_MAX MM_MSG_MAX

typedef struct {
    //  Disk bound in bytes (0: none). Over it, new events are refused (not acknowledged), so
    //  sensors keep them in their own spools; accepting resumes below 90 % of the bound.
    uint64_t max_bytes;
    //  Memory: the block cache shared by every column family, and the memtable size of the
    //  forward log (3 of them at most). See bk_store.c for why these values.
    size_t cache_bytes;
    size_t write_buffer_bytes;
    //  Held down messages per sensor; more are refused (counted) until the sensor drains them.
    uint32_t held_max;
} bk_store_config_t;

#define BK_STORE_MAX_BYTES_DEFAULT (4ull << 30)
#define BK_STORE_CACHE_DEFAULT (8u << 20)
#define BK_STORE_WRITE_BUFFER_DEFAULT (16u << 20)
#define BK_STORE_HELD_MAX_DEFAULT 10000u

//  Fills `config` with the defaults above.
void bk_store_config_defaults (bk_store_config_t *config);

//  One event of a batch: the sensor it comes from (taken from its certificate, never from the
//  body), its seq (1, 2, 3...) and the encoded EVENT frame. Nothing is kept after the call.
typedef struct {
    mm_str_t sensor;
    uint64_t seq;
    const uint8_t *data;
    size_t len;
} bk_store_item_t;

//  The outcome of a batch for one sensor. `hwm` is what to ACK: every seq <= hwm is durable.
typedef struct {
    mm_str_t sensor;        //  borrowed from the first item of this sensor in the batch
    uint64_t hwm;           //  high-water mark after the batch
    uint32_t stored;        //  new events written
    uint32_t duplicates;    //  seq <= hwm: already stored, not written again
    uint32_t refused;       //  new events not written because the store is full (not acked)
    uint32_t out_of_order;  //  seq > hwm + 1: not written (a hole before it; the sensor resends)
} bk_store_ack_t;

typedef struct {
    //  Since open.
    uint64_t events;        //  events stored
    uint64_t bytes;         //  EVENT bytes stored
    uint64_t batches;       //  batches that wrote something (one fsync each)
    uint64_t duplicates;    //  events already stored
    uint64_t out_of_order;  //  events refused for a hole before them
    uint64_t gaps;          //  holes skipped on the sensor's word (bk_store_skip)
    uint64_t missing;       //  seqs skipped by the jumps
    uint64_t invalid;       //  items refused as malformed (see bk_store_put_events)
    uint64_t refused;       //  new events refused because the store was full
    uint64_t held_refused;  //  down messages refused (sensor's queue at held_max)
    uint64_t errors;        //  RocksDB errors: returned to the caller, or (reclaiming space
                            //  after an ack, which cannot fail the ack) only counted here
    //  State of the store (durable).
    uint64_t last_index;       //  last forward log index assigned
    uint64_t forward_cursor;   //  last index acknowledged by the aggregator
    uint64_t forward_backlog;  //  events not yet acknowledged (last_index - forward_cursor)
    uint64_t held;             //  down messages held for sensors
    uint64_t size_bytes;       //  approximate size on disk (SST files + memtables)
    uint64_t max_bytes;        //  the bound
    bool full;                 //  over the bound: new events are refused
} bk_store_stats_t;

//  Opens (creating if needed) the store in directory `path`. `config` NULL means defaults.
//  NULL on failure, with the reason (RocksDB's text) in `err` (if not NULL).
bk_store_t *bk_store_new (const char *path, const bk_store_config_t *config, char *err,
                          size_t err_size);

//  Closes the store (every acknowledged write is already durable). Idempotent.
void bk_store_destroy (bk_store_t **self_p);

//  Stores a batch of `n` events from one or more sensors, in ONE atomic WriteBatch synced to
//  disk before returning (one fsync per batch). Per sensor, in item order: seq <= hwm is a
//  duplicate (counted, not stored); seq > hwm + 1 follows a hole and is refused (counted in
//  `out_of_order`, not stored: what the broker lost in a crash before making it durable comes
//  again when the sensor resends from the hole; a hole the sensor itself made, by its spool
//  bound, is skipped only on its word, bk_store_skip); new events get the next forward log
//  indexes. Items with an empty or too long sensor id, seq 0,
//  empty data or data over BK_STORE_VALUE_MAX are skipped and counted as invalid. Precondition
//  (the protocol's): each sensor's seqs arrive in increasing order, retransmissions restarting
//  from its first unacknowledged seq; an older seq after a newer one is taken for a duplicate.
//  While the store is full (see bk_store_full), new events are refused, not stored, and the
//  hwm stays where it is, so the sensor keeps them and sends them again later.
//  Fills `acks[0..*n_acks)` with one entry per sensor of the batch (`acks_max` >= the number of
//  distinct sensors; `n` is always enough). 0, or -1 with the reason in bk_store_error: then
//  nothing may be acknowledged (the batch may or may not be on disk; a retransmission is
//  deduped). Memory: the batch is copied once into a WriteBatch, so the caller bounds `n`.
int bk_store_put_events (bk_store_t *self, const bk_store_item_t *items, size_t n,
                         bk_store_ack_t *acks, size_t acks_max, size_t *n_acks);

//  The sensor says it will never send seqs `from`..`to` (lost on its side). If the store has
//  everything before them (mark >= from - 1) and not all of them, the mark moves to `to`
//  durably and the skipped seqs are counted (stats gaps/missing) and start at *skipped_from.
//  1 if it moved, 0 if not (yet), -1 on error.
int bk_store_skip (bk_store_t *self, mm_str_t sensor, uint64_t from, uint64_t to,
                   uint64_t *skipped_from);

//  The high-water mark of `sensor` (0 if it never sent anything), or UINT64_MAX on error.
uint64_t bk_store_hwm (bk_store_t *self, mm_str_t sensor);

//  Called for each event of the forward log, in index order. `sensor` and `data` are valid
//  during the call only. Return 0 to continue, anything else to stop.
typedef int (bk_store_forward_fn) (void *arg, uint64_t index, mm_str_t sensor, uint64_t seq,
                                   const uint8_t *data, size_t len);

//  Reads up to `max` events from index max(from_index, cursor + 1) on. Returns the number of
//  events passed to `fn` (including one that stopped it), or -1.
int bk_store_read_forward (bk_store_t *self, uint64_t from_index, size_t max,
                           bk_store_forward_fn *fn, void *arg);

//  The aggregator acknowledged every index <= `upto`: moves the cursor there durably (fsync)
//  and deletes those events with one range tombstone (no scan); whole SST files in the range
//  are dropped at once, the rest goes at compaction. An ack at or below the cursor is a no-op;
//  one beyond last_index is refused. 0 or -1.
int bk_store_ack_forward (bk_store_t *self, uint64_t upto);

//  The last acknowledged index and the last assigned index.
uint64_t bk_store_forward_cursor (const bk_store_t *self);
uint64_t bk_store_last_index (const bk_store_t *self);

//  Queues a down message for `sensor` (durable, fsync). 0, or -1 (error, or the sensor's queue
//  is at held_max: the error says which, and the refusal is counted).
int bk_store_hold (bk_store_t *self, mm_str_t sensor, const uint8_t *data, size_t len);

//  Called for each held message of a sensor, oldest first; `data` is valid during the call.
//  Return BK_HELD_SENT to have it removed, BK_HELD_KEEP to keep it (sent, but to be removed by
//  bk_store_ack_held once delivery is confirmed) and go on, BK_HELD_STOP to stop here.
typedef int (bk_store_held_fn) (void *arg, uint64_t id, const uint8_t *data, size_t len);
#define BK_HELD_SENT 0
#define BK_HELD_KEEP 1
#define BK_HELD_STOP (-1)

//  Delivers `sensor`'s held messages through `fn`, then removes those it reported sent in one
//  synced write. Returns the number removed, or -1 (nothing removed).
int bk_store_take_held (bk_store_t *self, mm_str_t sensor, bk_store_held_fn *fn, void *arg);

//  Calls `fn` for `sensor`'s held messages with id >= `from`, oldest first, at most `max` of
//  them, removing nothing (BK_HELD_STOP stops early; the other verdicts go on). For delivery
//  that waits for the sensor's ACK. The number visited, or -1.
int bk_store_peek_held (bk_store_t *self, mm_str_t sensor, uint64_t from, uint32_t max,
                        bk_store_held_fn *fn, void *arg);

//  A down message from the aggregator, numbered `index` on that link: held for each of the `n`
//  recipient sensors (distinct ids) and the down high-water mark moved to `index`, in ONE
//  synced write, so the aggregator may be acknowledged after it. A sensor whose queue is at
//  held_max does not get it (counted in held_refused and in *refused). Returns 1 if taken, 0
//  if `index` is at or below the mark (a resend: nothing written), -1 on error (nothing
//  written). `index` must be mark + 1 or more (a gap is the sender's business: it numbers
//  contiguously and resends from our ACK).
int bk_store_hold_down (bk_store_t *self, uint64_t index, const mm_str_t *sensors, size_t n,
                        const uint8_t *data, size_t len, size_t *refused);

//  The down high-water mark: the last aggregator down index taken (0: none).
uint64_t bk_store_down_hwm (const bk_store_t *self);

//  Removes `sensor`'s held messages with id <= `upto`. Returns the number removed, or -1.
int bk_store_ack_held (bk_store_t *self, mm_str_t sensor, uint64_t upto);

//  Held messages queued for `sensor`, or -1 on error.
int64_t bk_store_held_count (bk_store_t *self, mm_str_t sensor);

//  Approximate size on disk: SST files (including deleted data not yet compacted away) plus
//  memtables (which stand for the unflushed WAL). Reads RocksDB properties; 0 on error.
uint64_t bk_store_size (bk_store_t *self);

//  True while the store is over its bound (from size >= max_bytes until size < 90 % of it).
//  When it turns full it asks RocksDB to compact the acknowledged range (background), so space
//  comes back as the aggregator acknowledges. The broker logs and exports this.
bool bk_store_full (bk_store_t *self);

//  Compacts the acknowledged range now (synchronous; for operators and tests).
void bk_store_compact (bk_store_t *self);

//  Fills `stats` (size and full are measured now).
void bk_store_stats (bk_store_t *self, bk_store_stats_t *stats);

//  The reason of the last failure (RocksDB's text or ours); "" if none. Borrowed.
const char *bk_store_error (const bk_store_t *self);

#endif
