/*  Round trip of every message type: encode -> decode gives back every field, re-encoding is
    byte-identical, and msgpack-c (an independent decoder) reads our bytes as one canonical map. */
#include <criterion/criterion.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "mm_sample.h"

//  msgpack-c must read the bytes as exactly one map with ascending integer keys 0..127.
static void
s_check_with_msgpack_c (const mm_buf_t *buf)
{
    msgpack_unpacked result;
    msgpack_unpacked_init (&result);
    size_t off = 0;
    msgpack_unpack_return rc =
        msgpack_unpack_next (&result, (const char *) buf->data, buf->len, &off);
    cr_assert_eq (rc, MSGPACK_UNPACK_SUCCESS, "msgpack-c cannot read our encoding");
    cr_assert_eq (off, buf->len, "msgpack-c sees trailing bytes");
    msgpack_object obj = result.data;
    cr_assert_eq (obj.type, MSGPACK_OBJECT_MAP);
    int64_t last = -1;
    for (uint32_t i = 0; i < obj.via.map.size; i++) {
        msgpack_object key = obj.via.map.ptr[i].key;
        cr_assert_eq (key.type, MSGPACK_OBJECT_POSITIVE_INTEGER, "key %u is not an integer", i);
        cr_assert_gt ((int64_t) key.via.u64, last, "keys not ascending at %u", i);
        cr_assert_leq (key.via.u64, 127);
        last = (int64_t) key.via.u64;
    }
    cr_assert_eq (obj.via.map.ptr[0].key.via.u64, 0, "version key first");
    cr_assert_eq (obj.via.map.ptr[0].val.via.u64, MM_PROTO_VERSION);
    msgpack_unpacked_destroy (&result);
}

//  The generic part of each round trip. `encode` and `decode` are the message's functions;
//  `to_json` renders a struct, which compares every field at once (including zero values
//  guarded by has-bits) without depending on where strings point.
typedef int (*s_encode_fn) (const void *, mm_buf_t *, mm_error_t *);
typedef int (*s_decode_fn) (void *, const uint8_t *, size_t, mm_error_t *);
typedef int (*s_json_fn) (const void *, mm_buf_t *);

//  The decoded message borrows from this buffer, so it lives until the next round trip
//  (each Criterion test runs in its own process).
static mm_buf_t s_wire;

static void
s_roundtrip (const void *msg, void *decoded, s_encode_fn encode, s_decode_fn decode,
             s_json_fn to_json)
{
    mm_buf_t again = MM_BUF_INIT, json1 = MM_BUF_INIT, json2 = MM_BUF_INIT;
    mm_error_t err;
    mm_buf_clear (&s_wire);
    cr_assert_eq (encode (msg, &s_wire, &err), 0, "encode: %s", err.reason);
    cr_assert_leq (s_wire.len, MM_MSG_MAX);
    s_check_with_msgpack_c (&s_wire);
    cr_assert_eq (decode (decoded, s_wire.data, s_wire.len, &err), 0, "decode: %s", err.reason);
    cr_assert_eq (encode (decoded, &again, &err), 0, "re-encode: %s", err.reason);
    cr_assert_eq (again.len, s_wire.len);
    cr_assert_arr_eq (again.data, s_wire.data, s_wire.len, "re-encoding differs");
    cr_assert_eq (to_json (msg, &json1), 0);
    cr_assert_eq (to_json (decoded, &json2), 0);
    cr_assert_eq (json1.len, json2.len, "%.*s\nvs\n%.*s", (int) json1.len, json1.data,
                  (int) json2.len, json2.data);
    cr_assert_arr_eq (json1.data, json2.data, json1.len);
    mm_buf_free (&again);
    mm_buf_free (&json1);
    mm_buf_free (&json2);
}

#define S_ROUNDTRIP(T, msg, decoded, name)                                                         \
    s_roundtrip (msg, decoded, (s_encode_fn) name##_encode, (s_decode_fn) name##_decode,           \
                 (s_json_fn) name##_to_json)

Test (roundtrip, every_event_kind)
{
    for (int i = 0; i < MM_SAMPLE_EVENT_KINDS; i++) {
        mm_event_t ev, back;
        mm_sample_event (&ev, mm_sample_kinds[i]);
        S_ROUNDTRIP (mm_event_t, &ev, &back, mm_event);
        cr_assert_eq (back.kind, mm_sample_kinds[i]);
        cr_assert_eq (back.seq, 42);
        cr_assert (mm_str_eq (back.sensor, "s-kanto-0001"));
    }
}

//  Values that are zero yet meaningful must survive: the has-bits carry them.
Test (roundtrip, meaningful_zeros)
{
    mm_event_t ev, back;
    mm_buf_t wire = MM_BUF_INIT;
    mm_error_t err;

    mm_sample_event (&ev, MM_KIND_DNS);
    cr_assert_eq (mm_event_encode (&ev, &wire, &err), 0, "%s", err.reason);
    cr_assert_eq (mm_event_decode (&back, wire.data, wire.len, &err), 0, "%s", err.reason);
    cr_assert (back.has & MM_EV_HAS_PORTS, "port 0 lost");
    cr_assert_eq (back.sport, 0);
    cr_assert (back.dns.has & MM_DNS_HAS_RCODE, "rcode NOERROR lost");
    cr_assert_eq (back.dns.answers[1].ttl, 0);
    cr_assert_eq (back.src.len, 16);
    cr_assert_arr_eq (back.src.b, ev.src.b, 16);

    mm_buf_clear (&wire);
    mm_sample_event (&ev, MM_KIND_FLOW);
    cr_assert_eq (mm_event_encode (&ev, &wire, &err), 0, "%s", err.reason);
    cr_assert_eq (mm_event_decode (&back, wire.data, wire.len, &err), 0, "%s", err.reason);
    cr_assert (back.has & MM_EV_HAS_COUNTERS);
    cr_assert_eq (back.pkts_resp, 0);
    cr_assert_eq (back.bytes_orig, 1840);
    cr_assert_eq (back.n_vlan, 2);
    cr_assert_eq (back.vlan[1], 4095);

    mm_buf_clear (&wire);
    mm_sample_event (&ev, MM_KIND_SMB);
    cr_assert_eq (mm_event_encode (&ev, &wire, &err), 0, "%s", err.reason);
    cr_assert_eq (mm_event_decode (&back, wire.data, wire.len, &err), 0, "%s", err.reason);
    cr_assert (back.smb.has & MM_SMB_HAS_STATUS, "STATUS_SUCCESS lost");
    cr_assert (mm_str_eq (back.smb.share, "\\\\FILESRV01\\ADMIN$"));
    mm_buf_free (&wire);
}

Test (roundtrip, finding_fields)
{
    mm_event_t ev, back;
    mm_buf_t wire = MM_BUF_INIT;
    mm_error_t err;
    mm_sample_finding (&ev);
    cr_assert_eq (mm_event_encode (&ev, &wire, &err), 0, "%s", err.reason);
    cr_assert_eq (mm_event_decode (&back, wire.data, wire.len, &err), 0, "%s", err.reason);
    const mm_finding_t *f = &back.finding;
    cr_assert (mm_str_eq (f->detector, "beacon"));
    cr_assert_eq (f->category, MM_CAT_C2_BEACON);
    cr_assert_eq (f->n_attack, 2);
    cr_assert (mm_str_eq (f->attack[0], "T1071.001"));
    cr_assert (mm_str_eq (f->ioc.value, "198.51.100.7"));
    cr_assert_eq (f->evidence.period_ms, 60000);
    cr_assert_eq (f->evidence.jitter_ms, 850);
    cr_assert_eq (back.confidence, 90);
    //  Strings borrow from the wire buffer, never copies.
    cr_assert ((const uint8_t *) f->detector.ptr >= wire.data &&
               (const uint8_t *) f->detector.ptr < wire.data + wire.len);
    mm_buf_free (&wire);
}

Test (roundtrip, minimal_event)
{
    //  Only the required keys: the smallest valid EVENT.
    mm_event_t ev, back;
    memset (&ev, 0, sizeof ev);
    ev.ts = 1;
    ev.sensor = mm_str ("s");
    ev.org = mm_str ("o");
    ev.seq = 1;
    ev.kind = MM_KIND_FLOW;
    S_ROUNDTRIP (mm_event_t, &ev, &back, mm_event);
    cr_assert_eq (back.has, 0);
}

Test (roundtrip, heartbeat)
{
    mm_heartbeat_t hb, back;
    mm_sample_heartbeat (&hb);
    S_ROUNDTRIP (mm_heartbeat_t, &hb, &back, mm_heartbeat);
    cr_assert_eq (back.packets, 123456789);
    cr_assert_eq (back.drops, 0);
    cr_assert (mm_str_eq (back.version, "0.1.0"));
}

Test (roundtrip, ack)
{
    mm_ack_t ack, back;
    mm_sample_ack (&ack);
    S_ROUNDTRIP (mm_ack_t, &ack, &back, mm_ack);
    cr_assert_eq (back.seq, 42);
    //  seq 0 ("nothing durable yet") is a valid cumulative ack.
    memset (&ack, 0, sizeof ack);
    ack.sensor = mm_str ("s-kanto-0001");
    S_ROUNDTRIP (mm_ack_t, &ack, &back, mm_ack);
    cr_assert_eq (back.seq, 0);
}

Test (roundtrip, warning)
{
    mm_warning_t w, back;
    mm_sample_warning (&w);
    S_ROUNDTRIP (mm_warning_t, &w, &back, mm_warning);
    cr_assert (mm_str_eq (back.action.text_ja,
                          "この宛先への通信を遮断し、通信した端末を調査してください。"));
    cr_assert_eq (back.indicator.match, MM_MATCH_SUBDOMAINS);
    cr_assert_eq (back.relation, MM_REL_DIRECT_SUPPLIER);
    cr_assert_eq (back.revision, 2);
}

Test (roundtrip, watchlist)
{
    mm_watchlist_t *wl = malloc (sizeof *wl), *back = malloc (sizeof *back);
    cr_assert (wl && back);
    mm_sample_watchlist (wl);
    S_ROUNDTRIP (mm_watchlist_t, wl, back, mm_watchlist);
    cr_assert_eq (back->n_entries, 2);
    cr_assert_eq (back->entries[1].op, MM_WL_REVOKE);
    free (wl);
    free (back);
}

//  The limits are inclusive: a message at every limit at once still encodes and decodes.
Test (roundtrip, at_the_limits)
{
    static char big[MM_LONG_MAX];
    memset (big, 'a', sizeof big);
    mm_event_t ev, back;
    mm_sample_event (&ev, MM_KIND_HTTP);
    ev.sensor = (mm_str_t){big, MM_ID_MAX};
    ev.http.uri = (mm_str_t){big, MM_LONG_MAX};
    ev.http.host = (mm_str_t){big, MM_NAME_MAX};
    ev.http.user_agent = (mm_str_t){big, MM_TEXT_MAX};
    ev.severity = MM_SEV_FATAL;
    ev.confidence = 100;
    ev.seq = UINT64_MAX;
    ev.ts = UINT64_MAX;
    S_ROUNDTRIP (mm_event_t, &ev, &back, mm_event);
    cr_assert_eq (back.http.uri.len, MM_LONG_MAX);
    cr_assert_eq (back.seq, UINT64_MAX);

    mm_watchlist_t *wl = calloc (1, sizeof *wl), *wback = malloc (sizeof *wback);
    cr_assert (wl && wback);
    wl->ts = 1;
    wl->serial = 1;
    wl->n_entries = MM_WATCHLIST_MAX;
    for (int i = 0; i < MM_WATCHLIST_MAX; i++)
        wl->entries[i] =
            (mm_wl_entry_t){.op = MM_WL_ADD, .type = MM_IOC_DOMAIN, .value = {big, 200}};
    S_ROUNDTRIP (mm_watchlist_t, wl, wback, mm_watchlist);
    free (wl);
    free (wback);
}

//  Encoding appends: several messages can be batched in one buffer and the first survives.
Test (roundtrip, encode_appends)
{
    mm_event_t ev, back;
    mm_buf_t wire = MM_BUF_INIT;
    mm_error_t err;
    mm_sample_event (&ev, MM_KIND_TLS);
    cr_assert_eq (mm_event_encode (&ev, &wire, &err), 0);
    size_t first = wire.len;
    cr_assert_eq (mm_event_encode (&ev, &wire, &err), 0);
    cr_assert_eq (wire.len, 2 * first);
    cr_assert_eq (mm_event_decode (&back, wire.data + first, first, &err), 0, "%s", err.reason);
    cr_assert_arr_eq (wire.data, wire.data + first, first);
    mm_buf_free (&wire);
}

//  mm_event_peek reads the time and kind without decoding the rest, and refuses what is not
//  a map.
Test (roundtrip, peek_time_and_kind)
{
    mm_event_t ev;
    mm_sample_finding (&ev);
    mm_buf_t buf = MM_BUF_INIT;
    mm_error_t err;
    cr_assert_eq (mm_event_encode (&ev, &buf, &err), 0, "%s", err.reason);
    uint64_t ts = 1;
    uint8_t kind = 1;
    cr_assert_eq (mm_event_peek (buf.data, buf.len, &ts, &kind), 0);
    cr_expect_eq (ts, ev.ts);
    cr_expect_eq (kind, MM_KIND_FINDING);
    mm_buf_clear (&buf);
    mm_sample_event (&ev, MM_KIND_DNS);
    cr_assert_eq (mm_event_encode (&ev, &buf, &err), 0, "%s", err.reason);
    cr_assert_eq (mm_event_peek (buf.data, buf.len, &ts, &kind), 0);
    cr_expect_eq (kind, MM_KIND_DNS);
    //  Truncated: every prefix is refused or read without running past its end.
    for (size_t n = 0; n < buf.len; n++)
        mm_event_peek (buf.data, n, &ts, &kind);
    const uint8_t not_a_map[] = {0x93, 0x01, 0x02, 0x03};
    cr_expect_eq (mm_event_peek (not_a_map, sizeof not_a_map, &ts, &kind), -1);
    mm_buf_free (&buf);
}
