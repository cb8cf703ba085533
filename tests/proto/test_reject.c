/*  Rejection: every class of bad input is refused with its typed error, on every path where
    untrusted bytes enter (the five decoders, mm_msg_peek, mm_msg_to_json), and the encoders
    refuse what the decoders reject. Inputs are crafted with msgpack-c's packer or as literal
    bytes, never with our own encoder, so an encoder bug cannot hide a decoder bug. */
#include <criterion/criterion.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_sample.h"

#define S_N(a) (sizeof (a) / sizeof (a)[0])

//  ---------------------------------------------------------------------------------------------
//  Crafting messages

//  One map entry, both halves already encoded. Key -1 means `raw_key` holds the encoded key,
//  for keys no well-behaved packer would write.
typedef struct {
    int key;
    const char *raw_key;
    size_t raw_key_len;
    const void *val;  //  NULL: drop this key from the base message
    size_t len;
} s_kv_t;

#define S_KV(k, lit)                                                                               \
    {                                                                                              \
        (k), NULL, 0, (lit), sizeof (lit) - 1                                                      \
    }
#define S_BUF(k, sb)                                                                               \
    {                                                                                              \
        (k), NULL, 0, (sb)->data, (sb)->size                                                       \
    }
#define S_DROP(k)                                                                                  \
    {                                                                                              \
        (k), NULL, 0, NULL, 0                                                                      \
    }
#define S_RAWKEY(kl, lit)                                                                          \
    {                                                                                              \
        -1, (kl), sizeof (kl) - 1, (lit), sizeof (lit) - 1                                         \
    }
#define S_PATCH(...) (const s_kv_t[]){__VA_ARGS__}, S_N (((const s_kv_t[]){__VA_ARGS__}))
#define S_BASE(b) (b), S_N (b)

//  Encoded bytes with their length, for tables of values.
typedef struct {
    const char *val;
    size_t len;
} s_bytes_t;

#define S_V(lit)                                                                                   \
    {                                                                                              \
        (lit), sizeof (lit) - 1                                                                    \
    }

//  ts 1795330800123456789 (2026-11-22T07:00:00.123456789Z) as uint64.
#define S_TS "\xcf\x18\xea\x4b\xd9\xc3\xad\x2d\x15"

//  The smallest valid message of each type: header and required keys only.
static const s_kv_t s_event_base[] = {
    S_KV (0, "\x01"),         S_KV (1, "\x01"), S_KV (2, S_TS),    S_KV (3, "\xacs-kanto-0001"),
    S_KV (4, "\xa8org-0001"), S_KV (5, "\x2a"), S_KV (10, "\x01"), S_KV (11, "\x01"),
};
static const s_kv_t s_heartbeat_base[] = {
    S_KV (0, "\x01"),
    S_KV (1, "\x02"),
    S_KV (2, S_TS),
    S_KV (3, "\xacs-kanto-0001"),
    S_KV (4, "\xa8org-0001"),
    S_KV (10, "\xce\x00\x01\x51\x80"),
    S_KV (18, "\xa5"
              "0.1.0"),
};
static const s_kv_t s_ack_base[] = {
    S_KV (0, "\x01"),
    S_KV (1, "\x03"),
    S_KV (3, "\xacs-kanto-0001"),
    S_KV (5, "\x2a"),
};
static const s_kv_t s_warning_base[] = {
    S_KV (0, "\x01"),
    S_KV (1, "\x04"),
    S_KV (2, S_TS),
    S_KV (10, "\xa4w-01"),
    S_KV (11, "\x01"),
    S_KV (12, "\x01"),
    S_KV (14, "\x83\x01\x03\x02\xab"
              "example.net"
              "\x03\x01"),  //  {type domain, value, exact}
    S_KV (15, "\x03"),
};
static const s_kv_t s_watchlist_base[] = {
    S_KV (0, "\x01"),
    S_KV (1, "\x05"),
    S_KV (2, S_TS),
    S_KV (10, "\x11"),
    S_KV (11, "\x91\x83\x01\x01\x02\x03\x03\xab"
              "example.net"),  //  [{add, domain, value}]
};

static bool
s_patched (const s_kv_t *patch, size_t n, int key)
{
    for (size_t i = 0; i < n; i++)
        if (key >= 0 && patch[i].key == key)
            return true;
    return false;
}

static void
s_entry (msgpack_packer *pk, msgpack_sbuffer *sb, const s_kv_t *kv)
{
    if (kv->key >= 0)
        msgpack_pack_unsigned_int (pk, (unsigned) kv->key);
    else
        msgpack_sbuffer_write (sb, kv->raw_key, kv->raw_key_len);
    msgpack_sbuffer_write (sb, kv->val, kv->len);
}

//  Appends one map: the base entries no patch names, then the patch entries in order. The
//  last patch's value therefore ends the message, which is how tests know error offsets.
static void
s_build (msgpack_sbuffer *sb, const s_kv_t *base, size_t n_base, const s_kv_t *patch,
         size_t n_patch)
{
    size_t count = 0;
    for (size_t i = 0; i < n_base; i++)
        count += !s_patched (patch, n_patch, base[i].key);
    for (size_t i = 0; i < n_patch; i++)
        count += patch[i].val != NULL;
    msgpack_packer pk;
    msgpack_packer_init (&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, count);
    for (size_t i = 0; i < n_base; i++)
        if (!s_patched (patch, n_patch, base[i].key))
            s_entry (&pk, sb, &base[i]);
    for (size_t i = 0; i < n_patch; i++)
        if (patch[i].val)
            s_entry (&pk, sb, &patch[i]);
}

static void
s_event (msgpack_sbuffer *sb, const s_kv_t *patch, size_t n)
{
    s_build (sb, S_BASE (s_event_base), patch, n);
}

static void
s_map (msgpack_sbuffer *sb, const s_kv_t *kv, size_t n)
{
    s_build (sb, NULL, 0, kv, n);
}

//  A string or binary of `len` copies of `fill`, in the shortest header msgpack-c picks.
static void
s_str (msgpack_sbuffer *sb, size_t len, char fill)
{
    msgpack_packer pk;
    msgpack_packer_init (&pk, sb, msgpack_sbuffer_write);
    char *bytes = malloc (len + 1);
    memset (bytes, fill, len);
    msgpack_pack_str_with_body (&pk, bytes, len);
    free (bytes);
}

static void
s_bin (msgpack_sbuffer *sb, size_t len, char fill)
{
    msgpack_packer pk;
    msgpack_packer_init (&pk, sb, msgpack_sbuffer_write);
    char *bytes = malloc (len + 1);
    memset (bytes, fill, len);
    msgpack_pack_bin_with_body (&pk, bytes, len);
    free (bytes);
}

//  `levels` arrays (or single-entry maps), each holding the next, the innermost holding nil.
static void
s_nest (msgpack_sbuffer *sb, int levels, bool maps)
{
    for (int i = 0; i < levels; i++)
        msgpack_sbuffer_write (sb, maps ? "\x81\x00" : "\x91", maps ? 2 : 1);
    msgpack_sbuffer_write (sb, "\xc0", 1);
}

//  ---------------------------------------------------------------------------------------------
//  Decoding paths

typedef int (*s_decode_fn) (const uint8_t *data, size_t len, mm_error_t *err);

//  Decoded structs are static: the watchlist is large, and each test is its own process.
static int
s_dec_event (const uint8_t *data, size_t len, mm_error_t *err)
{
    static mm_event_t ev;
    return mm_event_decode (&ev, data, len, err);
}

static int
s_dec_heartbeat (const uint8_t *data, size_t len, mm_error_t *err)
{
    static mm_heartbeat_t hb;
    return mm_heartbeat_decode (&hb, data, len, err);
}

static int
s_dec_ack (const uint8_t *data, size_t len, mm_error_t *err)
{
    static mm_ack_t ack;
    return mm_ack_decode (&ack, data, len, err);
}

static int
s_dec_warning (const uint8_t *data, size_t len, mm_error_t *err)
{
    static mm_warning_t w;
    return mm_warning_decode (&w, data, len, err);
}

static int
s_dec_watchlist (const uint8_t *data, size_t len, mm_error_t *err)
{
    static mm_watchlist_t wl;
    return mm_watchlist_decode (&wl, data, len, err);
}

static int
s_dec_peek (const uint8_t *data, size_t len, mm_error_t *err)
{
    mm_msg_type_t type;
    return mm_msg_peek (data, len, &type, err);
}

//  The renderer must leave its output alone when it refuses the input.
static int
s_dec_json (const uint8_t *data, size_t len, mm_error_t *err)
{
    mm_buf_t out = MM_BUF_INIT;
    mm_buf_append (&out, "previous line\n", 14);
    int rc = mm_msg_to_json (data, len, &out, err);
    if (rc == -1) {
        cr_assert_eq (out.len, 14, "mm_msg_to_json failed but changed its output");
        cr_assert_arr_eq (out.data, "previous line\n", 14);
    }
    else
        cr_assert_gt (out.len, 14, "mm_msg_to_json succeeded but wrote nothing");
    mm_buf_free (&out);
    return rc;
}

typedef struct {
    const char *name;
    s_decode_fn fn;
} s_path_t;

//  Every function that takes bytes off the network.
static const s_path_t s_paths[] = {
    {"mm_event_decode", s_dec_event},
    {"mm_heartbeat_decode", s_dec_heartbeat},
    {"mm_ack_decode", s_dec_ack},
    {"mm_warning_decode", s_dec_warning},
    {"mm_watchlist_decode", s_dec_watchlist},
    {"mm_msg_peek", s_dec_peek},
    {"mm_msg_to_json", s_dec_json},
};

//  Each message type with its decoder; the paths that accept a type are its decoder, peek
//  and json.
typedef struct {
    const char *name;
    const s_kv_t *base;
    size_t n_base;
    s_decode_fn decode;
} s_type_t;

static const s_type_t s_types[] = {
    {"event", S_BASE (s_event_base), s_dec_event},
    {"heartbeat", S_BASE (s_heartbeat_base), s_dec_heartbeat},
    {"ack", S_BASE (s_ack_base), s_dec_ack},
    {"warning", S_BASE (s_warning_base), s_dec_warning},
    {"watchlist", S_BASE (s_watchlist_base), s_dec_watchlist},
};

//  Runs `fn` on an exact-size heap copy of the input (so a sanitizer build sees any read past
//  the end) and checks that it fails with `code`. When `field` is given, the error must name
//  it, in err.field and in the readable reason. Returns the error for further checks.
static mm_error_t
s_reject (s_decode_fn fn, const void *data, size_t len, mm_errc_t code, const char *field,
          const char *what)
{
    uint8_t *copy = malloc (len ? len : 1);
    if (len)
        memcpy (copy, data, len);
    mm_error_t err;
    memset (&err, 0, sizeof err);
    int rc = fn (copy, len, &err);
    free (copy);
    cr_assert_eq (rc, -1, "%s: accepted bad input (expected %s)", what, mm_errc_name (code));
    cr_assert_eq (err.code, code, "%s: got %s, expected %s: %s", what, mm_errc_name (err.code),
                  mm_errc_name (code), err.reason);
    cr_assert (err.reason[0] != '\0', "%s: empty reason", what);
    cr_assert (strncmp (err.reason, mm_errc_name (code), strlen (mm_errc_name (code))) == 0,
               "%s: reason does not start with the code's name: %s", what, err.reason);
    cr_assert_leq (err.offset, len, "%s: offset %zu past the input (%zu bytes)", what, err.offset,
                   len);
    if (field) {
        cr_assert_str_eq (err.field, field, "%s: field '%s', expected '%s' (%s)", what, err.field,
                          field, err.reason);
        cr_assert (strstr (err.reason, field), "%s: reason does not name %s: %s", what, field,
                   err.reason);
    }
    return err;
}

static void
s_accept (s_decode_fn fn, const void *data, size_t len, const char *what)
{
    uint8_t *copy = malloc (len ? len : 1);
    if (len)
        memcpy (copy, data, len);
    mm_error_t err;
    memset (&err, 0, sizeof err);
    int rc = fn (copy, len, &err);
    free (copy);
    cr_assert_eq (rc, 0, "%s: rejected good input: %s", what, err.reason);
}

#define S_STR2(x) #x
#define S_STR(x) S_STR2 (x)
#define S_HERE "line " S_STR (__LINE__)

//  The usual case: an event, refused by mm_event_decode and by mm_msg_to_json alike.
#define S_REJECT_EVENT(sb, code, field)                                                            \
    (s_reject (s_dec_json, (sb)->data, (sb)->size, (code), (field), S_HERE " (json)"),             \
     s_reject (s_dec_event, (sb)->data, (sb)->size, (code), (field), S_HERE))

//  Framing errors (truncation, 0xc1, depth, duplicate top-level keys) are found by mm_msg_peek
//  before mm_msg_to_json decodes, and peek does not know field names: that path is only held
//  to the code.
#define S_REJECT_FRAMING(sb, code, field)                                                          \
    (s_reject (s_dec_json, (sb)->data, (sb)->size, (code), NULL, S_HERE " (json)"),                \
     s_reject (s_dec_event, (sb)->data, (sb)->size, (code), (field), S_HERE))

//  Offset of the value that ends the message, `n` bytes long.
#define S_LAST(sb, n) ((sb)->size - (n))

//  Any valid time will do where a control message needs one (2026-11-22T07:00:00Z).
static const uint64_t s_t0 = 1795330800000000000ULL;

//  ---------------------------------------------------------------------------------------------
//  The crafted base messages are valid, so each rejection below is caused by its one change.

Test (base, every_base_message_is_accepted)
{
    for (size_t i = 0; i < S_N (s_types); i++) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        s_build (&sb, s_types[i].base, s_types[i].n_base, NULL, 0);
        s_accept (s_types[i].decode, sb.data, sb.size, s_types[i].name);
        s_accept (s_dec_peek, sb.data, sb.size, s_types[i].name);
        s_accept (s_dec_json, sb.data, sb.size, s_types[i].name);
        msgpack_sbuffer_destroy (&sb);
    }
}

//  ---------------------------------------------------------------------------------------------
//  Truncated input

Test (truncated, empty_input_on_every_path)
{
    static const uint8_t none[1] = {0x80};
    for (size_t i = 0; i < S_N (s_paths); i++) {
        mm_error_t err = s_reject (s_paths[i].fn, none, 0, MM_ERR_TRUNCATED, NULL, s_paths[i].name);
        cr_assert_eq (err.offset, 0, "%s", s_paths[i].name);
    }
}

//  Every strict prefix of `full` must fail as truncated, on the type's decoder and on peek.
static void
s_every_prefix (const mm_buf_t *full, s_decode_fn decode, const char *what)
{
    s_accept (decode, full->data, full->len, what);
    for (size_t n = 0; n < full->len; n++) {
        char label[128];
        snprintf (label, sizeof label, "%s prefix of %zu/%zu bytes", what, n, full->len);
        s_reject (decode, full->data, n, MM_ERR_TRUNCATED, NULL, label);
        s_reject (s_dec_peek, full->data, n, MM_ERR_TRUNCATED, NULL, label);
    }
}

Test (truncated, every_prefix_of_a_finding)
{
    mm_event_t ev;
    mm_sample_finding (&ev);
    mm_buf_t buf = MM_BUF_INIT;
    mm_error_t err;
    cr_assert_eq (mm_event_encode (&ev, &buf, &err), 0, "%s", err.reason);
    s_every_prefix (&buf, s_dec_event, "finding");
    mm_buf_free (&buf);
}

Test (truncated, every_prefix_of_a_dns_event)
{
    mm_event_t ev;
    mm_sample_event (&ev, MM_KIND_DNS);
    mm_buf_t buf = MM_BUF_INIT;
    mm_error_t err;
    cr_assert_eq (mm_event_encode (&ev, &buf, &err), 0, "%s", err.reason);
    s_every_prefix (&buf, s_dec_event, "dns event");
    mm_buf_free (&buf);
}

Test (truncated, every_prefix_of_a_watchlist)
{
    static mm_watchlist_t wl;
    mm_sample_watchlist (&wl);
    mm_buf_t buf = MM_BUF_INIT;
    mm_error_t err;
    cr_assert_eq (mm_watchlist_encode (&wl, &buf, &err), 0, "%s", err.reason);
    s_every_prefix (&buf, s_dec_watchlist, "watchlist");
    mm_buf_free (&buf);
}

//  A length prefix may claim anything; the reader must compare it with what is there rather
//  than allocate or walk. Known field, unknown key (the skip path), and binary.
Test (truncated, str32_declaring_4_gib)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_event (&sb, S_PATCH (S_KV (3, "\xdb\xff\xff\xff\xff"
                                    "abc")));
    mm_error_t err = S_REJECT_FRAMING (&sb, MM_ERR_TRUNCATED, "event.sensor");
    cr_assert_eq (err.offset, S_LAST (&sb, 8), "the error is at the string header");
    msgpack_sbuffer_clear (&sb);

    s_event (&sb, S_PATCH (S_KV (99, "\xdb\xff\xff\xff\xff"
                                     "abc")));
    err = S_REJECT_FRAMING (&sb, MM_ERR_TRUNCATED, NULL);
    cr_assert_eq (err.offset, S_LAST (&sb, 8));
    s_reject (s_dec_peek, sb.data, sb.size, MM_ERR_TRUNCATED, NULL, "peek");
    msgpack_sbuffer_clear (&sb);

    s_event (&sb, S_PATCH (S_KV (21, "\xc6\xff\xff\xff\xff\xc0\x00\x02\x0a")));
    err = S_REJECT_FRAMING (&sb, MM_ERR_TRUNCATED, "event.src");
    cr_assert_eq (err.offset, S_LAST (&sb, 9));
    msgpack_sbuffer_clear (&sb);

    //  An extension of 4 GiB under an unknown key.
    s_event (&sb, S_PATCH (S_KV (99, "\xc9\xff\xff\xff\xff\x01"
                                     "abc")));
    S_REJECT_FRAMING (&sb, MM_ERR_TRUNCATED, NULL);
    msgpack_sbuffer_destroy (&sb);
}

//  2^32-1 entries: must fail at the header, before looking at any entry.
Test (truncated, map32_and_array32_declaring_4g_entries, .timeout = 10)
{
    static const uint8_t top[] = "\xdf\xff\xff\xff\xff\x00\x01\x01\x01";
    for (size_t i = 0; i < S_N (s_paths); i++) {
        mm_error_t err =
            s_reject (s_paths[i].fn, top, sizeof top - 1, MM_ERR_TRUNCATED, NULL, s_paths[i].name);
        cr_assert_eq (err.offset, 0, "%s", s_paths[i].name);
    }

    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_event (&sb, S_PATCH (S_KV (10, "\x02"), S_KV (40, "\xdf\xff\xff\xff\xff\x01\xa1"
                                                        "a")));
    mm_error_t err = S_REJECT_FRAMING (&sb, MM_ERR_TRUNCATED, "event.dns");
    cr_assert_eq (err.offset, S_LAST (&sb, 8));
    msgpack_sbuffer_clear (&sb);

    s_event (&sb, S_PATCH (S_KV (28, "\xdd\xff\xff\xff\xff\x01\x02")));
    err = S_REJECT_FRAMING (&sb, MM_ERR_TRUNCATED, "event.vlan");
    cr_assert_eq (err.offset, S_LAST (&sb, 7));
    msgpack_sbuffer_clear (&sb);

    //  Under an unknown key, where the value is only skipped.
    s_event (&sb, S_PATCH (S_KV (99, "\xdd\xff\xff\xff\xff\x01\x02")));
    err = S_REJECT_FRAMING (&sb, MM_ERR_TRUNCATED, NULL);
    cr_assert_eq (err.offset, S_LAST (&sb, 7));
    s_reject (s_dec_peek, sb.data, sb.size, MM_ERR_TRUNCATED, NULL, "peek");
    msgpack_sbuffer_clear (&sb);

    s_event (&sb, S_PATCH (S_KV (99, "\xdf\xff\xff\xff\xff\x01\x02")));
    S_REJECT_FRAMING (&sb, MM_ERR_TRUNCATED, NULL);
    msgpack_sbuffer_clear (&sb);

    s_build (&sb, S_BASE (s_watchlist_base), S_PATCH (S_KV (11, "\xdd\xff\xff\xff\xff\x80")));
    s_reject (s_dec_watchlist, sb.data, sb.size, MM_ERR_TRUNCATED, "watchlist.entries", "wl");
    msgpack_sbuffer_destroy (&sb);
}

//  ---------------------------------------------------------------------------------------------
//  Wrong MessagePack types

Test (type, string_where_uint_expected)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_event (&sb, S_PATCH (S_KV (2, "\xa3now")));
    mm_error_t err = S_REJECT_EVENT (&sb, MM_ERR_TYPE, "event.ts");
    cr_assert_eq (err.offset, S_LAST (&sb, 4));
    cr_assert (strstr (err.detail, "string"), "detail says what it got: %s", err.detail);
    msgpack_sbuffer_destroy (&sb);
}

Test (type, uint_where_string_expected)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_event (&sb, S_PATCH (S_KV (3, "\x05")));
    mm_error_t err = S_REJECT_EVENT (&sb, MM_ERR_TYPE, "event.sensor");
    cr_assert_eq (err.offset, S_LAST (&sb, 1));
    msgpack_sbuffer_destroy (&sb);
}

//  str and bin are distinct: text fields take only str, addresses and digests only bin.
Test (type, bin_and_str_are_not_interchangeable)
{
    msgpack_sbuffer sb, tls;
    msgpack_sbuffer_init (&sb);
    msgpack_sbuffer_init (&tls);
    s_event (&sb, S_PATCH (S_KV (3, "\xc4\x03"
                                    "abc")));
    mm_error_t err = S_REJECT_EVENT (&sb, MM_ERR_TYPE, "event.sensor");
    cr_assert_eq (err.offset, S_LAST (&sb, 5));
    msgpack_sbuffer_clear (&sb);

    s_event (&sb, S_PATCH (S_KV (21, "\xa4\xc0\x00\x02\x0a")));
    err = S_REJECT_EVENT (&sb, MM_ERR_TYPE, "event.src");
    cr_assert_eq (err.offset, S_LAST (&sb, 5));
    msgpack_sbuffer_clear (&sb);

    s_map (&tls, S_PATCH (S_KV (4, "\xb0"
                                   "0123456789abcdef")));
    s_event (&sb, S_PATCH (S_KV (10, "\x03"), S_BUF (41, &tls)));
    err = S_REJECT_EVENT (&sb, MM_ERR_TYPE, "event.tls.ja3");
    cr_assert_eq (err.offset, S_LAST (&sb, 17));
    msgpack_sbuffer_destroy (&tls);
    msgpack_sbuffer_destroy (&sb);
}

Test (type, nil_bool_float_where_uint_expected)
{
    static const struct {
        int key;
        s_bytes_t v;
        const char *field;
        const char *got;
    } cases[] = {
        {11, S_V ("\xc0"), "event.severity", "nil"},
        {12, S_V ("\xc3"), "event.confidence", "bool"},
        {12, S_V ("\xc2"), "event.confidence", "bool"},
        {5, S_V ("\xcb\x40\x45\x00\x00\x00\x00\x00\x00"), "event.seq", "float"},  //  42.0
        {5, S_V ("\xca\x42\x28\x00\x00"), "event.seq", "float"},
    };
    for (size_t i = 0; i < S_N (cases); i++) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        s_kv_t kv = {cases[i].key, NULL, 0, cases[i].v.val, cases[i].v.len};
        s_event (&sb, &kv, 1);
        mm_error_t err = S_REJECT_EVENT (&sb, MM_ERR_TYPE, cases[i].field);
        cr_assert_eq (err.offset, S_LAST (&sb, cases[i].v.len), "case %zu", i);
        cr_assert (strstr (err.detail, cases[i].got), "case %zu: %s", i, err.detail);
        msgpack_sbuffer_destroy (&sb);
    }
}

Test (type, array_where_map_expected_at_top_level)
{
    static const uint8_t arr[] = {0x92, 0x00, 0x01};
    for (size_t i = 0; i < S_N (s_paths); i++) {
        mm_error_t err =
            s_reject (s_paths[i].fn, arr, sizeof arr, MM_ERR_TYPE, NULL, s_paths[i].name);
        cr_assert_eq (err.offset, 0, "%s", s_paths[i].name);
    }
}

Test (type, wrong_type_where_nested_map_expected)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_event (&sb, S_PATCH (S_KV (10, "\x02"), S_KV (40, "\x91\xa1"
                                                        "a")));
    mm_error_t err = S_REJECT_EVENT (&sb, MM_ERR_TYPE, "event.dns");
    cr_assert_eq (err.offset, S_LAST (&sb, 3));
    msgpack_sbuffer_clear (&sb);

    s_event (&sb, S_PATCH (S_KV (10, "\x10"), S_KV (50, "\xa6"
                                                        "beacon")));
    err = S_REJECT_EVENT (&sb, MM_ERR_TYPE, "event.finding");
    cr_assert_eq (err.offset, S_LAST (&sb, 7));
    msgpack_sbuffer_clear (&sb);

    //  An element of an array of maps.
    s_build (&sb, S_BASE (s_watchlist_base), S_PATCH (S_KV (11, "\x91\x05")));
    err = s_reject (s_dec_watchlist, sb.data, sb.size, MM_ERR_TYPE, "watchlist.entries", "wl");
    cr_assert_eq (err.offset, S_LAST (&sb, 1));
    msgpack_sbuffer_destroy (&sb);
}

Test (type, map_where_array_expected)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_event (&sb, S_PATCH (S_KV (28, "\x81\x00\x64")));
    mm_error_t err = S_REJECT_EVENT (&sb, MM_ERR_TYPE, "event.vlan");
    cr_assert_eq (err.offset, S_LAST (&sb, 3));
    msgpack_sbuffer_destroy (&sb);
}

Test (type, ext_in_a_known_field)
{
    msgpack_sbuffer sb, finding;
    msgpack_sbuffer_init (&sb);
    msgpack_sbuffer_init (&finding);
    s_map (&finding, S_PATCH (S_KV (1, "\xa6"
                                       "beacon"),
                              S_KV (3, "\x05"), S_KV (5, "\xd4\x01\x00")));  //  fixext 1
    s_event (&sb, S_PATCH (S_KV (10, "\x10"), S_BUF (50, &finding)));
    mm_error_t err = S_REJECT_EVENT (&sb, MM_ERR_TYPE, "event.finding.message");
    cr_assert_eq (err.offset, S_LAST (&sb, 3));
    cr_assert (strstr (err.detail, "extension"), "%s", err.detail);
    msgpack_sbuffer_clear (&sb);

    s_event (&sb, S_PATCH (S_KV (2, "\xc7\x08\xff"
                                    "\x00\x00\x00\x00\x00\x00\x00\x01")));
    err = S_REJECT_EVENT (&sb, MM_ERR_TYPE, "event.ts");  //  a timestamp ext is still not a uint
    cr_assert_eq (err.offset, S_LAST (&sb, 11));
    msgpack_sbuffer_destroy (&finding);
    msgpack_sbuffer_destroy (&sb);
}

Test (type, reserved_byte_0xc1)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_event (&sb, S_PATCH (S_KV (2, "\xc1")));
    mm_error_t err = S_REJECT_FRAMING (&sb, MM_ERR_TYPE, "event.ts");
    cr_assert_eq (err.offset, S_LAST (&sb, 1));
    msgpack_sbuffer_clear (&sb);

    //  Under an unknown key, where the skipper meets it.
    s_event (&sb, S_PATCH (S_KV (99, "\x92\x01\xc1")));
    err = S_REJECT_FRAMING (&sb, MM_ERR_TYPE, NULL);
    cr_assert_eq (err.offset, S_LAST (&sb, 1));
    s_reject (s_dec_peek, sb.data, sb.size, MM_ERR_TYPE, NULL, "peek");
    msgpack_sbuffer_destroy (&sb);

    static const uint8_t lone[] = {0xc1};
    for (size_t i = 0; i < S_N (s_paths); i++)
        s_reject (s_paths[i].fn, lone, 1, MM_ERR_TYPE, NULL, s_paths[i].name);
}

//  ---------------------------------------------------------------------------------------------
//  Out of range

typedef struct {
    int key;
    const char *val;
    size_t len;
    const char *field;
} s_case_t;

#define S_CASE(k, lit, f)                                                                          \
    {                                                                                              \
        (k), (lit), sizeof (lit) - 1, (f)                                                          \
    }

//  Each case replaces (or adds) one top-level event key; the error is at the value.
static void
s_event_cases (const s_case_t *cases, size_t n, mm_errc_t code)
{
    for (size_t i = 0; i < n; i++) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        s_kv_t kv = {cases[i].key, NULL, 0, cases[i].val, cases[i].len};
        s_event (&sb, &kv, 1);
        char label[128];
        snprintf (label, sizeof label, "case %zu (%s)", i, cases[i].field);
        s_reject (s_dec_json, sb.data, sb.size, code, cases[i].field, label);
        mm_error_t err = s_reject (s_dec_event, sb.data, sb.size, code, cases[i].field, label);
        cr_assert_eq (err.offset, S_LAST (&sb, cases[i].len), "%s: offset %zu", label, err.offset);
        msgpack_sbuffer_destroy (&sb);
    }
}

Test (range, enumerations_and_bounded_fields)
{
    static const s_case_t cases[] = {
        S_CASE (11, "\x07", "event.severity"),
        S_CASE (12, "\x65", "event.confidence"),  //  101
        S_CASE (25, "\x05", "event.direction"),
        S_CASE (24, "\xce\x00\x01\x00\x00", "event.dport"),  //  65536
        S_CASE (22, "\xce\x00\x01\x00\x00", "event.sport"),
        S_CASE (20, "\xcd\x01\x00", "event.proto"),  //  256 in a u8 field
        S_CASE (10, "\xcd\x01\x00", "event.kind"),
        S_CASE (10, "\x00", "event.kind"),   //  kinds start at 1
        S_CASE (35, "\x0e", "event.state"),  //  past OTH
        S_CASE (5, "\x00", "event.seq"),     //  seq starts at 1
        S_CASE (2, "\x00", "event.ts"),
    };
    s_event_cases (cases, S_N (cases), MM_ERR_RANGE);
}

Test (range, severity_message_names_the_bounds)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_event (&sb, S_PATCH (S_KV (11, "\x07")));
    mm_error_t err = S_REJECT_EVENT (&sb, MM_ERR_RANGE, "event.severity");
    cr_assert (strstr (err.detail, "7 is outside 0..6"), "%s", err.detail);
    msgpack_sbuffer_destroy (&sb);
}

//  Every negative encoding, in an unsigned field.
Test (range, negative_integers)
{
    static const s_case_t cases[] = {
        S_CASE (5, "\xff", "event.seq"),          //  fixint -1
        S_CASE (5, "\xe0", "event.seq"),          //  fixint -32
        S_CASE (5, "\xd0\xff", "event.seq"),      //  int8 -1
        S_CASE (5, "\xd0\x80", "event.seq"),      //  int8 -128
        S_CASE (5, "\xd1\xff\xfe", "event.seq"),  //  int16 -2
        S_CASE (5, "\xd1\x80\x00", "event.seq"),
        S_CASE (5, "\xd2\xff\xff\xff\xff", "event.seq"),                  //  int32 -1
        S_CASE (5, "\xd3\xff\xff\xff\xff\xff\xff\xff\xff", "event.seq"),  //  int64 -1
        S_CASE (5, "\xd3\x80\x00\x00\x00\x00\x00\x00\x00", "event.seq"),  //  INT64_MIN
        S_CASE (11, "\xff", "event.severity"),
        S_CASE (24, "\xd1\xff\xff", "event.dport"),
    };
    s_event_cases (cases, S_N (cases), MM_ERR_RANGE);
}

Test (range, vlan_element_4096)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_event (&sb, S_PATCH (S_KV (28, "\x92\x64\xcd\x10\x00")));
    mm_error_t err = S_REJECT_EVENT (&sb, MM_ERR_RANGE, "event.vlan");
    cr_assert_eq (err.offset, S_LAST (&sb, 3), "the error is at the element");
    msgpack_sbuffer_clear (&sb);
    s_event (&sb, S_PATCH (S_KV (28, "\x92\x64\xcd\x0f\xff")));  //  4095 is the last valid id
    s_accept (s_dec_event, sb.data, sb.size, "vlan 4095");
    msgpack_sbuffer_destroy (&sb);
}

Test (range, nested_fields)
{
    msgpack_sbuffer sb, dns;
    msgpack_sbuffer_init (&sb);
    msgpack_sbuffer_init (&dns);
    s_map (&dns, S_PATCH (S_KV (1, "\xa1q"), S_KV (3, "\xcd\x10\x00")));  //  rcode 4096
    s_event (&sb, S_PATCH (S_KV (10, "\x02"), S_BUF (40, &dns)));
    mm_error_t err = S_REJECT_EVENT (&sb, MM_ERR_RANGE, "event.dns.rcode");
    cr_assert_eq (err.offset, S_LAST (&sb, 3));
    msgpack_sbuffer_clear (&sb);
    msgpack_sbuffer_clear (&dns);

    s_map (&dns, S_PATCH (S_KV (2, "\xce\x00\x01\x00\x00")));  //  qtype 65536 in a u16
    s_event (&sb, S_PATCH (S_KV (10, "\x02"), S_BUF (40, &dns)));
    S_REJECT_EVENT (&sb, MM_ERR_RANGE, "event.dns.qtype");
    msgpack_sbuffer_clear (&sb);
    msgpack_sbuffer_clear (&dns);

    s_map (&dns, S_PATCH (S_KV (2, "\xd0\xff")));  //  negative, nested
    s_event (&sb, S_PATCH (S_KV (10, "\x02"), S_BUF (40, &dns)));
    S_REJECT_EVENT (&sb, MM_ERR_RANGE, "event.dns.qtype");
    msgpack_sbuffer_destroy (&dns);
    msgpack_sbuffer_destroy (&sb);
}

Test (range, warning_status_4)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_build (&sb, S_BASE (s_warning_base), S_PATCH (S_KV (12, "\x04")));
    s_reject (s_dec_json, sb.data, sb.size, MM_ERR_RANGE, "warning.status", "json");
    mm_error_t err =
        s_reject (s_dec_warning, sb.data, sb.size, MM_ERR_RANGE, "warning.status", "warning");
    cr_assert_eq (err.offset, S_LAST (&sb, 1));
    msgpack_sbuffer_clear (&sb);
    s_build (&sb, S_BASE (s_warning_base), S_PATCH (S_KV (12, "\x00")));
    s_reject (s_dec_warning, sb.data, sb.size, MM_ERR_RANGE, "warning.status", "status 0");
    msgpack_sbuffer_destroy (&sb);
}

Test (range, watchlist_entry_op)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_build (&sb, S_BASE (s_watchlist_base),
             S_PATCH (S_KV (11, "\x91\x83\x02\x03\x03\xa1x"
                                "\x01\x03")));  //  op 3 last
    mm_error_t err =
        s_reject (s_dec_watchlist, sb.data, sb.size, MM_ERR_RANGE, "watchlist.entries.op", "op 3");
    cr_assert_eq (err.offset, S_LAST (&sb, 1));
    msgpack_sbuffer_destroy (&sb);
}

//  ---------------------------------------------------------------------------------------------
//  Oversize

//  A string field of `limit` bytes is accepted and of `limit + 1` refused, as the value of
//  `key` in a nested map (or at top level when `nested_key` is -1).
static void
s_string_limit (int nested_key, unsigned kind, int key, size_t limit, const char *field)
{
    for (size_t len = limit; len <= limit + 1; len++) {
        msgpack_sbuffer sb, val, sub;
        msgpack_sbuffer_init (&sb);
        msgpack_sbuffer_init (&val);
        msgpack_sbuffer_init (&sub);
        s_str (&val, len, 'a');
        char kind_byte = (char) kind;
        s_kv_t k = {10, NULL, 0, &kind_byte, 1};
        s_kv_t v = S_BUF (key, &val);
        if (nested_key >= 0) {
            s_map (&sub, &v, 1);
            s_kv_t kvs[] = {k, S_BUF (nested_key, &sub)};
            s_event (&sb, kvs, 2);
        }
        else {
            s_kv_t kvs[] = {k, v};
            s_event (&sb, kvs, 2);
        }
        if (len == limit)
            s_accept (s_dec_event, sb.data, sb.size, field);
        else {
            mm_error_t err = S_REJECT_EVENT (&sb, MM_ERR_TOO_LONG, field);
            cr_assert_eq (err.offset, S_LAST (&sb, val.size), "%s: at the string", field);
        }
        msgpack_sbuffer_destroy (&sub);
        msgpack_sbuffer_destroy (&val);
        msgpack_sbuffer_destroy (&sb);
    }
}

Test (too_long, sensor_65_bytes)
{
    s_string_limit (-1, MM_KIND_FLOW, 3, MM_ID_MAX, "event.sensor");
}

Test (too_long, qname_256_bytes)
{
    s_string_limit (40, MM_KIND_DNS, 1, MM_NAME_MAX, "event.dns.qname");
}

Test (too_long, uri_2049_bytes)
{
    s_string_limit (42, MM_KIND_HTTP, 3, MM_LONG_MAX, "event.http.uri");
}

Test (too_long, finding_message_513_bytes)
{
    //  message is required, so the map also carries detector and category.
    for (size_t len = MM_TEXT_MAX; len <= MM_TEXT_MAX + 1; len++) {
        msgpack_sbuffer sb, msg, finding;
        msgpack_sbuffer_init (&sb);
        msgpack_sbuffer_init (&msg);
        msgpack_sbuffer_init (&finding);
        s_str (&msg, len, 'm');
        s_map (&finding, S_PATCH (S_KV (1, "\xa1"
                                           "d"),
                                  S_KV (3, "\x01"), S_BUF (5, &msg)));
        s_event (&sb, S_PATCH (S_KV (10, "\x10"), S_BUF (50, &finding)));
        if (len == MM_TEXT_MAX)
            s_accept (s_dec_event, sb.data, sb.size, "message of 512");
        else
            S_REJECT_EVENT (&sb, MM_ERR_TOO_LONG, "event.finding.message");
        msgpack_sbuffer_destroy (&finding);
        msgpack_sbuffer_destroy (&msg);
        msgpack_sbuffer_destroy (&sb);
    }
}

Test (too_long, heartbeat_version_33_bytes)
{
    msgpack_sbuffer sb, val;
    msgpack_sbuffer_init (&sb);
    msgpack_sbuffer_init (&val);
    s_str (&val, MM_SHORT_MAX + 1, '1');
    s_build (&sb, S_BASE (s_heartbeat_base), S_PATCH (S_BUF (18, &val)));
    s_reject (s_dec_json, sb.data, sb.size, MM_ERR_TOO_LONG, "heartbeat.version", "json");
    s_reject (s_dec_heartbeat, sb.data, sb.size, MM_ERR_TOO_LONG, "heartbeat.version", "hb");
    msgpack_sbuffer_destroy (&val);
    msgpack_sbuffer_destroy (&sb);
}

//  An array of `n` copies of `elem`.
static void
s_array_of (msgpack_sbuffer *sb, size_t n, const void *elem, size_t len)
{
    msgpack_packer pk;
    msgpack_packer_init (&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_array (&pk, n);
    for (size_t i = 0; i < n; i++)
        msgpack_sbuffer_write (sb, elem, len);
}

Test (too_long, dns_answers_33)
{
    static const char answer[] = "\x83\x01\x01\x02\xa9"
                                 "192.0.2.1"
                                 "\x03\x00";
    for (size_t n = MM_DNS_ANSWERS_MAX; n <= MM_DNS_ANSWERS_MAX + 1; n++) {
        msgpack_sbuffer sb, arr, dns;
        msgpack_sbuffer_init (&sb);
        msgpack_sbuffer_init (&arr);
        msgpack_sbuffer_init (&dns);
        s_array_of (&arr, n, answer, sizeof answer - 1);
        s_map (&dns, S_PATCH (S_KV (1, "\xa1"
                                       "a"),
                              S_BUF (4, &arr)));
        s_event (&sb, S_PATCH (S_KV (10, "\x02"), S_BUF (40, &dns)));
        if (n == MM_DNS_ANSWERS_MAX)
            s_accept (s_dec_event, sb.data, sb.size, "32 answers");
        else {
            mm_error_t err = S_REJECT_EVENT (&sb, MM_ERR_TOO_LONG, "event.dns.answers");
            cr_assert_eq (err.offset, S_LAST (&sb, arr.size), "at the array header");
        }
        msgpack_sbuffer_destroy (&dns);
        msgpack_sbuffer_destroy (&arr);
        msgpack_sbuffer_destroy (&sb);
    }
}

Test (too_long, alpn_9)
{
    for (size_t n = MM_ALPN_MAX; n <= MM_ALPN_MAX + 1; n++) {
        msgpack_sbuffer sb, arr, tls;
        msgpack_sbuffer_init (&sb);
        msgpack_sbuffer_init (&arr);
        msgpack_sbuffer_init (&tls);
        s_array_of (&arr, n, "\xa2h2", 3);
        s_map (&tls, S_PATCH (S_BUF (3, &arr)));
        s_event (&sb, S_PATCH (S_KV (10, "\x03"), S_BUF (41, &tls)));
        if (n == MM_ALPN_MAX)
            s_accept (s_dec_event, sb.data, sb.size, "8 alpn");
        else {
            mm_error_t err = S_REJECT_EVENT (&sb, MM_ERR_TOO_LONG, "event.tls.alpn");
            cr_assert_eq (err.offset, S_LAST (&sb, arr.size));
        }
        msgpack_sbuffer_destroy (&tls);
        msgpack_sbuffer_destroy (&arr);
        msgpack_sbuffer_destroy (&sb);
    }
}

Test (too_long, alpn_element_and_vlan_count)
{
    msgpack_sbuffer sb, arr, tls;
    msgpack_sbuffer_init (&sb);
    msgpack_sbuffer_init (&arr);
    msgpack_sbuffer_init (&tls);
    msgpack_sbuffer_write (&arr, "\x91", 1);
    s_str (&arr, MM_ID_MAX + 1, 'p');
    s_map (&tls, S_PATCH (S_BUF (3, &arr)));
    s_event (&sb, S_PATCH (S_KV (10, "\x03"), S_BUF (41, &tls)));
    mm_error_t err = S_REJECT_EVENT (&sb, MM_ERR_TOO_LONG, "event.tls.alpn");
    cr_assert_eq (err.offset, S_LAST (&sb, arr.size - 1), "at the element");
    msgpack_sbuffer_clear (&sb);

    s_event (&sb, S_PATCH (S_KV (28, "\x93\x01\x02\x03")));
    S_REJECT_EVENT (&sb, MM_ERR_TOO_LONG, "event.vlan");
    msgpack_sbuffer_destroy (&tls);
    msgpack_sbuffer_destroy (&arr);
    msgpack_sbuffer_destroy (&sb);
}

Test (too_long, watchlist_entries_257)
{
    static const char entry[] = "\x83\x01\x01\x02\x01\x03\xa9"
                                "192.0.2.1";
    for (size_t n = MM_WATCHLIST_MAX; n <= MM_WATCHLIST_MAX + 1; n++) {
        msgpack_sbuffer sb, arr;
        msgpack_sbuffer_init (&sb);
        msgpack_sbuffer_init (&arr);
        s_array_of (&arr, n, entry, sizeof entry - 1);
        s_build (&sb, S_BASE (s_watchlist_base), S_PATCH (S_BUF (11, &arr)));
        if (n == MM_WATCHLIST_MAX)
            s_accept (s_dec_watchlist, sb.data, sb.size, "256 entries");
        else {
            s_reject (s_dec_json, sb.data, sb.size, MM_ERR_TOO_LONG, "watchlist.entries", "json");
            mm_error_t err = s_reject (s_dec_watchlist, sb.data, sb.size, MM_ERR_TOO_LONG,
                                       "watchlist.entries", "257 entries");
            cr_assert_eq (err.offset, S_LAST (&sb, arr.size));
        }
        msgpack_sbuffer_destroy (&arr);
        msgpack_sbuffer_destroy (&sb);
    }
}

//  ---------------------------------------------------------------------------------------------
//  Duplicate keys

Test (duplicate, top_level_key)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_event (&sb, S_PATCH (S_KV (3, "\xa1"
                                    "a"),
                           S_KV (3, "\xa1"
                                    "b")));
    mm_error_t err = S_REJECT_FRAMING (&sb, MM_ERR_DUPLICATE, "event");
    cr_assert_eq (err.offset, S_LAST (&sb, 3), "at the second key");
    cr_assert (strstr (err.detail, "key 3"), "%s", err.detail);
    err = s_reject (s_dec_peek, sb.data, sb.size, MM_ERR_DUPLICATE, NULL, "peek");
    cr_assert_eq (err.offset, S_LAST (&sb, 3));
    msgpack_sbuffer_clear (&sb);

    //  A header key twice, even with the same value, and an unknown key twice.
    s_event (&sb, S_PATCH (S_KV (0, "\x01"), S_KV (0, "\x01")));
    S_REJECT_FRAMING (&sb, MM_ERR_DUPLICATE, "event");
    msgpack_sbuffer_clear (&sb);
    s_event (&sb, S_PATCH (S_KV (99, "\xc0"), S_KV (99, "\xc0")));
    S_REJECT_FRAMING (&sb, MM_ERR_DUPLICATE, "event");
    msgpack_sbuffer_clear (&sb);
    s_event (&sb, S_PATCH (S_KV (127, "\xc0"), S_KV (127, "\xc0")));
    S_REJECT_FRAMING (&sb, MM_ERR_DUPLICATE, "event");
    msgpack_sbuffer_destroy (&sb);
}

//  The same key spelled two ways is still the same key.
Test (duplicate, same_key_in_two_encodings)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_event (&sb, S_PATCH (S_KV (12, "\x05"), S_RAWKEY ("\xcd\x00\x0c", "\x06")));
    mm_error_t err = S_REJECT_FRAMING (&sb, MM_ERR_DUPLICATE, "event");
    cr_assert_eq (err.offset, S_LAST (&sb, 4));
    msgpack_sbuffer_destroy (&sb);
}

Test (duplicate, inside_nested_map)
{
    msgpack_sbuffer sb, dns;
    msgpack_sbuffer_init (&sb);
    msgpack_sbuffer_init (&dns);
    s_map (&dns, S_PATCH (S_KV (1, "\xa1q"), S_KV (1, "\xa1"
                                                      "b")));
    s_event (&sb, S_PATCH (S_KV (10, "\x02"), S_BUF (40, &dns)));
    mm_error_t err = S_REJECT_EVENT (&sb, MM_ERR_DUPLICATE, "event.dns");
    cr_assert_eq (err.offset, S_LAST (&sb, 3));
    msgpack_sbuffer_clear (&sb);

    s_build (&sb, S_BASE (s_watchlist_base),
             S_PATCH (S_KV (11, "\x91\x84\x01\x01\x02\x03\x03\xa1x"
                                "\x01\x02")));
    err = s_reject (s_dec_watchlist, sb.data, sb.size, MM_ERR_DUPLICATE, "watchlist.entries",
                    "entry");
    cr_assert_eq (err.offset, S_LAST (&sb, 2));
    msgpack_sbuffer_destroy (&dns);
    msgpack_sbuffer_destroy (&sb);
}

//  ---------------------------------------------------------------------------------------------
//  Missing required keys

Test (missing, each_required_event_key)
{
    static const struct {
        int key;
        const char *name;
    } required[] = {
        {0, "(v)"},   {2, "(ts)"},    {3, "(sensor)"},    {4, "(org)"},
        {5, "(seq)"}, {10, "(kind)"}, {11, "(severity)"},
    };
    for (size_t i = 0; i < S_N (required); i++) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        s_kv_t drop = S_DROP (required[i].key);
        s_event (&sb, &drop, 1);
        char label[128];
        snprintf (label, sizeof label, "without key %d", required[i].key);
        s_reject (s_dec_json, sb.data, sb.size, MM_ERR_MISSING, NULL, label);
        mm_error_t err = s_reject (s_dec_event, sb.data, sb.size, MM_ERR_MISSING, NULL, label);
        cr_assert (strstr (err.reason, required[i].name), "%s: reason does not name %s: %s", label,
                   required[i].name, err.reason);
        cr_assert_eq (err.offset, 0, "%s: missing keys are reported at their map", label);
        msgpack_sbuffer_destroy (&sb);
    }
}

//  Without its type a message cannot be routed: every decoder must refuse it, as peek does,
//  not only the event decoder (ack and heartbeat carry nothing else that would catch it).
Test (missing, type_key)
{
    for (size_t t = 0; t < S_N (s_types); t++) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        s_kv_t drop = S_DROP (1);
        s_build (&sb, s_types[t].base, s_types[t].n_base, &drop, 1);
        s_reject (s_dec_peek, sb.data, sb.size, MM_ERR_MISSING, "message", s_types[t].name);
        s_reject (s_dec_json, sb.data, sb.size, MM_ERR_MISSING, NULL, s_types[t].name);
        mm_error_t err =
            s_reject (s_types[t].decode, sb.data, sb.size, MM_ERR_MISSING, NULL, s_types[t].name);
        cr_assert (strstr (err.reason, "(type)"), "%s: %s", s_types[t].name, err.reason);
        msgpack_sbuffer_destroy (&sb);
    }
}

//  The protocol does not distinguish "" from absent (mm_proto.h), and the encoder refuses an
//  empty required string, so the decoder must not let one in either.
Test (missing, empty_required_string_is_absent)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_event (&sb, S_PATCH (S_KV (3, "\xa0")));
    mm_error_t err = S_REJECT_EVENT (&sb, MM_ERR_MISSING, NULL);
    cr_assert (strstr (err.reason, "sensor"), "%s", err.reason);
    msgpack_sbuffer_destroy (&sb);
}

Test (missing, finding_without_detector_category_or_message)
{
    static const struct {
        int key;
        const char *name;
    } required[] = {{1, "(detector)"}, {3, "(category)"}, {5, "(message)"}};
    static const s_kv_t finding[] = {
        S_KV (1, "\xa6"
                 "beacon"),
        S_KV (3, "\x05"),
        S_KV (5, "\xa4text"),
    };
    msgpack_sbuffer sb, sub;
    msgpack_sbuffer_init (&sb);
    msgpack_sbuffer_init (&sub);
    s_map (&sub, S_BASE (finding));
    s_event (&sb, S_PATCH (S_KV (10, "\x10"), S_BUF (50, &sub)));
    s_accept (s_dec_event, sb.data, sb.size, "complete finding");
    for (size_t i = 0; i < S_N (required); i++) {
        msgpack_sbuffer_clear (&sb);
        msgpack_sbuffer_clear (&sub);
        s_kv_t drop = S_DROP (required[i].key);
        s_build (&sub, S_BASE (finding), &drop, 1);
        s_event (&sb, S_PATCH (S_KV (10, "\x10"), S_BUF (50, &sub)));
        mm_error_t err = S_REJECT_EVENT (&sb, MM_ERR_MISSING, "event.finding");
        cr_assert (strstr (err.reason, required[i].name), "%s", err.reason);
        cr_assert_eq (err.offset, S_LAST (&sb, sub.size), "at the finding map");
    }
    msgpack_sbuffer_destroy (&sub);
    msgpack_sbuffer_destroy (&sb);
}

//  A kind promises its metadata map.
Test (missing, kind_without_its_map)
{
    static const struct {
        const char *kind;
        const char *key;
    } kinds[] = {{"\x02", "key 40"}, {"\x03", "key 41"}, {"\x04", "key 42"},
                 {"\x05", "key 43"}, {"\x06", "key 44"}, {"\x10", "key 50"}};
    for (size_t i = 0; i < S_N (kinds); i++) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        s_kv_t kind = {10, NULL, 0, kinds[i].kind, 1};
        s_event (&sb, &kind, 1);
        mm_error_t err = S_REJECT_EVENT (&sb, MM_ERR_MISSING, "event");
        cr_assert (strstr (err.reason, kinds[i].key), "%s", err.reason);
        msgpack_sbuffer_destroy (&sb);
    }
}

Test (missing, control_messages)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_build (&sb, S_BASE (s_warning_base), S_PATCH (S_DROP (14)));
    s_reject (s_dec_json, sb.data, sb.size, MM_ERR_MISSING, "warning", "json");
    mm_error_t err = s_reject (s_dec_warning, sb.data, sb.size, MM_ERR_MISSING, "warning", "ind");
    cr_assert (strstr (err.reason, "(indicator)"), "%s", err.reason);
    msgpack_sbuffer_clear (&sb);

    s_build (&sb, S_BASE (s_warning_base), S_PATCH (S_KV (14, "\x82\x01\x03\x03\x01")));
    err = s_reject (s_dec_warning, sb.data, sb.size, MM_ERR_MISSING, "warning.indicator", "val");
    cr_assert (strstr (err.reason, "(value)"), "%s", err.reason);
    msgpack_sbuffer_clear (&sb);

    s_build (&sb, S_BASE (s_heartbeat_base), S_PATCH (S_DROP (10)));
    err = s_reject (s_dec_heartbeat, sb.data, sb.size, MM_ERR_MISSING, "heartbeat", "uptime");
    cr_assert (strstr (err.reason, "(uptime_s)"), "%s", err.reason);
    msgpack_sbuffer_clear (&sb);

    s_build (&sb, S_BASE (s_ack_base), S_PATCH (S_DROP (5)));
    s_reject (s_dec_ack, sb.data, sb.size, MM_ERR_MISSING, "ack", "ack seq");
    msgpack_sbuffer_clear (&sb);

    //  A broker acknowledges many sensors' streams: an ACK must say whose.
    s_build (&sb, S_BASE (s_ack_base), S_PATCH (S_DROP (3)));
    err = s_reject (s_dec_ack, sb.data, sb.size, MM_ERR_MISSING, "ack", "ack sensor");
    cr_assert (strstr (err.reason, "(sensor)"), "%s", err.reason);
    msgpack_sbuffer_clear (&sb);

    s_build (&sb, S_BASE (s_watchlist_base), S_PATCH (S_KV (11, "\x91\x82\x01\x01\x02\x03")));
    err = s_reject (s_dec_watchlist, sb.data, sb.size, MM_ERR_MISSING, "watchlist.entries",
                    "entry value");
    cr_assert (strstr (err.reason, "(value)"), "%s", err.reason);
    msgpack_sbuffer_destroy (&sb);
}

Test (missing, header_keys_via_peek)
{
    for (int key = 0; key <= 1; key++) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        s_kv_t drop = S_DROP (key);
        s_event (&sb, &drop, 1);
        s_reject (s_dec_peek, sb.data, sb.size, MM_ERR_MISSING, "message", "peek");
        msgpack_sbuffer_destroy (&sb);
    }
}

//  ---------------------------------------------------------------------------------------------
//  Unknown versions

Test (version, unknown_versions_on_every_path)
{
    static const s_bytes_t versions[] = {S_V ("\x02"), S_V ("\x00"),
                                         S_V ("\xcf\xff\xff\xff\xff\xff\xff\xff\xff")};
    for (size_t t = 0; t < S_N (s_types); t++)
        for (size_t v = 0; v < S_N (versions); v++) {
            msgpack_sbuffer sb;
            msgpack_sbuffer_init (&sb);
            s_kv_t kv = {0, NULL, 0, versions[v].val, versions[v].len};
            s_build (&sb, s_types[t].base, s_types[t].n_base, &kv, 1);
            s_reject (s_types[t].decode, sb.data, sb.size, MM_ERR_VERSION, NULL, s_types[t].name);
            s_reject (s_dec_peek, sb.data, sb.size, MM_ERR_VERSION, NULL, "peek");
            s_reject (s_dec_json, sb.data, sb.size, MM_ERR_VERSION, NULL, "json");
            msgpack_sbuffer_destroy (&sb);
        }
}

Test (version, offset_is_at_the_version_value)
{
    static const uint8_t msg[] = {0x82, 0x00, 0x02, 0x01, 0x01};
    mm_error_t err = s_reject (s_dec_event, msg, sizeof msg, MM_ERR_VERSION, NULL, "v2");
    cr_assert_eq (err.offset, 2);
    cr_assert (strstr (err.detail, "version 2"), "%s", err.detail);
}

//  A newer peer may order keys differently: a field that is bad only under our version must
//  not hide that the version is unknown.
Test (version, wins_over_an_earlier_bad_field)
{
    static const s_kv_t bad[] = {
        S_KV (11, "\x07"),  //  out of range
        S_KV (3, "\x05"),   //  wrong type
        S_KV (3, "\xd9\x41"
                 "0123456789012345678901234567890123456789012345678901234567890123"
                 "4"),
        S_KV (10, "\x02"),  //  dns without its map
        S_KV (21, "\xc4\x05"
                  "12345"),  //  5-byte address
    };
    for (size_t i = 0; i < S_N (bad); i++) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        s_kv_t kvs[] = {bad[i], S_KV (0, "\x02")};
        s_event (&sb, kvs, 2);
        char label[128];
        snprintf (label, sizeof label, "bad field %zu", i);
        s_reject (s_dec_event, sb.data, sb.size, MM_ERR_VERSION, NULL, label);
        s_reject (s_dec_json, sb.data, sb.size, MM_ERR_VERSION, NULL, label);
        msgpack_sbuffer_destroy (&sb);
    }
}

//  Type numbers belong to a version: under an unknown version a type that looks wrong says
//  nothing, so the version is what must be reported (as mm_msg_peek does).
Test (version, wins_over_an_earlier_type_mismatch)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_kv_t kvs[] = {S_KV (1, "\x02"), S_KV (0, "\x02")};
    s_event (&sb, kvs, 2);
    s_reject (s_dec_peek, sb.data, sb.size, MM_ERR_VERSION, NULL, "peek");
    s_reject (s_dec_json, sb.data, sb.size, MM_ERR_VERSION, NULL, "json");
    s_reject (s_dec_event, sb.data, sb.size, MM_ERR_VERSION, NULL, "event decoder");
    msgpack_sbuffer_destroy (&sb);
}

//  ---------------------------------------------------------------------------------------------
//  Message type mismatch

Test (msg_type, each_type_given_to_every_other_decoder)
{
    for (size_t t = 0; t < S_N (s_types); t++) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        s_build (&sb, s_types[t].base, s_types[t].n_base, NULL, 0);
        for (size_t d = 0; d < S_N (s_types); d++) {
            if (d == t)
                continue;
            char label[128];
            snprintf (label, sizeof label, "%s to the %s decoder", s_types[t].name,
                      s_types[d].name);
            mm_error_t err =
                s_reject (s_types[d].decode, sb.data, sb.size, MM_ERR_MSG_TYPE, NULL, label);
            cr_assert_eq (err.offset, 4, "%s: at the type value", label);
            cr_assert (strstr (err.reason, s_types[t].name), "%s: %s", label, err.reason);
        }
        msgpack_sbuffer_destroy (&sb);
    }
}

//  The type key after fields that are bad for the wrong decoder: the type still explains it.
Test (msg_type, heartbeat_with_type_key_last)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_build (&sb, S_BASE (s_heartbeat_base), S_PATCH (S_KV (1, "\x02")));
    s_accept (s_dec_heartbeat, sb.data, sb.size, "heartbeat");
    s_reject (s_dec_event, sb.data, sb.size, MM_ERR_MSG_TYPE, NULL, "event decoder");
    msgpack_sbuffer_destroy (&sb);
}

Test (msg_type, unknown_type_9)
{
    static const s_bytes_t types[] = {S_V ("\x09"), S_V ("\x00"), S_V ("\x08"), S_V ("\xcc\xff")};
    for (size_t i = 0; i < S_N (types); i++) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        s_kv_t kv = {1, NULL, 0, types[i].val, types[i].len};
        s_event (&sb, &kv, 1);
        mm_error_t err = s_reject (s_dec_peek, sb.data, sb.size, MM_ERR_MSG_TYPE, NULL, "peek");
        cr_assert (strstr (err.detail, "unknown message type"), "%s", err.detail);
        s_reject (s_dec_json, sb.data, sb.size, MM_ERR_MSG_TYPE, NULL, "json");
        s_reject (s_dec_event, sb.data, sb.size, MM_ERR_MSG_TYPE, NULL, "event");
        msgpack_sbuffer_destroy (&sb);
    }
}

//  ---------------------------------------------------------------------------------------------
//  Trailing bytes

Test (trailing, one_byte_after_each_message_type)
{
    for (size_t t = 0; t < S_N (s_types); t++) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        s_build (&sb, s_types[t].base, s_types[t].n_base, NULL, 0);
        size_t len = sb.size;
        msgpack_sbuffer_write (&sb, "\xc0", 1);
        const s_decode_fn fns[] = {s_types[t].decode, s_dec_peek, s_dec_json};
        for (size_t f = 0; f < S_N (fns); f++) {
            mm_error_t err =
                s_reject (fns[f], sb.data, sb.size, MM_ERR_TRAILING, NULL, s_types[t].name);
            cr_assert_eq (err.offset, len, "%s: offset %zu, message ends at %zu", s_types[t].name,
                          err.offset, len);
            cr_assert (strstr (err.detail, "1 bytes"), "%s", err.detail);
        }
        msgpack_sbuffer_destroy (&sb);
    }
}

//  Two messages in one frame is not a way to batch.
Test (trailing, second_message)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_event (&sb, NULL, 0);
    size_t len = sb.size;
    s_event (&sb, NULL, 0);
    mm_error_t err = S_REJECT_EVENT (&sb, MM_ERR_TRAILING, NULL);
    cr_assert_eq (err.offset, len);
    msgpack_sbuffer_destroy (&sb);
}

//  ---------------------------------------------------------------------------------------------
//  Nesting depth (MM_DEPTH_MAX counts the message map as 1)

Test (depth, twenty_nested_arrays_under_an_unknown_key)
{
    msgpack_sbuffer sb, nest;
    msgpack_sbuffer_init (&sb);
    msgpack_sbuffer_init (&nest);
    s_nest (&nest, 20, false);
    s_event (&sb, S_PATCH (S_BUF (99, &nest)));
    mm_error_t err = S_REJECT_EVENT (&sb, MM_ERR_DEPTH, NULL);
    //  Levels 2..8 are allowed, so the 8th array (level 9) is where it fails.
    cr_assert_eq (err.offset, S_LAST (&sb, nest.size) + 7, "offset %zu", err.offset);
    s_reject (s_dec_peek, sb.data, sb.size, MM_ERR_DEPTH, NULL, "peek");
    msgpack_sbuffer_destroy (&nest);
    msgpack_sbuffer_destroy (&sb);
}

//  Both sides of the boundary, with arrays and with maps.
Test (depth, boundary_under_a_top_level_unknown_key)
{
    for (int maps = 0; maps <= 1; maps++)
        for (int levels = 6; levels <= 9; levels++) {
            msgpack_sbuffer sb, nest;
            msgpack_sbuffer_init (&sb);
            msgpack_sbuffer_init (&nest);
            s_nest (&nest, levels, maps);
            s_event (&sb, S_PATCH (S_BUF (99, &nest)));
            char label[128];
            snprintf (label, sizeof label, "%d nested %s", levels, maps ? "maps" : "arrays");
            //  The message map is level 1, so `levels` more reach 1 + levels.
            if (1 + levels <= MM_DEPTH_MAX) {
                s_accept (s_dec_event, sb.data, sb.size, label);
                s_accept (s_dec_peek, sb.data, sb.size, label);
                s_accept (s_dec_json, sb.data, sb.size, label);
            }
            else {
                s_reject (s_dec_event, sb.data, sb.size, MM_ERR_DEPTH, NULL, label);
                s_reject (s_dec_peek, sb.data, sb.size, MM_ERR_DEPTH, NULL, label);
                s_reject (s_dec_json, sb.data, sb.size, MM_ERR_DEPTH, NULL, label);
            }
            msgpack_sbuffer_destroy (&nest);
            msgpack_sbuffer_destroy (&sb);
        }
}

//  An unknown key inside the dns map (level 2): its value may add 6 levels, not 7.
Test (depth, boundary_inside_a_nested_map)
{
    for (int levels = 6; levels <= 7; levels++) {
        msgpack_sbuffer sb, nest, dns;
        msgpack_sbuffer_init (&sb);
        msgpack_sbuffer_init (&nest);
        msgpack_sbuffer_init (&dns);
        s_nest (&nest, levels, false);
        s_map (&dns, S_PATCH (S_KV (1, "\xa1"
                                       "a"),
                              S_BUF (9, &nest)));
        s_event (&sb, S_PATCH (S_KV (10, "\x02"), S_BUF (40, &dns)));
        if (2 + levels <= MM_DEPTH_MAX)
            s_accept (s_dec_event, sb.data, sb.size, "6 levels in dns");
        else
            S_REJECT_FRAMING (&sb, MM_ERR_DEPTH, "event.dns");
        msgpack_sbuffer_destroy (&dns);
        msgpack_sbuffer_destroy (&nest);
        msgpack_sbuffer_destroy (&sb);
    }
}

//  Inside an element of an array of maps the levels are message map, dns map, answers array,
//  answer map: 4, so an unknown key there may add 4 more and not 5. The decoder must agree
//  with mm_msg_peek, which counts the array.
Test (depth, boundary_inside_an_array_of_maps)
{
    for (int levels = 4; levels <= 5; levels++) {
        msgpack_sbuffer sb, nest, answers, dns;
        msgpack_sbuffer_init (&sb);
        msgpack_sbuffer_init (&nest);
        msgpack_sbuffer_init (&answers);
        msgpack_sbuffer_init (&dns);
        s_nest (&nest, levels, false);
        msgpack_sbuffer_write (&answers, "\x91", 1);
        s_map (&answers, S_PATCH (S_KV (1, "\x01"),
                                  S_KV (2, "\xa1"
                                           "a"),
                                  S_KV (3, "\x00"), S_BUF (9, &nest)));
        s_map (&dns, S_PATCH (S_BUF (4, &answers)));
        s_event (&sb, S_PATCH (S_KV (10, "\x02"), S_BUF (40, &dns)));
        char label[128];
        snprintf (label, sizeof label, "answer map + %d levels", levels);
        if (4 + levels <= MM_DEPTH_MAX) {
            s_accept (s_dec_peek, sb.data, sb.size, label);
            s_accept (s_dec_event, sb.data, sb.size, label);
        }
        else {
            s_reject (s_dec_peek, sb.data, sb.size, MM_ERR_DEPTH, NULL, label);
            snprintf (label, sizeof label, "answer map + %d levels, mm_event_decode", levels);
            s_reject (s_dec_event, sb.data, sb.size, MM_ERR_DEPTH, NULL, label);
        }
        msgpack_sbuffer_destroy (&dns);
        msgpack_sbuffer_destroy (&answers);
        msgpack_sbuffer_destroy (&nest);
        msgpack_sbuffer_destroy (&sb);
    }
}

//  ---------------------------------------------------------------------------------------------
//  Bad keys

Test (key, keys_that_are_not_0_to_127)
{
    static const struct {
        s_bytes_t key;
        const char *what;
    } keys[] = {
        {S_V ("\xa1"
              "3"),
         "string"},
        {S_V ("\xcc\x80"), "128"},
        {S_V ("\xcd\x01\x00"), "256"},
        {S_V ("\xff"), "fixint -1"},
        {S_V ("\xd0\xff"), "int8 -1"},
        {S_V ("\xc0"), "nil"},
        {S_V ("\xc3"), "bool"},
        {S_V ("\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00"), "float 1.0"},
        {S_V ("\xc4\x01\x03"), "binary"},
        {S_V ("\x90"), "array"},
    };
    for (size_t i = 0; i < S_N (keys); i++) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        s_kv_t kv = {-1, keys[i].key.val, keys[i].key.len, "\x01", 1};
        s_event (&sb, &kv, 1);
        for (size_t p = 0; p < S_N (s_paths); p++) {
            if (s_paths[p].fn != s_dec_event && s_paths[p].fn != s_dec_peek &&
                s_paths[p].fn != s_dec_json)
                continue;
            char label[128];
            snprintf (label, sizeof label, "%s key, %s", keys[i].what, s_paths[p].name);
            mm_error_t err = s_reject (s_paths[p].fn, sb.data, sb.size, MM_ERR_KEY, NULL, label);
            cr_assert_eq (err.offset, S_LAST (&sb, keys[i].key.len + 1), "%s: at the key", label);
        }
        msgpack_sbuffer_destroy (&sb);
    }
}

Test (key, bad_key_in_nested_map)
{
    msgpack_sbuffer sb, dns;
    msgpack_sbuffer_init (&sb);
    msgpack_sbuffer_init (&dns);
    s_map (&dns, S_PATCH (S_RAWKEY ("\xa5qname", "\xa1"
                                                 "a")));
    s_event (&sb, S_PATCH (S_KV (10, "\x02"), S_BUF (40, &dns)));
    mm_error_t err = S_REJECT_EVENT (&sb, MM_ERR_KEY, "event.dns");
    cr_assert_eq (err.offset, S_LAST (&sb, 8));
    msgpack_sbuffer_destroy (&dns);
    msgpack_sbuffer_destroy (&sb);
}

//  ---------------------------------------------------------------------------------------------
//  Message size

//  An event padded with an unknown binary to exactly `total` bytes.
static void
s_event_of_size (msgpack_sbuffer *sb, size_t total)
{
    msgpack_sbuffer probe;
    msgpack_sbuffer_init (&probe);
    s_event (&probe, S_PATCH (S_KV (99, "\xc6\x00\x00\x00\x00")));
    size_t pad = total - probe.size;
    msgpack_sbuffer_destroy (&probe);
    char *bin = calloc (1, 5 + pad);
    bin[0] = (char) 0xc6;
    for (int i = 0; i < 4; i++)
        bin[1 + i] = (char) (pad >> (24 - 8 * i));
    s_kv_t kv = {99, NULL, 0, bin, 5 + pad};
    s_event (sb, &kv, 1);
    free (bin);
    cr_assert_eq (sb->size, total);
}

Test (too_big, message_of_65537_bytes)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_event_of_size (&sb, MM_MSG_MAX + 1);
    for (size_t i = 0; i < S_N (s_paths); i++) {
        mm_error_t err =
            s_reject (s_paths[i].fn, sb.data, sb.size, MM_ERR_TOO_BIG, NULL, s_paths[i].name);
        cr_assert_eq (err.offset, 0, "%s", s_paths[i].name);
    }
    msgpack_sbuffer_clear (&sb);
    s_event_of_size (&sb, MM_MSG_MAX);
    s_accept (s_dec_event, sb.data, sb.size, "65536 bytes");
    s_accept (s_dec_peek, sb.data, sb.size, "65536 bytes");
    s_accept (s_dec_json, sb.data, sb.size, "65536 bytes");
    msgpack_sbuffer_destroy (&sb);
}

//  ---------------------------------------------------------------------------------------------
//  Individually fine, together invalid

Test (invalid, address_of_5_bytes)
{
    static const s_bytes_t addrs[] = {S_V ("\xc4\x05"
                                           "12345"),
                                      S_V ("\xc4\x00"),
                                      S_V ("\xc4\x03"
                                           "123"),
                                      S_V ("\xc4\x11"
                                           "0123456789abcdefg")};
    for (size_t i = 0; i < S_N (addrs); i++) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        s_kv_t kv = {21, NULL, 0, addrs[i].val, addrs[i].len};
        s_event (&sb, &kv, 1);
        mm_error_t err = S_REJECT_EVENT (&sb, MM_ERR_INVALID, "event.src");
        cr_assert_eq (err.offset, S_LAST (&sb, addrs[i].len), "case %zu", i);
        msgpack_sbuffer_destroy (&sb);
    }
}

Test (invalid, ipv4_source_with_ipv6_destination)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_event (&sb, S_PATCH (S_KV (21, "\xc4\x04\xc0\x00\x02\x0a"),
                           S_KV (23, "\xc4\x10\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01")));
    mm_error_t err = S_REJECT_EVENT (&sb, MM_ERR_INVALID, "event");
    cr_assert_eq (err.offset, 0, "reported at the event map");
    msgpack_sbuffer_destroy (&sb);
}

Test (invalid, fixed_size_binaries)
{
    static const struct {
        int outer;
        const char *kind;
        int key;
        size_t len;
        const char *field;
    } cases[] = {
        {41, "\x03", 4, 15, "event.tls.ja3"},         {41, "\x03", 4, 17, "event.tls.ja3"},
        {41, "\x03", 6, 19, "event.tls.cert_sha1"},   {43, "\x05", 3, 15, "event.ssh.hassh"},
        {43, "\x05", 4, 0, "event.ssh.hassh_server"},
    };
    for (size_t i = 0; i < S_N (cases); i++) {
        msgpack_sbuffer sb, bin, sub;
        msgpack_sbuffer_init (&sb);
        msgpack_sbuffer_init (&bin);
        msgpack_sbuffer_init (&sub);
        s_bin (&bin, cases[i].len, 'x');
        s_kv_t inner = S_BUF (cases[i].key, &bin);
        s_map (&sub, &inner, 1);
        s_kv_t kvs[] = {{10, NULL, 0, cases[i].kind, 1}, S_BUF (cases[i].outer, &sub)};
        s_event (&sb, kvs, 2);
        mm_error_t err = S_REJECT_EVENT (&sb, MM_ERR_INVALID, cases[i].field);
        cr_assert_eq (err.offset, S_LAST (&sb, bin.size), "case %zu", i);
        msgpack_sbuffer_destroy (&sub);
        msgpack_sbuffer_destroy (&bin);
        msgpack_sbuffer_destroy (&sb);
    }
}

Test (invalid, empty_string_in_an_array)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_event (&sb, S_PATCH (S_KV (10, "\x03"), S_KV (41, "\x81\x03\x92\xa2h2\xa0")));
    mm_error_t err = S_REJECT_EVENT (&sb, MM_ERR_INVALID, "event.tls.alpn");
    cr_assert_eq (err.offset, S_LAST (&sb, 1));
    msgpack_sbuffer_destroy (&sb);
}

//  ---------------------------------------------------------------------------------------------
//  Forward compatibility: what a newer peer may send is accepted

//  Encodes `ev` again: our encoding is canonical, so equal bytes mean equal events.
static void
s_reencode (const mm_event_t *ev, mm_buf_t *out)
{
    mm_error_t err;
    cr_assert_eq (mm_event_encode (ev, out, &err), 0, "re-encode: %s", err.reason);
}

//  Inserts encoded entries (`n` of them) after the map header of the message in `in`.
static void
s_add_entries (const mm_buf_t *in, const void *entries, size_t len, unsigned n,
               msgpack_sbuffer *out)
{
    const uint8_t *p = in->data;
    size_t hdr;
    uint32_t count;
    if (p[0] >= 0x80 && p[0] <= 0x8f) {
        count = p[0] & 0x0f;
        hdr = 1;
    }
    else {
        cr_assert_eq (p[0], 0xde, "expected a map16 header");
        count = (uint32_t) (p[1] << 8 | p[2]);
        hdr = 3;
    }
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, count + n);
    msgpack_sbuffer_write (out, (const char *) p + hdr, in->len - hdr);
    msgpack_sbuffer_write (out, entries, len);
}

Test (compat, unknown_keys_are_ignored)
{
    mm_event_t ev;
    mm_sample_finding (&ev);
    mm_buf_t plain = MM_BUF_INIT, again = MM_BUF_INIT;
    mm_error_t err;
    cr_assert_eq (mm_event_encode (&ev, &plain, &err), 0, "%s", err.reason);

    msgpack_sbuffer extra, sb;
    msgpack_sbuffer_init (&extra);
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &extra, msgpack_sbuffer_write);
    msgpack_pack_uint8 (&pk, 99);  //  a map with a string key and a nested array
    msgpack_pack_map (&pk, 2);
    msgpack_pack_str_with_body (&pk, "name", 4);
    msgpack_pack_str_with_body (&pk, "future", 6);
    msgpack_pack_int8 (&pk, -3);
    msgpack_pack_array (&pk, 2);
    msgpack_pack_double (&pk, 1.5);
    msgpack_pack_nil (&pk);
    msgpack_pack_uint8 (&pk, 127);  //  an ext value
    msgpack_pack_ext_with_body (&pk, "\x01\x02\x03\x04\x05", 5, 7);
    msgpack_pack_uint8 (&pk, 60);  //  an array of strings
    msgpack_pack_array (&pk, 3);
    msgpack_pack_str_with_body (&pk, "a", 1);
    msgpack_pack_str_with_body (&pk, "bb", 2);
    msgpack_pack_str_with_body (&pk, "", 0);
    s_add_entries (&plain, extra.data, extra.size, 3, &sb);

    static mm_event_t decoded;
    cr_assert_eq (mm_event_decode (&decoded, (const uint8_t *) sb.data, sb.size, &err), 0,
                  "unknown keys rejected: %s", err.reason);
    s_reencode (&decoded, &again);
    cr_assert_eq (again.len, plain.len);
    cr_assert_arr_eq (again.data, plain.data, plain.len, "the unknown keys changed the event");
    s_accept (s_dec_peek, sb.data, sb.size, "peek");
    s_accept (s_dec_json, sb.data, sb.size, "json");
    msgpack_sbuffer_destroy (&sb);
    msgpack_sbuffer_destroy (&extra);
    mm_buf_free (&again);
    mm_buf_free (&plain);
}

//  The skipper must know the size of every MessagePack type.
Test (compat, unknown_values_of_every_type)
{
    static const s_bytes_t vals[] = {
        S_V ("\xc0"),
        S_V ("\xc2"),
        S_V ("\x7f"),
        S_V ("\xe0"),
        S_V ("\xcc\xff"),
        S_V ("\xcd\xff\xff"),
        S_V ("\xce\xff\xff\xff\xff"),
        S_V ("\xcf\xff\xff\xff\xff\xff\xff\xff\xff"),
        S_V ("\xd0\x80"),
        S_V ("\xd1\x80\x00"),
        S_V ("\xd2\x80\x00\x00\x00"),
        S_V ("\xd3\x80\x00\x00\x00\x00\x00\x00\x00"),
        S_V ("\xca\x3f\x80\x00\x00"),
        S_V ("\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00"),
        S_V ("\xa3"
             "abc"),
        S_V ("\xd9\x03"
             "abc"),
        S_V ("\xda\x00\x03"
             "abc"),
        S_V ("\xdb\x00\x00\x00\x03"
             "abc"),
        S_V ("\xc4\x03"
             "abc"),
        S_V ("\xc5\x00\x03"
             "abc"),
        S_V ("\xc6\x00\x00\x00\x03"
             "abc"),
        S_V ("\xd4\x01\x00"),
        S_V ("\xd5\x01\x00\x00"),
        S_V ("\xd6\x01\x00\x00\x00\x00"),
        S_V ("\xd7\x01\x00\x00\x00\x00\x00\x00\x00\x00"),
        S_V ("\xd8\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
        S_V ("\xc7\x02\x01\x00\x00"),
        S_V ("\xc8\x00\x02\x01\x00\x00"),
        S_V ("\xc9\x00\x00\x00\x02\x01\x00\x00"),
        S_V ("\x90"),
        S_V ("\x80"),
        S_V ("\xdc\x00\x01\xc0"),
        S_V ("\xdd\x00\x00\x00\x01\xc0"),
        S_V ("\xde\x00\x01\xc0\xc0"),
        S_V ("\xdf\x00\x00\x00\x01\xa1k\xc0"),
    };
    for (size_t i = 0; i < S_N (vals); i++) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        //  Followed by a known key, so a skip of the wrong length shows as a bad key or type.
        s_kv_t kvs[] = {{99, NULL, 0, vals[i].val, vals[i].len}, S_KV (12, "\x32")};
        s_event (&sb, kvs, 2);
        char label[128];
        snprintf (label, sizeof label, "unknown value %zu", i);
        s_accept (s_dec_event, sb.data, sb.size, label);
        s_accept (s_dec_peek, sb.data, sb.size, label);
        msgpack_sbuffer_destroy (&sb);
    }
}

//  Other encoders may use wider or signed encodings of small positive numbers.
Test (compat, non_shortest_and_signed_encodings_of_positive_values)
{
    static const s_bytes_t seqs[] = {
        S_V ("\xd0\x05"),
        S_V ("\xd1\x00\x05"),
        S_V ("\xd2\x00\x00\x00\x05"),
        S_V ("\xd3\x00\x00\x00\x00\x00\x00\x00\x05"),
        S_V ("\xcc\x05"),
        S_V ("\xcd\x00\x05"),
        S_V ("\xce\x00\x00\x00\x05"),
        S_V ("\xcf\x00\x00\x00\x00\x00\x00\x00\x05"),
    };
    for (size_t i = 0; i < S_N (seqs); i++) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        s_kv_t kv = {5, NULL, 0, seqs[i].val, seqs[i].len};
        s_event (&sb, &kv, 1);
        static mm_event_t ev;
        mm_error_t err;
        cr_assert_eq (mm_event_decode (&ev, (const uint8_t *) sb.data, sb.size, &err), 0,
                      "encoding %zu: %s", i, err.reason);
        cr_assert_eq (ev.seq, 5, "encoding %zu", i);
        msgpack_sbuffer_destroy (&sb);
    }
    //  Keys too: 0xd0 0x0c is key 12 (confidence).
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_event (&sb, S_PATCH (S_RAWKEY ("\xd0\x0c", "\xd0\x32")));
    static mm_event_t ev;
    mm_error_t err;
    cr_assert_eq (mm_event_decode (&ev, (const uint8_t *) sb.data, sb.size, &err), 0, "%s",
                  err.reason);
    cr_assert_eq (ev.confidence, 50);
    msgpack_sbuffer_destroy (&sb);
}

//  Whatever one changed byte does to a valid finding, the decoder answers with a typed error
//  or a message, and peek agrees with it about the framing.
Test (mutation, every_byte_of_a_finding_set_to_every_value, .timeout = 60)
{
    mm_event_t ev;
    mm_sample_finding (&ev);
    mm_buf_t buf = MM_BUF_INIT;
    mm_error_t err;
    cr_assert_eq (mm_event_encode (&ev, &buf, &err), 0, "%s", err.reason);
    uint8_t *copy = malloc (buf.len);
    static mm_event_t out;
    for (size_t i = 0; i < buf.len; i++)
        for (unsigned v = 0; v < 256; v++) {
            memcpy (copy, buf.data, buf.len);
            copy[i] = (uint8_t) v;
            memset (&err, 0, sizeof err);
            int rc = mm_event_decode (&out, copy, buf.len, &err);
            mm_msg_type_t type;
            mm_error_t peek_err;
            int peek_rc = mm_msg_peek (copy, buf.len, &type, &peek_err);
            if (rc == 0) {
                cr_assert_eq (peek_rc, 0, "byte %zu = 0x%02x: decoded, but peek says %s", i, v,
                              peek_err.reason);
                cr_assert_eq (type, MM_MSG_EVENT);
                continue;
            }
            cr_assert_eq (rc, -1);
            cr_assert (err.code > MM_OK && err.code < MM_ERR_COUNT_ && err.code != MM_ERR_NOMEM,
                       "byte %zu = 0x%02x: code %d", i, v, err.code);
            cr_assert (err.reason[0], "byte %zu = 0x%02x: empty reason", i, v);
            cr_assert_leq (err.offset, buf.len);
        }
    free (copy);
    mm_buf_free (&buf);
}

//  ---------------------------------------------------------------------------------------------
//  Encoders refuse what decoders reject, and leave their output alone

static const char s_keep[] = "earlier message";

static void
s_encode_refused (int rc, const mm_buf_t *out, const mm_error_t *err, mm_errc_t code,
                  const char *field, const char *what)
{
    cr_assert_eq (rc, -1, "%s: encoder accepted it", what);
    cr_assert_eq (err->code, code, "%s: got %s, expected %s: %s", what, mm_errc_name (err->code),
                  mm_errc_name (code), err->reason);
    cr_assert_str_eq (err->field, field, "%s: %s", what, err->reason);
    cr_assert (strstr (err->reason, field), "%s: %s", what, err->reason);
    cr_assert_eq (err->offset, MM_NO_OFFSET, "%s: an encoder error has no input offset", what);
    cr_assert_eq (out->len, sizeof s_keep - 1, "%s: output length changed", what);
    cr_assert_arr_eq (out->data, s_keep, sizeof s_keep - 1, "%s: output bytes changed", what);
}

static void
s_encode_event_refused (const mm_event_t *ev, mm_errc_t code, const char *field, const char *what)
{
    mm_buf_t out = MM_BUF_INIT;
    mm_buf_append (&out, s_keep, sizeof s_keep - 1);
    mm_error_t err;
    memset (&err, 0, sizeof err);
    int rc = mm_event_encode (ev, &out, &err);
    s_encode_refused (rc, &out, &err, code, field, what);
    mm_buf_free (&out);
}

Test (encode, event_fields_the_decoder_would_reject)
{
    static char long_id[MM_ID_MAX + 1];
    memset (long_id, 's', sizeof long_id);
    mm_event_t ev;

    mm_sample_finding (&ev);
    ev.sensor = (mm_str_t){long_id, MM_ID_MAX + 1};
    s_encode_event_refused (&ev, MM_ERR_TOO_LONG, "event.sensor", "65-byte sensor");

    mm_sample_finding (&ev);
    ev.severity = 9;
    s_encode_event_refused (&ev, MM_ERR_RANGE, "event.severity", "severity 9");

    mm_sample_event (&ev, MM_KIND_DNS);
    ev.dns.n_answers = MM_DNS_ANSWERS_MAX + 1;
    s_encode_event_refused (&ev, MM_ERR_TOO_LONG, "event.dns.answers", "33 answers");

    mm_sample_finding (&ev);
    ev.src.len = 5;
    ev.dst.len = 0;  //  else the family mismatch is what gets reported
    s_encode_event_refused (&ev, MM_ERR_INVALID, "event.src", "5-byte address");

    mm_sample_finding (&ev);
    ev.has &= ~MM_EV_HAS_FINDING;
    s_encode_event_refused (&ev, MM_ERR_MISSING, "event", "finding without its map");

    mm_sample_finding (&ev);
    ev.seq = 0;
    s_encode_event_refused (&ev, MM_ERR_RANGE, "event.seq", "seq 0");

    mm_sample_finding (&ev);
    ev.dst.len = 16;
    s_encode_event_refused (&ev, MM_ERR_INVALID, "event", "mixed families");

    mm_sample_finding (&ev);
    ev.sensor = mm_str (NULL);
    s_encode_event_refused (&ev, MM_ERR_MISSING, "event.sensor", "no sensor");

    mm_sample_finding (&ev);
    ev.finding.attack[1] = mm_str (NULL);
    s_encode_event_refused (&ev, MM_ERR_INVALID, "event.finding.attack", "empty attack id");

    mm_sample_finding (&ev);
    ev.n_vlan = 1;
    ev.vlan[0] = 4096;
    s_encode_event_refused (&ev, MM_ERR_RANGE, "event.vlan", "vlan 4096");
}

Test (encode, control_messages_the_decoder_would_reject)
{
    mm_buf_t out = MM_BUF_INIT;
    mm_buf_append (&out, s_keep, sizeof s_keep - 1);
    mm_error_t err;

    mm_warning_t w;
    memset (&w, 0, sizeof w);
    w.ts = s_t0;
    w.id = mm_str ("w-01");
    w.revision = 1;
    w.status = 4;
    w.indicator = (mm_indicator_t){MM_IOC_DOMAIN, mm_str ("example.net"), MM_MATCH_EXACT};
    s_encode_refused (mm_warning_encode (&w, &out, &err), &out, &err, MM_ERR_RANGE,
                      "warning.status", "status 4");

    mm_heartbeat_t hb;
    memset (&hb, 0, sizeof hb);
    hb.ts = s_t0;
    hb.sensor = mm_str ("s");
    hb.org = mm_str ("o");
    s_encode_refused (mm_heartbeat_encode (&hb, &out, &err), &out, &err, MM_ERR_MISSING,
                      "heartbeat.version", "no version");

    static mm_watchlist_t wl;
    mm_sample_watchlist (&wl);
    wl.n_entries = MM_WATCHLIST_MAX + 1;
    s_encode_refused (mm_watchlist_encode (&wl, &out, &err), &out, &err, MM_ERR_TOO_LONG,
                      "watchlist.entries", "257 entries");
    mm_buf_free (&out);
}

//  Every field within its limit, the whole over MM_MSG_MAX: the encoder must not produce a
//  message no decoder will take.
Test (encode, message_over_msg_max)
{
    static char value[MM_LONG_MAX];
    memset (value, 'v', sizeof value);
    static mm_watchlist_t wl;
    mm_sample_watchlist (&wl);
    wl.n_entries = MM_WATCHLIST_MAX;
    for (uint32_t i = 0; i < wl.n_entries; i++)
        wl.entries[i] =
            (mm_wl_entry_t){.op = MM_WL_ADD, .type = MM_IOC_URL, .value = {value, MM_LONG_MAX}};
    mm_buf_t out = MM_BUF_INIT;
    mm_buf_append (&out, s_keep, sizeof s_keep - 1);
    mm_error_t err;
    s_encode_refused (mm_watchlist_encode (&wl, &out, &err), &out, &err, MM_ERR_TOO_BIG,
                      "watchlist", "over 64 KiB");
    mm_buf_free (&out);
}
