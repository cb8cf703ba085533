/*  ag_down: the aggregator's down path. Queues WARNING and WATCHLIST messages durably for
    every broker (ag_store down queues) and sends each broker its queue over the connection
    the broker made for forwarding, with a window and resends, until the broker acknowledges
    that it holds them (see broker/bk_down.h for what the broker does with them). Owner:
    aggregator/. Shares the ingest's thread, store and socket (ag_ingest owns it).

    Brokers: a broker is registered the first time it announces itself (its forwarder sends an
    ACK of its down mark every 2 s, also with nothing to forward) and from then on gets every
    message queued. Routing to orgs and sensors is the broker's: it knows which sensors it
    serves from its allow-list. A message queued before a broker first connected is not sent
    to it (docs/mesh.md "Down the mesh").

    Wire (aggregator -> broker): indexed frame, u64 down index | message. Broker -> aggregator:
    mm_ack {sensor: the broker's id, seq: its down mark} after holding, and every 2 s.

    Inbox: a directory where operators' tools (and tests) drop one encoded WARNING or WATCHLIST
    per file named *.msg; each is validated, queued and deleted (a bad one is renamed *.bad
    and logged). Later issues queue from inside the aggregator (correlation). */
#ifndef AG_DOWN_H
#define AG_DOWN_H

#include <stdint.h>

#include "ag_store.h"
#include "mm_ack.h"
#include "mm_curve.h"

typedef struct ag_down_t ag_down_t;

#define AG_DOWN_WINDOW 256      //  messages in flight to one broker
#define AG_DOWN_RESEND_MS 3000  //  no progress for this long: send again from the oldest
#define AG_DOWN_INBOX_MS 1000   //  the inbox is looked at this often

typedef struct {
    uint64_t queued;       //  messages queued (each for every registered broker)
    uint64_t unqueued;     //  messages refused: not a valid WARNING/WATCHLIST, or no broker yet
    uint64_t brokers;      //  brokers registered by this process
    uint64_t sent;         //  frames sent (resends included)
    uint64_t rewinds;      //  resends from the oldest after AG_DOWN_RESEND_MS
    uint64_t acks;         //  broker ACKs that moved a queue
    uint64_t bad_acks;     //  ACKs naming another broker or beyond what was queued
    uint64_t send_errors;  //  sends refused (broker gone, queue full): tried again later
    uint64_t errors;       //  store errors
    uint64_t inbox_files;  //  inbox files queued
    uint64_t inbox_bad;    //  inbox files renamed *.bad
} ag_down_stats_t;

//  `store` and `server` are borrowed and must outlive it; `id` names the log lines.
ag_down_t *ag_down_new (ag_store_t *store, mm_curve_server_t *server, const char *id);
void ag_down_destroy (ag_down_t **self_p);

//  Queues one encoded WARNING or WATCHLIST for every registered broker (durable when this
//  returns). The number of brokers, 0 if none is registered yet (nothing queued: the caller
//  keeps it), or -1 if the message is invalid or the store failed (logged).
int ag_down_queue (ag_down_t *self, const uint8_t *msg, size_t len);

//  `n` messages were queued for every registered broker by someone else's store write
//  (ag_store_write: the correlation queues its warnings in the write that stores its state).
void ag_down_note_queued (ag_down_t *self, size_t n);

//  A frame came from broker `peer` over `rid` (borrowed): its connection for sending.
void ag_down_seen (ag_down_t *self, const mm_identity_t *peer, zframe_t *rid);
//  An ACK from broker `peer`: registers it if new, moves its queue.
void ag_down_on_ack (ag_down_t *self, const mm_identity_t *peer, zframe_t *rid,
                     const mm_ack_t *ack);

//  Sends what each connected broker's window allows; rewinds after AG_DOWN_RESEND_MS.
void ag_down_run (ag_down_t *self);

//  Queues the *.msg files of `dir` (at most every AG_DOWN_INBOX_MS; NULL or "": nothing).
void ag_down_inbox (ag_down_t *self, const char *dir);

void ag_down_stats (const ag_down_t *self, ag_down_stats_t *stats);

#endif
