/*  sn_block: PLACEHOLDER while the defence is being written (issue 4). */
#include "sn_block.h"

#include <stdlib.h>

struct sn_block {
    sn_block_stats_t stats;
};

sn_block_t *
sn_block_new (const sn_config_t *cfg)
{
    (void) cfg;
    return calloc (1, sizeof (sn_block_t));
}

void
sn_block_destroy (sn_block_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

int
sn_block_add (sn_block_t *self, const mm_addr_t *addr, uint64_t now_ns)
{
    (void) addr;
    (void) now_ns;
    self->stats.failed++;
    return -1;
}

void
sn_block_expire (sn_block_t *self, uint64_t now_ns)
{
    (void) self;
    (void) now_ns;
}

const sn_block_stats_t *
sn_block_stats (const sn_block_t *self)
{
    return &self->stats;
}
