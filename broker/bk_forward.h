/*  bk_forward: the broker's link to the aggregator. A CURVE DEALER that sends the forward log
    of bk_store from its durable cursor, keeps at most `window` events in flight, advances the
    cursor with the aggregator's cumulative ACKs (bk_store_ack_forward) and, when no ACK has
    moved the cursor for `ack_timeout_ms` while events are in flight, rewinds to the cursor and
    sends again (the aggregator dedups by log index). Owner: broker/. It shares the broker's
    thread and store (bk_store is not thread-safe); mimamori-broker calls bk_forward_run_once
    between sensor rounds.

    Wire: one frame per event, u64 log index big-endian | EVENT bytes (see ag_ingest.h); the
    aggregator answers with an mm_ack whose `sensor` is this broker's certificate id and whose
    `seq` is the highest log index durable there. While the aggregator is away nothing is sent
    (ZMQ_IMMEDIATE), the store keeps growing and the sensor side keeps accepting (bounded by
    bk_store_full). After a restart of either side, sending resumes from the durable cursor.

    Down: the same connection carries the aggregator's down messages (indexed frames, see
    bk_down.h). Each goes to the `on_down` callback, which holds it durably and returns the
    down mark; the forwarder then acknowledges it with an mm_ack {sensor: this broker's id,
    seq: the mark}. That ACK is also sent every BK_FORWARD_PRESENCE_MS: it is how the
    aggregator learns this broker's connection (and where to resume) even when no event flows. */
#ifndef BK_FORWARD_H
#define BK_FORWARD_H

#include <stdint.h>

#include "bk_store.h"
#include "mm_curve.h"

typedef struct bk_forward_t bk_forward_t;

//  Takes a down message numbered `index`; returns the down mark to acknowledge, or 0 to
//  acknowledge nothing (it will come again).
typedef uint64_t (bk_forward_down_fn) (void *arg, uint64_t index, const uint8_t *msg, size_t len);
//  The current down mark (for the presence ACK).
typedef uint64_t (bk_forward_mark_fn) (void *arg);

typedef struct {
    const char *endpoint;         //  the aggregator, e.g. "tcp://centre:7100"
    const char *aggregator_cert;  //  the aggregator's public certificate file
    const char *cert_secret;      //  this broker's secret certificate file
    uint32_t window;              //  events in flight (0: BK_FORWARD_WINDOW_DEFAULT)
    uint32_t ack_timeout_ms;      //  rewind after this long without progress (0: default)
    bk_forward_down_fn *on_down;  //  NULL: down messages are counted and not acknowledged
    bk_forward_mark_fn *down_mark;
    void *down_arg;
} bk_forward_config_t;

#define BK_FORWARD_PRESENCE_MS 2000

#define BK_FORWARD_WINDOW_DEFAULT 10000u
#define BK_FORWARD_ACK_TIMEOUT_DEFAULT 5000u
//  Events read from the store per call, so sensor rounds keep their turn.
#define BK_FORWARD_SEND_MAX 2000u

typedef struct {
    uint64_t sent;        //  frames sent (resends included)
    uint64_t acks;        //  ACKs received that moved the cursor
    uint64_t stale_acks;  //  ACKs at or below the cursor (duplicates of progress)
    uint64_t bad_acks;    //  not an ACK, another broker's id, or beyond what was sent
    uint64_t rewinds;     //  ACK timeouts: sending restarted from the cursor
    uint64_t errors;      //  store errors (reading the log, moving the cursor)
    uint64_t down;        //  down frames received
    uint64_t down_bad;    //  down frames without a valid index
    uint64_t down_acks;   //  down ACKs sent (presence included)
} bk_forward_stats_t;

//  Loads the certificates and connects (in the background). `store` is borrowed and must
//  outlive the forwarder. NULL (and a log line) on failure.
bk_forward_t *bk_forward_new (const bk_forward_config_t *config, bk_store_t *store);
void bk_forward_destroy (bk_forward_t **self_p);

//  Takes the ACKs waiting (never blocks), rewinds on timeout, sends what the window allows.
//  Returns the number of frames sent, or -1 on a store error (counted, logged).
int bk_forward_run_once (bk_forward_t *self);

//  The client socket, to wait on it with the sensor socket.
zsock_t *bk_forward_sock (bk_forward_t *self);
void bk_forward_stats (const bk_forward_t *self, bk_forward_stats_t *stats);

#endif
