/*  sn_det_exfil: exfiltration by volume (ATT&CK T1048, T1041, T1567): bytes an inside host
    sends to one outside address over a sliding window, from flow records (the periodic
    active-timeout reports of long flows included, each byte counted once), and uploads much
    larger than the downloads beside them. Owner: sensor (issue 4). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_detect.h"
#include "sn_track.h"

#define S_NS 1000000000ULL
#define S_MIB 1048576ULL
//  The window slides in twelfths: a transfer is judged on the last window give or take a
//  twelfth, at 16 bytes a slot.
#define S_SLOTS 12

//  One finding per (host, destination): raised medium on a sharp ratio, it escalates to high
//  when the volume follows (the engine sends an escalation at once).
static const sn_det_info_t s_info = {"exfil.upload", 1,  MM_CAT_EXFILTRATION,
                                     MM_SEV_HIGH,    60, {"T1048", "T1041", "T1567"}};

typedef struct {
    mm_addr_t host, dst;
    uint64_t up[S_SLOTS], down[S_SLOTS];
    uint64_t slot[S_SLOTS];  //  which slot number each holds (time / slot length)
    uint64_t total_up, total_down, flows;
    uint64_t first_ts, last_ts;
    uint16_t dport;  //  of the flow that carried the most
    uint64_t dport_bytes;
    uint8_t proto;
    bool raised, volume;  //  reported; over the volume threshold
} s_pair_t;

typedef struct {
    sn_detect_t *engine;
    const sn_config_t *cfg;
    sn_track_t *pairs;
    uint64_t slot_ns;
} s_self_t;

static void
s_sums (const s_self_t *self, const s_pair_t *p, uint64_t now_slot, uint64_t *up, uint64_t *down)
{
    (void) self;
    *up = *down = 0;
    for (size_t i = 0; i < S_SLOTS; i++)
        if (p->slot[i] + S_SLOTS > now_slot) {
            *up += p->up[i];
            *down += p->down[i];
        }
}

static void
s_raise (s_self_t *self, s_pair_t *p, uint64_t up, uint64_t down)
{
    sn_alert_t a;
    memset (&a, 0, sizeof a);
    a.info = &s_info;
    a.severity = p->volume ? MM_SEV_HIGH : MM_SEV_MEDIUM;
    a.confidence = p->volume ? 60 : 40;
    a.ts = p->last_ts;
    a.proto = p->proto;
    a.src = p->host;
    a.dst = p->dst;
    a.offender = SN_OFFENDER_DST;  //  the place called, never the inside host
    //  No port in the key: an upload split over ports (or a change of port) is one finding.
    a.evidence.count = p->flows;
    a.evidence.bytes = p->total_up;
    a.evidence.window_s = (uint32_t) self->cfg->exfil_window;
    a.evidence.first_ts = p->first_ts;
    a.evidence.last_ts = p->last_ts;
    char host[64], dst[64];
    sn_detect_addr_str (&p->host, host, sizeof host);
    sn_detect_addr_str (&p->dst, dst, sizeof dst);
    unsigned long long ratio10 = (unsigned long long) (up * 10 / (down ? down : 1));
    snprintf (a.message, sizeof a.message,
              "%.39s sent %llu KiB to %.39s (port %u) within %u s, %llu.%llu times what came back",
              host, (unsigned long long) (up / 1024), dst, (unsigned) p->dport,
              (unsigned) self->cfg->exfil_window, ratio10 / 10, ratio10 % 10);
    sn_detect_raise (self->engine, &a);
}

static void
s_event (void *arg, const mm_event_t *ev)
{
    s_self_t *self = arg;
    const sn_config_t *c = self->cfg;
    if (ev->kind != MM_KIND_FLOW || !(ev->has & MM_EV_HAS_BYTES_ORIG))
        return;
    //  Uploads are what the inside host sends on connections it opened; data pulled from an
    //  inside server by outsiders is another matter (see exposed services).
    if (!sn_detect_is_home (self->engine, &ev->src) || sn_detect_is_home (self->engine, &ev->dst))
        return;
    if (mm_netlist_contains (&c->exfil_allow, &ev->dst))
        return;
    //  A record's bytes belong to its end (an active report: to the report's time).
    uint64_t ts = ev->ts + ev->duration_us * 1000;
    uint8_t key[SN_TRACK_KEY_MAX];
    size_t n = sn_track_key_pair (key, &ev->src, &ev->dst, 0);
    bool created;
    s_pair_t *p = sn_track_get (self->pairs, key, n, ts, &created);
    if (created) {
        p->host = ev->src;
        p->dst = ev->dst;
        p->first_ts = ev->ts;
        p->proto = ev->proto;
    }
    uint64_t up = ev->bytes_orig, down = ev->bytes_resp;
    p->total_up += up;
    p->total_down += down;
    p->flows++;
    if (ts > p->last_ts)
        p->last_ts = ts;
    if (up >= p->dport_bytes) {
        p->dport_bytes = up;
        p->dport = ev->dport;
        p->proto = ev->proto;
    }
    uint64_t now_slot = p->last_ts / self->slot_ns, rec_slot = ts / self->slot_ns;
    if (rec_slot + S_SLOTS > now_slot) {
        size_t i = rec_slot % S_SLOTS;
        if (p->slot[i] != rec_slot) {
            p->slot[i] = rec_slot;
            p->up[i] = p->down[i] = 0;
        }
        p->up[i] += up;
        p->down[i] += down;
    }
    uint64_t w_up, w_down;
    s_sums (self, p, now_slot, &w_up, &w_down);
    //  Volume: high. Beyond the threshold to a destination nobody allowlisted, this is the
    //  size of a database or a file share leaving, the end of most intrusions (T1048, T1041).
    if (w_up > 0 && w_up >= c->exfil_bytes_mb * S_MIB)
        p->volume = true;
    //  Ratio alone: medium. Cloud backups, uploads to a file share, video posted: ordinary
    //  work looks like this too; it is worth a look, not an alarm.
    bool ratio =
        w_up > 0 && w_up >= c->exfil_ratio_min_mb * S_MIB && w_up >= c->exfil_ratio * w_down;
    if (p->volume || ratio || p->raised) {
        p->raised = true;
        s_raise (self, p, w_up, w_down);
    }
}

static void *
s_create (const sn_config_t *cfg, sn_detect_t *engine)
{
    if (!cfg->exfil)
        return NULL;
    s_self_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->engine = engine;
    self->cfg = cfg;
    self->slot_ns = cfg->exfil_window * S_NS / S_SLOTS;
    self->pairs = sn_track_new ((uint32_t) cfg->exfil_max_tracked, sizeof (s_pair_t),
                                cfg->exfil_window * S_NS, NULL, NULL);
    if (!self->pairs) {
        free (self);
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
    free (self);
    *self_p = NULL;
}

static void
s_tick (void *arg, uint64_t now)
{
    s_self_t *self = arg;
    sn_track_expire (self->pairs, now);
}

const sn_det_class_t sn_det_exfil = {
    .name = "exfil", .create = s_create, .destroy = s_destroy, .event = s_event, .tick = s_tick};
