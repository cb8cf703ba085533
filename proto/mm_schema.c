/*  mm_schema: the table-driven codec (see mm_schema.h).
    Encoding writes keys in ascending order and integers in their shortest form (msgpack-c's
    rule), so one message has exactly one encoding: golden vectors in the tests pin it. */
#include "mm_schema.h"

#include <string.h>

//  ---------------------------------------------------------------------------------------------
//  Struct access through descriptors

static uint64_t
s_get_uint (const void *obj, uint32_t offset, uint8_t width)
{
    const uint8_t *p = (const uint8_t *) obj + offset;
    switch (width) {
    case 1: return *p;
    case 2: {
        uint16_t v;
        memcpy (&v, p, 2);
        return v;
    }
    case 4: {
        uint32_t v;
        memcpy (&v, p, 4);
        return v;
    }
    default: {
        uint64_t v = 0;
        memcpy (&v, p, 8);
        return v;
    }
    }
}

static void
s_set_uint (void *obj, uint32_t offset, uint8_t width, uint64_t value)
{
    uint8_t *p = (uint8_t *) obj + offset;
    switch (width) {
    case 1: *p = (uint8_t) value; break;
    case 2: {
        uint16_t v = (uint16_t) value;
        memcpy (p, &v, 2);
        break;
    }
    case 4: {
        uint32_t v = (uint32_t) value;
        memcpy (p, &v, 4);
        break;
    }
    default: memcpy (p, &value, 8); break;
    }
}

static inline uint32_t *
s_has_mask (const mm_schema_t *s, const void *obj)
{
    return (uint32_t *) ((uint8_t *) obj + s->has_offset);
}

static bool
s_has_bit (const mm_schema_t *s, const mm_field_t *f, const void *obj)
{
    return (*s_has_mask (s, obj) >> f->has_bit) & 1;
}

static inline const void *
s_at (const void *obj, uint32_t offset)
{
    return (const uint8_t *) obj + offset;
}

static uint32_t
s_count (const void *obj, const mm_field_t *f)
{
    uint32_t n;
    memcpy (&n, s_at (obj, f->count_offset), sizeof n);
    return n;
}

//  Whether a field goes on the wire. Required fields always do, so a missing required
//  value is caught by the field's own check ("missing") rather than silently left out.
static bool
s_present (const mm_schema_t *s, const mm_field_t *f, const void *obj)
{
    if (f->has_bit >= 0)
        return s_has_bit (s, f, obj) || (f->flags & MM_FF_REQUIRED);
    switch (f->type) {
    case MM_F_UINT:
        return (f->flags & (MM_FF_REQUIRED | MM_FF_ALWAYS)) ||
               s_get_uint (obj, f->offset, f->width) != 0;
    case MM_F_STR:
        return (f->flags & MM_FF_REQUIRED) || ((const mm_str_t *) s_at (obj, f->offset))->len > 0;
    case MM_F_ADDR:
        return (f->flags & MM_FF_REQUIRED) || ((const mm_addr_t *) s_at (obj, f->offset))->len > 0;
    case MM_F_MAP: return true;
    case MM_F_ARR_STR:
    case MM_F_ARR_UINT:
    case MM_F_ARR_MAP: return (f->flags & MM_FF_REQUIRED) || s_count (obj, f) > 0;
    default: return false;
    }
}

//  ---------------------------------------------------------------------------------------------
//  Encoding

static int s_encode_map (const mm_schema_t *s, const void *obj, msgpack_packer *pk,
                         mm_error_t *err);

static int
s_enc_error (mm_error_t *err, mm_errc_t code, const mm_schema_t *s, const mm_field_t *f,
             const char *detail)
{
    char field[64];
    snprintf (field, sizeof field, "%s.%s", s->name, f->name);
    return mm_error_set (err, code, MM_NO_OFFSET, field, "%s", detail);
}

static int
s_nomem (mm_error_t *err)
{
    return mm_error_set (err, MM_ERR_NOMEM, MM_NO_OFFSET, NULL, "out of memory while encoding");
}

static int
s_encode_str (const mm_schema_t *s, const mm_field_t *f, mm_str_t v, uint64_t max,
              msgpack_packer *pk, mm_error_t *err)
{
    char detail[80];
    if (v.len == 0 && (f->flags & MM_FF_REQUIRED))
        return s_enc_error (err, MM_ERR_MISSING, s, f, "required string is empty");
    if (v.len > max) {
        snprintf (detail, sizeof detail, "string of %u bytes exceeds the limit of %llu", v.len,
                  (unsigned long long) max);
        return s_enc_error (err, MM_ERR_TOO_LONG, s, f, detail);
    }
    if (v.len > 0 && !v.ptr)
        return s_enc_error (err, MM_ERR_INVALID, s, f, "string has a length but no bytes");
    if (msgpack_pack_str (pk, v.len) || msgpack_pack_str_body (pk, v.ptr, v.len))
        return s_nomem (err);
    return 0;
}

static int
s_encode_field (const mm_schema_t *s, const mm_field_t *f, const void *obj, msgpack_packer *pk,
                mm_error_t *err)
{
    char detail[96];
    const void *at = s_at (obj, f->offset);
    switch (f->type) {
    case MM_F_UINT: {
        uint64_t v = s_get_uint (obj, f->offset, f->width);
        if (v < f->min || v > f->max) {
            snprintf (detail, sizeof detail, "%llu is outside %llu..%llu", (unsigned long long) v,
                      (unsigned long long) f->min, (unsigned long long) f->max);
            return s_enc_error (err, MM_ERR_RANGE, s, f, detail);
        }
        return msgpack_pack_uint64 (pk, v) ? s_nomem (err) : 0;
    }
    case MM_F_STR: return s_encode_str (s, f, *(const mm_str_t *) at, f->max, pk, err);
    case MM_F_BIN:
        if (msgpack_pack_bin (pk, (size_t) f->max) ||
            msgpack_pack_bin_body (pk, at, (size_t) f->max))
            return s_nomem (err);
        return 0;
    case MM_F_ADDR: {
        const mm_addr_t *a = at;
        if (a->len != 4 && a->len != 16) {
            snprintf (detail, sizeof detail, "address length %u (must be 4 or 16)", a->len);
            return s_enc_error (err, a->len ? MM_ERR_INVALID : MM_ERR_MISSING, s, f, detail);
        }
        if (msgpack_pack_bin (pk, a->len) || msgpack_pack_bin_body (pk, a->b, a->len))
            return s_nomem (err);
        return 0;
    }
    case MM_F_MAP: return s_encode_map (f->sub, at, pk, err);
    default: break;
    }
    //  Arrays.
    uint32_t n = s_count (obj, f);
    if (n == 0 && (f->flags & MM_FF_REQUIRED))
        return s_enc_error (err, MM_ERR_MISSING, s, f, "required array is empty");
    if (n > f->max) {
        snprintf (detail, sizeof detail, "%u elements exceed the limit of %llu", n,
                  (unsigned long long) f->max);
        return s_enc_error (err, MM_ERR_TOO_LONG, s, f, detail);
    }
    if (msgpack_pack_array (pk, n))
        return s_nomem (err);
    for (uint32_t i = 0; i < n; i++) {
        int rc = 0;
        if (f->type == MM_F_ARR_STR) {
            mm_str_t v = ((const mm_str_t *) at)[i];
            if (v.len == 0)
                return s_enc_error (err, MM_ERR_INVALID, s, f, "array holds an empty string");
            rc = s_encode_str (s, f, v, f->max_value, pk, err);
        }
        else if (f->type == MM_F_ARR_UINT) {
            uint64_t v = ((const uint16_t *) at)[i];
            if (v < f->min || v > f->max_value) {
                snprintf (detail, sizeof detail, "element %llu is outside %llu..%llu",
                          (unsigned long long) v, (unsigned long long) f->min,
                          (unsigned long long) f->max_value);
                return s_enc_error (err, MM_ERR_RANGE, s, f, detail);
            }
            rc = msgpack_pack_uint64 (pk, v) ? s_nomem (err) : 0;
        }
        else
            rc = s_encode_map (f->sub, (const uint8_t *) at + (size_t) i * f->elem_size, pk, err);
        if (rc)
            return -1;
    }
    return 0;
}

//  Keys are 0..127, so each is its own one-byte positive fixint.
static inline int
s_pack_key (msgpack_packer *pk, unsigned key)
{
    char b = (char) key;
    return pk->callback (pk->data, &b, 1);
}

static int
s_encode_map (const mm_schema_t *s, const void *obj, msgpack_packer *pk, mm_error_t *err)
{
    if (s->validate && s->validate (obj, MM_NO_OFFSET, err) == -1)
        return -1;
    //  The map header needs the count first: decide presence once, remember the keys.
    uint8_t keys[128];
    uint32_t count = 0;
    for (unsigned k = 0; k < s->nfields; k++)
        if (s->fields[k].type != MM_F_NONE && s_present (s, &s->fields[k], obj))
            keys[count++] = (uint8_t) k;
    if (msgpack_pack_map (pk, count + (s->msg_type ? 2 : 0)))
        return s_nomem (err);
    if (s->msg_type) {
        if (s_pack_key (pk, MM_K_VERSION) || msgpack_pack_uint64 (pk, MM_PROTO_VERSION) ||
            s_pack_key (pk, MM_K_TYPE) || msgpack_pack_uint64 (pk, s->msg_type))
            return s_nomem (err);
    }
    for (uint32_t i = 0; i < count; i++) {
        if (s_pack_key (pk, keys[i]))
            return s_nomem (err);
        if (s_encode_field (s, &s->fields[keys[i]], obj, pk, err))
            return -1;
    }
    return 0;
}

int
mm_schema_encode_msg (const mm_schema_t *s, const void *obj, mm_buf_t *out, mm_error_t *err)
{
    size_t start = out->len;
    //  One reservation covers a typical message, so the packer's writes rarely grow the buffer.
    if (mm_buf_reserve (out, 1024) == -1)
        return s_nomem (err);
    msgpack_packer pk;
    mm_wr_init (&pk, out);
    if (err)
        err->code = MM_OK;
    if (s_encode_map (s, obj, &pk, err) == -1) {
        mm_buf_truncate (out, start);
        return -1;
    }
    if (out->len - start > MM_MSG_MAX) {
        size_t size = out->len - start;
        mm_buf_truncate (out, start);
        return mm_error_set (err, MM_ERR_TOO_BIG, MM_NO_OFFSET, s->name,
                             "encoded message of %zu bytes exceeds the limit of %d", size,
                             MM_MSG_MAX);
    }
    return 0;
}

//  ---------------------------------------------------------------------------------------------
//  Decoding

static int s_decode_map (const mm_schema_t *s, void *obj, mm_rd_t *rd, int depth, mm_error_t *err);

//  Fails with the field named relative to its schema ("event" + "sport").
static int
s_dec_fail (mm_error_t *err, const mm_schema_t *s)
{
    mm_error_qualify (err, s->name);
    return -1;
}

static int
s_dec_range (mm_error_t *err, const mm_rd_t *rd, const mm_schema_t *s, const mm_field_t *f,
             const uint8_t *at, uint64_t v, uint64_t lo, uint64_t hi)
{
    mm_error_set (err, MM_ERR_RANGE, (size_t) (at - rd->base), f->name,
                  "%llu is outside %llu..%llu", (unsigned long long) v, (unsigned long long) lo,
                  (unsigned long long) hi);
    return s_dec_fail (err, s);
}

static int
s_dec_too_long (mm_error_t *err, const mm_rd_t *rd, const mm_schema_t *s, const mm_field_t *f,
                const uint8_t *at, const char *what, uint64_t n, uint64_t limit)
{
    mm_error_set (err, MM_ERR_TOO_LONG, (size_t) (at - rd->base), f->name,
                  "%s of %llu exceeds the limit of %llu", what, (unsigned long long) n,
                  (unsigned long long) limit);
    return s_dec_fail (err, s);
}

static int
s_decode_str (const mm_schema_t *s, const mm_field_t *f, mm_str_t *out, uint64_t max, mm_rd_t *rd,
              mm_error_t *err)
{
    const uint8_t *at = rd->p;
    if (mm_rd_str (rd, &out->ptr, &out->len, err, f->name) == -1)
        return s_dec_fail (err, s);
    if (out->len > max)
        return s_dec_too_long (err, rd, s, f, at, "string length", out->len, max);
    return 0;
}

static int
s_decode_field (const mm_schema_t *s, const mm_field_t *f, void *obj, mm_rd_t *rd, int depth,
                mm_error_t *err)
{
    void *at_obj = (uint8_t *) obj + f->offset;
    const uint8_t *at = rd->p;
    switch (f->type) {
    case MM_F_UINT: {
        uint64_t v = 0;
        if (mm_rd_uint (rd, &v, err, f->name) == -1)
            return s_dec_fail (err, s);
        if (v < f->min || v > f->max)
            return s_dec_range (err, rd, s, f, at, v, f->min, f->max);
        s_set_uint (obj, f->offset, f->width, v);
        return 0;
    }
    case MM_F_STR:
        if (s_decode_str (s, f, at_obj, f->max, rd, err) == -1)
            return -1;
        //  "" means absent (mm_proto.h), so a required string may not be empty.
        if ((f->flags & MM_FF_REQUIRED) && ((mm_str_t *) at_obj)->len == 0) {
            mm_error_set (err, MM_ERR_MISSING, (size_t) (at - rd->base), f->name,
                          "required string is empty");
            return s_dec_fail (err, s);
        }
        return 0;
    case MM_F_BIN:
    case MM_F_ADDR: {
        const uint8_t *p;
        uint32_t n;
        if (mm_rd_bin (rd, &p, &n, err, f->name) == -1)
            return s_dec_fail (err, s);
        if (f->type == MM_F_BIN && n != f->max) {
            mm_error_set (err, MM_ERR_INVALID, (size_t) (at - rd->base), f->name,
                          "binary of %u bytes, must be exactly %llu", n,
                          (unsigned long long) f->max);
            return s_dec_fail (err, s);
        }
        if (f->type == MM_F_ADDR) {
            if (n != 4 && n != 16) {
                mm_error_set (err, MM_ERR_INVALID, (size_t) (at - rd->base), f->name,
                              "address of %u bytes, must be 4 (IPv4) or 16 (IPv6)", n);
                return s_dec_fail (err, s);
            }
            mm_addr_t *a = at_obj;
            a->len = (uint8_t) n;
            memcpy (a->b, p, n);
        }
        else
            memcpy (at_obj, p, n);
        return 0;
    }
    case MM_F_MAP: return s_decode_map (f->sub, at_obj, rd, depth + 1, err);
    default: break;
    }
    //  Arrays.
    uint32_t n;
    if (depth + 1 > MM_DEPTH_MAX) {
        mm_error_set (err, MM_ERR_DEPTH, mm_rd_offset (rd), f->name,
                      "values nest deeper than %d levels", MM_DEPTH_MAX);
        return s_dec_fail (err, s);
    }
    if (mm_rd_array (rd, &n, err, f->name) == -1)
        return s_dec_fail (err, s);
    if (n > f->max)
        return s_dec_too_long (err, rd, s, f, at, "array length", n, f->max);
    memcpy ((uint8_t *) obj + f->count_offset, &n, sizeof n);
    for (uint32_t i = 0; i < n; i++) {
        if (f->type == MM_F_ARR_STR) {
            mm_str_t *v = (mm_str_t *) at_obj + i;
            const uint8_t *el = rd->p;
            if (s_decode_str (s, f, v, f->max_value, rd, err) == -1)
                return -1;
            if (v->len == 0) {
                mm_error_set (err, MM_ERR_INVALID, (size_t) (el - rd->base), f->name,
                              "array holds an empty string");
                return s_dec_fail (err, s);
            }
        }
        else if (f->type == MM_F_ARR_UINT) {
            uint64_t v = 0;
            const uint8_t *el = rd->p;
            if (mm_rd_uint (rd, &v, err, f->name) == -1)
                return s_dec_fail (err, s);
            if (v < f->min || v > f->max_value)
                return s_dec_range (err, rd, s, f, el, v, f->min, f->max_value);
            ((uint16_t *) at_obj)[i] = (uint16_t) v;
        }
        //  The array is one level below this map, its element maps two.
        else if (s_decode_map (f->sub, (uint8_t *) at_obj + (size_t) i * f->elem_size, rd,
                               depth + 2, err) == -1)
            return -1;
    }
    return 0;
}

//  `depth` counts the maps and arrays we are inside, the message map being 1.
static int
s_decode_map (const mm_schema_t *s, void *obj, mm_rd_t *rd, int depth, mm_error_t *err)
{
    const uint8_t *start = rd->p;
    if (depth > MM_DEPTH_MAX)
        return mm_error_set (err, MM_ERR_DEPTH, mm_rd_offset (rd), s->name,
                             "values nest deeper than %d levels", MM_DEPTH_MAX);
    uint32_t n;
    if (mm_rd_map (rd, &n, err, NULL) == -1)
        return s_dec_fail (err, s);
    uint64_t seen[2] = {0, 0};
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *key_at = rd->p;
        unsigned key;
        if (mm_rd_key (rd, &key, err, NULL) == -1)
            return s_dec_fail (err, s);
        if ((seen[key >> 6] >> (key & 63)) & 1)
            return mm_error_set (err, MM_ERR_DUPLICATE, (size_t) (key_at - rd->base), s->name,
                                 "key %u appears twice", key);
        seen[key >> 6] |= 1ULL << (key & 63);
        if (s->msg_type && (key == MM_K_VERSION || key == MM_K_TYPE)) {
            const uint8_t *at = rd->p;
            uint64_t v = 0;
            if (mm_rd_uint (rd, &v, err, key == MM_K_VERSION ? "v" : "type") == -1)
                return s_dec_fail (err, s);
            if (key == MM_K_VERSION && v != MM_PROTO_VERSION)
                return mm_error_set (err, MM_ERR_VERSION, (size_t) (at - rd->base), s->name,
                                     "schema version %llu; this decoder knows version %d",
                                     (unsigned long long) v, MM_PROTO_VERSION);
            if (key == MM_K_TYPE && v != s->msg_type) {
                const char *name = mm_msg_type_name ((unsigned) (v > 255 ? 0 : v));
                return mm_error_set (err, MM_ERR_MSG_TYPE, (size_t) (at - rd->base), s->name,
                                     "message type %llu (%s) given to the %s decoder",
                                     (unsigned long long) v, name ? name : "unknown", s->name);
            }
            continue;
        }
        const mm_field_t *f = key < s->nfields ? &s->fields[key] : NULL;
        if (!f || f->type == MM_F_NONE) {
            //  Forward compatibility: a newer peer may send keys we do not know.
            if (mm_rd_skip (rd, MM_DEPTH_MAX - depth, err, NULL) == -1)
                return s_dec_fail (err, s);
            continue;
        }
        if (s_decode_field (s, f, obj, rd, depth, err) == -1)
            return -1;
        if (f->has_bit >= 0)
            *s_has_mask (s, obj) |= 1u << f->has_bit;
    }
    if (s->msg_type && !((seen[0] >> MM_K_VERSION) & 1))
        return mm_error_set (err, MM_ERR_MISSING, (size_t) (start - rd->base), s->name,
                             "required key 0 (v) is absent");
    if (s->msg_type && !((seen[0] >> MM_K_TYPE) & 1))
        return mm_error_set (err, MM_ERR_MISSING, (size_t) (start - rd->base), s->name,
                             "required key 1 (type) is absent");
    for (unsigned k = 0; k < s->nfields; k++) {
        const mm_field_t *f = &s->fields[k];
        if ((f->flags & MM_FF_REQUIRED) && !((seen[k >> 6] >> (k & 63)) & 1))
            return mm_error_set (err, MM_ERR_MISSING, (size_t) (start - rd->base), s->name,
                                 "required key %u (%s) is absent", k, f->name);
    }
    if (s->validate && s->validate (obj, (size_t) (start - rd->base), err) == -1)
        return -1;
    return 0;
}

//  A message from another version or of another type may fail on some field before its
//  header keys are reached (our encoder writes them first, others need not): report the
//  header problem then, since it explains the rest. Only the failure path pays for this scan.
static void
s_prefer_header_error (const mm_schema_t *s, const uint8_t *data, size_t len, mm_error_t *err)
{
    if (!err || err->code == MM_ERR_VERSION)
        return;
    mm_error_t peek_err;
    mm_msg_type_t type;
    bool have_type_error = err->code == MM_ERR_MSG_TYPE;  //  already precise: keep it
    if (mm_msg_peek (data, len, &type, &peek_err) == -1) {
        if (peek_err.code == MM_ERR_VERSION ||
            (peek_err.code == MM_ERR_MSG_TYPE && !have_type_error))
            *err = peek_err;
    }
    else if (type != s->msg_type && !have_type_error)
        mm_error_set (err, MM_ERR_MSG_TYPE, 0, s->name,
                      "message type %u (%s) given to the %s decoder", (unsigned) type,
                      mm_msg_type_name (type), s->name);
}

int
mm_schema_decode_msg (const mm_schema_t *s, void *obj, const uint8_t *data, size_t len,
                      mm_error_t *err)
{
    if (err)
        err->code = MM_OK;
    memset (obj, 0, s->size);
    if (len > MM_MSG_MAX)
        return mm_error_set (err, MM_ERR_TOO_BIG, 0, NULL,
                             "message of %zu bytes exceeds the limit of %d", len, MM_MSG_MAX);
    mm_rd_t rd;
    mm_rd_init (&rd, data, len);
    int rc = s_decode_map (s, obj, &rd, 1, err);
    if (rc == 0 && rd.p != rd.end)
        rc = mm_error_set (err, MM_ERR_TRAILING, mm_rd_offset (&rd), NULL,
                           "%zu bytes follow the end of the message", (size_t) (rd.end - rd.p));
    if (rc == -1)
        s_prefer_header_error (s, data, len, err);
    return rc;
}

const mm_schema_t *const mm_schemas[] = {
    &mm_event_schema,     &mm_heartbeat_schema, &mm_ack_schema,    &mm_warning_schema,
    &mm_watchlist_schema, &mm_incident_schema,  &mm_health_schema, NULL};
