/*  INCIDENT (proto/mm_incident): round trip, the exact wire bytes and JSON line of the sample,
    and every refusal, by the decoder (on untrusted input, also through mm_msg_peek and
    mm_msg_to_json) and by the encoder (which must refuse what the decoder rejects).
    Bad inputs are crafted with msgpack-c's packer or as literal bytes, never with our own
    encoder, so an encoder bug cannot hide a decoder bug. */
#include <criterion/criterion.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_sample.h"

#define S_N(a) (sizeof (a) / sizeof (a)[0])

//  The sample (mm_sample_incident), encoded: 379 bytes. A change here is a wire-format change
//  and needs a version decision (docs/protocol.md, "Versioning").
static const char s_golden_hex[] =
    "de00110001010602cf18ea4bd9d293df9503ac732d6b616e746f2d3030303104a86f72672d303030"
    "310aa6702d656173740ba56b616e746f0ccf18ea4bd9c3ad2d150d110e010f04105a110512a66265"
    "61636f6e13d935706572696f64696320636f6e6e656374696f6e7320746f2061206b6e6f776e2043"
    "32206164647265737320657665727920363020731483010102ac3139382e35312e3130302e3703ae"
    "61627573652d63682d66656f646f1583010102d972e38193e381aee5ae9be58588e381b8e381aee9"
    "809ae4bfa1e38292e981aee696ade38197e38081e9809ae4bfa1e38197e381a6e38184e3819fe7ab"
    "afe69cabe38292e3838de38383e38388e383afe383bce382afe3818be38289e5a496e38197e381a6"
    "e3818fe381a0e38195e38184e3808203d951426c6f636b207472616666696320746f207468697320"
    "64657374696e6174696f6e20616e6420646973636f6e6e6563742074686520636f6d707574657273"
    "20746861742074616c6b656420746f2069742e";

//  The sample's JSON line.
static const char s_sample_json[] =
    "{\"timestamp\":\"2026-11-22T07:00:00.373456789Z\",\"event_type\":\"incident\","
    "\"sensor_id\":\"s-kanto-0001\",\"org_id\":\"org-0001\",\"incident\":{\"kind\":\"finding\","
    "\"provider\":\"p-east\",\"region\":\"kanto\",\"seen\":\"2026-11-22T07:00:00.123456789Z\","
    "\"finding_id\":17,\"severity\":\"high\",\"severity_id\":4,\"confidence\":90,"
    "\"category\":\"c2_beacon\",\"detector\":\"beacon\","
    "\"message\":\"periodic connections to a known C2 address every 60 s\","
    "\"indicator\":{\"type\":\"ip\",\"value\":\"198.51.100.7\",\"feed\":\"abuse-ch-feodo\"},"
    "\"action\":{\"code\":\"block\",\"text_ja\":\"この宛先への通信を遮断し、通信していた端末を"
    "ネットワークから外してください。\",\"text_en\":\"Block traffic to this destination and "
    "disconnect the computers that talked to it.\"}}}\n";

static size_t
s_unhex (const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen (hex) / 2;
    cr_assert_leq (n, cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        cr_assert_eq (sscanf (hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t) v;
    }
    return n;
}

//  The rendering of `inc` as a NUL-terminated string (the caller frees it).
static char *
s_json (const mm_incident_t *inc)
{
    mm_buf_t buf = MM_BUF_INIT;
    cr_assert_eq (mm_incident_to_json (inc, &buf), 0);
    cr_assert_eq (mm_buf_append (&buf, "", 1), 0);
    return (char *) buf.data;
}

//  The quarantine notice the aggregator sends: no finding id, no indicator, no confidence.
static void
s_quarantine (mm_incident_t *inc)
{
    memset (inc, 0, sizeof *inc);
    inc->ts = 2000000000;
    inc->seen = 1000000000;
    inc->sensor = mm_str ("s-kanto-0002");
    inc->org = mm_str ("org-0002");
    inc->provider = mm_str ("p-west");
    inc->region = mm_str ("kinki");
    inc->kind = MM_INC_QUARANTINE;
    inc->severity = MM_SEV_MEDIUM;
    inc->category = MM_CAT_SENSOR;
    inc->detector = mm_str ("correlate.quarantine");
    inc->message = mm_str ("sensor quarantined: a burst of new indicators");
    inc->action.code = MM_ACTION_HUNT;
    inc->action.text_ja = mm_str ("確認してください。");
    inc->action.text_en = mm_str ("Check the sensor.");
}

//  ---------------------------------------------------------------------------------------------
//  Names and peek

Test (names, message_type_and_kinds)
{
    cr_assert_eq (MM_MSG_INCIDENT, 6);
    cr_assert_eq (MM_MSG_HEALTH, 7);
    cr_assert_eq (MM_MSG_TYPE_MAX, MM_MSG_HEALTH);
    cr_assert_str_eq (mm_msg_type_name (MM_MSG_HEALTH), "health");
    cr_assert_str_eq (mm_health_state_name (MM_HEALTH_SILENT), "silent");
    cr_assert_null (mm_health_state_name (0));
    cr_assert_null (mm_health_state_name (5));
    cr_assert_str_eq (mm_msg_type_name (MM_MSG_INCIDENT), "incident");
    cr_assert_null (mm_msg_type_name (8));
    cr_assert_null (mm_inc_kind_name (0));
    cr_assert_str_eq (mm_inc_kind_name (MM_INC_FINDING), "finding");
    cr_assert_str_eq (mm_inc_kind_name (MM_INC_QUARANTINE), "quarantine");
    cr_assert_null (mm_inc_kind_name (3));
    cr_assert_null (mm_inc_kind_name (255));
}

//  ---------------------------------------------------------------------------------------------
//  Round trip and wire bytes

//  msgpack-c, an independent decoder, reads our bytes as one map of `n` ascending keys 0..127.
static void
s_check_with_msgpack_c (const mm_buf_t *buf, uint32_t n, const uint8_t *keys)
{
    msgpack_unpacked result;
    msgpack_unpacked_init (&result);
    size_t off = 0;
    cr_assert_eq (msgpack_unpack_next (&result, (const char *) buf->data, buf->len, &off),
                  MSGPACK_UNPACK_SUCCESS);
    cr_assert_eq (off, buf->len, "msgpack-c sees trailing bytes");
    cr_assert_eq (result.data.type, MSGPACK_OBJECT_MAP);
    cr_assert_eq (result.data.via.map.size, n);
    for (uint32_t i = 0; i < n; i++) {
        msgpack_object key = result.data.via.map.ptr[i].key;
        cr_assert_eq (key.type, MSGPACK_OBJECT_POSITIVE_INTEGER);
        cr_assert_eq (key.via.u64, keys[i], "key %u is %llu, expected %u", i,
                      (unsigned long long) key.via.u64, keys[i]);
    }
    msgpack_object type = result.data.via.map.ptr[1].val;
    cr_assert_eq (type.via.u64, MM_MSG_INCIDENT);
    msgpack_unpacked_destroy (&result);
}

static bool
s_in (mm_str_t s, const mm_buf_t *wire)
{
    return (const uint8_t *) s.ptr >= wire->data &&
           (const uint8_t *) s.ptr < wire->data + wire->len;
}

Test (roundtrip, sample_every_field)
{
    mm_incident_t inc, back;
    mm_sample_incident (&inc);
    mm_buf_t wire = MM_BUF_INIT, again = MM_BUF_INIT;
    mm_error_t err;
    cr_assert_eq (mm_incident_encode (&inc, &wire, &err), 0, "%s", err.reason);
    static const uint8_t keys[] = {0, 1, 2, 3, 4, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21};
    s_check_with_msgpack_c (&wire, S_N (keys), keys);

    mm_msg_type_t type = 0;
    cr_assert_eq (mm_msg_peek (wire.data, wire.len, &type, &err), 0, "%s", err.reason);
    cr_assert_eq (type, MM_MSG_INCIDENT);

    memset (&back, 0xa5, sizeof back);  //  the decoder must zero what is absent
    cr_assert_eq (mm_incident_decode (&back, wire.data, wire.len, &err), 0, "%s", err.reason);
    cr_assert_eq (back.has, MM_INC_HAS_IOC);
    cr_assert_eq (back.ts, 1795330800373456789ULL);
    cr_assert_eq (back.seen, 1795330800123456789ULL);
    cr_assert (mm_str_eq (back.sensor, "s-kanto-0001"));
    cr_assert (mm_str_eq (back.org, "org-0001"));
    cr_assert (mm_str_eq (back.provider, "p-east"));
    cr_assert (mm_str_eq (back.region, "kanto"));
    cr_assert_eq (back.finding_id, 17);
    cr_assert_eq (back.kind, MM_INC_FINDING);
    cr_assert_eq (back.severity, MM_SEV_HIGH);
    cr_assert_eq (back.confidence, 90);
    cr_assert_eq (back.category, MM_CAT_C2_BEACON);
    cr_assert (mm_str_eq (back.detector, "beacon"));
    cr_assert (mm_str_eq (back.message, "periodic connections to a known C2 address every 60 s"));
    cr_assert_eq (back.ioc.type, MM_IOC_IP);
    cr_assert (mm_str_eq (back.ioc.value, "198.51.100.7"));
    cr_assert (mm_str_eq (back.ioc.feed, "abuse-ch-feodo"));
    cr_assert_eq (back.action.code, MM_ACTION_BLOCK);
    cr_assert (mm_str_eq (back.action.text_ja, "この宛先への通信を遮断し、通信していた端末を"
                                               "ネットワークから外してください。"));
    cr_assert (mm_str_eq (back.action.text_en, "Block traffic to this destination and disconnect "
                                               "the computers that talked to it."));
    //  Strings borrow from the input, never copies.
    cr_assert (s_in (back.provider, &wire) && s_in (back.action.text_en, &wire) &&
               s_in (back.ioc.feed, &wire));

    cr_assert_eq (mm_incident_encode (&back, &again, &err), 0, "%s", err.reason);
    cr_assert_eq (again.len, wire.len);
    cr_assert_arr_eq (again.data, wire.data, wire.len, "re-encoding differs");
    mm_buf_free (&wire);
    mm_buf_free (&again);
}

Test (roundtrip, quarantine_sends_only_what_is_set)
{
    mm_incident_t inc, back;
    s_quarantine (&inc);
    mm_buf_t wire = MM_BUF_INIT;
    mm_error_t err;
    cr_assert_eq (mm_incident_encode (&inc, &wire, &err), 0, "%s", err.reason);
    //  No 13 finding_id, 16 confidence or 20 ioc.
    static const uint8_t keys[] = {0, 1, 2, 3, 4, 10, 11, 12, 14, 15, 17, 18, 19, 21};
    s_check_with_msgpack_c (&wire, S_N (keys), keys);
    cr_assert_eq (mm_incident_decode (&back, wire.data, wire.len, &err), 0, "%s", err.reason);
    cr_assert_eq (back.has, 0);
    cr_assert_eq (back.finding_id, 0);
    cr_assert_eq (back.confidence, 0);
    cr_assert_eq (back.ioc.type, 0);
    cr_assert_eq (back.ioc.value.len, 0);
    cr_assert_eq (back.kind, MM_INC_QUARANTINE);
    cr_assert_eq (back.severity, MM_SEV_MEDIUM);
    cr_assert_eq (back.category, MM_CAT_SENSOR);
    cr_assert_eq (back.action.code, MM_ACTION_HUNT);
    cr_assert (mm_str_eq (back.detector, "correlate.quarantine"));
    mm_buf_free (&wire);
}

//  The limits are inclusive: every field at its limit at once still encodes and decodes, and a
//  kind or category this version has no name for passes (adding values is compatible).
Test (roundtrip, at_the_limits)
{
    static char big[MM_LONG_MAX];
    memset (big, 'a', sizeof big);
    mm_incident_t inc, back;
    mm_sample_incident (&inc);
    inc.ts = UINT64_MAX;
    inc.seen = 1;
    inc.finding_id = UINT64_MAX;
    inc.sensor = inc.org = inc.provider = inc.region = inc.detector = (mm_str_t){big, MM_ID_MAX};
    inc.ioc.feed = (mm_str_t){big, MM_ID_MAX};
    inc.message = inc.ioc.value = (mm_str_t){big, MM_LONG_MAX};
    inc.action.text_ja = inc.action.text_en = (mm_str_t){big, MM_LONG_MAX};
    inc.kind = UINT8_MAX;
    inc.category = UINT8_MAX;
    inc.severity = MM_SEV_FATAL;
    inc.confidence = 100;
    inc.ioc.type = UINT8_MAX;
    inc.action.code = UINT8_MAX;
    mm_buf_t wire = MM_BUF_INIT;
    mm_error_t err;
    cr_assert_eq (mm_incident_encode (&inc, &wire, &err), 0, "%s", err.reason);
    cr_assert_leq (wire.len, MM_MSG_MAX);
    cr_assert_eq (mm_incident_decode (&back, wire.data, wire.len, &err), 0, "%s", err.reason);
    cr_assert_eq (back.ts, UINT64_MAX);
    cr_assert_eq (back.seen, 1);
    cr_assert_eq (back.finding_id, UINT64_MAX);
    cr_assert_eq (back.message.len, MM_LONG_MAX);
    cr_assert_eq (back.action.text_en.len, MM_LONG_MAX);
    cr_assert_eq (back.region.len, MM_ID_MAX);
    cr_assert_eq (back.kind, 255);
    cr_assert_eq (back.severity, 6);
    cr_assert_eq (back.confidence, 100);

    //  The lowest severity is 1 (informational): 0 (unknown) is no incident.
    mm_sample_incident (&inc);
    inc.severity = MM_SEV_INFO;
    mm_buf_clear (&wire);
    cr_assert_eq (mm_incident_encode (&inc, &wire, &err), 0, "%s", err.reason);
    cr_assert_eq (mm_incident_decode (&back, wire.data, wire.len, &err), 0, "%s", err.reason);
    cr_assert_eq (back.severity, 1);
    mm_buf_free (&wire);
}

Test (golden, sample_bytes)
{
    static uint8_t expect[MM_MSG_MAX];
    size_t n = s_unhex (s_golden_hex, expect, sizeof expect);
    cr_assert_eq (n, 379);
    mm_incident_t inc;
    mm_sample_incident (&inc);
    mm_buf_t wire = MM_BUF_INIT;
    mm_error_t err;
    cr_assert_eq (mm_incident_encode (&inc, &wire, &err), 0, "%s", err.reason);
    cr_assert_eq (wire.len, n, "%zu bytes, golden has %zu", wire.len, n);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq (wire.data[i], expect[i], "byte %zu is %02x, golden has %02x", i, wire.data[i],
                      expect[i]);
    mm_buf_free (&wire);
}

//  ---------------------------------------------------------------------------------------------
//  JSON

Test (json, sample_exactly)
{
    mm_incident_t inc;
    mm_sample_incident (&inc);
    char *line = s_json (&inc);
    cr_assert_str_eq (line, s_sample_json);
    free (line);
}

//  The golden bytes through the generic path: peek, decoder, renderer.
Test (json, msg_to_json_of_the_golden_bytes)
{
    static uint8_t wire[MM_MSG_MAX];
    size_t n = s_unhex (s_golden_hex, wire, sizeof wire);
    mm_buf_t out = MM_BUF_INIT;
    mm_buf_append (&out, "prior\n", 6);
    mm_error_t err;
    cr_assert_eq (mm_msg_to_json (wire, n, &out, &err), 0, "%s", err.reason);
    cr_assert_eq (out.len, 6 + strlen (s_sample_json));
    cr_assert_arr_eq (out.data, "prior\n", 6);
    cr_assert_arr_eq (out.data + 6, s_sample_json, strlen (s_sample_json));
    mm_buf_free (&out);
}

Test (json, quarantine_exactly)
{
    mm_incident_t inc;
    s_quarantine (&inc);
    char *line = s_json (&inc);
    cr_assert_str_eq (
        line, "{\"timestamp\":\"1970-01-01T00:00:02.000000000Z\",\"event_type\":\"incident\","
              "\"sensor_id\":\"s-kanto-0002\",\"org_id\":\"org-0002\","
              "\"incident\":{\"kind\":\"quarantine\",\"provider\":\"p-west\","
              "\"region\":\"kinki\",\"seen\":\"1970-01-01T00:00:01.000000000Z\","
              "\"severity\":\"medium\",\"severity_id\":3,\"category\":\"sensor\","
              "\"detector\":\"correlate.quarantine\","
              "\"message\":\"sensor quarantined: a burst of new indicators\","
              "\"action\":{\"code\":\"hunt\",\"text_ja\":\"確認してください。\","
              "\"text_en\":\"Check the sensor.\"}}}\n");
    free (line);
}

//  Values this version has no name for show as numbers; text is escaped like everywhere else.
Test (json, unknown_values_and_escapes)
{
    mm_incident_t inc;
    mm_sample_incident (&inc);
    inc.kind = 9;
    inc.category = 200;
    inc.ioc.type = 77;
    inc.action.code = 99;
    inc.message = mm_str ("a \"quoted\"\tline\xff");
    char *line = s_json (&inc);
    cr_assert (strstr (line, "\"incident\":{\"kind\":9,"), "%s", line);
    cr_assert (strstr (line, "\"category\":200,"), "%s", line);
    cr_assert (strstr (line, "\"message\":\"a \\\"quoted\\\"\\tline\\\\xff\","), "%s", line);
    cr_assert (strstr (line, "\"indicator\":{\"type\":77,"), "%s", line);
    cr_assert (strstr (line, "\"action\":{\"code\":99,"), "%s", line);
    free (line);
}

//  ---------------------------------------------------------------------------------------------
//  Crafting messages (with msgpack-c)

//  One map entry, both halves encoded; val NULL drops the key from the base message.
typedef struct {
    int key;
    const void *val;
    size_t len;
} s_kv_t;

#define S_KV(k, lit)                                                                               \
    {                                                                                              \
        (k), (lit), sizeof (lit) - 1                                                               \
    }
#define S_DROP(k)                                                                                  \
    {                                                                                              \
        (k), NULL, 0                                                                               \
    }

//  ts 1795330800123456789 as uint64.
#define S_TS "\xcf\x18\xea\x4b\xd9\xc3\xad\x2d\x15"
#define S_ACTION                                                                                   \
    "\x83\x01\x01\x02\xa6"                                                                         \
    "遮断"                                                                                       \
    "\x03\xa5"                                                                                     \
    "Block"  //  {1 block, 2 "遮断", 3 "Block"}

//  The smallest valid INCIDENT: header and required keys only.
static const s_kv_t s_base[] = {
    S_KV (0, "\x01"),
    S_KV (1, "\x06"),
    S_KV (2, S_TS),
    S_KV (3, "\xacs-kanto-0001"),
    S_KV (4, "\xa8org-0001"),
    S_KV (10, "\xa6p-east"),
    S_KV (11, "\xa5kanto"),
    S_KV (12, S_TS),
    S_KV (14, "\x01"),
    S_KV (15, "\x04"),
    S_KV (17, "\x05"),
    S_KV (18, "\xa6"
              "beacon"),
    S_KV (19, "\xa4"
              "seen"),
    S_KV (21, S_ACTION),
};

//  The base message with `patch` applied: base entries the patch does not name, then the patch
//  entries in order, so the last patch value ends the message (tests know its offset).
static void
s_build (msgpack_sbuffer *sb, const s_kv_t *patch, size_t n_patch)
{
    msgpack_sbuffer_init (sb);
    size_t count = 0;
    bool patched[S_N (s_base)] = {false};
    for (size_t i = 0; i < S_N (s_base); i++)
        for (size_t j = 0; j < n_patch; j++)
            patched[i] |= patch[j].key == s_base[i].key;
    for (size_t i = 0; i < S_N (s_base); i++)
        count += !patched[i];
    for (size_t j = 0; j < n_patch; j++)
        count += patch[j].val != NULL;
    msgpack_packer pk;
    msgpack_packer_init (&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, count);
    for (size_t i = 0; i < S_N (s_base); i++)
        if (!patched[i]) {
            msgpack_pack_unsigned_int (&pk, (unsigned) s_base[i].key);
            msgpack_sbuffer_write (sb, s_base[i].val, s_base[i].len);
        }
    for (size_t j = 0; j < n_patch; j++)
        if (patch[j].val) {
            msgpack_pack_unsigned_int (&pk, (unsigned) patch[j].key);
            msgpack_sbuffer_write (sb, patch[j].val, patch[j].len);
        }
}

//  A msgpack str of `len` copies of 'x', in the shortest header msgpack-c picks.
static void
s_long_str (msgpack_sbuffer *sb, size_t len)
{
    msgpack_sbuffer_init (sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, sb, msgpack_sbuffer_write);
    char *bytes = malloc (len + 1);
    memset (bytes, 'x', len);
    msgpack_pack_str_with_body (&pk, bytes, len);
    free (bytes);
}

//  ---------------------------------------------------------------------------------------------
//  Decoding refusals

static int
s_dec_incident (const uint8_t *data, size_t len, mm_error_t *err)
{
    static mm_incident_t inc;
    return mm_incident_decode (&inc, data, len, err);
}

//  The renderer must leave its output alone when it refuses the input.
static int
s_dec_json (const uint8_t *data, size_t len, mm_error_t *err)
{
    mm_buf_t out = MM_BUF_INIT;
    mm_buf_append (&out, "prior\n", 6);
    int rc = mm_msg_to_json (data, len, &out, err);
    if (rc == -1) {
        cr_assert_eq (out.len, 6, "mm_msg_to_json failed but changed its output");
        cr_assert_arr_eq (out.data, "prior\n", 6);
    }
    mm_buf_free (&out);
    return rc;
}

#define S_ANY_OFFSET ((size_t) -2)

//  The input must be refused by the incident decoder and by mm_msg_to_json alike, with `code`,
//  `field`, `detail` and `offset` exactly (S_ANY_OFFSET: not checked), on an exact-size heap
//  copy so a sanitizer build sees any read past the end.
static void
s_refused (const void *data, size_t len, mm_errc_t code, const char *field, const char *detail,
           size_t offset, const char *what)
{
    int (*const paths[]) (const uint8_t *, size_t, mm_error_t *) = {s_dec_incident, s_dec_json};
    uint8_t *copy = malloc (len ? len : 1);
    memcpy (copy, data, len);
    for (size_t p = 0; p < S_N (paths); p++) {
        mm_error_t err;
        memset (&err, 0, sizeof err);
        cr_assert_eq (paths[p](copy, len, &err), -1, "%s: accepted (path %zu)", what, p);
        cr_assert_eq (err.code, code, "%s: %s, expected %s: %s", what, mm_errc_name (err.code),
                      mm_errc_name (code), err.reason);
        cr_assert_str_eq (err.field, field, "%s: %s", what, err.reason);
        cr_assert_str_eq (err.detail, detail, "%s: %s", what, err.reason);
        if (offset != S_ANY_OFFSET)
            cr_assert_eq (err.offset, offset, "%s: %s", what, err.reason);
        //  The readable sentence is made of the same parts.
        char reason[sizeof err.reason];
        if (field[0])
            snprintf (reason, sizeof reason, "%s: %s: %s (at byte %zu)", mm_errc_name (code), field,
                      detail, err.offset);
        else
            snprintf (reason, sizeof reason, "%s: %s (at byte %zu)", mm_errc_name (code), detail,
                      err.offset);
        cr_assert_str_eq (err.reason, reason, "%s", what);
    }
    free (copy);
}

static void
s_accepted (const msgpack_sbuffer *sb, const char *what)
{
    mm_error_t err;
    cr_assert_eq (s_dec_incident ((const uint8_t *) sb->data, sb->size, &err), 0, "%s: %s", what,
                  err.reason);
    mm_buf_t out = MM_BUF_INIT;
    cr_assert_eq (mm_msg_to_json ((const uint8_t *) sb->data, sb->size, &out, &err), 0, "%s: %s",
                  what, err.reason);
    mm_buf_free (&out);
}

Test (decode, base_is_accepted)
{
    msgpack_sbuffer sb;
    s_build (&sb, NULL, 0);
    s_accepted (&sb, "base");
    mm_incident_t inc;
    mm_error_t err;
    cr_assert_eq (mm_incident_decode (&inc, (const uint8_t *) sb.data, sb.size, &err), 0);
    cr_assert (mm_str_eq (inc.action.text_ja, "遮断"));
    cr_assert (mm_str_eq (inc.message, "seen"));
    cr_assert_eq (inc.has, 0);
    msgpack_sbuffer_destroy (&sb);
}

Test (decode, each_required_key_absent)
{
    static const struct {
        unsigned key;
        const char *name;
    } required[] = {{2, "ts"},        {3, "sensor"},    {4, "org"},      {10, "provider"},
                    {11, "region"},   {12, "seen"},     {14, "kind"},    {15, "severity"},
                    {17, "category"}, {18, "detector"}, {19, "message"}, {21, "action"}};
    for (size_t i = 0; i < S_N (required); i++) {
        msgpack_sbuffer sb;
        s_kv_t drop = S_DROP ((int) required[i].key);
        s_build (&sb, &drop, 1);
        char detail[96];
        snprintf (detail, sizeof detail, "required key %u (%s) is absent", required[i].key,
                  required[i].name);
        s_refused (sb.data, sb.size, MM_ERR_MISSING, "incident", detail, 0, required[i].name);
        msgpack_sbuffer_destroy (&sb);
    }
}

//  "" means absent (docs/protocol.md section 2), so a required string may not be empty.
Test (decode, each_required_string_empty)
{
    static const struct {
        int key;
        const char *field;
    } strings[] = {{3, "incident.sensor"},  {4, "incident.org"},       {10, "incident.provider"},
                   {11, "incident.region"}, {18, "incident.detector"}, {19, "incident.message"}};
    for (size_t i = 0; i < S_N (strings); i++) {
        msgpack_sbuffer sb;
        s_kv_t kv = S_KV (strings[i].key, "\xa0");
        s_build (&sb, &kv, 1);
        s_refused (sb.data, sb.size, MM_ERR_MISSING, strings[i].field, "required string is empty",
                   sb.size - 1, strings[i].field);
        msgpack_sbuffer_destroy (&sb);
    }
}

//  One bad value at a time; it ends the message, so the error is at size - its length.
typedef struct {
    s_kv_t kv;
    mm_errc_t code;
    const char *field;
    const char *detail;
} s_bad_t;

static void
s_bad_values (const s_bad_t *bad, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        msgpack_sbuffer sb;
        s_build (&sb, &bad[i].kv, 1);
        char what[160];
        snprintf (what, sizeof what, "key %d: %s", bad[i].kv.key, bad[i].detail);
        s_refused (sb.data, sb.size, bad[i].code, bad[i].field, bad[i].detail,
                   sb.size - bad[i].kv.len, what);
        msgpack_sbuffer_destroy (&sb);
    }
}

Test (decode, integers_out_of_range)
{
    static const s_bad_t bad[] = {
        {S_KV (2, "\x00"), MM_ERR_RANGE, "incident.ts", "0 is outside 1..18446744073709551615"},
        {S_KV (12, "\x00"), MM_ERR_RANGE, "incident.seen", "0 is outside 1..18446744073709551615"},
        {S_KV (14, "\x00"), MM_ERR_RANGE, "incident.kind", "0 is outside 1..255"},
        {S_KV (14, "\xcd\x01\x00"), MM_ERR_RANGE, "incident.kind", "256 is outside 1..255"},
        {S_KV (15, "\x00"), MM_ERR_RANGE, "incident.severity", "0 is outside 1..6"},
        {S_KV (15, "\x07"), MM_ERR_RANGE, "incident.severity", "7 is outside 1..6"},
        {S_KV (16, "\x65"), MM_ERR_RANGE, "incident.confidence", "101 is outside 0..100"},
        {S_KV (17, "\x00"), MM_ERR_RANGE, "incident.category", "0 is outside 1..255"},
        {S_KV (17, "\xcd\x01\x00"), MM_ERR_RANGE, "incident.category", "256 is outside 1..255"},
        {S_KV (13, "\xff"), MM_ERR_RANGE, "incident.finding_id",
         "negative integer -1 where only unsigned values are allowed"},
    };
    s_bad_values (bad, S_N (bad));
}

Test (decode, wrong_types)
{
    static const s_bad_t bad[] = {
        {S_KV (10, "\x01"), MM_ERR_TYPE, "incident.provider",
         "expected string, got unsigned integer"},
        {S_KV (11, "\xc4\x01k"), MM_ERR_TYPE, "incident.region", "expected string, got binary"},
        {S_KV (15, "\xa1\x34"), MM_ERR_TYPE, "incident.severity",
         "expected unsigned integer, got string"},
        {S_KV (20, "\x93\x01\x02\x03"), MM_ERR_TYPE, "incident.ioc", "expected map, got array"},
        {S_KV (21, "\xc0"), MM_ERR_TYPE, "incident.action", "expected map, got nil"},
    };
    s_bad_values (bad, S_N (bad));
}

Test (decode, nested_maps)
{
    static const s_bad_t bad[] = {
        //  An indicator must say what it is.
        {S_KV (20, "\x81\x01\x01"), MM_ERR_MISSING, "incident.ioc",
         "required key 2 (value) is absent"},
        {S_KV (20, "\x81\x02\xa1x"), MM_ERR_MISSING, "incident.ioc",
         "required key 1 (type) is absent"},
        {S_KV (20, "\x82\x01\x00\x02\xa1x"), MM_ERR_RANGE, "incident.ioc.type",
         "0 is outside 1..255"},
        {S_KV (20, "\x82\x01\x01\x02\xa0"), MM_ERR_MISSING, "incident.ioc.value",
         "required string is empty"},
        //  Both advice texts and the code are required here (in a WARNING the texts are not).
        {S_KV (21, "\x82\x01\x01\x03\xa1x"), MM_ERR_MISSING, "incident.action",
         "required key 2 (text_ja) is absent"},
        {S_KV (21, "\x82\x01\x01\x02\xa1x"), MM_ERR_MISSING, "incident.action",
         "required key 3 (text_en) is absent"},
        {S_KV (21, "\x82\x02\xa1x\x03\xa1x"), MM_ERR_MISSING, "incident.action",
         "required key 1 (code) is absent"},
        {S_KV (21, "\x83\x01\x00\x02\xa1x\x03\xa1x"), MM_ERR_RANGE, "incident.action.code",
         "0 is outside 1..255"},
        {S_KV (21, "\x83\x01\x01\x02\xa1x\x03\xa0"), MM_ERR_MISSING, "incident.action.text_en",
         "required string is empty"},
        {S_KV (21, "\x80"), MM_ERR_MISSING, "incident.action", "required key 1 (code) is absent"},
    };
    //  Nested errors are reported where they are, inside the value: only code and text here.
    for (size_t i = 0; i < S_N (bad); i++) {
        msgpack_sbuffer sb;
        s_build (&sb, &bad[i].kv, 1);
        s_refused (sb.data, sb.size, bad[i].code, bad[i].field, bad[i].detail, S_ANY_OFFSET,
                   bad[i].detail);
        msgpack_sbuffer_destroy (&sb);
    }
}

Test (decode, strings_over_their_limits)
{
    static const struct {
        int key;
        const char *field;
        size_t limit;
    } strings[] = {
        {3, "incident.sensor", MM_ID_MAX},    {4, "incident.org", MM_ID_MAX},
        {10, "incident.provider", MM_ID_MAX}, {11, "incident.region", MM_ID_MAX},
        {18, "incident.detector", MM_ID_MAX}, {19, "incident.message", MM_LONG_MAX},
    };
    for (size_t i = 0; i < S_N (strings); i++) {
        msgpack_sbuffer val, sb;
        s_long_str (&val, strings[i].limit + 1);
        s_kv_t kv = {strings[i].key, val.data, val.size};
        s_build (&sb, &kv, 1);
        char detail[96];
        snprintf (detail, sizeof detail, "string length of %zu exceeds the limit of %zu",
                  strings[i].limit + 1, strings[i].limit);
        s_refused (sb.data, sb.size, MM_ERR_TOO_LONG, strings[i].field, detail, sb.size - val.size,
                   strings[i].field);
        msgpack_sbuffer_destroy (&sb);
        //  One byte less is fine.
        msgpack_sbuffer_destroy (&val);
        s_long_str (&val, strings[i].limit);
        kv = (s_kv_t){strings[i].key, val.data, val.size};
        s_build (&sb, &kv, 1);
        s_accepted (&sb, strings[i].field);
        msgpack_sbuffer_destroy (&sb);
        msgpack_sbuffer_destroy (&val);
    }
}

Test (decode, nested_strings_over_their_limits)
{
    msgpack_sbuffer val, sb;
    //  ioc {1 ip, 2 value of 2049 bytes}
    s_long_str (&val, MM_LONG_MAX + 1);
    mm_buf_t map = MM_BUF_INIT;
    mm_buf_append (&map, "\x82\x01\x01\x02", 4);
    mm_buf_append (&map, val.data, val.size);
    s_kv_t kv = {20, map.data, map.len};
    s_build (&sb, &kv, 1);
    s_refused (sb.data, sb.size, MM_ERR_TOO_LONG, "incident.ioc.value",
               "string length of 2049 exceeds the limit of 2048", sb.size - val.size, "ioc value");
    msgpack_sbuffer_destroy (&sb);
    msgpack_sbuffer_destroy (&val);

    //  ioc {1 ip, 2 "x", 3 feed of 65 bytes}
    s_long_str (&val, MM_ID_MAX + 1);
    mm_buf_clear (&map);
    mm_buf_append (&map, "\x83\x01\x01\x02\xa1x\x03", 7);
    mm_buf_append (&map, val.data, val.size);
    kv = (s_kv_t){20, map.data, map.len};
    s_build (&sb, &kv, 1);
    s_refused (sb.data, sb.size, MM_ERR_TOO_LONG, "incident.ioc.feed",
               "string length of 65 exceeds the limit of 64", sb.size - val.size, "ioc feed");
    msgpack_sbuffer_destroy (&sb);
    msgpack_sbuffer_destroy (&val);

    //  action {1 block, 2 text_ja of 2049 bytes, 3 "x"}
    s_long_str (&val, MM_LONG_MAX + 1);
    mm_buf_clear (&map);
    mm_buf_append (&map, "\x83\x01\x01\x03\xa1x\x02", 7);
    mm_buf_append (&map, val.data, val.size);
    kv = (s_kv_t){21, map.data, map.len};
    s_build (&sb, &kv, 1);
    s_refused (sb.data, sb.size, MM_ERR_TOO_LONG, "incident.action.text_ja",
               "string length of 2049 exceeds the limit of 2048", sb.size - val.size, "text_ja");
    msgpack_sbuffer_destroy (&sb);
    msgpack_sbuffer_destroy (&val);
    mm_buf_free (&map);
}

Test (decode, framing)
{
    msgpack_sbuffer sb;
    //  A key twice: provider again, after the base's.
    s_build (&sb, NULL, 0);
    msgpack_sbuffer_destroy (&sb);
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, S_N (s_base) + 1);
    for (size_t i = 0; i < S_N (s_base); i++) {
        msgpack_pack_unsigned_int (&pk, (unsigned) s_base[i].key);
        msgpack_sbuffer_write (&sb, s_base[i].val, s_base[i].len);
    }
    size_t dup_at = sb.size;
    msgpack_sbuffer_write (&sb, "\x0a\xa1p", 3);
    mm_error_t err;
    cr_assert_eq (s_dec_incident ((const uint8_t *) sb.data, sb.size, &err), -1);
    cr_assert_eq (err.code, MM_ERR_DUPLICATE, "%s", err.reason);
    cr_assert_str_eq (err.field, "incident");
    cr_assert_str_eq (err.detail, "key 10 appears twice");
    cr_assert_eq (err.offset, dup_at);
    //  mm_msg_to_json's peek finds it first, and names no schema.
    cr_assert_eq (s_dec_json ((const uint8_t *) sb.data, sb.size, &err), -1);
    cr_assert_eq (err.code, MM_ERR_DUPLICATE, "%s", err.reason);
    cr_assert_str_eq (err.detail, "key 10 appears twice");
    msgpack_sbuffer_destroy (&sb);

    //  One byte after the message.
    s_build (&sb, NULL, 0);
    size_t end = sb.size;
    msgpack_sbuffer_write (&sb, "\xc0", 1);
    s_refused (sb.data, sb.size, MM_ERR_TRAILING, "", "1 bytes follow the end of the message",
               S_ANY_OFFSET, "trailing");
    cr_assert_eq (s_dec_incident ((const uint8_t *) sb.data, sb.size, &err), -1);
    cr_assert_eq (err.offset, end);
    msgpack_sbuffer_destroy (&sb);

    //  Every proper prefix of the sample is truncated, never accepted.
    static uint8_t wire[MM_MSG_MAX];
    size_t n = s_unhex (s_golden_hex, wire, sizeof wire);
    for (size_t len = 0; len < n; len++) {
        uint8_t *copy = malloc (len ? len : 1);
        memcpy (copy, wire, len);
        cr_assert_eq (s_dec_incident (copy, len, &err), -1, "prefix of %zu accepted", len);
        cr_assert_eq (err.code, MM_ERR_TRUNCATED, "prefix of %zu: %s", len, err.reason);
        free (copy);
    }
}

Test (decode, version_2)
{
    msgpack_sbuffer sb;
    s_kv_t kv = S_KV (0, "\x02");
    s_build (&sb, &kv, 1);
    mm_error_t err;
    cr_assert_eq (s_dec_incident ((const uint8_t *) sb.data, sb.size, &err), -1);
    cr_assert_eq (err.code, MM_ERR_VERSION, "%s", err.reason);
    cr_assert_str_eq (err.detail, "schema version 2; this decoder knows version 1");
    cr_assert_eq (s_dec_json ((const uint8_t *) sb.data, sb.size, &err), -1);
    cr_assert_eq (err.code, MM_ERR_VERSION, "%s", err.reason);
    msgpack_sbuffer_destroy (&sb);
}

//  Unknown keys are a newer peer's fields: skipped, whatever they hold.
Test (decode, unknown_keys_are_ignored)
{
    msgpack_sbuffer sb;
    const s_kv_t kv[] = {S_KV (5, "\x2a"), S_KV (22, "\x92\xa1x\xc3"), S_KV (127, "\x81\x01\xc0")};
    s_build (&sb, kv, S_N (kv));
    s_accepted (&sb, "unknown keys");
    msgpack_sbuffer_destroy (&sb);
}

//  An INCIDENT given to every other decoder is refused as of the wrong type, at the type
//  value, and the other types' samples are refused by the incident decoder.
Test (decode, wrong_message_type_both_ways)
{
    static uint8_t wire[MM_MSG_MAX];
    size_t n = s_unhex (s_golden_hex, wire, sizeof wire);
    static mm_event_t ev;
    static mm_heartbeat_t hb;
    static mm_ack_t ack;
    static mm_warning_t w;
    static mm_watchlist_t wl;
    mm_error_t err;
    const int rcs[] = {
        mm_event_decode (&ev, wire, n, &err),     mm_heartbeat_decode (&hb, wire, n, &err),
        mm_ack_decode (&ack, wire, n, &err),      mm_warning_decode (&w, wire, n, &err),
        mm_watchlist_decode (&wl, wire, n, &err),
    };
    for (size_t i = 0; i < S_N (rcs); i++)
        cr_assert_eq (rcs[i], -1, "decoder %zu accepted an incident", i);
    //  The last one's error, in full.
    cr_assert_eq (err.code, MM_ERR_MSG_TYPE, "%s", err.reason);
    cr_assert_str_eq (err.detail, "message type 6 (incident) given to the watchlist decoder");
    cr_assert_eq (err.offset, 6);  //  map16 header (3), 0 v (2), 1: the type value

    mm_buf_t other = MM_BUF_INIT;
    mm_sample_warning (&w);
    cr_assert_eq (mm_warning_encode (&w, &other, &err), 0);
    mm_incident_t inc;
    cr_assert_eq (mm_incident_decode (&inc, other.data, other.len, &err), -1);
    cr_assert_eq (err.code, MM_ERR_MSG_TYPE, "%s", err.reason);
    cr_assert_str_eq (err.detail, "message type 4 (warning) given to the incident decoder");
    mm_buf_clear (&other);
    mm_sample_finding (&ev);
    cr_assert_eq (mm_event_encode (&ev, &other, &err), 0);
    cr_assert_eq (mm_incident_decode (&inc, other.data, other.len, &err), -1);
    cr_assert_eq (err.code, MM_ERR_MSG_TYPE, "%s", err.reason);
    cr_assert_str_eq (err.detail, "message type 1 (event) given to the incident decoder");
    mm_buf_free (&other);
}

//  ---------------------------------------------------------------------------------------------
//  Encoding refusals: what the decoder would reject is never produced, and the output buffer
//  is left as it was.

typedef struct {
    const char *what;
    void (*spoil) (mm_incident_t *inc);
    mm_errc_t code;
    const char *field;
    const char *detail;
} s_enc_bad_t;

#define S_SPOIL(name, stmt)                                                                        \
    static void s_spoil_##name (mm_incident_t *inc)                                                \
    {                                                                                              \
        stmt;                                                                                      \
    }

static char s_big[MM_LONG_MAX + 1];

S_SPOIL (ts, inc->ts = 0)
S_SPOIL (seen, inc->seen = 0)
S_SPOIL (sensor, inc->sensor = mm_str (NULL))
S_SPOIL (org, inc->org = mm_str (""))
S_SPOIL (provider, inc->provider = mm_str (NULL))
S_SPOIL (region, inc->region = mm_str (NULL))
S_SPOIL (detector, inc->detector = mm_str (NULL))
S_SPOIL (message, inc->message = mm_str (NULL))
S_SPOIL (kind, inc->kind = 0)
S_SPOIL (sev0, inc->severity = MM_SEV_UNKNOWN)
S_SPOIL (sev7, inc->severity = 7)
S_SPOIL (conf, inc->confidence = 101)
S_SPOIL (category, inc->category = 0)
S_SPOIL (code, inc->action.code = 0)
S_SPOIL (text_ja, inc->action.text_ja = mm_str (NULL))
S_SPOIL (text_en, inc->action.text_en = mm_str (NULL))
S_SPOIL (ioc_type, inc->ioc.type = 0)
S_SPOIL (ioc_value, inc->ioc.value = mm_str (NULL))
S_SPOIL (region_long, inc->region = ((mm_str_t){s_big, MM_ID_MAX + 1}))
S_SPOIL (message_long, inc->message = ((mm_str_t){s_big, MM_LONG_MAX + 1}))
S_SPOIL (feed_long, inc->ioc.feed = ((mm_str_t){s_big, MM_ID_MAX + 1}))
S_SPOIL (text_en_long, inc->action.text_en = ((mm_str_t){s_big, MM_LONG_MAX + 1}))
S_SPOIL (no_bytes, inc->provider = ((mm_str_t){NULL, 3}))

Test (encode, refuses_what_the_decoder_rejects)
{
    memset (s_big, 'b', sizeof s_big);
    static const s_enc_bad_t bad[] = {
        {"ts 0", s_spoil_ts, MM_ERR_RANGE, "incident.ts", "0 is outside 1..18446744073709551615"},
        {"seen 0", s_spoil_seen, MM_ERR_RANGE, "incident.seen",
         "0 is outside 1..18446744073709551615"},
        {"no sensor", s_spoil_sensor, MM_ERR_MISSING, "incident.sensor",
         "required string is empty"},
        {"no org", s_spoil_org, MM_ERR_MISSING, "incident.org", "required string is empty"},
        {"no provider", s_spoil_provider, MM_ERR_MISSING, "incident.provider",
         "required string is empty"},
        {"no region", s_spoil_region, MM_ERR_MISSING, "incident.region",
         "required string is empty"},
        {"no detector", s_spoil_detector, MM_ERR_MISSING, "incident.detector",
         "required string is empty"},
        {"no message", s_spoil_message, MM_ERR_MISSING, "incident.message",
         "required string is empty"},
        {"kind 0", s_spoil_kind, MM_ERR_RANGE, "incident.kind", "0 is outside 1..255"},
        {"severity 0", s_spoil_sev0, MM_ERR_RANGE, "incident.severity", "0 is outside 1..6"},
        {"severity 7", s_spoil_sev7, MM_ERR_RANGE, "incident.severity", "7 is outside 1..6"},
        {"confidence 101", s_spoil_conf, MM_ERR_RANGE, "incident.confidence",
         "101 is outside 0..100"},
        {"category 0", s_spoil_category, MM_ERR_RANGE, "incident.category", "0 is outside 1..255"},
        {"action code 0", s_spoil_code, MM_ERR_RANGE, "incident.action.code",
         "0 is outside 1..255"},
        {"no text_ja", s_spoil_text_ja, MM_ERR_MISSING, "incident.action.text_ja",
         "required string is empty"},
        {"no text_en", s_spoil_text_en, MM_ERR_MISSING, "incident.action.text_en",
         "required string is empty"},
        {"ioc type 0", s_spoil_ioc_type, MM_ERR_RANGE, "incident.ioc.type", "0 is outside 1..255"},
        {"ioc without value", s_spoil_ioc_value, MM_ERR_MISSING, "incident.ioc.value",
         "required string is empty"},
        {"region of 65", s_spoil_region_long, MM_ERR_TOO_LONG, "incident.region",
         "string of 65 bytes exceeds the limit of 64"},
        {"message of 2049", s_spoil_message_long, MM_ERR_TOO_LONG, "incident.message",
         "string of 2049 bytes exceeds the limit of 2048"},
        {"feed of 65", s_spoil_feed_long, MM_ERR_TOO_LONG, "incident.ioc.feed",
         "string of 65 bytes exceeds the limit of 64"},
        {"text_en of 2049", s_spoil_text_en_long, MM_ERR_TOO_LONG, "incident.action.text_en",
         "string of 2049 bytes exceeds the limit of 2048"},
        {"length without bytes", s_spoil_no_bytes, MM_ERR_INVALID, "incident.provider",
         "string has a length but no bytes"},
    };
    mm_buf_t out = MM_BUF_INIT;
    mm_buf_append (&out, "keep", 4);
    for (size_t i = 0; i < S_N (bad); i++) {
        mm_incident_t inc;
        mm_sample_incident (&inc);
        bad[i].spoil (&inc);
        mm_error_t err;
        memset (&err, 0, sizeof err);
        cr_assert_eq (mm_incident_encode (&inc, &out, &err), -1, "%s: encoded", bad[i].what);
        cr_assert_eq (err.code, bad[i].code, "%s: %s", bad[i].what, err.reason);
        cr_assert_str_eq (err.field, bad[i].field, "%s: %s", bad[i].what, err.reason);
        cr_assert_str_eq (err.detail, bad[i].detail, "%s: %s", bad[i].what, err.reason);
        cr_assert_eq (err.offset, MM_NO_OFFSET, "%s", bad[i].what);
        cr_assert_eq (out.len, 4, "%s: output changed", bad[i].what);
        cr_assert_arr_eq (out.data, "keep", 4);
    }
    mm_buf_free (&out);
}

//  Without the has-bit, whatever the ioc holds is not sent (and cannot be refused).
Test (encode, ioc_only_with_its_has_bit)
{
    mm_incident_t inc, back;
    mm_sample_incident (&inc);
    inc.has = 0;
    inc.ioc.type = 0;
    mm_buf_t wire = MM_BUF_INIT;
    mm_error_t err;
    cr_assert_eq (mm_incident_encode (&inc, &wire, &err), 0, "%s", err.reason);
    cr_assert_eq (mm_incident_decode (&back, wire.data, wire.len, &err), 0, "%s", err.reason);
    cr_assert_eq (back.has, 0);
    cr_assert_eq (back.ioc.value.len, 0);
    char *line = s_json (&back);
    cr_assert_null (strstr (line, "indicator"), "%s", line);
    free (line);
    mm_buf_free (&wire);
}

//  HEALTH (issue 8): the sample round-trips through the codec and renders as JSON; a state
//  outside 1..255 or a missing region is refused.
Test (health, sample_round_trip_and_json)
{
    mm_health_t h, back;
    mm_sample_health (&h);
    mm_buf_t out = MM_BUF_INIT, json = MM_BUF_INIT;
    mm_error_t err;
    cr_assert_eq (mm_health_encode (&h, &out, &err), 0, "%s", err.detail);
    cr_assert_eq (mm_health_decode (&back, out.data, out.len, &err), 0, "%s", err.detail);
    cr_assert_eq (back.ts, h.ts);
    cr_assert_eq (back.state, MM_HEALTH_SILENT);
    cr_assert_eq (back.last_seen, h.last_seen);
    cr_assert_eq (back.since, h.since);
    cr_assert_eq (back.events, 5120);
    cr_assert (mm_str_eq (back.sensor, "s-kanto-0001") && mm_str_eq (back.region, "kanto"));
    mm_msg_type_t type;
    cr_assert_eq (mm_msg_peek (out.data, out.len, &type, &err), 0);
    cr_assert_eq (type, MM_MSG_HEALTH);
    cr_assert_eq (mm_msg_to_json (out.data, out.len, &json, &err), 0, "%s", err.detail);
    mm_buf_append (&json, "", 1);
    cr_assert (strstr ((const char *) json.data, "\"event_type\":\"health\""), "%s", json.data);
    cr_assert (strstr ((const char *) json.data, "\"state\":\"silent\""), "%s", json.data);
    cr_assert (strstr ((const char *) json.data, "\"events\":5120"), "%s", json.data);
    h.region = mm_str ("");
    mm_buf_clear (&out);
    cr_assert_eq (mm_health_encode (&h, &out, &err), -1, "an empty region is refused");
    mm_sample_health (&h);
    h.state = 0;
    cr_assert_eq (mm_health_encode (&h, &out, &err), -1, "state 0 is refused");
    mm_buf_free (&out);
    mm_buf_free (&json);
}
