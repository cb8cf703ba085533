/*  sn_uplink: the sensor's link to its regional broker. Every event is numbered and appended
    to the on-disk spool (sn_spool) before it is sent over a CURVE DEALER (mm_curve); it stays
    there until the broker's cumulative ACK covers it and is sent again after a timeout, so a
    broker restart or a lost connection costs time, never events. Also sends the HEARTBEAT and
    hands WATCHLIST and WARNING messages from the broker to the owner, acknowledging them with
    one cumulative ACK per receive burst (the broker holds them until then: broker/bk_down.h). Owner: sensor.

    Threads: one owner (the capture loop). Nothing here blocks the packet path: sends are
    non-blocking, what cannot be sent now stays in the spool, and sn_uplink_poll costs a
    getsockopt and a few comparisons when nothing is due.

    Flow control: at most `window` events are in flight (sent, not yet acknowledged), so a
    dead broker does not fill ZeroMQ queues; the spool holds the rest. When no ACK has moved
    for `ack_timeout_ms` while events are in flight (broker restarted, connection lost with
    frames in its queues, broker stuck), the spool cursor goes back to the first
    unacknowledged event and everything is sent again: the broker dedups by (sensor, seq). The
    timeout doubles on each consecutive expiry (up to 8x) so a stuck broker is not flooded.

    Loss is never silent: when the spool's size bound drops events, the uplink publishes a
    finding (category sensor, detector "sensor.spool_overflow", severity medium) with the
    count and the seq range lost; it is spooled and sent like any other event. Until the broker
    acknowledges it, a further drop publishes a revision of the same finding (same id, revision
    + 1) with the cumulative count and range, so a report dropped by the bound in turn is
    covered by the next one. */
#ifndef SN_UPLINK_H
#define SN_UPLINK_H

#include <stdbool.h>
#include <stdint.h>

#include "mm_event.h"
#include "mm_warning.h"
#include "mm_watchlist.h"
#include "sn_spool.h"

typedef struct sn_uplink sn_uplink_t;

#define SN_UPLINK_WINDOW 10000         //  default: events in flight
#define SN_UPLINK_HEARTBEAT_MS 10000   //  default heartbeat interval
#define SN_UPLINK_ACK_TIMEOUT_MS 5000  //  default: resend when no ACK moved for this long
#define SN_UPLINK_OVERFLOW_DETECTOR "sensor.spool_overflow"

//  Called from sn_uplink_poll with a decoded message; it borrows from the frame and is valid
//  during the call only. A WATCHLIST callback returns 0 when the list is kept (durably: the
//  broker deletes its copy on our ACK), -1 when it could not be (then it is not acknowledged
//  and comes again).
typedef int (sn_uplink_watchlist_fn) (void *arg, const mm_watchlist_t *wl);
typedef void (sn_uplink_warning_fn) (void *arg, const mm_warning_t *w);

typedef struct {
    const char *endpoint;     //  the broker, e.g. "tcp://broker.example:7001"
    const char *broker_cert;  //  the broker's public certificate file (ID.cert)
    const char *cert;         //  this sensor's secret certificate file (ID.cert_secret): its
                              //  id and org name the events and heartbeats
    const char *spool_dir;    //  the spool (created 0700 if missing)
    sn_spool_opts_t spool;    //  size bound, segment size, fsync policy (zeros: defaults)
    uint32_t window;          //  0: SN_UPLINK_WINDOW
    uint32_t heartbeat_ms;    //  0: SN_UPLINK_HEARTBEAT_MS
    uint32_t ack_timeout_ms;  //  0: SN_UPLINK_ACK_TIMEOUT_MS
    const char *version;      //  software version for the heartbeat; NULL: "unknown"
    sn_uplink_watchlist_fn *on_watchlist;  //  may be NULL (counted, then ignored)
    sn_uplink_warning_fn *on_warning;      //  may be NULL
    void *arg;                             //  passed to both
} sn_uplink_config_t;

//  What the sensor reports in its heartbeat; the uplink adds the spool figures and the seq.
typedef struct {
    uint64_t uptime_s;
    uint64_t packets;  //  since start
    uint64_t drops;    //  capture drops since start
    uint64_t flows;    //  in the table now
    uint64_t events;   //  produced since start
} sn_uplink_health_t;

typedef struct {
    uint64_t published;            //  events numbered and spooled
    uint64_t publish_failed;       //  events refused (encode or spool error): counted, not sent
    uint64_t sent;                 //  event frames sent, first time
    uint64_t resent;               //  event frames sent again (after a timeout or a restart)
    uint64_t send_again;           //  sends refused with EAGAIN (no connection, queue full)
    uint64_t timeouts;             //  ACK timeouts (each rewinds the cursor)
    uint64_t fast_resends;         //  rewinds on a repeated ACK while events fly (a hole)
    uint64_t reconnect_resends;    //  rewinds on a new connection with events in flight
    uint64_t auth_refused;         //  handshakes the broker refused (our key unknown or revoked)
    uint64_t acks;                 //  ACK messages taken into account
    uint64_t acks_bad;             //  ACKs for another sensor, or for a seq never spooled
    uint64_t acked;                //  events acknowledged
    uint64_t acked_seq;            //  highest cumulative ACK
    uint64_t in_flight;            //  sent, not yet acknowledged
    uint64_t spool_depth;          //  in the spool, not yet acknowledged (as of the last poll)
    uint64_t watchlists;           //  WATCHLIST messages received
    uint64_t watchlists_deferred;  //  WATCHLISTs the owner could not keep (not acknowledged)
    uint64_t warnings;             //  WARNING messages received
    uint64_t down_acks;            //  ACKs of held messages sent to the broker
    uint64_t down_repeats;         //  held messages received again (acknowledged, not handled)
    uint64_t down_gaps;            //  held messages out of order (dropped; the broker resends)
    uint64_t rx_bad;               //  frames from the broker that did not decode, or of a type a
                                   //  sensor does not take
    uint64_t heartbeats;           //  heartbeats sent
    uint64_t heartbeats_failed;    //  not sent (no connection): the next one is due anyway
    uint64_t overflow_findings;    //  spool-overflow findings (and revisions) published
    uint64_t overflow_events;      //  events the spool's bound dropped, taken for reporting
} sn_uplink_stats_t;

//  Loads the certificates, opens the spool and connects (in the background: the broker need
//  not be up). Events left unacknowledged by an earlier run are sent again from the first one;
//  drops the spool recorded before a restart are reported. NULL (and a log line) on failure.
sn_uplink_t *sn_uplink_new (const sn_uplink_config_t *cfg);

//  Closes the socket (linger 1 s) and the spool (synced, marked clean). Idempotent.
void sn_uplink_destroy (sn_uplink_t **self_p);

//  Numbers `ev` (sets ev->seq; sets ev->sensor and ev->org from the certificate when empty),
//  encodes it, appends it to the spool and sends what the window allows, without blocking.
//  0: the event is spooled (it will reach the broker); -1: it is not (encode or spool error,
//  counted; errno set).
int sn_uplink_publish (sn_uplink_t *self, mm_event_t *ev);

//  Does what is due: takes messages from the broker (waiting at most `timeout_ms` for the
//  first; 0: does not wait), sends within the window, resends after an ACK timeout, sends the
//  heartbeat when its interval has passed (figures from `health`, NULL: zeros), ticks the
//  spool (fsync interval), reports spool drops. `now_ms` is a monotonic clock in ms
//  (zclock_mono); 0 reads it. 0, or -1 if the spool reported an I/O error (counted there).
int sn_uplink_poll (sn_uplink_t *self, int64_t now_ms, int timeout_ms,
                    const sn_uplink_health_t *health);

//  Counters (in_flight and spool_depth as of now).
void sn_uplink_stats (sn_uplink_t *self, sn_uplink_stats_t *stats);

//  The spool (borrowed), for its own counters.
sn_spool_t *sn_uplink_spool (sn_uplink_t *self);

#endif
