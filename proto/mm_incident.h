/*  mm_incident: INCIDENT, an immediate notification from the aggregator to the provider SOC
    console of a company that was hit, when a severe finding arrives (the standard asks for
    notice within 60 minutes; we aim for under 1 s). Unlike a WARNING it names the company:
    it goes to that company's own SOC, which knows it.
    The envelope's org (key 4) is the hit organisation, its sensor (key 3) the sensor that saw
    it, its ts (key 2) when the notification was made; provider and region route it to the
    consoles entitled to see it. */
#ifndef MM_INCIDENT_H
#define MM_INCIDENT_H

#include "mm_event.h"
#include "mm_proto.h"
#include "mm_warning.h"

enum {
    MM_IK_PROVIDER = 10,
    MM_IK_REGION = 11,
    MM_IK_SEEN = 12,
    MM_IK_FINDING_ID = 13,
    MM_IK_KIND = 14,
    MM_IK_SEV = 15,
    MM_IK_CONF = 16,
    MM_IK_CATEGORY = 17,
    MM_IK_DETECTOR = 18,
    MM_IK_MESSAGE = 19,
    MM_IK_IOC = 20,
    MM_IK_ACTION = 21,
};

#define MM_INC_HAS_IOC (1u << 0)
typedef struct {
    uint32_t has;         //  MM_INC_HAS_IOC when an indicator is present
    uint64_t ts;          //  notified at, ns since the epoch
    mm_str_t sensor;      //  the sensor that saw it (required)
    mm_str_t org;         //  the hit organisation (required)
    mm_str_t provider;    //  its provider, the SOC to notify (required)
    mm_str_t region;      //  region name, e.g. "kanto" (required)
    uint64_t seen;        //  the finding's own time, ns since the epoch (required)
    uint64_t finding_id;  //  (sensor, finding_id) names the finding; 0: none (a quarantine)
    uint8_t kind;         //  mm_inc_kind_t (required)
    uint8_t severity;     //  mm_sev_t, 1..6 (required)
    uint8_t confidence;   //  0..100
    uint8_t category;     //  mm_category_t (required)
    mm_str_t detector;    //  e.g. "beacon" (required)
    mm_str_t message;     //  what was seen (required, <= MM_LONG_MAX)
    mm_ioc_t ioc;         //  the indicator, as in EVENT's finding
    mm_waction_t action;  //  what to do: code, text_ja and text_en all required
} mm_incident_t;

//  Appends the encoding of `inc` to `out`. 0, or -1 with `err` filled and `out` unchanged
//  (the encoder refuses anything the decoder would reject).
int mm_incident_encode (const mm_incident_t *inc, mm_buf_t *out, mm_error_t *err);

//  Decodes `data` into `inc`; strings in `inc` point into `data`. 0, or -1 with `err` filled.
int mm_incident_decode (mm_incident_t *inc, const uint8_t *data, size_t len, mm_error_t *err);

#endif
