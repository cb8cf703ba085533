#!/usr/bin/env bash
# Live capture: mimamori-sensor -i on one end of a veth pair between two network namespaces
# this test creates (addresses from TEST-NET-1 exist only inside them), while the other end
# sends known traffic: a DNS query, an HTTP request to a small server, a refused TCP
# connection. The events must show each of them. Needs root (CI runs as root); skipped (77)
# otherwise.
#   live_capture.sh SENSOR
set -euo pipefail
sensor=$1
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null || ! command -v python3 >/dev/null; then
    echo "SKIPPED: needs root, iproute2 and python3 to create network namespaces"
    exit 77
fi
tag=mm$$
# Root is not always enough (a container without CAP_SYS_ADMIN cannot make namespaces).
if ! ip netns add "${tag}probe" 2>/dev/null; then
    echo "SKIPPED: cannot create a network namespace here"
    exit 77
fi
ip netns del "${tag}probe"
ns_sensor=${tag}s
ns_peer=${tag}p
work=$(mktemp -d)
sensor_pid=
server_pid=
cleanup() {
    [ -n "$sensor_pid" ] && kill "$sensor_pid" 2>/dev/null || true
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    ip netns del "$ns_sensor" 2>/dev/null || true
    ip netns del "$ns_peer" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$ns_sensor"
ip netns add "$ns_peer"
ip link add "${tag}a" type veth peer name "${tag}b"
ip link set "${tag}a" netns "$ns_sensor"
ip link set "${tag}b" netns "$ns_peer"
ip -n "$ns_sensor" addr add 192.0.2.1/24 dev "${tag}a"
ip -n "$ns_peer" addr add 192.0.2.2/24 dev "${tag}b"
ip -n "$ns_sensor" link set "${tag}a" up
ip -n "$ns_peer" link set "${tag}b" up
ip -n "$ns_sensor" link set lo up

# The sensor watches its side; a web server answers on 8080 there.
ip netns exec "$ns_sensor" "$sensor" -i "${tag}a" --home-net 192.0.2.0/24 --stats-interval 1 \
    --jsonl "$work/events.jsonl" 2>"$work/sensor.err" &
sensor_pid=$!
ip netns exec "$ns_sensor" python3 -m http.server 8080 --bind 192.0.2.1 --directory "$work" \
    >/dev/null 2>&1 &
server_pid=$!
sleep 1.5   # capture and server up

# A DNS query for www.example.com (type A), hand-made: id 0x1234, RD, one question.
ip netns exec "$ns_peer" bash -c \
    "printf '\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07example\x03com\x00\x00\x01\x00\x01' >/dev/udp/192.0.2.1/53" || true
# An HTTP request with a known host, path and user agent.
ip netns exec "$ns_peer" python3 - <<'PY'
import socket
s = socket.create_connection(("192.0.2.1", 8080), timeout=5)
s.sendall(b"GET /mimamori-live-test HTTP/1.1\r\nHost: live.test\r\nUser-Agent: mm-live/1\r\nConnection: close\r\n\r\n")
while s.recv(4096):
    pass
s.close()
PY
# A connection to a closed port: the sensor side answers with a RST.
ip netns exec "$ns_peer" bash -c 'exec 3<>/dev/tcp/192.0.2.1/9' 2>/dev/null || true
sleep 1
kill -INT "$sensor_pid"
wait "$sensor_pid" || { echo "sensor exited with $?"; cat "$work/sensor.err"; exit 1; }
sensor_pid=

fail=0
check() {
    if grep -q "$2" "$work/events.jsonl"; then
        echo "ok: $1"
    else
        echo "MISSING: $1 ($2)"
        fail=1
    fi
}
check "DNS query seen" '"event_type":"dns".*"rrname":"www.example.com"'
check "HTTP request seen" '"event_type":"http".*"hostname":"live.test","url":"/mimamori-live-test","http_user_agent":"mm-live/1"'
check "HTTP response status" '"event_type":"http".*"status":404'
check "refused connection is a REJ flow" '"dest_port":9,.*"conn_state":"REJ"'
check "direction from home_net" '"direction":"internal"'
# One summary a second while running (health in the journal), and one at the end.
if [ "$(grep -c 'capture drops' "$work/sensor.err")" -ge 2 ]; then
    echo "ok: periodic summaries with capture drops"
else
    echo "MISSING: periodic capture drop reports"
    fail=1
fi
if [ $fail -ne 0 ]; then
    echo "--- events"; cat "$work/events.jsonl"; echo "--- sensor stderr"; cat "$work/sensor.err"
    exit 1
fi
echo "live capture: ok ($(wc -l <"$work/events.jsonl") events)"
