#!/usr/bin/env python3
# Corpus-wide sweep of mimamori-sensor's fingerprints against references: JA3 (client), JA4
# and SNI against nDPI 4.11's .out files, and DNS query names against Zeek dns.log baselines.
# Usage: corpus_ja.py SENSOR [CORPUS_DIR]  (exit 0 pass, 1 below a threshold, 77 no corpus)

import glob
import ipaddress
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import ground_truth as gt  # noqa: E402  (shares the sensor runner and Zeek log reader)

DEFAULT_CORPUS = "/work/shared/corpus"

# Minimum share of the reference values the sensor must reproduce. A value nDPI/Zeek has
# and the sensor lacks ("missing") counts against the rate like a mismatch; only flows the
# sensor cannot see by design (QUIC/DTLS over UDP) are left out and listed. Measured on the
# corpus snapshot (nDPI@3b1286ab03 = 4.11.0-dev, zeek@a13de64fbb) with the sensor of today:
#   JA3  739/754 = 98.0%: no value differs; the 15 missing are TLS the sensor does not reach:
#        STARTTLS (ftp, imap, pop3, smtp), TLS inside RDP, CAPWAP- and GTP-tunnelled
#        flows, and heuristic_tcp_ack_payload.pcap whose first segments carry zero bytes
#        that the retransmitted ClientHello overlaps (the sensor keeps the first bytes).
#   JA4  exact 583/754 = 77.3%; with 155 known nDPI 4.11 deviations from the FoxIO spec
#        counted as agreeing (classified per flow by ja4_ndpi_quirk below) 738/754 = 97.9%;
#        1 unexplained difference (android.pcap "h0" vs the sensor's "h2" for ALPN "h2").
#   SNI  641/653 = 98.2% (same 12 unreachable flows as JA3).
#   DNS  34/43 = 79.1% of Zeek's query names: misses are DNS over TCP (tkey), GRE in UDP,
#        PPTP (GREv1, dropped as encrypted), DNS UPDATE (Zeek logs the prerequisite name,
#        the sensor the zone) and mDNS responses without a question.
# The thresholds sit about one percentage point (JA3/JA4/SNI: ~7 flows) or one value (DNS)
# below those, so a regression fails while the diagnosed differences do not.
#   Flows: 475 of 526 captures have exactly nDPI's flow count, 508 (96.6%) are within 10%.
#        The rest are differences of definition, not losses: long sparse UDP conversations are
#        split by the sensor's 60 s UDP idle timeout (Zeek's too; nDPI reading a file keeps
#        them whole: teamspeak3's keep-alive every 300 s for 24 h is 144 flows here, 1 there),
#        tunnels count their inner conversations here (4in4, 6in4, CAPWAP, SoftEther), and
#        nDPI leaves out some non-IP and broadcast traffic (tplink_shp).
THRESHOLDS = {"ja3": 0.97, "ja4": 0.96, "sni": 0.97, "ja3s": 0.97, "dns": 0.76, "flows": 0.95}

FLOW_RE = re.compile(r"^\t\d+\t(\S+) (\S+) <-> (\S+) ")
CONFIDENCE_RE = re.compile(r"^Confidence [^:]*: *(\d+) \(flows\)")


def split_endpoint(s):
    m = re.fullmatch(r"\[(.+)\]:(\d+)", s) or re.fullmatch(r"(.+):(\d+)", s)
    return gt.norm_ip(m.group(1)), int(m.group(2))


def field(line, name):
    m = re.search(r"\[" + re.escape(name) + r": ([^\]]*)\]", line)
    return m.group(1).strip() if m else None


def parse_ndpi_out(path):
    """Flows of an nDPI .out with a JA3C or JA4: (proto, a, b, {ja3, ja4, sni}, line)."""
    flows = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            m = FLOW_RE.match(line)
            if not m:
                continue
            ja3 = field(line, "JA3C")
            ja4 = field(line, "JA4")
            if not ja3 and not ja4:
                continue
            ref = {}
            if ja3:
                ref["ja3"] = ja3.split()[0]
            if ja4:
                ref["ja4"] = ja4.split()[0]
            ja3s = field(line, "JA3S")
            if ja3s:
                ref["ja3s"] = ja3s.split()[0]
            sni = field(line, "Hostname/SNI")
            if sni:
                ref["sni"] = sni
            flows.append((m.group(1), split_endpoint(m.group(2)), split_endpoint(m.group(3)),
                          ref, n))
    return flows


def tls_by_pair(events):
    out = {}
    for e in events:
        if e.get("event_type") != "tls":
            continue
        a = (gt.norm_ip(e["src_ip"]), e.get("src_port"))
        b = (gt.norm_ip(e["dest_ip"]), e.get("dest_port"))
        out.setdefault(frozenset((a, b)), []).append(e.get("tls", {}))
    return out


def is_ip(s):
    try:
        ipaddress.ip_address(s)
        return True
    except ValueError:
        return False


def find_tls(tls, a, b):
    got = tls.get(frozenset((a, b)))
    if got is not None:
        return got
    # nDPI 4.11 sometimes prints an IPv6 address no parser accepts ("2600:1901::7a0b::" in
    # pinterest.pcap.out): then match on the other, valid endpoint and both ports.
    bad = [e for e in (a, b) if not is_ip(e[0])]
    if len(bad) != 1:
        return []
    good = b if bad[0] is a else a
    for pair, evs in tls.items():
        if good in pair and any(p[1] == bad[0][1] for p in pair if p != good):
            return evs
    return []


def ja4_ndpi_quirk(ours, ndpi, t, ndpi_sni):
    """Why nDPI 4.11's JA4 differs from the sensor's when the difference is one of nDPI's
    known deviations from the FoxIO JA4 specification (which the sensor follows, as checked
    on suricata-verify's ja4-tls: ALPN spdy/3.1 -> "s1"); None if it is not."""
    try:
        a1, b1, c1 = ours.split("_")
        a2, b2, c2 = ndpi.split("_")
    except ValueError:
        return None
    if b1 != b2 or len(a1) != 10 or len(a2) != 10 or a1[:3] != a2[:3] or a1[4:8] != a2[4:8]:
        return None
    why = []
    if c1 != c2:
        if c1 == "000000000000" and c2 == "e3b0c44298fc":
            # spec: no extensions -> 000000000000; nDPI hashes the empty string
            why.append("no extensions: nDPI hashes the empty string")
        else:
            return None
    if a1[3] != a2[3]:
        if a1[3] == "d" and ndpi_sni and is_ip(ndpi_sni):
            # spec: 'd' when the SNI extension is present; nDPI says 'i' for a numeric SNI
            why.append("SNI extension holds an IP address: nDPI says 'i'")
        elif a1[3] == "i" and not t.get("sni"):
            # spec: 'i' without SNI extension; nDPI says 'd' when it has a host name from
            # elsewhere (its flow->host_server_name)
            why.append("no SNI extension: nDPI says 'd'")
        else:
            return None
    if a1[8:] != a2[8:]:
        alpn = (t.get("alpn") or [""])[0]
        if len(alpn) >= 2 and a2[8:] == alpn[:2]:
            # spec: first and last character of the first ALPN; nDPI 4.11 takes the first two
            why.append("ALPN %r: nDPI takes its first two characters" % alpn)
        else:
            return None
    return why


def sweep_ndpi(sensor, corpus):
    res_dir = os.path.join(corpus, "nDPI/tests/cfgs/default/result")
    pcap_dir = os.path.join(corpus, "nDPI/tests/cfgs/default/pcap")
    stats = {k: {"match": 0, "quirk": 0, "differ": 0, "missing": 0}
             for k in ("ja3", "ja4", "sni", "ja3s")}
    diffs = []
    quirks = {}
    skipped_udp = 0
    files = 0
    for out in sorted(glob.glob(os.path.join(res_dir, "*.out"))):
        flows = parse_ndpi_out(out)
        tcp = [f for f in flows if f[0] == "TCP"]
        skipped_udp += len(flows) - len(tcp)  # QUIC/DTLS: the sensor has no QUIC/DTLS parser
        if not tcp:
            continue
        pcap = os.path.join(pcap_dir, os.path.basename(out)[:-len(".out")])
        if not os.path.exists(pcap):
            continue
        files += 1
        try:
            events = gt.run_sensor(sensor, pcap)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            diffs.append("%s: sensor failed: %s" % (os.path.basename(pcap), e))
            events = []
        tls = tls_by_pair(events)
        rel = os.path.relpath(out, corpus)
        for _proto, a, b, ref, line in tcp:
            got = find_tls(tls, a, b)
            where = "%s:%d %s:%d <-> %s:%d" % (rel, line, a[0], a[1], b[0], b[1])
            for k in ("ja3", "ja4", "sni", "ja3s"):
                if k not in ref:
                    continue
                want = ref[k]
                vals = []
                for t in got:
                    v = {"ja3": t.get("ja3", {}).get("hash"), "ja4": t.get("ja4"),
                         "sni": t.get("sni"), "ja3s": t.get("ja3s", {}).get("hash")}[k]
                    if v is not None:
                        vals.append((v, t))
                if not vals:
                    stats[k]["missing"] += 1
                    diffs.append("%s MISSING %s (nDPI %s)" % (where, k, want))
                    continue
                if any(v.lower() == want.lower() for v, _t in vals):
                    stats[k]["match"] += 1
                    continue
                why = None
                if k == "ja4":
                    why = ja4_ndpi_quirk(vals[0][0], want, vals[0][1], ref.get("sni"))
                if why:
                    stats[k]["quirk"] += 1
                    for w in why:
                        w = re.sub(r"ALPN '[^']*'", "ALPN", w)
                        quirks[w] = quirks.get(w, 0) + 1
                    diffs.append("%s QUIRK %s: sensor %s, nDPI %s (%s)" % (
                        where, k, vals[0][0], want, "; ".join(why)))
                else:
                    stats[k]["differ"] += 1
                    diffs.append("%s DIFFER %s: sensor %s, nDPI %s" % (
                        where, k, [v for v, _t in vals], want))
    return files, stats, diffs, skipped_udp, quirks


def zeek_dns_baselines(corpus):
    """(baseline dir, dns.log, [trace paths]) for each Zeek btest with a dns.log baseline."""
    bt = os.path.join(corpus, "zeek/testing/btest")
    out = []
    for log in sorted(glob.glob(os.path.join(bt, "Baseline/*/dns.log"))):
        name = os.path.basename(os.path.dirname(log))
        rel = name.replace(".", "/")
        src = None
        for ext in (".zeek", ".test"):
            if os.path.exists(os.path.join(bt, rel + ext)):
                src = os.path.join(bt, rel + ext)
                break
        if src is None:
            continue
        with open(src, errors="replace") as f:
            execs = [ln for ln in f if "TEST-EXEC" in ln and " -r " in ln]
        traces = []
        for t in re.findall(r"\$TRACES/(\S+)", " ".join(execs)):
            p = os.path.join(bt, "Traces", t)
            if p not in traces:
                traces.append(p)
        if traces and all(os.path.exists(p) for p in traces):
            out.append((name, log, traces))
    return out


def sweep_dns(sensor, corpus):
    stats = {"match": 0, "missing": 0}
    diffs = []
    notes = []
    tests = 0
    for name, log, traces in zeek_dns_baselines(corpus):
        tests += 1
        try:
            events = gt.run_sensor_many(sensor, traces)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            diffs.append("%s: sensor failed: %s" % (name, e))
            events = []
        names = {}  # sensor's (src, dest) endpoints -> query names seen, lower case
        for e in events:
            if e.get("event_type") == "dns" and "rrname" in e.get("dns", {}):
                names.setdefault(gt.ev_key(e), set()).add(str(e["dns"]["rrname"]).lower())
        allnames = set().union(*names.values()) if names else set()
        for r in gt.read_zeek_log(log):
            q = r.get("query", "-")
            if q in ("-", ""):
                continue
            k = gt.zrow_key(r)
            rk = (k[2], k[3], k[0], k[1], k[4])
            rel = "%s:%d" % (os.path.relpath(log, corpus), r["_line"])
            if q.lower() in names.get(k, set()):
                stats["match"] += 1
            elif q.lower() in names.get(rk, set()):
                # Same connection, other orientation: a query name is not about who is the
                # originator, so it counts; the orientation difference is listed apart.
                stats["match"] += 1
                notes.append("%s dns %s: the sensor has the flow as %s, Zeek as %s" % (
                    rel, q, gt.fmt_key(rk), gt.fmt_key(k)))
            else:
                stats["missing"] += 1
                hint = " (seen on another 5-tuple)" if q.lower() in allnames else ""
                diffs.append("%s MISSING dns %s %s %s port %s%s" % (
                    rel, q, r.get("qtype_name"), r.get("proto"), r["id.resp_p"], hint))
    return tests, stats, diffs, notes


def sweep_flow_counts(sensor, corpus):
    """Flow records per nDPI capture against the flows its .out lists: (equal, within 10%,
    total, differences). nDPI and the sensor split conversations differently at the edges (idle
    timeouts, nDPI's flow limits per capture, fragments, ARP and other non-IP it counts), so
    the test states a tolerance and lists every capture outside it."""
    res_dir = os.path.join(corpus, "nDPI/tests/cfgs/default/result")
    pcap_dir = os.path.join(corpus, "nDPI/tests/cfgs/default/pcap")
    equal = close = total = 0
    diffs = []
    for out in sorted(glob.glob(os.path.join(res_dir, "*.out"))):
        pcap = os.path.join(pcap_dir, os.path.basename(out)[:-len(".out")])
        if not os.path.exists(pcap):
            continue
        #  nDPI's own total: the "Confidence ...: N (flows)" lines add up to every flow it
        #  tracked (the per-flow listing below them leaves some out).
        with open(out, encoding="utf-8", errors="replace") as f:
            want = sum(int(m.group(1)) for m in (CONFIDENCE_RE.match(line) for line in f) if m)
        if want == 0:
            continue
        try:
            events = gt.run_sensor(sensor, pcap)
        except (RuntimeError, subprocess.TimeoutExpired):
            continue  # a capture libpcap cannot read to its end; counted by the sweep test
        got = sum(1 for e in events if e.get("event_type") == "flow")
        total += 1
        if got == want:
            equal += 1
        if abs(got - want) <= max(1, want // 10):
            close += 1
        else:
            diffs.append("%s: sensor %d flows, nDPI %d" % (os.path.basename(pcap), got, want))
    return equal, close, total, diffs


def rate(s, with_quirks=False):
    total = sum(s.values())
    ok = s["match"] + (s.get("quirk", 0) if with_quirks else 0)
    return (ok / total if total else 1.0), total


def main():
    if len(sys.argv) < 2:
        print("usage: corpus_ja.py SENSOR [CORPUS_DIR]", file=sys.stderr)
        return 2
    sensor = sys.argv[1]
    corpus = sys.argv[2] if len(sys.argv) > 2 else DEFAULT_CORPUS
    if not os.path.isdir(corpus):
        print("SKIPPED: %s not found" % corpus)
        return 77
    files, st, diffs, udp, quirks = sweep_ndpi(sensor, corpus)
    tests, dst, ddiffs, dnotes = sweep_dns(sensor, corpus)
    fequal, fclose, ftotal, fdiffs = sweep_flow_counts(sensor, corpus)

    print("== nDPI 4.11 .out (%d captures with a TCP JA3C/JA4): differences" % files)
    for d in diffs:
        print("  " + d)
    print("== Zeek dns.log (%d baselines): query names the sensor did not report" % tests)
    for d in ddiffs:
        print("  " + d)
    for d in dnotes:
        print("  note: " + d)
    print("== nDPI 4.11 .out: captures whose flow count differs by more than 10%% (or 1)")
    for d in fdiffs:
        print("  " + d)
    print("\n== summary")
    print("  nDPI flows with JA3C/JA4 over UDP (QUIC/DTLS, not parsed by the sensor): %d, "
          "not counted" % udp)
    for w, n in sorted(quirks.items(), key=lambda x: -x[1]):
        print("  JA4 known nDPI 4.11 deviation from the JA4 spec, %3d flows: %s" % (n, w))
    failed = False
    rows = [(k.upper() + " vs nDPI", st[k], THRESHOLDS[k]) for k in ("ja3", "ja4", "sni", "ja3s")]
    rows.append(("DNS names vs Zeek", dst, THRESHOLDS["dns"]))
    for label, s, thr in rows:
        exact, total = rate(s)
        r, _ = rate(s, with_quirks=True)
        ok = r >= thr
        failed |= not ok
        q = " + %d nDPI quirks" % s["quirk"] if s.get("quirk") else ""
        print("  %-17s %4d match%s, %3d differ, %3d missing of %4d: exact %6.2f%%, "
              "with quirks %6.2f%% (threshold %.0f%%) %s"
              % (label, s["match"], q, s.get("differ", 0), s["missing"], total, 100 * exact,
                 100 * r, 100 * thr, "ok" if ok else "BELOW THRESHOLD"))
    fr = fclose / ftotal if ftotal else 1.0
    ok = fr >= THRESHOLDS["flows"]
    failed |= not ok
    print("  %-17s %4d of %4d captures equal, %4d within 10%%: %6.2f%% (threshold %.0f%%) %s"
          % ("Flows vs nDPI", fequal, ftotal, fclose, 100 * fr, 100 * THRESHOLDS["flows"],
             "ok" if ok else "BELOW THRESHOLD"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
