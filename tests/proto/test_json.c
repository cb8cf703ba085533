/*  JSON Lines rendering: each call appends exactly one line of strict JSON, with the field
    names and value formats SIEMs expect (Suricata EVE first), and text that is not valid UTF-8
    kept visible as \xHH instead of breaking the line. A small strict validator below checks
    every rendering; it is tested on its own first, so a lenient validator cannot hide a bad
    rendering. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_sample.h"

#define S_N(a) (sizeof (a) / sizeof (a)[0])

//  ---------------------------------------------------------------------------------------------
//  A strict JSON validator (RFC 8259), written here so the test does not trust a library to
//  be as strict as a SIEM's parser. It also refuses what parsers disagree on: invalid UTF-8,
//  unpaired surrogate escapes and duplicate keys.

typedef struct {
    const uint8_t *p;
    const uint8_t *end;
    const char *why;  //  first problem found
    int depth;
} s_js_t;

static bool
s_js_fail (s_js_t *js, const char *why)
{
    if (!js->why)
        js->why = why;
    return false;
}

static void
s_js_ws (s_js_t *js)
{
    while (js->p < js->end && (*js->p == ' ' || *js->p == '\t' || *js->p == '\n' || *js->p == '\r'))
        js->p++;
}

static bool
s_js_literal (s_js_t *js, const char *word)
{
    size_t n = strlen (word);
    if ((size_t) (js->end - js->p) < n || memcmp (js->p, word, n) != 0)
        return s_js_fail (js, "unknown literal");
    js->p += n;
    return true;
}

//  Four hex digits after "\u"; -1 if they are not.
static long
s_js_hex4 (s_js_t *js)
{
    if (js->end - js->p < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t c = js->p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    js->p += 4;
    return v;
}

//  One UTF-8 sequence, as RFC 3629 defines it: no overlong forms, no surrogates, nothing past
//  U+10FFFF.
static bool
s_js_utf8 (s_js_t *js)
{
    uint8_t b = *js->p;
    size_t n;
    uint32_t cp, min;
    if (b < 0x80) {
        js->p++;
        return true;
    }
    if ((b & 0xe0) == 0xc0) {
        n = 2;
        cp = b & 0x1fu;
        min = 0x80;
    }
    else if ((b & 0xf0) == 0xe0) {
        n = 3;
        cp = b & 0x0fu;
        min = 0x800;
    }
    else if ((b & 0xf8) == 0xf0) {
        n = 4;
        cp = b & 0x07u;
        min = 0x10000;
    }
    else
        return s_js_fail (js, "byte that cannot start a UTF-8 sequence");
    if ((size_t) (js->end - js->p) < n)
        return s_js_fail (js, "UTF-8 sequence cut short");
    for (size_t i = 1; i < n; i++) {
        if ((js->p[i] & 0xc0) != 0x80)
            return s_js_fail (js, "UTF-8 sequence cut short");
        cp = cp << 6 | (js->p[i] & 0x3fu);
    }
    if (cp < min)
        return s_js_fail (js, "overlong UTF-8");
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return s_js_fail (js, "UTF-8 for a surrogate or past U+10FFFF");
    js->p += n;
    return true;
}

static bool
s_js_string (s_js_t *js)
{
    js->p++;  //  the opening quote
    while (js->p < js->end) {
        uint8_t c = *js->p;
        if (c == '"') {
            js->p++;
            return true;
        }
        if (c < 0x20)
            return s_js_fail (js, "raw control character in a string");
        if (c != '\\') {
            if (!s_js_utf8 (js))
                return false;
            continue;
        }
        if (++js->p >= js->end)
            break;
        c = *js->p++;
        if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' ||
            c == 't')
            continue;
        if (c != 'u')
            return s_js_fail (js, "unknown escape");
        long u = s_js_hex4 (js);
        if (u < 0)
            return s_js_fail (js, "\\u without four hex digits");
        if (u >= 0xdc00 && u <= 0xdfff)
            return s_js_fail (js, "low surrogate escape without a high one");
        if (u >= 0xd800 && u <= 0xdbff) {
            if (js->end - js->p < 2 || js->p[0] != '\\' || js->p[1] != 'u')
                return s_js_fail (js, "high surrogate escape without a low one");
            js->p += 2;
            long low = s_js_hex4 (js);
            if (low < 0xdc00 || low > 0xdfff)
                return s_js_fail (js, "high surrogate escape without a low one");
        }
    }
    return s_js_fail (js, "unterminated string");
}

static bool
s_js_digits (s_js_t *js)
{
    if (js->p >= js->end || *js->p < '0' || *js->p > '9')
        return s_js_fail (js, "number without digits");
    while (js->p < js->end && *js->p >= '0' && *js->p <= '9')
        js->p++;
    return true;
}

static bool
s_js_number (s_js_t *js)
{
    if (js->p < js->end && *js->p == '-')
        js->p++;
    if (js->p < js->end && *js->p == '0')
        js->p++;  //  no leading zeros
    else if (!s_js_digits (js))
        return false;
    if (js->p < js->end && *js->p == '.') {
        js->p++;
        if (!s_js_digits (js))
            return false;
    }
    if (js->p < js->end && (*js->p == 'e' || *js->p == 'E')) {
        js->p++;
        if (js->p < js->end && (*js->p == '+' || *js->p == '-'))
            js->p++;
        if (!s_js_digits (js))
            return false;
    }
    return true;
}

static bool s_js_value (s_js_t *js);

static bool
s_js_array (s_js_t *js)
{
    js->p++;
    s_js_ws (js);
    if (js->p < js->end && *js->p == ']') {
        js->p++;
        return true;
    }
    for (;;) {
        if (!s_js_value (js))
            return false;
        s_js_ws (js);
        if (js->p < js->end && *js->p == ',') {
            js->p++;
            continue;
        }
        if (js->p < js->end && *js->p == ']') {
            js->p++;
            return true;
        }
        return s_js_fail (js, "expected , or ] in an array");
    }
}

static bool
s_js_object (s_js_t *js)
{
    //  Keys are compared as written: the renderer's keys never need escaping.
    const uint8_t *keys[64];
    size_t key_lens[64];
    size_t n_keys = 0;
    js->p++;
    s_js_ws (js);
    if (js->p < js->end && *js->p == '}') {
        js->p++;
        return true;
    }
    for (;;) {
        s_js_ws (js);
        if (js->p >= js->end || *js->p != '"')
            return s_js_fail (js, "expected a string key");
        const uint8_t *key = js->p;
        if (!s_js_string (js))
            return false;
        size_t key_len = (size_t) (js->p - key);
        for (size_t i = 0; i < n_keys; i++)
            if (key_lens[i] == key_len && memcmp (keys[i], key, key_len) == 0)
                return s_js_fail (js, "duplicate key");
        if (n_keys == S_N (keys))
            return s_js_fail (js, "more keys in one object than this checker tracks");
        keys[n_keys] = key;
        key_lens[n_keys++] = key_len;
        s_js_ws (js);
        if (js->p >= js->end || *js->p != ':')
            return s_js_fail (js, "expected : after a key");
        js->p++;
        if (!s_js_value (js))
            return false;
        s_js_ws (js);
        if (js->p < js->end && *js->p == ',') {
            js->p++;
            continue;
        }
        if (js->p < js->end && *js->p == '}') {
            js->p++;
            return true;
        }
        return s_js_fail (js, "expected , or } in an object");
    }
}

static bool
s_js_value (s_js_t *js)
{
    s_js_ws (js);
    if (js->p >= js->end)
        return s_js_fail (js, "expected a value");
    if (++js->depth > 64)
        return s_js_fail (js, "nested too deeply");
    bool ok;
    switch (*js->p) {
    case '{': ok = s_js_object (js); break;
    case '[': ok = s_js_array (js); break;
    case '"': ok = s_js_string (js); break;
    case 't': ok = s_js_literal (js, "true"); break;
    case 'f': ok = s_js_literal (js, "false"); break;
    case 'n': ok = s_js_literal (js, "null"); break;
    default: ok = s_js_number (js); break;
    }
    js->depth--;
    return ok;
}

//  NULL if `text` is exactly one JSON value (with optional whitespace), else what is wrong.
static const char *
s_json_check (const void *text, size_t len)
{
    s_js_t js = {text, (const uint8_t *) text + len, NULL, 0};
    if (s_js_value (&js)) {
        s_js_ws (&js);
        if (js.p != js.end)
            s_js_fail (&js, "text after the value");
    }
    return js.why;
}

#define S_LIT(lit) (lit), sizeof (lit) - 1

Test (validator, accepts_json)
{
    static const struct {
        const char *text;
        size_t len;
    } good[] = {
        {S_LIT ("{}")},
        {S_LIT ("[]")},
        {S_LIT (" 0 ")},
        {S_LIT ("\"\"")},
        {S_LIT ("{\"a\":[1,-2,3.5,1e10,-0.5E-3,2E+2,true,false,null,{},[]],\"b\":{\"a\":1}}")},
        {S_LIT ("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\"")},
        {S_LIT ("\"\xe8\xa6\x8b\xe5\xae\x88\xe3\x82\x8a \xc3\xa9 \xf0\x9f\x98\x80 \x7f\"")},
        {S_LIT ("{ \"a\" : 1 ,\n\"b\" : \"x\" }\n")},
    };
    for (size_t i = 0; i < S_N (good); i++) {
        const char *why = s_json_check (good[i].text, good[i].len);
        cr_assert_null (why, "refused valid JSON %zu (%s): %s", i, why, good[i].text);
    }
}

Test (validator, refuses_what_is_not_json)
{
    static const struct {
        const char *text;
        size_t len;
    } bad[] = {
        {S_LIT ("")},
        {S_LIT ("{")},
        {S_LIT ("{\"a\":1,}")},
        {S_LIT ("[1,]")},
        {S_LIT ("[1 2]")},
        {S_LIT ("{\"a\" 1}")},
        {S_LIT ("{'a':1}")},
        {S_LIT ("{a:1}")},
        {S_LIT ("01")},
        {S_LIT ("1.")},
        {S_LIT (".5")},
        {S_LIT ("-")},
        {S_LIT ("1e")},
        {S_LIT ("+1")},
        {S_LIT ("NaN")},
        {S_LIT ("tru")},
        {S_LIT ("nul")},
        {S_LIT ("{} {}")},
        {S_LIT ("\"a")},
        {S_LIT ("\"\\x41\"")},
        {S_LIT ("\"\\u12\"")},
        {S_LIT ("\"\\u00zz\"")},
        {S_LIT ("\"\\ud800\"")},
        {S_LIT ("\"\\udc00\"")},
        {S_LIT ("\"\\ud800\\u0041\"")},
        {S_LIT ("\"\x01\"")},
        {S_LIT ("\"a\nb\"")},
        {S_LIT ("\"\xff\"")},
        {S_LIT ("\"\xc0\xaf\"")},
        {S_LIT ("\"\xed\xa0\x80\"")},
        {S_LIT ("\"\xe3\x81\"")},
        {S_LIT ("\"\xf4\x90\x80\x80\"")},
        {S_LIT ("\"\x80\"")},
        {S_LIT ("{\"a\":1,\"a\":2}")},
        {S_LIT ("\"a\0b\"")},
    };
    for (size_t i = 0; i < S_N (bad); i++)
        cr_assert_not_null (s_json_check (bad[i].text, bad[i].len),
                            "accepted invalid JSON %zu: %.*s", i, (int) bad[i].len, bad[i].text);
}

//  ---------------------------------------------------------------------------------------------
//  Rendering helpers

//  Checks that `buf` from `start` on is exactly one line holding one JSON object, and returns
//  that line as a C string (newline included) for substring checks; the caller frees it.
static char *
s_line (const mm_buf_t *buf, size_t start)
{
    cr_assert_gt (buf->len, start, "nothing was rendered");
    const uint8_t *line = buf->data + start;
    size_t len = buf->len - start;
    cr_assert_eq (line[len - 1], '\n', "the line does not end in a newline: %.*s", (int) len, line);
    cr_assert_null (memchr (line, '\n', len - 1), "more than one line: %.*s", (int) len, line);
    cr_assert_null (memchr (line, '\0', len), "NUL byte in the line: %.*s", (int) len, line);
    cr_assert_eq (line[0], '{', "the line is not an object: %.*s", (int) len, line);
    const char *why = s_json_check (line, len - 1);
    cr_assert_null (why, "invalid JSON (%s): %.*s", why, (int) len, line);
    char *text = malloc (len + 1);
    memcpy (text, line, len);
    text[len] = '\0';
    return text;
}

static void
s_has (const char *line, const char *want)
{
    cr_assert_not_null (strstr (line, want), "expected %s in\n%s", want, line);
}

static void
s_lacks (const char *line, const char *unwanted)
{
    cr_assert_null (strstr (line, unwanted), "did not expect %s in\n%s", unwanted, line);
}

static char *
s_event_line (const mm_event_t *ev)
{
    mm_buf_t buf = MM_BUF_INIT;
    cr_assert_eq (mm_event_to_json (ev, &buf), 0, "mm_event_to_json failed");
    char *line = s_line (&buf, 0);
    mm_buf_free (&buf);
    return line;
}

static char *
s_sample_line (uint8_t kind)
{
    mm_event_t ev;
    mm_sample_event (&ev, kind);
    return s_event_line (&ev);
}

//  The part every sample event shares.
static void
s_has_envelope (const char *line, const char *event_type)
{
    char want[96];
    snprintf (want, sizeof want,
              "{\"timestamp\":\"2026-11-22T07:00:00.123456789Z\",\"event_type\":%s,", event_type);
    cr_assert_eq (strncmp (line, want, strlen (want)), 0, "expected the line to start with %s:\n%s",
                  want, line);
    s_has (line, "\"sensor_id\":\"s-kanto-0001\",\"org_id\":\"org-0001\",\"seq\":42,");
    s_has (line, "\"flow_id\":1234567890123,\"community_id\":\"1:LQU9qZlK+B5F3KDmev6m5PMibrg=\"");
}

//  ---------------------------------------------------------------------------------------------
//  Each sample, field by field

Test (event, flow)
{
    char *line = s_sample_line (MM_KIND_FLOW);
    s_has_envelope (line, "\"flow\"");
    s_has (line, "\"severity\":\"informational\",\"severity_id\":1,");
    s_has (line, "\"src_ip\":\"192.0.2.10\",\"src_port\":51515,\"dest_ip\":\"198.51.100.7\","
                 "\"dest_port\":443,\"proto\":\"TCP\",\"direction\":\"outbound\"");
    s_has (line, "\"vlan\":[100,4095]");
    s_has (line, "\"app_proto\":\"tls\"");
    //  Zero counters are information and must be shown.
    s_has (line, "\"flow\":{\"pkts_toserver\":12,\"pkts_toclient\":0,\"bytes_toserver\":1840,"
                 "\"bytes_toclient\":0,\"duration_us\":2500000,\"conn_state\":\"S0\","
                 "\"tcp_flags_ts\":\"02\",\"tcp_flags_tc\":\"00\"}}\n");
    s_lacks (line, "\"confidence\"");  //  zero confidence means unset
    free (line);
}

Test (event, dns_over_ipv6)
{
    char *line = s_sample_line (MM_KIND_DNS);
    s_has_envelope (line, "\"dns\"");
    s_has (line, "\"src_ip\":\"2001:db8::1\",\"src_port\":0,\"dest_ip\":\"2001:db8::35\","
                 "\"dest_port\":53,\"proto\":\"UDP\"");
    s_has (line, "\"dns\":{\"rrname\":\"www.example.co.jp\",\"rrtype\":\"A\",\"rcode\":\"NOERROR\","
                 "\"answers\":[{\"rrtype\":\"CNAME\",\"rdata\":\"cdn.example.net\",\"ttl\":300},"
                 "{\"rrtype\":\"A\",\"rdata\":\"203.0.113.80\",\"ttl\":0}]}}\n");
    s_lacks (line, "\"flow\":{");
    free (line);
}

Test (event, tls)
{
    char *line = s_sample_line (MM_KIND_TLS);
    s_has_envelope (line, "\"tls\"");
    s_has (line,
           "\"tls\":{\"sni\":\"login.example.jp\",\"version\":\"TLS 1.3\","
           "\"alpn\":[\"h2\",\"http/1.1\"],"
           "\"ja3\":{\"hash\":\"773e1f585f972a6b1c0bd8e20e389ae0\"},"
           "\"ja4\":\"t13d1516h2_8daaf6152771_02713d6af862\","
           "\"ja3s\":{\"hash\":\"15af977ce25de452b96affa2addb1316\"},"
           "\"fingerprint\":\"01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67\","
           "\"subject\":\"CN=login.example.jp\",\"issuerdn\":\"CN=Example CA,O=Example\"}}\n");
    free (line);
}

Test (event, http)
{
    char *line = s_sample_line (MM_KIND_HTTP);
    s_has_envelope (line, "\"http\"");
    s_has (line, "\"dest_port\":80,");
    s_has (line, "\"http\":{\"hostname\":\"upload.example.com\","
                 "\"url\":\"/api/v1/files?name=%E8%A6%8B%E5%AE%88%E3%82%8A\","
                 "\"http_user_agent\":\"Mozilla/5.0 (Windows NT 10.0; Win64; x64)\","
                 "\"http_method\":\"POST\",\"status\":200,"
                 "\"http_content_type\":\"application/json\","
                 "\"request_body_len\":10485760,\"response_body_len\":17}}\n");
    free (line);
}

Test (event, ssh)
{
    char *line = s_sample_line (MM_KIND_SSH);
    s_has_envelope (line, "\"ssh\"");
    s_has (line, "\"direction\":\"inbound\"");
    //  EVE's split of the banner: proto_version and software_version.
    s_has (line, "\"ssh\":{\"client\":{\"proto_version\":\"2.0\","
                 "\"software_version\":\"libssh_0.9.6\","
                 "\"hassh\":{\"hash\":\"ec7f285189a61a6c4c2f0a8125618d1a\"}},"
                 "\"server\":{\"proto_version\":\"2.0\","
                 "\"software_version\":\"OpenSSH_9.2p1 Debian-2\","
                 "\"hassh\":{\"hash\":\"b12d2b704c584bcc8c9d043b12656482\"}}}}\n");
    free (line);
}

//  EVE's krb5 record, with RC4 (etype 23) flagged weak as Suricata does.
Test (event, krb5)
{
    char *line = s_sample_line (MM_KIND_KRB);
    s_has_envelope (line, "\"krb5\"");
    s_has (line, "\"krb5\":{\"msg_type\":\"KRB_TGS_REP\",\"cname\":\"alice\","
                 "\"realm\":\"CORP.EXAMPLE.JP\",\"sname\":\"MSSQLSvc/db1.corp.example.jp:1433\","
                 "\"encryption\":23,\"weak_encryption\":true}}\n");
    free (line);
}

//  True if `text` occurs in the first `len` bytes of `buf`.
static bool
s_contains (const uint8_t *buf, size_t len, const char *text)
{
    size_t n = strlen (text);
    for (size_t i = 0; n <= len && i <= len - n; i++)
        if (memcmp (buf + i, text, n) == 0)
            return true;
    return false;
}

//  A banner that is not "SSH-x-y" is kept whole as the software version.
Test (event, ssh_banner_not_in_standard_form)
{
    mm_event_t ev;
    mm_sample_event (&ev, MM_KIND_SSH);
    ev.ssh.client = mm_str ("SSH-2.0");
    ev.ssh.server = mm_str ("hello");
    ev.ssh.has = 0;
    mm_buf_t out = MM_BUF_INIT;
    cr_assert_eq (mm_event_to_json (&ev, &out), 0);
    cr_assert (s_contains (out.data, out.len,
                           "\"ssh\":{\"client\":{\"software_version\":\"SSH-2.0\"},"
                           "\"server\":{\"software_version\":\"hello\"}}"),
               "%.*s", (int) out.len, out.data);
    mm_buf_free (&out);
}

//  A lone field keeps its own presence: a port, a counter or a flag byte sent alone comes back
//  alone, never with an invented zero beside it.
Test (event, lone_fields_are_not_paired_with_invented_zeros)
{
    mm_event_t ev, back;
    memset (&ev, 0, sizeof ev);
    ev.ts = 1;
    ev.sensor = mm_str ("s");
    ev.org = mm_str ("o");
    ev.seq = 1;
    ev.kind = MM_KIND_FLOW;
    ev.has = MM_EV_HAS_SPORT | MM_EV_HAS_PKTS_ORIG | MM_EV_HAS_TCP_FLAGS_RESP;
    ev.sport = 0;
    ev.pkts_orig = 0;
    ev.tcp_flags_resp = 0x12;
    mm_buf_t wire = MM_BUF_INIT, json = MM_BUF_INIT;
    mm_error_t err;
    cr_assert_eq (mm_event_encode (&ev, &wire, &err), 0, "%s", err.reason);
    cr_assert_eq (mm_event_decode (&back, wire.data, wire.len, &err), 0, "%s", err.reason);
    cr_assert_eq (back.has, ev.has);
    cr_assert_eq (mm_event_to_json (&back, &json), 0);
    cr_assert (s_contains (json.data, json.len, "\"src_port\":0"));
    cr_assert_not (s_contains (json.data, json.len, "dest_port"), "invented dest_port");
    cr_assert_not (s_contains (json.data, json.len, "pkts_toclient"), "invented counter");
    cr_assert_not (s_contains (json.data, json.len, "tcp_flags_ts"), "invented flags");
    mm_buf_free (&wire);
    mm_buf_free (&json);
}

Test (event, smb_backslashes_are_escaped)
{
    char *line = s_sample_line (MM_KIND_SMB);
    s_has_envelope (line, "\"smb\"");
    s_has (line, "\"dest_ip\":\"10.51.100.7\",\"dest_port\":445,");
    s_has (line, "\"direction\":\"internal\"");
    //  The share is \\FILESRV01\ADMIN$ : each backslash doubles in JSON.
    s_has (line, "\"smb\":{\"command\":\"TREE_CONNECT\","
                 "\"share\":\"\\\\\\\\FILESRV01\\\\ADMIN$\","
                 "\"filename\":\"Windows\\\\Temp\\\\psexesvc.exe\","
                 "\"status_code\":\"0x00000000\"}}\n");
    free (line);
}

Test (event, finding_is_an_alert)
{
    mm_event_t ev;
    mm_sample_finding (&ev);
    char *line = s_event_line (&ev);
    s_has_envelope (line, "\"alert\"");
    s_has (line, "\"severity\":\"high\",\"severity_id\":4,\"confidence\":90,");
    s_has (line,
           "\"alert\":{\"signature\":\"periodic connections to a known C2 address every 60 s\","
           "\"category\":\"c2_beacon\",\"detector\":\"beacon\",\"finding_id\":17,\"revision\":1,"
           "\"detector_version\":1,"
           "\"attack\":[\"T1071.001\",\"T1573\"],"
           "\"indicator\":{\"type\":\"ip\",\"value\":\"198.51.100.7\","
           "\"feed\":\"abuse-ch-feodo\"},"
           "\"evidence\":{\"count\":48,\"distinct_ports\":1,\"distinct_hosts\":1,"
           "\"window_s\":3600,\"period_ms\":60000,\"jitter_ms\":850,\"bytes\":98304,"
           "\"first_seen\":\"2026-11-22T06:13:00.000000000Z\","
           "\"last_seen\":\"2026-11-22T07:00:00.000000000Z\"}}}\n");
    free (line);
}

//  Nothing optional appears when it is absent: the whole line is known.
Test (event, minimal_event_exactly)
{
    mm_event_t ev;
    memset (&ev, 0, sizeof ev);
    ev.ts = 1;
    ev.sensor = mm_str ("s");
    ev.org = mm_str ("o");
    ev.seq = 1;
    ev.kind = MM_KIND_FLOW;
    char *line = s_event_line (&ev);
    cr_assert_str_eq (line,
                      "{\"timestamp\":\"1970-01-01T00:00:00.000000001Z\",\"event_type\":\"flow\","
                      "\"sensor_id\":\"s\",\"org_id\":\"o\",\"seq\":1,\"severity\":\"unknown\","
                      "\"severity_id\":0}\n");
    free (line);
}

Test (heartbeat, sample)
{
    mm_heartbeat_t hb;
    mm_sample_heartbeat (&hb);
    mm_buf_t buf = MM_BUF_INIT;
    cr_assert_eq (mm_heartbeat_to_json (&hb, &buf), 0);
    char *line = s_line (&buf, 0);
    cr_assert_str_eq (
        line, "{\"timestamp\":\"2026-11-22T07:00:00.000000000Z\",\"event_type\":\"heartbeat\","
              "\"sensor_id\":\"s-kanto-0001\",\"org_id\":\"org-0001\","
              "\"heartbeat\":{\"version\":\"0.1.0\",\"uptime_s\":86400,\"last_seq\":41,"
              "\"packets\":123456789,\"capture_drops\":0,\"flows\":2048,\"events\":5120,"
              "\"spool\":{\"depth\":3,\"bytes\":612,\"dropped\":0}}}\n");
    free (line);
    mm_buf_free (&buf);
}

Test (ack, sample_and_minimal)
{
    mm_ack_t ack;
    mm_sample_ack (&ack);
    mm_buf_t buf = MM_BUF_INIT;
    cr_assert_eq (mm_ack_to_json (&ack, &buf), 0);
    char *line = s_line (&buf, 0);
    cr_assert_str_eq (line,
                      "{\"timestamp\":\"2026-11-22T07:00:00.001000000Z\",\"event_type\":\"ack\","
                      "\"sensor_id\":\"s-kanto-0001\",\"seq\":42}\n");
    free (line);

    //  ts and sensor are optional in an ACK; seq 0 ("nothing yet") is still shown.
    memset (&ack, 0, sizeof ack);
    mm_buf_clear (&buf);
    cr_assert_eq (mm_ack_to_json (&ack, &buf), 0);
    line = s_line (&buf, 0);
    cr_assert_str_eq (line, "{\"event_type\":\"ack\",\"seq\":0}\n");
    free (line);
    mm_buf_free (&buf);
}

Test (warning, sample)
{
    static mm_warning_t w;
    mm_sample_warning (&w);
    mm_buf_t buf = MM_BUF_INIT;
    cr_assert_eq (mm_warning_to_json (&w, &buf), 0);
    char *line = s_line (&buf, 0);
    s_has (line, "{\"timestamp\":\"2026-11-22T07:00:05.000000000Z\",\"event_type\":\"warning\","
                 "\"org_id\":\"org-0007\",\"warning\":{\"id\":\"w-2026-000123\",\"revision\":2,"
                 "\"status\":\"updated\",\"valid_until\":\"2026-11-29T07:00:00.000000000Z\","
                 "\"indicator\":{\"type\":\"domain\",\"value\":\"update-check.example.net\","
                 "\"match\":\"subdomains\"},");
    s_has (line, "\"severity\":\"critical\",\"severity_id\":5,\"confidence\":85,"
                 "\"category\":\"c2_beacon\",\"tactics\":[\"TA0011\"],"
                 "\"techniques\":[\"T1071.001\"],");
    s_has (line, "\"evidence\":{\"orgs\":2,\"providers\":1,\"sightings\":96,"
                 "\"first_seen\":\"2026-11-22T06:00:00.000000000Z\","
                 "\"last_seen\":\"2026-11-22T07:00:00.000000000Z\"}");
    //  Japanese advice passes through as UTF-8, not as \u escapes.
    s_has (line,
           "\"action\":{\"code\":\"block\",\"text_ja\":\""
           "\xe3\x81\x93\xe3\x81\xae\xe5\xae\x9b\xe5\x85\x88\xe3\x81\xb8\xe3\x81\xae"
           "\xe9\x80\x9a\xe4\xbf\xa1\xe3\x82\x92\xe9\x81\xae\xe6\x96\xad\xe3\x81\x97"
           "\xe3\x80\x81\xe9\x80\x9a\xe4\xbf\xa1\xe3\x81\x97\xe3\x81\x9f\xe7\xab\xaf"
           "\xe6\x9c\xab\xe3\x82\x92\xe8\xaa\xbf\xe6\x9f\xbb\xe3\x81\x97\xe3\x81\xa6"
           "\xe3\x81\x8f\xe3\x81\xa0\xe3\x81\x95\xe3\x81\x84\xe3\x80\x82\","
           "\"text_en\":\"Block this destination and examine the hosts that contacted it.\"}");
    s_has (line, "\"relation\":\"direct_supplier\",\"tlp\":\"TLP:AMBER\","
                 "\"dedup_key\":\"6f1ed002ab5595859014ebf0951522d9\"}}\n");
    free (line);
    mm_buf_free (&buf);
}

Test (watchlist, sample_and_empty)
{
    static mm_watchlist_t wl;
    mm_sample_watchlist (&wl);
    mm_buf_t buf = MM_BUF_INIT;
    cr_assert_eq (mm_watchlist_to_json (&wl, &buf), 0);
    char *line = s_line (&buf, 0);
    cr_assert_str_eq (
        line, "{\"timestamp\":\"2026-11-22T07:00:06.000000000Z\",\"event_type\":\"watchlist\","
              "\"org_id\":\"org-0007\",\"watchlist\":{\"serial\":17,\"entries\":["
              "{\"op\":\"add\",\"type\":\"domain\",\"value\":\"update-check.example.net\","
              "\"category\":\"c2_beacon\",\"severity\":\"critical\",\"feed\":\"lateral\","
              "\"expires\":\"2026-11-29T07:00:00.000000000Z\","
              "\"warning_id\":\"w-2026-000123\"},"
              "{\"op\":\"revoke\",\"type\":\"ip\",\"value\":\"203.0.113.66\","
              "\"feed\":\"lateral\"}]}}\n");
    free (line);

    //  No entries (and no org: every sensor) is still one valid line with an empty array.
    wl.n_entries = 0;
    wl.org = mm_str (NULL);
    mm_buf_clear (&buf);
    cr_assert_eq (mm_watchlist_to_json (&wl, &buf), 0);
    line = s_line (&buf, 0);
    cr_assert_str_eq (line, "{\"timestamp\":\"2026-11-22T07:00:06.000000000Z\","
                            "\"event_type\":\"watchlist\",\"watchlist\":{\"serial\":17,"
                            "\"entries\":[]}}\n");
    free (line);
    mm_buf_free (&buf);
}

//  JSON Lines: every call appends one line and leaves what is already there alone.
Test (lines, every_message_appends_one_line)
{
    static const char prior[] = "{\"prior\":true}\n";
    mm_buf_t buf = MM_BUF_INIT;
    mm_buf_append (&buf, prior, sizeof prior - 1);
    size_t starts[MM_SAMPLE_EVENT_KINDS + 4];
    size_t n = 0;
    mm_event_t ev;
    for (size_t i = 0; i < MM_SAMPLE_EVENT_KINDS; i++) {
        mm_sample_event (&ev, mm_sample_kinds[i]);
        starts[n++] = buf.len;
        cr_assert_eq (mm_event_to_json (&ev, &buf), 0);
    }
    mm_heartbeat_t hb;
    mm_sample_heartbeat (&hb);
    starts[n++] = buf.len;
    cr_assert_eq (mm_heartbeat_to_json (&hb, &buf), 0);
    mm_ack_t ack;
    mm_sample_ack (&ack);
    starts[n++] = buf.len;
    cr_assert_eq (mm_ack_to_json (&ack, &buf), 0);
    static mm_warning_t w;
    mm_sample_warning (&w);
    starts[n++] = buf.len;
    cr_assert_eq (mm_warning_to_json (&w, &buf), 0);
    static mm_watchlist_t wl;
    mm_sample_watchlist (&wl);
    starts[n++] = buf.len;
    cr_assert_eq (mm_watchlist_to_json (&wl, &buf), 0);

    cr_assert_arr_eq (buf.data, prior, sizeof prior - 1, "the earlier line was changed");
    size_t newlines = 0;
    for (size_t i = 0; i < buf.len; i++)
        newlines += buf.data[i] == '\n';
    cr_assert_eq (newlines, n + 1, "expected %zu lines, found %zu", n + 1, newlines);
    for (size_t i = 0; i < n; i++) {
        mm_buf_t one = MM_BUF_INIT;
        size_t end = i + 1 < n ? starts[i + 1] : buf.len;
        mm_buf_append (&one, buf.data + starts[i], end - starts[i]);
        free (s_line (&one, 0));
        mm_buf_free (&one);
    }
    mm_buf_free (&buf);
}

//  ---------------------------------------------------------------------------------------------
//  Timestamps

Test (time, rfc3339_with_nanoseconds)
{
    static const struct {
        uint64_t ns;
        const char *text;
    } cases[] = {
        {1, "1970-01-01T00:00:00.000000001Z"},
        {1795330800123456789ULL, "2026-11-22T07:00:00.123456789Z"},
        {951782400000000000ULL, "2000-02-29T00:00:00.000000000Z"},  //  leap day
        {UINT64_MAX, "2554-07-21T23:34:33.709551615Z"},
    };
    for (size_t i = 0; i < S_N (cases); i++) {
        mm_event_t ev;
        mm_sample_event (&ev, MM_KIND_FLOW);
        ev.ts = cases[i].ns;
        char *line = s_event_line (&ev);
        char want[80];
        snprintf (want, sizeof want, "{\"timestamp\":\"%s\",", cases[i].text);
        cr_assert_eq (strncmp (line, want, strlen (want)), 0, "ts %llu: expected %s in\n%s",
                      (unsigned long long) cases[i].ns, want, line);
        free (line);
    }
}

//  ---------------------------------------------------------------------------------------------
//  Escaping

//  Renders a finding whose message is the `len` bytes at `msg`, and checks the JSON text of
//  the signature and that the line is valid JSON.
static void
s_check_message (const char *msg, size_t len, const char *json_text)
{
    mm_event_t ev;
    mm_sample_finding (&ev);
    ev.finding.message = (mm_str_t){msg, (uint32_t) len};
    char *line = s_event_line (&ev);
    char want[256];
    snprintf (want, sizeof want, "\"signature\":\"%s\",\"category\"", json_text);
    s_has (line, want);
    free (line);
}

#define S_MSG(lit, json) s_check_message ((lit), sizeof (lit) - 1, (json))

Test (escape, json_specials)
{
    S_MSG ("say \"hi\"", "say \\\"hi\\\"");
    S_MSG ("C:\\temp\\x", "C:\\\\temp\\\\x");
    S_MSG ("line1\nline2", "line1\\nline2");
    S_MSG ("a\rb\tc", "a\\rb\\tc");
    S_MSG ("/path/", "/path/");  //  '/' needs no escape
}

Test (escape, control_characters)
{
    S_MSG ("a\x01z", "a\\u0001z");
    S_MSG ("a\x1fz", "a\\u001fz");
    S_MSG ("a\x08z\x0cz", "a\\u0008z\\u000cz");
    S_MSG ("a\0z", "a\\u0000z");  //  packet text may hold NUL; the line must not
    //  DEL is not a control character to JSON: it passes as it is and the line stays valid.
    S_MSG ("a\x7fz", "a\x7fz");
}

Test (escape, valid_utf8_passes_through)
{
    S_MSG ("\xe8\xa6\x8b\xe5\xae\x88\xe3\x82\x8a", "\xe8\xa6\x8b\xe5\xae\x88\xe3\x82\x8a");
    S_MSG ("caf\xc3\xa9", "caf\xc3\xa9");              //  2 bytes
    S_MSG ("\xef\xbf\xbd", "\xef\xbf\xbd");            //  U+FFFD itself
    S_MSG ("\xf0\x9f\x98\x80!", "\xf0\x9f\x98\x80!");  //  4 bytes
    S_MSG ("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf");    //  U+10FFFF, the last one
    S_MSG ("\xed\x9f\xbf", "\xed\x9f\xbf");            //  U+D7FF, just below surrogates
}

//  Each byte that is not part of valid UTF-8 becomes the four characters \xHH of the decoded
//  string, i.e. "\\xHH" in the JSON text.
Test (escape, invalid_utf8_is_kept_as_hex)
{
    S_MSG ("a\xff"
           "b",
           "a\\\\xffb");
    S_MSG ("\xc0\xaf", "\\\\xc0\\\\xaf");                        //  overlong '/'
    S_MSG ("\xe0\x80\xaf", "\\\\xe0\\\\x80\\\\xaf");             //  overlong, 3 bytes
    S_MSG ("\xf0\x80\x80\xaf", "\\\\xf0\\\\x80\\\\x80\\\\xaf");  //  overlong, 4 bytes
    S_MSG ("\xed\xa0\x80", "\\\\xed\\\\xa0\\\\x80");             //  lone surrogate U+D800
    S_MSG ("x\xe3\x81", "x\\\\xe3\\\\x81");                      //  truncated at the end
    S_MSG ("\xe3\x81"
           "A",
           "\\\\xe3\\\\x81A");                                   //  truncated mid-string
    S_MSG ("\xf4\x90\x80\x80", "\\\\xf4\\\\x90\\\\x80\\\\x80");  //  past U+10FFFF
    S_MSG ("\x80", "\\\\x80");                                   //  stray continuation
    S_MSG ("\xf5\x80\x80\x80", "\\\\xf5\\\\x80\\\\x80\\\\x80");
    //  A valid sequence right after an invalid byte is kept.
    S_MSG ("\xff\xe8\xa6\x8b", "\\\\xff\xe8\xa6\x8b");
}

//  Escaping applies to every text field, not only the message.
Test (escape, every_string_field)
{
    mm_event_t ev;
    mm_sample_event (&ev, MM_KIND_DNS);
    ev.sensor = mm_str ("s\"1");
    ev.community_id = mm_str ("1:\\");
    ev.app = mm_str ("d\x01ns");
    ev.dns.qname = mm_str ("bad\xff.example");
    ev.dns.answers[0].value = mm_str ("t\nx");
    char *line = s_event_line (&ev);
    s_has (line, "\"sensor_id\":\"s\\\"1\"");
    s_has (line, "\"community_id\":\"1:\\\\\"");
    s_has (line, "\"app_proto\":\"d\\u0001ns\"");
    s_has (line, "\"rrname\":\"bad\\\\xff.example\"");
    s_has (line, "\"rdata\":\"t\\nx\"");
    free (line);

    mm_sample_event (&ev, MM_KIND_TLS);
    ev.tls.alpn[1] = mm_str ("\xc0\x80");
    ev.tls.subject = mm_str ("CN=\"x\"");
    line = s_event_line (&ev);
    s_has (line, "\"alpn\":[\"h2\",\"\\\\xc0\\\\x80\"]");
    s_has (line, "\"subject\":\"CN=\\\"x\\\"\"");
    free (line);
}

//  The same rendering when the text comes off the wire through mm_msg_to_json.
Test (escape, through_the_decoder)
{
    static const char msg[] = "q\"\\\n\x01\x7f\xe8\xa6\x8b\xff\xc0\xaf\xed\xa0\x80\xe3\x81";
    mm_event_t ev;
    mm_sample_finding (&ev);
    ev.finding.message = (mm_str_t){msg, sizeof msg - 1};
    mm_buf_t wire = MM_BUF_INIT, direct = MM_BUF_INIT, decoded = MM_BUF_INIT;
    mm_error_t err;
    cr_assert_eq (mm_event_encode (&ev, &wire, &err), 0, "%s", err.reason);
    cr_assert_eq (mm_event_to_json (&ev, &direct), 0);
    cr_assert_eq (mm_msg_to_json (wire.data, wire.len, &decoded, &err), 0, "%s", err.reason);
    cr_assert_eq (decoded.len, direct.len);
    cr_assert_arr_eq (decoded.data, direct.data, direct.len);
    char *line = s_line (&decoded, 0);
    s_has (line, "\"signature\":\"q\\\"\\\\\\n\\u0001\x7f\xe8\xa6\x8b\\\\xff\\\\xc0\\\\xaf"
                 "\\\\xed\\\\xa0\\\\x80\\\\xe3\\\\x81\"");
    free (line);
    mm_buf_free (&decoded);
    mm_buf_free (&direct);
    mm_buf_free (&wire);
}

//  ---------------------------------------------------------------------------------------------
//  Values this version has no name for are shown as numbers, not dropped or invented

Test (enums, unknown_event_values_render_as_numbers)
{
    mm_event_t ev;
    mm_sample_finding (&ev);
    ev.kind = 200;
    ev.severity = 9;
    ev.proto = 200;
    ev.direction = 7;
    ev.state = 99;
    ev.has |= MM_EV_HAS_COUNTERS;
    ev.finding.category = 99;
    ev.finding.ioc.type = 77;
    char *line = s_event_line (&ev);
    s_has (line, "\"event_type\":200,");
    s_has (line, "\"severity\":9,\"severity_id\":9,");
    s_has (line, "\"proto\":200,");
    s_has (line, "\"direction\":7");
    s_has (line, "\"conn_state\":99");
    s_has (line, "\"category\":99,");
    s_has (line, "\"indicator\":{\"type\":77,");
    free (line);

    mm_sample_event (&ev, MM_KIND_DNS);
    ev.dns.qtype = 999;
    ev.dns.rcode = 4000;
    ev.dns.answers[0].type = 65000;
    line = s_event_line (&ev);
    s_has (line, "\"rrtype\":999,\"rcode\":4000,");
    s_has (line, "{\"rrtype\":65000,\"rdata\"");
    free (line);

    mm_sample_event (&ev, MM_KIND_TLS);
    ev.tls.version = 0x0305;
    line = s_event_line (&ev);
    s_has (line, "\"version\":773,");
    free (line);

    mm_sample_event (&ev, MM_KIND_SMB);
    ev.smb.command = 99;
    line = s_event_line (&ev);
    s_has (line, "\"command\":99,");
    free (line);
}

Test (enums, unknown_control_values_render_as_numbers)
{
    static mm_warning_t w;
    mm_sample_warning (&w);
    w.status = 7;
    w.indicator.type = 42;
    w.indicator.match = 9;
    w.category = 99;
    w.action.code = 77;
    w.relation = 9;
    w.tlp = 9;
    mm_buf_t buf = MM_BUF_INIT;
    cr_assert_eq (mm_warning_to_json (&w, &buf), 0);
    char *line = s_line (&buf, 0);
    s_has (line, "\"status\":7,");
    s_has (line, "\"indicator\":{\"type\":42,\"value\":\"update-check.example.net\",\"match\":9}");
    s_has (line, "\"category\":99,");
    s_has (line, "\"action\":{\"code\":77,");
    s_has (line, "\"relation\":9,\"tlp\":9,");
    free (line);

    static mm_watchlist_t wl;
    mm_sample_watchlist (&wl);
    wl.entries[0].op = 5;
    wl.entries[0].type = 42;
    wl.entries[0].category = 99;
    mm_buf_clear (&buf);
    cr_assert_eq (mm_watchlist_to_json (&wl, &buf), 0);
    line = s_line (&buf, 0);
    s_has (line, "{\"op\":5,\"type\":42,\"value\":\"update-check.example.net\",\"category\":99,");
    free (line);
    mm_buf_free (&buf);
}

//  The decoder accepts kinds and categories it has no name for (a newer sensor may send
//  them); they must reach the JSON as numbers.
Test (enums, unknown_values_through_the_decoder)
{
    mm_event_t ev;
    mm_sample_finding (&ev);
    ev.kind = 200;
    ev.finding.category = 99;
    mm_buf_t wire = MM_BUF_INIT, json = MM_BUF_INIT;
    mm_error_t err;
    cr_assert_eq (mm_event_encode (&ev, &wire, &err), 0, "%s", err.reason);
    cr_assert_eq (mm_msg_to_json (wire.data, wire.len, &json, &err), 0, "%s", err.reason);
    char *line = s_line (&json, 0);
    s_has (line, "\"event_type\":200,");
    s_has (line, "\"category\":99,");
    free (line);
    mm_buf_free (&json);
    mm_buf_free (&wire);
}

//  ---------------------------------------------------------------------------------------------
//  mm_msg_to_json on bad input: an error, and the output left exactly as it was

Test (msg_to_json, garbage_leaves_the_output_alone)
{
    mm_event_t ev;
    mm_sample_finding (&ev);
    mm_buf_t wire = MM_BUF_INIT;
    mm_error_t err;
    cr_assert_eq (mm_event_encode (&ev, &wire, &err), 0, "%s", err.reason);
    uint8_t *withtrail = malloc (wire.len + 1);
    memcpy (withtrail, wire.data, wire.len);
    withtrail[wire.len] = 0xc0;
    uint8_t *v2 = malloc (wire.len);
    memcpy (v2, wire.data, wire.len);
    cr_assert_eq (v2[3], 0x00, "expected key 0 right after the map16 header");
    v2[4] = 0x02;  //  version 2

    static const uint8_t one_c1[] = {0xc1};
    static const uint8_t text[] = "hello, world";
    static const uint8_t type9[] = {0x82, 0x00, 0x01, 0x01, 0x09};
    static const uint8_t array[] = {0x92, 0x00, 0x01};
    const struct {
        const uint8_t *data;
        size_t len;
        mm_errc_t code;
    } cases[] = {
        {one_c1, 0, MM_ERR_TRUNCATED},
        {one_c1, 1, MM_ERR_TYPE},
        {text, sizeof text - 1, MM_ERR_TYPE},
        {type9, sizeof type9, MM_ERR_MSG_TYPE},
        {array, sizeof array, MM_ERR_TYPE},
        {wire.data, wire.len - 1, MM_ERR_TRUNCATED},
        {wire.data, wire.len / 2, MM_ERR_TRUNCATED},
        {withtrail, wire.len + 1, MM_ERR_TRAILING},
        {v2, wire.len, MM_ERR_VERSION},
    };
    static const char prior[] = "{\"prior\":1}\n";
    for (size_t i = 0; i < S_N (cases); i++) {
        for (int empty = 0; empty <= 1; empty++) {
            mm_buf_t out = MM_BUF_INIT;
            if (!empty)
                mm_buf_append (&out, prior, sizeof prior - 1);
            memset (&err, 0, sizeof err);
            int rc = mm_msg_to_json (cases[i].data, cases[i].len, &out, &err);
            cr_assert_eq (rc, -1, "case %zu: garbage rendered", i);
            cr_assert_eq (err.code, cases[i].code, "case %zu: %s, expected %s: %s", i,
                          mm_errc_name (err.code), mm_errc_name (cases[i].code), err.reason);
            cr_assert (err.reason[0], "case %zu: empty reason", i);
            cr_assert_eq (out.len, empty ? 0 : sizeof prior - 1, "case %zu: output changed", i);
            if (!empty)
                cr_assert_arr_eq (out.data, prior, sizeof prior - 1, "case %zu", i);
            mm_buf_free (&out);
        }
    }
    free (v2);
    free (withtrail);
    mm_buf_free (&wire);
}

//  A field error found only by the full decoder (after peek passed) is reported the same way.
Test (msg_to_json, field_error_leaves_the_output_alone)
{
    mm_event_t ev;
    mm_sample_finding (&ev);
    mm_buf_t wire = MM_BUF_INIT, out = MM_BUF_INIT;
    mm_error_t err;
    cr_assert_eq (mm_event_encode (&ev, &wire, &err), 0, "%s", err.reason);
    //  Severity (key 11) is encoded as a positive fixint after its key: make it 7.
    size_t at = 0;
    for (size_t i = 0; i + 1 < wire.len; i++)
        if (wire.data[i] == 0x0b && wire.data[i + 1] == MM_SEV_HIGH) {
            at = i + 1;
            break;
        }
    cr_assert_gt (at, 0, "severity not found in the encoding");
    wire.data[at] = 7;
    mm_buf_append (&out, "x\n", 2);
    cr_assert_eq (mm_msg_to_json (wire.data, wire.len, &out, &err), -1);
    cr_assert_eq (err.code, MM_ERR_RANGE, "%s", err.reason);
    cr_assert_str_eq (err.field, "event.severity", "%s", err.reason);
    cr_assert_eq (err.offset, at);
    cr_assert_eq (out.len, 2);
    cr_assert_arr_eq (out.data, "x\n", 2);
    mm_buf_free (&out);
    mm_buf_free (&wire);
}
