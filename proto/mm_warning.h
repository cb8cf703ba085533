/*  mm_warning: WARNING, a lateral warning (横展開) from the aggregator to the partners of a
    company that was hit, and to regional SOC consoles. It says what to look for and what to do,
    and how the recipient relates to where the threat was seen, never who it was.
    The envelope's org (key 4) is the recipient; its sensor (key 3), when set, narrows it to
    one sensor of that org. Brokers route by these two. */
#ifndef MM_WARNING_H
#define MM_WARNING_H

#include "mm_proto.h"

enum {
    MM_WK_ID = 10,
    MM_WK_REVISION = 11,
    MM_WK_STATUS = 12,
    MM_WK_VALID_UNTIL = 13,
    MM_WK_INDICATOR = 14,
    MM_WK_SEV = 15,
    MM_WK_CONF = 16,
    MM_WK_CATEGORY = 17,
    MM_WK_TACTICS = 18,
    MM_WK_TECHNIQUES = 19,
    MM_WK_EVIDENCE = 20,
    MM_WK_ACTION = 21,
    MM_WK_RELATION = 22,
    MM_WK_TLP = 23,
    MM_WK_DEDUP_KEY = 24,
};

typedef struct {
    uint8_t type;    //  mm_ioc_type_t
    mm_str_t value;  //  normalized
    uint8_t match;   //  mm_match_t
} mm_indicator_t;

typedef struct {
    uint32_t orgs;       //  distinct organisations that saw it
    uint32_t providers;  //  distinct providers among them
    uint64_t sightings;
    uint64_t first_seen;  //  ns since the epoch
    uint64_t last_seen;
} mm_wevidence_t;

typedef struct {
    uint8_t code;      //  mm_action_t
    mm_str_t text_ja;  //  what to do, in plain Japanese
    mm_str_t text_en;
} mm_waction_t;

#define MM_WARN_HAS_EVIDENCE (1u << 0)
#define MM_WARN_HAS_ACTION (1u << 1)
typedef struct {
    uint32_t has;
    uint64_t ts;           //  issued at, ns since the epoch
    mm_str_t sensor;       //  recipient sensor (empty: every sensor of the org)
    mm_str_t org;          //  recipient organisation
    mm_str_t id;           //  stable across revisions
    uint32_t revision;     //  1, 2, ...; a later revision replaces an earlier one
    uint8_t status;        //  mm_wstatus_t
    uint64_t valid_until;  //  ns since the epoch; 0: until revoked
    mm_indicator_t indicator;
    uint8_t severity;    //  mm_sev_t
    uint8_t confidence;  //  0..100
    uint8_t category;    //  mm_category_t
    uint32_t n_tactics;
    mm_str_t tactics[MM_ATTACK_MAX];  //  ATT&CK tactic ids, e.g. "TA0011"
    uint32_t n_techniques;
    mm_str_t techniques[MM_ATTACK_MAX];  //  ATT&CK technique ids, e.g. "T1071"
    mm_wevidence_t evidence;
    mm_waction_t action;
    uint8_t relation;    //  mm_relation_t
    uint8_t tlp;         //  mm_tlp_t
    mm_str_t dedup_key;  //  hex digest of (type, normalized value, category)
} mm_warning_t;

int mm_warning_encode (const mm_warning_t *w, mm_buf_t *out, mm_error_t *err);
int mm_warning_decode (mm_warning_t *w, const uint8_t *data, size_t len, mm_error_t *err);

#endif
