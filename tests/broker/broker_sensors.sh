#!/usr/bin/env bash
# mimamori-broker against simulated sensors over loopback: cumulative ACKs, dedup across a
# restart, restamping from the certificate, an unknown key acknowledged nothing, clean stop on
# SIGTERM with a summary. Usage: broker_sensors.sh BROKER KEYGEN SIM
set -euo pipefail
broker=$1 keygen=$2 sim=$3
dir=$(mktemp -d /tmp/mm-broker-sensors-XXXXXX)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "broker_sensors.sh: $*" >&2; [ -f "$dir/broker.log" ] && tail -20 "$dir/broker.log" >&2; exit 1; }

"$keygen" --role broker --id b-kanto --region kanto --out "$dir/keys" >/dev/null
"$keygen" --role sensor --id s-1 --org org-1 --region kanto --out "$dir/keys" >/dev/null
"$keygen" --role sensor --id s-2 --org org-2 --region kanto --out "$dir/keys" >/dev/null
"$keygen" --role sensor --id s-x --org org-1 --region kanto --out "$dir/keys" >/dev/null
mkdir "$dir/allow"
cp "$dir/keys/s-1.cert" "$dir/keys/s-2.cert" "$dir/allow/"   # s-x is not allowed

write_config() {
    cat >"$dir/broker.ini" <<INI
[broker]
id = b-kanto
region = kanto
stats_s = ${3:-60}
[sensors]
bind = $1
cert_dir = $dir/allow
revoke_file = $dir/revoked
[keys]
cert_secret = $dir/keys/b-kanto.cert_secret
[store]
path = ${4:-$dir/store}
max_mb = ${2:-64}
INI
}

# Starts the broker and sets $endpoint from its "listening on" line.
start() {
    : >"$dir/broker.log"
    "$broker" -c "$dir/broker.ini" 2>"$dir/broker.log" &
    pid=$!
    for _ in $(seq 100); do
        endpoint=$(sed -n 's/^mimamori-broker: listening on //p' "$dir/broker.log")
        [ -n "$endpoint" ] && return 0
        kill -0 "$pid" 2>/dev/null || fail "the broker exited at start"
        sleep 0.05
    done
    fail "the broker did not start"
}

stop() {
    kill -TERM "$pid"
    local rc=0
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    wait "$pid" || rc=$?
    pid=
    [ "$rc" -eq 0 ] || fail "the broker exited with $rc after SIGTERM"
    # The counters' line at exit (the last one: periodic ones may come before it).
    summary=$(grep '^mimamori-broker: b-kanto: .* frames, ' "$dir/broker.log" | tail -1)
    [ -n "$summary" ] || fail "no summary line"
    # The broker's stderr is not the test's output: pass sanitizer reports on.
    if grep -qE 'Sanitizer|runtime error:' "$dir/broker.log"; then cat "$dir/broker.log" >&2; fail "sanitizer report"; fi
}

expect() { grep -qF -- "$1" <<<"$summary" || fail "summary lacks '$1': $summary"; }

# Port 0 is not an option in the config; bind an ephemeral port ('*'), read from the log.
write_config 'tcp://127.0.0.1:*'
start
out=$("$sim" send "$endpoint" "$dir/keys/b-kanto.cert" "$dir/keys/s-1.cert_secret" 1 100)
[ "$out" = "acked 100" ] || fail "s-1: $out"
# s-2's bodies claim to be s-1 of org-1: acknowledged as s-2, stored as s-2/org-2.
out=$("$sim" send "$endpoint" "$dir/keys/b-kanto.cert" "$dir/keys/s-2.cert_secret" 1 20 s-1 org-1)
[ "$out" = "acked 20" ] || fail "s-2: $out"
# An unknown key never gets a connection, let alone an ACK.
set +e
out=$(BK_SIM_TIMEOUT_MS=1500 "$sim" send "$endpoint" "$dir/keys/b-kanto.cert" \
      "$dir/keys/s-x.cert_secret" 1 5)
rc=$?
set -e
{ [ "$rc" -eq 1 ] && [ "$out" = "acked 0" ]; } || fail "unknown key: exit $rc, $out"
stop
expect "120 events stored"
expect "0 duplicates"
expect "20 corrected"
grep -q "refused a handshake.*unknown key" "$dir/broker.log" || fail "no refusal logged"

# Restart (on a fresh ephemeral port: the old one may have gone to a parallel test meanwhile):
# s-1 resends 51..100 (as if the ACKs were lost) and goes on to 150.
start
out=$("$sim" send "$endpoint" "$dir/keys/b-kanto.cert" "$dir/keys/s-1.cert_secret" 51 150)
[ "$out" = "acked 150" ] || fail "s-1 after restart: $out"
stop
expect "50 events stored"
expect "50 duplicates"

# What is on disk: each seq once, in order, stamped with the certificate's identity.
[ "$("$sim" count "$dir/store" s-1 org-1)" = "stored 150 ordered stamped" ] || fail "s-1 store"
[ "$("$sim" count "$dir/store" s-2 org-2)" = "stored 20 ordered stamped" ] || fail "s-2 store"
[ "$("$sim" count "$dir/store" s-x org-1)" = "stored 0 ordered stamped" ] || fail "s-x store"

# The disk bound with no aggregator: a 1 MiB store fills; new events are refused (not
# acknowledged: the sensor keeps them), a line says so, and the periodic summary shows it.
write_config 'tcp://127.0.0.1:*' 1 1 "$dir/small-store"
start
set +e
out=$(BK_SIM_TIMEOUT_MS=4000 "$sim" send "$endpoint" "$dir/keys/b-kanto.cert" \
      "$dir/keys/s-1.cert_secret" 1 20000)
rc=$?
set -e
acked=${out#acked }
{ [ "$rc" -eq 1 ] && [ "$acked" -gt 0 ] && [ "$acked" -lt 20000 ]; } ||
    fail "full store: exit $rc, $out (want some but not all acknowledged)"
sleep 1.2  # one more periodic line
grep -q "store full (.*events are not acknowledged, sensors keep them" "$dir/broker.log" ||
    fail "no 'store full' line"
grep -q "^mimamori-broker: b-kanto: store .*(FULL: new events refused)" "$dir/broker.log" ||
    fail "no periodic line showing the full store"
stop
expect "$acked events stored"
refused=$(sed -n 's/.* \([0-9]*\) refused (store full).*/\1/p' <<<"$summary")
[ "${refused:-0}" -gt 0 ] || fail "no refusal counted: $summary"
[ "$("$sim" count "$dir/small-store" s-1 org-1)" = "stored $acked ordered stamped" ] ||
    fail "small store holds other than the $acked acknowledged"
echo "broker_sensors.sh: full store: $acked of 20000 acknowledged and stored, $refused refusals"

# Flags.
"$broker" --version | grep -q '^mimamori-broker ' || fail "--version"
"$broker" --help | grep -q -- '--print-config' || fail "--help"
"$broker" --print-config | grep -q '^\[sensors\]' || fail "--print-config"
set +e
"$broker" --bogus 2>/dev/null; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "a bad flag: exit $rc"
echo "broker_sensors.sh: ok"
