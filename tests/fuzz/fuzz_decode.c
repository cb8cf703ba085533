/*  fuzz_decode: libFuzzer target for the wire-format decoders (proto/).
    Every input goes to mm_msg_peek, to EVERY typed decoder (a frame of one type handed to
    another type's decoder is an ordinary mistake, and those paths parse untrusted bytes too)
    and to mm_msg_to_json. Beyond "no crash, no sanitizer report" it checks what the codec
    promises, and aborts with a message when a promise is broken:

      - a failing call fills its error: code != MM_OK, non-empty NUL-terminated strings, and an
        offset inside the input (or MM_NO_OFFSET);
      - whatever a decoder accepts, its encoder accepts; the re-encoding is a message of the same
        type, decodes, and encodes again to the same bytes (the canonical form is a fixpoint);
      - the decoders agree with mm_msg_peek: only the decoder of the type peek names may accept;
        the others report the type, and peek's version or type error is every decoder's error;
      - mm_msg_to_json agrees with peek and the typed decoder (same result, same error), and
        renders exactly one line of valid JSON and valid UTF-8, the same line for the input and
        for its canonical re-encoding (decoding keeps everything the JSON shows).

    Run it through ops/fuzz; reproduce a saved input with `fuzz_decode <file>`. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_json.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

//  Any decoded message. Static storage, not the stack: the watchlist alone is ~20 KB.
typedef union {
    mm_event_t ev;
    mm_heartbeat_t hb;
    mm_ack_t ack;
    mm_warning_t w;
    mm_watchlist_t wl;
    mm_incident_t inc;
    mm_health_t health;
} s_msg_t;

static s_msg_t s_first;   //  decoded from the input
static s_msg_t s_second;  //  decoded from the first one's re-encoding

//  One message type's functions behind one signature, so every check runs on every type.
typedef struct {
    const char *name;
    mm_msg_type_t type;
    int (*decode) (s_msg_t *msg, const uint8_t *data, size_t len, mm_error_t *err);
    int (*encode) (const s_msg_t *msg, mm_buf_t *out, mm_error_t *err);
    int (*to_json) (const s_msg_t *msg, mm_buf_t *out);
} s_codec_t;

//  Wrappers rather than casts of the library's function pointers: calling a function through
//  a pointer of another type is undefined behaviour, and UBSan is watching.
#define S_CODEC_FNS(prefix, member)                                                                \
    static int s_##prefix##_decode (s_msg_t *msg, const uint8_t *data, size_t len,                 \
                                    mm_error_t *err)                                               \
    {                                                                                              \
        return mm_##prefix##_decode (&msg->member, data, len, err);                                \
    }                                                                                              \
    static int s_##prefix##_encode (const s_msg_t *msg, mm_buf_t *out, mm_error_t *err)            \
    {                                                                                              \
        return mm_##prefix##_encode (&msg->member, out, err);                                      \
    }                                                                                              \
    static int s_##prefix##_to_json (const s_msg_t *msg, mm_buf_t *out)                            \
    {                                                                                              \
        return mm_##prefix##_to_json (&msg->member, out);                                          \
    }

S_CODEC_FNS (event, ev)
S_CODEC_FNS (heartbeat, hb)
S_CODEC_FNS (ack, ack)
S_CODEC_FNS (warning, w)
S_CODEC_FNS (watchlist, wl)
S_CODEC_FNS (incident, inc)
S_CODEC_FNS (health, health)

static const s_codec_t s_codecs[] = {
    {"event", MM_MSG_EVENT, s_event_decode, s_event_encode, s_event_to_json},
    {"heartbeat", MM_MSG_HEARTBEAT, s_heartbeat_decode, s_heartbeat_encode, s_heartbeat_to_json},
    {"ack", MM_MSG_ACK, s_ack_decode, s_ack_encode, s_ack_to_json},
    {"warning", MM_MSG_WARNING, s_warning_decode, s_warning_encode, s_warning_to_json},
    {"watchlist", MM_MSG_WATCHLIST, s_watchlist_decode, s_watchlist_encode, s_watchlist_to_json},
    {"incident", MM_MSG_INCIDENT, s_incident_decode, s_incident_encode, s_incident_to_json},
    {"health", MM_MSG_HEALTH, s_health_decode, s_health_encode, s_health_to_json},
};
#define S_NCODECS (sizeof s_codecs / sizeof s_codecs[0])
//  A type peek accepts without a codec here would go unchecked: a new type must be added above.
_Static_assert(S_NCODECS == MM_MSG_TYPE_MAX, "one codec per message type");

//  ---------------------------------------------------------------------------------------------
//  Reporting

//  The input being checked, so a violation can print it (libFuzzer also saves it to a file).
static const uint8_t *s_input;
static size_t s_input_len;

static void s_fail (const char *fmt, ...) __attribute__ ((format (printf, 1, 2), noreturn));

static void
s_fail (const char *fmt, ...)
{
    fprintf (stderr, "\nfuzz_decode: INVARIANT VIOLATED: ");
    va_list ap;
    va_start (ap, fmt);
    vfprintf (stderr, fmt, ap);
    va_end (ap);
    fprintf (stderr, "\nfuzz_decode: input (%zu bytes):", s_input_len);
    for (size_t i = 0; i < s_input_len && i < 512; i++)
        fprintf (stderr, "%s%02x", i % 32 ? "" : "\n  ", s_input[i]);
    fprintf (stderr, "%s\n", s_input_len > 512 ? " ..." : "");
    abort ();
}

//  Fills an error with a pattern no reporting path writes (no NUL, no valid code), so a call
//  that fails without filling it is caught rather than passing on a stale earlier error.
static void
s_poison (mm_error_t *err)
{
    memset (err, 0xa5, sizeof *err);
}

static bool
s_cstr_ok (const char *s, size_t size)
{
    return memchr (s, '\0', size) != NULL;
}

//  `who` returned `rc` != 0: it must be -1 with `err` completely and sensibly filled.
static void
s_check_failure (const char *who, int rc, const mm_error_t *err, size_t input_len)
{
    if (rc != -1)
        s_fail ("%s returned %d (must be 0 or -1)", who, rc);
    if (err->code == MM_OK || (unsigned) err->code >= MM_ERR_COUNT_)
        s_fail ("%s failed with error code %u", who, (unsigned) err->code);
    if (!s_cstr_ok (err->reason, sizeof err->reason) || !err->reason[0])
        s_fail ("%s failed with an empty or unterminated reason", who);
    if (!s_cstr_ok (err->field, sizeof err->field) || !s_cstr_ok (err->detail, sizeof err->detail))
        s_fail ("%s failed with an unterminated field or detail: %s", who, err->reason);
    if (err->offset != MM_NO_OFFSET && err->offset > input_len)
        s_fail ("%s reports offset %zu in an input of %zu bytes: %s", who, err->offset, input_len,
                err->reason);
}

//  Version and type problems are the header errors the decoders report in preference to
//  whatever else is wrong, since they explain the rest (s_prefer_header_error, mm_schema.c).
static bool
s_is_header_error (mm_errc_t code)
{
    return code == MM_ERR_VERSION || code == MM_ERR_MSG_TYPE;
}

static bool
s_buf_eq (const mm_buf_t *a, const mm_buf_t *b)
{
    return a->len == b->len && (a->len == 0 || memcmp (a->data, b->data, a->len) == 0);
}

//  ---------------------------------------------------------------------------------------------
//  JSON checking: an independent strict validator, so a renderer bug is not checked against
//  itself. The renderer writes compact JSON, so no whitespace is accepted between tokens.

typedef struct {
    const uint8_t *p;
    const uint8_t *end;
} s_js_t;

static bool s_js_value (s_js_t *js, int depth);

//  Length of the well-formed UTF-8 sequence at p (RFC 3629 table 3-7), or 0.
static size_t
s_utf8_seq (const uint8_t *p, size_t left)
{
    uint8_t b = p[0];
    size_t n;
    uint8_t lo = 0x80, hi = 0xbf;  //  range of the second byte
    if (b < 0x80)
        return 1;
    else if (b >= 0xc2 && b <= 0xdf)
        n = 2;
    else if (b >= 0xe0 && b <= 0xef) {
        n = 3;
        if (b == 0xe0)
            lo = 0xa0;  //  no overlong forms
        else if (b == 0xed)
            hi = 0x9f;  //  no UTF-16 surrogates
    }
    else if (b >= 0xf0 && b <= 0xf4) {
        n = 4;
        if (b == 0xf0)
            lo = 0x90;  //  no overlong forms
        else if (b == 0xf4)
            hi = 0x8f;  //  nothing past U+10FFFF
    }
    else
        return 0;
    if (left < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

static bool
s_js_eat (s_js_t *js, char c)
{
    if (js->p < js->end && *js->p == (uint8_t) c) {
        js->p++;
        return true;
    }
    return false;
}

static bool
s_js_hex (uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool
s_js_digits (s_js_t *js)
{
    const uint8_t *start = js->p;
    while (js->p < js->end && *js->p >= '0' && *js->p <= '9')
        js->p++;
    return js->p > start;
}

static bool
s_js_string (s_js_t *js)
{
    if (!s_js_eat (js, '"'))
        return false;
    while (js->p < js->end) {
        uint8_t b = *js->p;
        if (b == '"') {
            js->p++;
            return true;
        }
        if (b < 0x20)
            return false;  //  control characters must be escaped
        if (b == '\\') {
            if (js->end - js->p < 2)
                return false;
            uint8_t e = js->p[1];
            if (e == 'u') {
                if (js->end - js->p < 6)
                    return false;
                for (int i = 2; i < 6; i++)
                    if (!s_js_hex (js->p[i]))
                        return false;
                js->p += 6;
            }
            else if (e && strchr ("\"\\/bfnrt", e))
                js->p += 2;
            else
                return false;
            continue;
        }
        size_t n = s_utf8_seq (js->p, (size_t) (js->end - js->p));
        if (n == 0)
            return false;
        js->p += n;
    }
    return false;
}

static bool
s_js_number (s_js_t *js)
{
    s_js_eat (js, '-');
    if (s_js_eat (js, '0')) {
        //  no leading zeros
    }
    else if (!s_js_digits (js))
        return false;
    if (s_js_eat (js, '.') && !s_js_digits (js))
        return false;
    if (s_js_eat (js, 'e') || s_js_eat (js, 'E')) {
        if (!s_js_eat (js, '+'))
            s_js_eat (js, '-');
        if (!s_js_digits (js))
            return false;
    }
    return true;
}

static bool
s_js_literal (s_js_t *js, const char *lit)
{
    size_t n = strlen (lit);
    if ((size_t) (js->end - js->p) < n || memcmp (js->p, lit, n) != 0)
        return false;
    js->p += n;
    return true;
}

static bool
s_js_container (s_js_t *js, int depth, char close, bool is_object)
{
    if (s_js_eat (js, close))
        return true;
    do {
        if (is_object && !(s_js_string (js) && s_js_eat (js, ':')))
            return false;
        if (!s_js_value (js, depth + 1))
            return false;
    } while (s_js_eat (js, ','));
    return s_js_eat (js, close);
}

static bool
s_js_value (s_js_t *js, int depth)
{
    if (depth > 32 || js->p >= js->end)
        return false;
    switch (*js->p) {
    case '{': js->p++; return s_js_container (js, depth, '}', true);
    case '[': js->p++; return s_js_container (js, depth, ']', false);
    case '"': return s_js_string (js);
    case 't': return s_js_literal (js, "true");
    case 'f': return s_js_literal (js, "false");
    case 'n': return s_js_literal (js, "null");
    default: return s_js_number (js);
    }
}

//  One JSON Lines record: one object, then '\n', nothing else.
static void
s_check_json_line (const char *who, const mm_buf_t *json)
{
    if (json->len < 3 || json->data[0] != '{' || json->data[json->len - 1] != '\n')
        s_fail ("%s rendered something that is not one object and a newline (%zu bytes)", who,
                json->len);
    s_js_t js = {json->data, json->data + json->len - 1};
    if (!s_js_value (&js, 0) || js.p != js.end)
        s_fail ("%s rendered invalid JSON at byte %zu of: %.*s", who, (size_t) (js.p - json->data),
                (int) json->len, (const char *) json->data);
}

//  ---------------------------------------------------------------------------------------------
//  Checks

//  Decodes the input with codec `c`. On success checks the re-encoding invariants and renders
//  the decoded message into `json`. Returns the decoder's result, with its error in `err`.
static int
s_try_codec (const s_codec_t *c, const uint8_t *data, size_t size, mm_error_t *err, mm_buf_t *json)
{
    s_poison (err);
    int rc = c->decode (&s_first, data, size, err);
    if (rc != 0) {
        s_check_failure (c->name, rc, err, size);
        return -1;
    }
    mm_buf_t enc1 = MM_BUF_INIT, enc2 = MM_BUF_INIT, json2 = MM_BUF_INIT;
    mm_error_t e;

    //  The decoder and encoder enforce the same limits: anything accepted can be sent on.
    s_poison (&e);
    rc = c->encode (&s_first, &enc1, &e);
    if (rc != 0) {
        s_check_failure ("encoder", rc, &e, MM_NO_OFFSET);
        s_fail ("mm_%s_decode accepted a message mm_%s_encode refuses: %s", c->name, c->name,
                e.reason);
    }
    mm_msg_type_t type;
    s_poison (&e);
    if (mm_msg_peek (enc1.data, enc1.len, &type, &e) != 0 || type != c->type)
        s_fail ("the re-encoding of a %s is not a %s message for mm_msg_peek: %s", c->name, c->name,
                e.reason);

    //  Canonical form is a fixpoint: decoding it and encoding again changes nothing.
    s_poison (&e);
    rc = c->decode (&s_second, enc1.data, enc1.len, &e);
    if (rc != 0) {
        s_check_failure ("decoder", rc, &e, enc1.len);
        s_fail ("mm_%s_decode rejects the re-encoding of a message it accepted: %s", c->name,
                e.reason);
    }
    s_poison (&e);
    rc = c->encode (&s_second, &enc2, &e);
    if (rc != 0) {
        s_check_failure ("encoder", rc, &e, MM_NO_OFFSET);
        s_fail ("mm_%s_encode refuses a message decoded from its own output: %s", c->name,
                e.reason);
    }
    if (!s_buf_eq (&enc1, &enc2))
        s_fail ("%s: re-encoding the canonical form changed it (%zu bytes, then %zu)", c->name,
                enc1.len, enc2.len);

    //  Decoding loses nothing the JSON shows: input and canonical form render alike.
    if (c->to_json (&s_first, json) != 0 || c->to_json (&s_second, &json2) != 0)
        s_fail ("mm_%s_to_json failed (out of memory?)", c->name);
    s_check_json_line (c->name, json);
    if (!s_buf_eq (json, &json2))
        s_fail ("%s: input and canonical form render differently:\n  %.*s  %.*s", c->name,
                (int) json->len, (const char *) json->data, (int) json2.len,
                (const char *) json2.data);

    mm_buf_free (&enc1);
    mm_buf_free (&enc2);
    mm_buf_free (&json2);
    return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_input = data;
    s_input_len = size;

    //  Indexed frames (u64 index | message): a split names an index in range and leaves the
    //  rest; a frame that starts like a message is never split.
    uint64_t index = 0;
    const uint8_t *msg = NULL;
    size_t msg_len = 0;
    if (mm_index_split (data, size, &index, &msg, &msg_len) == 0) {
        if (index == 0 || index > MM_INDEX_MAX || msg != data + MM_INDEX_LEN ||
            msg_len != size - MM_INDEX_LEN || !mm_index_is (data, size))
            s_fail ("mm_index_split accepted a frame it should not have");
        uint8_t again[MM_INDEX_LEN];
        mm_index_put (again, index);
        if (memcmp (again, data, MM_INDEX_LEN) != 0)
            s_fail ("mm_index_put does not give back the index split");
    }

    //  mm_event_peek: never reads past the input; whatever an EVENT decodes to, it agrees.
    uint64_t peek_ts = 0;
    uint8_t peek_kind = 0;
    int event_peek_rc = mm_event_peek (data, size, &peek_ts, &peek_kind);

    mm_error_t peek_err;
    mm_msg_type_t type = 0;
    s_poison (&peek_err);
    int peek_rc = mm_msg_peek (data, size, &type, &peek_err);
    if (peek_rc != 0)
        s_check_failure ("mm_msg_peek", peek_rc, &peek_err, size);
    else if (type < MM_MSG_EVENT || type > MM_MSG_TYPE_MAX)
        s_fail ("mm_msg_peek succeeded with message type %u", (unsigned) type);

    //  Every decoder, whatever the type. The one peek names gives the reference result for
    //  mm_msg_to_json below.
    int typed_rc = -1;
    mm_error_t typed_err;
    s_poison (&typed_err);
    mm_buf_t typed_json = MM_BUF_INIT;
    for (size_t i = 0; i < S_NCODECS; i++) {
        const s_codec_t *c = &s_codecs[i];
        mm_error_t err;
        mm_buf_t json = MM_BUF_INIT;
        int rc = s_try_codec (c, data, size, &err, &json);
        if (peek_rc == 0 && c->type == type) {
            typed_rc = rc;
            typed_err = err;
            typed_json = json;  //  freed below
            //  A decoded EVENT and mm_event_peek agree on its time and kind.
            if (c->type == MM_MSG_EVENT && rc == 0) {
                mm_event_t ev;
                mm_error_t e;
                if (mm_event_decode (&ev, data, size, &e) == 0 &&
                    (event_peek_rc != 0 || peek_ts != ev.ts || peek_kind != ev.kind))
                    s_fail ("mm_event_peek disagrees with mm_event_decode");
            }
            continue;
        }
        if (peek_rc == 0) {
            if (rc == 0)
                s_fail ("mm_%s_decode accepted a %s message", c->name, mm_msg_type_name (type));
            if (err.code != MM_ERR_MSG_TYPE)
                s_fail ("mm_%s_decode given a %s message did not report the type: %s", c->name,
                        mm_msg_type_name (type), err.reason);
        }
        //  Peek rejected the message: every decoder must reject it too, and a version or
        //  type problem must be what it reports, whatever else is wrong.
        else if (rc == 0)
            s_fail ("mm_%s_decode accepted a message mm_msg_peek rejects: %s", c->name,
                    peek_err.reason);
        else if (s_is_header_error (peek_err.code) && err.code != peek_err.code)
            s_fail ("mm_%s_decode did not report the header error (%s) but: %s", c->name,
                    peek_err.reason, err.reason);
        mm_buf_free (&json);
    }

    //  mm_msg_to_json is peek plus the typed decoder plus the renderer: same answers.
    mm_buf_t out = MM_BUF_INIT;
    mm_error_t json_err;
    s_poison (&json_err);
    int json_rc = mm_msg_to_json (data, size, &out, &json_err);
    if (json_rc != 0) {
        s_check_failure ("mm_msg_to_json", json_rc, &json_err, size);
        if (out.len != 0)
            s_fail ("mm_msg_to_json failed but left %zu bytes of output", out.len);
        if (peek_rc == 0 && typed_rc == 0)
            s_fail ("mm_msg_to_json failed on a message mm_%s_decode accepts: %s",
                    mm_msg_type_name (type), json_err.reason);
        const mm_error_t *want = peek_rc != 0 ? &peek_err : &typed_err;
        if (json_err.code != want->code || strcmp (json_err.reason, want->reason) != 0)
            s_fail ("mm_msg_to_json reports \"%s\" where the decoder reports \"%s\"",
                    json_err.reason, want->reason);
    }
    else {
        if (peek_rc != 0 || typed_rc != 0)
            s_fail ("mm_msg_to_json rendered a message the decoders reject: %s",
                    peek_rc != 0 ? peek_err.reason : typed_err.reason);
        s_check_json_line ("mm_msg_to_json", &out);
        if (!s_buf_eq (&out, &typed_json))
            s_fail ("mm_msg_to_json and mm_%s_to_json render the message differently",
                    mm_msg_type_name (type));
    }
    mm_buf_free (&out);
    mm_buf_free (&typed_json);
    return 0;
}
