/*  sn_track: a bounded table of per-key state for detectors (per source, per source->target,
    per domain...). Capacity is fixed at creation and memory allocated once, so an attacker
    who sends from a million addresses costs the same memory as one: when the table is full
    the least recently touched entry is recycled (counted). Keys are byte strings up to
    SN_TRACK_KEY_MAX, hashed with a keyed SipHash so flooding one bucket cannot be planned.
    Entries idle longer than the table's idle time go to the owner's expiry callback first.
    Owner: the detector that created it. */
#ifndef SN_TRACK_H
#define SN_TRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm_proto.h"

#define SN_TRACK_KEY_MAX 56

typedef struct sn_track sn_track_t;

//  An entry leaves the table (idle, recycled or flushed); `value` is valid during the call.
typedef void (sn_track_gone_fn) (void *arg, const uint8_t *key, size_t key_len, void *value,
                                 bool recycled);

typedef struct {
    uint64_t created, expired, recycled;
    uint64_t active;
} sn_track_stats_t;

//  `capacity` entries of `value_size` bytes each; entries untouched for `idle_ns` expire.
//  NULL if memory cannot be had (or capacity is 0).
sn_track_t *sn_track_new (uint32_t capacity, size_t value_size, uint64_t idle_ns,
                          sn_track_gone_fn *gone, void *arg);
void sn_track_destroy (sn_track_t **self_p);

//  The value for `key`, created zeroed (and *created set) if absent; touched at `now_ns`.
//  Never fails: a full table recycles its least recently touched entry.
void *sn_track_get (sn_track_t *self, const void *key, size_t key_len, uint64_t now_ns,
                    bool *created);

//  The value for `key` or NULL; does not touch it.
void *sn_track_find (sn_track_t *self, const void *key, size_t key_len);

//  Removes `key` now (no callback).
void sn_track_remove (sn_track_t *self, const void *key, size_t key_len);

//  Expires entries idle as of `now_ns` (oldest first, cheap when nothing is due).
void sn_track_expire (sn_track_t *self, uint64_t now_ns);

//  Every entry goes, through the callback (end of input).
void sn_track_flush (sn_track_t *self);

//  Calls `fn` for every entry, least recently touched first. `fn` must not add or remove.
void sn_track_foreach (sn_track_t *self,
                       void (*fn) (void *arg, const uint8_t *key, size_t key_len, void *value),
                       void *arg);

const sn_track_stats_t *sn_track_stats (const sn_track_t *self);

//  Key builders: an address (len byte + 16 bytes) and an address pair with a port.
size_t sn_track_key_addr (uint8_t *key, const mm_addr_t *a);
size_t sn_track_key_pair (uint8_t *key, const mm_addr_t *a, const mm_addr_t *b, uint16_t port);

#endif
