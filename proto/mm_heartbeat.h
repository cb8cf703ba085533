/*  mm_heartbeat: HEARTBEAT, a sensor's health report, sent every 10 s.
    The broker uses it to notice silent sensors and shows its counters on the console. */
#ifndef MM_HEARTBEAT_H
#define MM_HEARTBEAT_H

#include "mm_proto.h"

enum {
    MM_HK_UPTIME = 10,
    MM_HK_PACKETS = 11,
    MM_HK_DROPS = 12,
    MM_HK_FLOWS = 13,
    MM_HK_EVENTS = 14,
    MM_HK_SPOOL_DEPTH = 15,
    MM_HK_SPOOL_BYTES = 16,
    MM_HK_SPOOL_DROPPED = 17,
    MM_HK_VERSION = 18,
    MM_HK_HOLE_FROM = 19,
    MM_HK_HOLE_TO = 20,
};

typedef struct {
    uint64_t ts;  //  ns since the epoch
    mm_str_t sensor;
    mm_str_t org;
    uint64_t seq;  //  last event sequence number assigned (0: none yet)
    uint64_t uptime_s;
    uint64_t packets;      //  packets seen since start
    uint64_t drops;        //  capture drops (pcap_stats) since start
    uint64_t flows;        //  flows in the table now
    uint64_t events;       //  events produced since start
    uint64_t spool_depth;  //  events not yet acknowledged
    uint64_t spool_bytes;
    uint64_t spool_dropped;  //  events lost to the spool bound since start
    mm_str_t version;        //  software version
    //  Seqs the sensor will never send (lost to its spool bound, a power cut or a damaged
    //  spool): the broker may stop waiting for them once it has everything before them. The
    //  first such hole above the sensor's acknowledged mark; 0 0: none.
    uint64_t hole_from, hole_to;
} mm_heartbeat_t;

int mm_heartbeat_encode (const mm_heartbeat_t *hb, mm_buf_t *out, mm_error_t *err);
int mm_heartbeat_decode (mm_heartbeat_t *hb, const uint8_t *data, size_t len, mm_error_t *err);

#endif
