/*  sn_sensor: the sensor's packet path. For each captured frame: decode it, find its flow,
    hand new in-order payload to the application parser that recognised the flow, and turn
    what comes out into EVENT messages: one per DNS message, TLS handshake, HTTP transaction,
    SSH handshake, SMB tree connect or file open, and one per flow when it ends. Events go to
    the owner's callback; the event is valid during the call only. Single-threaded, no
    allocation per packet (parsers allocate per flow, within their caps). Owner: sensor. */
#ifndef SN_SENSOR_H
#define SN_SENSOR_H

#include <stdint.h>

#include "mm_event.h"
#include "sn_config.h"
#include "sn_decode.h"
#include "sn_detect.h"
#include "sn_flow.h"

typedef void (sn_event_fn) (void *arg, const mm_event_t *ev);

typedef struct {
    uint64_t events;  //  emitted, all kinds
    uint64_t events_by_kind[MM_KIND_FINDING + 1];
    uint64_t parser_errors;    //  streams a parser gave up on (not its protocol, or malformed)
    uint64_t dns_malformed;    //  DNS-port datagrams that were not DNS
    uint64_t dns_tcp_split;    //  DNS-over-TCP messages split across segments (not parsed)
    uint64_t parsers_refused;  //  flows left unparsed because max_parsers were at work
} sn_sensor_stats_t;

typedef struct sn_sensor sn_sensor_t;

//  NULL if the flow table cannot be allocated.
sn_sensor_t *sn_sensor_new (const sn_config_t *cfg, sn_event_fn *fn, void *arg);
void sn_sensor_destroy (sn_sensor_t **self_p);

//  One captured frame of link type `link`.
void sn_sensor_packet (sn_sensor_t *self, int link, const uint8_t *data, uint32_t caplen,
                       uint64_t ts_ns);

//  Time passes without packets (live capture): end idle flows.
void sn_sensor_tick (sn_sensor_t *self, uint64_t now_ns);

//  End of input: every flow ends and is reported.
void sn_sensor_flush (sn_sensor_t *self);

const sn_sensor_stats_t *sn_sensor_stats (const sn_sensor_t *self);
const sn_decode_stats_t *sn_sensor_decode_stats (const sn_sensor_t *self);
const sn_flow_stats_t *sn_sensor_flow_stats (const sn_sensor_t *self);

//  The detector engine (NULL when detection is off): its statistics, indicator reloads.
sn_detect_t *sn_sensor_detect (const sn_sensor_t *self);

#endif
