/*  sn_detect: the detector engine. Detectors are modules (sn_det_*.c) registered in one table;
    each has its own settings (a section of the sensor's configuration) and its own bounded
    state, and sees what it asks for: packets with their flow, ARP, and the sensor's events
    (flow records, DNS, TLS, HTTP, SSH, SMB, Kerberos). A detector reports a detection with
    sn_detect_raise; the engine turns it into a `finding` EVENT, applies the suppression rule
    (one finding per (detector, source, target, subject) per window; later detections revise it)
    and the severity policy. Single-threaded, on the packet path. Owner: sensor. */
#ifndef SN_DETECT_H
#define SN_DETECT_H

#include <stdbool.h>
#include <stdint.h>

#include "mm_event.h"
#include "sn_config.h"
#include "sn_decode.h"
#include "sn_flow.h"

typedef struct sn_detect sn_detect_t;

//  What a detector is: fixed, static data.
typedef struct {
    const char *id;  //  e.g. "scan.port"; also the finding's `detector`
    uint16_t version;
    uint8_t category;    //  mm_category_t
    uint8_t severity;    //  mm_sev_t, the default (see docs/detection.md, severity policy)
    uint8_t confidence;  //  0..100, the default
    const char *attack[MM_ATTACK_MAX];  //  ATT&CK technique ids, NULL-terminated if fewer
} sn_det_info_t;

//  Which end of a finding did the harm, for the defence: only an outside offender is ever
//  blocked. AUTO is the source (the scanner, the guesser); a detector whose offender is the
//  destination (a C2 server, a bad site) says DST; NONE when neither end is (a DNS resolver
//  that carried a bad name).
typedef enum {
    SN_OFFENDER_AUTO = 0,
    SN_OFFENDER_SRC,
    SN_OFFENDER_DST,
    SN_OFFENDER_NONE,
} sn_offender_t;

//  One detection, as a detector reports it. Evidence is cumulative: the detector reports its
//  current totals for this (source, target) and the engine keeps the newest.
typedef struct {
    const sn_det_info_t *info;
    uint64_t ts;                   //  when (ns since the epoch): the packet or event time
    uint8_t severity, confidence;  //  0: the info's defaults
    uint8_t proto;                 //  0 if not about one protocol
    mm_addr_t src;                 //  who did it (len 0: unknown)
    mm_addr_t dst;                 //  to whom (len 0: many targets, e.g. a host sweep)
    bool has_dport;
    uint16_t dport;
    uint64_t subject;  //  further splits findings of one (src, dst), e.g. a hash of the domain
    uint8_t ioc_type;  //  mm_ioc_type_t; 0: no indicator
    const char *ioc_value;
    const char *ioc_feed;
    bool block;  //  the indicator or rule asks for blocking (see sn_block)
    mm_evidence_t evidence;
    char message[MM_TEXT_MAX / 2];  //  short, human-readable, no line breaks
    uint8_t direction;              //  mm_dir_t; 0: derived from src, dst and home_net
    uint8_t offender;               //  sn_offender_t
} sn_alert_t;

//  A packet as detectors see it, after the flow table has counted it.
typedef struct {
    const sn_pkt_t *pkt;
    const sn_flow_t *flow;
    int dir;                    //  0: the flow's originator sent it, 1: the responder
    bool new_flow;              //  its first packet
    bool established;           //  this packet completed the TCP handshake
    bool orig_home, resp_home;  //  originator / responder inside home_net
    uint64_t ts;
} sn_det_pkt_t;

//  An ARP packet (Ethernet/IPv4 only).
typedef struct {
    uint16_t op;  //  1 request, 2 reply
    uint8_t sender_mac[6];
    mm_addr_t sender_ip, target_ip;
    uint64_t ts;
} sn_det_arp_t;

//  A detector module: every hook but create/destroy is optional (NULL).
typedef struct {
    const char *name;  //  its configuration section, e.g. "scan"
    void *(*create) (const sn_config_t *cfg, sn_detect_t *engine);  //  NULL: disabled or failed
    void (*destroy) (void **self_p);
    void (*packet) (void *self, const sn_det_pkt_t *p);
    void (*arp) (void *self, const sn_det_arp_t *arp);
    void (*event) (void *self, const mm_event_t *ev);  //  never a finding
    void (*tick) (void *self, uint64_t now_ns);        //  about once a second of capture time
    void (*flush) (void *self);                        //  end of input: report what is pending
    void (*reload) (void *self);  //  SIGHUP: re-read files (feeds); keep the old on error
} sn_det_class_t;

//  The engine hands finished findings to the sensor, which stamps seq (and, for a new finding
//  whose id is 0, makes the id that seq) and sends them on. Returns the seq.
typedef uint64_t (sn_detect_emit_fn) (void *arg, mm_event_t *ev);

typedef struct {
    uint64_t raised;      //  findings raised (revision 0)
    uint64_t updates;     //  revisions emitted
    uint64_t suppressed;  //  detections folded into an open finding
    uint64_t recycled;    //  open findings forgotten early because max_findings were open
    uint64_t by_severity[MM_SEV_FATAL + 1];  //  findings raised, by severity
} sn_detect_stats_t;

//  NULL if memory cannot be had or a detector fails to start (the reason on stderr).
sn_detect_t *sn_detect_new (const sn_config_t *cfg, sn_detect_emit_fn *emit, void *arg);
void sn_detect_destroy (sn_detect_t **self_p);

//  Inputs, from the sensor.
void sn_detect_packet (sn_detect_t *self, const sn_pkt_t *pkt, sn_flow_t *flow, int dir,
                       uint64_t ts);
void sn_detect_arp (sn_detect_t *self, const sn_det_arp_t *arp);
void sn_detect_event (sn_detect_t *self, const mm_event_t *ev);
void sn_detect_tick (sn_detect_t *self, uint64_t now_ns);
void sn_detect_flush (sn_detect_t *self);
void sn_detect_reload (sn_detect_t *self);

//  For detectors.
void sn_detect_raise (sn_detect_t *self, const sn_alert_t *alert);
bool sn_detect_is_home (const sn_detect_t *self, const mm_addr_t *addr);
const sn_config_t *sn_detect_config (const sn_detect_t *self);

//  Another module's state, by its class name (the indicator matcher, for WATCHLIST updates
//  and for detectors that look up indicators). NULL if absent or disabled.
void *sn_detect_module (sn_detect_t *self, const char *name);

const sn_detect_stats_t *sn_detect_stats (const sn_detect_t *self);

//  Severity policy: true if a finding of this severity is a severe incident that needs
//  immediate notice (the standard: within 60 minutes); the rest go to the weekly report.
bool sn_detect_is_immediate (uint8_t severity);

//  Helpers for detectors: an address as text; the registered domain of a name (the last two
//  labels, three under a known second-level like co.jp), lower-cased into `out`.
const char *sn_detect_addr_str (const mm_addr_t *a, char *buf, size_t size);
size_t sn_detect_registered_domain (const char *name, size_t len, char *out, size_t size);

#endif
