/*  sn_block: the sensor's optional defence. Adds an outside address to an nftables set with a
    timeout (the standard's "block what was detected"), through the `nft` program: one
    `add element` per address, never per packet. The set and the rule that uses it belong to
    the operator (docs/detection.md shows them); the sensor only adds elements, so a mistake
    here can never open anything. Owner: sn_detect. */
#ifndef SN_BLOCK_H
#define SN_BLOCK_H

#include <stdint.h>

#include "mm_proto.h"
#include "sn_config.h"

typedef struct sn_block sn_block_t;

typedef struct {
    uint64_t added;    //  addresses blocked
    uint64_t already;  //  asked again while still blocked
    uint64_t failed;   //  nft said no (logged, rate-limited)
} sn_block_stats_t;

//  NULL if memory cannot be had.
sn_block_t *sn_block_new (const sn_config_t *cfg);
void sn_block_destroy (sn_block_t **self_p);

//  Blocks `addr` for the configured timeout, from `now_ns`. 0 if it was added now; -1 if it already was
//  blocked (and still is) or nft failed.
int sn_block_add (sn_block_t *self, const mm_addr_t *addr, uint64_t now_ns);

//  Forgets blocks whose timeout has passed (nftables removes them itself).
void sn_block_expire (sn_block_t *self, uint64_t now_ns);

const sn_block_stats_t *sn_block_stats (const sn_block_t *self);

#endif
