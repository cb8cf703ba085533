/*  mm_watchlist: the WATCHLIST schema (see mm_watchlist.h). */
#include "mm_watchlist.h"

#include "mm_schema.h"

static const mm_field_t s_entry_fields[] = {
    [1] = MM_FD_UINT (mm_wl_entry_t, op, "op", 1, 2, MM_FF_REQUIRED | MM_FF_ENUM_NAMED, MM_NOBIT,
                      "add or revoke"),
    [2] = MM_FD_UINT (mm_wl_entry_t, type, "type", 1, UINT8_MAX, MM_FF_REQUIRED | MM_FF_ENUM_NAMED,
                      MM_NOBIT, "indicator type"),
    [3] = MM_FD_STR (mm_wl_entry_t, value, "value", MM_LONG_MAX, MM_FF_REQUIRED,
                     "normalized indicator"),
    [4] = MM_FD_UINT (mm_wl_entry_t, category, "category", 0, UINT8_MAX, MM_FF_ENUM_NAMED, MM_NOBIT,
                      "finding category a match raises"),
    [5] = MM_FD_UINT (mm_wl_entry_t, severity, "severity", 0, 6, MM_FF_ENUM_NAMED, MM_NOBIT,
                      "severity a match raises"),
    [6] = MM_FD_STR (mm_wl_entry_t, feed, "feed", MM_ID_MAX, 0, "source of the indicator"),
    [7] = MM_FD_UINT (mm_wl_entry_t, expires, "expires", 0, UINT64_MAX, 0, MM_NOBIT,
                      "expiry, ns since the epoch"),
    [8] = MM_FD_STR (mm_wl_entry_t, warning_id, "warning_id", MM_ID_MAX, 0,
                     "WARNING that carried it"),
    [9] = MM_FD_UINT (mm_wl_entry_t, action, "action", 0, UINT8_MAX, MM_FF_ENUM_NAMED, MM_NOBIT,
                      "what a match asks of the sensor (block: its [block] defence)"),
};
static const mm_schema_t s_entry_schema =
    MM_SCHEMA ("watchlist.entries", 0, mm_wl_entry_t, s_entry_fields, -1, NULL);

static const mm_field_t s_fields[] = {
    [MM_K_TS] = MM_FD_UINT (mm_watchlist_t, ts, "ts", 1, UINT64_MAX, MM_FF_REQUIRED, MM_NOBIT,
                            "ns since the epoch"),
    [MM_K_SENSOR] = MM_FD_STR (mm_watchlist_t, sensor, "sensor", MM_ID_MAX, 0,
                               "recipient sensor (empty: every sensor of the org)"),
    [MM_K_ORG] = MM_FD_STR (mm_watchlist_t, org, "org", MM_ID_MAX, 0, "recipient organisation"),
    [MM_LK_SERIAL] = MM_FD_UINT (mm_watchlist_t, serial, "serial", 0, UINT64_MAX, MM_FF_REQUIRED,
                                 MM_NOBIT, "increases with every change"),
    [MM_LK_ENTRIES] =
        MM_FD_ARR_MAP (mm_watchlist_t, entries, n_entries, "entries", MM_WATCHLIST_MAX,
                       &s_entry_schema, 0, "array of entry maps {1 op, 2 type, 3 value, ...}"),
};

const mm_schema_t mm_watchlist_schema =
    MM_SCHEMA ("watchlist", MM_MSG_WATCHLIST, mm_watchlist_t, s_fields, -1, NULL);

int
mm_watchlist_encode (const mm_watchlist_t *wl, mm_buf_t *out, mm_error_t *err)
{
    return mm_schema_encode_msg (&mm_watchlist_schema, wl, out, err);
}

int
mm_watchlist_decode (mm_watchlist_t *wl, const uint8_t *data, size_t len, mm_error_t *err)
{
    return mm_schema_decode_msg (&mm_watchlist_schema, wl, data, len, err);
}
