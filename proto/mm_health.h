/*  mm_health: HEALTH, a sensor's health as the aggregator sees it, sent to the SOC consoles of
    the sensor's company's provider and region (issue 8: "sensor health, silent sensors
    first"). Not an event: each HEALTH replaces the console's earlier one for that sensor, and
    a console that connects gets the current one of each of its sensors.
    The envelope's sensor (key 3) is the sensor, org (key 4) its company, ts (key 2) when the
    aggregator made the report. */
#ifndef MM_HEALTH_H
#define MM_HEALTH_H

#include "mm_buf.h"
#include "mm_error.h"
#include "mm_proto.h"

enum {
    MM_HK2_REGION = 10,
    MM_HK2_STATE = 11,
    MM_HK2_LAST_SEEN = 12,
    MM_HK2_SINCE = 13,
    MM_HK2_EVENTS = 14,
};

typedef struct {
    uint64_t ts;         //  made at, ns since the epoch (required)
    mm_str_t sensor;     //  (required)
    mm_str_t org;        //  its company (required)
    mm_str_t region;     //  the company's region, e.g. "kanto" (required)
    uint8_t state;       //  mm_health_state_t (required)
    uint64_t last_seen;  //  when the aggregator last stored an event of it (0: not since start)
    uint64_t since;      //  when the state began (0: unknown)
    uint64_t events;     //  events of it stored since the aggregator started
} mm_health_t;

int mm_health_encode (const mm_health_t *h, mm_buf_t *out, mm_error_t *err);
int mm_health_decode (mm_health_t *h, const uint8_t *data, size_t len, mm_error_t *err);

#endif
