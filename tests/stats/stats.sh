#!/usr/bin/env bash
# stats.sh: mimamori-stats on a store filled through the aggregator's own code (query_fill:
# six findings of five companies, correlated by ag_lateral). The week's council table is made,
# verified and renamed, and suppresses every cell (too few companies, one provider each); a
# provider's own table (k 1) counts them; verify refuses that table under the default policy
# and a file edited to carry a company id; usage errors exit 2.
# The feed (serve): a subscriber with a console certificate in the allow-list gets the same
# rows as the file of the last complete week; one whose key is not in it gets nothing.
# Usage: stats.sh MIMAMORI_STATS QUERY_FILL REGISTRY ALLOWLISTS [KEYGEN CONSOLE_SIM]
set -euo pipefail
stats=$1 fill=$2 registry=$3 allow=$4 keygen=${5:-} sub=${6:-}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() {
    echo "stats.sh: $*" >&2
    exit 1
}

base=$(($(date +%s) - 7200))
"$fill" "$dir/store" "$registry" "$allow" "$base" >"$dir/fill.out" 2>"$dir/fill.log" ||
    { cat "$dir/fill.log" >&2; fail "query_fill failed"; }
# The ISO week in Tokyo (UTC+9) of the findings.
week=$(date -u -d "@$((base + 9 * 3600))" +%G-W%V)

# The council's table: every row suppressed, both files verified and in place.
"$stats" table -s "$dir/store" -r "$registry" --period "$week" --jsonl "$dir/w.jsonl" \
    --csv "$dir/w.csv" --top "$dir/top.jsonl" 2>"$dir/table.log" ||
    { cat "$dir/table.log" >&2; fail "table failed"; }
# No indicator of these was seen by 5 companies of 2 providers: an empty, verified list.
[ -f "$dir/top.jsonl" ] && [ ! -s "$dir/top.jsonl" ] || fail "top indicators listed from too few companies"
grep -q "top.jsonl: 0 rows, verified" "$dir/table.log" || { cat "$dir/table.log" >&2; fail "top list not verified"; }
grep -q "6 findings read, 6 counted" "$dir/table.log" || { cat "$dir/table.log" >&2; fail "not 6 findings"; }
[ -f "$dir/w.jsonl" ] && [ -f "$dir/w.csv" ] && [ ! -e "$dir/w.jsonl.tmp" ] || fail "files not in place"
rows=$(wc -l <"$dir/w.jsonl")
[ "$rows" -ge 10 ] || fail "only $rows rows"
[ "$(grep -c '"suppressed":true' "$dir/w.jsonl")" = "$rows" ] || fail "a council cell of a few companies was published"
[ "$(($(wc -l <"$dir/w.csv") - 1))" = "$rows" ] || fail "the CSV does not have the JSON's rows"
grep -q '"category":"known-bad-contact"' "$dir/w.jsonl" || fail "the detections' category is missing"
"$stats" verify "$dir/w.jsonl" "$dir/w.csv" >"$dir/verify.out" || fail "verify refused the table it made"
grep -q "every rule holds" "$dir/verify.out" || fail "verify said nothing"

# A provider's own table with k 1: the companies are counted (two saw the known-bad address).
"$stats" table -s "$dir/store" -r "$registry" --period "$week" --level provider --k 1 \
    --jsonl "$dir/p.jsonl" 2>"$dir/p.log" || { cat "$dir/p.log" >&2; fail "provider table failed"; }
grep -q '"region":"all".*"industry":"all".*"sensor_type":"network","sensor_type_ja":"[^"]*","category":"known-bad-contact".*"orgs_affected":2,' "$dir/p.jsonl" ||
    fail "the provider table does not count 2 companies for known-bad-contact"
# ... which the default policy (k 5, the council's) refuses.
if "$stats" verify "$dir/p.jsonl" 2>"$dir/refused.log"; then fail "verify passed a k = 1 table"; else rc=$?; fi
[ "$rc" = 1 ] && grep -q "REFUSED.*protection k = 1" "$dir/refused.log" || { cat "$dir/refused.log" >&2; fail "wrong refusal ($rc)"; }

# A company id slipped into a published file.
sed '1s/"period":/"org_id":"org-01","period":/' "$dir/w.jsonl" >"$dir/bad.jsonl"
if "$stats" verify "$dir/bad.jsonl" 2>"$dir/bad.log"; then fail "verify passed an org id"; fi
grep -q "bad.jsonl:1: field 'org_id'" "$dir/bad.log" || { cat "$dir/bad.log" >&2; fail "wrong message"; }

# The feed: the last complete week only (never a period still growing, no days). A store
# whose findings are a week old (so in last week), its file, and the same rows on the feed.
if [ -n "$sub" ]; then
    old=$(($(date +%s) - 7 * 86400))
    "$fill" "$dir/store2" "$registry" "$allow" "$old" >/dev/null 2>"$dir/fill2.log" ||
        { cat "$dir/fill2.log" >&2; fail "query_fill (a week ago) failed"; }
    last=$(date -u -d "@$((old + 9 * 3600))" +%G-W%V)
    "$stats" table -s "$dir/store2" -r "$registry" --period "$last" --jsonl "$dir/last.jsonl" \
        2>>"$dir/table.log" || { cat "$dir/table.log" >&2; fail "last week's table failed"; }
    k() { "$keygen" "$@" --out "$dir/keys" >/dev/null; }
    k --role aggregator --id stats-centre
    k --role console --id ipa-reader --org ipa
    k --role console --id stranger --org nobody
    mkdir "$dir/allowed"
    cp "$dir/keys/ipa-reader.cert" "$dir/allowed/"
    # Only the council's tables go out.
    if "$stats" serve -s "$dir/store2" -r "$registry" --bind 'tcp://127.0.0.1:*' --level provider \
        --cert "$dir/keys/stats-centre.cert_secret" --allow "$dir/allowed" 2>/dev/null; then
        fail "serve accepted --level provider"
    fi
    "$stats" serve -s "$dir/store2" -r "$registry" --bind 'tcp://127.0.0.1:*' \
        --cert "$dir/keys/stats-centre.cert_secret" --allow "$dir/allowed" --every 3600 \
        2>"$dir/serve.log" &
    serve=$!
    trap 'kill -TERM $serve 2>/dev/null || true; rm -rf "$dir"' EXIT
    for _ in $(seq 100); do grep -q "published" "$dir/serve.log" && break; sleep 0.1; done
    ep=$(sed -n 's/^mimamori-stats: listening on //p' "$dir/serve.log")
    [ -n "$ep" ] && grep -q published "$dir/serve.log" || { cat "$dir/serve.log" >&2; fail "serve did not start"; }
    "$sub" "$ep" "$dir/keys/stats-centre.cert" "$dir/keys/ipa-reader.cert_secret" 3 >"$dir/sub.out" &
    "$sub" "$ep" "$dir/keys/stats-centre.cert" "$dir/keys/stranger.cert_secret" 3 >"$dir/stranger.out"
    wait %2 2>/dev/null || true
    kill -TERM "$serve"
    wait "$serve" || fail "serve exited with $?"
    lines=$(wc -l <"$dir/last.jsonl")
    [ "$lines" -gt 0 ] || fail "last week's table is empty"
    head -n "$lines" "$dir/sub.out" | cmp -s - "$dir/last.jsonl" || fail "the feed's week differs from the file"
    ! grep -q '"period_kind":"day"' "$dir/sub.out" || fail "days on the feed"
    [ ! -s "$dir/stranger.out" ] || fail "a key outside the allow-list got rows"
    "$stats" verify "$dir/sub.out" >/dev/null || fail "the feed's rows do not pass verify"
    grep -q "feed: 1 publications" "$dir/serve.log" || { cat "$dir/serve.log" >&2; fail "no feed summary"; }
fi

# Usage.
set +e
"$stats" >/dev/null 2>&1; [ $? = 2 ] || fail "no command: not exit 2"
"$stats" table -s "$dir/store" -r "$registry" --period 2026-W99 --jsonl "$dir/x" 2>/dev/null
[ $? = 2 ] || fail "a bad period: not exit 2"
"$stats" table -s "$dir/store" -r "$registry" --period "$(date -u +%F)" --jsonl "$dir/x" 2>/dev/null
[ $? = 2 ] || fail "a day's table at council level: not exit 2"
"$stats" table -s "$dir/store" -r "$registry" --period "$(date -u +%F)" --level provider --k 1 \
    --jsonl "$dir/day.jsonl" 2>/dev/null
[ $? = 0 ] && [ -f "$dir/day.jsonl" ] || fail "a provider's day table failed"
"$stats" table -s "$dir/nostore" -r "$registry" --period "$week" --jsonl "$dir/x" 2>/dev/null
[ $? = 3 ] || fail "a missing store: not exit 3"
set -e
echo "stats.sh: ok ($rows rows in week $week)"
