#!/usr/bin/env python3
# Writes the small synthetic captures of tests/data/pcap/gen-*.pcap that the detector ground
# truth (tests/data/detect/beacon.json, dnst.json) uses where no public capture shows the case:
# a jittered beacon, human-like browsing (must not look like one), a DGA's NXDOMAIN burst and
# an iodine-like DNS tunnel (NULL queries). Deterministic (fixed seeds): running it again gives
# the same bytes. Standard library only.
# Usage: gen_detect_pcaps.py [OUT_DIR]   (default: tests/data/pcap beside this script's tree)

import base64
import os
import random
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.normpath(os.path.join(HERE, "..", "data", "pcap"))
T0 = 1700000000.0  # 2023-11-14T22:13:20Z
MAC_HOST = bytes.fromhex("020000000001")
MAC_GW = bytes.fromhex("020000000002")


def ip4(text):
    return bytes(int(x) for x in text.split("."))


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


class Pcap:
    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))

    def frame(self, ts, src, dst, proto, l4, out):
        ident = random.getrandbits(16)
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), ident, 0x4000, 64, proto, 0,
                          ip4(src), ip4(dst))
        hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
        eth = (MAC_GW + MAC_HOST if out else MAC_HOST + MAC_GW) + b"\x08\x00"
        pkt = eth + hdr + l4
        sec = int(ts)
        usec = int(round((ts - sec) * 1e6))
        if usec >= 1000000:
            sec, usec = sec + 1, usec - 1000000
        self.f.write(struct.pack("<IIII", sec, usec, len(pkt), len(pkt)) + pkt)

    def close(self):
        self.f.close()


def pseudo(src, dst, proto, length):
    return ip4(src) + ip4(dst) + struct.pack("!BBH", 0, proto, length)


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b""):
    h = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4,
                    flags, 64240, 0, 0)
    c = csum(pseudo(src, dst, 6, len(h) + len(payload)) + h + payload)
    return h[:16] + struct.pack("!H", c) + h[18:] + payload


def udp(src, dst, sport, dport, payload):
    h = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    c = csum(pseudo(src, dst, 17, len(h) + len(payload)) + h + payload) or 0xFFFF
    return h[:6] + struct.pack("!H", c) + payload


SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01


def http_connection(pc, t, host, srv, sport, name, uri, rtt=0.030):
    """One short HTTP/1.1 exchange: handshake, GET, 200 with a small body, close."""
    a, b = random.getrandbits(32), random.getrandbits(32)
    req = ("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: Mozilla/5.0\r\nAccept: */*\r\n\r\n"
           % (uri, name)).encode()
    body = b"{\"task\":\"none\"}"
    resp = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % len(body)) + body
    pc.frame(t, host, srv, 6, tcp(host, srv, sport, 80, a, 0, SYN), True)
    pc.frame(t + rtt, srv, host, 6, tcp(srv, host, 80, sport, b, a + 1, SYN | ACK), False)
    pc.frame(t + rtt + 0.0001, host, srv, 6, tcp(host, srv, sport, 80, a + 1, b + 1, ACK), True)
    pc.frame(t + rtt + 0.0002, host, srv, 6,
             tcp(host, srv, sport, 80, a + 1, b + 1, PSH | ACK, req), True)
    t2 = t + 2 * rtt + 0.001
    pc.frame(t2, srv, host, 6, tcp(srv, host, 80, sport, b + 1, a + 1 + len(req), PSH | ACK, resp),
             False)
    pc.frame(t2 + 0.0001, host, srv, 6,
             tcp(host, srv, sport, 80, a + 1 + len(req), b + 1 + len(resp), FIN | ACK), True)
    pc.frame(t2 + rtt, srv, host, 6,
             tcp(srv, host, 80, sport, b + 1 + len(resp), a + 2 + len(req), FIN | ACK), False)
    pc.frame(t2 + rtt + 0.0001, host, srv, 6,
             tcp(host, srv, sport, 80, a + 2 + len(req), b + 2 + len(resp), ACK), True)


def gen_beacon_jitter(path):
    """192.168.10.5 polls updates.example-c2.net every 2-3 s (uniform jitter), the name
    resolving to two addresses in turn (CDN-like): one finding, keyed by the name."""
    random.seed(20240501)
    pc = Pcap(path)
    host, servers = "192.168.10.5", ["198.51.100.10", "198.51.100.11"]
    t = T0
    for i in range(80):
        http_connection(pc, t, host, servers[i % 2], 40000 + i, "updates.example-c2.net",
                        "/api/v1/poll?id=7f3a")
        t += random.uniform(2.0, 3.0)
    pc.close()


def gen_browse_human(path):
    """192.168.10.8 reads a news site: page loads at random moments (reading times from a
    few seconds to minutes), each opening 1-6 connections within a second. No beacon."""
    random.seed(20240502)
    pc = Pcap(path)
    host, srv = "192.168.10.8", "203.0.113.20"
    t, port, n = T0, 41000, 0
    while n < 120:
        for _ in range(random.randint(1, 6)):
            http_connection(pc, t + random.uniform(0, 0.8), host, srv, port, "news.example.org",
                            "/article/%d" % random.randint(1, 99999))
            port += 1
            n += 1
        t += random.lognormvariate(3.0, 1.0)  # median ~20 s, long tail
    pc.close()


def dns_name(name):
    out = b""
    for label in name.split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def dns_query(qid, name, qtype):
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + dns_name(name) + struct.pack(
        "!HH", qtype, 1)


def dns_reply(qid, name, qtype, rcode, answer=None):
    q = dns_name(name) + struct.pack("!HH", qtype, 1)
    an = b""
    if answer is not None:
        an = b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, 0, len(answer)) + answer
    return struct.pack("!HHHHHH", qid, 0x8180 | rcode, 1, 1 if an else 0, 0, 0) + q + an


def gen_dga_nxdomain(path):
    """192.168.10.6 tries 80 generated domains in a minute; the resolver answers NXDOMAIN to
    each (a DGA looking for its live controller)."""
    random.seed(20240503)
    pc = Pcap(path)
    host, res = "192.168.10.6", "8.8.8.8"
    t = T0
    for i in range(80):
        label = "".join(random.choice("abcdefghijklmnopqrstuvwxyz")
                        for _ in range(random.randint(10, 16)))
        name = label + random.choice([".com", ".net", ".info", ".biz"])
        qid, sport = random.getrandbits(16), 50000 + i
        pc.frame(t, host, res, 17, udp(host, res, sport, 53, dns_query(qid, name, 1)), True)
        pc.frame(t + 0.020, res, host, 17, udp(res, host, 53, sport, dns_reply(qid, name, 1, 3)),
                 False)
        t += random.uniform(0.3, 1.2)
    pc.close()


def gen_dns_tunnel_null(path):
    """192.168.10.7 moves data through NULL queries under t.example-tun.org, as iodine does:
    base32 payload in labels of up to 57 characters, every name unique."""
    random.seed(20240504)
    pc = Pcap(path)
    host, res = "192.168.10.7", "192.168.10.1"
    t = T0
    for i in range(150):
        raw = bytes(random.getrandbits(8) for _ in range(60))
        data = base64.b32encode(raw).decode().rstrip("=").lower()
        labels = [data[k:k + 57] for k in range(0, len(data), 57)]
        name = "p" + ".".join(labels) + ".t.example-tun.org"
        qid, sport = random.getrandbits(16), 53000 + (i % 4)
        pc.frame(t, host, res, 17, udp(host, res, sport, 53, dns_query(qid, name, 10)), True)
        back = bytes(random.getrandbits(8) for _ in range(100))
        pc.frame(t + 0.040, res, host, 17,
                 udp(res, host, 53, sport, dns_reply(qid, name, 10, 0, back)), False)
        t += random.uniform(0.05, 0.5)
    pc.close()


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    os.makedirs(out, exist_ok=True)
    gen_beacon_jitter(os.path.join(out, "gen-beacon-jitter.pcap"))
    gen_browse_human(os.path.join(out, "gen-browse-human.pcap"))
    gen_dga_nxdomain(os.path.join(out, "gen-dga-nxdomain.pcap"))
    gen_dns_tunnel_null(os.path.join(out, "gen-dns-tunnel-null.pcap"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
