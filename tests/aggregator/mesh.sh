#!/usr/bin/env bash
# The mesh end to end over loopback: mimamori-aggregator <- mimamori-broker <- simulated sensors.
# Checks the aggregator's store holds exactly the events sent, by (sensor, seq), no duplicates;
# fault test 2 (the aggregator killed -9 and away while sensors keep producing: nothing missing
# when it returns); fault test 6 (a sensor that stops heartbeating raises sensor.silent at the
# aggregator within 3 intervals; a later heartbeat clears it).
# Durations are short for CI except the aggregator's outage, which is the issue's 60 s; through
# the environment:
#   MM_MESH_EVENTS       events per sensor (default 2000)
#   MM_FAULT_AGG_DOWN_S  seconds the aggregator stays down (default 60, as in the issue)
#   MM_MESH_HEARTBEAT_MS sensors' heartbeat interval (default 500; production is 10000)
# Usage: mesh.sh AGGREGATOR BROKER KEYGEN BK_SIM_SENSOR AG_SIM
set -euo pipefail
agg=$1 broker=$2 keygen=$3 sim=$4 agsim=$5
N=${MM_MESH_EVENTS:-2000}
DOWN=${MM_FAULT_AGG_DOWN_S:-60}
IVL=${MM_MESH_HEARTBEAT_MS:-500}
half=$((N / 2))
dir=$(mktemp -d /tmp/mm-mesh-XXXXXX)
agg_pid= br_pid=
killp() { if [ -n "$1" ]; then kill -KILL "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; fi; }
cleanup() { killp "$br_pid"; killp "$agg_pid"; jobs -p | xargs -r kill -KILL 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
fail() {
    echo "mesh.sh: $*" >&2
    for f in agg.log broker.log; do [ -f "$dir/$f" ] && { echo "--- $f" >&2; tail -15 "$dir/$f" >&2; }; done
    exit 1
}

k() { "$keygen" "$@" --out "$dir/keys" >/dev/null; }
k --role aggregator --id centre
k --role broker --id b-kanto --region kanto
k --role sensor --id s-1 --org org-1 --region kanto
k --role sensor --id s-2 --org org-2 --region kanto
k --role sensor --id s-3 --org org-1 --region kanto
mkdir "$dir/brokers" "$dir/sensors"
cp "$dir/keys/b-kanto.cert" "$dir/brokers/"
cp "$dir/keys/s-1.cert" "$dir/keys/s-2.cert" "$dir/keys/s-3.cert" "$dir/sensors/"

agg_config() {
    cat >"$dir/agg.ini" <<INI
[aggregator]
id = centre
stats_s = 1
[brokers]
bind = $1
cert_dir = $dir/brokers
[keys]
cert_secret = $dir/keys/centre.cert_secret
[store]
path = $dir/agg-store
INI
}

# Starts a daemon ($1: name, $2: binary, $3: ini, $4: log); sets $started_pid and $started_ep.
# With $5 = try, returns 1 instead of failing if it exits at start (a port already taken).
start() {
    : >"$dir/$4"
    "$2" -c "$dir/$3" 2>"$dir/$4" &
    started_pid=$!
    for _ in $(seq 200); do
        started_ep=$(sed -n "s/^$1: listening on //p" "$dir/$4")
        [ -n "$started_ep" ] && return 0
        if ! kill -0 "$started_pid" 2>/dev/null; then
            wait "$started_pid" 2>/dev/null || true
            [ "${5:-}" = try ] && return 1
            fail "$1 exited at start"
        fi
        sleep 0.05
    done
    fail "$1 did not start"
}

# Stops a daemon with SIGTERM and checks its exit and log.
stop() {
    local rc=0
    kill -TERM "$1"
    wait "$1" || rc=$?
    [ "$rc" -eq 0 ] || fail "$2 exited with $rc after SIGTERM"
    if grep -qE 'Sanitizer|runtime error:' "$dir/$3"; then cat "$dir/$3" >&2; fail "sanitizer report in $3"; fi
}

dump() { "$agsim" dump "$dir/agg-store" 2>/dev/null || true; }

# Waits until the aggregator's store holds $1 lines matching $2, at most $3 seconds.
wait_count() {
    local end=$((SECONDS + $3)) n=0
    while [ $SECONDS -le $end ]; do
        n=$(dump | grep -cE "$2" || true)
        [ "$n" -ge "$1" ] && return 0
        sleep 0.2
    done
    fail "the aggregator holds $n of $1 events matching '$2' after $3 s"
}

send() { # sensor from to
    out=$("$sim" send "$br_ep" "$dir/keys/b-kanto.cert" "$dir/keys/$1.cert_secret" "$2" "$3")
    [ "$out" = "acked $3" ] || fail "$1 $2..$3: $out"
}

# The aggregator must come back on the same port, so it gets one below both the kernel's
# ephemeral range (32768-60999) and CZMQ's "*" range (49152-), where nothing else running on the
# machine is handed it in between; a port that is taken anyway is skipped.
for _ in $(seq 20); do
    agg_config "tcp://127.0.0.1:$((20000 + RANDOM % 12000))"
    start mimamori-aggregator "$agg" agg.ini agg.log try && break
    started_pid=
done
[ -n "$started_pid" ] || fail "no free port for the aggregator"
agg_pid=$started_pid agg_ep=$started_ep
cat >"$dir/broker.ini" <<INI
[broker]
id = b-kanto
[sensors]
bind = tcp://127.0.0.1:*
cert_dir = $dir/sensors
heartbeat_ms = $IVL
[keys]
cert_secret = $dir/keys/b-kanto.cert_secret
[store]
path = $dir/broker-store
[aggregator]
endpoint = $agg_ep
aggregator_cert = $dir/keys/centre.cert
ack_timeout_ms = 1000
INI
start mimamori-broker "$broker" broker.ini broker.log
br_pid=$started_pid br_ep=$started_ep

# 1. Two sensors stream the first half; the aggregator ends with exactly those.
send s-1 1 "$half" & p1=$!
send s-2 1 "$half" & p2=$!
wait $p1 || fail "s-1 first half"
wait $p2 || fail "s-2 first half"
wait_count $((2 * half)) '^s-[12] ' 20

# 2. Fault test 2: the aggregator is killed and stays away while the sensors keep producing
#    (the broker keeps accepting and acknowledging them); it comes back on the same port.
kill -KILL "$agg_pid"; wait "$agg_pid" 2>/dev/null || true; agg_pid=
t0=$SECONDS
send s-1 $((half + 1)) "$N" & p1=$!
send s-2 $((half + 1)) "$N" & p2=$!
wait $p1 || fail "s-1 second half while the aggregator is down"
wait $p2 || fail "s-2 second half while the aggregator is down"
left=$((DOWN - (SECONDS - t0)))
[ "$left" -gt 0 ] && sleep "$left"
agg_config "$agg_ep"
start mimamori-aggregator "$agg" agg.ini agg.log
agg_pid=$started_pid
# The broker's reconnect backs off up to 30 s (mm_curve); allow for it.
wait_count $((2 * N)) '^s-[12] ' 60

# 6. Fault test 6: s-3 heartbeats 3 times, then goes silent. Within 3 intervals (plus the
#    broker's check period, a tenth of an interval, and forwarding) sensor.silent is at the
#    aggregator, from the broker, naming s-3, severity high.
"$agsim" heartbeat "$br_ep" "$dir/keys/b-kanto.cert" "$dir/keys/s-3.cert_secret" 3 "$IVL" >/dev/null \
    || fail "s-3 heartbeats"
t_last=$(date +%s%N)
wait_count 1 '^b-kanto [0-9]+ finding sensor.silent 0 high .*sensor s-3 silent' 10
t_seen=$(date +%s%N)
# The last heartbeat left ~200 ms before the tool exited: measured from then, it must be
# raised after 3 intervals and be visible before 3 intervals + 1 s of checking and forwarding.
ms=$(((t_seen - t_last) / 1000000 + 200))
[ "$ms" -le $((3 * IVL + 1000)) ] || fail "sensor.silent took $ms ms (3 intervals: $((3 * IVL)) ms)"
# A heartbeat again: revision 1, severity info.
"$agsim" heartbeat "$br_ep" "$dir/keys/b-kanto.cert" "$dir/keys/s-3.cert_secret" 1 0 >/dev/null \
    || fail "s-3 heartbeat again"
wait_count 1 '^b-kanto [0-9]+ finding sensor.silent 1 informational .*s-3' 10

stop "$br_pid" mimamori-broker broker.log; br_pid=
stop "$agg_pid" mimamori-aggregator agg.log; agg_pid=
grep -q '^mimamori-aggregator: centre: .* stored' "$dir/agg.log" || fail "no aggregator summary"

# Exactly: s-1 and s-2 seq 1..N once each, and the broker's own stream 1..k: silent, back, and
# (if the broker saw 3 more intervals pass before it stopped) silent again.
dump | awk '{print $1, $2}' >"$dir/got"
k=$(grep -c '^b-kanto ' "$dir/got" || true)
{ [ "$k" -ge 2 ] && [ "$k" -le 3 ]; } || fail "$k findings from the broker, expected 2 or 3"
{ for s in s-1 s-2; do seq 1 "$N" | sed "s/^/$s /"; done; seq 1 "$k" | sed "s/^/b-kanto /"; } \
    | sort >"$dir/want"
sort "$dir/got" | cmp -s - "$dir/want" || {
    diff <(sort "$dir/got") "$dir/want" | head -10 >&2
    fail "the aggregator's store is not exactly the events sent"
}
[ -z "$(sort "$dir/got" | uniq -d)" ] || fail "duplicates by (sensor, seq)"
grep -q ' 0 seq duplicates' <(grep '^mimamori-aggregator: centre: ' "$dir/agg.log" | tail -1) \
    || fail "the aggregator counted (sensor, seq) duplicates"

# Flags.
"$agg" --version | grep -q '^mimamori-aggregator ' || fail "--version"
"$agg" --help | grep -q -- '--print-config' || fail "--help"
"$agg" --print-config | grep -q '^\[brokers\]' || fail "--print-config"
set +e
"$agg" --bogus 2>/dev/null; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "a bad flag: exit $rc"
echo "mesh.sh: ok ($N events per sensor, aggregator down ${DOWN} s, heartbeat ${IVL} ms)"
