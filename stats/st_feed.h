/*  st_feed: the statistics' CURVE feed for providers and IPA (issue 7): every subscriber gets
    the same rows as the published files (council level: safe for everyone), one JSON line
    per frame. Owner: stats/ (mimamori-stats serve owns it; one thread).

    A subscriber connects over CURVE with a certificate of role `console` from the allow-list
    directory (a provider's SOC console, or IPA's reader: role console, org "ipa"); an
    unknown or revoked key is refused by ZAP and never gets a frame. It says hello (any one
    frame, e.g. an mm_ack) at least every ST_FEED_SILENT_MS / 2: its first hello gets the
    current rows at once, and every later publication reaches it as it is made. A subscriber
    silent for ST_FEED_SILENT_MS is forgotten until it speaks again.

    Why not a PUB socket: a late subscriber would get nothing until the next publication, and
    ROUTER through mm_curve_server checks every peer's key against the allow-list on each
    frame (a key removed from the directory is cut off at once). */
#ifndef ST_FEED_H
#define ST_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "mm_buf.h"
#include "mm_cert.h"
#include "mm_curve.h"

typedef struct st_feed_t st_feed_t;

#define ST_FEED_SILENT_MS 10000
#define ST_FEED_PEERS_MAX 256

typedef struct {
    uint64_t subscribers;  //  known now
    uint64_t hellos;
    uint64_t publications;
    uint64_t frames_sent;
    uint64_t
        send_errors;  //  a frame a subscriber could not take now (it gets all at its next hello)
} st_feed_stats_t;

//  Binds `endpoint` (ZAP domain "stats", role console only). NULL (logged) on failure.
st_feed_t *st_feed_new (mm_curve_auth_t *auth, const mm_cert_t *cert, const char *endpoint,
                        const char *allow_dir, const char *revoke_file);
void st_feed_destroy (st_feed_t **self_p);
const char *st_feed_endpoint (st_feed_t *self);
//  The rows every subscriber gets from now on (JSON Lines, copied), sent to every known
//  subscriber. 0, or -1 (memory).
int st_feed_publish (st_feed_t *self, const uint8_t *lines, size_t len);
//  Waits up to `timeout_ms` for hellos and answers them.
void st_feed_run_once (st_feed_t *self, int timeout_ms);
void st_feed_stats (const st_feed_t *self, st_feed_stats_t *stats);

#endif
