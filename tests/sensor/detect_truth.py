#!/usr/bin/env python3
# Ground truth for the detectors: runs mimamori-sensor on captures (bundled in tests/data, or
# from ../shared/corpus when present) with a per-case configuration, and checks the findings
# against tests/data/detect/*.json (format: docs/detection.md, "Ground truth"; in "config"
# values, @DATA@ and @CORPUS@ stand for the two directories). A finding is
# counted once per finding id, whatever its revisions; checks apply to its newest revision.
# Usage: detect_truth.py SENSOR [DATA_DIR] [CORPUS_DIR]
# Exit 0: every case passed (corpus cases skipped when the corpus is absent, and said so);
# 1: a mismatch; 2: a setup error.

import glob
import ipaddress
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.normpath(os.path.join(HERE, "..", "data"))
DEFAULT_CORPUS = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "corpus"))
SEVERITIES = ["unknown", "informational", "low", "medium", "high", "critical", "fatal"]


def norm_ip(v):
    try:
        return str(ipaddress.ip_address(v))
    except (ValueError, TypeError):
        return v


def get_path(obj, path):
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def write_ini(config, path, data_dir, corpus):
    with open(path, "w") as f:
        for section, items in config.items():
            f.write("[%s]\n" % section)
            for k, v in items.items():
                v = str(v).replace("@DATA@", data_dir).replace("@CORPUS@", corpus)
                f.write("%s = %s\n" % (k, v))


def run_case(sensor, case, pcap, data_dir, corpus):
    with tempfile.TemporaryDirectory() as tmp:
        ini = os.path.join(tmp, "case.ini")
        write_ini(case.get("config", {}), ini, data_dir, corpus)
        cmd = [sensor, "-q", "--jsonl", "-", "-c", ini, "-r", pcap]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            raise RuntimeError("sensor exited %d: %s" % (p.returncode, p.stderr.strip()[-400:]))
    findings = {}  # finding id -> newest revision (the alert record)
    for line in p.stdout.splitlines():
        rec = json.loads(line)
        if rec.get("event_type") != "alert":
            continue
        a = rec["alert"]
        fid = a.get("finding_id")
        old = findings.get(fid)
        if old is None or a.get("revision", 0) >= old["alert"].get("revision", 0):
            findings[fid] = rec
    return list(findings.values())


def check_expect(exp, findings):
    """Returns a list of problems (empty: passed)."""
    sel = [f for f in findings if f["alert"].get("detector") == exp["detector"]]
    if "src" in exp:
        sel = [f for f in sel if norm_ip(f.get("src_ip")) == norm_ip(exp["src"])]
    if "dst" in exp:
        sel = [f for f in sel if norm_ip(f.get("dest_ip")) == norm_ip(exp["dst"])]
    problems = []
    want = exp.get("findings", 1)
    if len(sel) != want:
        problems.append("%s src=%s dst=%s: %d findings, expected %d" % (
            exp["detector"], exp.get("src", "*"), exp.get("dst", "*"), len(sel), want))
        return problems
    for f in sel:
        if "severity" in exp and f.get("severity") != exp["severity"]:
            problems.append("%s: severity %s, expected %s" % (
                exp["detector"], f.get("severity"), exp["severity"]))
        for path, lo in exp.get("min", {}).items():
            v = get_path(f["alert"], path)
            if not isinstance(v, (int, float)) or v < lo:
                problems.append("%s: %s = %s, expected >= %s" % (exp["detector"], path, v, lo))
        for path, hi in exp.get("max", {}).items():
            v = get_path(f["alert"], path)
            if not isinstance(v, (int, float)) or v > hi:
                problems.append("%s: %s = %s, expected <= %s" % (exp["detector"], path, v, hi))
        for path, val in exp.get("equal", {}).items():
            v = get_path(f["alert"], path)
            if v != val:
                problems.append("%s: %s = %r, expected %r" % (exp["detector"], path, v, val))
    return problems


def main():
    if len(sys.argv) < 2:
        print(__doc__ or "usage: detect_truth.py SENSOR [DATA_DIR] [CORPUS_DIR]")
        return 2
    sensor = sys.argv[1]
    data_dir = sys.argv[2] if len(sys.argv) > 2 else DEFAULT_DATA
    corpus = sys.argv[3] if len(sys.argv) > 3 else DEFAULT_CORPUS
    have_corpus = os.path.isdir(corpus)
    files = sorted(glob.glob(os.path.join(data_dir, "detect", "*.json")))
    if not files:
        print("no case files in %s/detect" % data_dir)
        return 2
    counts = {"PASS": 0, "FAIL": 0, "XFAIL": 0, "XPASS": 0, "SKIP": 0}
    for path in files:
        with open(path) as f:
            cases = json.load(f)["cases"]
        print("%s:" % os.path.relpath(path, data_dir))
        for case in cases:
            src = case["pcap"]
            needs_corpus = src.startswith("corpus:") or "@CORPUS@" in json.dumps(case)
            if needs_corpus:
                if not have_corpus:
                    counts["SKIP"] += 1
                    print("  SKIP  %s (no corpus at %s)" % (case["name"], corpus))
                    continue
            if src.startswith("corpus:"):
                pcap = os.path.join(corpus, src[len("corpus:"):])
            else:
                pcap = os.path.join(data_dir, src)
            if not os.path.exists(pcap):
                counts["FAIL"] += 1
                print("  FAIL  %s: capture %s missing" % (case["name"], pcap))
                continue
            try:
                findings = run_case(sensor, case, pcap, data_dir, corpus)
            except (RuntimeError, subprocess.TimeoutExpired, ValueError) as e:
                counts["FAIL"] += 1
                print("  FAIL  %s: %s" % (case["name"], e))
                continue
            problems = []
            for exp in case.get("expect", []):
                problems += check_expect(exp, findings)
            for det in case.get("absent", []):
                n = sum(1 for f in findings if f["alert"].get("detector") == det)
                if n:
                    problems.append("%s: %d findings, expected none" % (det, n))
            xfail = case.get("xfail")
            ok = not problems
            status = ("XPASS" if ok else "XFAIL") if xfail else ("PASS" if ok else "FAIL")
            counts[status] += 1
            print("  %-5s %s" % (status, case["name"]))
            for p in problems:
                print("          " + p)
            if xfail and not ok:
                print("          known: " + xfail)
            if status == "XPASS":
                print("          known failure now passes; remove its xfail")
    print("detect_truth: %d passed, %d failed, %d known failures, %d unexpected passes, "
          "%d skipped%s" % (counts["PASS"], counts["FAIL"], counts["XFAIL"], counts["XPASS"],
                            counts["SKIP"], "" if have_corpus else
                            " (NOTE: ../shared/corpus absent: corpus cases skipped)"))
    return 1 if counts["FAIL"] or counts["XPASS"] else 0


if __name__ == "__main__":
    sys.exit(main())
