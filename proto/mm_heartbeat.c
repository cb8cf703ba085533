/*  mm_heartbeat: the HEARTBEAT schema (see mm_heartbeat.h). Counters are always encoded:
    a zero in a health report is information. */
#include "mm_heartbeat.h"

#include "mm_schema.h"

#define S_COUNTER(m, key_name, d)                                                                  \
    MM_FD_UINT (mm_heartbeat_t, m, key_name, 0, UINT64_MAX, MM_FF_ALWAYS, MM_NOBIT, d)

static const mm_field_t s_fields[] = {
    [MM_K_TS] = MM_FD_UINT (mm_heartbeat_t, ts, "ts", 1, UINT64_MAX, MM_FF_REQUIRED, MM_NOBIT,
                            "time of the report, ns since the epoch"),
    [MM_K_SENSOR] = MM_FD_STR (mm_heartbeat_t, sensor, "sensor", MM_ID_MAX, MM_FF_REQUIRED,
                               "sensor id (overwritten from the CURVE key)"),
    [MM_K_ORG] = MM_FD_STR (mm_heartbeat_t, org, "org", MM_ID_MAX, MM_FF_REQUIRED,
                            "organisation id (overwritten from the CURVE key)"),
    [MM_K_SEQ] = S_COUNTER (seq, "seq", "last event sequence number assigned"),
    [MM_HK_UPTIME] = MM_FD_UINT (mm_heartbeat_t, uptime_s, "uptime_s", 0, UINT64_MAX,
                                 MM_FF_REQUIRED, MM_NOBIT, "seconds since the sensor started"),
    [MM_HK_PACKETS] = S_COUNTER (packets, "packets", "packets seen since start"),
    [MM_HK_DROPS] = S_COUNTER (drops, "drops", "capture drops since start"),
    [MM_HK_FLOWS] = S_COUNTER (flows, "flows", "flows in the table now"),
    [MM_HK_EVENTS] = S_COUNTER (events, "events", "events produced since start"),
    [MM_HK_SPOOL_DEPTH] = S_COUNTER (spool_depth, "spool_depth", "events awaiting acknowledgement"),
    [MM_HK_SPOOL_BYTES] = S_COUNTER (spool_bytes, "spool_bytes", "bytes in the spool"),
    [MM_HK_SPOOL_DROPPED] =
        S_COUNTER (spool_dropped, "spool_dropped", "events lost to the spool bound since start"),
    [MM_HK_VERSION] = MM_FD_STR (mm_heartbeat_t, version, "version", MM_SHORT_MAX, MM_FF_REQUIRED,
                                 "sensor software version"),
    [MM_HK_HOLE_FROM] = MM_FD_UINT (mm_heartbeat_t, hole_from, "hole_from", 0, UINT64_MAX, 0,
                                    MM_NOBIT, "first seq of a range the sensor will never send"),
    [MM_HK_HOLE_TO] = MM_FD_UINT (mm_heartbeat_t, hole_to, "hole_to", 0, UINT64_MAX, 0, MM_NOBIT,
                                  "last seq of that range (the broker skips it)"),
};

const mm_schema_t mm_heartbeat_schema =
    MM_SCHEMA ("heartbeat", MM_MSG_HEARTBEAT, mm_heartbeat_t, s_fields, -1, NULL);

int
mm_heartbeat_encode (const mm_heartbeat_t *hb, mm_buf_t *out, mm_error_t *err)
{
    return mm_schema_encode_msg (&mm_heartbeat_schema, hb, out, err);
}

int
mm_heartbeat_decode (mm_heartbeat_t *hb, const uint8_t *data, size_t len, mm_error_t *err)
{
    return mm_schema_decode_msg (&mm_heartbeat_schema, hb, data, len, err);
}
