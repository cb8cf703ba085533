#!/usr/bin/env bash
# ./ops/run with a user's own registry, feed and capture (issue 8: "a user's own configuration
# and captures replace the built-in ones with flags"): one region, one provider, three
# companies of one chain; the capture replayed by the first sensor, whose feed knows the name
# in it; --once stops everything after the summary.
# Usage: run_own.sh BUILD_DIR
set -euo pipefail
build=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d /tmp/mm-runown-XXXXXX)
trap 'pkill -KILL -f "$dir/" 2>/dev/null || true; rm -rf "$dir"' EXIT
fail() { echo "run_own.sh: $*" >&2; tail -30 "$dir/out" >&2 || true; exit 1; }

cat >"$dir/my.reg" <<'REG'
provider p-chubu name="Chubu SOC"
org a provider=p-chubu pref=23 industry=E size=small name="Alpha"
org b provider=p-chubu pref=21 industry=E size=small name="Beta"
org c provider=p-chubu pref=22 industry=H size=micro name="Gamma"
chain ch name="Chain" owner=a
member ch a tier=0
member ch b tier=1
member ch c tier=1
edge b -> a chain=ch link=edi
edge c -> a chain=ch link=email
sensor s-a org=a
sensor s-b org=b
sensor s-c org=c
REG
mkdir "$dir/feeds"
printf '# mimamori: severity=high\nskullseclabs.org\n' >"$dir/feeds/mine.txt"
base=$((40000 + RANDOM % 900 * 10))
rc=0
MM_RUN_NO_BOOTSTRAP=1 MM_BUILD_DIR=$build timeout 240 "$top/ops/run" --once --dir "$dir/run" \
    --port-base "$base" --http-base $((base + 5)) --registry "$dir/my.reg" --feeds "$dir/feeds" \
    "$top/tests/data/pcap/nd-bad-dns-traffic.pcap" >"$dir/out" 2>&1 || rc=$?
[ $rc = 0 ] || fail "ops/run exited $rc"
grep -q 'starting the mesh (1 regions, 3 sensors, 1 SOC consoles)' "$dir/out" || fail "not the registry given"
grep -q 'Replaying 1 capture(s)' "$dir/out" || fail "not the capture given"
grep -q '\[p-chubu/chubu\] .*INCIDENT  high     a ' "$dir/out" || fail "no incident for company a"
grep -q '\[p-chubu/chubu\] .*WARNING .* to b ' "$dir/out" || fail "no warning for its partner b"
grep -q 'p-chubu/chubu: .*s-a ok' "$dir/out" || fail "no sensor health"
! grep -q 'org-0\|c-food\|kanto' "$dir/out" || fail "the built-in sample leaked into a run of one's own"
sleep 0.5
[ -z "$(pgrep -f "$dir/" || true)" ] || fail "processes left after --once"
echo "run_own.sh: ok"
