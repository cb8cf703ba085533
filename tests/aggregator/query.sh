#!/usr/bin/env bash
# mimamori (query, warnings, exports) on a store with known content, no network (issue 6):
# query_fill stores six findings from two brokers and correlates them on the sample registry
# (see its header): an IP warning (R1), a domain warning (R2, chain c-food), a /24 warning (two
# addresses of one /24 at two orgs of c-elec, two providers), a hash warning that is then
# revoked, and three damaged records. Every command is run and its output checked exactly:
# JSON with python3, the STIX bundle object by object (ids are UUIDv5 of the warning ids), no
# org id in either export, --active without the revoked warning, time ranges, exit codes, and a
# read-only reader beside a live writer.
# Usage: query.sh MIMAMORI QUERY_FILL REGISTRY ALLOWLISTS
set -euo pipefail
mimamori=$1 fill=$2 registry=$3 allow=$4
dir=$(mktemp -d /tmp/mm-query-XXXXXX)
holder=
cleanup() { [ -n "$holder" ] && kill "$holder" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
fail() { echo "query.sh: $*" >&2; exit 1; }
sanitizer_check() { ! grep -q 'ERROR: \(Address\|Undefined\|Leak\)Sanitizer\|runtime error:' "$1" || { cat "$1" >&2; fail "sanitizer report in $1"; }; }

# Two hours ago, on a whole second: the findings' times are BASE + offsets.
base=$(( $(date +%s) - 7200 ))
"$fill" "$dir/store" "$registry" "$allow" "$base" >"$dir/fill.out" 2>"$dir/fill.log" ||
    { cat "$dir/fill.log" >&2; fail "query_fill failed"; }
sanitizer_check "$dir/fill.log"
revoked=$(awk '/^revoked /{print $2}' "$dir/fill.out")
[ -n "$revoked" ] || fail "query_fill revoked nothing"
echo "query.sh: store filled (base $base), revoked $revoked"

python3 - "$mimamori" "$dir" "$base" "$revoked" "$registry" <<'PY'
import datetime, json, re, subprocess, sys, uuid

mimamori, d, base, revoked, registry = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
store = d + "/store"
NS = 10**9
checks = 0

def run(*args, rc=0, store_=store):
    p = subprocess.run([mimamori, "-s", store_, *args], capture_output=True, text=True)
    sys.stderr.write(p.stderr if "Sanitizer" in p.stderr or "runtime error" in p.stderr else "")
    assert "Sanitizer" not in p.stderr and "runtime error" not in p.stderr, p.stderr
    assert p.returncode == rc, (args, p.returncode, p.stdout[-500:], p.stderr)
    return p.stdout, p.stderr

def check(cond, what):
    global checks
    checks += 1
    assert cond, what

def jl(text):
    return [json.loads(l) for l in text.splitlines()]

def ns(text):
    """RFC 3339 UTC with up to 9 fraction digits -> ns since the epoch."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z", text)
    assert m, text
    secs = int(datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
               .replace(tzinfo=datetime.timezone.utc).timestamp())
    return secs * NS + int((m.group(2) or "0").ljust(9, "0"))

def t9(s):
    return datetime.datetime.fromtimestamp(s, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + ".000000000Z"

def t3(s):
    return datetime.datetime.fromtimestamp(s, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + ".000Z"

def rfc(s):
    return datetime.datetime.fromtimestamp(s, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
BAD1 = "mimamori: 1 record did not parse and was skipped"

# --- warnings --json: all four, by issue time, exact fields --------------------------------------
out, err = run("warnings", "--json")
ws = jl(out)
check([w["indicator"]["type"] for w in ws] == ["ip", "domain", "cidr", "sha256"], ws)
check(BAD1 in err, err)  # the damaged warning record "0bad"
want = [
    # type, value, match, revision, status, severity, category, recipients, active, ttl days, technique
    ("ip", "45.33.32.156", "exact", 1, "active", "high", "c2_beacon", 3, True, 7, "T1071.001"),
    ("domain", "login.evil-update.net", "subdomains", 2, "updated", "critical", "ioc_match", 12, True, 30, "T1071.004"),
    ("cidr", "185.220.101.0/24", "prefix", 2, "updated", "critical", "c2_beacon", 13, True, 7, "T1071"),
    ("sha256", SHA, "exact", 2, "revoked", "high", "malware", 3, False, 180, "T1204"),
]
for w, (ty, val, match, rev, status, sev, cat, rcpt, active, ttl, tech) in zip(ws, want):
    check(w["indicator"] == {"type": ty, "value": val, "match": match}, w)
    check((w["revision"], w["status"], w["severity"], w["category"], w["recipients"], w["told"], w["active"])
          == (rev, status, sev, cat, rcpt, rcpt, active), w)
    check(w["tlp"] == "TLP:AMBER" and w["techniques"] == [tech] and re.fullmatch(r"[0-9a-f]{32}", w["id"]), w)
    # Valid for the type's lifetime from the last revision (a revoked one keeps its last validity).
    last = w["updated"] if status != "revoked" else w["issued"]
    check(ns(w["valid_until"]) - ns(last) == ttl * 86400 * NS, w)
check(ws[3]["id"] == revoked, (ws[3]["id"], revoked))
check(ws[0]["sighting_key"] == "a:45.33.32.0/24|%016x" % (base * NS), ws[0])
ids = {w["indicator"]["type"]: w["id"] for w in ws}

# --- warnings (table) and --active ---------------------------------------------------------------
out, _ = run("warnings")
lines = out.splitlines()
check(len(lines) == 5, lines)
check(lines[0] == "ID                               REV STATUS   SEVERITY INDICATOR                                MATCH             TOLD/ALL VALID UNTIL", lines[0])
w = ws[0]
check(lines[1] == "%-32s %3u %-8s %-8s %-40s %-17s %8s %s" % (w["id"], 1, "active", "high", "ip:45.33.32.156", "exact", "3/3",
                                                          w["valid_until"][:19] + "Z"), lines[1])
check(lines[4].startswith(revoked + "   2 revoked  high     sha256:" + SHA), lines[4])
out, _ = run("warnings", "--active", "--json")
act = jl(out)
check([w["id"] for w in act] == [ids["ip"], ids["domain"], ids["cidr"]], act)
check(all(w["active"] for w in act), act)
out, _ = run("warnings", "--active")
check(len(out.splitlines()) == 4 and revoked not in out, out)

# --- query indicator -----------------------------------------------------------------------------
def seen(org, sensor, t0, t1, count):
    return {"org_id": org, "first_seen": t9(t0), "last_seen": t9(t1), "count": count, "sensors": 1,
            "first_sensor_id": sensor}

out, err = run("query", "indicator", "45.33.32.156")
check(jl(out) == [{"key": "a:45.33.32.0/24|%016x" % (base * NS), "group": "45.33.32.0/24", "type": "ip",
                   "value": "45.33.32.156", "mixed": False, "first_seen": t9(base), "last_seen": t9(base),
                   "count": 1, "orgs": [seen("org-03", "s-03", base, base, 1)]}], out)
check(BAD1 in err, err)  # the damaged episode of the same group
cidr = {"key": "a:185.220.101.0/24|%016x" % ((base + 1800) * NS), "group": "185.220.101.0/24", "type": "ip",
        "value": "185.220.101.5", "mixed": True, "first_seen": t9(base + 1800), "last_seen": t9(base + 2400),
        "count": 2, "orgs": [seen("org-20", "s-20", base + 1800, base + 1800, 1),
                             seen("org-21", "s-21", base + 2400, base + 2400, 1)]}
out, _ = run("query", "indicator", "185.220.101.77")  # another address of the /24: its group
check(jl(out) == [cidr], out)
out, _ = run("query", "indicator", "185.220.101.0/24", "--type", "cidr")
check(jl(out) == [cidr], out)
dom = {"key": "d:evil-update.net|%016x" % ((base + 600) * NS), "group": "evil-update.net", "type": "domain",
       "value": "login.evil-update.net", "mixed": False, "first_seen": t9(base + 600),
       "last_seen": t9(base + 1200), "count": 2,
       "orgs": [seen("org-12", "s-12", base + 600, base + 600, 1),
                seen("org-15", "s-15", base + 1200, base + 1200, 1)]}
out, _ = run("query", "indicator", "LOGIN.Evil-Update.NET.")  # normalised, then its registered domain
check(jl(out) == [dom], out)
out, _ = run("query", "indicator", "https://www.evil-update.net/x")  # a URL files under its host's
check(jl(out) == [dom], out)
out, _ = run("query", "indicator", SHA.upper())
check(len(jl(out)) == 1 and jl(out)[0]["key"].startswith("8:" + SHA + "|"), out)
out, err = run("query", "indicator", "203.0.113.9", rc=1)
check(out == "" and "no sightings" in err, err)
_, err = run("query", "indicator", "not a domain!", "--type", "domain", rc=2)
check("is not a valid domain indicator" in err, err)
_, err = run("query", "indicator", "1.2.3.4", "--type", "ipv4", rc=2)
check("unknown --type 'ipv4'" in err, err)
_, err = run("query", "indicator", rc=2)
check("usage: mimamori query indicator VALUE" in err, err)

# --- query org -----------------------------------------------------------------------------------
def finding(seq, dt, cat, ty, val, tech):
    return {"timestamp": t9(base + dt), "event_type": "alert", "sensor_id": "s-03", "org_id": "org-99",
            "seq": seq, "severity": "high", "severity_id": 4, "confidence": 90,
            "alert": {"signature": "query_fill", "category": cat, "detector": "ioc.match",
                      "finding_id": seq, "attack": [tech],
                      "indicator": {"type": ty, "value": val, "feed": "partner-intel"}}}
f1 = finding(100, 0, "c2_beacon", "ip", "45.33.32.156", "T1071.001")
f6 = finding(105, 3000, "malware", "sha256", SHA, "T1204")
out, err = run("query", "org", "org-03")
check(jl(out) == [f1, f6], out)  # the flow record (+3100) is no finding; the +100 entry's event is gone
check("mimamori: 1 finding whose event is no longer stored (expired)" in err, err)
out, _ = run("query", "org", "org-03", "--since", rfc(base + 1500))
check(jl(out) == [f6], out)
out, _ = run("query", "org", "org-03", "--until", rfc(base + 1500))
check(jl(out) == [f1], out)
jst = datetime.datetime.fromtimestamp(base + 3000, datetime.timezone(datetime.timedelta(hours=9)))
out, _ = run("query", "org", "org-03", "--since", jst.strftime("%Y-%m-%dT%H:%M:%S+09:00"))
check(jl(out) == [f6], out)  # an offset is honoured
tomorrow = datetime.datetime.fromtimestamp(base + 2 * 86400, datetime.timezone.utc).strftime("%Y-%m-%d")
out, err = run("query", "org", "org-03", "--since", tomorrow, rc=1)
check(out == "" and "nothing in the timeline of org-03 in that time range" in err, err)
out, _ = run("query", "org", "org-01")  # what org-01 was told: the IP warning, the hash and its revocation
tl = jl(out)
check([(e["event_type"], e["org_id"], e["warning"]["id"], e["warning"]["revision"], e["warning"]["status"]) for e in tl]
      == [("warning", "org-01", ids["ip"], 1, "active"), ("warning", "org-01", revoked, 1, "active"),
          ("warning", "org-01", revoked, 2, "revoked")], tl)
check(all(ns(a["timestamp"]) <= ns(b["timestamp"]) for a, b in zip(tl, tl[1:])), tl)
_, err = run("query", "org", "org-77", rc=1)
check("nothing in the timeline of org-77" in err, err)
_, err = run("query", "org", "org-03", "--since", "yesterday", rc=2)
check("--since 'yesterday' is not a time" in err, err)
_, err = run("query", "org", "org-03", "--since", "2026-11-19T10:00:00", rc=2)  # no offset: refused
_, err = run("query", "org", "org-03", "--active", rc=2)
check("--active/--json does not apply to 'query org'" in err, err)

# --- export --stix -------------------------------------------------------------------------------
NAMESPACE = uuid.UUID("6339259e-e52a-4a61-a107-8646aba59f6b")
AMBER = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
_, err = run("export", "--stix", d + "/bundle.json")
check("mimamori: 3 active warnings exported to " + d + "/bundle.json" in err, err)
text = open(d + "/bundle.json").read()
out, _ = run("export", "--stix", "-")
check(out == text, "the same store exports the same bundle, byte for byte")
bundle = json.loads(text)
check(bundle["type"] == "bundle" and re.fullmatch(r"bundle--[0-9a-f-]{36}", bundle["id"]), bundle["id"])
objs = bundle["objects"]
byid = {o["id"]: o for o in objs}
for o in objs:
    check(o["spec_version"] == "2.1" and o["id"].startswith(o["type"] + "--"), o)
    uuid.UUID(o["id"].split("--")[1])
check([o["type"] for o in objs] == ["identity", "marking-definition"] + ["indicator", "sighting"] * 3, objs)
ident = objs[0]
check(ident["name"] == "Mimamori participants" and ident["identity_class"] == "class", ident)
check(objs[1] == {"type": "marking-definition", "spec_version": "2.1", "id": AMBER,
                  "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp", "name": "TLP:AMBER",
                  "definition": {"tlp": "amber"}}, objs[1])
inds = [o for o in objs if o["type"] == "indicator"]
sights = [o for o in objs if o["type"] == "sighting"]
check([i["pattern"] for i in inds] == [
    "[ipv4-addr:value = '45.33.32.156']",
    "[domain-name:value = 'login.evil-update.net' OR domain-name:value LIKE '%.login.evil-update.net']",
    "[ipv4-addr:value ISSUBSET '185.220.101.0/24']"], inds)
for i, ty in zip(inds, ["ip", "domain", "cidr"]):
    wid = ids[ty]
    check(i["id"] == "indicator--" + str(uuid.uuid5(NAMESPACE, "indicator:" + wid)), i)
    check(i["pattern_type"] == "stix" and i["pattern_version"] == "2.1", i)
    check(ns(i["valid_until"]) > ns(i["valid_from"]) and i["object_marking_refs"] == [AMBER], i)
    check(i["external_references"][0] == {"source_name": "mimamori", "external_id": wid}, i)
    check(i["kill_chain_phases"] == [{"kill_chain_name": "mitre-attack", "phase_name": "command-and-control"}], i)
    check("mimamori" in i["labels"], i)
check(inds[0]["external_references"][1] == {"source_name": "mitre-attack", "external_id": "T1071.001",
                                            "url": "https://attack.mitre.org/techniques/T1071/001/"}, inds[0])
check((inds[0]["confidence"], inds[1]["confidence"], inds[2]["confidence"]) == (90, 100, 100), inds)
for s, i, ty, count, t0, t1 in zip(sights, inds, ["ip", "domain", "cidr"], [1, 2, 2], [0, 600, 1800], [0, 1200, 2400]):
    check(s["id"] == "sighting--" + str(uuid.uuid5(NAMESPACE, "sighting:" + ids[ty])), s)
    check(s["sighting_of_ref"] == i["id"] and s["where_sighted_refs"] == [ident["id"]], s)
    check((s["count"], s["first_seen"], s["last_seen"]) == (count, t3(base + t0), t3(base + t1)), s)
    check(s["object_marking_refs"] == [AMBER], s)
check(revoked not in text and SHA not in text, "the revoked warning is not exported")

def no_org_ids(name, text):
    for pat in (r"org-\d\d", r"\bs-\d\d\b", "Company", "p-east", "p-west"):
        check(not re.search(pat, text), "%s names %s" % (name, pat))
no_org_ids("the STIX bundle", text)

# --- export --jsonl ------------------------------------------------------------------------------
_, err = run("export", "--jsonl", "-", rc=2)
check("give the registry with -r FILE" in err, err)
out, _ = run("export", "--jsonl", "-", "-r", registry)
no_org_ids("the JSON Lines export", out)
lines = jl(out)
check([l["type"] for l in lines] == ["warning"] * 3 + ["sighting_group"] * 3, lines)
check([l["warning"]["id"] for l in lines[:3]] == [ids["ip"], ids["domain"], ids["cidr"]], lines)
check([l["warning"]["stix_id"] for l in lines[:3]] == [i["id"] for i in inds], lines)
groups = [l["sighting"] for l in lines[3:]]
check([(g["group"], g["mixed"], g["orgs"], g["providers"], g["sightings"], g["first_seen"], g["last_seen"], g["warnings"])
       for g in groups] == [
    ("45.33.32.0/24", False, 1, 1, 1, t9(base), t9(base), [ids["ip"]]),
    ("evil-update.net", False, 2, 1, 2, t9(base + 600), t9(base + 1200), [ids["domain"]]),
    ("185.220.101.0/24", True, 2, 2, 2, t9(base + 1800), t9(base + 2400), [ids["cidr"]])], groups)
check("value" not in groups[2] and groups[0]["value"] == "45.33.32.156", groups)
_, err = run("export", "--stix", d + "/b2.json", "--jsonl", d + "/l2.jsonl", "-r", registry)
check(open(d + "/b2.json").read() == text and open(d + "/l2.jsonl").read() == out, "both at once")

# --- the command line ----------------------------------------------------------------------------
out, _ = run("--help")
check(out.startswith("Usage: mimamori [-s STORE] COMMAND") and "Exit status" in out, out)
out, _ = run("--version")
check(re.fullmatch(r"mimamori \d+\.\d+\.\d+\n", out), out)
_, err = run(rc=2)
check("a command is needed" in err, err)
_, err = run("frobnicate", rc=2)
check("unknown command 'frobnicate'" in err, err)
_, err = run("warnings", "--bogus", rc=2)
check("unknown option '--bogus'" in err, err)
_, err = run("export", rc=2)
check("export needs --stix FILE and/or --jsonl FILE" in err, err)
_, err = run("warnings", rc=1, store_=d + "/nowhere")
check("cannot open the store " + d + "/nowhere read-only" in err and "-s DIR" in err, err)
print("query.sh: %d checks passed" % checks)
PY

# A reader beside a live writer: the store stays open for writing while mimamori reads it.
mkfifo "$dir/hold"
"$fill" "$dir/live" "$registry" "$allow" "$base" hold <"$dir/hold" >"$dir/live.out" 2>"$dir/live.log" &
holder=$!
exec 3>"$dir/hold"
for _ in $(seq 200); do grep -q '^holding' "$dir/live.out" && break; sleep 0.05; done
grep -q '^holding' "$dir/live.out" || fail "the live writer did not start"
n=$("$mimamori" -s "$dir/live" warnings --active --json 2>"$dir/live-reader.log" | wc -l)
[ "$n" -eq 3 ] || { cat "$dir/live-reader.log" >&2; fail "beside a live writer: $n active warnings, not 3"; }
kill -0 "$holder" || fail "the writer did not hold the store"
exec 3>&-
wait "$holder" || fail "the live writer failed"
holder=
sanitizer_check "$dir/live.log"
echo "query.sh: read 3 active warnings beside a live writer"
echo "query.sh: ok"
