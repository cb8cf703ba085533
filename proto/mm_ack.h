/*  mm_ack: ACK, a cumulative acknowledgement: every event of `sensor` with a sequence number
    up to and including `seq` is durable at the sender of the ACK and may be dropped from the
    receiver's spool. Brokers send it to sensors, the aggregator to brokers. */
#ifndef MM_ACK_H
#define MM_ACK_H

#include "mm_proto.h"

typedef struct {
    uint64_t ts;      //  optional, ns since the epoch
    mm_str_t sensor;  //  whose events: required, a broker acks many sensors' streams
    uint64_t seq;     //  highest contiguous sequence number made durable (0: none yet)
} mm_ack_t;

int mm_ack_encode (const mm_ack_t *ack, mm_buf_t *out, mm_error_t *err);
int mm_ack_decode (mm_ack_t *ack, const uint8_t *data, size_t len, mm_error_t *err);

#endif
