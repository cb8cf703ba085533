/*  make_seeds: writes the seed corpus of fuzz_decode into the directory given as argv[1]:
    one file per sample message (proto/mm_sample.c: every event kind and every type) and
    a few hand-made edge cases the samples do not reach (empty map, unknown keys of every
    MessagePack family, unknown values nested to the depth limit, non-canonical integers).
    Files are named by content and the output is deterministic, so regenerating the committed
    corpus (`cmake --build build-fuzz --target fuzz_seeds`) only shows real changes.

    Each seed is checked against what it is for (samples decode, edge cases decode or fail as
    intended), so a wire-format change that turns a seed into noise fails here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_sample.h"

static const char *s_dir;

//  Appends literal bytes: S_PUT (&buf, 0x81, 0x00, 0x01).
#define S_PUT(buf, ...)                                                                            \
    s_put ((buf), (const uint8_t[]){__VA_ARGS__}, sizeof ((const uint8_t[]){__VA_ARGS__}))

static void
s_put (mm_buf_t *buf, const uint8_t *bytes, size_t len)
{
    if (mm_buf_append (buf, bytes, len) == -1) {
        fprintf (stderr, "make_seeds: out of memory\n");
        exit (1);
    }
}

//  Appends a MessagePack fixstr (the edge seeds only need short strings).
static void
s_put_fixstr (mm_buf_t *buf, const char *text)
{
    size_t n = strlen (text);
    if (n > 31) {
        fprintf (stderr, "make_seeds: \"%s\" is too long for a fixstr\n", text);
        exit (1);
    }
    S_PUT (buf, (uint8_t) (0xa0 | n));
    s_put (buf, (const uint8_t *) text, n);
}

//  Writes one seed after checking that mm_msg_to_json (peek, typed decoder, renderer) treats it
//  as intended: `want` is MM_OK for a seed that must decode, else the error code it must give.
static void
s_write (const char *name, const mm_buf_t *buf, mm_errc_t want)
{
    mm_buf_t json = MM_BUF_INIT;
    mm_error_t err = {.code = MM_OK};
    int rc = mm_msg_to_json (buf->data, buf->len, &json, &err);
    mm_buf_free (&json);
    if ((rc == 0 ? MM_OK : err.code) != want) {
        fprintf (stderr, "make_seeds: %s: expected %s, got %s\n", name, mm_errc_name (want),
                 rc == 0 ? "success" : err.reason);
        exit (1);
    }
    char path[4096];
    snprintf (path, sizeof path, "%s/%s", s_dir, name);
    FILE *file = fopen (path, "wb");
    if (!file || fwrite (buf->data, 1, buf->len, file) != buf->len || fclose (file) != 0) {
        fprintf (stderr, "make_seeds: %s: %s\n", path, strerror (errno));
        exit (1);
    }
    printf ("%-36s %6zu bytes\n", name, buf->len);
}

static void
s_check_encoded (const char *name, int rc, const mm_error_t *err)
{
    if (rc != 0) {
        fprintf (stderr, "make_seeds: %s: sample does not encode: %s\n", name, err->reason);
        exit (1);
    }
}

//  ---------------------------------------------------------------------------------------------
//  The samples: one seed per message type and event kind, so every decoder path starts
//  covered and the fuzzer mutates realistic messages.

static void
s_samples (void)
{
    mm_buf_t buf = MM_BUF_INIT;
    mm_error_t err;
    char name[64];

    static mm_event_t ev;
    for (size_t i = 0; i < MM_SAMPLE_EVENT_KINDS; i++) {
        mm_sample_event (&ev, mm_sample_kinds[i]);
        snprintf (name, sizeof name, "event-%s.bin", mm_kind_name (mm_sample_kinds[i]));
        s_check_encoded (name, mm_event_encode (&ev, &buf, &err), &err);
        s_write (name, &buf, MM_OK);
        mm_buf_clear (&buf);
    }

    mm_heartbeat_t hb;
    mm_sample_heartbeat (&hb);
    s_check_encoded ("heartbeat", mm_heartbeat_encode (&hb, &buf, &err), &err);
    s_write ("heartbeat.bin", &buf, MM_OK);
    mm_buf_clear (&buf);

    mm_ack_t ack;
    mm_sample_ack (&ack);
    s_check_encoded ("ack", mm_ack_encode (&ack, &buf, &err), &err);
    s_write ("ack.bin", &buf, MM_OK);
    mm_buf_clear (&buf);

    static mm_warning_t w;
    mm_sample_warning (&w);
    s_check_encoded ("warning", mm_warning_encode (&w, &buf, &err), &err);
    s_write ("warning.bin", &buf, MM_OK);
    mm_buf_clear (&buf);

    //  Static: the watchlist struct is ~20 KB.
    static mm_watchlist_t wl;
    mm_sample_watchlist (&wl);
    s_check_encoded ("watchlist", mm_watchlist_encode (&wl, &buf, &err), &err);
    s_write ("watchlist.bin", &buf, MM_OK);
    mm_buf_clear (&buf);

    //  A watchlist at its entry limit: mutations from here cross MM_WATCHLIST_MAX, which
    //  the fuzzer would not build up to one entry at a time.
    wl.n_entries = MM_WATCHLIST_MAX;
    for (uint32_t i = 0; i < MM_WATCHLIST_MAX; i++)
        wl.entries[i] = (mm_wl_entry_t){.op = MM_WL_ADD, .type = MM_IOC_IP, .value = mm_str ("x")};
    s_check_encoded ("watchlist-full", mm_watchlist_encode (&wl, &buf, &err), &err);
    s_write ("watchlist-full.bin", &buf, MM_OK);
    mm_buf_clear (&buf);

    static mm_incident_t inc;
    mm_sample_incident (&inc);
    s_check_encoded ("incident", mm_incident_encode (&inc, &buf, &err), &err);
    s_write ("incident.bin", &buf, MM_OK);
    mm_buf_clear (&buf);

    //  A quarantine: no finding id, no indicator, so mutations start from the absent keys too.
    inc.kind = MM_INC_QUARANTINE;
    inc.has = 0;
    inc.finding_id = 0;
    inc.confidence = 0;
    inc.severity = MM_SEV_MEDIUM;
    inc.category = MM_CAT_SENSOR;
    inc.detector = mm_str ("correlate.quarantine");
    inc.message = mm_str ("sensor quarantined: a burst of new indicators");
    s_check_encoded ("incident-quarantine", mm_incident_encode (&inc, &buf, &err), &err);
    s_write ("incident-quarantine.bin", &buf, MM_OK);
    mm_buf_clear (&buf);

    mm_health_t health;
    mm_sample_health (&health);
    s_check_encoded ("health", mm_health_encode (&health, &buf, &err), &err);
    s_write ("health.bin", &buf, MM_OK);
    mm_buf_free (&buf);
}

//  ---------------------------------------------------------------------------------------------
//  Hand-made edge cases, in raw bytes: our encoder cannot produce them.

static void
s_edges (void)
{
    mm_buf_t buf = MM_BUF_INIT;

    //  {}: a map, but no header.
    S_PUT (&buf, 0x80);
    s_write ("edge-empty-map.bin", &buf, MM_ERR_MISSING);
    mm_buf_clear (&buf);

    //  The smallest valid message: ACK {0: 1, 1: 3, 3: "s", 5: 0}.
    S_PUT (&buf, 0x84, 0x00, 0x01, 0x01, 0x03, 0x03, 0xa1, 's', 0x05, 0x00);
    s_write ("edge-ack-minimal.bin", &buf, MM_OK);
    mm_buf_clear (&buf);

    //  An ACK whose required sensor is "": the empty string means absent, so it is missing.
    S_PUT (&buf, 0x84, 0x00, 0x01, 0x01, 0x03, 0x03, 0xa0, 0x05, 0x09);
    s_write ("edge-ack-empty-string.bin", &buf, MM_ERR_MISSING);
    mm_buf_clear (&buf);

    //  The minimal ACK as another encoder might write it: keys and values in wider and signed
    //  integer forms, a map16 header, a str8 sensor. Valid, but not canonical.
    S_PUT (&buf, 0xde, 0x00, 0x04,                                 //  map16 of 4 entries
           0xcc, 0x00,                                             //  key 0 as uint8
           0xd0, 0x01,                                             //    1 as int8
           0xcd, 0x00, 0x01,                                       //  key 1 as uint16
           0xce, 0x00, 0x00, 0x00, 0x03,                           //    3 as uint32
           0xd3, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,   //  key 3 as int64
           0xd9, 0x03, 's', '-', '1',                              //    "s-1" as str8
           0xd1, 0x00, 0x05,                                       //  key 5 as int16
           0xcf, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a);  //    42 as uint64
    s_write ("edge-ack-noncanonical.bin", &buf, MM_OK);
    mm_buf_clear (&buf);

    //  An ACK with unknown keys (a newer peer's fields) holding every MessagePack family the
    //  skipper must step over: nil, bool, negative ints, floats, str, bin, ext, fixext.
    S_PUT (&buf, 0xde, 0x00, 0x10,                                      //  map16 of 16 entries
           0x00, 0x01, 0x01, 0x03, 0x03, 0xa1, 's', 0x05, 0x07,         //  header, sensor, seq: 4
           0x06, 0xc0,                                                  //  6: nil
           0x07, 0xc3,                                                  //  7: true
           0x08, 0xff,                                                  //  8: -1
           0x09, 0xd1, 0x80, 0x00,                                      //  9: int16 -32768
           0x0a, 0xca, 0x3f, 0x80, 0x00, 0x00,                          //  10: float32 1.0
           0x0b, 0xcb, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18,  //  11: float64 pi
           0x0c, 0xa3, 'n', 'e', 'w',                                   //  12: fixstr
           0x0d, 0xc4, 0x02, 0xde, 0xad,                                //  13: bin8
           0x0e, 0xd4, 0x01, 0x2a,                                      //  14: fixext1
           0x3f, 0xc7, 0x03, 0x05, 0x01, 0x02, 0x03,                    //  63: ext8
           0x40, 0x90,                                                  //  64: []
           0x7f, 0x80);                                                 //  127: {}
    s_write ("edge-unknown-keys.bin", &buf, MM_OK);
    mm_buf_clear (&buf);

    //  An ACK whose unknown key 100 nests maps and arrays exactly to MM_DEPTH_MAX (the message
    //  map is level 1): [ {1: [ {2: [ {3: [ nil ]} ]} ]} ] is 7 more levels.
    S_PUT (&buf, 0x85, 0x00, 0x01, 0x01, 0x03, 0x03, 0xa1, 's', 0x05, 0x01,  //
           0x64, 0x91, 0x81, 0x01, 0x91, 0x81, 0x02, 0x91, 0x81, 0x03, 0x91, 0xc0);
    s_write ("edge-nested-unknown.bin", &buf, MM_OK);
    mm_buf_clear (&buf);

    //  A DNS event whose answer map (level 4: event, dns, answers, answer) carries an unknown
    //  key nesting to the limit too, so depth is also exercised inside nested schemas.
    S_PUT (&buf, 0x89, 0x00, 0x01, 0x01, 0x01, 0x02, 0x01);  //  v 1, type event, ts 1
    S_PUT (&buf, 0x03);
    s_put_fixstr (&buf, "s-1");
    S_PUT (&buf, 0x04);
    s_put_fixstr (&buf, "org-1");
    S_PUT (&buf, 0x05, 0x01, 0x0a, MM_KIND_DNS, 0x0b, 0x00);  //  seq 1, kind dns, severity 0
    S_PUT (&buf, 0x28, 0x82, 0x01);                           //  dns: {1 qname, 4 answers}
    s_put_fixstr (&buf, "example.jp");
    S_PUT (&buf, 0x04, 0x91, 0x84, 0x01, 0x01, 0x02);  //  [{1 type A, 2 value, 3 ttl, 9 ...}]
    s_put_fixstr (&buf, "192.0.2.1");
    S_PUT (&buf, 0x03, 0x00, 0x09, 0x91, 0x81, 0x00, 0x91, 0x91, 0xc0);  //  9: [{0: [[nil]]}]
    s_write ("edge-nested-unknown-dns.bin", &buf, MM_OK);
    mm_buf_free (&buf);
}

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: make_seeds DIRECTORY\n");
        return 2;
    }
    s_dir = argv[1];
    s_samples ();
    s_edges ();
    return 0;
}
