/*  mm_ack: the ACK schema (see mm_ack.h). */
#include "mm_ack.h"

#include "mm_schema.h"

static const mm_field_t s_fields[] = {
    [MM_K_TS] = MM_FD_UINT (mm_ack_t, ts, "ts", 0, UINT64_MAX, 0, MM_NOBIT,
                            "time of the acknowledgement, ns since the epoch"),
    [MM_K_SENSOR] = MM_FD_STR (mm_ack_t, sensor, "sensor", MM_ID_MAX, MM_FF_REQUIRED,
                               "sensor whose events are acknowledged"),
    [MM_K_SEQ] = MM_FD_UINT (mm_ack_t, seq, "seq", 0, UINT64_MAX, MM_FF_REQUIRED, MM_NOBIT,
                             "every seq <= this is durable"),
};

const mm_schema_t mm_ack_schema = MM_SCHEMA ("ack", MM_MSG_ACK, mm_ack_t, s_fields, -1, NULL);

int
mm_ack_encode (const mm_ack_t *ack, mm_buf_t *out, mm_error_t *err)
{
    return mm_schema_encode_msg (&mm_ack_schema, ack, out, err);
}

int
mm_ack_decode (mm_ack_t *ack, const uint8_t *data, size_t len, mm_error_t *err)
{
    return mm_schema_decode_msg (&mm_ack_schema, ack, data, len, err);
}
