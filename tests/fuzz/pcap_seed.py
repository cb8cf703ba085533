#!/usr/bin/env python3
# pcap_seed: turns the first frames of a classic pcap file into a fuzz_packet seed (byte 0 picks
# the link type, then each frame as a 2-byte big-endian length and its bytes; at most 64 KiB in
# all, libFuzzer's -max_len in ops/fuzz). Seeds cut from real captures take the fuzzer straight
# into the parsers behind a handshake (FTP replies, mail logins, HTTP Basic headers, MySQL
# auth) that random bytes rarely reach.
# Usage: pcap_seed.py CAPTURE.pcap OUT.bin [MAX_FRAMES]
import struct
import sys

LINKS = [1, 113, 276, 101, 228, 229, 0, 108, 9, 104, 12, 105]  # fuzz_packet.c s_links order
LIMIT = 65536


def main():
    src, out = sys.argv[1], sys.argv[2]
    max_frames = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    data = open(src, "rb").read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        sys.exit("pcap_seed: %s is not a classic pcap file" % src)
    link = struct.unpack(endian + "I", data[20:24])[0] & 0xffff
    if link not in LINKS:
        sys.exit("pcap_seed: link type %d is not one fuzz_packet picks" % link)
    seed = bytearray([LINKS.index(link)])
    off, frames = 24, 0
    while off + 16 <= len(data) and frames < max_frames:
        caplen = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        frame = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        if len(frame) > 0xffff or len(seed) + 2 + len(frame) > LIMIT:
            break
        seed += struct.pack(">H", len(frame)) + frame
        frames += 1
    open(out, "wb").write(seed)
    print("%s: %d frames, %d bytes" % (out, frames, len(seed)))


if __name__ == "__main__":
    main()
