#!/usr/bin/env bash
# ops/run end to end (issue 8): the one-command mesh on the built-in sample, its SOC consoles
# checked through their JSON and in headless Chromium (a screenshot kept), then Ctrl-C: every
# process it started must be gone.
# Then the weekly reports of three companies (content, a PNG and a PDF kept).
# Usage: run_mesh.sh BUILD_DIR OUT_DIR   (OUT_DIR gets the consoles' and a report's screenshots)
set -euo pipefail
set -m  # job control: ops/run gets its own process group, as in a terminal, so SIGINT reaches it
build=$1 out=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d /tmp/mm-runmesh-XXXXXX)
runpid=""
cleanup() {
    [ -n "$runpid" ] && kill -KILL -- "-$runpid" 2>/dev/null || true
    pkill -KILL -f "$dir/" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
fail() {
    echo "run_mesh.sh: $*" >&2
    tail -40 "$dir/out" >&2 || true
    for f in "$dir"/run/logs/*.log; do [ -s "$f" ] && { echo "--- $f" >&2; tail -5 "$f" >&2; }; done
    exit 1
}
say() { echo "run_mesh.sh: $*"; }
sanitizer_check() { ! grep -q 'ERROR: \(Address\|Undefined\|Leak\)Sanitizer\|runtime error:' "$@" || fail "sanitizer report in $*"; }
command -v chromium >/dev/null || fail "chromium is not installed (ops/bootstrap installs it)"

base=$((30000 + RANDOM % 900 * 10))
east=http://127.0.0.1:$((base + 6)) west=http://127.0.0.1:$((base + 7))
MM_RUN_NO_BOOTSTRAP=1 MM_BUILD_DIR=$build "$top/ops/run" --dir "$dir/run" --port-base "$base" \
    --http-base $((base + 6)) >"$dir/out" 2>&1 &
runpid=$!
end=$((SECONDS + 300))
until grep -q "The mesh is up" "$dir/out"; do
    kill -0 "$runpid" 2>/dev/null || fail "ops/run exited before the mesh was up"
    [ $SECONDS -le $end ] || fail "the mesh was not up after 300 s"
    sleep 0.5
done
say "the mesh is up: $(grep -c 'INCIDENT' "$dir/out") incident and $(grep -c 'WARNING' "$dir/out") warning lines shown live"

# What the terminal showed: the four stages, each console's live lines, health, statistics.
for s in "1/5" "2/5" "3/5" "4/5" "5/5"; do grep -q "== $s" "$dir/out" || fail "stage $s not shown"; done
grep -q '\[p-east/kanto\] .*INCIDENT  critical org-02' "$dir/out" || fail "org-02's incident not shown live"
grep -q '\[p-west/kinki\] .*INCIDENT .*org-10 .*feed lateral' "$dir/out" ||
    fail "org-10's detection from the lateral warning not shown"
grep -q '\[p-west/kinki\] .*WARNING .*to org-10 ' "$dir/out" || fail "org-10's warning not shown"
grep -q 's-06 (org-06) silent: on the console' "$dir/out" || fail "the stopped sensor not shown silent"
grep -q 'p-east/kanto: s-06 silent .*, s-01 ok' "$dir/out" || fail "sensor health not shown, silent first"
grep -q '全国 .* 12 companies' "$dir/out" || fail "no published national statistics row"

# The consoles' data: each sees its own provider's and region's companies only.
python3 - "$east" "$west" <<'PY' || fail "console contents"
import json, sys, time, urllib.request
def get(url): return urllib.request.urlopen(url, timeout=10).read().decode()
# The consoles read the statistics file within 2 s of its writing.
for _ in range(50):
    east, west = (json.loads(get(u + "/api/state.json")) for u in sys.argv[1:3])
    if east["stats"] and west["stats"]:
        break
    time.sleep(0.2)
def orgs(s, kind): return sorted({e["org_id"] for e in s[kind]})
assert east["console"]["provider"] == "p-east" and west["console"]["region"] == "kinki"
assert orgs(east, "incidents") == ["org-02", "org-03", "org-04"], orgs(east, "incidents")
assert orgs(west, "incidents") == ["org-08", "org-10", "org-11"], orgs(west, "incidents")
# The sensor names the feed that matched in its finding's message.
lateral = [e for e in west["incidents"] if "feed lateral" in e["incident"]["message"]]
assert [e["org_id"] for e in lateral] == ["org-10"], lateral
# Every warning copy is about the sample's name, for a company of the console's own side.
assert set(orgs(east, "warnings")) <= {"org-0%d" % i for i in range(1, 7)}, orgs(east, "warnings")
assert set(orgs(west, "warnings")) <= {"org-%02d" % i for i in range(7, 13)}, orgs(west, "warnings")
assert "org-10" in orgs(west, "warnings") and "org-05" in orgs(east, "warnings")
assert all(w["warning"]["indicator"]["value"] == "skullseclabs.org" for w in east["warnings"] + west["warnings"])
# No copy names the hit companies.
for w in east["warnings"] + west["warnings"]:
    body = json.dumps(w["warning"], ensure_ascii=False)
    assert "org-03" not in body and "org-04" not in body, body
assert east["stats"] and all(r["schema"] == "mimamori.stats/1" for r in east["stats"])
# Sensor health: each console has its own six sensors; s-06 (stopped) silent, the rest ok.
def health(s): return {e["sensor_id"]: e["health"]["state"] for e in s["health"]}
he, hw = health(east), health(west)
assert he == {"s-0%d" % i: "silent" if i == 6 else "ok" for i in range(1, 7)}, he
assert hw == {"s-%02d" % i: "ok" for i in range(7, 13)}, hw
metrics = get(sys.argv[1] + "/metrics")
n = [l for l in metrics.splitlines() if l.startswith("mimamori_console_incidents_total ")]
assert n and int(n[0].split()[1]) == len(east["incidents"]) == 3, (n, len(east["incidents"]))
print("run_mesh.sh: consoles: east incidents %s, west %s (org-10 from the lateral feed), %d + %d warnings, %d statistics rows"
      % (orgs(east, "incidents"), orgs(west, "incidents"), len(east["warnings"]), len(west["warnings"]), len(east["stats"])))
PY

# Every daemon's /metrics: Prometheus text, figures that agree with the scenario, and no
# company, sensor or address in a label.
python3 - "http://127.0.0.1:$((base + 56))" "http://127.0.0.1:$((base + 57))" \
    "http://127.0.0.1:$((base + 58))" "$east" "$west" <<'PY' || fail "metrics"
import re, sys, urllib.request
def get(url): return urllib.request.urlopen(url + "/metrics", timeout=10).read().decode()
sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-z_]+)="([^"]*)"\})? (-?[0-9.e+-]+|NaN)$')
def parse(text):
    values, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            types[name] = kind
            continue
        if line.startswith("# HELP "):
            continue
        m = sample.match(line)
        assert m, "not exposition format: %r" % line
        name, _, label, value, v = m.groups()
        assert name in types or name.rsplit("_", 1)[0] in types, "no TYPE for " + name
        if value is not None and label != "quantile":
            assert re.fullmatch(r"[a-z0-9_.-]+", value) and not re.match(r"(org|s|b|soc)-", value) \
                and not re.fullmatch(r"[0-9.]+", value), "label value %r" % value
        values[(name, value)] = float(v)
    return values
agg, kanto, kinki, east, west = (parse(get(u)) for u in sys.argv[1:6])
for m in (agg, kanto, kinki, east, west):
    assert m, "empty metrics"
stored = kanto[("mimamori_broker_events_stored_total", None)] + kinki[("mimamori_broker_events_stored_total", None)]
# The aggregator stores the sensors' events and the brokers' own silence findings.
silences = sum(m[("mimamori_broker_sensor_silences_total", None)] for m in (kanto, kinki))
assert silences == 1, silences
assert stored > 0 and agg[("mimamori_aggregator_events_stored_total", None)] == stored + silences, (stored, agg)
assert agg[("mimamori_aggregator_incidents_total", None)] == 7, agg[("mimamori_aggregator_incidents_total", None)]
assert agg[("mimamori_aggregator_rule_fired_total", "r2")] >= 1
assert agg[("mimamori_aggregator_warnings_sent_total", None)] >= 1
assert agg[("mimamori_aggregator_consoles", None)] == 2
assert kanto[("mimamori_broker_sensors", None)] == 6 and kinki[("mimamori_broker_sensors", None)] == 6
assert kanto[("mimamori_broker_sensors_silent", None)] == 1 and kinki[("mimamori_broker_sensors_silent", None)] == 0
assert agg[("mimamori_aggregator_sensors", "silent")] == 1 and agg[("mimamori_aggregator_sensors", "ok")] == 11
assert kanto[("mimamori_broker_forward_backlog", None)] == 0
assert kinki[("mimamori_broker_down_delivered_total", None)] >= 1
assert all(v == 0 for (n, l), v in kanto.items() if n == "mimamori_broker_frames_bad_total")
assert east[("mimamori_console_incidents_total", None)] + west[("mimamori_console_incidents_total", None)] == 7
print("run_mesh.sh: metrics: %d events through 2 brokers, 7 incidents, %d warnings sent, 2 consoles"
      % (stored, agg[("mimamori_aggregator_warnings_sent_total", None)]))
PY

# The page in headless Chromium: what it shows after its script ran, and a screenshot.
chrome() {
    timeout 90 chromium --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$dir/chromium" --virtual-time-budget=5000 --window-size=1400,1800 "$@" \
        2>>"$dir/chromium.log"
}
chrome --dump-dom "$west/" >"$dir/west.html" || fail "chromium failed (see its log)"
python3 - "$dir/west.html" <<'PY' || fail "the page in Chromium"
import re, sys
html = open(sys.argv[1], encoding="utf-8").read()
assert 'data-ready="1"' in html, "the page's script did not render the state"
assert "soc-p-west-kinki: provider p-west, region kinki" in html
incidents = html[html.index('id="incident-list"'):html.index('id="warnings"')]
# Severe incidents, each with what to do in Japanese; the lateral one for org-10 first among
# the critical ones.
cards = re.findall(r'<div class="card incident[^"]*">(.*?)<button', incidents)
assert all("対応" in c for c in cards)
assert "org-10" in cards[0] and "critical" in cards[0], cards[0][:300]
m = re.search(r'id="n-incidents">\((\d+) open', html)
assert m and int(m.group(1)) == len(cards) == 4, (m and m.group(0), len(cards))
warnings = html[html.index('id="warning-rows"'):html.index('id="health"')]
assert "skullseclabs.org" in warnings and "org-10" in warnings
assert 'class="warning active"' in warnings
health = html[html.index('id="health-rows"'):html.index('id="timeline"')]
assert health.count('class="health ok"') == 6 and "silent" not in health.split("</tr>")[0]
stats = html[html.index('id="stats"'):]
assert "<svg" in stats and "12</text>" in stats, "no chart of the published cell"
assert "全国" in stats
print("run_mesh.sh: Chromium: %d incident cards, warnings, a chart of the statistics" % len(cards))
PY
chrome --dump-dom "$east/" >"$dir/east.html" || fail "chromium failed (see its log)"
python3 - "$dir/east.html" <<'PY' || fail "the east page's sensor health in Chromium"
import re, sys
html = open(sys.argv[1], encoding="utf-8").read()
rows = re.findall(r'<tr class="health (\w+)"><td>([^<]*)</td>', html)
assert rows and rows[0] == ("silent", "s-06"), rows[:2]
assert [r for r in rows[1:] if r[0] != "ok"] == [], rows
assert "(6 sensors, 1 silent, 1 not ok)" in html
print("run_mesh.sh: Chromium: east's sensor health lists the silent s-06 first")
PY
mkdir -p "$out"
chrome --screenshot="$out/console-west.png" "$west/" >/dev/null || fail "no screenshot"
chrome --screenshot="$out/console-east.png" "$east/" >/dev/null || fail "no screenshot"
for p in "$out/console-west.png" "$out/console-east.png"; do
    [ "$(head -c 8 "$p" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$p is not a PNG"
done
say "screenshots: $out/console-east.png, $out/console-west.png"

# The weekly reports (mimamori report) of three companies from the same store: org-10 (a
# severe incident from the lateral feed and the warning that caused it), org-05 (a warning
# only) and org-12 (an ordinary week).
week=$(TZ=Asia/Tokyo date +%G-W%V)
for o in org-10 org-05 org-12; do
    "$build/aggregator/mimamori" -s "$dir/run/aggregator-store" report --org "$o" --week "$week" \
        -r "$top/ops/sample/registry.reg" -o "$dir/report-$o.html" 2>>"$dir/report.log" ||
        fail "mimamori report --org $o failed: $(cat "$dir/report.log")"
done
python3 - "$dir" <<'PY' || fail "the weekly reports' contents"
import re, sys
d = sys.argv[1]
def page(o): return open(f"{d}/report-{o}.html", encoding="utf-8").read()
ten, five, twelve = page("org-10"), page("org-05"), page("org-12")
for p in (ten, five, twelve):
    assert p.startswith("<!DOCTYPE html>") and 'lang="ja"' in p and "<script" not in p
    assert "http://" not in p and "https://" not in p, "an external reference"
# Company name, provider and the week in Japanese.
assert "淀川運輸 様" in ten and "West SOC K.K." in ten and "対象期間" in ten
# org-10: one severe incident with what to do, and the warning from its chain.
assert "今週は、すぐに対応していただきたい問題がありました" in ten
assert "お願いしたい対応: この宛先への通信を遮断してください" in ten
assert re.search(r'<span class="n">1 件</span>すぐに対応が必要な問題', ten)
assert "貴社と同じサプライチェーンの会社で見つかりました" in ten and "skullseclabs.org" in ten
# org-05: no incident of its own, a warning from its chain.
assert "貴社での重大な問題はありませんでしたが" in five and "江東ロジスティクス 様" in five
# org-12: an ordinary week: nothing severe, no warning, the ordinary findings counted.
assert "今週は、貴社で重大な問題は見つかりませんでした" in twelve
assert re.search(r'<span class="n">0 件</span>取引先からの注意喚起', twelve)
assert "名前の問い合わせ(DNS)を使った不審な通信" in twelve
# Sensor uptime: the company's own sensor, watched all week so far.
assert re.search(r"<td>s-12</td><td class=\"n\">100.0 %</td>", twelve), "uptime of s-12"
# A report never names another company.
for o in ("org-03", "org-04", "武蔵野金属", "房総食品"):
    assert o not in ten and o not in five, o
print("run_mesh.sh: weekly reports of org-10, org-05, org-12 read as expected")
PY
chrome --screenshot="$out/report-org-10.png" --window-size=900,1400 "file://$dir/report-org-10.html" \
    >/dev/null || fail "no screenshot of the report"
chrome --print-to-pdf="$out/report-org-10.pdf" --no-pdf-header-footer "file://$dir/report-org-10.html" \
    >/dev/null 2>&1 || fail "no PDF of the report"
[ "$(head -c 5 "$out/report-org-10.pdf")" = "%PDF-" ] || fail "the report's PDF is not a PDF"
say "report: $out/report-org-10.png, $out/report-org-10.pdf"

# Ctrl-C: SIGINT to ops/run's process group, as a terminal sends it.
kill -INT -- "-$runpid"
end=$((SECONDS + 30))
while kill -0 "$runpid" 2>/dev/null; do
    [ $SECONDS -le $end ] || fail "ops/run still running 30 s after Ctrl-C"
    sleep 0.2
done
wait "$runpid" || true
runpid=""
sleep 0.5
left=$(pgrep -f "$dir/" || true)
[ -z "$left" ] || fail "processes left after Ctrl-C: $(ps -o pid,args -p "$(echo $left | tr ' ' ,)")"
sanitizer_check "$dir"/run/logs/*.log
grep -q 'stopping (Ctrl-C)' "$dir/out" || fail "ops/run did not say it was stopping"
say "Ctrl-C stopped everything ops/run started"
say "ok"
