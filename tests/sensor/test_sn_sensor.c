/*  sn_sensor: the packet path end to end on hand-built TCP segments, where framing matters:
    DNS over TCP must follow message boundaries across segments, and a message's tail must never
    be taken for a message (that would let traffic inject DNS events it never sent). */
#include <criterion/criterion.h>
#include <string.h>

#include "sn_sensor.h"

typedef struct {
    int dns;
    char names[8][64];
} s_seen_t;

static void
s_on_event (void *arg, const mm_event_t *ev)
{
    s_seen_t *seen = arg;
    if (ev->kind != MM_KIND_DNS)
        return;
    if (seen->dns < 8)
        snprintf (seen->names[seen->dns], sizeof seen->names[0], "%.*s", (int) ev->dns.qname.len,
                  ev->dns.qname.ptr);
    seen->dns++;
}

//  A DNS query for `name` (type A), without the TCP length prefix; returns its length.
static size_t
s_query (uint8_t *out, const char *name)
{
    size_t n = 0;
    memcpy (out, "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12);
    n = 12;
    const char *label = name;
    while (*label) {
        const char *dot = strchr (label, '.');
        size_t len = dot ? (size_t) (dot - label) : strlen (label);
        out[n++] = (uint8_t) len;
        memcpy (out + n, label, len);
        n += len;
        label += len + (dot ? 1 : 0);
    }
    memcpy (out + n, "\x00\x00\x01\x00\x01", 5);
    return n + 5;
}

//  One Ethernet/IPv4/TCP frame from client 192.0.2.1:cport to 192.0.2.53:sport (or back).
static size_t
s_frame_ports (uint8_t *f, uint16_t cport, uint16_t sport, bool to_server, uint8_t flags,
               uint32_t seq, const uint8_t *data, size_t n)
{
    memset (f, 0, 54);
    memcpy (f + 12, "\x08\x00", 2);
    uint8_t *ip = f + 14, *tcp = ip + 20;
    size_t total = 40 + n;
    ip[0] = 0x45;
    ip[2] = (uint8_t) (total >> 8);
    ip[3] = (uint8_t) total;
    ip[9] = 6;
    memcpy (ip + (to_server ? 12 : 16), "\xc0\x00\x02\x01", 4);
    memcpy (ip + (to_server ? 16 : 12), "\xc0\x00\x02\x35", 4);
    uint16_t sp = to_server ? cport : sport, dp = to_server ? sport : cport;
    tcp[0] = (uint8_t) (sp >> 8), tcp[1] = (uint8_t) sp;
    tcp[2] = (uint8_t) (dp >> 8), tcp[3] = (uint8_t) dp;
    tcp[4] = (uint8_t) (seq >> 24), tcp[5] = (uint8_t) (seq >> 16);
    tcp[6] = (uint8_t) (seq >> 8), tcp[7] = (uint8_t) seq;
    tcp[12] = 0x50;
    tcp[13] = flags;
    if (n)  //  memcpy from NULL is undefined even for 0 bytes
        memcpy (tcp + 20, data, n);
    return 54 + n;
}

//  The DNS connection of the framing test: 192.0.2.1:40000 to port 53.
static size_t
s_frame (uint8_t *f, bool to_server, uint8_t flags, uint32_t seq, const uint8_t *data, size_t n)
{
    return s_frame_ports (f, 40000, 53, to_server, flags, seq, data, n);
}

//  Parsers are capped in number: five unfinished TLS handshakes with room for two leave three
//  flows unparsed (counted); when flows end their slots come back.
Test (sn_sensor, parsers_are_capped_in_number)
{
    char err[256];
    sn_config_t cfg;
    cr_assert_eq (sn_config_defaults (&cfg, err, sizeof err), 0, "%s", err);
    cfg.max_parsers = 2;
    sn_sensor_t *sensor = sn_sensor_new (&cfg, NULL, NULL);
    cr_assert (sensor);
    uint8_t frame[256];
    //  The start of a ClientHello record that never completes.
    static const uint8_t hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03};
    uint64_t ts = 1700000000000000000ULL;
    for (int round = 0; round < 2; round++) {
        for (uint16_t i = 0; i < 5; i++) {
            uint16_t cport = (uint16_t) (41000 + round * 100 + i);
            sn_sensor_packet (sensor, 1, frame,
                              (uint32_t) s_frame_ports (frame, cport, 443, true, 0x02, 1, NULL, 0),
                              ts);
            sn_sensor_packet (
                sensor, 1, frame,
                (uint32_t) s_frame_ports (frame, cport, 443, true, 0x18, 2, hello, sizeof hello),
                ts);
        }
        cr_assert_eq (sn_sensor_stats (sensor)->parsers_refused, 3u * (unsigned) (round + 1),
                      "round %d", round);
        sn_sensor_flush (sensor);  //  every flow ends: the two slots come back
    }
    sn_sensor_destroy (&sensor);
}

Test (sn_sensor, dns_over_tcp_follows_message_boundaries)
{
    char err[256];
    sn_config_t cfg;
    cr_assert_eq (sn_config_defaults (&cfg, err, sizeof err), 0, "%s", err);
    s_seen_t seen = {0};
    sn_sensor_t *sensor = sn_sensor_new (&cfg, s_on_event, &seen);
    cr_assert (sensor);
    uint8_t frame[2048], stream[1024];
    uint64_t ts = 1700000000000000000ULL;
    uint32_t seq = 1000;
    sn_sensor_packet (sensor, 1, frame, (uint32_t) s_frame (frame, true, 0x02, seq++, NULL, 0), ts);
    sn_sensor_packet (sensor, 1, frame, (uint32_t) s_frame (frame, false, 0x12, 5000, NULL, 0), ts);

    //  1. A length prefix in a segment of its own, then its message: one query.
    size_t q1 = s_query (stream + 2, "first.example.jp");
    stream[0] = (uint8_t) (q1 >> 8), stream[1] = (uint8_t) q1;
    sn_sensor_packet (sensor, 1, frame, (uint32_t) s_frame (frame, true, 0x18, seq, stream, 2), ts);
    seq += 2;
    sn_sensor_packet (sensor, 1, frame, (uint32_t) s_frame (frame, true, 0x18, seq, stream + 2, q1),
                      ts);
    seq += (uint32_t) q1;

    //  2. A message split across segments, whose second half is itself shaped like a whole
    //  length-prefixed DNS query for bogus.evil.test: the split message is skipped, and its
    //  tail must not come out as an event.
    uint8_t inner[256];
    size_t qi = s_query (inner + 2, "bogus.evil.test");
    inner[0] = (uint8_t) (qi >> 8), inner[1] = (uint8_t) qi;
    size_t head = 40, msg = head + qi + 2;
    stream[0] = (uint8_t) (msg >> 8), stream[1] = (uint8_t) msg;
    memset (stream + 2, 0x41, head);
    memcpy (stream + 2 + head, inner, qi + 2);
    sn_sensor_packet (sensor, 1, frame,
                      (uint32_t) s_frame (frame, true, 0x18, seq, stream, 2 + head), ts);
    seq += (uint32_t) (2 + head);
    sn_sensor_packet (sensor, 1, frame,
                      (uint32_t) s_frame (frame, true, 0x18, seq, stream + 2 + head, qi + 2), ts);
    seq += (uint32_t) (qi + 2);

    //  3. Two whole messages in one segment: two queries.
    size_t q2 = s_query (stream + 2, "second.example.jp");
    stream[0] = (uint8_t) (q2 >> 8), stream[1] = (uint8_t) q2;
    size_t q3 = s_query (stream + 4 + q2, "third.example.jp");
    stream[2 + q2] = (uint8_t) (q3 >> 8), stream[3 + q2] = (uint8_t) q3;
    sn_sensor_packet (sensor, 1, frame,
                      (uint32_t) s_frame (frame, true, 0x18, seq, stream, 4 + q2 + q3), ts);

    cr_assert_eq (seen.dns, 3, "%d DNS events", seen.dns);
    cr_assert_str_eq (seen.names[0], "first.example.jp");
    cr_assert_str_eq (seen.names[1], "second.example.jp");
    cr_assert_str_eq (seen.names[2], "third.example.jp");
    cr_assert_eq (sn_sensor_stats (sensor)->dns_tcp_split, 1);
    sn_sensor_destroy (&sensor);
}
