/*  sn_spool: the sensor's on-disk spool. Every event (an encoded EVENT frame) is appended with
    its seq before it is sent and stays until the broker's cumulative ACK covers it; after a
    restart whatever is unacknowledged is there to retransmit, and seqs continue, never reused.
    Segmented append-only files with checksummed records, a size bound that drops the oldest
    whole segments (counted, never silent), and a documented fsync policy. Not thread-safe: one
    owner (the sensor's publisher). The on-disk layout is described at the top of sn_spool.c.
    Owner: sensor. */
#ifndef SN_SPOOL_H
#define SN_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm_proto.h"

typedef struct sn_spool sn_spool_t;

#define SN_SPOOL_RECORD_MAX MM_MSG_MAX               //  payload bytes in one record (one frame)
#define SN_SPOOL_MAX_BYTES (256ULL * 1024 * 1024)    //  default size bound
#define SN_SPOOL_SEGMENT_BYTES (4ULL * 1024 * 1024)  //  default segment size
#define SN_SPOOL_SEGMENT_MIN 4096                    //  smallest segment size accepted
#define SN_SPOOL_INTERVAL_MS 1000                    //  default for SN_SPOOL_SYNC_INTERVAL
//  Seqs reserved durably at a time when appends are not synced one by one: after a power cut
//  (or any unclean reboot) the spool continues after the reservation, so a seq that may have
//  been sent is never handed out again; the price is a gap of at most this many seqs.
#define SN_SPOOL_LEASE 65536

//  When appended data is forced to the disk (fdatasync). The directory is synced whenever a
//  segment is created or deleted, whatever the policy.
typedef enum {
    //  At most every interval_ms, from sn_spool_append or sn_spool_tick (the owner calls tick
    //  from its timer so a quiet spool is synced too); each full segment is synced when it
    //  is closed. A process crash loses nothing appended; a power cut loses at most the
    //  events appended since the last sync: one interval, plus however late the next append
    //  or tick came (their seqs are skipped, never reused: see SN_SPOOL_LEASE).
    SN_SPOOL_SYNC_INTERVAL = 0,
    //  Every append, before it returns: nothing appended is lost by a power cut. One
    //  fdatasync per event (see docs/spool.md for what that costs).
    SN_SPOOL_SYNC_ALWAYS,
    //  Never, except when the spool is closed: the kernel writes back when it likes (about
    //  30 s on Linux). A process crash loses nothing; a power cut loses whatever the kernel
    //  had not written yet.
    SN_SPOOL_SYNC_NEVER
} sn_spool_sync_t;

typedef struct {
    uint64_t max_bytes;         //  bound on the segment files' total size; 0: 256 MiB
    uint64_t segment_bytes;     //  a segment is closed past this size; 0: 4 MiB (<= max/4)
    sn_spool_sync_t sync;       //  fsync policy (0: interval)
    uint32_t sync_interval_ms;  //  0: 1000
    //  Identity of the running boot (tells a process crash, after which the kernel still
    //  holds every byte written, from a reboot, after which only synced bytes survived).
    //  NULL: /proc/sys/kernel/random/boot_id. Tests set it to play a power cut.
    const char *boot_id;
} sn_spool_opts_t;

typedef struct {
    uint64_t depth;           //  events appended and not yet acknowledged (nor dropped)
    uint64_t depth_bytes;     //  their bytes on disk, record headers included
    uint64_t disk_bytes;      //  every segment file (what max_bytes bounds)
    uint64_t segments;        //  segment files
    uint64_t next_seq;        //  seq the next append must carry
    uint64_t oldest_unacked;  //  first seq still to deliver; == next_seq when depth is 0
    uint64_t acked_seq;       //  the highest cumulative ACK received (persisted)
    //  Counted since this process opened the spool.
    uint64_t appended;       //  events appended
    uint64_t acked;          //  events trimmed by acks
    uint64_t acks_stale;     //  acks at or below acked_seq (ignored)
    uint64_t dropped;        //  events dropped by the size bound
    uint64_t dropped_first;  //  seq range of the last drop (0 0: none)
    uint64_t dropped_last;
    uint64_t torn;  //  unreadable segment tails cut off (a record written in part)
    uint64_t torn_bytes;
    uint64_t corrupt;         //  damaged regions skipped with valid records after them
    uint64_t corrupt_bytes;   //  their size
    uint64_t corrupt_events;  //  events lost in them (from the seqs on either side)
    //  Seqs reserved before an unclean reboot and absent from the disk: events with these
    //  seqs may have been sent (the broker has them) or lost with the power (0 0: none).
    uint64_t gap_first, gap_last;
    uint64_t fsyncs;        //  fdatasync/fsync calls, directory syncs included
    uint64_t write_errors;  //  appends refused by the file system (disk full, I/O error)
    uint64_t sync_errors;   //  failed syncs
    int last_errno;         //  errno of the last write or sync error (0: none)
} sn_spool_stats_t;

//  Opens the spool in `dir` (created 0700 if missing), locks it against a second user
//  (errno EBUSY), and recovers it: checks every record, cuts a torn tail, skips damaged
//  regions (moving the records after one into a segment of their own), works out the next
//  seq. `opts` NULL: defaults. NULL on failure, errno set (EINVAL for bad options).
sn_spool_t *sn_spool_new (const char *dir, const sn_spool_opts_t *opts);

//  Syncs, marks the spool closed cleanly (so the next open continues at exactly next_seq) and
//  closes it. Idempotent; NULLs the caller's pointer.
void sn_spool_destroy (sn_spool_t **self_p);

//  The seq the next append must carry (the caller encodes it into the EVENT first).
uint64_t sn_spool_next_seq (const sn_spool_t *self);

//  Appends one encoded event carrying `seq`, which must be sn_spool_next_seq (EINVAL
//  otherwise; EMSGSIZE if len is 0, above SN_SPOOL_RECORD_MAX or above the bound). Drops the
//  oldest segments first if the bound requires it (see sn_spool_dropped_take). 0: the event is
//  in the spool (synced if the policy says so) and the seq is used. -1: it is not and the seq
//  is still free; errno from the file system (ENOSPC, EFBIG, EIO...), counted.
int sn_spool_append (sn_spool_t *self, uint64_t seq, const void *data, size_t len);

//  The broker's cumulative ACK: everything <= seq is delivered. Deletes the segments it
//  empties. 0 (an old or repeated ack is ignored and counted); -1 ERANGE if seq was never
//  appended (nothing changes); -1 on an error deleting a segment (errno).
int sn_spool_ack (sn_spool_t *self, uint64_t seq);

//  Syncs if the policy says it is time (interval): call it from the owner's timer, at least
//  every interval. 0 or -1 (sync failed, counted, errno).
int sn_spool_tick (sn_spool_t *self);

//  Syncs the active segment and the spool's state now, whatever the policy.
int sn_spool_sync (sn_spool_t *self);

//  Retransmission. The spool holds one read cursor. Seek puts it on the first record with seq
//  >= max (seq, oldest_unacked); sn_spool_seek (self, 0) is "from the first unacknowledged".
//  0 or -1 (I/O error, errno).
int sn_spool_seek (sn_spool_t *self, uint64_t seq);

//  The record under the cursor, then moves past it. 1: *seq, *data, *len set; the data is
//  borrowed until the next call on the spool. 0: nothing more (caught up with the appends,
//  which the cursor then sees as they come). -1: I/O error (errno). Records acknowledged or
//  dropped meanwhile are skipped; a record found damaged is skipped and counted.
int sn_spool_next (sn_spool_t *self, uint64_t *seq, const uint8_t **data, size_t *len);

//  Counters and depth. May read up to 1/32 of a segment to place the ack inside it.
void sn_spool_stats (sn_spool_t *self, sn_spool_stats_t *stats);

//  Events dropped by the size bound since the last call (including drops before a restart
//  that were not yet taken), and the seq range they fall in; resets the count. The sensor
//  reports them in an event, so the loss is never silent.
uint64_t sn_spool_dropped_take (sn_spool_t *self, uint64_t *first, uint64_t *last);

//  Policy names for configuration: "interval", "always", "never". 0 or -1.
int sn_spool_sync_parse (const char *name, sn_spool_sync_t *sync);
const char *sn_spool_sync_name (sn_spool_sync_t sync);

//  CRC32C (Castagnoli) as records use it: hardware (SSE4.2) where there is some, else a
//  table. Start with crc 0. Exposed for tests and tools.
uint32_t sn_spool_crc32c (uint32_t crc, const void *data, size_t len);
uint32_t sn_spool_crc32c_sw (uint32_t crc, const void *data, size_t len);

#endif
