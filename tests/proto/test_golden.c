/*  Golden byte vectors: the encoding of every sample message, fixed here in hex, so the wire
    format cannot change silently. If one of these fails, you changed the format: that needs a
    version decision (docs/protocol.md, "Versioning"), not a new vector pasted in. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_sample.h"

typedef struct {
    const char *name;
    const char *hex;
} s_golden_t;

static const s_golden_t s_golden[] = {
    {"event-flow",
     "de001a0001010102cf18ea4bd9c3ad2d1503ac732d6b616e746f2d3030303104a86f72672d303030"
     "31052a0a010b01140615c404c000020a16cdc93b17c404c633640718cd01bb19021abe313a4c5155"
     "39715a6c4b2b423546334b446d6576366d35504d696272673d1bcf0000011f71fb04cb1c9264cd0f"
     "ff1da3746c731e0c1f0020cd0730210022ce002625a0230124022500"},
    {"event-dns", "de00120001010102cf18ea4bd9c3ad2d1503ac732d6b616e746f2d3030303104a86f72672d303030"
                  "31052a0a020b01141115c41020010db8000000000000000000000001160017c41020010db8000000"
                  "000000000000000035183519021abe313a4c515539715a6c4b2b423546334b446d6576366d35504d"
                  "696272673d1bcf0000011f71fb04cb1da3646e73288401b17777772e6578616d706c652e636f2e6a"
                  "7002010300049283010502af63646e2e6578616d706c652e6e657403cd012c83010102ac3230332e"
                  "302e3131332e38300300"},
    {"event-tls", "de00120001010102cf18ea4bd9c3ad2d1503ac732d6b616e746f2d3030303104a86f72672d303030"
                  "31052a0a030b01140615c404c000020a16cdc93b17c404c633640718cd01bb19021abe313a4c5155"
                  "39715a6c4b2b423546334b446d6576366d35504d696272673d1bcf0000011f71fb04cb1da3746c73"
                  "298901b06c6f67696e2e6578616d706c652e6a7002cd03040392a26832a8687474702f312e3104c4"
                  "10773e1f585f972a6b1c0bd8e20e389ae005d924743133643135313668325f386461616636313532"
                  "3737315f30323731336436616638363206c4140123456789abcdef0123456789abcdef0123456707"
                  "b3434e3d6c6f67696e2e6578616d706c652e6a7008b7434e3d4578616d706c652043412c4f3d4578"
                  "616d706c6509c41015af977ce25de452b96affa2addb1316"},
    {"event-http",
     "de00120001010102cf18ea4bd9c3ad2d1503ac732d6b616e746f2d3030303104a86f72672d303030"
     "31052a0a040b01140615c404c000020a16cdc93b17c404c6336407185019021abe313a4c51553971"
     "5a6c4b2b423546334b446d6576366d35504d696272673d1bcf0000011f71fb04cb1da4687474702a"
     "8801a4504f535402b275706c6f61642e6578616d706c652e636f6d03d92e2f6170692f76312f6669"
     "6c65733f6e616d653d25453825413625384225453525414525383825453325383225384104d9294d"
     "6f7a696c6c612f352e30202857696e646f7773204e542031302e303b2057696e36343b2078363429"
     "05ccc806b06170706c69636174696f6e2f6a736f6e07ce00a000000811"},
    {"event-ssh", "de00120001010102cf18ea4bd9c3ad2d1503ac732d6b616e746f2d3030303104a86f72672d303030"
                  "31052a0a050b01140615c404c000020a16cdc93b17c404c6336407181619011abe313a4c51553971"
                  "5a6c4b2b423546334b446d6576366d35504d696272673d1bcf0000011f71fb04cb1da37373682b84"
                  "01b45353482d322e302d6c69627373685f302e392e3602be5353482d322e302d4f70656e5353485f"
                  "392e3270312044656269616e2d3203c410ec7f285189a61a6c4c2f0a8125618d1a04c410b12d2b70"
                  "4c584bcc8c9d043b12656482"},
    {"event-smb", "de00120001010102cf18ea4bd9c3ad2d1503ac732d6b616e746f2d3030303104a86f72672d303030"
                  "31052a0a060b01140615c404c000020a16cdc93b17c4040a33640718cd01bd19031abe313a4c5155"
                  "39715a6c4b2b423546334b446d6576366d35504d696272673d1bcf0000011f71fb04cb1da3736d62"
                  "2c84010302b25c5c46494c4553525630315c41444d494e2403b957696e646f77735c54656d705c70"
                  "736578657376632e6578650400"},
    {"event-krb", "de00120001010102cf18ea4bd9c3ad2d1503ac732d6b616e746f2d3030303104a86f72672d303030"
                  "31052a0a070b01141115c404c000020a16cdc93b17c4040a336407185819031abe313a4c51553971"
                  "5a6c4b2b423546334b446d6576366d35504d696272673d1bcf0000011f71fb04cb1da46b7262352d"
                  "85010d02a5616c69636503af434f52502e4558414d504c452e4a5004d9214d5353514c5376632f64"
                  "62312e636f72702e6578616d706c652e6a703a313433330517"},
    {"event-finding",
     "de00120001010102cf18ea4bd9c3ad2d1503ac732d6b616e746f2d3030303104a86f72672d303030"
     "31052a0a100b040c5a140615c404c000020a16cdc93b17c404c633640718cd01bb19021abe313a4c"
     "515539715a6c4b2b423546334b446d6576366d35504d696272673d1bcf0000011f71fb04cb328901"
     "a6626561636f6e020103050492a954313037312e303031a5543135373305d935706572696f646963"
     "20636f6e6e656374696f6e7320746f2061206b6e6f776e2043322061646472657373206576657279"
     "20363020730683010102ac3139382e35312e3130302e3703ae61627573652d63682d66656f646f07"
     "8901300201030104cd0e1005cdea6006cd035207ce0001800008cf18ea49492738380009cf18ea4b"
     "d9bc51600008110901"},
    {"heartbeat", "8f0001010202cf18ea4bd9bc51600003ac732d6b616e746f2d3030303104a86f72672d3030303105"
                  "290ace000151800bce075bcd150c000dcd08000ecd14000f0310cd0264110012a5302e312e30"},
    {"ack", "850001010302cf18ea4bd9bc60a24003ac732d6b616e746f2d30303031052a"},
    {"warning", "de00130001010402cf18ea4bdae657520004a86f72672d303030370aad772d323032362d30303031"
                "32330b020c020dcf18ec71e9b57a60000e83010302b87570646174652d636865636b2e6578616d70"
                "6c652e6e657403020f05105511051291a65441303031311391a954313037312e3030311485010202"
                "01036004cf18ea48938b98c00005cf18ea4bd9bc5160001583010102d957e38193e381aee5ae9be5"
                "8588e381b8e381aee9809ae4bfa1e38292e981aee696ade38197e38081e9809ae4bfa1e38197e381"
                "9fe7abafe69cabe38292e8aabfe69fbbe38197e381a6e3818fe381a0e38195e38184e3808203d93f"
                "426c6f636b20746869732064657374696e6174696f6e20616e64206578616d696e65207468652068"
                "6f737473207468617420636f6e7461637465642069742e1601170318d92036663165643030326162"
                "35353935383539303134656266303935313532326439"},
    {"watchlist", "860001010502cf18ea4bdb21f21c0004a86f72672d303030370a110b92880101020303b875706461"
                  "74652d636865636b2e6578616d706c652e6e65740405050506a76c61746572616c07cf18ec71e9b5"
                  "7a600008ad772d323032362d303030313233840102020103ac3230332e302e3131332e363606a76c"
                  "61746572616c"},
};

#define S_GOLDEN_COUNT (sizeof s_golden / sizeof s_golden[0])

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

static const s_golden_t *
s_find (const char *name)
{
    for (size_t i = 0; i < S_GOLDEN_COUNT; i++)
        if (strcmp (s_golden[i].name, name) == 0)
            return &s_golden[i];
    cr_assert_fail ("no golden vector named %s", name);
    return NULL;
}

//  Encoding the sample gives exactly the vector; decoding the vector gives back the sample
//  (compared through its JSON rendering, which shows every field on the wire).
static void
s_check (const char *name, const mm_buf_t *encoded, const mm_buf_t *sample_json,
         int (*decode_to_json) (const uint8_t *, size_t, mm_buf_t *, mm_error_t *))
{
    static uint8_t expect[MM_MSG_MAX];
    size_t n = s_unhex (s_find (name)->hex, expect, sizeof expect);
    cr_assert_eq (encoded->len, n, "%s: %zu bytes, golden has %zu", name, encoded->len, n);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq (encoded->data[i], expect[i], "%s: byte %zu is %02x, golden has %02x", name, i,
                      encoded->data[i], expect[i]);
    mm_buf_t json = MM_BUF_INIT;
    mm_error_t err;
    cr_assert_eq (decode_to_json (expect, n, &json, &err), 0, "%s: %s", name, err.reason);
    cr_assert_eq (json.len, sample_json->len, "%s:\n%.*s", name, (int) json.len, json.data);
    cr_assert_arr_eq (json.data, sample_json->data, json.len, "%s decodes differently", name);
    mm_buf_free (&json);
}

Test (golden, events)
{
    static const char *names[MM_SAMPLE_EVENT_KINDS] = {"event-flow", "event-dns",    "event-tls",
                                                       "event-http", "event-ssh",    "event-smb",
                                                       "event-krb",  "event-finding"};
    for (int i = 0; i < MM_SAMPLE_EVENT_KINDS; i++) {
        mm_event_t ev;
        mm_buf_t wire = MM_BUF_INIT, json = MM_BUF_INIT;
        mm_error_t err;
        mm_sample_event (&ev, mm_sample_kinds[i]);
        cr_assert_eq (mm_event_encode (&ev, &wire, &err), 0, "%s", err.reason);
        cr_assert_eq (mm_event_to_json (&ev, &json), 0);
        s_check (names[i], &wire, &json, mm_msg_to_json);
        mm_buf_free (&wire);
        mm_buf_free (&json);
    }
}

Test (golden, control_messages)
{
    mm_buf_t wire = MM_BUF_INIT, json = MM_BUF_INIT;
    mm_error_t err;

    mm_heartbeat_t hb;
    mm_sample_heartbeat (&hb);
    cr_assert_eq (mm_heartbeat_encode (&hb, &wire, &err), 0, "%s", err.reason);
    cr_assert_eq (mm_heartbeat_to_json (&hb, &json), 0);
    s_check ("heartbeat", &wire, &json, mm_msg_to_json);
    mm_buf_clear (&wire);
    mm_buf_clear (&json);

    mm_ack_t ack;
    mm_sample_ack (&ack);
    cr_assert_eq (mm_ack_encode (&ack, &wire, &err), 0, "%s", err.reason);
    cr_assert_eq (mm_ack_to_json (&ack, &json), 0);
    s_check ("ack", &wire, &json, mm_msg_to_json);
    mm_buf_clear (&wire);
    mm_buf_clear (&json);

    mm_warning_t w;
    mm_sample_warning (&w);
    cr_assert_eq (mm_warning_encode (&w, &wire, &err), 0, "%s", err.reason);
    cr_assert_eq (mm_warning_to_json (&w, &json), 0);
    s_check ("warning", &wire, &json, mm_msg_to_json);
    mm_buf_clear (&wire);
    mm_buf_clear (&json);

    mm_watchlist_t *wl = malloc (sizeof *wl);
    cr_assert (wl);
    mm_sample_watchlist (wl);
    cr_assert_eq (mm_watchlist_encode (wl, &wire, &err), 0, "%s", err.reason);
    cr_assert_eq (mm_watchlist_to_json (wl, &json), 0);
    s_check ("watchlist", &wire, &json, mm_msg_to_json);
    free (wl);
    mm_buf_free (&wire);
    mm_buf_free (&json);
}

//  The smallest EVENT, spelled out byte by byte as docs/protocol.md explains it.
Test (golden, minimal_event_by_hand)
{
    static const uint8_t expect[] = {
        0x88,             //  map of 8 entries
        0x00, 0x01,       //  0 v = 1
        0x01, 0x01,       //  1 type = EVENT
        0x02, 0x01,       //  2 ts = 1
        0x03, 0xa1, 's',  //  3 sensor = "s"
        0x04, 0xa1, 'o',  //  4 org = "o"
        0x05, 0x01,       //  5 seq = 1
        0x0a, 0x01,       //  10 kind = flow
        0x0b, 0x00,       //  11 severity = unknown (required, so written even as 0)
    };
    mm_event_t ev;
    memset (&ev, 0, sizeof ev);
    ev.ts = 1;
    ev.sensor = mm_str ("s");
    ev.org = mm_str ("o");
    ev.seq = 1;
    ev.kind = MM_KIND_FLOW;
    mm_buf_t wire = MM_BUF_INIT;
    mm_error_t err;
    cr_assert_eq (mm_event_encode (&ev, &wire, &err), 0, "%s", err.reason);
    cr_assert_eq (wire.len, sizeof expect);
    cr_assert_arr_eq (wire.data, expect, sizeof expect);
    mm_buf_free (&wire);
}
