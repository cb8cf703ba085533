#!/usr/bin/env bash
# Lateral warning end to end over loopback (issue 6): real sensors replay a real capture (a
# DNS tunnel to skullseclabs.org, from nDPI's test suite) at two companies of one supply chain
# whose feeds know the domain; the aggregator sees a chain campaign and warns every member of
# the chain; a partner's sensor, whose own feed knows nothing, then detects the domain in its
# own traffic from the WATCHLIST it received. Along the way:
#   - only members of the chain hear of it (a company of another chain gets nothing), through
#     both regional brokers;
#   - the hit companies' provider SOC console gets an INCIDENT for each (its latency is
#     bench_lateral's: the replayed packets carry 2017 times);
#     a console sees only its own provider's and region's companies;
#   - no message down the mesh names a hit company;
#   - a revocation goes to every earlier recipient (the aggregator's count) and reaches
#     org-18's sensor through the other broker.
# Registry: tests/data/registry/sample.reg (c-food = org-09 .. org-20; org-01 .. 15 Kanto
# p-east; 16 .. 30 Kinki p-west, but org-21 is p-east).
# Then R3 and R4 with a second capture (see below).
# Usage: lateral_e2e.sh AGGREGATOR BROKER KEYGEN SENSOR DOWN_SIM CONSOLE_SIM REGISTRY PCAP
#        ALLOWLISTS PCAP2
set -euo pipefail
agg=$1 broker=$2 keygen=$3 sensor=$4 dsim=$5 csim=$6 registry=$7 pcap=$8 allow=$9 pcap2=${10}
mimamori=${11:-} stats=${12:-}
dir=$(mktemp -d /tmp/mm-lateral-XXXXXX)
pids=()
killall_() { for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap 'killall_; rm -rf "$dir"' EXIT
fail() {
    echo "lateral_e2e.sh: $*" >&2
    for f in "$dir"/*.log "$dir"/*.out; do [ -f "$f" ] && { echo "--- $f" >&2; tail -15 "$f" >&2; }; done
    exit 1
}
say() { echo "lateral_e2e.sh: $*"; }
sanitizer_check() { ! grep -q 'ERROR: \(Address\|Undefined\|Leak\)Sanitizer\|runtime error:' "$1" || fail "sanitizer report in $1"; }

k() { "$keygen" "$@" --out "$dir/keys" >/dev/null; }
k --role aggregator --id centre
k --role broker --id b-kanto --region kanto
k --role broker --id b-kinki --region kinki
for s in 03 09 10 11 12 15; do k --role sensor --id "s-$s" --org "org-$s" --region kanto; done
k --role sensor --id s-18 --org org-18 --region kinki
k --role sensor --id s-22 --org org-22 --region kinki
k --role console --id soc-east-kanto --org p-east --region kanto
k --role console --id soc-west-kinki --org p-west --region kinki
k --role console --id soc-east-kinki --org p-east --region kinki
mkdir "$dir/brokers" "$dir/kanto" "$dir/kinki" "$dir/consoles" "$dir/revoke" "$dir/feeds"
cp "$dir/keys/b-kanto.cert" "$dir/keys/b-kinki.cert" "$dir/brokers/"
for s in 03 09 10 11 12 15; do cp "$dir/keys/s-$s.cert" "$dir/kanto/"; done
cp "$dir/keys/s-18.cert" "$dir/keys/s-22.cert" "$dir/kinki/"
cp "$dir/keys/"soc-*.cert "$dir/consoles/"
cat >"$dir/feeds/partner-intel.txt" <<'FEED'
# mimamori: severity=high
skullseclabs.org
FEED
cat >"$dir/feeds/second-intel.txt" <<'FEED'
# mimamori: severity=high
suricata-ids.org
FEED

base=$((20000 + RANDOM % 2900 * 4))
agg_ep="tcp://127.0.0.1:$base"
kanto_ep="tcp://127.0.0.1:$((base + 1))"
kinki_ep="tcp://127.0.0.1:$((base + 2))"
con_ep="tcp://127.0.0.1:$((base + 3))"

cat >"$dir/agg.ini" <<INI
[brokers]
bind = $agg_ep
cert_dir = $dir/brokers
[keys]
cert_secret = $dir/keys/centre.cert_secret
[store]
path = $dir/agg-store
[registry]
path = $registry
[correlate]
allowlists = $allow
revoke_inbox = $dir/revoke
[consoles]
bind = $con_ep
cert_dir = $dir/consoles
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
# sensor_ini ID FEEDS [kinki]: a sensor of the Kanto broker (or of the Kinki one).
sensor_ini() {
    local ep=$kanto_ep b=b-kanto
    [ "${3:-}" = kinki ] && ep=$kinki_ep b=b-kinki
    cat >"$dir/s-$1.ini" <<INI
[sensor]
id = s-$1
org = org-$1
home_net = 192.168.0.0/16
[ioc]
feeds = $2
[uplink]
enabled = true
broker = $ep
broker_cert = $dir/keys/$b.cert
cert_secret = $dir/keys/s-$1.cert_secret
spool_dir = $dir/spool-s-$1
heartbeat_s = 1
ack_timeout_ms = 1000
drain_s = 20
INI
}

start() { # NAME BINARY INI: waits for "NAME: listening on"
    "$2" -c "$dir/$3" 2>>"$dir/${3%.ini}.log" &
    pids+=($!)
    for _ in $(seq 200); do
        grep -q "^$1: listening on" "$dir/${3%.ini}.log" 2>/dev/null && return 0
        kill -0 "$!" 2>/dev/null || fail "$1 ($3) exited at start (port taken?)"
        sleep 0.05
    done
    fail "$1 ($3) did not start"
}
wait_grep() { # PATTERN FILE SECONDS
    local end=$((SECONDS + $3))
    until grep -q -- "$1" "$2" 2>/dev/null; do
        [ $SECONDS -le $end ] || fail "no '$1' in $2 after $3 s"
        sleep 0.1
    done
}

start mimamori-aggregator "$agg" agg.ini
grep -q 'correlating with registry' "$dir/agg.log" || fail "the aggregator does not correlate"
start mimamori-broker "$broker" kanto.ini
start mimamori-broker "$broker" kinki.ini
end=$((SECONDS + 15))
until [ "$(grep -c 'registered' "$dir/agg.log" || true)" -ge 2 ]; do
    [ $SECONDS -le $end ] || fail "the brokers did not register at the aggregator"
    sleep 0.1
done
for c in soc-east-kanto soc-west-kinki soc-east-kinki; do
    "$csim" "$con_ep" "$dir/keys/centre.cert" "$dir/keys/$c.cert_secret" 90 >"$dir/$c.out" \
        2>>"$dir/$c.log" &
    pids+=($!)
done
# A member in Kinki (org-18) and a company of another chain (org-03, c-auto) listen.
"$dsim" listen "$kinki_ep" "$dir/keys/b-kinki.cert" "$dir/keys/s-18.cert_secret" \
    "$dir/spool-s-18" 90 >"$dir/s-18.out" 2>>"$dir/s-18.log" &
pids+=($!)
"$dsim" listen "$kanto_ep" "$dir/keys/b-kanto.cert" "$dir/keys/s-03.cert_secret" \
    "$dir/spool-s-03" 90 >"$dir/s-03.out" 2>>"$dir/s-03.log" &
pids+=($!)
wait_grep 'soc-east-kanto (provider p-east, region kanto) connected' "$dir/agg.log" 15
wait_grep 'soc-west-kinki (provider p-west, region kinki) connected' "$dir/agg.log" 15

# The two hit companies replay the capture; their feeds know the domain.
sensor_ini 12 "$dir/feeds/partner-intel.txt"
sensor_ini 15 "$dir/feeds/partner-intel.txt"
for s in 12 15; do
    "$sensor" -c "$dir/s-$s.ini" -r "$pcap" 2>"$dir/s-$s.log" || fail "sensor s-$s exited with $?"
    sanitizer_check "$dir/s-$s.log"
    grep -q 'still spooled 0' "$dir/s-$s.log" || fail "s-$s: not everything acknowledged"
done
say "s-12 and s-15 replayed $(basename "$pcap") with the domain in their feeds"

# The chain campaign reaches org-18's sensor through the other broker.
wait_grep 'watchlist' "$dir/s-18.out" 20
wait_grep 'warning' "$dir/s-18.out" 20
say "org-18 (Kinki, c-food) received: $(tr '\n' ';' <"$dir/s-18.out")"

# The partner org-09 (c-food, no feed of its own) replays the same capture in real time at
# 20x: the WATCHLIST held for it arrives as it connects and its matcher detects the domain.
sensor_ini 09 ""
"$sensor" -c "$dir/s-09.ini" --realtime --speed 20 --jsonl "$dir/s-09.jsonl" -r "$pcap" \
    2>"$dir/s-09.log" || fail "sensor s-09 exited with $?"
sanitizer_check "$dir/s-09.log"
python3 - "$dir/s-09.jsonl" <<'PY' || fail "org-09 did not detect the domain from the lateral warning"
import json, sys
hits = [e for e in map(json.loads, open(sys.argv[1]))
        if e.get("event_type") == "alert" and (e["alert"].get("indicator") or {}).get("feed") == "lateral"]
assert hits, "no alert from the lateral feed"
ind = hits[0]["alert"]["indicator"]
assert ind["value"] == "skullseclabs.org" and ind["type"] == "domain", ind
print("lateral_e2e.sh: org-09 detected %s from the lateral warning (%d alerts)" % (ind["value"], len(hits)))
PY

sleep 1
# Nothing for the other chain.
[ ! -s "$dir/s-03.out" ] || fail "org-03 (c-auto only) received: $(cat "$dir/s-03.out")"
say "org-03 (another chain) received nothing"

# The consoles: the p-east Kanto SOC has an INCIDENT for each hit company and warnings for its
# Kanto c-food companies only; p-west Kinki the warnings of its Kinki members; p-east Kinki
# (org-21, not in c-food) nothing.
python3 - "$dir" <<'PY' || fail "console contents"
import json, sys
d = sys.argv[1]
def lines(n): return [json.loads(l) for l in open(f"{d}/{n}.out")]
east, west, ek = lines("soc-east-kanto"), lines("soc-west-kinki"), lines("soc-east-kinki")
def kind(e): return e.get("event_type") or e.get("type")
inc = [e for e in east if kind(e) == "incident"]
# org-12 and org-15 from their feeds, org-09 from the lateral warning: each is a severe
# finding of a p-east Kanto company.
assert sorted(e["org_id"] for e in inc) == ["org-09", "org-12", "org-15"], [e.get("org_id") for e in inc]
# No warning body names a hit company or its sensor (the recipient's own id is the envelope).
for e in east + west:
    if kind(e) == "warning":
        body = json.dumps(e["warning"])
        for hit in ("org-09", "org-12", "org-15", "s-09", "s-12", "s-15", "Company"):
            assert hit not in body, (hit, e["org_id"], body)
warn_orgs = lambda ls: sorted({e["org_id"] for e in ls if kind(e) == "warning"})
we, ww = warn_orgs(east), warn_orgs(west)
# c-food's Kanto members, and org-04: org-09's direct customer (in c-auto), warned by R1 once
# org-09 itself detected the domain.
assert we and set(we) <= {"org-%02d" % i for i in range(9, 16)} | {"org-04"}, we
assert ww and set(ww) <= {"org-%02d" % i for i in range(16, 21)}, ww
# p-east's Kinki console hears only of its one Kinki company's sensor (HEALTH, issue 8).
assert not [e for e in ek if kind(e) != "health"], ek
assert {e["org_id"] for e in ek} <= {"org-21"}, ek
assert all(e["org_id"] in {"org-%02d" % i for i in range(1, 16)} for e in east if kind(e) == "health")
print("lateral_e2e.sh: consoles: p-east/kanto incidents for org-09, org-12, org-15 and warnings for %s; "
      "p-west/kinki warnings for %s; p-east/kinki nothing" % (",".join(we), ",".join(ww)))
PY

# Revocation: the warning id from org-18's copy; every sensor that got it hears of it.
wid=$(awk '/^warning /{print $2; exit}' "$dir/s-18.out")
[ -n "$wid" ] || fail "no warning id"
echo "$wid" >"$dir/revoke/x.tmp" && mv "$dir/revoke/x.tmp" "$dir/revoke/fp.revoke"
wait_grep "warning $wid org-18 revoked" "$dir/s-18.out" 15
wait_grep "revoked: [0-9]* earlier recipients told" "$dir/agg.log" 5
say "revocation of $wid reached org-18: $(grep -o 'revoked: [0-9]* earlier recipients told' "$dir/agg.log")"

# R3 and R4 through the real daemons, with a second indicator (suricata-verify's
# dns-dig capture, a lookup of www.suricata-ids.org) in a second feed:
#   org-12 then org-10, which org-12 supplies: a chain campaign (c-food) and possible spread
#   along that link (R3: critical);
#   then org-11 (industry E, p-east, c-food) and org-22 (industry E, p-west, Kinki, c-elec):
#   three E companies, two providers, not all of one chain: an industry advisory (R4).
replay() { # ID [kinki]
    sensor_ini "$1" "$dir/feeds/second-intel.txt" "${2:-}"
    "$sensor" -c "$dir/s-$1.ini" -r "$pcap2" 2>"$dir/s-$1.log" || fail "sensor s-$1 exited with $?"
    sanitizer_check "$dir/s-$1.log"
    grep -q 'still spooled 0' "$dir/s-$1.log" || fail "s-$1: not everything acknowledged"
}
replay 12
replay 10
replay 11
replay 22 kinki
sleep 1
python3 - "$dir" <<'PY' || fail "R3/R4 at the consoles"
import json, sys
d = sys.argv[1]
def lines(n): return [json.loads(l) for l in open(f"{d}/{n}.out")]
def second(ls): return [e for e in ls if e.get("event_type") == "warning"
                        and e["warning"]["indicator"]["value"] == "suricata-ids.org"]
east, west = second(lines("soc-east-kanto")), second(lines("soc-west-kinki"))
# R3: org-10 hears of it as critical, from its direct supplier (it has 2 suppliers and 2
# customers, so the relation may say so).
ten = [e for e in east if e["org_id"] == "org-10"]
assert ten and ten[-1]["warning"]["severity"] == "critical", ten[-1:] or "no copy for org-10"
assert ten[-1]["warning"]["relation"] == "direct_supplier", ten[-1]["warning"]["relation"]
# R4: org-25 (Kinki, E, c-elec, no partner of a hit company) hears of it only as an industry
# advisory.
t25 = [e for e in west if e["org_id"] == "org-25"]
assert t25 and t25[-1]["warning"]["relation"] == "same_region_industry", t25[-1:] or "none"
print("lateral_e2e.sh: R3: org-10 told critical (direct supplier); R4: org-25 told "
      "(same region/industry); %d + %d copies at the two consoles" % (len(east), len(west)))
PY

# Issue 7: the two hit companies replay the capture once more as if it happened now
# (--retime: the capture is years old, past every retention), for this week's statistics.
if [ -n "$stats" ]; then
    now=$(date +%s)
    for s in 12 15; do
        "$sensor" -c "$dir/s-$s.ini" --retime -r "$pcap" 2>"$dir/s-$s-now.log" ||
            fail "sensor s-$s (--retime) exited with $?"
        sanitizer_check "$dir/s-$s-now.log"
        grep -q 'still spooled 0' "$dir/s-$s-now.log" || fail "s-$s: not everything acknowledged"
    done
fi

for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
wait 2>/dev/null || true
pids=()
sanitizer_check "$dir/agg.log"
grep -q 'correlation: ' "$dir/agg.log" || fail "no correlation summary"
rules=$(grep -o '(R1 [0-9]*, R2 [0-9]*, R3 [0-9]*, R4 [0-9]*)' "$dir/agg.log" | tail -1)
for r in R1 R2 R3 R4; do
    grep -q "$r [1-9]" <<<"$rules" || fail "rule $r never fired end to end: $rules"
done
say "every rule fired through the real daemons: $rules"
say "$(grep -o 'correlation: .*' "$dir/agg.log" | tail -1 | cut -c1-200)"

# Issue 7: the findings of that replay show up in this week's statistics (the week in Tokyo,
# UTC+9). Too few companies for the council's table to publish a number: every cell is
# suppressed there, while a provider's own table (k 1) counts the two companies.
if [ -n "$stats" ]; then
    week=$(date -u -d "@$((now + 9 * 3600))" +%G-W%V)
    "$stats" table -s "$dir/agg-store" -r "$registry" --period "$week" --jsonl "$dir/week.jsonl" \
        --csv "$dir/week.csv" 2>"$dir/stats.log" || { cat "$dir/stats.log" >&2; fail "mimamori-stats table failed"; }
    sanitizer_check "$dir/stats.log"
    rows=$(wc -l <"$dir/week.jsonl")
    [ "$rows" -gt 0 ] && [ "$(grep -c '"suppressed":true' "$dir/week.jsonl")" = "$rows" ] ||
        fail "the council's table of $week published a cell of too few companies"
    "$stats" table -s "$dir/agg-store" -r "$registry" --period "$week" --level provider --k 1 \
        --jsonl "$dir/own.jsonl" 2>>"$dir/stats.log" || { cat "$dir/stats.log" >&2; fail "provider table failed"; }
    python3 - "$dir/own.jsonl" <<'PY' || fail "the detections are not in the week's table"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
# Both companies (one network sensor each) are counted in a national row (the DNS tunnel
# both replays show), and the known-bad name one of them matched has its row.
national = [r for r in rows if r["region"] == "all" and r["industry"] == "all"]
most = max(national, key=lambda r: r["orgs_affected"] or 0)
assert most["orgs_affected"] >= 2, national
assert any(r["category"] == "known-bad-contact" for r in national), national
print("lateral_e2e.sh: week %s: %d rows; %s at %d companies" %
      (rows[0]["period"], len(rows), most["category"], most["orgs_affected"]))
PY
    say "statistics: $(grep -o '[0-9]* findings read, [0-9]* counted' "$dir/stats.log" | head -1) in $week"
fi
say "ok"
