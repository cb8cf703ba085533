/*  make_bench_pcap: builds the captures the sensor benchmark reads (never committed).
      make_bench_pcap mix OUT MIN_PACKETS IN...   the Ethernet captures IN, replicated with
                                                  shifted addresses and times until OUT holds
                                                  at least MIN_PACKETS packets
      make_bench_pcap flows OUT N                 N concurrent TCP connections: all handshakes,
                                                  then a request each, then all the closes
    Replica r of an input adds r to the third byte pair of every IPv4 address (and the last
    bytes of IPv6 ones), so its flows are new flows, not repeats of the first copy's. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_shift_addresses (uint8_t *p, uint32_t len, unsigned replica)
{
    if (len < 14)
        return;
    size_t off = 12;
    uint16_t type = (uint16_t) (p[off] << 8 | p[off + 1]);
    while ((type == 0x8100 || type == 0x88a8) && off + 6 <= len) {
        off += 4;
        type = (uint16_t) (p[off] << 8 | p[off + 1]);
    }
    off += 2;
    if (type == 0x0800 && off + 20 <= len) {
        for (int a = 0; a < 2; a++) {
            uint8_t *ip = p + off + 12 + 4 * a;
            unsigned v = (unsigned) (ip[1] << 8 | ip[2]) + replica;
            ip[1] = (uint8_t) (v >> 8);
            ip[2] = (uint8_t) v;
        }
    }
    else if (type == 0x86dd && off + 40 <= len) {
        for (int a = 0; a < 2; a++) {
            uint8_t *ip = p + off + 8 + 16 * a;
            unsigned v = (unsigned) (ip[12] << 8 | ip[13]) + replica;
            ip[12] = (uint8_t) (v >> 8);
            ip[13] = (uint8_t) v;
        }
    }
}

static int
s_mix (const char *out_path, long min_packets, char **inputs, int n_inputs)
{
    pcap_t *dead = pcap_open_dead (DLT_EN10MB, 262144);
    pcap_dumper_t *out = pcap_dump_open (dead, out_path);
    if (!out) {
        fprintf (stderr, "%s: %s\n", out_path, pcap_geterr (dead));
        return 1;
    }
    long written = 0;
    uint8_t *copy = malloc (262144);
    double t = 1700000000.0;  //  output time, seconds
    for (unsigned replica = 0; written < min_packets && replica < 60000; replica++) {
        long before = written;
        for (int i = 0; i < n_inputs && written < min_packets; i++) {
            char err[PCAP_ERRBUF_SIZE];
            pcap_t *in = pcap_open_offline (inputs[i], err);
            if (!in)
                continue;
            if (pcap_datalink (in) != DLT_EN10MB) {
                pcap_close (in);
                continue;
            }
            struct pcap_pkthdr *h;
            const u_char *d;
            double first = -1;
            while (pcap_next_ex (in, &h, &d) == 1 && written < min_packets) {
                if (h->caplen > 262144)
                    continue;
                double ts = (double) h->ts.tv_sec + (double) h->ts.tv_usec / 1e6;
                if (first < 0)
                    first = ts;
                double rel = ts - first;
                //  Inputs follow each other; gaps inside one are kept but capped at 10 s.
                double when = t + (rel < 0 ? 0 : rel > 10 ? 10 : rel);
                struct pcap_pkthdr oh = *h;
                oh.ts.tv_sec = (time_t) when;
                oh.ts.tv_usec = (suseconds_t) ((when - (double) oh.ts.tv_sec) * 1e6);
                memcpy (copy, d, h->caplen);
                s_shift_addresses (copy, h->caplen, replica);
                pcap_dump ((u_char *) out, &oh, copy);
                written++;
            }
            pcap_close (in);
            t += 10.5;
        }
        if (written == before) {
            fprintf (stderr, "no Ethernet packets in the inputs\n");
            break;
        }
    }
    free (copy);
    pcap_dump_close (out);
    pcap_close (dead);
    printf ("%s: %ld packets\n", out_path, written);
    return written >= min_packets ? 0 : 1;
}

//  Ethernet + IPv4 + TCP with an optional payload; checksums left zero (nobody checks them).
static void
s_tcp (pcap_dumper_t *out, double when, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
       uint8_t flags, uint32_t seq, uint32_t ack, const char *payload)
{
    uint8_t p[128] = {0};
    size_t plen = payload ? strlen (payload) : 0;
    memcpy (p, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00", 14);
    uint8_t *ip = p + 14, *tcp = ip + 20;
    uint16_t total = (uint16_t) (20 + 20 + plen);
    ip[0] = 0x45;
    ip[2] = (uint8_t) (total >> 8);
    ip[3] = (uint8_t) total;
    ip[8] = 64;
    ip[9] = 6;
    for (int i = 0; i < 4; i++) {
        ip[12 + i] = (uint8_t) (src >> (24 - 8 * i));
        ip[16 + i] = (uint8_t) (dst >> (24 - 8 * i));
    }
    tcp[0] = (uint8_t) (sport >> 8), tcp[1] = (uint8_t) sport;
    tcp[2] = (uint8_t) (dport >> 8), tcp[3] = (uint8_t) dport;
    for (int i = 0; i < 4; i++) {
        tcp[4 + i] = (uint8_t) (seq >> (24 - 8 * i));
        tcp[8 + i] = (uint8_t) (ack >> (24 - 8 * i));
    }
    tcp[12] = 0x50;
    tcp[13] = flags;
    tcp[14] = 0xff;
    memcpy (tcp + 20, payload ? payload : "", plen);
    struct pcap_pkthdr h;
    h.ts.tv_sec = (time_t) when;
    h.ts.tv_usec = (suseconds_t) ((when - (double) h.ts.tv_sec) * 1e6);
    h.caplen = h.len = (uint32_t) (14 + total);
    pcap_dump ((u_char *) out, &h, p);
}

static int
s_flows (const char *out_path, long n)
{
    pcap_t *dead = pcap_open_dead (DLT_EN10MB, 65535);
    pcap_dumper_t *out = pcap_dump_open (dead, out_path);
    if (!out) {
        fprintf (stderr, "%s: %s\n", out_path, pcap_geterr (dead));
        return 1;
    }
    //  Clients 10.1.x.y:1024.. to servers 10.2.x.y:80; everything within 20 s, so every
    //  connection is open at once under the default timeouts.
    const char *req = "GET / HTTP/1.1\r\nHost: bench.test\r\n\r\n";
    double t = 1700000000.0, step = 5.0 / (double) n;
    for (int phase = 0; phase < 4; phase++)
        for (long i = 0; i < n; i++, t += step) {
            uint32_t c = 0x0a010000u + (uint32_t) (i / 60000) * 256u + (uint32_t) (i % 250);
            uint32_t s = 0x0a020000u + (uint32_t) (i % 60000);
            uint16_t cp = (uint16_t) (1024 + i % 60000);
            switch (phase) {
            case 0: s_tcp (out, t, c, s, cp, 80, 0x02, 1000, 0, NULL); break;
            case 1: s_tcp (out, t, s, c, 80, cp, 0x12, 5000, 1001, NULL); break;
            case 2: s_tcp (out, t, c, s, cp, 80, 0x18, 1001, 5001, req); break;
            default: s_tcp (out, t, c, s, cp, 80, 0x11, 1001 + (uint32_t) strlen (req), 5001, NULL);
            }
        }
    pcap_dump_close (out);
    pcap_close (dead);
    printf ("%s: %ld connections, %ld packets\n", out_path, n, 4 * n);
    return 0;
}

int
main (int argc, char **argv)
{
    char *end;
    if (argc >= 5 && strcmp (argv[1], "mix") == 0) {
        errno = 0;
        long n = strtol (argv[3], &end, 10);
        if (!errno && *end == 0 && n > 0)
            return s_mix (argv[2], n, argv + 4, argc - 4);
    }
    if (argc == 4 && strcmp (argv[1], "flows") == 0) {
        errno = 0;
        long n = strtol (argv[3], &end, 10);
        if (!errno && *end == 0 && n > 0 && n <= 15000000)
            return s_flows (argv[2], n);
    }
    fprintf (stderr, "usage: make_bench_pcap mix OUT MIN_PACKETS IN... | flows OUT N\n");
    return 2;
}
