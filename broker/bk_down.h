/*  bk_down: the broker's down path. Takes WARNING and WATCHLIST messages the aggregator sends
    down (bk_forward hands them over), finds their recipients among the sensors this broker
    serves, holds a copy for each durably (bk_store) and delivers the copies when the sensors
    are connected, until each sensor acknowledges them. Owner: broker/. It shares the
    broker's thread, store and sensor socket (bk_broker owns it).

    Recipients: every sensor certificate in the broker's allow-list (connected or not, so an
    offline sensor gets its copy when it comes back) whose org is the message's org and, if the
    message names a sensor, whose id is that sensor. A WATCHLIST without an org goes to every
    sensor. A message for an org with no sensor here is taken and counted (the aggregator sends
    every message to every broker; see docs/mesh.md "Down the mesh"). Sensors added to the
    allow-list later do not get earlier messages.

    Wire (aggregator -> broker): indexed frame, u64 down index | WARNING or WATCHLIST. The
    broker answers with an mm_ack {sensor: its own id, seq: its down high-water mark} after the
    copies are on disk, and sends the same ACK every few seconds on its own, which tells the
    aggregator it is there and where to resume.
    Wire (broker -> sensor): indexed frame, u64 held id | the message as the aggregator sent
    it. The sensor answers with an mm_ack {sensor: its id, seq: the highest held id it has
    taken, contiguously}; the broker then deletes those copies. Unacknowledged copies are sent
    again after BK_DOWN_RESEND_MS, from the oldest; the sensor drops repeats. */
#ifndef BK_DOWN_H
#define BK_DOWN_H

#include <stdint.h>

#include "bk_store.h"
#include "mm_ack.h"
#include "mm_curve.h"

typedef struct bk_down_t bk_down_t;

#define BK_DOWN_RESEND_MS 3000  //  unacknowledged copies go again after this long
#define BK_DOWN_SEND_MAX 64     //  copies sent to one sensor at a time

typedef struct {
    uint64_t taken;         //  new down messages from the aggregator
    uint64_t repeats;       //  down messages at or below the mark (resends): acknowledged again
    uint64_t bad;           //  down messages that did not decode or are not WARNING/WATCHLIST
                            //  (taken, so the link moves on; logged)
    uint64_t no_recipient;  //  messages for which no sensor here qualifies
    uint64_t held;          //  copies held for sensors
    uint64_t refused;       //  copies not held: that sensor's queue was full (logged)
    uint64_t delivered;     //  copies sent to sensors (resends included)
    uint64_t confirmed;     //  copies acknowledged by sensors (deleted)
    uint64_t bad_acks;      //  sensor ACKs for another sensor
    uint64_t send_errors;   //  copies not sent (sensor gone, queue full): sent later
    uint64_t errors;        //  store errors
} bk_down_stats_t;

//  `store` and `server` are borrowed and must outlive it; `broker_id` names the log lines.
bk_down_t *bk_down_new (bk_store_t *store, mm_curve_server_t *server, const char *broker_id);
void bk_down_destroy (bk_down_t **self_p);

//  A down message numbered `index` from the aggregator. Returns the down high-water mark to
//  acknowledge (everything <= it is durably held), or 0 if the store failed (nothing may be
//  acknowledged; the aggregator sends it again).
uint64_t bk_down_take (bk_down_t *self, uint64_t index, const uint8_t *msg, size_t len);

//  A frame came from `peer` over `rid` (borrowed; copied when it changed): the connection to
//  deliver its copies on.
void bk_down_seen (bk_down_t *self, const mm_identity_t *peer, zframe_t *rid);

//  An ACK from sensor `peer`: its copies up to ack->seq are delivered.
void bk_down_on_ack (bk_down_t *self, const mm_identity_t *peer, const mm_ack_t *ack);

//  Sends copies to the connected sensors that have some waiting and none unacknowledged in
//  the last BK_DOWN_RESEND_MS. Cheap when nothing waits.
void bk_down_run (bk_down_t *self);

void bk_down_stats (const bk_down_t *self, bk_down_stats_t *stats);

#endif
