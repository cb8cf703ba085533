/*  mm_watchlist: WATCHLIST, indicator additions and revocations pushed down to sensors, which
    feed them to their indicator matcher. Lists bigger than MM_WATCHLIST_MAX entries are sent as
    several messages; `serial` increases with every change so a sensor can tell what it has. */
#ifndef MM_WATCHLIST_H
#define MM_WATCHLIST_H

#include "mm_proto.h"

enum {
    MM_LK_SERIAL = 10,
    MM_LK_ENTRIES = 11,
};

typedef struct {
    uint8_t op;           //  mm_wl_op_t
    uint8_t type;         //  mm_ioc_type_t
    mm_str_t value;       //  normalized indicator
    uint8_t category;     //  mm_category_t
    uint8_t severity;     //  mm_sev_t
    mm_str_t feed;        //  where it came from, e.g. "lateral" or a feed name
    uint64_t expires;     //  ns since the epoch; 0: no expiry
    mm_str_t warning_id;  //  the WARNING that carried it, if any
    uint8_t action;       //  mm_action_t a match asks of the sensor (MM_ACTION_BLOCK); 0: none
} mm_wl_entry_t;

typedef struct {
    uint64_t ts;      //  ns since the epoch
    mm_str_t sensor;  //  recipient sensor (empty: every sensor of the org)
    mm_str_t org;     //  recipient organisation (empty: every sensor of the broker)
    uint64_t serial;
    uint32_t n_entries;
    mm_wl_entry_t entries[MM_WATCHLIST_MAX];
} mm_watchlist_t;

int mm_watchlist_encode (const mm_watchlist_t *wl, mm_buf_t *out, mm_error_t *err);
int mm_watchlist_decode (mm_watchlist_t *wl, const uint8_t *data, size_t len, mm_error_t *err);

#endif
