#!/usr/bin/env bash
# Every capture of the shared corpus through mimamori-sensor: no crash, no hang, no sanitizer
# report, no leak. A capture the sensor cannot fully read (the corpus has one truncated on
# purpose) may end with status 1 and a message; anything else is a failure.
#   corpus_sweep.sh SENSOR [CORPUS_DIR]
# Skipped (exit 77) when the corpus is not there: it lives beside the project, not in it.
set -uo pipefail
sensor=$1
corpus=${2:-${MM_CORPUS:-$(dirname "$0")/../../../shared/corpus}}
if [ ! -d "$corpus" ]; then
    echo "SKIPPED: corpus not found at $corpus (set MM_CORPUS to run this sweep)"
    exit 77
fi
corpus=$(cd "$corpus" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A distinct exit code for sanitizer reports, so they cannot pass for "file truncated" (1).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:exitcode=86}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

find "$corpus" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' -o -name '*.trace' \
    -o -name '*.dump' \) | sort >"$work/files"
total=$(wc -l <"$work/files")

# One line per capture: status, path. Two at a time: the machine has two cores.
run_one() {
    local f=$1 log rc
    log=$(mktemp -p "$work")
    timeout 60 "$sensor" --quiet --jsonl /dev/null -r "$f" >/dev/null 2>"$log"
    rc=$?
    if grep -qE 'Sanitizer|runtime error' "$log"; then
        rc=86
    fi
    printf '%s %s\n' "$rc" "$f"
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
        { echo "--- $f (exit $rc)"; head -n 40 "$log"; } >>"$work/failures"
    fi
    rm -f "$log"
}
export -f run_one
export sensor work
xargs -d '\n' -P 2 -I{} bash -c 'run_one "$@"' _ {} <"$work/files" >"$work/results"

ok=$(awk '$1 == 0' "$work/results" | wc -l)
partial=$(awk '$1 == 1' "$work/results" | wc -l)
bad=$(awk '$1 != 0 && $1 != 1' "$work/results" | wc -l)
echo "corpus sweep: $total captures: $ok read completely, $partial stopped early with a" \
     "message (truncated or unreadable), $bad failed"
if [ "$partial" -gt 0 ]; then
    echo "stopped early:"
    awk '$1 == 1 {print "  " $2}' "$work/results"
fi
if [ "$bad" -gt 0 ]; then
    cat "$work/failures"
    exit 1
fi
exit 0
