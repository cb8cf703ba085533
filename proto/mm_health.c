/*  mm_health: the HEALTH schema (see mm_health.h). */
#include "mm_health.h"

#include "mm_schema.h"

static const mm_field_t s_fields[] = {
    [MM_K_TS] = MM_FD_UINT (mm_health_t, ts, "ts", 1, UINT64_MAX, MM_FF_REQUIRED, MM_NOBIT,
                            "made at, ns since the epoch"),
    [MM_K_SENSOR] =
        MM_FD_STR (mm_health_t, sensor, "sensor", MM_ID_MAX, MM_FF_REQUIRED, "the sensor"),
    [MM_K_ORG] = MM_FD_STR (mm_health_t, org, "org", MM_ID_MAX, MM_FF_REQUIRED, "its company"),
    [MM_HK2_REGION] = MM_FD_STR (mm_health_t, region, "region", MM_ID_MAX, MM_FF_REQUIRED,
                                 "the company's region, e.g. kanto"),
    [MM_HK2_STATE] = MM_FD_UINT (mm_health_t, state, "state", 1, UINT8_MAX,
                                 MM_FF_REQUIRED | MM_FF_ENUM_NAMED, MM_NOBIT, "health state"),
    [MM_HK2_LAST_SEEN] =
        MM_FD_UINT (mm_health_t, last_seen, "last_seen", 0, UINT64_MAX, MM_FF_ALWAYS, MM_NOBIT,
                    "its newest event stored, ns since the epoch (0: none since start)"),
    [MM_HK2_SINCE] = MM_FD_UINT (mm_health_t, since, "since", 0, UINT64_MAX, MM_FF_ALWAYS, MM_NOBIT,
                                 "when the state began (0: unknown)"),
    [MM_HK2_EVENTS] = MM_FD_UINT (mm_health_t, events, "events", 0, UINT64_MAX, MM_FF_ALWAYS,
                                  MM_NOBIT, "its events stored since the aggregator started"),
};

const mm_schema_t mm_health_schema =
    MM_SCHEMA ("health", MM_MSG_HEALTH, mm_health_t, s_fields, -1, NULL);

int
mm_health_encode (const mm_health_t *h, mm_buf_t *out, mm_error_t *err)
{
    return mm_schema_encode_msg (&mm_health_schema, h, out, err);
}

int
mm_health_decode (mm_health_t *h, const uint8_t *data, size_t len, mm_error_t *err)
{
    return mm_schema_decode_msg (&mm_health_schema, h, data, len, err);
}
