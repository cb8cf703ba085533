#!/usr/bin/env bash
# mimamori-sensor's command line: help, version, refusals with a reason and status 2, and a
# configuration file whose error names its line.
set -uo pipefail
sensor=$1
data=$(cd "$(dirname "$0")/../data/pcap" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
expect() {   # expect NAME STATUS PATTERN -- command...
    local name=$1 want=$2 pattern=$3
    shift 4
    local out rc
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -ne "$want" ] || ! grep -qE -- "$pattern" <<<"$out"; then
        echo "FAIL: $name: status $rc (want $want), output: $out" | head -5
        fail=1
    else
        echo "ok: $name"
    fi
}
expect "help" 0 "usage: mimamori-sensor" -- "$sensor" --help
expect "version" 0 "^mimamori-sensor [0-9]+\.[0-9]+\.[0-9]+" -- "$sensor" --version
expect "no input" 2 "give capture files \(-r\) or an interface \(-i\)" -- "$sensor"
expect "files and interface" 2 "not both" -- "$sensor" -r "$data/sv-dns-dig.pcap" -i lo
expect "unknown flag" 2 "usage" -- "$sensor" --no-such-flag
expect "bad home net" 2 "sensor.home_net: '300.1.1.1' is not an IPv4 or IPv6 address" -- \
    "$sensor" --home-net 300.1.1.1 -r "$data/sv-dns-dig.pcap"
expect "bad speed" 2 "--speed 'fast' is not a factor" -- "$sensor" --realtime --speed fast -r "$data/sv-dns-dig.pcap"
expect "missing file" 1 "nope.pcap" -- "$sensor" --quiet -r "$work/nope.pcap"
printf '[sensor]\nid = s-1\n\n[flow]\nmax_flows = 10\n' >"$work/bad.ini"
expect "config error names the line" 2 "bad.ini:5: flow.max_flows: '10' is not a whole number" -- \
    "$sensor" -c "$work/bad.ini" -r "$data/sv-dns-dig.pcap"
"$sensor" --print-config >"$work/all.ini"
expect "--config=FILE form" 2 "bad.ini:5: flow.max_flows" -- \
    "$sensor" --config="$work/bad.ini" -r "$data/sv-dns-dig.pcap"
expect "-cFILE form" 2 "bad.ini:5: flow.max_flows" -- "$sensor" -c"$work/bad.ini" -r "$data/sv-dns-dig.pcap"
# Realtime over two files whose times are apart: each is paced from its own start.
start=$(date +%s)
expect "realtime re-anchors per file" 0 "packets" -- timeout 20 "$sensor" --realtime --speed 1000 \
    -r "$data/sv-dns-dig.pcap" "$data/sv-community-id-ipv4.pcap"
[ $(( $(date +%s) - start )) -lt 15 ] || { echo "FAIL: realtime across files took too long"; fail=1; }
expect "printed config loads back" 0 "mimamori-sensor: packets" -- \
    "$sensor" -c "$work/all.ini" -r "$data/sv-dns-dig.pcap"
printf '[sensor]\nid = kanto-7\norg = sme-42\n' >"$work/ids.ini"
expect "config values reach the events" 0 '"sensor_id":"kanto-7","org_id":"sme-42"' -- \
    "$sensor" --quiet -c "$work/ids.ini" --jsonl - -r "$data/sv-dns-dig.pcap"
expect "flags override the file" 0 '"sensor_id":"flag-id"' -- \
    "$sensor" --quiet -c "$work/ids.ini" --sensor-id flag-id --jsonl - -r "$data/sv-dns-dig.pcap"
exit $fail
