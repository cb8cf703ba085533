/*  ag_correlate: see ag_correlate.h. Memory: orgs, sensors, indicator groups (sightings) and
    warnings are zhashx tables keyed by strings, each table owning its items. Orgs and sensors
    are kept by id, not by registry index, so a registry reload keeps everything learned. */
#include "ag_correlate.h"

#include <arpa/inet.h>
#include <czmq.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_indicator.h"
#include "mm_log.h"

#define S_NS 1000000000ull
#define S_PARTNERS_MAX 4096               //  partners of one org looked at by a rule
#define S_ADDS_MAX 8192                   //  recipients one finding may add
#define S_DIGEST_MAX 1024                 //  warnings one recipient's digest holds
#define S_CLOCK_AHEAD_NS (300ull * S_NS)  //  a finding further ahead of our clock: now

//  ---------------------------------------------------------------------------------------------
//  Token buckets: `tokens` now, refilled by one every `every_ns` up to `burst`.

typedef struct {
    uint32_t tokens;
    uint64_t last;  //  wall ns of the last refill step
} s_bucket_t;

static bool
s_take (s_bucket_t *b, uint32_t burst, uint32_t every_s, uint64_t now)
{
    uint64_t every = (uint64_t) (every_s ? every_s : 1) * S_NS;
    if (b->last == 0) {
        b->tokens = burst;
        b->last = now;
    }
    else if (now > b->last) {
        uint64_t n = (now - b->last) / every;
        if (n > 0) {
            b->tokens = (uint32_t) ((uint64_t) b->tokens + n > burst ? burst : b->tokens + n);
            b->last += n * every;
        }
    }
    if (b->tokens == 0)
        return false;
    b->tokens--;
    return true;
}

//  ---------------------------------------------------------------------------------------------
//  Orgs and sensors, by id.

typedef struct s_warn_t s_warn_t;

typedef struct {
    char id[MM_ID_MAX + 1];
    uint32_t slot;        //  stable number of this org for the life of the correlator
    int32_t reg;          //  index in the registry in force, -1 if it is no longer there
    s_bucket_t quota;     //  new indicators
    s_bucket_t notices;   //  immediate warning notices
    s_bucket_t critical;  //  immediate critical notices
    zlistx_t *digest;     //  s_warn_t * held back (not owned), each once
    uint64_t digest_due;  //  wall ns; 0: nothing held
    uint32_t mark;        //  == the correlator's `gen`: already added for this finding
} s_org_t;

typedef struct {
    char id[MM_ID_MAX + 1];
    uint32_t slot;
    s_bucket_t quota;
    uint64_t quarantined_until;  //  wall ns
} s_sensor_t;

//  One org's part in an indicator group's sightings.
typedef struct {
    uint32_t org;          //  org slot
    uint32_t sensor;       //  the first sensor's slot
    uint32_t sensors;      //  distinct sensors, counted up to 2
    uint64_t first, last;  //  finding times, ns
    uint64_t count;
    uint64_t stored;  //  `count` when its entry record was last written (0: never)
} s_seen_t;

//  Sightings of an indicator group ("a:198.51.100.0/24", "d:example.co.jp", "7:<sha1>").
typedef struct {
    char *key;
    uint8_t type;      //  of the first value seen
    char *value;       //  the first value seen (normal form)
    char *group;       //  the group (normal form of the prefix or registered domain)
    bool mixed;        //  another value of the group was seen, and by more than one org:
                       //  warnings may name the group
    bool other_value;  //  another value was seen (perhaps by the first org only)
    uint64_t first, last, count;
    bool group_allowlisted;  //  the group itself is allowlisted: warnings never name it
    uint32_t refs;           //  warnings that point here (it stays while they do)
    uint64_t episode;        //  first sighting time when it was created: its record's key
    bool dirty;              //  on dirty_sights
    uint32_t n_seen, max_seen;
    s_seen_t *seen;
} s_sight_t;

typedef struct {
    uint32_t org;  //  slot
    uint8_t relation;
    bool withheld;   //  evidence counts withheld (the relation could not be disclosed)
    uint32_t sent;   //  the last revision it received (0: none yet)
    bool in_digest;  //  held back, due with its next digest
    //  What its sensors' matchers hold (not kept across a restart: then sent again): the
    //  expiry of the entry last sent, and whether it named the group.
    uint64_t matcher_expires;
    bool matcher_group;
} s_recipient_t;

struct s_warn_t {
    char id[33];
    char dedup[33];
    char *key;  //  group key | category
    s_sight_t *sight;
    uint32_t revision;
    uint8_t status;  //  mm_wstatus_t
    uint8_t severity, confidence, category;
    uint8_t base_confidence;  //  the highest finding's, without the +10 per org
    uint8_t rules;            //  bit n: rule Rn added to it
    uint8_t tlp;
    uint64_t issued, updated, valid_until;
    uint64_t counts_changed;  //  wall ns when evidence moved without a revision; 0: none
    uint32_t n_techniques;
    char techniques[MM_ATTACK_MAX][16];
    uint32_t n_recipients, max_recipients;
    s_recipient_t *recipients;
    //  Which org slots are recipients, one bit each: a finding asks for each org a rule
    //  adds, and a region's advisory has hundreds of recipients.
    uint64_t *member;
    uint32_t member_words;
    uint32_t n_stored;      //  recipients in entry records (the list only grows)
    uint64_t rcpt_expires;  //  the expiry the recipients' entry records were written with
    //  Audiences already added (rule << 24 | chain, region or industry, or the hit org): a
    //  rule firing again for one of them has nobody new to add, so it skips the walk.
    uint32_t n_scopes, max_scopes;
    uint32_t *scopes;
    bool dirty;  //  on dirty_warnings
    //  Evidence as last computed, valid while no sighting has been recorded since: a
    //  revision tells hundreds of recipients the same counts.
    mm_wevidence_t evidence;
    uint64_t evidence_gen;  //  the correlator's sightings counter + 1 when computed; 0: never
};

#define S_SIBLINGS_MAX 32  //  categories of one group's warnings considered at a revocation

struct ag_correlate_t {
    ag_correlate_config_t cfg;
    const ag_registry_t *registry;
    ag_allow_t *allow;
    const ag_psl_t *psl;
    ag_correlate_sink_t sink;
    zhashx_t *orgs;      //  id -> s_org_t
    zhashx_t *sensors;   //  id -> s_sensor_t
    zhashx_t *sights;    //  group key -> s_sight_t
    zhashx_t *warnings;  //  warning key -> s_warn_t
    zhashx_t *by_id;     //  warning id -> s_warn_t (not owned)
    zhashx_t *notified;  //  "sensor|finding id" -> expiry (severe findings already notified)
    s_org_t **org_by_slot;
    uint32_t n_org_slots, max_org_slots;
    s_org_t **org_by_reg;  //  by registry index, filled as met (NULL: not yet)
    size_t n_org_by_reg;
    //  While a warning is revoked: the other warnings on its sightings (s_siblings).
    s_warn_t *siblings[S_SIBLINGS_MAX];
    size_t n_siblings;
    s_sensor_t **sensor_by_slot;
    uint32_t n_sensor_slots, max_sensor_slots;
    zlistx_t *dirty_sights;    //  s_sight_t * changed since the last flush (not owned)
    zlistx_t *dirty_warnings;  //  s_warn_t *
    uint64_t newest;           //  the latest finding time seen, ns (windows end here)
    uint64_t next_sweep;
    //  Scratch for one finding.
    uint32_t partners[S_PARTNERS_MAX];
    s_recipient_t adds[S_ADDS_MAX];
    uint32_t n_adds;
    uint32_t gen;             //  one per finding (s_org_t.mark)
    const s_warn_t *current;  //  the warning the finding may revise (NULL: none yet)
    uint32_t fired[8];        //  audiences added by this finding (scope codes)
    uint32_t n_fired;
    ag_correlate_stats_t stats;
};

//  ---------------------------------------------------------------------------------------------
//  Defaults and texts

void
ag_correlate_config_default (ag_correlate_config_t *cfg)
{
    memset (cfg, 0, sizeof *cfg);
    cfg->window_s = 72 * 3600;
    cfg->severe = MM_SEV_HIGH;
    cfg->r1_confidence = 80;
    cfg->chain_orgs = 2;
    cfg->region_orgs = 3;
    cfg->region_providers = 2;
    cfg->k_anon = 2;
    cfg->sensor_burst = 200;
    cfg->sensor_refill_s = 10;
    cfg->org_burst = 400;
    cfg->org_refill_s = 5;
    cfg->quarantine_s = 3600;
    cfg->notice_burst = 10;
    cfg->notice_refill_s = 360;
    cfg->critical_burst = 20;
    cfg->digest_s = 600;
    cfg->update_s = 600;
    //  Addresses change hands fast; names and certificates last longer; hashes longest.
    cfg->ttl_s[MM_IOC_IP] = 7 * 86400;
    cfg->ttl_s[MM_IOC_CIDR] = 7 * 86400;
    cfg->ttl_s[MM_IOC_DOMAIN] = 30 * 86400;
    cfg->ttl_s[MM_IOC_URL] = 30 * 86400;
    cfg->ttl_s[MM_IOC_JA3] = 30 * 86400;
    cfg->ttl_s[MM_IOC_JA4] = 30 * 86400;
    cfg->ttl_s[MM_IOC_CERT_SHA1] = 90 * 86400;
    cfg->ttl_s[MM_IOC_SHA256] = 180 * 86400;
    cfg->keep_days = 400;
}

typedef struct {
    uint8_t action;
    const char *tactic;
    const char *ja;
    const char *en;
} s_advice_t;

//  What a recipient should do, by category: plain words for staff without security training.
static const s_advice_t *
s_advice (uint8_t category)
{
    static const s_advice_t c2 = {
        MM_ACTION_BLOCK, "TA0011",
        "この宛先への通信を遮断してください。通信していた端末があれば、ネットワークから外して"
        "担当の SOC に連絡してください。",
        "Block traffic to this destination. If a computer has been talking to it, disconnect "
        "it from the network and call your SOC."};
    static const s_advice_t brute = {
        MM_ACTION_RESET_CREDENTIALS, "TA0006",
        "この送信元からのログインを遮断し、外部から使えるアカウントのパスワードを変更してください"
        "。",
        "Block logins from this source and change the passwords of accounts reachable from "
        "outside."};
    static const s_advice_t exploit = {
        MM_ACTION_PATCH, "TA0001",
        "この送信元を遮断し、外部に公開している機器やソフトウェアを最新の状態に更新してください。",
        "Block this source and update the devices and software you expose to the Internet."};
    static const s_advice_t exfil = {
        MM_ACTION_ISOLATE, "TA0010",
        "この宛先への通信を遮断してください。大量に送信していた端末はネットワークから外し、"
        "担当の SOC に連絡してください。",
        "Block traffic to this destination. Disconnect any computer that sent large amounts "
        "to it and call your SOC."};
    static const s_advice_t tunnel = {
        MM_ACTION_BLOCK, "TA0011",
        "このドメインへの問い合わせを遮断し、問い合わせていた端末を担当の SOC "
        "に調べてもらってください。",
        "Block lookups of this domain and have your SOC examine the computers that made them."};
    static const s_advice_t malware = {
        MM_ACTION_ISOLATE, "TA0002",
        "この宛先を遮断し、関係する端末をネットワークから外して担当の SOC に連絡してください。",
        "Block this indicator, disconnect the computers involved and call your SOC."};
    static const s_advice_t lateral = {
        MM_ACTION_ISOLATE, "TA0008",
        "社内の端末どうしの不審な通信です。関係する端末をネットワークから外して担当の SOC "
        "に連絡してください。",
        "Suspicious traffic between your own computers: disconnect the computers involved and "
        "call your SOC."};
    static const s_advice_t other = {
        MM_ACTION_MONITOR, "TA0011",
        "この宛先との通信がないか注意してください。見つかった場合は担当の SOC に連絡してください。",
        "Watch for traffic with this indicator and call your SOC if you see any."};
    switch (category) {
    case MM_CAT_C2_BEACON:
    case MM_CAT_IOC_MATCH: return &c2;
    case MM_CAT_BRUTE_FORCE: return &brute;
    case MM_CAT_EXPLOIT: return &exploit;
    case MM_CAT_EXFILTRATION: return &exfil;
    case MM_CAT_DNS_TUNNEL: return &tunnel;
    case MM_CAT_MALWARE: return &malware;
    case MM_CAT_LATERAL_MOVEMENT: return &lateral;
    default: return &other;
    }
}

const char *
ag_correlate_advice_ja (uint8_t category)
{
    return s_advice (category)->ja;
}

//  Categories whose indicator is worth telling other companies about. Scans are background
//  noise of the Internet (NICTER: over half of all darknet packets are research scans), an
//  exposed service or a policy finding is about the company's own set-up, and sensor findings
//  are about the sensor: none of them is a threat a partner can act on.
static bool
s_travels (uint8_t category)
{
    switch (category) {
    case MM_CAT_BRUTE_FORCE:
    case MM_CAT_IOC_MATCH:
    case MM_CAT_C2_BEACON:
    case MM_CAT_DNS_TUNNEL:
    case MM_CAT_LATERAL_MOVEMENT:
    case MM_CAT_EXFILTRATION:
    case MM_CAT_EXPLOIT:
    case MM_CAT_MALWARE: return true;
    default: return false;
    }
}

//  ---------------------------------------------------------------------------------------------
//  Item lifetimes

static void
s_org_free (void **item)
{
    s_org_t *o = (s_org_t *) *item;
    if (o) {
        zlistx_destroy (&o->digest);
        free (o);
    }
    *item = NULL;
}

static void
s_sight_free (void **item)
{
    s_sight_t *s = (s_sight_t *) *item;
    if (s) {
        free (s->key);
        free (s->value);
        free (s->group);
        free (s->seen);
        free (s);
    }
    *item = NULL;
}

static void
s_warn_free (void **item)
{
    s_warn_t *w = (s_warn_t *) *item;
    if (w) {
        free (w->key);
        free (w->recipients);
        free (w->member);
        free (w->scopes);
        free (w);
    }
    *item = NULL;
}

static void
s_plain_free (void **item)
{
    free (*item);
    *item = NULL;
}

static s_org_t *
s_org (ag_correlate_t *self, const char *id)
{
    s_org_t *o = (s_org_t *) zhashx_lookup (self->orgs, id);
    if (o)
        return o;
    if (self->n_org_slots == self->max_org_slots) {
        uint32_t max = self->max_org_slots ? self->max_org_slots * 2 : 64;
        s_org_t **p = (s_org_t **) realloc (self->org_by_slot, max * sizeof *p);
        if (!p)
            return NULL;
        self->org_by_slot = p;
        self->max_org_slots = max;
    }
    o = (s_org_t *) calloc (1, sizeof *o);
    if (!o)
        return NULL;
    o->digest = zlistx_new ();
    if (!o->digest) {
        free (o);
        return NULL;
    }
    snprintf (o->id, sizeof o->id, "%s", id);
    o->slot = self->n_org_slots;
    o->reg = self->registry ? ag_registry_org_index (self->registry, id) : -1;
    zhashx_insert (self->orgs, id, o);
    self->org_by_slot[self->n_org_slots++] = o;
    return o;
}

static s_org_t *
s_org_of_reg (ag_correlate_t *self, uint32_t reg)
{
    if (reg < self->n_org_by_reg && self->org_by_reg[reg])
        return self->org_by_reg[reg];
    const ag_org_t *ro = ag_registry_org_at (self->registry, reg);
    s_org_t *o = ro ? s_org (self, ro->id) : NULL;
    if (o && reg < self->n_org_by_reg)
        self->org_by_reg[reg] = o;
    return o;
}

static s_sensor_t *
s_sensor (ag_correlate_t *self, const char *id)
{
    s_sensor_t *s = (s_sensor_t *) zhashx_lookup (self->sensors, id);
    if (s)
        return s;
    if (self->n_sensor_slots == self->max_sensor_slots) {
        uint32_t max = self->max_sensor_slots ? self->max_sensor_slots * 2 : 64;
        s_sensor_t **p = (s_sensor_t **) realloc (self->sensor_by_slot, max * sizeof *p);
        if (!p)
            return NULL;
        self->sensor_by_slot = p;
        self->max_sensor_slots = max;
    }
    s = (s_sensor_t *) calloc (1, sizeof *s);
    if (!s)
        return NULL;
    snprintf (s->id, sizeof s->id, "%s", id);
    s->slot = self->n_sensor_slots;
    self->sensor_by_slot[self->n_sensor_slots++] = s;
    zhashx_insert (self->sensors, id, s);
    return s;
}

static void
s_sight_dirty (ag_correlate_t *self, s_sight_t *s)
{
    if (!s->dirty && zlistx_add_end (self->dirty_sights, s))
        s->dirty = true;
}

static void
s_warn_dirty (ag_correlate_t *self, s_warn_t *w)
{
    if (!w->dirty && zlistx_add_end (self->dirty_warnings, w))
        w->dirty = true;
}

//  Every registered org's addresses and domains go into the gate: a warning to block a
//  member's own address would cut the very supply-chain link it is meant to protect.
static void
s_gate_orgs (ag_correlate_t *self)
{
    if (!self->allow || !self->registry)
        return;
    for (size_t i = 0; i < ag_registry_orgs (self->registry); i++) {
        const ag_org_t *o = ag_registry_org_at (self->registry, i);
        for (size_t n = 0; n < o->nets.n; n++) {
            const mm_net_t *net = &o->nets.nets[n];
            char addr[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN + 8];
            if (inet_ntop (net->len == 4 ? AF_INET : AF_INET6, net->b, addr, sizeof addr)) {
                snprintf (text, sizeof text, "%s/%u", addr, net->prefix);
                ag_allow_add (self->allow, text, "org-own");
            }
        }
        for (size_t d = 0; d < o->n_domains; d++)
            ag_allow_add (self->allow, o->domains[d], "org-own");
    }
}

ag_correlate_t *
ag_correlate_new (const ag_correlate_config_t *cfg, const ag_registry_t *registry,
                  ag_allow_t *allow, const ag_psl_t *psl, const ag_correlate_sink_t *sink)
{
    if (sodium_init () < 0)
        return NULL;
    ag_correlate_t *self = (ag_correlate_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    if (cfg)
        self->cfg = *cfg;
    else
        ag_correlate_config_default (&self->cfg);
    self->allow = allow;
    self->psl = psl;
    if (sink)
        self->sink = *sink;
    self->orgs = zhashx_new ();
    self->sensors = zhashx_new ();
    self->sights = zhashx_new ();
    self->warnings = zhashx_new ();
    self->by_id = zhashx_new ();
    self->notified = zhashx_new ();
    self->dirty_sights = zlistx_new ();
    self->dirty_warnings = zlistx_new ();
    if (!self->orgs || !self->sensors || !self->sights || !self->warnings || !self->by_id ||
        !self->notified || !self->dirty_sights || !self->dirty_warnings) {
        ag_correlate_destroy (&self);
        return NULL;
    }
    zhashx_set_destructor (self->orgs, s_org_free);
    zhashx_set_destructor (self->sensors, s_plain_free);
    zhashx_set_destructor (self->sights, s_sight_free);
    zhashx_set_destructor (self->warnings, s_warn_free);
    zhashx_set_destructor (self->notified, s_plain_free);
    ag_correlate_set_registry (self, registry);
    return self;
}

void
ag_correlate_destroy (ag_correlate_t **self_p)
{
    ag_correlate_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->by_id);
    zhashx_destroy (&self->warnings);
    zhashx_destroy (&self->sights);
    zhashx_destroy (&self->sensors);
    zhashx_destroy (&self->orgs);
    zhashx_destroy (&self->notified);
    zlistx_destroy (&self->dirty_sights);
    zlistx_destroy (&self->dirty_warnings);
    free (self->org_by_slot);
    free (self->org_by_reg);
    free (self->sensor_by_slot);
    free (self);
    *self_p = NULL;
}

void
ag_correlate_set_registry (ag_correlate_t *self, const ag_registry_t *registry)
{
    self->registry = registry;
    //  Registry indexes change with a reload: the cache starts again.
    size_t n = registry ? ag_registry_orgs (registry) : 0;
    s_org_t **p = (s_org_t **) realloc (self->org_by_reg, (n ? n : 1) * sizeof *p);
    if (p) {
        memset (p, 0, (n ? n : 1) * sizeof *p);
        self->org_by_reg = p;
        self->n_org_by_reg = n;
    }
    else
        self->n_org_by_reg = 0;  //  (the cache is only a shortcut)
    //  Chains and orgs may have changed: every audience is walked again when a rule fires.
    for (s_warn_t *w = (s_warn_t *) zhashx_first (self->warnings); w;
         w = (s_warn_t *) zhashx_next (self->warnings))
        w->n_scopes = 0;
    for (uint32_t i = 0; i < self->n_org_slots; i++) {
        s_org_t *o = self->org_by_slot[i];
        o->reg = registry ? ag_registry_org_index (registry, o->id) : -1;
    }
    s_gate_orgs (self);
}

//  ---------------------------------------------------------------------------------------------
//  Incidents

static bool
s_first_notice (ag_correlate_t *self, const mm_event_t *ev, uint64_t now)
{
    char key[MM_ID_MAX + 32];
    snprintf (key, sizeof key, "%.*s|%llu", (int) ev->sensor.len, ev->sensor.ptr,
              (unsigned long long) ev->finding.id);
    if (zhashx_lookup (self->notified, key))
        return false;
    uint64_t *until = (uint64_t *) malloc (sizeof *until);
    if (!until)
        return true;  //  better twice than never
    *until = now + 86400 * S_NS;
    zhashx_insert (self->notified, key, until);
    return true;
}

static void
s_incident (ag_correlate_t *self, const mm_event_t *ev, const ag_org_t *org, uint64_t now)
{
    if (ev->severity < self->cfg.severe || !s_first_notice (self, ev, now))
        return;
    self->stats.incidents++;
    if (!self->sink.incident)
        return;
    char sensor[MM_ID_MAX + 1], detector[MM_ID_MAX + 1], message[MM_LONG_MAX + 1];
    char ioc[MM_LONG_MAX + 1];
    snprintf (sensor, sizeof sensor, "%.*s", (int) ev->sensor.len, ev->sensor.ptr);
    const mm_finding_t *f = &ev->finding;
    snprintf (detector, sizeof detector, "%.*s", (int) f->detector.len, f->detector.ptr);
    snprintf (message, sizeof message, "%.*s", (int) f->message.len, f->message.ptr);
    bool has_ioc = (f->has & MM_FINDING_HAS_IOC) && f->ioc.type;
    snprintf (ioc, sizeof ioc, "%.*s", has_ioc ? (int) f->ioc.value.len : 0,
              has_ioc ? f->ioc.value.ptr : "");
    const s_advice_t *adv = s_advice (f->category);
    ag_incident_t inc = {
        .ts = ev->ts,
        .notified = now,
        .org = org->id,
        .provider = ag_registry_provider_at (self->registry, org->provider)->id,
        .region = org->region,
        .sensor = sensor,
        .finding_id = f->id,
        .severity = ev->severity,
        .confidence = ev->confidence,
        .category = f->category,
        .detector = detector,
        .message = message,
        .ioc_type = has_ioc ? f->ioc.type : 0,
        .ioc_value = ioc,
        .action = adv->action,
        .action_ja = adv->ja,
        .action_en = adv->en,
    };
    self->sink.incident (self->sink.arg, &inc);
}

static void
s_quarantine_notice (ag_correlate_t *self, const s_sensor_t *sensor, const ag_org_t *org,
                     uint64_t ts, uint64_t now)
{
    self->stats.quarantines++;
    mm_log_warning ("ag_correlate: sensor %s (org %s) brought more than %u new indicators at once: "
                    "its findings count for nothing for %u s",
                    sensor->id, org->id, self->cfg.sensor_burst, self->cfg.quarantine_s);
    if (!self->sink.incident)
        return;
    ag_incident_t inc = {
        .ts = ts,
        .notified = now,
        .org = org->id,
        .provider = ag_registry_provider_at (self->registry, org->provider)->id,
        .region = org->region,
        .sensor = sensor->id,
        .severity = MM_SEV_MEDIUM,
        .category = MM_CAT_SENSOR,
        .detector = "correlate.quarantine",
        .message = "sensor quarantined: a burst of new indicators",
        .ioc_value = "",
        .action = MM_ACTION_HUNT,
        .action_ja = "センサーの設定や改ざんの有無を確認してください。",
        .action_en = "Check the sensor's configuration and whether it has been tampered with.",
        .quarantine = true,
    };
    self->sink.incident (self->sink.arg, &inc);
}

//  ---------------------------------------------------------------------------------------------
//  Indicators and sightings

//  The finding's indicator, normalised into `norm`: 1 if there is one, 0 if none, -1 if it
//  does not normalise. Findings without one that are about a remote party (brute force,
//  exploits from outside, C2 and exfiltration to outside) have the remote address.
static int
s_indicator (const mm_event_t *ev, uint8_t *type, char *norm, size_t size)
{
    const mm_finding_t *f = &ev->finding;
    char raw[MM_LONG_MAX + 1];
    if ((f->has & MM_FINDING_HAS_IOC) && f->ioc.type && f->ioc.value.len) {
        snprintf (raw, sizeof raw, "%.*s", (int) f->ioc.value.len, f->ioc.value.ptr);
        *type = f->ioc.type;
    }
    else {
        const mm_addr_t *remote = NULL;
        bool from_outside = f->category == MM_CAT_BRUTE_FORCE || f->category == MM_CAT_EXPLOIT;
        bool to_outside = f->category == MM_CAT_C2_BEACON || f->category == MM_CAT_EXFILTRATION;
        if (from_outside && ev->direction == MM_DIR_INBOUND)
            remote = &ev->src;
        else if (to_outside && ev->direction == MM_DIR_OUTBOUND)
            remote = &ev->dst;
        if (!remote || (remote->len != 4 && remote->len != 16))
            return 0;
        if (!inet_ntop (remote->len == 4 ? AF_INET : AF_INET6, remote->b, raw, sizeof raw))
            return -1;
        *type = MM_IOC_IP;
    }
    if (*type > MM_IOC_SHA256)
        return -1;
    return ag_indicator_normalize (*type, raw, norm, size, NULL) == 0 ? 1 : -1;
}

//  The key a group is filed under: addresses and names by their group, so that one attacker's
//  /24 or registered domain is one thing; URLs file under their host's registered domain.
static int
s_group (const ag_psl_t *psl, uint8_t type, const char *norm, char *group, size_t size, char *key,
         size_t key_size)
{
    if (ag_indicator_group (psl, type, norm, group, size) == -1)
        return -1;
    char cls = type == MM_IOC_IP || type == MM_IOC_CIDR      ? 'a'
               : type == MM_IOC_DOMAIN || type == MM_IOC_URL ? 'd'
                                                             : (char) ('0' + type);
    int n = snprintf (key, key_size, "%c:%s", cls, group);
    return n > 0 && (size_t) n < key_size ? 0 : -1;
}

//  A second value of the group was seen: warnings may name the group from now on, unless the
//  group is allowlisted (a /24 holding a public resolver: blocking it would cut the resolver
//  off; one attacker address next to it is no reason to).
static void
s_mixed (ag_correlate_t *self, s_sight_t *s)
{
    s->mixed = true;
    uint8_t gtype = s->key[0] == 'a' ? MM_IOC_CIDR : s->key[0] == 'd' ? MM_IOC_DOMAIN : s->type;
    s->group_allowlisted =
        self->allow && (ag_allow_match (self->allow, gtype, s->group) != NULL ||
                        (gtype == MM_IOC_DOMAIN && ag_allow_under (self->allow, s->group)));
}

//  The group of an indicator, found (`*key` filled either way), or NULL if it is not known
//  yet. A second value in a group marks it mixed: warnings then name the group.
static s_sight_t *
s_sight_find (ag_correlate_t *self, uint8_t type, const char *norm, char *group, size_t size,
              char *key, size_t key_size)
{
    if (s_group (self->psl, type, norm, group, size, key, key_size) == -1)
        return NULL;
    s_sight_t *s = (s_sight_t *) zhashx_lookup (self->sights, key);
    if (s && !s->other_value && (s->type != type || strcmp (s->value, norm) != 0))
        s->other_value = true;
    return s;
}

static s_sight_t *
s_sight_add (ag_correlate_t *self, uint8_t type, const char *norm, const char *group,
             const char *key)
{
    s_sight_t *s = (s_sight_t *) calloc (1, sizeof *s);
    if (!s)
        return NULL;
    s->key = strdup (key);
    s->value = strdup (norm);
    s->group = strdup (group);
    s->type = type;
    if (!s->key || !s->value || !s->group || zhashx_insert (self->sights, key, s) != 0) {
        void *p = s;
        s_sight_free (&p);
        return NULL;
    }
    return s;
}

//  An org's entry in the group, made if new. Entries are kept sorted by org slot: a group seen
//  by hundreds of companies is looked up per finding.
static s_seen_t *
s_seen (s_sight_t *s, uint32_t org)
{
    uint32_t lo = 0, hi = s->n_seen;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (s->seen[mid].org < org)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s->n_seen && s->seen[lo].org == org)
        return &s->seen[lo];
    if (s->n_seen == s->max_seen) {
        uint32_t max = s->max_seen ? s->max_seen * 2 : 4;
        s_seen_t *p = (s_seen_t *) realloc (s->seen, max * sizeof *p);
        if (!p)
            return NULL;
        s->seen = p;
        s->max_seen = max;
    }
    memmove (&s->seen[lo + 1], &s->seen[lo], (s->n_seen - lo) * sizeof *s->seen);
    s->n_seen++;
    s_seen_t *e = &s->seen[lo];
    memset (e, 0, sizeof *e);
    e->org = org;
    return e;
}

static void
s_record (s_sight_t *s, s_seen_t *e, uint32_t sensor, uint64_t ts)
{
    if (e->count == 0) {
        e->sensor = sensor;
        e->sensors = 1;
        e->first = e->last = ts;
    }
    else if (e->sensors < 2 && e->sensor != sensor)
        e->sensors = 2;
    e->count++;
    if (ts < e->first)
        e->first = ts;
    if (ts > e->last)
        e->last = ts;
    if (s->count == 0 || ts < s->first)
        s->first = ts;
    if (ts > s->last)
        s->last = ts;
    s->count++;
}

//  ---------------------------------------------------------------------------------------------
//  Audiences: who a rule adds, and how each recipient may be told where the threat was seen.

static bool
s_in (const uint32_t *v, size_t n, uint32_t x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return true;
    return false;
}

//  How recipient `r` may be told that `hit` saw it (both registry indexes). The relation must
//  not single the hit org out, also by elimination: `direct-*` only when each role r has at
//  all holds at least k partners (with 2 suppliers and 1 customer, "same chain" for the
//  customer's hit would name the customer, "direct supplier" being what the suppliers give).
//  Otherwise one relation for every partner: "same chain" when r has at least k partners in
//  all (rules are public: a partner-only warning says "one of your partners"), else
//  undisclosed, with the evidence counts withheld as well (an org count of 1 would say R1,
//  and R1 would say "your only partner").
static uint8_t
s_relation (ag_correlate_t *self, uint32_t r, uint32_t hit, bool *withheld)
{
    uint32_t k = self->cfg.k_anon ? self->cfg.k_anon : 1;
    size_t n_sup = ag_registry_suppliers (self->registry, r, self->partners, S_PARTNERS_MAX);
    bool is_sup = s_in (self->partners, n_sup < S_PARTNERS_MAX ? n_sup : S_PARTNERS_MAX, hit);
    size_t n_cus = ag_registry_customers (self->registry, r, self->partners, S_PARTNERS_MAX);
    bool is_cus = s_in (self->partners, n_cus < S_PARTNERS_MAX ? n_cus : S_PARTNERS_MAX, hit);
    *withheld = false;
    bool roles_ok = (n_sup == 0 || n_sup >= k) && (n_cus == 0 || n_cus >= k);
    if (roles_ok && is_sup && !is_cus)
        return MM_REL_DIRECT_SUPPLIER;
    if (roles_ok && is_cus && !is_sup)
        return MM_REL_DIRECT_CUSTOMER;
    if (n_sup + n_cus >= k)
        return MM_REL_SAME_CHAIN;
    *withheld = true;
    return MM_REL_UNDISCLOSED;
}

static void
s_add (ag_correlate_t *self, uint32_t reg, uint8_t relation, bool withheld)
{
    s_org_t *o = s_org_of_reg (self, reg);
    if (!o || o->mark == self->gen)
        return;  //  the first rule to add an org sets its relation
    o->mark = self->gen;
    if (self->n_adds < S_ADDS_MAX)
        self->adds[self->n_adds++] =
            (s_recipient_t){.org = o->slot, .relation = relation, .withheld = withheld};
}

//  Direct partners of `org`, customers then suppliers (each once), into self->partners.
static size_t
s_partners (ag_correlate_t *self, uint32_t org)
{
    size_t n = ag_registry_customers (self->registry, org, self->partners, S_PARTNERS_MAX);
    if (n > S_PARTNERS_MAX)
        n = S_PARTNERS_MAX;
    uint32_t sup[S_PARTNERS_MAX];
    size_t m = ag_registry_suppliers (self->registry, org, sup, S_PARTNERS_MAX);
    for (size_t i = 0; i < m && i < S_PARTNERS_MAX && n < S_PARTNERS_MAX; i++)
        if (!s_in (self->partners, n, sup[i]))
            self->partners[n++] = sup[i];
    return n;
}

static void
s_add_partners_of (ag_correlate_t *self, uint32_t hit)
{
    uint32_t partners[S_PARTNERS_MAX];
    size_t n = s_partners (self, hit);
    memcpy (partners, self->partners, n * sizeof *partners);
    for (size_t i = 0; i < n; i++) {
        bool withheld;
        uint8_t rel = s_relation (self, partners[i], hit, &withheld);
        s_add (self, partners[i], rel, withheld);
    }
}

//  The orgs (registry indexes) that saw the group since `since`, into `out`.
static size_t
s_window (ag_correlate_t *self, const s_sight_t *s, uint64_t since, uint32_t *out, size_t max)
{
    size_t n = 0;
    for (uint32_t i = 0; i < s->n_seen && n < max; i++) {
        const s_seen_t *e = &s->seen[i];
        s_org_t *o = self->org_by_slot[e->org];
        if (e->last >= since && o->reg >= 0)
            out[n++] = (uint32_t) o->reg;
    }
    return n;
}

static size_t
s_distinct_providers (ag_correlate_t *self, const uint32_t *orgs, size_t n)
{
    uint32_t seen[64];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t p = ag_registry_org_at (self->registry, orgs[i])->provider;
        if (!s_in (seen, k, p) && k < 64)
            seen[k++] = p;
    }
    return k;
}

//  True if one chain holds every org of `orgs` (then it is R2's business, not a region's).
static bool
s_one_chain (ag_correlate_t *self, const uint32_t *orgs, size_t n)
{
    if (n == 0)
        return true;
    uint32_t chains[256];
    size_t nc = ag_registry_org_chains (self->registry, orgs[0], chains, 256);
    for (size_t c = 0; c < nc && c < 256; c++) {
        bool all = true;
        for (size_t i = 1; i < n && all; i++)
            all = ag_registry_is_member (self->registry, orgs[i], chains[c]);
        if (all)
            return true;
    }
    return false;
}

typedef struct {
    uint8_t severity;  //  what the rules ask for
    uint8_t rules;     //  bits 1..4
} s_verdict_t;

#define S_SCOPE(rule, x) (((uint32_t) (rule) << 24) | ((uint32_t) (x) &0xffffffu))

//  True if the current warning already has this audience; else notes it as fired.
static bool
s_scope_done (ag_correlate_t *self, uint32_t scope)
{
    const s_warn_t *w = self->current;
    for (uint32_t i = 0; w && i < w->n_scopes; i++)
        if (w->scopes[i] == scope)
            return true;
    if (self->n_fired < sizeof self->fired / sizeof self->fired[0])
        self->fired[self->n_fired++] = scope;
    return false;
}

//  R1: a severe finding of high confidence (or seen by two of the org's sensors) warns the
//  hit org's direct partners.
static void
s_rule1 (ag_correlate_t *self, const mm_event_t *ev, const s_seen_t *e, uint32_t a, s_verdict_t *v)
{
    if (ev->severity < self->cfg.severe)
        return;
    if (ev->confidence < self->cfg.r1_confidence && e->sensors < 2)
        return;
    uint32_t before = self->n_adds;
    if (!s_scope_done (self, S_SCOPE (1, a)))
        s_add_partners_of (self, a);
    if (self->n_adds > before || ev->severity > v->severity) {
        v->rules |= 1u << 1;
        if (ev->severity > v->severity)
            v->severity = ev->severity;
    }
}

//  R2: orgs of one chain within the window: a chain campaign, every member warned.
static void
s_rule2 (ag_correlate_t *self, const uint32_t *win, size_t n_win, uint32_t a, uint8_t base,
         s_verdict_t *v)
{
    uint32_t chains[256];
    size_t nc = ag_registry_org_chains (self->registry, a, chains, 256);
    for (size_t c = 0; c < nc && c < 256; c++) {
        size_t hits = 0;
        for (size_t i = 0; i < n_win; i++)
            hits += ag_registry_is_member (self->registry, win[i], chains[c]);
        if (hits < self->cfg.chain_orgs)
            continue;
        if (!s_scope_done (self, S_SCOPE (2, chains[c]))) {
            uint32_t members[S_PARTNERS_MAX];
            size_t m =
                ag_registry_chain_members (self->registry, chains[c], members, S_PARTNERS_MAX);
            for (size_t i = 0; i < m && i < S_PARTNERS_MAX; i++)
                s_add (self, members[i], MM_REL_SAME_CHAIN, false);
        }
        v->rules |= 1u << 2;
        uint8_t sev = base < MM_SEV_CRITICAL ? (uint8_t) (base + 1) : MM_SEV_CRITICAL;
        if (sev > v->severity)
            v->severity = sev;
    }
}

//  R3: seen at a direct partner of `a` before (within the window) and now at `a`: possible
//  spread along that link. Critical, to both ends and a's other partners.
static void
s_rule3 (ag_correlate_t *self, const s_sight_t *s, uint64_t since, uint64_t ts, uint32_t a,
         s_verdict_t *v)
{
    uint32_t partners[S_PARTNERS_MAX];
    size_t np = s_partners (self, a);
    memcpy (partners, self->partners, np * sizeof *partners);
    int64_t first = -1;  //  the first partner found that saw it before
    for (uint32_t i = 0; i < s->n_seen; i++) {
        const s_seen_t *e = &s->seen[i];
        int32_t x = self->org_by_slot[e->org]->reg;
        if (x < 0 || (uint32_t) x == a || e->last < since || e->first > ts)
            continue;
        if (!s_in (partners, np, (uint32_t) x))
            continue;
        bool withheld;
        uint8_t rel = s_relation (self, (uint32_t) x, a, &withheld);
        s_add (self, (uint32_t) x, rel, withheld);
        if (first < 0)
            first = x;
    }
    if (first < 0)
        return;
    bool withheld;
    uint8_t rel = s_relation (self, a, (uint32_t) first, &withheld);
    s_add (self, a, rel, withheld);
    s_add_partners_of (self, a);
    v->rules |= 1u << 3;
    v->severity = MM_SEV_CRITICAL;
}

//  R4: enough orgs of one region (or industry), from enough providers, not all of one chain.
static void
s_rule4_scope (ag_correlate_t *self, const uint32_t *win, size_t n_win, bool by_region,
               const ag_org_t *hit, uint8_t base, s_verdict_t *v)
{
    uint32_t in[S_PARTNERS_MAX];
    size_t n = 0;
    for (size_t i = 0; i < n_win && n < S_PARTNERS_MAX; i++) {
        const ag_org_t *o = ag_registry_org_at (self->registry, win[i]);
        if (by_region ? o->region == hit->region : o->industry == hit->industry)
            in[n++] = win[i];
    }
    if (n < self->cfg.region_orgs ||
        s_distinct_providers (self, in, n) < self->cfg.region_providers ||
        s_one_chain (self, in, n))
        return;
    uint32_t scope = by_region ? S_SCOPE (4, hit->region) : S_SCOPE (5, (uint8_t) hit->industry);
    bool done = s_scope_done (self, scope);
    for (size_t i = 0; !done && i < ag_registry_orgs (self->registry); i++) {
        const ag_org_t *o = ag_registry_org_at (self->registry, i);
        if (by_region ? o->region == hit->region : o->industry == hit->industry)
            s_add (self, (uint32_t) i, MM_REL_SAME_REGION_INDUSTRY, false);
    }
    v->rules |= 1u << 4;
    if (base > v->severity)
        v->severity = base;
}

//  ---------------------------------------------------------------------------------------------
//  Warnings

static void
s_hex (const uint8_t *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

//  What the warning names: the value while every sighting had that value, else the group
//  (a /24 or /48 as a prefix, a registered domain with everything under it).
static void
s_indicator_of (const s_warn_t *w, mm_indicator_t *ind)
{
    const s_sight_t *s = w->sight;
    if (!s->mixed || s->group_allowlisted) {
        ind->type = s->type;
        ind->value = mm_str (s->value);
        ind->match = s->type == MM_IOC_DOMAIN ? MM_MATCH_SUBDOMAINS : MM_MATCH_EXACT;
        return;
    }
    bool addr = s->key[0] == 'a';
    bool name = s->key[0] == 'd';
    ind->type = addr ? MM_IOC_CIDR : name ? MM_IOC_DOMAIN : s->type;
    ind->value = mm_str (s->group);
    ind->match = addr ? MM_MATCH_PREFIX : name ? MM_MATCH_REGISTERED_DOMAIN : MM_MATCH_EXACT;
}

static uint64_t
s_ttl_ns (const ag_correlate_t *self, uint8_t type)
{
    uint32_t ttl = type < 9 ? self->cfg.ttl_s[type] : 0;
    return (uint64_t) (ttl ? ttl : 7 * 86400) * S_NS;
}

//  Evidence: the distinct orgs and providers that saw the group within the window.
static void
s_evidence (ag_correlate_t *self, const s_warn_t *w, mm_wevidence_t *ev)
{
    uint32_t orgs[S_PARTNERS_MAX];
    uint64_t window = (uint64_t) self->cfg.window_s * S_NS;
    uint64_t since = self->newest > window ? self->newest - window : 0;
    size_t n = s_window (self, w->sight, since, orgs, S_PARTNERS_MAX);
    ev->orgs = (uint32_t) n;
    ev->providers = (uint32_t) s_distinct_providers (self, orgs, n);
    ev->sightings = w->sight->count;
    ev->first_seen = w->sight->first;
    ev->last_seen = w->sight->last;
}

//  The recipient's copy of the warning's current revision. Borrows from `w` and self.
static void
s_build (ag_correlate_t *self, s_warn_t *w, const s_recipient_t *r, mm_warning_t *out)
{
    const s_advice_t *adv = s_advice (w->category);
    memset (out, 0, sizeof *out);
    out->has = MM_WARN_HAS_EVIDENCE | MM_WARN_HAS_ACTION;
    out->ts = w->updated;
    out->org = r ? mm_str (self->org_by_slot[r->org]->id) : mm_str ("");
    out->id = mm_str (w->id);
    out->revision = w->revision;
    out->status = w->status;
    out->valid_until = w->valid_until;
    s_indicator_of (w, &out->indicator);
    out->severity = w->severity;
    out->confidence = w->confidence;
    out->category = w->category;
    out->n_tactics = 1;
    out->tactics[0] = mm_str (adv->tactic);
    out->n_techniques = w->n_techniques;
    for (uint32_t i = 0; i < w->n_techniques; i++)
        out->techniques[i] = mm_str (w->techniques[i]);
    if (w->evidence_gen != self->stats.sightings + 1) {
        s_evidence (self, w, &w->evidence);
        w->evidence_gen = self->stats.sightings + 1;
    }
    out->evidence = w->evidence;
    if (r && r->withheld) {
        //  Not disclosed: the counts, and the confidence they raised (+10 per org).
        out->evidence.orgs = out->evidence.providers = 0;
        out->confidence = w->base_confidence;
    }
    out->action = (mm_waction_t){adv->action, mm_str (adv->ja), mm_str (adv->en)};
    out->relation = r ? r->relation : MM_REL_UNDISCLOSED;
    out->tlp = w->tlp;
    out->dedup_key = mm_str (w->dedup);
}

static void
s_hold (ag_correlate_t *self, s_warn_t *w, s_recipient_t *r, uint64_t now)
{
    s_warn_dirty (self, w);
    s_org_t *o = self->org_by_slot[r->org];
    if (zlistx_size (o->digest) >= S_DIGEST_MAX) {
        //  A digest is for people and for one WATCHLIST burst: past this the recipient is
        //  flooded anyway; it gets this warning with its next revision, if any.
        self->stats.digest_full++;
        return;
    }
    r->in_digest = true;
    zlistx_add_end (o->digest, w);
    if (o->digest_due == 0)
        o->digest_due = now + (uint64_t) self->cfg.digest_s * S_NS;
    self->stats.digested++;
}

static bool
s_member (const s_warn_t *w, uint32_t org)
{
    return org / 64 < w->member_words && (w->member[org / 64] >> (org % 64) & 1);
}

static s_recipient_t *
s_recipient (s_warn_t *w, uint32_t org)
{
    if (!s_member (w, org))
        return NULL;
    for (uint32_t i = 0; i < w->n_recipients; i++)
        if (w->recipients[i].org == org)
            return &w->recipients[i];
    return NULL;
}

//  True if another active warning on the same group (another category) was sent to `org`,
//  so its indicator is in the org's matchers: a revocation must not take it out from under
//  that one. (Told, not `matcher_expires`: that is not kept across a restart.) The other's
//  entry is then sent again with its next revision, so the matchers carry its own settings.
//  `siblings`: the warnings on the same sightings (s_siblings).
static bool
s_held_elsewhere (s_warn_t *const *siblings, size_t n, uint32_t org, uint64_t now)
{
    bool held = false;
    for (size_t i = 0; i < n; i++) {
        s_warn_t *x = siblings[i];
        if (x->status == MM_WSTATUS_REVOKED || x->valid_until <= now)
            continue;
        s_recipient_t *r = s_recipient (x, org);
        if (r && r->sent > 0) {
            r->matcher_expires = 0;
            held = true;
        }
    }
    return held;
}

//  The other warnings on `w`'s sightings (a group has one warning per category), into
//  `out` (at most `max`). Revocations are rare: a walk over the warnings is affordable.
static size_t
s_siblings (ag_correlate_t *self, const s_warn_t *w, s_warn_t **out, size_t max)
{
    size_t n = 0;
    if (w->sight->refs < 2)
        return 0;
    for (s_warn_t *x = (s_warn_t *) zhashx_first (self->warnings); x && n < max;
         x = (s_warn_t *) zhashx_next (self->warnings))
        if (x != w && x->sight == w->sight)
            out[n++] = x;
    return n;
}

//  Tells one recipient the current revision, or holds it for the digest when the recipient
//  has had its share of notices. Revocations always go at once.
static void
s_notify (ag_correlate_t *self, s_warn_t *w, s_recipient_t *r, uint64_t now)
{
    if (r->sent == w->revision)
        return;
    if (r->in_digest && w->status != MM_WSTATUS_REVOKED)
        return;  //  the digest carries the latest revision
    s_org_t *o = self->org_by_slot[r->org];
    //  The limit is on new warnings a company hears of; revisions of one it has (counts,
    //  escalation) go at once, at most one per update_s unless something new happened.
    if (w->status != MM_WSTATUS_REVOKED && r->sent == 0) {
        bool ok =
            w->severity >= MM_SEV_CRITICAL
                ? s_take (&o->critical, self->cfg.critical_burst, self->cfg.notice_refill_s, now)
                : s_take (&o->notices, self->cfg.notice_burst, self->cfg.notice_refill_s, now);
        if (!ok) {
            s_hold (self, w, r, now);
            return;
        }
    }
    r->sent = w->revision;
    s_warn_dirty (self, w);
    self->stats.notices++;
    if (self->sink.warning) {
        mm_warning_t mw;
        s_build (self, w, r, &mw);
        //  A warning that now names its group may have named its first value before.
        mm_indicator_t earlier = {w->sight->type, mm_str (w->sight->value), MM_MATCH_EXACT};
        bool named_group = w->sight->mixed && !w->sight->group_allowlisted;
        bool revoked = w->status == MM_WSTATUS_REVOKED;
        //  The sensors' matchers need the entry again only when it changes: new, revoked, now
        //  the group, or about to lapse before the warning does. Entries are sent with half a
        //  lifetime to spare, so a warning revised every few minutes is not re-sent each time.
        uint64_t matcher = 0;
        if (revoked && s_held_elsewhere (self->siblings, self->n_siblings, r->org, now))
            r->matcher_expires = 0;  //  the copy says revoked; the matchers keep the other's
        else if (revoked || r->matcher_expires == 0 || r->matcher_group != named_group ||
                 w->valid_until > r->matcher_expires) {
            matcher =
                revoked ? w->valid_until : w->valid_until + s_ttl_ns (self, w->sight->type) / 2;
            r->matcher_expires = matcher;
            r->matcher_group = named_group;
        }
        self->sink.warning (self->sink.arg, &mw, named_group && revoked ? &earlier : NULL, matcher);
    }
}

static void
s_revise (ag_correlate_t *self, s_warn_t *w, uint64_t now)
{
    s_warn_dirty (self, w);
    w->revision++;
    if (w->status != MM_WSTATUS_REVOKED)
        w->status = w->revision == 1 ? MM_WSTATUS_ACTIVE : MM_WSTATUS_UPDATED;
    w->updated = now;
    w->counts_changed = 0;
    if (w->status != MM_WSTATUS_REVOKED)
        w->valid_until = now + s_ttl_ns (self, w->sight->type);
    for (uint32_t i = 0; i < w->n_recipients; i++)
        s_notify (self, w, &w->recipients[i], now);
}

static s_warn_t *
s_warn_new (ag_correlate_t *self, s_sight_t *s, const char *key, const mm_event_t *ev, uint64_t now)
{
    s_warn_t *w = (s_warn_t *) calloc (1, sizeof *w);
    if (!w)
        return NULL;
    w->key = strdup (key);
    if (!w->key) {
        free (w);
        return NULL;
    }
    //  Random ids: an id derived from the org or the indicator could be recomputed by a
    //  recipient and would tell it who was hit.
    uint8_t rnd[16];
    randombytes_buf (rnd, sizeof rnd);
    s_hex (rnd, sizeof rnd, w->id);
    char text[AG_INDICATOR_MAX + 16];
    snprintf (text, sizeof text, "%u|%s|%u", s->type, s->mixed ? s->group : s->value,
              ev->finding.category);
    uint8_t digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256 (digest, (const uint8_t *) text, strlen (text));
    s_hex (digest, 16, w->dedup);
    w->sight = s;
    s->refs++;
    w->category = ev->finding.category;
    w->issued = now;
    w->tlp = MM_TLP_AMBER;
    const mm_finding_t *f = &ev->finding;
    for (uint32_t i = 0; i < f->n_attack && w->n_techniques < MM_ATTACK_MAX; i++)
        if (f->attack[i].len > 0 && f->attack[i].len < sizeof w->techniques[0])
            snprintf (w->techniques[w->n_techniques++], sizeof w->techniques[0], "%.*s",
                      (int) f->attack[i].len, f->attack[i].ptr);
    zhashx_insert (self->warnings, key, w);
    zhashx_insert (self->by_id, w->id, w);
    return w;
}

static int
s_recipient_add (s_warn_t *w, const s_recipient_t *r)
{
    if (r->org / 64 >= w->member_words) {
        uint32_t words = r->org / 64 + 1;
        uint64_t *p = (uint64_t *) realloc (w->member, words * sizeof *p);
        if (!p)
            return -1;
        memset (p + w->member_words, 0, (words - w->member_words) * sizeof *p);
        w->member = p;
        w->member_words = words;
    }
    if (w->n_recipients == w->max_recipients) {
        uint32_t max = w->max_recipients ? w->max_recipients * 2 : 8;
        s_recipient_t *p = (s_recipient_t *) realloc (w->recipients, max * sizeof *p);
        if (!p)
            return -1;
        w->recipients = p;
        w->max_recipients = max;
    }
    w->recipients[w->n_recipients++] = *r;
    w->member[r->org / 64] |= 1ull << (r->org % 64);
    return 0;
}

//  Notes the audiences this finding added on its warning.
static void
s_scopes_add (ag_correlate_t *self, s_warn_t *w)
{
    for (uint32_t f = 0; f < self->n_fired; f++) {
        if (w->n_scopes == w->max_scopes) {
            uint32_t max = w->max_scopes ? w->max_scopes * 2 : 4;
            uint32_t *p = (uint32_t *) realloc (w->scopes, max * sizeof *p);
            if (!p)
                return;  //  only a shortcut is lost
            w->scopes = p;
            w->max_scopes = max;
        }
        w->scopes[w->n_scopes++] = self->fired[f];
    }
}

//  Applies what the rules decided for this finding to the warning of (group, category) under
//  `key`.
static void
s_apply (ag_correlate_t *self, s_sight_t *s, const char *key, const mm_event_t *ev,
         const s_verdict_t *v, uint32_t n_orgs, uint64_t now)
{
    s_warn_t *w = (s_warn_t *) zhashx_lookup (self->warnings, key);
    if (w && w->status == MM_WSTATUS_REVOKED)
        return;  //  a confirmed false positive stays quiet
    if (!w && self->n_adds == 0)
        return;  //  no rule reached anyone
    if (!w && !(w = s_warn_new (self, s, key, ev, now)))
        return;
    s_scopes_add (self, w);
    bool changed = false;
    //  The adds are distinct (s_add); those not recipients yet join.
    for (uint32_t i = 0; i < self->n_adds; i++)
        if (!s_member (w, self->adds[i].org) && s_recipient_add (w, &self->adds[i]) == 0)
            changed = true;
    if (v->severity > w->severity) {
        w->severity = v->severity;  //  only ever up: a quieter sighting does not calm it
        changed = true;
    }
    if ((v->rules | w->rules) != w->rules) {
        w->rules |= v->rules;
        changed = true;
    }
    //  Partners and chains are told in confidence; a regional advisory alone is for sharing.
    w->tlp = (w->rules & 0x0e) ? MM_TLP_AMBER : MM_TLP_GREEN;
    if (ev->confidence > w->base_confidence)
        w->base_confidence = ev->confidence;
    uint32_t conf = ev->confidence + 10u * (n_orgs > 0 ? n_orgs - 1 : 0);
    if (conf > 100)
        conf = 100;
    //  A higher confidence alone is like counts: told with the next revision, or update_s
    //  later (each company joining a campaign would otherwise re-send it to every recipient).
    if (conf > w->confidence)
        w->confidence = (uint8_t) conf;
    for (int r = 1; r <= 4; r++)
        if (v->rules & (1u << r))
            self->stats.rule[r]++;
    if (changed || (w->revision > 0 && now >= w->updated + (uint64_t) self->cfg.update_s * S_NS))
        s_revise (self, w, now);
    else if (w->counts_changed == 0)
        w->counts_changed = now;  //  told with the next revision or by the tick (counts live
                                  //  in the sightings: the record need not be written for it)
}

//  ---------------------------------------------------------------------------------------------
//  Findings

//  Quotas on new indicators: false if this one must not count. A sensor that runs out is
//  quarantined (a flood of made-up indicators is the poisoning this guards against); an org
//  that runs out (several sensors each within theirs) only has the excess refused.
static bool
s_quota (ag_correlate_t *self, s_sensor_t *sensor, s_org_t *org, const ag_org_t *ro, uint64_t ts,
         uint64_t now)
{
    if (!s_take (&sensor->quota, self->cfg.sensor_burst, self->cfg.sensor_refill_s, now)) {
        sensor->quarantined_until = now + (uint64_t) self->cfg.quarantine_s * S_NS;
        s_quarantine_notice (self, sensor, ro, ts, now);
        self->stats.quarantined++;
        return false;
    }
    if (!s_take (&org->quota, self->cfg.org_burst, self->cfg.org_refill_s, now)) {
        self->stats.quota_refused++;
        return false;
    }
    return true;
}

static int
s_correlate (ag_correlate_t *self, const mm_event_t *ev, int32_t a, s_sensor_t *sensor,
             uint64_t now)
{
    const ag_org_t *ro = ag_registry_org_at (self->registry, (size_t) a);
    uint8_t type;
    char norm[AG_INDICATOR_MAX];
    int rc = s_indicator (ev, &type, norm, sizeof norm);
    if (rc == 0) {
        self->stats.no_indicator++;
        return 0;
    }
    if (rc == -1) {
        self->stats.bad_indicator++;
        return -1;
    }
    if (!s_travels (ev->finding.category)) {
        self->stats.local_category++;
        return 0;
    }
    //  A domain covers its subdomains (at the sensors too): it is allowlisted when a listed
    //  name is under it, not only when it is under a listed name.
    if (self->allow && (ag_allow_match (self->allow, type, norm) ||
                        (type == MM_IOC_DOMAIN && ag_allow_under (self->allow, norm)))) {
        self->stats.allowlisted++;
        return 0;
    }
    if (sensor->quarantined_until > now) {
        self->stats.quarantined++;
        return -1;
    }
    s_org_t *org = s_org_of_reg (self, (uint32_t) a);
    char group[AG_INDICATOR_MAX], key[AG_INDICATOR_MAX + 4];
    if (s_group (self->psl, type, norm, group, sizeof group, key, sizeof key) == -1) {
        //  A public suffix itself (a dynamic-DNS provider's domain): no one company's
        //  threat, and a warning for it would block every customer of the provider.
        self->stats.bad_indicator++;
        return -1;
    }
    s_sight_t *s = s_sight_find (self, type, norm, group, sizeof group, key, sizeof key);
    if (!s) {
        if (!org || !s_quota (self, sensor, org, ro, ev->ts, now))
            return -1;
        s = s_sight_add (self, type, norm, group, key);
    }
    s_seen_t *e = s ? s_seen (s, org->slot) : NULL;
    if (!e)
        return -1;
    uint64_t window = (uint64_t) self->cfg.window_s * S_NS;
    uint64_t since = ev->ts > window ? ev->ts - window : 0;
    //  The org joins the group's window now (first sighting, or back after the window):
    //  only then can the set of orgs the rules R2-R4 count have changed.
    bool joins = e->count == 0 || e->last < since;
    s_record (s, e, sensor->slot, ev->ts);
    //  One sensor with two addresses of a /24 (or two names of a domain) must not make its
    //  partners block the whole group: that takes a second org.
    if (!s->mixed && s->other_value && s->n_seen >= 2)
        s_mixed (self, s);
    if (s->episode == 0)
        s->episode = ev->ts ? ev->ts : 1;
    s_sight_dirty (self, s);
    self->stats.sightings++;
    if (ev->ts > self->newest)
        self->newest = ev->ts;

    uint8_t base = ev->severity;
    s_verdict_t v = {0, 0};
    char wkey[AG_INDICATOR_MAX + 16];
    snprintf (wkey, sizeof wkey, "%s|%u", s->key, ev->finding.category);
    self->current = (const s_warn_t *) zhashx_lookup (self->warnings, wkey);
    self->n_adds = self->n_fired = 0;
    self->gen++;
    s_rule1 (self, ev, e, (uint32_t) a, &v);
    //  R2-R4 depend on the orgs in the window (unchanged unless this org joins) and on this
    //  finding's severity (which may escalate the warning): otherwise they would decide what
    //  they decided before, at the cost of a walk over every org that saw the group.
    size_t n_win = 1;
    if (joins || !self->current || base >= self->current->severity) {
        uint32_t win[S_PARTNERS_MAX];
        n_win = s_window (self, s, since, win, S_PARTNERS_MAX);
        s_rule2 (self, win, n_win, (uint32_t) a, base, &v);
        if (joins)
            s_rule3 (self, s, since, ev->ts, (uint32_t) a, &v);
        s_rule4_scope (self, win, n_win, true, ro, base, &v);
        s_rule4_scope (self, win, n_win, false, ro, base, &v);
    }
    s_apply (self, s, wkey, ev, &v, (uint32_t) n_win, now);
    return 0;
}

int
ag_correlate_event (ag_correlate_t *self, const mm_event_t *ev, uint64_t now)
{
    if (!(ev->has & MM_EV_HAS_FINDING) || ev->kind != MM_KIND_FINDING)
        return 0;
    self->stats.findings++;
    char id[MM_ID_MAX + 1];
    snprintf (id, sizeof id, "%.*s", (int) ev->sensor.len, ev->sensor.ptr);
    //  The org is the registry's for this sensor (whose id the broker took from its key),
    //  never the org the event names.
    int32_t a = self->registry && id[0] ? ag_registry_sensor_org (self->registry, id) : -1;
    if (a < 0) {
        //  Once per sensor: a sensor the brokers accept but the registry does not know is a
        //  registry to complete, and its findings warn nobody until then.
        if (self->stats.unregistered++ < 1000 && !zhashx_lookup (self->notified, id)) {
            mm_log_warning ("ag_correlate: findings of sensor '%s', which is in no org of the "
                            "registry, are not correlated",
                            id);
            uint64_t *until = (uint64_t *) malloc (sizeof *until);
            if (until) {
                *until = UINT64_MAX;
                zhashx_insert (self->notified, id, until);
            }
        }
        return -1;
    }
    s_sensor_t *sensor = s_sensor (self, id);
    if (!sensor)
        return -1;
    const ag_org_t *ro = ag_registry_org_at (self->registry, (size_t) a);
    //  Quarantine stops a sensor's findings from reaching other companies, never its own
    //  SOC: a real attack from many addresses looks like a flood too.
    s_incident (self, ev, ro, now);
    //  Windows run on the findings' own times; a sensor clock ahead of ours must not move
    //  them for everyone (the sweep would forget every other company's sightings).
    mm_event_t clamped;
    if (ev->ts > now + S_CLOCK_AHEAD_NS) {
        self->stats.clock_ahead++;
        clamped = *ev;
        clamped.ts = now;
        ev = &clamped;
    }
    return s_correlate (self, ev, a, sensor, now);
}

//  ---------------------------------------------------------------------------------------------
//  Time passing: digests, pending revisions, expiry, pruning.

static void
s_digest_flush (ag_correlate_t *self, s_org_t *o)
{
    size_t n = zlistx_size (o->digest);
    mm_warning_t *ws = (mm_warning_t *) calloc (n ? n : 1, sizeof *ws);
    const mm_warning_t **ps = (const mm_warning_t **) calloc (n ? n : 1, sizeof *ps);
    size_t k = 0;
    for (s_warn_t *w = (s_warn_t *) zlistx_first (o->digest); w;
         w = (s_warn_t *) zlistx_next (o->digest)) {
        s_recipient_t *r = s_recipient (w, o->slot);
        if (!r || !r->in_digest)
            continue;
        r->in_digest = false;
        r->sent = w->revision;
        r->matcher_expires = w->valid_until;  //  the digest's WATCHLIST carries it
        r->matcher_group = w->sight->mixed && !w->sight->group_allowlisted;
        s_warn_dirty (self, w);
        if (ws && ps) {
            s_build (self, w, r, &ws[k]);
            ps[k] = &ws[k];
            k++;
        }
    }
    if (k > 0) {
        self->stats.digests++;
        if (self->sink.digest)
            self->sink.digest (self->sink.arg, o->id, ps, k);
    }
    free (ws);
    free (ps);
    zlistx_purge (o->digest);
    o->digest_due = 0;
}

static void
s_digest_forget (ag_correlate_t *self, s_warn_t *w)
{
    for (uint32_t i = 0; i < w->n_recipients; i++) {
        s_recipient_t *r = &w->recipients[i];
        if (!r->in_digest)
            continue;
        s_org_t *o = self->org_by_slot[r->org];
        void *h = zlistx_find (o->digest, w);
        if (h)
            zlistx_delete (o->digest, h);
        r->in_digest = false;
    }
}

static void
s_drop_warning (ag_correlate_t *self, s_warn_t *w)
{
    s_digest_forget (self, w);
    if (w->dirty) {
        void *h = zlistx_find (self->dirty_warnings, w);
        if (h)
            zlistx_delete (self->dirty_warnings, h);
    }
    w->sight->refs--;
    zhashx_delete (self->by_id, w->id);
    zhashx_delete (self->warnings, w->key);  //  frees w
}

static void
s_sweep (ag_correlate_t *self, uint64_t now)
{
    uint64_t window = (uint64_t) self->cfg.window_s * S_NS;
    uint64_t since = self->newest > window ? self->newest - window : 0;
    zlistx_t *gone = zlistx_new ();  //  keys to delete once the walk is over (copies)
    if (gone) {
        zlistx_set_duplicator (gone, (czmq_duplicator *) strdup);
        zlistx_set_destructor (gone, (czmq_destructor *) zstr_free);
    }
    for (s_sight_t *s = (s_sight_t *) zhashx_first (self->sights); s;
         s = (s_sight_t *) zhashx_next (self->sights)) {
        //  Whole groups go once nothing of them is in the window: their record stays in
        //  the store (the sightings index), the memory is for what rules can still use.
        if (s->last < since && s->refs == 0 && !s->dirty && gone)
            zlistx_add_end (gone, s->key);
    }
    for (char *key = gone ? (char *) zlistx_first (gone) : NULL; key;
         key = (char *) zlistx_next (gone))
        zhashx_delete (self->sights, key);
    if (gone)
        zlistx_purge (gone);
    for (uint64_t *until = (uint64_t *) zhashx_first (self->notified); until;
         until = (uint64_t *) zhashx_next (self->notified))
        if (*until <= now && gone)
            zlistx_add_end (gone, (void *) zhashx_cursor (self->notified));
    for (char *key = gone ? (char *) zlistx_first (gone) : NULL; key;
         key = (char *) zlistx_next (gone))
        zhashx_delete (self->notified, key);
    zlistx_destroy (&gone);
}

void
ag_correlate_tick (ag_correlate_t *self, uint64_t now)
{
    zlistx_t *expired = zlistx_new ();
    for (s_warn_t *w = (s_warn_t *) zhashx_first (self->warnings); w;
         w = (s_warn_t *) zhashx_next (self->warnings)) {
        if (w->status != MM_WSTATUS_REVOKED && w->valid_until && w->valid_until <= now) {
            if (expired)
                zlistx_add_end (expired, w);
            continue;
        }
        //  A revoked warning keeps its indicator quiet for one lifetime, then goes (its
        //  record stays in the store).
        if (w->status == MM_WSTATUS_REVOKED &&
            w->updated + s_ttl_ns (self, w->sight->type) <= now) {
            if (expired)
                zlistx_add_end (expired, w);
            continue;
        }
        if (w->counts_changed && w->status != MM_WSTATUS_REVOKED &&
            now >= w->updated + (uint64_t) self->cfg.update_s * S_NS)
            s_revise (self, w, now);
    }
    for (s_warn_t *w = expired ? (s_warn_t *) zlistx_first (expired) : NULL; w;
         w = (s_warn_t *) zlistx_next (expired)) {
        self->stats.expired++;
        s_drop_warning (self, w);
    }
    zlistx_destroy (&expired);
    for (uint32_t i = 0; i < self->n_org_slots; i++) {
        s_org_t *o = self->org_by_slot[i];
        if (o->digest_due && o->digest_due <= now)
            s_digest_flush (self, o);
    }
    if (now >= self->next_sweep) {
        s_sweep (self, now);
        self->next_sweep = now + 60 * S_NS;
    }
}

int
ag_correlate_revoke (ag_correlate_t *self, const char *id, uint64_t now)
{
    s_warn_t *w = id ? (s_warn_t *) zhashx_lookup (self->by_id, id) : NULL;
    if (!w || w->status == MM_WSTATUS_REVOKED)
        return -1;
    //  Those who only had it waiting in a digest never heard of it: nothing to take back.
    s_digest_forget (self, w);
    s_warn_dirty (self, w);
    w->status = MM_WSTATUS_REVOKED;
    w->revision++;
    w->updated = now;
    w->counts_changed = 0;
    int told = 0;
    self->n_siblings = s_siblings (self, w, self->siblings, S_SIBLINGS_MAX);
    for (uint32_t i = 0; i < w->n_recipients; i++) {
        s_recipient_t *r = &w->recipients[i];
        if (r->sent == 0)
            continue;
        s_notify (self, w, r, now);
        told++;
    }
    self->n_siblings = 0;
    self->stats.revoked++;
    return told;
}

size_t
ag_correlate_each_warning (ag_correlate_t *self, ag_correlate_each_fn *fn, void *arg)
{
    size_t n = 0;
    for (s_warn_t *w = (s_warn_t *) zhashx_first (self->warnings); w;
         w = (s_warn_t *) zhashx_next (self->warnings)) {
        if (w->status == MM_WSTATUS_REVOKED || w->revision == 0)
            continue;
        mm_warning_t mw;
        s_build (self, w, NULL, &mw);
        n++;
        if (fn (arg, &mw, w->n_recipients) != 0)
            break;
    }
    return n;
}

void
ag_correlate_stats (const ag_correlate_t *self, ag_correlate_stats_t *stats)
{
    *stats = self->stats;
    stats->indicators = zhashx_size (self->sights);
    stats->warnings = zhashx_size (self->warnings);
}

//  ---------------------------------------------------------------------------------------------
//  Records. Binary, big-endian, a version byte first; strings as u16 length | bytes.

#define S_REC_VERSION 2  //  1 (orgs and recipients inline, before 2026-11-22) is not read

static int
s_w8 (mm_buf_t *b, uint8_t v)
{
    return mm_buf_append (b, &v, 1);
}

static int
s_w32 (mm_buf_t *b, uint32_t v)
{
    uint8_t p[4] = {(uint8_t) (v >> 24), (uint8_t) (v >> 16), (uint8_t) (v >> 8), (uint8_t) v};
    return mm_buf_append (b, p, 4);
}

static int
s_w64 (mm_buf_t *b, uint64_t v)
{
    return s_w32 (b, (uint32_t) (v >> 32)) | s_w32 (b, (uint32_t) v);
}

static int
s_wstr (mm_buf_t *b, const char *str)
{
    size_t n = strlen (str);
    if (n > 0xffff)
        return -1;
    uint8_t p[2] = {(uint8_t) (n >> 8), (uint8_t) n};
    return mm_buf_append (b, p, 2) | mm_buf_append (b, str, n);
}

//  LEB128: the recipients' states are mostly one byte each.
static int
s_wvar (mm_buf_t *b, uint64_t v)
{
    uint8_t p[10];
    size_t n = 0;
    do {
        p[n++] = (uint8_t) ((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return mm_buf_append (b, p, n);
}

typedef struct {
    const uint8_t *p;
    size_t left;
    bool bad;
} s_rd_t;

static uint64_t
s_rn (s_rd_t *r, size_t n)
{
    if (r->bad || r->left < n) {
        r->bad = true;
        return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | r->p[i];
    r->p += n;
    r->left -= n;
    return v;
}

static uint64_t
s_get_be32 (const uint8_t *p)
{
    return (uint64_t) p[0] << 24 | (uint64_t) p[1] << 16 | (uint64_t) p[2] << 8 | p[3];
}

static uint64_t
s_rvar (s_rd_t *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        uint8_t c = (uint8_t) s_rn (r, 1);
        if (r->bad)
            return 0;
        v |= (uint64_t) (c & 0x7f) << shift;
        if (!(c & 0x80))
            return v;
    }
    r->bad = true;
    return 0;
}

//  A string into `out` (size `size`); too long or short input marks the reader bad.
static void
s_rstr (s_rd_t *r, char *out, size_t size)
{
    size_t n = (size_t) s_rn (r, 2);
    if (r->bad || r->left < n || n >= size) {
        r->bad = true;
        out[0] = '\0';
        return;
    }
    memcpy (out, r->p, n);
    out[n] = '\0';
    r->p += n;
    r->left -= n;
}

static size_t
s_sight_store_key (const s_sight_t *s, char *out, size_t size)
{
    int n = snprintf (out, size, "%s|%016llx", s->key, (unsigned long long) s->episode);
    return n > 0 && (size_t) n < size ? (size_t) n : 0;
}

//  An entry's key: its record's key, NUL, the org id. 0 if it does not fit.
static size_t
s_entry_key (const char *prefix, size_t plen, const char *org, char *out, size_t size)
{
    size_t olen = strlen (org);
    if (plen + 1 + olen > size)
        return 0;
    memcpy (out, prefix, plen);
    out[plen] = '\0';
    memcpy (out + plen + 1, org, olen);
    return plen + 1 + olen;
}

static int
s_sight_encode (const s_sight_t *s, mm_buf_t *b)
{
    uint8_t flags = (uint8_t) ((s->mixed ? 1 : 0) | (s->other_value ? 2 : 0));
    int rc = s_w8 (b, S_REC_VERSION) | s_w8 (b, s->type) | s_w8 (b, flags) | s_wstr (b, s->value) |
             s_wstr (b, s->group) | s_w64 (b, s->first) | s_w64 (b, s->last) | s_w64 (b, s->count) |
             s_w64 (b, s->episode) | s_w32 (b, s->n_seen);
    return rc ? -1 : 0;
}

static int
s_seen_encode (const ag_correlate_t *self, const s_seen_t *e, mm_buf_t *b)
{
    int rc = s_w8 (b, S_REC_VERSION) | s_wstr (b, self->sensor_by_slot[e->sensor]->id) |
             s_w8 (b, (uint8_t) e->sensors) | s_w64 (b, e->first) | s_w64 (b, e->last) |
             s_w64 (b, e->count);
    return rc ? -1 : 0;
}

static uint32_t
s_told (const s_warn_t *w)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < w->n_recipients; i++)
        n += w->recipients[i].sent > 0;
    return n;
}

static int
s_warn_encode (const s_warn_t *w, mm_buf_t *b)
{
    char skey[AG_INDICATOR_MAX + 32];
    if (s_sight_store_key (w->sight, skey, sizeof skey) == 0)
        return -1;
    int rc = s_w8 (b, S_REC_VERSION) | s_wstr (b, w->id) | s_wstr (b, w->dedup) |
             s_wstr (b, w->key) | s_wstr (b, skey) | s_w32 (b, w->revision) | s_w8 (b, w->status) |
             s_w8 (b, w->severity) | s_w8 (b, w->confidence) | s_w8 (b, w->category) |
             s_w8 (b, w->rules) | s_w8 (b, w->tlp) | s_w64 (b, w->issued) | s_w64 (b, w->updated) |
             s_w64 (b, w->valid_until) | s_w64 (b, w->counts_changed) |
             s_w8 (b, (uint8_t) w->n_techniques);
    for (uint32_t i = 0; i < w->n_techniques; i++)
        rc |= s_wstr (b, w->techniques[i]);
    rc |= s_w32 (b, w->n_recipients) | s_w32 (b, s_told (w)) | s_w64 (b, w->rcpt_expires);
    //  What it names now, for readers of the store (ag_correlate_warning_view).
    mm_indicator_t ind;
    s_indicator_of (w, &ind);
    char value[AG_INDICATOR_MAX];
    snprintf (value, sizeof value, "%.*s", (int) ind.value.len, ind.value.ptr);
    rc |=
        s_w8 (b, ind.type) | s_wstr (b, value) | s_w8 (b, ind.match) | s_w8 (b, w->base_confidence);
    //  Each recipient's state, in the order of their entries: what it was sent (0 never, else
    //  how many revisions behind + 1) and whether it is held for a digest.
    for (uint32_t i = 0; i < w->n_recipients && rc == 0; i++) {
        const s_recipient_t *r = &w->recipients[i];
        uint64_t behind = r->sent ? (uint64_t) (w->revision - r->sent) + 1 : 0;
        rc = s_wvar (b, behind << 1 | (r->in_digest ? 1 : 0));
    }
    return rc ? -1 : 0;
}

//  Recipients `from`.. of `w` in one entry: who they are and how (their states are in the
//  warning's record).
static int
s_recipients_encode (const ag_correlate_t *self, const s_warn_t *w, uint32_t from, mm_buf_t *b)
{
    int rc = s_w8 (b, S_REC_VERSION) | s_w32 (b, w->n_recipients - from);
    for (uint32_t i = from; i < w->n_recipients && rc == 0; i++) {
        const s_recipient_t *r = &w->recipients[i];
        rc = s_wstr (b, self->org_by_slot[r->org]->id) | s_w8 (b, r->relation) |
             s_w8 (b, r->withheld);
    }
    return rc ? -1 : 0;
}

//  A recipients entry's key: warning id, NUL, u32 the place of its first in the list
//  (big-endian: key order is list order).
static size_t
s_recipient_key (const char *id, size_t idlen, uint32_t i, char *out, size_t size)
{
    if (idlen + 5 > size)
        return 0;
    memcpy (out, id, idlen);
    out[idlen] = '\0';
    for (int k = 0; k < 4; k++)
        out[idlen + 1 + (size_t) k] = (char) (uint8_t) (i >> (24 - 8 * k));
    return idlen + 5;
}

//  A sighting record and the entries of the orgs whose part changed since it was written.
static size_t
s_flush_sight (ag_correlate_t *self, s_sight_t *s, mm_buf_t *b, ag_correlate_record_fn *fn,
               void *arg)
{
    uint64_t keep = (uint64_t) self->cfg.keep_days * 86400u * S_NS;
    char key[AG_INDICATOR_MAX + 32], ekey[AG_INDICATOR_MAX + 32 + MM_ID_MAX + 1];
    size_t klen = s_sight_store_key (s, key, sizeof key);
    mm_buf_clear (b);
    if (klen == 0 || s_sight_encode (s, b) == -1) {
        mm_log_error ("ag_correlate: the sighting record of %s does not encode", s->key);
        return 0;
    }
    fn (arg, AG_KV_SIGHT, key, klen, b->data, b->len, s->last + keep);
    size_t n = 1;
    for (uint32_t i = 0; i < s->n_seen; i++) {
        s_seen_t *e = &s->seen[i];
        if (e->stored == e->count)
            continue;
        size_t elen = s_entry_key (key, klen, self->org_by_slot[e->org]->id, ekey, sizeof ekey);
        mm_buf_clear (b);
        if (elen == 0 || s_seen_encode (self, e, b) == -1) {
            mm_log_error ("ag_correlate: an org's sightings of %s do not encode", s->key);
            continue;
        }
        fn (arg, AG_KV_SIGHT, ekey, elen, b->data, b->len, e->last + keep);
        e->stored = e->count;
        n++;
    }
    return n;
}

//  A warning record (with every recipient's state) and one entry with the recipients added
//  since it was written. The entries outlive the record by S_RCPT_SLACK so that a warning
//  extended again and again rewrites them (as one entry) about once in that time, not with
//  every revision.
#define S_RCPT_SLACK (7ull * 86400u * S_NS)
static size_t
s_flush_warning (ag_correlate_t *self, s_warn_t *w, mm_buf_t *b, ag_correlate_record_fn *fn,
                 void *arg)
{
    uint64_t keep = (uint64_t) self->cfg.keep_days * 86400u * S_NS;
    uint64_t end = (w->status == MM_WSTATUS_REVOKED ? w->updated : w->valid_until) + keep;
    bool all = end > w->rcpt_expires;
    uint64_t before = w->rcpt_expires;
    if (all)
        w->rcpt_expires = end + S_RCPT_SLACK;  //  in the record: the entry below carries it
    mm_buf_clear (b);
    if (s_warn_encode (w, b) == -1) {
        mm_log_error ("ag_correlate: the record of warning %s does not encode", w->id);
        w->rcpt_expires = before;
        return 0;
    }
    size_t idlen = strlen (w->id);
    fn (arg, AG_KV_WARN, w->id, idlen, b->data, b->len, end);
    size_t n = 1;
    uint32_t from = all ? 0 : w->n_stored;
    if (from >= w->n_recipients)
        return n;
    char ekey[sizeof w->id + 5];
    size_t elen = s_recipient_key (w->id, idlen, from, ekey, sizeof ekey);
    mm_buf_clear (b);
    if (elen == 0 || s_recipients_encode (self, w, from, b) == -1) {
        //  The record went with the new expiry: the next flush writes them all again.
        mm_log_error ("ag_correlate: the recipients of warning %s do not encode", w->id);
        w->rcpt_expires = 0;
        s_warn_dirty (self, w);
        return n;
    }
    fn (arg, AG_KV_WARN, ekey, elen, b->data, b->len, w->rcpt_expires);
    w->n_stored = w->n_recipients;
    return n + 1;
}

void
ag_correlate_rewrite_all (ag_correlate_t *self)
{
    for (s_sight_t *s = (s_sight_t *) zhashx_first (self->sights); s;
         s = (s_sight_t *) zhashx_next (self->sights)) {
        for (uint32_t i = 0; i < s->n_seen; i++)
            s->seen[i].stored = 0;
        s_sight_dirty (self, s);
    }
    for (s_warn_t *w = (s_warn_t *) zhashx_first (self->warnings); w;
         w = (s_warn_t *) zhashx_next (self->warnings)) {
        w->n_stored = 0;
        w->rcpt_expires = 0;
        s_warn_dirty (self, w);
    }
}

size_t
ag_correlate_flush (ag_correlate_t *self, bool sights, ag_correlate_record_fn *fn, void *arg)
{
    size_t n = 0;
    mm_buf_t b = {0};
    for (s_sight_t *s = sights ? (s_sight_t *) zlistx_first (self->dirty_sights) : NULL; s;
         s = (s_sight_t *) zlistx_next (self->dirty_sights)) {
        s->dirty = false;
        n += s_flush_sight (self, s, &b, fn, arg);
    }
    if (sights)
        zlistx_purge (self->dirty_sights);
    for (s_warn_t *w = (s_warn_t *) zlistx_first (self->dirty_warnings); w;
         w = (s_warn_t *) zlistx_next (self->dirty_warnings)) {
        w->dirty = false;
        n += s_flush_warning (self, w, &b, fn, arg);
    }
    zlistx_purge (self->dirty_warnings);
    mm_buf_free (&b);
    return n;
}

//  Record keys: an entry's holds a NUL (record key, NUL, org id).
static const char *
s_entry_org (const uint8_t *key, size_t klen, size_t *prefix)
{
    const uint8_t *nul = (const uint8_t *) memchr (key, '\0', klen);
    if (!nul)
        return NULL;
    *prefix = (size_t) (nul - key);
    return (const char *) nul + 1;
}

bool
ag_correlate_record_is_entry (const uint8_t *key, size_t klen)
{
    return memchr (key, '\0', klen) != NULL;
}

//  One org's part (an entry record, the reader past its version byte) into `s`. False if it
//  does not parse.
static bool
s_seen_decode (ag_correlate_t *self, s_sight_t *s, const char *org, s_rd_t *r)
{
    char sensor[MM_ID_MAX + 1];
    s_rstr (r, sensor, sizeof sensor);
    s_org_t *o = r->bad ? NULL : s_org (self, org);
    s_sensor_t *sn = r->bad ? NULL : s_sensor (self, sensor);
    s_seen_t *e = o && sn ? s_seen (s, o->slot) : NULL;
    if (!e)
        return false;
    e->sensor = sn->slot;
    e->sensors = (uint32_t) s_rn (r, 1);
    e->first = s_rn (r, 8);
    e->last = s_rn (r, 8);
    e->count = e->stored = s_rn (r, 8);
    return !r->bad;
}

//  A sight record back into memory (not dirty); `*fresh` says whether this made it (an
//  already loaded one, a warning's or an earlier episode's, is returned as it is). NULL if it
//  does not parse.
static s_sight_t *
s_sight_decode (ag_correlate_t *self, const char *skey, const uint8_t *val, size_t vlen,
                bool *fresh)
{
    *fresh = false;
    s_rd_t r = {val, vlen, false};
    uint64_t version = s_rn (&r, 1);
    if (version != S_REC_VERSION)
        return NULL;
    uint8_t type = (uint8_t) s_rn (&r, 1);
    uint8_t flags = (uint8_t) s_rn (&r, 1);
    bool mixed = flags & 1;
    char value[AG_INDICATOR_MAX], group[AG_INDICATOR_MAX];
    s_rstr (&r, value, sizeof value);
    s_rstr (&r, group, sizeof group);
    const char *bar = strrchr (skey, '|');
    if (r.bad || !bar)
        return NULL;
    char key[AG_INDICATOR_MAX + 4];
    snprintf (key, sizeof key, "%.*s", (int) (bar - skey), skey);
    s_sight_t *s = (s_sight_t *) zhashx_lookup (self->sights, key);
    if (s)
        return s;
    if (!(s = s_sight_add (self, type, value, group, key)))
        return NULL;
    s->other_value = (flags & 2) != 0;
    if (mixed)
        s_mixed (self, s);
    s->first = s_rn (&r, 8);
    s->last = s_rn (&r, 8);
    s->count = s_rn (&r, 8);
    s->episode = s_rn (&r, 8);
    s_rn (&r, 4);  //  orgs: their entry records follow
    if (r.bad) {
        zhashx_delete (self->sights, key);
        return NULL;
    }
    if (s->last > self->newest)
        self->newest = s->last;
    *fresh = true;
    return s;
}

typedef struct {
    ag_correlate_t *self;
    ag_store_t *store;
    uint64_t now;
    int64_t warnings;
    bool bad;
    //  The record whose entries follow it in key order (NULL: skip them).
    s_sight_t *sight;
    s_warn_t *warn;
    char key[AG_INDICATOR_MAX + 32];
    uint64_t *states;  //  the recipients' states of `warn`'s record
    uint32_t n_states, max_states;
} s_restore_t;

//  A sighting record (header or entry). `ctx->sight` is the one loading.
static int
s_restore_sight (void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                 uint64_t expires)
{
    (void) expires;
    s_restore_t *ctx = (s_restore_t *) arg;
    ag_correlate_t *self = ctx->self;
    size_t plen;
    const char *org = s_entry_org (key, klen, &plen);
    if (org) {
        char id[MM_ID_MAX + 1];
        size_t olen = klen - plen - 1;
        if (!ctx->sight || plen != strlen (ctx->key) || memcmp (key, ctx->key, plen) != 0 ||
            olen > MM_ID_MAX)
            return 0;  //  not the one loading (left out, or its record expired first)
        memcpy (id, org, olen);
        id[olen] = '\0';
        s_rd_t r = {val, vlen, false};
        if (s_rn (&r, 1) != S_REC_VERSION || !s_seen_decode (self, ctx->sight, id, &r))
            ctx->bad = true;
        return 0;
    }
    ctx->sight = NULL;
    //  Only what the window can still use: the last sighting no older than the window (a
    //  warning's are loaded with it, whatever their age).
    s_rd_t r = {val, vlen, false};
    uint64_t window = (uint64_t) self->cfg.window_s * S_NS;
    uint64_t version = s_rn (&r, 1);
    if (version != S_REC_VERSION)
        return 0;
    s_rn (&r, 2);
    size_t n = (size_t) s_rn (&r, 2);  //  skip value and group to reach last
    if (r.left < n)
        return 0;
    r.p += n, r.left -= n;
    n = (size_t) s_rn (&r, 2);
    if (r.left < n)
        return 0;
    r.p += n, r.left -= n;
    s_rn (&r, 8);
    uint64_t last = s_rn (&r, 8);
    if (r.bad || (!ctx->warn && last + window < ctx->now) || klen >= sizeof ctx->key)
        return 0;
    memcpy (ctx->key, key, klen);
    ctx->key[klen] = '\0';
    bool fresh;
    s_sight_t *s = s_sight_decode (self, ctx->key, val, vlen, &fresh);
    if (!s)
        ctx->bad = true;
    ctx->sight = fresh ? s : NULL;
    if (ctx->warn)
        ctx->warn->sight = s;
    return 0;
}

//  A warning's sightings, with every org's part (the record and its entries).
static s_sight_t *
s_sight_load (s_restore_t *ctx, const char *skey)
{
    size_t n = strlen (skey);
    char to[AG_INDICATOR_MAX + 33];
    if (n + 1 >= sizeof to)
        return NULL;
    memcpy (to, skey, n);
    to[n] = '\1';  //  after the record and its entries (record key, NUL, org)
    if (ag_store_scan (ctx->store, AG_KV_SIGHT, skey, n, to, n + 1, s_restore_sight, ctx) < 0)
        return NULL;
    ctx->sight = NULL;
    return ctx->warn->sight;
}

//  A recipient of `ctx->warn` back; false if it cannot be (then its later ones are skipped).
static bool
s_restore_add (s_restore_t *ctx, const char *org, uint8_t relation, bool withheld, uint32_t sent,
               bool in_digest)
{
    s_org_t *o = s_org (ctx->self, org);
    s_recipient_t rec = {0};
    rec.org = o ? o->slot : 0;
    rec.relation = relation;
    rec.withheld = withheld;
    rec.sent = sent;
    rec.in_digest = in_digest;
    if (!o || s_recipient_add (ctx->warn, &rec) == -1) {
        ctx->bad = true;
        ctx->warn = NULL;
        return false;
    }
    ctx->warn->n_stored = ctx->warn->n_recipients;
    return true;
}

//  A recipients entry of `ctx->warn` whose first is recipient `from`: who (the entry) and their
//  states (the record's). Entries come in list order; one rewritten whole (from 0) may be
//  followed by older ones it covers, skipped here. A gap would shift every state after it.
static void
s_restore_recipients (s_restore_t *ctx, uint32_t from, const uint8_t *val, size_t vlen)
{
    s_warn_t *w = ctx->warn;
    s_rd_t r = {val, vlen, false};
    bool ok = s_rn (&r, 1) == S_REC_VERSION;
    uint32_t n = (uint32_t) s_rn (&r, 4);
    if (!ok || r.bad || from > w->n_recipients) {
        ctx->bad = true;
        ctx->warn = NULL;
        return;
    }
    for (uint32_t i = 0; i < n && ctx->warn; i++) {
        char org[MM_ID_MAX + 1];
        s_rstr (&r, org, sizeof org);
        uint8_t relation = (uint8_t) s_rn (&r, 1);
        bool withheld = s_rn (&r, 1) != 0;
        uint32_t at = from + i;
        if (at < w->n_recipients)
            continue;  //  had it
        uint64_t state = at < ctx->n_states ? ctx->states[at] : 0;
        uint64_t behind = state >> 1;
        if (r.bad || at >= ctx->n_states || behind > (uint64_t) w->revision) {
            ctx->bad = true;
            ctx->warn = NULL;
            return;
        }
        uint32_t sent = behind ? w->revision - (uint32_t) (behind - 1) : 0;
        s_restore_add (ctx, org, relation, withheld, sent, state & 1);
    }
}

//  A warning record (header or recipient entry). `ctx->warn` is the one loading.
static int
s_restore_warning (void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                   uint64_t expires)
{
    (void) expires;
    s_restore_t *ctx = (s_restore_t *) arg;
    ag_correlate_t *self = ctx->self;
    size_t plen;
    const uint8_t *idx = (const uint8_t *) s_entry_org (key, klen, &plen);
    if (idx) {
        if (ctx->warn && klen == plen + 5 && plen == strlen (ctx->warn->id) &&
            memcmp (key, ctx->warn->id, plen) == 0)
            s_restore_recipients (ctx, (uint32_t) s_get_be32 (idx), val, vlen);
        return 0;
    }
    ctx->warn = NULL;
    ctx->n_states = 0;
    s_rd_t r = {val, vlen, false};
    uint64_t version = s_rn (&r, 1);
    if (version != S_REC_VERSION) {
        ctx->bad = true;
        return 0;
    }
    s_warn_t *w = (s_warn_t *) calloc (1, sizeof *w);
    char wkey[AG_INDICATOR_MAX + 16], skey[AG_INDICATOR_MAX + 32];
    if (!w)
        return -1;
    s_rstr (&r, w->id, sizeof w->id);
    s_rstr (&r, w->dedup, sizeof w->dedup);
    s_rstr (&r, wkey, sizeof wkey);
    s_rstr (&r, skey, sizeof skey);
    w->revision = (uint32_t) s_rn (&r, 4);
    w->status = (uint8_t) s_rn (&r, 1);
    w->severity = (uint8_t) s_rn (&r, 1);
    w->confidence = (uint8_t) s_rn (&r, 1);
    w->category = (uint8_t) s_rn (&r, 1);
    w->rules = (uint8_t) s_rn (&r, 1);
    w->tlp = (uint8_t) s_rn (&r, 1);
    w->issued = s_rn (&r, 8);
    w->updated = s_rn (&r, 8);
    w->valid_until = s_rn (&r, 8);
    w->counts_changed = s_rn (&r, 8);
    w->n_techniques = (uint32_t) s_rn (&r, 1);
    if (w->n_techniques > MM_ATTACK_MAX)
        r.bad = true;
    for (uint32_t i = 0; i < w->n_techniques && !r.bad; i++)
        s_rstr (&r, w->techniques[i], sizeof w->techniques[i]);
    uint32_t n = (uint32_t) s_rn (&r, 4);  //  recipients: their entry records follow
    s_rn (&r, 4);                          //  told
    w->rcpt_expires = s_rn (&r, 8);
    //  What it named (for readers of the store; recomputed here), then its base confidence.
    char named[AG_INDICATOR_MAX];
    s_rn (&r, 1);
    s_rstr (&r, named, sizeof named);
    s_rn (&r, 1);
    w->base_confidence = (uint8_t) s_rn (&r, 1);
    //  The recipients' states, for their entries that follow.
    if (!r.bad) {
        if (n > ctx->max_states) {
            uint64_t *p = n > r.left ? NULL : (uint64_t *) realloc (ctx->states, n * sizeof *p);
            if (p)
                ctx->states = p, ctx->max_states = n;
            else
                r.bad = true;
        }
        for (uint32_t i = 0; i < n && !r.bad; i++)
            ctx->states[i] = s_rvar (&r);
        ctx->n_states = r.bad ? 0 : n;
    }
    //  A lapsed warning stays lapsed; a revoked one stays (quietly) while its record lives.
    bool lapsed = w->status != MM_WSTATUS_REVOKED && w->valid_until <= ctx->now;
    w->key = strdup (wkey);
    s_sight_t *s = NULL;
    if (!r.bad && !lapsed && w->key) {
        ctx->warn = w;
        s = s_sight_load (ctx, skey);
        ctx->warn = NULL;
    }
    if (r.bad || lapsed || !s || !w->key) {
        ctx->bad |= r.bad;
        s_warn_free ((void **) &w);
        return 0;
    }
    w->sight = s;
    s->refs++;
    zhashx_insert (self->warnings, w->key, w);
    zhashx_insert (self->by_id, w->id, w);
    w->dirty = false;
    ctx->warnings++;
    ctx->warn = w;  //  its recipient entries follow
    return 0;
}

int64_t
ag_correlate_restore (ag_correlate_t *self, ag_store_t *store, uint64_t now)
{
    s_restore_t ctx = {self, store, now, 0, false, NULL, NULL, {0}, NULL, 0, 0};
    int64_t rc = ag_store_scan (store, AG_KV_WARN, NULL, 0, NULL, 0, s_restore_warning, &ctx);
    free (ctx.states);
    ctx.warn = NULL;
    ctx.sight = NULL;
    if (rc >= 0)
        rc = ag_store_scan (store, AG_KV_SIGHT, NULL, 0, NULL, 0, s_restore_sight, &ctx);
    if (rc < 0) {
        mm_log_error ("ag_correlate: cannot read the correlation records: %s",
                      ag_store_error (store));
        return -1;
    }
    //  Held notices wait for a digest again.
    for (s_warn_t *w = (s_warn_t *) zhashx_first (self->warnings); w;
         w = (s_warn_t *) zhashx_next (self->warnings))
        for (uint32_t i = 0; i < w->n_recipients; i++)
            if (w->recipients[i].in_digest) {
                w->recipients[i].in_digest = false;
                s_hold (self, w, &w->recipients[i], now);
                self->stats.digested--;
            }
    //  Loading made nothing to write back.
    for (s_sight_t *s = (s_sight_t *) zlistx_first (self->dirty_sights); s;
         s = (s_sight_t *) zlistx_next (self->dirty_sights))
        s->dirty = false;
    zlistx_purge (self->dirty_sights);
    for (s_warn_t *w = (s_warn_t *) zlistx_first (self->dirty_warnings); w;
         w = (s_warn_t *) zlistx_next (self->dirty_warnings))
        w->dirty = false;
    zlistx_purge (self->dirty_warnings);
    if (ctx.bad)
        mm_log_warning ("ag_correlate: some correlation records did not parse and were left out");
    return ctx.warnings;
}

//  ---------------------------------------------------------------------------------------------
//  Views of the records, for tools reading the store

int
ag_correlate_warning_view (const uint8_t *val, size_t vlen, ag_warning_view_t *v)
{
    memset (v, 0, sizeof *v);
    s_rd_t r = {val, vlen, false};
    uint64_t version = s_rn (&r, 1);
    if (version != S_REC_VERSION)
        return -1;
    char wkey[AG_INDICATOR_MAX + 16];
    s_rstr (&r, v->id, sizeof v->id);
    s_rstr (&r, v->dedup_key, sizeof v->dedup_key);
    s_rstr (&r, wkey, sizeof wkey);
    s_rstr (&r, v->sight_key, sizeof v->sight_key);
    v->revision = (uint32_t) s_rn (&r, 4);
    v->status = (uint8_t) s_rn (&r, 1);
    v->severity = (uint8_t) s_rn (&r, 1);
    v->confidence = (uint8_t) s_rn (&r, 1);
    v->category = (uint8_t) s_rn (&r, 1);
    v->rules = (uint8_t) s_rn (&r, 1);
    v->tlp = (uint8_t) s_rn (&r, 1);
    v->issued = s_rn (&r, 8);
    v->updated = s_rn (&r, 8);
    v->valid_until = s_rn (&r, 8);
    s_rn (&r, 8);
    v->n_techniques = (uint32_t) s_rn (&r, 1);
    if (v->n_techniques > MM_ATTACK_MAX)
        return -1;
    for (uint32_t i = 0; i < v->n_techniques; i++)
        s_rstr (&r, v->techniques[i], sizeof v->techniques[i]);
    v->n_recipients = (uint32_t) s_rn (&r, 4);
    v->n_told = (uint32_t) s_rn (&r, 4);
    s_rn (&r, 8);
    v->type = (uint8_t) s_rn (&r, 1);
    s_rstr (&r, v->value, sizeof v->value);
    v->match = (uint8_t) s_rn (&r, 1);
    return r.bad || v->n_told > v->n_recipients ? -1 : 0;
}

int
ag_correlate_sight_view (const uint8_t *val, size_t vlen, ag_sight_view_t *v)
{
    memset (v, 0, sizeof *v);
    s_rd_t r = {val, vlen, false};
    uint64_t version = s_rn (&r, 1);
    if (version != S_REC_VERSION)
        return -1;
    v->type = (uint8_t) s_rn (&r, 1);
    v->mixed = (s_rn (&r, 1) & 1) != 0;
    s_rstr (&r, v->value, sizeof v->value);
    s_rstr (&r, v->group, sizeof v->group);
    v->first = s_rn (&r, 8);
    v->last = s_rn (&r, 8);
    v->count = s_rn (&r, 8);
    v->episode = s_rn (&r, 8);
    v->n_seen = (uint32_t) s_rn (&r, 4);
    return r.bad ? -1 : 0;
}

int
ag_correlate_seen_view (const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                        ag_seen_view_t *e)
{
    memset (e, 0, sizeof *e);
    size_t plen;
    const char *org = s_entry_org (key, klen, &plen);
    size_t olen = org ? klen - plen - 1 : 0;
    if (!org || olen == 0 || olen > MM_ID_MAX || memchr (org, '\0', olen))
        return -1;
    memcpy (e->org, org, olen);
    s_rd_t r = {val, vlen, false};
    if (s_rn (&r, 1) != S_REC_VERSION)
        return -1;
    s_rstr (&r, e->sensor, sizeof e->sensor);
    e->sensors = (uint32_t) s_rn (&r, 1);
    e->first = s_rn (&r, 8);
    e->last = s_rn (&r, 8);
    e->count = s_rn (&r, 8);
    return r.bad ? -1 : 0;
}

typedef struct {
    ag_sight_view_t *v;
    ag_seen_view_t *seen;
    size_t n, max;
    bool header, bad;
} s_read_t;

static int
s_read_one (void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
            uint64_t expires)
{
    (void) expires;
    s_read_t *ctx = (s_read_t *) arg;
    if (!ag_correlate_record_is_entry (key, klen)) {
        ctx->header = true;
        if (ag_correlate_sight_view (val, vlen, ctx->v) == -1)
            return ctx->bad = true, 1;
        return 0;
    }
    if (!ctx->header)
        return 0;  //  an entry whose record expired first
    if (ctx->n == ctx->max) {
        size_t m = ctx->max ? ctx->max * 2 : 16;
        ag_seen_view_t *p = (ag_seen_view_t *) realloc (ctx->seen, m * sizeof *p);
        if (!p)
            return ctx->bad = true, 1;
        ctx->seen = p;
        ctx->max = m;
    }
    if (ag_correlate_seen_view (key, klen, val, vlen, &ctx->seen[ctx->n]) == 0)
        ctx->n++;
    return 0;
}

int
ag_correlate_sight_read (ag_store_t *store, const char *skey, ag_sight_view_t *v,
                         ag_seen_view_t **seen)
{
    *seen = NULL;
    size_t n = strlen (skey);
    char to[AG_INDICATOR_MAX + 33];
    if (n == 0 || n + 1 >= sizeof to)
        return -2;
    memcpy (to, skey, n);
    to[n] = '\1';
    s_read_t ctx = {v, NULL, 0, 0, false, false};
    if (ag_store_scan (store, AG_KV_SIGHT, skey, n, to, n + 1, s_read_one, &ctx) < 0 && !ctx.bad) {
        free (ctx.seen);
        return -1;
    }
    if (ctx.bad || !ctx.header) {
        free (ctx.seen);
        return ctx.bad ? -2 : 0;
    }
    //  The header counts the orgs as written; an entry may have expired before it.
    v->n_seen = (uint32_t) ctx.n;
    *seen = ctx.seen ? ctx.seen : (ag_seen_view_t *) calloc (1, sizeof **seen);
    return *seen ? 1 : -1;
}

int
ag_correlate_group_key (const ag_psl_t *psl, uint8_t type, const char *norm, char *key, size_t size)
{
    char group[AG_INDICATOR_MAX];
    return s_group (psl, type, norm, group, sizeof group, key, size);
}
