/*  sn_det_scan: port scans (one source, many ports of one target), host sweeps (one source, many
    targets of one service), ICMP echo sweeps and ARP sweeps. Owner: sensor (issue 4, detector 1).

    As in Zeek's scan.zeek, a port or a target counts when its probe FAILED: refused (TCP RST from
    the target, ICMP unreachable) or unanswered. A probe is a new flow's first packet, so counting
    starts at once; a failure is known when the refusal comes (milliseconds) or when a probe has
    gone a tick (~1 s) without a normal answer, so a scan is reported within about a second, not
    at flow end. Counting failures rather than attempts is what keeps browsers (dozens of CDN
    hosts on 443), FTP passive data connections (many ports, all open) and Windows clients
    talking to a domain controller (a dozen ports, all open) quiet: what they touch answers.

    State is three bounded tables (sn_track): per source->target (vertical scans), per source
    and service (sweeps; ICMP echo and ARP are services of their own), and per source and
    direction (the totals that sweep and many-target findings report). Findings carry
    cumulative evidence; the engine folds them into one finding per (detector, source, target)
    and sends revisions, so a 1,000-port scan is one finding whose newest revision says 1,000. */
#include "sn_det_scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_distinct.h"
#include "sn_track.h"

#define S_NS 1000000000ULL

//  TCP flags
#define S_FIN 0x01
#define S_SYN 0x02
#define S_RST 0x04
#define S_ACK 0x10

//  Where a scan goes, from home_net: it decides category, ATT&CK and severity.
enum { S_IN = 0, S_INT, S_OUT, S_EXT, S_N_CLS };
enum { S_PORT = 0, S_SWEEP, S_ICMP, S_N_KIND };
static const uint8_t s_cls_dir[S_N_CLS] = {MM_DIR_INBOUND, MM_DIR_INTERNAL, MM_DIR_OUTBOUND,
                                           MM_DIR_EXTERNAL};

//  Inbound scans are reconnaissance (T1595: Active Scanning); scans from an inside host are
//  discovery after a compromise (T1046 services, T1018 hosts). See docs/detection.md.
static const sn_det_info_t s_info[S_N_KIND][S_N_CLS] = {
    [S_PORT] =
        {
            [S_IN] = {"scan.port", 1, MM_CAT_SCAN, MM_SEV_LOW, 60, {"T1595.001"}},
            [S_INT] = {"scan.port", 1, MM_CAT_LATERAL_MOVEMENT, MM_SEV_HIGH, 70, {"T1046"}},
            [S_OUT] = {"scan.port", 1, MM_CAT_SCAN, MM_SEV_MEDIUM, 60, {"T1046"}},
            [S_EXT] = {"scan.port", 1, MM_CAT_SCAN, MM_SEV_LOW, 60, {"T1595.001"}},
        },
    [S_SWEEP] =
        {
            [S_IN] = {"scan.sweep", 1, MM_CAT_SCAN, MM_SEV_LOW, 60, {"T1595.001"}},
            [S_INT] =
                {"scan.sweep", 1, MM_CAT_LATERAL_MOVEMENT, MM_SEV_HIGH, 70, {"T1046", "T1018"}},
            [S_OUT] = {"scan.sweep", 1, MM_CAT_SCAN, MM_SEV_MEDIUM, 60, {"T1046", "T1018"}},
            [S_EXT] = {"scan.sweep", 1, MM_CAT_SCAN, MM_SEV_LOW, 60, {"T1595.001"}},
        },
    [S_ICMP] =
        {
            [S_IN] = {"scan.icmp_sweep", 1, MM_CAT_SCAN, MM_SEV_LOW, 60, {"T1595.001"}},
            [S_INT] = {"scan.icmp_sweep", 1, MM_CAT_LATERAL_MOVEMENT, MM_SEV_MEDIUM, 60, {"T1018"}},
            [S_OUT] = {"scan.icmp_sweep", 1, MM_CAT_SCAN, MM_SEV_MEDIUM, 60, {"T1018"}},
            [S_EXT] = {"scan.icmp_sweep", 1, MM_CAT_SCAN, MM_SEV_LOW, 60, {"T1595.001"}},
        },
};

//  ARP never leaves the segment: whoever sweeps with it is inside, whatever home_net says.
static const sn_det_info_t s_arp_info = {"scan.arp_sweep", 1,  MM_CAT_LATERAL_MOVEMENT,
                                         MM_SEV_MEDIUM,    70, {"T1018"}};

//  One source->target pair (vertical) or one source and service (sweep).
typedef struct {
    sn_distinct_t probed;  //  ports (pair) or targets (sweep) probed
    sn_distinct_t open;    //  ... that answered normally: SYN-ACK, UDP/echo/ARP reply
    mm_addr_t src, dst;    //  dst: pairs only
    uint64_t probes, refused;
    uint64_t first_ts, last_ts, window_start;
    uint32_t aged;     //  `probed` at the previous tick: probes old enough to have an answer
    uint32_t stealth;  //  NULL, FIN or Xmas probes: no TCP stack sends these in earnest
    uint16_t port;     //  sweep: its port (ICMP: the request type)
    uint8_t proto;     //  sweep: 6, 17, 1, 58, or 0 for ARP
    uint8_t cls;
    bool reported;  //  crossed the threshold: a finding is open
    bool dirty;     //  evidence changed since the last raise
    bool alone;     //  pair reported as its own finding (not folded into many targets)
} s_probe_t;

//  One source's totals toward one class of targets: what sweep and many-target findings say.
typedef struct {
    sn_distinct_t hosts, ports;
    mm_addr_t src;
    uint64_t probes, refused, answers;
    uint64_t first_ts, last_ts, window_start;
    uint16_t alone;  //  targets reported with findings of their own
    uint16_t swept;  //  services whose sweep crossed the threshold
    uint16_t swept_port;
    uint8_t swept_proto;
    uint8_t cls;
    bool swept_tcp, worm;
    bool sweep_reported, many_reported, dirty;
} s_source_t;

typedef struct {
    sn_detect_t *engine;
    const sn_config_t *cfg;
    sn_track_t *pairs, *sweeps, *sources;
    uint32_t ports, hosts;  //  thresholds
    //  A source that scans many targets gets `alone` scan.port findings of its own; beyond,
    //  its further targets fold into one finding without a target (else a /24 scan raises 254).
    uint32_t alone;
    uint32_t capacity;
    //  Ports worms sweep the internet for (WannaCry 445, Mirai 23/2323/7547, SSH and RDP
    //  guessers, database and Docker hijackers), from [scan] worm_ports: an inside host
    //  sweeping outside hosts on one of these is most likely infected, so the sweep is high;
    //  on other ports (P2P clients meet many dead peers) it stays medium.
    uint8_t worm[65536 / 8];
    uint64_t window_ns;
    uint64_t probes, refusals, answers;
} s_self_t;

static void s_pair_gone (void *arg, const uint8_t *key, size_t key_len, void *value, bool recycled);
static void s_sweep_gone (void *arg, const uint8_t *key, size_t key_len, void *value,
                          bool recycled);
static void s_source_gone (void *arg, const uint8_t *key, size_t key_len, void *value,
                           bool recycled);
static void s_destroy (void **self_p);

//  "22,23,445" or ranges "5900-5910" into a bit per port; 0 or -1 with the offending text on
//  stderr.
static int
s_parse_ports (uint8_t *bits, const char *text)
{
    const char *p = text;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (!*p)
            break;
        char *end;
        unsigned long lo = strtoul (p, &end, 10), hi;
        if (end == p || lo == 0 || lo > 65535)
            goto bad;
        hi = lo;
        if (*end == '-') {
            const char *q = end + 1;
            hi = strtoul (q, &end, 10);
            if (end == q || hi < lo || hi > 65535)
                goto bad;
        }
        if (*end && *end != ',' && *end != ' ' && *end != '\t')
            goto bad;
        for (unsigned long v = lo; v <= hi; v++)
            bits[v >> 3] |= (uint8_t) (1u << (v & 7));
        p = end;
    }
    return 0;
bad:
    fprintf (stderr, "scan: worm_ports: cannot read '%s'\n", p);
    return -1;
}

static void *
s_create (const sn_config_t *cfg, sn_detect_t *engine)
{
    if (!cfg->scan)
        return NULL;
    s_self_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->engine = engine;
    self->cfg = cfg;
    self->ports = (uint32_t) cfg->scan_ports;
    self->hosts = (uint32_t) cfg->scan_hosts;
    self->window_ns = cfg->scan_window * S_NS;
    self->capacity = (uint32_t) cfg->scan_max_tracked;
    self->alone = (uint32_t) cfg->scan_targets_alone;
    if (s_parse_ports (self->worm, cfg->scan_worm_ports) != 0) {
        free (self);
        return NULL;
    }
    self->pairs =
        sn_track_new (self->capacity, sizeof (s_probe_t), self->window_ns, s_pair_gone, self);
    self->sweeps =
        sn_track_new (self->capacity, sizeof (s_probe_t), self->window_ns, s_sweep_gone, self);
    self->sources =
        sn_track_new (self->capacity, sizeof (s_source_t), self->window_ns, s_source_gone, self);
    if (!self->pairs || !self->sweeps || !self->sources) {
        fprintf (stderr, "scan: cannot allocate state for %u entries\n", self->capacity);
        void *p = self;
        s_destroy (&p);
        return NULL;
    }
    return self;
}

static void
s_destroy (void **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_self_t *self = *self_p;
    sn_track_destroy (&self->pairs);
    sn_track_destroy (&self->sweeps);
    sn_track_destroy (&self->sources);
    free (self);
    *self_p = NULL;
}

//  ---------------------------------------------------------------------------------------------
//  Helpers

static uint8_t
s_cls (bool src_home, bool dst_home)
{
    if (src_home)
        return dst_home ? S_INT : S_OUT;
    return dst_home ? S_IN : S_EXT;
}

//  Targets a sweep never counts: multicast and broadcast (mDNS, SSDP, LLMNR, NetBIOS name
//  queries reach "many hosts" by design), unspecified and loopback. x.x.x.0 and x.x.x.255
//  are broadcast in the /24s small networks use; in a larger subnet a sweep loses two targets
//  of 256, which does not hide it.
static bool
s_ignored (const mm_addr_t *a)
{
    if (a->len == 4) {
        uint8_t b0 = a->b[0], b3 = a->b[3];
        return b0 == 0 || b0 == 127 || b0 >= 224 || b3 == 0 || b3 == 255;
    }
    if (a->len == 16) {
        static const uint8_t zero[16] = {0};
        static const uint8_t loop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        return a->b[0] == 0xff || memcmp (a->b, zero, 16) == 0 || memcmp (a->b, loop, 16) == 0;
    }
    return true;
}

//  Sources that cannot scan: unspecified, loopback, multicast, broadcast.
static bool
s_bad_source (const mm_addr_t *a)
{
    if (a->len == 4)
        return a->b[0] == 0 || a->b[0] == 127 || a->b[0] >= 224;
    return a->len != 16 || a->b[0] == 0xff;
}

static uint64_t
s_addr_hash (const mm_addr_t *a)
{
    return sn_distinct_hash (a->b, a->len);
}

static uint64_t
s_port_hash (uint16_t port)
{
    uint8_t b[2] = {(uint8_t) (port >> 8), (uint8_t) port};
    return sn_distinct_hash (b, 2);
}

static size_t
s_sweep_key (uint8_t *key, const mm_addr_t *src, uint8_t proto, uint16_t port, uint8_t cls)
{
    size_t n = sn_track_key_addr (key, src);
    key[n++] = proto;
    key[n++] = (uint8_t) (port >> 8);
    key[n++] = (uint8_t) port;
    key[n++] = cls;
    return n;
}

static size_t
s_source_key (uint8_t *key, const mm_addr_t *src, uint8_t cls)
{
    size_t n = sn_track_key_addr (key, src);
    key[n++] = cls;
    return n;
}

//  Distinct counts are estimates past 16; they cannot exceed the number of probes.
static uint32_t
s_distinct (const sn_distinct_t *d, uint64_t cap)
{
    uint32_t n = sn_distinct_count (d);
    return cap < n ? (uint32_t) cap : n;
}

//  Failed probes: probed but not answered normally, counting only probes at least a tick old
//  (unless the refusals alone prove it).
static bool
s_crossed (const s_probe_t *e, uint32_t threshold)
{
    uint32_t probed = sn_distinct_count (&e->probed), open = sn_distinct_count (&e->open);
    uint32_t aged = e->aged;
    if (aged > open && aged - open >= threshold)
        return true;
    //  Refusals come within a round trip: when there are enough of them, and enough distinct
    //  ports or targets without a normal answer, there is nothing to wait for.
    return e->refused >= threshold && probed > open && probed - open >= threshold;
}

//  "1,000"
static const char *
s_num (uint64_t v, char *buf, size_t size)
{
    char tmp[32];
    int n = snprintf (tmp, sizeof tmp, "%llu", (unsigned long long) v);
    size_t o = 0;
    for (int i = 0; i < n && o + 1 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0 && o + 2 < size)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = 0;
    return buf;
}

static uint64_t
s_seconds (uint64_t first, uint64_t last)
{
    uint64_t s = last > first ? (last - first + S_NS - 1) / S_NS : 0;
    return s ? s : 1;
}

static uint8_t
s_confidence (uint8_t base, uint64_t refused, uint64_t probes, uint32_t stealth)
{
    if (stealth)
        return 95;
    if (probes == 0)
        return base;
    //  From the default up to 95 as the share of refused probes grows: a refusal is the
    //  target saying it was probed.
    uint64_t r = refused < probes ? refused : probes;
    uint64_t c = base < 95 ? base + (95u - base) * r / probes : base;
    return (uint8_t) c;
}

static bool
s_is_worm_port (const s_self_t *self, uint16_t port)
{
    return self->worm[port >> 3] & (1u << (port & 7));
}

static const char *
s_proto_name (uint8_t proto)
{
    return proto == 6 ? "tcp" : proto == 17 ? "udp" : "ip";
}

//  ---------------------------------------------------------------------------------------------
//  Findings

static void
s_raise_pair (s_self_t *self, s_probe_t *e)
{
    const sn_det_info_t *info = &s_info[S_PORT][e->cls];
    sn_alert_t a;
    memset (&a, 0, sizeof a);
    a.info = info;
    a.ts = e->last_ts;
    a.src = e->src;
    a.dst = e->dst;
    uint32_t open = s_distinct (&e->open, e->probes);
    a.severity = info->severity;
    if ((e->cls == S_IN || e->cls == S_EXT) && open > 0)
        a.severity = MM_SEV_MEDIUM;  //  the target answered: there is something to find
    a.confidence = s_confidence (info->confidence, e->refused, e->probes, e->stealth);
    a.evidence.count = e->probes;
    a.evidence.distinct_ports = s_distinct (&e->probed, e->probes);
    a.evidence.distinct_hosts = 1;
    a.evidence.window_s = (uint32_t) self->cfg->scan_window;
    a.evidence.first_ts = e->first_ts;
    a.evidence.last_ts = e->last_ts;
    char src[64], dst[64], ports[32], refused[32];
    const char *why = e->cls == S_INT   ? ": a scan inside the network"
                      : e->cls == S_OUT ? ": an inside host probing an outside one"
                                        : "";
    if (snprintf (a.message, sizeof a.message,
                  "%s probed %s ports on %s in %llu s (%s refused, %u open%s)%s",
                  sn_detect_addr_str (&e->src, src, sizeof src),
                  s_num (a.evidence.distinct_ports, ports, sizeof ports),
                  sn_detect_addr_str (&e->dst, dst, sizeof dst),
                  (unsigned long long) s_seconds (e->first_ts, e->last_ts),
                  s_num (e->refused, refused, sizeof refused), open,
                  e->stealth ? "; NULL/FIN/Xmas probes" : "", why) < 0)
        a.message[0] = 0;
    sn_detect_raise (self->engine, &a);
    e->dirty = false;
}

//  A source's many-target port scan (beyond [scan] targets_alone targets) or its sweep.
static void
s_raise_source (s_self_t *self, s_source_t *c, int kind)
{
    const sn_det_info_t *info = &s_info[kind][c->cls];
    sn_alert_t a;
    memset (&a, 0, sizeof a);
    a.info = info;
    a.ts = c->last_ts;
    a.src = c->src;
    a.subject = c->cls;  //  an inside host's internal and outbound scans are two findings
    a.direction = s_cls_dir[c->cls];  //  no single target: say where the scan went
    a.severity = info->severity;
    const char *why = "";
    if ((c->cls == S_IN || c->cls == S_EXT) && c->answers > 0)
        a.severity = MM_SEV_MEDIUM;
    if (kind == S_SWEEP && c->cls == S_INT && !c->swept_tcp) {
        a.severity = MM_SEV_MEDIUM;  //  UDP discovery (SNMP, printers) is common and benign
    }
    if (kind == S_SWEEP && c->cls == S_OUT && c->worm) {
        a.severity = MM_SEV_HIGH;
        why = ": an inside host sweeping outside hosts on a port worms spread by (likely "
              "infected)";
    }
    else if (c->cls == S_OUT)
        why = ": an inside host scanning outside hosts";
    else if (c->cls == S_INT)
        why = ": a scan inside the network";
    a.confidence = s_confidence (info->confidence, c->refused, c->probes, 0);
    a.evidence.count = c->probes;
    a.evidence.distinct_ports = s_distinct (&c->ports, c->probes);
    a.evidence.distinct_hosts = s_distinct (&c->hosts, c->probes);
    a.evidence.window_s = (uint32_t) self->cfg->scan_window;
    a.evidence.first_ts = c->first_ts;
    a.evidence.last_ts = c->last_ts;
    char src[64], hosts[32], ports[32], refused[32];
    sn_detect_addr_str (&c->src, src, sizeof src);
    s_num (a.evidence.distinct_hosts, hosts, sizeof hosts);
    s_num (a.evidence.distinct_ports, ports, sizeof ports);
    s_num (c->refused, refused, sizeof refused);
    unsigned long long secs = (unsigned long long) s_seconds (c->first_ts, c->last_ts);
    int rc;
    if (kind == S_SWEEP)
        rc = snprintf (a.message, sizeof a.message,
                       "%s swept %s hosts on %u/%s%s in %llu s (%s ports in all, %s refused)%s",
                       src, hosts, c->swept_port, s_proto_name (c->swept_proto),
                       c->swept > 1 ? " and other ports" : "", secs, ports, refused, why);
    else
        rc = snprintf (a.message, sizeof a.message,
                       "%s probed %s ports on %s hosts in %llu s (%s refused)%s", src, ports, hosts,
                       secs, refused, why);
    if (rc < 0)
        a.message[0] = 0;
    sn_detect_raise (self->engine, &a);
}

static void
s_raise_hosts (s_self_t *self, s_probe_t *e)
{
    bool arp = e->proto == 0;
    const sn_det_info_t *info = arp ? &s_arp_info : &s_info[S_ICMP][e->cls];
    sn_alert_t a;
    memset (&a, 0, sizeof a);
    a.info = info;
    a.ts = e->last_ts;
    a.src = e->src;
    a.subject = e->cls;
    a.direction = arp ? MM_DIR_INTERNAL : s_cls_dir[e->cls];
    a.proto = arp ? 0 : e->proto;
    a.severity = info->severity;
    a.confidence = s_confidence (info->confidence, e->refused, e->probes, 0);
    a.evidence.count = e->probes;
    a.evidence.distinct_hosts = s_distinct (&e->probed, e->probes);
    a.evidence.window_s = (uint32_t) self->cfg->scan_window;
    a.evidence.first_ts = e->first_ts;
    a.evidence.last_ts = e->last_ts;
    char src[64], hosts[32];
    sn_detect_addr_str (&e->src, src, sizeof src);
    s_num (a.evidence.distinct_hosts, hosts, sizeof hosts);
    uint32_t open = s_distinct (&e->open, e->probes);
    unsigned long long secs = (unsigned long long) s_seconds (e->first_ts, e->last_ts);
    int rc;
    if (arp)
        rc = snprintf (a.message, sizeof a.message,
                       "%s performing an ARP scan: asked for %s addresses in %llu s, %u answered",
                       src, hosts, secs, open);
    else
        rc = snprintf (a.message, sizeof a.message,
                       "%s pinged %s hosts in %llu s (%u answered, %llu unreachable)", src, hosts,
                       secs, open, (unsigned long long) e->refused);
    if (rc < 0)
        a.message[0] = 0;
    sn_detect_raise (self->engine, &a);
    e->dirty = false;
}

static s_source_t *
s_source (s_self_t *self, const mm_addr_t *src, uint8_t cls, uint64_t ts, bool create)
{
    uint8_t key[SN_TRACK_KEY_MAX];
    size_t n = s_source_key (key, src, cls);
    if (!create)
        return sn_track_find (self->sources, key, n);
    bool created;
    s_source_t *c = sn_track_get (self->sources, key, n, ts, &created);
    if (created) {
        c->src = *src;
        c->cls = cls;
        c->first_ts = c->window_start = ts;
    }
    return c;
}

static void
s_report_pair (s_self_t *self, s_probe_t *e)
{
    if (!e->reported) {
        e->reported = true;
        s_source_t *c = s_source (self, &e->src, e->cls, e->last_ts, true);
        if (c->alone < self->alone) {
            c->alone++;
            e->alone = true;
        }
        else if (!c->many_reported) {
            c->many_reported = true;
            s_raise_source (self, c, S_PORT);
        }
        else
            c->dirty = true;
    }
    if (e->alone)
        s_raise_pair (self, e);
    e->dirty = false;
}

static void
s_report_sweep (s_self_t *self, s_probe_t *e)
{
    if (e->proto == 0 || e->proto == 1 || e->proto == 58) {
        e->reported = true;
        s_raise_hosts (self, e);
        return;
    }
    s_source_t *c = s_source (self, &e->src, e->cls, e->last_ts, true);
    if (!e->reported) {
        e->reported = true;
        if (c->swept++ == 0) {
            c->swept_port = e->port;
            c->swept_proto = e->proto;
        }
        if (e->proto == 6)
            c->swept_tcp = true;
        if (s_is_worm_port (self, e->port))
            c->worm = true;
    }
    c->sweep_reported = true;
    s_raise_source (self, c, S_SWEEP);
    c->dirty = false;
    e->dirty = false;
}

//  ---------------------------------------------------------------------------------------------
//  Counting

//  An unreported entry whose window has passed starts again (a tumbling window opened by its
//  first probe). A reported one keeps counting while the scan goes on, so its finding's
//  evidence stays cumulative; it ends when the source is quiet for a window.
static void
s_roll (s_self_t *self, s_probe_t *e, uint64_t ts)
{
    if (e->reported || ts < e->window_start || ts - e->window_start <= self->window_ns)
        return;
    mm_addr_t src = e->src, dst = e->dst;
    uint16_t port = e->port;
    uint8_t proto = e->proto, cls = e->cls;
    memset (e, 0, sizeof *e);
    e->src = src;
    e->dst = dst;
    e->port = port;
    e->proto = proto;
    e->cls = cls;
    e->first_ts = e->window_start = ts;
}

static void
s_source_roll (s_self_t *self, s_source_t *c, uint64_t ts)
{
    if (c->sweep_reported || c->many_reported || ts < c->window_start ||
        ts - c->window_start <= self->window_ns)
        return;
    //  The count of targets reported alone is kept: it limits findings per scanning source.
    mm_addr_t src = c->src;
    uint8_t cls = c->cls;
    uint16_t alone = c->alone;
    memset (c, 0, sizeof *c);
    c->src = src;
    c->cls = cls;
    c->alone = alone;
    c->first_ts = c->window_start = ts;
}

static s_probe_t *
s_sweep_entry (s_self_t *self, const mm_addr_t *src, uint8_t proto, uint16_t port, uint8_t cls,
               uint64_t ts, bool create)
{
    uint8_t key[SN_TRACK_KEY_MAX];
    size_t n = s_sweep_key (key, src, proto, port, cls);
    if (!create)
        return sn_track_find (self->sweeps, key, n);
    bool created;
    s_probe_t *e = sn_track_get (self->sweeps, key, n, ts, &created);
    if (created) {
        e->src = *src;
        e->proto = proto;
        e->port = port;
        e->cls = cls;
        e->first_ts = e->window_start = ts;
    }
    else
        s_roll (self, e, ts);
    return e;
}

static void
s_probe (s_self_t *self, const mm_addr_t *src, const mm_addr_t *dst, uint8_t proto, uint16_t port,
         bool stealth, uint8_t cls, uint64_t ts)
{
    if (s_ignored (dst) || s_bad_source (src) || mm_netlist_contains (&self->cfg->scan_allow, src))
        return;
    self->probes++;
    if (proto == 6 || proto == 17) {
        uint8_t key[SN_TRACK_KEY_MAX];
        size_t n = sn_track_key_pair (key, src, dst, 0);
        bool created;
        s_probe_t *e = sn_track_get (self->pairs, key, n, ts, &created);
        if (created) {
            e->src = *src;
            e->dst = *dst;
            e->cls = cls;
            e->first_ts = e->window_start = ts;
        }
        else
            s_roll (self, e, ts);
        e->probes++;
        e->last_ts = ts;
        if (stealth)
            e->stealth++;
        sn_distinct_add (&e->probed, s_port_hash (port));
        if (e->reported)
            e->dirty = true;

        s_source_t *c = s_source (self, src, cls, ts, true);
        s_source_roll (self, c, ts);
        c->probes++;
        c->last_ts = ts;
        sn_distinct_add (&c->hosts, s_addr_hash (dst));
        sn_distinct_add (&c->ports, s_port_hash (port));
        if (c->sweep_reported || c->many_reported)
            c->dirty = true;
    }
    //  An inside resolver's queries, NTP polls and QUIC attempts go unanswered by many
    //  servers in the course of a normal day: no outbound sweep on these.
    if (proto == 17 && cls == S_OUT && (port == 53 || port == 123 || port == 443))
        return;
    s_probe_t *w = s_sweep_entry (self, src, proto, port, cls, ts, true);
    w->probes++;
    w->last_ts = ts;
    sn_distinct_add (&w->probed, s_addr_hash (dst));
    if (w->reported)
        w->dirty = true;
}

//  An answer from `target` to a probe of `prober`: normal (open) or negative (refused).
static void
s_answer (s_self_t *self, const mm_addr_t *prober, const mm_addr_t *target, uint8_t proto,
          uint16_t port, bool open, uint8_t cls, uint64_t ts)
{
    if (open)
        self->answers++;
    else
        self->refusals++;
    if (proto == 6 || proto == 17) {
        uint8_t key[SN_TRACK_KEY_MAX];
        size_t n = sn_track_key_pair (key, prober, target, 0);
        s_probe_t *e = sn_track_find (self->pairs, key, n);
        if (e) {
            if (open)
                sn_distinct_add (&e->open, s_port_hash (port));
            else
                e->refused++;
            if (e->reported)
                e->dirty = true;
            else if (!open && s_crossed (e, self->ports))
                s_report_pair (self, e);
        }
        s_source_t *c = s_source (self, prober, cls, ts, false);
        if (c) {
            if (open)
                c->answers++;
            else
                c->refused++;
            if (c->sweep_reported || c->many_reported)
                c->dirty = true;
        }
    }
    s_probe_t *w = s_sweep_entry (self, prober, proto, port, cls, ts, false);
    if (w) {
        if (open)
            sn_distinct_add (&w->open, s_addr_hash (target));
        else
            w->refused++;
        if (w->reported)
            w->dirty = true;
        else if (!open && s_crossed (w, self->hosts))
            s_report_sweep (self, w);
    }
}

//  ICMP unreachable: the packet it quotes names the probe (its source is the prober, to whom
//  the error goes). Returns false if the quote is too short or does not fit.
static bool
s_quoted (const sn_pkt_t *k, mm_addr_t *prober, mm_addr_t *target, uint8_t *proto, uint16_t *port)
{
    //  The decoder's payload starts after type, code and checksum: 4 unused bytes, then the
    //  quoted IP header and at least 8 bytes of what followed it.
    if (!k->payload || k->payload_len < 4)
        return false;
    const uint8_t *q = k->payload + 4;
    uint32_t n = k->payload_len - 4;
    uint32_t ihl;
    if (k->proto == 1) {
        if (n < 20 || (q[0] >> 4) != 4)
            return false;
        ihl = (uint32_t) (q[0] & 0x0f) * 4;
        if (ihl < 20 || n < ihl + 4)
            return false;
        *proto = q[9];
        prober->len = target->len = 4;
        memcpy (prober->b, q + 12, 4);
        memcpy (target->b, q + 16, 4);
    }
    else {
        if (n < 44 || (q[0] >> 4) != 6)
            return false;
        ihl = 40;  //  extension headers are not followed: such probes go uncounted
        *proto = q[6];
        prober->len = target->len = 16;
        memcpy (prober->b, q + 8, 16);
        memcpy (target->b, q + 24, 16);
    }
    if (prober->len != k->dst.len || memcmp (prober->b, k->dst.b, prober->len) != 0)
        return false;  //  an error about someone else's packet: not the prober's answer
    const uint8_t *t = q + ihl;
    if (*proto == 6 || *proto == 17)
        *port = (uint16_t) (t[2] << 8 | t[3]);
    else if (*proto == 1 || *proto == 58)
        *port = t[0];  //  the quoted request's type
    else
        return false;
    return true;
}

static bool
s_icmp_request (uint8_t proto, uint16_t type)
{
    //  Echo, and the timestamp and address mask requests nmap's host discovery also sends.
    return proto == 1 ? (type == 8 || type == 13 || type == 17) : type == 128;
}

static void
s_packet (void *self_, const sn_det_pkt_t *p)
{
    s_self_t *self = self_;
    const sn_pkt_t *k = p->pkt;
    const sn_flow_t *f = p->flow;
    uint8_t cls = s_cls (p->orig_home, p->resp_home);
    switch (f->proto) {
    case 6:
        if (p->dir == 0) {
            //  A probe opens a flow without ACK or RST; a first packet with ACK is the middle
            //  of a connection that started before we looked (or after its flow timed out).
            if (p->new_flow && !(k->tcp_flags & (S_ACK | S_RST)))
                s_probe (self, &f->orig, &f->resp, 6, f->resp_port, !(k->tcp_flags & S_SYN), cls,
                         p->ts);
        }
        else if (f->pkts[1] == 1) {
            if ((k->tcp_flags & (S_SYN | S_ACK)) == (S_SYN | S_ACK))
                s_answer (self, &f->orig, &f->resp, 6, f->resp_port, true, cls, p->ts);
            else if (k->tcp_flags & S_RST)
                s_answer (self, &f->orig, &f->resp, 6, f->resp_port, false, cls, p->ts);
        }
        return;
    case 17:
        if (p->dir == 0) {
            if (!p->new_flow)
                return;
            //  Not probes: a first datagram from a well-known port to an ephemeral one is
            //  an answer whose question we missed (DNS, NTP, QUIC from 443); equal ports
            //  are peers of one protocol (NTP 123, IKE 500, NetBIOS 137); 33434-33534 is
            //  traceroute, answered by port unreachable from its target by design.
            if (f->orig_port < 1024 && f->resp_port >= 1024)
                return;
            if (f->orig_port == f->resp_port)
                return;
            if (f->resp_port >= 33434 && f->resp_port <= 33534)
                return;
            s_probe (self, &f->orig, &f->resp, 17, f->resp_port, false, cls, p->ts);
        }
        else if (f->pkts[1] == 1)
            s_answer (self, &f->orig, &f->resp, 17, f->resp_port, true, cls, p->ts);
        return;
    case 1:
    case 58: {
        uint16_t type = k->sport;
        if (p->dir == 0 && p->new_flow && s_icmp_request (f->proto, type)) {
            s_probe (self, &f->orig, &f->resp, f->proto, type, false, cls, p->ts);
            return;
        }
        //  The echo reply of a flow our echo request opened (the flow keeps the request type
        //  as the originator's port).
        if (p->dir == 1 && f->pkts[1] == 1 && s_icmp_request (f->proto, f->orig_port)) {
            s_answer (self, &f->orig, &f->resp, f->proto, f->orig_port, true, cls, p->ts);
            return;
        }
        bool unreachable = f->proto == 1 ? type == 3 : type == 1;
        if (!unreachable)
            return;
        mm_addr_t prober, target;
        uint8_t proto;
        uint16_t port;
        if (!s_quoted (k, &prober, &target, &proto, &port))
            return;
        if (proto == 1 || proto == 58) {
            if (!s_icmp_request (proto, port))
                return;
        }
        uint8_t qcls = s_cls (sn_detect_is_home (self->engine, &prober),
                              sn_detect_is_home (self->engine, &target));
        s_answer (self, &prober, &target, proto, port, false, qcls, p->ts);
        return;
    }
    default: return;
    }
}

static void
s_arp (void *self_, const sn_det_arp_t *arp)
{
    s_self_t *self = self_;
    const mm_addr_t *s = &arp->sender_ip, *t = &arp->target_ip;
    if (s->len != 4 || t->len != 4)
        return;
    //  ARP probes (sender 0.0.0.0, RFC 5227 conflict detection) and announcements (sender
    //  asks for itself) are not sweeps.
    if ((s->b[0] | s->b[1] | s->b[2] | s->b[3]) == 0 || memcmp (s->b, t->b, 4) == 0)
        return;
    if (arp->op == 1)
        s_probe (self, s, t, 0, 0, false, S_INT, arp->ts);
    else if (arp->op == 2)  //  a reply: the asker is its target
        s_answer (self, t, s, 0, 0, true, S_INT, arp->ts);
}

//  ---------------------------------------------------------------------------------------------
//  Time

static void
s_pair_tick (void *arg, const uint8_t *key, size_t key_len, void *value)
{
    (void) key;
    (void) key_len;
    s_self_t *self = arg;
    s_probe_t *e = value;
    if (!e->reported) {
        if (s_crossed (e, self->ports))
            s_report_pair (self, e);
        e->aged = sn_distinct_count (&e->probed);
    }
    else if (e->dirty) {
        if (e->alone)
            s_raise_pair (self, e);
        else {
            e->dirty = false;  //  its counts went into its source's many-target finding
        }
    }
}

static void
s_sweep_tick (void *arg, const uint8_t *key, size_t key_len, void *value)
{
    (void) key;
    (void) key_len;
    s_self_t *self = arg;
    s_probe_t *e = value;
    if (!e->reported) {
        if (s_crossed (e, self->hosts))
            s_report_sweep (self, e);
        e->aged = sn_distinct_count (&e->probed);
    }
    else if (e->dirty) {
        if (e->proto == 0 || e->proto == 1 || e->proto == 58)
            s_raise_hosts (self, e);
        else
            e->dirty = false;  //  reported through its source
    }
}

static void
s_source_tick (void *arg, const uint8_t *key, size_t key_len, void *value)
{
    (void) key;
    (void) key_len;
    s_self_t *self = arg;
    s_source_t *c = value;
    if (!c->dirty)
        return;
    if (c->sweep_reported)
        s_raise_source (self, c, S_SWEEP);
    if (c->many_reported)
        s_raise_source (self, c, S_PORT);
    c->dirty = false;
}

//  Entries that leave (idle, recycled, flushed) say their last word if it was not said yet.
static void
s_pair_gone (void *arg, const uint8_t *key, size_t key_len, void *value, bool recycled)
{
    (void) recycled;
    s_self_t *self = arg;
    s_probe_t *e = value;
    if (e->reported && e->dirty)
        s_pair_tick (self, key, key_len, value);
}

static void
s_sweep_gone (void *arg, const uint8_t *key, size_t key_len, void *value, bool recycled)
{
    (void) recycled;
    s_self_t *self = arg;
    s_probe_t *e = value;
    if (e->reported && e->dirty)
        s_sweep_tick (self, key, key_len, value);
}

static void
s_source_gone (void *arg, const uint8_t *key, size_t key_len, void *value, bool recycled)
{
    (void) recycled;
    s_source_tick (arg, key, key_len, value);
}

static void
s_tick (void *self_, uint64_t now)
{
    s_self_t *self = self_;
    sn_track_expire (self->pairs, now);
    sn_track_expire (self->sweeps, now);
    sn_track_expire (self->sources, now);
    sn_track_foreach (self->pairs, s_pair_tick, self);
    sn_track_foreach (self->sweeps, s_sweep_tick, self);
    sn_track_foreach (self->sources, s_source_tick, self);
}

//  End of input: a last look, as at a tick. Probes of the last second count only if refused:
//  in a capture file they had no time to be answered, and taking them for failures would
//  turn a browser's last burst of connections into a sweep.
static void
s_flush (void *self_)
{
    s_self_t *self = self_;
    sn_track_foreach (self->pairs, s_pair_tick, self);
    sn_track_foreach (self->sweeps, s_sweep_tick, self);
    sn_track_foreach (self->sources, s_source_tick, self);
}

void
sn_det_scan_stats (const void *self_, sn_det_scan_stats_t *stats)
{
    const s_self_t *self = self_;
    memset (stats, 0, sizeof *stats);
    if (!self)
        return;
    stats->probes = self->probes;
    stats->refusals = self->refusals;
    stats->answers = self->answers;
    const sn_track_t *t[3] = {self->pairs, self->sweeps, self->sources};
    for (int i = 0; i < 3; i++) {
        const sn_track_stats_t *s = sn_track_stats (t[i]);
        stats->tracked += s->active;
        stats->recycled += s->recycled;
        stats->capacity += self->capacity;
    }
}

const sn_det_class_t sn_det_scan = {
    .name = "scan",
    .create = s_create,
    .destroy = s_destroy,
    .packet = s_packet,
    .arp = s_arp,
    .tick = s_tick,
    .flush = s_flush,
};
