#!/usr/bin/env python3
# False-positive control: every benign application capture of ../shared/corpus (the nDPI
# application pcaps and the browser captures) through mimamori-sensor with its default
# detectors; reports every finding by detector and severity, and fails on any high or critical
# one (the goal). Lower findings are explained in docs/detection.md. Captures that show
# attacks, malware, tunnels or scans on purpose are excluded by name (NOT_BENIGN below).
# Usage: detect_benign.py SENSOR [CORPUS_DIR] [--report FILE.md]
# Exit 0: no high/critical; 1: some; 2: setup error; 77: no corpus (skipped).

import collections
import glob
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CORPUS = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "corpus"))

# Captures made to show something bad (nDPI's own risk tests, malware, tunnels, scans, attacks).
NOT_BENIGN = re.compile(
    r"(bot|trickbot|crynet|mining|elf|exe_download|portable_executable|webattack|sql_inj|xss|"
    r"shell|dotenv|tcp_scan|dns2tcp|iodine|dnscat|bad-dns|dns_long_domainname|dga|"
    r"malware|emotet|cobalt|ransom|(^|[_-])tor([_.-]|$)|fuzz|ftp_failed|susp|risk|"
    r"ookla_fake|custom_categories|tunnel|brute)", re.I)
BROWSERS = re.compile(r"(chrome|firefox|browse|safari|edge|wikipedia|web\.pcap)", re.I)
HIGH = {"high", "critical", "fatal"}


def captures(corpus):
    out = []
    for p in sorted(glob.glob(os.path.join(corpus, "nDPI/tests/cfgs/default/pcap/*"))):
        if not NOT_BENIGN.search(os.path.basename(p)):
            out.append(p)
    for p in sorted(glob.glob(os.path.join(corpus, "zeek/testing/btest/Traces/**/*"),
                              recursive=True)):
        if p.endswith((".pcap", ".pcapng")) and BROWSERS.search(os.path.basename(p)):
            out.append(p)
    return out


def findings_of(sensor, pcap):
    p = subprocess.run([sensor, "-q", "--no-flows", "--jsonl", "-", "-r", pcap],
                       capture_output=True, text=True, timeout=120)
    found = {}
    for line in p.stdout.splitlines():
        rec = json.loads(line)
        if rec.get("event_type") == "alert":
            found[rec["alert"].get("finding_id")] = rec  # newest revision wins
    return list(found.values())


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    report = None
    if "--report" in sys.argv:
        report = sys.argv[sys.argv.index("--report") + 1]
        args = [a for a in args if a != report]
    if not args:
        print("usage: detect_benign.py SENSOR [CORPUS_DIR] [--report FILE.md]")
        return 2
    sensor = args[0]
    corpus = args[1] if len(args) > 1 else DEFAULT_CORPUS
    if not os.path.isdir(corpus):
        print("NOTE: no corpus at %s: benign false-positive sweep skipped" % corpus)
        return 77
    caps = captures(corpus)
    by = collections.Counter()
    where = collections.defaultdict(list)
    bad = []
    for pcap in caps:
        rel = os.path.relpath(pcap, corpus)
        for f in findings_of(sensor, pcap):
            key = (f["alert"]["detector"], f.get("severity"))
            by[key] += 1
            where[key].append(rel)
            if f.get("severity") in HIGH:
                bad.append("%s: %s %s %s -> %s: %s" % (
                    rel, f.get("severity"), f["alert"]["detector"], f.get("src_ip"),
                    f.get("dest_ip"), f["alert"].get("signature")))
    lines = ["%d benign captures; findings by detector and severity:" % len(caps)]
    for (det, sev), n in sorted(by.items()):
        examples = sorted(set(where[(det, sev)]))
        lines.append("  %-24s %-13s %4d  (%d captures, e.g. %s)" % (
            det, sev, n, len(examples), ", ".join(os.path.basename(e) for e in examples[:3])))
    if not by:
        lines.append("  none")
    print("\n".join(lines))
    if report:
        with open(report, "w") as f:
            f.write("\n".join(lines) + "\n")
    for b in bad:
        print("HIGH/CRITICAL on benign traffic: " + b)
    print("detect_benign: %d high/critical findings on %d benign captures" % (len(bad), len(caps)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
