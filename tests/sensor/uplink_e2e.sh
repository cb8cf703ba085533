#!/usr/bin/env bash
# mimamori-sensor with [uplink] enabled against the real mimamori-broker over loopback CURVE:
# every event of a capture acknowledged and stored once; a second run on the same spool
# continues the seqs (stored as new events, no duplicates); the broker killed with -9 in the
# middle of a third run and restarted on the same store: every event stored exactly once (fault
# test 3/1 in small). Also: a missing certificate is named by its setting, a bad fsync refused.
# Usage: uplink_e2e.sh SENSOR BROKER KEYGEN SIM PCAPDIR (SIM: bk_sim_sensor, to count the store)
set -euo pipefail
sensor=$1 broker=$2 keygen=$3 sim=$4 pcaps=$5
dir=$(mktemp -d /tmp/mm-uplink-e2e-XXXXXX)
pid='' spid=''
cleanup() {
    for p in $spid $pid; do kill -KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$dir"
}
trap cleanup EXIT
fail() {
    echo "uplink_e2e.sh: $*" >&2
    for f in broker.log sensor.log; do
        [ -f "$dir/$f" ] && { echo "--- $f" >&2; tail -20 "$dir/$f" >&2; }
    done
    exit 1
}
sanitizer_check() {
    if grep -qE 'Sanitizer|runtime error:' "$1"; then cat "$1" >&2; fail "sanitizer report in $1"; fi
}

"$keygen" --role broker --id b-kanto --region kanto --out "$dir/keys" >/dev/null
"$keygen" --role sensor --id s-1 --org org-1 --region kanto --out "$dir/keys" >/dev/null
mkdir "$dir/allow"
cp "$dir/keys/s-1.cert" "$dir/allow/"

write_broker_config() {
    cat >"$dir/broker.ini" <<INI
[broker]
id = b-kanto
[sensors]
bind = $1
cert_dir = $dir/allow
[keys]
cert_secret = $dir/keys/b-kanto.cert_secret
[store]
path = $dir/store
max_mb = 64
INI
}

# Starts the broker and sets $endpoint from its "listening on" line. With "try": returns 1 if
# the port is taken.
start_broker() {
    : >"$dir/broker.log"
    "$broker" -c "$dir/broker.ini" 2>"$dir/broker.log" &
    pid=$!
    for _ in $(seq 100); do
        endpoint=$(sed -n 's/^mimamori-broker: listening on //p' "$dir/broker.log")
        [ -n "$endpoint" ] && return 0
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid" 2>/dev/null || true
            pid=
            [ "${1:-}" = try ] && grep -q 'Address already in use' "$dir/broker.log" && return 1
            fail "the broker exited at start"
        fi
        sleep 0.05
    done
    fail "the broker did not start"
}

# SIGTERM, wait, and set $bsummary from its summary line.
stop_broker() {
    kill -TERM "$pid"
    local rc=0
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    wait "$pid" || rc=$?
    pid=
    [ "$rc" -eq 0 ] || fail "the broker exited with $rc after SIGTERM"
    bsummary=$(grep '^mimamori-broker: b-kanto: ' "$dir/broker.log") || fail "no broker summary"
    sanitizer_check "$dir/broker.log"
}

# The sensor's configuration: uplink on, short ACK timeout so a dead broker is noticed fast.
write_sensor_config() {
    cat >"$dir/sensor.ini" <<INI
[uplink]
enabled = true
broker = $endpoint
broker_cert = ${1:-$dir/keys/b-kanto.cert}
cert_secret = $dir/keys/s-1.cert_secret
spool_dir = $dir/spool
fsync = ${2:-interval}
heartbeat_s = 1
ack_timeout_ms = 1000
drain_s = 20
INI
}

# Runs the sensor to its end; sets $published from its summary ("published N, acked N, still
# spooled 0" is required).
run_sensor() {
    : >"$dir/sensor.log"
    "$sensor" -c "$dir/sensor.ini" --jsonl "$dir/events.jsonl" "$@" 2>"$dir/sensor.log" ||
        fail "the sensor exited with $?"
    sanitizer_check "$dir/sensor.log"
    local line
    line=$(grep -o 'uplink: published [0-9]*, acked [0-9]*, still spooled [0-9]*' \
        "$dir/sensor.log") || fail "no uplink figures in the sensor's summary"
    read -r published acked spooled <<<"$(tr -cd '0-9 ' <<<"$line" | tr -s ' ')"
    [ "$published" -gt 0 ] || fail "nothing published: $line"
    { [ "$acked" = "$published" ] && [ "$spooled" = 0 ]; } || fail "not all acknowledged: $line"
    # The JSON Lines output keeps working beside the uplink.
    [ "$(wc -l <"$dir/events.jsonl")" = "$published" ] || fail "jsonl has not $published lines"
}

expect() { grep -qF -- "$1" <<<"$bsummary" || fail "broker summary lacks '$1': $bsummary"; }

# A port below the kernel's ephemeral range (32768-60999 by default), chosen at random: the
# broker restarts on it, and a port the kernel handed out ('*') could meanwhile be given to
# another test's socket running in parallel.
for _ in $(seq 20); do
    write_broker_config "tcp://127.0.0.1:$((20000 + RANDOM % 12000))"
    start_broker try && break
done
[ -n "$pid" ] || fail "no free port found for the broker"

# Configuration errors name their setting and start nothing.
write_sensor_config "$dir/keys/nope.cert"
set +e
"$sensor" -c "$dir/sensor.ini" -q -r "$pcaps/zk-ftp-bruteforce.pcap" 2>"$dir/err.log"
rc=$?
set -e
{ [ "$rc" -eq 1 ] && grep -q '\[uplink\] broker_cert: .*nope.cert' "$dir/err.log"; } ||
    fail "missing broker_cert: exit $rc, $(cat "$dir/err.log")"
write_sensor_config "" sometimes
set +e
"$sensor" -c "$dir/sensor.ini" -q -r "$pcaps/zk-ftp-bruteforce.pcap" 2>"$dir/err.log"
rc=$?
set -e
{ [ "$rc" -eq 2 ] && grep -q "\[uplink\] fsync: 'sometimes'" "$dir/err.log"; } ||
    fail "bad fsync: exit $rc, $(cat "$dir/err.log")"
[ ! -e "$dir/spool" ] || fail "a refused configuration created the spool"

# 1. One run: everything acknowledged, the broker stored the same number.
write_sensor_config
run_sensor -r "$pcaps/zk-ftp-bruteforce.pcap"
n1=$published
# 2. Again on the same spool: seqs continue, stored as new events.
run_sensor -r "$pcaps/zk-ftp-bruteforce.pcap"
[ "$published" = "$n1" ] || fail "second run published $published, first $n1"
stop_broker
expect "$((2 * n1)) events stored"
expect "0 duplicates"
[ "$("$sim" count "$dir/store" s-1 org-1)" = "stored $((2 * n1)) ordered stamped" ] ||
    fail "store after two runs: $("$sim" count "$dir/store" s-1 org-1)"

# 3. kill -9 the broker in the middle of a run on a larger capture (paced so the run lasts
# about 2 s), restart it on the same port and store: every event stored exactly once.
write_broker_config "$endpoint"
start_broker
: >"$dir/sensor.log"
"$sensor" -c "$dir/sensor.ini" --jsonl "$dir/events.jsonl" --realtime --speed 100 \
    -r "$pcaps/nd-bad-dns-traffic.pcap" "$pcaps/nd-bad-dns-traffic.pcap" 2>"$dir/sensor.log" &
spid=$!
sleep 0.8
kill -0 "$spid" 2>/dev/null || fail "the third sensor run ended before the broker was killed"
{ kill -KILL "$pid"; wait "$pid"; } 2>/dev/null || true
pid=
sleep 0.5
start_broker
rc=0
wait "$spid" || rc=$?
spid=
[ "$rc" -eq 0 ] || fail "the third sensor run exited with $rc"
sanitizer_check "$dir/sensor.log"
line=$(grep -o 'uplink: published [0-9]*, acked [0-9]*, still spooled [0-9]*' "$dir/sensor.log") ||
    fail "no uplink figures in the third run's summary"
read -r n3 acked spooled <<<"$(tr -cd '0-9 ' <<<"$line" | tr -s ' ')"
{ [ "$acked" = "$n3" ] && [ "$spooled" = 0 ]; } || fail "third run not all acknowledged: $line"
stop_broker
after_kill=$bsummary
total=$((2 * n1 + n3))
got=$("$sim" count "$dir/store" s-1 org-1)
[ "$got" = "stored $total ordered stamped" ] || fail "store after the kill: $got, expected $total"

# 4. SIGTERM still stops the sensor (CZMQ's handler must not replace its own): a slow paced
# run with the broker gone ends promptly with its summary, the rest left in the spool.
: >"$dir/sensor.log"
"$sensor" -c "$dir/sensor.ini" --realtime --speed 5 -r "$pcaps/nd-bad-dns-traffic.pcap" \
    2>"$dir/sensor.log" &
spid=$!
sleep 0.5
kill -TERM "$spid"
for _ in $(seq 60); do kill -0 "$spid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$spid" 2>/dev/null && fail "the sensor did not stop within 3 s of SIGTERM"
rc=0
wait "$spid" || rc=$?
spid=
[ "$rc" -eq 0 ] || fail "the sensor exited with $rc after SIGTERM"
sanitizer_check "$dir/sensor.log"
grep -q 'uplink: published [0-9]*, acked 0, still spooled' "$dir/sensor.log" ||
    fail "no summary after SIGTERM"

# 5. Live capture (root or CAP_NET_RAW only; else this part is left out): the capture loop
# polls the uplink on its read timeouts, so heartbeats reach the broker at their interval.
start_broker
: >"$dir/sensor.log"
"$sensor" -c "$dir/sensor.ini" -i lo 2>"$dir/sensor.log" &
spid=$!
sleep 3.5
live=skipped
if kill -0 "$spid" 2>/dev/null; then
    kill -TERM "$spid"
    rc=0
    wait "$spid" || rc=$?
    spid=
    [ "$rc" -eq 0 ] || fail "the live sensor exited with $rc after SIGTERM"
    sanitizer_check "$dir/sensor.log"
    stop_broker
    hb=$(grep -o '[0-9]* heartbeats' <<<"$bsummary" | cut -d' ' -f1)
    [ "$hb" -ge 2 ] || fail "live: $hb heartbeats in 3.5 s at a 1 s interval: $bsummary"
    live="$hb heartbeats in 3.5 s"
else
    wait "$spid" || true
    spid=
    stop_broker
fi
echo "uplink_e2e.sh: ok (runs of $n1, $n1 and $n3 events; live: $live; after kill -9: $after_kill)"
