/*  sn_cid: Community ID v1 (see sn_cid.h). The hash input is: seed (2 bytes), the two addresses
    and ports in a canonical order so both directions give the same ID, protocol, a zero byte;
    the ID is "1:" and the base64 of its SHA-1. */
#include "sn_cid.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

struct sn_cid {
    uint16_t seed;
    EVP_MD *sha1;
    EVP_MD_CTX *ctx;
};

sn_cid_t *
sn_cid_new (uint16_t seed)
{
    sn_cid_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->seed = seed;
    self->sha1 = EVP_MD_fetch (NULL, "SHA1", NULL);
    self->ctx = EVP_MD_CTX_new ();
    if (!self->sha1 || !self->ctx)
        sn_cid_destroy (&self);
    return self;
}

void
sn_cid_destroy (sn_cid_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    EVP_MD_free ((*self_p)->sha1);
    EVP_MD_CTX_free ((*self_p)->ctx);
    free (*self_p);
    *self_p = NULL;
}

//  ICMP types that come in request/reply pairs: such a flow is two-way, and its "ports" are
//  the type and its counterpart. Any other ICMP type is one-way (type, code), never reordered.
bool
sn_cid_icmp_counterpart (uint8_t proto, uint16_t type, uint16_t *other)
{
    static const uint8_t v4[][2] = {{8, 0}, {13, 14}, {15, 16}, {10, 9}, {17, 18}};
    static const uint8_t v6[][2] = {{128, 129}, {130, 131}, {133, 134},
                                    {135, 136}, {139, 140}, {144, 145}};
    const uint8_t (*pairs)[2] = proto == 1 ? v4 : v6;
    size_t n = proto == 1 ? sizeof v4 / sizeof v4[0] : sizeof v6 / sizeof v6[0];
    for (size_t i = 0; i < n; i++) {
        if (type == pairs[i][0]) {
            *other = pairs[i][1];
            return true;
        }
        if (type == pairs[i][1]) {
            *other = pairs[i][0];
            return true;
        }
    }
    return false;
}

int
sn_cid (uint16_t seed, const mm_addr_t *src, const mm_addr_t *dst, uint8_t proto, uint16_t sport,
        uint16_t dport, char out[SN_CID_LEN + 1])
{
    sn_cid_t *cid = sn_cid_new (seed);
    if (!cid)
        return -1;
    int rc = sn_cid_compute (cid, src, dst, proto, sport, dport, out);
    sn_cid_destroy (&cid);
    return rc;
}

int
sn_cid_compute (sn_cid_t *self, const mm_addr_t *src, const mm_addr_t *dst, uint8_t proto,
                uint16_t sport, uint16_t dport, char out[SN_CID_LEN + 1])
{
    uint16_t seed = self->seed;
    if ((src->len != 4 && src->len != 16) || src->len != dst->len)
        return -1;
    bool ports = proto == 6 || proto == 17 || proto == 132 || proto == 1 || proto == 58;
    bool one_way = false;
    if (proto == 1 || proto == 58) {
        uint16_t other;
        if (sn_cid_icmp_counterpart (proto, sport, &other))
            dport = other;
        else
            one_way = true;
    }
    const mm_addr_t *a = src, *b = dst;
    uint16_t pa = sport, pb = dport;
    int cmp = memcmp (src->b, dst->b, src->len);
    if (!one_way && (cmp > 0 || (cmp == 0 && sport > dport))) {
        a = dst;
        b = src;
        pa = dport;
        pb = sport;
    }
    uint8_t in[2 + 16 + 16 + 2 + 4];
    size_t n = 0;
    in[n++] = (uint8_t) (seed >> 8);
    in[n++] = (uint8_t) seed;
    memcpy (in + n, a->b, a->len);
    n += a->len;
    memcpy (in + n, b->b, b->len);
    n += b->len;
    in[n++] = proto;
    in[n++] = 0;
    if (ports) {
        in[n++] = (uint8_t) (pa >> 8);
        in[n++] = (uint8_t) pa;
        in[n++] = (uint8_t) (pb >> 8);
        in[n++] = (uint8_t) pb;
    }
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    if (!EVP_DigestInit_ex (self->ctx, self->sha1, NULL) || !EVP_DigestUpdate (self->ctx, in, n) ||
        !EVP_DigestFinal_ex (self->ctx, digest, &digest_len) || digest_len != 20)
        return -1;
    memcpy (out, "1:", 2);
    //  28 base64 characters and a NUL for 20 bytes.
    if (EVP_EncodeBlock ((unsigned char *) out + 2, digest, 20) != 28)
        return -1;
    return 0;
}
