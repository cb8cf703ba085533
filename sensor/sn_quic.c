/*  sn_quic: client Initial packets (RFC 9000 17.2.2, RFC 9001 5, RFC 9369 3) decrypted with the
    keys anyone can derive from the Destination Connection ID, their CRYPTO frames reassembled
    from offset 0 into the ClientHello, which sn_tls parses. Packet protection is checked (the
    AEAD tag), so garbage on UDP 443 never reaches the TLS parser. */
#include "sn_quic.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#define S_CID_MAX 20     //  RFC 9000 17.2: connection IDs of versions 1 and 2
#define S_TAG_LEN 16     //  AES-128-GCM
#define S_PACKETS_MAX 8  //  coalesced packets looked at per datagram
#define S_BAD_MAX 4      //  Initials that fail to authenticate before we give up
#define S_BITMAP_LEN (SN_QUIC_CRYPTO_MAX / 8)

typedef struct {
    uint32_t version;  //  first and last version of a range
    uint32_t last;
    uint8_t salt[20];
    bool v2;  //  "quicv2 " labels and packet type numbers (RFC 9369 3.2, 3.3.2)
} s_version_t;

static const s_version_t s_versions[] = {
    {0x00000001,
     0x00000001,
     {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
      0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a},
     false},
    {0x6b3343cf,
     0x6b3343cf,
     {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
      0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9},
     true},
    //  draft-ietf-quic-tls-33 and -34 already use the version 1 salt.
    {0xff000021,
     0xff000022,
     {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
      0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a},
     false},
    {0xff00001d,
     0xff000020,
     {0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
      0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99},
     false},
    {0xff000017,
     0xff00001c,
     {0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7,
      0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02},
     false},
};

typedef struct {
    uint32_t version;
    uint8_t dcid_len;
    uint8_t dcid[S_CID_MAX];
    uint8_t key[16];
    uint8_t iv[12];
    uint8_t hp[16];
} s_keys_t;

struct sn_quic {
    s_keys_t keys;  //  valid when have_keys: those that opened the last good Initial
    bool have_keys;
    bool finished;  //  1 or -1 was returned
    uint8_t n_dgrams;
    uint8_t n_bad;
    uint32_t contig;         //  CRYPTO bytes present from offset 0
    uint8_t *buf;            //  SN_QUIC_CRYPTO_MAX bytes, then a bitmap of those received
    EVP_CIPHER_CTX *aead;    //  AES-128-GCM
    EVP_CIPHER_CTX *hp_ctx;  //  AES-128-ECB, header protection
};

sn_quic_t *
sn_quic_new (void)
{
    return (sn_quic_t *) calloc (1, sizeof (sn_quic_t));
}

static void
s_release (sn_quic_t *self)
{
    free (self->buf);
    self->buf = NULL;
    EVP_CIPHER_CTX_free (self->aead);
    EVP_CIPHER_CTX_free (self->hp_ctx);
    self->aead = self->hp_ctx = NULL;
}

void
sn_quic_destroy (sn_quic_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_release (*self_p);
    free (*self_p);
    *self_p = NULL;
}

uint32_t
sn_quic_version (const sn_quic_t *self)
{
    return self && self->have_keys ? self->keys.version : 0;
}

//  ---------------------------------------------------------------------------------------------
//  Reading

typedef struct {
    const uint8_t *p;
    size_t len;
    size_t at;
} s_rd_t;

static bool
s_u8 (s_rd_t *r, uint8_t *v)
{
    if (r->at >= r->len)
        return false;
    *v = r->p[r->at++];
    return true;
}

//  RFC 9000 16: variable-length integer, 1, 2, 4 or 8 bytes.
static bool
s_varint (s_rd_t *r, uint64_t *v)
{
    if (r->at >= r->len)
        return false;
    size_t n = (size_t) 1 << (r->p[r->at] >> 6);
    if (n > r->len - r->at)
        return false;
    uint64_t x = r->p[r->at] & 0x3fu;
    for (size_t i = 1; i < n; i++)
        x = x << 8 | r->p[r->at + i];
    r->at += n;
    *v = x;
    return true;
}

static bool
s_skip (s_rd_t *r, uint64_t n)
{
    if (n > r->len - r->at)
        return false;
    r->at += (size_t) n;
    return true;
}

static const s_version_t *
s_version_find (uint32_t version)
{
    for (size_t i = 0; i < sizeof s_versions / sizeof s_versions[0]; i++)
        if (version >= s_versions[i].version && version <= s_versions[i].last)
            return &s_versions[i];
    return NULL;
}

static uint32_t
s_be32 (const uint8_t *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

//  Long packet type numbers differ between versions 1 and 2; this maps both to version 1's.
enum { S_INITIAL = 0, S_0RTT = 1, S_HANDSHAKE = 2, S_RETRY = 3 };

static int
s_packet_type (const s_version_t *v, uint8_t first)
{
    int t = (first >> 4) & 3;
    return v->v2 ? (t + 3) & 3 : t;  //  v2: Retry 0, Initial 1, 0-RTT 2, Handshake 3
}

bool
sn_quic_is_initial (const uint8_t *data, size_t len)
{
    if (!data || len < 7 || !(data[0] & 0x80))
        return false;
    const s_version_t *v = s_version_find (s_be32 (data + 1));
    return v && s_packet_type (v, data[0]) == S_INITIAL && data[5] <= S_CID_MAX &&
           (size_t) data[5] + 7 <= len;
}

//  ---------------------------------------------------------------------------------------------
//  Keys (RFC 9001 5.2; RFC 9369 3.3.1 for the labels of version 2)

//  HKDF-Expand-Label (RFC 8446 7.1) with an empty context, out_len <= 32: one HMAC block.
static int
s_expand_label (const uint8_t secret[32], const char *label, uint8_t *out, size_t out_len)
{
    uint8_t info[64];
    size_t label_len = strlen (label);
    if (6 + label_len + 5 > sizeof info || out_len > 32)
        return -1;
    size_t n = 0;
    info[n++] = 0;
    info[n++] = (uint8_t) out_len;
    info[n++] = (uint8_t) (6 + label_len);
    memcpy (info + n, "tls13 ", 6);
    n += 6;
    memcpy (info + n, label, label_len);
    n += label_len;
    info[n++] = 0;  //  context length
    info[n++] = 1;  //  HKDF-Expand's block counter
    uint8_t block[EVP_MAX_MD_SIZE];
    unsigned int block_len = 0;
    if (!HMAC (EVP_sha256 (), secret, 32, info, n, block, &block_len) || block_len < 32)
        return -1;
    memcpy (out, block, out_len);
    return 0;
}

static int
s_derive (const s_version_t *v, uint32_t version, const uint8_t *dcid, uint8_t dcid_len,
          s_keys_t *k)
{
    uint8_t initial[EVP_MAX_MD_SIZE], client[32];
    unsigned int initial_len = 0;
    //  HKDF-Extract (RFC 5869 2.2): HMAC keyed with the salt over the DCID.
    if (!HMAC (EVP_sha256 (), v->salt, sizeof v->salt, dcid, dcid_len, initial, &initial_len) ||
        initial_len < 32)
        return -1;
    int rc = -1;
    if (s_expand_label (initial, "client in", client, 32) == 0 &&
        s_expand_label (client, v->v2 ? "quicv2 key" : "quic key", k->key, 16) == 0 &&
        s_expand_label (client, v->v2 ? "quicv2 iv" : "quic iv", k->iv, 12) == 0 &&
        s_expand_label (client, v->v2 ? "quicv2 hp" : "quic hp", k->hp, 16) == 0)
        rc = 0;
    k->version = version;
    k->dcid_len = dcid_len;
    memcpy (k->dcid, dcid, dcid_len);
    return rc;
}

//  ---------------------------------------------------------------------------------------------
//  Packet protection

//  One Initial packet: `pkt` holds it from its first byte, `pn_off` is where the packet number
//  starts, `pkt_len` where the packet ends (pn_off + the Length field). Decrypts into `out`
//  (at least SN_QUIC_PACKET_MAX bytes). Returns the plaintext length or -1.
static int
s_open (sn_quic_t *self, const s_keys_t *k, const uint8_t *pkt, size_t pn_off, size_t pkt_len,
        uint8_t *out)
{
    //  RFC 9001 5.4.2: the sample starts 4 bytes after the start of the packet number.
    if (pkt_len < pn_off + 4 + 16)
        return -1;
    uint8_t mask[32];
    int mask_len = 0;
    //  The contexts got their ciphers once (sn_quic_feed): giving only keys here costs no
    //  allocation per packet.
    if (EVP_EncryptInit_ex (self->hp_ctx, NULL, NULL, k->hp, NULL) != 1 ||
        EVP_EncryptUpdate (self->hp_ctx, mask, &mask_len, pkt + pn_off + 4, 16) != 1 ||
        mask_len != 16)
        return -1;
    uint8_t first = (uint8_t) (pkt[0] ^ (mask[0] & 0x0f));
    size_t pn_len = (size_t) (first & 3) + 1;
    if (pkt_len < pn_off + pn_len + S_TAG_LEN)
        return -1;
    size_t ct_len = pkt_len - pn_off - pn_len - S_TAG_LEN;
    if (ct_len > SN_QUIC_PACKET_MAX)
        return -1;
    uint8_t pn[4], nonce[12];
    memcpy (nonce, k->iv, sizeof nonce);
    for (size_t i = 0; i < pn_len; i++) {
        pn[i] = (uint8_t) (pkt[pn_off + i] ^ mask[1 + i]);
        nonce[12 - pn_len + i] ^= pn[i];  //  RFC 9001 5.3: the packet number, left-padded
    }
    //  The header is the AAD; it is fed in pieces so the token need not be copied.
    int n = 0, fin = 0;
    if (EVP_DecryptInit_ex (self->aead, NULL, NULL, k->key, nonce) != 1 ||
        EVP_DecryptUpdate (self->aead, NULL, &n, &first, 1) != 1 ||
        EVP_DecryptUpdate (self->aead, NULL, &n, pkt + 1, (int) (pn_off - 1)) != 1 ||
        EVP_DecryptUpdate (self->aead, NULL, &n, pn, (int) pn_len) != 1)
        return -1;
    const uint8_t *ct = pkt + pn_off + pn_len;
    n = 0;
    if (ct_len > 0 && EVP_DecryptUpdate (self->aead, out, &n, ct, (int) ct_len) != 1)
        return -1;
    if (EVP_CIPHER_CTX_ctrl (self->aead, EVP_CTRL_GCM_SET_TAG, S_TAG_LEN, (void *) (ct + ct_len)) !=
            1 ||
        EVP_DecryptFinal_ex (self->aead, out + n, &fin) != 1)
        return -1;
    return n + fin;
}

//  ---------------------------------------------------------------------------------------------
//  CRYPTO reassembly and frames

static void
s_crypto (sn_quic_t *self, uint64_t offset, const uint8_t *data, uint64_t len)
{
    if (offset >= SN_QUIC_CRYPTO_MAX || len == 0)
        return;
    uint64_t end = offset + len < SN_QUIC_CRYPTO_MAX ? offset + len : SN_QUIC_CRYPTO_MAX;
    uint8_t *bitmap = self->buf + SN_QUIC_CRYPTO_MAX;
    memcpy (self->buf + offset, data, (size_t) (end - offset));
    for (uint64_t i = offset; i < end; i++)
        bitmap[i >> 3] |= (uint8_t) (1u << (i & 7));
    while (self->contig < SN_QUIC_CRYPTO_MAX &&
           bitmap[self->contig >> 3] & (1u << (self->contig & 7)))
        self->contig++;
}

//  Frames allowed in an Initial (RFC 9000 12.4). Stops at the first other type: without its
//  layout the rest cannot be walked, and what came before is kept.
static void
s_frames (sn_quic_t *self, const uint8_t *p, size_t len)
{
    s_rd_t r = {p, len, 0};
    uint64_t type, a, b, c, n;
    while (r.at < r.len) {
        if (!s_varint (&r, &type))
            return;
        switch (type) {
        case 0x00:  //  PADDING
        case 0x01:  //  PING
            break;
        case 0x02:  //  ACK
        case 0x03:  //  ACK with ECN counts
            if (!s_varint (&r, &a) || !s_varint (&r, &b) || !s_varint (&r, &n) ||
                !s_varint (&r, &c))
                return;
            //  Each range is two varints, at least two bytes: the datagram bounds the loop.
            for (uint64_t i = 0; i < n; i++)
                if (!s_varint (&r, &a) || !s_varint (&r, &b))
                    return;
            if (type == 0x03 && (!s_varint (&r, &a) || !s_varint (&r, &b) || !s_varint (&r, &c)))
                return;
            break;
        case 0x06:  //  CRYPTO
            if (!s_varint (&r, &a) || !s_varint (&r, &n) || n > r.len - r.at)
                return;
            if (!self->buf) {
                self->buf = calloc (1, SN_QUIC_CRYPTO_MAX + S_BITMAP_LEN);
                if (!self->buf)
                    return;
            }
            s_crypto (self, a, r.p + r.at, n);
            r.at += (size_t) n;
            break;
        case 0x1c:  //  CONNECTION_CLOSE (transport)
            if (!s_varint (&r, &a) || !s_varint (&r, &b) || !s_varint (&r, &n) || !s_skip (&r, n))
                return;
            break;
        default: return;
        }
    }
}

//  0: the ClientHello is not complete yet; 1: parsed into info; -1: cannot be.
static int
s_check_hello (sn_quic_t *self, sn_tls_info_t *info)
{
    if (!self->buf || self->contig < 4)
        return 0;
    const uint8_t *b = self->buf;
    if (b[0] != 1)  //  the client's first handshake message is its ClientHello
        return -1;
    size_t body = (size_t) b[1] << 16 | (size_t) b[2] << 8 | b[3];
    if (body > SN_QUIC_CRYPTO_MAX - 4)
        return -1;
    if (self->contig < 4 + body)
        return 0;
    memset (info, 0, sizeof *info);
    return sn_tls_parse_client_hello (b + 4, body, true, info) == 0 ? 1 : -1;
}

//  ---------------------------------------------------------------------------------------------
//  Datagrams

//  One Initial packet (header already parsed). A packet whose keys differ from the ones kept
//  (the client restarted after Retry or Version Negotiation) replaces them and the CRYPTO data.
static void
s_initial (sn_quic_t *self, const s_version_t *v, uint32_t version, const uint8_t *pkt,
           const uint8_t *dcid, uint8_t dcid_len, size_t pn_off, size_t pkt_len, uint8_t *pt)
{
    int n = -1;
    bool same = self->have_keys && self->keys.version == version &&
                self->keys.dcid_len == dcid_len && memcmp (self->keys.dcid, dcid, dcid_len) == 0;
    if (self->have_keys)
        n = s_open (self, &self->keys, pkt, pn_off, pkt_len, pt);
    if (n < 0 && !same) {
        s_keys_t k;
        if (s_derive (v, version, dcid, dcid_len, &k) == 0)
            n = s_open (self, &k, pkt, pn_off, pkt_len, pt);
        if (n >= 0) {
            if (self->have_keys && self->buf) {
                memset (self->buf, 0, SN_QUIC_CRYPTO_MAX + S_BITMAP_LEN);
                self->contig = 0;
            }
            self->keys = k;
            self->have_keys = true;
        }
    }
    if (n < 0) {
        self->n_bad++;
        return;
    }
    s_frames (self, pt, (size_t) n);
}

static int
s_finish (sn_quic_t *self, int rc)
{
    self->finished = true;
    s_release (self);
    return rc;
}

int
sn_quic_feed (sn_quic_t *self, const uint8_t *data, size_t len, sn_tls_info_t *info)
{
    if (!self || !info || self->finished)
        return -1;
    if (!data)
        return 0;
    if (!self->aead) {
        self->aead = EVP_CIPHER_CTX_new ();
        self->hp_ctx = EVP_CIPHER_CTX_new ();
        if (!self->aead || !self->hp_ctx ||
            EVP_DecryptInit_ex (self->aead, EVP_aes_128_gcm (), NULL, NULL, NULL) != 1 ||
            EVP_EncryptInit_ex (self->hp_ctx, EVP_aes_128_ecb (), NULL, NULL, NULL) != 1 ||
            EVP_CIPHER_CTX_set_padding (self->hp_ctx, 0) != 1)
            return s_finish (self, -1);
    }
    self->n_dgrams++;
    uint8_t pt[SN_QUIC_PACKET_MAX];
    size_t at = 0;
    //  RFC 9000 12.2: coalesced packets, each long header one carrying its Length. A short
    //  header packet runs to the end of the datagram and is never an Initial.
    for (int i = 0; i < S_PACKETS_MAX && len - at >= 7 && (data[at] & 0x80); i++) {
        const uint8_t *pkt = data + at;
        s_rd_t r = {pkt, len - at, 5};
        uint32_t version = s_be32 (pkt + 1);
        const s_version_t *v = s_version_find (version);
        uint8_t dcid_len, scid_len;
        if (!v || !s_u8 (&r, &dcid_len) || dcid_len > S_CID_MAX)
            break;
        const uint8_t *dcid = pkt + r.at;
        if (!s_skip (&r, dcid_len) || !s_u8 (&r, &scid_len) || scid_len > S_CID_MAX ||
            !s_skip (&r, scid_len))
            break;
        int type = s_packet_type (v, pkt[0]);
        uint64_t token_len, length;
        if (type == S_RETRY)
            break;
        if (type == S_INITIAL && (!s_varint (&r, &token_len) || !s_skip (&r, token_len)))
            break;
        if (!s_varint (&r, &length) || length > r.len - r.at)
            break;
        size_t pkt_len = r.at + (size_t) length;
        if (type == S_INITIAL)
            s_initial (self, v, version, pkt, dcid, dcid_len, r.at, pkt_len, pt);
        at += pkt_len;
    }
    int rc = s_check_hello (self, info);
    if (rc != 0)
        return s_finish (self, rc);
    if (self->n_dgrams >= SN_QUIC_DGRAMS_MAX || self->n_bad >= S_BAD_MAX)
        return s_finish (self, -1);
    return 0;
}
