/*  sn_distinct: exact small set, then linear counting (Whang et al. 1990): with m bits of which
    z are still zero after hashing n values, n is about m ln(m / z). */
#include "sn_distinct.h"

#include <math.h>
#include <string.h>

uint64_t
sn_distinct_hash (const void *data, size_t len)
{
    //  FNV-1a, then a murmur3 finaliser so the low and high bits are both usable.
    const uint8_t *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

bool
sn_distinct_add (sn_distinct_t *self, uint64_t hash)
{
    uint32_t bit = (uint32_t) (hash % SN_DISTINCT_BITS);
    uint8_t mask = (uint8_t) (1u << (bit & 7));
    bool bit_new = !(self->bitmap[bit >> 3] & mask);
    if (bit_new) {
        self->bitmap[bit >> 3] |= mask;
        self->bits_set++;
    }
    uint32_t h32 = (uint32_t) (hash >> 32);
    for (uint16_t i = 0; i < self->n_exact; i++)
        if (self->exact[i] == h32)
            return false;
    if (self->n_exact < SN_DISTINCT_EXACT) {
        self->exact[self->n_exact++] = h32;
        return true;
    }
    return bit_new;
}

uint32_t
sn_distinct_count (const sn_distinct_t *self)
{
    if (self->n_exact < SN_DISTINCT_EXACT)
        return self->n_exact;
    uint32_t zero = SN_DISTINCT_BITS - self->bits_set;
    if (zero == 0)
        zero = 1;  //  saturated: report the floor the bitmap can still vouch for
    double est = SN_DISTINCT_BITS * log ((double) SN_DISTINCT_BITS / zero);
    uint32_t n = (uint32_t) (est + 0.5);
    return n > SN_DISTINCT_EXACT ? n : SN_DISTINCT_EXACT;
}
