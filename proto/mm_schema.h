/*  mm_schema: the table-driven codec, internal to proto/.
    Each message (and each nested map) is described once, as an array of field descriptors
    indexed by key. The same table drives encoding, decoding, validation of limits, the
    required-key check, and the key tables printed into docs/protocol.md, so the code and the
    specification cannot drift apart. */
#ifndef MM_SCHEMA_H
#define MM_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "mm_proto.h"
#include "mm_wire.h"

typedef enum {
    MM_F_NONE = 0,  //  key not defined: skipped when decoding
    MM_F_UINT,      //  unsigned integer of `width` bytes, value in [min, max]
    MM_F_STR,       //  mm_str_t, length <= max
    MM_F_BIN,       //  uint8_t[max], exactly max bytes on the wire; presence by has-bit
    MM_F_ADDR,      //  mm_addr_t, binary of 4 or 16 bytes
    MM_F_MAP,       //  nested struct described by `sub`; presence by has-bit
    MM_F_ARR_STR,   //  mm_str_t[max] with a uint32_t count
    MM_F_ARR_UINT,  //  uint16_t[max] with a uint32_t count, each in [min, max_value]
    MM_F_ARR_MAP,   //  struct[max] described by `sub`, with a uint32_t count
} mm_ftype_t;

enum {
    MM_FF_REQUIRED = 1,    //  must be present on the wire; encoded even when zero
    MM_FF_ALWAYS = 2,      //  encoded even when zero (decoding accepts its absence)
    MM_FF_ENUM_NAMED = 4,  //  docs: values are an enumeration listed in the protocol document
};

typedef struct mm_schema mm_schema_t;

typedef struct {
    uint8_t type;            //  mm_ftype_t
    uint8_t width;           //  MM_F_UINT: 1, 2, 4 or 8
    uint8_t flags;           //  MM_FF_*
    int8_t has_bit;          //  bit in the struct's `has` mask that says present, or -1
    const char *name;        //  short name for errors and docs, e.g. "qname"
    uint32_t offset;         //  of the value in the struct
    uint32_t count_offset;   //  of the uint32_t count (arrays)
    uint64_t min;            //  UINT, ARR_UINT: smallest value
    uint64_t max;            //  UINT: largest value; STR/ARR_*: most elements; BIN: exact size
    uint64_t max_value;      //  ARR_UINT: largest element value
    const mm_schema_t *sub;  //  MAP, ARR_MAP
    uint32_t elem_size;      //  ARR_MAP
    const char *doc;         //  one line for docs/protocol.md
} mm_field_t;

struct mm_schema {
    const char *name;          //  "event", "event.dns", ...
    unsigned msg_type;         //  mm_msg_type_t for a message, 0 for a nested map
    const mm_field_t *fields;  //  indexed by key
    unsigned nfields;          //  highest key + 1
    int has_offset;            //  offset of the struct's uint32_t `has` mask, -1 if none
    size_t size;               //  sizeof the struct
    //  Checks that span fields (e.g. a finding must carry its finding map). 0 or -1.
    //  `offset` is where the map starts in the input, or MM_NO_OFFSET when encoding.
    int (*validate) (const void *obj, size_t offset, mm_error_t *err);
};

//  Encodes `obj` as a whole message (header keys 0 and 1 first) and appends it to `out`.
//  On error `out` is left as it was.
int mm_schema_encode_msg (const mm_schema_t *s, const void *obj, mm_buf_t *out, mm_error_t *err);

//  Decodes one whole message into `obj` (zeroed first). Borrowed strings point into `data`.
int mm_schema_decode_msg (const mm_schema_t *s, void *obj, const uint8_t *data, size_t len,
                          mm_error_t *err);

//  Convenience for descriptor tables.
#define MM_OFF(type, member) ((uint32_t) offsetof (type, member))
#define MM_WIDTH(type, member) ((uint8_t) sizeof (((type *) 0)->member))

//  Descriptor builders, so tables read as one line per key.
//  Has-bits are given as masks (MM_EV_HAS_PORTS) and turned into bit numbers here.
#define MM_BIT_(m)                                                                                 \
    ((m) == 1u << 0    ? 0                                                                         \
     : (m) == 1u << 1  ? 1                                                                         \
     : (m) == 1u << 2  ? 2                                                                         \
     : (m) == 1u << 3  ? 3                                                                         \
     : (m) == 1u << 4  ? 4                                                                         \
     : (m) == 1u << 5  ? 5                                                                         \
     : (m) == 1u << 6  ? 6                                                                         \
     : (m) == 1u << 7  ? 7                                                                         \
     : (m) == 1u << 8  ? 8                                                                         \
     : (m) == 1u << 9  ? 9                                                                         \
     : (m) == 1u << 10 ? 10                                                                        \
     : (m) == 1u << 11 ? 11                                                                        \
     : (m) == 1u << 12 ? 12                                                                        \
     : (m) == 1u << 13 ? 13                                                                        \
     : (m) == 1u << 14 ? 14                                                                        \
     : (m) == 1u << 15 ? 15                                                                        \
     : (m) == 1u << 16 ? 16                                                                        \
     : (m) == 1u << 17 ? 17                                                                        \
     : (m) == 1u << 18 ? 18                                                                        \
     : (m) == 1u << 19 ? 19                                                                        \
                       : -1)
//  A has-bit mask must be zero or a single bit below 20: anything else fails to compile
//  (negative array size) instead of silently losing the field's presence tracking.
#define MM_BIT(m)                                                                                  \
    (MM_BIT_ (m) + 0 * (int) sizeof (char[((m) & ((m) -1u)) == 0 && (m) < (1u << 20) ? 1 : -1]))
#define MM_NOBIT 0u

#define MM_FD_UINT(T, m, nm, lo, hi, fl, bit, d)                                                   \
    {                                                                                              \
        .type = MM_F_UINT, .width = MM_WIDTH (T, m), .flags = (fl),                                \
        .has_bit = (int8_t) ((bit) != 0u ? MM_BIT (bit) : -1), .name = (nm),                       \
        .offset = MM_OFF (T, m), .min = (lo), .max = (hi), .doc = (d)                              \
    }
#define MM_FD_STR(T, m, nm, lim, fl, d)                                                            \
    {                                                                                              \
        .type = MM_F_STR, .flags = (fl), .has_bit = -1, .name = (nm), .offset = MM_OFF (T, m),     \
        .max = (lim), .doc = (d)                                                                   \
    }
#define MM_FD_BIN(T, m, nm, bit, d)                                                                \
    {                                                                                              \
        .type = MM_F_BIN, .has_bit = (int8_t) MM_BIT (bit), .name = (nm), .offset = MM_OFF (T, m), \
        .max = sizeof (((T *) 0)->m), .doc = (d)                                                   \
    }
#define MM_FD_ADDR(T, m, nm, fl, d)                                                                \
    {                                                                                              \
        .type = MM_F_ADDR, .flags = (fl), .has_bit = -1, .name = (nm), .offset = MM_OFF (T, m),    \
        .doc = (d)                                                                                 \
    }
#define MM_FD_MAP(T, m, nm, sch, fl, bit, d)                                                       \
    {                                                                                              \
        .type = MM_F_MAP, .flags = (fl), .has_bit = (int8_t) ((bit) != 0u ? MM_BIT (bit) : -1),    \
        .name = (nm), .offset = MM_OFF (T, m), .sub = (sch), .doc = (d)                            \
    }
#define MM_FD_ARR_STR(T, m, cnt, nm, n_max, len_max, fl, d)                                        \
    {                                                                                              \
        .type = MM_F_ARR_STR, .flags = (fl), .has_bit = -1, .name = (nm), .offset = MM_OFF (T, m), \
        .count_offset = MM_OFF (T, cnt), .max = (n_max), .max_value = (len_max), .doc = (d)        \
    }
#define MM_FD_ARR_U16(T, m, cnt, nm, n_max, lo, hi, d)                                             \
    {                                                                                              \
        .type = MM_F_ARR_UINT, .width = 2, .has_bit = -1, .name = (nm), .offset = MM_OFF (T, m),   \
        .count_offset = MM_OFF (T, cnt), .min = (lo), .max = (n_max), .max_value = (hi),           \
        .doc = (d)                                                                                 \
    }
#define MM_FD_ARR_MAP(T, m, cnt, nm, n_max, sch, fl, d)                                            \
    {                                                                                              \
        .type = MM_F_ARR_MAP, .flags = (fl), .has_bit = -1, .name = (nm), .offset = MM_OFF (T, m), \
        .count_offset = MM_OFF (T, cnt), .max = (n_max), .sub = (sch),                             \
        .elem_size = sizeof (((T *) 0)->m[0]), .doc = (d)                                          \
    }

#define MM_SCHEMA(nm, type_, T, table, has_member, check)                                          \
    {                                                                                              \
        .name = (nm), .msg_type = (type_), .fields = (table),                                      \
        .nfields = sizeof (table) / sizeof (table)[0], .has_offset = (has_member),                 \
        .size = sizeof (T), .validate = (check)                                                    \
    }

extern const mm_schema_t mm_event_schema;
extern const mm_schema_t mm_heartbeat_schema;
extern const mm_schema_t mm_ack_schema;
extern const mm_schema_t mm_warning_schema;
extern const mm_schema_t mm_watchlist_schema;
extern const mm_schema_t mm_incident_schema;
extern const mm_schema_t mm_health_schema;

//  Every message schema, NULL-terminated, for tools that print or check them
//  (mimamori-msg doc generates the key tables of docs/protocol.md from it).
extern const mm_schema_t *const mm_schemas[];

#endif
