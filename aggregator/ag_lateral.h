/*  ag_lateral: the aggregator's correlation service (issue 6). Glues the stored events to the
    correlation (ag_correlate) and what it decides to the mesh: each WARNING for a recipient
    org goes down to that org's sensors with a WATCHLIST entry for their matchers, every
    warning copy and every incident notification goes to the consoles of the recipient's
    provider and region (ag_console), and every round's records go to the store in the same
    synced write as the down messages they cause (ag_store_write). Owner: aggregator/. Called
    on the aggregator's thread, from ag_ingest's hooks and the main loop's tick; the
    correlation itself runs on a worker thread of its own, one round behind the ingest (the
    other core), and the calls below other than the hooks wait for it to finish its round.

    Records it writes besides the correlation's own (ag_correlate.h):
      AG_KV_FINDING   u64 ts | u8 len | sensor | u64 seq -> u8 len | broker | u64 log index
                      (the EVENT in ag_store's ev family) | u8 1 | u8 category | u8 severity |
                      u32 seconds from detection to the SOC's notification + 1 (0: none), for
                      the statistics (mimamori-stats); expires with the finding
      AG_KV_TIMELINE  u8 len | org | u64 ts | 'F' | u8 len | sensor | u64 seq -> as above
                      u8 len | org | u64 ts | 'W' | warning id | u32 revision -> the WARNING
                      the org received (as sent)
      AG_KV_META      "cursor/" broker -> u64 the last log index correlated
    After a crash the events past each broker's cursor are correlated again at start
    (ag_lateral_replay): nothing stored is left out, and nothing is told twice, because a
    round's state and its down messages are one write. */
#ifndef AG_LATERAL_H
#define AG_LATERAL_H

#include <stdint.h>
#include <stdio.h>

#include "ag_console.h"
#include "ag_correlate.h"
#include "ag_down.h"
#include "ag_store.h"

typedef struct ag_lateral_t ag_lateral_t;

typedef struct {
    const char *registry;   //  the registry file (required; reloaded within a second)
    const char *allow_dir;  //  directory of *.list allowlists ("" or NULL: built-ins only)
    const char *psl;        //  Public Suffix List ("" or NULL: AG_PSL_DEFAULT_PATH)
    ag_correlate_config_t correlate;
} ag_lateral_config_t;

typedef struct {
    uint64_t events;           //  stored events seen
    uint64_t findings;         //  of which findings
    uint64_t broker_findings;  //  of which a broker's own (silent sensors): not correlated
    uint64_t bad;              //  stored events that did not decode (counted, skipped)
    uint64_t warnings;         //  WARNING messages queued down
    uint64_t watchlists;       //  WATCHLIST messages queued down
    uint64_t incidents;        //  INCIDENT notifications offered to consoles
    uint64_t commits;          //  synced writes
    uint64_t commit_errors;
    uint64_t dropped_rounds;  //  unwritten rounds given up (the store failed for long)
    uint64_t replayed;        //  events correlated again at start
    uint64_t no_broker;       //  rounds whose down messages found no registered broker
    uint64_t worker_cpu_ns;   //  the worker's CPU time correlating rounds
    uint64_t wait_ns;         //  the ingest's thread waiting for the worker
} ag_lateral_stats_t;

//  Loads the registry, the allowlists and the PSL, restores the correlation from `store`.
//  `down` and `console` (may be NULL) are borrowed. NULL (and log lines saying why).
ag_lateral_t *ag_lateral_new (const ag_lateral_config_t *cfg, ag_store_t *store, ag_down_t *down,
                              ag_console_t *console);
void ag_lateral_destroy (ag_lateral_t **self_p);

//  ag_ingest's hooks (ag_ingest_set_hooks (ingest, ag_lateral_on_stored, ag_lateral_on_round,
//  lateral)).
void ag_lateral_on_stored (void *self, mm_str_t broker, uint64_t index, const uint8_t *data,
                           size_t len);
void ag_lateral_on_round (void *self);
//  The worker's pipe: readable when it has correlated a round, which ag_lateral_on_wake (the
//  wake hook, ag_ingest_set_wake) then writes and sends on. Without it a round waits for the
//  next round or tick.
void *ag_lateral_wake_sock (ag_lateral_t *self);
void ag_lateral_on_wake (void *self);
//  Waits for the round in the worker and writes what it produced.
void ag_lateral_sync (ag_lateral_t *self);

//  Correlates the events stored past each broker's cursor (at start). The number, or -1.
int64_t ag_lateral_replay (ag_lateral_t *self);

//  Now and then (the main loop, every 100 ms or so): registry reload, digests, pending
//  revisions, expiry, a daily compaction of the store; commits what that changed.
void ag_lateral_tick (ag_lateral_t *self);

//  Revokes warning `id` (a false positive): every earlier recipient is told. The number of
//  recipients, or -1.
int ag_lateral_revoke (ag_lateral_t *self, const char *id);
//  Revocations dropped as files into `dir`: each *.revoke file holds warning ids, one a line;
//  done ones are deleted, unknown ids logged (NULL or "": nothing).
void ag_lateral_revoke_inbox (ag_lateral_t *self, const char *dir);

ag_correlate_t *ag_lateral_correlate (ag_lateral_t *self);
//  The registry in use now (it changes when the file is re-read; borrowed until then).
const ag_registry_t *ag_lateral_registry (ag_lateral_t *self);
void ag_lateral_stats (ag_lateral_t *self, ag_lateral_stats_t *stats);
//  One summary line (correlation and delivery counters) to `out`.
void ag_lateral_summary (ag_lateral_t *self, FILE *out);

#endif
