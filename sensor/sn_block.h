/*  sn_block: the sensor's optional defence. Adds an outside address to an nftables set with a
    timeout (the standard's "block what was detected"), through the `nft` program: one
    `add element` per address, never per packet. The set and the rule that uses it belong to
    the operator (docs/detection.md shows them); the sensor only adds elements, so a mistake
    here can never open anything. Owner: sn_detect. */
#ifndef SN_BLOCK_H
#define SN_BLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "mm_proto.h"
#include "sn_config.h"

typedef struct sn_block sn_block_t;

#define SN_BLOCK_MAX 16384              //  blocked addresses remembered (the oldest recycled)
#define SN_BLOCK_QUEUE_MAX 64           //  addresses waiting for the running nft
#define SN_BLOCK_CHILD_TIMEOUT_MS 5000  //  an nft still running after this is killed

typedef struct {
    uint64_t added;    //  addresses blocked (nft started or queued)
    uint64_t already;  //  asked again while still blocked
    uint64_t failed;   //  nft could not run, said no, or hung; or the queue was full (logged,
                       //  rate-limited; the address is forgotten, so a later finding retries)
    uint64_t refused;  //  never blocked: home_net, `never`, loopback, link-local, multicast
} sn_block_stats_t;

//  NULL if memory cannot be had or the [block] names are not nftables names (said on stderr).
sn_block_t *sn_block_new (const sn_config_t *cfg);
//  Lets the running and queued nft finish first (bounded by their timeouts).
void sn_block_destroy (sn_block_t **self_p);

//  Blocks `addr` for the configured timeout, from `now_ns` (capture time). 0 if the block was
//  started now (nft runs in the background; its failure is counted later); -1 if the address
//  already is blocked, may never be blocked, or nft could not be started.
int sn_block_add (sn_block_t *self, const mm_addr_t *addr, uint64_t now_ns);

//  Reaps a finished nft and starts the next; forgets blocks whose timeout has passed
//  (nftables removes them itself). Called every tick.
void sn_block_expire (sn_block_t *self, uint64_t now_ns);

//  Waits until no nft runs or waits to run; gives up (counted as failures) after twice
//  SN_BLOCK_CHILD_TIMEOUT_MS, so stopping the sensor never hangs on nft.
void sn_block_wait (sn_block_t *self);

//  True while `addr` is blocked as far as the sensor knows.
bool sn_block_is_blocked (sn_block_t *self, const mm_addr_t *addr, uint64_t now_ns);

const sn_block_stats_t *sn_block_stats (const sn_block_t *self);

#endif
