/*  mm_sample: fully populated example messages, one per type (and one per event kind), shared by
    the round-trip, golden-vector and JSON tests, the fuzz seed corpus, the benchmark, the
    protocol document (mimamori-msg doc) and the demo. Every optional field of every message is
    set somewhere here. */
#ifndef MM_SAMPLE_H
#define MM_SAMPLE_H

#include "mm_json.h"

//  Event kinds covered by mm_sample_event, in order.
#define MM_SAMPLE_EVENT_KINDS 8
extern const uint8_t mm_sample_kinds[MM_SAMPLE_EVENT_KINDS];

//  Fills `ev` with a sample of `kind` (flow, dns, tls, http, ssh, smb or finding).
void mm_sample_event (mm_event_t *ev, uint8_t kind);
//  A C2-beacon finding with an indicator and full evidence, as the benchmark and docs use it.
void mm_sample_finding (mm_event_t *ev);
void mm_sample_heartbeat (mm_heartbeat_t *hb);
void mm_sample_ack (mm_ack_t *ack);
void mm_sample_warning (mm_warning_t *w);
void mm_sample_watchlist (mm_watchlist_t *wl);
//  The notice to its provider's SOC of the sample finding (mm_sample_finding), 250 ms later.
void mm_sample_incident (mm_incident_t *inc);
void mm_sample_health (mm_health_t *h);

#endif
