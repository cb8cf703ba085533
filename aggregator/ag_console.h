/*  ag_console: the aggregator's feed to regional SOC consoles (issue 6, "Delivery ... to
    regional SOC consoles (CURVE subscribers; a console receives only its own region and
    provider)"). Owner: aggregator/. One thread (the aggregator's loop) owns it.

    A console connects over CURVE with a certificate of role `console` whose `org` is its
    provider's id and whose `region` is its region's name ("kanto"): the allow-list, not the
    console, says what it may see. The aggregator pushes to each connected console exactly the
    messages of its provider and region: INCIDENT notifications for its companies, and its
    companies' copies of WARNINGs.

    Why not PUB/SUB: a subscriber chooses its own topics, so it could subscribe to another
    provider's; here the server filters by the key's certificate.

    Wire (console -> aggregator): an mm_ack every 2 s or so, {sensor: the console's id, seq:
    the `ts` of the newest message it has (0: none)}. The first registers the console; the
    messages it missed (newer than seq, among the last AG_CONSOLE_RING kept) are sent again.
    A console silent for AG_CONSOLE_SILENT_MS is forgotten until it speaks again.
    Wire (aggregator -> console): bare INCIDENT and WARNING messages, one frame each. */
#ifndef AG_CONSOLE_H
#define AG_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "mm_cert.h"
#include "mm_curve.h"

typedef struct ag_console_t ag_console_t;

#define AG_CONSOLE_RING 4096        //  recent messages kept to catch up a console
#define AG_CONSOLE_SILENT_MS 10000  //  a console this quiet is forgotten

typedef struct {
    uint64_t consoles;   //  connected now
    uint64_t hellos;     //  console ACKs received
    uint64_t published;  //  messages offered
    uint64_t sent;       //  frames sent to consoles (catch-ups included)
    uint64_t unmatched;  //  messages no connected console was entitled to
    uint64_t send_errors;
    uint64_t bad;     //  frames that were not a console ACK
    uint64_t states;  //  state messages kept now (one per key)
} ag_console_stats_t;

//  Binds `endpoint` (ZAP domain "consoles", role console only). NULL (and a log line).
ag_console_t *ag_console_new (mm_curve_auth_t *auth, const mm_cert_t *cert, const char *endpoint,
                              const char *allow_dir, const char *revoke_file);
void ag_console_destroy (ag_console_t **self_p);

const char *ag_console_endpoint (ag_console_t *self);
zsock_t *ag_console_sock (ag_console_t *self);

//  Offers one encoded message of `provider` and `region` (ts: its own time, ns) to every
//  connected console of that provider and region, and keeps it for catching up.
void ag_console_publish (ag_console_t *self, const char *provider, const char *region, uint64_t ts,
                         const uint8_t *msg, size_t len);

//  Sets the current state `key` (a sensor's HEALTH: the sensor id) of `provider` and
//  `region` to `msg`: kept, replacing that key's earlier one, sent now to every connected
//  console entitled to it, and to each console that connects later (after its catch-up).
//  States are not in the ring: a thousand sensors' health must not push incidents out of it.
void ag_console_state (ag_console_t *self, const char *provider, const char *region,
                       const char *key, const uint8_t *msg, size_t len);

//  Handles what consoles sent (without waiting) and forgets silent ones.
void ag_console_run (ag_console_t *self);

void ag_console_stats (const ag_console_t *self, ag_console_stats_t *stats);

#endif
