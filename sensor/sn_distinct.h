/*  sn_distinct: how many distinct values (ports, hosts, names) a source touched, in a fixed
    324 bytes however many there are. The first SN_DISTINCT_EXACT values are kept exactly, so
    thresholds in the tens (15 ports, 10 hosts) are decided without error; beyond that a
    2,048-bit linear-counting bitmap estimates the count (within a few percent up to ~5,000,
    then a floor). A plain value struct: embed it in tracker state. */
#ifndef SN_DISTINCT_H
#define SN_DISTINCT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SN_DISTINCT_EXACT 16
#define SN_DISTINCT_BITS 2048

typedef struct {
    uint32_t exact[SN_DISTINCT_EXACT];  //  hashes of the first values
    uint16_t n_exact;
    uint16_t bits_set;
    uint8_t bitmap[SN_DISTINCT_BITS / 8];
} sn_distinct_t;

//  Adds a value given by its 64-bit hash (see sn_distinct_hash). True if it was new (exactly
//  while few, else as far as the bitmap can tell).
bool sn_distinct_add (sn_distinct_t *self, uint64_t hash);

//  The number of distinct values added (exact up to SN_DISTINCT_EXACT, then an estimate).
uint32_t sn_distinct_count (const sn_distinct_t *self);

//  A well-mixed 64-bit hash of bytes (not keyed: use only on values, never as a table index).
uint64_t sn_distinct_hash (const void *data, size_t len);

#endif
