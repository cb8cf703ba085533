#!/usr/bin/env bash
# Fault tests 1 and 3 at full size over loopback, with the real daemons: two regional brokers
# (kanto: sensors s-1..s-5, kinki: s-6..s-10) forward to one aggregator; 10 simulated sensors
# over the real uplink (ag_sim_sensor: spool, retransmission, heartbeats) stream N events each.
#   Fault test 1: broker kanto is killed with -9 mid-stream and restarted on the same port and
#                 store.
#   Fault test 3: sensor s-8 is killed with -9 mid-stream and restarted on the same spool: its
#                 seqs continue. It stays down until b-kinki has raised sensor.silent for it
#                 (3 heartbeat intervals), so b-kinki's findings are exact: s-8 silent, then
#                 back, nothing else.
#   Then the aggregator is killed with -9 while s-8 still streams, and restarted on its port
#   and store: the brokers resend from their durable cursors. (b-kanto may report kanto sensors silent and back after
#                 its restart if they are still in their reconnect back-off: checked as pairs.)
# Then the aggregator's store must hold exactly s-1..s-10 seq 1..N once each, event k saying
# "event k". The sensors keep heartbeating until the brokers are stopped, so none falls silent
# at the end. Durations through the environment (defaults for CI on 2 cores, also under ASan;
# about 15 s, 24 s under ASan):
#   MM_FAULT_EVENTS        events per sensor (default 10000: 100,000 in all)
#   MM_FAULT_RATE          events per second per sensor (default 1000: a stream lasts ~10 s)
#   MM_FAULT_HEARTBEAT_MS  heartbeat interval of sensors and brokers (default 1000)
#   MM_FAULT_ACK_MS        the sensors' ACK timeout (default 5000, the product's)
#   MM_FAULT_BROKER_DOWN_S seconds broker kanto stays down (default 1)
#   MM_FAULT_AGG_DOWN_S    seconds the aggregator stays down after its kill -9 mid-ingest
#                          (default 3; mesh.sh keeps it down the issue's 60 s)
#   MM_FAULT_KEEP          if set, the working directory (logs, stores, spools) is kept
# Usage: fault_mesh.sh AGGREGATOR BROKER KEYGEN AG_SIM_SENSOR AG_SIM
set -euo pipefail
export LC_ALL=C
agg=$1 broker=$2 keygen=$3 simsensor=$4 agsim=$5
N=${MM_FAULT_EVENTS:-10000}
RATE=${MM_FAULT_RATE:-1000}
IVL=${MM_FAULT_HEARTBEAT_MS:-1000}
ACK_MS=${MM_FAULT_ACK_MS:-5000}
BR_DOWN=${MM_FAULT_BROKER_DOWN_S:-1}
AGG_DOWN=${MM_FAULT_AGG_DOWN_S:-3}
KILLED=8 # the sensor killed with -9 (region kinki)
dir=$(mktemp -d /tmp/mm-fault-mesh-XXXXXX)
agg_pid='' kanto_pid='' kinki_pid=''
declare -a spid
T0=$SECONDS

killp() { if [ -n "$1" ]; then kill -KILL "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; fi; }
cleanup() {
    for p in "${spid[@]}" "$kanto_pid" "$kinki_pid" "$agg_pid"; do killp "$p"; done
    if [ -n "${MM_FAULT_KEEP:-}" ]; then echo "fault_mesh.sh: kept $dir" >&2; else rm -rf "$dir"; fi
}
trap cleanup EXIT
fail() {
    echo "fault_mesh.sh: FAIL: $*" >&2
    for f in agg.log kanto.log kinki.log "s-$KILLED.log"; do
        [ -f "$dir/$f" ] && { echo "--- $f" >&2; tail -15 "$dir/$f" >&2; }
    done
    exit 1
}
say() { echo "fault_mesh.sh: [$((SECONDS - T0)) s] $*"; }
region() { if [ "$1" -le 5 ]; then echo kanto; else echo kinki; fi; }

k() { "$keygen" "$@" --out "$dir/keys" >/dev/null; }
k --role aggregator --id centre
k --role broker --id b-kanto --region kanto
k --role broker --id b-kinki --region kinki
mkdir "$dir/brokers" "$dir/allow-kanto" "$dir/allow-kinki"
cp "$dir/keys/b-kanto.cert" "$dir/keys/b-kinki.cert" "$dir/brokers/"
for i in $(seq 10); do
    k --role sensor --id "s-$i" --org "org-$i" --region "$(region "$i")"
    cp "$dir/keys/s-$i.cert" "$dir/allow-$(region "$i")/"
done

# Starts a daemon ($1: name as in its "listening on" line, $2: binary, $3: ini, $4: log); sets
# $started_pid and $started_ep. With $5 = try, returns 1 instead of failing if it exits at
# start (a port already taken).
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
            fail "$1 ($3) exited at start"
        fi
        sleep 0.05
    done
    fail "$1 ($3) did not start"
}

sanitizer_check() {
    if grep -qE 'Sanitizer|runtime error:' "$dir/$1"; then cat "$dir/$1" >&2; fail "sanitizer report in $1"; fi
}

# Stops a daemon with SIGTERM ($1 pid, $2 name, $3 log) and checks its exit and log.
stop() {
    local rc=0
    kill -TERM "$1"
    wait "$1" || rc=$?
    [ "$rc" -eq 0 ] || fail "$2 exited with $rc after SIGTERM"
    sanitizer_check "$3"
}

agg_config() {
    cat >"$dir/agg.ini" <<INI
[aggregator]
id = centre
stats_s = 5
[brokers]
bind = $1
cert_dir = $dir/brokers
[keys]
cert_secret = $dir/keys/centre.cert_secret
[store]
path = $dir/agg-store
INI
}

broker_config() { # region bind
    cat >"$dir/$1.ini" <<INI
[broker]
id = b-$1
region = $1
[sensors]
bind = $2
cert_dir = $dir/allow-$1
heartbeat_ms = $IVL
[keys]
cert_secret = $dir/keys/b-$1.cert_secret
[store]
path = $dir/store-$1
[aggregator]
endpoint = $agg_ep
aggregator_cert = $dir/keys/centre.cert
ack_timeout_ms = 1000
INI
}

start_sensor() { # i
    local r ep
    r=$(region "$1")
    if [ "$r" = kanto ]; then ep=$kanto_ep; else ep=$kinki_ep; fi
    "$simsensor" "$ep" "$dir/keys/b-$r.cert" "$dir/keys/s-$1.cert_secret" "$dir/spool-s-$1" \
        "$N" "$RATE" "$IVL" "$ACK_MS" $((N / (RATE > 0 ? RATE : N) + 100)) stay \
        >>"$dir/s-$1.out" 2>>"$dir/s-$1.log" &
    spid[$1]=$!
}

dump() { "$agsim" dump "$dir/agg-store" 2>/dev/null || true; }
count() { dump | grep -cE "$1" || true; }

# Waits until the aggregator's store holds at least $1 lines matching $2, at most $3 seconds;
# then fails, or with $4 = soft says so and returns 1 (the exact checks below say what is
# missing).
wait_count() {
    local end=$((SECONDS + $3)) n=0
    while [ $SECONDS -le $end ]; do
        n=$(count "$2")
        [ "$n" -ge "$1" ] && return 0
        sleep 0.3
    done
    [ "${4:-}" = soft ] || fail "the aggregator holds $n of $1 events matching '$2' after $3 s"
    say "the aggregator holds $n of $1 events matching '$2' after $3 s"
    return 1
}

# A sensor is done when its output says everything it published was acknowledged.
done_sensor() { grep -q "^acked $N\$" "$dir/s-$1.out" 2>/dev/null; }

# The aggregator and broker kanto come back on their ports: random ones below the kernel's
# ephemeral range, so nothing else is handed them meanwhile; a port taken anyway is skipped.
for _ in $(seq 20); do
    agg_config "tcp://127.0.0.1:$((20000 + RANDOM % 12000))"
    start mimamori-aggregator "$agg" agg.ini agg.log try && break
    started_pid=
done
[ -n "$started_pid" ] || fail "no free port for the aggregator"
agg_pid=$started_pid agg_ep=$started_ep
for _ in $(seq 20); do
    broker_config kanto "tcp://127.0.0.1:$((20000 + RANDOM % 12000))"
    start mimamori-broker "$broker" kanto.ini kanto.log try && break
    started_pid=
done
[ -n "$started_pid" ] || fail "no free port for broker kanto"
kanto_pid=$started_pid kanto_ep=$started_ep
broker_config kinki 'tcp://127.0.0.1:*'
start mimamori-broker "$broker" kinki.ini kinki.log
kinki_pid=$started_pid kinki_ep=$started_ep
say "aggregator $agg_ep, b-kanto $kanto_ep, b-kinki $kinki_ep; 10 sensors x $N events at $RATE/s, heartbeat $IVL ms, ACK timeout $ACK_MS ms"

for i in $(seq 10); do start_sensor "$i"; done

# Fault test 1: once a tenth of kanto's events are at the centre, kill broker kanto.
wait_count $((N / 2)) '^s-[1-5] ' 60
{ kill -KILL "$kanto_pid"; wait "$kanto_pid"; } 2>/dev/null || true
kanto_pid=
n=$(count '^s-[1-5] ')
running=0
for i in 1 2 3 4 5; do
    if kill -0 "${spid[$i]}" 2>/dev/null && ! done_sensor "$i"; then running=$((running + 1)); fi
done
{ [ "$n" -gt 0 ] && [ "$n" -lt $((5 * N)) ] && [ "$running" -eq 5 ]; } ||
    fail "broker kanto was not killed mid-stream: $n of $((5 * N)) kanto events at the centre, $running of 5 kanto sensors still streaming"
say "check mid-stream broker kill: b-kanto killed -9 with $n of $((5 * N)) kanto events at the centre and 5 of 5 kanto sensors streaming: ok"
sleep "$BR_DOWN"
start mimamori-broker "$broker" kanto.ini kanto.log
kanto_pid=$started_pid
[ "$started_ep" = "$kanto_ep" ] || fail "broker kanto came back on $started_ep, not $kanto_ep"
say "b-kanto restarted on $kanto_ep with the same store after ${BR_DOWN} s"

# Fault test 3: once s-8 has a tenth of its events at the centre, kill it.
wait_count $((N / 10)) "^s-$KILLED " 60
{ kill -KILL "${spid[$KILLED]}"; wait "${spid[$KILLED]}"; } 2>/dev/null || true
n8=$(count "^s-$KILLED ")
! done_sensor "$KILLED" || fail "s-$KILLED had finished before it was killed"
say "s-$KILLED killed -9 with $n8 of $N of its events at the centre"
# It stays down until b-kinki has reported it silent (3 intervals), then comes back.
t_kill=$SECONDS
wait_count 1 "^b-kinki [0-9]+ finding sensor.silent 0 high sensor s-$KILLED silent" $((3 * IVL / 1000 + 30))
say "check sensor.silent for s-$KILLED at the centre, $((SECONDS - t_kill)) s after the kill: ok"
start_sensor "$KILLED"
for _ in $(seq 100); do
    [ "$(grep -c '^start ' "$dir/s-$KILLED.out")" -ge 2 ] && break
    sleep 0.1
done
k2=$(grep '^start ' "$dir/s-$KILLED.out" | sed -n '2s/^start //p')
[ -n "$k2" ] || fail "the restarted s-$KILLED said nothing: $(cat "$dir/s-$KILLED.out")"
# Its spool says where it stopped: past everything already at the centre, short of the end.
{ [ "$k2" -gt "$n8" ] && [ "$k2" -le "$N" ]; } ||
    fail "restarted s-$KILLED starts at event $k2: not mid-stream ($n8 < k <= $N)"
say "check mid-stream sensor kill: restarted s-$KILLED continues its spool at seq $k2 ($n8 < $k2 <= $N): ok"

# The aggregator killed with -9 mid-ingest (fault test 2 while events flow): the brokers keep
# accepting, and resend from their durable cursors when it is back on its port and store.
n=$(count '^s-([1-9]|10) ')
{ kill -KILL "$agg_pid"; wait "$agg_pid"; } 2>/dev/null || true
agg_pid=
{ [ "$n" -gt 0 ] && [ "$n" -lt $((10 * N)) ] && ! done_sensor "$KILLED"; } ||
    fail "the aggregator was not killed mid-stream: $n of $((10 * N)) at the centre"
say "check mid-stream aggregator kill: killed -9 with $n of $((10 * N)) events stored, s-$KILLED still streaming: ok"
sleep "$AGG_DOWN"
start mimamori-aggregator "$agg" agg.ini agg.log
agg_pid=$started_pid
[ "$started_ep" = "$agg_ep" ] || fail "the aggregator came back on $started_ep, not $agg_ep"
say "aggregator restarted on $agg_ep with the same store after ${AGG_DOWN} s"

# Every sensor finishes (all acknowledged by its broker), then everything reaches the centre.
end=$((SECONDS + N / (RATE > 0 ? RATE : N) + 90))
for i in $(seq 10); do
    while ! done_sensor "$i"; do
        kill -0 "${spid[$i]}" 2>/dev/null || fail "s-$i exited early: $(cat "$dir/s-$i.out")"
        [ $SECONDS -le $end ] || fail "s-$i not acknowledged in time: $(tail -1 "$dir/s-$i.out")"
        sleep 0.2
    done
done
say "check every sensor acknowledged by its broker (acked $N, 10 of 10): ok"
wait_count $((10 * N)) '^s-([1-9]|10) ' 30 soft || true
# And the brokers' findings: every sensor.silent followed by its "back" (written at the
# sensor's first heartbeat), at most 10 s.
end=$((SECONDS + 10))
while :; do
    f=$(dump | awk '$1 ~ /^b-/ && $4 == "sensor.silent" {n[$5]++} END {print n[0] + 0, n[1] + 0}')
    { [ "${f% *}" -ge 1 ] && [ "${f% *}" = "${f#* }" ]; } && break
    [ $SECONDS -le $end ] || { say "broker findings: $f raised and cleared after 10 s"; break; }
    sleep 0.3
done

# Brokers first (the sensors still heartbeat, so none falls silent at its broker), then the
# sensors (exit 0: everything acknowledged), then the aggregator.
stop "$kanto_pid" mimamori-broker kanto.log
kanto_pid=
stop "$kinki_pid" mimamori-broker kinki.log
kinki_pid=
for i in $(seq 10); do
    rc=0
    kill -TERM "${spid[$i]}"
    wait "${spid[$i]}" || rc=$?
    spid[i]=''
    [ "$rc" -eq 0 ] || fail "s-$i exited with $rc: $(cat "$dir/s-$i.out")"
    sanitizer_check "s-$i.log"
done
stop "$agg_pid" mimamori-aggregator agg.log
agg_pid=
say "check daemons and sensors stopped on SIGTERM with exit 0, no sanitizer report: ok"
for b in kanto kinki; do
    grep "^mimamori-broker: b-$b: " "$dir/$b.log" | sed "s/^/fault_mesh.sh:   /"
    if grep 'skipped seq' "$dir/$b.log"; then say "note: b-$b stored seq gaps (above)"; fi
done
for i in 1 $KILLED; do echo "fault_mesh.sh:   s-$i: $(grep -c '^start ' "$dir/s-$i.out") runs, $(tail -1 "$dir/s-$i.out")"; done
summary=$(grep '^mimamori-aggregator: centre: ' "$dir/agg.log" | tail -1) || fail "no aggregator summary"
echo "fault_mesh.sh:   $summary"

# The aggregator's store, exactly.
dump >"$dir/dump"
awk '$1 ~ /^s-/ {print $1, $2}' "$dir/dump" | sort >"$dir/got"
for i in $(seq 10); do seq 1 "$N" | sed "s/^/s-$i /"; done | sort >"$dir/want"
if ! cmp -s "$dir/got" "$dir/want"; then
    # Missing events as ranges per sensor, e.g. "s-1 1166-1180".
    missing=$(comm -13 "$dir/got" "$dir/want" | sort -k1,1 -k2,2n | awk '
        $1 != s || $2 != last + 1 { if (s != "") print s, first "-" last; s = $1; first = $2 }
        { last = $2 } END { if (s != "") print s, first "-" last }')
    echo "missing: $(comm -13 "$dir/got" "$dir/want" | wc -l) events:" "$(tr '\n' ' ' <<<"$missing")" >&2
    echo "unexpected or doubled: $(comm -23 "$dir/got" "$dir/want" | wc -l)" \
        "$(comm -23 "$dir/got" "$dir/want" | head -5 | tr '\n' ' ')" >&2
    fail "the aggregator's store does not hold exactly s-1..s-10 seq 1..$N"
fi
say "check the store holds exactly s-1..s-10 seq 1..$N ($((10 * N)) events): ok"
[ -z "$(uniq -d "$dir/got")" ] || fail "duplicates by (sensor, seq)"
grep -q ' 0 seq duplicates' <<<"$summary" || fail "the aggregator counted (sensor, seq) duplicates"
say "check no duplicates by (sensor, seq), none counted by the aggregator: ok"
bad=$(awk '$1 ~ /^s-/ && !(NF == 8 && $3 == "finding" && $4 == "sim.seq" && $5 == 0 &&
      $6 == "informational" && $7 == "event" && $8 == $2)' "$dir/dump")
[ -z "$bad" ] || fail "events whose payload is not their seq: $(head -3 <<<"$bad")"
say "check every event's payload names its seq (event k has seq k): ok"
# The brokers' own findings (their sensor field is the broker's id), exactly: b-kinki raised
# sensor.silent for s-8 and cleared it, nothing else. b-kanto watches the sensors it knows from
# its store from its restart on, so a kanto sensor still in its reconnect back-off 3 intervals
# after the restart is reported silent and then back: each kanto sensor has no finding or
# exactly that pair. Each broker's findings are its own stream, seq 1, 2, 3...
awk '$1 !~ /^s-/' "$dir/dump" >"$dir/findings"
verdict=$(awk -v killed="s-$KILLED" '
    !/^b-(kanto|kinki) [0-9]+ finding sensor\.silent (0 high sensor s-[0-9]+ silent|1 informational sensor s-[0-9]+ is heartbeating again)/ {
        print "unexpected finding: " $0; bad = 1; next }
    { b = $1; if ($2 != ++n[b]) { print b " finding seq " $2 " where " n[b] " was due"; bad = 1 }
      k = b " " $8; revs[k] = revs[k] $5 }
    END {
        for (k in revs) {
            split(k, a, " ")
            if (revs[k] != "01") { print k ": revisions " revs[k] ", not silent then back"; bad = 1 }
            if (a[1] == "b-kinki" && a[2] != killed) { print k ": a kinki sensor other than " killed; bad = 1 }
            if (a[1] == "b-kanto" && a[2] !~ /^s-[1-5]$/) { print k ": not a kanto sensor"; bad = 1 }
            if (a[1] == "b-kanto") kanto = kanto " " a[2]
        }
        if (revs["b-kinki " killed] != "01") { print "no silent and back for " killed " at b-kinki"; bad = 1 }
        if (!bad) print "ok, kanto sensors reported silent after the restart and back:" (kanto ? kanto : " none")
    }' "$dir/findings")
[ "${verdict#ok}" != "$verdict" ] || fail "broker findings: $verdict; all: $(cat "$dir/findings")"
say "check broker findings: b-kinki sensor.silent for s-$KILLED (revision 0) then back (revision 1), nothing else; $verdict"
echo "fault_mesh.sh: ok (10 sensors x $N events, 2 brokers, b-kanto and s-$KILLED killed -9, $((SECONDS - T0)) s)"
