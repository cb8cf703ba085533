#!/usr/bin/env bash
# The defence end to end: inside a network namespace this test creates, the nftables table
# the operator would create (docs/detection.md, "Defence"), then mimamori-sensor with [block]
# on, reading PsExec (suricata-verify smb2-07) rewritten so that the attacker is an outside
# address from TEST-NET-3 and the target one of ours in TEST-NET-1. The lateral-movement
# chain is a high finding, so the attacker must be in the set with a timeout, the
# sensor's output must say so with a "defence.block" finding, action "block", and traffic to
# the attacker must then be dropped. Needs root,
# iproute2, nftables and python3 (CI runs as root); skipped (77) otherwise.
#   block_netns.sh SENSOR DATA_DIR
set -euo pipefail
sensor=$1
data=$2
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null || ! command -v nft >/dev/null ||
    ! command -v python3 >/dev/null; then
    echo "SKIPPED: needs root, iproute2, nftables and python3"
    exit 77
fi
tag=mmb$$
ns=${tag}n
work=$(mktemp -d)
cleanup() {
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
# Root is not always enough (a container without CAP_SYS_ADMIN cannot make namespaces, one
# without nf_tables cannot filter).
if ! ip netns add "$ns" 2>/dev/null; then
    echo "SKIPPED: cannot create a network namespace here"
    exit 77
fi
ip -n "$ns" link set lo up

# The operator's table: two sets with timeouts, and chains that drop traffic from and to them.
if ! ip netns exec "$ns" nft -f - <<'EOF'
table inet mimamori {
    set block4 { type ipv4_addr; flags timeout; }
    set block6 { type ipv6_addr; flags timeout; }
    chain input {
        type filter hook input priority filter - 10; policy accept;
        ip saddr @block4 drop
        ip6 saddr @block6 drop
    }
    chain forward {
        type filter hook forward priority filter - 10; policy accept;
        ip saddr @block4 drop
        ip daddr @block4 drop
        ip6 saddr @block6 drop
        ip6 daddr @block6 drop
    }
    chain output {
        type filter hook output priority filter - 10; policy accept;
        ip daddr @block4 drop
        ip6 daddr @block6 drop
    }
}
EOF
then
    echo "SKIPPED: nftables does not work in a network namespace here"
    exit 77
fi

# PsExec with documentation addresses: 192.168.10.31 (the attacker) -> 203.0.113.31,
# every other 192.168.10.N -> 192.0.2.N. IPv4 header checksums are recomputed; TCP/UDP
# checksums are not (the sensor does not check them).
python3 - "$data/pcap/sv-smb2-07-psexec.pcap" "$work/psexec-doc.pcap" <<'PY'
import struct, sys
src, dst = sys.argv[1], sys.argv[2]
def mapped(a):
    if a[:3] != bytes([192, 168, 10]):
        return a
    return bytes([203, 0, 113, 31]) if a[3] == 31 else bytes([192, 0, 2, a[3]])
def checksum(h):
    s = sum(struct.unpack("!%dH" % (len(h) // 2), h))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
data = open(src, "rb").read()
magic = data[:4]
assert magic == b"\xd4\xc3\xb2\xa1", "little-endian microsecond pcap expected"
assert struct.unpack("<I", data[20:24])[0] == 1, "Ethernet expected"
out = bytearray(data[:24])
off = 24
while off + 16 <= len(data):
    ts_s, ts_u, incl, orig = struct.unpack("<IIII", data[off:off + 16])
    pkt = bytearray(data[off + 16:off + 16 + incl])
    off += 16 + incl
    if len(pkt) >= 34 and pkt[12:14] == b"\x08\x00":
        ihl = (pkt[14] & 0x0f) * 4
        pkt[26:30] = mapped(bytes(pkt[26:30]))
        pkt[30:34] = mapped(bytes(pkt[30:34]))
        pkt[24:26] = b"\x00\x00"
        pkt[24:26] = struct.pack("!H", checksum(bytes(pkt[14:14 + ihl])))
    out += struct.pack("<IIII", ts_s, ts_u, len(pkt), orig) + pkt
open(dst, "wb").write(out)
PY

cat >"$work/sensor.ini" <<EOF
[sensor]
home_net = 192.0.2.0/24
[block]
enabled = true
table = inet mimamori
set4 = block4
set6 = block6
timeout = 600
min_severity = 4
EOF

ip netns exec "$ns" "$sensor" -q -c "$work/sensor.ini" --jsonl "$work/events.jsonl" \
    -r "$work/psexec-doc.pcap" 2>"$work/sensor.err" ||
    { echo "sensor exited with $?"; cat "$work/sensor.err"; exit 1; }
ip netns exec "$ns" nft list set inet mimamori block4 >"$work/set4.txt"
ip netns exec "$ns" nft list set inet mimamori block6 >"$work/set6.txt"

fail=0
check() {  # check NAME FILE PATTERN
    if grep -Eq "$3" "$2"; then
        echo "ok: $1"
    else
        echo "MISSING: $1 ($3)"
        fail=1
    fi
}
check "the attacker is in block4 with a timeout" "$work/set4.txt" \
    'elements = \{ 203\.0\.113\.31 timeout 10m expires '
check "lateral movement found, high" "$work/events.jsonl" \
    '"severity":"high".*"src_ip":"203\.0\.113\.31","dest_ip":"192\.0\.2\.10".*"detector":"lateral\.'
check "defence.block finding with action block" "$work/events.jsonl" \
    '"src_ip":"203\.0\.113\.31".*"detector":"defence\.block".*"action":"block"'
# Exactly one block (the later findings about the same address find it blocked), nothing of
# ours blocked, no failure said.
n=$(grep -c '"detector":"defence\.block"' "$work/events.jsonl" || true)
if [ "$n" -eq 1 ]; then echo "ok: one block"; else echo "WRONG: $n defence.block findings"; fail=1; fi
if grep -q '192\.0\.2\.' "$work/set4.txt" || grep -q 'elements' "$work/set6.txt"; then
    echo "WRONG: an address of ours (or an IPv6 one) was blocked"
    fail=1
fi
if grep -q 'block:' "$work/sensor.err"; then
    echo "WRONG: the sensor reported a blocking failure"
    fail=1
fi
# The block works on traffic, not only in the set: in the namespace, a TCP connection to the
# blocked address is dropped (its SYN never leaves), one to a neighbour address is not.
ip -n "$ns" addr add 203.0.113.31/32 dev lo
ip -n "$ns" addr add 203.0.113.32/32 dev lo
if ip netns exec "$ns" python3 - <<'PY'
import socket, sys
srv = socket.socket()
srv.bind(("0.0.0.0", 4445))
srv.listen(4)
def reaches(addr):
    c = socket.socket()
    c.settimeout(1.5)
    try:
        c.connect((addr, 4445))
        return True
    except OSError:
        return False
    finally:
        c.close()
ok = reaches("203.0.113.32") and not reaches("203.0.113.31")
print("ok: traffic to the blocked address is dropped, its neighbour's is not" if ok else
      "WRONG: the block does not drop traffic as the set says")
sys.exit(0 if ok else 1)
PY
then :; else fail=1; fi
if [ $fail -ne 0 ]; then
    echo "--- findings"; grep '"alert"' "$work/events.jsonl" || true
    echo "--- sets"; cat "$work/set4.txt" "$work/set6.txt"
    echo "--- sensor stderr"; cat "$work/sensor.err"
    exit 1
fi
echo "block in a network namespace: ok"
