#!/usr/bin/env bash
# mimamori-msg decode: a hex line becomes a JSON line; garbage becomes a readable error on stderr
# and a non-zero exit, and the good lines around it are still rendered.
set -euo pipefail
tool=$1
# The minimal EVENT of docs/protocol.md and tests/proto/test_golden.c.
good='88 00 01 01 01 02 01 03 a1 73 04 a1 6f 05 01 0a 01 0b 00'
out=$(printf '%s\n' "$good" | "$tool" decode)
expect='{"timestamp":"1970-01-01T00:00:00.000000001Z","event_type":"flow","sensor_id":"s","org_id":"o","seq":1,"severity":"unknown","severity_id":0}'
[ "$out" = "$expect" ] || { echo "decode gave: $out"; exit 1; }

set +e
err=$(printf '%s\n%s\n%s\n%s\n' "$good" "80" "zz" "abc" | "$tool" decode 2>&1 >/dev/null)
rc=$?
set -e
[ $rc -eq 1 ] || { echo "garbage should exit 1, got $rc"; exit 1; }
grep -q 'line 2: missing key' <<<"$err" || { echo "no error for line 2: $err"; exit 1; }
grep -q 'line 3: not a hex digit' <<<"$err" || { echo "no error for line 3: $err"; exit 1; }
grep -q 'line 4: an odd number of hex digits' <<<"$err" || { echo "no error for line 4: $err"; exit 1; }
# A line longer than any message is one error, not several messages.
long=$(head -c 70000 /dev/zero | od -v -An -tx1 | tr -d ' \n')
err=$(printf '%s\n' "$long" | "$tool" decode 2>&1 >/dev/null || true)
[ "$(grep -c . <<<"$err")" -eq 1 ] && grep -q 'line 1: more than 65,536 bytes' <<<"$err" ||
    { echo "long line: $err"; exit 1; }
n=$(printf '%s\n%s\n%s\n' "$good" "80" "$good" | "$tool" decode 2>/dev/null | wc -l || true)
[ "$n" -eq 2 ] || { echo "good lines around a bad one: got $n, want 2"; exit 1; }
echo "mimamori-msg decode: ok"
