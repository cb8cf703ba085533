/*  bk_broker: the sensor-facing side of mimamori-broker. Binds a CURVE ROUTER for sensors,
    validates every frame, stores EVENT batches durably (bk_store) and then ACKs each sensor.
    Owner: broker/. One thread owns a broker (its socket and its store); mimamori-broker and the
    tests drive it with bk_broker_run_once.

    Per poll round (up to batch_max frames already waiting):
      EVENT      decoded with the proto decoder; sensor and org are taken from the peer's
                 certificate (a body that says otherwise is re-encoded with the certificate's
                 values and counted as "corrected"); the round's events go to the store in ONE
                 synced write, then every sensor of the round gets one cumulative ACK (seq = its
                 durable high-water mark). Retransmissions are deduped by the store and acked.
      HEARTBEAT  decoded; the sensor's last-seen time is remembered.
      anything else (garbage, truncated, oversized, a type a sensor must not send) is counted
                 by reason and logged at most once a second per reason; the sender stays
                 connected and nobody else is affected.
    While the store is full (bk_store_full) new events are not acknowledged, so sensors keep
    them in their spools; this is logged once a minute.

    Sensor health: a sensor that has sent a HEARTBEAT and then none for 3 intervals gets a
    "sensor.silent" finding EVENT (category sensor, severity high) written into the store like
    any event, so it is forwarded to the aggregator; a later HEARTBEAT writes revision 1 of the
    same finding (severity info: it is back). The finding's sender (sensor field) is this
    broker's certificate id, with its own seq stream (1, 2, 3... from the store's high-water
    mark); the silent sensor's id is in the message, its org in the org field. Watched: every
    sensor heard since the broker started, and from the start every allowed sensor whose
    events the store has held before (so one that died while the broker was down is noticed).
    A broker restart forgets which findings were open: a sensor still silent gets a new one.

    Down messages (WARNING, WATCHLIST from the aggregator) are bk_down's, which the broker owns
    and feeds: every frame tells it the sensor's connection, ACKs from sensors confirm copies,
    and each round ends with a delivery pass. Forwarding is bk_forward, driven by
    mimamori-broker, which hands the down messages it receives to bk_broker_down. */
#ifndef BK_BROKER_H
#define BK_BROKER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bk_down.h"
#include "bk_store.h"
#include "mm_curve.h"

typedef struct bk_broker_t bk_broker_t;

typedef struct {
    const char *id;            //  this broker's id (log lines); "" or NULL: the certificate's
    const char *endpoint;      //  where sensors connect, e.g. "tcp://0.0.0.0:7001"
    const char *allow_dir;     //  directory of allowed sensor certificates (*.cert)
    const char *revoke_file;   //  optional revocation file (NULL or "": none)
    const char *cert_secret;   //  this broker's secret certificate file (ID.cert_secret)
    const char *store_path;    //  bk_store directory
    uint64_t store_max_bytes;  //  disk bound of the store (0: none)
    uint32_t batch_max;        //  frames taken per poll round (0: BK_BROKER_BATCH_DEFAULT)
    uint32_t
        heartbeat_ivl_ms;     //  sensors' heartbeat interval (0: BK_BROKER_HEARTBEAT_IVL_DEFAULT);
                              //  silent after 3 of them
    uint32_t start_grace_ms;  //  extra time the sensors known from the store get after the
                              //  broker starts, to reconnect (their reconnect back-off reaches
                              //  MM_CURVE_RECONNECT_IVL_MAX_MS); 0: none
} bk_broker_config_t;

#define BK_BROKER_BATCH_DEFAULT 1024u
#define BK_BROKER_HEARTBEAT_IVL_DEFAULT 10000u

//  Why a frame was refused. Stable order (summary line, stats).
typedef enum {
    BK_BAD_OVERSIZED = 0,  //  larger than MM_MSG_MAX (bigger than MM_CURVE_MAXMSGSIZE never
                           //  arrives: libzmq closes that connection and the sensor reconnects)
    BK_BAD_TRUNCATED,      //  the MessagePack ends inside a value
    BK_BAD_MALFORMED,      //  any other decoder error (garbage, bad field, wrong version...)
    BK_BAD_TYPE,           //  a valid message a sensor must not send (WARNING, WATCHLIST)
    BK_BAD_COUNT_
} bk_bad_t;

typedef struct {
    uint64_t frames;              //  frames delivered by the socket (allowed peers only)
    uint64_t events;              //  events stored (new)
    uint64_t duplicates;          //  events already stored (retransmissions), acknowledged again
    uint64_t corrected;           //  events whose body named another sensor or org: restamped
    uint64_t refused;             //  new events refused because the store was full (not acked)
    uint64_t out_of_order;        //  events after a hole: refused, the sensor resends from it
    uint64_t gaps;                //  holes skipped on the sensor's word (lost to its spool bound)
    uint64_t heartbeats;          //  valid HEARTBEATs
    uint64_t bad[BK_BAD_COUNT_];  //  refused frames by reason
    uint64_t batches;             //  store writes (one fsync each)
    uint64_t store_errors;        //  store writes that failed (nothing acked; sensors resend)
    uint64_t acks;                //  ACKs sent
    uint64_t ack_errors;          //  ACKs not sent (peer gone, queue full, key revoked)
    uint64_t sensors;             //  distinct sensors seen since start
    uint64_t silent;              //  sensor.silent findings raised
    uint64_t back;                //  sensor.silent findings cleared (the sensor came back)
    uint64_t health_errors;       //  findings not written (store full or failing): retried
} bk_broker_stats_t;

//  Loads the certificate, opens the store, binds the socket (registering the "sensors" ZAP
//  domain with `auth`, sensors only). NULL (and a log line saying why) on failure.
bk_broker_t *bk_broker_new (const bk_broker_config_t *config, mm_curve_auth_t *auth);
//  Closes the socket and the store (every acknowledged event is already durable). Idempotent.
void bk_broker_destroy (bk_broker_t **self_p);

//  Waits up to `timeout_ms` for frames and handles one round of them (all the waiting ones, up
//  to batch_max). Returns the number of frames handled (0 on timeout or interrupt), or -1 if
//  the store failed (nothing was acknowledged; the broker stays usable and sensors resend).
int bk_broker_run_once (bk_broker_t *self, int timeout_ms);

//  The endpoint actually bound (ephemeral port resolved).
const char *bk_broker_endpoint (bk_broker_t *self);
//  The sensor socket, for an owner that waits on several sockets at once (then it calls
//  bk_broker_run_once with timeout 0 when this one is readable, or a timer is due).
zsock_t *bk_broker_sock (bk_broker_t *self);
//  Delivers what is due to sensors now (down messages the forwarder has just taken), without
//  waiting for the next round.
void bk_broker_deliver (bk_broker_t *self);
void bk_broker_stats (const bk_broker_t *self, bk_broker_stats_t *stats);
//  What the sensor socket dropped before the broker saw it (keys no longer allowed, framing).
void bk_broker_socket_stats (const bk_broker_t *self, mm_curve_server_stats_t *stats);
//  Last time (zclock_mono ms) a HEARTBEAT came from `sensor`, or -1 if none has.
int64_t bk_broker_last_seen (bk_broker_t *self, const char *sensor);
//  The store (borrowed), for counters.
bk_store_t *bk_broker_store (bk_broker_t *self);
//  The down path (borrowed): bk_forward hands it what the aggregator sends down.
bk_down_t *bk_broker_down (bk_broker_t *self);
//  Short name of a reason ("oversized", ...).
const char *bk_bad_name (bk_bad_t reason);
//  Writes the one-line summary (counters above, then mm_curve's drops) to `out`.
void bk_broker_summary (const bk_broker_t *self, FILE *out);

#endif
