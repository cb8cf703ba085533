#!/usr/bin/env bash
# Down the mesh over loopback: WARNING and WATCHLIST messages dropped in the aggregator's inbox
# reach exactly the right sensors, once each, through two regional brokers, and a sensor that
# is offline gets its messages when it comes back, also after its broker was killed -9 in
# between (the copies are held durably).
#   keys: aggregator centre; brokers b-kanto, b-kinki; sensors s-1 (org-a, kanto), s-2 (org-a,
#   kanto, offline at first), s-3 (org-b, kanto), s-4 (org-a, kinki)
#   messages: 1 WATCHLIST org-a; 2 WARNING org-b; 3 WATCHLIST org-a sensor s-2 only;
#             4 WATCHLIST for everyone (no org); 5 WARNING org-c (no sensor anywhere)
# Usage: down_mesh.sh AGGREGATOR BROKER KEYGEN DOWN_SIM
set -euo pipefail
agg=$1 broker=$2 keygen=$3 dsim=$4
dir=$(mktemp -d /tmp/mm-down-XXXXXX)
pids=()
killall_() { for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap 'killall_; rm -rf "$dir"' EXIT
fail() {
    echo "down_mesh.sh: $*" >&2
    for f in "$dir"/*.log "$dir"/*.out; do [ -f "$f" ] && { echo "--- $f" >&2; tail -12 "$f" >&2; }; done
    exit 1
}

k() { "$keygen" "$@" --out "$dir/keys" >/dev/null; }
k --role aggregator --id centre
k --role broker --id b-kanto --region kanto
k --role broker --id b-kinki --region kinki
k --role sensor --id s-1 --org org-a --region kanto
k --role sensor --id s-2 --org org-a --region kanto
k --role sensor --id s-3 --org org-b --region kanto
k --role sensor --id s-4 --org org-a --region kinki
mkdir "$dir/brokers" "$dir/kanto" "$dir/kinki" "$dir/inbox"
cp "$dir/keys/b-kanto.cert" "$dir/keys/b-kinki.cert" "$dir/brokers/"
cp "$dir/keys/s-1.cert" "$dir/keys/s-2.cert" "$dir/keys/s-3.cert" "$dir/kanto/"
cp "$dir/keys/s-4.cert" "$dir/kinki/"

# Ports in 20000-31999 (outside the kernel's ephemeral range) so a broker can come back on its own.
base=$((20000 + RANDOM % 3000 * 4))
agg_ep="tcp://127.0.0.1:$base"
kanto_ep="tcp://127.0.0.1:$((base + 1))"
kinki_ep="tcp://127.0.0.1:$((base + 2))"

cat >"$dir/agg.ini" <<INI
[brokers]
bind = $agg_ep
cert_dir = $dir/brokers
[keys]
cert_secret = $dir/keys/centre.cert_secret
[store]
path = $dir/agg-store
[down]
inbox = $dir/inbox
INI
for b in kanto kinki; do
    ep=$kanto_ep; [ $b = kinki ] && ep=$kinki_ep
    cat >"$dir/$b.ini" <<INI
[sensors]
bind = $ep
cert_dir = $dir/$b
heartbeat_ms = 200
[keys]
cert_secret = $dir/keys/b-$b.cert_secret
[store]
path = $dir/$b-store
[aggregator]
endpoint = $agg_ep
aggregator_cert = $dir/keys/centre.cert
INI
done

# start NAME BINARY INI: waits for "NAME: listening on", sets $started_pid.
start() {
    "$2" -c "$dir/$3" 2>>"$dir/${3%.ini}.log" &
    started_pid=$!
    pids+=("$started_pid")
    for _ in $(seq 200); do
        grep -q "^$1: listening on" "$dir/${3%.ini}.log" 2>/dev/null && return 0
        kill -0 "$started_pid" 2>/dev/null || fail "$1 ($3) exited at start (port taken?)"
        sleep 0.05
    done
    fail "$1 ($3) did not start"
}
listen() { # sensor endpoint region seconds
    "$dsim" listen "$2" "$dir/keys/b-$3.cert" "$dir/keys/$1.cert_secret" "$dir/spool-$1" "$4" \
        >>"$dir/$1.out" 2>>"$dir/$1.log" &
    pids+=($!)
}
# Waits until FILE has at least N lines, at most S seconds.
wait_lines() {
    local end=$((SECONDS + $3))
    while [ $SECONDS -le $end ]; do
        [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ] && return 0
        sleep 0.1
    done
    fail "$1 has $(wc -l <"$1" 2>/dev/null || echo 0) of $2 lines after $3 s"
}

start mimamori-aggregator "$agg" agg.ini
start mimamori-broker "$broker" kanto.ini
kanto_pid=$started_pid
start mimamori-broker "$broker" kinki.ini
kinki_pid=$started_pid
# Both brokers announce themselves (presence ACK every 2 s) and are registered.
end=$((SECONDS + 15))
until [ "$(grep -c 'registered' "$dir/agg.log" || true)" -ge 2 ]; do
    [ $SECONDS -le $end ] || fail "the brokers did not register at the aggregator"
    sleep 0.1
done
echo "down_mesh.sh: 2 brokers registered"

listen s-1 "$kanto_ep" kanto 30
listen s-3 "$kanto_ep" kanto 30
listen s-4 "$kinki_ep" kinki 30
sleep 0.5
"$dsim" put "$dir/inbox" 01 watchlist org-a - 1
"$dsim" put "$dir/inbox" 02 warning org-b - 2
"$dsim" put "$dir/inbox" 03 watchlist org-a s-2 3
"$dsim" put "$dir/inbox" 04 watchlist - - 4
"$dsim" put "$dir/inbox" 05 warning org-c - 5

wait_lines "$dir/s-1.out" 2 15
wait_lines "$dir/s-3.out" 2 15
wait_lines "$dir/s-4.out" 2 15
# Held for s-2 (offline) on b-kanto: now kill -9 that broker and bring it back on its port.
sleep 0.5
kill -KILL "$kanto_pid"
wait "$kanto_pid" 2>/dev/null || true
echo "down_mesh.sh: b-kanto killed -9 with s-2's messages held"
start mimamori-broker "$broker" kanto.ini
kanto_pid=$started_pid
listen s-2 "$kanto_ep" kanto 20
wait_lines "$dir/s-2.out" 3 20
sleep 1  # anything extra (a duplicate) would show up now

check() { # sensor expected-lines
    got=$(sort "$dir/$1.out")
    want=$(printf '%s\n' "$2" | sort)
    [ "$got" = "$want" ] || fail "$1 received:
$got
expected:
$want"
    echo "down_mesh.sh: $1 got exactly: $(echo "$want" | tr '\n' ';')"
}
check s-1 "watchlist 1 org-a
watchlist 4 "
check s-2 "watchlist 1 org-a
watchlist 3 org-a
watchlist 4 "
check s-3 "warning w-2 org-b
watchlist 4 "
check s-4 "watchlist 1 org-a
watchlist 4 "
[ -z "$(ls "$dir/inbox")" ] || fail "inbox not emptied: $(ls "$dir/inbox")"

# The daemons stop cleanly and say what they did.
for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
wait 2>/dev/null || true
pids=()
grep -q "down: 5 queued, 0 refused" "$dir/agg.log" || fail "aggregator summary: $(grep 'down:' "$dir/agg.log")"
# kinki serves only s-4 (org-a): messages 2, 3 (s-2 is kanto's) and 5 have no recipient there.
grep -q "down: 5 taken, [0-9]* repeats, 0 bad, 3 without recipient, 2 copies held" "$dir/kinki.log" ||
    fail "kinki summary: $(grep 'down:' "$dir/kinki.log")"
if grep -qE 'Sanitizer|runtime error:' "$dir"/*.log; then fail "sanitizer report"; fi
echo "down_mesh.sh: PASS"
