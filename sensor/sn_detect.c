/*  sn_detect: the engine (see sn_detect.h). Open findings live in a bounded sn_track table
    keyed by (detector, source, target, subject): the first detection raises a finding at once
    (revision 0: immediate notice must not wait for a window to close); later ones only update
    the stored evidence, and a revision goes out when the detections pause (update_quiet), at
    most every update_interval while they go on, and when the finding closes. */
#include "sn_detect.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_block.h"
#include "sn_distinct.h"
#include "sn_track.h"

//  The detector modules, in the order they see inputs. The indicator matcher comes first so
//  others can look indicators up through sn_detect_module.
extern const sn_det_class_t sn_det_ioc;
extern const sn_det_class_t sn_det_scan;
extern const sn_det_class_t sn_det_brute;
extern const sn_det_class_t sn_det_exposed;
extern const sn_det_class_t sn_det_beacon;
extern const sn_det_class_t sn_det_dnst;
extern const sn_det_class_t sn_det_lateral;
extern const sn_det_class_t sn_det_exfil;
extern const sn_det_class_t sn_det_cleartext;

static const sn_det_class_t *const s_classes[] = {
    &sn_det_ioc,  &sn_det_scan,    &sn_det_brute, &sn_det_exposed,   &sn_det_beacon,
    &sn_det_dnst, &sn_det_lateral, &sn_det_exfil, &sn_det_cleartext,
};
#define S_N_CLASSES (sizeof s_classes / sizeof s_classes[0])

#define S_FLOW_SEEN 0x01
#define S_FLOW_ORIG_HOME 0x02
#define S_FLOW_RESP_HOME 0x04
#define S_FLOW_ESTABLISHED 0x08

#define S_NS 1000000000ULL

//  An open finding: enough to send a revision without the detector's help.
typedef struct {
    sn_alert_t alert;  //  newest detection; its string pointers point into the arrays below
    char ioc_value[MM_NAME_MAX + 1];
    char ioc_feed[MM_ID_MAX + 1];
    uint64_t id;
    uint32_t revision;
    uint64_t first_raise, last_raise, last_emit;
    bool dirty;  //  detections since the last event
} s_open_t;

struct sn_detect {
    const sn_config_t *cfg;
    sn_detect_emit_fn *emit;
    void *arg;
    struct {
        const sn_det_class_t *cls;
        void *self;
    } mods[S_N_CLASSES];
    size_t n_mods;
    sn_track_t *open;
    sn_block_t *block;
    uint64_t last_tick, now;
    sn_detect_stats_t stats;
};

static void s_open_gone (void *arg, const uint8_t *key, size_t key_len, void *value, bool recycled);

sn_detect_t *
sn_detect_new (const sn_config_t *cfg, sn_detect_emit_fn *emit, void *arg)
{
    sn_detect_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = cfg;
    self->emit = emit;
    self->arg = arg;
    self->open = sn_track_new ((uint32_t) cfg->max_findings, sizeof (s_open_t),
                               cfg->suppress_window * S_NS, s_open_gone, self);
    if (!self->open)
        goto fail;
    if (cfg->block) {
        self->block = sn_block_new (cfg);
        if (!self->block)
            goto fail;
    }
    for (size_t i = 0; i < S_N_CLASSES; i++) {
        const sn_det_class_t *cls = s_classes[i];
        void *mod = cls->create (cfg, self);
        if (!mod)
            continue;  //  disabled (a module that fails to start says why and returns NULL)
        self->mods[self->n_mods].cls = cls;
        self->mods[self->n_mods].self = mod;
        self->n_mods++;
    }
    return self;
fail:
    sn_detect_destroy (&self);
    return NULL;
}

void
sn_detect_destroy (sn_detect_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sn_detect_t *self = *self_p;
    for (size_t i = 0; i < self->n_mods; i++)
        self->mods[i].cls->destroy (&self->mods[i].self);
    self->emit = NULL;  //  open findings are dropped, not reported, as the sensor is going
    sn_track_destroy (&self->open);
    sn_block_destroy (&self->block);
    free (self);
    *self_p = NULL;
}

//  The engine's clock follows capture time. Packets a little out of order do not move it
//  back; a step back of more than S_CLOCK_STEP (a clock set back, or a future-dated packet
//  followed by the real ones) is taken as the new time, so ticks go on instead of waiting
//  for the old time to come again.
#define S_CLOCK_STEP (60 * S_NS)

static void
s_clock (sn_detect_t *self, uint64_t ts)
{
    if (ts > self->now || self->now - ts > S_CLOCK_STEP)
        self->now = ts;
}

//  Time for a tick: a second has passed, or the clock stepped back.
static bool
s_tick_due (const sn_detect_t *self)
{
    return self->now >= self->last_tick + S_NS || self->now < self->last_tick;
}

//  ---------------------------------------------------------------------------------------------
//  Findings

static uint8_t
s_direction (const sn_detect_t *self, const sn_alert_t *a)
{
    if (a->direction)
        return a->direction;
    if (self->cfg->home_net.n == 0)
        return MM_DIR_UNKNOWN;
    if (a->src.len == 0)  //  e.g. a service exposed to many outside sources
        return a->dst.len && sn_detect_is_home (self, &a->dst) ? MM_DIR_INBOUND : MM_DIR_UNKNOWN;
    bool s = sn_detect_is_home (self, &a->src);
    if (a->dst.len == 0)
        return s ? MM_DIR_OUTBOUND : MM_DIR_INBOUND;
    bool d = sn_detect_is_home (self, &a->dst);
    return s ? (d ? MM_DIR_INTERNAL : MM_DIR_OUTBOUND) : (d ? MM_DIR_INBOUND : MM_DIR_EXTERNAL);
}

static uint64_t
s_emit (sn_detect_t *self, s_open_t *o, uint8_t action)
{
    const sn_alert_t *a = &o->alert;
    mm_event_t ev;
    memset (&ev, 0, sizeof ev);
    ev.ts = a->ts ? a->ts : 1;
    ev.sensor = mm_str (self->cfg->id);
    ev.org = mm_str (self->cfg->org);
    ev.kind = MM_KIND_FINDING;
    ev.severity = a->severity;
    ev.confidence = a->confidence;
    ev.proto = a->proto;
    ev.src = a->src;
    ev.dst = a->dst;
    if (a->has_dport) {
        ev.has |= MM_EV_HAS_DPORT;
        ev.dport = a->dport;
    }
    ev.direction = s_direction (self, a);
    ev.has |= MM_EV_HAS_FINDING;
    mm_finding_t *f = &ev.finding;
    f->id = o->id;
    f->revision = o->revision;
    f->detector = mm_str (a->info->id);
    f->detector_version = a->info->version;
    f->category = a->info->category;
    for (size_t i = 0; i < MM_ATTACK_MAX && a->info->attack[i]; i++)
        f->attack[f->n_attack++] = mm_str (a->info->attack[i]);
    f->message = mm_str (a->message);
    if (a->ioc_type) {
        f->has |= MM_FINDING_HAS_IOC;
        f->ioc.type = a->ioc_type;
        f->ioc.value = mm_str (o->ioc_value);
        if (o->ioc_feed[0])
            f->ioc.feed = mm_str (o->ioc_feed);
    }
    f->has |= MM_FINDING_HAS_EVIDENCE;
    f->evidence = a->evidence;
    if (f->evidence.first_ts == 0 || f->evidence.first_ts > o->first_raise)
        f->evidence.first_ts = o->first_raise;
    if (f->evidence.last_ts < a->ts)
        f->evidence.last_ts = a->ts;
    if (action) {
        f->has |= MM_FINDING_HAS_ACTION;
        f->action = action;
    }
    o->last_emit = self->now;
    o->dirty = false;
    uint64_t seq = self->emit ? self->emit (self->arg, &ev) : 0;
    if (o->revision == 0)
        self->stats.raised++;
    else
        self->stats.updates++;
    return seq;
}

static void
s_copy_alert (s_open_t *o, const sn_alert_t *a)
{
    uint8_t sev = o->alert.severity;
    o->alert = *a;
    if (sev > o->alert.severity)
        o->alert.severity = sev;  //  severity only escalates within one finding
    if (a->ioc_type) {
        snprintf (o->ioc_value, sizeof o->ioc_value, "%s", a->ioc_value ? a->ioc_value : "");
        snprintf (o->ioc_feed, sizeof o->ioc_feed, "%s", a->ioc_feed ? a->ioc_feed : "");
    }
    o->alert.ioc_value = o->ioc_value;
    o->alert.ioc_feed = o->ioc_feed;
    //  No line breaks reach a log line or a report.
    for (char *c = o->alert.message; *c; c++)
        if (*c == '\n' || *c == '\r' || *c == '\t')
            *c = ' ';
}

static void
s_open_gone (void *arg, const uint8_t *key, size_t key_len, void *value, bool recycled)
{
    (void) key;
    (void) key_len;
    sn_detect_t *self = arg;
    s_open_t *o = value;
    if (recycled)
        self->stats.recycled++;
    if (o->dirty) {
        o->revision++;
        s_emit (self, o, 0);
    }
}

//  The offender of a finding, if it is outside (an inside host is never blocked: that would
//  cut the company off from itself; isolating one is the SOC's call).
static const mm_addr_t *
s_block_target (const sn_detect_t *self, const sn_alert_t *a)
{
    const mm_addr_t *who = NULL;
    if (a->offender == SN_OFFENDER_AUTO || a->offender == SN_OFFENDER_SRC)
        who = &a->src;
    else if (a->offender == SN_OFFENDER_DST)
        who = &a->dst;
    if (!who || who->len == 0 || sn_detect_is_home (self, who))
        return NULL;
    return who;
}

static void
s_maybe_block (sn_detect_t *self, const s_open_t *o)
{
    const sn_alert_t *a = &o->alert;
    if (!self->block || !(a->block || a->severity >= self->cfg->block_min_severity))
        return;
    const mm_addr_t *target = s_block_target (self, a);
    if (!target || mm_netlist_contains (&self->cfg->block_never, target))
        return;
    if (sn_block_add (self->block, target, a->ts) != 0)
        return;  //  already blocked, or nft failed (counted and logged by sn_block)
    static const sn_det_info_t info = {"defence.block", 1,   MM_CAT_POLICY,
                                       MM_SEV_MEDIUM,   100, {"M1037"}};
    s_open_t b;
    memset (&b, 0, sizeof b);
    b.alert.info = &info;
    b.alert.ts = a->ts;
    b.alert.severity = info.severity;
    b.alert.confidence = info.confidence;
    b.alert.src = *target;
    b.alert.evidence.window_s = (uint32_t) self->cfg->block_timeout;
    b.alert.evidence.first_ts = b.alert.evidence.last_ts = a->ts;
    char addr[64];
    snprintf (b.alert.message, sizeof b.alert.message, "blocked %s for %u s after %s",
              sn_detect_addr_str (target, addr, sizeof addr), (unsigned) self->cfg->block_timeout,
              a->info->id);
    b.first_raise = a->ts;
    b.alert.ioc_value = b.ioc_value;
    b.alert.ioc_feed = b.ioc_feed;
    s_emit (self, &b, MM_ACTION_BLOCK);  //  id 0: the sensor gives it its event's seq
}

static size_t
s_key (uint8_t *key, const sn_alert_t *a)
{
    uint32_t d = (uint32_t) sn_distinct_hash (a->info->id, strlen (a->info->id));
    memcpy (key, &d, 4);
    size_t n = 4;
    n += sn_track_key_addr (key + n, &a->src);
    n += sn_track_key_addr (key + n, &a->dst);
    //  4 + 17 + 17 + 8 + 3 = 49 bytes: within SN_TRACK_KEY_MAX, the whole subject kept.
    memcpy (key + n, &a->subject, sizeof a->subject);
    n += sizeof a->subject;
    key[n++] = a->has_dport ? (uint8_t) (a->dport >> 8) : 0;
    key[n++] = a->has_dport ? (uint8_t) a->dport : 0;
    key[n++] = a->has_dport;
    return n;
}

void
sn_detect_raise (sn_detect_t *self, const sn_alert_t *alert)
{
    sn_alert_t a = *alert;
    if (!a.info)
        return;
    if (!a.severity)
        a.severity = a.info->severity;
    if (!a.confidence)
        a.confidence = a.info->confidence;
    if (a.confidence > 100)
        a.confidence = 100;
    if (a.ts)
        s_clock (self, a.ts);
    uint64_t now = self->now;
    uint8_t key[SN_TRACK_KEY_MAX];
    size_t n = s_key (key, &a);
    bool created;
    s_open_t *o = sn_track_get (self->open, key, n, now, &created);
    if (created) {
        s_copy_alert (o, &a);
        o->first_raise = o->last_raise = now;
        o->revision = 0;
        o->id = 0;
        self->stats.by_severity[a.severity <= MM_SEV_FATAL ? a.severity : MM_SEV_FATAL]++;
        //  id 0 asks the sensor to use the raising event's seq; later revisions carry it.
        uint64_t seq = s_emit (self, o, 0);
        o->id = seq;
        s_maybe_block (self, o);
        return;
    }
    self->stats.suppressed++;
    uint8_t before = o->alert.severity;
    s_copy_alert (o, &a);
    o->last_raise = now;
    o->dirty = true;
    if (o->alert.severity > before) {
        //  An escalation is news: it goes out now, not at the next quiet moment.
        o->revision++;
        s_emit (self, o, 0);
        s_maybe_block (self, o);
    }
}

static void
s_revise (void *arg, const uint8_t *key, size_t key_len, void *value)
{
    (void) key;
    (void) key_len;
    sn_detect_t *self = arg;
    s_open_t *o = value;
    if (!o->dirty)
        return;
    uint64_t quiet = self->cfg->update_quiet * S_NS, every = self->cfg->update_interval * S_NS;
    //  A clock that stepped back makes the differences wrap: treat it as time up.
    if (self->now - o->last_raise >= quiet || self->now - o->last_emit >= every ||
        self->now < o->last_raise) {
        o->revision++;
        s_emit (self, o, 0);
    }
}

//  ---------------------------------------------------------------------------------------------
//  Inputs

void
sn_detect_packet (sn_detect_t *self, const sn_pkt_t *pkt, sn_flow_t *flow, int dir, uint64_t ts)
{
    s_clock (self, ts);
    sn_det_pkt_t p = {.pkt = pkt, .flow = flow, .dir = dir, .ts = ts};
    if (!(flow->det_flags & S_FLOW_SEEN)) {
        flow->det_flags |= S_FLOW_SEEN;
        if (sn_detect_is_home (self, &flow->orig))
            flow->det_flags |= S_FLOW_ORIG_HOME;
        if (sn_detect_is_home (self, &flow->resp))
            flow->det_flags |= S_FLOW_RESP_HOME;
        p.new_flow = flow->pkts[0] + flow->pkts[1] == 1;
    }
    if (flow->proto == 6 && !(flow->det_flags & S_FLOW_ESTABLISHED) &&
        flow->tcp_state[0] == SN_TCP_ESTABLISHED && flow->tcp_state[1] == SN_TCP_ESTABLISHED &&
        (flow->tcp_flags[1] & 0x12) == 0x12 && (flow->tcp_flags[0] & 0x02)) {
        flow->det_flags |= S_FLOW_ESTABLISHED;
        p.established = true;
    }
    p.orig_home = flow->det_flags & S_FLOW_ORIG_HOME;
    p.resp_home = flow->det_flags & S_FLOW_RESP_HOME;
    for (size_t i = 0; i < self->n_mods; i++)
        if (self->mods[i].cls->packet)
            self->mods[i].cls->packet (self->mods[i].self, &p);
    if (s_tick_due (self))
        sn_detect_tick (self, ts);
}

void
sn_detect_arp (sn_detect_t *self, const sn_det_arp_t *arp)
{
    s_clock (self, arp->ts);
    for (size_t i = 0; i < self->n_mods; i++)
        if (self->mods[i].cls->arp)
            self->mods[i].cls->arp (self->mods[i].self, arp);
    //  Time passes in ARP too: an ARP sweep on a quiet segment must not wait for IP traffic.
    if (s_tick_due (self))
        sn_detect_tick (self, arp->ts);
}

void
sn_detect_event (sn_detect_t *self, const mm_event_t *ev)
{
    if (ev->kind == MM_KIND_FINDING)
        return;
    for (size_t i = 0; i < self->n_mods; i++)
        if (self->mods[i].cls->event)
            self->mods[i].cls->event (self->mods[i].self, ev);
}

void
sn_detect_tick (sn_detect_t *self, uint64_t now_ns)
{
    s_clock (self, now_ns);
    self->last_tick = self->now;
    for (size_t i = 0; i < self->n_mods; i++)
        if (self->mods[i].cls->tick)
            self->mods[i].cls->tick (self->mods[i].self, self->now);
    sn_track_foreach (self->open, s_revise, self);
    sn_track_expire (self->open, self->now);
    if (self->block)
        sn_block_expire (self->block, self->now);
}

void
sn_detect_flush (sn_detect_t *self)
{
    for (size_t i = 0; i < self->n_mods; i++)
        if (self->mods[i].cls->flush)
            self->mods[i].cls->flush (self->mods[i].self);
    sn_track_flush (self->open);
}

void
sn_detect_reload (sn_detect_t *self)
{
    for (size_t i = 0; i < self->n_mods; i++)
        if (self->mods[i].cls->reload)
            self->mods[i].cls->reload (self->mods[i].self);
}

//  ---------------------------------------------------------------------------------------------
//  For detectors

bool
sn_detect_is_home (const sn_detect_t *self, const mm_addr_t *addr)
{
    return mm_netlist_contains (&self->cfg->home_net, addr);
}

const sn_config_t *
sn_detect_config (const sn_detect_t *self)
{
    return self->cfg;
}

void *
sn_detect_module (sn_detect_t *self, const char *name)
{
    for (size_t i = 0; i < self->n_mods; i++)
        if (strcmp (self->mods[i].cls->name, name) == 0)
            return self->mods[i].self;
    return NULL;
}

const sn_detect_stats_t *
sn_detect_stats (const sn_detect_t *self)
{
    return &self->stats;
}

bool
sn_detect_is_immediate (uint8_t severity)
{
    return severity >= MM_SEV_HIGH;
}

const char *
sn_detect_addr_str (const mm_addr_t *a, char *buf, size_t size)
{
    if (a->len == 4 || a->len == 16) {
        if (inet_ntop (a->len == 4 ? AF_INET : AF_INET6, a->b, buf, (socklen_t) size))
            return buf;
    }
    snprintf (buf, size, "?");
    return buf;
}

//  Second-level labels under which registrations happen one level deeper (co.jp, com.au...).
//  A short built-in list, not the Public Suffix List: the sensor only needs to group names
//  for counting, and over-grouping under a rare suffix costs little.
static bool
s_is_second_level (const char *label, size_t len)
{
    static const char *const sl[] = {"co",  "ne",  "or",  "ac",  "ad",  "ed",  "go",  "gr",  "lg",
                                     "com", "net", "org", "gov", "edu", "ltd", "plc", "gen", "biz"};
    for (size_t i = 0; i < sizeof sl / sizeof sl[0]; i++)
        if (strlen (sl[i]) == len && strncmp (sl[i], label, len) == 0)
            return true;
    return false;
}

size_t
sn_detect_registered_domain (const char *name, size_t len, char *out, size_t size)
{
    while (len && name[len - 1] == '.')
        len--;
    //  Find the starts of the last three labels.
    size_t starts[3] = {0, 0, 0};
    int found = 0;
    for (size_t i = len; i > 0 && found < 3; i--)
        if (name[i - 1] == '.')
            starts[found++] = i;
    size_t begin;
    if (found == 0)
        begin = 0;
    else if (found == 1)
        begin = 0;
    else {
        //  labels: ... [starts[1]..starts[0]-1] . [starts[0]..len)
        size_t tld_len = len - starts[0];
        size_t sld = starts[1], sld_len = starts[0] - 1 - starts[1];
        bool deeper = tld_len == 2 && s_is_second_level (name + sld, sld_len);
        begin = deeper ? (found >= 3 ? starts[2] : 0) : starts[1];
    }
    size_t n = len - begin;
    if (n + 1 > size)
        n = size ? size - 1 : 0;
    for (size_t i = 0; i < n; i++)
        out[i] = (char) tolower ((unsigned char) name[begin + i]);
    if (size)
        out[n] = 0;
    return n;
}
