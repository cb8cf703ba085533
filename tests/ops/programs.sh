#!/usr/bin/env bash
# Every program's --help, --version and --check-config (issue 8): each answers, with the
# documented exit codes; --check-config passes a good set of settings and names every fault
# of a bad one with a FIX line saying what to do.
# Usage: programs.sh BUILD_DIR
set -euo pipefail
build=$1
dir=$(mktemp -d /tmp/mm-programs-XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "programs.sh: $*" >&2; exit 1; }
say() { echo "programs.sh: $*"; }

agg=$build/aggregator/mimamori-aggregator broker=$build/broker/mimamori-broker
sensor=$build/sensor/mimamori-sensor console=$build/aggregator/mimamori-console
stats=$build/stats/mimamori-stats tool=$build/aggregator/mimamori
keygen=$build/proto/mimamori-keygen msg=$build/proto/mimamori-msg

# --help and --version: exit 0, on stdout; a bad flag: exit 2.
for p in "$agg" "$broker" "$sensor" "$console" "$stats" "$tool" "$keygen" "$msg"; do
    name=$(basename "$p")
    "$p" --help >"$dir/help" 2>&1 || fail "$name --help exited $?"
    grep -qi 'usage' "$dir/help" || fail "$name --help prints no usage"
    "$p" --version >"$dir/version" 2>&1 || fail "$name --version exited $?"
    grep -q "$name 0\.\|$name [0-9]" "$dir/version" || fail "$name --version: $(cat "$dir/version")"
    rc=0
    "$p" --no-such-flag >/dev/null 2>&1 || rc=$?
    [ $rc = 2 ] || fail "$name with a bad flag exited $rc, not 2"
done
for p in "$agg" "$broker" "$console"; do
    "$p" --help | grep -q 'check-config' || fail "$(basename "$p") --help does not offer --check-config"
    "$p" --help | grep -q 'Exit status: 0' || fail "$(basename "$p") --help does not say its exit codes"
done
"$sensor" --help | grep -q 'check-config' || fail "the sensor's --help does not offer --check-config"
for p in "$sensor" "$stats" "$tool" "$keygen" "$msg"; do
    "$p" --help | grep -q 'Exit [a-z]*' || fail "$(basename "$p") --help does not say its exit codes"
done
say "--help, --version and a bad flag (2) for every program"

k() { "$keygen" "$@" --out "$dir/keys" >/dev/null; }
k --role aggregator --id centre
k --role broker --id b-1 --region kanto
k --role sensor --id s-1 --org org-1 --region kanto
k --role console --id soc-1 --org p-east --region kanto
mkdir -p "$dir/brokers" "$dir/sensors" "$dir/consoles"
cp "$dir/keys/b-1.cert" "$dir/brokers/"
cp "$dir/keys/s-1.cert" "$dir/sensors/"
cp "$dir/keys/soc-1.cert" "$dir/consoles/"

cat >"$dir/agg.ini" <<INI
[brokers]
bind = tcp://127.0.0.1:7100
cert_dir = $dir/brokers
[keys]
cert_secret = $dir/keys/centre.cert_secret
[store]
path = $dir/agg-store
[consoles]
bind = tcp://127.0.0.1:7101
cert_dir = $dir/consoles
[metrics]
listen = 127.0.0.1:9101
INI
cat >"$dir/broker.ini" <<INI
[sensors]
bind = tcp://127.0.0.1:7102
cert_dir = $dir/sensors
[keys]
cert_secret = $dir/keys/b-1.cert_secret
[store]
path = $dir/broker-store
[aggregator]
endpoint = tcp://127.0.0.1:7100
aggregator_cert = $dir/keys/centre.cert
INI
cat >"$dir/sensor.ini" <<INI
[capture]
interface = lo
[uplink]
enabled = true
broker = tcp://127.0.0.1:7102
broker_cert = $dir/keys/b-1.cert
cert_secret = $dir/keys/s-1.cert_secret
spool_dir = $dir/spool
INI
cat >"$dir/console.ini" <<INI
[console]
aggregator = tcp://127.0.0.1:7101
aggregator_cert = $dir/keys/centre.cert
cert_secret = $dir/keys/soc-1.cert_secret
listen = 127.0.0.1:8080
INI
check() { # PROGRAM INI WANT_RC: runs --check-config, output in $dir/out
    local rc=0
    "$1" -c "$2" --check-config >"$dir/out" 2>&1 || rc=$?
    [ $rc = "$3" ] || { cat "$dir/out" >&2; fail "$(basename "$1") --check-config $2 exited $rc, not $3"; }
}
check "$agg" "$dir/agg.ini" 0
grep -q '^ok   \[keys\] cert_secret: .*aggregator centre' "$dir/out" || fail "aggregator: key not explained"
grep -q 'every setting checked is usable' "$dir/out" || fail "aggregator: no verdict"
check "$broker" "$dir/broker.ini" 0
grep -q '1 allowed certificates' "$dir/out" || fail "broker: cert_dir not counted"
check "$sensor" "$dir/sensor.ini" 0
check "$console" "$dir/console.ini" 0
say "--check-config accepts good settings of the aggregator, a broker, a sensor, a console"

# Faults, each named with what to do: a secret key others can read, a certificate of the wrong
# role, a missing directory, a bad endpoint, a bad listen address, a registry that does not load.
chmod 644 "$dir/keys/b-1.cert_secret"
printf 'org x provider=nobody pref=13 industry=E size=small\n' >"$dir/bad.reg"
cat >>"$dir/agg.ini" <<INI
[registry]
path = $dir/bad.reg
INI
sed -i "s|bind = tcp://127.0.0.1:7100|bind = tcp://127.0.0.1|; s|listen = 127.0.0.1:9101|listen = localhost:9101|; s|cert_dir = $dir/brokers|cert_dir = $dir/nowhere|" "$dir/agg.ini"
check "$agg" "$dir/agg.ini" 2
grep -q "^FIX  \[brokers\] bind: 'tcp://127.0.0.1': expected tcp://HOST:PORT" "$dir/out" || fail "bad endpoint not named"
grep -q '^FIX  \[brokers\] cert_dir: .*nowhere: No such file' "$dir/out" || fail "missing cert_dir not named"
grep -q '^FIX  \[registry\] path: .*does not load' "$dir/out" || fail "broken registry not named"
grep -q "^FIX  \[metrics\] listen: 'localhost:9101': expected IP:PORT" "$dir/out" || fail "bad listen not named"
grep -q '4 settings to fix' "$dir/out" || { cat "$dir/out" >&2; fail "aggregator: count of faults"; }
sed -i "s|cert_secret = $dir/keys/b-1.cert_secret|cert_secret = $dir/keys/b-1.cert_secret|; s|aggregator_cert = $dir/keys/centre.cert|aggregator_cert = $dir/keys/s-1.cert|" "$dir/broker.ini"
check "$broker" "$dir/broker.ini" 2
grep -q '^FIX  \[keys\] cert_secret: .*readable by others (mode 644): chmod 600' "$dir/out" || fail "readable secret not named"
grep -q '^FIX  \[aggregator\] aggregator_cert: .*is a sensor certificate; this needs a aggregator one' "$dir/out" ||
    fail "wrong role not named"
sed -i "s|spool_dir = $dir/spool|spool_dir = /proc/no/spool|" "$dir/sensor.ini"
check "$sensor" "$dir/sensor.ini" 2
grep -q '^FIX  \[uplink\] spool_dir: /proc/no/spool does not exist' "$dir/out" || fail "unwritable spool not named"
say "--check-config names every fault with what to fix, and exits 2"

# The tools: mimamori and mimamori-stats look at the store and registry they are given.
rc=0
"$tool" --check-config -s "$dir/none" >"$dir/out" 2>&1 || rc=$?
[ $rc = 2 ] && grep -q '^FIX  -s STORE' "$dir/out" || fail "mimamori --check-config with no store"
[ ! -e "$dir/none" ] || fail "mimamori --check-config made the store directory it was asked about"
rc=0
"$stats" table --check-config -s "$dir/none" -r "$dir/bad.reg" >"$dir/out" 2>&1 || rc=$?
[ $rc = 2 ] && grep -q '^FIX  -r REGISTRY' "$dir/out" || fail "mimamori-stats --check-config with a bad registry"
"$msg" samples >/dev/null || fail "mimamori-msg samples"
say "ok"
