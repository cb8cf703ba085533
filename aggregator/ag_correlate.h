/*  ag_correlate: supply-chain correlation and lateral warnings (横展開, issue 6). Takes the
    findings the aggregator stores, keeps who saw which indicator when (sightings), applies
    rules R1-R4 against the registry and issues WARNINGs to the companies that should hear of
    them, each with a relation that never names the company that was hit. Severe findings also
    give an immediate incident notification for the hit company's provider SOC. Owner:
    aggregator/. One thread owns a correlator; it is not thread-safe.

    The correlator decides; it sends nothing itself. What it decides comes out through the
    callbacks of ag_correlate_sink_t (the aggregator turns them into WARNING and WATCHLIST
    messages down the mesh and into console notices; tests record them). Clocks are passed in:
    `now` is wall time in ns since the epoch; windows are measured on the findings' own times,
    so replayed captures correlate as they happened.

    Pipeline for each finding (docs/correlation.md has the reasons):
      1. the sensor's org from the registry (never from the message); unknown sensor: counted
      2. severe (severity >= config.severe): incident notification, once per finding
      3. the indicator: the finding's own, or for brute force / exploit / C2 / exfiltration
         findings without one, the remote address of the flow; normalised (ag_indicator)
      4. categories that do not travel (scans, exposed services, policy): stop here
      5. allowlist gate (ag_allow: special-purpose ranges, resolvers, CDN and top sites, every
         registered org's own addresses and domains): counted, never warned on
      6. quarantine and quotas: a quarantined sensor's findings count nothing; a new indicator
         takes a token from the sensor's and the org's bucket; a sensor that empties its
         bucket is quarantined (config.quarantine_s)
      7. the sighting is recorded under the indicator's group (/24, /48, registered domain)
      8. rules:
         R1  severe, and high confidence (or 2 sensors) at org A: A's direct partners
         R2  >= chain_orgs orgs of one chain within the window: every member of that chain
         R3  seen at A and at a direct partner B of A within the window: critical, to A, B and
             B's direct partners
         R4  >= region_orgs orgs across >= region_providers providers, not all in one chain,
             in one region (or one industry) within the window: every org of that region
             (industry)
      9. one warning per (indicator group, category): later rules and sightings revise it
         (revision + 1; severity only rises; recipients only added); a recipient's notices
         are rate-limited and the overflow goes into its next digest. */
#ifndef AG_CORRELATE_H
#define AG_CORRELATE_H

#include <stdbool.h>
#include <stdint.h>

#include "ag_allow.h"
#include "ag_indicator.h"
#include "ag_psl.h"
#include "ag_registry.h"
#include "ag_store.h"
#include "mm_event.h"
#include "mm_warning.h"

typedef struct ag_correlate_t ag_correlate_t;

typedef struct {
    uint32_t window_s;          //  R2-R4 window (72 h)
    uint8_t severe;             //  mm_sev_t at and above which a finding is severe (HIGH)
    uint8_t r1_confidence;      //  R1 on one sighting needs this confidence (80)
    uint32_t chain_orgs;        //  R2: distinct orgs of one chain (2)
    uint32_t region_orgs;       //  R4: distinct orgs (3)
    uint32_t region_providers;  //  R4: distinct providers among them (2)
    uint32_t k_anon;            //  direct-* relations need this many partners in the role (2)
    uint32_t sensor_burst;      //  new indicators a sensor may bring at once (200)
    uint32_t sensor_refill_s;   //  ... and one more every this many seconds (10)
    uint32_t org_burst;         //  the same for an org (400)
    uint32_t org_refill_s;      //  (5)
    uint32_t quarantine_s;      //  a sensor that empties its bucket counts nothing (3600)
    uint32_t notice_burst;      //  immediate notices a recipient may get at once (10)
    uint32_t notice_refill_s;   //  ... and one more every this many seconds (360: 10 an hour)
    uint32_t critical_burst;    //  critical ones have their own, larger bucket (20)
    uint32_t digest_s;          //  overflow is sent as a digest this often (600)
    uint32_t update_s;          //  a revision that only moves counts waits this long (600)
    uint32_t ttl_s[9];          //  validity per mm_ioc_type_t, renewed by each sighting
    uint32_t keep_days;         //  sighting and warning records are kept this long (400)
} ag_correlate_config_t;

//  The defaults above.
void ag_correlate_config_default (ag_correlate_config_t *cfg);

//  What a company should do about a finding of `category`, in plain Japanese for staff
//  without security training (the text of INCIDENTs and WARNINGs; the weekly report's too).
const char *ag_correlate_advice_ja (uint8_t category);

//  An immediate notification for the hit org's provider SOC. Strings valid during the call.
typedef struct {
    uint64_t ts;           //  the finding's time
    uint64_t notified;     //  wall time of this notification
    const char *org;       //  the hit organisation (its own SOC may know it)
    const char *provider;  //  its provider: the SOC to notify
    uint8_t region;        //  ag_region_t of the org
    const char *sensor;
    uint64_t finding_id;  //  (sensor, finding id) names the finding
    uint8_t severity, confidence, category;
    const char *detector;
    const char *message;
    uint8_t ioc_type;  //  0: none
    const char *ioc_value;
    uint8_t action;         //  mm_action_t: what to do
    const char *action_ja;  //  ... in plain Japanese
    const char *action_en;
    bool quarantine;  //  not a finding: this sensor was quarantined for flooding indicators
} ag_incident_t;

//  What the correlator decides. Any callback may be NULL. `w->org` is the recipient; strings
//  are valid during the call.
typedef struct {
    void *arg;
    //  A warning (new, updated or revoked) for one recipient org. `earlier`, when not NULL, is
    //  a value the warning named in an earlier revision (before it named the whole group), for
    //  a revocation to take back as well. `matcher` is not 0 when the org's sensors' matchers
    //  need the entry (again): its expiry; 0 when what they hold is still right.
    void (*warning) (void *arg, const mm_warning_t *w, const mm_indicator_t *earlier,
                     uint64_t matcher);
    //  Warnings a recipient's rate limit held back, due now as one digest (n >= 1).
    void (*digest) (void *arg, const char *org, const mm_warning_t *const *ws, size_t n);
    void (*incident) (void *arg, const ag_incident_t *inc);
} ag_correlate_sink_t;

typedef struct {
    uint64_t findings;        //  findings seen
    uint64_t unregistered;    //  from a sensor the registry does not know
    uint64_t incidents;       //  incident notifications
    uint64_t no_indicator;    //  nothing to correlate on
    uint64_t bad_indicator;   //  an indicator that does not normalise, or a public suffix
    uint64_t clock_ahead;     //  findings dated more than 5 min ahead of our clock: taken as now
    uint64_t local_category;  //  categories that do not travel
    uint64_t allowlisted;     //  stopped by the gate
    uint64_t quarantined;     //  from a quarantined sensor
    uint64_t quota_refused;   //  new indicators over the org's quota
    uint64_t quarantines;     //  sensors quarantined
    uint64_t sightings;       //  sightings recorded
    uint64_t indicators;      //  indicator groups known now
    uint64_t warnings;        //  warnings known now
    uint64_t notices;         //  warning messages to recipients (revisions and revocations)
    uint64_t digested;        //  notices held back into a digest
    uint64_t digest_full;     //  notices neither sent nor held: the recipient's digest was full
    uint64_t digests;         //  digests sent
    uint64_t revoked;         //  warnings revoked
    uint64_t expired;         //  warnings that reached their valid-until
    uint64_t rule[5];         //  rule[1..4]: times R1..R4 added recipients or escalated
} ag_correlate_stats_t;

//  `registry`, `allow` and `psl` are borrowed (psl may be NULL: domains group as themselves).
//  The allowlist gets an "org-own" entry for every registered org's addresses and domains.
ag_correlate_t *ag_correlate_new (const ag_correlate_config_t *cfg, const ag_registry_t *registry,
                                  ag_allow_t *allow, const ag_psl_t *psl,
                                  const ag_correlate_sink_t *sink);
void ag_correlate_destroy (ag_correlate_t **self_p);

//  A reloaded registry (borrowed) replaces the current one; its own addresses are added to
//  the gate. Sightings and warnings stay (they are kept by org id).
void ag_correlate_set_registry (ag_correlate_t *self, const ag_registry_t *registry);

//  One stored event; anything that is not a finding is ignored. 0, or -1 if it was refused
//  (counted above).
int ag_correlate_event (ag_correlate_t *self, const mm_event_t *ev, uint64_t now);

//  Sends due digests and lets warnings past their valid-until lapse. Call now and then.
void ag_correlate_tick (ag_correlate_t *self, uint64_t now);

//  A false positive: revokes warning `id` and tells every org that received any revision of
//  it. The number of recipients told, or -1 if no such warning is active.
int ag_correlate_revoke (ag_correlate_t *self, const char *id, uint64_t now);

//  Walks the active warnings (as their latest revision, `w->org` empty) in no set order.
typedef int (ag_correlate_each_fn) (void *arg, const mm_warning_t *w, size_t recipients);
size_t ag_correlate_each_warning (ag_correlate_t *self, ag_correlate_each_fn *fn, void *arg);

void ag_correlate_stats (const ag_correlate_t *self, ag_correlate_stats_t *stats);

//  ---------------------------------------------------------------------------------------------
//  Persistence. The state lives in memory; its records go to the store with the down messages
//  it caused (ag_lateral writes both in one synced write), and come back at start.
//    AG_KV_SIGHT  "GROUPKEY|EPISODE" (episode: 16 hex digits of the first sighting's time) ->
//                 the group's sightings: first/last seen, counts, number of orgs
//                 "GROUPKEY|EPISODE" NUL org id -> that org's part: first sensor, sensors,
//                 first/last seen, count
//    AG_KV_WARN   warning id -> its state: revision, status, number of recipients and told
//                 warning id NUL org id -> a recipient: relation, the revision it was sent,
//                 held for a digest
//  An entry record (key with a NUL) follows its record in key order and is written only when
//  that org's part changed: a group seen by hundreds of orgs, or a warning to hundreds, costs
//  one small record per change, not the whole list again. Records expire keep_days after
//  their last sighting (warnings: after they lapse; their recipients up to 7 days later).

//  Calls `fn` for every warning record changed since the last flush, and with `sights` every
//  sighting record too. The number of records. Warnings go with the messages they cause
//  (every round); sightings may wait (ag_lateral writes them once a second with its cursors,
//  so a crash replays the events since, into the sightings as they were last written).
typedef void (ag_correlate_record_fn) (void *arg, uint8_t kv, const void *key, size_t klen,
                                       const uint8_t *val, size_t vlen, uint64_t expires);
size_t ag_correlate_flush (ag_correlate_t *self, bool sights, ag_correlate_record_fn *fn,
                           void *arg);
//  Records are written by the part that changed: after records were lost (a write given up),
//  this makes the next full flush write every sighting and warning whole again.
void ag_correlate_rewrite_all (ag_correlate_t *self);
//  Loads the warnings still valid at `now` and the sightings they use or whose last sighting
//  is within the window of `now`. The number of warnings restored, or -1 (store error or a
//  record that does not parse; logged).
int64_t ag_correlate_restore (ag_correlate_t *self, ag_store_t *store, uint64_t now);

//  Views of the records for tools that read the store (mimamori query / export).
typedef struct {
    char id[33];
    char dedup_key[33];
    char sight_key[AG_INDICATOR_MAX + 32];  //  its sightings' AG_KV_SIGHT key
    uint32_t revision;
    uint8_t status, severity, confidence, category, tlp;
    uint8_t rules;  //  bit n: rule Rn contributed
    uint64_t issued, updated, valid_until;
    uint32_t n_techniques;
    char techniques[MM_ATTACK_MAX][16];
    uint32_t n_recipients;  //  orgs in its audience
    uint32_t n_told;        //  of which told (the others wait for a digest)
    uint8_t type;           //  the indicator it names: type, value, match kind (mm_match_t)
    char value[AG_INDICATOR_MAX];
    uint8_t match;
} ag_warning_view_t;
//  True for an entry record's key (an org's part of a sighting or warning record): the views
//  below take the records themselves; entries are read with ag_correlate_seen_view.
bool ag_correlate_record_is_entry (const uint8_t *key, size_t klen);
//  0, or -1 if the record does not parse.
int ag_correlate_warning_view (const uint8_t *val, size_t vlen, ag_warning_view_t *view);

typedef struct {
    char org[MM_ID_MAX + 1];
    char sensor[MM_ID_MAX + 1];  //  the first of its sensors that saw it
    uint32_t sensors;            //  distinct sensors, counted up to 2
    uint64_t first, last, count;
} ag_seen_view_t;
typedef struct {
    uint8_t type;  //  of the first value seen
    char value[AG_INDICATOR_MAX];
    char group[AG_INDICATOR_MAX];
    bool mixed;  //  more than one value of the group was seen
    uint64_t first, last, count, episode;
    uint32_t n_seen;  //  orgs (as written with the record; their parts are entries)
} ag_sight_view_t;
int ag_correlate_sight_view (const uint8_t *val, size_t vlen, ag_sight_view_t *view);
//  An org's entry of a sighting record (its key names the org). 0, or -1.
int ag_correlate_seen_view (const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                            ag_seen_view_t *seen);
//  The sighting record `skey` with every org's part from `store`: 1 (`*seen` malloc'd, the
//  caller frees; view->n_seen of them), 0 (none), -1 (store error), -2 (does not parse).
int ag_correlate_sight_read (ag_store_t *store, const char *skey, ag_sight_view_t *view,
                             ag_seen_view_t **seen);
//  The group key sightings of a NORMALISED indicator are filed under (the AG_KV_SIGHT keys
//  are this, '|', and 16 hex digits). 0, or -1.
int ag_correlate_group_key (const ag_psl_t *psl, uint8_t type, const char *norm, char *key,
                            size_t size);

#endif
