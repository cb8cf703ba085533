/*  mm_json: JSON Lines rendering of every message, for people and SIEMs.
    Field names follow Suricata EVE where EVE has the field (src_ip, dest_port, dns.rrname,
    tls.sni, http.http_user_agent, ...), then Elastic ECS / Zeek. Each call appends exactly one
    line ending in '\n'. Bytes that are not valid UTF-8 are shown as the text "\xHH". */
#ifndef MM_JSON_H
#define MM_JSON_H

#include "mm_ack.h"
#include "mm_event.h"
#include "mm_health.h"
#include "mm_heartbeat.h"
#include "mm_incident.h"
#include "mm_proto.h"
#include "mm_warning.h"
#include "mm_watchlist.h"

//  Each returns 0, or -1 if memory ran out (then `out` is unchanged).
int mm_event_to_json (const mm_event_t *ev, mm_buf_t *out);
int mm_heartbeat_to_json (const mm_heartbeat_t *hb, mm_buf_t *out);
int mm_ack_to_json (const mm_ack_t *ack, mm_buf_t *out);
int mm_warning_to_json (const mm_warning_t *w, mm_buf_t *out);
int mm_watchlist_to_json (const mm_watchlist_t *wl, mm_buf_t *out);
int mm_incident_to_json (const mm_incident_t *inc, mm_buf_t *out);
int mm_health_to_json (const mm_health_t *h, mm_buf_t *out);

//  Decodes any message and renders it. 0, or -1 with `err` filled (decode errors, or
//  MM_ERR_NOMEM). Works on untrusted input.
int mm_msg_to_json (const uint8_t *data, size_t len, mm_buf_t *out, mm_error_t *err);

#endif
