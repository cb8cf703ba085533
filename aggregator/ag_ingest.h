/*  ag_ingest: the broker-facing side of mimamori-aggregator. Binds a CURVE ROUTER for brokers
    (allow-list of broker certificates, role broker only), stores forwarded EVENTs durably
    (ag_store) and acknowledges each broker cumulatively. Owner: aggregator/. One thread owns an
    ingest (its socket and its store); mimamori-aggregator and the tests drive it with
    ag_ingest_run_once.

    Wire (broker -> aggregator), ONE frame per event (mm_curve drops multi-frame messages):
        u64 broker log index, big-endian | EVENT (MessagePack, as the broker stored it): an
        indexed frame (mm_index_put / mm_index_split in mm_proto.h)
    Wire (aggregator -> broker): an mm_ack whose `sensor` is the broker's id (from its
    certificate) and whose `seq` is the broker's log index up to which everything is durable
    here (cumulative). One ACK per broker per poll round that carried frames from it, sent
    after the round's synced write, also when the round held only duplicates or out-of-order
    frames (so the broker learns where to resume).
    The broker id is the certificate's id, never anything in the body.
    Frames that are not indexed (see mm_proto.h) are protocol messages: a broker's ACK of the
    down messages it holds, for ag_down, which the ingest owns and runs after each round. */
#ifndef AG_INGEST_H
#define AG_INGEST_H

#include <stdint.h>
#include <stdio.h>

#include "ag_down.h"
#include "ag_store.h"
#include "mm_curve.h"
#include "mm_hist.h"

typedef struct ag_ingest_t ag_ingest_t;

typedef struct {
    const char *id;           //  this aggregator's id (log lines); "" or NULL: the certificate's
    const char *endpoint;     //  where brokers connect, e.g. "tcp://0.0.0.0:7100"
    const char *allow_dir;    //  directory of allowed broker certificates (*.cert)
    const char *revoke_file;  //  optional revocation file (NULL or "": none)
    const char *cert_secret;  //  this aggregator's secret certificate file
    const char *store_path;   //  ag_store directory
    uint32_t batch_max;       //  frames per round (0: AG_INGEST_BATCH_DEFAULT)
    const ag_store_retention_t *retention;  //  NULL: the store's defaults
} ag_ingest_config_t;

#define AG_INGEST_BATCH_DEFAULT 4096u

typedef struct {
    uint64_t frames;        //  frames from allowed brokers
    uint64_t stored;        //  events stored (new)
    uint64_t duplicates;    //  (broker, index) already stored: acknowledged again
    uint64_t out_of_order;  //  index past hwm + 1: not stored, the broker resends
    uint64_t bad;           //  frames too short, or whose EVENT does not decode
    uint64_t batches;       //  store writes
    uint64_t store_errors;  //  failed writes (nothing acknowledged)
    uint64_t acks;          //  ACKs sent
    uint64_t ack_errors;    //  ACKs not sent (broker gone, queue full, key revoked)
} ag_ingest_stats_t;

//  Loads the certificate, opens the store, binds (ZAP domain "brokers", role broker only).
//  NULL (and a log line) on failure.
ag_ingest_t *ag_ingest_new (const ag_ingest_config_t *config, mm_curve_auth_t *auth);
void ag_ingest_destroy (ag_ingest_t **self_p);

//  Waits up to `timeout_ms`, handles one round (the frames waiting, up to batch_max). The
//  number of frames handled, or -1 if the store failed (nothing acked; brokers resend).
int ag_ingest_run_once (ag_ingest_t *self, int timeout_ms);

//  Hooks for what comes after storing (the correlation, ag_lateral): `on_stored` for each
//  event the round stored for the first time (broker, its index, the EVENT bytes, valid during
//  the call), then `on_round` once. Called after the round's ACKs: a crash before the owner
//  has made its own records durable is repaired by replaying the store after its cursor.
typedef void (ag_ingest_stored_fn) (void *arg, mm_str_t broker, uint64_t index, const uint8_t *data,
                                    size_t len);
typedef void (ag_ingest_round_fn) (void *arg);
void ag_ingest_set_hooks (ag_ingest_t *self, ag_ingest_stored_fn *on_stored,
                          ag_ingest_round_fn *on_round, void *arg);
//  A socket (or actor) that wakes ag_ingest_run_once when readable: `on_wake` (hook's `arg`)
//  runs on this thread then. The correlation's worker says so when a round is done. NULL
//  forgets the one set (before it is destroyed).
typedef void (ag_ingest_wake_fn) (void *arg);
int ag_ingest_set_wake (ag_ingest_t *self, void *sock, ag_ingest_wake_fn *on_wake);

const char *ag_ingest_endpoint (ag_ingest_t *self);
//  The down path (borrowed): to queue WARNING/WATCHLIST messages for the brokers.
ag_down_t *ag_ingest_down (ag_ingest_t *self);
ag_store_t *ag_ingest_store (ag_ingest_t *self);
void ag_ingest_stats (const ag_ingest_t *self, ag_ingest_stats_t *stats);
//  Latency from a sensor to this store: for each event stored (new, not a duplicate), the wall
//  time its batch became durable minus the event's own `ts` (set by the sensor when it made
//  the event). Events whose ts is more than an hour old or more than a minute ahead are left
//  out (replayed captures carry their packets' times; a sensor's clock may be off), so the
//  figure is meaningful for live sensors with synchronised clocks (NTP). Includes the time an
//  event waited in the sensor's spool and the broker's store while a link was down.
typedef struct {
    uint64_t n;        //  events measured
    uint64_t skipped;  //  events left out (ts too old or ahead)
    uint64_t p50_us, p90_us, p99_us, max_us;
} ag_latency_t;
void ag_ingest_latency (const ag_ingest_t *self, ag_latency_t *lat);
//  The histogram behind it (/metrics).
const mm_hist_t *ag_ingest_latency_hist (const ag_ingest_t *self);
//  Starts the measurement afresh (benchmarks: after a warm-up).
void ag_ingest_latency_reset (ag_ingest_t *self);

//  One summary line (stored, duplicates, bad frames, acks, latency...) to `out`.
void ag_ingest_summary (const ag_ingest_t *self, FILE *out);

#endif
