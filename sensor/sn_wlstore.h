/*  sn_wlstore: the sensor's durable copy of the WATCHLIST entries it was sent. The broker
    deletes its copy of a down message once the sensor acknowledges it, so what the sensor
    acknowledged must survive the sensor's restart: the uplink's callback appends each WATCHLIST
    here (synced) before the ACK goes, and the sensor replays the file into its matcher at
    start. Owner: sensor (main.c, the uplink's owner thread).

    File: `watchlist.log` in the uplink's spool directory, mode 0600. Records: u32 LE length,
    u32 LE CRC32C of the message, the WATCHLIST message as encoded on the wire. Replay stops
    at the first damaged or partial record and cuts the file there (a torn append: its
    message was never acknowledged, so the broker sends it again).

    Compaction: past `max_bytes` (SN_WLSTORE_MAX by default) the file is rewritten with only
    what is in force: every entry's last add, minus revoked and expired ones, as fresh
    WATCHLIST messages of up to MM_WATCHLIST_MAX entries carrying the highest serial seen,
    written aside, synced, renamed over the old file. Memory during compaction: one copy of
    the entries in force. */
#ifndef SN_WLSTORE_H
#define SN_WLSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "mm_watchlist.h"

typedef struct sn_wlstore sn_wlstore_t;

#define SN_WLSTORE_FILE "watchlist.log"
#define SN_WLSTORE_MAX (8u << 20)

typedef struct {
    uint64_t replayed;     //  messages replayed at open
    uint64_t appended;     //  messages appended since open
    uint64_t torn;         //  damaged or partial tails cut at open
    uint64_t compactions;  //  rewrites
    uint64_t errors;       //  writes or syncs that failed
    uint64_t bytes;        //  size of the file now
} sn_wlstore_stats_t;

//  Called for each stored WATCHLIST at replay, oldest first; valid during the call.
typedef void (sn_wlstore_fn) (void *arg, const mm_watchlist_t *wl);

//  Opens (creating it, 0600) `dir`/SN_WLSTORE_FILE and replays it through `fn` (may be NULL).
//  `max_bytes` 0: SN_WLSTORE_MAX. NULL with the reason in `err` if the file cannot be opened
//  or read.
sn_wlstore_t *sn_wlstore_new (const char *dir, uint64_t max_bytes, sn_wlstore_fn *fn, void *arg,
                              char *err, size_t err_size);
void sn_wlstore_destroy (sn_wlstore_t **self_p);

//  Appends `wl` and syncs (fdatasync) before returning; compacts first when over the bound.
//  0, or -1 (counted; errno set): then the caller must not acknowledge the message.
int sn_wlstore_append (sn_wlstore_t *self, const mm_watchlist_t *wl);

void sn_wlstore_stats (const sn_wlstore_t *self, sn_wlstore_stats_t *stats);

#endif
