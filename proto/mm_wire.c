/*  mm_wire: bounded MessagePack reader and mm_buf-backed packer (see mm_wire.h). */
#include "mm_wire.h"

#include <stdbool.h>
#include <string.h>

#include "mm_proto.h"

//  Families of MessagePack types, to say "expected X, got Y" in errors.
typedef enum {
    F_NIL,
    F_BOOL,
    F_UINT,
    F_INT,
    F_FLOAT,
    F_STR,
    F_BIN,
    F_ARRAY,
    F_MAP,
    F_EXT,
    F_NEVER
} s_family_t;

static const char *s_family_names[] = {
    "nil",   "bool", "unsigned integer", "integer",           "float", "string", "binary",
    "array", "map",  "extension",        "reserved byte 0xc1"};

static s_family_t
s_family (uint8_t b)
{
    if (b <= 0x7f)
        return F_UINT;
    if (b <= 0x8f)
        return F_MAP;
    if (b <= 0x9f)
        return F_ARRAY;
    if (b <= 0xbf)
        return F_STR;
    if (b >= 0xe0)
        return F_INT;
    switch (b) {
    case 0xc0: return F_NIL;
    case 0xc2:
    case 0xc3: return F_BOOL;
    case 0xc4:
    case 0xc5:
    case 0xc6: return F_BIN;
    case 0xc7:
    case 0xc8:
    case 0xc9:
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8: return F_EXT;
    case 0xca:
    case 0xcb: return F_FLOAT;
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf: return F_UINT;
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: return F_INT;
    case 0xd9:
    case 0xda:
    case 0xdb: return F_STR;
    case 0xdc:
    case 0xdd: return F_ARRAY;
    case 0xde:
    case 0xdf: return F_MAP;
    default: return F_NEVER;  //  0xc1
    }
}

static inline size_t
s_left (const mm_rd_t *rd)
{
    return (size_t) (rd->end - rd->p);
}

static int
s_truncated (const mm_rd_t *rd, mm_error_t *err, const char *field, const char *what)
{
    return mm_error_set (err, MM_ERR_TRUNCATED, mm_rd_offset (rd), field, "input ends inside %s",
                         what);
}

static int
s_wrong_type (const mm_rd_t *rd, mm_error_t *err, const char *field, const char *expected)
{
    if (rd->p >= rd->end)
        return s_truncated (rd, err, field, "a value");
    return mm_error_set (err, MM_ERR_TYPE, mm_rd_offset (rd), field, "expected %s, got %s",
                         expected, s_family_names[s_family (*rd->p)]);
}

//  Big-endian loads; `n` bytes must be available (checked by callers).
static inline uint64_t
s_be (const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

//  Reads a length/count prefix: `n` bytes after the type byte. Returns total header size or 0.
static size_t
s_read_len (const mm_rd_t *rd, int n, uint32_t *len)
{
    if (s_left (rd) < (size_t) n + 1)
        return 0;
    *len = (uint32_t) s_be (rd->p + 1, n);
    return (size_t) n + 1;
}

int
mm_rd_map (mm_rd_t *rd, uint32_t *count, mm_error_t *err, const char *field)
{
    if (rd->p >= rd->end)
        return s_truncated (rd, err, field, "a map");
    uint8_t b = *rd->p;
    size_t hdr;
    if (b >= 0x80 && b <= 0x8f) {
        *count = b & 0x0f;
        hdr = 1;
    }
    else if (b == 0xde || b == 0xdf) {
        hdr = s_read_len (rd, b == 0xde ? 2 : 4, count);
        if (!hdr)
            return s_truncated (rd, err, field, "a map header");
    }
    else
        return s_wrong_type (rd, err, field, "map");
    //  Each entry needs at least two bytes: reject impossible counts before looping on them.
    if (*count > (s_left (rd) - hdr) / 2)
        return mm_error_set (err, MM_ERR_TRUNCATED, mm_rd_offset (rd), field,
                             "map declares %u entries but only %zu bytes remain", *count,
                             s_left (rd) - hdr);
    rd->p += hdr;
    return 0;
}

int
mm_rd_array (mm_rd_t *rd, uint32_t *count, mm_error_t *err, const char *field)
{
    if (rd->p >= rd->end)
        return s_truncated (rd, err, field, "an array");
    uint8_t b = *rd->p;
    size_t hdr;
    if (b >= 0x90 && b <= 0x9f) {
        *count = b & 0x0f;
        hdr = 1;
    }
    else if (b == 0xdc || b == 0xdd) {
        hdr = s_read_len (rd, b == 0xdc ? 2 : 4, count);
        if (!hdr)
            return s_truncated (rd, err, field, "an array header");
    }
    else
        return s_wrong_type (rd, err, field, "array");
    if (*count > s_left (rd) - hdr)
        return mm_error_set (err, MM_ERR_TRUNCATED, mm_rd_offset (rd), field,
                             "array declares %u elements but only %zu bytes remain", *count,
                             s_left (rd) - hdr);
    rd->p += hdr;
    return 0;
}

int
mm_rd_uint (mm_rd_t *rd, uint64_t *value, mm_error_t *err, const char *field)
{
    if (rd->p >= rd->end)
        return s_truncated (rd, err, field, "an integer");
    uint8_t b = *rd->p;
    if (b <= 0x7f) {
        *value = b;
        rd->p++;
        return 0;
    }
    int n;
    bool is_signed = false;
    switch (b) {
    case 0xcc: n = 1; break;
    case 0xcd: n = 2; break;
    case 0xce: n = 4; break;
    case 0xcf: n = 8; break;
    case 0xd0:
        n = 1;
        is_signed = true;
        break;
    case 0xd1:
        n = 2;
        is_signed = true;
        break;
    case 0xd2:
        n = 4;
        is_signed = true;
        break;
    case 0xd3:
        n = 8;
        is_signed = true;
        break;
    default:
        if (b >= 0xe0)
            return mm_error_set (err, MM_ERR_RANGE, mm_rd_offset (rd), field,
                                 "negative integer %d where only unsigned values are allowed",
                                 (int) (int8_t) b);
        return s_wrong_type (rd, err, field, "unsigned integer");
    }
    if (s_left (rd) < (size_t) n + 1)
        return s_truncated (rd, err, field, "an integer");
    uint64_t v = s_be (rd->p + 1, n);
    //  Other encoders may write small positive numbers as signed types: accept those,
    //  reject negatives (their sign bit is the top bit of the n-byte value).
    if (is_signed && (v >> (n * 8 - 1)) & 1)
        return mm_error_set (err, MM_ERR_RANGE, mm_rd_offset (rd), field,
                             "negative integer where only unsigned values are allowed");
    *value = v;
    rd->p += n + 1;
    return 0;
}

static int
s_rd_bytes (mm_rd_t *rd, bool want_str, const uint8_t **ptr, uint32_t *len, mm_error_t *err,
            const char *field)
{
    if (rd->p >= rd->end)
        return s_truncated (rd, err, field, want_str ? "a string" : "a binary");
    uint8_t b = *rd->p;
    size_t hdr = 0;
    if (want_str && b >= 0xa0 && b <= 0xbf) {
        *len = b & 0x1f;
        hdr = 1;
    }
    else if (want_str && b >= 0xd9 && b <= 0xdb)
        hdr = s_read_len (rd, 1 << (b - 0xd9), len);
    else if (!want_str && b >= 0xc4 && b <= 0xc6)
        hdr = s_read_len (rd, 1 << (b - 0xc4), len);
    else
        return s_wrong_type (rd, err, field, want_str ? "string" : "binary");
    if (!hdr)
        return s_truncated (rd, err, field, "a length prefix");
    if (*len > s_left (rd) - hdr)
        return mm_error_set (err, MM_ERR_TRUNCATED, mm_rd_offset (rd), field,
                             "%s of %u bytes but only %zu bytes remain",
                             want_str ? "string" : "binary", *len, s_left (rd) - hdr);
    *ptr = rd->p + hdr;
    rd->p += hdr + *len;
    return 0;
}

int
mm_rd_str (mm_rd_t *rd, const char **ptr, uint32_t *len, mm_error_t *err, const char *field)
{
    return s_rd_bytes (rd, true, (const uint8_t **) ptr, len, err, field);
}

int
mm_rd_bin (mm_rd_t *rd, const uint8_t **ptr, uint32_t *len, mm_error_t *err, const char *field)
{
    return s_rd_bytes (rd, false, ptr, len, err, field);
}

int
mm_rd_key (mm_rd_t *rd, unsigned *key, mm_error_t *err, const char *field)
{
    if (rd->p < rd->end) {
        s_family_t f = s_family (*rd->p);
        if (f != F_UINT && f != F_INT)
            return mm_error_set (err, MM_ERR_KEY, mm_rd_offset (rd), field,
                                 "map key is a %s; keys are integers 0..127", s_family_names[f]);
    }
    const uint8_t *at = rd->p;
    uint64_t v = 0;
    if (mm_rd_uint (rd, &v, err, field) == -1) {
        if (err && err->code == MM_ERR_RANGE)
            mm_error_set (err, MM_ERR_KEY, mm_rd_offset (rd), field,
                          "negative map key; keys are integers 0..127");
        return -1;
    }
    if (v > 127) {
        rd->p = at;
        return mm_error_set (err, MM_ERR_KEY, mm_rd_offset (rd), field,
                             "map key %llu; keys are integers 0..127", (unsigned long long) v);
    }
    *key = (unsigned) v;
    return 0;
}

int
mm_rd_skip (mm_rd_t *rd, int depth_left, mm_error_t *err, const char *field)
{
    if (rd->p >= rd->end)
        return s_truncated (rd, err, field, "a value");
    uint8_t b = *rd->p;
    uint32_t n;
    const uint8_t *ptr;
    switch (s_family (b)) {
    case F_NIL:
    case F_BOOL: rd->p++; return 0;
    case F_UINT:
    case F_INT: {
        //  Fixints are one byte; the others carry 1, 2, 4 or 8 bytes after the type byte.
        size_t n_bytes = (b <= 0x7f || b >= 0xe0) ? 0 : (size_t) 1 << (b & 0x03);
        if (s_left (rd) < n_bytes + 1)
            return s_truncated (rd, err, field, "an integer");
        rd->p += n_bytes + 1;
        return 0;
    }
    case F_FLOAT: {
        size_t n_bytes = b == 0xca ? 4 : 8;
        if (s_left (rd) < n_bytes + 1)
            return s_truncated (rd, err, field, "a float");
        rd->p += n_bytes + 1;
        return 0;
    }
    case F_STR: return mm_rd_str (rd, (const char **) &ptr, &n, err, field);
    case F_BIN: return mm_rd_bin (rd, &ptr, &n, err, field);
    case F_EXT: {
        //  fixext 1/2/4/8/16 or ext 8/16/32; one type byte follows the length.
        size_t hdr, len;
        if (b >= 0xd4) {
            hdr = 2;
            len = (size_t) 1 << (b - 0xd4);
        }
        else {
            uint32_t l32;
            hdr = s_read_len (rd, 1 << (b - 0xc7), &l32);
            if (!hdr)
                return s_truncated (rd, err, field, "an extension header");
            hdr += 1;
            len = l32;
        }
        if (s_left (rd) < hdr || len > s_left (rd) - hdr)
            return s_truncated (rd, err, field, "an extension value");
        rd->p += hdr + len;
        return 0;
    }
    case F_ARRAY:
    case F_MAP: {
        if (depth_left <= 0)
            return mm_error_set (err, MM_ERR_DEPTH, mm_rd_offset (rd), field,
                                 "values nest deeper than %d levels", MM_DEPTH_MAX);
        bool is_map = s_family (b) == F_MAP;
        if ((is_map ? mm_rd_map (rd, &n, err, field) : mm_rd_array (rd, &n, err, field)) == -1)
            return -1;
        uint64_t items = is_map ? 2 * (uint64_t) n : n;
        for (uint64_t i = 0; i < items; i++)
            if (mm_rd_skip (rd, depth_left - 1, err, field) == -1)
                return -1;
        return 0;
    }
    default:
        return mm_error_set (err, MM_ERR_TYPE, mm_rd_offset (rd), field,
                             "byte 0xc1 is never used in MessagePack");
    }
}

//  msgpack-c calls this for every key, header and value, most of them 1 to 9 bytes: the common
//  case must be a bounds check and a short copy, with the growth path out of line.
static int
s_write (void *data, const char *buf, size_t len)
{
    mm_buf_t *out = data;
    if (__builtin_expect (len <= out->cap - out->len, 1)) {
        uint8_t *dst = out->data + out->len;
        if (len <= 16)
            for (size_t i = 0; i < len; i++)
                dst[i] = (uint8_t) buf[i];
        else
            memcpy (dst, buf, len);
        out->len += len;
        return 0;
    }
    return mm_buf_append (out, buf, len);
}

void
mm_wr_init (msgpack_packer *pk, mm_buf_t *out)
{
    msgpack_packer_init (pk, out, s_write);
}
